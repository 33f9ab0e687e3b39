//! Gives tracking events the request they were made in: a layer that runs
//! each request inside `lectern_app::tracking::with_origin`, with its path,
//! host, client address (as `client_addr.rs` decides it), browser, referer
//! and languages, each cut to a bound so a hostile header cannot swell the
//! log.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName};
use axum::middleware::Next;
use axum::response::Response;
use lectern_app::tracking::{with_origin, Origin};

use crate::client_addr::client_ip;
use crate::state::AppState;

/// Longest header value kept in an event.
const MAX_HEADER_CHARS: usize = 512;

fn header_text(headers: &HeaderMap, name: HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(MAX_HEADER_CHARS).collect())
        .unwrap_or_default()
}

pub async fn attach(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let headers = req.headers();
    let origin = Origin {
        path: req.uri().path().chars().take(MAX_HEADER_CHARS).collect(),
        host: header_text(headers, header::HOST),
        ip: client_ip(peer, headers, &state.config.trusted_proxies).to_string(),
        agent: header_text(headers, header::USER_AGENT),
        referer: header_text(headers, header::REFERER),
        accept_language: header_text(headers, header::ACCEPT_LANGUAGE),
    };
    with_origin(origin, next.run(req)).await
}
