//! The outbox's delivery loop, one per node beside its job workers: claim
//! a batch of due messages under a lease (`MailStore::claim_mail`; on
//! PostgreSQL `SKIP LOCKED`, so nodes take different messages), hand each
//! to the relay, and commit "sent" for each message right after the relay
//! accepted it: the window in which a crash re-sends a message is one
//! message's commit.
//!
//! A failed send counts an attempt and is retried after an exponential
//! backoff; after the first failure of a batch the rest of it is given back
//! untried (the relay is most likely away), due after the same backoff, so
//! an outage costs one attempt per message at most, not a batch of them.
//! Without a mailer (no `[smtp] host`) the node delivers nothing and mail
//! waits in the outbox for a node that has one.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::jobs::{backoff, bounded_error};
use crate::mail::{Mail, Mailer};
use crate::outbox::{MailState, OutboxMessage};
use crate::Lectern;

/// Runs until `stop` says so: claim, send, record.
pub(crate) async fn deliver(app: Lectern, poll: Duration, mut stop: watch::Receiver<bool>) {
    let holder = format!("{}/mail", app.node_id());
    let settings = app.mail_settings().clone();
    let lease = chrono::Duration::from_std(settings.claim_lease)
        .unwrap_or_else(|_| chrono::Duration::seconds(60));
    let mut pace = (settings.max_per_second > 0).then(|| {
        let mut i = tokio::time::interval(Duration::from_secs(1) / settings.max_per_second);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    loop {
        if stop.has_changed().is_err() || *stop.borrow() {
            return;
        }
        let woken = app.jobs.wake.notified();
        let claimed = match &app.mailer {
            None => Ok(Vec::new()),
            Some(_) => {
                app.store
                    .claim_mail(&holder, app.now(), lease, settings.delivery_batch.max(1))
                    .await
            }
        };
        match claimed {
            Ok(batch) if !batch.is_empty() => {
                if let Some(mailer) = app.mailer.clone() {
                    send_batch(&app, &mailer, &holder, batch, pace.as_mut()).await;
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "claiming mail failed"),
        }
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Sends a claimed batch, a few at a time; stops at the first failure and
/// gives the untried rest back.
async fn send_batch(
    app: &Lectern,
    mailer: &Arc<dyn Mailer>,
    holder: &str,
    batch: Vec<OutboxMessage>,
    mut pace: Option<&mut tokio::time::Interval>,
) {
    let settings = app.mail_settings();
    let concurrency = settings.send_concurrency.max(1);
    // Each send is bounded well inside the claim, so a hung relay cannot
    // outlive it.
    let deadline = (settings.claim_lease / 3).max(Duration::from_secs(1));
    let mut untried = batch.into_iter();
    let mut running = JoinSet::new();
    let mut failed_once = false;
    loop {
        while !failed_once && running.len() < concurrency {
            let Some(message) = untried.next() else { break };
            if let Some(p) = pace.as_mut() {
                p.tick().await;
            }
            let (app, mailer, holder) = (app.clone(), mailer.clone(), holder.to_string());
            running
                .spawn(async move { send_one(&app, &*mailer, &holder, message, deadline).await });
        }
        match running.join_next().await {
            Some(Ok(true)) => {}
            Some(Ok(false)) => failed_once = true,
            Some(Err(e)) => {
                tracing::error!(error = %e, "a mail send task panicked");
                failed_once = true;
            }
            None => break,
        }
    }
    let rest: Vec<i64> = untried.map(|m| m.id).collect();
    if !rest.is_empty() {
        let retry_at = app.now() + chrono_duration(backoff(settings.retry_base, 1));
        match app.store.release_mail(&rest, holder, retry_at).await {
            Ok(n) => tracing::info!(
                messages = n,
                %retry_at,
                "the relay failed; the rest of the batch waits untried"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "giving back untried mail failed; its claim will expire")
            }
        }
    }
}

/// Sends one message and records the outcome; whether the relay took it.
async fn send_one(
    app: &Lectern,
    mailer: &dyn Mailer,
    holder: &str,
    message: OutboxMessage,
    deadline: Duration,
) -> bool {
    let mail = Mail {
        to: message.recipient.clone(),
        subject: message.subject.clone(),
        body: message.body_text.clone(),
        html: message.body_html.clone(),
        message_id: Some(message.message_id.clone()),
        list_unsubscribe: message.unsubscribe_token.as_ref().map(|t| {
            format!(
                "{}/email/unsubscribe/{t}",
                app.settings().site_url.trim_end_matches('/')
            )
        }),
    };
    let outcome = match tokio::time::timeout(deadline, mailer.send(&mail)).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "the relay did not answer within {}s",
            deadline.as_secs()
        )),
    };
    match outcome {
        Ok(()) => {
            match app
                .store
                .mark_mail_sent(message.id, holder, app.now())
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(mail = message.id, "mail sent after its claim was lost")
                }
                Err(e) => {
                    tracing::warn!(mail = message.id, error = %e, "recording sent mail failed; it may be sent again")
                }
            }
            true
        }
        Err(error) => {
            let attempts = message.attempts + 1;
            let retry_at =
                app.now() + chrono_duration(backoff(app.mail_settings().retry_base, attempts));
            match app
                .store
                .mark_mail_failed(
                    message.id,
                    holder,
                    bounded_error(&error),
                    retry_at,
                    app.now(),
                )
                .await
            {
                Ok(Some(MailState::Failed)) => {
                    tracing::error!(mail = message.id, origin = message.origin, %error, "mail failed for good")
                }
                Ok(_) => {
                    tracing::warn!(mail = message.id, %error, %retry_at, "mail not sent; will retry")
                }
                Err(e) => {
                    tracing::warn!(mail = message.id, error = %e, "recording a mail failure failed")
                }
            }
            false
        }
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))
}
