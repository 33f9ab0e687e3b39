//! Headers every response carries, and the refusal of request paths no page
//! can have.
//!
//! The Content-Security-Policy is one the pages really work under: pages load
//! scripts and styles only from `/assets/` (no inline script, style or event
//! handler anywhere in the templates; a unit test keeps it so), images and
//! media from this site or any `https:` origin (authors link them), images
//! also as `data:` (the sanitizer lets only base64 raster images through),
//! and frames only from the video hosts the sanitizer keeps `<iframe>`s for
//! ([`lectern_content::sanitize::FRAME_HOSTS`]). Nobody may frame Lectern,
//! which protects the admin console and Studio from clickjacking. A handler
//! that sets its own policy (course static files are sandboxed) keeps it.
//! A site served over HTTPS (`secure_cookies`) also asks browsers, through
//! HSTS, never to reach it over plain HTTP.

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// The policy of every page and API answer.
pub fn content_security_policy() -> String {
    let frames: Vec<String> = lectern_content::sanitize::FRAME_HOSTS
        .iter()
        .map(|h| format!("https://{h}"))
        .collect();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; \
         img-src 'self' https: data:; media-src 'self' https:; font-src 'self'; \
         connect-src 'self'; frame-src {}; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'",
        frames.join(" ")
    )
}

/// [`content_security_policy`], made once: it never changes while the
/// process runs, and cloning a header value shares its bytes.
static CSP_HEADER: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
    HeaderValue::from_str(&content_security_policy())
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
});

const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()";

/// Adds the security headers (where a handler has not set its own) and
/// answers paths holding control characters with a 400 before any handler
/// can trip over them (a redirect to such a path cannot even be written).
pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = if path_has_control_chars(req.uri().path()) {
        bad_path(req.uri().path())
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    // Room for them all at once: the map grew by doubling as they were
    // added, 2.4 % of an answer check's CPU (issue 18, eighth pass).
    h.reserve(7);
    let csp = CSP_HEADER.clone();
    let fixed: [(HeaderName, HeaderValue); 6] = [
        (header::CONTENT_SECURITY_POLICY, csp),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(PERMISSIONS_POLICY),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    for (name, value) in fixed {
        if !h.contains_key(&name) {
            h.insert(name, value);
        }
    }
    if state.config.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    resp
}

/// Whether the percent-decoded path holds a control character (NUL, tab,
/// newline, DEL…). Such a path names nothing Lectern serves.
fn path_has_control_chars(path: &str) -> bool {
    let bytes = path.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut i = 0;
    while i < bytes.len() {
        let b = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                i += 3;
                (hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8
            }
            (b, _, _) => {
                i += 1;
                b
            }
        };
        if b < 0x20 || b == 0x7f {
            return true;
        }
    }
    false
}

fn bad_path(path: &str) -> Response {
    let message = "This address holds characters no page of this site has.";
    if path.starts_with("/api/") || path.starts_with("/oauth2/") {
        crate::error::ApiError::with_status(StatusCode::BAD_REQUEST, "bad_path", message)
    } else {
        crate::pages::error_page(StatusCode::BAD_REQUEST, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_encoded_or_not() {
        for bad in [
            "/courses/%01",
            "/a%00b",
            "/x%0A",
            "/x%0d",
            "/x%7F",
            "/x%09y",
        ] {
            assert!(path_has_control_chars(bad), "{bad}");
        }
        for ok in [
            "/courses/course-v1:A+B+C/",
            "/a%20b",
            "/%zz",
            "/x%",
            "/%C3%A9",
        ] {
            assert!(!path_has_control_chars(ok), "{ok}");
        }
    }

    /// Every template must work under `script-src 'self'; style-src 'self'`:
    /// no inline `<script>`, no `style` attribute or element, no `on…=`
    /// handler, no `javascript:` URL. New templates are checked too.
    #[test]
    fn templates_need_no_inline_script_or_style() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
        let mut checked = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lower = text.to_lowercase();
            let name = path.display();
            for (i, _) in lower.match_indices("<script") {
                let tag_end = lower[i..].find('>').map_or(lower.len(), |e| i + e);
                assert!(
                    lower[i..tag_end].contains(" src="),
                    "{name}: inline <script> (move it to assets/)"
                );
            }
            assert!(!lower.contains("<style"), "{name}: <style> element");
            assert!(!lower.contains(" style="), "{name}: style attribute");
            assert!(!lower.contains("javascript:"), "{name}: javascript: URL");
            for handler in [
                " onclick=",
                " onsubmit=",
                " onchange=",
                " onload=",
                " oninput=",
            ] {
                assert!(!lower.contains(handler), "{name}: inline handler {handler}");
            }
            checked += 1;
        }
        assert!(checked > 10, "found only {checked} templates in {dir:?}");
    }
}
