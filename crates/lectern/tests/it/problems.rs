//! Problems and grades end to end: the server enforces attempts and
//! `showanswer`, records every submission, and computes the grade Open edX's
//! grader would (expected values worked out by hand below).

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{json, s, TestSite, PASSWORD};

const COURSE: &str = "course-v1:T+G+R";

const P1: &str = r#"<problem url_name="p1" display_name="Pick B" max_attempts="2" showanswer="finished"><multiplechoiceresponse><label>Pick B</label><choicegroup type="MultipleChoice"><choice correct="false">A</choice><choice correct="true">B</choice></choicegroup></multiplechoiceresponse><solution><p>SECRET-EXPLANATION</p></solution></problem>"#;
const P2: &str = r#"<problem url_name="p2" display_name="Pi" weight="2"><numericalresponse answer="3.14"><responseparam type="tolerance" default="0.01"/><formulaequationinput/></numericalresponse><demandhint><hint>HINT-ONE</hint><hint>HINT-TWO</hint></demandhint></problem>"#;
const P3: &str = r#"<problem url_name="p3" display_name="Pick a and b"><choiceresponse partial_credit="EDC"><checkboxgroup><choice correct="true">a</choice><choice correct="true">b</choice><choice correct="false">c</choice></checkboxgroup></choiceresponse></problem>"#;

/// A small OLX course: two Homework subsections and one Exam.
pub fn grading_course(exam_weight: f64) -> Vec<u8> {
    let course = format!(
        r#"<course display_name="Grading"><chapter url_name="c1" display_name="Week 1">
<sequential url_name="hw1" display_name="HW 1" graded="true" format="Homework"><vertical url_name="v1" display_name="U1">{P1}</vertical></sequential>
<sequential url_name="hw2" display_name="HW 2" graded="true" format="Homework"><vertical url_name="v2" display_name="U2">{P2}</vertical></sequential>
<sequential url_name="ex" display_name="Exam" graded="true" format="Exam"><vertical url_name="v3" display_name="U3">{P3}</vertical></sequential>
</chapter></course>"#
    );
    let policy = json!({"GRADER": [
        {"type": "Homework", "min_count": 2, "drop_count": 1, "weight": 1.0 - exam_weight, "short_label": "HW"},
        {"type": "Exam", "min_count": 1, "drop_count": 0, "weight": exam_weight, "short_label": "Exam"}],
        "GRADE_CUTOFFS": {"A": 0.9, "Pass": 0.5}});
    crate::support::course_archive("T", "G", &course, Some(&policy))
}

struct Api {
    http: reqwest::Client,
    base: String,
    bearer: String,
}

