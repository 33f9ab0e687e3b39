//! `GET /api/openapi.json`: the OpenAPI 3 document of every JSON endpoint.
//! The integration tests check that every API path they exercise is listed here.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(|| async { Json(document()) }))
}

fn op(
    summary: &str,
    tag: &str,
    params: Value,
    body: Option<Value>,
    ok: Value,
    auth: bool,
) -> Value {
    let mut o = json!({
        "summary": summary,
        "tags": [tag],
        "parameters": params,
        "responses": {
            "200": {"description": "Success", "content": {"application/json": {"schema": ok}}},
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"},
        }
    });
    if let Some(b) = body {
        o["requestBody"] = json!({"required": true, "content": b});
    }
    if auth {
        o["security"] = json!([{"bearer": []}, {"session": []}]);
    }
    o
}

fn path_param(name: &str, desc: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": desc, "schema": {"type": "string"}})
}

fn query_param(name: &str, desc: &str, required: bool) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": desc, "schema": {"type": "string"}})
}

/// The whole document.
pub fn document() -> Value {
    let mut doc = base_document();
    if let Some(paths) = doc["paths"].as_object_mut() {
        paths.extend(super::openapi_more::paths());
        paths.extend(super::openapi_discussions::paths());
        paths.extend(super::openapi_search::paths());
        paths.extend(super::openapi_certificates::paths());
        paths.extend(super::openapi_cohorts::paths());
    }
    super::openapi_idempotency::annotate(&mut doc);
    doc
}

