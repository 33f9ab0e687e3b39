//! Who sees unreleased content: the one answer to "may this person see
//! blocks whose start date has not come, staff-only blocks, and a course
//! before it starts?", asked by the unit page, the outline, problems,
//! grades and the JSON APIs alike, so the rule cannot drift between them.
//!
//! The course's team and site admins see everything; everyone else sees
//! what [`released_to_learners`] lets through at this moment. Which child of
//! a `library_content`/`split_test` a learner is shown is a separate
//! question (`selection.rs`).

use chrono::{DateTime, Utc};
use lectern_content::{Block, BlockRef, CourseKey, CourseTree};

use crate::error::AppResult;
use crate::learning::released_to_learners;
use crate::model::{CourseRecord, User};
use crate::Lectern;

/// What one person may see of one course's release schedule, now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visibility {
    sees_unreleased: bool,
    now: DateTime<Utc>,
}

impl Visibility {
    /// Whether this person sees unreleased and staff-only content (and the
    /// course before it starts).
    pub fn sees_unreleased(&self) -> bool {
        self.sees_unreleased
    }

    /// The moment the answer was taken for.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// When the course opens to this person, if it has not yet: as in Open
    /// edX, learners wait for the course's start; the team does not.
    pub fn opens_at(&self, course: &CourseRecord) -> Option<DateTime<Utc>> {
        course
            .start
            .filter(|start| !self.sees_unreleased && *start > self.now)
    }

    /// Whether block `r` exists and is shown to this person.
    pub fn shows(&self, tree: &CourseTree, r: &BlockRef) -> bool {
        tree.block(r).is_some() && (self.sees_unreleased || released_to_learners(tree, r, self.now))
    }

    /// A visibility made up by a test.
    #[cfg(test)]
    pub(crate) fn for_tests(sees_unreleased: bool, now: DateTime<Utc>) -> Self {
        Visibility {
            sees_unreleased,
            now,
        }
    }

    /// The first unit this person can open, to start a course.
    pub fn first_unit(&self, tree: &CourseTree) -> Option<BlockRef> {
        tree.units()
            .into_iter()
            .map(Block::block_ref)
            .find(|r| self.shows(tree, r))
    }
}

impl Lectern {
    /// What `user` may see of `key`'s unreleased content.
    pub async fn visibility(&self, user: &User, key: &CourseKey) -> AppResult<Visibility> {
        Ok(Visibility {
            sees_unreleased: self.is_course_author(user, key).await?,
            now: self.now(),
        })
    }

    /// [`Self::visibility`] when whether `user` is on the course's team was
    /// already read (the same rule: the team and site admins).
    pub(crate) fn visibility_of_member(&self, user: &User, on_team: bool) -> Visibility {
        Visibility {
            sees_unreleased: user.is_admin || on_team,
            now: self.now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_team_sees_unreleased_blocks_learners_do_not() {
        let key = CourseKey::new("O", "N", "R").unwrap();
        let mut t = CourseTree::new(key, "C");
        let mut later = Block::new("chapter", "later");
        later
            .fields
            .insert("start".into(), "2099-01-01T00:00:00Z".into());
        t.insert_child(&CourseTree::root_ref(), later, None)
            .unwrap();
        let r = BlockRef::new("chapter", "later");
        let now = Utc::now();
        let team = Visibility {
            sees_unreleased: true,
            now,
        };
        let learner = Visibility {
            sees_unreleased: false,
            now,
        };
        assert!(team.shows(&t, &r));
        assert!(!learner.shows(&t, &r));
        let missing = BlockRef::new("chapter", "missing");
        assert!(!team.shows(&t, &missing), "no one sees what is not there");
    }
}
