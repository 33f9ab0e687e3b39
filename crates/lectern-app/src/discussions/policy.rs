//! What the course policy says about discussions, and Lectern's own bounds
//! on what a post may cost: blackout periods (Open edX's
//! `discussion_blackouts`, a list of `[start, end]` ISO datetimes, during
//! which only moderators post), and the limits on titles, bodies, pages,
//! searches and how many posts a person may write in an hour.

use chrono::{DateTime, Duration, Utc};
use lectern_content::CourseTree;

use crate::learning::parse_date;

/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 300;
/// The longest body (thread, response or comment), in characters.
pub const MAX_BODY_CHARS: usize = 20_000;
/// The longest topic id accepted in a request.
pub const MAX_TOPIC_ID_CHARS: usize = 255;
/// The longest `text_search`.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Page sizes: the default and the largest a client may ask for.
pub const DEFAULT_PAGE_SIZE: i64 = 10;
pub const MAX_PAGE_SIZE: i64 = 100;
/// The last page number a client may ask for (bounds the offset).
pub const MAX_PAGE: i64 = 10_000;
/// How many topic ids one listing may name.
pub const MAX_TOPICS_PER_QUERY: usize = 50;
/// Posts (threads, responses, comments) one learner may write per window.
pub const POSTS_PER_WINDOW: i64 = 30;
pub fn post_window() -> Duration {
    Duration::hours(1)
}
/// Blackout periods read from a policy (more are ignored).
const MAX_BLACKOUTS: usize = 100;

/// One blackout period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blackout {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The course's blackout periods; malformed entries are skipped (Open edX
/// ignores them too), so a typo never closes the forum.
pub fn blackouts(tree: &CourseTree) -> Vec<Blackout> {
    let value = match tree.policy.get("discussion_blackouts") {
        Some(v) => v.clone(),
        None => match tree.root().and_then(|r| r.field("discussion_blackouts")) {
            Some(text) => serde_json::from_str(text).unwrap_or(serde_json::Value::Null),
            None => serde_json::Value::Null,
        },
    };
    let Some(list) = value.as_array() else {
        return Vec::new();
    };
    list.iter()
        .take(MAX_BLACKOUTS)
        .filter_map(|pair| {
            let pair = pair.as_array()?;
            let start = parse_date(pair.first()?.as_str()?)?;
            let end = parse_date(pair.get(1)?.as_str()?)?;
            (start <= end).then_some(Blackout { start, end })
        })
        .collect()
}

/// Whether `now` falls in a blackout period of the course.
pub fn in_blackout(tree: &CourseTree, now: DateTime<Utc>) -> bool {
    blackouts(tree)
        .iter()
        .any(|b| b.start <= now && now <= b.end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_content::CourseKey;

    fn tree_with(policy: serde_json::Value) -> CourseTree {
        let mut t = CourseTree::new(CourseKey::new("O", "N", "R").unwrap(), "C");
        t.policy.insert("discussion_blackouts".into(), policy);
        t
    }

    #[test]
    fn blackouts_are_read_in_open_edx_format_and_bad_entries_skipped() {
        let t = tree_with(serde_json::json!([
            ["2030-01-01T00:00:00Z", "2030-01-02T00:00"],
            ["nonsense", "2030-01-02"],
            ["2031-01-02T00:00:00Z", "2031-01-01T00:00:00Z"],
            "not a pair"
        ]));
        let b = blackouts(&t);
        assert_eq!(b.len(), 1);
        let inside = parse_date("2030-01-01T12:00:00Z").unwrap();
        let after = parse_date("2030-01-03T00:00:00Z").unwrap();
        assert!(in_blackout(&t, inside));
        assert!(!in_blackout(&t, after));
        assert!(!in_blackout(&tree_with(serde_json::json!("x")), inside));
    }
}
