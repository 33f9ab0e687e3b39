//! Certificates from an ACME CA, against Pebble (Let's Encrypt's test CA)
//! on loopback: one certificate for an instance's two hosts (the default
//! site has its own, for `[tls] hosts`) issued by a serving node and
//! served over TLS to a client that trusts only Pebble's root; a forced
//! renewal (by the CLI, while the node answers the CA's HTTP-01 requests
//! from the database) served with a new serial; the same certificate
//! served after a restart; and a failed challenge leaving the certificate
//! in place, with `lectern doctor` saying why.

use std::path::{Path, PathBuf};

use crate::binary::{free_port, sigterm, wait_exit};
use crate::tls_support::{https_get, lectern_cli, serve_with, wait_for, Pebble};

/// The instance's hosts.
const HOSTS: [&str; 2] = ["a.lectern.test", "b.lectern.test"];
/// The default site's own host (`[tls] hosts`).
const OWN_HOST: &str = "www.lectern.test";

fn acme_config(dir: &Path, https: u16, http: u16, pebble: &Pebble) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let config = dir.join("tls.toml");
    std::fs::write(
        &config,
        format!(
            "[tls]\nlisten = \"127.0.0.1:{https}\"\nhttp_listen = \"127.0.0.1:{http}\"\n\
             hosts = [\"{OWN_HOST}\"]\n\
             acme_directory = \"https://127.0.0.1:{}/dir\"\nacme_ca_file = {:?}\n\
             contact_email = \"ops@example.org\"\nrefresh_secs = 1\n",
            pebble.acme_port, pebble.https_ca_file
        ),
    )
    .unwrap();
    config
}

/// The serial both hosts are served with (they share one certificate).
/// `None` while either host is unreachable or while the two differ: a node
/// that picks a renewed certificate up between the two requests serves the
/// old one to the first and the new one to the second, so a mismatch is
/// retried by the waits and fails the comparisons made at rest.
fn served_serial(https: u16, root: &str) -> Option<String> {
    let a = https_get(https, HOSTS[0], root, "/health/live").ok()?;
    let b = https_get(https, HOSTS[1], root, "/health/live").ok()?;
    assert_eq!(a.status, 200, "{}", a.text);
    (a.serial == b.serial).then_some(a.serial)
}

#[test]
fn acme_issues_renews_keeps_and_survives_a_failed_challenge() {
    let tmp = tempfile::tempdir().unwrap();
    let (https, http) = (free_port(), free_port());
    let pebble = Pebble::start(http);
    let root = pebble.root();
    let config = acme_config(tmp.path(), https, http, &pebble);

    let (ok, out) = lectern_cli(
        tmp.path(),
        &config,
        &[
            "instance", "create", "acme", "--host", HOSTS[0], "--host", HOSTS[1],
        ],
    );
    assert!(ok, "{out}");

    // Issued by the serving node on its own, for the instance's two hosts
    // and for the default site's.
    let mut server = serve_with(tmp.path(), &config);
    let first = wait_for(90, "the first certificates", || {
        let serial = served_serial(https, &root)?;
        https_get(https, OWN_HOST, &root, "/health/live").ok()?;
        Some(serial)
    });
    let (ok, status) = lectern_cli(tmp.path(), &config, &["tls", "status"]);
    assert!(ok, "{status}");
    for host in HOSTS.into_iter().chain([OWN_HOST]) {
        assert!(
            status.contains(&format!("{host}: certificate valid until")),
            "{status}"
        );
    }
    assert!(status.contains(&format!("serial {first}")), "{status}");
    let own = https_get(https, OWN_HOST, &root, "/health/live").expect("the default site's host");
    assert_ne!(
        own.serial, first,
        "the default site has a certificate of its own"
    );

    // Forced renewal by the CLI; the node answers the challenges and picks
    // the new certificate up from the database.
    let (ok, out) = lectern_cli(tmp.path(), &config, &["tls", "renew", "--force"]);
    assert!(ok, "{out}");
    assert!(out.contains("issued, serial"), "{out}");
    let second = wait_for(20, "the renewed certificate", || {
        served_serial(https, &root).filter(|s| *s != first)
    });
    assert!(
        out.contains(&second),
        "the CLI named the served serial: {out}"
    );

    // A restart serves the stored certificate at once; nothing is ordered.
    sigterm(&server);
    assert!(wait_exit(&mut server).success());
    let mut server = serve_with(tmp.path(), &config);
    assert_eq!(
        served_serial(https, &root).as_deref(),
        Some(second.as_str())
    );

    // The CA can no longer reach the hosts: the order fails, the old
    // certificate stays served, and doctor says why.
    for host in HOSTS {
        pebble.resolve(host, "127.0.0.9");
    }
    let (ok, out) = lectern_cli(tmp.path(), &config, &["tls", "renew", "--force"]);
    assert!(!ok, "the renewal should fail: {out}");
    assert!(out.contains("FAILED"), "{out}");
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(
        served_serial(https, &root).as_deref(),
        Some(second.as_str())
    );
    let (ok, doctor) = lectern_cli(tmp.path(), &config, &["doctor"]);
    assert!(!ok, "doctor fails on a failed order: {doctor}");
    let line = doctor
        .lines()
        .find(|l| l.contains(&format!("tls {}", HOSTS[0])))
        .unwrap_or_else(|| panic!("no TLS line: {doctor}"));
    assert!(line.starts_with("FAIL"), "{line}");
    assert!(line.contains(&format!("serial {second}")), "{line}");
    assert!(line.contains("last order FAILED at"), "{line}");
    assert!(line.contains("127.0.0.9"), "names the reason: {line}");

    sigterm(&server);
    assert!(wait_exit(&mut server).success());
}
