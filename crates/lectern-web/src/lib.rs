//! Lectern's HTTP layer: the learner site (LMS), Studio, the admin console,
//! the JSON API, health checks and metrics, over one `axum` router.
//!
//! Handlers are short: extract, call one `lectern_app::Lectern` method,
//! render. Nothing here knows how data is stored; the only way to state is
//! through the app layer.

mod auth;
mod blocks;
mod certificate_images;
mod certificate_pdf;
mod charts;
mod client_addr;
mod csrf;
mod deadline;
mod degraded;
mod error;
mod event_origin;
mod extract;
mod idempotency;
mod math;
mod media;
mod metrics;
mod next_path;
mod pages;
mod problem_form;
mod progress;
mod routes;
mod search_page;
mod security;
mod state;
mod static_files;
mod throttle;
pub mod tls;
mod upload;
mod video;

use axum::Router;

pub use metrics::Metrics;
pub use state::{AppState, WebConfig};
pub use throttle::ThrottleConfig;

/// The whole site as one router.
pub fn app(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    routes::router(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            degraded::during_outage,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::protect,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            event_origin::attach,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            deadline::limit,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// A bug must never reach a user as a dropped connection or an empty 500:
/// log it with an id and answer with a page that quotes the id.
fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    axum::response::IntoResponse::into_response(error::ApiError(lectern_app::AppError::Internal(
        format!("panic: {detail}"),
    )))
}
