//! `show_correctness` over HTTP: a learner must not be able to tell a right
//! answer from a wrong one on any surface (the check response, the problem
//! API, the submission history, the unit page, the progress page, their own
//! grade) while the setting hides it; `past_due` shows it all once the
//! problem closes. Grades are computed all along (the course team sees them).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{bearer, json, Client, TestSite};

const KEY: &str = "course-v1:T+SC+R";

/// The quiz closes an hour after the test starts (tokens outlive that).
fn due() -> chrono::DateTime<chrono::Utc> {
    use std::sync::OnceLock;
    static DUE: OnceLock<chrono::DateTime<chrono::Utc>> = OnceLock::new();
    *DUE.get_or_init(|| chrono::Utc::now() + chrono::Duration::hours(1))
}

fn checkbox(id: &str) -> String {
    format!(
        r#"<problem url_name="{id}" display_name="Problem {id}" showanswer="always"><choiceresponse><checkboxgroup><choice correct="true">yes<choicehint selected="true">HINT-{id}</choicehint></choice><choice correct="false">no</choice></checkboxgroup></choiceresponse></problem>"#
    )
}

/// One never-correctness exam and one past-due quiz, half the grade each.
fn course() -> Vec<u8> {
    let course = format!(
        r#"<course display_name="Hidden results"><chapter url_name="c1" display_name="Week 1">
<sequential url_name="exam" display_name="Final exam" graded="true" format="Exam" show_correctness="never"><vertical url_name="v1" display_name="Exam unit">{}</vertical></sequential>
<sequential url_name="quiz" display_name="Quiz" graded="true" format="Homework" show_correctness="past_due" due="{}"><vertical url_name="v2" display_name="Quiz unit">{}</vertical></sequential>
</chapter></course>"#,
        checkbox("hid"),
        due().to_rfc3339(),
        checkbox("pd")
    );
    let policy = json!({"GRADER": [
        {"type": "Homework", "min_count": 1, "drop_count": 0, "weight": 0.5, "short_label": "HW"},
        {"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 0.5, "short_label": "Exam"}],
        "GRADE_CUTOFFS": {"Pass": 0.4}});
    crate::support::course_archive("T", "SC", &course, Some(&policy))
}

fn usage(id: &str) -> String {
    format!("block-v1:T+SC+R+type@problem+block@{id}")
}

struct Learner {
    browser: Client,
    bearer: String,
}

impl Learner {
    async fn get(&self, path: &str) -> Value {
        let r = self
            .browser
            .http
            .get(self.browser.url(path))
            .header("Authorization", &self.bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        json(r).await
    }

    async fn check(&self, id: &str, boxes: &[&str]) -> Value {
        let r = self
            .browser
            .http
            .post(
                self.browser
                    .url(&format!("/api/problems/v1/{}/check", usage(id))),
            )
            .header("Authorization", &self.bearer)
            .json(&json!({"answers": {format!("{id}_2_1"): boxes}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        json(r).await
    }

    async fn problem(&self, id: &str) -> Value {
        self.get(&format!("/api/problems/v1/{}", usage(id))).await
    }

    async fn submissions(&self, id: &str) -> Value {
        self.get(&format!("/api/problems/v1/{}/submissions", usage(id)))
            .await
    }

    async fn page(&self, path: &str) -> String {
        let (status, html) = self.browser.text(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        html
    }

    /// The unit page's section for problem `id`.
    async fn problem_section(&self, unit: &str, id: &str) -> String {
        let html = self.page(&format!("/courses/{KEY}/unit/{unit}")).await;
        let start = html
            .find(&format!(r#"id="problem-{id}""#))
            .expect("problem in page");
        let end = html[start..].find("</section>").unwrap() + start;
        html[start..end].to_string()
    }

    /// The progress page's body (without the header that names the user).
    async fn progress(&self) -> String {
        let html = self.page(&format!("/courses/{KEY}/progress")).await;
        let start = html.find(r#"<div class="card">"#).unwrap();
        html[start..].to_string()
    }

    /// What the grades API tells the learner about their own grade.
    async fn own_grade(&self, username: &str) -> Value {
        self.get(&format!(
            "/api/grades/v1/courses/{KEY}/?username={username}"
        ))
        .await[0]
            .clone()
    }
}

async fn setup(offset: Arc<AtomicI64>) -> (TestSite, String, Learner, Learner) {
    let site = TestSite::spawn_with_clock(offset).await;
    site.user("root", true).await;
    let admin = bearer(&site.base, "root").await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", &admin)
        .body(course())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let mut learners = Vec::new();
    for name in ["bea", "cal"] {
        let browser = site.user(name, false).await;
        let r = browser
            .post_form(&format!("/courses/{KEY}/enroll"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        learners.push(Learner {
            bearer: bearer(&site.base, name).await,
            browser,
        });
    }
    let cal = learners.pop().unwrap();
    let bea = learners.pop().unwrap();
    (site, admin, bea, cal)
}

/// `v` without the fields that legitimately differ between two learners.
fn without(mut v: Value, keys: &[&str]) -> Value {
    if let Some(o) = v.as_object_mut() {
        for k in keys {
            o.remove(*k);
        }
    }
    if let Some(a) = v.as_array_mut() {
        for item in a.iter_mut() {
            *item = without(item.take(), keys);
        }
    }
    if let Some(r) = v.get_mut("results") {
        *r = without(r.take(), keys);
    }
    v
}

/// Nothing any surface shows tells bea's right answer from cal's wrong one.
async fn assert_nothing_tells(bea: &Learner, cal: &Learner, id: &str, unit: &str) {
    let (b, c) = (bea.problem(id).await, cal.problem(id).await);
    assert_eq!(b["score"]["earned"], Value::Null, "{b}");
    assert_eq!(b["score"]["hidden"], true);
    assert_eq!(
        b["correct_map"][format!("{id}_2_1")]["correctness"],
        "submitted"
    );
    assert_eq!(b["can_show_answer"], false, "the answer would tell");
    assert_eq!(without(b, &["answers"]), without(c, &["answers"]));

    let (b, c) = (bea.submissions(id).await, cal.submissions(id).await);
    let text = b.to_string();
    assert!(
        !text.contains("\"correct\"") && !text.contains("HINT-"),
        "{text}"
    );
    assert_eq!(b["results"][0]["earned"], Value::Null);
    let volatile = ["answers", "created_at"];
    assert_eq!(without(b, &volatile), without(c, &volatile));

    let (b, c) = (
        bea.problem_section(unit, id).await,
        cal.problem_section(unit, id).await,
    );
    assert!(b.contains("Answer submitted."), "{b}");
    assert!(b.contains("results hidden") && b.contains("status submitted"));
    assert!(!b.contains("HINT-") && !b.contains("1/1 point"));
    // Only the boxes each one ticked, their CSRF tokens and the forms'
    // one-time idempotency keys differ.
    let csrf =
        regex::Regex::new(r#"name="(csrf_token|idempotency_key)" value="[0-9a-z-]+""#).unwrap();
    let strip = |s: &str| csrf.replace_all(&s.replace(" checked", ""), "").to_string();
    assert_eq!(strip(&b), strip(&c), "the pages differ");

    let (b, c) = (bea.progress().await, cal.progress().await);
    assert!(b.contains("Problem scores are hidden"), "{b}");
    assert_eq!(b, c, "the progress pages differ");
    let (b, c) = (bea.own_grade("bea").await, cal.own_grade("cal").await);
    assert_eq!(without(b, &["username"]), without(c, &["username"]));
}

#[tokio::test]
async fn never_hides_correctness_on_every_surface_but_grades_are_kept() {
    let (site, admin, bea, cal) = setup(Arc::new(AtomicI64::new(0))).await;
    let right = bea.check("hid", &["choice_0"]).await;
    let wrong = cal.check("hid", &["choice_1"]).await;
    assert_eq!(right["earned"], Value::Null, "{right}");
    assert_eq!(right["message"], "Answer submitted.");
    assert_eq!(right["correct_map"]["hid_2_1"]["correctness"], "submitted");
    assert!(!right.to_string().contains("HINT-"));
    assert_eq!(right, wrong, "the check responses tell right from wrong");
    assert_nothing_tells(&bea, &cal, "hid", "v1").await;
    assert_eq!(bea.own_grade("bea").await["percent"], 0.0);

    // The grade is computed in full: the course team sees bea's exam.
    let r = reqwest::Client::new()
        .get(format!(
            "{}/api/grades/v1/courses/{KEY}/?username=bea",
            site.base
        ))
        .header("Authorization", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(json(r).await[0]["percent"], 0.5);
}

#[tokio::test]
async fn past_due_hides_correctness_until_the_due_date_then_shows_it() {
    let offset = Arc::new(AtomicI64::new(0));
    let (_site, _admin, bea, cal) = setup(offset.clone()).await;
    let right = bea.check("pd", &["choice_0"]).await;
    let wrong = cal.check("pd", &["choice_1"]).await;
    assert_eq!(right["message"], "Answer submitted.");
    assert_eq!(right, wrong);
    assert_nothing_tells(&bea, &cal, "pd", "v2").await;
    let progress = bea.progress().await;
    assert!(progress.contains("hidden until the due date"), "{progress}");

    // An hour after the due date everything shows.
    offset.store(2 * 3600, Ordering::SeqCst);
    let b = bea.problem("pd").await;
    assert_eq!(b["score"]["earned"], 1.0, "{b}");
    assert_eq!(b["correct_map"]["pd_2_1"]["correctness"], "correct");
    assert_eq!(
        cal.problem("pd").await["correct_map"]["pd_2_1"]["correctness"],
        "incorrect"
    );
    let subs = bea.submissions("pd").await;
    assert_eq!(subs["results"][0]["earned"], 1.0);
    assert_eq!(
        subs["results"][0]["correct_map"]["pd_2_1"]["correctness"],
        "correct"
    );
    let section = bea.problem_section("v2", "pd").await;
    assert!(section.contains("1/1 point") && section.contains("status correct"));
    assert!(section.contains("HINT-pd"), "the choice hint shows now");
    let progress = bea.progress().await;
    assert!(
        !progress.contains("hidden until the due date"),
        "{progress}"
    );
    assert!(progress.contains("Problem pd: 1/1"), "{progress}");
    assert!(
        progress.contains("Problem scores are hidden."),
        "the exam stays hidden"
    );
    assert_ne!(progress, cal.progress().await);
    // Half the grade is the quiz; the never-shown exam still counts nothing.
    assert_eq!(bea.own_grade("bea").await["percent"], 0.5);
}
