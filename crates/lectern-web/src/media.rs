//! The last step before a page shows course blocks: links to course files in
//! every block (problems included) point at the course's served files, Open
//! edX's math markers become MathJax delimiters, and the page learns which
//! served scripts it needs — MathJax only where there is math, the
//! transcript script only where there is a transcript. No inline script is
//! ever added: pages reference these files by `<script src>`.

use std::borrow::Cow;

use lectern_content::olx::rewrite_static_links;
use lectern_content::{CourseKey, CourseTree};

use crate::blocks::static_base;
use crate::math;
use crate::pages::RenderedBlock;

/// Transcript seeking and highlighting (see `video/`).
pub const VIDEO_SCRIPT: &str = "/assets/video.js";

/// Finishes `blocks` in place; returns the scripts the page must reference,
/// in order.
pub fn finish_blocks<'a>(
    blocks: impl IntoIterator<Item = &'a mut RenderedBlock>,
    key: &CourseKey,
) -> Vec<&'static str> {
    let base = static_base(key);
    let (mut has_math, mut has_video) = (false, false);
    for b in blocks {
        let linked = rewrite_static_links(&b.html, &base);
        // Most blocks have neither links nor math: nothing is copied then.
        let converted = match math::convert_markers(&linked) {
            Cow::Owned(converted) => Some(converted),
            Cow::Borrowed(_) => None,
        };
        let finished = converted.or(match linked {
            Cow::Owned(relinked) => Some(relinked),
            Cow::Borrowed(_) => None,
        });
        if let Some(html) = finished {
            b.html = html;
        }
        has_math |= math::has_math(&b.html);
        // The script seeks from transcripts and sends the player's
        // tracking events.
        has_video |= b.html.contains(r#"class="transcript-cues""#)
            || b.html.contains(r#"<video id="video-"#);
    }
    let mut scripts = Vec::new();
    if has_math {
        scripts.extend(math::SCRIPTS);
    }
    if has_video {
        scripts.push(VIDEO_SCRIPT);
    }
    scripts
}

/// Where the course image (the course's `course_image` setting: a file name,
/// or a `/static/`, `/asset-v1:` or `/c4x/` link) is served, when the course
/// has that file. Images on other hosts are not shown.
pub fn course_image(tree: &CourseTree) -> Option<String> {
    let raw = tree.root()?.field("course_image")?.trim();
    let raw = if raw.starts_with('/') {
        raw.to_string()
    } else {
        format!("/static/{raw}")
    };
    let url = crate::video::file_url(&raw, &tree.key)?;
    let name = url.strip_prefix(&static_base(&tree.key))?;
    tree.assets.contains_key(name).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(html: &str) -> RenderedBlock {
        RenderedBlock {
            anchor: "a".into(),
            title: None,
            html: html.into(),
        }
    }

    #[test]
    fn blocks_are_finished_and_scripts_chosen() {
        let key = CourseKey::new("O", "N", "R").unwrap();
        let mut plain = [block("<p>Hello</p>")];
        assert!(finish_blocks(&mut plain, &key).is_empty());
        let mut player = [block(r#"<video id="video-v1" controls></video>"#)];
        assert_eq!(finish_blocks(&mut player, &key), [VIDEO_SCRIPT]);
        let mut blocks = [
            block(r#"<p><img src="/static/a.png"> [mathjaxinline]x[/mathjaxinline]</p>"#),
            block(r#"<ol class="transcript-cues" data-video="v"></ol>"#),
        ];
        let scripts = finish_blocks(&mut blocks, &key);
        assert_eq!(scripts, [math::CONFIG_URL, math::MATHJAX_URL, VIDEO_SCRIPT]);
        assert_eq!(
            blocks[0].html,
            r#"<p><img src="/courses/course-v1:O+N+R/static/a.png"> \(x\)</p>"#
        );
    }
}
