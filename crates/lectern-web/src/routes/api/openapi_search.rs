//! The OpenAPI entries of search (edx-search's course discovery and course
//! search), merged into `openapi::document`.

use serde_json::{json, Map, Value};

/// Paths to add to the document.
pub fn paths() -> Map<String, Value> {
    let s = json!({"type": "string"});
    let n = json!({"type": "integer"});
    let request = json!({"type": "object", "properties": {
        "search_string": {"type": "string", "maxLength": 200, "description": "words, all required; never parsed as query syntax"},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        "page_index": {"type": "integer", "minimum": 0, "default": 0, "description": "(page_index + 1) × page_size ≤ 10000"}}});
    let body = json!({"required": false, "content": {
        "application/x-www-form-urlencoded": {"schema": request},
        "application/json": {"schema": request}}});
    let envelope = |data: Value| {
        json!({"type": "object", "properties": {"took": n, "total": n,
            "max_score": {"type": "number", "nullable": true},
            "results": {"type": "array", "items": {"type": "object", "properties": {
                "_id": s, "_type": s, "score": {"type": "number"}, "data": data}}}}})
    };
    let course_data = json!({"type": "object", "properties": {"id": s, "course": s, "org": s, "number": s,
        "start": s, "image_url": s, "url": s,
        "content": {"type": "object", "properties": {"display_name": s, "short_description": s, "overview": s, "org": s, "number": s}}}});
    let content_data = json!({"type": "object", "properties": {"id": s, "course": s,
        "location": {"type": "array", "items": s, "description": "section, subsection and unit names"},
        "content": {"type": "object", "properties": {"display_name": s, "text": s, "html_content": s, "capa_content": s, "transcript_en": s}},
        "content_type": {"type": "string", "enum": ["Sequence", "Text", "CAPA", "Video", "Post"]}, "url": s}});
    let responses = |data: Value| {
        json!({"200": {"description": "A page of results", "content": {"application/json": {"schema": envelope(data)}}},
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"}})
    };
    let mut m = Map::new();
    m.insert("/search/course_discovery/".into(), json!({"post": {
        "summary": "Search the catalogue (edx-search course discovery): the catalogue's courses by name, description, org and number; without words, all of them",
        "tags": ["search"], "requestBody": body, "responses": responses(course_data)}}));
    m.insert("/search/{course_id}".into(), json!({"post": {
        "summary": "Search one course's published content and posts as the caller may see them (enrolled learners: released, not staff-only; the course team: all published)",
        "tags": ["search"], "security": [{"bearer": []}, {"session": []}],
        "parameters": [{"name": "course_id", "in": "path", "required": true, "description": "the course key", "schema": s}],
        "requestBody": body, "responses": responses(content_data)}}));
    m
}
