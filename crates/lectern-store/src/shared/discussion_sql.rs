//! The SQL text and row structs of `db_discussions.rs`: a thread or comment
//! read with its author's name and the viewer's own marks beside it
//! (`$1` is always the viewer), and the listing statement assembled from
//! the filters a query sets, with its arguments numbered as they are added.

use lectern_app::discussions::{
    Comment, CommentQuery, Mark, Post, Thread, ThreadOrder, ThreadQuery, ThreadType,
};
use lectern_app::store::StoreResult;
use lectern_app::StoreError;

use crate::time::from_millis;

/// `1` or `0` as a BIGINT on both backends (SQLite has no boolean
/// expressions; PostgreSQL's literal `1` is a 4-byte integer).
fn flag(condition: &str) -> String {
    format!("CASE WHEN {condition} THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END")
}

pub(crate) fn thread_select() -> String {
    format!(
        "SELECT t.id, t.course_key, t.topic_id, t.thread_type, t.title, t.body, t.author_id, \
         au.username AS author, t.created_at, t.updated_at, t.last_activity_at, t.pinned, \
         t.closed, cb.username AS closed_by, eb.username AS edited_by, \
         t.closed_by AS closed_by_id, t.edited_by AS edited_by_id, t.vote_count, \
         t.comment_count, t.flag_count, \
         {} AS has_endorsed, {} AS voted, {} AS following, {} AS flagged, \
         (SELECT r.read_at FROM discussion_reads r WHERE r.thread_id = t.id AND r.user_id = $1) AS read_at, \
         (SELECT COUNT(*) FROM discussion_comments c WHERE c.thread_id = t.id AND c.author_id <> $1 \
            AND c.created_at > COALESCE((SELECT r.read_at FROM discussion_reads r \
                WHERE r.thread_id = t.id AND r.user_id = $1), -1)) AS unread_comment_count \
         FROM discussion_threads t JOIN users au ON au.id = t.author_id \
         LEFT JOIN users cb ON cb.id = t.closed_by LEFT JOIN users eb ON eb.id = t.edited_by",
        flag("EXISTS (SELECT 1 FROM discussion_comments c WHERE c.thread_id = t.id AND c.endorsed)"),
        flag("EXISTS (SELECT 1 FROM discussion_thread_votes v WHERE v.thread_id = t.id AND v.user_id = $1)"),
        flag("EXISTS (SELECT 1 FROM discussion_follows f WHERE f.thread_id = t.id AND f.user_id = $1)"),
        flag("EXISTS (SELECT 1 FROM discussion_thread_flags g WHERE g.thread_id = t.id AND g.user_id = $1)"),
    )
}

pub(crate) fn comment_select() -> String {
    format!(
        "SELECT c.id, c.course_key, c.thread_id, c.parent_id, c.body, c.author_id, \
         au.username AS author, c.created_at, c.updated_at, eb.username AS edited_by, c.endorsed, \
         en.username AS endorsed_by, c.endorsed_by AS endorsed_by_id, c.endorsed_at, c.vote_count, c.child_count, c.flag_count, \
         {} AS voted, {} AS flagged \
         FROM discussion_comments c JOIN users au ON au.id = c.author_id \
         LEFT JOIN users eb ON eb.id = c.edited_by LEFT JOIN users en ON en.id = c.endorsed_by",
        flag("EXISTS (SELECT 1 FROM discussion_comment_votes v WHERE v.comment_id = c.id AND v.user_id = $1)"),
        flag("EXISTS (SELECT 1 FROM discussion_comment_flags g WHERE g.comment_id = c.id AND g.user_id = $1)"),
    )
}

/// An argument of an assembled statement.
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

/// A `WHERE` clause built from filters, with its arguments in order.
pub(crate) struct Filter {
    pub clauses: Vec<String>,
    pub args: Vec<Arg>,
}

impl Filter {
    /// Starts after the viewer (`$1`).
    fn new(viewer: i64) -> Self {
        Filter {
            clauses: Vec::new(),
            args: vec![Arg::Int(viewer)],
        }
    }

