//! Who an import makes what: the app decides (the importer of a new course
//! becomes its instructor; someone already on the team keeps their role)
//! and the store only writes that decision in the import's transaction.

use lectern_app::CourseRole;
use reqwest::StatusCode;

use crate::support::{bearer, s, TestSite};

const KEY: &str = "course-v1:T+ROLE+R";

fn archive() -> Vec<u8> {
    crate::support::course_archive(
        "T",
        "ROLE",
        r#"<course display_name="Roles"><chapter url_name="c1" display_name="Week 1"/></course>"#,
        None,
    )
}

async fn import(site: &TestSite, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", token)
        .body(archive())
        .send()
        .await
        .unwrap()
}

async fn roles(site: &TestSite) -> Vec<(String, CourseRole)> {
    let root = site.app.user_by_username("root").await.unwrap();
    let mut team: Vec<(String, CourseRole)> = site
        .app
        .course_team(&root, &KEY.parse().unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|(u, r)| (u.username, r))
        .collect();
    team.sort_by(|a, b| a.0.cmp(&b.0));
    team
}

#[tokio::test]
async fn the_importer_of_a_new_course_is_its_instructor_and_team_members_keep_their_role() {
    let site = TestSite::spawn().await;
    let root = site.user("root", true).await;
    for name in ["carl", "tess"] {
        site.user(name, false).await;
        let r = root
            .post_form(
                &format!("/admin/users/{name}"),
                &[("change", s("make_creator"))],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = import(&site, &bearer(&site.base, "carl").await).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        roles(&site).await,
        vec![(s("carl"), CourseRole::Instructor)]
    );

    let r = root
        .post_form(
            "/admin/course-roles",
            &[
                ("username", s("tess")),
                ("course_key", s(KEY)),
                ("role", s("staff")),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = import(&site, &bearer(&site.base, "tess").await).await;
    assert_eq!(r.status(), StatusCode::OK, "team members may re-import");
    assert_eq!(
        roles(&site).await,
        vec![
            (s("carl"), CourseRole::Instructor),
            (s("tess"), CourseRole::Staff)
        ],
        "a re-import does not promote staff"
    );
}
