//! `lectern import` and `lectern export` (Open edX OLX archives).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use lectern_app::transfer::ImportSource;
use lectern_app::AppError;
use lectern_content::olx::ImportLimits;
use lectern_content::CourseKey;

use crate::config::Config;

/// Reads an unpacked course folder without following symbolic links.
fn read_folder(root: &Path, limits: &ImportLimits) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let entry = entry?;
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path)?;
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if meta.file_type().is_symlink() {
                eprintln!("warning: {rel}: a symbolic link, not followed");
            } else if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                total += meta.len();
                if !rel.starts_with("static/") && meta.len() > limits.max_text_file_bytes {
                    bail!(
                        "{rel}: too large for a file outside static/ ({} bytes; the limit is {} bytes)",
                        meta.len(),
                        limits.max_text_file_bytes
                    );
                }
                if meta.len() > limits.max_file_bytes
                    || total > limits.max_total_bytes
                    || files.len() >= limits.max_files
                {
                    bail!("{rel}: the course folder is larger than an import may be");
                }
                files.insert(
                    rel,
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
                );
            }
        }
    }
    Ok(files)
}

pub async fn import(config: Config, archive: &Path, owner: Option<&str>) -> anyhow::Result<()> {
    let limits = ImportLimits::default();
    let source = if archive.is_dir() {
        ImportSource::Files(read_folder(archive, &limits)?)
    } else {
        let size = std::fs::metadata(archive)
            .with_context(|| format!("reading {}", archive.display()))?
            .len();
        if size > limits.max_total_bytes {
            bail!(
                "{} is {size} bytes, larger than an import may be",
                archive.display()
            );
        }
        // Read as a stream: the archive is never held in memory whole.
        ImportSource::ArchiveFile(
            std::fs::File::open(archive)
                .with_context(|| format!("reading {}", archive.display()))?,
        )
    };
    let (app, store) = super::open_app(&config).await?;
    let result = async {
        let outcome = app.import_course(None, source, limits).await;
        let outcome = match outcome {
            Err(AppError::Invalid { message, .. }) => bail!("{}: {message}", archive.display()),
            other => other?,
        };
        if let Some(username) = owner {
            let user = app.user_by_username(username).await?;
            app.grant_instructor(&user, &outcome.course.key).await?;
        }
        Ok(outcome)
    }
    .await;
    store.close().await;
    let outcome = result?;
    let r = &outcome.report;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", outcome.course.key)?;
    let blocks: Vec<String> = r
        .blocks_by_type
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    eprintln!(
        "{} \"{}\" as published version {}",
        if outcome.replaced {
            "re-imported"
        } else {
            "imported"
        },
        outcome.course.display_name,
        outcome.version
    );
    eprintln!("blocks: {}", blocks.join(", "));
    eprintln!("static files: {} ({} bytes)", r.assets, r.asset_bytes);
    if !r.unsupported.is_empty() {
        let u: Vec<String> = r
            .unsupported
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        eprintln!(
            "kept but not yet supported (shown as placeholders): {}",
            u.join(", ")
        );
    }
    if !r.scripted.is_empty() {
        eprintln!(
            "graded by their Python scripts in the sandbox: {} problems",
            r.scripted.len()
        );
        for s in &r.scripted {
            eprintln!("  {s}");
        }
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

pub async fn export(config: Config, course_key: &str, out: &Path) -> anyhow::Result<()> {
    let key: CourseKey = course_key.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let (app, store) = super::open_app(&config).await?;
    let bytes = app.export_course(None, &key).await;
    store.close().await;
    let bytes = bytes?;
    // Write beside the target and rename, so a failed export never leaves half a file.
    let tmp = out.with_extension("tar.gz.partial");
    std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("renaming to {}", out.display()))?;
    eprintln!(
        "exported {key} to {} ({} bytes)",
        out.display(),
        bytes.len()
    );
    Ok(())
}
