//! The HTTP service: routes, shared state and the access checks in front of
//! them.
//!
//! | route | what |
//! |---|---|
//! | `GET /api/health` | liveness (no token needed) |
//! | `POST /api/tools/invoke/{tool path}` | run a tool: `{ok: true, data}` or `{ok: false, error}` |
//! | `GET /api/tools?namespace=&q=&prefix=&limit=&offset=` | list or search tools |
//! | `GET /api/tools/{tool path}` | describe one tool (schemas) |
//! | `GET /api/tools/export/openapi?integration=` | the catalog as OpenAPI 3.1 |
//! | `GET /api/sources` | sources with tool counts |
//! | `GET /api/connections`, `POST /api/connections` | list (no secrets) or add a connection |
//! | `DELETE /api/connections/{integration}/{owner}/{name}` | forget a connection |
//! | `GET /api/policies`, `POST /api/policies` | list or add policy rules |
//! | `DELETE /api/policies/{id}`, `POST /api/policies/{id}/move` | remove or reorder a rule |
//! | `GET /api/executions?state=&limit=` | paused and answered calls, newest first |
//! | `GET /api/executions/{id}` | one execution |
//! | `POST /api/executions/{id}/resume` | `{"action": "accept"\|"decline"}`: run or refuse a paused call |
//! | `POST /api/web/login` | a one-time login URL for the web UI (`executor web`) |
//! | `GET /`, `/sources/new`, `/integrations/{ns}`, `/connections`, `/policies`, `/approvals` | the web UI (`web`; a session cookie from `/login`) |
//! | `GET /resume/{id}` | the approval page an `approvalUrl` points to (web UI) |
//! | `GET /login?code=&next=` | trades a one-time code for the web UI's session cookie |
//! | `GET /oauth/callback` | where an OAuth provider sends a person back after signing in (no token: the state is the capability) |
//! | `POST /api/shutdown` | stop the service |

pub mod access;
pub mod listen;
pub mod web;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use generator::emit::openapi::{ExportOptions, document};
use generator::envelope::{ErrorCode, Failure, ToolError};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::errors::error;
use crate::invoke;
use crate::state::AppState;

/// Request bodies up to this size are read (specs added inline can be big).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    let mcp = Arc::new(McpServices::new(&state));
    let api = Router::new()
        .route(
            "/mcp",
            axum::routing::any(move |request: axum::extract::Request| {
                let mcp = mcp.clone();
                async move { mcp.serve(request).await }
            }),
        )
        .route("/api/tools/invoke/{path}", post(invoke_tool))
        .route("/api/tools", get(list_tools))
        .route("/api/tools/export/openapi", get(export_openapi))
        .route("/api/tools/{path}", get(describe_tool))
        .route("/api/sources", get(list_sources))
        .route(
            "/api/connections",
            get(list_connections).post(add_connection),
        )
        .route(
            "/api/connections/{integration}/{owner}/{name}",
            axum::routing::delete(remove_connection),
        )
        .route("/api/policies", get(list_policies).post(add_policy))
        .route("/api/policies/{id}", axum::routing::delete(remove_policy))
        .route("/api/policies/{id}/move", post(move_policy))
        .route("/api/executions", get(list_executions))
        .route("/api/executions/{id}", get(get_execution))
        .route("/api/executions/{id}/resume", post(resume_execution))
        .route("/api/shutdown", post(shutdown))
        .route("/api/web/login", post(crate::http::web::login_url))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::require_token,
        ));
    let pages = Router::new()
        .route("/", get(crate::http::web::home))
        .route("/sources/new", get(crate::http::web::add_source))
        .route(
            "/integrations/{namespace}",
            get(crate::http::web::integration),
        )
        .route("/connections", get(crate::http::web::connections))
        .route("/policies", get(crate::http::web::policies))
        .route("/approvals", get(crate::http::web::approvals))
        .route("/resume/{id}", get(crate::http::web::approval))
        .route("/login", get(crate::http::web::login))
        .route("/assets/app.js", get(crate::http::web::script))
        .route("/assets/app.css", get(crate::http::web::stylesheet))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .layer(axum::middleware::from_fn(crate::http::web::page_headers));
    Router::new()
        .route("/api/health", get(health))
        .route("/oauth/callback", get(oauth_callback))
        .merge(pages)
        .merge(api)
        .fallback(not_found)
        .layer(axum::middleware::from_fn(envelope_rejections))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::check_host_and_origin,
        ))
        .with_state(state)
}

