//! The cohort API in Open edX's shapes (`/api/cohorts/v1/…`): the cohort
//! JSON, create/get/patch, members paged and added with Open edX's report,
//! removal, the setting; who is refused (anonymous 401; a learner, an
//! outsider and another course's staff 404); a session's writes need the
//! CSRF header; every path is in the OpenAPI document.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::cohorts::{class, COURSE};
use crate::support::{bearer, TestSite};

struct Caller {
    http: reqwest::Client,
    base: String,
    auth: Option<String>,
}

impl Caller {
    async fn of(site: &TestSite, who: Option<&str>) -> Caller {
        let auth = match who {
            Some(name) => Some(bearer(&site.base, name).await),
            None => None,
        };
        Caller {
            http: reqwest::Client::new(),
            base: site.base.clone(),
            auth,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn cohorts(rest: &str) -> String {
    format!("/api/cohorts/v1/courses/{COURSE}/cohorts/{rest}")
}

#[tokio::test]
async fn the_cohort_api_answers_in_open_edx_shapes_to_the_course_team_only() {
    let k = class(TestSite::spawn().await).await;
    let site = &k.site;
    let sam = Caller::of(site, Some("sam")).await;

    // Refused: anonymous 401; a learner, an outsider, another course's staff 404.
    let (status, _) = Caller::of(site, None)
        .await
        .call(Method::GET, &cohorts(""), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for who in ["ann", "eve", "otto"] {
        let c = Caller::of(site, Some(who)).await;
        for (method, path, body) in [
            (Method::GET, cohorts(""), None),
            (
                Method::POST,
                cohorts(""),
                Some(json!({"name": "X", "assignment_type": "manual"})),
            ),
            (
                Method::GET,
                format!("/api/cohorts/v1/settings/{COURSE}"),
                None,
            ),
            (
                Method::PUT,
                format!("/api/cohorts/v1/settings/{COURSE}"),
                Some(json!({"is_cohorted": true})),
            ),
        ] {
            let (status, err) = c.call(method.clone(), &path, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}: {method} {path}");
            assert!(err["error"].is_string(), "the error shape: {err}");
        }
    }

    // Create: the cohort JSON, exactly Open edX's fields.
    let (status, blue) = sam
        .call(
            Method::POST,
            &cohorts(""),
            Some(json!({"name": "Blue", "assignment_type": "manual"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{blue}");
    let id = blue["id"].as_i64().unwrap();
    assert_eq!(
        blue,
        json!({"id": id, "name": "Blue", "user_count": 0, "assignment_type": "manual", "group_id": null, "user_partition_id": null})
    );
    let (status, err) = sam
        .call(
            Method::POST,
            &cohorts(""),
            Some(json!({"assignment_type": "manual"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["field_errors"]["name"].is_string(), "{err}");
    let (status, err) = sam
        .call(
            Method::POST,
            &cohorts(""),
            Some(json!({"name": "Blue", "assignment_type": "manual"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let (status, list) = sam.call(Method::GET, &cohorts(""), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([blue]));

    // Another course's cohort is not found through this course.
    let root = Caller::of(site, Some("root")).await;
    let (_, other) = root
        .call(
            Method::POST,
            "/api/cohorts/v1/courses/course-v1:T+H+R/cohorts/",
            Some(json!({"name": "Theirs", "assignment_type": "manual"})),
        )
        .await;
    let other_id = other["id"].as_i64().unwrap();
    let (status, _) = sam
        .call(Method::GET, &cohorts(&other_id.to_string()), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // PATCH renames (204, as Open edX); the last random cohort stays random.
    let (status, _) = sam
        .call(
            Method::PATCH,
            &cohorts(&id.to_string()),
            Some(json!({"name": "Navy"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, navy) = sam.call(Method::GET, &cohorts(&id.to_string()), None).await;
    assert_eq!(navy["name"], "Navy");
    let (_, auto) = sam
        .call(
            Method::POST,
            &cohorts(""),
            Some(json!({"name": "Auto", "assignment_type": "random"})),
        )
        .await;
    let auto_id = auto["id"].as_i64().unwrap();
    let (status, err) = sam
        .call(
            Method::PATCH,
            &cohorts(&auto_id.to_string()),
            Some(json!({"assignment_type": "manual"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");

    // Adding: Open edX's report, plus not_enrolled.
    let users = cohorts(&format!("{id}/users"));
    let (status, report) = sam
        .call(
            Method::POST,
            &users,
            Some(json!({"users": ["ann", "BO@example.org", "zed", "eve", "bad@"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        report,
        json!({"success": true,
            "added": [{"username": "ann", "email": "ann@example.org"}, {"username": "bo", "email": "bo@example.org"}],
            "changed": [], "present": [], "unknown": ["zed"], "preassigned": [], "invalid": ["bad@"], "not_enrolled": ["eve"]})
    );
    let (_, report) = sam
        .call(
            Method::POST,
            &cohorts(&format!("{auto_id}/users")),
            Some(json!({"users": "ann"})),
        )
        .await;
    assert_eq!(
        report["changed"],
        json!([{"username": "ann", "email": "ann@example.org", "previous_cohort": "Navy"}])
    );
    let (_, report) = sam
        .call(Method::POST, &cohorts(&format!("{id}/users/cy")), None)
        .await;
    assert_eq!(
        report["added"],
        json!([{"username": "cy", "email": "cy@example.org"}])
    );
    let (status, err) = sam
        .call(Method::POST, &users, Some(json!({"users": []})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");

    // Members, a page at a time, in Open edX's envelope.
    sam.call(Method::POST, &users, Some(json!({"users": ["dee"]})))
        .await;
    let (status, page) = sam
        .call(Method::GET, &format!("{users}?page_size=2&page=2"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["count"], 3, "{page}");
    assert_eq!(page["num_pages"], 2);
    assert_eq!(page["current_page"], 2);
    assert_eq!(page["start"], 2);
    assert!(page["next"].is_null());
    assert!(page["previous"].as_str().unwrap().contains("page=1"));
    assert_eq!(
        page["results"],
        json!([{"username": "dee", "email": "dee@example.org", "name": "dee Tester"}])
    );
    let (status, _) = sam
        .call(Method::GET, &format!("{users}?page_size=2&page=3"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, navy) = sam.call(Method::GET, &cohorts(&id.to_string()), None).await;
    assert_eq!(navy["user_count"], 3);

    // Removing: 204, then 400 (not in it), 404 (no such user).
    let (status, _) = sam.call(Method::DELETE, &format!("{users}/bo"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = sam.call(Method::DELETE, &format!("{users}/bo"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = sam
        .call(Method::DELETE, &format!("{users}/nobody"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The setting; a session's write needs the CSRF header.
    let settings = format!("/api/cohorts/v1/settings/{COURSE}");
    let (_, got) = sam.call(Method::GET, &settings, None).await;
    assert_eq!(got, json!({"is_cohorted": false}));
    let put = |with_csrf: bool| {
        let staff = &k.staff;
        let settings = settings.clone();
        async move {
            let mut req = staff
                .http
                .put(staff.url(&settings))
                .json(&json!({"is_cohorted": true}));
            if with_csrf {
                req = req.header("X-CSRFToken", staff.csrf().await);
            }
            req.send().await.unwrap().status()
        }
    };
    assert_eq!(put(false).await, StatusCode::FORBIDDEN);
    assert_eq!(put(true).await, StatusCode::OK);
    let (_, got) = sam.call(Method::GET, &settings, None).await;
    assert_eq!(got, json!({"is_cohorted": true}));

    // Documented.
    let (_, doc) = Caller::of(site, None)
        .await
        .call(Method::GET, "/api/openapi.json", None)
        .await;
    for (path, method) in [
        ("/api/cohorts/v1/settings/{course_id}", "put"),
        ("/api/cohorts/v1/courses/{course_id}/cohorts/", "get"),
        ("/api/cohorts/v1/courses/{course_id}/cohorts/", "post"),
        (
            "/api/cohorts/v1/courses/{course_id}/cohorts/{cohort_id}",
            "patch",
        ),
        (
            "/api/cohorts/v1/courses/{course_id}/cohorts/{cohort_id}/users",
            "get",
        ),
        (
            "/api/cohorts/v1/courses/{course_id}/cohorts/{cohort_id}/users",
            "post",
        ),
        (
            "/api/cohorts/v1/courses/{course_id}/cohorts/{cohort_id}/users/{username}",
            "delete",
        ),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} documented"
        );
    }
}
