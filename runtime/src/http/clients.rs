//! The owner's side of clients: `/api/clients` (list, mint, revoke) and
//! the Clients page.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use generator::envelope::ErrorCode;
use serde_json::{Value, json};

use super::session::Signed;
use super::web::{Page, page, render};
use crate::clients::{self, OAuthError};
use crate::errors::error;
use crate::http::{failure, success};
use crate::state::AppState;

/// `GET /api/clients`: every client, without any token.
#[utoipa::path(
    get,
    path = "/api/clients",
    tag = "clients",
    summary = "Clients: signed-in agents and minted tokens",
    responses((status = 200, description = "`{clients}` (never their tokens)", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub async fn list(State(state): State<Arc<AppState>>) -> Response {
    match clients::list(&state) {
        Ok(list) => success(json!({ "clients": list })),
        Err(e) => failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::errors::internal_error(e, "list clients"),
        ),
    }
}

/// `POST /api/clients` `{name, scope, approveAll?, days?}`: a client with a
/// token of its own for `/mcp`, shown this once.
#[utoipa::path(
    post,
    path = "/api/clients",
    tag = "clients",
    summary = "Mint a client with its own token",
    request_body(content = Object, description = "`{name, scope, approveAll?, days?}`", content_type = "application/json"),
    responses((status = 200, description = "The client and its token, shown this once", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub async fn add(
    State(state): State<Arc<AppState>>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let name = body["name"].as_str().unwrap_or_default();
    if name.trim().is_empty() {
        return failure(
            StatusCode::BAD_REQUEST,
            error(
                ErrorCode::InvalidInput,
                "name is required: what the client is, e.g. \"ci\"",
                None,
            ),
        );
    }
    let scope: Vec<String> = match &body["scope"] {
        Value::Null => vec!["*".to_owned()],
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Value::String(one) => vec![one.clone()],
        _ => Vec::new(),
    };
    let approve_all = body["approveAll"].as_bool().unwrap_or(false);
    let days = body["days"].as_i64().unwrap_or(90);
    match clients::mint(&state, name, scope, approve_all, days) {
        Ok((client, token)) => success(json!({ "client": client, "token": token })),
        Err(e) => client_failure(e),
    }
}

/// `DELETE /api/clients/{id}`: revoked at once; `{id}` may be a unique name.
#[utoipa::path(
    delete,
    path = "/api/clients/{id}",
    tag = "clients",
    summary = "Revoke a client: its tokens stop at once",
    params(("id" = String, Path, description = "The client")),
    responses((status = 200, description = "The client revoked", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub async fn revoke(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    match clients::revoke(&state, &id) {
        Ok(client) => success(json!({ "client": client })),
        Err(e) => client_failure(e),
    }
}

/// A refusal of `/api/clients` as an envelope: the caller's mistake (404,
/// 400) or executor's own (500).
fn client_failure(e: OAuthError) -> Response {
    let status = match e.code {
        "not_found" => StatusCode::NOT_FOUND,
        "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    failure(status, error(ErrorCode::InvalidInput, e.description, None))
}

struct ClientRow {
    id: String,
    name: String,
    kind: String,
    state: &'static str,
    scope: String,
    created: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "web/clients.html")]
struct ClientsPage {
    page: Page,
    clients: Vec<ClientRow>,
}

fn when(at: Option<i64>) -> String {
    at.map(|at| {
        let ago = crate::store::now() - at;
        match ago {
            ..60 => "just now".to_owned(),
            60..3600 => format!("{} min ago", ago / 60),
            3600..86400 => format!("{} h ago", ago / 3600),
            _ => format!("{} days ago", ago / 86400),
        }
    })
    .unwrap_or_else(|| "never".to_owned())
}

/// `/clients`: who may use `/mcp`, with their scopes; revoke buttons.
pub async fn page_of_clients(State(state): State<Arc<AppState>>, Signed(csrf): Signed) -> Response {
    let clients = crate::clients::list(&state)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .map(|c| ClientRow {
            state: if c.revoked_at.is_some() {
                "revoked"
            } else if c.approved {
                "active"
            } else {
                "waiting for consent"
            },
            scope: format!(
                "{}{}",
                c.scope.join(", "),
                if c.approve_all {
                    " (every call needs approval)"
                } else {
                    ""
                }
            ),
            created: when(Some(c.created_at)),
            last_used: when(c.last_used_at),
            id: c.id,
            name: c.name,
            kind: c.kind,
        })
        .collect();
    render(&ClientsPage {
        page: page(&state, csrf),
        clients,
    })
    .into_response()
}
