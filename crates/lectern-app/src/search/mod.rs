//! Search: the seam between the use cases and a full-text index.
//!
//! The app decides *what* is indexed (published course content, catalogue
//! entries, discussion posts: [`documents`]) and *who may find what*: every
//! query carries its filter ([`SearchQuery`]: one course or the catalogue's
//! courses, the kinds, and for a learner the moment release dates are
//! compared with), which the index applies while it searches, so a release
//! date that passes while the index stands needs no re-indexing. The index
//! itself ([`SearchIndex`]) is plugged in by the binary (`lectern-search`,
//! tantivy in memory); this crate never names the library, as it never
//! names the sandbox (`lectern_content::script_runner`).
//!
//! Each process keeps its own index, rebuilt from the database at start and
//! kept current by one watcher per process ([`sync`] for published courses,
//! [`posts`] for discussion posts); see `docs/search.md`.

pub mod documents;
pub mod post_store;
pub mod posts;
mod queries;
pub mod sync;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use lectern_content::CourseKey;

pub use post_store::{PostChange, PostIndexStore, PostSelection, PostText};
pub use posts::PostSyncReport;
pub use queries::{
    SearchRequest, SearchResults, MAX_PAGE_SIZE, MAX_QUERY_CHARS, MAX_RESULT_WINDOW,
};
pub use sync::{SearchWatcher, SyncReport};

/// What a document is: its kind decides which searches may return it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKind {
    /// A block of a published course version (a section, subsection or
    /// unit's name, an HTML block's text, a problem's question, a video's
    /// transcript).
    Content,
    /// A course's catalogue entry, for course discovery.
    Course,
    /// A discussion post (a thread: title and body).
    Post,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Content => "content",
            DocKind::Course => "course",
            DocKind::Post => "post",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "content" => Some(DocKind::Content),
            "course" => Some(DocKind::Course),
            "post" => Some(DocKind::Post),
            _ => None,
        }
    }
}

/// One document for the index. Text fields are plain text (never HTML);
/// whatever shows them escapes them.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDoc {
    /// Unique in the index: the usage key, `course:{key}`, `post:{key}:{thread}`.
    pub id: String,
    pub kind: DocKind,
    pub course: CourseKey,
    /// The display name (a post's title).
    pub title: String,
    /// The searchable text (not stored whole: see `summary`).
    pub body: String,
    /// The start of the text, stored for result lists.
    pub summary: String,
    /// Where the result opens, relative to the site (`/courses/…/unit/…`).
    pub url: String,
    /// Display names from the section down to the unit (edx-search's `location`).
    pub location: Vec<String>,
    /// The block type (`html`, `problem`, `video`, `vertical`, …), `course` or `post`.
    pub block_type: String,
    /// The latest `start` of the block and its ancestors (below the course):
    /// learners find it only once this has passed.
    pub release: Option<DateTime<Utc>>,
    /// Staff-only itself or below a staff-only ancestor: learners never find it.
    pub staff_only: bool,
    /// Extra data the app stores with the document and reads back with a hit
    /// (JSON; the index only keeps it).
    pub payload: String,
    /// A post's discussion topic: a query leaves out the topics hidden from
    /// its viewer ([`SearchQuery::hidden_topics`]). `None` for content.
    pub topic: Option<String>,
    /// Groups the document is removed with ([`IndexChange::RemoveGroup`]):
    /// a post's thread, a comment's response.
    pub groups: Vec<String>,
}

/// Which courses a query may return documents of.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// One course.
    Course(CourseKey),
    /// These courses only (the catalogue's).
    Courses(Vec<CourseKey>),
}

/// A query: the person's words and everything that limits what they find.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// The words as typed: the index splits them into terms with its own
    /// analyser and never interprets any query syntax. Every term must match.
    pub text: String,
    pub scope: Scope,
    pub kinds: Vec<DocKind>,
    /// For a learner, now: documents released later, or staff-only, are
    /// left out. `None` for the course team, who see everything published.
    pub released_by: Option<DateTime<Utc>>,
    /// Discussion topics hidden from the viewer: posts in them are left out.
    pub hidden_topics: Vec<String>,
    pub offset: usize,
    pub limit: usize,
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub score: f32,
    pub id: String,
    pub kind: DocKind,
    pub course: CourseKey,
    pub title: String,
    pub summary: String,
    pub url: String,
    pub location: Vec<String>,
    pub block_type: String,
    pub payload: String,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchPage {
    /// How many documents match in all.
    pub total: usize,
    pub max_score: Option<f32>,
    pub hits: Vec<SearchHit>,
}

