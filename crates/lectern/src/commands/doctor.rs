//! `lectern doctor`: checks what an operator would check first, prints one
//! line per check, and exits 0 only when every check passes.

use crate::config::Config;

struct Report {
    failed: bool,
}

impl Report {
    fn check(&mut self, name: &str, result: Result<String, String>) {
        match result {
            Ok(detail) => say!("ok    {name}: {detail}"),
            Err(problem) => {
                self.failed = true;
                say!("FAIL  {name}: {problem}");
            }
        }
    }

    /// Worth an operator's attention, but not a failure.
    fn warn(&mut self, name: &str, detail: &str) {
        say!("WARN  {name}: {detail}");
    }
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let mut report = Report { failed: false };
    report.check(
        "configuration",
        Ok(format!(
            "listen {}, data {}",
            config.listen,
            config.data_dir.display()
        )),
    );
    let writable = std::fs::create_dir_all(&config.data_dir)
        .and_then(|_| {
            let probe = config.data_dir.join(".doctor-probe");
            std::fs::write(&probe, b"ok")?;
            std::fs::remove_file(&probe)
        })
        .map(|_| "writable".to_string())
        .map_err(|e| format!("{} is not writable: {e}", config.data_dir.display()));
    report.check("data folder", writable);
    match super::open_app(&config).await {
        Ok((app, store)) => {
            report.check(
                "database",
                app.ping()
                    .await
                    .map(|_| format!("{} answers, migrations current", app.backend()))
                    .map_err(|e| e.to_string()),
            );
            report.check(
                "administrator",
                match app.has_admin().await {
                    Ok(true) => Ok("at least one active site administrator".into()),
                    Ok(false) => Err("no administrator yet: run `lectern user create --admin` or use the setup link `lectern serve` prints".into()),
                    Err(e) => Err(e.to_string()),
                },
            );
            for (name, line) in super::tls::doctor(&config, &app).await {
                report.check(&name, line);
            }
            match app.site_usage().await {
                Ok(usage) => match app.site_limits().summary(&usage) {
                    (line, false) => report.check("limits", Ok(line)),
                    (line, true) => {
                        report.warn("limits", &format!("{line} (90 % or more of a limit used)"))
                    }
                },
                Err(e) => report.check("limits", Err(e.to_string())),
            }
            report.check("search index", search_index(&config, app).await);
            store.close().await;
        }
        Err(e) => report.check("database", Err(format!("{e:#}"))),
    }
    report.check("backup freshness", backup_freshness(&config).await);
    report.check("scripted problems", super::scripts::check(&config).await);
    if report.failed {
        anyhow::bail!("some checks failed")
    }
    Ok(())
}

/// Builds the search index from the database as `lectern serve` does at
/// start, and reports its size and how long it took (or that search is off).
async fn search_index(config: &Config, app: lectern_app::Lectern) -> Result<String, String> {
    if !config.search.enabled {
        return Ok("off ([search] enabled = false)".into());
    }
    let index = lectern_search::TantivyIndex::new().map_err(|e| e.to_string())?;
    let app = app.with_search(std::sync::Arc::new(index));
    let started = std::time::Instant::now();
    let report = app.search_sync().await.map_err(|e| e.to_string())?;
    let took = started.elapsed();
    if report.failed > 0 {
        return Err(format!(
            "{} course(s) could not be indexed (see the log)",
            report.failed
        ));
    }
    let (stats, courses) = app.search_stats().unwrap_or_default();
    Ok(format!(
        "rebuilds in {} ms: {courses} course(s), {} documents, {} KiB in memory; each node polls every {} ms",
        took.as_millis(),
        stats.documents,
        stats.bytes / 1024,
        config.search.poll_ms
    ))
}

/// The newest backup in the configured target: with a schedule, none at
/// all or one older than twice the schedule's interval is a failure; without
/// one, the age is only reported.
async fn backup_freshness(config: &Config) -> Result<String, String> {
    let schedule =
        super::backup_schedule::Schedule::from_config(config).map_err(|e| format!("{e:#}"))?;
    let target = super::backup_target::target(config, None).map_err(|e| format!("{e:#}"))?;
    let where_ = target.describe();
    let entries = tokio::task::spawn_blocking(move || target.list())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let now = chrono::Utc::now();
    let newest = entries.last().map(|e| e.created);
    let age = |t: chrono::DateTime<chrono::Utc>| {
        let m = (now - t).num_minutes();
        if m < 120 {
            format!("{m} min")
        } else {
            format!("{} h", m / 60)
        }
    };
    match (schedule, newest) {
        (None, None) => Ok(format!("no schedule set and no backup in {where_}")),
        (None, Some(t)) => Ok(format!(
            "newest backup in {where_} is {} old (no schedule set)",
            age(t)
        )),
        (Some(_), None) => Err(format!("a schedule is set but {where_} holds no backup")),
        (Some(s), Some(t)) => {
            let limit = s
                .interval(now)
                .map(|i| i * 2)
                .unwrap_or(chrono::Duration::days(2));
            if now - t > limit {
                Err(format!(
                    "the newest backup in {where_} is {} old, more than twice the schedule's interval",
                    age(t)
                ))
            } else {
                Ok(format!("newest backup in {where_} is {} old", age(t)))
            }
        }
    }
}
