//! The shared part of a unit page (`lectern_app::unit_frames`: ancestry,
//! neighbours, the blocks shown, html blocks' rendering) is worked out once
//! and reused, but never across what a viewer may see: after the course team
//! has opened a unit holding a staff-only block, next to a staff-only unit,
//! a learner opening the same unit is shown neither, and the team still is.

use reqwest::StatusCode;

use crate::support::{bearer, TestSite};

const KEY: &str = "course-v1:T+FRAME+R";

fn course() -> Vec<u8> {
    let xml = r#"<course display_name="Frames">
<chapter url_name="c" display_name="Week"><sequential url_name="s" display_name="Lesson">
<vertical url_name="vopen" display_name="Open unit">
<html url_name="hopen" display_name="Open">&lt;p&gt;Everyone reads this.&lt;/p&gt;</html>
<html url_name="hteam" display_name="Team" visible_to_staff_only="true">&lt;p&gt;A note for the team.&lt;/p&gt;</html>
</vertical>
<vertical url_name="vteam" display_name="Team unit" visible_to_staff_only="true">
<html url_name="hinner" display_name="Inner">&lt;p&gt;Team only.&lt;/p&gt;</html>
</vertical>
</sequential></chapter>
</course>"#;
    crate::support::course_archive("T", "FRAME", xml, None)
}

#[tokio::test]
async fn a_frame_the_team_saw_first_shows_a_learner_nothing_hidden() {
    let site = TestSite::spawn().await;
    let root = site.user("root", true).await;
    let token = bearer(&site.base, "root").await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", &token)
        .body(course())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let learner = site.user("lena", false).await;
    let r = learner
        .post_form(&format!("/courses/{KEY}/enroll"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    let unit = format!("/courses/{KEY}/unit/vopen");
    let team_link = format!("/courses/{KEY}/unit/vteam");
    // The team first (twice: the second answer comes from the shared part).
    for _ in 0..2 {
        let (status, page) = root.text(&unit).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Everyone reads this."), "{page}");
        assert!(page.contains("A note for the team."), "{page}");
        assert!(page.contains(&team_link), "the team's next unit: {page}");
    }
    for _ in 0..2 {
        let (status, page) = learner.text(&unit).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Everyone reads this."), "{page}");
        assert!(!page.contains("A note for the team."), "{page}");
        assert!(
            !page.contains(&team_link),
            "no link to a hidden unit: {page}"
        );
    }
    assert_eq!(
        learner.get(&team_link).await.status(),
        StatusCode::NOT_FOUND
    );
    let (_, page) = root.text(&unit).await;
    assert!(page.contains("A note for the team.") && page.contains(&team_link));
    let (status, page) = root.text(&team_link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Team only."), "{page}");
}