impl Api {
    async fn login(site: &TestSite, username: &str) -> Api {
        let bearer = crate::support::bearer(&site.base, username).await;
        Api {
            http: reqwest::Client::new(),
            base: site.base.clone(),
            bearer,
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header("Authorization", &self.bearer)
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("Authorization", &self.bearer)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Imports an OLX archive through the API.
    async fn import(&self, archive: Vec<u8>) -> reqwest::Response {
        self.http
            .post(format!("{}/api/courses/v0/import/", self.base))
            .header("Authorization", &self.bearer)
            .body(archive)
            .send()
            .await
            .unwrap()
    }

    async fn check(&self, problem: &str, answers: serde_json::Value) -> reqwest::Response {
        self.post(
            &format!("/api/problems/v1/{}/check", usage(problem)),
            json!({ "answers": answers }),
        )
        .await
    }
}

fn usage(problem: &str) -> String {
    format!("block-v1:T+G+R+type@problem+block@{problem}")
}

async fn grade_of(api: &Api) -> serde_json::Value {
    json(
        api.get(&format!("/api/grades/v1/courses/{COURSE}/?username=bea"))
            .await,
    )
    .await
}

/// A site with the grading course imported and `learners` enrolled; returns
/// the admin's API client and browser.
async fn setup(learners: &[&str]) -> (TestSite, Api, crate::support::Client) {
    let site = TestSite::spawn().await;
    let root = site.user("root", true).await;
    let admin = Api::login(&site, "root").await;
    let r = admin.import(grading_course(0.5)).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    for name in learners {
        site.user(name, false).await;
        let api = Api::login(&site, name).await;
        let r = api
            .post(
                "/api/enrollment/v1/enrollment",
                json!({"course_details": {"course_id": COURSE}}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    (site, admin, root)
}

#[tokio::test]
async fn attempts_and_show_answer_are_enforced_by_the_server() {
    let (site, _, _) = setup(&["ann"]).await;
    let ann = Api::login(&site, "ann").await;

    let p = json(ann.get(&format!("/api/problems/v1/{}", usage("p1"))).await).await;
    assert_eq!(p["max_attempts"], 2);
    assert_eq!(p["attempts"], 0);
    assert_eq!(p["inputs"][0]["id"], "p1_2_1");
    assert_eq!(p["inputs"][0]["choices"].as_array().unwrap().len(), 2);
    assert_eq!(p["can_show_answer"], false);
    assert!(!p.to_string().contains("SECRET-EXPLANATION"));
    assert_eq!(
        ann.get(&format!("/api/problems/v1/{}/answer", usage("p1")))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // Unreadable input is refused without using an attempt.
    let r = ann.check("p1", json!({"p1_9_9": "choice_1"})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = ann
        .check("p2", json!({"p2_2_1": "three point one four"}))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(json(r).await["field_errors"]["p2_2_1"].is_string());
    let r = ann.check("p2", json!({"p2_2_1": "x".repeat(20_000)})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let p2 = json(ann.get(&format!("/api/problems/v1/{}", usage("p2"))).await).await;
    assert_eq!(p2["attempts"], 0);

    let r = json(ann.check("p1", json!({"p1_2_1": "choice_0"})).await).await;
    assert_eq!(
        (
            r["earned"].as_f64(),
            r["possible"].as_f64(),
            r["attempts"].as_u64()
        ),
        (Some(0.0), Some(1.0), Some(1))
    );
    assert_eq!(r["correct_map"]["p1_2_1"]["correctness"], "incorrect");
    assert_eq!(
        r["can_show_answer"], false,
        "finished: neither closed nor correct yet"
    );
    assert_eq!(
        ann.get(&format!("/api/problems/v1/{}/answer", usage("p1")))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let r = json(ann.check("p1", json!({"p1_2_1": "choice_1"})).await).await;
    assert_eq!(
        (r["earned"].as_f64(), r["attempts"].as_u64()),
        (Some(1.0), Some(2))
    );
    assert_eq!(r["correct_map"]["p1_2_1"]["correctness"], "correct");
    assert_eq!(r["closed"], true);
    let answer = json(
        ann.get(&format!("/api/problems/v1/{}/answer", usage("p1")))
            .await,
    )
    .await;
    assert_eq!(answer["answers"]["p1_2_1"], "choice_1");

    let r = ann.check("p1", json!({"p1_2_1": "choice_1"})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "past max_attempts");
    let subs = json(
        ann.get(&format!("/api/problems/v1/{}/submissions", usage("p1")))
            .await,
    )
    .await;
    assert_eq!(subs["results"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_course_grade_matches_open_edx_by_hand() {
    let (site, admin, _) = setup(&["bea"]).await;
    let bea = Api::login(&site, "bea").await;
    let g = grade_of(&bea).await;
    assert_eq!(g[0]["percent"], 0.0);
    assert_eq!(g[0]["passed"], false);

    assert_eq!(
        json(bea.check("p1", json!({"p1_2_1": "choice_1"})).await).await["earned"],
        1.0
    );
    let r = json(bea.check("p2", json!({"p2_2_1": "2.5"})).await).await;
    assert_eq!(
        (r["earned"].as_f64(), r["possible"].as_f64()),
        (Some(0.0), Some(2.0)),
        "weight 2"
    );
    let r = json(bea.check("p3", json!({"p3_2_1": ["choice_0"]})).await).await;
    // EDC: 1 right check + 1 right non-check of 3 choices = 0.67.
    assert_eq!(r["earned"], 0.67);
    assert_eq!(
        r["correct_map"]["p3_2_1"]["correctness"],
        "partially-correct"
    );

    // Homework [1.0, 0.0] drop 1 → 1.0; Exam 0.67; 0.5·1.0 + 0.5·0.67 = 0.835
    // → round(83.5 + 0.05) = 84% → Pass (A needs 90%).
    let g = grade_of(&bea).await;
    assert_eq!(g[0]["percent"], 0.84);
    assert_eq!(g[0]["letter_grade"], "Pass");
    assert_eq!(g[0]["passed"], true);
    assert_eq!(g[0]["username"], "bea");
    assert_eq!(g[0]["course_id"], COURSE);
    // Staff see every learner; the grade is persisted with the answer.
    let all = json(
        admin
            .get(&format!("/api/grades/v1/courses/{COURSE}/"))
            .await,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    let bea_user = site.app.user_by_username("bea").await.unwrap();
    let key = COURSE.parse().unwrap();
    let stored = site
        .app
        .persisted_grade(&bea_user, &key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.percent, stored.course_version), (0.84, 1));

    // A new version with Exam weighted 0.8: 0.2·1.0 + 0.8·0.67 = 0.736 → 74%.
    let r = admin.import(grading_course(0.8)).await;
    assert_eq!(r.status(), StatusCode::OK);
    // The regrade is a background job: wait for it (bounded).
    let mut stored = None;
    for _ in 0..100 {
        let g = site.app.persisted_grade(&bea_user, &key).await.unwrap();
        if g.as_ref().is_some_and(|g| g.course_version == 2) {
            stored = g;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let stored = stored.expect("the regrade job ran");
    assert_eq!(
        (stored.percent, stored.course_version),
        (0.74, 2),
        "recomputed on the new version"
    );
    assert_eq!(grade_of(&bea).await[0]["percent"], 0.74);
    // Learners cannot read each other's grades.
    site.user("cat", false).await;
    let cat = Api::login(&site, "cat").await;
    cat.post(
        "/api/enrollment/v1/enrollment",
        json!({"course_details": {"course_id": COURSE}}),
    )
    .await;
    assert_eq!(
        cat.get(&format!("/api/grades/v1/courses/{COURSE}/?username=bea"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn concurrent_submissions_never_exceed_max_attempts_or_get_lost() {
    let (site, _, _) = setup(&["dan"]).await;
    let dan = std::sync::Arc::new(Api::login(&site, "dan").await);
    let mut tasks = Vec::new();
    for i in 0..24 {
        let dan = dan.clone();
        tasks.push(tokio::spawn(async move {
            let choice = if i % 2 == 0 { "choice_0" } else { "choice_1" };
            dan.check("p1", json!({ "p1_2_1": choice })).await.status()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::FORBIDDEN => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 2, "exactly max_attempts submissions are accepted");
    let p = json(dan.get(&format!("/api/problems/v1/{}", usage("p1"))).await).await;
    assert_eq!(p["attempts"], 2);
    let subs = json(
        dan.get(&format!("/api/problems/v1/{}/submissions", usage("p1")))
            .await,
    )
    .await;
    assert_eq!(subs["results"].as_array().unwrap().len(), 2);

    // With no limit, every concurrent submission is kept.
    let mut tasks = Vec::new();
    for i in 0..30 {
        let dan = dan.clone();
        tasks.push(tokio::spawn(async move {
            dan.check(
                "p2",
                json!({ "p2_2_1": format!("{}", 3.0 + i as f64 / 100.0) }),
            )
            .await
            .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let p = json(dan.get(&format!("/api/problems/v1/{}", usage("p2"))).await).await;
    assert_eq!(p["attempts"], 30);
    let subs = json(
        dan.get(&format!("/api/problems/v1/{}/submissions", usage("p2")))
            .await,
    )
    .await;
    let attempts: std::collections::BTreeSet<u64> = subs["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(
        attempts,
        (1..=30).collect(),
        "every submission recorded once, numbered 1..30"
    );
}

#[tokio::test]
async fn learners_answer_in_the_page_without_javascript() {
    let (site, _, _) = setup(&["eve"]).await;
    let eve = site.client();
    eve.post_form("/login", &[("login", s("eve")), ("password", s(PASSWORD))])
        .await;
    let (status, page) = eve.text(&format!("/courses/{COURSE}/unit/v1")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"name="p1_2_1""#), "the problem is a form");
    assert!(page.contains("You have used 0 of 2 attempts"));
    assert!(!page.contains("SECRET-EXPLANATION"));
    let r = eve
        .post_form(
            &format!("/courses/{COURSE}/problem/p1"),
            &[("p1_2_1", s("choice_0")), ("action", s("check"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("You have used 1 of 2 attempts"));
    assert!(page.contains("incorrect"), "feedback per input");
    let r = eve
        .post_form(
            &format!("/courses/{COURSE}/problem/p1"),
            &[("p1_2_1", s("choice_1")), ("action", s("check"))],
        )
        .await;
    let page = r.text().await.unwrap();
    assert!(page.contains("You have used 2 of 2 attempts"));
    assert!(
        !page.contains("SECRET-EXPLANATION"),
        "only shown on request"
    );
    let r = eve
        .post_form(
            &format!("/courses/{COURSE}/problem/p1"),
            &[("action", s("show"))],
        )
        .await;
    assert!(r.text().await.unwrap().contains("SECRET-EXPLANATION"));
    let (_, progress) = eve.text(&format!("/courses/{COURSE}/progress")).await;
    assert!(progress.contains("<svg"), "a chart");
    assert!(progress.contains("HW 1"));
    // Demand hints, one at a time.
    let (_, page) = eve.text(&format!("/courses/{COURSE}/unit/v2")).await;
    assert!(!page.contains("HINT-ONE") && page.contains("Hint (1 of 2)"));
    let r = eve
        .post_form(
            &format!("/courses/{COURSE}/problem/p2"),
            &[("hints_shown", s("0")), ("action", s("hint"))],
        )
        .await;
    let page = r.text().await.unwrap();
    assert!(
        page.contains("HINT-ONE") && !page.contains("HINT-TWO") && page.contains("Hint (2 of 2)")
    );
    // Without the CSRF token the answer is refused and nothing changes.
    let r = eve
        .post_form_no_csrf(
            &format!("/courses/{COURSE}/problem/p2"),
            &[("p2_2_1", s("3.14")), ("action", s("check"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn authors_edit_the_grading_policy_in_studio_and_grades_follow_the_publish() {
    let (site, _, root) = setup(&["fay"]).await;
    let fay = Api::login(&site, "fay").await;
    fay.check("p1", json!({"p1_2_1": "choice_1"})).await;
    fay.check("p3", json!({"p3_2_1": ["choice_0"]})).await;
    let grade = || async {
        json(fay.get(&format!("/api/grades/v1/courses/{COURSE}/")).await).await[0]["percent"]
            .as_f64()
    };
    assert_eq!(grade().await, Some(0.84));

    let page = format!("/studio/course/{COURSE}/grading");
    let (status, html) = root.text(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Homework") && html.contains("GRADE_CUTOFFS"));
    for bad in [
        "{not json",
        r#"{"GRADER": [{"type": "Exam", "weight": -1}]}"#,
        r#"{"GRADER": [{"type": "Exam", "min_count": "many"}]}"#,
    ] {
        let r = root.post_form(&page, &[("grading_policy", s(bad))]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.text().await.unwrap().contains("refused"));
    }
    // Only the exam counts now: 0.67 → 67%, below nothing but Pass at 50%.
    let only_exam = r#"{"GRADER": [{"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 1.0, "short_label": "Exam"}], "GRADE_CUTOFFS": {"Pass": 0.5}}"#;
    let r = root
        .post_form(&page, &[("grading_policy", s(only_exam))])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        grade().await,
        Some(0.84),
        "a draft change does not touch grades"
    );
    root.post_form(&format!("/studio/course/{COURSE}/publish"), &[])
        .await;
    assert_eq!(grade().await, Some(0.67));
}
