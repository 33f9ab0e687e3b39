//! The versioned JSON API, with Open edX's paths and field names so that
//! clients written for Open edX need little change.

mod accounts;
mod backup;
mod blocks_v1;
mod certificates;
mod cohorts;
mod courses;
mod discussion_json;
mod discussion_roles;
mod discussions;
mod modes;
mod openapi;
mod openapi_certificates;
mod openapi_cohorts;
mod openapi_discussions;
mod openapi_idempotency;
mod openapi_more;
mod openapi_search;
pub mod problems;
mod roster;
mod user;

use axum::Router;
use serde::Serialize;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(accounts::router())
        .merge(backup::router())
        .merge(courses::router())
        .merge(discussions::router())
        .merge(discussion_roles::router())
        .merge(openapi::router())
        .merge(problems::router())
        .merge(user::router())
        .merge(modes::router())
        .merge(roster::router())
        .merge(blocks_v1::router())
        .merge(certificates::router())
        .merge(cohorts::router())
}

/// Open edX's list envelope.
#[derive(Serialize)]
pub struct Page<T: Serialize> {
    pub results: Vec<T>,
    pub pagination: Pagination,
}

#[derive(Serialize)]
pub struct Pagination {
    pub next: Option<String>,
    pub previous: Option<String>,
    pub count: usize,
    pub num_pages: usize,
}

/// Slices `items` into page `page` (1-based) of `size`, with next/previous links.
pub fn paginate<T: Serialize>(items: Vec<T>, page: usize, size: usize, base: &str) -> Page<T> {
    let size = size.clamp(1, 100);
    let count = items.len();
    let num_pages = count.div_ceil(size).max(1);
    let page = page.clamp(1, num_pages);
    let link = |p: usize| {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}page={p}&page_size={size}")
    };
    let results = items
        .into_iter()
        .skip((page - 1) * size)
        .take(size)
        .collect();
    Page {
        results,
        pagination: Pagination {
            next: (page < num_pages).then(|| link(page + 1)),
            previous: (page > 1).then(|| link(page - 1)),
            count,
            num_pages,
        },
    }
}
