//! Course assets (`static/` files): their content-addressed description
//! (`Asset`: path, SHA-256, size, content type guessed from the extension).

use sha2::{Digest, Sha256};

use crate::tree::Asset;

/// Describes the bytes of `static/<path>`.
pub fn describe(path: &str, bytes: &[u8]) -> Asset {
    Asset {
        path: path.to_string(),
        sha256: hex::encode(Sha256::digest(bytes)),
        size: bytes.len() as u64,
        content_type: content_type(path).to_string(),
    }
}

/// The content type for a file name, from its extension (case-insensitive);
/// `application/octet-stream` when unknown.
pub fn content_type(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = match name.rsplit_once('.') {
        Some((_, e)) => e.to_ascii_lowercase(),
        None => return "application/octet-stream",
    };
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "bmp" => "image/bmp",
        "tif" | "tiff" => "image/tiff",
        "pdf" => "application/pdf",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "js" | "mjs" => "text/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "md" => "text/markdown",
        "srt" => "application/x-subrip",
        "sjson" => "application/json",
        "vtt" => "text/vtt",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "ogv" => "video/ogg",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" | "oga" => "audio/ogg",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "py" => "text/x-python",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "eot" => "application/vnd.ms-fontobject",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_come_from_the_extension() {
        let cases = [
            ("images/Cat.PNG", "image/png"),
            ("a.b/c.jpeg", "image/jpeg"),
            ("handout.pdf", "application/pdf"),
            ("x-en.srt", "application/x-subrip"),
            ("python_lib.zip", "application/zip"),
            ("noext", "application/octet-stream"),
            ("dir.d/noext", "application/octet-stream"),
            ("weird.xyz", "application/octet-stream"),
        ];
        for (p, want) in cases {
            assert_eq!(content_type(p), want, "{p}");
        }
    }

    #[test]
    fn sha256_is_of_the_bytes() {
        // SHA-256("abc"), FIPS 180-2 test vector.
        let a = describe("x/abc.txt", b"abc");
        assert_eq!(
            a.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(a.size, 3);
        assert_eq!(a.path, "x/abc.txt");
        assert_eq!(a.content_type, "text/plain");
    }
}
