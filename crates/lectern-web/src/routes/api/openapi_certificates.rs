//! The OpenAPI entries of Open edX's certificate API (v0), merged into
//! `openapi::document`.

use serde_json::{json, Map, Value};

/// Paths to add to the document.
pub fn paths() -> Map<String, Value> {
    let s = json!({"type": "string"});
    let cert = json!({"type": "object", "properties": {
        "username": s, "course_id": s, "course_display_name": s, "course_organization": s,
        "certificate_type": {"type": "string", "enum": ["honor"]},
        "created_date": {"type": "string", "format": "date-time"},
        "modified_date": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["downloadable", "unavailable"], "description": "unavailable: revoked"},
        "is_passing": {"type": "boolean"},
        "download_url": {"type": "string", "description": "the public verify page; empty when revoked"},
        "grade": {"type": "string", "description": "the course grade when issued, a fraction as text (\"0.85\")"},
        "uuid": {"type": "string", "description": "the verify id"}}});
    let errors = json!({
        "401": {"$ref": "#/components/responses/Error"},
        "403": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"}});
    let with = |ok: Value| {
        let mut r = errors.clone();
        if let Some(m) = r.as_object_mut() {
            m.insert(
                "200".into(),
                json!({"description": "OK", "content": {"application/json": {"schema": ok}}}),
            );
        }
        r
    };
    let username = json!({"name": "username", "in": "path", "required": true, "schema": s});
    let mut m = Map::new();
    m.insert("/api/certificates/v0/certificates/{username}/courses/{course_id}/".into(), json!({"get": {
        "summary": "A learner's certificate in a course (the learner, admins, the course team)",
        "tags": ["certificates"], "security": [{"bearer": []}, {"session": []}],
        "parameters": [username, {"name": "course_id", "in": "path", "required": true, "description": "the course key", "schema": s}],
        "responses": with(cert.clone())}}));
    m.insert(
        "/api/certificates/v0/certificates/{username}/".into(),
        json!({"get": {
        "summary": "A learner's shown certificates, oldest first: issued ones of courses that show them now (the learner and admins)",
        "tags": ["certificates"], "security": [{"bearer": []}, {"session": []}],
        "parameters": [username],
        "responses": with(json!({"type": "array", "items": cert}))}}),
    );
    m
}
