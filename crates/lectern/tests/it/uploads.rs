//! Issue 13's upload attacks, reproduced: an archive hiding 120 MiB of NUL
//! bytes outside `static/` (through HTTP and the CLI, under a memory
//! limit), and large bodies sent by callers who may not upload (refused
//! before the body is read, with the server's memory flat); plus the caps
//! on authorised uploads, which leave nothing behind.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;

use crate::support::{json, TestSite};

use lectern_web::WebConfig;

/// A tiny course whose `course/about/x.html` holds `zeros` NUL bytes:
/// about 120 KiB compressed for 120 MiB, streamed into the archive.
pub fn zero_archive(zeros: u64) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    let mut add = |path: &str, size: u64, data: &mut dyn Read| {
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, data).unwrap();
    };
    for (path, text) in [
        (
            "course/course.xml",
            r#"<course url_name="r1" org="Zero" course="Z1"/>"#,
        ),
        (
            "course/course/r1.xml",
            r#"<course display_name="Zeros"><chapter url_name="c1" display_name="C"/></course>"#,
        ),
    ] {
        add(path, text.len() as u64, &mut text.as_bytes());
    }
    add(
        "course/about/x.html",
        zeros,
        &mut std::io::repeat(0).take(zeros),
    );
    b.into_inner().unwrap().finish().unwrap()
}

/// Bytes of every file under `dir`.
pub fn folder_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for entry in entries.flatten() {
        let meta = entry.metadata().unwrap();
        total += if meta.is_dir() {
            folder_bytes(&entry.path())
        } else {
            meta.len()
        };
    }
    total
}

const NUL_BYTES: u64 = 120 << 20;

/// Address space given to the compiled binary in these tests: a normal
/// import fits (the demo course needs under 384 MiB), keeping 120 MiB of
/// zeros as escaped text would not, so a regression fails the test instead
/// of exhausting the machine.
const MEMORY_LIMIT: u64 = 768 << 20;

/// `lectern ARGS` run under `MEMORY_LIMIT`.
fn limited(dir: &Path) -> std::process::Command {
    let mut c = std::process::Command::new("prlimit");
    c.arg(format!("--as={MEMORY_LIMIT}"))
        .arg(crate::binary::BIN)
        .env("MALLOC_ARENA_MAX", "2")
        .env_remove("RUST_LOG")
        .current_dir(dir);
    crate::backend::on_backend(&mut c, dir);
    c
}

