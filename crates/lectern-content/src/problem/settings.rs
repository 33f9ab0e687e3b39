//! A problem's settings as Open edX reads them (`max_attempts`,
//! `showanswer`, `weight`, `rerandomize`, `due`, `graceperiod`, …) and the
//! decisions that follow: is the problem closed, may the learner see the
//! answer, which seed does the learner get, what is the weighted score.
//!
//! Values come in as the strings Open edX writes in OLX attributes and
//! policy files (already inherited down the tree by the caller): `""` and
//! `null` mean unset, `max_attempts=""` is unlimited, a grace period reads
//! like `"2 days 3 hours"`. Time is always handed in; nothing here reads a
//! clock.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// When the answer may be shown (`showanswer`; default `finished`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShowAnswer {
    Always,
    Answered,
    /// `attempted`: attempted or past due.
    Attempted,
    AttemptedNoPastDue,
    Closed,
    Finished,
    CorrectOrPastDue,
    PastDue,
    Never,
    /// `after_attempts`: after `attempts_before_showanswer_button` attempts.
    AfterAttempts,
    AfterAllAttempts,
    AfterAllAttemptsOrCorrect,
    /// An empty or unknown value: never shown, as in Open edX.
    Other(String),
}

impl ShowAnswer {
    pub fn parse(s: &str) -> Self {
        match s {
            "always" => Self::Always,
            "answered" => Self::Answered,
            "attempted" => Self::Attempted,
            "attempted_no_past_due" => Self::AttemptedNoPastDue,
            "closed" => Self::Closed,
            "finished" => Self::Finished,
            "correct_or_past_due" => Self::CorrectOrPastDue,
            "past_due" => Self::PastDue,
            "never" => Self::Never,
            "after_attempts" => Self::AfterAttempts,
            "after_all_attempts" => Self::AfterAllAttempts,
            "after_all_attempts_or_correct" => Self::AfterAllAttemptsOrCorrect,
            other => Self::Other(other.to_string()),
        }
    }
}

/// When a learner gets a new seed (`rerandomize`; default `never`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rerandomize {
    Never,
    Always,
    OnReset,
    PerStudent,
}

impl Rerandomize {
    /// Open edX's reading: `""` and `"true"` are `always`, `"false"` is
    /// `per_student`; an unknown value behaves like `always`.
    pub fn parse(s: &str) -> Self {
        match s {
            "never" => Self::Never,
            "onreset" => Self::OnReset,
            "per_student" | "false" => Self::PerStudent,
            _ => Self::Always,
        }
    }
}

/// Whether correctness (marks, score) may be shown (`show_correctness`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowCorrectness {
    Always,
    Never,
    /// Hidden like `Never`, but the hidden scores count in the course grade
    /// the learner sees.
    NeverButIncludeGrade,
    PastDue,
}

/// The settings that decide attempts, answers and scores.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemSettings {
    /// `None` = unlimited.
    pub max_attempts: Option<u32>,
    pub showanswer: ShowAnswer,
    pub attempts_before_showanswer_button: u32,
    /// `None` = the raw score counts as is.
    pub weight: Option<f64>,
    pub rerandomize: Rerandomize,
    pub show_correctness: ShowCorrectness,
    pub due: Option<DateTime<Utc>>,
    pub graceperiod: Option<Duration>,
    /// Used as the due date when `due` is unset (Open edX does this too).
    pub course_end: Option<DateTime<Utc>>,
}

impl Default for ProblemSettings {
    fn default() -> Self {
        Self {
            max_attempts: None,
            showanswer: ShowAnswer::Finished,
            attempts_before_showanswer_button: 0,
            weight: None,
            rerandomize: Rerandomize::Never,
            show_correctness: ShowCorrectness::Always,
            due: None,
            graceperiod: None,
            course_end: None,
        }
    }
}

/// A setting whose value cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {field} has an invalid value {value:?}: {expected}")]
pub struct SettingsError {
    pub field: String,
    pub value: String,
    pub expected: &'static str,
}

/// What the learner has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttemptState {
    /// Graded submissions (refused ones do not count).
    pub attempts: u32,
    /// The current score is full marks.
    pub is_correct: bool,
    /// Has submitted at least once, even if the count was reset since.
    pub ever_attempted: bool,
    /// Course staff see answers unless `showanswer` is `never`.
    pub staff: bool,
}

