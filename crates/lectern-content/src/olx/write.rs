//! Writing a `CourseTree` as an OLX course folder, in the layout current
//! Studio exports use: `course.xml` pointing at `course/RUN.xml`; chapters,
//! sequentials, verticals, html, problems, videos and containers in their own
//! files behind pointers; html bodies in `html/ID.html`; blocks Studio writes
//! inline (pure XBlocks such as drag-and-drop, discussion) inline in their
//! unit; policies, about and info pages, assets, and the files kept from the
//! import (`extra_files`) as they were.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

use super::error::OlxError;
use super::read::{ATTRIBUTE_TYPES, CONTAINER_TYPES};
use super::{archive, body, policy, xml};
use crate::keys::BlockRef;
use crate::tree::{Asset, Block, CourseTree};

/// The course folder as files (path → bytes, relative to the folder).
pub fn course_files(
    tree: &CourseTree,
    asset_bytes: &dyn Fn(&Asset) -> Option<Vec<u8>>,
) -> Result<BTreeMap<String, Vec<u8>>, OlxError> {
    let mut w = Writer {
        tree,
        out: BTreeMap::new(),
        done: HashSet::new(),
    };
    for (path, text) in &tree.extra_files {
        let clean = archive::safe_path(path.as_bytes())?;
        w.out.insert(clean, text.as_bytes().to_vec());
    }
    let key = &tree.key;
    w.put(
        "course.xml",
        xml::element(
            "course",
            [
                ("url_name", key.run.as_str()),
                ("org", key.org.as_str()),
                ("course", key.number.as_str()),
            ],
            "",
        ),
    );
    let root = tree
        .root()
        .cloned()
        .unwrap_or_else(|| Block::new("course", "course"));
    let inner = w.children_xml(&root)?;
    let course_path = format!("course/{}.xml", key.run.replace(':', "/"));
    w.put(
        &course_path,
        xml::element("course", attrs(&root, &[], Some(&tree.policy))?, &inner),
    );

    let mut policy_json = Map::new();
    policy_json.insert(
        format!("course/{}", key.run),
        Value::Object(policy::course_policy_for_export(tree)),
    );
    w.put_json(
        &format!("policies/{}/policy.json", key.run),
        &Value::Object(policy_json),
    )?;
    w.put(
        &format!("policies/{}/grading_policy.json", key.run),
        tree.grading_policy.to_json(),
    );

    for (name, text) in &tree.about {
        w.put(&format!("about/{name}.html"), text.clone());
    }
    for (name, text) in &tree.info {
        w.put(&format!("info/{name}.html"), text.clone());
    }
    for asset in tree.assets.values() {
        let bytes = asset_bytes(asset).ok_or_else(|| OlxError::MissingAsset {
            path: asset.path.clone(),
        })?;
        if super::assets::describe(&asset.path, &bytes).sha256 != asset.sha256 {
            return Err(OlxError::Write(format!(
                "static/{}: the bytes given do not match the asset's SHA-256",
                asset.path
            )));
        }
        let path = archive::safe_path(format!("static/{}", asset.path).as_bytes())?;
        w.out.insert(path, bytes);
    }
    Ok(w.out)
}

/// A block's settings as attributes: `display_name` first, then the fields
/// (minus `skip`) in name order. A setting whose name cannot be an XML
/// attribute is refused, unless it is a course setting that travels in
/// `policy.json` anyway (`policy_only`).
fn attrs<'a>(
    b: &'a Block,
    skip: &[&str],
    policy_only: Option<&serde_json::Map<String, Value>>,
) -> Result<Vec<(&'a str, &'a str)>, OlxError> {
    let mut v: Vec<(&str, &str)> = Vec::new();
    if let Some(d) = &b.display_name {
        v.push(("display_name", d));
    }
    for (k, val) in &b.fields {
        if k == "url_name" || k == "display_name" || skip.contains(&k.as_str()) {
            continue;
        }
        if xml::is_attr_name(k) {
            v.push((k, val));
        } else if !policy_only.is_some_and(|p| p.contains_key(k)) {
            return Err(bad_name(b, k));
        }
    }
    Ok(v)
}

