//! An owned copy of the problem XML: roxmltree parses (DTDs and therefore
//! custom entities refused), and we keep a small tree of elements and text
//! that the graders read and the renderer walks. Comments and processing
//! instructions are dropped; they never reach a learner.

use super::limits::LimitError;
use super::types::ProblemError;

/// An element: its tag, attributes in document order and children.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Element {
    pub tag: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

/// Parses problem XML. Open edX's legacy `<startouttext/>`/`<endouttext/>`
/// markers become `<text>`/`</text>` first, as Open edX does. XML larger or
/// deeper than [`crate::limits`] allows is refused before the tree (whose
/// walks recurse) is built.
pub(crate) fn parse(xml: &str) -> Result<Element, ProblemError> {
    use crate::limits::{MAX_PROBLEM_ELEMENTS, MAX_PROBLEM_XML_BYTES, MAX_PROBLEM_XML_DEPTH};
    if xml.trim().is_empty() {
        return Err(ProblemError::Empty);
    }
    if xml.len() > MAX_PROBLEM_XML_BYTES {
        return Err(ProblemError::OverLimit(LimitError::new(
            "size",
            format!(
                "the problem XML is {} bytes (at most {MAX_PROBLEM_XML_BYTES})",
                xml.len()
            ),
        )));
    }
    // Before parsing: the parser recurses once per open element.
    let depth = crate::olx::nesting_depth(xml);
    if depth > MAX_PROBLEM_XML_DEPTH {
        return Err(ProblemError::OverLimit(LimitError::new(
            "nesting",
            format!("elements are nested {depth} deep (at most {MAX_PROBLEM_XML_DEPTH})"),
        )));
    }
    let text = rewrite_outtext(xml);
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        // Elements and text nodes; the element count is checked exactly later.
        nodes_limit: (MAX_PROBLEM_ELEMENTS * 4) as u32,
    };
    let doc = roxmltree::Document::parse_with_options(&text, opts).map_err(|e| match e {
        roxmltree::Error::NodesLimitReached => ProblemError::OverLimit(LimitError::new(
            "elements",
            format!("the problem has more than {MAX_PROBLEM_ELEMENTS} elements"),
        )),
        e => ProblemError::Xml(e.to_string()),
    })?;
    Ok(own(doc.root_element()))
}

/// `startouttext\s*/` → `text` and `endouttext\s*/` → `/text`, like Open edX.
fn rewrite_outtext(xml: &str) -> std::borrow::Cow<'_, str> {
    if !xml.contains("outtext") {
        return std::borrow::Cow::Borrowed(xml);
    }
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    loop {
        let start = rest.find("startouttext");
        let end = rest.find("endouttext");
        let (pos, len, repl) = match (start, end) {
            (Some(s), Some(e)) if e < s => (e, "endouttext".len(), "/text"),
            (Some(s), _) => (s, "startouttext".len(), "text"),
            (None, Some(e)) => (e, "endouttext".len(), "/text"),
            (None, None) => break,
        };
        let after = &rest[pos + len..];
        let trimmed = after.trim_start();
        if let Some(tail) = trimmed.strip_prefix('/') {
            out.push_str(&rest[..pos]);
            out.push_str(repl);
            rest = tail;
        } else {
            out.push_str(&rest[..pos + len]);
            rest = after;
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

fn own(node: roxmltree::Node<'_, '_>) -> Element {
    let mut children = Vec::new();
    for child in node.children() {
        if child.is_element() {
            children.push(Node::Element(own(child)));
        } else if child.is_text() {
            if let Some(t) = child.text() {
                children.push(Node::Text(t.to_string()));
            }
        }
    }
    let tag = node.tag_name().name().to_string();
    let attrs = node
        .attributes()
        .map(|a| (a.name().to_string(), a.value().to_string()))
        .collect();
    Element {
        tag,
        attrs,
        children,
    }
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Element children, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Element children with this tag.
    pub fn children_named<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.tag == tag)
    }

    /// All descendants (not self) in document order, depth first.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        fn walk<'a>(e: &'a Element, out: &mut Vec<&'a Element>) {
            for c in e.elements() {
                out.push(c);
                walk(c, out);
            }
        }
        walk(self, &mut out);
        out
    }

    /// Text directly inside the element, before its first child element
    /// (lxml's `.text`).
    pub fn leading_text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            match c {
                Node::Text(t) => s.push_str(t),
                Node::Element(_) => break,
            }
        }
        s
    }

    /// All text inside, concatenated.
    pub fn text_content(&self) -> String {
        let mut s = String::new();
        fn walk(e: &Element, s: &mut String) {
            for c in &e.children {
                match c {
                    Node::Text(t) => s.push_str(t),
                    Node::Element(el) => walk(el, s),
                }
            }
        }
        walk(self, &mut s);
        s
    }

    /// The children serialized as markup, leaving out child elements whose
    /// tag is in `skip`.
    pub fn inner_xml_without(&self, skip: &[&str]) -> String {
        let mut s = String::new();
        for c in &self.children {
            match c {
                Node::Text(t) => push_escaped_text(&mut s, t),
                Node::Element(e) if skip.contains(&e.tag.as_str()) => {}
                Node::Element(e) => e.write(&mut s),
            }
        }
        s
    }

    /// The element serialized as markup.
    pub fn write(&self, s: &mut String) {
        s.push('<');
        s.push_str(&self.tag);
        for (k, v) in &self.attrs {
            s.push(' ');
            s.push_str(k);
            s.push_str("=\"");
            push_escaped_attr(s, v);
            s.push('"');
        }
        s.push('>');
        for c in &self.children {
            match c {
                Node::Text(t) => push_escaped_text(s, t),
                Node::Element(e) => e.write(s),
            }
        }
        s.push_str("</");
        s.push_str(&self.tag);
        s.push('>');
    }
}