impl ProblemSettings {
    /// Reads settings from field strings (OLX attribute or policy values,
    /// already inherited). Unknown fields are ignored; absent ones default.
    pub fn from_fields(fields: &BTreeMap<String, String>) -> Result<Self, SettingsError> {
        let get = |k: &str| {
            fields
                .get(k)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty() && *v != "null")
        };
        let err = |field: &str, value: &str, expected| SettingsError {
            field: field.into(),
            value: value.into(),
            expected,
        };
        let mut s = Self::default();
        if let Some(v) = get("max_attempts") {
            s.max_attempts = Some(
                v.parse()
                    .map_err(|_| err("max_attempts", v, "a whole number or empty"))?,
            );
        }
        if let Some(v) = fields.get("showanswer") {
            s.showanswer = ShowAnswer::parse(v.trim());
        }
        if let Some(v) = get("attempts_before_showanswer_button") {
            s.attempts_before_showanswer_button = v
                .parse()
                .map_err(|_| err("attempts_before_showanswer_button", v, "a whole number"))?;
        }
        if let Some(v) = get("weight") {
            let w: f64 = v.parse().map_err(|_| err("weight", v, "a number"))?;
            if !w.is_finite() || w < 0.0 {
                return Err(err("weight", v, "a number at least 0"));
            }
            s.weight = Some(w);
        }
        if let Some(v) = fields.get("rerandomize") {
            s.rerandomize = Rerandomize::parse(v.trim());
        }
        if let Some(v) = get("show_correctness") {
            s.show_correctness = match v {
                "never" => ShowCorrectness::Never,
                "never_but_include_grade" => ShowCorrectness::NeverButIncludeGrade,
                "past_due" => ShowCorrectness::PastDue,
                _ => ShowCorrectness::Always,
            };
        }
        if let Some(v) = get("due") {
            s.due = Some(
                parse_date(v)
                    .ok_or_else(|| err("due", v, "a date such as 2030-01-31T23:59:00Z"))?,
            );
        }
        if let Some(v) = get("graceperiod") {
            s.graceperiod = parse_graceperiod(v);
        }
        Ok(s)
    }

    /// The moment submissions close: due (or course end) plus grace period.
    pub fn close_date(&self) -> Option<DateTime<Utc>> {
        let due = self.due.or(self.course_end)?;
        Some(self.graceperiod.map_or(due, |g| due + g))
    }

    pub fn is_past_due(&self, now: DateTime<Utc>) -> bool {
        self.close_date().is_some_and(|c| now > c)
    }

    pub fn used_all_attempts(&self, attempts: u32) -> bool {
        self.max_attempts.is_some_and(|m| attempts >= m)
    }

    /// No more submissions: attempts used up or past due.
    pub fn is_closed(&self, attempts: u32, now: DateTime<Utc>) -> bool {
        self.used_all_attempts(attempts) || self.is_past_due(now)
    }

    /// Whether marks, messages and the score may be shown now: the one rule
    /// every surface (check response, problem API, submission history, the
    /// page, the progress page and grades) asks. As in Open edX: `never`
    /// hides them from everyone, staff included; otherwise staff see them;
    /// `past_due` shows them once the problem has closed (due date plus
    /// grace period, or the course end) or when it has no due date.
    pub fn correctness_available(&self, staff: bool, now: DateTime<Utc>) -> bool {
        match self.show_correctness {
            ShowCorrectness::Never | ShowCorrectness::NeverButIncludeGrade => false,
            _ if staff => true,
            ShowCorrectness::PastDue => self.close_date().is_none_or(|c| c < now),
            ShowCorrectness::Always => true,
        }
    }

    /// Whether a score hidden by [`Self::correctness_available`] still counts
    /// in the course grade the learner is shown (`never_but_include_grade`).
    pub fn hidden_score_counts(&self) -> bool {
        self.show_correctness == ShowCorrectness::NeverButIncludeGrade
    }

    /// Whether the learner may see the answer now, for every `showanswer`.
    pub fn answer_available(&self, state: &AttemptState, now: DateTime<Utc>) -> bool {
        if !self.correctness_available(state.staff, now) {
            return false;
        }
        if matches!(self.showanswer, ShowAnswer::Never | ShowAnswer::Other(_)) {
            return false;
        }
        if state.staff {
            return true;
        }
        let attempted = state.attempts > 0 || state.ever_attempted;
        let past_due = self.is_past_due(now);
        let closed = self.is_closed(state.attempts, now);
        let all_used = self.used_all_attempts(state.attempts);
        match self.showanswer {
            ShowAnswer::Always => true,
            ShowAnswer::Attempted => attempted || past_due,
            ShowAnswer::AttemptedNoPastDue => attempted,
            ShowAnswer::Answered => state.is_correct,
            ShowAnswer::Closed => closed,
            ShowAnswer::Finished => closed || state.is_correct,
            ShowAnswer::CorrectOrPastDue => state.is_correct || past_due,
            ShowAnswer::PastDue => past_due,
            ShowAnswer::AfterAttempts => {
                let mut required = self.attempts_before_showanswer_button;
                if let Some(m) = self.max_attempts.filter(|m| *m > 0) {
                    required = required.min(m);
                }
                state.attempts >= required
            }
            ShowAnswer::AfterAllAttempts => all_used,
            ShowAnswer::AfterAllAttemptsOrCorrect => all_used || state.is_correct,
            ShowAnswer::Never | ShowAnswer::Other(_) => false,
        }
    }
}

