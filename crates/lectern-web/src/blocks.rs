//! Turning leaf blocks into HTML for learners (and Studio's preview).
//! Author HTML always passes the sanitizer; unknown block types become a
//! named placeholder, never nothing.

use askama::Template;
use lectern_content::sanitize::clean_html;
use lectern_content::{Block, CourseKey};

use crate::pages::RenderedBlock;

/// Renders a piece of a page (a template under `templates/parts/`).
/// Askama escapes every value that is not marked safe; rendering into a
/// `String` cannot fail short of a bug in a template's own code, which is
/// logged and shown as an empty piece rather than a failed page.
pub fn render_part(part: &impl Template) -> String {
    part.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a page part failed to render");
        String::new()
    })
}

/// A block Lectern shows but cannot run.
#[derive(Template)]
#[template(path = "parts/placeholder.html")]
struct Placeholder<'a> {
    block_type: &'a str,
    title: &'a str,
    what: &'a str,
}

/// Where a course's `/static/` files are served.
pub fn static_base(key: &CourseKey) -> String {
    format!("/courses/{key}/static/")
}

/// Author HTML made safe, with `/static/` links pointing at the course's files.
pub fn author_html(html: &str, key: &CourseKey) -> String {
    clean_html(&lectern_content::olx::rewrite_static_links(
        html,
        &static_base(key),
    ))
}

/// A problem as it will look, without a learner's state (Studio previews).
fn problem_preview(block: &Block) -> String {
    match lectern_content::problem::Problem::parse(block.body.as_deref().unwrap_or(""), &block.id) {
        Ok(p) => {
            let mut view = lectern_content::problem::RenderView::new(1);
            view.disabled = true;
            p.render(&view)
        }
        Err(e) => placeholder(block, &format!("this problem cannot be shown: {e}")),
    }
}

/// A block Lectern shows but cannot run yet.
pub fn placeholder(block: &Block, what: &str) -> String {
    render_part(&Placeholder {
        block_type: &block.block_type,
        title: &block.title(),
        what,
    })
}

/// A leaf block as learners see it. Problems are rendered by the problem
/// routes; this is used for every other type.
pub fn render_leaf(block: &Block, key: &CourseKey) -> RenderedBlock {
    let anchor = format!("{}-{}", block.block_type, block.id);
    let (title, html) = match block.block_type.as_str() {
        "html" => (None, author_html(block.body.as_deref().unwrap_or(""), key)),
        "video" => (Some(block.title()), crate::video::render(block, key, None, None)),
        "discussion" => (Some(block.title()), placeholder(block, "learners see this topic's posts and a form to post here.")),
        "problem" => (Some(block.title()), problem_preview(block)),
        other => (None, placeholder(block, &format!("Lectern does not support “{other}” blocks yet; the content is kept for export."))),
    };
    RenderedBlock {
        anchor,
        title,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CourseKey {
        CourseKey::new("O", "N", "R").unwrap()
    }

    #[test]
    fn html_is_sanitized_and_static_links_rewritten() {
        let mut b = Block::new("html", "h");
        b.body = Some(
            r#"<p>Hi <img src="/static/cat.png" onerror="alert(1)"></p><script>bad()</script>"#
                .into(),
        );
        let r = render_leaf(&b, &key());
        assert!(
            !r.html.contains("script") && !r.html.contains("onerror"),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("/courses/course-v1:O+N+R/static/cat.png"),
            "{}",
            r.html
        );
    }

    #[test]
    fn unknown_types_are_named_placeholders() {
        let b = Block::new("drag-and-drop-v2", "d");
        let r = render_leaf(&b, &key());
        assert!(r.html.contains("drag-and-drop-v2"));
        assert!(r.html.contains("placeholder"));
    }

    #[test]
    fn video_transcripts_link_to_static_files() {
        let mut b = Block::new("video", "v");
        b.fields.insert(
            "transcripts".into(),
            r#"{"en": "t-en.srt", "es": "../../etc/passwd"}"#.into(),
        );
        let html = render_leaf(&b, &key()).html;
        assert!(
            html.contains(r#"href="/courses/course-v1:O+N+R/static/t-en.srt" hreflang="en""#),
            "{html}"
        );
        assert!(!html.contains("passwd"));
    }

    #[test]
    fn video_ids_are_checked_before_linking() {
        let mut b = Block::new("video", "v");
        b.fields
            .insert("youtube_id_1_0".into(), "\"><script>".into());
        assert!(!render_leaf(&b, &key()).html.contains("<script>"));
        b.fields
            .insert("youtube_id_1_0".into(), "3_yD_cEKoCk".into());
        assert!(render_leaf(&b, &key())
            .html
            .contains("https://www.youtube.com/watch?v=3_yD_cEKoCk"));
    }
}
