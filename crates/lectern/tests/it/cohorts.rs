//! Cohorts through the instructor dashboard's Cohorts page: the switch,
//! creating cohorts, adding learners by username and e-mail (and what the
//! page reports for unknown, invalid and not-enrolled entries), moving a
//! learner (one membership), removing one, a CSV upload, who may use the
//! page; random assignment on enrolment for a course whose imported
//! policy turns cohorts on; `cohort_config` kept on export.

use lectern_app::model::CourseRole;
use lectern_app::transfer::ImportSource;
use lectern_content::olx::ImportLimits;
use reqwest::StatusCode;
use serde_json::Value;

use crate::problems::grading_course;
use crate::support::{bearer, course_archive, s, tar_gz, Client, TestSite};

pub const COURSE: &str = "course-v1:T+G+R";

pub fn page(course: &str, rest: &str) -> String {
    format!("/courses/{course}/instructor/cohorts{rest}")
}

/// A site with the grading course (admin `root`, staff `sam`), a second
/// course whose staff is `otto`, and enrolled learners `ann`, `bo`, `cy`,
/// `dee`; `eve` has an account and no enrolment.
pub struct Class {
    pub site: TestSite,
    pub root: Client,
    pub staff: Client,
    pub otto: Client,
    pub learners: Vec<Client>,
    pub eve: Client,
}

