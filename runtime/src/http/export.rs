//! `GET /api/tools/export/openapi[?integration=][&version=3.0]`: the live
//! catalog as an OpenAPI document, 3.1 by default or 3.0.3 (for generators
//! that read 3.0 only; what 3.0 could not say goes in the
//! `x-executor-diagnostics` header as a count, and in full with `executor
//! generate --openapi 3.0`).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use generator::emit::openapi::ExportOptions;
use generator::envelope::ErrorCode;
use serde::Deserialize;

use super::failure;
use crate::errors::error;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ExportQuery {
    /// Only this integration's tools.
    integration: Option<String>,
    /// `3.1` (the default) or `3.0`.
    version: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/tools/export/openapi",
    tag = "tools",
    summary = "The catalog as an OpenAPI document",
    params(ExportQuery),
    responses((status = 200, description = "An OpenAPI 3.1 (or, with `version=3.0`, 3.0.3) document of the catalog", body = Object), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn export_openapi(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let live = state.live();
    let catalog = match &query.integration {
        Some(name) => match live.full_catalog(Some(name)) {
            Some(c) => c,
            None => {
                return failure(
                    StatusCode::NOT_FOUND,
                    error(
                        ErrorCode::ToolNotFound,
                        format!("no integration is named {name:?}"),
                        None,
                    ),
                );
            }
        },
        None => live.full_catalog(None).unwrap_or_default(),
    };
    let options = ExportOptions {
        server_url: format!("http://{}", state.addr),
    };
    let (document, lost) = match query.version.as_deref() {
        None | Some("3.1") => (generator::emit::openapi::document(&catalog, &options), 0),
        Some("3.0") => {
            let (document, lost) = generator::emit::openapi30::document(&catalog, &options);
            (generator::emit::openapi30::to_value(&document), lost.len())
        }
        Some(other) => {
            return failure(
                StatusCode::BAD_REQUEST,
                error(
                    ErrorCode::InvalidInput,
                    format!("version {other:?} is not offered: 3.1 (the default) or 3.0"),
                    None,
                ),
            );
        }
    };
    let text = generator::emit::to_pretty_json(&document);
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json".to_owned(),
            ),
            (
                axum::http::HeaderName::from_static("x-executor-diagnostics"),
                lost.to_string(),
            ),
        ],
        text,
    )
        .into_response()
}
