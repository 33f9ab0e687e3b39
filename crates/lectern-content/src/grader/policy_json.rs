//! Reading and writing `policies/RUN/grading_policy.json`.
//!
//! Lenient where Open edX is: numbers may be given as strings (`"0.15"`,
//! `"12"`), `min_count`, `drop_count` and `weight` default to 0, `short_label`
//! is optional, a missing `GRADER` or `GRADE_CUTOFFS` falls back to Open edX's
//! default, and unknown keys are ignored. Strict where a wrong value would
//! silently change grades: negative or non-numeric counts, weights and
//! cutoffs are errors naming the field.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{AssignmentType, GradingPolicy};

/// Why a `grading_policy.json` was refused.
#[derive(Debug, thiserror::Error)]
pub enum GradingPolicyError {
    #[error("grading policy is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("grading policy field {field} must be {expected}, found {found}")]
    WrongType {
        field: String,
        expected: &'static str,
        found: String,
    },
    #[error("grading policy field {field} is required")]
    Missing { field: String },
    #[error("grading policy field {field} must be a number, found {value:?}")]
    NotANumber { field: String, value: String },
    #[error("grading policy field {field} must not be negative, found {value}")]
    Negative { field: String, value: f64 },
    #[error("grading policy field {field} must be a whole number, found {value}")]
    NotWhole { field: String, value: f64 },
    #[error("grading policy field {field} is too large: {value}")]
    TooLarge { field: String, value: f64 },
}

impl GradingPolicy {
    /// Parses `grading_policy.json` as Open edX reads it.
    pub fn from_json(text: &str) -> Result<GradingPolicy, GradingPolicyError> {
        let root: Value = serde_json::from_str(text)?;
        let Value::Object(root) = root else {
            return Err(wrong_type("(top level)", "an object", &root));
        };
        let graders = match root.get("GRADER") {
            None | Some(Value::Null) => GradingPolicy::default_graders(),
            Some(Value::Array(items)) if items.len() > crate::limits::MAX_ASSIGNMENT_TYPES => {
                return Err(GradingPolicyError::TooLarge {
                    field: format!(
                        "GRADER (at most {} assignment types)",
                        crate::limits::MAX_ASSIGNMENT_TYPES
                    ),
                    value: items.len() as f64,
                })
            }
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_assignment_type(i, item))
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(wrong_type("GRADER", "a list", other)),
        };
        let grade_cutoffs = match root.get("GRADE_CUTOFFS") {
            None | Some(Value::Null) => GradingPolicy::default_grade_cutoffs(),
            Some(Value::Object(map)) => parse_cutoffs(map)?,
            Some(other) => return Err(wrong_type("GRADE_CUTOFFS", "an object", other)),
        };
        Ok(GradingPolicy {
            graders,
            grade_cutoffs,
        })
    }

    /// The policy as `grading_policy.json` text, keys sorted as Open edX
    /// exports them.
    pub fn to_json(&self) -> String {
        // Keys are inserted in sorted order so the output is sorted whether
        // or not serde_json's `preserve_order` feature is on.
        let graders: Vec<Value> = self
            .graders
            .iter()
            .map(|g| {
                let mut m = Map::new();
                m.insert("drop_count".into(), Value::from(g.drop_count));
                m.insert("min_count".into(), Value::from(g.min_count));
                if let Some(label) = &g.short_label {
                    m.insert("short_label".into(), Value::from(label.as_str()));
                }
                m.insert("type".into(), Value::from(g.assignment_type.as_str()));
                m.insert("weight".into(), Value::from(g.weight));
                Value::Object(m)
            })
            .collect();
        let cutoffs: Map<String, Value> = self
            .grade_cutoffs
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(*v)))
            .collect();
        let mut root = Map::new();
        root.insert("GRADER".into(), Value::Array(graders));
        root.insert("GRADE_CUTOFFS".into(), Value::Object(cutoffs));
        format!("{:#}", Value::Object(root))
    }
}

