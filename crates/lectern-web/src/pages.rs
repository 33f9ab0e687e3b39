//! Page templates (askama, compiled into the binary) and the context every
//! page shares. Values are escaped by default; only HTML that has been
//! through the sanitizer or built here is marked `|safe`.

use std::collections::BTreeMap;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use lectern_app::User;

/// What the layout needs on every page.
pub struct PageCtx {
    pub user: Option<User>,
    pub csrf: String,
    pub site_name: String,
    /// The site's logo (an https:// URL or a path); empty: none.
    pub logo_url: String,
    /// The footer's contact address; empty: no footer line.
    pub contact_email: String,
    /// Show the Studio link.
    pub studio: bool,
}

impl PageCtx {
    pub fn anonymous(csrf: &str) -> Self {
        Self {
            user: None,
            csrf: csrf.to_string(),
            site_name: "Lectern".into(),
            logo_url: String::new(),
            contact_email: String::new(),
            studio: false,
        }
    }
}

/// Renders a template into a response; a rendering failure is a 500 page.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<h1>500</h1><p>The page could not be rendered.</p>".to_string()),
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: PageCtx,
    status: String,
    message: &'a str,
}

/// A page for an error, without a user context (errors can happen before one exists).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let status_text = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let mut resp = render(&ErrorPage {
        ctx: PageCtx::anonymous(""),
        status: status_text,
        message,
    });
    *resp.status_mut() = status;
    resp
}

#[derive(Template)]
#[template(path = "catalogue.html")]
pub struct Catalogue {
    pub ctx: PageCtx,
    pub courses: Vec<lectern_app::CourseRecord>,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct Login {
    pub ctx: PageCtx,
    pub error: Option<String>,
    pub login: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "register.html")]
pub struct Register {
    pub ctx: PageCtx,
    pub heading: String,
    pub button: String,
    pub action: String,
    pub error: Option<String>,
    pub form: lectern_app::accounts::Registration,
    pub field_errors: BTreeMap<String, String>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct Dashboard {
    pub ctx: PageCtx,
    pub courses: Vec<lectern_app::CourseRecord>,
    /// The learner's certificates by course key.
    pub certificates: std::collections::HashMap<String, CertificateNote>,
}

impl Dashboard {
    fn certificate_of(&self, course: &lectern_app::CourseRecord) -> Option<&CertificateNote> {
        self.certificates.get(&course.key.to_string())
    }
}

/// A learner's certificate as their progress page and dashboard mention it.
#[derive(Debug, Clone)]
pub struct CertificateNote {
    /// Its verify id, when it is shown.
    pub verify_id: Option<String>,
    /// Otherwise, when it will be (a sentence).
    pub later: String,
}

impl CertificateNote {
    pub fn of(c: &lectern_app::certificates::LearnerCertificate) -> Self {
        use lectern_app::certificates::LearnerCertificate;
        match c {
            LearnerCertificate::Available(cert) => Self {
                verify_id: Some(cert.verify_id.clone()),
                later: String::new(),
            },
            LearnerCertificate::Later { shown_from } => Self {
                verify_id: None,
                later: match shown_from {
                    Some(d) => format!(
                        "You earned a certificate. It will be available on {}.",
                        d.format("%-d %B %Y")
                    ),
                    None => "You earned a certificate. It will be available when the course ends."
                        .into(),
                },
            },
        }
    }
}

#[derive(Template)]
#[template(path = "about.html")]
pub struct About {
    pub ctx: PageCtx,
    pub key: String,
    pub name: String,
    pub start: Option<String>,
    pub overview: String,
    /// The course image (`course_image`), when the course has that file.
    pub image: Option<String>,
    pub enrolled: bool,
}

pub struct OutlineUnit {
    pub id: String,
    pub name: String,
}

pub struct OutlineSubsection {
    pub name: String,
    pub graded: bool,
    pub format: String,
    pub due: Option<String>,
    pub units: Vec<OutlineUnit>,
}

pub struct OutlineSection {
    pub name: String,
    pub subsections: Vec<OutlineSubsection>,
}

#[derive(Template)]
#[template(path = "outline.html")]
pub struct Outline {
    pub ctx: PageCtx,
    pub key: String,
    pub name: String,
    pub staff: bool,
    pub resume: Option<String>,
    pub sections: Vec<OutlineSection>,
}

/// One block of a unit, rendered.
pub struct RenderedBlock {
    pub anchor: String,
    pub title: Option<String>,
    pub html: String,
}

#[derive(Template)]
#[template(path = "unit.html")]
pub struct Unit {
    pub ctx: PageCtx,
    pub key: String,
    pub course_name: String,
    pub unit_name: String,
    pub crumbs: Vec<String>,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub blocks: Vec<RenderedBlock>,
    /// Served scripts the blocks need (math, transcripts), in order.
    pub scripts: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "progress.html")]
pub struct Progress {
    pub ctx: PageCtx,
    pub key: String,
    pub course_name: String,
    pub body: String,
    /// The learner's certificate, when they have one.
    pub certificate: Option<CertificateNote>,
}
