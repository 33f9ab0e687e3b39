//! Static links at render time: course HTML and problems refer to their
//! assets as `/static/NAME` (Open edX's convention, kept as-is in the stored
//! body so that export gives it back); pages serve them from a course-specific
//! address, so the links are rewritten when the block is shown.

use std::sync::OnceLock;

use regex::{Captures, Regex};

fn patterns() -> &'static [Regex; 3] {
    static RE: OnceLock<[Regex; 3]> = OnceLock::new();
    RE.get_or_init(|| {
        let build =
            |p: &str| Regex::new(p).unwrap_or_else(|e| unreachable!("static pattern {p}: {e}"));
        [
            build(r#"(?i)\b(src|href|poster)(\s*=\s*)"/static/([^"?#]*)(?:[?#][^"]*)?""#),
            build(r#"(?i)\b(src|href|poster)(\s*=\s*)'/static/([^'?#]*)(?:[?#][^']*)?'"#),
            build(r#"(?i)url\(\s*(["']?)/static/([^"'()?#\s]*)(?:[?#][^"'()]*)?["']?\s*\)"#),
        ]
    })
}

/// Rewrites `/static/x` and `/static/x?query` links in `src`, `href`,
/// `poster` attributes and CSS `url()` to `base` + `x` (the query, which Open
/// edX uses for cache hints such as `?raw`, is dropped).
pub fn rewrite_static_links(html: &str, base: &str) -> String {
    let [dq, sq, url] = patterns();
    let attr = |quote: &'static str| {
        move |c: &Captures| format!("{}{}{quote}{base}{}{quote}", &c[1], &c[2], &c[3])
    };
    let out = dq.replace_all(html, attr("\""));
    let out = sq.replace_all(&out, attr("'"));
    let out = url.replace_all(&out, |c: &Captures| {
        format!("url({q}{base}{}{q})", &c[2], q = &c[1])
    });
    out.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_links_are_rewritten_and_others_left_alone() {
        let base = "/assets/c1/";
        let cases = [
            (
                r#"<img src="/static/cat.png">"#,
                r#"<img src="/assets/c1/cat.png">"#,
            ),
            (
                r#"<a href='/static/doc.pdf?raw'>d</a>"#,
                r#"<a href='/assets/c1/doc.pdf'>d</a>"#,
            ),
            (
                r#"<a HREF = "/static/sub/x y.pdf#p2">"#,
                r#"<a HREF = "/assets/c1/sub/x y.pdf">"#,
            ),
            (
                r#"<div style="background: url('/static/bg.jpg')">"#,
                r#"<div style="background: url('/assets/c1/bg.jpg')">"#,
            ),
            (
                r#"<div style="background: url(/static/bg.jpg?x=1)">"#,
                r#"<div style="background: url(/assets/c1/bg.jpg)">"#,
            ),
            (
                r#"<video poster="/static/p.png"></video>"#,
                r#"<video poster="/assets/c1/p.png"></video>"#,
            ),
            (
                r#"<a href="https://example.org/static/x">"#,
                r#"<a href="https://example.org/static/x">"#,
            ),
            (
                r#"<p>see /static/x.png in text</p>"#,
                r#"<p>see /static/x.png in text</p>"#,
            ),
            (r#"<img src="static/x.png">"#, r#"<img src="static/x.png">"#),
        ];
        for (input, want) in cases {
            assert_eq!(rewrite_static_links(input, base), want, "{input}");
        }
    }
}
