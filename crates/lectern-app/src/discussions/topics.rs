//! A course's discussion topics, as Open edX makes them: the course-wide
//! topics of the policy's `discussion_topics` (`{"General": {"id":
//! "course"}}`), then one per `discussion` block of the published version,
//! in course order, named by its `discussion_target` and grouped by its
//! `discussion_category`. A block this viewer may not see (not released,
//! staff-only) gives a hidden topic: its threads are not listed or opened.

use lectern_content::{CourseTree, UsageKey};

use crate::visibility::Visibility;

/// The topic id Open edX gives a course without `discussion_topics`.
pub const DEFAULT_TOPIC_ID: &str = "course";

/// One topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    pub id: String,
    pub name: String,
    /// The group a courseware topic is listed under (`discussion_category`).
    pub category: Option<String>,
    /// The `discussion` block that makes it, for courseware topics.
    pub usage_key: Option<UsageKey>,
}

/// The topics one viewer sees, and the ids of those hidden from them.
#[derive(Debug, Clone, Default)]
pub struct Topics {
    pub course_wide: Vec<Topic>,
    pub courseware: Vec<Topic>,
    pub hidden: Vec<String>,
}

impl Topics {
    /// The visible topic with this id.
    pub fn find(&self, id: &str) -> Option<&Topic> {
        self.course_wide
            .iter()
            .chain(&self.courseware)
            .find(|t| t.id == id)
    }

    pub fn is_hidden(&self, id: &str) -> bool {
        self.hidden.iter().any(|h| h == id)
    }
}

/// The course's topics as `sees` allows.
pub fn topics(tree: &CourseTree, sees: &Visibility) -> Topics {
    let mut out = Topics {
        course_wide: course_wide(tree),
        ..Topics::default()
    };
    for block in tree.walk() {
        if block.block_type != "discussion" {
            continue;
        }
        let id = block
            .field("discussion_id")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| block.id.clone());
        if !sees.shows(tree, &block.block_ref()) {
            out.hidden.push(id);
            continue;
        }
        if out.find(&id).is_some() {
            continue;
        }
        out.courseware.push(Topic {
            name: block
                .field("discussion_target")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| block.title()),
            category: block
                .field("discussion_category")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            usage_key: Some(tree.usage_key(&block.block_ref())),
            id,
        });
    }
    // A topic both shown (another block) and hidden stays shown.
    let shown: Vec<String> = out.courseware.iter().map(|t| t.id.clone()).collect();
    out.hidden.retain(|h| !shown.contains(h));
    out
}

/// The policy's course-wide topics, sorted by name; "General" (`course`)
/// when it names none.
fn course_wide(tree: &CourseTree) -> Vec<Topic> {
    let value = match tree.policy.get("discussion_topics") {
        Some(v) => v.clone(),
        None => tree
            .root()
            .and_then(|r| r.field("discussion_topics"))
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or(serde_json::Value::Null),
    };
    let mut topics: Vec<Topic> = value
        .as_object()
        .map(|map| {
            map.iter()
                .filter_map(|(name, v)| {
                    let id = v.get("id")?.as_str()?;
                    Some(Topic {
                        id: id.to_string(),
                        name: name.clone(),
                        category: None,
                        usage_key: None,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if topics.is_empty() {
        topics.push(Topic {
            id: DEFAULT_TOPIC_ID.into(),
            name: "General".into(),
            category: None,
            usage_key: None,
        });
    }
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    topics
}
