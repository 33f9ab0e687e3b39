//! `GET /api/courses/v1/blocks/`: a course's blocks as Open edX's v1 blocks
//! API gives them, honouring `username` (whose view; required unless
//! `all_blocks=true`, which is for the course team), `depth` (default 0:
//! the root only; a number or `all`), `requested_fields` (besides the fields
//! always given), `block_types_filter`, `block_counts` and `return_type`
//! (`dict` or `list`). `student_view_data` is accepted; no block type has
//! any yet.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use lectern_app::learning::parse_date;
use lectern_app::AppError;
use lectern_content::tree::{level_of, Level};
use lectern_content::{BlockRef, CourseTree};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::routes::course_key;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/courses/v1/blocks/", get(blocks))
}

#[derive(Deserialize, Default)]
struct BlocksQuery {
    course_id: Option<String>,
    username: Option<String>,
    all_blocks: Option<String>,
    depth: Option<String>,
    requested_fields: Option<String>,
    block_types_filter: Option<String>,
    block_counts: Option<String>,
    return_type: Option<String>,
    #[allow(dead_code)]
    student_view_data: Option<String>,
}

/// A comma-separated list, bounded (a query string is small anyway).
fn list(raw: Option<&str>) -> HashSet<String> {
    raw.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 64)
        .take(64)
        .map(str::to_string)
        .collect()
}

fn truthy(v: Option<&str>) -> bool {
    matches!(
        v.map(str::to_ascii_lowercase).as_deref(),
        Some("true" | "1" | "yes")
    )
}

async fn blocks(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(q): Query<BlocksQuery>,
) -> ApiResult<Json<Value>> {
    let raw = q
        .course_id
        .as_deref()
        .ok_or_else(|| AppError::field("course_id", "course_id is required."))?;
    let key = course_key(raw)?;
    let all_blocks = truthy(q.all_blocks.as_deref());
    let username = q
        .username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let staff = state.app.is_course_author(&user, &key).await?;
    // Whose view: the named user's (yourself, or anyone for the team), or the team's whole course.
    let sees = if all_blocks {
        if !staff {
            return Err(AppError::Forbidden("all_blocks is for the course team.".into()).into());
        }
        state.app.visibility(&user, &key).await?
    } else {
        let name = username.ok_or_else(|| {
            AppError::field(
                "username",
                "username is required unless all_blocks is true.",
            )
        })?;
        let target = if name.eq_ignore_ascii_case(&user.username) {
            user.clone()
        } else if staff {
            state.app.user_by_username(name).await?
        } else {
            return Err(AppError::Forbidden(
                "You may only ask for your own view of a course.".into(),
            )
            .into());
        };
        state.app.courseware(&target, &key).await?;
        state.app.visibility(&target, &key).await?
    };
    let course = state.app.published_course(&key).await?;
    let max_depth =
        match q.depth.as_deref().map(str::trim) {
            None | Some("") => Some(0),
            Some("all") => None,
            Some(d) => Some(d.parse::<usize>().map_err(|_| {
                AppError::field("depth", "depth must be a whole number or \"all\".")
            })?),
        };
    let fields = list(q.requested_fields.as_deref());
    let types = list(q.block_types_filter.as_deref());
    let counted = list(q.block_counts.as_deref());
    let tree = &course.tree;
    let visible = |r: &BlockRef| sees.shows(tree, r);

    // Breadth-first from the root, to the requested depth, skipping what the viewer cannot see.
    let root = CourseTree::root_ref();
    let mut depth_of: HashMap<BlockRef, usize> = HashMap::new();
    let mut order = Vec::new();
    let mut queue = VecDeque::from([(root.clone(), 0usize)]);
    while let Some((r, d)) = queue.pop_front() {
        if depth_of.contains_key(&r) || !visible(&r) {
            continue;
        }
        depth_of.insert(r.clone(), d);
        order.push(r.clone());
        if max_depth.is_some_and(|m| d >= m) {
            continue;
        }
        if let Some(b) = tree.block(&r) {
            for c in &b.children {
                queue.push_back((c.clone(), d + 1));
            }
        }
    }

    let mut out: Vec<(String, Value)> = Vec::new();
    for r in &order {
        let Some(b) = tree.block(r) else { continue };
        if !types.is_empty() && !types.contains(&b.block_type) {
            continue;
        }
        let usage = tree.usage_key(r).to_string();
        let unit = tree
            .ancestry(r)
            .into_iter()
            .find(|a| a.block_type == "vertical");
        let web_url = match (level_of(&b.block_type), &unit) {
            (Level::Course, _) => format!("/courses/{key}/"),
            (_, Some(u)) => format!("/courses/{key}/unit/{}", u.id),
            _ => format!("/courses/{key}/jump_to/{usage}"),
        };
        let mut o = Map::new();
        o.insert("id".into(), json!(usage));
        o.insert("block_id".into(), json!(b.id));
        o.insert("lms_web_url".into(), json!(web_url));
        o.insert("legacy_web_url".into(), json!(web_url));
        o.insert("student_view_url".into(), json!(web_url));
        o.insert("type".into(), json!(b.block_type));
        o.insert("display_name".into(), json!(b.title()));
        for f in &fields {
            let v = match f.as_str() {
                "children" => json!(b
                    .children
                    .iter()
                    .filter(|c| depth_of.contains_key(*c))
                    .map(|c| tree.usage_key(c).to_string())
                    .collect::<Vec<_>>()),
                "graded" => json!(tree.effective_field(r, "graded").as_deref() == Some("true")),
                "format" => json!(tree.effective_field(r, "format")),
                "due" => json!(tree
                    .effective_field(r, "due")
                    .as_deref()
                    .and_then(parse_date)
                    .map(|d| d.to_rfc3339())),
                "start" => json!(b
                    .field("start")
                    .and_then(parse_date)
                    .map(|d| d.to_rfc3339())),
                "student_view_multi_device" => json!(matches!(
                    b.block_type.as_str(),
                    "html" | "problem" | "video"
                )),
                "has_score" => json!(b.block_type == "problem"),
                "block_counts" => continue,
                _ => continue,
            };
            o.insert(f.clone(), v);
        }
        if !counted.is_empty() {
            let mut counts = BTreeMap::new();
            for t in &counted {
                counts.insert(t.clone(), count_of(tree, r, t, &visible));
            }
            o.insert("block_counts".into(), json!(counts));
        }
        out.push((usage, Value::Object(o)));
    }
    if q.return_type.as_deref() == Some("list") {
        return Ok(Json(Value::Array(
            out.into_iter().map(|(_, v)| v).collect(),
        )));
    }
    let blocks: Map<String, Value> = out.into_iter().collect();
    Ok(Json(
        json!({"root": tree.usage_key(&root).to_string(), "blocks": blocks}),
    ))
}

/// Visible blocks of type `t` at or under `r`.
fn count_of(
    tree: &CourseTree,
    r: &BlockRef,
    t: &str,
    visible: &dyn Fn(&BlockRef) -> bool,
) -> usize {
    let mut n = 0;
    let mut stack = vec![r.clone()];
    let mut seen = HashSet::new();
    while let Some(x) = stack.pop() {
        if !seen.insert(x.clone()) || !visible(&x) {
            continue;
        }
        if let Some(b) = tree.block(&x) {
            if b.block_type == t {
                n += 1;
            }
            stack.extend(b.children.iter().cloned());
        }
    }
    n
}
