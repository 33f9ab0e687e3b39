//! Served assets for course media: the vendored MathJax and its
//! configuration, the transcript script and the media stylesheet. All are
//! embedded in the binary; MathJax's path carries its version, so it is
//! cached for a year.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(crate::math::MATHJAX_URL, get(mathjax))
        .route(crate::math::CONFIG_URL, get(math_config))
        .route(crate::media::VIDEO_SCRIPT, get(video_script))
        .route("/assets/media.css", get(stylesheet))
}

const JS: &str = "text/javascript; charset=utf-8";
const HOUR: &str = "public, max-age=3600";

async fn mathjax() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, JS),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        include_str!("../../assets/vendor/mathjax/tex-svg-full.js"),
    )
}

async fn math_config() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, JS), (header::CACHE_CONTROL, HOUR)],
        include_str!("../../assets/math.js"),
    )
}

async fn video_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, JS), (header::CACHE_CONTROL, HOUR)],
        include_str!("../../assets/video.js"),
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, HOUR),
        ],
        include_str!("../../assets/media.css"),
    )
}
