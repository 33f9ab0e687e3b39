//! `lectern serve` terminating TLS with the operator's own certificate
//! files: the certificate served (checked by a client trusting only the
//! CA that signed it), plain HTTP redirecting to HTTPS except health and
//! metrics, and bad files refused at start with a message naming them.

use std::path::Path;

use crate::binary::{free_port, sigterm, wait_exit};
use crate::tls_support::{http_request, https_get, lectern_cli, serve_with, wait_for, TestCa};

fn own_files_config(
    dir: &Path,
    https: u16,
    http: u16,
    cert: &str,
    key: &str,
) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("cert.pem"), cert).unwrap();
    std::fs::write(dir.join("key.pem"), key).unwrap();
    let config = dir.join("tls.toml");
    std::fs::write(
        &config,
        format!(
            "[tls]\nlisten = \"127.0.0.1:{https}\"\nhttp_listen = \"127.0.0.1:{http}\"\n\
             cert_file = {:?}\nkey_file = {:?}\n",
            dir.join("cert.pem"),
            dir.join("key.pem")
        ),
    )
    .unwrap();
    config
}

#[test]
fn own_certificate_files_are_served_and_plain_http_redirects() {
    let tmp = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Own test CA");
    let (cert, key) = ca.leaf(&["learn.lectern.test"]);
    let serial = lectern_web::tls::leaf_facts(&cert).unwrap().serial;
    let (https, http) = (free_port(), free_port());
    let config = own_files_config(tmp.path(), https, http, &cert, &key);
    let mut server = serve_with(tmp.path(), &config);

    let page = wait_for(20, "the HTTPS site", || {
        https_get(https, "learn.lectern.test", &ca.pem, "/health/live").ok()
    });
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.serial, serial, "the own certificate is the one served");
    let home = https_get(https, "learn.lectern.test", &ca.pem, "/").unwrap();
    assert_eq!(home.status, 200, "{}", home.text);
    assert!(home.text.contains("<html"), "{}", home.text);
    // A client trusting another CA refuses the connection.
    let other = TestCa::new("Unrelated CA");
    assert!(https_get(https, "learn.lectern.test", &other.pem, "/").is_err());

    let (status, text) = http_request(http, "GET", "learn.lectern.test", "/courses?page=2", "");
    assert_eq!(status, 308, "{text}");
    let location = format!("location: https://learn.lectern.test:{https}/courses?page=2");
    assert!(text.to_lowercase().contains(&location), "{text}");
    for path in ["/health/live", "/health/ready", "/metrics"] {
        let (status, text) = http_request(http, "GET", "learn.lectern.test", path, "");
        assert_eq!(status, 200, "{path} on plain HTTP: {text}");
    }
    let (status, _) = http_request(http, "GET", "bad host", "/", "");
    assert_eq!(status, 400, "no redirect to a malformed host");
    let (status, _) = http_request(
        http,
        "GET",
        "learn.lectern.test",
        "/.well-known/acme-challenge/unknown-token",
        "",
    );
    assert_eq!(status, 404);

    let (ok, doctor) = lectern_cli(tmp.path(), &config, &["doctor"]);
    assert!(
        doctor.contains(&format!("serial {serial}")),
        "{ok} {doctor}"
    );
    sigterm(&server);
    assert!(wait_exit(&mut server).success());
}

#[test]
fn bad_certificate_files_stop_the_start_with_a_clear_error() {
    let ca = TestCa::new("Own test CA");
    let (cert, key) = ca.leaf(&["learn.lectern.test"]);
    let (_, other_key) = ca.leaf(&["other.lectern.test"]);
    let cases = [
        (
            cert.clone(),
            other_key,
            "does not belong to the certificate",
        ),
        (
            "not a certificate\n".to_string(),
            key.clone(),
            "no certificate found",
        ),
        (
            cert.clone(),
            "not a key\n".to_string(),
            "no private key found",
        ),
    ];
    for (cert, key, says) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let config = own_files_config(tmp.path(), free_port(), free_port(), &cert, &key);
        let (ok, out) = lectern_cli(tmp.path(), &config, &["serve"]);
        assert!(!ok, "serve started with a bad file: {out}");
        assert!(out.contains(says), "{says:?} not in: {out}");
        assert!(out.contains("cert_file"), "names the setting: {out}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let config = own_files_config(tmp.path(), free_port(), free_port(), &cert, &key);
    std::fs::remove_file(tmp.path().join("key.pem")).unwrap();
    let (ok, out) = lectern_cli(tmp.path(), &config, &["serve"]);
    assert!(!ok && out.contains("reading [tls] key_file"), "{out}");
}
