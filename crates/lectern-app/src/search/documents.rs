//! The documents of one published course version: what a search can find.
//!
//! Indexed, as Open edX's courseware search indexes them: the names of
//! sections, subsections and units; an HTML block's text (tags dropped,
//! scripts and styles with them); a problem's question text, without
//! anything that tells the answer (solutions, hints, answer scripts,
//! `<answer>` code: a learner must not learn an answer from a search), and
//! attributes are never text, so `answer="…"`/`correct="true"` stay out;
//! a video's transcript (English first), whose text the caller reads.
//! The children of `library_content` and `split_test` are left out: which
//! of them a learner is shown is drawn per learner (`selection.rs`).
//!
//! Each document carries what decides who may find it: the latest `start`
//! on its way down from the section (as `released_to_learners` inherits
//! it) and whether it or an ancestor is staff-only.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lectern_content::{Block, BlockRef, CourseTree};

use super::{DocKind, SearchDoc};
use crate::learning::parse_date;

/// How much text of one document is indexed.
pub const MAX_BODY_CHARS: usize = 64 * 1024;
/// How much of it is stored to show in a result.
pub const SUMMARY_CHARS: usize = 300;

/// Containers whose children are drawn per learner.
const DRAWN: [&str; 2] = ["library_content", "split_test"];

/// A course's catalogue entry (course discovery).
pub fn catalogue_doc(tree: &CourseTree, start: Option<DateTime<Utc>>) -> SearchDoc {
    let key = &tree.key;
    let name = tree.display_name();
    let short = tree
        .about
        .get("short_description")
        .map(|s| html_text(s))
        .unwrap_or_default();
    let overview = tree
        .about
        .get("overview")
        .map(|s| html_text(s))
        .unwrap_or_default();
    let body = bounded(format!(
        "{short}\n{overview}\n{} {} {}",
        key.org, key.number, key.run
    ));
    let payload = serde_json_payload(&[
        ("short_description", short.as_str()),
        ("overview", &truncate(&overview, SUMMARY_CHARS)),
        ("org", &key.org),
        ("number", &key.number),
        ("run", &key.run),
        ("start", &start.map(|s| s.to_rfc3339()).unwrap_or_default()),
    ]);
    SearchDoc {
        id: format!("course:{key}"),
        kind: DocKind::Course,
        course: key.clone(),
        title: name,
        summary: truncate(&short, SUMMARY_CHARS),
        body,
        url: format!("/courses/{key}/about"),
        location: Vec::new(),
        block_type: "course".into(),
        release: None,
        staff_only: false,
        payload,
        topic: None,
        groups: Vec::new(),
    }
}

/// The content documents of `tree` (a published version). `transcripts`
/// holds the transcript text of video blocks, read by the caller.
pub fn content_docs(tree: &CourseTree, transcripts: &HashMap<BlockRef, String>) -> Vec<SearchDoc> {
    let key = &tree.key;
    let mut out = Vec::new();
    let Some(root) = tree.root() else {
        return out;
    };
    let root_staff_only = root.field("visible_to_staff_only") == Some("true");
    // (block, inherited release, inherited staff-only, names above it, unit id)
    let mut stack: Vec<Pending> = root
        .children
        .iter()
        .rev()
        .map(|c| (c.clone(), None, root_staff_only, Vec::new(), None))
        .collect();
    let mut seen = std::collections::HashSet::new();
    while let Some((r, release, staff_only, mut names, unit)) = stack.pop() {
        if !seen.insert(r.clone()) {
            continue;
        }
        let Some(block) = tree.block(&r) else {
            continue;
        };
        let own_start = block.field("start").and_then(parse_date);
        let release = match (release, own_start) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let staff_only = staff_only || block.field("visible_to_staff_only") == Some("true");
        let structural = matches!(
            block.block_type.as_str(),
            "chapter" | "sequential" | "vertical"
        );
        let unit = if block.block_type == "vertical" {
            Some(block.id.clone())
        } else {
            unit
        };
        if structural {
            names.push(block.title());
        }
        let body = match block.block_type.as_str() {
            "html" => block.body.as_deref().map(html_text),
            "problem" => block.body.as_deref().map(problem_text),
            "video" => transcripts.get(&r).cloned(),
            _ => None,
        };
        let indexed =
            structural || matches!(block.block_type.as_str(), "html" | "problem" | "video");
        if indexed {
            let body = bounded(body.unwrap_or_default());
            let url = match &unit {
                Some(u) => format!("/courses/{key}/unit/{u}"),
                None => format!("/courses/{key}/outline"),
            };
            out.push(SearchDoc {
                id: tree.usage_key(&r).to_string(),
                kind: DocKind::Content,
                course: key.clone(),
                title: block.title(),
                summary: truncate(&body, SUMMARY_CHARS),
                body,
                url,
                location: names.clone(),
                block_type: block.block_type.clone(),
                release,
                staff_only,
                payload: String::new(),
                topic: None,
                groups: Vec::new(),
            });
        }
        if DRAWN.contains(&block.block_type.as_str()) {
            continue;
        }
        for c in block.children.iter().rev() {
            stack.push((c.clone(), release, staff_only, names.clone(), unit.clone()));
        }
    }
    out
}

