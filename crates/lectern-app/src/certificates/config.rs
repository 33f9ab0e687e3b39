//! The active certificate configuration of a course (Studio's
//! "Certificates" page, kept in the course's `certificates` setting): the
//! course title printed instead of the course's name, the signatories and
//! the organisation logo, with their images found among the course's
//! static files.
//!
//! Like Open edX, the first entry with `is_active: true` is the one
//! printed, and it is read from the newest published version whenever a
//! certificate is shown, so a corrected signatory shows on certificates
//! already issued. The course title override is copied into a certificate
//! when it is issued, like the course's name (see `issue.rs`).
//!
//! Everything is bounded: at most [`MAX_SIGNATORIES`] signatories, texts
//! cut at [`MAX_TEXT_CHARS`] characters, and an image is only offered when
//! the course has that file, it is a PNG or JPEG, and it is at most
//! [`MAX_IMAGE_BYTES`]; the image's pixels are checked where it is decoded
//! (the PDF). An image that fails is left out with a note in the log,
//! never a failed certificate.

use lectern_content::{Asset, CourseTree};
use serde_json::Value;

use super::rule::CONFIGS_SETTING;

/// Signatories printed at most (Studio allows four).
pub const MAX_SIGNATORIES: usize = 4;
/// The longest name, title, organisation or course title kept.
pub const MAX_TEXT_CHARS: usize = 200;
/// The largest signature or logo file used.
pub const MAX_IMAGE_BYTES: u64 = 2 * 1024 * 1024;

/// A course file used as an image on certificates.
#[derive(Debug, Clone, PartialEq)]
pub struct CertificateImage {
    /// The file's name among the course's static files.
    pub name: String,
    pub asset: Asset,
    pub kind: ImageKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
}

/// One signatory as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct Signatory {
    pub name: String,
    pub title: String,
    pub organization: String,
    pub image: Option<CertificateImage>,
}

/// What the active configuration adds to a certificate.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CertificateConfig {
    /// The configuration's `course_title`, when it sets one.
    pub course_title: Option<String>,
    pub signatories: Vec<Signatory>,
    /// `org_logo_path`, when it names a usable course file.
    pub logo: Option<CertificateImage>,
}

impl CertificateConfig {
    /// The first active configuration of `tree`'s course, if any.
    pub fn active(tree: &CourseTree) -> Option<Self> {
        let text = tree.root()?.field(CONFIGS_SETTING)?;
        let value: Value = serde_json::from_str(text).ok()?;
        let config = value
            .get("certificates")?
            .as_array()?
            .iter()
            .find(|c| is_active(c))?;
        let course = tree.key.to_string();
        let signatories: Vec<Signatory> = config
            .get("signatories")
            .and_then(Value::as_array)
            .map(|all| {
                if all.len() > MAX_SIGNATORIES {
                    tracing::warn!(%course, count = all.len(), "only the first {MAX_SIGNATORIES} certificate signatories are printed");
                }
                all.iter()
                    .take(MAX_SIGNATORIES)
                    .map(|s| Signatory {
                        name: text_of(s, "name"),
                        title: text_of(s, "title"),
                        organization: text_of(s, "organization"),
                        image: image_of(tree, s.get("signature_image_path")),
                    })
                    .filter(|s| !(s.name.is_empty() && s.title.is_empty() && s.image.is_none()))
                    .collect()
            })
            .unwrap_or_default();
        let course_title = Some(text_of(config, "course_title")).filter(|t| !t.is_empty());
        Some(Self {
            course_title,
            signatories,
            logo: image_of(tree, config.get("org_logo_path")),
        })
    }
}

fn is_active(config: &Value) -> bool {
    config
        .get("is_active")
        .is_some_and(|a| a.as_bool() == Some(true) || a.as_str() == Some("true"))
}

/// A text field, trimmed and cut; anything not a string is empty.
fn text_of(v: &Value, field: &str) -> String {
    let text = v.get(field).and_then(Value::as_str).unwrap_or("").trim();
    text.chars().take(MAX_TEXT_CHARS).collect()
}

/// The name a course-file link points at: `/static/NAME`,
/// `/asset-v1:ORG+COURSE+RUN+type@asset+block@NAME` or
/// `/c4x/ORG/COURSE/asset/NAME` (a query or fragment is dropped).
pub fn asset_name(link: &str) -> Option<&str> {
    let name = lectern_content::keys::course_file_name(link)?;
    crate::transfer::valid_asset_path(name).then_some(name)
}

