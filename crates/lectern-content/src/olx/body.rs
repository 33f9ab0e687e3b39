//! Bodies that are a whole XML element (problems, and every block type
//! Lectern does not model).
//!
//! The element is kept exactly as written while its start tag agrees with
//! the block's settings (`display_name` and `fields`). When it does not — a
//! `policy.json` override at import, a setting edited in Lectern before
//! export — the start tag is rewritten from the settings and the content
//! between the tags is kept as written. Reading a rewritten element gives the
//! same element back, so import → export → import is stable.
//!
//! Whether the element carries its own `url_name` is kept too: it is how an
//! export knows the block was written inline in its parent (as Studio does
//! for pure XBlocks, which cannot be read from a pointer) or in its own file.

use std::collections::BTreeMap;

use super::xml;

/// The body to store for an element read at import.
pub fn whole_element(
    tag: &str,
    node: roxmltree::Node,
    src: &str,
    display_name: Option<&str>,
    fields: &BTreeMap<String, String>,
) -> String {
    let mut actual = xml::attributes(node);
    let url = actual.remove("url_name");
    if actual == expected_attrs(display_name, fields) {
        xml::raw(src, node).to_string()
    } else {
        rebuild(
            tag,
            url.as_deref(),
            display_name,
            fields,
            xml::inner(src, node),
        )
    }
}

fn expected_attrs(
    display_name: Option<&str>,
    fields: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut want = fields.clone();
    if let Some(d) = display_name {
        want.insert("display_name".to_string(), d.to_string());
    }
    want
}

/// The start tag written from settings, then `inner`, then the end tag.
pub fn rebuild(
    tag: &str,
    url_name: Option<&str>,
    display_name: Option<&str>,
    fields: &BTreeMap<String, String>,
    inner: &str,
) -> String {
    let mut attrs: Vec<(&str, &str)> = Vec::new();
    if let Some(u) = url_name {
        attrs.push(("url_name", u));
    }
    if let Some(d) = display_name {
        attrs.push(("display_name", d));
    }
    attrs.extend(
        fields
            .iter()
            .filter(|(k, _)| k.as_str() != "url_name")
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    xml::element(tag, attrs, inner)
}

/// What export writes for a whole-element body: the element itself, brought
/// up to date with the settings; and whether it names its own `url_name` (so
/// can stand inline in its parent).
pub struct Exported {
    pub element: String,
    pub has_url_name: bool,
    pub pointer_shaped: bool,
}

/// Prepares a stored body for export. A body that no longer parses (it can
/// only have been edited outside the importer) is rebuilt from settings, its
/// text kept as the content.
pub fn export(
    tag: &str,
    url: &str,
    body: Option<&str>,
    display_name: Option<&str>,
    fields: &BTreeMap<String, String>,
) -> Exported {
    let max_depth = super::ImportLimits::default().max_xml_depth;
    let parsed = body.and_then(|b| {
        xml::parse("body", b, max_depth, u32::MAX)
            .ok()
            .map(|d| (b, d))
    });
    let element = match &parsed {
        Some((src, doc)) => {
            let root = doc.root_element();
            if root.tag_name().name() == tag {
                whole_element(tag, root, src, display_name, fields)
            } else {
                rebuild(tag, None, display_name, fields, xml::raw(src, root))
            }
        }
        None => rebuild(
            tag,
            None,
            display_name,
            fields,
            &xml_escape_text(body.unwrap_or("")),
        ),
    };
    let (has_url_name, pointer_shaped) = match xml::parse("body", &element, max_depth, u32::MAX) {
        Ok(doc) => {
            let root = doc.root_element();
            (
                root.attribute("url_name") == Some(url),
                super::read::is_pointer(root, &["url_name"]),
            )
        }
        Err(_) => (false, false),
    };
    Exported {
        element,
        has_url_name,
        pointer_shaped,
    }
}

fn xml_escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn agreeing_elements_are_kept_verbatim() {
        let src = "<problem  display_name='P' weight=\"2\" url_name=\"p1\">\n <p>x &amp; y</p>\n</problem>";
        let doc = roxmltree::Document::parse(src).unwrap();
        let body = whole_element(
            "problem",
            doc.root_element(),
            src,
            Some("P"),
            &fields(&[("weight", "2")]),
        );
        assert_eq!(body, src);
    }

    #[test]
    fn disagreeing_start_tags_are_rewritten_and_content_kept() {
        let src = "<problem display_name=\"P\" weight=\"2\"><p>x &amp; y</p></problem>";
        let doc = roxmltree::Document::parse(src).unwrap();
        let body = whole_element(
            "problem",
            doc.root_element(),
            src,
            Some("New"),
            &fields(&[("weight", "3")]),
        );
        assert_eq!(
            body,
            "<problem display_name=\"New\" weight=\"3\"><p>x &amp; y</p></problem>"
        );
        // Reading the rewritten element again keeps it as it is.
        let doc = roxmltree::Document::parse(&body).unwrap();
        assert_eq!(
            whole_element(
                "problem",
                doc.root_element(),
                &body,
                Some("New"),
                &fields(&[("weight", "3")])
            ),
            body
        );
    }

    #[test]
    fn export_tells_inline_from_file_form() {
        let cases = [
            (
                "<done url_name=\"d1\" xblock-family=\"xblock.v1\"/>",
                true,
                false,
            ),
            ("<lti/>", false, false),
            ("<lti url_name=\"d1\"/>", true, true),
        ];
        for (body, has_url, pointer) in cases {
            let tag = if body.starts_with("<done") {
                "done"
            } else {
                "lti"
            };
            let f = if tag == "done" {
                fields(&[("xblock-family", "xblock.v1")])
            } else {
                fields(&[])
            };
            let e = export(tag, "d1", Some(body), None, &f);
            assert_eq!(e.element, body);
            assert_eq!(
                (e.has_url_name, e.pointer_shaped),
                (has_url, pointer),
                "{body}"
            );
        }
    }
}
