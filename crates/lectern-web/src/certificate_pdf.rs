//! A certificate as a one-page PDF, written in Rust (`pdf-writer`): no
//! browser at run time. Text is set in DejaVu Sans (Bitstream Vera licence,
//! `assets/fonts/LICENSE-DejaVu.txt`), compiled into the binary and
//! embedded in each PDF as a subset of just the glyphs that certificate
//! uses (`subsetter`), as a CID font with a ToUnicode map, so names in
//! Greek, Cyrillic, accented Latin and the other scripts DejaVu Sans covers
//! print and copy correctly. Characters the font lacks (CJK, for one)
//! print as the font's empty box; `docs/certificates.md` says so.
//!
//! Every line is shrunk to fit its width (the page's, or a signatory's
//! column), and cut at [`MAX_LINE_CHARS`], so the work per PDF is bounded
//! whatever the name. The organisation logo sits above the text and the
//! signatories (at most four, each with their signature image if it
//! decoded: `certificate_images.rs`) in a row of columns below it; images
//! keep their proportions inside a fixed box.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

use crate::certificate_images::{Encoding, PdfImage};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

/// The embedded font (DejaVu Sans 2.37).
const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const FONT_NAME: &[u8] = b"LECTRN+DejaVuSans";
/// The longest line printed; longer text is cut with an ellipsis.
pub const MAX_LINE_CHARS: usize = 200;
/// A4 landscape, in points.
const PAGE_W: f32 = 842.0;
const PAGE_H: f32 = 595.0;
const MARGIN: f32 = 60.0;
const SMALLEST: f32 = 6.0;

/// What a certificate PDF says.
#[derive(Debug, Clone)]
pub struct CertificateText {
    pub site_name: String,
    pub name: String,
    pub course_title: String,
    pub course_key: String,
    /// e.g. "30 November 2026".
    pub date: String,
    /// e.g. "Grade: 85%", when the course shows grades.
    pub grade: Option<String>,
    pub verify_url: String,
    /// The organisation logo, when the configuration names a usable one.
    pub logo: Option<PdfImage>,
    pub signatories: Vec<PdfSignatory>,
}

/// A signatory as printed.
#[derive(Debug, Clone)]
pub struct PdfSignatory {
    pub name: String,
    pub title: String,
    pub organization: String,
    pub image: Option<PdfImage>,
}

/// One line of text placed on the page, centred on `cx` within `width`.
struct Line {
    text: String,
    size: f32,
    y: f32,
    cx: f32,
    width: f32,
}

impl Line {
    /// A line centred on the page.
    fn centred(text: String, size: f32, y: f32) -> Self {
        Self {
            text,
            size,
            y,
            cx: PAGE_W / 2.0,
            width: PAGE_W - 2.0 * MARGIN,
        }
    }
}

/// An image placed on the page: the box it is fitted in.
struct Placed<'a> {
    image: &'a PdfImage,
    cx: f32,
    bottom: f32,
    max_w: f32,
    max_h: f32,
}

impl Placed<'_> {
    /// Width and height on the page, the image's proportions kept.
    fn size(&self) -> (f32, f32) {
        let (w, h) = (self.image.width as f32, self.image.height as f32);
        let scale = (self.max_w / w).min(self.max_h / h);
        (w * scale, h * scale)
    }
}

/// The font, and the glyphs this document uses (old id → subset id).
struct Glyphs<'f> {
    face: Face<'f>,
    remapper: GlyphRemapper,
    /// Subset id → the first character printed with it (ToUnicode).
    chars: Vec<(u16, char)>,
}

impl<'f> Glyphs<'f> {
    fn glyph(&self, c: char) -> GlyphId {
        self.face.glyph_index(c).unwrap_or(GlyphId(0))
    }

    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text
            .chars()
            .map(|c| f32::from(self.face.glyph_hor_advance(self.glyph(c)).unwrap_or(0)))
            .sum();
        units * size / f32::from(self.face.units_per_em())
    }

    /// `text` as Identity-H codes (big-endian subset glyph ids).
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let old = self.glyph(c).0;
            let new = self.remapper.remap(old);
            if old != 0 && !self.chars.iter().any(|(g, _)| *g == new) {
                self.chars.push((new, c));
            }
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }
}

