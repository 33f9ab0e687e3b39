//! A bulk e-mail to 1,000 learners through a real SMTP server while things
//! go wrong: the sending `lectern serve` is killed (SIGKILL) in the middle
//! of the fan-out and of sending, a second node on the same database takes
//! the job and the outbox over, and the relay is stopped mid-send and
//! started again. What the system guarantees (docs/mail.md), and so what
//! is asserted: every recipient gets the message, exactly once counted by
//! `Message-ID` (one outbox row, one logical message), nobody who opted out
//! gets it, and raw duplicates — copies the relay accepted whose "sent"
//! was never committed (a node killed, or a relay killed after storing a
//! message but before answering) — are at most the sends in flight at each
//! fault; they are counted and printed.
//!
//! Learners are written straight to the store (a fixed, unusable password
//! hash): 1,000 sign-ups over HTTP would spend most of the test in Argon2.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lectern_app::bulk_email::EmailDraft;
use lectern_app::jobs::{JobKind, JobState};
use lectern_app::model::NewUser;
use lectern_app::outbox::MailState;
use lectern_app::transfer::ImportSource;
use lectern_app::{AppSettings, Lectern, Store};
use lectern_content::olx::ImportLimits;
use lectern_content::CourseKey;

use crate::binary::{free_port, BIN};
use crate::problems::grading_course;
use crate::smtp_sink::{header, SmtpSink};

const LEARNERS: i64 = 1000;
/// Learner `i` opted out when `i % OPT_OUT_EVERY == 3`.
const OPT_OUT_EVERY: i64 = 100;
/// Sends in flight per node (`[mail] send_concurrency`).
const CONCURRENCY: usize = 4;

fn database_url(dir: &std::path::Path) -> String {
    crate::backend::database_url_for(dir)
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("lectern.db").display()))
}

/// A node sending through `smtp_port`, with short leases so a killed
/// node's job and claimed messages pass to the next one quickly.
fn start(dir: &std::path::Path, url: &str, smtp_port: u16, log: &str) -> Child {
    let port = free_port();
    Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data")
        .arg(dir)
        .env("LECTERN_DATABASE_URL", url)
        .env("LECTERN_JOB_LEASE_SECS", "2")
        .env("LECTERN_JOB_WORKERS", "1")
        .env("LECTERN_SMTP_HOST", "127.0.0.1")
        .env("LECTERN_SMTP_PORT", smtp_port.to_string())
        .env("LECTERN_SMTP_TLS", "none")
        .env("LECTERN_SMTP_FROM", "Lectern <no-reply@example.org>")
        .env("LECTERN_SMTP_TIMEOUT_SECS", "5")
        .env("LECTERN_MAIL_MAX_ATTEMPTS", "100")
        .env("LECTERN_MAIL_RETRY_BASE_SECS", "1")
        .env("LECTERN_MAIL_CLAIM_LEASE_SECS", "5")
        .env("LECTERN_MAIL_DELIVERY_BATCH", "10")
        .env("LECTERN_MAIL_SEND_CONCURRENCY", CONCURRENCY.to_string())
        .env("LECTERN_MAIL_MAX_PER_SECOND", "150")
        .env("LECTERN_MAIL_FANOUT_BATCH", "5")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::create(dir.join(log))
                .map(Stdio::from)
                .unwrap_or(Stdio::null()),
        )
        .spawn()
        .expect("start lectern")
}

async fn outbox(store: &Arc<dyn Store>) -> BTreeMap<&'static str, i64> {
    store
        .count_mail()
        .await
        .unwrap()
        .into_iter()
        .map(|(s, n)| (s.as_str(), n))
        .collect()
}