fn parse_assignment_type(index: usize, item: &Value) -> Result<AssignmentType, GradingPolicyError> {
    let at = format!("GRADER[{index}]");
    let Value::Object(map) = item else {
        return Err(wrong_type(&at, "an object", item));
    };
    let field = |name: &str| format!("{at}.{name}");
    let assignment_type = match map.get("type") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            return Err(GradingPolicyError::Missing {
                field: field("type"),
            })
        }
        Some(other) => return Err(wrong_type(&field("type"), "a string", other)),
    };
    let short_label = match map.get("short_label") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(wrong_type(&field("short_label"), "a string", other)),
    };
    // Open edX reads min_count as int(float(x)), so 12.7 counts as 12;
    // drop_count is used as-is and must be a whole number there.
    let min_count = match optional_number(map, "min_count", &field("min_count"))? {
        Some(n) => count(&field("min_count"), n.trunc())?,
        None => 0,
    };
    let max = crate::limits::MAX_ASSIGNMENT_MIN_COUNT;
    if min_count > max {
        return Err(GradingPolicyError::TooLarge {
            field: format!("{} (at most {max})", field("min_count")),
            value: f64::from(min_count),
        });
    }
    let drop_count = match optional_number(map, "drop_count", &field("drop_count"))? {
        Some(n) if n.fract() != 0.0 => {
            return Err(GradingPolicyError::NotWhole {
                field: field("drop_count"),
                value: n,
            })
        }
        Some(n) => count(&field("drop_count"), n)?,
        None => 0,
    };
    let weight = optional_number(map, "weight", &field("weight"))?.unwrap_or(0.0);
    Ok(AssignmentType {
        assignment_type,
        min_count,
        drop_count,
        weight,
        short_label,
    })
}

fn parse_cutoffs(map: &Map<String, Value>) -> Result<BTreeMap<String, f64>, GradingPolicyError> {
    map.iter()
        .map(|(name, value)| {
            let field = format!("GRADE_CUTOFFS[{name:?}]");
            Ok((name.clone(), number(&field, value)?))
        })
        .collect()
}

/// A non-negative finite number from a JSON number or a numeric string;
/// absent or `null` gives `None`.
fn optional_number(
    map: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<f64>, GradingPolicyError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => number(field, value).map(Some),
    }
}

fn number(field: &str, value: &Value) -> Result<f64, GradingPolicyError> {
    let n = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        other => return Err(wrong_type(field, "a number", other)),
    };
    let not_a_number = || GradingPolicyError::NotANumber {
        field: field.to_string(),
        value: value_text(value),
    };
    let n = n.ok_or_else(not_a_number)?;
    if !n.is_finite() {
        return Err(not_a_number());
    }
    if n < 0.0 {
        return Err(GradingPolicyError::Negative {
            field: field.to_string(),
            value: n,
        });
    }
    // -0.0 passes the check above; store it as 0.
    Ok(n + 0.0)
}

fn count(field: &str, n: f64) -> Result<u32, GradingPolicyError> {
    if n > f64::from(u32::MAX) {
        return Err(GradingPolicyError::TooLarge {
            field: field.to_string(),
            value: n,
        });
    }
    // In range, whole and non-negative (checked by the callers), so exact.
    Ok(n as u32)
}

fn wrong_type(field: &str, expected: &'static str, found: &Value) -> GradingPolicyError {
    GradingPolicyError::WrongType {
        field: field.to_string(),
        expected,
        found: value_text(found),
    }
}

