//! Python-scripted problems through HTTP: variables from the script in the
//! page, `customresponse` checks graded right, wrong and partly right, a
//! course's `python_lib.zip` importable, and without a runner the problem
//! shown but refused with a clear message. Scripts run in the real sandbox
//! (`lectern-sandbox`: bubblewrap and Debian's python3, which
//! `scripts/test.sh` installs), as on a site.

use std::sync::Arc;

use lectern_app::AppSettings;
use lectern_content::script_runner::PythonRunner;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{bearer, json, tar_gz, TestSite};

const COURSE: &str = "course-v1:S+P+R";

/// Open edX's demo-course shape: `rerandomize="never"` gives seed 1, and
/// random2's `randint(0, 20)` draws 2 then 17 from it.
const SUM: &str = r#"<problem url_name="sum" display_name="Sum" rerandomize="never"><script type="loncapa/python">
x = random.randint(0, 20)
y = random.randint(0, 20)
z = x + y
</script><p>Let x = $x and y = $y.</p><numericalresponse answer="$z"><textline/></numericalresponse></problem>"#;

/// Three inputs; the check gives full, half and a quarter of a point.
const PARTS: &str = r#"<problem url_name="parts" display_name="Parts"><script type="loncapa/python">
def parts(expect, ans):
    return {'overall_message': 'checked', 'input_list': [
        {'ok': ans[0] == expect, 'msg': 'first'},
        {'ok': 'partial' if ans[1] == 'half' else ans[1] == 'b'},
        {'ok': ans[2] == 'c', 'grade_decimal': 1.0 if ans[2] == 'c' else 0.25}]}
</script><customresponse cfn="parts" expect="a"><textline/><textline/><textline/></customresponse></problem>"#;

/// Imports `double` from the course's python_lib.zip.
const LIB: &str = r#"<problem url_name="lib" display_name="Lib"><script type="loncapa/python">
from mylib import double
def check(expect, ans):
    return int(ans) == double(int(expect))
</script><customresponse cfn="check" expect="21"><textline/></customresponse></problem>"#;

fn course() -> Vec<u8> {
    course_of(&format!("{SUM}{PARTS}{LIB}"))
}

/// The course with `problems` (XML) in its one unit, and python_lib.zip.
fn course_of(problems: &str) -> Vec<u8> {
    let xml = format!(
        r#"<course display_name="Scripted"><chapter url_name="c" display_name="C"><sequential url_name="s" display_name="S" graded="true" format="Homework"><vertical url_name="v" display_name="V">{problems}</vertical></sequential></chapter></course>"#
    );
    let zip = stored_zip("mylib.py", b"def double(v):\n    return 2 * v\n");
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "course/course.xml",
            br#"<course url_name="R" org="S" course="P"/>"#.to_vec(),
        ),
        ("course/course/R.xml", xml.into_bytes()),
        (
            "course/policies/R/policy.json",
            br#"{"course/R": {}}"#.to_vec(),
        ),
        ("course/static/python_lib.zip", zip),
    ];
    tar_gz(&files)
}

