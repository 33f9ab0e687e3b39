//! The plain-HTTP side of a site that serves HTTPS (`[tls] http_listen`):
//! ACME HTTP-01 answers (`/.well-known/acme-challenge/{token}`, read from
//! the database so whichever node the CA reaches answers), `/health/*` and
//! `/metrics` (load balancers and Prometheus call them by address, often
//! without TLS), and a permanent redirect to HTTPS for everything else.

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower::ServiceExt;

use crate::AppState;

/// Longest `Host` header accepted for a redirect.
const MAX_HOST_LEN: usize = 253;

/// The router of the plain-HTTP listener. `site` is the full site's router
/// (health and metrics pass through to it); `https_port` is where the
/// redirect points (left out when 443).
pub fn plain_router(state: AppState, site: Router, https_port: u16) -> Router {
    Router::new()
        .route("/.well-known/acme-challenge/{token}", get(challenge))
        .with_state(state)
        .fallback(move |req: Request| redirect_or_pass(site.clone(), https_port, req))
}

async fn challenge(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.app.acme_challenge_answer(&token).await {
        Ok(Some(answer)) => ([(header::CONTENT_TYPE, "text/plain")], answer).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "Not found\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "reading an ACME challenge answer failed");
            (StatusCode::SERVICE_UNAVAILABLE, "Try again shortly\n").into_response()
        }
    }
}

async fn redirect_or_pass(site: Router, https_port: u16, req: Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/health/") || path == "/metrics" {
        return match site.oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())
        .and_then(host_without_port);
    let Some(host) = host else {
        return (
            StatusCode::BAD_REQUEST,
            "This site is served over HTTPS; the request named no valid host.\n",
        )
            .into_response();
    };
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let rest = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let location = format!("https://{host}{port}{rest}");
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response()
}

/// The host part of a `Host` header when it is a plain name or address
/// (letters, digits, `-`, `.`, or a bracketed IPv6 address); `None` for
/// anything else, so nothing odd reaches the `Location` header.
fn host_without_port(value: &str) -> Option<&str> {
    if value.is_empty() || value.len() > MAX_HOST_LEN + 8 {
        return None;
    }
    let host = if value.starts_with('[') {
        let end = value.find(']')?;
        let inner = &value[1..end];
        if inner.is_empty()
            || !inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return None;
        }
        &value[..=end]
    } else {
        let host = value.split(':').next()?;
        if host.is_empty()
            || host.len() > MAX_HOST_LEN
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            return None;
        }
        host
    };
    Some(host)
}

#[cfg(test)]
mod tests {
    use super::host_without_port;

    #[test]
    fn only_plain_host_names_reach_a_redirect() {
        assert_eq!(host_without_port("a.test"), Some("a.test"));
        assert_eq!(host_without_port("a.test:8080"), Some("a.test"));
        assert_eq!(host_without_port("[::1]:80"), Some("[::1]"));
        assert_eq!(host_without_port(""), None);
        assert_eq!(host_without_port("a.test/evil"), None);
        assert_eq!(host_without_port("a b"), None);
        assert_eq!(host_without_port("[::1"), None);
        assert_eq!(host_without_port("user@a.test"), None);
    }
}
