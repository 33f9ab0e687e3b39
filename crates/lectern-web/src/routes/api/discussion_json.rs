//! Discussion records in Open edX's JSON shapes (the v1 discussion API's
//! thread, comment, topic and course objects), and its pagination
//! envelope with `next`/`previous` links that keep the listing's filters.

use lectern_app::discussions::{CommentView, Forum, Page, ThreadType, ThreadView, Topic, Topics};
use serde_json::{json, Value};

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A thread, with the URLs of its responses.
pub fn thread(site: &str, v: &ThreadView) -> Value {
    let t = &v.thread;
    let comments = format!("{site}/api/discussion/v1/comments/?thread_id={}", t.id);
    let question = t.thread_type == ThreadType::Question;
    let mut out = json!({
        "id": t.id.to_string(),
        "course_id": t.course_key.to_string(),
        "topic_id": t.topic_id,
        "group_id": null,
        "group_name": null,
        "author": t.author,
        "author_label": v.author_label,
        "anonymous": false,
        "anonymous_to_peers": false,
        "type": t.thread_type.as_str(),
        "title": t.title,
        "raw_body": t.body,
        "rendered_body": v.rendered_body,
        "created_at": time(t.created_at),
        "updated_at": time(t.updated_at),
        "last_activity_at": time(t.last_activity_at),
        "pinned": t.pinned,
        "closed": t.closed,
        "closed_by": t.closed_by,
        "edit_by_label": null,
        "following": t.following,
        "abuse_flagged": t.flagged,
        "voted": t.voted,
        "vote_count": t.vote_count,
        "comment_count": t.comment_count,
        "unread_comment_count": t.unread_comment_count,
        "read": t.read,
        "has_endorsed": t.has_endorsed,
        "comment_list_url": (!question).then(|| comments.clone()),
        "endorsed_comment_list_url": question.then(|| format!("{comments}&endorsed=True")),
        "non_endorsed_comment_list_url": question.then(|| format!("{comments}&endorsed=False")),
        "editable_fields": v.editable_fields,
        "can_delete": v.can_delete,
    });
    if let (Some(n), Some(map)) = (v.abuse_flagged_count, out.as_object_mut()) {
        map.insert("abuse_flagged_count".into(), json!(n));
    }
    out
}

/// A response or comment.
pub fn comment(v: &CommentView) -> Value {
    let c = &v.comment;
    let mut out = json!({
        "id": c.id.to_string(),
        "thread_id": c.thread_id.to_string(),
        "parent_id": c.parent_id.map(|p| p.to_string()),
        "author": c.author,
        "author_label": v.author_label,
        "anonymous": false,
        "anonymous_to_peers": false,
        "created_at": time(c.created_at),
        "updated_at": time(c.updated_at),
        "raw_body": c.body,
        "rendered_body": v.rendered_body,
        "endorsed": c.endorsed,
        "endorsed_by": c.endorsed_by,
        "endorsed_by_label": v.endorsed_by_label,
        "endorsed_at": c.endorsed_at.map(time),
        "abuse_flagged": c.flagged,
        "voted": c.voted,
        "vote_count": c.vote_count,
        "child_count": c.child_count,
        "children": [],
        "editable_fields": v.editable_fields,
        "can_delete": v.can_delete,
    });
    if let (Some(n), Some(map)) = (v.abuse_flagged_count, out.as_object_mut()) {
        map.insert("abuse_flagged_count".into(), json!(n));
    }
    out
}

fn topic(site: &str, course: &str, t: &Topic) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "thread_list_url": format!("{site}/api/discussion/v1/threads/?course_id={}&topic_id={}",
            urlencode(course), urlencode(&t.id)),
        "children": [],
    })
}

/// `course_topics`: course-wide topics, and courseware topics under their categories.
pub fn topics(site: &str, course: &str, topics: &Topics) -> Value {
    let mut categories: Vec<(String, Vec<Value>)> = Vec::new();
    let mut loose = Vec::new();
    for t in &topics.courseware {
        match &t.category {
            Some(cat) => match categories.iter_mut().find(|(c, _)| c == cat) {
                Some((_, children)) => children.push(topic(site, course, t)),
                None => categories.push((cat.clone(), vec![topic(site, course, t)])),
            },
            None => loose.push(topic(site, course, t)),
        }
    }
    let mut courseware: Vec<Value> = categories
        .into_iter()
        .map(|(name, children)| {
            json!({"id": null, "name": name, "thread_list_url": null, "children": children})
        })
        .collect();
    courseware.extend(loose);
    json!({
        "courseware_topics": courseware,
        "non_courseware_topics": topics.course_wide.iter().map(|t| topic(site, course, t)).collect::<Vec<_>>(),
    })
}

/// The discussion settings of a course as the viewer sees them.
pub fn course(site: &str, forum: &Forum) -> Value {
    let key = forum.course.record.key.to_string();
    let enc = urlencode(&key);
    let blackouts: Vec<Value> = lectern_app::discussions::policy::blackouts(&forum.course.tree)
        .iter()
        .map(|b| json!({"start": time(b.start), "end": time(b.end)}))
        .collect();
    let mut roles: Vec<&str> = forum.roles.iter().map(|r| r.as_str()).collect();
    if forum.sees.sees_unreleased() {
        roles.push("Staff");
    }
    roles.push("Student");
    json!({
        "id": key,
        "blackouts": blackouts,
        "thread_list_url": format!("{site}/api/discussion/v1/threads/?course_id={enc}"),
        "following_thread_list_url": format!("{site}/api/discussion/v1/threads/?course_id={enc}&following=True"),
        "topics_url": format!("{site}/api/discussion/v1/course_topics/{key}"),
        "allow_anonymous": false,
        "allow_anonymous_to_peers": false,
        "user_roles": roles,
        "user_is_privileged": forum.is_moderator(),
        "provider": "lectern",
    })
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|x| x.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// Open edX's envelope: `results` and `pagination{next, previous, count,
/// num_pages}`; `link(page)` builds a page's URL.
pub fn envelope(
    results: Vec<Value>,
    count: i64,
    page: Page,
    link: impl Fn(i64) -> String,
) -> Value {
    let num_pages = page.pages_for(count);
    json!({
        "results": results,
        "pagination": {
            "next": (page.number < num_pages).then(|| link(page.number + 1)),
            "previous": (page.number > 1).then(|| link(page.number - 1)),
            "count": count,
            "num_pages": num_pages,
        },
    })
}
