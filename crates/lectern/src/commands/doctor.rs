//! `lectern doctor`: checks what an operator would check first, prints one
//! line per check, and exits 0 only when every check passes.

use crate::config::Config;

struct Report {
    failed: bool,
}

impl Report {
    fn check(&mut self, name: &str, result: Result<String, String>) {
        match result {
            Ok(detail) => println!("ok    {name}: {detail}"),
            Err(problem) => {
                self.failed = true;
                println!("FAIL  {name}: {problem}");
            }
        }
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
            store.close().await;
        }
        Err(e) => report.check("database", Err(format!("{e:#}"))),
    }
    println!("note  backups: not part of this release yet");
    if report.failed {
        anyhow::bail!("some checks failed")
    }
    Ok(())
}
