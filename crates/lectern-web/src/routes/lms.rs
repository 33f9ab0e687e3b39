//! The learner site: catalogue, course about page, enrolment, dashboard,
//! course outline, unit pages and the progress page.

use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lectern_app::learning::PublishedCourse;
use lectern_app::visibility::Visibility;
use lectern_app::{AppError, User};
use lectern_content::tree::{level_of, Level};
use lectern_content::{BlockRef, CourseTree, UsageKey};

use super::{course_key, page_ctx};
use crate::auth::{MaybeUser, PageUser};
use crate::blocks::{author_html, render_leaf};
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::pages::RenderedBlock;
use crate::pages::{self, render, OutlineSection, OutlineSubsection, OutlineUnit};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(catalogue))
        .route("/courses", get(catalogue))
        .route("/dashboard", get(dashboard))
        .route("/courses/{course_key}/about", get(about))
        .route("/courses/{course_key}/enroll", post(enroll))
        .route("/courses/{course_key}/unenroll", post(unenroll))
        .route("/courses/{course_key}/", get(outline))
        .route("/courses/{course_key}", get(outline_redirect))
        .route("/courses/{course_key}/unit/{unit_id}", get(unit))
        .route("/courses/{course_key}/progress", get(progress))
        .route("/courses/{course_key}/jump_to/{usage_key}", get(jump_to))
        .route("/courses/{course_key}/static/{*path}", get(static_file))
        .route(
            "/courses/{course_key}/problem/{block_id}",
            post(problem_action),
        )
}

async fn catalogue(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    csrf: Extension<CsrfToken>,
) -> PageResult<Response> {
    let courses = state.app.catalogue().await?;
    let ctx = page_ctx(&state, user.as_ref(), &csrf).await;
    Ok(render(&pages::Catalogue { ctx, courses }))
}

async fn dashboard(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
) -> PageResult<Response> {
    let courses = state
        .app
        .dashboard(&user)
        .await?
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    let certificates = state
        .app
        .my_certificates(&user)
        .await?
        .iter()
        .map(|(k, c)| (k.clone(), pages::CertificateNote::of(c)))
        .collect();
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    Ok(render(&pages::Dashboard {
        ctx,
        courses,
        certificates,
    }))
}

async fn about(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let course = state.app.published_course(&key).await?;
    let enrolled = match &user {
        Some(u) => state.app.enrollment(u, &key).await?.is_some(),
        None => false,
    };
    let overview = course
        .tree
        .about
        .get("overview")
        .or_else(|| course.tree.about.get("short_description"))
        .map(|h| author_html(h, &key))
        .unwrap_or_default();
    let ctx = page_ctx(&state, user.as_ref(), &csrf).await;
    Ok(render(&pages::About {
        ctx,
        key: key.to_string(),
        name: course.tree.display_name(),
        start: course
            .record
            .start
            .map(|d| d.format("%-d %B %Y").to_string()),
        overview,
        image: crate::media::course_image(&course.tree),
        enrolled,
    }))
}

async fn enroll(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    state.app.enroll(&user, &key).await?;
    Ok(Redirect::to(&format!("/courses/{key}/")).into_response())
}

async fn unenroll(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    state.app.unenroll(&user, &key).await?;
    Ok(Redirect::to("/dashboard").into_response())
}

async fn outline_redirect(Path(raw): Path<String>) -> Response {
    Redirect::permanent(&format!("/courses/{raw}/")).into_response()
}

/// The outline a user may see: staff see everything, learners what is released.
pub fn build_outline(
    tree: &CourseTree,
    visible: &dyn Fn(&BlockRef) -> bool,
) -> Vec<OutlineSection> {
    let Some(root) = tree.root() else {
        return Vec::new();
    };
    let mut sections = Vec::new();
    for ch in tree
        .children(root)
        .filter(|b| level_of(&b.block_type) == Level::Section && visible(&b.block_ref()))
    {
        let mut subsections = Vec::new();
        for seq in tree.children(ch).filter(|b| visible(&b.block_ref())) {
            let units = tree
                .children(seq)
                .filter(|u| u.block_type == "vertical" && visible(&u.block_ref()))
                .map(|u| OutlineUnit {
                    id: u.id.clone(),
                    name: u.title(),
                })
                .collect();
            let r = seq.block_ref();
            subsections.push(OutlineSubsection {
                name: seq.title(),
                graded: tree.effective_field(&r, "graded").as_deref() == Some("true"),
                format: seq.field("format").unwrap_or("").to_string(),
                due: seq
                    .field("due")
                    .map(|d| d.trim_matches('"').replace('T', " ")),
                units,
            });
        }
        sections.push(OutlineSection {
            name: ch.title(),
            subsections,
        });
    }
    sections
}

async fn course_for(
    state: &AppState,
    user: &User,
    raw: &str,
) -> PageResult<(PublishedCourse, Visibility)> {
    let key = course_key(raw)?;
    let course = state.app.courseware(user, &key).await?;
    let sees = state.app.visibility(user, &key).await?;
    Ok((course, sees))
}

