//! Open edX keys: course keys (`course-v1:ORG+NUMBER+RUN`) and usage keys
//! (`block-v1:ORG+NUMBER+RUN+type@TYPE+block@ID`).
//!
//! Keys are what learners' state, URLs, the JSON API and tracking events are
//! indexed by, so they must print and parse exactly as Open edX's do.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a key did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid key {input:?}: {reason}")]
pub struct KeyError {
    pub input: String,
    pub reason: &'static str,
}

fn key_error(input: &str, reason: &'static str) -> KeyError {
    KeyError {
        input: input.chars().take(200).collect(),
        reason,
    }
}

/// A part of a key (org, number, run, block id): letters, digits and `-_.~:%`
/// as Open edX allows (no `+`, `/`, `@` or whitespace).
pub fn is_valid_key_part(part: &str) -> bool {
    !part.is_empty()
        && part.len() <= 255
        && part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | ':' | '%'))
}

/// Turns a free-form name into a valid key part (used for url_names an author
/// types and for generated ids).
pub fn slugify_key_part(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if s.is_empty() {
        "_".to_string()
    } else {
        s
    }
}

/// `course-v1:ORG+NUMBER+RUN`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CourseKey {
    pub org: String,
    pub number: String,
    pub run: String,
}

impl CourseKey {
    pub fn new(org: &str, number: &str, run: &str) -> Result<Self, KeyError> {
        for part in [org, number, run] {
            if !is_valid_key_part(part) || part.contains(':') {
                return Err(key_error(
                    part,
                    "org, number and run may hold letters, digits and - _ . ~ %",
                ));
            }
        }
        Ok(Self {
            org: org.to_string(),
            number: number.to_string(),
            run: run.to_string(),
        })
    }

    /// The usage key of a block in this course.
    pub fn usage_key(&self, block_type: &str, block_id: &str) -> UsageKey {
        UsageKey {
            course: self.clone(),
            block: BlockRef::new(block_type, block_id),
        }
    }

    /// The course block's own usage key (`type@course+block@course`).
    pub fn root_usage_key(&self) -> UsageKey {
        self.usage_key("course", "course")
    }
}

impl CourseKey {
    fn pieces(&self) -> [&str; 6] {
        ["course-v1:", &self.org, "+", &self.number, "+", &self.run]
    }

    /// The key's text, as `to_string` writes it, made in one allocation of
    /// its size: a key is written out several times per answer check, and
    /// `to_string` grew its string three or four times for each (about 4 %
    /// of a check's instructions with the usage keys, issue 18, twelfth pass).
    pub fn to_text(&self) -> String {
        joined(&self.pieces())
    }
}

/// `pieces` in one string allocated once.
fn joined(pieces: &[&str]) -> String {
    let mut text = String::with_capacity(pieces.iter().map(|p| p.len()).sum());
    for piece in pieces {
        text.push_str(piece);
    }
    text
}

impl fmt::Display for CourseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Piece by piece rather than `write!`: keys are formatted several
        // times per answer check, and the format machinery cost more than
        // the copying (issue 18, tenth pass).
        for piece in self.pieces() {
            f.write_str(piece)?;
        }
        Ok(())
    }
}

impl FromStr for CourseKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let rest = s
            .strip_prefix("course-v1:")
            .ok_or_else(|| key_error(s, "a course key starts with course-v1:"))?;
        let parts: Vec<&str> = rest.split('+').collect();
        match parts.as_slice() {
            [org, number, run] => {
                CourseKey::new(org, number, run).map_err(|_| key_error(s, "bad org, number or run"))
            }
            _ => Err(key_error(s, "a course key is course-v1:ORG+NUMBER+RUN")),
        }
    }
}

/// A block within a course, independent of the course: `(type, id)`.
/// Open edX block ids (url_names) are unique per type, not across types.
/// Serialised as `type@TYPE+block@ID` (so it can key a JSON map).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockRef {
    pub block_type: String,
    pub id: String,
}

impl BlockRef {
    pub fn new(block_type: &str, id: &str) -> Self {
        Self {
            block_type: block_type.to_string(),
            id: id.to_string(),
        }
    }
}

impl fmt::Display for BlockRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for piece in ["type@", &self.block_type, "+block@", &self.id] {
            f.write_str(piece)?;
        }
        Ok(())
    }
}

impl FromStr for BlockRef {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let (ty, id) = s
            .split_once('+')
            .ok_or_else(|| key_error(s, "a block reference is type@TYPE+block@ID"))?;
        let ty = ty
            .strip_prefix("type@")
            .ok_or_else(|| key_error(s, "missing type@"))?;
        let id = id
            .strip_prefix("block@")
            .ok_or_else(|| key_error(s, "missing block@"))?;
        if !is_valid_key_part(ty) || !is_valid_key_part(id) {
            return Err(key_error(s, "bad block type or id"));
        }
        Ok(BlockRef::new(ty, id))
    }
}

