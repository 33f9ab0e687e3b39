//! Issue 13, point 1: no check can take the site down. Course XML asking
//! for more work than Lectern allows (a formula problem wanting 100,000,000
//! samples) is refused at import and in Studio, naming the problem and the
//! attribute, and changes nothing; learner answers past the evaluator's
//! limits (very long, deeply nested) are invalid input that uses no attempt.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{bearer, json, s, TestSite};

const COURSE: &str = "course-v1:L+IM+R";

/// A formula problem; `samples` as given.
fn formula(url_name: &str, samples: &str) -> String {
    format!(
        r#"<problem url_name="{url_name}" display_name="Kinetic energy"><formularesponse answer="m*v^2/2" samples="{samples}" type="cs"><responseparam type="tolerance" default="0.01"/><formulaequationinput/></formularesponse></problem>"#
    )
}

const NUMERICAL: &str = r#"<problem url_name="n1" display_name="Two"><numericalresponse answer="2"><formulaequationinput/></numericalresponse></problem>"#;

/// A one-unit course holding `problems`, as an OLX `.tar.gz`.
fn course(problems: &str) -> Vec<u8> {
    let course = format!(
        r#"<course display_name="Limits"><chapter url_name="c1" display_name="W1"><sequential url_name="s1" display_name="S1"><vertical url_name="v1" display_name="U1">{problems}</vertical></sequential></chapter></course>"#
    );
    crate::support::course_archive("L", "IM", &course, None)
}

async fn import(site: &TestSite, token: &str, archive: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", token)
        .body(archive)
        .send()
        .await
        .unwrap()
}

fn usage(problem: &str) -> String {
    format!("block-v1:L+IM+R+type@problem+block@{problem}")
}

#[tokio::test]
async fn a_course_asking_for_a_hundred_million_samples_is_refused_at_import() {
    let site = TestSite::spawn().await;
    site.user("root", true).await;
    let token = bearer(&site.base, "root").await;

    let hostile = course(&format!(
        "{NUMERICAL}{}",
        formula("energy", "m,v@1,1:5,5#100000000")
    ));
    let r = import(&site, &token, hostile.clone()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = json(r).await;
    let message = body["message"].as_str().unwrap();
    for part in ["problem/energy", "Kinetic energy", "samples", "100000000"] {
        assert!(message.contains(part), "{part} in {message}");
    }
    assert!(body["field_errors"]["archive"].is_string(), "{body}");
    assert!(site.app.catalogue().await.unwrap().is_empty());

    // A sane course imports; the hostile version of it then changes nothing.
    let sane = course(&format!(
        "{NUMERICAL}{}",
        formula("energy", "m,v@1,1:5,5#10")
    ));
    let r = import(&site, &token, sane).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let before = json(
        reqwest::Client::new()
            .get(format!("{}/api/problems/v1/{}", site.base, usage("energy")))
            .header("Authorization", &token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let r = import(&site, &token, hostile).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let after = json(
        reqwest::Client::new()
            .get(format!("{}/api/problems/v1/{}", site.base, usage("energy")))
            .header("Authorization", &token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(before, after);
    assert_eq!(site.app.catalogue().await.unwrap().len(), 1);

    // Checks of the sane problem grade as usual.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/api/problems/v1/{}/check",
            site.base,
            usage("energy")
        ))
        .header("Authorization", &token)
        .json(&json!({"answers": {"energy_2_1": "v^2*m/2"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        json(r).await["correct_map"]["energy_2_1"]["correctness"],
        "correct"
    );
}

#[test]
fn the_cli_refuses_the_same_course() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.tar.gz");
    std::fs::write(&path, course(&formula("energy", "m,v@1,1:5,5#100000000"))).unwrap();
    let out = crate::backend::lectern_in(dir.path())
        .args(["import".as_ref(), path.as_os_str()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("problem/energy") && stderr.contains("samples"),
        "{stderr}"
    );
}

#[tokio::test]
async fn studio_refuses_to_save_an_over_limit_problem() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let token = bearer(&site.base, "root").await;
    let r = import(&site, &token, course(&formula("energy", "m,v@1,1:5,5#10"))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let studio = format!("/studio/course/{COURSE}");
    let problem_ref = "type@problem+block@energy";
    let edit = format!("{studio}/edit/{problem_ref}");
    let before = admin.text(&edit).await.1;
    assert!(before.contains("#10"), "the editor shows the XML");

    let hostile = formula("energy", "m,v@1,1:5,5#100000000");
    let r = admin
        .post_form(
            &format!("{studio}/block/{problem_ref}/update"),
            &[("body", hostile), ("action", s("save"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("problem/energy") && page.contains("samples"),
        "{page}"
    );
    // XML nested deeper than any recursive parser survives is refused
    // before it is parsed, and the server goes on answering.
    let deep = format!(
        "<problem>{}{}</problem>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let r = admin
        .post_form(
            &format!("{studio}/block/{problem_ref}/update"),
            &[("body", deep), ("action", s("save"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("deep"));
    assert_eq!(admin.text(&edit).await.1, before, "the draft is unchanged");
}

#[tokio::test]
async fn over_limit_answers_are_invalid_input_and_use_no_attempt() {
    let site = TestSite::spawn().await;
    site.user("root", true).await;
    let token = bearer(&site.base, "root").await;
    let archive = course(&format!(
        "{NUMERICAL}{}",
        formula("energy", "m,v@1,1:5,5#50")
    ));
    assert_eq!(
        import(&site, &token, archive).await.status(),
        StatusCode::OK
    );
    site.user("ann", false).await;
    let ann = bearer(&site.base, "ann").await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/enrollment/v1/enrollment", site.base))
        .header("Authorization", &ann)
        .json(&json!({"course_details": {"course_id": COURSE}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let long = format!("1{}", "+1".repeat(3_000));
    let deep = format!("{}1{}", "(".repeat(4_000), ")".repeat(4_000));
    let nested_calls = format!("{}v{}", "sqrt(".repeat(1_000), ")".repeat(1_000));
    let factorials = ["fact(9999)"; 20].join("+");
    let cases = [
        ("n1", "n1_2_1", long.clone()),
        ("n1", "n1_2_1", deep.clone()),
        ("n1", "n1_2_1", factorials.clone()),
        ("energy", "energy_2_1", long),
        ("energy", "energy_2_1", deep),
        ("energy", "energy_2_1", nested_calls),
        ("energy", "energy_2_1", format!("m*v^2/2+0*({factorials})")),
        ("n1", "n1_2_1", "9^9^9".to_string()),
        ("n1", "n1_2_1", "factorial(factorial(10))".to_string()),
    ];
    for (problem, input, answer) in cases {
        let r = http
            .post(format!(
                "{}/api/problems/v1/{}/check",
                site.base,
                usage(problem)
            ))
            .header("Authorization", &ann)
            .json(&json!({"answers": {input: answer}}))
            .send()
            .await
            .unwrap();
        let shown: String = answer.chars().take(30).collect();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{problem}: {shown}");
        let body = json(r).await;
        let message = body["field_errors"][input].as_str().unwrap_or_default();
        assert!(message.contains("Invalid input"), "{shown}: {body}");
    }
    for problem in ["n1", "energy"] {
        let p = json(
            http.get(format!("{}/api/problems/v1/{}", site.base, usage(problem)))
                .header("Authorization", &ann)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(p["attempts"], 0, "{problem}");
    }
}
