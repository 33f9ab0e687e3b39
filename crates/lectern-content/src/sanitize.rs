//! The one HTML sanitizer every author- or learner-written snippet passes
//! through before it reaches a page: no scripts, no event handlers, no
//! `javascript:` URLs, no styles that can overlay the page.
//!
//! Frames and `data:` URLs are narrowed further, because both let an author
//! (or anyone whose HTML an author pastes) put a page of their choosing inside
//! ours:
//! - `<iframe>` keeps its `src` only for `https://` embeds from the video hosts
//!   Open edX authors use ([`FRAME_HOSTS`]); any other frame loses its source
//!   and stays an empty box. The pages' Content-Security-Policy allows frames
//!   from exactly these hosts, so the two lists are one.
//! - `data:` URLs are dropped everywhere except `<img src>` holding a base64
//!   PNG, JPEG, GIF or WebP: editors paste screenshots that way and a raster
//!   image cannot run anything. SVG and HTML as `data:` are refused.

use std::borrow::Cow;
use std::sync::OnceLock;

/// Hosts whose `https://` video embeds survive in author HTML.
pub const FRAME_HOSTS: &[&str] = &[
    "www.youtube.com",
    "www.youtube-nocookie.com",
    "player.vimeo.com",
];

/// The path an embed URL must start with on each of [`FRAME_HOSTS`].
fn embed_path(host: &str) -> Option<&'static str> {
    match host {
        "www.youtube.com" | "www.youtube-nocookie.com" => Some("/embed/"),
        "player.vimeo.com" => Some("/video/"),
        _ => None,
    }
}

/// An `https://` embed URL on an allowed video host, written plainly (no user
/// info, port, backslash, whitespace or control character to confuse parsers).
fn allowed_frame_src(src: &str) -> bool {
    if src
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return false;
    }
    let Some(rest) = src
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .and_then(|_| src.get(8..))
    else {
        return false;
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    embed_path(host).is_some_and(|prefix| path.starts_with(prefix))
}

/// The URL with what browsers ignore removed, lower-cased, to recognise a scheme.
fn url_scheme_text(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// A base64 raster image as a `data:` URL (the only `data:` kept).
fn raster_data_image(value: &str) -> bool {
    let v = url_scheme_text(value);
    ["png", "jpeg", "gif", "webp"]
        .iter()
        .any(|t| v.starts_with(&format!("data:image/{t};base64,")))
}

/// Keeps, drops or rewrites one attribute after ammonia's own checks.
fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    if element == "iframe" && attribute == "src" {
        return allowed_frame_src(value).then_some(Cow::Borrowed(value));
    }
    if url_scheme_text(value).starts_with("data:")
        && !(element == "img" && attribute == "src" && raster_data_image(value))
    {
        return None;
    }
    Some(Cow::Borrowed(value))
}

fn builder() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.add_tags([
            "video",
            "source",
            "track",
            "audio",
            "figure",
            "figcaption",
            "section",
            "article",
            "aside",
            "iframe",
        ])
        .add_generic_attributes([
            "class",
            "id",
            "title",
            "lang",
            "dir",
            "role",
            "aria-label",
            "aria-hidden",
        ])
        .add_tag_attributes(
            "video",
            ["src", "controls", "width", "height", "poster", "preload"],
        )
        .add_tag_attributes("audio", ["src", "controls", "preload"])
        .add_tag_attributes("source", ["src", "type"])
        .add_tag_attributes("track", ["src", "kind", "srclang", "label", "default"])
        .add_tag_attributes("img", ["width", "height", "loading"])
        .add_tag_attributes(
            "iframe",
            ["src", "width", "height", "allowfullscreen", "title"],
        )
        .add_tag_attributes("td", ["colspan", "rowspan"])
        .add_tag_attributes("th", ["colspan", "rowspan", "scope"])
        .url_schemes(std::collections::HashSet::from([
            "http", "https", "mailto", "data",
        ]))
        .link_rel(Some("noopener noreferrer"))
        .attribute_filter(filter_attribute);
        b
    })
}