/// The image a configuration field names, if the course has it and it is
/// usable; otherwise `None` with the reason in the log.
fn image_of(tree: &CourseTree, field: Option<&Value>) -> Option<CertificateImage> {
    let link = field.and_then(Value::as_str).map(str::trim).unwrap_or("");
    if link.is_empty() {
        return None;
    }
    let course = tree.key.to_string();
    let shown: String = link.chars().take(MAX_TEXT_CHARS).collect();
    let skip = |why: &str| {
        tracing::warn!(%course, image = %shown, "certificate image left out: {why}");
        None
    };
    let Some(name) = asset_name(link) else {
        return skip("not a link to one of the course's files");
    };
    let Some(asset) = tree.assets.get(name) else {
        return skip("the course has no such file");
    };
    let lower = name.to_ascii_lowercase();
    let kind = if lower.ends_with(".png") {
        ImageKind::Png
    } else if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
        ImageKind::Jpeg
    } else {
        return skip("only PNG and JPEG images are printed");
    };
    if asset.size > MAX_IMAGE_BYTES {
        return skip("the file is larger than 2 MiB");
    }
    Some(CertificateImage {
        name: name.to_string(),
        asset: asset.clone(),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_content::{Block, CourseKey};
    use serde_json::json;

    fn asset(path: &str, size: u64) -> Asset {
        Asset {
            path: path.into(),
            sha256: "00".repeat(32),
            size,
            content_type: "image/png".into(),
        }
    }

    fn tree(configs: &Value) -> CourseTree {
        let key: CourseKey = "course-v1:O+C+R".parse().unwrap_or_else(|_| unreachable!());
        let mut tree = CourseTree::new(key, "Course");
        let mut root = tree
            .root()
            .cloned()
            .unwrap_or_else(|| Block::new("course", "course"));
        root.fields
            .insert(CONFIGS_SETTING.into(), configs.to_string());
        tree.blocks.insert(CourseTree::root_ref(), root);
        for (name, size) in [
            ("sig.png", 10),
            ("s/b.JPG", 10),
            ("doc.pdf", 10),
            ("big.png", MAX_IMAGE_BYTES + 1),
        ] {
            tree.assets.insert(name.into(), asset(name, size));
        }
        tree
    }

    #[test]
    fn links_in_each_open_edx_spelling_name_a_file() {
        assert_eq!(asset_name("/static/sig.png"), Some("sig.png"));
        assert_eq!(asset_name("/static/sig.png?raw"), Some("sig.png"));
        assert_eq!(
            asset_name("/asset-v1:O+C+R+type@asset+block@sig.png"),
            Some("sig.png")
        );
        assert_eq!(asset_name("/c4x/O/C/asset/sig.png"), Some("sig.png"));
        for bad in [
            "sig.png",
            "/static/../x.png",
            "https://x/sig.png",
            "/static/",
            "/c4x/O/asset/x",
        ] {
            assert_eq!(asset_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_first_active_configuration_with_usable_images_only() {
        let configs = json!({"certificates": [
            {"is_active": false, "course_title": "Inactive", "signatories": []},
            {"is_active": true, "course_title": "  Printed Title ", "org_logo_path": "/static/doc.pdf",
             "signatories": [
                {"name": "Ada", "title": "Professor", "organization": "Uni", "signature_image_path": "/static/sig.png"},
                {"name": "Bo", "title": "Dean", "organization": "Uni", "signature_image_path": "/asset-v1:O+C+R+type@asset+block@s/b.JPG"},
                {"name": "Cy", "signature_image_path": "/static/missing.png"},
                {"name": "Di", "signature_image_path": "/static/big.png"},
                {"name": "Ed (fifth)"}
             ]},
            {"is_active": true, "course_title": "Second"}
        ]});
        let c = CertificateConfig::active(&tree(&configs)).unwrap_or_default();
        assert_eq!(c.course_title.as_deref(), Some("Printed Title"));
        assert_eq!(c.logo, None, "a PDF is not an image");
        let names: Vec<_> = c.signatories.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Ada", "Bo", "Cy", "Di"]);
        let images: Vec<_> = c
            .signatories
            .iter()
            .map(|s| s.image.as_ref().map(|i| (i.name.as_str(), i.kind)))
            .collect();
        assert_eq!(
            images,
            [
                Some(("sig.png", ImageKind::Png)),
                Some(("s/b.JPG", ImageKind::Jpeg)),
                None,
                None
            ]
        );
        assert_eq!(c.signatories[0].title, "Professor");
        assert_eq!(c.signatories[0].organization, "Uni");
    }

    #[test]
    fn no_active_configuration_is_none_and_long_texts_are_cut() {
        assert!(CertificateConfig::active(&tree(&json!({"certificates": []}))).is_none());
        let long = "x".repeat(10_000);
        let configs =
            json!({"certificates": [{"is_active": true, "signatories": [{"name": long}]}]});
        let c = CertificateConfig::active(&tree(&configs)).unwrap_or_default();
        assert_eq!(c.signatories[0].name.chars().count(), MAX_TEXT_CHARS);
        assert_eq!(c.course_title, None);
    }
}
