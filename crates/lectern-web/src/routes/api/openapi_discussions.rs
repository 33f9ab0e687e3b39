//! The OpenAPI entries of the discussion API (`discussions.rs`), merged
//! into `openapi::document`.

use serde_json::{json, Map, Value};

fn q(name: &str, desc: &str, required: bool) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": desc, "schema": {"type": "string"}})
}

fn p(name: &str, desc: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": desc, "schema": {"type": "string"}})
}

fn op(summary: &str, params: Value, body: Option<Value>, ok: Value) -> Value {
    let mut o = json!({"summary": summary, "tags": ["discussions"], "parameters": params,
        "security": [{"bearer": []}, {"session": []}],
        "responses": {
            "200": {"description": "Success", "content": {"application/json": {"schema": ok}}},
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"}}});
    if let (Some(b), Some(map)) = (body, o.as_object_mut()) {
        map.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {"schema": b},
                "application/merge-patch+json": {"schema": b}}}),
        );
    }
    o
}

fn deletion(summary: &str, params: Value) -> Value {
    json!({"summary": summary, "tags": ["discussions"], "parameters": params,
        "security": [{"bearer": []}, {"session": []}],
        "responses": {"204": {"description": "Deleted"},
            "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"}}})
}

/// Paths to add to the document.
pub fn paths() -> Map<String, Value> {
    let s = json!({"type": "string"});
    let b = json!({"type": "boolean"});
    let i = json!({"type": "integer"});
    let ns = json!({"type": "string", "nullable": true});
    let list = json!({"type": "array", "items": s});
    let thread = json!({"type": "object", "properties": {
        "id": s, "course_id": s, "topic_id": s, "author": s, "author_label": ns, "type": {"type": "string", "enum": ["discussion", "question"]},
        "title": s, "raw_body": s, "rendered_body": s, "created_at": s, "updated_at": s, "last_activity_at": s,
        "pinned": b, "closed": b, "closed_by": ns, "following": b, "abuse_flagged": b, "abuse_flagged_count": i, "voted": b,
        "vote_count": i, "comment_count": i, "unread_comment_count": i, "read": b, "has_endorsed": b,
        "comment_list_url": ns, "endorsed_comment_list_url": ns, "non_endorsed_comment_list_url": ns,
        "editable_fields": list, "can_delete": b}});
    let comment = json!({"type": "object", "properties": {
        "id": s, "thread_id": s, "parent_id": ns, "author": s, "author_label": ns, "created_at": s, "updated_at": s,
        "raw_body": s, "rendered_body": s, "endorsed": b, "endorsed_by": ns, "endorsed_by_label": ns, "endorsed_at": ns,
        "abuse_flagged": b, "abuse_flagged_count": i, "voted": b, "vote_count": i, "child_count": i,
        "children": {"type": "array", "items": {"type": "object"}}, "editable_fields": list, "can_delete": b}});
    let page_of = |item: &Value| {
        json!({"type": "object", "properties": {"results": {"type": "array", "items": item},
        "pagination": {"type": "object", "properties": {"next": ns, "previous": ns, "count": i, "num_pages": i}}}})
    };
    let paging = [
        q("page", "1-based page number", false),
        q("page_size", "1 to 100 (default 10)", false),
    ];
    let mut thread_params = vec![
        q("course_id", "the course key", true),
        q(
            "topic_id",
            "one topic id, or several separated by commas",
            false,
        ),
        q(
            "text_search",
            "words in the title or body (at most 200 characters)",
            false,
        ),
        q("following", "True: only threads the caller follows", false),
        q(
            "view",
            "unread or unanswered (questions without an endorsed response)",
            false,
        ),
        q(
            "order_by",
            "last_activity_at (default), comment_count or vote_count; pinned threads first",
            false,
        ),
        q(
            "flagged",
            "True: only threads with abuse flags on them or their comments (moderators only)",
            false,
        ),
    ];
    thread_params.extend(paging.iter().cloned());
    let new_thread = json!({"type": "object", "required": ["course_id", "topic_id", "type", "title", "raw_body"],
        "properties": {"course_id": s, "topic_id": s, "type": {"type": "string", "enum": ["discussion", "question"]}, "title": s, "raw_body": s}});
    let thread_patch = json!({"type": "object", "description": "Only the fields in the thread's editable_fields may be sent.",
        "properties": {"title": s, "raw_body": s, "topic_id": s, "type": s, "voted": b, "following": b,
        "abuse_flagged": b, "pinned": b, "closed": b, "read": b}});
    let new_comment = json!({"type": "object", "required": ["thread_id", "raw_body"],
        "properties": {"thread_id": s, "parent_id": {"type": "string", "description": "a response's id, to comment on it"}, "raw_body": s}});
    let comment_patch = json!({"type": "object", "description": "Only the fields in the comment's editable_fields may be sent.",
        "properties": {"raw_body": s, "voted": b, "abuse_flagged": b, "endorsed": b}});
    let course = json!({"type": "object", "properties": {"id": s, "blackouts": {"type": "array", "items": {"type": "object", "properties": {"start": s, "end": s}}},
        "thread_list_url": s, "following_thread_list_url": s, "topics_url": s, "allow_anonymous": b, "allow_anonymous_to_peers": b,
        "user_roles": list, "user_is_privileged": b}});
    let topic = json!({"type": "object", "properties": {"id": ns, "name": s, "thread_list_url": ns, "children": {"type": "array", "items": {"type": "object"}}}});
    let topics = json!({"type": "object", "properties": {"courseware_topics": {"type": "array", "items": topic}, "non_courseware_topics": {"type": "array", "items": topic}}});
    let course_param = json!([p("course_id", "the course key")]);
    let thread_param = json!([p("thread_id", "the thread's id")]);
    let comment_param = json!([p("comment_id", "the response's or comment's id")]);
    let mut comment_params = vec![
        q("thread_id", "the thread", true),
        q(
            "endorsed",
            "True or False: only (un)endorsed responses",
            false,
        ),
    ];
    comment_params.extend(paging.iter().cloned());

    let mut m = Map::new();
    m.insert("/api/discussion/v1/courses/{course_id}".into(),
        json!({"get": op("A course's discussion settings as the caller sees them (enrolled learners and the course team)", course_param.clone(), None, course)}));
    m.insert("/api/discussion/v1/course_topics/{course_id}".into(),
        json!({"get": op("A course's topics: course-wide ones and one per discussion block the caller may see, grouped by category", course_param, None, topics)}));
    m.insert("/api/discussion/v1/threads/".into(), json!({
        "get": op("A page of a course's threads", Value::Array(thread_params), None, page_of(&thread)),
        "post": op("Start a thread (not in a blackout period, unless a moderator)", json!([]), Some(new_thread), thread.clone())}));
    m.insert("/api/discussion/v1/threads/{thread_id}/".into(), json!({
        "get": op("A thread (marks it read for the caller)", thread_param.clone(), None, thread.clone()),
        "patch": op("Change a thread: vote, follow, flag, read; its author or a moderator edits; moderators pin and close", thread_param.clone(), Some(thread_patch), thread),
        "delete": deletion("Delete a thread with its responses (its author or a moderator)", thread_param)}));
    m.insert("/api/discussion/v1/comments/".into(), json!({
        "get": op("A page of a thread's responses, oldest first", Value::Array(comment_params), None, page_of(&comment)),
        "post": op("Respond to a thread, or comment on a response (parent_id)", json!([]), Some(new_comment), comment.clone())}));
    let mut one = vec![p("comment_id", "the response's id")];
    one.extend(paging.iter().cloned());
    m.insert("/api/discussion/v1/comments/{comment_id}/".into(), json!({
        "get": op("A page of the comments on a response", Value::Array(one), None, page_of(&comment)),
        "patch": op("Change a response or comment: vote, flag; its author or a moderator edits; staff or the question's author endorse", comment_param.clone(), Some(comment_patch), comment),
        "delete": deletion("Delete a response (with its comments) or a comment (its author or a moderator)", comment_param)}));
    let roles = json!({"type": "object", "properties": {"course_id": s, "results": {"type": "array", "items": {"type": "object",
        "properties": {"id": i, "username": s, "email": s, "first_name": s, "last_name": s}}}}});
    let role_params = json!([
        p("course_id", "the course key"),
        p(
            "rolename",
            "Administrator, Moderator, Group Moderator or Community TA"
        )
    ]);
    let change = json!({"type": "object", "required": ["user_id", "action"], "properties": {"user_id": {"type": "string", "description": "the username"},
        "action": {"type": "string", "enum": ["allow", "revoke"]}}});
    m.insert("/api/discussion/v1/courses/{course_id}/roles/{rolename}/".into(), json!({
        "get": op("Who holds a discussion role in the course (its team)", role_params.clone(), None, roles.clone()),
        "post": op("Grant or remove a discussion role (the course's instructors and site admins)", role_params, Some(change), roles)}));
    m
}