/// Extractors' rejections (a query string that does not parse, a body over
/// [`MAX_BODY_BYTES`], a wrong content type) come from axum as plain text;
/// every answer of this service is an envelope (`/mcp`: a JSON-RPC error),
/// so they are rewrapped here, saying what was wrong and where.
async fn envelope_rejections(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let what = match status {
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "the request body is larger than {}, the most this service reads",
            crate::outbound::size(MAX_BODY_BYTES)
        ),
        _ if text.is_empty() => status
            .canonical_reason()
            .unwrap_or("refused")
            .to_lowercase(),
        _ => text,
    };
    if path == "/mcp" {
        let code = if status == StatusCode::BAD_REQUEST {
            -32700
        } else {
            -32600
        };
        let body = json!({
            "jsonrpc": "2.0",
            "id": null,
            "error": { "code": code, "message": format!("{what}: POST JSON-RPC messages as application/json") }
        });
        return (status, axum::Json(body)).into_response();
    }
    let code = if status.is_server_error() {
        ErrorCode::InternalError
    } else {
        ErrorCode::InvalidInput
    };
    failure(
        status,
        error(
            code,
            format!("{what} (at {path}); see the route's documentation in `executor --help`"),
            None,
        ),
    )
}

/// `/mcp`, `/mcp?tools=discover` and `/mcp?source=<namespace>`: one rmcp
/// service for each view (capabilities and tool lookups get no request, so
/// a view cannot be a branch inside one service). Source views are made on
/// first use.
struct McpServices {
    state: Arc<AppState>,
    all: McpService,
    discover: McpService,
    sources: Mutex<HashMap<String, McpService>>,
}

type McpService = rmcp::transport::streamable_http_server::StreamableHttpService<
    crate::mcp::Handler,
    crate::mcp::sessions::CappedSessions,
>;

impl McpServices {
    fn new(state: &Arc<AppState>) -> McpServices {
        // Sessions hear of catalog changes from the start.
        crate::mcp::Subscribers::of(state);
        McpServices {
            state: state.clone(),
            all: Self::make(state, crate::mcp::Mode::All),
            discover: Self::make(state, crate::mcp::Mode::Discover),
            sources: Mutex::new(HashMap::new()),
        }
    }

    fn make(state: &Arc<AppState>, mode: crate::mcp::Mode) -> McpService {
        let handler = crate::mcp::Handler {
            state: state.clone(),
            mode,
        };
        // Host and Origin are checked in front of every route (`access`);
        // rmcp's own checks are kept as a second line.
        let origins: Vec<String> = state.hosts.iter().map(|h| format!("http://{h}")).collect();
        let config = rmcp::transport::streamable_http_server::StreamableHttpServerConfig::default()
            .with_allowed_hosts(state.hosts.clone())
            .with_allowed_origins(origins)
            .with_cancellation_token(state.cancel.child_token());
        let sessions =
            crate::mcp::sessions::CappedSessions::new(crate::mcp::sessions::max_sessions());
        McpService::new(move || Ok(handler.clone()), Arc::new(sessions), config)
    }

