//! The REST API's handlers: each translates its request into a core call
//! (`invoke`, `connections`, `policies`, `execution`, `sources`) and the
//! outcome into an envelope.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use generator::envelope::{ErrorCode, ToolError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{failure, status_of, success};
use crate::errors::error;
use crate::invoke;
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/api/tools/invoke/{path}",
    tag = "tools",
    summary = "Run a tool",
    params(("path" = String, Path, description = "A tool path: canonical (`github.org.main.issues.create`) or short")),
    request_body(content = Object, description = "The tool's input, as its schema says (`GET /api/tools/{path}`)", content_type = "application/json"),
    responses((status = 200, description = "The tool's data, or its failure (a tool's own errors travel with 200)", body = crate::http::described::Envelope), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn invoke_tool(
    State(state): State<Arc<AppState>>,
    Path(path): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let input: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return failure(
                    StatusCode::BAD_REQUEST,
                    error(
                        ErrorCode::InvalidInput,
                        format!(
                            "the request body is not JSON (line {}, column {}): send the tool's input as a JSON object",
                            e.line(),
                            e.column()
                        ),
                        None,
                    ),
                );
            }
        }
    };
    let caller = invoke::Caller::OWNER.via(super::access::owner_via(&headers));
    match invoke::invoke(&state, &path, input, &caller).await {
        Ok(data) => success(data),
        Err(e) => failure(status_of(e.code), e),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// Only this integration's tools.
    namespace: Option<String>,
    /// A search: what the tool should do, in words.
    q: Option<String>,
    /// Only tool paths starting with this.
    prefix: Option<String>,
    /// At most this many.
    limit: Option<usize>,
    /// Skip this many.
    offset: Option<usize>,
    /// With `q`: each hit carries `why`, the factors of its score.
    #[serde(default)]
    explain: bool,
}

/// A tool as listings show it.
fn summary(tool: &crate::catalog::LiveTool) -> Value {
    json!({
        "path": tool.path,
        "integration": tool.integration,
        "name": tool.name,
        "title": tool.title,
        "description": tool.description,
        "annotations": tool.annotations,
        "defaultPolicy": tool.default_policy,
    })
}

