//! Answering a GET for a stored file (a course's `/static/` asset) the way
//! browsers and media players expect: `ETag` and `Last-Modified` with
//! conditional requests answered `304` before any byte is read, one byte
//! range (`Range: bytes=a-b`, `a-`, `-n`) as `206` or `416`, and the body
//! streamed from the store a piece at a time, never loaded whole. A request
//! for several ranges is answered with the whole file, which HTTP allows.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use lectern_app::store::BlobInfo;
use lectern_app::Lectern;
use lectern_content::Asset;

/// Bytes read from the store per piece of a streamed body.
const PIECE: u64 = 1 << 20;

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeAsk {
    /// No usable range: the whole file.
    Whole,
    /// Bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// A range that lies outside the file: `416`.
    Unsatisfiable,
}

/// Reads a `Range` header (RFC 9110 §14.1.2): one range of bytes.
/// Malformed values, other units and lists of ranges give `Whole`.
pub fn parse_range(value: &str, size: u64) -> RangeAsk {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeAsk::Whole;
    };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAsk::Whole;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // `-n`: the last n bytes.
        (true, _, Some(n)) => {
            if n == 0 || size == 0 {
                RangeAsk::Unsatisfiable
            } else {
                RangeAsk::Part {
                    start: size.saturating_sub(n),
                    end: size - 1,
                }
            }
        }
        (false, Some(start), end) if last.trim().is_empty() || end.is_some() => {
            if start >= size {
                return RangeAsk::Unsatisfiable;
            }
            match end {
                Some(e) if e < start => RangeAsk::Whole,
                Some(e) => RangeAsk::Part {
                    start,
                    end: e.min(size - 1),
                },
                None => RangeAsk::Part {
                    start,
                    end: size - 1,
                },
            }
        }
        _ => RangeAsk::Whole,
    }
}

/// An HTTP date (IMF-fixdate), as `Last-Modified` carries it.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Whether an `If-None-Match` list names this entity tag (or is `*`).
fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
}

/// Whether the client's copy is current: `If-None-Match` when sent (it wins),
/// else `If-Modified-Since` at whole seconds.
fn not_modified(headers: &HeaderMap, etag: &str, modified: DateTime<Utc>) -> bool {
    let get = |h| headers.get(h).and_then(|v: &HeaderValue| v.to_str().ok());
    if let Some(list) = get(header::IF_NONE_MATCH) {
        return etag_matches(list, etag);
    }
    get(header::IF_MODIFIED_SINCE)
        .and_then(parse_http_date)
        .is_some_and(|since| modified.timestamp() <= since.timestamp())
}

/// The response for a stored asset; `extra` headers (content security,
/// caching) are added to every answer but `416`.
pub fn respond(
    app: &Lectern,
    asset: Asset,
    info: &BlobInfo,
    headers: &HeaderMap,
    extra: &[(header::HeaderName, HeaderValue)],
) -> Response {
    let etag = format!("\"{}\"", asset.sha256);
    let modified = info.created_at;
    let size = info.size;
    let mut common = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        common.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(modified)) {
        common.insert(header::LAST_MODIFIED, v);
    }
    common.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    for (k, v) in extra {
        common.insert(k.clone(), v.clone());
    }
    if not_modified(headers, &etag, modified) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    // `If-Range` with another validator: the file changed, send it whole.
    let range_applies = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag || v.trim() == http_date(modified));
    let ask = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(r) if range_applies => parse_range(r, size),
        _ => RangeAsk::Whole,
    };
    let (status, start, end) = match ask {
        RangeAsk::Whole => (StatusCode::OK, 0, size),
        RangeAsk::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end + 1),
        RangeAsk::Unsatisfiable => {
            let mut resp = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            let h = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                h.insert(header::CONTENT_RANGE, v);
            }
            h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            return resp;
        }
    };
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", end - 1)) {
            common.insert(header::CONTENT_RANGE, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&asset.content_type) {
        common.insert(header::CONTENT_TYPE, v);
    }
    common.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    let body = Body::from_stream(pieces(app.clone(), asset, start, end));
    (status, common, body).into_response()
}

/// The bytes `start..end` of an asset, read from the store a piece at a time
/// as the client takes them.
fn pieces(
    app: Lectern,
    asset: Asset,
    start: u64,
    end: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, lectern_app::AppError>> + Send {
    futures_util::stream::unfold(start, move |pos| {
        let (app, asset) = (app.clone(), asset.clone());
        async move {
            if pos >= end {
                return None;
            }
            let len = PIECE.min(end - pos);
            match app.asset_range(&asset, pos, len).await {
                Ok(bytes) if bytes.is_empty() => None,
                Ok(bytes) => {
                    let next = pos + bytes.len() as u64;
                    Some((Ok(Bytes::from(bytes)), next))
                }
                Err(e) => Some((Err(e), end)),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        use RangeAsk::*;
        let cases = [
            ("bytes=0-99", 1000, Part { start: 0, end: 99 }),
            (
                "bytes=100-",
                1000,
                Part {
                    start: 100,
                    end: 999,
                },
            ),
            (
                "bytes=-100",
                1000,
                Part {
                    start: 900,
                    end: 999,
                },
            ),
            ("bytes=-5000", 1000, Part { start: 0, end: 999 }),
            (
                "bytes=990-5000",
                1000,
                Part {
                    start: 990,
                    end: 999,
                },
            ),
            ("bytes=0-0", 1, Part { start: 0, end: 0 }),
            ("bytes=1000-", 1000, Unsatisfiable),
            ("bytes=5000-6000", 1000, Unsatisfiable),
            ("bytes=-0", 1000, Unsatisfiable),
            ("bytes=0-", 0, Unsatisfiable),
            ("bytes=0-1,5-6", 1000, Whole),
            ("items=0-1", 1000, Whole),
            ("bytes=5-1", 1000, Whole),
            ("bytes=a-b", 1000, Whole),
            ("bytes=-", 1000, Whole),
            ("bytes=+1-2", 1000, Whole),
        ];
        for (value, size, want) in cases {
            assert_eq!(parse_range(value, size), want, "{value} of {size}");
        }
    }

    #[test]
    fn dates_and_tags_compare_as_browsers_send_them() {
        let t = DateTime::parse_from_rfc3339("1994-11-06T08:49:37Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
        assert!(etag_matches("\"a\", \"b\"", "\"b\""));
        assert!(etag_matches("W/\"b\"", "\"b\""));
        assert!(etag_matches("*", "\"b\""));
        assert!(!etag_matches("\"a\"", "\"b\""));
    }
}
