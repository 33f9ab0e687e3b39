//! Reading a course folder (path → bytes, relative to the folder that holds
//! `course.xml`) into a `CourseTree`.
//!
//! The walk starts at `course.xml`, follows pointers (`<TAG url_name="x"/>`
//! → `TAG/x.xml`) and inline children alike, applies `policy.json`
//! overrides, and then sorts every file it did not use: `static/` into
//! assets, `about/` and `info/` pages, and the rest (`tabs/`, `assets/`,
//! `policies/assets.json`, `drafts/`, files no block points to) kept as text
//! for export. Any error aborts the whole import.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use sha2::{Digest, Sha256};

use super::error::OlxError;
use super::policy::{self, json_to_text, Policy};
use super::xml;
use super::{body, ImportLimits, ImportedCourse};
use crate::keys::{is_valid_key_part, BlockRef, CourseKey};
use crate::tree::{Block, CourseTree};

/// Children of structural elements that are settings, not blocks; their XML
/// is kept in the parent's `body`.
pub const NON_BLOCK_TAGS: &[&str] = &["wiki", "textbook", "show"];

/// Types whose OLX children are blocks of their own.
pub const CONTAINER_TYPES: &[&str] = &[
    "course",
    "chapter",
    "sequential",
    "vertical",
    "split_test",
    "library_content",
    "conditional",
    "randomize",
];

/// Types kept as their attributes plus the XML inside them (`body`).
pub const ATTRIBUTE_TYPES: &[&str] = &["video", "discussion"];

/// Reads a course folder. Takes the files so that asset bytes move into the
/// result instead of being copied.
pub fn read(
    mut files: BTreeMap<String, Vec<u8>>,
    limits: &ImportLimits,
    warnings: Vec<String>,
) -> Result<ImportedCourse, OlxError> {
    let mut course = read_borrowed(&files, limits, warnings)?;
    for path in course.tree.assets.keys() {
        if let Some(bytes) = files.remove(&format!("static/{path}")) {
            course.asset_bytes.insert(path.clone(), bytes);
        }
    }
    Ok(course)
}

fn read_borrowed(
    files: &BTreeMap<String, Vec<u8>>,
    limits: &ImportLimits,
    warnings: Vec<String>,
) -> Result<ImportedCourse, OlxError> {
    check_limits(files, limits)?;
    if !files.contains_key("course.xml") {
        if files.contains_key("library.xml") {
            return Err(OlxError::Library {
                path: "library.xml".into(),
            });
        }
        return Err(OlxError::MissingCourseXml);
    }
    let mut r = Reader {
        files,
        limits,
        consumed: BTreeSet::new(),
        seen: HashSet::new(),
        blocks: BTreeMap::new(),
        policy: Policy::default(),
        used_policy: BTreeSet::new(),
        warnings,
    };
    let tree = r.read_course()?;
    r.finish(tree)
}

fn check_limits(files: &BTreeMap<String, Vec<u8>>, limits: &ImportLimits) -> Result<(), OlxError> {
    if files.len() > limits.max_files {
        return Err(OlxError::TooManyFiles {
            path: None,
            limit: limits.max_files,
        });
    }
    let mut total = 0u64;
    let mut text = super::archive::TextTally::default();
    for (path, data) in files {
        let size = data.len() as u64;
        if !path.starts_with("static/") {
            text.add(path, size, limits)?;
        }
        if size > limits.max_file_bytes {
            return Err(OlxError::FileTooLarge {
                path: path.clone(),
                size,
                limit: limits.max_file_bytes,
            });
        }
        total = total.saturating_add(size);
        if total > limits.max_total_bytes {
            return Err(OlxError::TotalTooLarge {
                path: Some(path.clone()),
                limit: limits.max_total_bytes,
            });
        }
        super::archive::safe_path(path.as_bytes()).and_then(|clean| {
            if clean == *path {
                Ok(())
            } else {
                Err(OlxError::UnsafePath {
                    path: path.clone(),
                    reason: "not a clean relative path",
                })
            }
        })?;
    }
    Ok(())
}

pub(super) struct Reader<'f> {
    pub(super) files: &'f BTreeMap<String, Vec<u8>>,
    pub(super) limits: &'f ImportLimits,
    pub(super) consumed: BTreeSet<String>,
    pub(super) seen: HashSet<BlockRef>,
    pub(super) blocks: BTreeMap<BlockRef, Block>,
    pub(super) policy: Policy,
    pub(super) used_policy: BTreeSet<String>,
    pub(super) warnings: Vec<String>,
}

