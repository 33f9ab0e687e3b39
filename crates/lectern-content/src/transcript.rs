//! Video transcripts as Open edX courses ship them: SubRip (`.srt`) files
//! named in a video's `transcripts`/`<transcript>`, and Open edX's own
//! `.sjson` (`{"start": [ms…], "end": [ms…], "text": […]}`, stored as
//! `subs_{id}.srt.sjson`). Both become a list of [`Cue`]s for the page.
//!
//! Transcripts are author files: every parse is bounded (bytes, cues, text
//! per cue) and a file that does not parse is an error the page shows as a
//! note, never a failure of the page. No I/O here.

use std::fmt;

/// Largest transcript file read (a three-hour lecture's SRT is ~250 KB).
pub const MAX_TRANSCRIPT_BYTES: u64 = 2 * 1024 * 1024;
/// Most cues kept from one file.
pub const MAX_CUES: usize = 20_000;
/// Longest text kept for one cue, in characters.
const MAX_CUE_CHARS: usize = 2_000;

/// One caption: shown from `start_ms` to `end_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    pub start_ms: u64,
    pub end_ms: u64,
    /// Plain text (markup such as `<i>` removed); lines joined by a space.
    pub text: String,
}

/// Why a transcript could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptError(pub String);

impl fmt::Display for TranscriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TranscriptError {}

fn err(msg: impl Into<String>) -> TranscriptError {
    TranscriptError(msg.into())
}

/// The formats Lectern reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Srt,
    Sjson,
}

impl Format {
    /// The format a file name implies (`x.srt`, `subs_x.srt.sjson`, `x.sjson`).
    pub fn of(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".sjson") {
            Some(Format::Sjson)
        } else if lower.ends_with(".srt") {
            Some(Format::Srt)
        } else {
            None
        }
    }
}

