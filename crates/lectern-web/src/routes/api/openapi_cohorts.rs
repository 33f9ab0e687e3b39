//! The OpenAPI entries of Open edX's cohort API (v1), merged into
//! `openapi::document`.

use serde_json::{json, Map, Value};

/// Paths to add to the document.
pub fn paths() -> Map<String, Value> {
    let s = json!({"type": "string"});
    let int = json!({"type": "integer"});
    let cohort = json!({"type": "object", "properties": {
        "id": int, "name": s, "user_count": {"type": "integer", "description": "members actively enrolled"},
        "assignment_type": {"type": "string", "enum": ["manual", "random"]},
        "group_id": {"type": "integer", "nullable": true, "description": "always null: Lectern has no content groups"},
        "user_partition_id": {"type": "integer", "nullable": true, "description": "always null"}}});
    let member = json!({"type": "object", "properties": {"username": s, "email": s, "name": s}});
    let strings = json!({"type": "array", "items": s});
    let moved = json!({"type": "array", "items": {"type": "object", "properties": {"username": s, "email": s, "previous_cohort": s}}});
    let added = json!({"type": "array", "items": {"type": "object", "properties": {"username": s, "email": s}}});
    let report = json!({"type": "object", "properties": {
        "success": {"type": "boolean"}, "added": added, "changed": moved, "present": strings,
        "unknown": strings, "preassigned": {"type": "array", "items": s, "description": "always empty: Lectern does not pre-assign"},
        "invalid": strings, "not_enrolled": {"type": "array", "items": s, "description": "users who are not enrolled (Lectern's addition); nothing stored"}}});
    let errors = json!({
        "400": {"$ref": "#/components/responses/Error"},
        "401": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error", "description": "no such course or cohort, or not the course team"}});
    let with = |code: &str, ok: Option<Value>| {
        let mut r = errors.clone();
        if let Some(m) = r.as_object_mut() {
            let body = match ok {
                Some(schema) => {
                    json!({"description": "OK", "content": {"application/json": {"schema": schema}}})
                }
                None => json!({"description": "Done"}),
            };
            m.insert(code.into(), body);
        }
        r
    };
    let course = json!({"name": "course_id", "in": "path", "required": true, "description": "the course key", "schema": s});
    let cohort_id = json!({"name": "cohort_id", "in": "path", "required": true, "schema": int});
    let username = json!({"name": "username", "in": "path", "required": true, "description": "a username (or e-mail address to add)", "schema": s});
    let page = json!({"name": "page", "in": "query", "required": false, "schema": int});
    let page_size = json!({"name": "page_size", "in": "query", "required": false, "description": "at most 100", "schema": int});
    let security = json!([{"bearer": []}, {"session": []}]);
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let cohort_body = json!({"type": "object", "properties": {"name": s, "assignment_type": {"type": "string", "enum": ["manual", "random"]}}});
    let tag = json!(["cohorts"]);
    let mut m = Map::new();
    m.insert("/api/cohorts/v1/settings/{course_id}".into(), json!({
        "get": {"summary": "Whether the course uses cohorts", "tags": tag, "security": security, "parameters": [course],
            "responses": with("200", Some(json!({"type": "object", "properties": {"is_cohorted": {"type": "boolean"}}})))},
        "put": {"summary": "Turn cohorts on or off", "tags": tag, "security": security, "parameters": [course],
            "requestBody": body(json!({"type": "object", "required": ["is_cohorted"], "properties": {"is_cohorted": {"type": "boolean"}}})),
            "responses": with("200", Some(json!({"type": "object", "properties": {"is_cohorted": {"type": "boolean"}}})))}}));
    m.insert("/api/cohorts/v1/courses/{course_id}/cohorts/".into(), json!({
        "get": {"summary": "The course's cohorts (course team and admins)", "tags": tag, "security": security,
            "parameters": [course, page, page_size], "responses": with("200", Some(json!({"type": "array", "items": cohort})))},
        "post": {"summary": "Create a cohort (name unique in the course; at most 100 cohorts)", "tags": tag, "security": security,
            "parameters": [course], "requestBody": body(cohort_body.clone()), "responses": with("200", Some(cohort.clone()))}}));
    m.insert("/api/cohorts/v1/courses/{course_id}/cohorts/{cohort_id}".into(), json!({
        "get": {"summary": "One cohort", "tags": tag, "security": security, "parameters": [course, cohort_id],
            "responses": with("200", Some(cohort))},
        "patch": {"summary": "Rename a cohort and/or change its assignment type (the last random cohort stays random)", "tags": tag,
            "security": security, "parameters": [course, cohort_id], "requestBody": body(cohort_body),
            "responses": with("204", None)}}));
    m.insert("/api/cohorts/v1/courses/{course_id}/cohorts/{cohort_id}/users".into(), json!({
        "get": {"summary": "A page of the cohort's members", "tags": tag, "security": security,
            "parameters": [course, cohort_id, page, page_size],
            "responses": with("200", Some(json!({"type": "object", "properties": {
                "count": int, "num_pages": int, "current_page": int, "start": int,
                "next": {"type": "string", "nullable": true}, "previous": {"type": "string", "nullable": true},
                "results": {"type": "array", "items": member}}})))},
        "post": {"summary": "Add learners by username or e-mail (moving them from another cohort); at most 1,000", "tags": tag,
            "security": security, "parameters": [course, cohort_id],
            "requestBody": body(json!({"type": "object", "required": ["users"], "properties": {"users": {"oneOf": [strings, s]}}})),
            "responses": with("200", Some(report.clone()))}}));
    m.insert("/api/cohorts/v1/courses/{course_id}/cohorts/{cohort_id}/users/{username}".into(), json!({
        "post": {"summary": "Add one learner", "tags": tag, "security": security, "parameters": [course, cohort_id, username],
            "responses": with("200", Some(report))},
        "delete": {"summary": "Remove a learner from the cohort (400 when not in it)", "tags": tag, "security": security,
            "parameters": [course, cohort_id, username], "responses": with("204", None)}}));
    m
}
