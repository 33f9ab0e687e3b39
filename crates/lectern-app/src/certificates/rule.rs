//! Whether a course issues certificates, read from its course-level
//! settings as Open edX keeps them (`policy.json`'s `course/RUN` entry,
//! which import puts on the course block and export writes back as is).
//!
//! Open edX shows a web certificate when the course's
//! `cert_html_view_enabled` is true and its `certificates` setting holds a
//! certificate configuration with `is_active: true` (Studio's "Activate");
//! Lectern asks the same two things. Whether the public page shows the
//! grade is Lectern's own course setting `certificate_show_grade` (Open edX
//! has none; absent means no).

use lectern_content::CourseTree;
use serde_json::Value;

use super::display::CertificateDisplay;

/// The course settings this module reads.
pub const HTML_VIEW_SETTING: &str = "cert_html_view_enabled";
pub const CONFIGS_SETTING: &str = "certificates";
pub const SHOW_GRADE_SETTING: &str = "certificate_show_grade";

/// What a course's settings say about its certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CertificateRule {
    /// `cert_html_view_enabled` is true.
    pub html_view_enabled: bool,
    /// `certificates.certificates` has an entry with `is_active: true`.
    pub has_active_config: bool,
    /// `certificate_show_grade` is true.
    pub show_grade: bool,
    /// When issued certificates are shown (`display.rs`).
    pub display: CertificateDisplay,
}

impl CertificateRule {
    pub fn of(tree: &CourseTree) -> Self {
        let Some(root) = tree.root() else {
            return Self::default();
        };
        let setting = |k: &str| root.fields.get(k).map(String::as_str);
        Self {
            html_view_enabled: is_true(setting(HTML_VIEW_SETTING)),
            has_active_config: setting(CONFIGS_SETTING).is_some_and(has_active_config),
            show_grade: is_true(setting(SHOW_GRADE_SETTING)),
            display: CertificateDisplay::of(tree),
        }
    }

    /// Whether passing learners get a certificate.
    pub fn enabled(&self) -> bool {
        self.html_view_enabled && self.has_active_config
    }
}

/// A boolean setting kept as text (`true`, or a JSON string `"true"`).
fn is_true(text: Option<&str>) -> bool {
    text.is_some_and(|t| t.trim().trim_matches('"').eq_ignore_ascii_case("true"))
}

/// `{"certificates": [{…, "is_active": true}, …]}` (the setting's JSON text).
fn has_active_config(text: &str) -> bool {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    value
        .get("certificates")
        .and_then(Value::as_array)
        .is_some_and(|configs| {
            configs.iter().any(|c| {
                c.get("is_active")
                    .is_some_and(|a| a.as_bool() == Some(true) || a.as_str() == Some("true"))
            })
        })
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

    const ACTIVE: &str =
        r#"{"certificates":[{"id":1,"name":"N","is_active":true,"signatories":[]}]}"#;
    const INACTIVE: &str = r#"{"certificates":[{"id":1,"name":"N","is_active":false}]}"#;

    #[test]
    fn both_the_html_view_and_an_active_configuration_are_needed() {
        let on = tree(&[(HTML_VIEW_SETTING, "true"), (CONFIGS_SETTING, ACTIVE)]);
        assert!(CertificateRule::of(&on).enabled());
        for fields in [
            vec![(HTML_VIEW_SETTING, "true")],
            vec![(CONFIGS_SETTING, ACTIVE)],
            vec![(HTML_VIEW_SETTING, "false"), (CONFIGS_SETTING, ACTIVE)],
            vec![(HTML_VIEW_SETTING, "true"), (CONFIGS_SETTING, INACTIVE)],
            vec![(HTML_VIEW_SETTING, "true"), (CONFIGS_SETTING, "not json")],
            vec![(HTML_VIEW_SETTING, "true"), (CONFIGS_SETTING, "[]")],
            vec![],
        ] {
            assert!(!CertificateRule::of(&tree(&fields)).enabled(), "{fields:?}");
        }
    }

    #[test]
    fn showing_the_grade_is_off_unless_set() {
        assert!(!CertificateRule::of(&tree(&[])).show_grade);
        assert!(CertificateRule::of(&tree(&[(SHOW_GRADE_SETTING, "true")])).show_grade);
    }
}