fn cut(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_LINE_CHARS {
        return text.to_string();
    }
    let mut out: String = text.chars().take(MAX_LINE_CHARS - 1).collect();
    out.push('…');
    out
}

/// The certificate as PDF bytes.
pub fn render(cert: &CertificateText) -> Result<Vec<u8>, String> {
    let face = Face::parse(FONT, 0).map_err(|e| format!("the embedded font: {e}"))?;
    let mut glyphs = Glyphs {
        face,
        remapper: GlyphRemapper::new(),
        chars: Vec::new(),
    };
    let signed = !cert.signatories.is_empty();
    let mut lines = vec![
        Line::centred(cut(&cert.site_name), 14.0, 500.0),
        Line::centred("Certificate of Achievement".into(), 32.0, 450.0),
        Line::centred("This is to certify that".into(), 14.0, 400.0),
        Line::centred(cut(&cert.name), 30.0, 355.0),
        Line::centred("has successfully completed".into(), 14.0, 310.0),
        Line::centred(cut(&cert.course_title), 22.0, 270.0),
        Line::centred(cut(&cert.course_key), 10.0, 248.0),
        Line::centred(
            format!("Issued {}", cut(&cert.date)),
            13.0,
            if signed { 222.0 } else { 200.0 },
        ),
    ];
    if let Some(grade) = &cert.grade {
        lines.push(Line::centred(
            cut(grade),
            13.0,
            if signed { 204.0 } else { 180.0 },
        ));
    }
    lines.push(Line::centred(
        format!("Verify this certificate at {}", cut(&cert.verify_url)),
        9.0,
        if signed { 60.0 } else { 95.0 },
    ));
    let mut placed = Vec::new();
    if let Some(logo) = &cert.logo {
        placed.push(Placed {
            image: logo,
            cx: PAGE_W / 2.0,
            bottom: 518.0,
            max_w: 180.0,
            max_h: 38.0,
        });
    }
    let columns = cert.signatories.len().max(1) as f32;
    let column = (PAGE_W - 2.0 * MARGIN) / columns;
    for (i, s) in cert.signatories.iter().enumerate() {
        let cx = MARGIN + column * (i as f32 + 0.5);
        let text_width = column - 12.0;
        if let Some(image) = &s.image {
            placed.push(Placed {
                image,
                cx,
                bottom: 140.0,
                max_w: (column - 20.0).min(160.0),
                max_h: 44.0,
            });
        }
        for (text, size, y) in [
            (&s.name, 11.0, 124.0),
            (&s.title, 9.0, 111.0),
            (&s.organization, 9.0, 99.0),
        ] {
            if !text.trim().is_empty() {
                lines.push(Line {
                    text: cut(text),
                    size,
                    y,
                    cx,
                    width: text_width,
                });
            }
        }
    }

    let mut content = Content::new();
    // A double frame.
    content.set_line_width(2.0);
    content.rect(24.0, 24.0, PAGE_W - 48.0, PAGE_H - 48.0);
    content.stroke();
    content.set_line_width(0.5);
    content.rect(32.0, 32.0, PAGE_W - 64.0, PAGE_H - 64.0);
    content.stroke();
    for line in &lines {
        let natural = glyphs.width(&line.text, line.size);
        let size = if natural > line.width {
            (line.size * line.width / natural).max(SMALLEST)
        } else {
            line.size
        };
        let x = (line.cx - glyphs.width(&line.text, size) / 2.0).max(MARGIN / 2.0);
        let codes = glyphs.encode(&line.text);
        content.begin_text();
        content.set_font(Name(b"F1"), size);
        content.next_line(x, line.y);
        content.show(Str(&codes));
        content.end_text();
    }
    for (i, p) in placed.iter().enumerate() {
        let (w, h) = p.size();
        let name = format!("Im{i}");
        content.save_state();
        content.transform([w, 0.0, 0.0, h, p.cx - w / 2.0, p.bottom]);
        content.x_object(Name(name.as_bytes()));
        content.restore_state();
    }
    let content = content.finish();
    let images: Vec<&PdfImage> = placed.iter().map(|p| p.image).collect();
    write_document(&glyphs, content.as_slice(), &images)
}

