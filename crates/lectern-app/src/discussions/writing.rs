//! The checks every post passes before the store sees it: title, body and
//! topic bounds, page numbers, blackout periods and the per-person post
//! budget. Moderators are not held to blackouts or the budget.

use super::access::Forum;
use super::policy::{
    in_blackout, post_window, DEFAULT_PAGE_SIZE, MAX_BODY_CHARS, MAX_PAGE, MAX_PAGE_SIZE,
    MAX_TITLE_CHARS, MAX_TOPIC_ID_CHARS, POSTS_PER_WINDOW,
};
use crate::error::{AppError, AppResult};
use crate::Lectern;

/// A page of a listing: 1-based number and size, both checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: i64,
    pub size: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            number: 1,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl Page {
    /// A page from a client's `page` and `page_size`, refused when out of bounds.
    pub fn new(number: Option<i64>, size: Option<i64>) -> AppResult<Self> {
        let number = number.unwrap_or(1);
        let size = size.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE).contains(&number) {
            return Err(AppError::field(
                "page",
                format!("The page must be between 1 and {MAX_PAGE}."),
            ));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return Err(AppError::field(
                "page_size",
                format!("The page size must be between 1 and {MAX_PAGE_SIZE}."),
            ));
        }
        Ok(Page { number, size })
    }

    pub fn offset(&self) -> i64 {
        (self.number - 1) * self.size
    }

    /// How many pages `count` items fill (at least one).
    pub fn pages_for(&self, count: i64) -> i64 {
        ((count + self.size - 1) / self.size).max(1)
    }
}

pub(crate) fn check_title(title: &str) -> AppResult<()> {
    let title = title.trim();
    if title.is_empty() {
        return Err(AppError::field("title", "A thread needs a title."));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(AppError::field(
            "title",
            format!("A title has at most {MAX_TITLE_CHARS} characters."),
        ));
    }
    Ok(())
}

pub(crate) fn check_body(body: &str) -> AppResult<()> {
    if body.trim().is_empty() {
        return Err(AppError::field("raw_body", "Write something to post."));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(AppError::field(
            "raw_body",
            format!("A post has at most {MAX_BODY_CHARS} characters."),
        ));
    }
    Ok(())
}

/// The topic must be one the viewer sees (moderators: any known topic).
pub(crate) fn check_topic(forum: &Forum, topic_id: &str) -> AppResult<()> {
    let known = topic_id.chars().count() <= MAX_TOPIC_ID_CHARS
        && (forum.topics.find(topic_id).is_some()
            || (forum.is_moderator() && forum.topics.is_hidden(topic_id)));
    if known {
        Ok(())
    } else {
        Err(AppError::field(
            "topic_id",
            "There is no such discussion topic in this course.",
        ))
    }
}

impl Lectern {
    /// Refuses a learner's post during a blackout or past their budget.
    pub(crate) async fn may_post(&self, forum: &Forum) -> AppResult<()> {
        if forum.is_moderator() {
            return Ok(());
        }
        let now = self.now();
        if in_blackout(&forum.course.tree, now) {
            return Err(AppError::Forbidden(
                "Discussions in this course are closed for posting right now (a blackout period)."
                    .into(),
            ));
        }
        let recent = self
            .store
            .posts_since(forum.user.id, now - post_window())
            .await?;
        if recent >= POSTS_PER_WINDOW {
            // A rate limit (429), as Open edX's forum answers one; when it
            // frees depends on the oldest post in the window, which the
            // count does not tell, so there is no Retry-After.
            return Err(AppError::TooManyRequests {
                message: format!(
                    "You have written {recent} posts in the last hour; please wait before posting again."
                ),
                retry_after: None,
            });
        }
        Ok(())
    }
}
