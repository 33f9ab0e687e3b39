//! The subsection rows a check stores with the learner's grade (issue 18,
//! twelfth pass): a check writes only the rows its own answer changed when
//! the stored grade's digest proves the others are stored as they are now,
//! and every row when it cannot. Here a subsection's release date passes
//! between two checks of a problem elsewhere: the second check must find
//! the released subsection's stored row stale and rewrite it, although its
//! own answer changed only its own subsection.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{bearer, TestSite};

const KEY: &str = "course-v1:T+GR+R";

fn choice(id: &str) -> String {
    format!(
        r#"<problem url_name="{id}" display_name="Problem {id}"><multiplechoiceresponse><choicegroup type="MultipleChoice"><choice correct="true">yes</choice><choice correct="false">no</choice></choicegroup></multiplechoiceresponse></problem>"#
    )
}

/// `now`, open from the start, and `later`, released a day after the test starts.
fn course() -> Vec<u8> {
    let later = chrono::Utc::now() + chrono::Duration::days(1);
    let xml = format!(
        r#"<course display_name="Rows" start="2020-01-01T00:00:00Z"><chapter url_name="c1" display_name="Week 1">
<sequential url_name="now" display_name="Now" graded="true" format="Homework"><vertical url_name="v1" display_name="U1">{}</vertical></sequential>
<sequential url_name="later" display_name="Later" graded="true" format="Homework" start="{}"><vertical url_name="v2" display_name="U2">{}</vertical></sequential>
</chapter></course>"#,
        choice("p1"),
        later.to_rfc3339(),
        choice("p2")
    );
    crate::support::course_archive("T", "GR", &xml, None)
}

#[tokio::test]
async fn a_release_between_two_checks_has_the_released_subsections_row_rewritten() {
    let offset = Arc::new(AtomicI64::new(0));
    let site = TestSite::spawn_with_clock(offset.clone()).await;
    site.user("root", true).await;
    site.user("bea", false).await;
    let http = reqwest::Client::new();
    let admin = bearer(&site.base, "root").await;
    let r = http
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", &admin)
        .body(course())
        .send()
        .await
        .expect("import");
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let bea = bearer(&site.base, "bea").await;
    let r = http
        .post(format!("{}/api/enrollment/v1/enrollment", site.base))
        .header("Authorization", &bea)
        .json(&json!({"course_details": {"course_id": KEY}}))
        .send()
        .await
        .expect("enrol");
    assert_eq!(r.status(), StatusCode::OK);
    let check = |bea: &str, answer: &'static str| {
        let (http, base, bea) = (http.clone(), site.base.clone(), bea.to_string());
        async move {
            let r = http
                .post(format!(
                    "{base}/api/problems/v1/block-v1:T+GR+R+type@problem+block@p1/check"
                ))
                .header("Authorization", &bea)
                .json(&json!({"answers": {"p1_2_1": answer}}))
                .send()
                .await
                .expect("check");
            assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        }
    };
    let learner = site.app.user_by_username("bea").await.expect("bea");
    let key = KEY.parse().expect("key");
    let rows = || async {
        let grade = site
            .app
            .persisted_grade(&learner, &key)
            .await
            .expect("read")
            .expect("a stored grade");
        grade
            .subsections
            .iter()
            .map(|s| (s.block_id.clone(), s.earned, s.possible))
            .collect::<Vec<_>>()
    };
    // The store reads the rows in block order: `later`, then `now`.
    let (now, later) = ("now".to_string(), "later".to_string());

    check(&bea, "choice_1").await;
    assert_eq!(
        rows().await,
        vec![(later.clone(), 0.0, 0.0), (now.clone(), 0.0, 1.0)],
        "before the release, `later` has nothing to earn"
    );
    // A day and a half on, `later` is released; the check changes `now`.
    // (Her token of yesterday has expired: she signs in again.)
    offset.store(36 * 3600, Ordering::SeqCst);
    let bea = bearer(&site.base, "bea").await;
    check(&bea, "choice_0").await;
    assert_eq!(
        rows().await,
        vec![(later.clone(), 0.0, 1.0), (now.clone(), 1.0, 1.0)],
        "the released subsection's row is rewritten too"
    );
    // And the next check, with every row as stored, stays right.
    check(&bea, "choice_1").await;
    assert_eq!(rows().await, vec![(later, 0.0, 1.0), (now, 0.0, 1.0)]);
}
