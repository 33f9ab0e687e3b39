//! An independent, minimal reading of a fixture's raw XML (plain tar +
//! roxmltree, none of Lectern's OLX code), giving the outline the importer
//! must agree with.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::Value;

/// Files of the archive's course folder (`course/` prefix removed),
/// regular files only.
pub fn unpack(tar_gz: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(tar_gz));
    let mut out = BTreeMap::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let name = name.trim_start_matches("./");
        let Some(rel) = name.strip_prefix("course/") else {
            continue;
        };
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.insert(rel.to_string(), data);
    }
    out
}

/// One node of the outline as the XML says it.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub tag: String,
    pub url_name: String,
    pub display_name: Option<String>,
    pub graded: Option<String>,
    pub format: Option<String>,
    pub children: Vec<Node>,
}

pub struct Raw {
    pub files: BTreeMap<String, Vec<u8>>,
    pub run: String,
    pub policy: serde_json::Map<String, Value>,
}

impl Raw {
    pub fn new(files: BTreeMap<String, Vec<u8>>) -> Raw {
        let course_xml = String::from_utf8(files["course.xml"].clone()).unwrap();
        let doc = roxmltree::Document::parse(&course_xml).unwrap();
        let run = doc
            .root_element()
            .attribute("url_name")
            .unwrap()
            .to_string();
        let policy = files
            .get(&format!("policies/{run}/policy.json"))
            .map(|b| {
                serde_json::from_slice::<Value>(b)
                    .unwrap()
                    .as_object()
                    .unwrap()
                    .clone()
            })
            .unwrap_or_default();
        Raw { files, run, policy }
    }

    pub fn text(&self, path: &str) -> String {
        String::from_utf8(
            self.files
                .get(path)
                .unwrap_or_else(|| panic!("{path} missing"))
                .clone(),
        )
        .unwrap()
    }

    /// The course's chapters, following pointers.
    pub fn outline(&self) -> Vec<Node> {
        let text = self.text(&format!("course/{}.xml", self.run));
        let doc = roxmltree::Document::parse(&text).unwrap();
        doc.root_element()
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "chapter")
            .map(|c| self.node(c))
            .collect()
    }

    fn node(&self, el: roxmltree::Node) -> Node {
        let tag = el.tag_name().name().to_string();
        let url_name = el.attribute("url_name").unwrap().to_string();
        let is_pointer = el.attributes().count() == 1 && !el.children().any(|c| c.is_element());
        let text;
        let doc;
        let def = if is_pointer {
            text = self.text(&format!("{tag}/{url_name}.xml"));
            doc = roxmltree::Document::parse(&text).unwrap();
            doc.root_element()
        } else {
            el
        };
        let over = self
            .policy
            .get(&format!("{tag}/{url_name}"))
            .and_then(Value::as_object);
        let setting = |name: &str| {
            over.and_then(|o| o.get(name))
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .or_else(|| def.attribute(name).map(str::to_string))
        };
        let children = if matches!(
            tag.as_str(),
            "chapter" | "sequential" | "vertical" | "split_test" | "library_content"
        ) {
            def.children()
                .filter(|c| c.is_element())
                .map(|c| self.node(c))
                .collect()
        } else {
            Vec::new()
        };
        Node {
            display_name: setting("display_name"),
            graded: setting("graded"),
            format: setting("format"),
            tag,
            url_name,
            children,
        }
    }

    pub fn grading_policy(&self) -> Value {
        serde_json::from_slice(&self.files[&format!("policies/{}/grading_policy.json", self.run)])
            .unwrap()
    }
}
