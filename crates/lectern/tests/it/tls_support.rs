//! What the TLS tests share: a test CA (rcgen) for own certificate files
//! and for Pebble's own HTTPS, a blocking HTTPS client that trusts only the
//! roots it is given and reports the served certificate's serial, a plain
//! HTTP client, `lectern serve` with a configuration file, and Pebble (the
//! ACME test CA from Debian's `pebble` package) with `pebble-challtestsrv`
//! as its DNS server, every name resolving to 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

use crate::binary::free_port;

/// A certificate authority made for one test.
pub struct TestCa {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf for `names` (host names or IP addresses): (chain PEM, key PEM).
    pub fn leaf(&self, names: &[&str]) -> (String, String) {
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// What an HTTPS request got: status, whole response text, and the serial
/// of the certificate the server presented.
pub struct HttpsAnswer {
    pub status: u16,
    pub text: String,
    pub serial: String,
}

/// `GET path` over TLS to 127.0.0.1:`port`, asking for `host` (SNI and
/// `Host`), trusting only the certificates in `roots_pem`.
pub fn https_get(
    port: u16,
    host: &str,
    roots_pem: &str,
    path: &str,
) -> Result<HttpsAnswer, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(roots_pem.as_bytes()) {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let sock = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    match tls.read_to_end(&mut out) {
        Ok(_) => {}
        // A peer closing without close_notify after a whole response.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => {}
        Err(e) => return Err(e.to_string()),
    }
    let serial = tls
        .conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|der| lectern_web::tls::leaf_facts_der(der.as_ref()))
        .transpose()?
        .map(|f| f.serial)
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&out).into_owned();
    Ok(HttpsAnswer {
        status: status_of(&text),
        text,
        serial,
    })
}

fn status_of(text: &str) -> u16 {
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// A plain HTTP request with `Host: host`: (status, whole response).
pub fn http_request(port: u16, method: &str, host: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    (status_of(&out), out)
}

/// `lectern serve --config config` in `dir`; returns once it printed its
/// address (or panics with what it printed on error).
pub fn serve_with(dir: &Path, config: &Path) -> Child {
    let (child, line) = start_serve(dir, config, Duration::from_secs(30));
    assert!(line.contains("https://"), "unexpected first line: {line}");
    child
}

/// `lectern serve --config config` in `dir`, its stderr in `dir/serve.log`;
/// returns it with the first line it printed. Its output is drained to the
/// end (a closed pipe would fail the server's next print). Panics with the
/// log when nothing is printed within `wait`.
pub fn start_serve(dir: &Path, config: &Path, wait: Duration) -> (Child, String) {
    let mut child = crate::backend::lectern_in(dir)
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("serve.log")).unwrap())
        .spawn()
        .expect("start lectern");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    match rx.recv_timeout(wait) {
        Ok(line) => (child, line),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "lectern serve did not start: {}",
                std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default()
            );
        }
    }
}

/// `lectern --config config ARGS` in `dir`: (success, stdout + stderr).
pub fn lectern_cli(dir: &Path, config: &Path, args: &[&str]) -> (bool, String) {
    let out = crate::backend::lectern_in(dir)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("run lectern");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Polls `check` every 200 ms until it answers `Some` or `secs` pass.
pub fn wait_for<T>(secs: u64, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Pebble and its DNS server, on loopback ports of their own, stopped on drop.
pub struct Pebble {
    _dir: tempfile::TempDir,
    pebble: Child,
    dns: Child,
    pub acme_port: u16,
    management_port: u16,
    dns_management_port: u16,
    /// The CA of Pebble's own HTTPS (`[tls] acme_ca_file`).
    pub https_ca_file: PathBuf,
    https_ca: String,
}

fn installed(binary: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(binary).is_file()))
}

impl Pebble {
    /// Starts Pebble validating HTTP-01 on `http_port` (Lectern's
    /// `http_listen`). Panics with the fix when Pebble is not installed.
    pub fn start(http_port: u16) -> Pebble {
        for binary in ["pebble", "pebble-challtestsrv"] {
            assert!(
                installed(binary),
                "{binary} is not installed: scripts/test.sh installs it (apt-get install pebble)"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new("Pebble HTTPS test CA");
        let (cert, key) = ca.leaf(&["localhost", "127.0.0.1"]);
        std::fs::write(dir.path().join("cert.pem"), cert).unwrap();
        std::fs::write(dir.path().join("key.pem"), key).unwrap();
        let https_ca_file = dir.path().join("ca.pem");
        std::fs::write(&https_ca_file, &ca.pem).unwrap();
        let (acme_port, management_port) = (free_port(), free_port());
        let (dns_port, dns_management_port) = (free_port(), free_port());
        let config = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{acme_port}"),
            "managementListenAddress": format!("127.0.0.1:{management_port}"),
            "certificate": dir.path().join("cert.pem"),
            "privateKey": dir.path().join("key.pem"),
            "httpPort": http_port,
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false
        }});
        let config_file = dir.path().join("pebble.json");
        std::fs::write(&config_file, config.to_string()).unwrap();
        let dns = Command::new("pebble-challtestsrv")
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
            .args(["-dns01", &format!("127.0.0.1:{dns_port}")])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-management", &format!("127.0.0.1:{dns_management_port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pebble-challtestsrv");
        let pebble = Command::new("pebble")
            .arg("-config")
            .arg(&config_file)
            .args(["-dnsserver", &format!("127.0.0.1:{dns_port}")])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            // Every order validates afresh (no reuse of earlier authorizations).
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pebble");
        let pebble = Pebble {
            _dir: dir,
            pebble,
            dns,
            acme_port,
            management_port,
            dns_management_port,
            https_ca_file,
            https_ca: ca.pem,
        };
        wait_for(60, "Pebble to answer", || {
            https_get(acme_port, "127.0.0.1", &pebble.https_ca, "/dir")
                .ok()
                .filter(|a| a.status == 200)
        });
        pebble
    }

    /// Pebble's issuing root, from its management interface: the only root
    /// a client checking Lectern's ACME certificates trusts.
    pub fn root(&self) -> String {
        let answer = https_get(
            self.management_port,
            "127.0.0.1",
            &self.https_ca,
            "/roots/0",
        )
        .unwrap();
        assert_eq!(answer.status, 200, "{}", answer.text);
        let start = answer.text.find("-----BEGIN").expect("a PEM root");
        answer.text[start..].to_string()
    }

    /// Makes `host` resolve to `ip` for Pebble's validation.
    pub fn resolve(&self, host: &str, ip: &str) {
        // challtestsrv keys records by fully qualified name.
        let body = serde_json::json!({"host": format!("{host}."), "addresses": [ip]}).to_string();
        let (status, text) = http_request(
            self.dns_management_port,
            "POST",
            "127.0.0.1",
            "/add-a",
            &body,
        );
        assert_eq!(status, 200, "{text}");
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.pebble.kill();
        let _ = self.pebble.wait();
        let _ = self.dns.kill();
        let _ = self.dns.wait();
    }
}