async fn outline(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    let (course, sees) = match course_for(&state, &user, &raw).await {
        Ok(c) => c,
        // Not enrolled: show the about page with its enrol button instead of a bare 403.
        Err(e) if matches!(e.0, AppError::Forbidden(_)) => {
            return Ok(Redirect::to(&format!("/courses/{raw}/about")).into_response())
        }
        Err(e) => return Err(e),
    };
    let tree = &course.tree;
    let visible = |r: &BlockRef| sees.shows(tree, r);
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    Ok(render(&pages::Outline {
        ctx,
        key: course.record.key.to_string(),
        name: tree.display_name(),
        staff: sees.sees_unreleased(),
        resume: sees.first_unit(tree).map(|r| r.id),
        sections: build_outline(tree, &visible),
    }))
}

#[derive(serde::Deserialize, Default)]
struct UnitQuery {
    /// A problem whose answer the learner asked to see.
    show: Option<String>,
    /// A problem and a message about its last action (an input that was refused).
    problem: Option<String>,
    msg: Option<String>,
    /// Demand hints shown for `problem`.
    hints: Option<usize>,
}

async fn unit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path((raw, unit_id)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<UnitQuery>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let page = state.app.unit_page(&user, &key, &unit_id).await?;
    let tree = &page.course.tree;
    let unit = tree
        .block(&page.unit)
        .ok_or_else(|| AppError::not_found(format!("unit {unit_id}")))?;
    let mut blocks = Vec::new();
    // The leaves this viewer is shown (library_content and split_test
    // children as drawn for them, hidden blocks left out: the frame).
    for child in page.frame.leaves.iter().filter_map(|r| tree.block(r)) {
        blocks.push(render_for_learner(&state, &user, &page, child, &q, &csrf.0 .0).await);
    }
    let scripts = crate::media::finish_blocks(&mut blocks, &key);
    let ancestry = &page.frame.ancestry;
    let crumbs = ancestry
        .iter()
        .skip(1)
        .take(ancestry.len().saturating_sub(2))
        .filter_map(|r| tree.block(r))
        .map(|b| b.title())
        .collect();
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    Ok(render(&pages::Unit {
        ctx,
        key: key.to_string(),
        course_name: tree.display_name(),
        unit_name: unit.title(),
        crumbs,
        previous: page.frame.previous.as_ref().map(|r| r.id.clone()),
        next: page.frame.next.as_ref().map(|r| r.id.clone()),
        blocks,
        scripts,
    }))
}

async fn progress(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    let (course, _) = course_for(&state, &user, &raw).await?;
    let body = progress_body(&state, &user, &course).await?;
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    let certificate = state.app.my_certificate(&user, &course.record.key).await?;
    Ok(render(&pages::Progress {
        ctx,
        key: course.record.key.to_string(),
        course_name: course.tree.display_name(),
        body,
        certificate: certificate.as_ref().map(pages::CertificateNote::of),
    }))
}

/// `jump_to`: Open edX's link to any block; lands on the unit that holds it.
async fn jump_to(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((raw, usage)): Path<(String, String)>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let usage: UsageKey = usage.parse().map_err(|_| AppError::not_found("block"))?;
    let course = state.app.courseware(&user, &key).await?;
    let unit = course
        .tree
        .ancestry(&usage.block)
        .into_iter()
        .find(|r| r.block_type == "vertical")
        .ok_or_else(|| AppError::not_found(format!("block {usage}")))?;
    let anchor = format!("#{}-{}", usage.block.block_type, usage.block.id);
    Ok(Redirect::to(&format!(
        "/courses/{key}/unit/{}{}",
        unit.id,
        if usage.block == unit { "" } else { &anchor }
    ))
    .into_response())
}

/// A block of a unit as this learner sees it; problems are live forms.
async fn render_for_learner(
    state: &AppState,
    user: &User,
    page: &lectern_app::learning::UnitPage,
    block: &lectern_content::Block,
    q: &UnitQuery,
    csrf: &str,
) -> RenderedBlock {
    let tree = &page.course.tree;
    if block.block_type == "video" {
        return crate::video::render_for_learner(&state.app, tree, block).await;
    }
    if block.block_type == "discussion" {
        return super::discussion::block_for_learner(state, user, tree, block, csrf).await;
    }
    if block.block_type == "html" {
        // Author HTML through the sanitizer is the same for every viewer:
        // rendered once per published version (other types render per
        // request; some may come to depend on the viewer).
        let html = state.app.leaf_html(&page.course, &block.block_ref(), || {
            render_leaf(block, &tree.key).html
        });
        return RenderedBlock {
            anchor: format!("{}-{}", block.block_type, block.id),
            title: None,
            html: html.to_string(),
        };
    }
    if block.block_type != "problem" {
        return render_leaf(block, &tree.key);
    }
    let usage = tree.usage_key(&block.block_ref());
    match state.app.problem_view_on_page(user, page, &usage).await {
        Ok((view, false)) => crate::problem_form::render_without_state(&view),
        Ok((view, true)) => {
            let this = q.problem.as_deref() == Some(block.id.as_str());
            let asked = crate::problem_form::Asked {
                show_answer: q.show.as_deref() == Some(block.id.as_str()) && view.answer_available,
                hints: if this {
                    q.hints.unwrap_or(0).min(100)
                } else {
                    0
                },
            };
            let msg = q.msg.as_deref().filter(|_| this);
            crate::problem_form::render(&tree.key, &view, asked, msg, csrf)
        }
        Err(e) => {
            tracing::warn!(problem = %usage, error = %e, "problem could not be shown");
            RenderedBlock {
                anchor: format!("problem-{}", block.id),
                title: Some(block.title()),
                html: crate::blocks::placeholder(
                    block,
                    &format!("this problem cannot be shown: {e}"),
                ),
            }
        }
    }
}