pub async fn class(site: TestSite) -> Class {
    let root = site.user("root", true).await;
    let admin = site.app.user_by_username("root").await.unwrap();
    for archive in [
        grading_course(0.5),
        course_archive("T", "H", r#"<course display_name="Other"/>"#, None),
    ] {
        site.app
            .import_course(
                Some(&admin),
                ImportSource::Archive(archive),
                ImportLimits::default(),
            )
            .await
            .unwrap();
    }
    let staff = site.user("sam", false).await;
    site.app
        .add_team_member(&admin, &COURSE.parse().unwrap(), "sam", CourseRole::Staff)
        .await
        .unwrap();
    let otto = site.user("otto", false).await;
    site.app
        .add_team_member(
            &admin,
            &"course-v1:T+H+R".parse().unwrap(),
            "otto",
            CourseRole::Staff,
        )
        .await
        .unwrap();
    let mut learners = Vec::new();
    for name in ["ann", "bo", "cy", "dee"] {
        let c = site.user(name, false).await;
        let r = c.post_form(&format!("/courses/{COURSE}/enroll"), &[]).await;
        assert!(r.status().is_success(), "enrolling {name}");
        learners.push(c);
    }
    let eve = site.user("eve", false).await;
    Class {
        site,
        root,
        staff,
        otto,
        learners,
        eve,
    }
}

/// Creates a cohort through the page; its id (from the redirect).
pub async fn create(c: &Client, course: &str, name: &str, assignment: &str) -> i64 {
    let r = c
        .post_form(
            &page(course, "/create"),
            &[("name", s(name)), ("assignment_type", s(assignment))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "creating {name}");
    let url = r.url().clone();
    url.query_pairs()
        .find(|(k, _)| k == "cohort")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("no cohort id in {url}"))
}

/// The course's cohorts through the API, by name: (id, user_count, type).
pub async fn cohorts_by_api(
    site: &TestSite,
    who: &str,
    course: &str,
) -> Vec<(String, i64, String)> {
    let token = bearer(&site.base, who).await;
    let r = reqwest::Client::new()
        .get(format!(
            "{}/api/cohorts/v1/courses/{course}/cohorts/",
            site.base
        ))
        .header("Authorization", token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let list: Vec<Value> = r.json().await.unwrap();
    list.iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["user_count"].as_i64().unwrap(),
                c["assignment_type"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn count_of(list: &[(String, i64, String)], name: &str) -> i64 {
    list.iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, c, _)| *c)
        .unwrap_or_else(|| panic!("no cohort {name} in {list:?}"))
}

async fn upload(c: &Client, course: &str, csv: &str) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("cohorts.csv");
    let form = reqwest::multipart::Form::new().part("file", part);
    let token = c.csrf().await;
    c.http
        .post(c.url(&format!("{}?csrf_token={token}", page(course, "/upload"))))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_course_team_creates_cohorts_and_places_learners_by_name_email_and_csv() {
    let k = class(TestSite::spawn().await).await;
    let (staff, site) = (&k.staff, &k.site);

    // Only the course team (and admins) reach the page or change anything.
    for (who, c) in [
        ("learner", &k.learners[0]),
        ("outsider", &k.eve),
        ("other course's staff", &k.otto),
    ] {
        let (status, _) = c.text(&page(COURSE, "")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who} sees no page");
        let r = c
            .post_form(
                &page(COURSE, "/create"),
                &[("name", s("X")), ("assignment_type", s("manual"))],
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{who} creates nothing");
    }
    let (status, html) = k.root.text(&page(COURSE, "")).await;
    assert_eq!(status, StatusCode::OK, "admins may");
    assert!(html.contains("Cohorts are <strong>off</strong>"), "{html}");
    let (_, dash) = staff.text(&format!("/courses/{COURSE}/instructor")).await;
    assert!(
        dash.contains(&page(COURSE, "")),
        "linked from the dashboard"
    );

    // The switch.
    let r = staff
        .post_form(&page(COURSE, "/settings"), &[("enabled", s("on"))])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("Cohorts are <strong>on</strong>"), "{html}");
    assert!(
        html.contains("<strong class=\"without-cohort\">4</strong>"),
        "{html}"
    );

    let blue = create(staff, COURSE, "Blue", "manual").await;
    let red = create(staff, COURSE, "Red", "manual").await;
    assert_ne!(blue, red);
    let r = staff
        .post_form(
            &page(COURSE, "/create"),
            &[("name", s(" Blue ")), ("assignment_type", s("manual"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("A cohort with the same name already exists."));
    let r = staff
        .post_form(
            &page(COURSE, "/create"),
            &[("name", s("Green")), ("assignment_type", s("sometimes"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Add by username and by e-mail; the rest is reported, nothing stored.
    let r = staff
        .post_form(
            &page(COURSE, &format!("/{blue}/add")),
            &[("users", s("ann, BO@example.org\nzed eve,bad@"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(
            "<ul class=\"added\"><li>ann (ann@example.org)</li><li>bo (bo@example.org)</li></ul>"
        ),
        "{html}"
    );
    assert!(
        html.contains("<ul class=\"unknown\"><li>zed</li></ul>"),
        "{html}"
    );
    assert!(
        html.contains("<ul class=\"not-enrolled\"><li>eve</li></ul>"),
        "{html}"
    );
    assert!(
        html.contains("<ul class=\"invalid\"><li>bad@</li></ul>"),
        "{html}"
    );
    assert!(
        html.contains("<td>ann</td><td>ann@example.org</td>"),
        "members listed"
    );

    // Moving ann to Red: one membership, reported with where she was.
    let r = staff
        .post_form(
            &page(COURSE, &format!("/{red}/add")),
            &[("users", s("ann"))],
        )
        .await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<ul class=\"changed\"><li>ann (ann@example.org), moved from Blue</li></ul>"),
        "{html}"
    );
    let r = staff
        .post_form(
            &page(COURSE, &format!("/{red}/add")),
            &[("users", s("ann"))],
        )
        .await;
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("<ul class=\"present\"><li>ann</li></ul>"));
    let list = cohorts_by_api(site, "sam", COURSE).await;
    assert_eq!(
        (count_of(&list, "Blue"), count_of(&list, "Red")),
        (1, 1),
        "{list:?}"
    );

    // Removing.
    let r = staff
        .post_form(
            &page(COURSE, &format!("/{blue}/remove")),
            &[("username", s("bo"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = staff
        .post_form(
            &page(COURSE, &format!("/{blue}/remove")),
            &[("username", s("bo"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "not in it any more");
    let list = cohorts_by_api(site, "sam", COURSE).await;
    assert_eq!(count_of(&list, "Blue"), 0);

    // A CSV file: the e-mail wins over the username; unknown cohorts and
    // users are reported.
    let r = upload(
        staff,
        COURSE,
        "username,email,cohort\r\ncy,,Blue\r\nnobody,dee@example.org,Red\r\nzed,,Blue\r\nbo,,Nope\r\neve,,Red\r\n",
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<tr class=\"csv-row\"><td>Blue</td><td>yes</td><td class=\"added\">1</td><td class=\"not-found\">zed</td>"),
        "{html}"
    );
    assert!(
        html.contains("<tr class=\"csv-row\"><td>Red</td><td>yes</td><td class=\"added\">1</td><td class=\"not-found\"></td><td class=\"invalid\"></td><td class=\"not-enrolled\">eve</td>"),
        "{html}"
    );
    assert!(
        html.contains("<tr class=\"csv-row\"><td>Nope</td><td>no</td><td class=\"added\">0</td>"),
        "{html}"
    );
    let list = cohorts_by_api(site, "sam", COURSE).await;
    assert_eq!(
        (count_of(&list, "Blue"), count_of(&list, "Red")),
        (1, 2),
        "{list:?}"
    );

    // A file without the columns is refused whole.
    let r = upload(staff, COURSE, "username,group\r\nbo,Blue\r\n").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("column containing cohort names."), "{html}");
    let list = cohorts_by_api(site, "sam", COURSE).await;
    assert_eq!(count_of(&list, "Blue"), 1, "nothing changed");
}

/// A one-chapter course `course-v1:C+K+R` whose policy has
/// `cohort_config: {"cohorted": true}`.
fn cohorted_course() -> Vec<u8> {
    tar_gz(&[
        (
            "course/course.xml",
            r#"<course url_name="R" org="C" course="K"/>"#,
        ),
        (
            "course/course/R.xml",
            r#"<course display_name="Cohorted"><chapter url_name="c1" display_name="One"/></course>"#,
        ),
        (
            "course/policies/R/policy.json",
            r#"{"course/R": {"cohort_config": {"cohorted": true}, "display_name": "Cohorted"}}"#,
        ),
    ])
}

#[tokio::test]
async fn learners_enrolling_in_a_cohorted_course_are_put_in_random_cohorts() {
    let site = TestSite::spawn().await;
    let root = site.user("root", true).await;
    let admin = site.app.user_by_username("root").await.unwrap();
    site.app
        .import_course(
            Some(&admin),
            ImportSource::Archive(cohorted_course()),
            ImportLimits::default(),
        )
        .await
        .unwrap();
    let course = "course-v1:C+K+R";
    let (_, html) = root.text(&page(course, "")).await;
    assert!(
        html.contains("Cohorts are <strong>on</strong>"),
        "from the policy: {html}"
    );

    // The first learner makes the "Default Group", as Open edX does.
    let first = site.user("l0", false).await;
    first
        .post_form(&format!("/courses/{course}/enroll"), &[])
        .await;
    let list = cohorts_by_api(&site, "root", course).await;
    assert_eq!(
        list,
        [("Default Group".to_string(), 1, "random".to_string())]
    );

    // With two random cohorts (and a manual one), learners spread over the
    // random ones only; enrolment through the API (keyed) assigns too.
    create(&root, course, "Second", "random").await;
    create(&root, course, "Hand", "manual").await;
    for i in 1..=12 {
        let name = format!("l{i}");
        let c = site.user(&name, false).await;
        if i % 2 == 0 {
            c.post_form(&format!("/courses/{course}/enroll"), &[]).await;
        } else {
            let r = c
                .http
                .post(c.url("/api/enrollment/v1/enrollment"))
                .header("Authorization", bearer(&site.base, &name).await)
                .header("Idempotency-Key", format!("enrol-{name}"))
                .json(&serde_json::json!({"course_details": {"course_id": course}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "API enrolment");
        }
    }
    let list = cohorts_by_api(&site, "root", course).await;
    let (dg, second, hand) = (
        count_of(&list, "Default Group"),
        count_of(&list, "Second"),
        count_of(&list, "Hand"),
    );
    assert_eq!(dg + second, 13, "{list:?}");
    assert_eq!(hand, 0);
    assert!(second > 0 && dg > 1, "both random cohorts drawn: {list:?}");
    let (_, html) = root.text(&page(course, "")).await;
    assert!(
        html.contains("<strong class=\"without-cohort\">0</strong>"),
        "{html}"
    );

    // Switched off, enrolment assigns nobody.
    root.post_form(&page(course, "/settings"), &[("enabled", s("off"))])
        .await;
    let late = site.user("late", false).await;
    late.post_form(&format!("/courses/{course}/enroll"), &[])
        .await;
    let (_, html) = root.text(&page(course, "")).await;
    assert!(
        html.contains("<strong class=\"without-cohort\">1</strong>"),
        "{html}"
    );
}

#[tokio::test]
async fn the_policys_cohort_config_survives_export() {
    let site = TestSite::spawn().await;
    let root = site.user("root", true).await;
    let admin = site.app.user_by_username("root").await.unwrap();
    site.app
        .import_course(
            Some(&admin),
            ImportSource::Archive(cohorted_course()),
            ImportLimits::default(),
        )
        .await
        .unwrap();
    let course = "course-v1:C+K+R";
    let r = root.get(&format!("/studio/course/{course}/export")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let exported = r.bytes().await.unwrap().to_vec();
    let again = lectern_content::olx::read_archive(&exported, &Default::default()).unwrap();
    assert_eq!(
        again.tree.policy.get("cohort_config"),
        Some(&serde_json::json!({"cohorted": true}))
    );
}
