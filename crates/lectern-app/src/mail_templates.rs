//! The bodies of Lectern's mail, plain text and HTML, from askama
//! templates (`templates/mail/`): the `.html` ones escape what they are
//! given (a bulk e-mail's body is already sanitized and marked safe), the
//! `.txt` ones do not, as they are never read as HTML.

use askama::Template;

use crate::error::{AppError, AppResult};

#[derive(Template)]
#[template(path = "mail/password_reset.txt")]
struct ResetText<'a> {
    name: &'a str,
    username: &'a str,
    link: &'a str,
    hours: i64,
}

#[derive(Template)]
#[template(path = "mail/password_reset.html")]
struct ResetHtml<'a> {
    name: &'a str,
    username: &'a str,
    link: &'a str,
    hours: i64,
}

#[derive(Template)]
#[template(path = "mail/bulk_email.txt")]
struct BulkText<'a> {
    body_text: &'a str,
    course_name: &'a str,
    site_url: &'a str,
    unsubscribe_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/bulk_email.html")]
struct BulkHtml<'a> {
    /// Already through `sanitize::clean_html`.
    body_html: &'a str,
    course_name: &'a str,
    site_url: &'a str,
    unsubscribe_url: &'a str,
}

fn rendered(r: Result<String, askama::Error>) -> AppResult<String> {
    r.map_err(|e| AppError::Internal(format!("rendering a mail template: {e}")))
}

/// (text, HTML) of a password reset mail.
pub(crate) fn password_reset(
    name: &str,
    username: &str,
    link: &str,
    hours: i64,
) -> AppResult<(String, String)> {
    let text = rendered(
        ResetText {
            name,
            username,
            link,
            hours,
        }
        .render(),
    )?;
    let html = rendered(
        ResetHtml {
            name,
            username,
            link,
            hours,
        }
        .render(),
    )?;
    Ok((text, html))
}

/// (text, HTML) of one recipient's copy of a bulk e-mail.
pub(crate) fn bulk_email(
    body_text: &str,
    clean_body_html: &str,
    course_name: &str,
    site_url: &str,
    unsubscribe_url: &str,
) -> AppResult<(String, String)> {
    let text = rendered(
        BulkText {
            body_text,
            course_name,
            site_url,
            unsubscribe_url,
        }
        .render(),
    )?;
    let html = rendered(
        BulkHtml {
            body_html: clean_body_html,
            course_name,
            site_url,
            unsubscribe_url,
        }
        .render(),
    )?;
    Ok((text, html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_escapes_names_and_the_text_keeps_them() {
        let (text, html) =
            password_reset("<b>Ann</b>", "ann", "http://x/password_reset_confirm/s/", 2)
                .unwrap_or_default();
        assert!(text.contains("Hello <b>Ann</b>,"));
        assert!(html.contains("Hello &#60;b&#62;Ann&#60;/b&#62;") || html.contains("&lt;b&gt;"));
        assert!(html.contains("href=\"http://x/password_reset_confirm/s/\""));
    }

    #[test]
    fn a_bulk_copy_carries_its_unsubscribe_link_in_both_bodies() {
        let (text, html) = bulk_email("Hi", "<p>Hi</p>", "Physics", "http://x", "http://x/u/t")
            .unwrap_or_default();
        assert!(text.starts_with("Hi\n"));
        assert!(text.contains("http://x/u/t"));
        assert!(html.contains("<p>Hi</p>"));
        assert!(html.contains("href=\"http://x/u/t\""));
    }
}
