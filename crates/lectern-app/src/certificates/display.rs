//! When an issued certificate may be shown: Open edX's
//! `certificates_display_behavior` and `certificate_available_date`, read
//! from the course's settings and made consistent the way Open edX's course
//! overview does before anything asks them.
//!
//! A certificate is issued as soon as the learner passes; only showing it
//! waits. Until it may be shown, the learner's progress page and dashboard
//! say when it will be, the public verify page and its PDF are not found
//! (the course team sees a preview), and the certificate API's list leaves
//! it out (its detail answers as Open edX's does: see `openedx.rs`).

use chrono::{DateTime, Utc};
use lectern_content::CourseTree;

use crate::learning::parse_date;

pub const BEHAVIOR_SETTING: &str = "certificates_display_behavior";
pub const AVAILABLE_DATE_SETTING: &str = "certificate_available_date";
/// Open edX's older switch, still honoured there: show before the end.
pub const SHOW_BEFORE_END_SETTING: &str = "certificates_show_before_end";

/// Open edX's three display behaviours (Studio's wording in the comments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DisplayBehavior {
    /// "End date of course": shown once the course has ended (the default).
    #[default]
    End,
    /// "A date after the course end date": shown from
    /// `certificate_available_date`.
    EndWithDate,
    /// "Immediately upon passing".
    EarlyNoInfo,
}

impl DisplayBehavior {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::End => "end",
            Self::EndWithDate => "end_with_date",
            Self::EarlyNoInfo => "early_no_info",
        }
    }
}

/// What a course's settings say about when its certificates are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CertificateDisplay {
    pub behavior: DisplayBehavior,
    /// Only with [`DisplayBehavior::EndWithDate`] (made so by [`Self::of`]).
    pub available_date: Option<DateTime<Utc>>,
    pub self_paced: bool,
    pub show_before_end: bool,
    pub course_end: Option<DateTime<Utc>>,
}

fn flag(text: Option<&str>) -> bool {
    text.is_some_and(|t| t.trim().trim_matches('"').eq_ignore_ascii_case("true"))
}

impl CertificateDisplay {
    /// The settings of `tree`'s course block, made consistent as Open edX
    /// does: `early_no_info` drops the date; a date with any other
    /// behaviour (or an unknown one) is `end_with_date`; `end_with_date`
    /// without a date, or anything unknown, is `end`.
    pub fn of(tree: &CourseTree) -> Self {
        let Some(root) = tree.root() else {
            return Self::default();
        };
        let text = |k: &str| root.field(k);
        let raw = text(BEHAVIOR_SETTING).map(|b| b.trim().trim_matches('"').to_ascii_lowercase());
        let date = text(AVAILABLE_DATE_SETTING).and_then(parse_date);
        let (behavior, available_date) = match (raw.as_deref(), date) {
            (Some("early_no_info"), _) => (DisplayBehavior::EarlyNoInfo, None),
            (_, Some(d)) => (DisplayBehavior::EndWithDate, Some(d)),
            _ => (DisplayBehavior::End, None),
        };
        Self {
            behavior,
            available_date,
            self_paced: flag(text("self_paced")),
            show_before_end: flag(text(SHOW_BEFORE_END_SETTING)),
            course_end: text("end").and_then(parse_date),
        }
    }

    /// Whether an issued certificate may be shown at `now` (Open edX's
    /// rule): self-paced courses, `early_no_info` and the old "show before
    /// end" at once; `end_with_date` once the date has passed; `end` once
    /// the course has ended (never, for a course without an end date).
    pub fn visible_at(&self, now: DateTime<Utc>) -> bool {
        if self.self_paced || self.show_before_end {
            return true;
        }
        match self.behavior {
            DisplayBehavior::EarlyNoInfo => true,
            DisplayBehavior::EndWithDate => self.available_date.is_some_and(|d| d < now),
            DisplayBehavior::End => self.course_end.is_some_and(|e| e < now),
        }
    }

    /// When a certificate not yet visible will be, if a date says so.
    pub fn shown_from(&self) -> Option<DateTime<Utc>> {
        match self.behavior {
            DisplayBehavior::EndWithDate => self.available_date,
            DisplayBehavior::End => self.course_end,
            DisplayBehavior::EarlyNoInfo => None,
        }
    }

