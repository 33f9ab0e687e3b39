//! OLX: reading and writing Open edX course exports (`.tar.gz` archives, or
//! an unpacked course folder handed in as path → bytes).
//!
//! What it owns: turning an export into a `CourseTree` plus asset bytes, and
//! a `CourseTree` back into an export that Open edX and Lectern both read.
//! What it must not do: touch the file system, the network or a store; the
//! caller hands bytes in and takes bytes out.
//!
//! How OLX maps onto the tree:
//! - `course.xml` (`<course url_name=RUN org course/>`) gives the course key;
//!   the course block is `course@course`, its definition `course/RUN.xml` (or
//!   `course.xml` itself in the older all-inline layout).
//! - Every element may be a pointer (`<TAG url_name="x"/>` → `TAG/x.xml`;
//!   a `:` in a url_name is a `/` in the path) or inline. A block's `id` is
//!   its url_name (one is derived from a hash of the element when missing).
//! - `fields` hold the element's attributes (minus `url_name` and
//!   `display_name`), overridden by `policies/RUN/policy.json` entries
//!   `"TYPE/URL_NAME"`; the course's own `"course/RUN"` entry goes to the
//!   course block's fields *and*, whole, to `CourseTree::policy` so export
//!   writes the same JSON back (a setting edited on the course block wins).
//! - `body`: html → the HTML (from `html/ID.html` when `filename` is set, the
//!   `filename` attribute itself is dropped); problem and every type Lectern
//!   does not model → the whole XML element; video, discussion → the XML
//!   inside the element (`<source>`, `<transcript>`, `<video_asset>` …);
//!   containers (chapter, sequential, vertical, split_test, library_content,
//!   conditional, randomize) → their non-block elements (`<wiki>`, `<show>`),
//!   their block children becoming child blocks.
//! - `about/NAME.html` → `about[NAME]`, `info/NAME.html` → `info[NAME]`
//!   (`handouts`, `updates`), `static/**` → assets, grading policy → the
//!   tree's `grading_policy` (the default when the file is missing).
//! - Kept as text for export only, in `extra_files`: `drafts/` (unpublished
//!   changes: not part of the imported course; reported as a warning),
//!   `policies/assets.json`, `assets/assets.xml`, `tabs/`, block files no
//!   block points to (reported), anything else that is text. Binary files
//!   outside `static/` (not UTF-8, or holding NUL or other control
//!   characters that no XML or HTML file has) are reported and dropped: kept
//!   as text they would be stored escaped, six bytes for each NUL. Files
//!   outside `static/` have their own small size and count caps
//!   (`ImportLimits::max_text_*`), checked before their bytes are read.
//! - Content libraries (`library.xml`) are refused: a library is not a course.
//! - Symbolic links inside an archive are never followed: one pointing at an
//!   absolute path or out of the archive is refused, one pointing inside it
//!   is skipped with a warning (the MITx fixture has two, to files that were
//!   never in the export). Hard links are refused.

mod archive;
mod assets;
mod body;
mod error;
mod links;
mod policy;
mod read;
mod sort;
mod write;
mod xml;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use assets::content_type;
pub use error::OlxError;
pub use links::rewrite_static_links;
pub use xml::nesting_depth;

use crate::tree::{Asset, CourseTree};

/// Caps on what an import may unpack and parse; anything past one is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportLimits {
    /// All files together, unpacked.
    pub max_total_bytes: u64,
    /// One file, unpacked (checked against the size an archive declares
    /// before its data is read).
    pub max_file_bytes: u64,
    pub max_files: usize,
    /// Files outside `static/` become course text (block XML, HTML, about
    /// pages, files kept for export) that every load of the course parses,
    /// so they get much smaller caps than media: one file, all of them
    /// together, and how many. Checked on the size an archive declares,
    /// before the data is read.
    pub max_text_file_bytes: u64,
    pub max_text_bytes: u64,
    pub max_text_files: usize,
    /// Element nesting within one XML file, and block nesting in the course.
    pub max_xml_depth: usize,
    /// Nodes (elements, text, …) in one XML file.
    pub max_xml_nodes: u32,
    pub max_blocks: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            max_total_bytes: 1 << 30,
            max_file_bytes: 256 << 20,
            max_files: 50_000,
            max_text_file_bytes: 8 << 20,
            max_text_bytes: 64 << 20,
            max_text_files: 20_000,
            max_xml_depth: 200,
            max_xml_nodes: 2_000_000,
            max_blocks: 100_000,
        }
    }
}

/// A course read from OLX.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedCourse {
    pub tree: CourseTree,
    /// Path under `static/` → bytes (`tree.assets` describes each).
    pub asset_bytes: BTreeMap<String, Vec<u8>>,
    pub report: ImportReport,
}

