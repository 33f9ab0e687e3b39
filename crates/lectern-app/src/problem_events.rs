//! The tracking events of problems (`tracking.rs`): `problem_check`,
//! `problem_check_fail`, `save_problem_success`, `reset_problem` and
//! `showanswer`, with the `event` fields Open edX's server events carry
//! (`problem_id`, `answers`, `attempts`, `correct_map`, `grade`,
//! `max_grade`, `success`, `state` before the check).

use std::collections::BTreeMap;

use lectern_content::problem::Answer;
use lectern_content::UsageKey;
use serde_json::{json, Value};

use crate::model::{ProblemState, User};
use crate::problems::CheckOutcome;
use crate::tracking::Event;
use crate::Lectern;

impl Lectern {
    /// A problem event with `event` as given.
    pub(crate) fn track_problem(
        &self,
        user: &User,
        usage: &UsageKey,
        event_type: &str,
        event: Value,
    ) {
        self.track(Event {
            event_type,
            user: Some(user),
            course: Some(&usage.course),
            module: Some(usage),
            event,
        });
    }

    /// `problem_check`: a graded, stored check; `before` is the state the
    /// check started from, `after` the one stored.
    pub(crate) fn track_check(
        &self,
        user: &User,
        usage: &UsageKey,
        before: &ProblemState,
        after: &ProblemState,
        outcome: &CheckOutcome,
    ) {
        let success = if outcome.grading.is_correct() {
            "correct"
        } else {
            "incorrect"
        };
        let event = json!({
            "problem_id": usage.to_text(),
            "answers": after.answers,
            "attempts": outcome.attempts,
            "correct_map": after.correct_map,
            "grade": outcome.grading.raw_earned,
            "max_grade": outcome.grading.raw_possible,
            "success": success,
            "state": {
                "seed": outcome.view.seed,
                "done": before.ever_attempted,
                "student_answers": before.answers,
                "correct_map": before.correct_map,
            },
        });
        self.track_problem(user, usage, "problem_check", event);
    }

    /// `problem_check_fail`: a check refused before grading (`failure`:
    /// `closed` past the due date, `unreset` with no attempt left).
    pub(crate) fn track_check_failed(
        &self,
        user: &User,
        usage: &UsageKey,
        answers: &BTreeMap<String, Answer>,
        failure: &str,
    ) {
        let event = json!({
            "problem_id": usage.to_text(),
            "answers": serde_json::to_value(answers).unwrap_or(Value::Null),
            "failure": failure,
        });
        self.track_problem(user, usage, "problem_check_fail", event);
    }
}
