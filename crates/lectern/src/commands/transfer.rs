//! `lectern import` and `lectern export` (Open edX OLX archives).

use std::path::Path;

use crate::config::Config;

pub async fn import(_config: Config, _archive: &Path, _owner: Option<&str>) -> anyhow::Result<()> {
    anyhow::bail!("course import is not available in this build yet")
}

pub async fn export(_config: Config, _course_key: &str, _out: &Path) -> anyhow::Result<()> {
    anyhow::bail!("course export is not available in this build yet")
}
