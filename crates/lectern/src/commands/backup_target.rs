//! Which `Target` a `--to` (or the `[backup] target` setting) names, and how
//! to open a backup given as a path or an `s3://` location.

use std::path::PathBuf;
use std::sync::Arc;

use lectern_backup::ops::Opener;
use lectern_backup::{BackupError, LocalTarget, S3Target, Target};

use crate::config::Config;

/// `to` (a flag), else the `[backup] target` setting, else `DATA/backups`.
pub fn target(config: &Config, to: Option<&str>) -> anyhow::Result<Arc<dyn Target>> {
    let named = to
        .map(str::to_string)
        .unwrap_or_else(|| config.backup.target.trim().to_string());
    if named.starts_with("s3://") {
        return Ok(Arc::new(S3Target::new(&named, &config.backup.s3()?)?));
    }
    let dir = if named.is_empty() {
        config.data_dir.join("backups")
    } else {
        PathBuf::from(named)
    };
    Ok(Arc::new(LocalTarget::new(dir)))
}

/// Opens a backup at a path or an `s3://bucket/key` location.
pub fn opener(config: &Config, location: &str) -> anyhow::Result<Opener> {
    if let Some(rest) = location.strip_prefix("s3://") {
        let bucket = rest.split('/').next().unwrap_or("");
        let s3 = Arc::new(S3Target::new(
            &format!("s3://{bucket}"),
            &config.backup.s3()?,
        )?);
        let location = location.to_string();
        return Ok(Arc::new(move || s3.open(&location)));
    }
    let path = PathBuf::from(location);
    Ok(Arc::new(move || {
        let f = std::fs::File::open(&path)
            .map_err(BackupError::io(format!("opening {}", path.display())))?;
        Ok(Box::new(f) as Box<dyn std::io::Read + Send>)
    }))
}
