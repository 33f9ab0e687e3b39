//! Math in course content, shown as Open edX shows it.
//!
//! Open edX authors write TeX between `\(…\)` (inline) and `\[…\]`
//! (display), and CAPA problems use `[mathjaxinline]…[/mathjaxinline]` and
//! `[mathjax]…[/mathjax]` (also what `<math>$…$</math>` turns into). Open
//! edX typesets these in the browser with MathJax, configured for exactly
//! those four delimiters (not `$…$` or `$$…$$`), with TeX environments such
//! as `\begin{align}` recognised outside delimiters too.
//!
//! Why MathJax (3, the `tex-svg-full` combined component, vendored from npm
//! and served by Lectern itself) rather than converting TeX to MathML on the
//! server: course math is whatever Open edX's MathJax accepted — AMS
//! environments, `\text`, `\color`, `\cancel`, mhchem's `\ce`, macros made
//! with `\newcommand` — and the Rust TeX-to-MathML crates cover a subset,
//! so some course formulas would come out as errors; rendering with the same
//! engine Open edX uses is the one way to get the same result for every
//! course. The SVG output needs no font files, and the `-full` build carries
//! every TeX extension, so MathJax never fetches anything after the one
//! script. The cost is ~2.2 MB of JavaScript, loaded only on pages that
//! contain math, cached for a year under a versioned path.
//!
//! This module does the server's part: it turns the `[mathjax…]` markers
//! into the standard delimiters (so the page's MathJax configuration, in
//! `/assets/math.js`, needs only those), and tells whether a page has math
//! so the scripts are referenced only then.

use std::borrow::Cow;

/// The vendored MathJax component (version 3.2.2, see
/// `assets/vendor/mathjax/README.md`); the path carries the version, so it is
/// cached for good.
pub const MATHJAX_URL: &str = "/assets/vendor/mathjax-3.2.2/tex-svg-full.js";
/// Lectern's MathJax configuration; it must run before [`MATHJAX_URL`].
pub const CONFIG_URL: &str = "/assets/math.js";

/// The scripts a page with math references, in order (both `defer`).
pub const SCRIPTS: [&str; 2] = [CONFIG_URL, MATHJAX_URL];

/// Open edX's marker pairs and the delimiters they become.
const MARKERS: [(&str, &str, &str, &str); 2] = [
    ("[mathjaxinline]", "[/mathjaxinline]", "\\(", "\\)"),
    ("[mathjax]", "[/mathjax]", "\\[", "\\]"),
];

/// Rewrites `[mathjaxinline]x[/mathjaxinline]` as `\(x\)` and
/// `[mathjax]x[/mathjax]` as `\[x\]` in sanitized HTML. A marker whose pair
/// is missing, or is past the end of the text it starts in (a tag comes
/// first), is left as it is, as MathJax would leave it.
pub fn convert_markers(html: &str) -> Cow<'_, str> {
    if !html.contains("[mathjax") {
        return Cow::Borrowed(html);
    }
    let mut text = html.to_string();
    for (open, close, new_open, new_close) in MARKERS {
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(i) = rest.find(open) {
            let after = &rest[i + open.len()..];
            // Math lives in one run of text: no tag between the markers.
            match after.find(close).filter(|j| !after[..*j].contains('<')) {
                Some(j) => {
                    out.push_str(&rest[..i]);
                    out.push_str(new_open);
                    out.push_str(&after[..j]);
                    out.push_str(new_close);
                    rest = &after[j + close.len()..];
                }
                None => {
                    out.push_str(&rest[..i + open.len()]);
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        text = out;
    }
    Cow::Owned(text)
}

/// Whether HTML (after [`convert_markers`]) has anything MathJax would
/// typeset: a `\(` or `\[` delimiter or a `\begin{…}` environment.
pub fn has_math(html: &str) -> bool {
    html.contains("\\(") || html.contains("\\[") || html.contains("\\begin{")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_edx_markers_become_standard_delimiters() {
        let cases = [
            (
                "<p>[mathjaxinline]n = [/mathjaxinline] and [mathjax]x^2 &lt; 1[/mathjax]</p>",
                "<p>\\(n = \\) and \\[x^2 &lt; 1\\]</p>",
            ),
            (
                "[mathjaxinline]a[/mathjaxinline][mathjaxinline]b[/mathjaxinline]",
                "\\(a\\)\\(b\\)",
            ),
            // No pair, or a tag in between: left alone.
            ("[mathjax]x", "[mathjax]x"),
            ("<b>[mathjax]x</b>[/mathjax]", "<b>[mathjax]x</b>[/mathjax]"),
            // As MathJax reads it: the first opener pairs with the next closer.
            ("[mathjax]x [mathjax]y[/mathjax]", "\\[x [mathjax]y\\]"),
            ("plain \\(x\\)", "plain \\(x\\)"),
        ];
        for (input, want) in cases {
            assert_eq!(convert_markers(input), want, "{input}");
        }
    }

    #[test]
    fn math_is_detected() {
        assert!(has_math("<p>\\(x\\)</p>"));
        assert!(has_math("\\[x\\]"));
        assert!(has_math("\\begin{align}a&=b\\end{align}"));
        assert!(!has_math("<p>costs $5 and [x]</p>"));
        assert!(!has_math(&convert_markers("[mathjax] alone")));
        assert!(has_math(&convert_markers("[mathjax]x[/mathjax]")));
    }
}
