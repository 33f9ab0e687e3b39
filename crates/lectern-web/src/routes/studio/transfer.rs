//! Course import (upload an Open edX export) and export (download one).

use axum::Router;

use crate::state::AppState;

pub fn router(_state: &AppState) -> Router<AppState> {
    Router::new()
}
