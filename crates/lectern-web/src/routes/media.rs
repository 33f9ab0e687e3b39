//! Served assets for course media: the vendored MathJax and its
//! configuration, the transcript script and the media stylesheet. All are
//! embedded in the binary; MathJax's path carries its version, so it is
//! cached for a year, and it is sent gzip-compressed to browsers that accept
//! it (2.2 MB becomes ~0.7 MB; compressed once, on first request).

use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
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

const MATHJAX: &str = include_str!("../../assets/vendor/mathjax/tex-svg-full.js");

/// MathJax gzip-compressed, made once.
fn mathjax_gzip() -> &'static [u8] {
    static GZ: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    GZ.get_or_init(|| {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to a Vec cannot fail; an empty result falls back to plain.
        enc.write_all(MATHJAX.as_bytes())
            .and_then(|()| enc.finish())
            .unwrap_or_default()
    })
}

/// Whether `Accept-Encoding` allows gzip (and does not refuse it with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            parts.next().is_some_and(|c| c.eq_ignore_ascii_case("gzip"))
                && !parts.any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                })
        })
}

async fn mathjax(headers: HeaderMap) -> Response {
    let common = [
        (header::CONTENT_TYPE, JS),
        (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        (header::VARY, "accept-encoding"),
    ];
    if accepts_gzip(&headers) {
        if let Ok(gz) = tokio::task::spawn_blocking(mathjax_gzip).await {
            if !gz.is_empty() {
                return (common, [(header::CONTENT_ENCODING, "gzip")], gz).into_response();
            }
        }
    }
    (common, MATHJAX).into_response()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_chosen_as_accept_encoding_says() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, v.parse().unwrap());
            accepts_gzip(&h)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(!with("br, deflate"));
        assert!(!with("gzip;q=0"));
        assert!(!with("x-gzip"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
