//! Where a visitor goes after signing in: the `next` parameter, accepted only
//! as a path on this site. Browsers forgive a great deal in a `Location`
//! header (they drop tabs and newlines, read `\` as `/`, treat `//host` as
//! another site), so anything unusual falls back to the default page instead
//! of being repaired. Every place that honours `next` calls [`safe_next`].

/// Where people go when `next` is missing or refused.
pub const DEFAULT_NEXT: &str = "/dashboard";

/// The longest `next` followed; longer ones are refused, not cut.
const MAX_NEXT_LEN: usize = 2000;

/// `next` when it is a same-site path, else [`DEFAULT_NEXT`].
pub fn safe_next(next: &str) -> &str {
    if is_same_site_path(next) {
        next
    } else {
        DEFAULT_NEXT
    }
}

/// A path that starts with one `/`, has no `//`, no backslash, no control
/// character and no whitespace, as written and after percent-decoding (twice,
/// so an encoded `%5C` or `%09` is caught too).
fn is_same_site_path(next: &str) -> bool {
    if next.len() > MAX_NEXT_LEN {
        return false;
    }
    let mut text = next.to_string();
    for _ in 0..3 {
        if !plain_path(&text) {
            return false;
        }
        match percent_decode(&text) {
            Some(decoded) if decoded == text => return true,
            Some(decoded) => text = decoded,
            None => return false,
        }
    }
    // Still changing after three decodings: nobody writes paths like that.
    false
}

fn plain_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.contains("//")
        && !p.contains('\\')
        && !p.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Decodes `%XX` escapes; `None` when the result is not UTF-8. A `%` not
/// followed by two hex digits is kept as it is.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(v as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_site_paths_are_followed() {
        // (what arrives as `next` after the form or query is decoded, expected)
        let cases = [
            ("/courses/course-v1:A+B+C/", "/courses/course-v1:A+B+C/"),
            ("/dashboard?tab=1", "/dashboard?tab=1"),
            ("/studio/", "/studio/"),
            ("/a%20b", DEFAULT_NEXT),
            ("", DEFAULT_NEXT),
            ("dashboard", DEFAULT_NEXT),
            ("//evil.example", DEFAULT_NEXT),
            ("///evil.example", DEFAULT_NEXT),
            ("/\\evil.example", DEFAULT_NEXT),
            ("\\\\evil.example", DEFAULT_NEXT),
            ("/\t/evil.example", DEFAULT_NEXT),
            ("/%09/evil.example", DEFAULT_NEXT),
            ("/%2509/evil.example", DEFAULT_NEXT),
            ("/%5Cevil.example", DEFAULT_NEXT),
            ("/%5cevil.example", DEFAULT_NEXT),
            ("/%2F/evil.example", DEFAULT_NEXT),
            ("/\n/evil.example", DEFAULT_NEXT),
            ("/\r\nSet-Cookie:x=1", DEFAULT_NEXT),
            ("/%0d%0aSet-Cookie:x=1", DEFAULT_NEXT),
            ("/\u{0}", DEFAULT_NEXT),
            ("/\u{7f}", DEFAULT_NEXT),
            ("/\u{a0}/evil.example", DEFAULT_NEXT),
            ("/%ff", DEFAULT_NEXT),
            ("https://evil.example", DEFAULT_NEXT),
            ("http:/evil.example", DEFAULT_NEXT),
            ("javascript:alert(1)", DEFAULT_NEXT),
            (" /dashboard", DEFAULT_NEXT),
            ("/ /evil.example", DEFAULT_NEXT),
        ];
        for (next, expected) in cases {
            assert_eq!(safe_next(next), expected, "next = {next:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(3000))), DEFAULT_NEXT);
    }
}