/// A block still to visit: its ref, the release date and staff-only flag
/// it inherits, the names above it, and the unit it is in.
type Pending = (
    BlockRef,
    Option<DateTime<Utc>>,
    bool,
    Vec<String>,
    Option<String>,
);

/// The transcript file of a video to index (below `static/`), English
/// first: the `transcripts` map, `<transcript language src>` children, then
/// the older `sub`/YouTube id captions (`subs_{id}.srt.sjson`) when the file
/// exists.
pub fn video_transcript_file(tree: &CourseTree, video: &Block) -> Option<String> {
    let clean = |f: &str| {
        let f = f.trim();
        f.strip_prefix("/static/").unwrap_or(f).to_string()
    };
    let mut named: Vec<(String, String)> = Vec::new();
    if let Some(map) = video
        .field("transcripts")
        .and_then(|t| serde_json::from_str::<std::collections::BTreeMap<String, String>>(t).ok())
    {
        named.extend(map.into_iter().map(|(l, f)| (l, clean(&f))));
    }
    if let Some(body) = video.body.as_deref().filter(|b| b.contains("<transcript")) {
        if let Ok(doc) = roxmltree::Document::parse(&format!("<video>{body}</video>")) {
            for t in doc.descendants().filter(|n| n.has_tag_name("transcript")) {
                if let (Some(l), Some(src)) = (t.attribute("language"), t.attribute("src")) {
                    named.push((l.to_string(), clean(src)));
                }
            }
        }
    }
    named.sort_by_key(|(l, _)| l != "en");
    if let Some((_, f)) = named.into_iter().find(|(_, f)| tree.assets.contains_key(f)) {
        return Some(f);
    }
    ["sub", "youtube_id_1_0"]
        .iter()
        .filter_map(|a| video.field(a).map(str::trim).filter(|v| !v.is_empty()))
        .map(|id| format!("subs_{id}.srt.sjson"))
        .find(|f| tree.assets.contains_key(f))
}

/// The text of an HTML snippet: tags dropped, `<script>`/`<style>` with
/// their content, common entities decoded, whitespace collapsed.
pub fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len().min(MAX_BODY_CHARS * 4));
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let after = &rest[open..];
        let lower_start: String = after
            .chars()
            .take(8)
            .collect::<String>()
            .to_ascii_lowercase();
        let skip_to = if lower_start.starts_with("<script") {
            Some("</script")
        } else if lower_start.starts_with("<style") {
            Some("</style")
        } else if after.starts_with("<!--") {
            Some("-->")
        } else {
            None
        };
        rest = match skip_to {
            Some(end) => match find_ascii_ci(after, end) {
                Some(i) => {
                    let tail = &after[i..];
                    tail.find('>').map_or("", |j| &tail[j + 1..])
                }
                None => "",
            },
            None => after.find('>').map_or("", |j| &after[j + 1..]),
        };
    }
    out.push_str(rest);
    collapse(&decode_entities(&out))
}

/// The question text of a problem's XML: the text a learner reads before
/// answering, without solutions, hints or answer code.
pub fn problem_text(xml: &str) -> String {
    /// Elements whose text gives answers away or is not shown as text.
    const HIDDEN: [&str; 16] = [
        "solution",
        "answer",
        "script",
        "style",
        "demandhint",
        "hint",
        "hintpart",
        "hintgroup",
        "choicehint",
        "optionhint",
        "stringequalhint",
        "correcthint",
        "additional_answer",
        "responseparam",
        "booleanhint",
        "compoundhint",
    ];
    let Ok(doc) = roxmltree::Document::parse_with_options(
        xml,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            ..Default::default()
        },
    ) else {
        return String::new();
    };
    let mut out = String::new();
    let mut stack = vec![doc.root_element()];
    while let Some(node) = stack.pop() {
        if node.is_element()
            && HIDDEN.contains(&node.tag_name().name().to_ascii_lowercase().as_str())
        {
            continue;
        }
        if let Some(t) = node.text().filter(|_| node.is_text()) {
            out.push_str(t);
            out.push(' ');
            if out.len() > MAX_BODY_CHARS * 4 {
                break;
            }
        }
        for c in node.children().collect::<Vec<_>>().into_iter().rev() {
            stack.push(c);
        }
    }
    collapse(&out)
}

fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.len();
    hay.as_bytes()
        .windows(n)
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate(s: &str, chars: usize) -> String {
    match s.char_indices().nth(chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// `s` cut to what one document indexes.
pub fn bounded_text(s: &str) -> String {
    bounded(s.to_string())
}

/// The start of `s`, for a result list.
pub fn summary_of(s: &str) -> String {
    truncate(s, SUMMARY_CHARS)
}

fn bounded(s: String) -> String {
    match s.char_indices().nth(MAX_BODY_CHARS) {
        Some((i, _)) => s[..i].to_string(),
        None => s,
    }
}

fn serde_json_payload(fields: &[(&str, &str)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
#[path = "documents_tests.rs"]
mod tests;
