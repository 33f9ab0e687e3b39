//! A course tree is stored as JSON text on both backends; (de)serialising a
//! large course runs on Lectern's CPU pool, never on an async worker.

use lectern_app::store::StoreResult;
use lectern_app::StoreError;
use lectern_content::CourseTree;

pub(crate) fn tree_to_json(tree: &CourseTree) -> StoreResult<String> {
    serde_json::to_string(tree)
        .map_err(|e| StoreError::Internal(format!("serialising a course: {e}")))
}

pub(crate) fn tree_from_json(json: &str) -> StoreResult<CourseTree> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Internal(format!("stored course does not parse: {e}")))
}

fn from_cpu_error(e: lectern_app::AppError) -> StoreError {
    match e {
        lectern_app::AppError::Unavailable(m) => StoreError::Unavailable(m),
        other => StoreError::Internal(other.to_string()),
    }
}

/// [`tree_to_json`] through Lectern's CPU pool (see `lectern_app::cpu`).
pub(crate) async fn tree_to_json_off_async(tree: &CourseTree) -> StoreResult<String> {
    lectern_app::cpu::run_borrowed(|| tree_to_json(tree))
        .await
        .map_err(from_cpu_error)?
}

/// [`tree_from_json`] on Lectern's CPU pool: a stored course can be large,
/// and parsing it must not hold up an async worker (see `lectern_app::cpu`).
pub(crate) async fn tree_from_json_off_thread(json: String) -> StoreResult<CourseTree> {
    lectern_app::cpu::run(move || tree_from_json(&json))
        .await
        .map_err(from_cpu_error)?
}
