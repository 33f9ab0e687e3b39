//! The discussion records as the use cases and the store exchange them:
//! threads, responses and comments (one level of nesting, as Open edX), the
//! questions a listing asks, and the discussion roles of a course.

use chrono::{DateTime, Utc};
use lectern_content::CourseKey;

use crate::model::UserId;

/// A thread's, response's or comment's id (database identity).
pub type PostId = i64;

/// Open edX's two kinds of thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadType {
    Discussion,
    /// A question: its author or the staff may mark a response as the answer.
    Question,
}

impl ThreadType {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadType::Discussion => "discussion",
            ThreadType::Question => "question",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "discussion" => Some(ThreadType::Discussion),
            "question" => Some(ThreadType::Question),
            _ => None,
        }
    }
}

/// Open edX's forum roles of a course. Course staff, instructors and site
/// admins moderate without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DiscussionRole {
    Administrator,
    Moderator,
    GroupModerator,
    CommunityTa,
}

impl DiscussionRole {
    pub const ALL: [DiscussionRole; 4] = [
        DiscussionRole::Administrator,
        DiscussionRole::Moderator,
        DiscussionRole::GroupModerator,
        DiscussionRole::CommunityTa,
    ];

    /// The name Open edX gives the role.
    pub fn as_str(self) -> &'static str {
        match self {
            DiscussionRole::Administrator => "Administrator",
            DiscussionRole::Moderator => "Moderator",
            DiscussionRole::GroupModerator => "Group Moderator",
            DiscussionRole::CommunityTa => "Community TA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A thread to create (the app has checked and rendered nothing yet: the
/// raw Markdown is stored, rendering happens on read).
#[derive(Debug, Clone)]
pub struct NewThread {
    pub course_key: CourseKey,
    pub topic_id: String,
    pub thread_type: ThreadType,
    pub title: String,
    pub body: String,
    pub author: UserId,
    pub at: DateTime<Utc>,
}

/// A thread with its counts, and what the viewer it was read for did with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    pub id: PostId,
    pub course_key: CourseKey,
    pub topic_id: String,
    pub thread_type: ThreadType,
    pub title: String,
    pub body: String,
    pub author_id: UserId,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub pinned: bool,
    pub closed: bool,
    /// Who closed it (username).
    pub closed_by: Option<String>,
    pub closed_by_id: Option<UserId>,
    /// Who last edited it (username), when someone did.
    pub edited_by: Option<String>,
    pub edited_by_id: Option<UserId>,
    pub vote_count: i64,
    /// Responses and comments together, as Open edX counts.
    pub comment_count: i64,
    pub flag_count: i64,
    /// Whether a response is endorsed (marked as the answer of a question).
    pub has_endorsed: bool,
    /// The viewer's own marks.
    pub voted: bool,
    pub following: bool,
    pub flagged: bool,
    /// Whether the viewer has read it since its last activity.
    pub read: bool,
    /// Responses and comments by others since the viewer last read it.
    pub unread_comment_count: i64,
}

/// The fields of a thread an edit may change, written as a whole.
#[derive(Debug, Clone)]
pub struct ThreadFields {
    pub topic_id: String,
    pub thread_type: ThreadType,
    pub title: String,
    pub body: String,
    pub pinned: bool,
    pub closed: bool,
    pub closed_by: Option<UserId>,
    pub edited_by: Option<UserId>,
    pub updated_at: DateTime<Utc>,
}

/// How a thread listing is ordered (Open edX's `order_by`, descending).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThreadOrder {
    #[default]
    LastActivity,
    CommentCount,
    VoteCount,
}

/// Which threads of a course a listing shows. Pinned threads come first.
#[derive(Debug, Clone)]
pub struct ThreadQuery {
    pub course_key: CourseKey,
    /// Only these threads (those the search index found); `None`: any.
    pub thread_ids: Option<Vec<PostId>>,
    /// Only these topics; `None`: every topic.
    pub topic_ids: Option<Vec<String>>,
    /// The topics the viewer may not see (of unreleased blocks).
    pub hidden_topics: Vec<String>,
    pub viewer: UserId,
    pub following: bool,
    pub unread: bool,
    /// Questions without an endorsed response.
    pub unanswered: bool,
    /// Threads with abuse flags (moderators only; the app decides).
    pub flagged: bool,
    /// Words that must appear in title or body (case-insensitive).
    pub text: Option<String>,
    pub order: ThreadOrder,
    pub offset: i64,
    pub limit: i64,
}

/// A response (`parent_id` is `None`) or a comment on a response to create.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub course_key: CourseKey,
    pub thread_id: PostId,
    pub parent_id: Option<PostId>,
    pub body: String,
    pub author: UserId,
    pub at: DateTime<Utc>,
}

/// A response or comment, with the viewer's marks.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: PostId,
    pub course_key: CourseKey,
    pub thread_id: PostId,
    pub parent_id: Option<PostId>,
    pub body: String,
    pub author_id: UserId,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub edited_by: Option<String>,
    pub endorsed: bool,
    pub endorsed_by: Option<String>,
    pub endorsed_by_id: Option<UserId>,
    pub endorsed_at: Option<DateTime<Utc>>,
    pub vote_count: i64,
    pub child_count: i64,
    pub flag_count: i64,
    pub voted: bool,
    pub flagged: bool,
}

/// Which responses (or comments of one response) a listing shows, oldest first.
#[derive(Debug, Clone)]
pub struct CommentQuery {
    pub thread_id: PostId,
    /// `None`: the thread's responses; `Some(r)`: the comments on response `r`.
    pub parent_id: Option<PostId>,
    pub endorsed: Option<bool>,
    pub viewer: UserId,
    pub offset: i64,
    pub limit: i64,
}

/// A post, for the marks every kind of post takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Post {
    Thread(PostId),
    Comment(PostId),
}

/// A mark a user sets once on a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Vote,
    AbuseFlag,
}
