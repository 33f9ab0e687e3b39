//! Policy files: `policies/RUN/policy.json` (settings keyed `"TYPE/URL_NAME"`
//! that override XML attributes; `"course/RUN"` holds the course's) and
//! `policies/RUN/grading_policy.json`.
//!
//! Settings are kept as text (see `tree.rs`): a JSON string as itself, any
//! other JSON value as its compact JSON text. The course's own policy object
//! is also kept whole in `CourseTree::policy`, so export writes the same JSON
//! types back; a course setting edited since import wins over that copy.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::OlxError;
use crate::grader::GradingPolicy;
use crate::tree::CourseTree;

/// A policy value as setting text.
pub fn json_to_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Setting text back to JSON, in the same JSON type as `like` had.
pub fn text_to_json_like(text: &str, like: &Value) -> Value {
    match like {
        Value::String(_) => Value::String(text.to_string()),
        _ => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
    }
}

/// The contents of `policy.json`.
#[derive(Debug, Default)]
pub struct Policy {
    /// The `"course/RUN"` object.
    pub course: Map<String, Value>,
    /// Every other entry, keyed `"TYPE/URL_NAME"`.
    pub blocks: BTreeMap<String, Map<String, Value>>,
}

/// Reads `policy.json`; `run` picks the course's own entry.
pub fn read_policy(path: &str, bytes: &[u8], run: &str) -> Result<Policy, OlxError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| OlxError::invalid(path, format!("not valid JSON: {e}")))?;
    let Value::Object(top) = value else {
        return Err(OlxError::invalid(
            path,
            "expected a JSON object of \"TYPE/URL_NAME\": {settings}",
        ));
    };
    let mut out = Policy::default();
    let course_key = format!("course/{run}");
    for (key, v) in top {
        let Value::Object(settings) = v else {
            return Err(OlxError::invalid(
                path,
                format!("the entry {key:?} is not a JSON object"),
            ));
        };
        if key == course_key {
            out.course = settings;
        } else {
            out.blocks.insert(key, settings);
        }
    }
    Ok(out)
}

/// Reads `grading_policy.json` (with the grader's own reader, which is as
/// lenient as Open edX); unknown top-level keys are reported.
pub fn read_grading(
    path: &str,
    bytes: &[u8],
    warnings: &mut Vec<String>,
) -> Result<GradingPolicy, OlxError> {
    let text = std::str::from_utf8(bytes).map_err(|_| OlxError::invalid(path, "not UTF-8 text"))?;
    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(text) {
        for k in m
            .keys()
            .filter(|k| !matches!(k.as_str(), "GRADER" | "GRADE_CUTOFFS"))
        {
            warnings.push(format!(
                "{path}: the setting {k:?} is not used by Lectern and is not exported"
            ));
        }
    }
    GradingPolicy::from_json(text).map_err(|e| OlxError::invalid(path, e.to_string()))
}

/// The `"course/RUN"` object to export: the imported one, with settings
/// edited on the course block since then taking their new value (and
/// settings removed from the block removed).
pub fn course_policy_for_export(tree: &CourseTree) -> Map<String, Value> {
    let mut out = Map::new();
    let root = tree.root();
    for (k, v) in &tree.policy {
        let current = match root {
            Some(r) if k == "display_name" => r.display_name.clone(),
            Some(r) => r.fields.get(k).cloned(),
            None => None,
        };
        match current {
            None => {}
            Some(t) if t == json_to_text(v) => {
                out.insert(k.clone(), v.clone());
            }
            Some(t) => {
                out.insert(k.clone(), text_to_json_like(&t, v));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_become_text_and_back() {
        let cases = [
            (json!("2030-01-01T00:00:00Z"), "2030-01-01T00:00:00Z"),
            (json!(true), "true"),
            (json!(0.8), "0.8"),
            (json!(["a", "b"]), r#"["a","b"]"#),
            (json!({"x": 1}), r#"{"x":1}"#),
            (json!(null), "null"),
            (json!(""), ""),
        ];
        for (v, text) in cases {
            assert_eq!(json_to_text(&v), text);
            assert_eq!(text_to_json_like(text, &v), v);
        }
    }

    #[test]
    fn policy_splits_course_and_block_entries() {
        let src =
            br#"{"course/run1": {"start": "2020-01-01T00:00:00Z"}, "chapter/c1": {"due": "x"}}"#;
        let p = read_policy("policies/run1/policy.json", src, "run1").unwrap();
        assert_eq!(p.course.get("start"), Some(&json!("2020-01-01T00:00:00Z")));
        assert_eq!(p.blocks["chapter/c1"].get("due"), Some(&json!("x")));
        let bad = read_policy("policies/run1/policy.json", b"[1]", "run1").unwrap_err();
        assert!(bad
            .to_string()
            .starts_with("policies/run1/policy.json: expected a JSON object"));
        let bad = read_policy("policies/run1/policy.json", b"{\"a\": 1}", "run1").unwrap_err();
        assert!(bad
            .to_string()
            .contains("the entry \"a\" is not a JSON object"));
    }

    #[test]
    fn grading_policy_reads_numbers_and_reports_unknown_keys() {
        let src =
            br#"{"GRADER": [{"type": "Homework", "min_count": 12, "drop_count": 2, "weight": 1}],
                       "GRADE_CUTOFFS": {"Pass": 0.5}, "EXTRA": 1}"#;
        let mut w = Vec::new();
        let g = read_grading("g.json", src, &mut w).unwrap();
        assert_eq!(g.graders[0].min_count, 12);
        assert_eq!(g.graders[0].drop_count, 2);
        assert_eq!(g.graders[0].weight, 1.0);
        assert_eq!(g.grade_cutoffs["Pass"], 0.5);
        assert_eq!(w.len(), 1);
        assert!(read_grading("g.json", br#"{"GRADER": 3}"#, &mut w).is_err());
    }
}