    /// The placeholder of a new argument.
    fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    fn list(&mut self, items: &[String]) -> String {
        let marks: Vec<String> = items
            .iter()
            .map(|s| self.arg(Arg::Text(s.clone())))
            .collect();
        marks.join(", ")
    }

    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

pub(crate) fn thread_filter(q: &ThreadQuery) -> Filter {
    let mut f = Filter::new(q.viewer);
    let course = f.arg(Arg::Text(q.course_key.to_string()));
    f.clauses.push(format!("t.course_key = {course}"));
    if let Some(ids) = &q.thread_ids {
        if ids.is_empty() {
            f.clauses.push("1 = 0".into());
        } else {
            let marks: Vec<String> = ids.iter().map(|id| f.arg(Arg::Int(*id))).collect();
            f.clauses.push(format!("t.id IN ({})", marks.join(", ")));
        }
    }
    if let Some(topics) = &q.topic_ids {
        if topics.is_empty() {
            f.clauses.push("1 = 0".into());
        } else {
            let marks = f.list(topics);
            f.clauses.push(format!("t.topic_id IN ({marks})"));
        }
    }
    if !q.hidden_topics.is_empty() {
        let marks = f.list(&q.hidden_topics);
        f.clauses.push(format!("t.topic_id NOT IN ({marks})"));
    }
    if q.following {
        f.clauses.push(
            "EXISTS (SELECT 1 FROM discussion_follows f WHERE f.thread_id = t.id AND f.user_id = $1)"
                .into(),
        );
    }
    if q.unread {
        f.clauses.push(
            "NOT EXISTS (SELECT 1 FROM discussion_reads r WHERE r.thread_id = t.id \
             AND r.user_id = $1 AND r.read_at >= t.last_activity_at)"
                .into(),
        );
    }
    if q.unanswered {
        f.clauses.push(
            "t.thread_type = 'question' AND NOT EXISTS (SELECT 1 FROM discussion_comments c \
             WHERE c.thread_id = t.id AND c.endorsed)"
                .into(),
        );
    }
    if q.flagged {
        f.clauses.push(
            "(t.flag_count > 0 OR EXISTS (SELECT 1 FROM discussion_comments c \
             WHERE c.thread_id = t.id AND c.flag_count > 0))"
                .into(),
        );
    }
    if let Some(text) = &q.text {
        let p = f.arg(Arg::Text(super::sql::contains_pattern(text)));
        f.clauses.push(format!(
            "(lower(t.title) LIKE lower({p}) ESCAPE '\\' OR lower(t.body) LIKE lower({p}) ESCAPE '\\')"
        ));
    }
    f
}

pub(crate) fn thread_order(order: ThreadOrder) -> &'static str {
    match order {
        ThreadOrder::LastActivity => " ORDER BY t.pinned DESC, t.last_activity_at DESC, t.id DESC",
        ThreadOrder::CommentCount => " ORDER BY t.pinned DESC, t.comment_count DESC, t.id DESC",
        ThreadOrder::VoteCount => " ORDER BY t.pinned DESC, t.vote_count DESC, t.id DESC",
    }
}

pub(crate) fn comment_filter(q: &CommentQuery) -> Filter {
    let mut f = Filter::new(q.viewer);
    let thread = f.arg(Arg::Int(q.thread_id));
    f.clauses.push(format!("c.thread_id = {thread}"));
    match q.parent_id {
        None => f.clauses.push("c.parent_id IS NULL".into()),
        Some(p) => {
            let p = f.arg(Arg::Int(p));
            f.clauses.push(format!("c.parent_id = {p}"));
        }
    }
    match q.endorsed {
        Some(true) => f.clauses.push("c.endorsed".into()),
        Some(false) => f.clauses.push("NOT c.endorsed".into()),
        None => {}
    }
    f
}

