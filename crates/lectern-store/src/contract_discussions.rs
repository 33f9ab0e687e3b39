//! The contract of `DiscussionStore`, on both backends: threads, responses
//! and comments with their counts, the viewer's marks and read markers,
//! listings with every filter, roles, deleting a course's discussions
//! without touching another's, and counts that stay true when many users
//! vote, flag and comment on one post at once.

use std::sync::Arc;

use chrono::{Duration, Utc};
use lectern_app::discussions::{
    CommentQuery, DiscussionRole, Mark, NewComment, NewThread, Post, ThreadFields, ThreadOrder,
    ThreadQuery, ThreadType,
};
use lectern_app::model::User;
use lectern_app::store::Store;
use lectern_content::CourseKey;

use crate::contract::{dates, new_user, sample_tree};

/// Runs every check, sequential ones first, then the concurrent ones.
pub async fn run(store: Arc<dyn Store>) {
    let (key, other, users) = setup(&*store).await;
    posts_and_counts(&*store, &key, &users).await;
    listings(&*store, &key, &users).await;
    roles_and_deletion(&*store, &key, &other, &users).await;
    concurrent_marks(store, &key, &users).await;
}

async fn setup(store: &dyn Store) -> (CourseKey, CourseKey, Vec<User>) {
    let mut users = Vec::new();
    for i in 0..12 {
        users.push(
            store
                .create_user(&new_user(&format!("Disc{i}")))
                .await
                .expect("user"),
        );
    }
    let tree = sample_tree("Disc");
    let key = tree.key.clone();
    store
        .create_course(&tree, dates(), None, Utc::now())
        .await
        .expect("course");
    let tree = sample_tree("DiscOther");
    let other = tree.key.clone();
    store
        .create_course(&tree, dates(), None, Utc::now())
        .await
        .expect("course");
    (key, other, users)
}

fn new_thread(key: &CourseKey, author: &User, title: &str, at: chrono::DateTime<Utc>) -> NewThread {
    NewThread {
        course_key: key.clone(),
        topic_id: "course".into(),
        thread_type: ThreadType::Question,
        title: title.into(),
        body: format!("body of {title}"),
        author: author.id,
        at,
    }
}

fn query(key: &CourseKey, viewer: &User) -> ThreadQuery {
    ThreadQuery {
        course_key: key.clone(),
        thread_ids: None,
        topic_ids: None,
        hidden_topics: Vec::new(),
        viewer: viewer.id,
        following: false,
        unread: false,
        unanswered: false,
        flagged: false,
        text: None,
        order: ThreadOrder::LastActivity,
        offset: 0,
        limit: 20,
    }
}