fn base_document() -> Value {
    let course = json!({"$ref": "#/components/schemas/Course"});
    let registration = json!({
        "type": "object", "required": ["email", "username", "name", "password"],
        "properties": {"email": {"type": "string"}, "username": {"type": "string"}, "name": {"type": "string"}, "password": {"type": "string"}}
    });
    let token_req = json!({
        "type": "object", "required": ["grant_type", "username", "password"],
        "properties": {"grant_type": {"type": "string", "enum": ["password"]}, "username": {"type": "string"}, "password": {"type": "string"}, "client_id": {"type": "string"}}
    });
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Lectern API", "version": "1.0.0", "description": "Lectern's JSON API. Paths and field names follow Open edX's public APIs."},
        "paths": {
            "/api/user/v1/account/registration/": {"post": op("Create an account (403 `account_limit_reached` at the site's account limit, docs/limits.md)", "accounts", json!([]),
                Some(json!({"application/json": {"schema": registration}, "application/x-www-form-urlencoded": {"schema": registration}})),
                json!({"type": "object", "properties": {"success": {"type": "boolean"}, "username": {"type": "string"}}}), false)},
            "/oauth2/access_token": {"post": op("Get a bearer token (password grant)", "accounts", json!([]),
                Some(json!({"application/x-www-form-urlencoded": {"schema": token_req}, "application/json": {"schema": token_req}})),
                json!({"type": "object", "properties": {"access_token": {"type": "string"}, "token_type": {"type": "string"}, "expires_in": {"type": "integer"}, "scope": {"type": "string"}}}), false)},
            "/api/courses/v1/courses/": {"get": op("List published courses", "courses",
                json!([query_param("page", "page number, from 1", false), query_param("page_size", "results per page (max 100)", false)]), None,
                json!({"type": "object", "properties": {"results": {"type": "array", "items": course}, "pagination": {"$ref": "#/components/schemas/Pagination"}}}), false)},
            "/api/courses/v1/courses/{course_key}": {"get": op("One published course", "courses",
                json!([path_param("course_key", "course-v1:ORG+NUMBER+RUN")]), None, course.clone(), false)},
            "/api/courses/v2/blocks/": {"get": op("The blocks of a course the caller may read", "courses",
                json!([query_param("course_id", "the course key", true), query_param("depth", "all", false), query_param("all_blocks", "true", false)]), None,
                json!({"type": "object", "properties": {"root": {"type": "string"}, "blocks": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Block"}}}}), true)},
            "/api/enrollment/v1/enrollment": {
                "get": op("The caller's enrollments", "enrollment", json!([]), None, json!({"type": "array", "items": {"$ref": "#/components/schemas/Enrollment"}}), true),
                "post": op("Enroll the caller, or with user someone else (course team); unenroll with is_active: false; mode: audit", "enrollment", json!([]),
                    Some(json!({"application/json": {"schema": {"type": "object", "required": ["course_details"], "properties": {"course_details": {"type": "object", "properties": {"course_id": {"type": "string"}}}, "is_active": {"type": "boolean"}, "mode": {"type": "string", "enum": ["audit"]}, "user": {"type": "string"}}}}})),
                    json!({"$ref": "#/components/schemas/Enrollment"}), true)
            },
            "/api/problems/v1/{usage_key}": {"get": op("A problem as the caller sees it: inputs, attempts used, max attempts, score", "problems",
                json!([path_param("usage_key", "block-v1:…+type@problem+block@ID")]), None, json!({"$ref": "#/components/schemas/Problem"}), true)},
            "/api/problems/v1/{usage_key}/check": {"post": op("Submit answers for grading (uses an attempt unless an input cannot be read)", "problems",
                json!([path_param("usage_key", "the problem's usage key")]),
                Some(json!({"application/json": {"schema": {"$ref": "#/components/schemas/Answers"}}})),
                json!({"type": "object", "properties": {"earned": {"type": "number", "nullable": true, "description": "null while show_correctness hides it"}, "possible": {"type": "number"}, "attempts": {"type": "integer"}, "max_attempts": {"type": "integer", "nullable": true}, "correct_map": {"type": "object"}, "correctness_hidden": {"type": "boolean"}, "message": {"type": "string", "description": "Correct, Incorrect, Partially correct, or Answer submitted. when correctness is hidden"}, "closed": {"type": "boolean"}, "can_show_answer": {"type": "boolean"}}}), true)},
            "/api/problems/v1/{usage_key}/save": {"post": op("Store answers without grading them", "problems",
                json!([path_param("usage_key", "the problem's usage key")]),
                Some(json!({"application/json": {"schema": {"$ref": "#/components/schemas/Answers"}}})), json!({"$ref": "#/components/schemas/Problem"}), true)},
            "/api/problems/v1/{usage_key}/reset": {"post": op("Clear the caller's answers and score", "problems",
                json!([path_param("usage_key", "the problem's usage key")]), None, json!({"$ref": "#/components/schemas/Problem"}), true)},
            "/api/problems/v1/{usage_key}/answer": {"get": op("The correct answers, once the problem's showanswer setting allows (403 before)", "problems",
                json!([path_param("usage_key", "the problem's usage key")]), None, json!({"type": "object", "properties": {"answers": {"type": "object"}}}), true)},
            "/api/problems/v1/{usage_key}/submissions": {"get": op("The caller's graded submissions to a problem", "problems",
                json!([path_param("usage_key", "the problem's usage key")]), None, json!({"type": "object", "properties": {"results": {"type": "array", "items": {"type": "object"}}}}), true)},
            "/api/grades/v1/courses/{course_key}/": {"get": op("Course grades: the caller's, or (course team) one learner's or everyone's", "grades",
                json!([path_param("course_key", "the course key"), query_param("username", "a learner (course team only, or yourself)", false)]), None,
                json!({"type": "array", "items": {"type": "object", "properties": {"username": {"type": "string"}, "course_id": {"type": "string"}, "passed": {"type": "boolean"}, "percent": {"type": "number"}, "letter_grade": {"type": "string", "nullable": true}}}}), true)},
            "/api/courses/v0/import/": {"post": op("Import an Open edX course export (the .tar.gz as the body); replaces an existing course's draft and publishes. Course creators only: 403 before the body is read, 413 past the upload cap; at the site's limits (docs/limits.md) 403 `course_limit_reached` for a new course, 413 `storage_limit_reached` for files that do not fit", "courses", json!([]),
                Some(json!({"application/gzip": {"schema": {"type": "string", "format": "binary"}}})),
                json!({"type": "object", "properties": {"course_id": {"type": "string"}, "version": {"type": "integer"}, "replaced": {"type": "boolean"}, "report": {"type": "object"}}}), true)},
            "/api/courses/v0/export/{course_key}": {"get": {"summary": "Export a course's draft as an Open edX OLX archive", "tags": ["courses"], "parameters": [path_param("course_key", "the course key")],
                "security": [{"bearer": []}, {"session": []}],
                "responses": {"200": {"description": "The archive", "content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}}}, "404": {"$ref": "#/components/responses/Error"}}}},
            "/api/openapi.json": {"get": {"summary": "This document", "tags": ["meta"], "responses": {"200": {"description": "OpenAPI 3 document"}}}}
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "lectern_session", "description": "Browser session; writes also need the X-CSRFToken header equal to the lectern_csrf cookie."}
            },
            "responses": {"Error": {"description": "An error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"], "properties": {"error": {"type": "string"}, "message": {"type": "string"}, "field_errors": {"type": "object", "additionalProperties": {"type": "string"}}}},
                "Pagination": {"type": "object", "properties": {"next": {"type": "string", "nullable": true}, "previous": {"type": "string", "nullable": true}, "count": {"type": "integer"}, "num_pages": {"type": "integer"}}},
                "Course": {"type": "object", "properties": {"id": {"type": "string"}, "course_id": {"type": "string"}, "name": {"type": "string"}, "org": {"type": "string"}, "number": {"type": "string"}, "start": {"type": "string", "nullable": true}, "end": {"type": "string", "nullable": true}, "short_description": {"type": "string"}, "pacing": {"type": "string"}, "blocks_url": {"type": "string"}}},
                "Block": {"type": "object", "properties": {"id": {"type": "string"}, "block_id": {"type": "string"}, "type": {"type": "string"}, "display_name": {"type": "string"}, "children": {"type": "array", "items": {"type": "string"}}, "graded": {"type": "boolean"}, "format": {"type": "string", "nullable": true}, "due": {"type": "string", "nullable": true}, "lms_web_url": {"type": "string"}}},
                "Answers": {"type": "object", "required": ["answers"], "properties": {"answers": {"type": "object", "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}}}},
                "Problem": {"type": "object", "properties": {"usage_key": {"type": "string"}, "display_name": {"type": "string"}, "inputs": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "type": {"type": "string"}, "label": {"type": "string"}, "choices": {"type": "array", "items": {"type": "object"}}}}}, "attempts": {"type": "integer"}, "max_attempts": {"type": "integer", "nullable": true}, "score": {"type": "object", "properties": {"earned": {"type": "number", "nullable": true}, "possible": {"type": "number"}, "hidden": {"type": "boolean"}}}, "correctness_hidden": {"type": "boolean"}, "closed": {"type": "boolean"}, "can_show_answer": {"type": "boolean"}}},
                "Enrollment": {"type": "object", "properties": {"created": {"type": "string"}, "mode": {"type": "string"}, "is_active": {"type": "boolean"}, "user": {"type": "string"}, "course_details": {"type": "object", "properties": {"course_id": {"type": "string"}, "course_name": {"type": "string"}}}}}
            }
        }
    })
}
