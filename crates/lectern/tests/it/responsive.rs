//! The site keeps answering while learners' checks burn CPU (issue 13, point
//! 1): eight checks of the most expensive problem the limits allow, each
//! with an answer as costly as the evaluator accepts, are in flight against
//! the compiled binary, and `/health/live`, a course page and the learner's
//! progress page still answer. Grading runs on its own bounded pool
//! (`lectern_app::cpu`); were it on the async workers, these requests would
//! queue behind the checks for minutes.
//!
//! Nothing here is timed: `HANG` only tells a hang from an answer. The
//! server runs under an address-space limit so a blow-up fails the test,
//! not the machine.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_lectern");
const COURSE: &str = "course-v1:T+H+R";
const HOSTILE: &str = "block-v1:T+H+R+type@problem+block@hostile";
const PASSWORD: &str = "correct horse battery";
/// Longer than any answer takes on a loaded machine, shorter than the checks.
const HANG: Duration = Duration::from_secs(30);
/// Formula inputs in the hostile problem.
const INPUTS: usize = 3;
/// A valid answer near the evaluator's limits (two ~120,000-bit integers per
/// evaluation), evaluated at every sample of every input.
const COSTLY_ANSWER: &str = "factorial(9999)/factorial(9998)*x+y+z";

/// A problem with [`INPUTS`] formula responses of `samples` samples each.
fn hostile_problem(samples: usize) -> String {
    let mut xml = String::from(r#"<problem url_name="hostile" display_name="Hostile">"#);
    for _ in 0..INPUTS {
        xml.push_str(&format!(
            r#"<formularesponse answer="x+y+z" samples="x,y,z@1,1,1:5,5,5#{samples}"><formulaequationinput/></formularesponse>"#
        ));
    }
    xml.push_str("</problem>");
    xml
}

fn archive(samples: usize) -> Vec<u8> {
    let course = format!(
        r#"<course display_name="Hostile"><chapter url_name="c" display_name="C"><sequential url_name="s" display_name="S" graded="true" format="Homework"><vertical url_name="v" display_name="V">{}</vertical></sequential></chapter></course>"#,
        hostile_problem(samples)
    );
    crate::support::course_archive("T", "H", &course, None)
}

/// The server process, killed when the test ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn lectern(data: &std::path::Path) -> Command {
    let mut cmd = crate::backend::lectern_in(data);
    cmd.arg("--data").arg(data);
    cmd
}

/// One HTTP/1.1 request on a fresh connection; an error if no complete
/// answer arrives within `wait`.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    wait: Duration,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(wait))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let code = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((code, out))
}

const JSON: (&str, &str) = ("Content-Type", "application/json");
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

fn start(data: &std::path::Path) -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = crate::backend::on_backend(&mut Command::new("prlimit"), data)
        .arg("--as=4000000000")
        .arg("--")
        .arg(BIN)
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lectern under prlimit");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while http(port, "GET", "/health/live", &[], "", HANG)
        .map(|r| r.0)
        .ok()
        != Some(200)
    {
        assert!(Instant::now() < deadline, "lectern did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, port)
}

#[test]
fn eight_hostile_checks_leave_the_site_answering() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crate::binary::create_admin(lectern(&data), "admin");

    // As many samples as the problem limits allow: 1,000 unless the import
    // refuses that many.
    let file = dir.path().join("hostile.tar.gz");
    let imported = [1000, 200, 50].into_iter().find(|&samples| {
        std::fs::write(&file, archive(samples)).unwrap();
        let out = lectern(&data)
            .args(["import", "--owner", "admin"])
            .arg(&file)
            .output()
            .unwrap();
        out.status.success()
    });
    assert!(
        imported.is_some(),
        "the hostile course imports with some sample count"
    );

    let (_server, port) = start(&data);
    let registration = serde_json::json!({
        "username": "mallory", "email": "mallory@example.org",
        "name": "Mallory", "password": PASSWORD,
    })
    .to_string();
    let r = http(
        port,
        "POST",
        "/api/user/v1/account/registration/",
        &[JSON],
        &registration,
        HANG,
    )
    .unwrap();
    assert_eq!(r.0, 200, "{}", r.1);
    let login = format!(
        "grant_type=password&username=mallory&password={}",
        PASSWORD.replace(' ', "+")
    );
    let r = http(port, "POST", "/oauth2/access_token", &[FORM], &login, HANG).unwrap();
    assert_eq!(r.0, 200, "{}", r.1);
    let body = &r.1[r.1.find("\r\n\r\n").unwrap() + 4..];
    let token: serde_json::Value = serde_json::from_str(body).unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let auth = ("Authorization", bearer.as_str());
    let enrol = serde_json::json!({"course_details": {"course_id": COURSE}}).to_string();
    let r = http(
        port,
        "POST",
        "/api/enrollment/v1/enrollment",
        &[JSON, auth],
        &enrol,
        HANG,
    )
    .unwrap();
    assert_eq!(r.0, 200, "{}", r.1);

    // Eight costly checks, each on its own connection; nobody waits for them.
    let answers: serde_json::Map<String, serde_json::Value> = (0..INPUTS)
        .map(|i| (format!("hostile_{}_1", i + 2), COSTLY_ANSWER.into()))
        .collect();
    let check = serde_json::json!({ "answers": answers }).to_string();
    let finished = Arc::new(AtomicUsize::new(0));
    for _ in 0..8 {
        let (check, bearer, finished) = (check.clone(), bearer.clone(), finished.clone());
        std::thread::spawn(move || {
            let path = format!("/api/problems/v1/{HOSTILE}/check");
            let auth = ("Authorization", bearer.as_str());
            let _ = http(
                port,
                "POST",
                &path,
                &[JSON, auth],
                &check,
                Duration::from_secs(3600),
            );
            finished.fetch_add(1, Ordering::SeqCst);
        });
    }
    // Let the checks reach the server and start grading.
    std::thread::sleep(Duration::from_millis(300));

    for (path, headers) in [
        ("/health/live", vec![]),
        (&*format!("/courses/{COURSE}/about"), vec![]),
        (&*format!("/courses/{COURSE}/progress"), vec![auth]),
        ("/health/live", vec![]),
    ] {
        let r = http(port, "GET", path, &headers, "", HANG)
            .unwrap_or_else(|e| panic!("GET {path} got no answer while checks ran: {e}"));
        assert_eq!(r.0, 200, "GET {path}: {}", r.1);
    }
    // The checks were really hostile: some were still grading when the
    // site had answered every request above.
    let done = finished.load(Ordering::SeqCst);
    eprintln!("hostile checks finished while the site answered: {done} of 8");

    assert!(
        done < 8,
        "the hostile checks finished too early to show anything; make them costlier"
    );
}
