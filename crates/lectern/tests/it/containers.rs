//! Problems inside `library_content` and `split_test` blocks over HTTP: each
//! learner's unit page shows the children drawn for them (two of four library
//! problems, one experiment group) as answerable forms, the same on every
//! load; they count in the grade and nothing else from those blocks does; a
//! problem not drawn for a learner is not theirs (404).

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{bearer, json, Client, TestSite};

const KEY: &str = "course-v1:T+CT+R";
const LIBRARY: [&str; 4] = ["lp0", "lp1", "lp2", "lp3"];
const GROUPS: [&str; 2] = ["gpa", "gpb"];

fn problem(id: &str) -> String {
    format!(
        r#"<problem url_name="{id}" display_name="Problem {id}"><multiplechoiceresponse><choicegroup type="MultipleChoice"><choice correct="true">yes</choice><choice correct="false">no</choice></choicegroup></multiplechoiceresponse></problem>"#
    )
}

/// One graded unit: a library block drawing 2 of 4 problems and a two-group
/// experiment with a problem in each group.
fn course() -> Vec<u8> {
    let library: String = LIBRARY.iter().map(|id| problem(id)).collect();
    let course = format!(
        r#"<course display_name="Containers"><chapter url_name="c1" display_name="Week 1">
<sequential url_name="s1" display_name="Homework 1" graded="true" format="Homework"><vertical url_name="v1" display_name="Drawn unit">
<library_content url_name="lib" display_name="Two of four" max_count="2">{library}</library_content>
<split_test url_name="exp" display_name="Experiment" user_partition_id="7" group_id_to_child='{{"10": "i4x://T/CT/vertical/ga", "11": "i4x://T/CT/vertical/gb"}}'>
<vertical url_name="ga" display_name="Group A">{}</vertical><vertical url_name="gb" display_name="Group B">{}</vertical>
</split_test>
</vertical></sequential>
</chapter></course>"#,
        problem(GROUPS[0]),
        problem(GROUPS[1]),
    );
    let policy = json!({"GRADER": [
        {"type": "Homework", "min_count": 1, "drop_count": 0, "weight": 1.0, "short_label": "HW"}],
        "GRADE_CUTOFFS": {"Pass": 0.5}});
    crate::support::course_archive("T", "CT", &course, Some(&policy))
}

fn usage(id: &str) -> String {
    format!("block-v1:T+CT+R+type@problem+block@{id}")
}

/// The problems of the course the unit page shows, by id.
async fn shown(browser: &Client) -> BTreeSet<&'static str> {
    let (status, html) = browser.text(&format!("/courses/{KEY}/unit/v1")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("does not support"),
        "containers are not placeholders"
    );
    LIBRARY
        .iter()
        .chain(GROUPS.iter())
        .copied()
        .filter(|id| {
            let form = html.contains(&format!(r#"action="/courses/{KEY}/problem/{id}""#));
            assert_eq!(
                html.contains(&format!(r#"id="problem-{id}""#)),
                form,
                "{id}: shown as a form"
            );
            form
        })
        .collect()
}

async fn check_api(site: &TestSite, token: &str, id: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/problems/v1/{}/check", site.base, usage(id)))
        .header("Authorization", token)
        .json(&json!({"answers": {format!("{id}_2_1"): "choice_0"}}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn each_learner_answers_the_drawn_children_of_library_and_split_test_blocks() {
    let site = TestSite::spawn().await;
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

    let mut library_union = BTreeSet::new();
    let mut groups_union = BTreeSet::new();
    for n in 0..8 {
        let name = format!("learner{n}");
        let browser = site.user(&name, false).await;
        let r = browser
            .post_form(&format!("/courses/{KEY}/enroll"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let token = bearer(&site.base, &name).await;

        let mine = shown(&browser).await;
        let library: Vec<&str> = mine
            .iter()
            .copied()
            .filter(|id| LIBRARY.contains(id))
            .collect();
        let groups: Vec<&str> = mine
            .iter()
            .copied()
            .filter(|id| GROUPS.contains(id))
            .collect();
        assert_eq!(library.len(), 2, "{name}: two of four library problems");
        assert_eq!(groups.len(), 1, "{name}: one experiment group");
        assert_eq!(shown(&browser).await, mine, "{name}: stable across loads");
        library_union.extend(library.iter().copied());
        groups_union.extend(groups.iter().copied());

        // Nothing earned yet: the grade is out of the three drawn problems.
        let (_, progress) = browser.text(&format!("/courses/{KEY}/progress")).await;
        for id in LIBRARY.iter().chain(GROUPS.iter()) {
            assert_eq!(
                progress.contains(&format!("Problem {id}:")),
                mine.contains(id),
                "{name}: progress lists {id} only if drawn"
            );
        }

        // A problem not drawn is not the learner's: neither the API nor the form.
        for id in LIBRARY
            .iter()
            .chain(GROUPS.iter())
            .filter(|id| !mine.contains(*id))
        {
            let r = check_api(&site, &token, id).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{name}: check of {id}");
            let r = browser
                .post_form(
                    &format!("/courses/{KEY}/problem/{id}"),
                    &[
                        ("action", "check".into()),
                        (&format!("{id}_2_1"), "choice_0".into()),
                    ],
                )
                .await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{name}: form of {id}");
        }

        // The first drawn library problem through the page form, the rest by API.
        let first = library[0];
        let r = browser
            .post_form(
                &format!("/courses/{KEY}/problem/{first}"),
                &[
                    ("action", "check".into()),
                    (&format!("{first}_2_1"), "choice_0".into()),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.url().path().ends_with("/unit/v1"),
            "back on the unit: {}",
            r.url()
        );
        for id in mine.iter().filter(|id| **id != first) {
            let r = check_api(&site, &token, id).await;
            assert_eq!(r.status(), StatusCode::OK, "{name}: check of {id}");
            assert_eq!(json(r).await["earned"], 1.0);
        }
        let grade = reqwest::Client::new()
            .get(format!("{}/api/grades/v1/courses/{KEY}/", site.base))
            .header("Authorization", &token)
            .send()
            .await
            .unwrap();
        let grade = json(grade).await;
        assert_eq!(
            grade[0]["percent"], 1.0,
            "{name}: the drawn problems are the whole grade: {grade}"
        );
        let (_, progress) = browser.text(&format!("/courses/{KEY}/progress")).await;
        assert!(progress.contains("3/3"), "{name}: {progress}");
    }
    assert!(
        library_union.len() > 2,
        "learners draw different problems: {library_union:?}"
    );
    assert_eq!(groups_union.len(), 2, "both groups have learners");
}
