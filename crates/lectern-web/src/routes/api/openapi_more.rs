//! The OpenAPI entries of the account-security and Open edX client endpoints
//! (password reset, token revocation, user accounts, course modes, the
//! staff enrolment list, v1 blocks), merged into `openapi::document`.

use serde_json::{json, Map, Value};

fn q(name: &str, desc: &str, required: bool) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": desc, "schema": {"type": "string"}})
}

fn p(name: &str, desc: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": desc, "schema": {"type": "string"}})
}

fn get(summary: &str, tag: &str, params: Value, ok: Value) -> Value {
    json!({"summary": summary, "tags": [tag], "parameters": params,
        "security": [{"bearer": []}, {"session": []}],
        "responses": {
            "200": {"description": "Success", "content": {"application/json": {"schema": ok}}},
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"}}})
}

fn form(props: Value, required: &[&str]) -> Value {
    let schema = json!({"type": "object", "required": required, "properties": props});
    json!({"required": true, "content": {
        "application/x-www-form-urlencoded": {"schema": schema},
        "application/json": {"schema": schema}}})
}

/// Paths to add to the document.
pub fn paths() -> Map<String, Value> {
    let s = json!({"type": "string"});
    let account = json!({"type": "object", "description": "The owner and site staff get every field; others get username, account_privacy and profile_image.",
        "properties": {"id": {"type": "integer"}, "username": s, "email": s, "name": s, "date_joined": s, "is_active": {"type": "boolean"},
        "bio": s, "country": s, "state": s, "language": s, "level_of_education": s, "gender": s, "goals": s, "mailing_address": s,
        "year_of_birth": {"type": "integer", "nullable": true}, "language_proficiencies": {"type": "array", "items": {"type": "object", "properties": {"code": s}}},
        "account_privacy": s, "profile_image": {"type": "object"}, "requires_parental_consent": {"type": "boolean"}}});
    let reset = json!({"summary": "Mail a password reset link to the account with this address (the same answer whether or not one exists)", "tags": ["accounts"],
        "requestBody": form(json!({"email": s}), &["email"]),
        "responses": {"200": {"description": "Accepted", "content": {"application/json": {"schema": {"type": "object", "properties": {"success": {"type": "boolean"}, "value": s}}}}},
            "400": {"$ref": "#/components/responses/Error"}}});
    let revoke = json!({"summary": "Revoke a bearer token (RFC 7009: 200 whether or not it was valid)", "tags": ["accounts"],
        "requestBody": form(json!({"token": s, "client_id": s, "token_type_hint": s}), &["token"]),
        "responses": {"200": {"description": "Revoked (or was not valid)"}}});
    let enrollment_item = json!({"type": "object", "properties": {"created": s, "mode": s, "is_active": {"type": "boolean"}, "user": s, "course_id": s}});
    let block_params = json!([q("course_id", "the course key", true), q("username", "whose view (yourself; the course team may name a learner); required unless all_blocks=true", false),
        q("all_blocks", "true: every block (course team only)", false), q("depth", "0 (default: the root only), a number, or all", false),
        q("requested_fields", "comma-separated: children, graded, format, due, start, student_view_multi_device, has_score, block_counts", false),
        q("block_types_filter", "comma-separated block types to return", false), q("block_counts", "comma-separated block types to count under each block", false),
        q("return_type", "dict (default) or list", false), q("student_view_data", "accepted; no block type has any yet", false)]);
    let mut m = Map::new();
    m.insert(
        "/user_api/v1/account/password_reset/".into(),
        json!({"post": reset.clone()}),
    );
    m.insert(
        "/api/user/v1/account/password_reset/".into(),
        json!({"post": reset}),
    );
    m.insert("/oauth2/revoke_token/".into(), json!({"post": revoke}));
    m.insert("/api/mobile/v0.5/my_user_info".into(), json!({"get": get("The caller's id, username, e-mail and name", "accounts", json!([]),
        json!({"type": "object", "properties": {"id": {"type": "integer"}, "username": s, "email": s, "name": s, "course_enrollments": s}}))}));
    m.insert("/api/mobile/v0.5/users/{username}/course_enrollments/".into(), json!({"get": get("The caller's active enrollments (mobile API shape)", "enrollment",
        json!([p("username", "the caller's own username")]),
        json!({"type": "array", "items": {"type": "object", "properties": {"created": s, "mode": s, "is_active": {"type": "boolean"}, "course": {"type": "object"}, "certificate": {"type": "object"}}}}))}));
    let mut patch = get("Change the caller's own account (JSON merge patch); read-only fields are refused with field_errors", "accounts", json!([p("username", "the account")]), account.clone());
    patch["requestBody"] = json!({"required": true, "content": {"application/merge-patch+json": {"schema": {"type": "object"}}}});
    patch["responses"]["415"] = json!({"$ref": "#/components/responses/Error"});
    m.insert("/api/user/v1/accounts/{username}".into(), json!({
        "get": get("An account: in full for its owner and site staff, public fields for others", "accounts", json!([p("username", "the account")]), account),
        "patch": patch}));
    m.insert("/api/course_modes/v1/courses/{course_id}".into(), json!({"get": get("The enrollment modes a course offers (course team and site staff)", "enrollment",
        json!([p("course_id", "the course key")]),
        json!({"type": "array", "items": {"type": "object", "properties": {"course_id": s, "mode_slug": s, "mode_display_name": s, "min_price": {"type": "integer"}, "currency": s, "expiration_datetime": {"type": "string", "nullable": true}, "sku": {"type": "string", "nullable": true}}}}))}));
    m.insert("/api/enrollment/v1/enrollments".into(), json!({"get": get("Every enrollment (site staff), or one course's (its team); newest first, cursor-paginated", "enrollment",
        json!([q("course_id", "a course key", false), q("username", "comma-separated usernames (at most 100)", false), q("cursor", "from a next or previous link", false), q("page_size", "at most 100 (the default)", false)]),
        json!({"type": "object", "properties": {"next": {"type": "string", "nullable": true}, "previous": {"type": "string", "nullable": true}, "results": {"type": "array", "items": enrollment_item}}}))}));
    m.insert("/api/courses/v1/blocks/".into(), json!({"get": get("A course's blocks as one user sees them, Open edX's v1 blocks API", "courses", block_params,
        json!({"oneOf": [{"type": "object", "properties": {"root": s, "blocks": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Block"}}}}, {"type": "array", "items": {"$ref": "#/components/schemas/Block"}}]}))}));
    m
}
