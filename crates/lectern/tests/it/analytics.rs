//! The instructor analytics page end to end: a small class acts over ten
//! days (the site's clock moved back and forth), answers through the
//! problem API and plays videos through `POST /event`; then each chart's
//! CSV is compared cell by cell with numbers worked out by hand, each SVG
//! is parsed as XML and its bars and points counted, and author-controlled
//! names are escaped. Also: who may see the page and the CSVs, and that a
//! flood of player events leaves one row per learner and video, clamped.
//!
//! The class (course-v1:T+A+R; Homework 50 % of 2 subsections, Exam 50 %,
//! Pass at 50 %; p4 is practice, not graded):
//! - day −10: ann enrols; p1 right, p2 wrong then right, p3 right → 100 %.
//! - day −3: bo enrols; p1 wrong then right → HW (1 + 0) / 2 × 50 % = 25 %.
//!   cy enrols; p2 right; p4 right (practice).
//! - today: dee enrols (no answers, 0 %); cy unenrols. Videos: dee plays
//!   vid1 0→40 s; ann plays vid1 0→30, seeks 30→60, pauses at 95 (65 s,
//!   furthest 95 of 100: completed) and vid2 0→20; bo floods vid1 with
//!   play at 0 / pause at 3000 (clamped to the length, 100 s).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, Utc};
use lectern_app::model::CourseRole;
use reqwest::StatusCode;
use serde_json::json;

use crate::reports::parse_csv;
use crate::support::{bearer, course_archive, s, Client, TestSite};

const COURSE: &str = "course-v1:T+A+R";
const OTHER: &str = "course-v1:T+O+R";
const DAY: i64 = 86_400;

const P1: &str = r#"<problem url_name="p1" display_name="&lt;script&gt;alert(1)&lt;/script&gt; Pick B" max_attempts="2"><multiplechoiceresponse><choicegroup type="MultipleChoice"><choice correct="false">A</choice><choice correct="true">B</choice></choicegroup></multiplechoiceresponse></problem>"#;
const P2: &str = r#"<problem url_name="p2" display_name="Pi" weight="2"><numericalresponse answer="3.14"><responseparam type="tolerance" default="0.01"/><formulaequationinput/></numericalresponse></problem>"#;
const P3: &str = r#"<problem url_name="p3" display_name="Pick a and b"><choiceresponse><checkboxgroup><choice correct="true">a</choice><choice correct="true">b</choice><choice correct="false">c</choice></checkboxgroup></choiceresponse></problem>"#;
const P4: &str = r#"<problem url_name="p4" display_name="Practice"><numericalresponse answer="2"><formulaequationinput/></numericalresponse></problem>"#;