/// The size of an index, for `lectern doctor` and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexStats {
    pub documents: u64,
    /// Bytes the index holds (its files in memory).
    pub bytes: u64,
}

/// Why the index could not do something (a bug or exhausted memory: the
/// person searching is told only that search is unavailable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("search index: {0}")]
pub struct SearchError(pub String);

/// One change to the index; [`SearchIndex::apply`] commits many at once.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexChange {
    /// Adds a document, replacing any with the same id.
    Upsert(Box<SearchDoc>),
    /// Removes the document with this id, if present.
    Remove(String),
    /// Removes every document of this group ([`SearchDoc::groups`]).
    RemoveGroup(String),
}

/// The full-text index. Every method blocks the calling thread (indexing,
/// merging): call it from a blocking pool, never from an async worker.
pub trait SearchIndex: Send + Sync {
    /// Replaces every content and catalogue document of `course` with
    /// `docs`, at once (one commit): a search sees the old set or the new.
    /// Posts of the course stay.
    fn replace_course(&self, course: &CourseKey, docs: Vec<SearchDoc>) -> Result<(), SearchError>;
    /// Removes every document of `course`, posts included.
    fn remove_course(&self, course: &CourseKey) -> Result<(), SearchError>;
    /// Applies `changes` in order, in one commit: a search sees all of them
    /// or none.
    fn apply(&self, changes: Vec<IndexChange>) -> Result<(), SearchError>;
    /// Adds `doc`, replacing any document with the same id.
    fn upsert(&self, doc: SearchDoc) -> Result<(), SearchError> {
        self.apply(vec![IndexChange::Upsert(Box::new(doc))])
    }
    /// [`Self::upsert`] of many documents in one commit (a rebuild).
    fn upsert_many(&self, docs: Vec<SearchDoc>) -> Result<(), SearchError> {
        self.apply(
            docs.into_iter()
                .map(|d| IndexChange::Upsert(Box::new(d)))
                .collect(),
        )
    }
    /// Removes the document `id`, if present.
    fn remove(&self, id: &str) -> Result<(), SearchError> {
        self.apply(vec![IndexChange::Remove(id.to_string())])
    }
    /// Runs `query`.
    fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError>;
    fn stats(&self) -> IndexStats;
}

/// The index a process searches, and which published version of each
/// course it holds.
pub(crate) struct SearchState {
    pub(crate) index: Arc<dyn SearchIndex>,
    /// Course → the publish id its documents come from.
    pub(crate) indexed: Mutex<HashMap<CourseKey, String>>,
    /// One sync at a time (the watcher, a rebuild asked for by a command).
    pub(crate) syncing: tokio::sync::Mutex<()>,
    /// Where the posts stand in the post change log (one post sync at a time).
    pub(crate) posts: tokio::sync::Mutex<posts::PostCursor>,
    /// Woken when this process wrote a post.
    pub(crate) posts_changed: tokio::sync::Notify,
}

impl crate::Lectern {
    /// Searches through `index` (without one, search answers "not available").
    /// The index starts empty: run a [`SearchWatcher`] (or
    /// [`crate::Lectern::search_sync`]) to fill it from the database.
    pub fn with_search(mut self, index: Arc<dyn SearchIndex>) -> Self {
        self.search = Some(Arc::new(SearchState {
            index,
            indexed: Mutex::new(HashMap::new()),
            syncing: tokio::sync::Mutex::new(()),
            posts: tokio::sync::Mutex::new(posts::PostCursor::default()),
            posts_changed: tokio::sync::Notify::new(),
        }));
        self
    }

    /// Whether this process has a search index.
    pub fn has_search(&self) -> bool {
        self.search.is_some()
    }

    /// The index's size and how many courses it holds.
    pub fn search_stats(&self) -> Option<(IndexStats, usize)> {
        let s = self.search.as_ref()?;
        let courses = s.indexed.lock().map(|m| m.len()).unwrap_or(0);
        Some((s.index.stats(), courses))
    }

    pub(crate) fn search_state(&self) -> crate::AppResult<&Arc<SearchState>> {
        self.search
            .as_ref()
            .ok_or_else(|| crate::AppError::not_found("search (it is switched off on this site)"))
    }
}
