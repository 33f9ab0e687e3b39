//! The learner's states of every problem on a unit page, read in one
//! statement when the page is built (`PageStore::problem_states_of`)
//! instead of one read per problem as each is shown (issue 18: on SQLite a
//! page's cost is mostly per statement). `Lectern::problem_view_on_page`
//! takes its state from here; a problem the page did not read (none should
//! exist) is read on its own as before.

use std::collections::HashMap;

use lectern_content::{BlockRef, CourseTree, UsageKey};

use crate::model::{ProblemState, User};
use crate::{Lectern, StoreError};

/// What the page read of its problems' states.
#[derive(Debug, Clone, Default)]
pub(crate) enum PageStates {
    /// Every problem on the page: its saved state, or `None` if never saved.
    Read(HashMap<UsageKey, Option<ProblemState>>),
    /// The database was unreachable: problems are shown as new.
    Unreachable,
    /// Not read (an error other than an outage): each problem reads its own.
    #[default]
    NotRead,
}

/// What the page already knows of one problem's state.
#[allow(clippy::large_enum_variant)] // one per problem on a page, short-lived
pub(crate) enum Known {
    /// Read with the page: the saved state, or `None` if never saved.
    Read(Option<ProblemState>),
    /// The database was unreachable when the page was built.
    Unreachable,
}

impl Lectern {
    /// Reads `user`'s states of the problems among a unit page's `leaves`
    /// (the blocks the page shows them: `unit_frames.rs`) in one go.
    pub(crate) async fn page_states(
        &self,
        user: &User,
        tree: &CourseTree,
        leaves: &[BlockRef],
    ) -> PageStates {
        let keys: Vec<UsageKey> = leaves
            .iter()
            .filter(|r| r.block_type == "problem")
            .map(|r| tree.usage_key(r))
            .collect();
        if keys.is_empty() {
            return PageStates::Read(HashMap::new());
        }
        match self
            .guarded(self.store.problem_states_of(user.id, &keys))
            .await
        {
            Ok(found) => {
                let mut states: HashMap<UsageKey, Option<ProblemState>> =
                    keys.into_iter().map(|k| (k, None)).collect();
                for s in found {
                    if let Some(slot) = states.get_mut(&s.usage_key) {
                        *slot = Some(s);
                    }
                }
                PageStates::Read(states)
            }
            Err(StoreError::Unavailable(_)) => PageStates::Unreachable,
            Err(e) => {
                tracing::warn!(error = %e, "a unit page's problem states could not be read together");
                PageStates::NotRead
            }
        }
    }
}