fn archive(number: &str) -> Vec<u8> {
    let course = format!(
        r#"<course display_name="Analytics"><chapter url_name="c1" display_name="Week 1">
<sequential url_name="hw1" display_name="HW 1" graded="true" format="Homework"><vertical url_name="v1" display_name="U1">{P1}<video url_name="vid1" display_name="Intro &lt;video&gt;"/></vertical></sequential>
<sequential url_name="hw2" display_name="HW 2" graded="true" format="Homework"><vertical url_name="v2" display_name="U2">{P2}</vertical></sequential>
<sequential url_name="ex" display_name="Exam" graded="true" format="Exam"><vertical url_name="v3" display_name="U3">{P3}<video url_name="vid2" display_name="Second"/></vertical></sequential>
<sequential url_name="pr" display_name="Practice"><vertical url_name="v4" display_name="U4">{P4}</vertical></sequential>
</chapter></course>"#
    );
    let policy = json!({"GRADER": [
        {"type": "Homework", "min_count": 2, "drop_count": 0, "weight": 0.5, "short_label": "HW"},
        {"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 0.5, "short_label": "Exam"}],
        "GRADE_CUTOFFS": {"Pass": 0.5}});
    course_archive("T", number, &course, Some(&policy))
}

fn usage(kind: &str, id: &str) -> String {
    format!("block-v1:T+A+R+type@{kind}+block@{id}")
}

async fn check(site: &TestSite, who: &str, problem: &str, answers: serde_json::Value) {
    let token = bearer(&site.base, who).await;
    let r = reqwest::Client::new()
        .post(format!(
            "{}/api/problems/v1/{}/check",
            site.base,
            usage("problem", problem)
        ))
        .header("Authorization", token)
        .json(&json!({ "answers": answers }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

async fn enroll(c: &Client, course: &str) {
    let r = c.post_form(&format!("/courses/{course}/enroll"), &[]).await;
    assert!(r.status().is_success(), "enrolling");
}

/// A player event as the page's script sends it.
async fn event(c: &Client, base: &str, kind: &str, fields: serde_json::Value) {
    let r = c
        .post_form(
            "/event",
            &[
                ("event_type", s(kind)),
                ("event", fields.to_string()),
                (
                    "page",
                    format!("{base}/courses/{COURSE}/courseware/c1/hw1/"),
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// The site with both courses imported by `root`, staff `tess` on this
/// course and `sam` on the other one, its clock offset, and the browsers
/// of root, tess and sam.
async fn site() -> (TestSite, Arc<AtomicI64>, [Client; 3]) {
    let offset = Arc::new(AtomicI64::new(0));
    let site = TestSite::spawn_with_clock(offset.clone()).await;
    let root = site.user("root", true).await;
    let token = bearer(&site.base, "root").await;
    for number in ["A", "O"] {
        let r = reqwest::Client::new()
            .post(format!("{}/api/courses/v0/import/", site.base))
            .header("Authorization", &token)
            .body(archive(number))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }
    let admin = site.app.user_by_username("root").await.unwrap();
    let tess = site.user("tess", false).await;
    let sam = site.user("sam", false).await;
    site.app
        .add_team_member(&admin, &COURSE.parse().unwrap(), "tess", CourseRole::Staff)
        .await
        .unwrap();
    site.app
        .add_team_member(&admin, &OTHER.parse().unwrap(), "sam", CourseRole::Staff)
        .await
        .unwrap();
    (site, offset, [root, tess, sam])
}

/// The class above, acting on its days.
async fn class(site: &TestSite, offset: &AtomicI64) {
    offset.store(-10 * DAY, Ordering::SeqCst);
    let ann = site.user("ann", false).await;
    enroll(&ann, COURSE).await;
    check(site, "ann", "p1", json!({"p1_2_1": "choice_1"})).await;
    check(site, "ann", "p2", json!({"p2_2_1": "3"})).await;
    check(site, "ann", "p2", json!({"p2_2_1": "3.14"})).await;
    check(
        site,
        "ann",
        "p3",
        json!({"p3_2_1": ["choice_0", "choice_1"]}),
    )
    .await;

    offset.store(-3 * DAY, Ordering::SeqCst);
    let bo = site.user("bo", false).await;
    enroll(&bo, COURSE).await;
    check(site, "bo", "p1", json!({"p1_2_1": "choice_0"})).await;
    check(site, "bo", "p1", json!({"p1_2_1": "choice_1"})).await;
    let cy = site.user("cy", false).await;
    enroll(&cy, COURSE).await;
    check(site, "cy", "p2", json!({"p2_2_1": "3.14"})).await;
    check(site, "cy", "p4", json!({"p4_2_1": "2"})).await;

    offset.store(0, Ordering::SeqCst);
    let dee = site.user("dee", false).await;
    enroll(&dee, COURSE).await;
    let cy_user = site.app.user_by_username("cy").await.unwrap();
    site.app
        .unenroll(&cy_user, &COURSE.parse().unwrap())
        .await
        .unwrap();
    let base = &site.base;
    event(
        &dee,
        base,
        "load_video",
        json!({"id": "vid1", "code": "html5", "duration": 100}),
    )
    .await;
    event(
        &dee,
        base,
        "play_video",
        json!({"id": "vid1", "code": "html5", "currentTime": 0}),
    )
    .await;
    event(
        &dee,
        base,
        "pause_video",
        json!({"id": "vid1", "code": "html5", "currentTime": 40}),
    )
    .await;
    event(
        &ann,
        base,
        "load_video",
        json!({"id": "vid1", "duration": 100}),
    )
    .await;
    event(
        &ann,
        base,
        "play_video",
        json!({"id": "vid1", "currentTime": 0}),
    )
    .await;
    event(
        &ann,
        base,
        "seek_video",
        json!({"id": "vid1", "old_time": 30, "new_time": 60, "type": "onSlideSeek"}),
    )
    .await;
    event(
        &ann,
        base,
        "pause_video",
        json!({"id": "vid1", "currentTime": 95}),
    )
    .await;
    event(
        &ann,
        base,
        "play_video",
        json!({"id": "vid2", "currentTime": 0}),
    )
    .await;
    event(
        &ann,
        base,
        "stop_video",
        json!({"id": "vid2", "currentTime": 20}),
    )
    .await;
    flood(site, &bo).await;
    site.app.flush_engagement().await.unwrap();
    // A second flood after a flush: the stored row stays clamped.
    flood(site, &bo).await;
    // Events for a video that does not exist leave nothing.
    event(
        &bo,
        base,
        "play_video",
        json!({"id": "nope", "currentTime": 0}),
    )
    .await;
    event(
        &bo,
        base,
        "pause_video",
        json!({"id": "nope", "currentTime": 50}),
    )
    .await;
    site.app.flush_engagement().await.unwrap();
}

/// 200 player events from bo for vid1: play at 0, pause at 3000.
async fn flood(site: &TestSite, bo: &Client) {
    event(
        bo,
        &site.base,
        "load_video",
        json!({"id": "vid1", "duration": 100}),
    )
    .await;
    for _ in 0..100 {
        event(
            bo,
            &site.base,
            "play_video",
            json!({"id": "vid1", "currentTime": 0}),
        )
        .await;
        event(
            bo,
            &site.base,
            "pause_video",
            json!({"id": "vid1", "currentTime": 3000}),
        )
        .await;
    }
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// A chart's CSV once it equals `want` (the engagement flush of the
/// background loop may land a moment after ours; bounded wait).
async fn csv_until(c: &Client, chart: &str, want: &[Vec<String>]) -> Vec<Vec<String>> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = c
            .get(&format!(
                "/courses/{COURSE}/instructor/analytics/{chart}.csv"
            ))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{chart}.csv");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let rows = parse_csv(&r.text().await.unwrap());
        if rows == want || Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn rows(cells: &[&[&str]]) -> Vec<Vec<String>> {
    cells
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// Each `<svg>…</svg>` of a page, parsed as XML: (id, bars, points,
/// markers, every text of `<title>` elements).
fn charts(html: &str) -> BTreeMap<String, (usize, usize, usize, Vec<String>)> {
    let mut out = BTreeMap::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("a closed svg") + start + "</svg>".len();
        let text = &rest[start..end];
        let doc = roxmltree::Document::parse(text).expect("each chart is well-formed XML");
        let root = doc.root_element();
        let count = |tag: &str, class: &str| {
            doc.descendants()
                .filter(|n| n.has_tag_name(tag) && n.attribute("class") == Some(class))
                .count()
        };
        let titles = doc
            .descendants()
            .filter(|n| n.has_tag_name("title"))
            .filter_map(|n| n.text().map(str::to_string))
            .collect();
        assert!(root.descendants().any(|n| n.has_tag_name("desc")));
        out.insert(
            root.attribute("id").unwrap_or_default().to_string(),
            (
                count("rect", "bar"),
                count("circle", "point"),
                count("line", "marker"),
                titles,
            ),
        );
        rest = &rest[end..];
    }
    out
}

#[tokio::test]
async fn each_chart_counts_what_the_class_did_and_draws_it() {
    let (site, offset, [_root, tess, _sam]) = site().await;
    class(&site, &offset).await;

    // (a) Enrolments: ann on day −10, bo and cy on day −3 (cy has left
    // since: new that day, not in the total), dee today.
    let mut want = vec![vec![
        s("date"),
        s("new_enrollments"),
        s("total_active_enrollments"),
    ]];
    for back in (0..=10).rev() {
        let day = today() - chrono::Duration::days(back);
        let (new, total) = match back {
            10 => (1, 1),
            4..=9 => (0, 1),
            3 => (2, 2),
            1..=2 => (0, 2),
            _ => (1, 3),
        };
        want.push(vec![day.to_string(), new.to_string(), total.to_string()]);
    }
    assert_eq!(csv_until(&tess, "enrollments", &want).await, want);

    // (b) Active learners per week: ann (day −10 answers, today's videos),
    // bo and cy (day −3 answers), dee (today's videos).
    let mut weeks: BTreeMap<NaiveDate, BTreeSet<&str>> = BTreeMap::new();
    for (back, who) in [
        (10, "ann"),
        (3, "bo"),
        (3, "cy"),
        (0, "dee"),
        (0, "ann"),
        (0, "bo"),
    ] {
        let week = monday_of(today() - chrono::Duration::days(back));
        weeks.entry(week).or_default().insert(who);
    }
    let first = *weeks.keys().next().unwrap();
    let mut want = vec![vec![s("week_starting"), s("active_learners")]];
    let mut week = first;
    while week <= monday_of(today()) {
        let n = weeks.get(&week).map_or(0, BTreeSet::len);
        want.push(vec![week.to_string(), n.to_string()]);
        week += chrono::Duration::days(7);
    }
    let week_rows = want.len() - 1;
    assert_eq!(csv_until(&tess, "active_learners", &want).await, want);

    // (c) Grades of active learners: dee 0 %, bo 25 %, ann 100 %.
    let mut want = vec![vec![
        s("grade_from_percent"),
        s("grade_to_percent"),
        s("learners"),
        s("pass_mark_percent"),
    ]];
    for bin in 0..10 {
        let n = match bin {
            0 | 2 | 9 => 1,
            _ => 0,
        };
        want.push(vec![
            (bin * 10).to_string(),
            (bin * 10 + 10).to_string(),
            n.to_string(),
            s("50.0"),
        ]);
    }
    assert_eq!(csv_until(&tess, "grades", &want).await, want);

    // (d) First attempts, graded problems in course order (p4 is practice).
    let want = rows(&[
        &[
            "position",
            "usage_key",
            "problem",
            "learners_attempted",
            "first_attempt_correct",
            "first_attempt_correct_percent",
        ],
        &[
            "1",
            &usage("problem", "p1"),
            "<script>alert(1)</script> Pick B",
            "2",
            "1",
            "50.0",
        ],
        &["2", &usage("problem", "p2"), "Pi", "2", "1", "50.0"],
        &[
            "3",
            &usage("problem", "p3"),
            "Pick a and b",
            "1",
            "1",
            "100.0",
        ],
    ]);
    assert_eq!(csv_until(&tess, "problems", &want).await, want);

    // (e) Videos: vid1 watched 40 (dee), 65 (ann), 100 (bo, clamped):
    // mean 68.3, median 65, completed by ann and bo; vid2 20 s by ann.
    let want = rows(&[
        &[
            "position",
            "usage_key",
            "video",
            "learners_played",
            "mean_seconds_watched",
            "median_seconds_watched",
            "duration_seconds",
            "learners_completed",
        ],
        &[
            "1",
            &usage("video", "vid1"),
            "Intro <video>",
            "3",
            "68.3",
            "65.0",
            "100.0",
            "2",
        ],
        &[
            "2",
            &usage("video", "vid2"),
            "Second",
            "1",
            "20.0",
            "20.0",
            "",
            "",
        ],
    ]);
    assert_eq!(csv_until(&tess, "videos", &want).await, want);

    // The page: five well-formed SVG charts with a bar per row.
    let (status, html) = tess
        .text(&format!("/courses/{COURSE}/instructor/analytics"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<script>alert(1)"), "a name is not escaped");
    assert!(!html.contains("Intro <video>"), "a name is not escaped");
    let found = charts(&html);
    let ids: Vec<&str> = found.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        [
            "chart-active_learners",
            "chart-enrollments",
            "chart-grades",
            "chart-problems",
            "chart-videos"
        ]
    );
    assert_eq!(found["chart-enrollments"].0, 11);
    assert_eq!(found["chart-enrollments"].1, 11);
    assert_eq!(found["chart-active_learners"].0, week_rows);
    assert_eq!(found["chart-grades"].0, 10);
    assert_eq!(found["chart-grades"].2, 1, "the pass mark");
    assert_eq!(found["chart-problems"].0, 3);
    assert_eq!(found["chart-videos"].0, 2);
    let titles = &found["chart-problems"].3;
    assert!(
        titles.iter().any(|t| t.starts_with(
            "<script>alert(1)</script> Pick B: 1 of 2 learners correct at the first attempt"
        )),
        "{titles:?}"
    );
    for name in [
        "enrollments",
        "active_learners",
        "grades",
        "problems",
        "videos",
    ] {
        assert!(html.contains(&format!(
            "href=\"/courses/{COURSE}/instructor/analytics/{name}.csv\""
        )));
    }
    // The dashboard links to it.
    let (_, dashboard) = tess.text(&format!("/courses/{COURSE}/instructor")).await;
    assert!(dashboard.contains(&format!("/courses/{COURSE}/instructor/analytics")));
}

#[tokio::test]
async fn only_the_course_team_and_admins_see_the_analytics() {
    let (site, _offset, [root, _tess, sam]) = site().await;
    let ann = site.user("ann", false).await;
    enroll(&ann, COURSE).await;
    let outsider = site.user("olly", false).await;
    let page = format!("/courses/{COURSE}/instructor/analytics");
    let csv = format!("{page}/grades.csv");
    for (who, c) in [
        ("learner", &ann),
        ("outsider", &outsider),
        ("other course's staff", &sam),
    ] {
        for path in [&page, &csv] {
            let r = c.get(path).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{who} on {path}");
            let body = r.text().await.unwrap();
            assert!(!body.contains("grade_from_percent"), "{who} on {path}");
        }
    }
    // Not signed in: no chart, no CSV.
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [&page, &csv] {
        let r = anonymous
            .get(format!("{}{path}", site.base))
            .send()
            .await
            .unwrap();
        assert!(!r.status().is_success(), "anonymous on {path}");
        assert!(!r.text().await.unwrap().contains("grade_from_percent"));
    }
    // The admin and sam on his own course do.
    assert_eq!(root.get(&csv).await.status(), StatusCode::OK);
    let own = format!("/courses/{OTHER}/instructor/analytics/grades.csv");
    assert_eq!(sam.get(&own).await.status(), StatusCode::OK);
    // Unknown charts are not found.
    let r = root.get(&format!("{page}/nope.csv")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = root.get(&format!("{page}/grades")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