/// Cleans untrusted HTML into HTML that is safe to embed in a page.
pub fn clean_html(html: &str) -> String {
    builder().clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::clean_html;

    #[test]
    fn scripts_handlers_and_js_urls_are_removed() {
        let dirty = r#"<p onclick="x()">Hi<script>alert(1)</script><img src="a.png" onerror="alert(2)"><a href="javascript:alert(3)">l</a><iframe src="javascript:alert(4)"></iframe></p>"#;
        let clean = clean_html(dirty);
        for bad in ["<script", "onclick", "onerror", "javascript:", "alert"] {
            assert!(!clean.contains(bad), "{bad} survived in {clean}");
        }
        assert!(clean.contains("<p>Hi"));
        assert!(clean.contains(r#"src="a.png""#));
    }

    #[test]
    fn frames_only_from_video_hosts_and_data_urls_only_as_raster_images() {
        // (author HTML, a fragment that must survive, fragments that must not)
        let png = "data:image/png;base64,iVBORw0KGgo=";
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                r#"<iframe src="https://www.youtube.com/embed/abc123"></iframe>"#,
                &[r#"src="https://www.youtube.com/embed/abc123""#],
                &[],
            ),
            (
                r#"<iframe src="https://www.youtube-nocookie.com/embed/abc"></iframe>"#,
                &[r#"src="https://www.youtube-nocookie.com/embed/abc""#],
                &[],
            ),
            (
                r#"<iframe src="https://player.vimeo.com/video/76979871"></iframe>"#,
                &[r#"src="https://player.vimeo.com/video/76979871""#],
                &[],
            ),
            (
                r#"<iframe src="https://evil.example/embed/x"></iframe>"#,
                &["<iframe"],
                &["evil"],
            ),
            (
                r#"<iframe src="http://www.youtube.com/embed/x"></iframe>"#,
                &[],
                &["src="],
            ),
            (
                r#"<iframe src="https://www.youtube.com.evil.example/embed/x"></iframe>"#,
                &[],
                &["evil"],
            ),
            (
                r#"<iframe src="https://www.youtube.com@evil.example/embed/x"></iframe>"#,
                &[],
                &["evil"],
            ),
            (
                r#"<iframe src="https://www.youtube.com:444/embed/x"></iframe>"#,
                &[],
                &["src="],
            ),
            (
                r#"<iframe src="https://www.youtube.com/watch?v=x"></iframe>"#,
                &[],
                &["src="],
            ),
            (
                r#"<iframe src="/courses/x/static/page.html"></iframe>"#,
                &[],
                &["src="],
            ),
            (
                r#"<iframe src="data:text/html,<script>alert(1)</script>"></iframe>"#,
                &[],
                &["data:", "alert"],
            ),
            (
                r#"<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>"#,
                &["<a"],
                &["data:"],
            ),
            (r#"<a href=" DATA:text/html,x">x</a>"#, &["<a"], &["ata:"]),
            (
                r#"<img src="data:image/svg+xml;base64,PHN2Zz4=">"#,
                &["<img"],
                &["data:"],
            ),
            (
                r#"<video poster="data:image/png;base64,iVBORw0KGgo="></video>"#,
                &["<video"],
                &["data:"],
            ),
            (
                r#"<source src="data:video/mp4;base64,AAAA">"#,
                &[],
                &["data:"],
            ),
            (&format!(r#"<img src="{png}" alt="shot">"#), &[png], &[]),
            (
                r#"<img src="data:image/jpeg;base64,/9j/4AAQ">"#,
                &["data:image/jpeg;base64,"],
                &[],
            ),
            (
                r#"<img src="https://cdn.example/a.png">"#,
                &[r#"src="https://cdn.example/a.png""#],
                &[],
            ),
        ];
        for (html, kept, dropped) in cases {
            let clean = clean_html(html);
            for k in *kept {
                assert!(clean.contains(k), "{k} lost from {html}: {clean}");
            }
            for d in *dropped {
                assert!(!clean.contains(d), "{d} survived in {html}: {clean}");
            }
        }
    }

    #[test]
    fn ordinary_markup_survives() {
        let html =
            r#"<h2>Title</h2><ul><li><strong>x</strong></li></ul><a href="/static/a.pdf">pdf</a>"#;
        let clean = clean_html(html);
        assert!(clean.contains("<h2>Title</h2>"));
        assert!(clean.contains(r#"href="/static/a.pdf""#));
    }

    #[test]
    fn math_text_survives_intact() {
        // MathJax reads the text: `<`, `&` and backslashes must come through
        // (as entities where HTML needs them).
        let cases = [
            r"<p>\(a &lt; b\) and \[x &amp; y \\ z\]</p>",
            r"<p>[mathjaxinline]\frac{1}{2} &gt; 0[/mathjaxinline] [mathjax]\begin{align}a&amp;=b\end{align}[/mathjax]</p>",
        ];
        for html in cases {
            assert_eq!(clean_html(html), html);
        }
        assert_eq!(clean_html(r"<p>\(a < b\)</p>"), r"<p>\(a &lt; b\)</p>");
    }
}
