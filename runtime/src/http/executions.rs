//! The executions routes: paused and answered calls, one of them, and the
//! answer to a pause (`POST /api/executions/{id}/resume`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use generator::envelope::ErrorCode;
use serde::Deserialize;
use serde_json::Value;

use super::api::{json_body, outcome};
use super::{failure, status_of, success};
use crate::errors::error;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ExecutionsQuery {
    /// Only executions in this state: `paused`, `approved`, `declined`, `completed`, `failed`, `expired`.
    state: Option<String>,
    /// At most this many.
    limit: Option<usize>,
}

#[utoipa::path(
    get,
    path = "/api/executions",
    tag = "executions",
    summary = "Paused and answered calls, newest first",
    params(ExecutionsQuery),
    responses((status = 200, description = "`{executions}`", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn list_executions(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ExecutionsQuery>,
) -> Response {
    let filter = match query.state.as_deref() {
        None | Some("") => None,
        Some(text) => match crate::store::ExecutionState::parse(text) {
            Some(s) => Some(s),
            None => {
                return failure(
                    StatusCode::BAD_REQUEST,
                    error(
                        ErrorCode::InvalidInput,
                        format!(
                            "unknown state {text:?}: use paused, approved, declined, completed, failed or expired"
                        ),
                        None,
                    ),
                );
            }
        },
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    outcome(crate::execution::list(&state, filter, limit).map(|list| {
        Value::Array(
            list.iter()
                .map(|e| crate::execution::describe(&state, e))
                .collect(),
        )
    }))
}

fn no_execution(id: &str) -> Response {
    failure(
        StatusCode::NOT_FOUND,
        error(
            ErrorCode::InvalidInput,
            format!(
                "no execution has the id {id:?}; `GET /api/executions?state=paused` lists the paused ones"
            ),
            None,
        ),
    )
}

#[utoipa::path(
    get,
    path = "/api/executions/{id}",
    tag = "executions",
    summary = "One execution",
    params(("id" = String, Path, description = "`exec_...`")),
    responses((status = 200, description = "The execution: its state, and its result once final", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn get_execution(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Response {
    match crate::execution::get(&state, &id) {
        Ok(Some(execution)) => success(crate::execution::describe(&state, &execution)),
        Ok(None) => no_execution(&id),
        Err(e) => failure(status_of(e.code), e),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ResumeBody {
    /// `accept` (the default: run the call) or `decline`.
    action: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/executions/{id}/resume",
    tag = "executions",
    summary = "Run or refuse a paused call",
    params(("id" = String, Path, description = "`exec_...`")),
    request_body(content = ResumeBody, content_type = "application/json"),
    responses((status = 200, description = "The call's outcome", body = crate::http::described::Envelope), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn resume_execution(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let body = match json_body::<ResumeBody>(&body) {
        Ok(b) => b,
        Err(response) => return response,
    };
    let text = body.action.as_deref().unwrap_or("accept");
    let Some(action) = crate::execution::Action::parse(text) else {
        return failure(
            StatusCode::BAD_REQUEST,
            error(
                ErrorCode::InvalidInput,
                format!(
                    "unknown action {text:?}: send {{\"action\": \"accept\"}} or {{\"action\": \"decline\"}}"
                ),
                None,
            ),
        );
    };
    let by = format!("the owner ({})", super::access::owner_via(&headers));
    match crate::code::resume(&state, &id, action, &by).await {
        Ok(Some(result)) => outcome(result),
        Ok(None) => no_execution(&id),
        Err(e) => failure(status_of(e.code), e),
    }
}
