//! `/api/problems/v1/{usage_key}` (show, check, save, reset, answer) and
//! `/api/grades/v1/courses/{course_key}/`.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lectern_app::grades::GradeReport;
use lectern_app::problems::ProblemView;
use lectern_app::AppError;
use lectern_content::problem::{Answer, InputKind};
use lectern_content::UsageKey;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::idempotency::idempotency_key;
use crate::routes::course_key;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/problems/v1/{usage_key}", get(show))
        .route("/api/problems/v1/{usage_key}/check", post(check))
        .route("/api/problems/v1/{usage_key}/save", post(save))
        .route("/api/problems/v1/{usage_key}/reset", post(reset))
        .route("/api/problems/v1/{usage_key}/answer", get(answer))
        .route("/api/problems/v1/{usage_key}/submissions", get(submissions))
        .route("/api/grades/v1/courses/{course_key}/", get(grades))
        .route("/api/grades/v1/courses/{course_key}", get(grades))
}

fn usage(raw: &str) -> Result<UsageKey, AppError> {
    raw.parse()
        .map_err(|_| AppError::not_found(format!("problem {raw}")))
}

fn kind_name(k: &InputKind) -> String {
    match k {
        InputKind::Radio => "choice".into(),
        InputKind::Checkbox => "checkbox".into(),
        InputKind::Dropdown => "dropdown".into(),
        InputKind::Text => "text".into(),
        InputKind::Numeric => "numerical".into(),
        InputKind::Formula => "formula".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

pub fn problem_json(view: &ProblemView) -> Value {
    let inputs: Vec<Value> = view
        .problem
        .inputs()
        .iter()
        .map(|i| {
            let order = view.problem.display_order(&i.id, view.seed);
            let choices: Vec<Value> = order
                .iter()
                .filter_map(|&n| i.choices.get(n))
                .map(|c| json!({"name": c.name, "label": c.label_html}))
                .collect();
            json!({"id": i.id, "type": kind_name(&i.kind), "response_type": i.response_type, "label": i.label, "choices": choices})
        })
        .collect();
    let usage = view.state.usage_key.to_string();
    json!({
        "usage_key": usage,
        "display_name": view.block.title(),
        "inputs": inputs,
        "attempts": view.state.attempts,
        "max_attempts": view.settings.max_attempts,
        "score": {"earned": view.visible_earned(), "possible": if view.state.ever_attempted { view.state.possible } else {
            lectern_content::problem::settings::weighted_score(0.0, view.problem.raw_possible(), view.settings.weight).1 },
            "hidden": !view.correctness_available},
        "answers": view.state.answers,
        "correct_map": view.visible_correct_map(),
        "correctness_hidden": !view.correctness_available,
        "closed": view.closed,
        "can_show_answer": view.answer_available,
        "gradable": view.problem.is_gradable(),
        "unsupported": view.problem.unsupported(),
        "due": view.settings.due.map(|d| d.to_rfc3339()),
    })
}

async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let view = state.app.problem_view(&user, &usage(&raw)?).await?;
    Ok(Json(problem_json(&view)))
}

#[derive(Deserialize)]
struct AnswersBody {
    #[serde(default)]
    answers: BTreeMap<String, Answer>,
}

async fn check(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AnswersBody>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let (status, body) = state
        .app
        .check_problem_keyed(&user, &usage(&raw)?, body.answers, key.as_ref())
        .await?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    Ok((status, Json(body)).into_response())
}

async fn save(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<AnswersBody>,
) -> ApiResult<Json<Value>> {
    let view = state
        .app
        .save_problem(&user, &usage(&raw)?, body.answers)
        .await?;
    Ok(Json(problem_json(&view)))
}

async fn reset(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let view = state.app.reset_problem(&user, &usage(&raw)?).await?;
    Ok(Json(problem_json(&view)))
}

async fn answer(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let (_, answers) = state.app.problem_answers(&user, &usage(&raw)?).await?;
    Ok(Json(json!({"answers": answers})))
}

async fn submissions(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let subs = state.app.submissions(&user, &usage(&raw)?).await?;
    Ok(Json(json!({"results": subs})))
}

#[derive(Deserialize)]
struct GradesQuery {
    username: Option<String>,
}

fn grade_json(r: &GradeReport) -> Value {
    json!({
        "username": r.username,
        "course_id": r.course_key.to_string(),
        "passed": r.grade.passed,
        "percent": r.grade.percent,
        "letter_grade": r.grade.letter_grade,
        "section_breakdown": r.grade.by_type,
    })
}

async fn grades(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
    Query(q): Query<GradesQuery>,
) -> ApiResult<Json<Value>> {
    let key = course_key(&raw)?;
    let reports = match q.username.filter(|u| !u.is_empty()) {
        Some(name) => vec![state.app.grade_of(&user, &key, &name).await?],
        None if state.app.is_course_author(&user, &key).await? => {
            state.app.course_grades(&user, &key).await?
        }
        None => vec![state.app.my_grade(&user, &key).await?],
    };
    Ok(Json(Value::Array(reports.iter().map(grade_json).collect())))
}