/// The first object number images use (1–9 are the page and the font).
const FIRST_IMAGE_REF: i32 = 10;

fn write_images(pdf: &mut Pdf, images: &[&PdfImage]) -> Result<(), String> {
    let mut next = FIRST_IMAGE_REF + images.len() as i32;
    for (i, image) in images.iter().enumerate() {
        let id = Ref::new(FIRST_IMAGE_REF + i as i32);
        let width = i32::try_from(image.width).map_err(|_| "the image is too wide")?;
        let height = i32::try_from(image.height).map_err(|_| "the image is too tall")?;
        let mask = image.alpha.as_ref().map(|alpha| {
            let r = Ref::new(next);
            next += 1;
            (r, alpha)
        });
        let mut x = pdf.image_xobject(id, &image.data);
        x.filter(match image.encoding {
            Encoding::Flate => Filter::FlateDecode,
            Encoding::Jpeg => Filter::DctDecode,
        });
        x.width(width);
        x.height(height);
        if image.gray {
            x.color_space().device_gray();
        } else {
            x.color_space().device_rgb();
        }
        x.bits_per_component(8);
        if let Some((r, _)) = mask {
            x.s_mask(r);
        }
        x.finish();
        if let Some((r, alpha)) = mask {
            let mut m = pdf.image_xobject(r, alpha);
            m.filter(Filter::FlateDecode);
            m.width(width);
            m.height(height);
            m.color_space().device_gray();
            m.bits_per_component(8);
            m.finish();
        }
    }
    Ok(())
}