/// A short rendering of an offending value for error messages.
fn value_text(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.chars().take(80).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn grader(ty: &str, min: u32, drop: u32, weight: f64, label: Option<&str>) -> AssignmentType {
        AssignmentType {
            assignment_type: ty.into(),
            min_count: min,
            drop_count: drop,
            weight,
            short_label: label.map(str::to_string),
        }
    }

    #[test]
    fn lenient_values_are_read_as_open_edx_reads_them() {
        // (JSON of one GRADER entry, expected entry)
        let cases = [
            (
                r#"{"type": "Homework", "min_count": 12, "drop_count": 2, "weight": 0.15, "short_label": "HW"}"#,
                grader("Homework", 12, 2, 0.15, Some("HW")),
            ),
            (
                r#"{"type": "Homework", "min_count": "12", "drop_count": "2", "weight": "0.15"}"#,
                grader("Homework", 12, 2, 0.15, None),
            ),
            (r#"{"type": "Lab"}"#, grader("Lab", 0, 0, 0.0, None)),
            (
                r#"{"type": "Lab", "min_count": null, "weight": null, "short_label": null}"#,
                grader("Lab", 0, 0, 0.0, None),
            ),
            (
                r#"{"type": "Lab", "min_count": 12.7, "drop_count": 2.0}"#,
                grader("Lab", 12, 2, 0.0, None),
            ),
            (
                r#"{"type": "Lab", "min_count": " 3 ", "weight": "1e-1"}"#,
                grader("Lab", 3, 0, 0.1, None),
            ),
            (
                r#"{"type": "Exam", "weight": 1.5, "short_label": ""}"#,
                grader("Exam", 0, 0, 1.5, Some("")),
            ),
            (
                r#"{"type": "Exam", "category": "x", "starting_index": 3, "weight": 0}"#,
                grader("Exam", 0, 0, 0.0, None),
            ),
        ];
        for (entry, want) in cases {
            let text = format!(r#"{{"GRADER": [{entry}], "GRADE_CUTOFFS": {{}}}}"#);
            let policy = GradingPolicy::from_json(&text).unwrap_or_else(|e| panic!("{entry}: {e}"));
            assert_eq!(policy.graders, vec![want], "{entry}");
            assert!(policy.grade_cutoffs.is_empty());
        }
    }

    #[test]
    fn cutoffs_accept_numbers_and_numeric_strings() {
        let policy = GradingPolicy::from_json(
            r#"{"GRADER": [], "GRADE_CUTOFFS": {"A": 0.9, "B": "0.8", "C": 0.7, "F": 0}}"#,
        )
        .unwrap();
        let want: BTreeMap<String, f64> = [("A", 0.9), ("B", 0.8), ("C", 0.7), ("F", 0.0)]
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        assert_eq!(policy.grade_cutoffs, want);
        assert!(
            policy.graders.is_empty(),
            "an explicit empty GRADER stays empty"
        );
    }

    #[test]
    fn missing_sections_fall_back_to_open_edx_defaults() {
        let cases = [
            ("{}", true, true),
            (r#"{"GRADER": null, "GRADE_CUTOFFS": null}"#, true, true),
            (r#"{"GRADE_CUTOFFS": {"A": 0.9}}"#, true, false),
            (r#"{"GRADER": [{"type": "X", "weight": 1}]}"#, false, true),
        ];
        for (text, default_graders, default_cutoffs) in cases {
            let policy = GradingPolicy::from_json(text).unwrap();
            assert_eq!(
                policy.graders == GradingPolicy::default_graders(),
                default_graders,
                "{text}"
            );
            assert_eq!(
                policy.grade_cutoffs == BTreeMap::from([("Pass".to_string(), 0.5)]),
                default_cutoffs,
                "{text}"
            );
        }
        let defaults = GradingPolicy::from_json("{}").unwrap().graders;
        let summary: Vec<(&str, u32, u32, f64, &str)> = defaults
            .iter()
            .map(|g| {
                (
                    g.assignment_type.as_str(),
                    g.min_count,
                    g.drop_count,
                    g.weight,
                    g.effective_short_label(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("Homework", 12, 2, 0.15, "HW"),
                ("Lab", 12, 2, 0.15, "Lab"),
                ("Midterm Exam", 1, 0, 0.3, "Midterm"),
                ("Final Exam", 1, 0, 0.4, "Final"),
            ]
        );
    }

    #[test]
    fn bad_values_are_errors_naming_the_field() {
        // (policy text, words the message must contain)
        let cases: &[(&str, &[&str])] = &[
            (
                r#"{"GRADER": [{"type": "HW", "weight": -0.1}]}"#,
                &["GRADER[0].weight", "negative", "-0.1"],
            ),
            (
                r#"{"GRADER": [{"type": "HW", "min_count": -1}]}"#,
                &["GRADER[0].min_count", "negative"],
            ),
            (
                r#"{"GRADER": [{"type": "A"}, {"type": "HW", "drop_count": "-2"}]}"#,
                &["GRADER[1].drop_count", "negative"],
            ),
            (
                r#"{"GRADER": [{"type": "HW", "weight": "abc"}]}"#,
                &["GRADER[0].weight", "number", "abc"],
            ),
            (
                r#"{"GRADER": [{"type": "HW", "weight": "NaN"}]}"#,
                &["GRADER[0].weight", "number"],
            ),
            (
                r#"{"GRADER": [{"type": "HW", "weight": "inf"}]}"#,
                &["GRADER[0].weight", "number"],
            ),
            (
                r#"{"GRADER": [{"type": "HW", "weight": true}]}"#,
                &["GRADER[0].weight", "a number", "true"],
            ),
            (
                r#"{"GRADER": [{"type": "HW", "min_count": [1]}]}"#,
                &["GRADER[0].min_count", "a number"],
            ),
            (
                r#"{"GRADER": [{"type": "HW", "drop_count": 1.5}]}"#,
                &["GRADER[0].drop_count", "whole", "1.5"],
            ),
            (
                r#"{"GRADER": [{"type": "HW", "min_count": 1e12}]}"#,
                &["GRADER[0].min_count", "too large"],
            ),
            (
                // Within u32, but every grade would pad a billion entries.
                r#"{"GRADER": [{"type": "HW", "min_count": 1000000000}]}"#,
                &["GRADER[0].min_count", "too large", "at most 1000"],
            ),
            (
                r#"{"GRADER": [{"weight": 1}]}"#,
                &["GRADER[0].type", "required"],
            ),
            (
                r#"{"GRADER": [{"type": 3}]}"#,
                &["GRADER[0].type", "a string"],
            ),
            (
                r#"{"GRADER": [{"type": "HW", "short_label": 3}]}"#,
                &["GRADER[0].short_label", "a string"],
            ),
            (r#"{"GRADER": ["HW"]}"#, &["GRADER[0]", "an object"]),
            (r#"{"GRADER": {"type": "HW"}}"#, &["GRADER", "a list"]),
            (
                r#"{"GRADE_CUTOFFS": [0.5]}"#,
                &["GRADE_CUTOFFS", "an object"],
            ),
            (
                r#"{"GRADE_CUTOFFS": {"Pass": "half"}}"#,
                &["GRADE_CUTOFFS[\"Pass\"]", "number", "half"],
            ),
            (
                r#"{"GRADE_CUTOFFS": {"Pass": -0.5}}"#,
                &["GRADE_CUTOFFS[\"Pass\"]", "negative"],
            ),
            (r#"[1, 2]"#, &["top level", "an object"]),
            (r#"{"GRADER": ["#, &["not valid JSON"]),
        ];
        let many_types = format!(r#"{{"GRADER": [{}]}}"#, [r#"{"type": "T"}"#; 101].join(","));
        let cases: Vec<(&str, &[&str])> = cases
            .iter()
            .copied()
            .chain([(many_types.as_str(), &["GRADER", "at most 100", "101"][..])])
            .collect();
        for (text, words) in cases {
            let err = match GradingPolicy::from_json(text) {
                Ok(p) => panic!("{text} should be refused, got {p:?}"),
                Err(e) => e.to_string(),
            };
            for word in words {
                assert!(err.contains(word), "{text}: message {err:?} lacks {word:?}");
            }
        }
    }

    #[test]
    fn to_json_sorts_keys_and_round_trips() {
        let policy = GradingPolicy {
            graders: vec![
                grader("Homework", 12, 2, 0.15, Some("HW")),
                grader("Lab", 3, 0, 0.25, None),
            ],
            grade_cutoffs: [("B", 0.7), ("A", 0.85)]
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
        };
        let text = policy.to_json();
        let want = r#"{
  "GRADER": [
    {
      "drop_count": 2,
      "min_count": 12,
      "short_label": "HW",
      "type": "Homework",
      "weight": 0.15
    },
    {
      "drop_count": 0,
      "min_count": 3,
      "type": "Lab",
      "weight": 0.25
    }
  ],
  "GRADE_CUTOFFS": {
    "A": 0.85,
    "B": 0.7
  }
}"#;
        assert_eq!(text, want);
        assert_eq!(GradingPolicy::from_json(&text).unwrap(), policy);
        let default = GradingPolicy::default();
        assert_eq!(
            GradingPolicy::from_json(&default.to_json()).unwrap(),
            default
        );
    }
}
