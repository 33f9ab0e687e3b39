//! The searches people make, and who may find what.
//!
//! Course search: only someone who may read the course's content (enrolled
//! once it has started, or on its team: `courseware_seen`, as every course
//! page asks) searches it; a learner's query leaves out documents released
//! later or staff-only, compared with the clock at the moment of the query.
//! Catalogue search (course discovery): the catalogue's courses only.
//! Every query is bounded: its length, its page size and how deep pages go.

use super::{DocKind, Scope, SearchPage, SearchQuery};
use crate::{AppError, AppResult, Lectern, User};
use lectern_content::CourseKey;

/// The longest `search_string` accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The largest `page_size`.
pub const MAX_PAGE_SIZE: usize = 100;
/// How far results can be paged (`(page_index + 1) * page_size`), as
/// Elasticsearch's result window bounds it.
pub const MAX_RESULT_WINDOW: usize = 10_000;

/// A search as a person asks it: words and a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    pub text: String,
    pub page_size: usize,
    pub page_index: usize,
}

/// A page of results and how long the search took.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    pub page: SearchPage,
    pub took_ms: u64,
}

impl SearchRequest {
    /// Checks the bounds; the words themselves are never parsed as syntax.
    fn checked(&self, words_required: bool) -> AppResult<()> {
        let text = self.text.trim();
        if text.is_empty() && words_required {
            return Err(AppError::field(
                "search_string",
                "Type something to search for.",
            ));
        }
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(AppError::field(
                "search_string",
                format!("A search can be at most {MAX_QUERY_CHARS} characters long."),
            ));
        }
        if self
            .text
            .chars()
            .any(|c| c.is_control() && !c.is_whitespace())
        {
            return Err(AppError::field(
                "search_string",
                "A search cannot contain control characters.",
            ));
        }
        if self.page_size == 0 || self.page_size > MAX_PAGE_SIZE {
            return Err(AppError::field(
                "page_size",
                format!("page_size must be between 1 and {MAX_PAGE_SIZE}."),
            ));
        }
        let window = self
            .page_index
            .checked_add(1)
            .and_then(|p| p.checked_mul(self.page_size));
        if window.is_none_or(|w| w > MAX_RESULT_WINDOW) {
            return Err(AppError::field(
                "page_index",
                format!("Results can be paged up to {MAX_RESULT_WINDOW} results deep."),
            ));
        }
        Ok(())
    }
}

impl Lectern {
    /// Searches one course's published content (and its posts) as `user`
    /// may see it.
    pub async fn search_course(
        &self,
        user: &User,
        key: &CourseKey,
        request: &SearchRequest,
    ) -> AppResult<SearchResults> {
        request.checked(true)?;
        self.search_state()?;
        let (course, sees) = self.courseware_seen(user, key).await?;
        // Posts in topics of blocks hidden from the viewer (unreleased,
        // staff-only) are left out, as the discussion pages leave them out.
        let hidden_topics = if sees.sees_unreleased() {
            Vec::new()
        } else {
            crate::discussions::topics::topics(&course.tree, &sees).hidden
        };
        let query = SearchQuery {
            text: request.text.clone(),
            scope: Scope::Course(key.clone()),
            kinds: vec![DocKind::Content, DocKind::Post],
            released_by: (!sees.sees_unreleased()).then(|| sees.now()),
            hidden_topics,
            offset: request.page_index * request.page_size,
            limit: request.page_size,
        };
        self.run_search(query).await
    }

    /// Searches the catalogue (course discovery): anyone may. Without
    /// words, every course of the catalogue.
    pub async fn search_catalogue(&self, request: &SearchRequest) -> AppResult<SearchResults> {
        request.checked(false)?;
        self.search_state()?;
        let courses = self.catalogue().await?.into_iter().map(|c| c.key).collect();
        let query = SearchQuery {
            text: request.text.clone(),
            scope: Scope::Courses(courses),
            kinds: vec![DocKind::Course],
            released_by: Some(self.now()),
            hidden_topics: Vec::new(),
            offset: request.page_index * request.page_size,
            limit: request.page_size,
        };
        self.run_search(query).await
    }

    async fn run_search(&self, query: SearchQuery) -> AppResult<SearchResults> {
        let index = self.search_state()?.index.clone();
        let started = std::time::Instant::now();
        let page = crate::cpu::run(move || index.search(&query))
            .await?
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(SearchResults {
            page,
            took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }
}
