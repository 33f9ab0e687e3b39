//! The enrolment list and the answer distribution, written from the same
//! consistent read of learners as the grade reports.
//!
//! Enrolment list (Open edX's "profile information" CSV): one row per
//! learner ever enrolled, with the profile fields Lectern keeps.
//!
//! Answer distribution (the shape of Open edX's answer distribution CSV):
//! per problem input, each distinct last-submitted answer with how many
//! learners gave it and whether it was graded correct. Counting needs a
//! table over all learners, so it is bounded: at most
//! [`MAX_VALUES_PER_INPUT`] distinct answers per input (the rest counted
//! together as [`OTHER_ANSWERS`]) and answers cut to [`MAX_ANSWER_CHARS`].

use std::collections::HashMap;

use async_trait::async_trait;

use super::csv::ReportWriter;
use super::store::{LearnerRecord, LearnerSink};
use crate::store::StoreResult;

pub const MAX_VALUES_PER_INPUT: usize = 1000;
pub const MAX_ANSWER_CHARS: usize = 500;
/// The answer value counting every answer past the per-input bound.
pub const OTHER_ANSWERS: &str = "(other answers)";

pub const ENROLLMENT_HEADER: [&str; 15] = [
    "id",
    "username",
    "name",
    "email",
    "language",
    "year_of_birth",
    "gender",
    "level_of_education",
    "mailing_address",
    "goals",
    "country",
    "state",
    "enrollment_mode",
    "enrollment_date",
    "enrollment_status",
];

/// Writes the enrolment list.
pub struct EnrollmentSink {
    pub(super) writer: ReportWriter,
}

#[async_trait]
impl LearnerSink for EnrollmentSink {
    async fn page(&mut self, learners: Vec<LearnerRecord>) -> StoreResult<()> {
        for l in learners {
            let p = l.profile.unwrap_or_default();
            let opt = |v: Option<String>| v.unwrap_or_default();
            let row = [
                l.user.id.to_string(),
                l.user.username,
                l.user.name,
                l.user.email,
                opt(p.language),
                p.year_of_birth.map(|y| y.to_string()).unwrap_or_default(),
                opt(p.gender),
                opt(p.level_of_education),
                opt(p.mailing_address),
                opt(p.goals),
                opt(p.country),
                opt(p.state),
                l.enrollment.mode,
                l.enrollment
                    .created_at
                    .format("%Y-%m-%d %H:%M:%S+00:00")
                    .to_string(),
                super::grade_csv::enrollment_status(l.enrollment.is_active).to_string(),
            ];
            self.writer.row(&row).await?;
        }
        Ok(())
    }
}

pub const ANSWER_HEADER: [&str; 6] = [
    "ModuleID",
    "PartID",
    "Correct Answer",
    "Count",
    "AnswerValue",
    "Problem Display Name",
];

/// (value, graded correct) → learners.
type Values = HashMap<(String, bool), i64>;

/// Counts answers per (problem, input); written at the end.
#[derive(Default)]
pub struct AnswerCounts {
    /// usage key → input id → values.
    counts: HashMap<String, HashMap<String, Values>>,
}

/// An answer as one line of text: a list (checkboxes) joined with `|`.
fn answer_text(v: &serde_json::Value) -> String {
    let text = match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| match i {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("|"),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    text.chars().take(MAX_ANSWER_CHARS).collect()
}

impl AnswerCounts {
    pub fn add(&mut self, l: &LearnerRecord) {
        for s in l.states.iter().filter(|s| s.attempts > 0) {
            let Some(answers) = s.answers.as_object() else {
                continue;
            };
            let inputs = self.counts.entry(s.usage_key.to_string()).or_default();
            for (input, value) in answers {
                let correct =
                    s.correct_map[input.as_str()]["correctness"].as_str() == Some("correct");
                let values = inputs.entry(input.clone()).or_default();
                let mut key = (answer_text(value), correct);
                if !values.contains_key(&key) && values.len() >= MAX_VALUES_PER_INPUT {
                    key = (OTHER_ANSWERS.to_string(), false);
                }
                *values.entry(key).or_insert(0) += 1;
            }
        }
    }

    /// Writes the rows: problems in course order, inputs by id, answers
    /// by count (most first), then value.
    pub async fn write(
        self,
        problems: &[(String, String)],
        writer: &mut ReportWriter,
    ) -> StoreResult<()> {
        let mut counts = self.counts;
        for (usage, name) in problems {
            let Some(inputs) = counts.remove(usage) else {
                continue;
            };
            let mut inputs: Vec<(String, Values)> = inputs.into_iter().collect();
            inputs.sort_by(|a, b| a.0.cmp(&b.0));
            for (input, values) in inputs {
                let mut values: Vec<((String, bool), i64)> = values.into_iter().collect();
                values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                for ((value, correct), n) in values {
                    let row = [
                        usage.clone(),
                        input.clone(),
                        if correct { "1" } else { "0" }.to_string(),
                        n.to_string(),
                        value,
                        name.clone(),
                    ];
                    writer.row(&row).await?;
                }
            }
        }
        Ok(())
    }
}

/// Counts the answer distribution from pages of learners.
#[derive(Default)]
pub struct AnswerSink {
    pub(super) counts: AnswerCounts,
}

#[async_trait]
impl LearnerSink for AnswerSink {
    async fn page(&mut self, learners: Vec<LearnerRecord>) -> StoreResult<()> {
        for l in &learners {
            self.counts.add(l);
        }
        Ok(())
    }
}