/// `block-v1:ORG+NUMBER+RUN+type@TYPE+block@ID`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsageKey {
    pub course: CourseKey,
    pub block: BlockRef,
}

impl UsageKey {
    fn pieces(&self) -> [&str; 10] {
        let (c, b) = (&self.course, &self.block);
        [
            "block-v1:",
            &c.org,
            "+",
            &c.number,
            "+",
            &c.run,
            "+type@",
            &b.block_type,
            "+block@",
            &b.id,
        ]
    }

    /// The key's text in one allocation (see [`CourseKey::to_text`]).
    pub fn to_text(&self) -> String {
        joined(&self.pieces())
    }
}

impl fmt::Display for UsageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for piece in self.pieces() {
            f.write_str(piece)?;
        }
        Ok(())
    }
}

impl FromStr for UsageKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let rest = s
            .strip_prefix("block-v1:")
            .ok_or_else(|| key_error(s, "a usage key starts with block-v1:"))?;
        let parts: Vec<&str> = rest.split('+').collect();
        let [org, number, run, ty, id] = parts.as_slice() else {
            return Err(key_error(
                s,
                "a usage key is block-v1:ORG+NUMBER+RUN+type@TYPE+block@ID",
            ));
        };
        let course =
            CourseKey::new(org, number, run).map_err(|_| key_error(s, "bad org, number or run"))?;
        let block: BlockRef = format!("{ty}+{id}")
            .parse()
            .map_err(|_| key_error(s, "bad block type or id"))?;
        Ok(UsageKey { course, block })
    }
}

macro_rules! serde_via_string {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_via_string!(CourseKey);
serde_via_string!(UsageKey);
serde_via_string!(BlockRef);

/// The file name a link to a course file names, in any of Open edX's
/// spellings: `/static/NAME`, `/asset-v1:ORG+COURSE+RUN+type@asset+block@NAME`
/// or `/c4x/ORG/COURSE/asset/NAME` (a query or fragment is dropped). The
/// name is not checked: callers check it against the store's rules for
/// file names before using it.
pub fn course_file_name(link: &str) -> Option<&str> {
    let link = link.trim();
    let name = link
        .strip_prefix("/static/")
        .or_else(|| {
            link.strip_prefix("/asset-v1:")
                .and_then(|r| r.split_once("+type@asset+block@"))
                .map(|(_, n)| n)
        })
        .or_else(|| {
            match link
                .strip_prefix("/c4x/")?
                .splitn(4, '/')
                .collect::<Vec<_>>()[..]
            {
                [_, _, "asset", n] => Some(n),
                _ => None,
            }
        })?;
    name.split(['?', '#']).next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn course_key_round_trips() {
        let k: CourseKey = "course-v1:OpenedX+DemoX+DemoCourse".parse().unwrap();
        assert_eq!(k.org, "OpenedX");
        assert_eq!(k.number, "DemoX");
        assert_eq!(k.run, "DemoCourse");
        assert_eq!(k.to_string(), "course-v1:OpenedX+DemoX+DemoCourse");
        assert_eq!(k.to_text(), k.to_string());
        assert_eq!(
            k.to_text().capacity(),
            k.to_text().len(),
            "one allocation of its size"
        );
    }

    #[test]
    fn usage_key_round_trips() {
        let s = "block-v1:TestX+Course+1+type@problem+block@870b_2";
        let k: UsageKey = s.parse().unwrap();
        assert_eq!(k.block.block_type, "problem");
        assert_eq!(k.block.id, "870b_2");
        assert_eq!(k.to_string(), s);
        assert_eq!(k.to_text(), s);
        assert_eq!(
            k.to_text().capacity(),
            s.len(),
            "one allocation of its size"
        );
    }

    #[test]
    fn bad_keys_are_refused() {
        for bad in [
            "",
            "course-v1:",
            "course-v1:a+b",
            "course-v1:a+b+c+d",
            "course-v1:a b+c+d",
            "block-v1:a+b+c+type@x",
            "block-v1:a+b+c+problem+block@x",
            "block-v1:a+b+c+type@<script>+block@x",
            "org/course/run",
        ] {
            assert!(
                bad.parse::<CourseKey>().is_err() || !bad.starts_with("course"),
                "{bad}"
            );
            assert!(bad.parse::<UsageKey>().is_err(), "{bad}");
        }
    }

    #[test]
    fn course_file_links_name_their_file_in_every_spelling() {
        for link in [
            " /static/img/a.png?v=2",
            "/asset-v1:O+C+R+type@asset+block@img/a.png#x",
            "/c4x/O/C/asset/img/a.png",
        ] {
            assert_eq!(course_file_name(link), Some("img/a.png"), "{link}");
        }
        for link in ["https://example.com/a.png", "/c4x/O/C/video/a", "a.png", ""] {
            assert_eq!(course_file_name(link), None, "{link}");
        }
    }
}
