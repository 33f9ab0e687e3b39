//! `POST /event`: where a page's scripts send browser tracking events
//! (the video player's `play_video`, `pause_video`, …), in Open edX's form:
//! `event_type`, `event` (a JSON text) and `page`. Events of visitors who
//! are not signed in are not recorded (answered 204, so a page never
//! breaks on it); what is accepted is decided by
//! `lectern_app::tracking`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

use crate::auth::MaybeUser;
use crate::error::ApiError;
use crate::extract::FormOrJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/event", post(record))
}

#[derive(Deserialize)]
struct BrowserEvent {
    event_type: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    page: String,
}

async fn record(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    FormOrJson(sent): FormOrJson<BrowserEvent>,
) -> Result<Response, ApiError> {
    let Some(user) = user else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let event = if sent.event.is_empty() {
        "{}"
    } else {
        &sent.event
    };
    state
        .app
        .record_browser_event(&user, &sent.event_type, event, &sent.page)?;
    // Open edX answers its /event endpoint with this body.
    Ok((StatusCode::OK, "success").into_response())
}
