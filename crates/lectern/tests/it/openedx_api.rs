//! Open edX's REST API as its clients call it: my_user_info, accounts (GET
//! and merge-patch PATCH), course modes, the staff enrolment list with
//! cursor pagination, enrolment with mode/user, and the v1 blocks API, each
//! for learners, staff and visitors.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::problems::grading_course;
use crate::support::{bearer, json, TestSite};

const COURSE: &str = "course-v1:T+G+R";
/// The key as it goes in a query string (`+` would read as a space).
const COURSE_Q: &str = "course-v1:T%2BG%2BR";

struct Caller {
    http: reqwest::Client,
    base: String,
    auth: Option<String>,
}

impl Caller {
    async fn signed_in(site: &TestSite, username: &str) -> Caller {
        Caller {
            http: reqwest::Client::new(),
            base: site.base.clone(),
            auth: Some(bearer(&site.base, username).await),
        }
    }

    fn anonymous(site: &TestSite) -> Caller {
        Caller {
            http: reqwest::Client::new(),
            base: site.base.clone(),
            auth: None,
        }
    }

    fn with_auth(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.auth {
            Some(a) => r.header("Authorization", a),
            None => r,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let r = self.with_auth(self.http.get(url)).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .with_auth(self.http.post(format!("{}{path}", self.base)))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn patch(&self, path: &str, content_type: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .with_auth(self.http.patch(format!("{}{path}", self.base)))
            .header("Content-Type", content_type)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// A site with an admin ("root") who imported the grading course, and `learners`.
async fn site_with(learners: &[&str]) -> (TestSite, Caller) {
    let site = TestSite::spawn().await;
    site.user("root", true).await;
    let admin = Caller::signed_in(&site, "root").await;
    let r = admin
        .with_auth(
            admin
                .http
                .post(format!("{}/api/courses/v0/import/", site.base)),
        )
        .body(grading_course(0.5))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for name in learners {
        site.user(name, false).await;
    }
    (site, admin)
}

#[tokio::test]
async fn my_user_info_and_accounts_show_what_each_caller_may_see() {
    let (site, admin) = site_with(&["lea", "max"]).await;
    let lea = Caller::signed_in(&site, "lea").await;
    let anon = Caller::anonymous(&site);

    let (status, info) = lea.get("/api/mobile/v0.5/my_user_info").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["username"], "lea");
    assert_eq!(info["email"], "lea@example.org");
    assert_eq!(info["name"], "lea Tester");
    assert!(info["id"].is_i64());
    assert!(info["course_enrollments"]
        .as_str()
        .unwrap()
        .ends_with("/api/mobile/v0.5/users/lea/course_enrollments/"));
    assert_eq!(
        anon.get("/api/mobile/v0.5/my_user_info").await.0,
        StatusCode::UNAUTHORIZED
    );

    let (status, own) = lea.get("/api/user/v1/accounts/lea").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(own["email"], "lea@example.org");
    assert_eq!(own["bio"], Value::Null);
    assert_eq!(own["profile_image"]["has_image"], false);
    let (status, other) = lea.get("/api/user/v1/accounts/max").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(other["username"], "max");
    assert!(other.get("email").is_none(), "no private fields: {other}");
    let (_, by_staff) = admin.get("/api/user/v1/accounts/max").await;
    assert_eq!(by_staff["email"], "max@example.org");
    assert_eq!(
        lea.get("/api/user/v1/accounts/nobody").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        anon.get("/api/user/v1/accounts/lea").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn accounts_change_by_merge_patch_and_refuse_read_only_fields() {
    let (site, _admin) = site_with(&["lea", "max"]).await;
    let lea = Caller::signed_in(&site, "lea").await;
    let path = "/api/user/v1/accounts/lea";
    let merge = "application/merge-patch+json";

    let (status, _) = lea
        .patch(path, "application/json", json!({"bio": "x"}))
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let change = json!({"name": "Lea Lovelace", "bio": "Counting engines.", "country": "fr",
        "year_of_birth": 1990, "level_of_education": "m", "goals": "Learn Rust",
        "language_proficiencies": [{"code": "en"}, {"code": "fr"}], "unknown_field": 1});
    let (status, body) = lea.patch(path, merge, change).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, now) = lea.get(path).await;
    assert_eq!(now["name"], "Lea Lovelace");
    assert_eq!(now["bio"], "Counting engines.");
    assert_eq!(now["country"], "FR");
    assert_eq!(now["year_of_birth"], 1990);
    assert_eq!(now["level_of_education"], "m");
    assert_eq!(
        now["language_proficiencies"],
        json!([{"code": "en"}, {"code": "fr"}])
    );

    // Read-only and invalid fields: 400 with Open edX's field_errors, and nothing saved.
    let (status, body) = lea
        .patch(
            path,
            merge,
            json!({"username": "lea2", "email": "x@example.org", "bio": "changed", "gender": "zz"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let errors = &body["field_errors"];
    assert_eq!(
        errors["username"]["developer_message"],
        "This field is not editable via this API"
    );
    assert!(errors["username"]["user_message"]
        .as_str()
        .unwrap()
        .contains("username"));
    assert!(errors["email"].is_object());
    assert!(errors["gender"].is_object());
    assert!(errors.get("bio").is_none());
    let (_, after) = lea.get(path).await;
    assert_eq!(after["bio"], "Counting engines.", "nothing saved");
    assert_eq!(after["username"], "lea");

    // Null clears; someone else's account is not yours to change.
    let (status, body) = lea.patch(path, merge, json!({"bio": null})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["bio"], Value::Null);
    let (status, _) = lea
        .patch("/api/user/v1/accounts/max", merge, json!({"bio": "mine"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = lea.patch(path, merge, json!(["not", "an", "object"])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn course_modes_are_for_staff() {
    let (site, admin) = site_with(&["lea"]).await;
    let lea = Caller::signed_in(&site, "lea").await;
    let path = format!("/api/course_modes/v1/courses/{COURSE}/");
    let (status, modes) = admin.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(modes[0]["mode_slug"], "audit");
    assert_eq!(modes[0]["course_id"], COURSE);
    assert_eq!(modes[0]["currency"], "usd");
    assert_eq!(modes.as_array().unwrap().len(), 1);
    assert_eq!(lea.get(&path).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        Caller::anonymous(&site).get(&path).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = admin
        .get("/api/course_modes/v1/courses/course-v1:No+Such+Course")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn staff_walk_every_enrollment_page_by_page() {
    let names = ["u1", "u2", "u3", "u4", "u5"];
    let (site, admin) = site_with(&names).await;
    for n in names {
        let c = Caller::signed_in(&site, n).await;
        let (status, e) = c
            .post(
                "/api/enrollment/v1/enrollment",
                json!({"course_details": {"course_id": COURSE}, "mode": "audit"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{e}");
    }
    let u5 = Caller::signed_in(&site, "u5").await;
    let (status, e) = u5
        .post(
            "/api/enrollment/v1/enrollment",
            json!({"course_details": {"course_id": COURSE}, "is_active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(e["is_active"], false);

    let first = format!("/api/enrollment/v1/enrollments?course_id={COURSE_Q}&page_size=2");
    let mut url = first.clone();
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    loop {
        let (status, page) = admin.get(&url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for r in page["results"].as_array().unwrap() {
            assert_eq!(r["course_id"], COURSE);
            assert_eq!(r["mode"], "audit");
            assert!(r["created"].is_string());
            seen.push((
                r["user"].as_str().unwrap().to_string(),
                r["is_active"].as_bool().unwrap(),
            ));
        }
        pages.push(page.clone());
        match page["next"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(pages.len(), 3, "5 enrolments, 2 a page");
    assert_eq!(pages[0]["previous"], Value::Null);
    let mut users: Vec<&str> = seen.iter().map(|(u, _)| u.as_str()).collect();
    users.sort();
    assert_eq!(users, names, "every enrolment exactly once");
    assert!(seen.contains(&("u5".to_string(), false)));
    // previous from the second page gives the first page back.
    let (_, second) = admin.get(pages[0]["next"].as_str().unwrap()).await;
    let (_, back) = admin.get(second["previous"].as_str().unwrap()).await;
    assert_eq!(back["results"], pages[0]["results"]);

    let (_, some) = admin
        .get(&format!(
            "/api/enrollment/v1/enrollments?course_id={COURSE_Q}&username=u1,U3"
        ))
        .await;
    let mut filtered: Vec<&str> = some["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user"].as_str().unwrap())
        .collect();
    filtered.sort();
    assert_eq!(filtered, ["u1", "u3"]);

    let u1 = Caller::signed_in(&site, "u1").await;
    assert_eq!(u1.get(&first).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        Caller::anonymous(&site).get(&first).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        admin
            .get("/api/enrollment/v1/enrollments?cursor=zz")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        admin
            .get("/api/enrollment/v1/enrollments?course_id=bad")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn enrolling_takes_a_mode_and_staff_may_name_the_learner() {
    let (site, admin) = site_with(&["lea", "max"]).await;
    let lea = Caller::signed_in(&site, "lea").await;
    let (status, body) = lea
        .post(
            "/api/enrollment/v1/enrollment",
            json!({"course_details": {"course_id": COURSE}, "mode": "verified"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["field_errors"]["mode"].is_string(), "{body}");
    let (status, _) = lea
        .post(
            "/api/enrollment/v1/enrollment",
            json!({"course_details": {"course_id": COURSE}, "user": "max"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, e) = admin
        .post(
            "/api/enrollment/v1/enrollment",
            json!({"course_details": {"course_id": COURSE}, "user": "max", "mode": "audit"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(e["user"], "max");
    assert_eq!(e["is_active"], true);
    let max = Caller::signed_in(&site, "max").await;
    let (_, mine) = max.get("/api/enrollment/v1/enrollment").await;
    assert_eq!(mine[0]["course_details"]["course_id"], COURSE);
    // The mobile list my_user_info links to.
    let (_, info) = max.get("/api/mobile/v0.5/my_user_info").await;
    let (status, mobile) = max.get(info["course_enrollments"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mobile[0]["course"]["id"], COURSE);
    assert_eq!(mobile[0]["mode"], "audit");
    let (status, _) = lea
        .get("/api/mobile/v0.5/users/max/course_enrollments/")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn v1_blocks_honour_username_depth_fields_and_return_type() {
    let (site, admin) = site_with(&["lea", "max"]).await;
    let lea = Caller::signed_in(&site, "lea").await;
    let (status, _) = lea
        .post(
            "/api/enrollment/v1/enrollment",
            json!({"course_details": {"course_id": COURSE}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let base = format!("/api/courses/v1/blocks/?course_id={COURSE_Q}");

    let (status, root_only) = lea.get(&format!("{base}&username=lea")).await;
    assert_eq!(status, StatusCode::OK, "{root_only}");
    assert_eq!(
        root_only["blocks"].as_object().unwrap().len(),
        1,
        "depth 0 by default"
    );
    let root = root_only["root"].as_str().unwrap();
    assert_eq!(root_only["blocks"][root]["type"], "course");
    assert!(
        root_only["blocks"][root].get("children").is_none(),
        "children only when requested"
    );

    let (_, all) = lea
        .get(&format!(
            "{base}&username=lea&depth=all&requested_fields=children,graded,format"
        ))
        .await;
    let blocks = all["blocks"].as_object().unwrap();
    assert_eq!(
        blocks.len(),
        1 + 1 + 3 + 3 + 3,
        "course, chapter, 3 sequentials, 3 units, 3 problems"
    );
    let chapter = blocks[root]["children"][0].as_str().unwrap();
    assert_eq!(blocks[chapter]["display_name"], "Week 1");
    let exam = blocks
        .values()
        .find(|b| b["display_name"] == "Exam")
        .unwrap();
    assert_eq!(exam["graded"], true);
    assert_eq!(exam["format"], "Exam");
    for b in blocks.values() {
        for f in [
            "id",
            "block_id",
            "lms_web_url",
            "student_view_url",
            "type",
            "display_name",
        ] {
            assert!(b.get(f).is_some(), "{f} in {b}");
        }
    }

    let (_, one_level) = lea.get(&format!("{base}&username=lea&depth=1")).await;
    assert_eq!(one_level["blocks"].as_object().unwrap().len(), 2);
    let (_, problems) = lea
        .get(&format!("{base}&username=lea&depth=all&block_types_filter=problem&return_type=list&block_counts=problem"))
        .await;
    let list = problems.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert!(list
        .iter()
        .all(|b| b["type"] == "problem" && b["block_counts"]["problem"] == 1));

    assert_eq!(
        lea.get(&base).await.0,
        StatusCode::BAD_REQUEST,
        "username required"
    );
    assert_eq!(
        lea.get(&format!("{base}&username=max")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        lea.get(&format!("{base}&all_blocks=true")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        lea.get(&format!("{base}&username=lea&depth=deep")).await.0,
        StatusCode::BAD_REQUEST
    );
    let max = Caller::signed_in(&site, "max").await;
    assert_ne!(
        max.get(&format!("{base}&username=max")).await.0,
        StatusCode::OK,
        "not enrolled"
    );
    let (status, staff) = admin
        .get(&format!("{base}&all_blocks=true&depth=all"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(staff["blocks"].as_object().unwrap().len(), 11);
    let (status, _) = admin.get(&format!("{base}&username=lea&depth=all")).await;
    assert_eq!(status, StatusCode::OK, "the team may see a learner's view");
    assert_eq!(
        Caller::anonymous(&site)
            .get(&format!("{base}&username=lea"))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn every_new_endpoint_is_in_the_openapi_document() {
    let site = TestSite::spawn().await;
    let (status, doc) = Caller::anonymous(&site).get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for (path, method) in [
        ("/api/mobile/v0.5/my_user_info", "get"),
        ("/api/user/v1/accounts/{username}", "get"),
        ("/api/user/v1/accounts/{username}", "patch"),
        ("/api/course_modes/v1/courses/{course_id}", "get"),
        ("/api/courses/v1/blocks/", "get"),
        ("/api/enrollment/v1/enrollments", "get"),
        ("/api/enrollment/v1/enrollment", "post"),
        ("/user_api/v1/account/password_reset/", "post"),
        ("/oauth2/revoke_token/", "post"),
        (
            "/api/mobile/v0.5/users/{username}/course_enrollments/",
            "get",
        ),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} documented"
        );
    }
}

#[tokio::test]
async fn the_token_endpoint_answers_with_a_trailing_slash() {
    let site = TestSite::spawn().await;
    site.user("tia", false).await;
    let r = reqwest::Client::new()
        .post(format!("{}/oauth2/access_token/", site.base))
        .form(&[
            ("grant_type", "password"),
            ("username", "tia"),
            ("password", crate::support::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(json(r).await["access_token"].is_string());
}
