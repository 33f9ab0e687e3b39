//! The `Idempotency-Key` header in the OpenAPI document: which writes
//! accept it (see `lectern_app::idempotency`), its bounds, the 422 for a key
//! reused with another request, and `idempotency_key` in submission history.
//! Kept apart so the list of keyed writes is in one place.

use lectern_app::idempotency::{HEADER, MAX_KEY_LEN};
use serde_json::{json, Value};

/// (path, method) of every write that accepts a key.
pub const KEYED_WRITES: &[(&str, &str)] = &[("/api/problems/v1/{usage_key}/check", "post")];

/// Adds the header, its errors and the history field to `doc`.
pub fn annotate(doc: &mut Value) {
    doc["components"]["parameters"]["IdempotencyKey"] = json!({
        "name": HEADER,
        "in": "header",
        "required": false,
        "description": format!(
            "Makes a retry safe: the first request with this key (per user) is applied once and \
             its answer stored with it; the same key again returns that answer (same status and \
             body) without applying anything. The same key with a different request is a 422. \
             1 to {MAX_KEY_LEN} visible ASCII characters (a UUID fits), else a 400."
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
