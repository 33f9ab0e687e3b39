//! XML helpers for OLX: safe parsing (no DTD, so no entity expansion; a
//! nesting-depth check *before* parsing, because the parser recurses once per
//! open element), slicing an element's raw text out of its document, and
//! writing start tags with escaped attributes.
//!
//! Raw slices matter: Lectern keeps what it does not model exactly as the
//! author wrote it, so export gives back the same text.

use std::collections::BTreeMap;
use std::ops::Range;

use super::error::OlxError;

/// Parses `text` (the file at `path`) with DTDs refused and the element
/// nesting depth and node count capped.
pub fn parse<'a>(
    path: &str,
    text: &'a str,
    max_depth: usize,
    max_nodes: u32,
) -> Result<roxmltree::Document<'a>, OlxError> {
    let depth = nesting_depth(text);
    if depth > max_depth {
        return Err(OlxError::Xml {
            path: path.to_string(),
            detail: format!("elements are nested {depth} deep; the limit is {max_depth}"),
        });
    }
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: max_nodes,
    };
    roxmltree::Document::parse_with_options(text, opts).map_err(|e| {
        let detail = match e {
            roxmltree::Error::DtdDetected => {
                "a DOCTYPE declaration (DTDs and entity definitions are not accepted)".to_string()
            }
            roxmltree::Error::NodesLimitReached => format!("more than {max_nodes} XML nodes"),
            other => other.to_string(),
        };
        OlxError::Xml {
            path: path.to_string(),
            detail,
        }
    })
}

/// The deepest element nesting in `text`, counted the way the parser will
/// meet it: each start tag that is not self-closing opens a level, each end
/// tag closes one. Comments, CDATA, processing instructions and quoted
/// attribute values are skipped. Never less than what the parser recurses.
pub fn nesting_depth(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut i, mut depth, mut max) = (0usize, 0usize, 0usize);
    let skip_to = |from: usize, pat: &[u8]| -> usize {
        b[from..]
            .windows(pat.len())
            .position(|w| w == pat)
            .map_or(b.len(), |p| from + p + pat.len())
    };
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            i = skip_to(i + 4, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            i = skip_to(i + 9, b"]]>");
        } else if rest.starts_with(b"<?") {
            i = skip_to(i + 2, b"?>");
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            i = skip_to(i + 2, b">");
        } else if rest.starts_with(b"<!") {
            i = skip_to(i + 2, b">");
        } else {
            let end = start_tag_len(rest);
            let self_closing = end >= 2 && rest[end - 2] == b'/' && rest[end - 1] == b'>';
            if !self_closing {
                depth += 1;
                max = max.max(depth);
            }
            i += end.max(1);
        }
    }
    max
}

/// Length of the start tag at the beginning of `b` (through its `>`),
/// honouring quoted attribute values; the whole slice if it never closes.
fn start_tag_len(b: &[u8]) -> usize {
    let mut quote: Option<u8> = None;
    for (i, &c) in b.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => return i + 1,
            None => {}
        }
    }
    b.len()
}

/// The element's whole text as it appears in its document.
pub fn raw<'a>(src: &'a str, node: roxmltree::Node) -> &'a str {
    src.get(node.range()).unwrap_or("")
}

/// Where the content between an element's start and end tags lies in `src`
/// (empty for a self-closing element).
pub fn inner_range(src: &str, node: roxmltree::Node) -> Range<usize> {
    let r = node.range();
    let Some(text) = src.get(r.clone()) else {
        return r.start..r.start;
    };
    let open = start_tag_len(text.as_bytes());
    if text.as_bytes().get(open.wrapping_sub(2)) == Some(&b'/') || open >= text.len() {
        return r.start + open..r.start + open;
    }
    let close = text.rfind("</").unwrap_or(text.len()).max(open);
    r.start + open..r.start + close
}

/// The content between an element's tags, as written.
pub fn inner<'a>(src: &'a str, node: roxmltree::Node) -> &'a str {
    src.get(inner_range(src, node)).unwrap_or("")
}