/// What an import found, for the person who ran it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Every block, the course block included, by type.
    pub blocks_by_type: BTreeMap<String, usize>,
    pub assets: usize,
    pub asset_bytes: u64,
    /// Blocks of types Lectern does not model (kept as XML, exported back).
    pub unsupported: BTreeMap<String, usize>,
    pub warnings: Vec<String>,
    /// Problems graded by their Python script in the sandbox (one line
    /// each), so authors know which ones depend on it.
    #[serde(default)]
    pub scripted: Vec<String>,
}

/// The leaf block types Lectern models.
pub fn known_block_types() -> &'static [&'static str] {
    &["html", "problem", "video", "discussion"]
}

/// Structural types and modelled leaves.
fn is_modelled(block_type: &str) -> bool {
    matches!(block_type, "course" | "chapter" | "sequential" | "vertical")
        || known_block_types().contains(&block_type)
}

/// Imports a course export (`.tar.gz`). The archive's course folder is the
/// one holding `course.xml` (Studio names it `course/`); files outside it are
/// ignored with a warning.
pub fn read_archive(tar_gz: &[u8], limits: &ImportLimits) -> Result<ImportedCourse, OlxError> {
    read_archive_from(tar_gz, limits)
}

/// `read_archive` from a reader (an upload spooled to a file), so that the
/// compressed archive is never held in memory whole.
pub fn read_archive_from(
    tar_gz: impl std::io::Read,
    limits: &ImportLimits,
) -> Result<ImportedCourse, OlxError> {
    let unpacked = archive::unpack(tar_gz, limits)?;
    let mut warnings = unpacked.warnings;
    let prefix = course_folder(&unpacked.files)?;
    let mut files = BTreeMap::new();
    let mut outside = Vec::new();
    for (path, data) in unpacked.files {
        match path.strip_prefix(&prefix) {
            Some(rel) => {
                files.insert(rel.to_string(), data);
            }
            None => outside.push(path),
        }
    }
    if let Some(first) = outside.first() {
        warnings.push(format!(
            "{first}: outside the course folder {prefix}; ignored ({} such files)",
            outside.len()
        ));
    }
    read::read(files, limits, warnings)
}

/// Imports an unpacked course folder: paths relative to the folder holding
/// `course.xml`, `/`-separated. The caller must not have followed links when
/// gathering the files.
pub fn read_files(
    files: BTreeMap<String, Vec<u8>>,
    limits: &ImportLimits,
) -> Result<ImportedCourse, OlxError> {
    read::read(files, limits, Vec::new())
}

/// Writes the course as a `.tar.gz` export with one top folder, `course/`.
/// `asset_bytes` gives each asset's bytes (checked against its SHA-256).
pub fn write_archive(
    tree: &CourseTree,
    asset_bytes: &dyn Fn(&Asset) -> Option<Vec<u8>>,
) -> Result<Vec<u8>, OlxError> {
    let files = write::course_files(tree, asset_bytes)?;
    let prefixed = files
        .into_iter()
        .map(|(p, d)| (format!("course/{p}"), d))
        .collect();
    archive::pack(&prefixed)
}

/// The course folder as files (what `write_archive` packs), for callers that
/// want a folder rather than an archive.
pub fn write_files(
    tree: &CourseTree,
    asset_bytes: &dyn Fn(&Asset) -> Option<Vec<u8>>,
) -> Result<BTreeMap<String, Vec<u8>>, OlxError> {
    write::course_files(tree, asset_bytes)
}

/// The prefix (`"course/"`, or `""`) of the folder holding `course.xml`: the
/// top level, else the shallowest one-level folder that has it.
fn course_folder(files: &BTreeMap<String, Vec<u8>>) -> Result<String, OlxError> {
    if files.contains_key("course.xml") {
        return Ok(String::new());
    }
    let one_level = |name: &str| {
        files
            .keys()
            .filter_map(|p| p.strip_suffix(name))
            .find(|dir| !dir.is_empty() && !dir.contains('/'))
            .map(str::to_string)
    };
    if let Some(prefix) = one_level("/course.xml") {
        return Ok(format!("{prefix}/"));
    }
    if files.contains_key("library.xml") {
        return Err(OlxError::Library {
            path: "library.xml".into(),
        });
    }
    if let Some(prefix) = one_level("/library.xml") {
        return Err(OlxError::Library {
            path: format!("{prefix}/library.xml"),
        });
    }
    Err(OlxError::MissingCourseXml)
}

#[cfg(test)]
mod tests;