async fn posts_and_counts(store: &dyn Store, key: &CourseKey, users: &[User]) {
    let (ann, bob, cat) = (&users[0], &users[1], &users[2]);
    let t0 = Utc::now() - Duration::minutes(10);
    let id = store
        .create_thread(&new_thread(key, ann, "How?", t0))
        .await
        .expect("thread");
    let t = store
        .thread(id, ann.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!((t.title.as_str(), t.author.as_str()), ("How?", "Disc0"));
    assert!(t.following && t.read, "the author follows and has read it");
    assert_eq!((t.comment_count, t.unread_comment_count), (0, 0));
    let seen_by_bob = store
        .thread(id, bob.id)
        .await
        .expect("read")
        .expect("there");
    assert!(!seen_by_bob.following && !seen_by_bob.read);

    let response = |author: &User, parent, minutes| NewComment {
        course_key: key.clone(),
        thread_id: id,
        parent_id: parent,
        body: format!("from {}", author.username),
        author: author.id,
        at: t0 + Duration::minutes(minutes),
    };
    let r1 = store
        .create_comment(&response(bob, None, 1))
        .await
        .expect("response")
        .expect("made");
    let c1 = store
        .create_comment(&response(cat, Some(r1), 2))
        .await
        .expect("comment")
        .expect("made");
    // A comment on a comment, or on another thread's response, is refused.
    assert_eq!(
        store
            .create_comment(&response(cat, Some(c1), 3))
            .await
            .expect("no"),
        None
    );
    assert_eq!(
        store.posts_since(bob.id, t0).await.expect("n"),
        1,
        "posts count for the budget"
    );
    assert_eq!(
        store
            .posts_since(bob.id, t0 + Duration::minutes(2))
            .await
            .expect("n"),
        0
    );
    let t = store
        .thread(id, ann.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!((t.comment_count, t.unread_comment_count), (2, 2));
    assert!(!t.read, "activity after the author's read");
    store
        .mark_read(id, ann.id, t0 + Duration::minutes(5))
        .await
        .expect("read");
    let t = store
        .thread(id, ann.id)
        .await
        .expect("read")
        .expect("there");
    assert!(t.read);
    assert_eq!(t.unread_comment_count, 0);
    let r = store
        .comment(r1, ann.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!((r.child_count, r.parent_id), (1, None));

    // Endorsement, then the thread has an endorsed response.
    assert!(store
        .set_endorsement(r1, Some((ann.id, t0)))
        .await
        .expect("endorse"));
    assert!(!store
        .set_endorsement(c1, Some((ann.id, t0)))
        .await
        .expect("comments are not endorsed"));
    let r = store
        .comment(r1, cat.id)
        .await
        .expect("read")
        .expect("there");
    assert!(r.endorsed);
    assert_eq!(r.endorsed_by.as_deref(), Some("Disc0"));
    assert!(
        store
            .thread(id, cat.id)
            .await
            .expect("r")
            .expect("t")
            .has_endorsed
    );

    // Marks: once per user, both ways.
    assert!(store
        .set_mark(Post::Thread(id), Mark::Vote, bob.id, true)
        .await
        .expect("vote"));
    assert!(!store
        .set_mark(Post::Thread(id), Mark::Vote, bob.id, true)
        .await
        .expect("again"));
    assert!(store
        .set_mark(Post::Comment(c1), Mark::AbuseFlag, ann.id, true)
        .await
        .expect("flag"));
    let t = store
        .thread(id, bob.id)
        .await
        .expect("read")
        .expect("there");
    assert!(t.voted && t.vote_count == 1);
    assert!(!store
        .set_mark(Post::Thread(id), Mark::Vote, cat.id, false)
        .await
        .expect("nothing to undo"));
    assert!(store
        .set_mark(Post::Thread(id), Mark::Vote, bob.id, false)
        .await
        .expect("undo"));
    assert_eq!(
        store
            .thread(id, bob.id)
            .await
            .expect("r")
            .expect("t")
            .vote_count,
        0
    );
    let c = store
        .comment(c1, ann.id)
        .await
        .expect("read")
        .expect("there");
    assert!(c.flagged && c.flag_count == 1);
    store.clear_flags(Post::Comment(c1)).await.expect("clear");
    let c = store
        .comment(c1, ann.id)
        .await
        .expect("read")
        .expect("there");
    assert!(!c.flagged && c.flag_count == 0);

    // Listing responses and comments.
    let (rs, n) = store
        .comments(&CommentQuery {
            thread_id: id,
            parent_id: None,
            endorsed: None,
            viewer: ann.id,
            offset: 0,
            limit: 10,
        })
        .await
        .expect("responses");
    assert_eq!((rs.len(), n, rs[0].id), (1, 1, r1));
    let (cs, _) = store
        .comments(&CommentQuery {
            thread_id: id,
            parent_id: Some(r1),
            endorsed: None,
            viewer: ann.id,
            offset: 0,
            limit: 10,
        })
        .await
        .expect("comments");
    assert_eq!(cs.iter().map(|c| c.id).collect::<Vec<_>>(), vec![c1]);

    // Edits, then deleting the response takes its comment and both counts.
    assert!(store
        .update_comment(c1, "changed", ann.id, t0)
        .await
        .expect("edit"));
    assert_eq!(
        store.comment(c1, ann.id).await.expect("r").expect("c").body,
        "changed"
    );
    assert!(store.delete_comment(r1).await.expect("delete"));
    assert!(store.comment(c1, ann.id).await.expect("read").is_none());
    let t = store
        .thread(id, ann.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(t.comment_count, 0);
    assert!(!t.has_endorsed);
    assert!(!store.delete_comment(r1).await.expect("twice"));

    let fields = ThreadFields {
        topic_id: "other".into(),
        thread_type: ThreadType::Discussion,
        title: "Retitled".into(),
        body: "new".into(),
        pinned: true,
        closed: true,
        closed_by: Some(bob.id),
        edited_by: Some(bob.id),
        updated_at: t0,
    };
    assert!(store.update_thread(id, &fields).await.expect("update"));
    let t = store
        .thread(id, ann.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(
        (t.title.as_str(), t.topic_id.as_str()),
        ("Retitled", "other")
    );
    assert!(t.pinned && t.closed);
    assert_eq!(t.closed_by.as_deref(), Some("Disc1"));
    assert!(store.delete_thread(id).await.expect("delete"));
    assert!(store.thread(id, ann.id).await.expect("read").is_none());
    assert!(!store.update_thread(id, &fields).await.expect("gone"));
}

async fn listings(store: &dyn Store, key: &CourseKey, users: &[User]) {
    let (ann, bob) = (&users[3], &users[4]);
    let t0 = Utc::now() - Duration::minutes(30);
    let mut ids = Vec::new();
    for (i, title) in ["Alpha 100%", "beta", "Gamma"].iter().enumerate() {
        let mut t = new_thread(key, ann, title, t0 + Duration::minutes(i as i64));
        if i == 1 {
            t.thread_type = ThreadType::Discussion;
            t.topic_id = "unit-a".into();
        }
        ids.push(store.create_thread(&t).await.expect("thread"));
    }
    let titles = |v: &[lectern_app::discussions::Thread]| {
        v.iter().map(|t| t.title.clone()).collect::<Vec<_>>()
    };
    let (all, n) = store.threads(&query(key, ann)).await.expect("list");
    assert_eq!(n, 3);
    assert_eq!(
        titles(&all),
        ["Gamma", "beta", "Alpha 100%"],
        "newest activity first"
    );

    store
        .set_mark(Post::Thread(ids[0]), Mark::Vote, bob.id, true)
        .await
        .expect("vote");
    let mut q = query(key, ann);
    q.order = ThreadOrder::VoteCount;
    assert_eq!(
        titles(&store.threads(&q).await.expect("list").0)[0],
        "Alpha 100%"
    );

    let mut q = query(key, ann);
    q.text = Some("ALPHA 1".into());
    assert_eq!(
        titles(&store.threads(&q).await.expect("list").0),
        ["Alpha 100%"]
    );
    q.text = Some("0%".into());
    assert_eq!(store.threads(&q).await.expect("list").1, 1, "% is literal");

    let mut q = query(key, ann);
    q.topic_ids = Some(vec!["unit-a".into()]);
    assert_eq!(titles(&store.threads(&q).await.expect("list").0), ["beta"]);
    let mut q = query(key, ann);
    q.hidden_topics = vec!["unit-a".into()];
    assert_eq!(store.threads(&q).await.expect("list").1, 2);

    let mut q = query(key, bob);
    q.following = true;
    assert_eq!(store.threads(&q).await.expect("list").1, 0);
    store
        .set_following(ids[2], bob.id, true)
        .await
        .expect("follow");
    assert_eq!(titles(&store.threads(&q).await.expect("list").0), ["Gamma"]);

    let mut q = query(key, bob);
    q.unread = true;
    assert_eq!(store.threads(&q).await.expect("list").1, 3);
    store
        .mark_read(ids[1], bob.id, Utc::now())
        .await
        .expect("read");
    assert_eq!(store.threads(&q).await.expect("list").1, 2);

    let mut q = query(key, bob);
    q.unanswered = true;
    assert_eq!(
        store.threads(&q).await.expect("list").1,
        2,
        "questions only"
    );

    let mut q = query(key, bob);
    q.flagged = true;
    assert_eq!(store.threads(&q).await.expect("list").1, 0);
    store
        .set_mark(Post::Thread(ids[1]), Mark::AbuseFlag, bob.id, true)
        .await
        .expect("flag");
    assert_eq!(titles(&store.threads(&q).await.expect("list").0), ["beta"]);

    let fields = ThreadFields {
        topic_id: "course".into(),
        thread_type: ThreadType::Question,
        title: "Alpha 100%".into(),
        body: "b".into(),
        pinned: true,
        closed: false,
        closed_by: None,
        edited_by: None,
        updated_at: Utc::now(),
    };
    store.update_thread(ids[0], &fields).await.expect("pin");
    let mut q = query(key, ann);
    q.limit = 2;
    let (page, n) = store.threads(&q).await.expect("list");
    assert_eq!(
        (titles(&page), n),
        (vec!["Alpha 100%".to_string(), "Gamma".into()], 3),
        "pinned first"
    );
    q.offset = 2;
    assert_eq!(titles(&store.threads(&q).await.expect("list").0), ["beta"]);
}

async fn roles_and_deletion(store: &dyn Store, key: &CourseKey, other: &CourseKey, users: &[User]) {
    let (ann, bob) = (&users[5], &users[6]);
    store
        .grant_discussion_role(key, ann.id, DiscussionRole::CommunityTa)
        .await
        .expect("grant");
    store
        .grant_discussion_role(key, ann.id, DiscussionRole::CommunityTa)
        .await
        .expect("again");
    store
        .grant_discussion_role(key, ann.id, DiscussionRole::Moderator)
        .await
        .expect("grant");
    store
        .grant_discussion_role(other, bob.id, DiscussionRole::Administrator)
        .await
        .expect("grant");
    assert_eq!(
        store.discussion_roles_of(key, ann.id).await.expect("roles"),
        vec![DiscussionRole::CommunityTa, DiscussionRole::Moderator]
    );
    assert!(store
        .discussion_roles_of(key, bob.id)
        .await
        .expect("roles")
        .is_empty());
    assert_eq!(store.discussion_team(key).await.expect("team").len(), 2);
    assert!(store
        .revoke_discussion_role(key, ann.id, DiscussionRole::Moderator)
        .await
        .expect("revoke"));
    assert!(!store
        .revoke_discussion_role(key, ann.id, DiscussionRole::Moderator)
        .await
        .expect("twice"));

    let kept = store
        .create_thread(&new_thread(other, bob, "Other course", Utc::now()))
        .await
        .expect("thread");
    store
        .set_mark(Post::Thread(kept), Mark::Vote, ann.id, true)
        .await
        .expect("vote");
    store.delete_course_discussions(key).await.expect("delete");
    assert_eq!(store.threads(&query(key, ann)).await.expect("list").1, 0);
    assert!(store.discussion_team(key).await.expect("team").is_empty());
    let t = store
        .thread(kept, ann.id)
        .await
        .expect("read")
        .expect("kept");
    assert!(t.voted, "the other course keeps its threads and marks");
    assert_eq!(store.discussion_team(other).await.expect("team").len(), 1);
    assert!(
        store.course(key).await.expect("course").is_some(),
        "the course stays"
    );
}

async fn concurrent_marks(store: Arc<dyn Store>, key: &CourseKey, users: &[User]) {
    let author = &users[7];
    let id = store
        .create_thread(&new_thread(key, author, "Busy", Utc::now()))
        .await
        .expect("thread");
    let response = store
        .create_comment(&NewComment {
            course_key: key.clone(),
            thread_id: id,
            parent_id: None,
            body: "r".into(),
            author: author.id,
            at: Utc::now(),
        })
        .await
        .expect("response")
        .expect("made");
    let mut tasks = Vec::new();
    for u in users.iter().take(10) {
        // Each user votes twice at once and comments once.
        for _ in 0..2 {
            let (s, user) = (store.clone(), u.id);
            tasks.push(tokio::spawn(async move {
                s.set_mark(Post::Thread(id), Mark::Vote, user, true)
                    .await
                    .expect("vote");
                s.set_mark(Post::Comment(response), Mark::AbuseFlag, user, true)
                    .await
                    .expect("flag");
            }));
        }
        let (s, user, key) = (store.clone(), u.id, key.clone());
        tasks.push(tokio::spawn(async move {
            s.create_comment(&NewComment {
                course_key: key,
                thread_id: id,
                parent_id: Some(response),
                body: "c".into(),
                author: user,
                at: Utc::now(),
            })
            .await
            .expect("comment")
            .expect("made");
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let t = store
        .thread(id, author.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!((t.vote_count, t.comment_count), (10, 11));
    let r = store
        .comment(response, author.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!((r.flag_count, r.child_count), (10, 10));
}
