//! The one HTML sanitizer every author- or learner-written snippet passes
//! through before it reaches a page: no scripts, no event handlers, no
//! `javascript:` URLs, no styles that can overlay the page.

use std::sync::OnceLock;

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
        .link_rel(Some("noopener noreferrer"));
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