    async fn serve(&self, request: axum::extract::Request) -> Response {
        use tower::ServiceExt;
        let query = request.uri().query().unwrap_or_default().to_owned();
        let mut discover = false;
        let mut source = None;
        for (key, value) in url_pairs(&query) {
            match (key.as_str(), value.as_str()) {
                ("tools", "discover") => discover = true,
                ("source", namespace) => source = Some(namespace.to_owned()),
                _ => {}
            }
        }
        let service = match source {
            Some(namespace) => {
                if self.state.live().catalog.integration(&namespace).is_none() {
                    return failure(
                        StatusCode::NOT_FOUND,
                        error(
                            ErrorCode::ToolNotFound,
                            format!(
                                "no source is named {namespace:?}; `executor tools sources` lists them"
                            ),
                            None,
                        ),
                    );
                }
                let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
                sources
                    .entry(namespace.clone())
                    .or_insert_with(|| {
                        Self::make(&self.state, crate::mcp::Mode::Source(namespace.into()))
                    })
                    .clone()
            }
            None if discover => self.discover.clone(),
            None => self.all.clone(),
        };
        // A POST whose body is not JSON is a JSON-RPC parse error, whatever
        // its content type says.
        let request = if request.method() == axum::http::Method::POST {
            let (parts, body) = request.into_parts();
            let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
                Ok(bytes) => bytes,
                Err(_) => {
                    return parse_error(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the message is too large".into(),
                    );
                }
            };
            if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
                return parse_error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "the message is not JSON (line {}, column {})",
                        e.line(),
                        e.column()
                    ),
                );
            }
            axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))
        } else {
            request
        };
        match service.oneshot(request).await {
            Ok(response) => response.map(axum::body::Body::new),
            Err(never) => match never {},
        }
    }
}

/// `a=b&c=d` as decoded pairs.
/// A JSON-RPC parse error (-32700), as the MCP transport answers one.
fn parse_error(status: StatusCode, message: String) -> Response {
    let body = json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": -32700, "message": message },
    });
    (status, axum::Json(body)).into_response()
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |t: &str| {
                percent_encoding::percent_decode_str(&t.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(key), decode(value))
        })
        .collect()
}

/// A failure envelope with an HTTP status.
pub fn failure(status: StatusCode, error: ToolError) -> Response {
    let body = Failure { ok: false, error };
    (status, axum::Json(body)).into_response()
}

/// `{ "ok": true, "data": ... }`, moving `data` in (`json!` would copy it).
pub fn success(data: Value) -> Response {
    let mut envelope = serde_json::Map::with_capacity(2);
    envelope.insert("ok".into(), Value::Bool(true));
    envelope.insert("data".into(), data);
    axum::Json(Value::Object(envelope)).into_response()
}

/// The status a tool outcome travels with: the caller's mistakes are 4xx;
/// everything the tool itself answered is 200 with the envelope.
fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorCode::ToolNotFound => StatusCode::NOT_FOUND,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
        _ => StatusCode::OK,
    }
}

async fn health() -> Response {
    axum::Json(json!({ "ok": true, "service": "executor", "version": env!("CARGO_PKG_VERSION") }))
        .into_response()
}

/// Until the web UI exists: what is running and where to go from here.
async fn not_found() -> Response {
    failure(
        StatusCode::NOT_FOUND,
        error(
            ErrorCode::ToolNotFound,
            "no such route: tools run at POST /api/tools/invoke/{tool path}",
            None,
        ),
    )
}