#[utoipa::path(
    get,
    path = "/api/tools",
    tag = "tools",
    summary = "List or search tools",
    params(ListQuery),
    responses((status = 200, description = "`{tools, total}`: the page of tools (with `q`: ranked hits)", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn list_tools(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
) -> Response {
    let live = state.live();
    let limit = query.limit.unwrap_or(50).clamp(1, 1000);
    let offset = query.offset.unwrap_or(0);
    let in_namespace = |t: &crate::catalog::LiveTool| {
        query
            .namespace
            .as_deref()
            .is_none_or(|n| t.integration == n)
    };
    let (total, items): (usize, Vec<Value>) = match (&query.q, &query.prefix) {
        (Some(q), _) if !q.trim().is_empty() => {
            let namespace = query.namespace.as_deref();
            // One ranking for both: the explained hits are the same hits.
            let hits: Vec<(String, f64, Option<Value>)> = if query.explain {
                live.explain(q, namespace, usize::MAX)
                    .into_iter()
                    .map(|why| (why.path.clone(), why.score, Some(json!(why))))
                    .collect()
            } else {
                live.search(q, namespace, usize::MAX)
                    .into_iter()
                    .map(|hit| (hit.path, hit.score, None))
                    .collect()
            };
            let items = hits
                .iter()
                .skip(offset)
                .take(limit)
                .filter_map(|(path, score, why)| {
                    let mut s = summary(live.catalog.tool(path)?);
                    s["score"] = json!((score * 1000.0).round() / 1000.0);
                    if let Some(why) = why {
                        s["why"] = why.clone();
                    }
                    Some(s)
                })
                .collect();
            (hits.len(), items)
        }
        (_, prefix) => {
            let tools: Vec<&crate::catalog::LiveTool> = match prefix {
                Some(prefix) => live.under(prefix),
                None => live.catalog.tools.iter().collect(),
            };
            let tools: Vec<_> = tools.into_iter().filter(|t| in_namespace(t)).collect();
            let page = tools
                .iter()
                .skip(offset)
                .take(limit)
                .map(|t| summary(t))
                .collect();
            (tools.len(), page)
        }
    };
    let next = offset.checked_add(limit).filter(|&end| end < total);
    axum::Json(json!({ "ok": true, "data": { "total": total, "offset": offset, "nextOffset": next, "tools": items } }))
        .into_response()
}

#[utoipa::path(
    get,
    path = "/api/tools/{path}",
    tag = "tools",
    summary = "Describe one tool",
    params(("path" = String, Path, description = "A tool path")),
    responses((status = 200, description = "The tool: its schemas, annotations and policy", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn describe_tool(
    State(state): State<Arc<AppState>>,
    Path(path): Path<String>,
) -> Response {
    let live = state.live();
    match live.resolve(&path) {
        Ok(tool) => {
            let mut data = summary(tool);
            data["input"] = live.standalone(tool, generator::ir::SchemaRole::Input);
            data["output"] = live.standalone(tool, generator::ir::SchemaRole::Output);
            data["deprecated"] = json!(tool.deprecated);
            axum::Json(json!({ "ok": true, "data": data })).into_response()
        }
        Err(e) => failure(StatusCode::NOT_FOUND, e),
    }
}

#[utoipa::path(
    get,
    path = "/api/sources",
    tag = "sources",
    summary = "Sources with their tool counts",
    responses((status = 200, description = "`{sources}`", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn list_sources(State(state): State<Arc<AppState>>) -> Response {
    match crate::sources::run(&state, crate::builtin::LIST, json!({})).await {
        Ok(data) => axum::Json(json!({ "ok": true, "data": data })).into_response(),
        Err(e) => failure(status_of(e.code), e),
    }
}

/// A JSON request body, or the failure that says what is wrong with it.
pub(super) fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    let text = if body.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        &body[..]
    };
    serde_json::from_slice(text).map_err(|e| {
        failure(
            StatusCode::BAD_REQUEST,
            error(
                ErrorCode::InvalidInput,
                format!("invalid request body: {e}"),
                None,
            ),
        )
    })
}

pub(super) fn outcome(result: Result<Value, ToolError>) -> Response {
    match result {
        Ok(data) => success(data),
        Err(e) => failure(status_of(e.code), e),
    }
}

#[utoipa::path(
    get,
    path = "/api/connections",
    tag = "connections",
    summary = "Connections (never their secrets)",
    responses((status = 200, description = "`{connections}`", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn list_connections(State(state): State<Arc<AppState>>) -> Response {
    outcome(crate::connections::list(&state).map(|c| json!(c)))
}

#[utoipa::path(
    post,
    path = "/api/connections",
    tag = "connections",
    summary = "Add a connection",
    request_body(content = Object, description = "`{integration, owner?, name?, auth?, secret}`: see `executor connections add --help`", content_type = "application/json"),
    responses((status = 200, description = "The connection, without its secret", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn add_connection(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    match json_body::<crate::credential::AddConnection>(&body) {
        Ok(input) => outcome(
            crate::connections::add(&state, input)
                .await
                .map(|c| json!(c)),
        ),
        Err(response) => response,
    }
}

#[utoipa::path(
    delete,
    path = "/api/connections/{integration}/{owner}/{name}",
    tag = "connections",
    summary = "Forget a connection",
    params(("integration" = String, Path, description = "The integration (namespace)"), ("owner" = String, Path, description = "The owner, e.g. `org`"), ("name" = String, Path, description = "The connection, e.g. `main`")),
    responses((status = 200, description = "What was removed", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn remove_connection(
    State(state): State<Arc<AppState>>,
    Path((integration, owner, name)): Path<(String, String, String)>,
) -> Response {
    let owner = match owner.as_str() {
        "org" => generator::ir::Owner::Org,
        "user" => generator::ir::Owner::User,
        other => {
            return failure(
                StatusCode::BAD_REQUEST,
                error(
                    ErrorCode::InvalidInput,
                    format!("the owner is org or user, not {other:?}"),
                    None,
                ),
            );
        }
    };
    let input = crate::credential::ConnectionName {
        integration,
        owner,
        name: Some(name),
    };
    match crate::connections::remove(&state, input).await {
        Ok(v) => success(v),
        Err(e) if e.code == ErrorCode::InvalidInput => failure(StatusCode::NOT_FOUND, e),
        Err(e) => failure(status_of(e.code), e),
    }
}

#[utoipa::path(
    get,
    path = "/api/policies",
    tag = "policies",
    summary = "Policy rules, in order",
    responses((status = 200, description = "`{rules}`", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn list_policies(State(state): State<Arc<AppState>>) -> Response {
    outcome(crate::policies::list(&state).map(|rules| json!(rules)))
}

#[utoipa::path(
    post,
    path = "/api/policies",
    tag = "policies",
    summary = "Add a policy rule",
    request_body(content = Object, description = "`{pattern, action, position?}`: action `allow`, `require_approval` or `block`; position 1 is first", content_type = "application/json"),
    responses((status = 200, description = "The rule", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn add_policy(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    match json_body::<crate::builtin::AddPolicy>(&body) {
        Ok(input) => outcome(crate::policies::add(&state, input).map(|r| json!(r))),
        Err(response) => response,
    }
}

#[utoipa::path(
    delete,
    path = "/api/policies/{id}",
    tag = "policies",
    summary = "Remove a policy rule",
    params(("id" = String, Path, description = "The rule")),
    responses((status = 200, description = "The rule removed", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn remove_policy(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Response {
    match crate::policies::remove(&state, &id) {
        Ok(rule) => success(json!(rule)),
        Err(e) if e.code == ErrorCode::InvalidInput => failure(StatusCode::NOT_FOUND, e),
        Err(e) => failure(status_of(e.code), e),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MoveBody {
    /// The rule's new place: 1 is first.
    position: usize,
}

#[utoipa::path(
    post,
    path = "/api/policies/{id}/move",
    tag = "policies",
    summary = "Move a rule to a position",
    params(("id" = String, Path, description = "The rule")),
    request_body(content = MoveBody, content_type = "application/json"),
    responses((status = 200, description = "The rules, in their new order", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn move_policy(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    match json_body::<MoveBody>(&body) {
        Ok(m) => outcome(crate::policies::move_to(&state, &id, m.position).map(|r| json!(r))),
        Err(response) => response,
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The end of an OAuth sign-in.
pub(super) async fn oauth_callback(
    State(state): State<Arc<AppState>>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let page = |status: StatusCode, title: &str, text: &str| {
        let html = format!(
            "<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>\
             <body style=\"font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto\">\
             <h1>{title}</h1><p>{}</p></body></html>",
            escape_html(text)
        );
        (status, axum::response::Html(html)).into_response()
    };
    if let Some(e) = &query.error {
        return page(
            StatusCode::BAD_REQUEST,
            "Sign-in refused",
            &format!(
                "The provider said: {e} {}",
                query.error_description.as_deref().unwrap_or_default()
            ),
        );
    }
    let (Some(code), Some(csrf)) = (&query.code, &query.state) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Sign-in incomplete",
            "The provider sent no code or state back.",
        );
    };
    if state.mcp_signins.owns(csrf).await {
        let added = match state.mcp_signins.complete(csrf, code).await {
            Ok((namespace, target, options)) => {
                crate::sources::finish_mcp_sign_in(&state, namespace, target, options).await
            }
            Err(e) => Err(e),
        };
        return match added {
            Ok(report) => page(
                StatusCode::OK,
                "Signed in",
                &format!(
                    "Source {} is added with {} tools. You can close this tab.",
                    report.namespace, report.tools
                ),
            ),
            Err(e) => page(StatusCode::BAD_REQUEST, "Sign-in failed", &e.message),
        };
    }
    match state.oauth.complete(&state, csrf, code).await {
        Ok(connection) => page(
            StatusCode::OK,
            "Signed in",
            &format!("Connection {connection} is ready. You can close this tab."),
        ),
        Err(e) => page(StatusCode::BAD_REQUEST, "Sign-in failed", &e.message),
    }
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[utoipa::path(
    post,
    path = "/api/shutdown",
    tag = "meta",
    summary = "Stop the service",
    responses((status = 200, description = "It stops once this answer is sent", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub(super) async fn shutdown(State(state): State<Arc<AppState>>) -> Response {
    tracing::info!("shutdown requested over the API");
    state.shutdown.notify_waiters();
    state.shutdown.notify_one();
    axum::Json(json!({ "ok": true, "data": "stopping" })).into_response()
}
