//! Unreleased content through every surface: a section that starts in 2099
//! is hidden from an enrolled learner on the outline, the unit page, the
//! problem API, both blocks APIs and the progress page, and shown to the
//! course team on each of them: the one rule (`lectern_app::visibility`)
//! answers for all.

use reqwest::StatusCode;

use crate::support::{bearer, Client, TestSite};

const KEY: &str = "course-v1:T+VIS+R";
/// The key in a query string.
const QKEY: &str = "course-v1:T%2BVIS%2BR";

fn course() -> Vec<u8> {
    let problem = |id: &str| {
        format!(
            r#"<problem url_name="{id}" display_name="Problem {id}"><multiplechoiceresponse><choicegroup type="MultipleChoice"><choice correct="true">yes</choice><choice correct="false">no</choice></choicegroup></multiplechoiceresponse></problem>"#
        )
    };
    let xml = format!(
        r#"<course display_name="Schedule">
<chapter url_name="cnow" display_name="Open week"><sequential url_name="snow" display_name="Open homework" graded="true" format="Homework"><vertical url_name="vnow" display_name="Open unit">{}</vertical></sequential></chapter>
<chapter url_name="clater" display_name="Future week" start="2099-01-01T00:00:00Z"><sequential url_name="slater" display_name="Future homework" graded="true" format="Homework"><vertical url_name="vlater" display_name="Future unit">{}</vertical></sequential></chapter>
</course>"#,
        problem("pnow"),
        problem("plater")
    );
    let policy = serde_json::json!({"GRADER": [
        {"type": "Homework", "min_count": 1, "drop_count": 0, "weight": 1.0, "short_label": "HW"}],
        "GRADE_CUTOFFS": {"Pass": 0.5}});
    crate::support::course_archive("T", "VIS", &xml, Some(&policy))
}

/// What `browser` (with bearer `token`, signed in as `username`) is shown
/// of the future section, surface by surface.
async fn sees_future(site: &TestSite, browser: &Client, token: &str, username: &str) -> Vec<bool> {
    let api = |path: String| {
        let token = token.to_string();
        async move {
            reqwest::Client::new()
                .get(format!("{}{path}", site.base))
                .header("Authorization", token)
                .send()
                .await
                .unwrap()
        }
    };
    let (status, outline) = browser.text(&format!("/courses/{KEY}/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(outline.contains("Open week"));
    let unit = browser
        .get(&format!("/courses/{KEY}/unit/vlater"))
        .await
        .status();
    let problem = api("/api/problems/v1/block-v1:T+VIS+R+type@problem+block@plater".to_string())
        .await
        .status();
    let v2 = api(format!("/api/courses/v2/blocks/?course_id={QKEY}"))
        .await
        .text()
        .await
        .unwrap();
    let v1 = api(format!(
        "/api/courses/v1/blocks/?course_id={QKEY}&username={username}&depth=all"
    ))
    .await
    .text()
    .await
    .unwrap();
    assert!(v1.contains("pnow") && v2.contains("pnow"), "{v1} {v2}");
    let (_, progress) = browser.text(&format!("/courses/{KEY}/progress")).await;
    assert!(progress.contains("Problem pnow"));
    vec![
        outline.contains("Future week"),
        unit == StatusCode::OK,
        problem == StatusCode::OK,
        v2.contains("plater"),
        v1.contains("plater"),
        progress.contains("Problem plater"),
    ]
}

#[tokio::test]
async fn the_team_sees_unreleased_content_everywhere_and_learners_nowhere() {
    let site = TestSite::spawn().await;
    let root = site.user("root", true).await;
    let root_token = bearer(&site.base, "root").await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", &root_token)
        .body(course())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // A member of the course team who is no site admin.
    let staff = site.user("tess", false).await;
    let r = root
        .post_form(
            "/admin/course-roles",
            &[
                ("username", "tess".to_string()),
                ("course_key", KEY.to_string()),
                ("role", "staff".to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let learner = site.user("lena", false).await;
    let r = learner
        .post_form(&format!("/courses/{KEY}/enroll"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    let lena = bearer(&site.base, "lena").await;
    let tess = bearer(&site.base, "tess").await;
    assert_eq!(
        sees_future(&site, &learner, &lena, "lena").await,
        vec![false; 6],
        "outline, unit, problem API, blocks v2, blocks v1, progress"
    );
    assert_eq!(
        sees_future(&site, &staff, &tess, "tess").await,
        vec![true; 6]
    );
    assert_eq!(
        sees_future(&site, &root, &root_token, "root").await,
        vec![true; 6]
    );
}
