//! Thread use cases: list (filters, order, pages, `text_search`), create,
//! read (which marks it read), change (Open edX's PATCH fields, each
//! checked against what the viewer may edit) and delete.

use lectern_content::CourseKey;

use super::access::Forum;
use super::markdown::render;
use super::model::{
    Mark, NewThread, Post, PostId, Thread, ThreadFields, ThreadOrder, ThreadQuery, ThreadType,
};
use super::policy::{MAX_SEARCH_CHARS, MAX_TOPICS_PER_QUERY};
use super::writing::{check_body, check_title, check_topic, Page};
use crate::error::{AppError, AppResult};
use crate::model::User;
use crate::Lectern;

/// A thread as one viewer gets it.
pub struct ThreadView {
    pub thread: Thread,
    pub rendered_body: String,
    pub author_label: Option<&'static str>,
    pub editable_fields: Vec<&'static str>,
    pub can_delete: bool,
    /// The number of abuse flags, shown to moderators only.
    pub abuse_flagged_count: Option<i64>,
}

impl ThreadView {
    pub(crate) fn new(forum: &Forum, thread: Thread) -> Self {
        ThreadView {
            rendered_body: render(&thread.body),
            author_label: forum.author_label(thread.author_id),
            editable_fields: forum.thread_editable(&thread),
            can_delete: forum.may_delete_thread(&thread),
            abuse_flagged_count: forum.is_moderator().then_some(thread.flag_count),
            thread,
        }
    }
}

/// Open edX's `view` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListView {
    Unread,
    Unanswered,
}

/// What a thread listing asks for (the API's query parameters).
#[derive(Debug, Clone, Default)]
pub struct ThreadFilter {
    pub topic_ids: Option<Vec<String>>,
    pub text_search: Option<String>,
    pub following: bool,
    pub view: Option<ListView>,
    pub flagged: bool,
    pub order: ThreadOrder,
    pub page: Page,
}

/// One page of threads.
pub struct ThreadList {
    pub forum: Forum,
    pub threads: Vec<ThreadView>,
    pub count: i64,
    pub page: Page,
}

/// A new thread as a client sends it.
#[derive(Debug, Clone)]
pub struct ThreadDraft {
    pub topic_id: String,
    pub thread_type: ThreadType,
    pub title: String,
    pub raw_body: String,
}

/// Open edX's thread PATCH: each field set is a change.
#[derive(Debug, Clone, Default)]
pub struct ThreadPatch {
    pub title: Option<String>,
    pub raw_body: Option<String>,
    pub topic_id: Option<String>,
    pub thread_type: Option<ThreadType>,
    pub voted: Option<bool>,
    pub following: Option<bool>,
    pub abuse_flagged: Option<bool>,
    pub pinned: Option<bool>,
    pub closed: Option<bool>,
    pub read: Option<bool>,
}

impl ThreadPatch {
    /// The fields set, by their API names.
    fn fields(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let set = [
            ("title", self.title.is_some()),
            ("raw_body", self.raw_body.is_some()),
            ("topic_id", self.topic_id.is_some()),
            ("type", self.thread_type.is_some()),
            ("voted", self.voted.is_some()),
            ("following", self.following.is_some()),
            ("abuse_flagged", self.abuse_flagged.is_some()),
            ("pinned", self.pinned.is_some()),
            ("closed", self.closed.is_some()),
            ("read", self.read.is_some()),
        ];
        for (name, is_set) in set {
            if is_set {
                out.push(name);
            }
        }
        out
    }
}

/// The words of a discussion text search, checked (the index or, without
/// one, the bounded database search answers them: `text_search.rs`).
pub(crate) fn text_search_of(filter: &ThreadFilter) -> AppResult<Option<String>> {
    match filter.text_search.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) if text.chars().count() > MAX_SEARCH_CHARS => Err(AppError::field(
            "text_search",
            format!("Search for at most {MAX_SEARCH_CHARS} characters."),
        )),
        Some(text) => Ok(Some(text.to_string())),
    }
}

impl Lectern {
    /// One page of a course's threads as `user` may see them.
    pub async fn discussion_threads(
        &self,
        user: &User,
        key: &CourseKey,
        filter: &ThreadFilter,
    ) -> AppResult<ThreadList> {
        let forum = self.forum(user, key).await?;
        if filter.flagged && !forum.is_moderator() {
            return Err(AppError::Forbidden(
                "Only moderators see the flagged posts.".into(),
            ));
        }
        if let Some(topics) = &filter.topic_ids {
            if topics.len() > MAX_TOPICS_PER_QUERY {
                return Err(AppError::field(
                    "topic_id",
                    format!("Name at most {MAX_TOPICS_PER_QUERY} topics."),
                ));
            }
        }
        let mut text = text_search_of(filter)?;
        let mut thread_ids = None;
        if let Some(words) = &text {
            if let Some(ids) = self.threads_matching(&forum, words).await? {
                thread_ids = Some(ids);
                text = None;
            }
        }
        let query = ThreadQuery {
            course_key: key.clone(),
            thread_ids,
            topic_ids: filter.topic_ids.clone(),
            hidden_topics: if forum.is_moderator() {
                Vec::new()
            } else {
                forum.topics.hidden.clone()
            },
            viewer: user.id,
            following: filter.following,
            unread: filter.view == Some(ListView::Unread),
            unanswered: filter.view == Some(ListView::Unanswered),
            flagged: filter.flagged,
            text,
            order: filter.order,
            offset: filter.page.offset(),
            limit: filter.page.size,
        };
        let (threads, count) = self.store.threads(&query).await?;
        let threads = threads
            .into_iter()
            .map(|t| ThreadView::new(&forum, t))
            .collect();
        Ok(ThreadList {
            forum,
            threads,
            count,
            page: filter.page,
        })
    }