/// The table of a mark, its post column, and the post table holding its count.
pub(crate) fn mark_tables(
    post: Post,
    mark: Mark,
) -> (&'static str, &'static str, &'static str, &'static str, i64) {
    match (post, mark) {
        (Post::Thread(id), Mark::Vote) => (
            "discussion_thread_votes",
            "thread_id",
            "discussion_threads",
            "vote_count",
            id,
        ),
        (Post::Thread(id), Mark::AbuseFlag) => (
            "discussion_thread_flags",
            "thread_id",
            "discussion_threads",
            "flag_count",
            id,
        ),
        (Post::Comment(id), Mark::Vote) => (
            "discussion_comment_votes",
            "comment_id",
            "discussion_comments",
            "vote_count",
            id,
        ),
        (Post::Comment(id), Mark::AbuseFlag) => (
            "discussion_comment_flags",
            "comment_id",
            "discussion_comments",
            "flag_count",
            id,
        ),
    }
}

fn parse_key(s: &str) -> StoreResult<lectern_content::CourseKey> {
    s.parse()
        .map_err(|_| StoreError::Internal("stored course key does not parse".into()))
}

#[derive(sqlx::FromRow)]
pub(crate) struct ThreadRow {
    id: i64,
    course_key: String,
    topic_id: String,
    thread_type: String,
    title: String,
    body: String,
    author_id: i64,
    author: String,
    created_at: i64,
    updated_at: i64,
    last_activity_at: i64,
    pinned: bool,
    closed: bool,
    closed_by: Option<String>,
    edited_by: Option<String>,
    closed_by_id: Option<i64>,
    edited_by_id: Option<i64>,
    vote_count: i64,
    comment_count: i64,
    flag_count: i64,
    has_endorsed: i64,
    voted: i64,
    following: i64,
    flagged: i64,
    read_at: Option<i64>,
    unread_comment_count: i64,
}

impl ThreadRow {
    pub(crate) fn into_thread(self) -> StoreResult<Thread> {
        Ok(Thread {
            id: self.id,
            course_key: parse_key(&self.course_key)?,
            topic_id: self.topic_id,
            thread_type: ThreadType::parse(&self.thread_type)
                .ok_or_else(|| StoreError::Internal("stored thread type is unknown".into()))?,
            title: self.title,
            body: self.body,
            author_id: self.author_id,
            author: self.author,
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
            last_activity_at: from_millis(self.last_activity_at),
            pinned: self.pinned,
            closed: self.closed,
            closed_by: self.closed_by,
            closed_by_id: self.closed_by_id,
            edited_by: self.edited_by,
            edited_by_id: self.edited_by_id,
            vote_count: self.vote_count,
            comment_count: self.comment_count,
            flag_count: self.flag_count,
            has_endorsed: self.has_endorsed != 0,
            voted: self.voted != 0,
            following: self.following != 0,
            flagged: self.flagged != 0,
            read: self.read_at.is_some_and(|r| r >= self.last_activity_at),
            unread_comment_count: self.unread_comment_count,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CommentRow {
    id: i64,
    course_key: String,
    thread_id: i64,
    parent_id: Option<i64>,
    body: String,
    author_id: i64,
    author: String,
    created_at: i64,
    updated_at: i64,
    edited_by: Option<String>,
    endorsed: bool,
    endorsed_by: Option<String>,
    endorsed_by_id: Option<i64>,
    endorsed_at: Option<i64>,
    vote_count: i64,
    child_count: i64,
    flag_count: i64,
    voted: i64,
    flagged: i64,
}

impl CommentRow {
    pub(crate) fn into_comment(self) -> StoreResult<Comment> {
        Ok(Comment {
            id: self.id,
            course_key: parse_key(&self.course_key)?,
            thread_id: self.thread_id,
            parent_id: self.parent_id,
            body: self.body,
            author_id: self.author_id,
            author: self.author,
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
            edited_by: self.edited_by,
            endorsed: self.endorsed,
            endorsed_by: self.endorsed_by,
            endorsed_by_id: self.endorsed_by_id,
            endorsed_at: self.endorsed_at.map(from_millis),
            vote_count: self.vote_count,
            child_count: self.child_count,
            flag_count: self.flag_count,
            voted: self.voted != 0,
            flagged: self.flagged != 0,
        })
    }
}
