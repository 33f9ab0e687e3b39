//! Course reports end to end: the course team asks for each report on the
//! instructor dashboard, the job runs, the report is listed and
//! downloaded, and its CSV is compared column by column with values
//! worked out by hand for a small class (grading course: HW 1 = "Pick B",
//! 1 point; HW 2 = "Pi", weight 2; Exam = "Pick a and b", 1 point;
//! Homework 50 % dropping 1 of 2, Exam 50 %, Pass at 0.5):
//!
//! - ann: every answer right → HW 1.0, 1.0, Exam 1.0, grade 1.0.
//! - bo: "Pick B" wrong, nothing else → HW 0.0, Not Attempted, grade 0.0.
//! - cy (name `@SUM(1+1)`): "Pick B" right, "Pi" = -3.14 (wrong), no exam →
//!   HW 1.0, 0.0 (average after dropping the lowest: 1.0), grade 0.5, passes.
//! - dee: enrolled, then unenrolled, no answers.
//!
//! Also: who may ask for, list and download reports; formula cells escaped.

use std::time::{Duration, Instant};

use lectern_app::model::CourseRole;
use lectern_app::transfer::ImportSource;
use lectern_content::olx::ImportLimits;
use reqwest::StatusCode;
use serde_json::json;

use crate::problems::grading_course;
use crate::support::{Client, TestSite};

const COURSE: &str = "course-v1:T+G+R";

/// A CSV parser independent of the writer: RFC 4180 quotes, CRLF records.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(cell.is_empty() && row.is_empty(), "the CSV ends mid-record");
    rows
}

fn usage(problem: &str) -> String {
    format!("block-v1:T+G+R+type@problem+block@{problem}")
}