/// A parsed XML file, borrowed from the files map.
type Doc<'f> = (roxmltree::Document<'f>, &'f str);

impl<'f> Reader<'f> {
    fn text(&mut self, path: &str, referenced_from: &str) -> Result<&'f str, OlxError> {
        let files = self.files;
        let bytes = files.get(path).ok_or_else(|| OlxError::MissingFile {
            path: path.to_string(),
            referenced_from: referenced_from.to_string(),
        })?;
        self.consumed.insert(path.to_string());
        std::str::from_utf8(bytes).map_err(|e| OlxError::Xml {
            path: path.to_string(),
            detail: format!("not UTF-8 text ({e})"),
        })
    }

    fn parse(&mut self, path: &str, referenced_from: &str) -> Result<Doc<'f>, OlxError> {
        let text = self.text(path, referenced_from)?;
        let doc = xml::parse(
            path,
            text,
            self.limits.max_xml_depth,
            self.limits.max_xml_nodes,
        )?;
        Ok((doc, text))
    }

    fn read_course(&mut self) -> Result<CourseTree, OlxError> {
        let (doc, src) = self.parse("course.xml", "the archive")?;
        let root = doc.root_element();
        if root.tag_name().name() != "course" {
            return Err(OlxError::invalid(
                "course.xml",
                format!(
                    "the root element is <{}>, expected <course>",
                    root.tag_name().name()
                ),
            ));
        }
        let attr = |n: &str| {
            root.attribute(n).ok_or_else(|| {
                OlxError::invalid(
                    "course.xml",
                    format!(
                        "<course> has no {n} attribute (url_name, org and course are required)"
                    ),
                )
            })
        };
        let (run, org, number) = (attr("url_name")?, attr("org")?, attr("course")?);
        let key = CourseKey::new(org, number, run)
            .map_err(|e| OlxError::invalid("course.xml", e.to_string()))?;

        let policy_path = format!("policies/{run}/policy.json");
        if let Some(bytes) = self.files.get(&policy_path) {
            self.policy = policy::read_policy(&policy_path, bytes, run)?;
            self.consumed.insert(policy_path);
        }
        let grading_path = format!("policies/{run}/grading_policy.json");
        let grading_policy = match self.files.get(&grading_path) {
            Some(bytes) => {
                self.consumed.insert(grading_path.clone());
                policy::read_grading(&grading_path, bytes, &mut self.warnings)?
            }
            None => {
                self.warnings.push(format!(
                    "{grading_path} is missing: the default grading policy is used"
                ));
                Default::default()
            }
        };

        let course_path = format!("course/{}.xml", run.replace(':', "/"));
        let pointer = is_pointer(root, &["url_name", "org", "course"]);
        let mut root_block = Block::new("course", "course");
        let mut children = Vec::new();
        let mut extras = Vec::new();
        if pointer {
            let (cdoc, csrc) = self.parse(&course_path, "course.xml")?;
            let croot = cdoc.root_element();
            if croot.tag_name().name() != "course" {
                return Err(OlxError::invalid(
                    &course_path,
                    format!(
                        "the root element is <{}>, expected <course>",
                        croot.tag_name().name()
                    ),
                ));
            }
            let mut attrs = xml::attributes(croot);
            attrs.remove("url_name");
            root_block.display_name = attrs.remove("display_name");
            root_block.fields = attrs;
            self.read_children(croot, csrc, &course_path, 1, &mut children, &mut extras)?;
        } else {
            let mut attrs = xml::attributes(root);
            for k in ["url_name", "org", "course"] {
                attrs.remove(k);
            }
            root_block.display_name = attrs.remove("display_name");
            root_block.fields = attrs;
            self.read_children(root, src, "course.xml", 1, &mut children, &mut extras)?;
        }
        for (k, v) in &self.policy.course {
            if k == "display_name" {
                root_block.display_name = Some(json_to_text(v));
            } else {
                root_block.fields.insert(k.clone(), json_to_text(v));
            }
        }
        root_block.children = children;
        root_block.body = (!extras.is_empty()).then(|| extras.join("\n"));
        let mut tree = CourseTree::new(key, "");
        tree.grading_policy = grading_policy;
        tree.policy = self.policy.course.clone();
        self.blocks.insert(root_block.block_ref(), root_block);
        tree.blocks = std::mem::take(&mut self.blocks);
        Ok(tree)
    }

    /// Reads the block children of `node` (in order) and collects the XML of
    /// its non-block children.
    fn read_children(
        &mut self,
        node: roxmltree::Node<'_, 'f>,
        src: &'f str,
        path: &str,
        depth: usize,
        children: &mut Vec<BlockRef>,
        extras: &mut Vec<String>,
    ) -> Result<(), OlxError> {
        for child in node.children().filter(|c| c.is_element()) {
            if NON_BLOCK_TAGS.contains(&child.tag_name().name()) {
                extras.push(xml::raw(src, child).to_string());
            } else {
                children.push(self.read_block(child, src, path, depth)?);
            }
        }
        Ok(())
    }

    fn read_block(
        &mut self,
        node: roxmltree::Node<'_, 'f>,
        src: &'f str,
        path: &str,
        depth: usize,
    ) -> Result<BlockRef, OlxError> {
        let tag = node.tag_name().name();
        if depth > self.limits.max_xml_depth {
            return Err(OlxError::invalid(
                path,
                format!(
                    "blocks are nested more than {} deep",
                    self.limits.max_xml_depth
                ),
            ));
        }
        if !is_valid_key_part(tag) || tag.contains(':') || tag == "course" {
            return Err(OlxError::invalid(
                path,
                format!("<{tag}> cannot be a block here"),
            ));
        }
        if is_pointer(node, &["url_name"]) {
            let url = node.attribute("url_name").unwrap_or_default();
            check_url_name(path, tag, url)?;
            let file = format!("{tag}/{}.xml", url.replace(':', "/"));
            let (doc, dsrc) = self.parse(&file, path)?;
            let def = doc.root_element();
            if def.tag_name().name() != tag {
                return Err(OlxError::invalid(
                    &file,
                    format!(
                        "the root element is <{}>, expected <{tag}>",
                        def.tag_name().name()
                    ),
                ));
            }
            if is_pointer(def, &["url_name"]) && def.attribute("url_name") != Some(url) {
                return Err(OlxError::invalid(
                    &file,
                    "points to yet another file; a pointer must lead to a definition",
                ));
            }
            self.read_definition(def, dsrc, &file, tag, url, depth)
        } else {
            let url = match node.attribute("url_name") {
                Some(u) => u.to_string(),
                None => self.generated_url_name(tag, path, node.range().start),
            };
            check_url_name(path, tag, &url)?;
            self.read_definition(node, src, path, tag, &url, depth)
        }
    }

    /// An id for an inline element with no url_name: derived from where it
    /// is (file and offset), so the same archive always gives the same ids;
    /// export then writes it out as the url_name.
    fn generated_url_name(&self, tag: &str, path: &str, offset: usize) -> String {
        let hash = hex::encode(Sha256::digest(format!("{path}:{offset}").as_bytes()));
        let base = format!("{tag}_{}", &hash[..12]);
        let mut candidate = base.clone();
        let mut n = 2;
        while self.seen.contains(&BlockRef::new(tag, &candidate)) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        candidate
    }

    fn read_definition(
        &mut self,
        def: roxmltree::Node<'_, 'f>,
        src: &'f str,
        path: &str,
        tag: &str,
        url: &str,
        depth: usize,
    ) -> Result<BlockRef, OlxError> {
        let bref = BlockRef::new(tag, url);
        if !self.seen.insert(bref.clone()) {
            return Err(OlxError::DuplicateUrlName {
                path: path.to_string(),
                block_type: tag.to_string(),
                url_name: url.to_string(),
            });
        }
        if self.seen.len() > self.limits.max_blocks {
            return Err(OlxError::invalid(
                path,
                format!("the course has more than {} blocks", self.limits.max_blocks),
            ));
        }
        let mut block = Block::new(tag, url);
        let mut attrs = xml::attributes(def);
        attrs.remove("url_name");
        block.display_name = attrs.remove("display_name");
        block.fields = attrs;
        let policy_key = format!("{tag}/{url}");
        if let Some(over) = self.policy.blocks.get(&policy_key) {
            self.used_policy.insert(policy_key);
            for (k, v) in over {
                if k == "display_name" {
                    block.display_name = Some(json_to_text(v));
                } else if xml::is_attr_name(k) && k != "url_name" {
                    block.fields.insert(k.clone(), json_to_text(v));
                } else {
                    self.warnings.push(format!(
                        "policy.json: {tag}/{url}: the setting name {k:?} cannot be used; ignored"
                    ));
                }
            }
        }
        if CONTAINER_TYPES.contains(&tag) {
            let mut children = Vec::new();
            let mut extras = Vec::new();
            self.read_children(def, src, path, depth + 1, &mut children, &mut extras)?;
            block.children = children;
            block.body = (!extras.is_empty()).then(|| extras.join("\n"));
        } else if tag == "html" {
            block.body = Some(self.html_body(def, src, path, &mut block)?);
        } else if ATTRIBUTE_TYPES.contains(&tag) {
            let inner = xml::inner(src, def);
            block.body = (!inner.trim().is_empty()).then(|| inner.to_string());
        } else {
            // Problems and every type Lectern does not model: the whole element.
            block.body = Some(body::whole_element(
                tag,
                def,
                src,
                block.display_name.as_deref(),
                &block.fields,
            ));
        }
        self.blocks.insert(bref.clone(), block);
        Ok(bref)
    }

    /// An html block's body: the `.html` file its `filename` names, else the
    /// XML inside the element. `filename` is where the body is stored, not a
    /// setting, so it is not kept.
    fn html_body(
        &mut self,
        def: roxmltree::Node<'_, 'f>,
        src: &'f str,
        path: &str,
        block: &mut Block,
    ) -> Result<String, OlxError> {
        let Some(name) = block.fields.remove("filename") else {
            return Ok(xml::inner(src, def).to_string());
        };
        let name = name.replace(':', "/");
        let mut candidates = vec![format!("html/{name}.html")];
        if name.ends_with(".html") {
            candidates.push(format!("html/{name}"));
        }
        let files = self.files;
        let found = candidates
            .iter()
            .find_map(|c| files.get(c).map(|b| (c.clone(), b)));
        let Some((file, bytes)) = found else {
            return Err(OlxError::MissingFile {
                path: candidates[0].clone(),
                referenced_from: path.to_string(),
            });
        };
        self.consumed.insert(file.clone());
        Ok(self.decode(&file, bytes))
    }

    /// A file's text, with bytes that are not UTF-8 replaced and control
    /// characters (which no HTML page needs, and which would be stored
    /// escaped at six bytes each) dropped, each with a warning.
    pub(super) fn decode(&mut self, path: &str, bytes: &[u8]) -> String {
        let text = match std::str::from_utf8(bytes) {
            Ok(s) => s.to_string(),
            Err(_) => {
                self.warnings.push(format!(
                    "{path}: not UTF-8; bytes that are not were replaced"
                ));
                String::from_utf8_lossy(bytes).into_owned()
            }
        };
        if text.chars().any(is_binary_char) {
            self.warnings.push(format!(
                "{path}: holds NUL or other control characters; they were dropped"
            ));
            return text.chars().filter(|c| !is_binary_char(*c)).collect();
        }
        text
    }
}

