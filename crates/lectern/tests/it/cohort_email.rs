//! Bulk e-mail to cohorts through the real test SMTP server: the compose
//! page offers one checkbox per cohort; an e-mail to a cohort reaches its
//! enrolled members, not the course team on it nor anyone who opted out;
//! "all learners" plus a cohort reaches each learner once; a cohort of
//! another course is refused.

use std::sync::Arc;
use std::time::Duration;

use lectern_app::AppSettings;
use lectern_mail::{SmtpMailer, SmtpSettings, TlsMode};
use reqwest::StatusCode;

use crate::bulk_email::unsubscribe_path;
use crate::cohorts::{class, create, page, COURSE};
use crate::smtp_sink::{header, SmtpSink};
use crate::support::{s, Client, TestSite};

fn email(rest: &str) -> String {
    format!("/courses/{COURSE}/instructor/email{rest}")
}

/// Recipients of the messages with this subject, sorted.
fn to_of(sink: &SmtpSink, subject: &str) -> Vec<String> {
    let mut v: Vec<String> = sink
        .messages()
        .iter()
        .filter(|m| header(m, "Subject").as_deref() == Some(subject))
        .map(|m| header(m, "To").unwrap_or_default())
        .collect();
    v.sort();
    v
}

async fn send(c: &Client, targets: &[String], subject: &str) -> reqwest::Response {
    let mut form = vec![("subject", s(subject)), ("body", s("<p>Hello</p>"))];
    let names: Vec<String> = targets.iter().map(|t| format!("target_{t}")).collect();
    for n in &names {
        form.push((n.as_str(), s("on")));
    }
    c.post_form(&email("/send"), &form).await
}

#[tokio::test]
async fn an_email_to_a_cohort_reaches_its_learners_once_and_not_the_opted_out() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let mailer = SmtpMailer::new(&SmtpSettings {
        host: "127.0.0.1".into(),
        port: sink.port,
        tls: TlsMode::None,
        from: "Lectern <no-reply@example.org>".into(),
        timeout_secs: 5,
        ..SmtpSettings::default()
    })
    .unwrap();
    let site = TestSite::spawn_custom(AppSettings::default(), move |app| {
        app.with_mailer(Arc::new(mailer))
    })
    .await;
    let k = class(site).await;
    let staff = &k.staff;
    staff
        .post_form(&page(COURSE, "/settings"), &[("enabled", s("on"))])
        .await;
    let blue = create(staff, COURSE, "Blue", "manual").await;
    let red = create(staff, COURSE, "Red", "manual").await;
    // sam is on the team: in Blue, yet never a learner recipient.
    staff
        .post_form(&format!("/courses/{COURSE}/enroll"), &[])
        .await;
    for (cohort, users) in [(blue, "ann, bo, cy, sam"), (red, "dee")] {
        let r = staff
            .post_form(
                &page(COURSE, &format!("/{cohort}/add")),
                &[("users", s(users))],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }

    // One checkbox per cohort on the compose page.
    let (_, html) = staff.text(&email("")).await;
    assert!(
        html.contains(&format!("name=\"target_cohort:{blue}\"")),
        "{html}"
    );
    assert!(html.contains("Cohort: Red"), "{html}");

    // bo opts out through the link of a first e-mail to all learners.
    send(staff, &[s("learners")], "First").await;
    let first = sink.wait_for(4).await;
    let bo = first
        .iter()
        .find(|m| header(m, "To").as_deref() == Some("bo@example.org"))
        .expect("bo's copy");
    let r = k.site.client().post_form(&unsubscribe_path(bo), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);

    // The preview names the cohort.
    let r = staff
        .post_form(
            &email("/preview"),
            &[
                ("subject", s("Blue news")),
                ("body", s("x")),
                (&*format!("target_cohort:{blue}"), s("on")),
            ],
        )
        .await;
    assert!(r.text().await.unwrap().contains("Cohort: Blue"));

    // Blue only: ann and cy (bo opted out, sam is staff, dee is in Red).
    let r = send(staff, &[format!("cohort:{blue}")], "Blue news").await;
    assert_eq!(r.status(), StatusCode::OK);
    sink.wait_for(4 + 2).await;
    // All learners and Blue together: each learner once.
    send(
        staff,
        &[
            s("learners"),
            format!("cohort:{blue}"),
            format!("cohort:{red}"),
        ],
        "Everyone",
    )
    .await;
    sink.wait_for(4 + 2 + 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        to_of(&sink, "Blue news"),
        ["ann@example.org", "cy@example.org"]
    );
    assert_eq!(
        to_of(&sink, "Everyone"),
        ["ann@example.org", "cy@example.org", "dee@example.org"]
    );
    assert_eq!(sink.count(), 9, "nothing more");

    // A cohort that is not this course's is refused; nothing is sent.
    let root = &k.root;
    let r = root
        .post_form(
            "/courses/course-v1:T+H+R/instructor/cohorts/create",
            &[("name", s("Theirs")), ("assignment_type", s("manual"))],
        )
        .await;
    let theirs: i64 = r
        .url()
        .query_pairs()
        .find(|(k, _)| k == "cohort")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap();
    let r = send(staff, &[format!("cohort:{theirs}")], "Wrong").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("There is no cohort"));
    let r = send(staff, &[s("cohort:x")], "Wrong").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.count(), 9);
}