/// Parses a transcript in `format`.
pub fn parse(bytes: &[u8], format: Format) -> Result<Vec<Cue>, TranscriptError> {
    if bytes.len() as u64 > MAX_TRANSCRIPT_BYTES {
        return Err(err(format!(
            "the file is larger than {} MiB",
            MAX_TRANSCRIPT_BYTES / 1024 / 1024
        )));
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    match format {
        Format::Srt => parse_srt(text),
        Format::Sjson => parse_sjson(text),
    }
}

/// Parses SubRip: blocks separated by blank lines, each an optional index
/// line, a `HH:MM:SS,mmm --> HH:MM:SS,mmm` line, then text lines.
pub fn parse_srt(text: &str) -> Result<Vec<Cue>, TranscriptError> {
    let mut cues = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    loop {
        while lines.next_if(|(_, l)| l.trim().is_empty()).is_some() {}
        let Some((n, first)) = lines.next() else {
            break;
        };
        let (n, timing) = if first.contains("-->") {
            (n, first)
        } else {
            match lines.next() {
                Some((m, l)) if l.contains("-->") => (m, l),
                // The index line is followed by something else (or nothing).
                next => {
                    return Err(err(format!(
                        "line {}: expected a time range such as 00:00:01,000 --> 00:00:02,000",
                        next.map_or(n + 2, |(m, _)| m + 1)
                    )))
                }
            }
        };
        let (start_ms, end_ms) = timing_line(timing).ok_or_else(|| {
            err(format!(
                "line {}: unreadable time range “{}”",
                n + 1,
                timing.trim()
            ))
        })?;
        let mut parts = Vec::new();
        while let Some((_, l)) = lines.next_if(|(_, l)| !l.trim().is_empty()) {
            parts.push(l.trim());
        }
        push_cue(&mut cues, start_ms, end_ms, &parts.join(" "))?;
    }
    if cues.is_empty() {
        return Err(err("the file has no captions"));
    }
    Ok(cues)
}

fn push_cue(
    cues: &mut Vec<Cue>,
    start_ms: u64,
    end_ms: u64,
    raw: &str,
) -> Result<(), TranscriptError> {
    if cues.len() >= MAX_CUES {
        return Err(err(format!("the file has more than {MAX_CUES} captions")));
    }
    let text: String = strip_tags(raw).chars().take(MAX_CUE_CHARS).collect();
    cues.push(Cue {
        start_ms,
        end_ms: end_ms.max(start_ms),
        text,
    });
    Ok(())
}

/// `00:01:02,500 --> 00:01:04,000 X1:…` (positions after the range are ignored).
fn timing_line(line: &str) -> Option<(u64, u64)> {
    let (a, b) = line.split_once("-->")?;
    let b = b.split_whitespace().next()?;
    Some((timestamp(a.trim())?, timestamp(b)?))
}

/// `HH:MM:SS,mmm`, also with `.` before the milliseconds and without hours.
fn timestamp(s: &str) -> Option<u64> {
    let (clock, frac) = match s.rsplit_once([',', '.']) {
        Some((c, f)) => (c, f),
        None => (s, "0"),
    };
    if frac.is_empty() || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // "5" after the separator means 500 ms, as in "00:00:01,5".
    let ms: u64 = format!("{frac:0<3}").parse().ok()?;
    let fields: Vec<&str> = clock.split(':').collect();
    let (h, m, sec) = match fields.as_slice() {
        [h, m, s] => (*h, *m, *s),
        [m, s] => ("0", *m, *s),
        _ => return None,
    };
    let num = |x: &str, max: u64| -> Option<u64> {
        let x = x.trim();
        if x.is_empty() || x.len() > 6 || !x.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        x.parse().ok().filter(|v| *v <= max)
    };
    let (h, m, sec) = (num(h, 99_999)?, num(m, 59)?, num(sec, 59)?);
    Some(((h * 60 + m) * 60 + sec) * 1000 + ms)
}

#[derive(serde::Deserialize)]
struct Sjson {
    start: Vec<serde_json::Value>,
    end: Vec<serde_json::Value>,
    text: Vec<serde_json::Value>,
}

/// Parses Open edX's `.sjson`: three arrays of equal length.
pub fn parse_sjson(text: &str) -> Result<Vec<Cue>, TranscriptError> {
    let s: Sjson = serde_json::from_str(text)
        .map_err(|e| err(format!("not an Open edX .sjson transcript: {e}")))?;
    if s.start.len() != s.end.len() || s.start.len() != s.text.len() {
        return Err(err(format!(
            "start, end and text have different lengths ({}, {}, {})",
            s.start.len(),
            s.end.len(),
            s.text.len()
        )));
    }
    let ms = |v: &serde_json::Value, i: usize| -> Result<u64, TranscriptError> {
        v.as_f64()
            .filter(|x| x.is_finite() && *x >= 0.0 && *x < 1e12)
            .map(|x| x.round() as u64)
            .ok_or_else(|| {
                err(format!(
                    "caption {}: times must be non-negative milliseconds",
                    i + 1
                ))
            })
    };
    let mut cues = Vec::new();
    for (i, ((a, b), t)) in s.start.iter().zip(&s.end).zip(&s.text).enumerate() {
        let t = match t {
            serde_json::Value::String(t) => t.as_str(),
            serde_json::Value::Null => "",
            _ => return Err(err(format!("caption {}: text must be a string", i + 1))),
        };
        push_cue(&mut cues, ms(a, i)?, ms(b, i)?, t)?;
    }
    if cues.is_empty() {
        return Err(err("the file has no captions"));
    }
    Ok(cues)
}

/// Removes `<…>` markup (`<i>`, `<font color=…>`) and decodes the few
/// entities SRT files use, leaving text for the page to escape.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        match after.find('>') {
            Some(j)
                if after[1..j]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '/') =>
            {
                rest = &after[j + 1..];
            }
            _ => {
                out.push('<');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    let out = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `m:ss`, or `h:mm:ss` from an hour on: how a cue's start is shown.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(start_ms: u64, end_ms: u64, text: &str) -> Cue {
        Cue {
            start_ms,
            end_ms,
            text: text.into(),
        }
    }

    #[test]
    fn srt_cues_with_indexes_crlf_bom_and_markup() {
        let srt = "\u{feff}1\r\n00:00:00,270 --> 00:00:02,720\r\nHello <i>and</i>\r\nwelcome.\r\n\r\n2\r\n00:01:02,5 --> 00:01:04.000 X1:10\r\nR&amp;D &lt;3 a<b\r\n\r\n\r\n01:00:00,000 --> 01:00:01,000\r\nlate\r\n";
        let cues = parse(srt.as_bytes(), Format::Srt).unwrap();
        assert_eq!(
            cues,
            vec![
                cue(270, 2720, "Hello and welcome."),
                cue(62_500, 64_000, "R&D <3 a<b"),
                cue(3_600_000, 3_601_000, "late"),
            ]
        );
    }

    #[test]
    fn srt_from_the_demo_course_shape() {
        let srt = "1\n00:00:05,000 --> 00:00:07,500\nWelcome to Open edX.\n\n2\n00:00:07,500 --> 00:00:09,000\n\n3\n00:00:09,000 --> 00:00:10,000\nBye\n";
        let cues = parse_srt(srt).unwrap();
        assert_eq!(cues.len(), 3);
        assert_eq!(cues[1], cue(7500, 9000, ""));
        assert_eq!(cues[2].text, "Bye");
    }

    #[test]
    fn malformed_srt_is_an_error_not_a_panic() {
        let cases = [
            ("", "no captions"),
            ("\n\n  \n", "no captions"),
            ("1\nhello\n", "line 2"),
            ("1\n", "line 2"),
            ("hello\n", "line 2"),
            ("1\n00:00:01,000 -> 00:00:02,000\nx\n", "line 2"),
            ("1\n00:00:61,000 --> 00:00:62,000\nx\n", "line 2"),
            ("1\n00:00:01,0000 --> 00:00:02,000\nx\n", "line 2"),
            ("1\n00:00:01,000 --> \nx\n", "line 2"),
            (
                "1\n99999999999999999999:00:01,000 --> 00:00:02,000\nx\n",
                "line 2",
            ),
            ("1\n-1:00:01,000 --> 00:00:02,000\nx\n", "line 2"),
        ];
        for (input, want) in cases {
            let e = parse_srt(input).unwrap_err();
            assert!(e.0.contains(want), "{input:?}: {e}");
        }
    }

    #[test]
    fn sjson_cues() {
        let s = r#"{"start": [0, 1500.4, 3000], "end": [1500, 3000, 2000], "text": ["One", "<b>Two</b>", null]}"#;
        let cues = parse(s.as_bytes(), Format::Sjson).unwrap();
        assert_eq!(
            cues,
            vec![
                cue(0, 1500, "One"),
                cue(1500, 3000, "Two"),
                cue(3000, 3000, "")
            ]
        );
    }

    #[test]
    fn malformed_sjson_is_an_error() {
        let cases = [
            ("not json", "not an Open edX"),
            (r#"{"start": [0], "end": [1]}"#, "not an Open edX"),
            (
                r#"{"start": [0, 1], "end": [1], "text": ["a"]}"#,
                "different lengths",
            ),
            (
                r#"{"start": [-5], "end": [1], "text": ["a"]}"#,
                "non-negative",
            ),
            (
                r#"{"start": ["x"], "end": [1], "text": ["a"]}"#,
                "non-negative",
            ),
            (
                r#"{"start": [0], "end": [1], "text": [7]}"#,
                "must be a string",
            ),
            (r#"{"start": [], "end": [], "text": []}"#, "no captions"),
        ];
        for (input, want) in cases {
            let e = parse_sjson(input).unwrap_err();
            assert!(e.0.contains(want), "{input}: {e}");
        }
    }

    #[test]
    fn sizes_are_bounded() {
        let big = vec![b' '; MAX_TRANSCRIPT_BYTES as usize + 1];
        assert!(parse(&big, Format::Srt).unwrap_err().0.contains("larger"));
        let many: String = (0..=MAX_CUES)
            .map(|i| format!("00:00:01,000 --> 00:00:02,000\nc{i}\n\n"))
            .collect();
        assert!(parse_srt(&many).unwrap_err().0.contains("more than"));
        let long = format!("00:00:01,000 --> 00:00:02,000\n{}\n", "x".repeat(10_000));
        assert_eq!(parse_srt(&long).unwrap()[0].text.len(), MAX_CUE_CHARS);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2000)) {
            for format in [Format::Srt, Format::Sjson] {
                if let Ok(cues) = parse(&bytes, format) {
                    proptest::prop_assert!(!cues.is_empty() && cues.len() <= MAX_CUES);
                    proptest::prop_assert!(cues.iter().all(|c| c.end_ms >= c.start_ms));
                }
            }
        }

        #[test]
        fn written_srt_reads_back(cues in proptest::collection::vec(
            (0u64..360_000_000, 0u64..100_000, "[a-zA-Z0-9 ,.!?]{0,40}"), 1..50)
        ) {
            let srt: String = cues
                .iter()
                .enumerate()
                .map(|(i, (start, len, text))| {
                    let t = |ms: u64| format!(
                        "{:02}:{:02}:{:02},{:03}",
                        ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000
                    );
                    // A caption with no text still has its (empty) line.
                    let text = if text.trim().is_empty() { "-" } else { text.as_str() };
                    format!("{}\n{} --> {}\n{}\n\n", i + 1, t(*start), t(start + len), text)
                })
                .collect();
            let read = parse_srt(&srt).unwrap();
            proptest::prop_assert_eq!(read.len(), cues.len());
            for (c, (start, len, text)) in read.iter().zip(&cues) {
                proptest::prop_assert_eq!(c.start_ms, *start);
                proptest::prop_assert_eq!(c.end_ms, start + len);
                let want = if text.trim().is_empty() { "-".to_string() } else { text.split_whitespace().collect::<Vec<_>>().join(" ") };
                proptest::prop_assert_eq!(&c.text, &want);
            }
        }
    }

    /// The fuzz target's committed seeds (`fuzz/corpus/transcript`), replayed.
    #[test]
    fn fuzz_corpus_replays() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/transcript");
        let mut read = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if let Ok(cues) = parse(&bytes, Format::of(&name).unwrap()) {
                assert!(cues.iter().all(|c| c.end_ms >= c.start_ms), "{name}");
                read.push(name);
            }
        }
        read.sort();
        assert_eq!(read, ["crlf-bom.srt", "demo-en.srt", "small.sjson"]);
    }

    #[test]
    fn formats_and_clock() {
        assert_eq!(Format::of("subs_abc.srt.sjson"), Some(Format::Sjson));
        assert_eq!(Format::of("a-en.SRT"), Some(Format::Srt));
        assert_eq!(Format::of("a.pdf"), None);
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(62_500), "1:02");
        assert_eq!(clock(3_723_000), "1:02:03");
    }
}
