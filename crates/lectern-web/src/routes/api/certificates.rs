//! Open edX's certificate API, v0: one learner's certificate in a course
//! and all of a learner's certificates, in Open edX's field names
//! (`lectern_app::certificates::OpenEdxCertificate`). The learner themself
//! and admins may read them (the course team too, for their course);
//! others get 403; no such learner or certificate is 404.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use lectern_app::certificates::OpenEdxCertificate;

use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::routes::course_key;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/certificates/v0/certificates/{username}/courses/{course_id}/",
            get(one),
        )
        .route(
            "/api/certificates/v0/certificates/{username}/courses/{course_id}",
            get(one),
        )
        .route("/api/certificates/v0/certificates/{username}/", get(all))
        .route("/api/certificates/v0/certificates/{username}", get(all))
}

async fn one(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((username, raw)): Path<(String, String)>,
) -> ApiResult<Json<OpenEdxCertificate>> {
    let key = course_key(&raw)?;
    Ok(Json(
        state
            .app
            .openedx_certificate(&user, &username, &key)
            .await?,
    ))
}

async fn all(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(username): Path<String>,
) -> ApiResult<Json<Vec<OpenEdxCertificate>>> {
    Ok(Json(
        state.app.openedx_certificates(&user, &username).await?,
    ))
}