async fn check(site: &TestSite, bearer: &str, problem: &str, answers: serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!(
            "{}/api/problems/v1/{}/check",
            site.base,
            usage(problem)
        ))
        .header("Authorization", bearer)
        .json(&json!({ "answers": answers }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// The grading course, an admin (`root`), staff member `sam`, and the
/// four learners above with their answers. Returns the site, root's and
/// sam's browsers.
pub async fn class() -> (TestSite, Client, Client) {
    let site = TestSite::spawn().await;
    let root = site.user("root", true).await;
    let admin = site.app.user_by_username("root").await.unwrap();
    site.app
        .import_course(
            Some(&admin),
            ImportSource::Archive(grading_course(0.5)),
            ImportLimits::default(),
        )
        .await
        .unwrap();
    let key = COURSE.parse().unwrap();
    let sam = site.user("sam", false).await;
    site.app
        .add_team_member(&admin, &key, "sam", CourseRole::Staff)
        .await
        .unwrap();
    for name in ["ann", "bo", "cy", "dee"] {
        let c = site.user(name, false).await;
        let r = c.post_form(&format!("/courses/{COURSE}/enroll"), &[]).await;
        assert!(r.status().is_success(), "enrolling {name}");
    }
    let cy = site.app.user_by_username("cy").await.unwrap();
    let patch = json!({"name": "@SUM(1+1)"});
    site.app
        .patch_account(&cy, "cy", patch.as_object().unwrap())
        .await
        .unwrap();
    let ann = site.app.user_by_username("ann").await.unwrap();
    let patch = json!({"country": "FR", "year_of_birth": 1990, "goals": "Learn, \"well\""});
    site.app
        .patch_account(&ann, "ann", patch.as_object().unwrap())
        .await
        .unwrap();
    let dee = site.app.user_by_username("dee").await.unwrap();
    site.app.unenroll(&dee, &key).await.unwrap();

    let b = crate::support::bearer(&site.base, "ann").await;
    check(&site, &b, "p1", json!({"p1_2_1": "choice_1"})).await;
    check(&site, &b, "p2", json!({"p2_2_1": "3.14"})).await;
    check(&site, &b, "p3", json!({"p3_2_1": ["choice_0", "choice_1"]})).await;
    let b = crate::support::bearer(&site.base, "bo").await;
    check(&site, &b, "p1", json!({"p1_2_1": "choice_0"})).await;
    let b = crate::support::bearer(&site.base, "cy").await;
    check(&site, &b, "p1", json!({"p1_2_1": "choice_1"})).await;
    check(&site, &b, "p2", json!({"p2_2_1": "-3.14"})).await;
    (site, root, sam)
}

fn reports_page() -> String {
    format!("/courses/{COURSE}/instructor/reports")
}

/// Asks for a report through its button, waits for its download link on
/// the page, downloads it: (Content-Disposition, CSV text).
pub async fn generate(client: &Client, kind: &str) -> (String, String) {
    let r = client
        .post_form(&format!("{}/request/{kind}", reports_page()), &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK, "asking for {kind}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let link = loop {
        let (status, html) = client.text(&reports_page()).await;
        assert_eq!(status, StatusCode::OK);
        let found = html
            .split("<tr class=\"report-row\">")
            .skip(1)
            .find(|row| {
                row.contains(&format!("_{}_", file_part(kind)))
                    && row.contains("class=\"download\"")
            })
            .and_then(|row| {
                crate::support::find_link(row, &format!("/courses/{COURSE}/instructor/reports/"))
            });
        if let Some(link) = found {
            break link;
        }
        assert!(!html.contains(">failed"), "the report failed:\n{html}");
        assert!(Instant::now() < deadline, "no {kind} report in:\n{html}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let r = client.get(&link).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    (disposition, r.text().await.unwrap())
}

fn file_part(kind: &str) -> &'static str {
    match kind {
        "grade" => "grade_report",
        "problem_grade" => "problem_grade_report",
        "enrollment" => "student_profile_info",
        _ => "answer_distribution",
    }
}

async fn id_of(site: &TestSite, name: &str) -> String {
    site.app
        .user_by_username(name)
        .await
        .unwrap()
        .id
        .to_string()
}

/// Compares a parsed CSV with the expectation cell by cell, naming the
/// column of the first difference.
fn assert_csv(got: &[Vec<String>], want: &[Vec<String>]) {
    assert_eq!(got.len(), want.len(), "rows: {got:#?}");
    let header = &want[0];
    for (r, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len(), "row {r} has {} cells: {g:?}", g.len());
        for (c, (gc, wc)) in g.iter().zip(w).enumerate() {
            assert_eq!(gc, wc, "row {r}, column {:?}", header[c]);
        }
    }
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

#[tokio::test]
async fn each_report_matches_the_hand_computed_csv() {
    let (site, root, sam) = class().await;
    let (ann, bo, cy, dee) = (
        id_of(&site, "ann").await,
        id_of(&site, "bo").await,
        id_of(&site, "cy").await,
        id_of(&site, "dee").await,
    );

    // Grade report: Open edX's columns in Open edX's order.
    let (disposition, text) = generate(&sam, "grade").await;
    assert!(
        disposition.starts_with("attachment; filename=\"course-v1_T_G_R_grade_report_")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let row = |id: &str, name: &str, cells: &[&str]| {
        let mut r = vec![
            id.to_string(),
            format!("{name}@example.org"),
            name.to_string(),
        ];
        r.extend(strings(cells));
        r
    };
    let want = vec![
        strings(&[
            "Student ID",
            "Email",
            "Username",
            "Grade",
            "Homework 1: HW 1",
            "Homework 2: HW 2",
            "Homework (Avg)",
            "Exam",
            "Enrollment Track",
            "Certificate Eligible",
            "Enrollment Status",
        ]),
        row(
            &ann,
            "ann",
            &["1.0", "1.0", "1.0", "1.0", "1.0", "audit", "Y", "ENROLLED"],
        ),
        row(
            &bo,
            "bo",
            &[
                "0.0",
                "0.0",
                "Not Attempted",
                "0.0",
                "Not Attempted",
                "audit",
                "N",
                "ENROLLED",
            ],
        ),
        row(
            &cy,
            "cy",
            &[
                "0.5",
                "1.0",
                "0.0",
                "1.0",
                "Not Attempted",
                "audit",
                "Y",
                "ENROLLED",
            ],
        ),
        row(
            &dee,
            "dee",
            &[
                "0.0",
                "Not Attempted",
                "Not Attempted",
                "0.0",
                "Not Attempted",
                "audit",
                "N",
                "NOT ENROLLED",
            ],
        ),
    ];
    assert!(text.ends_with("\r\n"));
    assert_csv(&parse_csv(&text), &want);

    // Problem grade report.
    let (_, text) = generate(&root, "problem_grade").await;
    let want = vec![
        strings(&[
            "Student ID",
            "Email",
            "Username",
            "Enrollment Status",
            "Grade",
            "Homework 1: HW 1 - Pick B (Earned)",
            "Homework 1: HW 1 - Pick B (Possible)",
            "Homework 2: HW 2 - Pi (Earned)",
            "Homework 2: HW 2 - Pi (Possible)",
            "Exam 1: Exam - Pick a and b (Earned)",
            "Exam 1: Exam - Pick a and b (Possible)",
        ]),
        row(
            &ann,
            "ann",
            &["ENROLLED", "1.0", "1.0", "1.0", "2.0", "2.0", "1.0", "1.0"],
        ),
        row(
            &bo,
            "bo",
            &[
                "ENROLLED",
                "0.0",
                "0.0",
                "1.0",
                "Not Attempted",
                "2.0",
                "Not Attempted",
                "1.0",
            ],
        ),
        row(
            &cy,
            "cy",
            &[
                "ENROLLED",
                "0.5",
                "1.0",
                "1.0",
                "0.0",
                "2.0",
                "Not Attempted",
                "1.0",
            ],
        ),
        row(
            &dee,
            "dee",
            &[
                "NOT ENROLLED",
                "0.0",
                "Not Attempted",
                "1.0",
                "Not Attempted",
                "2.0",
                "Not Attempted",
                "1.0",
            ],
        ),
    ];
    assert_csv(&parse_csv(&text), &want);

    // Enrolment list: cy's name starts a formula, so it is escaped.
    let (_, text) = generate(&sam, "enrollment").await;
    let key = COURSE.parse().unwrap();
    let mut want = vec![strings(&[
        "id",
        "username",
        "name",
        "email",
        "language",
        "year_of_birth",
        "gender",
        "level_of_education",
        "mailing_address",
        "goals",
        "country",
        "state",
        "enrollment_mode",
        "enrollment_date",
        "enrollment_status",
    ])];
    for (id, name, full, profile) in [
        (
            &ann,
            "ann",
            "ann Tester",
            ["", "1990", "", "", "", "Learn, \"well\"", "FR", ""],
        ),
        (&bo, "bo", "bo Tester", ["", "", "", "", "", "", "", ""]),
        (&cy, "cy", "'@SUM(1+1)", ["", "", "", "", "", "", "", ""]),
        (&dee, "dee", "dee Tester", ["", "", "", "", "", "", "", ""]),
    ] {
        let user = site.app.user_by_username(name).await.unwrap();
        // dee's enrolment is no longer active; her row carries its date all the same.
        let date = match site.app.enrollment(&user, &key).await.unwrap() {
            Some(e) => e.created_at.format("%Y-%m-%d %H:%M:%S+00:00").to_string(),
            None => parse_csv(&text)[4][13].clone(),
        };
        let mut r = vec![
            id.to_string(),
            name.to_string(),
            full.to_string(),
            format!("{name}@example.org"),
        ];
        r.extend(strings(&profile));
        r.push("audit".into());
        r.push(date);
        r.push(
            if name == "dee" {
                "NOT ENROLLED"
            } else {
                "ENROLLED"
            }
            .into(),
        );
        want.push(r);
    }
    assert_csv(&parse_csv(&text), &want);
    assert!(
        text.contains("\"Learn, \"\"well\"\"\""),
        "quoted as RFC 4180 says"
    );
    let dee_date = chrono::NaiveDateTime::parse_from_str(&want[4][13], "%Y-%m-%d %H:%M:%S+00:00")
        .expect("dee's enrolment date");
    let age = chrono::Utc::now().naive_utc() - dee_date;
    assert!(
        age >= chrono::Duration::zero() && age < chrono::Duration::minutes(10),
        "{dee_date}"
    );

    // Answer distribution: per input, each answer with its count; cy's
    // "-3.14" starts like a formula and is escaped.
    let (_, text) = generate(&sam, "answer_distribution").await;
    let p = |id: &str| format!("block-v1:T+G+R+type@problem+block@{id}");
    let want = vec![
        strings(&[
            "ModuleID",
            "PartID",
            "Correct Answer",
            "Count",
            "AnswerValue",
            "Problem Display Name",
        ]),
        vec![
            p("p1"),
            "p1_2_1".into(),
            "1".into(),
            "2".into(),
            "choice_1".into(),
            "Pick B".into(),
        ],
        vec![
            p("p1"),
            "p1_2_1".into(),
            "0".into(),
            "1".into(),
            "choice_0".into(),
            "Pick B".into(),
        ],
        vec![
            p("p2"),
            "p2_2_1".into(),
            "0".into(),
            "1".into(),
            "'-3.14".into(),
            "Pi".into(),
        ],
        vec![
            p("p2"),
            "p2_2_1".into(),
            "1".into(),
            "1".into(),
            "3.14".into(),
            "Pi".into(),
        ],
        vec![
            p("p3"),
            "p3_2_1".into(),
            "1".into(),
            "1".into(),
            "choice_0|choice_1".into(),
            "Pick a and b".into(),
        ],
    ];
    assert_csv(&parse_csv(&text), &want);

    // All four are listed, newest first.
    let (_, html) = sam.text(&reports_page()).await;
    assert_eq!(html.matches("class=\"download\"").count(), 4, "{html}");
}

#[tokio::test]
async fn only_the_course_team_and_admins_reach_reports() {
    let (site, root, sam) = class().await;
    let (_, _) = generate(&sam, "enrollment").await;
    let (_, html) = root.text(&reports_page()).await;
    let link = crate::support::find_link(&html, &format!("/courses/{COURSE}/instructor/reports/"))
        .expect("a download link");

    // A learner and an outsider: not found, for the page, the button and the file.
    let ann = site.client();
    ann.post_form(
        "/login",
        &[
            ("login", "ann".into()),
            ("password", crate::support::PASSWORD.into()),
        ],
    )
    .await;
    let outsider = site.user("olga", false).await;
    let anonymous = site.client();
    // Staff of another course only.
    let admin = site.app.user_by_username("root").await.unwrap();
    site.app
        .import_course(
            Some(&admin),
            ImportSource::Archive(crate::support::course_archive(
                "T",
                "Other",
                r#"<course display_name="Other"><chapter url_name="c" display_name="C"/></course>"#,
                None,
            )),
            ImportLimits::default(),
        )
        .await
        .unwrap();
    let other = site.user("otto", false).await;
    site.app
        .add_team_member(
            &admin,
            &"course-v1:T+Other+R".parse().unwrap(),
            "otto",
            CourseRole::Instructor,
        )
        .await
        .unwrap();
    for (who, c) in [
        ("learner", &ann),
        ("outsider", &outsider),
        ("other course's staff", &other),
    ] {
        for path in [
            reports_page(),
            link.clone(),
            format!("/courses/{COURSE}/instructor"),
            format!("/courses/{COURSE}/instructor/regrade"),
        ] {
            let (status, body) = c.text(&path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who} GET {path}");
            assert!(
                !body.contains("@example.org"),
                "{who} saw learner data at {path}"
            );
        }
        for path in [
            format!("{}/request/grade", reports_page()),
            format!("/courses/{COURSE}/instructor/regrade/start"),
        ] {
            let r = c.post_form(&path, &[]).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{who} POST {path}");
        }
    }
    // Signed out: asked to sign in, never the file.
    let r = anonymous.get(&link).await;
    assert_eq!(r.url().path(), "/login", "sent to sign in");
    assert!(!r.text().await.unwrap().contains("@example.org"));
    // Without the CSRF token the button does nothing.
    let r = sam
        .post_form_no_csrf(&format!("{}/request/grade", reports_page()), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let reports = site
        .app
        .course_reports(&admin, &COURSE.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(reports.len(), 1, "nobody else's request made a report");
    // The course team's dashboard links to every tool, and the course page to it.
    let (status, html) = sam.text(&format!("/courses/{COURSE}/instructor")).await;
    assert_eq!(status, StatusCode::OK);
    for tool in ["email", "reports", "regrade", "certificates"] {
        assert!(
            html.contains(&format!("/courses/{COURSE}/instructor/{tool}\"")),
            "{tool}"
        );
    }
    let (_, outline) = sam.text(&format!("/courses/{COURSE}/")).await;
    assert!(outline.contains(&format!("/courses/{COURSE}/instructor\"")));
    let (_, outline) = ann.text(&format!("/courses/{COURSE}/")).await;
    assert!(
        !outline.contains("/instructor\""),
        "learners get no dashboard link"
    );
}