async fn invoke_tool(
    State(state): State<Arc<AppState>>,
    Path(path): Path<String>,
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
    match invoke::invoke(&state, &path, input, &invoke::Caller::OWNER).await {
        Ok(data) => success(data),
        Err(e) => failure(status_of(e.code), e),
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    namespace: Option<String>,
    q: Option<String>,
    prefix: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

/// A tool as listings show it.
fn summary(tool: &generator::ir::Tool) -> Value {
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

async fn list_tools(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
) -> Response {
    let live = state.live();
    let limit = query.limit.unwrap_or(50).clamp(1, 1000);
    let offset = query.offset.unwrap_or(0);
    let in_namespace = |t: &generator::ir::Tool| {
        query
            .namespace
            .as_deref()
            .is_none_or(|n| t.integration == n)
    };
    let (total, items): (usize, Vec<Value>) = match (&query.q, &query.prefix) {
        (Some(q), _) if !q.trim().is_empty() => {
            let hits: Vec<_> = live
                .index
                .search(q, usize::MAX)
                .into_iter()
                .filter_map(|h| live.catalog.tool(&h.path).map(|t| (t, h.score)))
                .filter(|(t, _)| in_namespace(t))
                .collect();
            let items = hits
                .iter()
                .skip(offset)
                .take(limit)
                .map(|(t, score)| {
                    let mut s = summary(t);
                    s["score"] = json!((score * 1000.0).round() / 1000.0);
                    s
                })
                .collect();
            (hits.len(), items)
        }
        (_, prefix) => {
            let tools: Vec<&generator::ir::Tool> = match prefix {
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

async fn describe_tool(State(state): State<Arc<AppState>>, Path(path): Path<String>) -> Response {
    let live = state.live();
    match live.resolve(&path) {
        Ok(tool) => {
            let mut data = summary(tool);
            data["input"] = live
                .catalog
                .standalone_schema(tool, generator::ir::SchemaRole::Input);
            data["output"] = live
                .catalog
                .standalone_schema(tool, generator::ir::SchemaRole::Output);
            data["deprecated"] = json!(tool.deprecated);
            axum::Json(json!({ "ok": true, "data": data })).into_response()
        }
        Err(e) => failure(StatusCode::NOT_FOUND, e),
    }
}

#[derive(Debug, Deserialize)]
struct ExportQuery {
    integration: Option<String>,
}

async fn export_openapi(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ExportQuery>,
) -> Response {
    let live = state.live();
    let catalog = match &query.integration {
        Some(name) => match live.catalog.filtered(name) {
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
        None => live.catalog.clone(),
    };
    let options = ExportOptions {
        server_url: format!("http://{}", state.addr),
    };
    let text = generator::emit::to_pretty_json(&document(&catalog, &options));
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response()
}

async fn list_sources(State(state): State<Arc<AppState>>) -> Response {
    match crate::sources::run(&state, crate::builtin::LIST, json!({})).await {
        Ok(data) => axum::Json(json!({ "ok": true, "data": data })).into_response(),
        Err(e) => failure(status_of(e.code), e),
    }
}

/// A JSON request body, or the failure that says what is wrong with it.
fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
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

fn outcome(result: Result<Value, ToolError>) -> Response {
    match result {
        Ok(data) => success(data),
        Err(e) => failure(status_of(e.code), e),
    }
}

async fn list_connections(State(state): State<Arc<AppState>>) -> Response {
    outcome(crate::connections::list(&state).map(|c| json!(c)))
}

async fn add_connection(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    match json_body::<crate::credential::AddConnection>(&body) {
        Ok(input) => outcome(
            crate::connections::add(&state, input)
                .await
                .map(|c| json!(c)),
        ),
        Err(response) => response,
    }
}

async fn remove_connection(
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

async fn list_policies(State(state): State<Arc<AppState>>) -> Response {
    outcome(crate::policies::list(&state).map(|rules| json!(rules)))
}

async fn add_policy(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    match json_body::<crate::builtin::AddPolicy>(&body) {
        Ok(input) => outcome(crate::policies::add(&state, input).map(|r| json!(r))),
        Err(response) => response,
    }
}

async fn remove_policy(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    match crate::policies::remove(&state, &id) {
        Ok(rule) => success(json!(rule)),
        Err(e) if e.code == ErrorCode::InvalidInput => failure(StatusCode::NOT_FOUND, e),
        Err(e) => failure(status_of(e.code), e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    position: usize,
}

async fn move_policy(
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
struct ExecutionsQuery {
    state: Option<String>,
    limit: Option<usize>,
}

async fn list_executions(
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

async fn get_execution(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    match crate::execution::get(&state, &id) {
        Ok(Some(execution)) => success(crate::execution::describe(&state, &execution)),
        Ok(None) => no_execution(&id),
        Err(e) => failure(status_of(e.code), e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResumeBody {
    action: Option<String>,
}

async fn resume_execution(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
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
    match crate::invoke::resume(&state, &id, action).await {
        Ok(Some(result)) => outcome(result),
        Ok(None) => no_execution(&id),
        Err(e) => failure(status_of(e.code), e),
    }
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The end of an OAuth sign-in.
async fn oauth_callback(
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

async fn shutdown(State(state): State<Arc<AppState>>) -> Response {
    tracing::info!("shutdown requested over the API");
    state.shutdown.notify_waiters();
    state.shutdown.notify_one();
    axum::Json(json!({ "ok": true, "data": "stopping" })).into_response()
}
