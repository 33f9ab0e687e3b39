//! The mail outbox through a real SMTP server (aiosmtpd): a reset mail
//! written while the relay is away waits in the outbox and arrives once the
//! relay is back; a message that ran out of attempts is listed on the
//! admin console's mail page and sent after an admin's retry; `/metrics`
//! counts the outbox by state.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lectern_app::outbox::MailSettings;
use lectern_app::AppSettings;
use lectern_mail::{SmtpMailer, SmtpSettings, TlsMode};
use reqwest::StatusCode;

use crate::smtp_sink::{decoded, header, reset_path, SmtpSink};
use crate::support::{s, Client, TestSite};

/// A site whose outbox sends through `sink`, retrying after one second.
async fn site_for(sink: &SmtpSink, max_attempts: i64) -> TestSite {
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
            max_attempts,
            retry_base: Duration::from_secs(1),
            ..MailSettings::default()
        },
        ..AppSettings::default()
    };
    TestSite::spawn_custom(settings, move |app| app.with_mailer(Arc::new(mailer))).await
}

/// The outbox gauge of `state` in `/metrics`.
async fn gauge(site: &TestSite, state: &str) -> i64 {
    let (_, text) = site.client().text("/metrics").await;
    let prefix = format!("lectern_mail_outbox{{state=\"{state}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in /metrics:\n{text}"))
}

async fn wait_gauge(site: &TestSite, state: &str, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while gauge(site, state).await != n {
        assert!(Instant::now() < deadline, "{state} never reached {n}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ask_reset(visitor: &Client, email: &str) {
    let r = visitor
        .post_form("/password_reset", &[("email", s(email))])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_reset_mail_waits_in_the_outbox_while_the_relay_is_away() {
    let Some(mut sink) = SmtpSink::start() else {
        return;
    };
    let site = site_for(&sink, 10).await;
    site.user("ed", false).await;
    sink.stop();
    ask_reset(&site.client(), "ed@example.org").await;
    // Tried and refused at least once, still queued, nothing lost.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(gauge(&site, "queued").await, 1);
    assert_eq!(gauge(&site, "sent").await, 0);
    assert_eq!(sink.count(), 0);

    sink.restart();
    let mails = sink.wait_for(1).await;
    wait_gauge(&site, "sent", 1).await;
    assert_eq!(gauge(&site, "queued").await, 0);
    let mail = &mails[0];
    assert!(mail.contains("To: ed@example.org"), "{mail}");
    let id = header(mail, "Message-ID").unwrap_or_default();
    assert!(id.starts_with('<') && id.ends_with("@127.0.0.1>"), "{id}");
    assert!(mail.contains("multipart/alternative"), "{mail}");
    assert!(mail.contains("text/html"), "{mail}");
    let html_link = decoded(mail).contains("href=\"http://");
    assert!(html_link, "the HTML part links the reset page");
    // The mailed link works.
    let (status, _) = site.client().text(&reset_path(mail)).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.count(), 1, "sent once");
}

#[tokio::test]
async fn failed_mail_is_listed_for_admins_and_sent_again_on_retry() {
    let Some(mut sink) = SmtpSink::start() else {
        return;
    };
    let site = site_for(&sink, 2).await;
    let admin = site.user("root", true).await;
    let learner = site.user("flo", false).await;
    sink.stop();
    ask_reset(&site.client(), "flo@example.org").await;
    wait_gauge(&site, "failed", 1).await;

    let (status, page) = admin.text("/admin/mail").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("flo@example.org"), "{page}");
    assert!(page.contains("Reset your password"));
    assert!(
        page.contains("SMTP delivery failed"),
        "the relay's error: {page}"
    );
    assert!(page.contains("/admin/mail/retry"));
    let (status, _) = learner.text("/admin/mail").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = learner.post_form("/admin/mail/retry", &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        gauge(&site, "failed").await,
        1,
        "a learner's retry did nothing"
    );

    sink.restart();
    let r = admin.post_form("/admin/mail/retry", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("1 failed message(s) queued again"));
    let mails = sink.wait_for(1).await;
    assert!(mails[0].contains("To: flo@example.org"));
    wait_gauge(&site, "sent", 1).await;
    assert_eq!(gauge(&site, "failed").await, 0);
    let (_, page) = admin.text("/admin/mail").await;
    assert!(page.contains("No failed mail."), "{page}");
}
