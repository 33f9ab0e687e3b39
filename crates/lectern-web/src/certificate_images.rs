//! Signature and logo images for certificates: a course's PNG or JPEG file
//! checked and turned into what a PDF embeds, within bounds.
//!
//! Decoding is where the pixels are checked: at most [`MAX_SIDE`] pixels a
//! side and [`MAX_PIXELS`] in all, read from the file's header before any
//! pixel is decoded (the bytes were bounded by the app,
//! `lectern_app::certificates::MAX_IMAGE_BYTES`). PNG (`png`) is decoded to
//! 8-bit gray or RGB, its alpha kept as a soft mask, and compressed again
//! with zlib; a JPEG (`jpeg-decoder`) is decoded once to prove it whole and
//! then embedded as it is (PDF reads JPEG itself), gray or RGB only.
//!
//! The verify page shows the same images through the course's file route;
//! it shows only those that decode, a verdict kept per file content
//! (SHA-256), so each file is decoded once per process.

use std::collections::HashMap;
use std::io::{Cursor, Write};
use std::sync::{Mutex, OnceLock};

use flate2::write::ZlibEncoder;
use flate2::Compression;
use lectern_app::certificates::ImageKind;

/// The widest or tallest image used.
pub const MAX_SIDE: u32 = 4096;
/// The most pixels an image may have.
pub const MAX_PIXELS: u64 = 4_000_000;
/// Verdicts kept before the cache starts again.
const VERDICTS_KEPT: usize = 1024;

/// How an embedded image's bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// zlib (`FlateDecode`).
    Flate,
    /// The JPEG file itself (`DCTDecode`).
    Jpeg,
}

/// An image ready to embed in a PDF.
#[derive(Debug, Clone)]
pub struct PdfImage {
    pub width: u32,
    pub height: u32,
    pub gray: bool,
    pub encoding: Encoding,
    pub data: Vec<u8>,
    /// The alpha channel as 8-bit gray, zlib-compressed (a soft mask).
    pub alpha: Option<Vec<u8>>,
}

fn check_size(width: u32, height: u32) -> Result<(), String> {
    if width == 0 || height == 0 {
        return Err("the image is empty".into());
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(format!(
            "{width}×{height} pixels is more than {MAX_SIDE} a side or {MAX_PIXELS} in all"
        ));
    }
    Ok(())
}

fn zlib(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut z = ZlibEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::default());
    z.write_all(bytes).map_err(|e| e.to_string())?;
    z.finish().map_err(|e| e.to_string())
}

/// Decodes `bytes` as `kind` and prepares it for a PDF.
pub fn decode(bytes: &[u8], kind: ImageKind) -> Result<PdfImage, String> {
    match kind {
        ImageKind::Png => decode_png(bytes),
        ImageKind::Jpeg => decode_jpeg(bytes),
    }
}

fn decode_png(bytes: &[u8]) -> Result<PdfImage, String> {
    let limits = png::Limits {
        bytes: (MAX_PIXELS * 4) as usize + 4096,
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| format!("not a PNG: {e}"))?;
    let (width, height) = reader.info().size();
    check_size(width, height)?;
    let size = reader
        .output_buffer_size()
        .ok_or("the PNG's size is too large")?;
    let mut pixels = vec![0; size];
    let out = reader
        .next_frame(&mut pixels)
        .map_err(|e| format!("a broken PNG: {e}"))?;
    pixels.truncate(out.line_size * out.height as usize);
    if out.bit_depth != png::BitDepth::Eight {
        return Err("an unexpected PNG bit depth".into());
    }
    let channels = match out.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err("an unexpanded PNG palette".into()),
    };
    let gray = channels <= 2;
    let has_alpha = channels % 2 == 0;
    let row = width as usize * channels;
    let (mut color, mut alpha) = (Vec::new(), Vec::new());
    for line in pixels.chunks(out.line_size) {
        let line = line.get(..row).ok_or("a short PNG row")?;
        if has_alpha {
            for px in line.chunks_exact(channels) {
                let (c, a) = px.split_at(channels - 1);
                color.extend_from_slice(c);
                alpha.extend_from_slice(a);
            }
        } else {
            color.extend_from_slice(line);
        }
    }
    drop(pixels);
    let alpha = if has_alpha && alpha.iter().any(|&a| a != 255) {
        Some(zlib(&alpha)?)
    } else {
        None
    };
    Ok(PdfImage {
        width,
        height,
        gray,
        encoding: Encoding::Flate,
        data: zlib(&color)?,
        alpha,
    })
}