/// A one-file zip archive with the file stored (not compressed).
fn stored_zip(name: &str, data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    let crc = crc.sum();
    let (n, len) = (name.len() as u16, data.len() as u32);
    let mut out = Vec::new();
    let local = |out: &mut Vec<u8>| {
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
    };
    local(&mut out);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    let central_at = out.len() as u32;
    out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    out.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&[0; 12]);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    let central_len = out.len() as u32 - central_at;
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    out.extend_from_slice(&central_len.to_le_bytes());
    out.extend_from_slice(&central_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

struct Learner {
    http: reqwest::Client,
    base: String,
    bearer: String,
}

impl Learner {
    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        let url = format!("{}{path}", self.base);
        self.http
            .post(url)
            .header("Authorization", &self.bearer)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn check(&self, problem: &str, answers: Value) -> reqwest::Response {
        let path = format!("/api/problems/v1/block-v1:S+P+R+type@problem+block@{problem}/check");
        self.post(&path, json!({ "answers": answers })).await
    }
}

/// A site (with or without the runner) with the course imported by an
/// admin and `ann` enrolled; returns the import's answer too.
async fn site(runner: bool) -> (TestSite, Learner, Value, crate::support::Client) {
    let runner: Option<Arc<dyn PythonRunner>> = if runner {
        Some(Arc::new(lectern_sandbox::Sandbox::new(
            lectern_content::problem::script::HARNESS,
            lectern_sandbox::Settings::default(),
        )))
    } else {
        None
    };
    site_with(runner, course()).await
}

/// A site running scripts with `runner`, with the course `archive`
/// imported by an admin and `ann` enrolled.
async fn site_with(
    runner: Option<Arc<dyn PythonRunner>>,
    archive: Vec<u8>,
) -> (TestSite, Learner, Value, crate::support::Client) {
    let site = TestSite::spawn_custom(AppSettings::default(), |app| match runner {
        Some(runner) => app.with_python_runner(runner),
        None => app,
    })
    .await;
    site.user("root", true).await;
    let admin = bearer(&site.base, "root").await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", &admin)
        .body(archive)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let imported = json(r).await;
    let browser = site.user("ann", false).await;
    let ann = Learner {
        http,
        base: site.base.clone(),
        bearer: bearer(&site.base, "ann").await,
    };
    let r = ann
        .post(
            "/api/enrollment/v1/enrollment",
            json!({"course_details": {"course_id": COURSE}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    (site, ann, imported, browser)
}

fn scored(r: &Value) -> (f64, f64) {
    (
        r["earned"].as_f64().unwrap_or(-1.0),
        r["possible"].as_f64().unwrap_or(-1.0),
    )
}

#[tokio::test]
async fn scripted_problems_are_graded_with_the_runner() {
    let (_site, ann, imported, browser) = site(true).await;
    let report = imported.to_string();
    assert!(
        !report.contains("not graded"),
        "scripted problems reported ungraded: {report}"
    );

    // The page shows the script's numbers (seed 1, as Open edX).
    let (status, page) = browser.text(&format!("/courses/{COURSE}/unit/v")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Let x = 2 and y = 17."), "{page}");

    let r = json(ann.check("sum", json!({"sum_2_1": "18"})).await).await;
    assert_eq!(scored(&r), (0.0, 1.0), "{r}");
    let r = json(ann.check("sum", json!({"sum_2_1": "19"})).await).await;
    assert_eq!(scored(&r), (1.0, 1.0), "{r}");

    let r = json(
        ann.check(
            "parts",
            json!({"parts_2_1": "a", "parts_2_2": "half", "parts_2_3": "x"}),
        )
        .await,
    )
    .await;
    assert_eq!(scored(&r), (1.75, 3.0), "{r}");
    assert_eq!(
        r["correct_map"]["parts_2_2"]["correctness"],
        "partially-correct"
    );
    assert_eq!(r["correct_map"]["parts_2_3"]["correctness"], "incorrect");
    let r = json(
        ann.check(
            "parts",
            json!({"parts_2_1": "z", "parts_2_2": "b", "parts_2_3": "c"}),
        )
        .await,
    )
    .await;
    assert_eq!(scored(&r), (2.0, 3.0), "{r}");

    // python_lib.zip from the course's files is importable.
    let r = json(ann.check("lib", json!({"lib_2_1": "42"})).await).await;
    assert_eq!(scored(&r), (1.0, 1.0), "{r}");
    let r = json(ann.check("lib", json!({"lib_2_1": "41"})).await).await;
    assert_eq!(scored(&r), (0.0, 1.0), "{r}");
    // A script error is refused without using an attempt, without a traceback.
    let r = ann.check("lib", json!({"lib_2_1": "forty-two"})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = json(r).await.to_string();
    assert!(
        body.contains("ValueError") && !body.contains("Traceback"),
        "{body}"
    );
}

#[tokio::test]
async fn without_a_runner_scripted_problems_are_shown_but_refused() {
    let (_site, ann, imported, _) = site(false).await;
    assert!(imported.to_string().contains("Python"), "{imported}");
    let r = ann.check("sum", json!({"sum_2_1": "19"})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = json(r).await.to_string();
    assert!(body.contains("Python"), "{body}");
}

/// A customresponse whose check function runs `body` (Python, indented
/// under `def check(expect, ans):`) before answering right.
fn hostile(name: &str, body: &str) -> String {
    let body: String = body.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        r#"<problem url_name="{name}" display_name="{name}"><script type="loncapa/python">
def check(expect, ans):
{body}    return True
</script><customresponse cfn="check" expect="1"><textline/></customresponse></problem>"#
    )
}

/// Scripts that attack the host, through the real sandbox and HTTP: each
/// check is refused with a clear message, uses no attempt, shows nothing of
/// the host, and the site keeps answering (a plain scripted problem is
/// graded after all of them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_scripts_fail_in_the_sandbox_and_the_site_keeps_answering() {
    let secret_dir = tempfile::tempdir().unwrap();
    let secret = "s3cret-of-the-host-7f1c";
    let secret_file = secret_dir.path().join("lectern.db");
    std::fs::write(&secret_file, secret).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let host_mark = secret_dir.path().join("written-by-a-script");
    let attacks = [
        (
            "readfile",
            format!("return open('{}').read() == expect", secret_file.display()),
        ),
        (
            "passwd",
            "return 'root:' in open('/etc/shadow').read()".to_string(),
        ),
        (
            "writefile",
            format!("open('{}', 'w').write('x')", host_mark.display()),
        ),
        (
            "socket",
            format!("import socket\nsocket.create_connection(('127.0.0.1', {port}), 2)"),
        ),
        (
            "subprocess",
            format!(
                "import subprocess\nsubprocess.run(['touch', '{}'])",
                host_mark.display()
            ),
        ),
        ("forks", "import os\nwhile True:\n    os.fork()".to_string()),
        ("spin", "while True:\n    pass".to_string()),
        (
            "alloc",
            "x = bytearray(4 * 1024 ** 3)\nx[-1] = 1".to_string(),
        ),
    ];
    let problems: String = attacks
        .iter()
        .map(|(name, body)| hostile(name, body))
        .chain(std::iter::once(SUM.to_string()))
        .collect();
    let sandbox = lectern_sandbox::Sandbox::new(
        lectern_content::problem::script::HARNESS,
        lectern_sandbox::Settings::default(),
    );
    let (site, ann, _, _) = site_with(Some(Arc::new(sandbox)), course_of(&problems)).await;
    for (name, _) in &attacks {
        let r = ann.check(name, json!({ format!("{name}_2_1"): "1" })).await;
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(
            status.is_client_error() || status == StatusCode::SERVICE_UNAVAILABLE,
            "{name}: {status} {body}"
        );
        let message = serde_json::from_str::<Value>(&body).unwrap()["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            message.contains("script"),
            "{name}: a clear message: {body}"
        );
        assert!(
            !body.contains(secret) && !body.contains("Traceback") && !body.contains("root:"),
            "{name}: nothing of the host: {body}"
        );
        let state = json(
            ann.http
                .get(format!(
                    "{}/api/problems/v1/block-v1:S+P+R+type@problem+block@{name}",
                    ann.base
                ))
                .header("Authorization", &ann.bearer)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(state["attempts"], 0, "{name}: no attempt used: {state}");
        let live = reqwest::get(format!("{}/health/live", site.base))
            .await
            .unwrap();
        assert_eq!(live.status(), StatusCode::OK, "{name}: the site answers");
    }
    assert!(!host_mark.exists(), "a script wrote on the host");
    assert!(
        listener.accept().is_err(),
        "a script reached the host's loopback"
    );
    // After every attack, a plain scripted problem is still graded.
    let r = json(ann.check("sum", json!({"sum_2_1": "19"})).await).await;
    assert_eq!(scored(&r), (1.0, 1.0), "{r}");
}
