//! Post bodies: Markdown (CommonMark with strikethrough, tables and math)
//! rendered to HTML, then through the one sanitizer
//! (`lectern_content::sanitize::clean_html`), so raw HTML, event handlers
//! and `javascript:` links in a post never reach a page. Math (`$…$`,
//! `$$…$$`) is written back as MathJax's delimiters `\(…\)` and `\[…\]`,
//! as text, for the page's MathJax to typeset.

use pulldown_cmark::{html, CowStr, Event, Options, Parser};

/// The HTML shown for a post's raw Markdown.
pub fn render(raw: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_MATH;
    let events = Parser::new_ext(raw, options).map(|event| match event {
        Event::InlineMath(m) => Event::Text(CowStr::from(format!("\\({m}\\)"))),
        Event::DisplayMath(m) => Event::Text(CowStr::from(format!("\\[{m}\\]"))),
        other => other,
    });
    let mut out = String::with_capacity(raw.len() + raw.len() / 4);
    html::push_html(&mut out, events);
    lectern_content::sanitize::clean_html(&out)
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders_and_math_keeps_mathjax_delimiters() {
        let html = render("**bold** and $x^2 < y$\n\n$$\\frac{a}{b}$$");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("\\(x^2 &lt; y\\)"), "{html}");
        assert!(html.contains("\\[\\frac{a}{b}\\]"), "{html}");
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        for raw in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<svg onload=alert(1)>",
        ] {
            let html = render(raw).to_ascii_lowercase();
            for bad in ["<script", "onerror", "onload", "javascript:"] {
                assert!(!html.contains(bad), "{raw} gave {html}");
            }
        }
    }
}