#[tokio::test]
async fn an_archive_hiding_zeros_is_refused_through_http_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    crate::binary::create_admin(limited(dir.path()), "root");
    let port = crate::binary::free_port();
    let mut server = serve_limited(dir.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let admin = crate::support::Client {
        http: reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .build()
            .unwrap(),
        jar,
        base: base.clone(),
    };
    for _ in 0..100 {
        if admin
            .http
            .get(admin.url("/health/ready"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = admin
        .post_form(
            "/login",
            &[
                ("login", "root".into()),
                ("password", crate::support::PASSWORD.into()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let bearer = crate::support::bearer(&base, "root").await;
    let archive = zero_archive(NUL_BYTES);
    assert!(archive.len() < 1 << 20, "{} bytes", archive.len());
    let before = crate::backend::stored_bytes(dir.path());

    let r = reqwest::Client::new()
        .post(admin.url("/api/courses/v0/import/"))
        .header("Authorization", &bearer)
        .body(archive.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let err = json(r).await;
    let msg = err["field_errors"]["archive"].as_str().unwrap();
    assert!(
        msg.contains("about/x.html: too large for a file outside static/")
            && msg.contains("the limit is 8388608 bytes"),
        "{msg}"
    );

    let csrf = admin.csrf().await;
    let part = reqwest::multipart::Part::bytes(archive).file_name("zeros.tar.gz");
    let r = admin
        .http
        .post(admin.url(&format!("/studio/import?csrf_token={csrf}")))
        .multipart(reqwest::multipart::Form::new().part("archive", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("about/x.html"));

    let (_, catalogue) = admin.text("/courses").await;
    assert!(!catalogue.contains("Zeros"), "no course was made");
    let grown = crate::backend::stored_bytes(dir.path()).saturating_sub(before);
    assert!(grown < 4 << 20, "the stored data grew by {grown} bytes");
    assert!(
        server.try_wait().unwrap().is_none(),
        "the server is still up"
    );
    crate::binary::sigterm(&server);
    assert!(crate::binary::wait_exit(&mut server).success());
}

#[test]
fn the_cli_refuses_an_archive_hiding_zeros_under_a_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zeros.tar.gz");
    std::fs::write(&path, zero_archive(NUL_BYTES)).unwrap();
    let before = crate::backend::stored_bytes(dir.path());
    let import = |archive: &Path| {
        limited(dir.path())
            .arg("import")
            .arg(archive)
            .output()
            .unwrap()
    };
    let out = import(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("about/x.html: too large for a file outside static/ (125829120 bytes; the limit is 8388608 bytes)"),
        "{stderr}"
    );
    let grown = crate::backend::stored_bytes(dir.path()).saturating_sub(before);
    assert!(grown < 4 << 20, "the stored data grew by {grown} bytes");
    let demo = dir.path().join("demo.tar.gz");
    std::fs::write(
        &demo,
        crate::transfer::fixture("openedx-demo-course.tar.gz"),
    )
    .unwrap();
    let out = import(&demo);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Sends a request's head with a large declared body and only `sent` bytes
/// of it, then reads the status line: it must come while the rest of the
/// body is still unsent, i.e. without the server waiting for it.
fn status_before_body(addr: &str, head: &str, declared: u64, sent: usize) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "{head}Content-Length: {declared}\r\n\r\n").unwrap();
    s.write_all(&vec![b'x'; sent]).unwrap();
    s.flush().unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(2).any(|w| w == b"\r\n") {
        let n = s.read(&mut buf).expect("the answer came without the body");
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn callers_who_may_not_upload_are_refused_before_the_body_is_read() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let (key, _, _) = crate::journey::build_course(&admin, "UPL", "<p>x</p>").await;
    let learner = site.user("learner", false).await;
    let token = crate::support::bearer(&site.base, "learner").await;
    let csrf = learner.csrf().await;
    let session = learner.cookie("lectern_session").unwrap();
    let addr = site.base.trim_start_matches("http://").to_string();
    let cookies = format!("Cookie: lectern_session={session}; lectern_csrf={csrf}\r\n");
    let form = "Content-Type: multipart/form-data; boundary=XyZ\r\n";
    let cases = [
        (
            format!("POST /api/courses/v0/import/ HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\n"),
            "403",
        ),
        (
            format!("POST /studio/import?csrf_token={csrf} HTTP/1.1\r\nHost: x\r\n{cookies}{form}"),
            "403",
        ),
        // Not on the course's team: the course is not found, as for any other edit.
        (
            format!("POST /studio/course/{key}/files?csrf_token={csrf} HTTP/1.1\r\nHost: x\r\n{cookies}{form}"),
            "404",
        ),
    ];
    for (head, want) in cases {
        let addr = addr.clone();
        let status = tokio::task::spawn_blocking(move || {
            status_before_body(&addr, &head, 200 << 20, 64 << 10)
        })
        .await
        .unwrap();
        assert!(
            status.starts_with(&format!("HTTP/1.1 {want}")),
            "{want}: {status}"
        );
    }
}

/// Peak resident memory of a process, in bytes (`VmHWM`).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

/// `lectern serve` under `MEMORY_LIMIT`, once it answers.
fn serve_limited(dir: &Path, port: u16) -> std::process::Child {
    let child = limited(dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn raw_post(port: u16, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn a_learners_200_mb_imports_leave_the_servers_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::binary::free_port();
    let mut child = serve_limited(dir.path(), port);
    let reply = raw_post(
        port,
        "/api/user/v1/account/registration/",
        "username=lea&email=lea%40example.org&name=Lea&password=correct+horse+battery",
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let reply = raw_post(
        port,
        "/oauth2/access_token",
        "grant_type=password&username=lea&password=correct+horse+battery",
    );
    let body = reply.split("\r\n\r\n").nth(1).unwrap();
    let token: serde_json::Value = serde_json::from_str(body).unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    let before = peak_rss(child.id());

    // Four learners' 200 MB imports at once, each body sent in full as
    // fast as the server takes it.
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let token = token.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                let total: usize = 200_000_000;
                write!(
                    s,
                    "POST /api/courses/v0/import/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: {total}\r\n\r\n"
                )
                .unwrap();
                let chunk = vec![0u8; 1 << 20];
                let mut sent = 0;
                while sent < total {
                    // The server answers and closes without reading: writes then fail.
                    if s.write_all(&chunk).is_err() {
                        break;
                    }
                    sent += chunk.len();
                }
                let mut reply = Vec::new();
                let _ = s.read_to_end(&mut reply);
                String::from_utf8_lossy(&reply).into_owned()
            })
        })
        .collect();
    for t in senders {
        let reply = t.join().unwrap();
        assert!(
            reply.is_empty() || reply.starts_with("HTTP/1.1 403"),
            "{reply}"
        );
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server is still up"
    );
    let grown = peak_rss(child.id()).saturating_sub(before);
    assert!(grown < 32 << 20, "peak memory grew by {grown} bytes");
    crate::binary::sigterm(&child);
    assert!(crate::binary::wait_exit(&mut child).success());
}

/// An authorised upload over the cap gets 413 and leaves no file, blob or
/// course; one under it still imports.
#[tokio::test]
async fn uploads_over_the_cap_get_413_and_leave_nothing_behind() {
    let spool = tempfile::tempdir().unwrap();
    let site = TestSite::spawn_with(WebConfig {
        max_upload_bytes: 1 << 20,
        upload_dir: spool.path().to_path_buf(),
        ..WebConfig::default()
    })
    .await;
    let admin = site.user("root", true).await;
    let (key, _, _) = crate::journey::build_course(&admin, "CAP", "<p>x</p>").await;
    let bearer = crate::support::bearer(&site.base, "root").await;
    let root = site.app.user_by_username("root").await.unwrap();
    let stats = |site: &TestSite| {
        let (app, root) = (site.app.clone(), root.clone());
        async move {
            let s = app.admin_stats(&root).await.unwrap();
            (s.courses, s.blobs)
        }
    };
    let before = stats(&site).await;
    let big = vec![7u8; 2 << 20];

    // Declared too large: refused at once.
    let r = reqwest::Client::new()
        .post(admin.url("/api/courses/v0/import/"))
        .header("Authorization", &bearer)
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json(r).await["error"], "too_large");

    // Not declared (chunked): refused once the cap is passed.
    let addr = site.base.trim_start_matches("http://").to_string();
    let head = format!(
        "POST /api/courses/v0/import/ HTTP/1.1\r\nHost: x\r\nAuthorization: {bearer}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let reply = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        let piece = vec![b'z'; 64 << 10];
        for _ in 0..32 {
            let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
            chunk.extend_from_slice(&piece);
            chunk.extend_from_slice(b"\r\n");
            if s.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");

    // Studio's import form and files page.
    let csrf = admin.csrf().await;
    let post = |path: String, field: &'static str| {
        let part = reqwest::multipart::Part::bytes(big.clone()).file_name("big.bin");
        admin
            .http
            .post(admin.url(&path))
            .multipart(reqwest::multipart::Form::new().part(field, part))
            .send()
    };
    let r = post(format!("/studio/import?csrf_token={csrf}"), "archive")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains("larger than"));
    let r = post(
        format!("/studio/course/{key}/files?csrf_token={csrf}"),
        "file",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(stats(&site).await, before, "no course and no blob added");
    assert_eq!(
        std::fs::read_dir(spool.path()).unwrap().count(),
        0,
        "no spooled file left"
    );

    // Under the cap, an import still works.
    let r = reqwest::Client::new()
        .post(admin.url("/api/courses/v0/import/"))
        .header("Authorization", &bearer)
        .body(crate::transfer::fixture("openedx-test-course.tar.gz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json(r).await["course_id"], "course-v1:TestX+Course+1");
}
