//! Course files that pages read on the server rather than link to: video
//! transcripts. The file comes from the same published tree the learner is
//! shown, so no extra permission check is needed; its size is checked from
//! the asset record before the blob is loaded, so a huge upload costs nothing.

use lectern_content::transcript::{self, Cue, Format, TranscriptError};
use lectern_content::CourseTree;

use crate::{AppResult, Lectern};

impl Lectern {
    /// The cues of transcript `file` (a name below the course's `static/`).
    /// The outer error is a storage failure; the inner one says why this
    /// file cannot be shown (missing, too large, not a transcript, malformed).
    pub async fn video_transcript(
        &self,
        tree: &CourseTree,
        file: &str,
    ) -> AppResult<Result<Vec<Cue>, TranscriptError>> {
        let fail = |m: String| Ok(Err(TranscriptError(m)));
        let Some(asset) = tree.assets.get(file) else {
            return fail(format!("{file} is not among the course's files"));
        };
        let Some(format) = Format::of(file) else {
            return fail(format!("{file} is not an .srt or .sjson transcript"));
        };
        if asset.size > transcript::MAX_TRANSCRIPT_BYTES {
            return fail(format!("{file} is too large to show"));
        }
        let Some(bytes) = self.guarded(self.store.blob(&asset.sha256)).await? else {
            return fail(format!("{file} is not among the course's files"));
        };
        Ok(transcript::parse(&bytes, format))
    }
}
