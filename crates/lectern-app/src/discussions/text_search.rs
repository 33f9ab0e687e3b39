//! A thread listing's `text_search` through the search index: the threads
//! whose title or body, or one of whose responses or comments, holds every
//! word (as Open edX's comments service answers it from Elasticsearch).
//! The index finds the posts (at most [`MAX_POST_HITS`], best first, in the
//! topics the viewer sees); the listing then reads those threads from the
//! database with its other filters, order and pages, so a post deleted
//! since it was indexed is never listed. Without an index (search switched
//! off), or before this node's index holds every post, the listing falls
//! back to the bounded database search of titles and bodies.

use std::collections::HashSet;

use super::access::Forum;
use super::model::PostId;
use crate::error::{AppError, AppResult};
use crate::search::{DocKind, Scope, SearchQuery};
use crate::Lectern;

/// The most matching posts a text search takes from the index.
pub const MAX_POST_HITS: usize = 1_000;

impl Lectern {
    /// The ids of the threads `words` finds for the viewer of `forum`, or
    /// `None` when the index cannot answer (the caller searches the database).
    pub(crate) async fn threads_matching(
        &self,
        forum: &Forum,
        words: &str,
    ) -> AppResult<Option<Vec<PostId>>> {
        let Some(state) = &self.search else {
            return Ok(None);
        };
        if !self.posts_indexed().await {
            return Ok(None);
        }
        let query = SearchQuery {
            text: words.to_string(),
            scope: Scope::Course(forum.course.record.key.clone()),
            kinds: vec![DocKind::Post],
            released_by: None,
            hidden_topics: if forum.is_moderator() {
                Vec::new()
            } else {
                forum.topics.hidden.clone()
            },
            offset: 0,
            limit: MAX_POST_HITS,
        };
        let index = state.index.clone();
        let page = crate::cpu::run(move || index.search(&query))
            .await?
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let mut seen = HashSet::new();
        let ids = page
            .hits
            .iter()
            .filter_map(|h| {
                let payload: serde_json::Value = serde_json::from_str(&h.payload).ok()?;
                payload.get("thread_id")?.as_str()?.parse::<PostId>().ok()
            })
            .filter(|id| seen.insert(*id))
            .collect();
        Ok(Some(ids))
    }
}