async fn wait_until<F, Fut>(what: &str, secs: u64, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_learners_get_one_copy_each_through_a_killed_node_and_a_relay_restart() {
    let Some(mut sink) = SmtpSink::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(dir.path());
    let store: Arc<dyn Store> = lectern_store::open(&url, std::path::Path::new("unused.db"), 8)
        .await
        .unwrap();
    let app = Lectern::new(store.clone(), AppSettings::default());
    let key: CourseKey = "course-v1:T+G+R".parse().unwrap();
    app.import_course(
        None,
        ImportSource::Archive(grading_course(0.5)),
        ImportLimits::default(),
    )
    .await
    .unwrap();
    let new_user = |name: String, admin: bool| NewUser {
        email: format!("{name}@example.org"),
        name: name.clone(),
        username: name,
        password_hash: "not a hash".into(),
        is_admin: admin,
        is_course_creator: false,
    };
    let admin = store
        .create_user(&new_user("sender".into(), true))
        .await
        .unwrap();
    let started = Instant::now();
    let mut expected = BTreeSet::from(["sender@example.org".to_string()]);
    let mut opted_out = BTreeSet::new();
    for i in 0..LEARNERS {
        let user = store
            .create_user(&new_user(format!("learner{i}"), false))
            .await
            .unwrap();
        store
            .enroll(user.id, &key, "audit", chrono::Utc::now())
            .await
            .unwrap();
        if i % OPT_OUT_EVERY == 3 {
            store
                .opt_out_of_course_email(user.id, &key.to_string(), chrono::Utc::now())
                .await
                .unwrap();
            opted_out.insert(user.email);
        } else {
            expected.insert(user.email);
        }
    }
    eprintln!("{LEARNERS} learners written in {:?}", started.elapsed());
    let draft = EmailDraft {
        targets: vec!["learners".into(), "myself".into()],
        subject: "Exam next week".into(),
        body: "<p>The exam opens on <b>Monday</b>.</p>".into(),
    };
    let email_id = app.send_bulk_email(&admin, &key, &draft).await.unwrap();

    // Node A fans out and sends; it is killed once some copies are queued
    // (and some sent) but before the fan-out has finished.
    let mut a = start(dir.path(), &url, sink.port, "a.log");
    wait_until("node A to queue and send some mail", 60, || {
        let store = store.clone();
        let sink = &sink;
        async move {
            let counts = outbox(&store).await;
            counts.values().sum::<i64>() >= 40 && sink.count() >= 5
        }
    })
    .await;
    a.kill().unwrap();
    a.wait().unwrap();
    let queued_at_kill: i64 = outbox(&store).await.values().sum();
    let fanned_out_at_kill = store
        .bulk_email(email_id)
        .await
        .unwrap()
        .unwrap()
        .fanned_out_at
        .is_some();
    eprintln!(
        "node A killed with {queued_at_kill} copies queued, {} received; fan-out finished: {fanned_out_at_kill}",
        sink.count()
    );
    assert!(
        !fanned_out_at_kill,
        "node A was meant to die in the middle of the fan-out"
    );

    // Node B takes over the job (its lease runs out) and the outbox.
    let mut b = start(dir.path(), &url, sink.port, "b.log");
    wait_until("node B to send half", 120, || {
        let sink = &sink;
        async move { sink.count() >= 500 }
    })
    .await;
    // The relay goes away mid-send and comes back.
    sink.stop();
    tokio::time::sleep(Duration::from_secs(2)).await;
    sink.restart();
    let want = expected.len() as i64;
    wait_until("every copy to be sent", 240, || {
        let store = store.clone();
        async move { outbox(&store).await.get("sent").copied() == Some(want) }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let counts = outbox(&store).await;
    assert_eq!(counts.get("queued").copied().unwrap_or(0), 0, "{counts:?}");
    assert_eq!(counts.get("failed").copied().unwrap_or(0), 0, "{counts:?}");
    let job = store
        .recent_jobs(20)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.kind == JobKind::BULK_EMAIL)
        .unwrap();
    assert_eq!(job.state, JobState::Done);
    let b_node = format!("node-{}-", b.id());
    assert!(
        job.locked_by.as_deref().unwrap_or("").starts_with(&b_node),
        "node B finished the job: {job:?}"
    );
    assert!(store
        .bulk_email(email_id)
        .await
        .unwrap()
        .unwrap()
        .fanned_out_at
        .is_some());
    let progress = store.bulk_email_progress(email_id).await.unwrap();
    assert_eq!(progress, [(MailState::Sent, want)]);

    // What arrived: one Message-ID per recipient, every recipient, nobody
    // who opted out; raw duplicates counted.
    let messages = sink.messages();
    let mut by_id: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in &messages {
        let id = header(m, "Message-ID").expect("every copy has a Message-ID");
        let to = header(m, "To").expect("every copy has a recipient");
        by_id.entry(id).or_default().insert(to);
    }
    let duplicates = messages.len() - by_id.len();
    eprintln!(
        "{} copies received for {} messages: {duplicates} raw duplicate(s) (same Message-ID)",
        messages.len(),
        by_id.len()
    );
    let mut recipients = BTreeSet::new();
    for (id, to) in &by_id {
        assert_eq!(to.len(), 1, "{id} went to {to:?}");
        assert!(
            recipients.insert(to.iter().next().cloned().unwrap_or_default()),
            "two different messages (Message-IDs) went to {to:?}: queued twice"
        );
    }
    assert_eq!(recipients, expected, "every recipient, and only them");
    assert!(recipients.is_disjoint(&opted_out));
    // Two faults (a node killed, a relay killed), each with at most the
    // sends in flight of one node.
    assert!(
        duplicates <= 2 * CONCURRENCY,
        "{duplicates} duplicates: more than the sends in flight at the two faults"
    );
    b.kill().unwrap();
    b.wait().unwrap();
}
