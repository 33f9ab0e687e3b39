//! Bulk e-mail end to end through a real SMTP server: the course team
//! composes, previews (sanitized HTML and its plain text) and sends; each
//! learner gets one copy with an unsubscribe link that works without
//! signing in; a learner who used it gets nothing more; the page reports
//! progress; only the course team and admins reach the page.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lectern_app::model::CourseRole;
use lectern_app::outbox::MailSettings;
use lectern_app::transfer::ImportSource;
use lectern_app::AppSettings;
use lectern_content::olx::ImportLimits;
use lectern_mail::{SmtpMailer, SmtpSettings, TlsMode};
use reqwest::StatusCode;

use crate::problems::grading_course;
use crate::smtp_sink::{decoded, header, SmtpSink};
use crate::support::{s, Client, TestSite};

const COURSE: &str = "course-v1:T+G+R";

fn page(path: &str) -> String {
    format!("/courses/{COURSE}/instructor/email{path}")
}

fn to(mail: &str) -> String {
    header(mail, "To").unwrap_or_default()
}

/// The first `/email/unsubscribe/…` path in a message.
pub(crate) fn unsubscribe_path(mail: &str) -> String {
    let text = decoded(mail);
    let start = text
        .find("/email/unsubscribe/")
        .unwrap_or_else(|| panic!("no unsubscribe link in:\n{text}"));
    let rest = &text[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '/' || c == '_'))
        .unwrap_or(rest.len());
    rest[..end].to_string()
}

fn draft(targets: &[&str], subject: &str, body: &str) -> Vec<(&'static str, String)> {
    let mut form = vec![("subject", s(subject)), ("body", s(body))];
    for t in targets {
        let name = match *t {
            "myself" => "target_myself",
            "staff" => "target_staff",
            _ => "target_learners",
        };
        form.push((name, s("on")));
    }
    form
}

async fn wait_page(client: &Client, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, html) = client.text(&page("")).await;
        if html.contains(needle) {
            return html;
        }
        assert!(
            Instant::now() < deadline,
            "never saw {needle:?} in:\n{html}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_course_team_previews_and_sends_and_an_unsubscribed_learner_gets_no_more() {
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
    let settings = AppSettings {
        mail: MailSettings {
            fanout_batch: 2, // several fan-out batches even for a small class
            ..MailSettings::default()
        },
        ..AppSettings::default()
    };
    let site = TestSite::spawn_custom(settings, move |app| app.with_mailer(Arc::new(mailer))).await;
    let root = site.user("root", true).await;
    let admin = site.app.user_by_username("root").await.unwrap();
    site.app
        .import_course(
            Some(&admin),
            ImportSource::Archive(grading_course(0.5)),
            ImportLimits::default(),
        )
        .await
        .unwrap();
    let key = COURSE.parse().unwrap();
    let staff = site.user("sam", false).await;
    site.app
        .add_team_member(&admin, &key, "sam", CourseRole::Staff)
        .await
        .unwrap();
    let mut learners = Vec::new();
    for name in ["ann", "bo", "cy"] {
        let c = site.user(name, false).await;
        let r = c.post_form(&format!("/courses/{COURSE}/enroll"), &[]).await;
        assert!(r.status().is_success(), "enrolling {name}");
        learners.push(c);
    }
    // Enrolled on the team, not a learner: staff get the staff e-mail only.
    staff
        .post_form(&format!("/courses/{COURSE}/enroll"), &[])
        .await;

    // A learner cannot reach the page or send.
    let (status, _) = learners[0].text(&page("")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = learners[0]
        .post_form(&page("/send"), &draft(&["learners"], "Hi", "x"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Bad drafts come back with what is wrong.
    let r = staff
        .post_form(&page("/preview"), &draft(&[], "", ""))
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("Choose who receives the e-mail."), "{html}");
    assert!(html.contains("The subject is required."));

    // The preview shows what recipients get: sanitized HTML and plain text.
    let body = "<p>Read <b>chapter 2</b> &amp; try HW&nbsp;1.</p><script>alert(1)</script>";
    let r = staff
        .post_form(&page("/preview"), &draft(&["learners"], "Week 2", body))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let preview = r.text().await.unwrap();
    assert!(
        preview.contains("<p>Read <b>chapter 2</b> &amp; try HW"),
        "{preview}"
    );
    assert!(!preview.contains("<script>alert"), "scripts are removed");
    let text_at = preview
        .find("id=\"preview-text\">")
        .expect("the text version");
    let text = &preview[text_at..];
    assert!(
        text.contains("Read chapter 2 &amp; try HW")
            || text.contains("Read chapter 2 &#38; try HW"),
        "the text version: {text}"
    );
    assert!(preview.contains("All learners"));

    let r = staff
        .post_form(&page("/send"), &draft(&["learners"], "Week 2", body))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "redirected to the page");
    assert!(r.url().path().ends_with("/instructor/email"));
    let mails = sink.wait_for(3).await;
    let mut got: Vec<String> = mails.iter().map(|m| to(m)).collect();
    got.sort();
    assert_eq!(got, ["ann@example.org", "bo@example.org", "cy@example.org"]);
    let html = wait_page(&staff, "finished").await;
    assert!(html.contains("<td class=\"sent\">3</td>"), "{html}");
    assert!(html.contains("<td class=\"failed\">0</td>"));

    let ann_mail = mails.iter().find(|m| to(m) == "ann@example.org").unwrap();
    assert_eq!(header(ann_mail, "Subject").as_deref(), Some("Week 2"));
    assert!(header(ann_mail, "Message-ID").is_some());
    let link = unsubscribe_path(ann_mail);
    assert!(header(ann_mail, "List-Unsubscribe")
        .unwrap_or_default()
        .contains(&link));
    assert!(decoded(ann_mail).contains("Read chapter 2 & try HW"));
    assert!(!decoded(ann_mail).contains("alert(1)"));

    // Anyone holding the link may use it, signed in or not: GET asks…
    let visitor = site.client();
    let (status, confirm) = visitor.text(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("Grading"), "names the course: {confirm}");
    let (status, _) = visitor.text("/email/unsubscribe/00ff").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.count(), 3, "asking changed nothing");
    // …POST opts out.
    let r = visitor.post_form(&link, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("no longer receive"));

    // The next e-mail skips ann; staff and myself are their own groups.
    let r = root
        .post_form(
            &page("/send"),
            &draft(&["learners", "staff", "myself"], "Week 3", "<p>More</p>"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    sink.wait_for(3 + 4).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut second: Vec<String> = sink.messages()[3..].iter().map(|m| to(m)).collect();
    second.sort();
    assert_eq!(
        second,
        [
            "bo@example.org",
            "cy@example.org",
            "root@example.org",
            "sam@example.org"
        ]
    );
}
