//! `POST /api/execute`: code mode over REST.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use generator::envelope::ErrorCode;
use serde::Deserialize;
use serde_json::json;

use super::{failure, status_of};
use crate::errors::error;
use crate::invoke;
use crate::state::AppState;

/// `POST /api/execute` `{ "code": "..." }`: a code-mode script as the
/// owner; the envelope carries the run's `logs`.
#[utoipa::path(
    post,
    path = "/api/execute",
    tag = "tools",
    summary = "Run a code-mode script",
    request_body(content = Object, description = "`{\"code\": \"...\"}`: a TypeScript program against `tools`", content_type = "application/json"),
    responses((status = 200, description = "The script's result and logs, or why it stopped", body = crate::http::described::Envelope), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn execute(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Script {
        code: String,
    }
    let script: Script = match serde_json::from_slice(&body) {
        Ok(script) => script,
        Err(e) => {
            return failure(
                StatusCode::BAD_REQUEST,
                error(
                    ErrorCode::InvalidInput,
                    format!("the request body must be {{\"code\": \"...\"}} (TypeScript): {e}"),
                    None,
                ),
            );
        }
    };
    let run = crate::code::execute(&state, &script.code, &invoke::Caller::OWNER).await;
    let (status, mut envelope) = match run.result {
        Ok(data) => (StatusCode::OK, json!({ "ok": true, "data": data })),
        Err(e) => (status_of(e.code), json!({ "ok": false, "error": e })),
    };
    envelope["logs"] = json!(run.logs);
    (status, axum::Json(envelope)).into_response()
}