pub(crate) fn escape_text(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    push_escaped_text(&mut out, t);
    out
}

pub(crate) fn escape_attr(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    push_escaped_attr(&mut out, t);
    out
}

/// Appends `t` to `out` with `&`, `<` and `>` escaped, in one pass (a
/// chain of `replace` made a new string per character escaped for: a unit
/// page's problems spent 3.7 % of its CPU there, issue 18).
pub(crate) fn push_escaped_text(out: &mut String, t: &str) {
    push_escaped(out, t, false);
}

/// [`push_escaped_text`] for an attribute value: `"` and `'` as well.
pub(crate) fn push_escaped_attr(out: &mut String, t: &str) {
    push_escaped(out, t, true);
}

fn push_escaped(out: &mut String, t: &str, attr: bool) {
    let mut plain = 0;
    for (i, b) in t.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' if attr => "&quot;",
            b'\'' if attr => "&#39;",
            _ => continue,
        };
        // Every byte escaped is ASCII, so `i` is a character boundary.
        out.push_str(&t[plain..i]);
        out.push_str(entity);
        plain = i + 1;
    }
    out.push_str(&t[plain..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass escapers write what escaping each character in turn
    /// would, around multi-byte text and at both ends.
    #[test]
    fn escaping_replaces_each_special_character_and_keeps_the_rest() {
        assert_eq!(escape_text("a<b>&c\"'"), "a&lt;b&gt;&amp;c\"'");
        assert_eq!(escape_attr("a<b>&c\"'"), "a&lt;b&gt;&amp;c&quot;&#39;");
        assert_eq!(escape_attr("&é\"日本'<"), "&amp;é&quot;日本&#39;&lt;");
        assert_eq!(escape_text("plain ünïcode"), "plain ünïcode");
        assert_eq!(escape_attr(""), "");
        let mut out = String::from("x=");
        push_escaped_attr(&mut out, "'&amp;'");
        assert_eq!(out, "x=&#39;&amp;amp;&#39;");
    }

    #[test]
    fn dtd_and_custom_entities_are_refused() {
        let cases = [
            r#"<!DOCTYPE p [<!ENTITY x "boom">]><problem>&x;</problem>"#,
            "<problem>&nbsp;</problem>",
            "<problem><p></problem>",
            "   ",
        ];
        for xml in cases {
            assert!(parse(xml).is_err(), "{xml} should be refused");
        }
    }

    #[test]
    fn outtext_markers_become_text_elements() {
        let e = parse("<problem><startouttext />Hi<endouttext/></problem>").unwrap();
        let first = e.elements().next().unwrap();
        assert_eq!(first.tag, "text");
        assert_eq!(first.text_content(), "Hi");
    }

    #[test]
    fn serialization_escapes() {
        let e = parse(r#"<p a="x&quot;y">1 &lt; 2 &amp; <b>3</b></p>"#).unwrap();
        let mut s = String::new();
        e.write(&mut s);
        assert_eq!(s, r#"<p a="x&quot;y">1 &lt; 2 &amp; <b>3</b></p>"#);
        assert_eq!(e.leading_text(), "1 < 2 & ");
    }
}
