//! Any transcript file, read as SubRip and as Open edX `.sjson`: a result,
//! never a panic, and accepted captions within the bounds.
#![no_main]

use lectern_content::transcript::{parse, Format, MAX_CUES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [Format::Srt, Format::Sjson] {
        if let Ok(cues) = parse(data, format) {
            assert!(!cues.is_empty() && cues.len() <= MAX_CUES);
            assert!(cues.iter().all(|c| c.end_ms >= c.start_ms));
        }
    }
});
