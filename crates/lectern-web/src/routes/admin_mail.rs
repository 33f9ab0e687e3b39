//! The admin console's mail page: how many messages the outbox holds in
//! each state, the latest failures with their error, and a button that
//! queues every failed message again (after the relay is fixed).

use axum::extract::{Extension, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use super::page_ctx;
use crate::auth::PageUser;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::pages::{render, PageCtx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/mail", get(mail))
        .route("/admin/mail/retry", post(retry))
}

/// One failed message as the page shows it.
struct FailureRow {
    id: i64,
    recipient: String,
    subject: String,
    origin: String,
    attempts: i64,
    last_error: String,
    created: String,
}

#[derive(askama::Template)]
#[template(path = "admin_mail.html")]
struct MailPage {
    ctx: PageCtx,
    notice: Option<String>,
    counts: Vec<(&'static str, i64)>,
    failures: Vec<FailureRow>,
}

async fn page(
    state: &AppState,
    user: &lectern_app::User,
    csrf: &Extension<CsrfToken>,
    notice: Option<String>,
) -> PageResult<Response> {
    let (counts, failures) = state.app.admin_mail(user).await?;
    Ok(render(&MailPage {
        ctx: page_ctx(state, Some(user), csrf).await,
        notice,
        counts: counts.into_iter().map(|(s, n)| (s.as_str(), n)).collect(),
        failures: failures
            .into_iter()
            .map(|m| FailureRow {
                id: m.id,
                recipient: m.recipient,
                subject: m.subject,
                origin: m.origin,
                attempts: m.attempts,
                last_error: m.last_error.unwrap_or_default(),
                created: m.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            })
            .collect(),
    }))
}

async fn mail(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
) -> PageResult<Response> {
    page(&state, &user, &csrf, None).await
}

async fn retry(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
) -> PageResult<Response> {
    let n = state.app.retry_failed_mail(&user).await?;
    page(
        &state,
        &user,
        &csrf,
        Some(format!("{n} failed message(s) queued again.")),
    )
    .await
}