/// A control character that marks a file as binary: C0 controls other than
/// tab, line feed, form feed and carriage return. XML forbids them all.
pub(super) fn is_binary_char(c: char) -> bool {
    c < ' ' && !matches!(c, '\t' | '\n' | '\r' | '\x0c')
}

/// The file's text when it is text: UTF-8 with no binary control characters.
pub(super) fn as_text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes)
        .ok()
        .filter(|s| !s.chars().any(is_binary_char))
}

impl Reader<'_> {}

/// Open edX's rule: a pointer has no children, no text, and exactly the
/// attributes `expected` (just `url_name`, or for `course.xml` also `org`
/// and `course`).
pub fn is_pointer(node: roxmltree::Node, expected: &[&str]) -> bool {
    let mut names: Vec<&str> = node.attributes().map(|a| a.name()).collect();
    names.sort_unstable();
    let mut want = expected.to_vec();
    want.sort_unstable();
    names == want
        && !node.children().any(|c| {
            c.is_element() || (c.is_text() && c.text().is_some_and(|t| !t.trim().is_empty()))
        })
}

fn check_url_name(path: &str, tag: &str, url: &str) -> Result<(), OlxError> {
    if is_valid_key_part(url)
        && !url
            .split(':')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        Ok(())
    } else {
        Err(OlxError::invalid(
            path,
            format!("the {tag} url_name {url:?} may hold only letters, digits and - _ . ~ : %"),
        ))
    }
}