/// An element's attributes (namespace declarations aside) by name.
pub fn attributes(node: roxmltree::Node) -> BTreeMap<String, String> {
    node.attributes()
        .map(|a| (a.name().to_string(), a.value().to_string()))
        .collect()
}

/// Whether `name` can be written as an attribute and read back as one: an
/// XML name (XML 1.0, fifth edition) without a namespace prefix, and not a
/// namespace declaration. Every attribute name the parser accepts passes.
pub fn is_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start)
        && chars.all(|c| is_name_start(c) || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}'))
        && name != "xmlns"
}

fn is_name_start(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

/// Escapes text for a double-quoted attribute value; newlines and tabs are
/// written as character references so they survive attribute normalisation.
pub fn escape_attr(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// `<tag a="1" b="2"` (not closed), attributes in the given order.
pub fn open_tag<'a>(tag: &str, attrs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = format!("<{tag}");
    for (k, v) in attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        out.push_str(&escape_attr(v));
        out.push('"');
    }
    out
}

/// A whole element: self-closing when `inner` is empty.
pub fn element<'a>(
    tag: &str,
    attrs: impl IntoIterator<Item = (&'a str, &'a str)>,
    inner: &str,
) -> String {
    let mut out = open_tag(tag, attrs);
    if inner.is_empty() {
        out.push_str("/>");
    } else {
        out.push('>');
        out.push_str(inner);
        out.push_str("</");
        out.push_str(tag);
        out.push('>');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_depth_counts_open_elements_only() {
        let cases = [
            ("<a/>", 0),
            ("<a></a>", 1),
            ("<a><b><c/></b></a>", 2),
            ("<a x='>'><b y=\"/>\"></b></a>", 2),
            ("<a><!-- <b><c> --><![CDATA[<d><e>]]><?pi <f>?></a>", 1),
            ("<a><b></b><b></b></a>", 2),
            ("<a><b><c><d>", 4),
        ];
        for (xml, want) in cases {
            assert_eq!(nesting_depth(xml), want, "{xml}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = "<a>".repeat(100_000);
        let err = parse("problem/p.xml", &deep, 256, 1000).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("problem/p.xml: not well-formed XML: elements are nested 100000 deep"));
    }

    #[test]
    fn dtd_and_entities_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>"#;
        let err = parse("html/x.xml", bomb, 256, 1000).unwrap_err();
        assert!(err.to_string().contains("DOCTYPE"), "{err}");
    }

    #[test]
    fn inner_and_raw_slices_are_exact() {
        let src = "<v>\n  <p a=\"x>y\">hi <b>there</b></p>\n  <q/>\n</v>";
        let doc = parse("t.xml", src, 10, 100).unwrap();
        let p = doc.root_element().first_element_child().unwrap();
        assert_eq!(raw(src, p), "<p a=\"x>y\">hi <b>there</b></p>");
        assert_eq!(inner(src, p), "hi <b>there</b>");
        let q = p.next_sibling_element().unwrap();
        assert_eq!(inner(src, q), "");
        assert_eq!(
            inner(src, doc.root_element()),
            "\n  <p a=\"x>y\">hi <b>there</b></p>\n  <q/>\n"
        );
    }

    #[test]
    fn attribute_names_are_checked() {
        let cases = [
            ("display_name", true),
            ("xblock-family", true),
            ("a.b", true),
            ("été", true),
            ("e slf_paced", false),
            ("1abc", false),
            ("", false),
            ("x:y", false),
            ("xmlns", false),
            ("xmlnsfoo", true),
            ("XMLNS", true),
            ("a\"b", false),
            ("display_name\u{feff}", true),
            ("a\u{b7}", true),
            ("\u{b7}a", false),
        ];
        for (name, ok) in cases {
            assert_eq!(is_attr_name(name), ok, "{name}");
        }
    }

    #[test]
    fn attributes_round_trip_through_escaping() {
        let value = "a \"quoted\" <b> & c\nnext\tline";
        let el = element("x", [("v", value)], "");
        let doc = parse("t.xml", &el, 10, 100).unwrap();
        assert_eq!(doc.root_element().attribute("v"), Some(value));
    }
}