fn write_document(
    glyphs: &Glyphs,
    content: &[u8],
    images: &[&PdfImage],
) -> Result<Vec<u8>, String> {
    let (catalog, tree, page, contents) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4));
    let (type0, cid, descriptor, cmap, file) = (
        Ref::new(5),
        Ref::new(6),
        Ref::new(7),
        Ref::new(8),
        Ref::new(9),
    );
    let face = &glyphs.face;
    let subset = subsetter::subset(FONT, 0, &glyphs.remapper)
        .map_err(|e| format!("subsetting the font: {e}"))?;
    let scale = 1000.0 / f32::from(face.units_per_em());
    let widths: Vec<f32> = glyphs
        .remapper
        .remapped_gids()
        .map(|old| f32::from(face.glyph_hor_advance(GlyphId(old)).unwrap_or(0)) * scale)
        .collect();
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
    p.parent(tree);
    p.contents(contents);
    let mut resources = p.resources();
    resources.fonts().pair(Name(b"F1"), type0);
    if !images.is_empty() {
        let mut xobjects = resources.x_objects();
        for i in 0..images.len() {
            let name = format!("Im{i}");
            xobjects.pair(Name(name.as_bytes()), Ref::new(FIRST_IMAGE_REF + i as i32));
        }
    }
    resources.finish();
    p.finish();
    pdf.stream(contents, content);

    pdf.type0_font(type0)
        .base_font(Name(FONT_NAME))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);
    let mut c = pdf.cid_font(cid);
    c.subtype(CidFontType::Type2);
    c.base_font(Name(FONT_NAME));
    c.system_info(system);
    c.font_descriptor(descriptor);
    c.default_width(0.0);
    c.cid_to_gid_map_predefined(Name(b"Identity"));
    c.widths().consecutive(0, widths);
    c.finish();

    let bbox = face.global_bounding_box();
    let mut d = pdf.font_descriptor(descriptor);
    d.name(Name(FONT_NAME));
    d.flags(FontFlags::NON_SYMBOLIC);
    d.bbox(Rect::new(
        f32::from(bbox.x_min) * scale,
        f32::from(bbox.y_min) * scale,
        f32::from(bbox.x_max) * scale,
        f32::from(bbox.y_max) * scale,
    ));
    d.italic_angle(0.0);
    d.ascent(f32::from(face.ascender()) * scale);
    d.descent(f32::from(face.descender()) * scale);
    d.cap_height(f32::from(face.capital_height().unwrap_or(face.ascender())) * scale);
    d.stem_v(80.0);
    d.font_file2(file);
    d.finish();

    let mut map = UnicodeCmap::new(Name(b"Lectern-UCS"), system);
    for (gid, c) in &glyphs.chars {
        map.pair(*gid, *c);
    }
    let map = map.finish();
    pdf.cmap(cmap, map.as_slice());
    let length = i32::try_from(subset.len()).map_err(|_| "the font subset is too large")?;
    pdf.stream(file, &subset).pair(Name(b"Length1"), length);
    write_images(&mut pdf, images)?;
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(name: &str) -> CertificateText {
        CertificateText {
            site_name: "Lectern".into(),
            name: name.into(),
            course_title: "Demo course".into(),
            course_key: "course-v1:O+C+R".into(),
            date: "30 November 2026".into(),
            grade: Some("Grade: 85%".into()),
            verify_url: "http://x/certificates/abc".into(),
            logo: None,
            signatories: Vec::new(),
        }
    }

    #[test]
    fn a_pdf_with_a_subset_font_not_the_whole_one() {
        let pdf = render(&text("Ørjan Ωμέγα Дмитрий")).unwrap_or_default();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.ends_with(b"%%EOF\n") || pdf.ends_with(b"%%EOF"));
        assert!(pdf.len() < FONT.len() / 4, "{} bytes", pdf.len());
    }

    #[test]
    fn very_long_names_are_cut_not_refused() {
        let long = "W".repeat(10_000);
        let pdf = render(&text(&long)).unwrap_or_default();
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(cut(&long).chars().count(), MAX_LINE_CHARS);
    }

    #[test]
    fn signatories_and_a_logo_embed_their_images() {
        use crate::certificate_images::{decode, tests::png_bytes};
        use lectern_app::certificates::ImageKind;
        let png = |c| decode(&png_bytes(90, 30, c), ImageKind::Png).ok();
        let jpeg = decode(include_bytes!("../testdata/signature.jpg"), ImageKind::Jpeg).ok();
        let mut t = text("Ann");
        t.logo = png(png::ColorType::Rgb);
        t.signatories = vec![
            PdfSignatory {
                name: "Ada Lovelace".into(),
                title: "Professor".into(),
                organization: "Uni".into(),
                image: png(png::ColorType::Rgba),
            },
            PdfSignatory {
                name: "Bo".into(),
                title: String::new(),
                organization: String::new(),
                image: jpeg,
            },
            PdfSignatory {
                name: "Cy".into(),
                title: "Dean".into(),
                organization: "Uni".into(),
                image: None,
            },
        ];
        let pdf = render(&t).unwrap_or_default();
        let count = |needle: &[u8]| pdf.windows(needle.len()).filter(|w| *w == needle).count();
        assert!(pdf.starts_with(b"%PDF-"));
        // Logo, two signatures, one soft mask (the RGBA signature's alpha).
        assert_eq!(count(b"/Subtype /Image"), 4);
        assert_eq!(count(b"/SMask"), 1);
        assert_eq!(count(b"/DCTDecode"), 1);
        for name in ["/Im0", "/Im1", "/Im2"] {
            assert!(count(name.as_bytes()) >= 2, "{name} declared and drawn");
        }
    }
}