fn bad_name(b: &Block, k: &str) -> OlxError {
    OlxError::Write(format!(
        "{}: the setting name {k:?} cannot be written as an XML attribute",
        b.block_ref()
    ))
}

struct Writer<'t> {
    tree: &'t CourseTree,
    out: BTreeMap<String, Vec<u8>>,
    done: HashSet<BlockRef>,
}

impl Writer<'_> {
    fn put(&mut self, path: &str, text: String) {
        self.out.insert(path.to_string(), text.into_bytes());
    }

    fn put_json(&mut self, path: &str, v: &Value) -> Result<(), OlxError> {
        let text = serde_json::to_string_pretty(v).map_err(|e| OlxError::Write(e.to_string()))?;
        self.put(path, text);
        Ok(())
    }

    /// The XML between a container's tags: one line per child (a pointer or
    /// an inline element), then the kept non-block elements.
    fn children_xml(&mut self, b: &Block) -> Result<String, OlxError> {
        let mut parts = Vec::new();
        for c in &b.children {
            if let Some(el) = self.block(c)? {
                parts.push(el);
            }
        }
        if let Some(extra) = b.body.as_deref().filter(|s| !s.trim().is_empty()) {
            parts.push(extra.to_string());
        }
        if parts.is_empty() {
            return Ok(String::new());
        }
        let mut s = String::from("\n");
        for p in parts {
            s.push_str("  ");
            s.push_str(&p);
            s.push('\n');
        }
        Ok(s)
    }

    /// Writes a block (and what is below it) and returns what its parent
    /// holds for it; `None` for a missing or already written block.
    fn block(&mut self, r: &BlockRef) -> Result<Option<String>, OlxError> {
        let tree = self.tree;
        let Some(b) = tree.block(r) else {
            return Ok(None);
        };
        if !self.done.insert(r.clone()) {
            return Ok(None);
        }
        let (tag, url) = (b.block_type.as_str(), b.id.as_str());
        let file = format!("{tag}/{}.xml", url.replace(':', "/"));
        let pointer = xml::element(tag, [("url_name", url)], "");
        if CONTAINER_TYPES.contains(&tag) {
            let inner = self.children_xml(b)?;
            self.put(&file, xml::element(tag, attrs(b, &[], None)?, &inner));
            return Ok(Some(pointer));
        }
        if tag == "html" {
            let mut a = vec![("filename", url)];
            a.extend(attrs(b, &["filename"], None)?);
            self.put(&file, xml::element(tag, a, ""));
            self.put(
                &format!("html/{}.html", url.replace(':', "/")),
                b.body.clone().unwrap_or_default(),
            );
            return Ok(Some(pointer));
        }
        if ATTRIBUTE_TYPES.contains(&tag) {
            let mut a = vec![("url_name", url)];
            a.extend(attrs(b, &[], None)?);
            let inline = a.len() > 1 || b.body.as_deref().is_some_and(|s| !s.trim().is_empty());
            let el = xml::element(tag, a, b.body.as_deref().unwrap_or(""));
            if tag == "discussion" && inline {
                return Ok(Some(el));
            }
            self.put(&file, el);
            return Ok(Some(pointer));
        }
        if let Some(k) = b.fields.keys().find(|k| !xml::is_attr_name(k)) {
            return Err(bad_name(b, k));
        }
        let e = body::export(
            tag,
            url,
            b.body.as_deref(),
            b.display_name.as_deref(),
            &b.fields,
        );
        if tag != "problem" && e.has_url_name && !e.pointer_shaped {
            return Ok(Some(e.element));
        }
        self.put(&file, e.element);
        Ok(Some(pointer))
    }
}