/// Open edX's grace period format: `"<D> day[s] <H> hour[s] <M> minute[s]
/// <S> second[s]"`, every part optional; anything else is no grace period.
pub fn parse_graceperiod(s: &str) -> Option<Duration> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = RE
        .get_or_init(|| {
            regex::Regex::new(
                r"^((?P<days>\d+?) day(?:s?))?(\s)?((?P<hours>\d+?) hour(?:s?))?(\s)?((?P<minutes>\d+?) minute(?:s)?)?(\s)?((?P<seconds>\d+?) second(?:s)?)?$",
            )
            .ok()
        })
        .as_ref()?;
    let caps = re.captures(s)?;
    let n = |name: &str| {
        caps.name(name)
            .and_then(|m| m.as_str().parse::<i64>().ok())
            .unwrap_or(0)
    };
    Some(
        Duration::days(n("days"))
            + Duration::hours(n("hours"))
            + Duration::minutes(n("minutes"))
            + Duration::seconds(n("seconds")),
    )
}

/// A due date as Open edX stores them: RFC 3339 (`2030-01-31T23:59:00Z`,
/// `+00:00`), or a naive date and time (UTC), or a bare date.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim().trim_matches('"');
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return Some(Utc.from_utc_datetime(&n));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| Utc.from_utc_datetime(&n))
}

/// The seed a learner's problem uses: `never` → 1 (Open edX's fixed seed);
/// `per_student` → Open edX's randomization bin (0–19) from the user id and
/// usage key; `always`/`onreset` → a value in 0–999 that changes with each
/// reset (Open edX draws it at random; Lectern derives it so it can be
/// recomputed).
pub fn seed_for(rerandomize: Rerandomize, user_id: i64, usage_key: &str, reset_count: u32) -> u64 {
    match rerandomize {
        Rerandomize::Never => 1,
        // Open edX hashes `str(usage_key.encode("utf-8"))`, which in
        // Python 3 is the bytes' repr: `b'block-v1:…'`.
        Rerandomize::PerStudent => randomization_bin(user_id, &python_bytes_repr(usage_key)),
        Rerandomize::Always | Rerandomize::OnReset => {
            let mut h = Sha256::new();
            h.update(format!("{user_id}|{usage_key}|{reset_count}").as_bytes());
            let d = h.finalize();
            u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]) % 1000
        }
    }
}

/// Open edX's `randomization_bin`: the first 7 hex digits of
/// sha256(str(user_id) + usage_key), modulo 20.
pub fn randomization_bin(user_id: i64, usage_key: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(user_id.to_string().as_bytes());
    h.update(usage_key.as_bytes());
    let hex = hex::encode(h.finalize());
    u64::from_str_radix(&hex[..7], 16).unwrap_or(0) % 20
}

/// Python 3's `str()` of a string's UTF-8 bytes: `b'…'` with `\\`, `'`,
/// control and non-ASCII bytes escaped as Python writes them.
fn python_bytes_repr(s: &str) -> String {
    // Python quotes with `"` when the bytes hold a `'` and no `"`.
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' if quote == '\'' => out.push_str("\\'"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}

/// Open edX's weighted score: with a weight and a possible above 0,
/// earned × weight / possible out of weight; otherwise the raw score.
pub fn weighted_score(raw_earned: f64, raw_possible: f64, weight: Option<f64>) -> (f64, f64) {
    match weight {
        Some(w) if raw_possible != 0.0 => (raw_earned * w / raw_possible, w),
        _ => (raw_earned, raw_possible),
    }
}

#[cfg(test)]
mod tests;
