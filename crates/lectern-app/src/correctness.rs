//! What a learner may know of a grading. `show_correctness` (always, never,
//! past_due, never_but_include_grade) can hide whether answers were right:
//! the marks, the messages tied to them, the points earned and, through
//! them, the grades. Grading itself always happens and is stored in full;
//! every surface that shows a result to a learner goes through the views
//! here, which ask the one rule, `ProblemSettings::correctness_available`
//! (computed once per request into `ProblemView::correctness_available`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::model::Submission;
use crate::problems::ProblemView;

/// What Open edX says after a check whose correctness is hidden.
pub const SUBMITTED: &str = "Answer submitted.";

/// A stored correct map with every input's correctness and message replaced
/// by `submitted`, keeping only which inputs were graded.
pub fn hide_correct_map(map: &Value) -> Value {
    let hidden: Map<String, Value> = map
        .as_object()
        .map(|m| {
            m.keys()
                .map(|k| (k.clone(), json!({"correctness": "submitted", "msg": ""})))
                .collect()
        })
        .unwrap_or_default();
    Value::Object(hidden)
}

impl ProblemView {
    /// The last grading's correct map as this learner may see it now.
    pub fn visible_correct_map(&self) -> Value {
        if self.correctness_available {
            self.state.correct_map.clone()
        } else {
            hide_correct_map(&self.state.correct_map)
        }
    }

    /// The points earned, or `None` while correctness is hidden.
    pub fn visible_earned(&self) -> Option<f64> {
        self.correctness_available.then_some(self.state.earned)
    }

    /// The notice after a check: how the last submission did, or only that
    /// it was submitted; `None` before any submission.
    pub fn notification(&self) -> Option<&'static str> {
        if !self.state.ever_attempted || self.state.attempts == 0 {
            return None;
        }
        Some(if !self.correctness_available {
            SUBMITTED
        } else if self.state.is_correct {
            "Correct"
        } else if self.state.earned > 0.0 {
            "Partially correct"
        } else {
            "Incorrect"
        })
    }
}

/// One past submission as the learner may see it now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubmissionView {
    pub usage_key: String,
    pub attempt: u32,
    pub answers: Value,
    pub correct_map: Value,
    /// `None` while correctness is hidden.
    pub earned: Option<f64>,
    pub possible: f64,
    pub correctness_hidden: bool,
    pub created_at: DateTime<Utc>,
    /// The `Idempotency-Key` the check was sent with (`null` without one).
    pub idempotency_key: Option<String>,
}

impl SubmissionView {
    pub fn new(s: Submission, correctness_available: bool) -> Self {
        Self {
            usage_key: s.usage_key.to_string(),
            attempt: s.attempt,
            answers: s.answers,
            correct_map: if correctness_available {
                s.correct_map
            } else {
                hide_correct_map(&s.correct_map)
            },
            earned: correctness_available.then_some(s.earned),
            possible: s.possible,
            correctness_hidden: !correctness_available,
            created_at: s.created_at,
            idempotency_key: s.idempotency_key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_maps_keep_only_the_inputs() {
        let map = json!({"p_2_1": {"correctness": "correct", "npoints": 1.0, "msg": "Well done"}});
        let hidden = hide_correct_map(&map);
        assert_eq!(
            hidden,
            json!({"p_2_1": {"correctness": "submitted", "msg": ""}})
        );
        assert_eq!(hide_correct_map(&json!(null)), json!({}));
    }
}
