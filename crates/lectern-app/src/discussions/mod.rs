//! Course discussions (issue 20), Open edX's forum model: topics (the
//! course policy's `discussion_topics` and one per published `discussion`
//! block), threads (a discussion or a question), responses and comments
//! on them, votes, follows, abuse flags, endorsement, pin and close, read
//! markers, and the discussion roles of a course.
//!
//! This module decides who may do what (`access.rs`), what a topic is
//! (`topics.rs`), which input is valid (`limits.rs`, blackouts in
//! `policy.rs`) and how posts are shown (`markdown.rs`); the store keeps
//! the rows and their counts (`store.rs`).

mod model;
mod store;

pub use model::*;
pub use store::DiscussionStore;
mod access;
mod comments;
mod markdown;
pub mod policy;
mod roles;
mod text_search;
mod threads;
pub mod topics;
mod writing;

pub use access::Forum;
pub use comments::{CommentList, CommentPatch, CommentView};
pub use markdown::render;
pub use threads::{ListView, ThreadDraft, ThreadFilter, ThreadList, ThreadPatch, ThreadView};
pub use topics::{Topic, Topics};
pub use writing::Page;