fn decode_jpeg(bytes: &[u8]) -> Result<PdfImage, String> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size((MAX_PIXELS * 3) as usize);
    decoder
        .read_info()
        .map_err(|e| format!("not a JPEG: {e}"))?;
    let info = decoder.info().ok_or("not a JPEG")?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_size(width, height)?;
    let gray = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => true,
        jpeg_decoder::PixelFormat::RGB24 => false,
        other => return Err(format!("a {other:?} JPEG (only gray and RGB are printed)")),
    };
    decoder
        .decode()
        .map_err(|e| format!("a broken JPEG: {e}"))?;
    Ok(PdfImage {
        width,
        height,
        gray,
        encoding: Encoding::Jpeg,
        data: bytes.to_vec(),
        alpha: None,
    })
}

fn verdicts() -> &'static Mutex<HashMap<String, bool>> {
    static VERDICTS: OnceLock<Mutex<HashMap<String, bool>>> = OnceLock::new();
    VERDICTS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Whether the file with this content decoded, if it has been tried.
pub fn known_verdict(sha256: &str) -> Option<bool> {
    verdicts().lock().ok().and_then(|v| v.get(sha256).copied())
}

/// Keeps whether the file with this content decoded.
pub fn keep_verdict(sha256: &str, usable: bool) {
    if let Ok(mut v) = verdicts().lock() {
        if v.len() >= VERDICTS_KEPT {
            v.clear();
        }
        v.insert(sha256.to_string(), usable);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `width`×`height` PNG of `color` (gray, gray+alpha, RGB or RGBA).
    pub(crate) fn png_bytes(width: u32, height: u32, color: png::ColorType) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut e = png::Encoder::new(&mut out, width, height);
            e.set_color(color);
            e.set_depth(png::BitDepth::Eight);
            let channels = color.samples();
            let data: Vec<u8> = (0..width as usize * height as usize * channels)
                .map(|i| (i % 251) as u8)
                .collect();
            let mut w = e.write_header().unwrap_or_else(|e| panic!("{e}"));
            w.write_image_data(&data).unwrap_or_else(|e| panic!("{e}"));
            w.finish().unwrap_or_else(|e| panic!("{e}"));
        }
        out
    }

    #[test]
    fn pngs_of_each_colour_type_decode_with_their_alpha() {
        for (color, gray, alpha) in [
            (png::ColorType::Grayscale, true, false),
            (png::ColorType::GrayscaleAlpha, true, true),
            (png::ColorType::Rgb, false, false),
            (png::ColorType::Rgba, false, true),
        ] {
            let img = decode(&png_bytes(30, 20, color), ImageKind::Png)
                .unwrap_or_else(|e| panic!("{color:?}: {e}"));
            assert_eq!((img.width, img.height, img.gray), (30, 20, gray));
            assert_eq!(img.alpha.is_some(), alpha, "{color:?}");
            assert_eq!(img.encoding, Encoding::Flate);
        }
    }

    #[test]
    fn too_many_pixels_are_refused_before_decoding() {
        // 5000×1 is over the side bound; 2100×2000 over the pixel bound.
        for (w, h) in [(5000, 1), (2100, 2000)] {
            let e = decode(&png_bytes(w, h, png::ColorType::Grayscale), ImageKind::Png)
                .err()
                .unwrap_or_default();
            assert!(e.contains("pixels"), "{w}×{h}: {e}");
        }
    }

    #[test]
    fn garbage_and_truncated_files_are_refused() {
        let png = png_bytes(40, 40, png::ColorType::Rgb);
        assert!(decode(b"not an image at all", ImageKind::Png).is_err());
        assert!(decode(&png[..png.len() / 2], ImageKind::Png).is_err());
        assert!(decode(&png, ImageKind::Jpeg).is_err(), "a PNG named .jpg");
        assert!(decode(b"\xff\xd8\xff\xe0garbage", ImageKind::Jpeg).is_err());
    }

    #[test]
    fn jpegs_are_embedded_as_they_are_gray_or_rgb_only() {
        let rgb = include_bytes!("../testdata/signature.jpg");
        let img = decode(rgb, ImageKind::Jpeg).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((img.width, img.height, img.gray), (120, 40, false));
        assert_eq!(img.encoding, Encoding::Jpeg);
        assert_eq!(img.data, rgb);
        let gray = decode(include_bytes!("../testdata/gray.jpg"), ImageKind::Jpeg)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(gray.gray);
        let cmyk = decode(include_bytes!("../testdata/cmyk.jpg"), ImageKind::Jpeg)
            .err()
            .unwrap_or_default();
        assert!(cmyk.contains("CMYK"), "{cmyk}");
        assert!(
            decode(&rgb[..rgb.len() / 2], ImageKind::Jpeg).is_err(),
            "truncated"
        );
    }

    #[test]
    fn verdicts_are_kept_by_content() {
        keep_verdict("abc-test", false);
        assert_eq!(known_verdict("abc-test"), Some(false));
        assert_eq!(known_verdict("never-seen"), None);
    }
}
