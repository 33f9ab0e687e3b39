//! After the walk: sorting the files no block used (assets, about and info
//! pages, files kept for export, files refused) and building the report.

use std::collections::{BTreeMap, BTreeSet};

use super::error::OlxError;
use super::read::{as_text, Reader};
use super::{assets, xml, ImportReport, ImportedCourse};
use crate::tree::CourseTree;

impl Reader<'_> {
    /// Sorts the files the walk did not use and builds the report (asset
    /// bytes are moved in by the caller, which owns the files).
    pub(super) fn finish(mut self, mut tree: CourseTree) -> Result<ImportedCourse, OlxError> {
        let mut drafts = 0usize;
        // Where export will write each block; an unused file there would be
        // overwritten, so it is not kept.
        let run = tree.key.run.clone();
        let mut block_files: BTreeSet<String> = tree
            .blocks
            .values()
            .filter(|b| b.block_type != "course")
            .flat_map(|b| {
                let stem = format!("{}/{}", b.block_type, b.id.replace(':', "/"));
                let html = (b.block_type == "html").then(|| format!("{stem}.html"));
                std::iter::once(format!("{stem}.xml")).chain(html)
            })
            .collect();
        block_files.insert(format!("course/{}.xml", run.replace(':', "/")));
        block_files.insert(format!("policies/{run}/policy.json"));
        block_files.insert(format!("policies/{run}/grading_policy.json"));
        let files = self.files;
        for (path, bytes) in files {
            if self.consumed.contains(path) {
                continue;
            }
            if let Some(rel) = path.strip_prefix("static/") {
                tree.assets
                    .insert(rel.to_string(), assets::describe(rel, bytes));
                continue;
            }
            if let Some(name) = path
                .strip_prefix("about/")
                .and_then(|p| p.strip_suffix(".html"))
            {
                let text = self.decode(path, bytes);
                tree.about.insert(name.to_string(), text);
                continue;
            }
            if let Some(name) = path
                .strip_prefix("info/")
                .and_then(|p| p.strip_suffix(".html"))
            {
                let text = self.decode(path, bytes);
                tree.info.insert(name.to_string(), text);
                continue;
            }
            let Some(text) = as_text(bytes) else {
                self.warnings.push(format!(
                    "{path}: not text (binary content belongs under static/); not imported"
                ));
                continue;
            };
            if path.ends_with(".xml") {
                // Kept XML is checked too: a hostile file is refused even
                // where nothing points to it, rather than carried along.
                xml::parse(
                    path,
                    text,
                    self.limits.max_xml_depth,
                    self.limits.max_xml_nodes,
                )?;
            }
            if block_files.contains(path) {
                self.warnings.push(format!(
                    "{path}: unused, and export writes this file anew; not kept"
                ));
                continue;
            }
            if path.starts_with("drafts/") {
                drafts += 1;
            } else if path.ends_with(".xml") && !is_support_file(path) {
                self.warnings.push(format!(
                    "{path}: no block of the course points to it; kept for export only"
                ));
            }
            tree.extra_files.insert(path.clone(), text.to_string());
        }
        if drafts > 0 {
            self.warnings.push(format!(
                "drafts/: {drafts} files of unpublished changes are not part of the imported course; kept for export only"
            ));
        }
        for key in self
            .policy
            .blocks
            .keys()
            .filter(|k| !self.used_policy.contains(*k))
        {
            self.warnings.push(format!(
                "policy.json: the entry {key:?} matches no block of the course"
            ));
        }
        let mut report = ImportReport {
            warnings: self.warnings,
            ..Default::default()
        };
        for b in tree.blocks.values() {
            *report
                .blocks_by_type
                .entry(b.block_type.clone())
                .or_insert(0) += 1;
            if !super::is_modelled(&b.block_type) {
                *report.unsupported.entry(b.block_type.clone()).or_insert(0) += 1;
            }
        }
        report.assets = tree.assets.len();
        report.asset_bytes = tree.assets.values().map(|a| a.size).sum();
        Ok(ImportedCourse {
            tree,
            asset_bytes: BTreeMap::new(),
            report,
        })
    }
}

/// Files outside the outline that Open edX writes and Lectern keeps as they are.
fn is_support_file(path: &str) -> bool {
    ["policies/", "assets/", "tabs/", "about/", "info/"]
        .iter()
        .any(|p| path.starts_with(p))
}
