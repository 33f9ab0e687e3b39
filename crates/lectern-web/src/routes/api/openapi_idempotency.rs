//! The `Idempotency-Key` header in the OpenAPI document: which writes
//! accept it (see `lectern_app::idempotency`), its bounds, the 422 for a key
//! reused with another request, and `idempotency_key` in submission history.
//! Kept apart so the list of keyed writes is in one place.

use lectern_app::idempotency::{HEADER, MAX_KEY_LEN};
use serde_json::{json, Value};

/// (path, method) of every write that accepts a key.
pub const KEYED_WRITES: &[(&str, &str)] = &[
    ("/api/problems/v1/{usage_key}/check", "post"),
    ("/api/enrollment/v1/enrollment", "post"),
    ("/api/courses/v0/publish/{course_key}", "post"),
    ("/api/courses/v0/import/", "post"),
];

/// Adds the header, its errors and the history field to `doc`.
pub fn annotate(doc: &mut Value) {
    // Publishing by API exists for clients that retry (it is Studio's
    // Publish button otherwise), so it is described here with its key.
    doc["paths"]["/api/courses/v0/publish/{course_key}"] = json!({"post": {
        "summary": "Publish the course's draft as its next version (course team). With an Idempotency-Key a retry makes no new version and answers with the one the first request made",
        "tags": ["courses"],
        "parameters": [{"name": "course_key", "in": "path", "required": true, "description": "the course key", "schema": {"type": "string"}}],
        "security": [{"bearer": []}, {"session": []}],
        "responses": {
            "200": {"description": "Published", "content": {"application/json": {"schema": {"type": "object", "properties": {"course_id": {"type": "string"}, "version": {"type": "integer"}}}}}},
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"},
        },
    }});
    doc["components"]["parameters"]["IdempotencyKey"] = json!({
        "name": HEADER,
        "in": "header",
        "required": false,
        "description": format!(
            "Makes a retry safe: the first request with this key (per user) is applied once and \
             its answer stored with it; the same key again returns that answer without applying \
             anything. The same key with a different request is a 422. Answers are kept for \
             idempotency_keep_hours (24 by default); after that the key is forgotten and a \
             retry is a new request. 1 to {MAX_KEY_LEN} visible ASCII characters (a UUID fits), else a 400."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LEN, "pattern": "^[!-~]+$"},
    });
    for (path, method) in KEYED_WRITES {
        let op = &mut doc["paths"][*path][*method];
        if let Some(params) = op["parameters"].as_array_mut() {
            params.push(json!({"$ref": "#/components/parameters/IdempotencyKey"}));
        }
        op["responses"]["422"] = json!({
            "description": "The Idempotency-Key was already used for a different request (error `idempotency_key_reused`)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        });
    }
    doc["paths"]["/api/problems/v1/{usage_key}/submissions"]["get"]["responses"]["200"]
        ["content"]["application/json"]["schema"]["properties"]["results"]["items"] = json!({
        "type": "object",
        "properties": {
            "usage_key": {"type": "string"},
            "attempt": {"type": "integer"},
            "answers": {"type": "object"},
            "correct_map": {"type": "object"},
            "earned": {"type": "number", "nullable": true},
            "possible": {"type": "number"},
            "correctness_hidden": {"type": "boolean"},
            "created_at": {"type": "string"},
            "idempotency_key": {"type": "string", "nullable": true, "description": "the Idempotency-Key the check was sent with"},
        },
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_writes_list_the_header_and_the_422() {
        let doc = super::super::openapi::document();
        for (path, method) in KEYED_WRITES {
            let op = &doc["paths"][*path][*method];
            assert!(op.is_object(), "{path} {method} is in the document");
            assert!(op["parameters"]
                .as_array()
                .unwrap_or(&Vec::new())
                .contains(&json!({"$ref": "#/components/parameters/IdempotencyKey"})));
            assert!(op["responses"]["422"].is_object());
        }
        assert_eq!(
            doc["components"]["parameters"]["IdempotencyKey"]["name"],
            "Idempotency-Key"
        );
    }
}
