//! The HTTP service: routes, shared state and the access checks in front of
//! them.
//!
//! | route | what |
//! |---|---|
//! | `GET /api/health` | liveness (no token needed) |
//! | `GET /api/ready` | readiness: the database answers (no token needed; 503 when it does not) |
//! | `GET /api/openapi.json` | this API, described as OpenAPI 3.1 (`described.rs`; no token needed) |
//! | `POST /api/tools/invoke/{tool path}` | run a tool: `{ok: true, data}` or `{ok: false, error}` |
//! | `POST /api/execute` | run a code-mode script `{code}`: `{ok, data, logs}` or `{ok: false, error, logs}` |
//! | `GET /api/tools?namespace=&q=&prefix=&limit=&offset=` | list or search tools |
//! | `GET /api/tools/{tool path}` | describe one tool (schemas) |
//! | `GET /api/tools/export/openapi?integration=&version=` | the catalog as OpenAPI 3.1 (or 3.0.3) |
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
mod api;
mod audit;
pub mod authorize;
mod clients;
mod described;
mod execute;
mod executions;
mod export;
pub mod listen;
pub mod session;
pub mod web;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use generator::envelope::{ErrorCode, Failure, ToolError};
use serde_json::{Value, json};

use crate::errors::error;
use crate::state::AppState;
use api::{
    add_connection, add_policy, describe_tool, invoke_tool, list_connections, list_policies,
    list_sources, list_tools, move_policy, oauth_callback, remove_connection, remove_policy,
    shutdown,
};
use execute::execute;
use executions::{get_execution, list_executions, resume_execution};

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
        .route("/api/execute", post(execute))
        .route("/api/tools", get(list_tools))
        .route("/api/tools/export/openapi", get(export::export_openapi))
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
        .route("/api/web/login", post(crate::http::session::login_url))
        .route("/api/clients", get(clients::list).post(clients::add))
        .route("/api/audit", get(audit::audit))
        .route("/api/clients/{id}", axum::routing::delete(clients::revoke))
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
        .route("/clients", get(clients::page_of_clients))
        .route("/audit", get(audit::page_of_audit))
        .route("/approvals", get(crate::http::web::approvals))
        .route("/resume/{id}", get(crate::http::web::approval))
        .route("/login", get(crate::http::session::login))
        .route(
            "/consent/{id}",
            get(authorize::consent).post(authorize::answer),
        )
        .route("/assets/app.js", get(crate::http::web::script))
        .route("/assets/app.css", get(crate::http::web::stylesheet))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .layer(axum::middleware::from_fn(crate::http::web::page_headers));
    Router::new()
        .route("/api/health", get(health))
        .route("/api/ready", get(ready))
        .route("/api/openapi.json", get(described::openapi_json))
        .route("/oauth/callback", get(oauth_callback))
        .route(
            "/.well-known/oauth-protected-resource",
            get(authorize::resource_metadata),
        )
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(authorize::resource_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(authorize::server_metadata),
        )
        .route("/oauth/register", post(authorize::register))
        .route("/oauth/authorize", get(authorize::authorize))
        .route("/oauth/token", post(authorize::token))
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

/// `/mcp` (by the catalog's size: every tool, or code mode above
/// [`crate::mcp::code_mode_above`]), `/mcp?tools=all`, `?tools=discover`,
/// `?tools=code` and `?source=<namespace>`: one rmcp
/// service for each view (capabilities and tool lookups get no request, so
/// a view cannot be a branch inside one service). Source views are made on
/// first use.
struct McpServices {
    state: Arc<AppState>,
    all: McpService,
    discover: McpService,
    code: McpService,
    /// The sessions of the code view, to keep a session of `/mcp` in the
    /// view it began in when the catalog's size moves the default.
    code_sessions: Arc<crate::mcp::sessions::CappedSessions>,
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
        let (code, code_sessions) = Self::make_with_sessions(state, crate::mcp::Mode::Code);
        McpServices {
            state: state.clone(),
            all: Self::make(state, crate::mcp::Mode::All),
            discover: Self::make(state, crate::mcp::Mode::Discover),
            code,
            code_sessions,
            sources: Mutex::new(HashMap::new()),
        }
    }

    fn make(state: &Arc<AppState>, mode: crate::mcp::Mode) -> McpService {
        Self::make_with_sessions(state, mode).0
    }

    fn make_with_sessions(
        state: &Arc<AppState>,
        mode: crate::mcp::Mode,
    ) -> (McpService, Arc<crate::mcp::sessions::CappedSessions>) {
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
        let sessions = Arc::new(crate::mcp::sessions::CappedSessions::new(
            crate::mcp::sessions::max_sessions(),
        ));
        let service = McpService::new(move || Ok(handler.clone()), sessions.clone(), config);
        (service, sessions)
    }

    async fn serve(&self, request: axum::extract::Request) -> Response {
        use tower::ServiceExt;
        let query = request.uri().query().unwrap_or_default().to_owned();
        let mut discover = false;
        let mut code = false;
        let mut all = false;
        let mut source = None;
        for (key, value) in url_pairs(&query) {
            match (key.as_str(), value.as_str()) {
                ("tools", "discover") => discover = true,
                ("tools", "code") => code = true,
                ("tools", "all") => all = true,
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
            None if code => self.code.clone(),
            None if all => self.all.clone(),
            // The default: by the catalog's size, except that a session
            // stays in the view it began in.
            None => match request
                .headers()
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok())
            {
                Some(session) if self.code_sessions.holds(session) => self.code.clone(),
                Some(_) => self.all.clone(),
                None => match crate::mcp::default_mode(self.state.live().catalog.tools.len()) {
                    crate::mcp::Mode::Code => self.code.clone(),
                    _ => self.all.clone(),
                },
            },
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

/// A JSON-RPC parse error (-32700), as the MCP transport answers one.
fn parse_error(status: StatusCode, message: String) -> Response {
    let body = json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": -32700, "message": message },
    });
    (status, axum::Json(body)).into_response()
}

/// `a=b&c=d` as decoded pairs.
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

#[utoipa::path(
    get,
    path = "/api/health",
    tag = "meta",
    summary = "Liveness: no token needed",
    security(()),
    responses((status = 200, description = "The service runs", body = crate::http::described::Health))
)]
async fn health() -> Response {
    axum::Json(json!({ "ok": true, "service": "executor", "version": env!("CARGO_PKG_VERSION") }))
        .into_response()
}

#[utoipa::path(
    get,
    path = "/api/ready",
    tag = "meta",
    summary = "Readiness: the database answers (for load balancers; no token needed)",
    security(()),
    responses(
        (status = 200, description = "Ready: `{ok: true, store}` with `sqlite` or `postgres`", body = crate::http::described::Ready),
        (status = 503, description = "The database does not answer", body = crate::http::described::Failure)
    )
)]
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let checked = state.clone();
    let answer = tokio::task::spawn_blocking(move || {
        let store = checked.store();
        store.ping().map(|()| store.backend())
    })
    .await;
    match answer {
        Ok(Ok(backend)) => axum::Json(json!({ "ok": true, "store": backend })).into_response(),
        Ok(Err(e)) => {
            // The cause goes to the log; the route needs no token.
            tracing::warn!("readiness: the database does not answer: {e:#}");
            failure(
                StatusCode::SERVICE_UNAVAILABLE,
                error(
                    ErrorCode::InternalError,
                    "not ready: the database does not answer (the cause is in executor's log)",
                    None,
                ),
            )
        }
        Err(_) => failure(
            StatusCode::SERVICE_UNAVAILABLE,
            error(ErrorCode::InternalError, "not ready", None),
        ),
    }
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
