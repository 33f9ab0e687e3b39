//! A site for the discussion tests: a course with course-wide topics
//! ("General", "Q&A"), a released unit with a discussion block and an
//! unreleased one, a second course, and people in every role: learners
//! (ann, bob), a Community TA (tara), a Moderator (mona), course staff
//! (stan), the site admin (root), a learner of the other course only (olly).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{bearer, s, tar_gz, Client, TestSite};

pub const KEY: &str = "course-v1:T+TALK+R";
pub const QKEY: &str = "course-v1:T%2BTALK%2BR";
pub const OTHER: &str = "course-v1:T+ELSE+R";

/// A course archive with discussion settings in its policy.
pub fn talk_course(number: &str, blackouts: Value) -> Vec<u8> {
    let xml = r#"<course display_name="Talk">
<chapter url_name="c1" display_name="Week 1"><sequential url_name="s1" display_name="Lesson"><vertical url_name="v1" display_name="Unit one">
<html url_name="h1">Read this.</html>
<discussion url_name="d1" discussion_id="unit1disc" discussion_category="Week 1" discussion_target="Unit talk" display_name="Talk here"/>
</vertical></sequential></chapter>
<chapter url_name="c2" display_name="Later" start="2099-01-01T00:00:00Z"><sequential url_name="s2" display_name="Later lesson"><vertical url_name="v2" display_name="Unit two">
<discussion url_name="d2" discussion_id="futuredisc" discussion_category="Later" discussion_target="Future talk"/>
</vertical></sequential></chapter>
</course>"#;
    let policy = json!({"course/R": {
        "start": "2020-01-01T00:00:00Z",
        "discussion_topics": {"General": {"id": "course"}, "Q&A": {"id": "qa"}},
        "discussion_blackouts": blackouts,
    }});
    tar_gz(&[
        (
            "course/course.xml",
            format!(r#"<course url_name="R" org="T" course="{number}"/>"#),
        ),
        ("course/course/R.xml", xml.to_string()),
        ("course/policies/R/policy.json", policy.to_string()),
    ])
}

/// One caller of the JSON API (bearer token, or none).
pub struct Api {
    http: reqwest::Client,
    base: String,
    auth: Option<String>,
}

impl Api {
    pub async fn new(site: &TestSite, username: Option<&str>) -> Api {
        let auth = match username {
            Some(u) => Some(bearer(&site.base, u).await),
            None => None,
        };
        Api {
            http: reqwest::Client::new(),
            base: site.base.clone(),
            auth,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(a) = &self.auth {
            r = r.header("Authorization", a);
        }
        if let Some(b) = body {
            r = r
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> StatusCode {
        self.call(Method::DELETE, path, None).await.0
    }

    /// Starts a thread; its id.
    pub async fn thread(&self, topic: &str, kind: &str, title: &str, body: &str) -> String {
        let (status, t) = self
            .post(
                "/api/discussion/v1/threads/",
                json!({"course_id": KEY, "topic_id": topic, "type": kind, "title": title, "raw_body": body}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{t}");
        t["id"].as_str().unwrap().to_string()
    }

    /// Responds to a thread (or comments on `parent`); the new id.
    pub async fn respond(&self, thread: &str, parent: Option<&str>, body: &str) -> String {
        let (status, c) = self
            .post(
                "/api/discussion/v1/comments/",
                json!({"thread_id": thread, "parent_id": parent, "raw_body": body}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{c}");
        c["id"].as_str().unwrap().to_string()
    }
}

/// Everyone of the site, by name.
pub struct People {
    pub site: TestSite,
    /// The admin's browser session.
    pub root: Client,
    /// Everyone else's browser sessions, by name.
    pub browsers: Vec<(String, Client)>,
}

impl People {
    /// `name`'s signed-in browser.
    pub fn browser(&self, name: &str) -> &Client {
        &self
            .browsers
            .iter()
            .find(|(n, _)| n == name)
            .expect("a person of the site")
            .1
    }
}

/// The site with both courses imported and everyone in their role.
pub async fn talk_site(blackouts: Value) -> People {
    let site = TestSite::spawn().await;
    let root = site.user("root", true).await;
    let admin = Api::new(&site, Some("root")).await;
    for number in ["TALK", "ELSE"] {
        let r = reqwest::Client::new()
            .post(format!("{}/api/courses/v0/import/", site.base))
            .header("Authorization", admin.auth.clone().unwrap())
            .body(talk_course(number, blackouts.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "import {number}");
    }
    let mut browsers = Vec::new();
    for (name, course) in [
        ("ann", KEY),
        ("bob", KEY),
        ("tara", KEY),
        ("mona", KEY),
        ("olly", OTHER),
    ] {
        browsers.push((name.to_string(), site.user(name, false).await));
        let api = Api::new(&site, Some(name)).await;
        let (status, _) = api
            .post(
                "/api/enrollment/v1/enrollment",
                json!({"course_details": {"course_id": course}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "enrol {name}");
    }
    browsers.push(("stan".to_string(), site.user("stan", false).await));
    let r = root
        .post_form(
            "/admin/course-roles",
            &[
                ("username", s("stan")),
                ("course_key", s(KEY)),
                ("role", s("staff")),
            ],
        )
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    // One role through the admin console, one through the roles API.
    let r = root
        .post_form(
            "/admin/discussion-roles",
            &[
                ("username", s("tara")),
                ("course_key", s(KEY)),
                ("role", s("Community TA")),
                ("action", s("allow")),
            ],
        )
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    let (status, roles) = admin
        .post(
            &format!("/api/discussion/v1/courses/{KEY}/roles/Moderator/"),
            json!({"user_id": "mona", "action": "allow"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{roles}");
    assert_eq!(roles["results"][0]["username"], "mona");
    People {
        site,
        root,
        browsers,
    }
}

/// No blackout.
pub fn open() -> Value {
    json!([])
}
