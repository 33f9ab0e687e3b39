//! Static links at render time: course HTML and problems refer to their
//! assets as `/static/NAME` (Open edX's convention, kept as-is in the stored
//! body so that export gives it back); pages serve them from a course-specific
//! address, so the links are rewritten when the block is shown. Open edX's
//! other spellings of the same files are rewritten too: Studio's
//! `/asset-v1:ORG+COURSE+RUN+type@asset+block@NAME` and the older
//! `/c4x/ORG/COURSE/asset/NAME` (both name a file of the course, whatever
//! run the export came from).

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::{Captures, Regex};

/// The three ways an Open edX link names a course file, before its name.
const PREFIX: &str = r#"(?:/static/|/c4x/[^/"'\s]+/[^/"'\s]+/asset/|/asset-v1:[^/"'\s+]+\+[^/"'\s+]+\+[^/"'\s+]+\+type@asset\+block@)"#;

fn patterns() -> &'static [Regex; 3] {
    static RE: OnceLock<[Regex; 3]> = OnceLock::new();
    RE.get_or_init(|| {
        let build =
            |p: &str| Regex::new(p).unwrap_or_else(|e| unreachable!("static pattern {p}: {e}"));
        let with_prefix = |p: &str| build(&p.replace("/static/", PREFIX));
        [
            with_prefix(r#"(?i)\b(src|href|poster)(\s*=\s*)"/static/([^"?#]*)(?:[?#][^"]*)?""#),
            with_prefix(r#"(?i)\b(src|href|poster)(\s*=\s*)'/static/([^'?#]*)(?:[?#][^']*)?'"#),
            with_prefix(r#"(?i)url\(\s*(["']?)/static/([^"'()?#\s]*)(?:[?#][^"'()]*)?["']?\s*\)"#),
        ]
    })
}

/// Rewrites `/static/x` and `/static/x?query` links in `src`, `href`,
/// `poster` attributes and CSS `url()` to `base` + `x` (the query, which Open
/// edX uses for cache hints such as `?raw`, is dropped). Text with none of
/// the three prefixes (most blocks) comes back borrowed, without a regex
/// pass: this runs for every block of every page.
pub fn rewrite_static_links<'a>(html: &'a str, base: &str) -> Cow<'a, str> {
    if !has_a_needle(html) {
        return Cow::Borrowed(html);
    }
    let [dq, sq, url] = patterns();
    let attr = |quote: &'static str| {
        move |c: &Captures| format!("{}{}{quote}{base}{}{quote}", &c[1], &c[2], &c[3])
    };
    let out = dq.replace_all(html, attr("\""));
    let out = sq.replace_all(&out, attr("'"));
    let out = url.replace_all(&out, |c: &Captures| {
        format!("url({q}{base}{}{q})", &c[2], q = &c[1])
    });
    Cow::Owned(out.into_owned())
}

/// What every link the patterns rewrite contains (they ignore case).
const NEEDLES: [&str; 3] = ["/static/", "/c4x/", "/asset-v1:"];

/// Whether any of [`NEEDLES`] occurs in `hay`, ignoring ASCII case. Every
/// page view asks this of each of its blocks, most of which have no link:
/// one pass over the slashes (`memchr`) instead of one bytewise pass per
/// needle, which was 4.7 % of a unit page's CPU (bench/README.md, issue 18).
fn has_a_needle(hay: &str) -> bool {
    let hay = hay.as_bytes();
    memchr::memchr_iter(b'/', hay).any(|i| {
        NEEDLES.iter().any(|needle| {
            hay.get(i..i + needle.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_in_any_case_anywhere_and_only_whole() {
        for (html, found) in [
            ("", false),
            ("<p>a / b // c</p>", false),
            (r#"<img src="/STATIC/x.png">"#, true),
            ("ends with /static/", true),
            ("ends with /stati", false),
            ("é/c4x/é", true),
            ("/asset-v1:Org+C+R+type@asset+block@x", true),
            ("/asset-v2:x /c4 x/", false),
        ] {
            assert_eq!(has_a_needle(html), found, "{html}");
        }
    }

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
            (
                r#"<img src="/asset-v1:OpenedX+DemoX+DemoCourse+type@asset+block@romeo.jpeg">"#,
                r#"<img src="/assets/c1/romeo.jpeg">"#,
            ),
            (
                r#"<a href='/c4x/MITx/6.002x/asset/notes.pdf?raw'>n</a>"#,
                r#"<a href='/assets/c1/notes.pdf'>n</a>"#,
            ),
            (
                r#"<div style="background: url(/asset-v1:O+N+R+type@asset+block@bg.jpg)">"#,
                r#"<div style="background: url(/assets/c1/bg.jpg)">"#,
            ),
            (
                r#"<a href="/asset-v1:O+N+R+type@other+block@x">"#,
                r#"<a href="/asset-v1:O+N+R+type@other+block@x">"#,
            ),
            (
                r#"<a href="https://x.org/c4x/A/B/asset/y.pdf">"#,
                r#"<a href="https://x.org/c4x/A/B/asset/y.pdf">"#,
            ),
            // The prefixes ignore case, as the patterns do.
            (
                r#"<IMG SRC="/STATIC/cat.png"><a href='/C4X/M/6/ASSET/n.pdf'>n</a>"#,
                r#"<IMG SRC="/assets/c1/cat.png"><a href='/assets/c1/n.pdf'>n</a>"#,
            ),
            (
                r#"<img src="/Asset-V1:O+N+R+type@asset+block@a.png">"#,
                r#"<img src="/assets/c1/a.png">"#,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(rewrite_static_links(input, base), want, "{input}");
            if input == want {
                assert!(
                    matches!(rewrite_static_links(input, base), Cow::Borrowed(_))
                        || NEEDLES.iter().any(|n| input.contains(n)),
                    "copied although nothing could match: {input}"
                );
            }
        }
    }
}