/// The progress page's content: a chart of scores by assignment, the course
/// grade, and every subsection's score.
async fn progress_body(
    state: &AppState,
    user: &User,
    course: &PublishedCourse,
) -> PageResult<String> {
    let report = state.app.my_grade(user, &course.record.key).await?;
    Ok(crate::progress::render(
        &report,
        &course.tree.grading_policy,
    ))
}

/// A course's static file (`/static/NAME` in its HTML and problems), with
/// ranges, validators and a streamed body (`crate::static_files`).
async fn static_file(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: axum::http::HeaderMap,
    Path((raw, path)): Path<(String, String)>,
) -> PageResult<Response> {
    use axum::http::{header, HeaderValue};
    let key = course_key(&raw)?;
    let (asset, info) = state.app.course_asset(user.as_ref(), &key, &path).await?;
    let extra = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        // Uploaded HTML or SVG must not run scripts with the site's cookies.
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; media-src 'self'")),
    ];
    Ok(crate::static_files::respond(
        &state.app, asset, &info, &headers, &extra,
    ))
}

/// A check from the problem form, under the form's own idempotency key
/// (see `problem_form`): a second copy of one rendering's post is answered
/// from the first.
async fn check_from_form(
    state: &AppState,
    user: &lectern_app::model::User,
    usage: &lectern_content::UsageKey,
    answers: std::collections::BTreeMap<String, lectern_content::problem::Answer>,
    pairs: &[(String, String)],
) -> Result<(), AppError> {
    let key = pairs
        .iter()
        .find(|(k, _)| k == "idempotency_key")
        .map(|(_, v)| lectern_app::idempotency::IdempotencyKey::parse(v.as_bytes()))
        .transpose()?;
    match state
        .app
        .check_problem_keyed(user, usage, answers, key.as_ref())
        .await
    {
        Err(AppError::KeyReused(_)) => Err(AppError::KeyReused(
            "This form was already submitted with other answers; answer again on this page.".into(),
        )),
        other => other.map(|_| ()),
    }
}

/// The problem form: `action` = check | save | reset | show, inputs named by id.
async fn problem_action(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((raw, block_id)): Path<(String, String)>,
    crate::extract::PageForm(pairs): crate::extract::PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let usage = key.usage_key("problem", &block_id);
    let action = pairs
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.as_str())
        .unwrap_or("check");
    let view = state.app.problem_view(&user, &usage).await?;
    let unit = view
        .course
        .tree
        .ancestry(&usage.block)
        .into_iter()
        // The outermost unit: a problem inside a split test's vertical is
        // shown on the unit page that holds the split test.
        .find(|r| r.block_type == "vertical");
    let unit_id = unit
        .map(|u| u.id)
        .ok_or_else(|| AppError::not_found(format!("problem {block_id}")))?;
    let back = |extra: &str| format!("/courses/{key}/unit/{unit_id}{extra}#problem-{block_id}");
    let answers = crate::problem_form::answers_from_form(&view.problem, &pairs);
    let result = match action {
        "save" => state
            .app
            .save_problem(&user, &usage, answers)
            .await
            .map(|_| ()),
        "reset" => state.app.reset_problem(&user, &usage).await.map(|_| ()),
        "show" => return Ok(Redirect::to(&back(&format!("?show={block_id}"))).into_response()),
        "hint" => {
            let shown: usize = pairs
                .iter()
                .find(|(k, _)| k == "hints_shown")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let q = serde_urlencoded::to_string([
                ("problem", block_id.clone()),
                ("hints", (shown + 1).min(100).to_string()),
            ])
            .unwrap_or_default();
            return Ok(Redirect::to(&back(&format!("?{q}"))).into_response());
        }
        _ => check_from_form(&state, &user, &usage, answers, &pairs).await,
    };
    match result {
        Ok(()) => Ok(Redirect::to(&back("")).into_response()),
        Err(AppError::Invalid { message, .. })
        | Err(AppError::Forbidden(message))
        | Err(AppError::Conflict(message))
        | Err(AppError::KeyReused(message)) => {
            let q = serde_urlencoded::to_string([
                ("problem", block_id.as_str()),
                ("msg", message.as_str()),
            ])
            .unwrap_or_default();
            Ok(Redirect::to(&back(&format!("?{q}"))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