    /// The date printed on a certificate issued at `issued`: as Open edX,
    /// an instructor-paced course's available date once it has passed,
    /// otherwise the day it was issued.
    pub fn printed_date(&self, issued: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.available_date {
            Some(d) if !self.self_paced && d < now => d,
            _ => issued,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_content::{Block, CourseKey};

    fn tree(fields: &[(&str, &str)]) -> CourseTree {
        let key: CourseKey = "course-v1:O+C+R".parse().unwrap_or_else(|_| unreachable!());
        let mut tree = CourseTree::new(key, "Course");
        let mut root = tree
            .root()
            .cloned()
            .unwrap_or_else(|| Block::new("course", "course"));
        for (k, v) in fields {
            root.fields.insert((*k).into(), (*v).into());
        }
        tree.blocks.insert(CourseTree::root_ref(), root);
        tree
    }

    const PAST: &str = "2020-01-01T00:00:00Z";
    const FUTURE: &str = "2099-01-01T00:00:00Z";

    fn at(s: &str) -> DateTime<Utc> {
        parse_date(s).unwrap_or_default()
    }

    #[test]
    fn settings_are_made_consistent_as_open_edx_does() {
        type Case<'a> = (&'a [(&'a str, &'a str)], DisplayBehavior, Option<&'a str>);
        let cases: &[Case] = &[
            (&[], DisplayBehavior::End, None),
            (&[(BEHAVIOR_SETTING, "end")], DisplayBehavior::End, None),
            (
                &[(BEHAVIOR_SETTING, "end_with_date")],
                DisplayBehavior::End,
                None,
            ),
            (
                &[(BEHAVIOR_SETTING, "nonsense")],
                DisplayBehavior::End,
                None,
            ),
            (
                &[(BEHAVIOR_SETTING, "end"), (AVAILABLE_DATE_SETTING, PAST)],
                DisplayBehavior::EndWithDate,
                Some(PAST),
            ),
            (
                &[
                    (BEHAVIOR_SETTING, "nonsense"),
                    (AVAILABLE_DATE_SETTING, PAST),
                ],
                DisplayBehavior::EndWithDate,
                Some(PAST),
            ),
            (
                &[
                    (BEHAVIOR_SETTING, "early_no_info"),
                    (AVAILABLE_DATE_SETTING, PAST),
                ],
                DisplayBehavior::EarlyNoInfo,
                None,
            ),
        ];
        for (fields, behavior, date) in cases {
            let d = CertificateDisplay::of(&tree(fields));
            assert_eq!(d.behavior, *behavior, "{fields:?}");
            assert_eq!(d.available_date, date.map(at), "{fields:?}");
        }
    }

    #[test]
    fn visibility_follows_the_behaviour_and_the_dates() {
        let now = at("2030-06-01T00:00:00Z");
        let visible =
            |fields: &[(&str, &str)]| CertificateDisplay::of(&tree(fields)).visible_at(now);
        assert!(!visible(&[]), "end without an end date: never");
        assert!(!visible(&[("end", FUTURE)]));
        assert!(visible(&[("end", PAST)]));
        assert!(visible(&[(BEHAVIOR_SETTING, "early_no_info")]));
        assert!(visible(&[
            (BEHAVIOR_SETTING, "early_no_info"),
            ("end", FUTURE)
        ]));
        assert!(!visible(&[(AVAILABLE_DATE_SETTING, FUTURE), ("end", PAST)]));
        assert!(visible(&[(AVAILABLE_DATE_SETTING, PAST), ("end", FUTURE)]));
        assert!(visible(&[
            ("self_paced", "true"),
            (AVAILABLE_DATE_SETTING, FUTURE)
        ]));
        assert!(visible(&[
            (SHOW_BEFORE_END_SETTING, "true"),
            ("end", FUTURE)
        ]));
    }

    #[test]
    fn the_printed_date_is_the_available_date_once_it_has_passed() {
        let issued = at("2025-03-04T10:00:00Z");
        let now = at("2030-06-01T00:00:00Z");
        let d = CertificateDisplay::of(&tree(&[(AVAILABLE_DATE_SETTING, PAST)]));
        assert_eq!(d.printed_date(issued, now), at(PAST));
        let d = CertificateDisplay::of(&tree(&[(AVAILABLE_DATE_SETTING, FUTURE)]));
        assert_eq!(d.printed_date(issued, now), issued);
        let d = CertificateDisplay::of(&tree(&[
            (AVAILABLE_DATE_SETTING, PAST),
            ("self_paced", "true"),
        ]));
        assert_eq!(d.printed_date(issued, now), issued);
    }
}