    /// Starts a thread in a topic `user` sees.
    pub async fn create_discussion_thread(
        &self,
        user: &User,
        key: &CourseKey,
        draft: &ThreadDraft,
    ) -> AppResult<ThreadView> {
        let forum = self.forum(user, key).await?;
        check_topic(&forum, &draft.topic_id)?;
        check_title(&draft.title)?;
        check_body(&draft.raw_body)?;
        self.may_post(&forum).await?;
        let id = self
            .store
            .create_thread(&NewThread {
                course_key: key.clone(),
                topic_id: draft.topic_id.clone(),
                thread_type: draft.thread_type,
                title: draft.title.trim().to_string(),
                body: draft.raw_body.clone(),
                author: user.id,
                at: self.now(),
            })
            .await?;
        tracing::info!(course = %key, thread = id, by = %user.username, "thread posted");
        self.posts_changed();
        self.thread_view(&forum, id).await
    }

    /// A thread by id, marked read for `user`.
    pub async fn discussion_thread(&self, user: &User, id: PostId) -> AppResult<ThreadView> {
        let (forum, _) = self.thread_forum(user, id).await?;
        self.store.mark_read(id, user.id, self.now()).await?;
        self.thread_view(&forum, id).await
    }

    /// Applies an Open edX PATCH to a thread; fields the viewer may not
    /// edit are refused (403) and nothing changes.
    pub async fn patch_discussion_thread(
        &self,
        user: &User,
        id: PostId,
        patch: &ThreadPatch,
    ) -> AppResult<ThreadView> {
        let (forum, thread) = self.thread_forum(user, id).await?;
        let editable = forum.thread_editable(&thread);
        if let Some(field) = patch.fields().into_iter().find(|f| !editable.contains(f)) {
            return Err(AppError::Forbidden(format!(
                "You may not change the field {field} of this thread."
            )));
        }
        if let Some(t) = &patch.title {
            check_title(t)?;
        }
        if let Some(b) = &patch.raw_body {
            check_body(b)?;
        }
        if let Some(topic) = &patch.topic_id {
            check_topic(&forum, topic)?;
        }
        let content = patch.title.is_some()
            || patch.raw_body.is_some()
            || patch.topic_id.is_some()
            || patch.thread_type.is_some();
        if content || patch.pinned.is_some() || patch.closed.is_some() {
            let closed = patch.closed.unwrap_or(thread.closed);
            let fields = ThreadFields {
                topic_id: patch.topic_id.clone().unwrap_or(thread.topic_id.clone()),
                thread_type: patch.thread_type.unwrap_or(thread.thread_type),
                title: patch
                    .title
                    .as_deref()
                    .map(str::trim)
                    .unwrap_or(&thread.title)
                    .to_string(),
                body: patch.raw_body.clone().unwrap_or(thread.body.clone()),
                pinned: patch.pinned.unwrap_or(thread.pinned),
                closed,
                closed_by: match patch.closed {
                    Some(true) if !thread.closed => Some(user.id),
                    Some(false) => None,
                    _ => thread.closed_by_id,
                },
                edited_by: if content {
                    Some(user.id)
                } else {
                    thread.edited_by_id
                },
                updated_at: if content {
                    self.now()
                } else {
                    thread.updated_at
                },
            };
            if !self.store.update_thread(id, &fields).await? {
                return Err(AppError::not_found(format!("thread {id}")));
            }
            self.posts_changed();
        }
        if let Some(on) = patch.voted {
            self.store
                .set_mark(Post::Thread(id), Mark::Vote, user.id, on)
                .await?;
        }
        if let Some(on) = patch.abuse_flagged {
            self.flag(&forum, Post::Thread(id), on).await?;
        }
        if let Some(on) = patch.following {
            self.store.set_following(id, user.id, on).await?;
        }
        if patch.read == Some(true) {
            self.store.mark_read(id, user.id, self.now()).await?;
        }
        self.thread_view(&forum, id).await
    }

    /// Deletes a thread (its author or a moderator).
    pub async fn delete_discussion_thread(&self, user: &User, id: PostId) -> AppResult<()> {
        let (forum, thread) = self.thread_forum(user, id).await?;
        if !forum.may_delete_thread(&thread) {
            return Err(AppError::Forbidden(
                "Only its author or a moderator may delete this thread.".into(),
            ));
        }
        self.store.delete_thread(id).await?;
        self.posts_changed();
        tracing::info!(thread = id, by = %user.username, "thread deleted");
        Ok(())
    }

    /// Sets or clears the viewer's flag; a moderator clearing a flag clears all of them.
    pub(crate) async fn flag(&self, forum: &Forum, post: Post, on: bool) -> AppResult<()> {
        if !on && forum.is_moderator() {
            self.store.clear_flags(post).await?;
        } else {
            self.store
                .set_mark(post, Mark::AbuseFlag, forum.user.id, on)
                .await?;
        }
        Ok(())
    }

    /// The thread and the viewer's forum, or "not found" if they may not read it.
    pub(crate) async fn thread_forum(&self, user: &User, id: PostId) -> AppResult<(Forum, Thread)> {
        let what = format!("thread {id}");
        let thread = self
            .store
            .thread(id, user.id)
            .await?
            .ok_or_else(|| AppError::not_found(what.clone()))?;
        let forum = self
            .forum_of_post(user, &thread.course_key, &thread.topic_id, &what)
            .await?;
        Ok((forum, thread))
    }

    pub(crate) async fn thread_view(&self, forum: &Forum, id: PostId) -> AppResult<ThreadView> {
        let thread = self
            .store
            .thread(id, forum.user.id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("thread {id}")))?;
        Ok(ThreadView::new(forum, thread))
    }
}
