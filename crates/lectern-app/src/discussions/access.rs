//! Who may do what in a course's discussions: one [`Forum`] per viewer and
//! course, decided once per request from the same facts the courseware
//! uses (`Lectern::courseware_seen`: enrolled learners and the course's
//! team and site admins may read; anyone else is refused) plus the
//! viewer's discussion roles. Moderators are the course team, site admins
//! and anyone with a discussion role (Administrator, Moderator, Group
//! Moderator, Community TA; Lectern has no cohorts, so a Group Moderator
//! moderates the whole course).

use std::collections::HashMap;

use lectern_content::CourseKey;

use super::model::{Comment, DiscussionRole, Thread, ThreadType};
use super::topics::{topics, Topics};
use crate::error::{AppError, AppResult};
use crate::learning::PublishedCourse;
use crate::model::{User, UserId};
use crate::visibility::Visibility;
use crate::Lectern;

/// One viewer's standing in one course's discussions.
pub struct Forum {
    pub user: User,
    pub course: PublishedCourse,
    pub sees: Visibility,
    pub roles: Vec<DiscussionRole>,
    pub topics: Topics,
    /// Labels of the course's staff and TAs, by user id (`author_label`).
    labels: HashMap<UserId, &'static str>,
}

impl Forum {
    /// Course team, site admins, and holders of a discussion role.
    pub fn is_moderator(&self) -> bool {
        self.sees.sees_unreleased() || !self.roles.is_empty()
    }

    /// Open edX's `author_label`: "Staff" for the team, Administrators
    /// and Moderators, "Community TA" for TAs, nothing for learners.
    pub fn author_label(&self, user: UserId) -> Option<&'static str> {
        self.labels.get(&user).copied()
    }

    /// Whether the viewer may open threads of this topic.
    pub fn sees_topic(&self, topic_id: &str) -> bool {
        self.is_moderator() || !self.topics.is_hidden(topic_id)
    }

    fn is_author(&self, author: UserId) -> bool {
        self.user.id == author
    }

    /// The thread fields this viewer may change (Open edX's `editable_fields`).
    pub fn thread_editable(&self, t: &Thread) -> Vec<&'static str> {
        let mut out = vec!["abuse_flagged", "following", "read", "voted"];
        let open = !t.closed || self.is_moderator();
        if open && (self.is_author(t.author_id) || self.is_moderator()) {
            out.extend(["raw_body", "title", "topic_id", "type"]);
        }
        if self.is_moderator() {
            out.extend(["closed", "pinned"]);
        }
        out.sort_unstable();
        out
    }

    pub fn may_delete_thread(&self, t: &Thread) -> bool {
        self.is_author(t.author_id) || self.is_moderator()
    }

    /// The comment fields this viewer may change; `thread` is the comment's thread.
    pub fn comment_editable(&self, c: &Comment, thread: &Thread) -> Vec<&'static str> {
        let mut out = vec!["abuse_flagged", "voted"];
        let open = !thread.closed || self.is_moderator();
        if open && (self.is_author(c.author_id) || self.is_moderator()) {
            out.push("raw_body");
        }
        if self.may_endorse(c, thread) {
            out.push("endorsed");
        }
        out.sort_unstable();
        out
    }

    /// Marking a response as the answer: staff on any response; the
    /// question's author on a question's responses. Comments are never endorsed.
    pub fn may_endorse(&self, c: &Comment, thread: &Thread) -> bool {
        c.parent_id.is_none()
            && (self.is_moderator()
                || (thread.thread_type == ThreadType::Question && self.is_author(thread.author_id)))
    }

    pub fn may_delete_comment(&self, c: &Comment) -> bool {
        self.is_author(c.author_id) || self.is_moderator()
    }
}

impl Lectern {
    /// The viewer's standing in `key`'s discussions: refused (403) unless
    /// enrolled or on the team, 404 for a course that is not published.
    pub async fn forum(&self, user: &User, key: &CourseKey) -> AppResult<Forum> {
        let (course, sees) = self.courseware_seen(user, key).await?;
        let roles = self.store.discussion_roles_of(key, user.id).await?;
        let topics = topics(&course.tree, &sees);
        let mut labels = HashMap::new();
        for (member, _) in self.store.course_team(key).await? {
            labels.insert(member.id, "Staff");
        }
        for (member, role) in self.store.discussion_team(key).await? {
            let label = match role {
                DiscussionRole::CommunityTa => "Community TA",
                _ => "Staff",
            };
            // "Staff" wins over "Community TA" for someone with both.
            labels
                .entry(member.id)
                .and_modify(|l| {
                    if label == "Staff" {
                        *l = label
                    }
                })
                .or_insert(label);
        }
        Ok(Forum {
            user: user.clone(),
            course,
            sees,
            roles,
            topics,
            labels,
        })
    }

    /// [`Self::forum`] for a post reached by its id: a course the viewer
    /// may not read, or a topic hidden from them, is "not found", so ids
    /// do not reveal other courses' posts.
    pub(crate) async fn forum_of_post(
        &self,
        user: &User,
        key: &CourseKey,
        topic_id: &str,
        what: &str,
    ) -> AppResult<Forum> {
        let forum = match self.forum(user, key).await {
            Ok(f) => f,
            Err(AppError::Forbidden(_)) | Err(AppError::NotFound(_)) => {
                return Err(AppError::not_found(what.to_string()))
            }
            Err(e) => return Err(e),
        };
        if !forum.sees_topic(topic_id) {
            return Err(AppError::not_found(what.to_string()));
        }
        Ok(forum)
    }
}
