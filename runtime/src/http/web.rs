//! The web UI: pages rendered on the server from askama templates
//! (`templates/web/`), with one small plain script (`app.js`) that calls
//! the same `/api` routes the CLI uses. No front-end build step.
//!
//! Access: `executor web` asks the service (with the bearer token) for a
//! one-time login URL; opening it trades the code for a session cookie
//! (HttpOnly, SameSite=Strict, valid twelve hours, kept in memory: a
//! restart signs the browser out). Each session has a CSRF token that the
//! pages carry and the script sends as `x-csrf-token`; `/api` accepts a
//! session only together with that header (see `access::require_token`).
//! With the host and origin checks, a page on another site can neither read
//! the UI nor make it act.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use crate::state::AppState;

/// The session cookie's name carries the port: browsers share cookies
/// across the ports of one host, and two services (or any other local
/// server) must not see or overwrite each other's sessions by name.
fn cookie_name(port: u16) -> String {
    format!("executor_session_{port}")
}
/// A login URL works once, within this time.
const LOGIN_TTL: Duration = Duration::from_secs(300);
const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

pub struct Sessions {
    cookie: String,
    logins: Mutex<HashMap<String, Instant>>,
    sessions: Mutex<HashMap<String, Session>>,
}

struct Session {
    csrf: String,
    expires: Instant,
}

fn random() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The web UI's sessions, kept in the state's surface slot.
pub fn sessions(state: &AppState) -> Arc<Sessions> {
    state
        .surfaces
        .get_or_insert_with(|| Sessions::new(state.addr.port()))
}

impl Sessions {
    pub fn new(port: u16) -> Sessions {
        Sessions {
            cookie: cookie_name(port),
            logins: Mutex::default(),
            sessions: Mutex::default(),
        }
    }

    /// A new one-time login code.
    pub fn login_code(&self) -> anyhow::Result<String> {
        let code = random()?;
        let mut logins = self.logins.lock().unwrap_or_else(|e| e.into_inner());
        logins.retain(|_, issued| issued.elapsed() < LOGIN_TTL);
        logins.insert(code.clone(), Instant::now());
        Ok(code)
    }

    /// Trades a login code (once) for a new session id.
    fn redeem(&self, code: &str) -> Option<String> {
        let issued = self
            .logins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(code)?;
        if issued.elapsed() >= LOGIN_TTL {
            return None;
        }
        let id = random().ok()?;
        let csrf = random().ok()?;
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(
            id.clone(),
            Session {
                csrf,
                expires: now + SESSION_TTL,
            },
        );
        Some(id)
    }

    /// The CSRF token of the request's session, if it has a live one.
    pub fn csrf(&self, headers: &HeaderMap) -> Option<String> {
        let id = cookie(headers, &self.cookie)?;
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions
            .get(&id)
            .filter(|s| s.expires > Instant::now())
            .map(|s| s.csrf.clone())
    }

    /// A live session cookie together with its CSRF token in `x-csrf-token`.
    pub fn authorizes(&self, headers: &HeaderMap) -> bool {
        let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
        match (self.csrf(headers), sent) {
            (Some(expected), Some(sent)) => {
                crate::http::access::same(expected.as_bytes(), sent.as_bytes())
            }
            _ => false,
        }
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

/// `POST /api/web/login` (bearer token): a one-time login URL.
pub async fn login_url(State(state): State<Arc<AppState>>) -> Response {
    match sessions(&state).login_code() {
        Ok(code) => axum::Json(json!({
            "ok": true,
            "data": { "url": format!("http://{}/login?code={code}", state.addr) }
        }))
        .into_response(),
        Err(e) => crate::http::failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::errors::internal_error(e, "make a login code"),
        ),
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    code: String,
    #[serde(default)]
    next: Option<String>,
}

/// `GET /login?code=...`: the session cookie, then the page asked for.
pub async fn login(State(state): State<Arc<AppState>>, Query(q): Query<LoginQuery>) -> Response {
    let Some(id) = sessions(&state).redeem(&q.code) else {
        return (
            StatusCode::UNAUTHORIZED,
            signed_out(
                &state,
                "This login link was used already or has expired.",
                None,
            ),
        )
            .into_response();
    };
    // Only plain paths of this service: never an open redirect.
    let next = q
        .next
        .filter(|n| plain_path(n))
        .unwrap_or_else(|| "/".into());
    let cookie = format!(
        "{}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        sessions(&state).cookie,
        SESSION_TTL.as_secs()
    );
    tracing::info!("a browser signed in to the web UI");
    ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}

#[derive(Template)]
#[template(path = "web/signed_out.html")]
struct SignedOut {
    reason: String,
    command: String,
}

/// A path of this service made only of letters, digits and `/_.-`: safe
/// to redirect to (no `//host`, no control characters a browser would
/// drop) and to print in a shell command.
fn plain_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
}

/// The page for a browser without a session: why, and the command that
/// signs it in (landing on `next` when given).
fn signed_out(state: &AppState, reason: &str, next: Option<&str>) -> Html<String> {
    let port = state.addr.port();
    let mut command = "executor web".to_owned();
    if port != crate::home::DEFAULT_PORT {
        command.push_str(&format!(" --port {port}"));
    }
    if let Some(next) = next.filter(|n| plain_path(n)) {
        command.push_str(&format!(" --page {next}"));
    }
    render(&SignedOut {
        reason: reason.to_owned(),
        command,
    })
}

fn render<T: Template>(template: &T) -> Html<String> {
    Html(
        template
            .render()
            .unwrap_or_else(|e| format!("<!doctype html><p>The page failed to render: {e}")),
    )
}

/// The session's CSRF token, or the signed-out page to answer with.
fn session(state: &AppState, headers: &HeaderMap, path: Option<&str>) -> Result<String, Response> {
    sessions(state).csrf(headers).ok_or_else(|| {
        (
            StatusCode::UNAUTHORIZED,
            signed_out(state, "Sign in to use the web UI.", path),
        )
            .into_response()
    })
}

/// A signed-in browser, as an extractor: the session's CSRF token. Signed
/// out, the page answers 401 with how to sign in.
pub struct Signed(String);

impl axum::extract::FromRequestParts<Arc<AppState>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Arc<AppState>,
    ) -> Result<Signed, Response> {
        let path = Some(parts.uri.path()).filter(|p| *p != "/");
        session(state, &parts.headers, path).map(Signed)
    }
}

/// What every page's layout needs.
struct Page {
    csrf: String,
    pending: usize,
}

fn page(state: &AppState, csrf: String) -> Page {
    let pending = crate::execution::list(state, Some(crate::store::ExecutionState::Paused), 1000)
        .map(|l| l.len())
        .unwrap_or(0);
    Page { csrf, pending }
}

struct SourceRow {
    namespace: String,
    kind: String,
    origin: String,
    title: String,
    tools: usize,
    health: String,
    healthy: bool,
}

#[derive(Template)]
#[template(path = "web/home.html")]
struct Home {
    page: Page,
    sources: Vec<SourceRow>,
    mcp_url: String,
    add_mcp: String,
    http_config: String,
    stdio_config: String,
    token_path: String,
}

pub async fn home(State(state): State<Arc<AppState>>, Signed(csrf): Signed) -> Response {
    let sources = crate::sources::list(&state)
        .unwrap_or_default()
        .into_iter()
        .map(|s| SourceRow {
            healthy: s.tools > 0 && s.diagnostics == 0,
            health: match (s.tools, s.diagnostics) {
                (0, _) => "no tools".into(),
                (_, 0) => "ok".into(),
                (_, n) => format!("{n} diagnostic(s)"),
            },
            title: s.title.unwrap_or_default(),
            namespace: s.namespace,
            kind: s.kind.as_str().to_owned(),
            origin: s.origin,
            tools: s.tools,
        })
        .collect();
    let mcp_url = format!("http://{}/mcp", state.addr);
    // MCP clients get the MCP token, which opens /mcp only.
    let token_path = state.home.mcp_token_path().display().to_string();
    let add_mcp = format!(
        "npx add-mcp {mcp_url} --transport http --name executor --header \"Authorization: Bearer $(cat {token_path})\""
    );
    let http_config = serde_json::to_string_pretty(&json!({
        "mcpServers": { "executor": {
            "type": "http",
            "url": mcp_url,
            "headers": { "Authorization": format!("Bearer <the token in {token_path}>") }
        }}
    }))
    .unwrap_or_default();
    let stdio_config = serde_json::to_string_pretty(&json!({
        "mcpServers": { "executor": { "command": "executor", "args": ["mcp"] } }
    }))
    .unwrap_or_default();
    render(&Home {
        page: page(&state, csrf),
        sources,
        mcp_url,
        add_mcp,
        http_config,
        stdio_config,
        token_path,
    })
    .into_response()
}

#[derive(Template)]
#[template(path = "web/add.html")]
struct AddPage {
    page: Page,
}

pub async fn add_source(State(state): State<Arc<AppState>>, Signed(csrf): Signed) -> Response {
    render(&AddPage {
        page: page(&state, csrf),
    })
    .into_response()
}

struct ToolRow {
    path: String,
    name: String,
    description: String,
    policy: String,
}

struct Group {
    name: String,
    tools: Vec<ToolRow>,
}

#[derive(Template)]
#[template(path = "web/integration.html")]
struct IntegrationPage {
    page: Page,
    namespace: String,
    title: String,
    description: String,
    count: usize,
    groups: Vec<Group>,
    diagnostics: Vec<String>,
}

pub async fn integration(
    State(state): State<Arc<AppState>>,
    Signed(csrf): Signed,
    Path(namespace): Path<String>,
) -> Response {
    let live = state.live();
    let Some(integration) = live.catalog.integration(&namespace) else {
        return (
            StatusCode::NOT_FOUND,
            signed_in_message(
                &state,
                csrf,
                &format!("No integration is called {namespace}."),
            ),
        )
            .into_response();
    };
    let mut groups: Vec<Group> = Vec::new();
    let mut tools: Vec<_> = live
        .catalog
        .tools
        .iter()
        .filter(|t| t.integration == namespace)
        .collect();
    tools.sort_by(|a, b| a.path.cmp(&b.path));
    let count = tools.len();
    for tool in tools {
        let group = tool
            .name
            .rsplit_once('.')
            .map(|(g, _)| g.to_owned())
            .unwrap_or_default();
        let row = ToolRow {
            path: tool.path.clone(),
            name: tool.name.clone(),
            description: tool
                .title
                .clone()
                .or_else(|| tool.description.clone())
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
            policy: match live.rules.decide(tool).action {
                generator::ir::Policy::Allow => "allow",
                generator::ir::Policy::RequireApproval => "needs approval",
                generator::ir::Policy::Block => "blocked",
            }
            .to_owned(),
        };
        match groups.last_mut() {
            Some(last) if last.name == group => last.tools.push(row),
            _ => groups.push(Group {
                name: group,
                tools: vec![row],
            }),
        }
    }
    let diagnostics = state
        .store()
        .source(&namespace)
        .ok()
        .flatten()
        .map(|s| s.diagnostics.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    render(&IntegrationPage {
        page: page(&state, csrf),
        title: integration
            .title
            .clone()
            .unwrap_or_else(|| namespace.clone()),
        description: integration.description.clone().unwrap_or_default(),
        namespace,
        count,
        groups,
        diagnostics,
    })
    .into_response()
}

#[derive(Template)]
#[template(path = "web/message.html")]
struct MessagePage {
    page: Page,
    message: String,
}

fn signed_in_message(state: &AppState, csrf: String, message: &str) -> Html<String> {
    render(&MessagePage {
        page: page(state, csrf),
        message: message.to_owned(),
    })
}

struct ConnectionRow {
    integration: String,
    owner: String,
    name: String,
    auth: String,
    has_secret: bool,
    tools: String,
}

#[derive(Template)]
#[template(path = "web/connections.html")]
struct ConnectionsPage {
    page: Page,
    connections: Vec<ConnectionRow>,
    integrations: Vec<String>,
}

pub async fn connections(State(state): State<Arc<AppState>>, Signed(csrf): Signed) -> Response {
    let connections = crate::connections::list(&state)
        .unwrap_or_default()
        .into_iter()
        .map(|c| ConnectionRow {
            owner: crate::credential::owner_name(c.owner).to_owned(),
            auth: serde_json::to_value(&c.auth)
                .ok()
                .and_then(|v| v["type"].as_str().map(str::to_owned))
                .unwrap_or_default(),
            integration: c.integration,
            name: c.name,
            has_secret: c.has_secret,
            tools: c.tools,
        })
        .collect();
    let integrations = crate::sources::list(&state)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.namespace)
        .collect();
    render(&ConnectionsPage {
        page: page(&state, csrf),
        connections,
        integrations,
    })
    .into_response()
}

struct RuleRow {
    id: String,
    pattern: String,
    action: &'static str,
    position: usize,
    /// Where the Up and Down buttons move it, where it can move.
    up: Option<usize>,
    down: Option<usize>,
}

#[derive(Template)]
#[template(path = "web/policies.html")]
struct PoliciesPage {
    page: Page,
    rules: Vec<RuleRow>,
}

pub async fn policies(State(state): State<Arc<AppState>>, Signed(csrf): Signed) -> Response {
    let rules = crate::policies::list(&state).unwrap_or_default();
    let last = rules.len();
    let rules = rules
        .into_iter()
        .map(|r| RuleRow {
            action: crate::policy::action_name(r.action),
            up: (r.position > 1).then(|| r.position - 1),
            down: (r.position < last).then(|| r.position + 1),
            id: r.id,
            pattern: r.pattern,
            position: r.position,
        })
        .collect();
    render(&PoliciesPage {
        page: page(&state, csrf),
        rules,
    })
    .into_response()
}

struct ExecutionRow {
    id: String,
    tool: String,
    input: String,
    state: String,
    caller: String,
    result: String,
}

fn execution_row(e: &crate::store::Execution) -> ExecutionRow {
    ExecutionRow {
        id: e.id.clone(),
        tool: e.tool_path.clone(),
        input: serde_json::to_string_pretty(&e.input).unwrap_or_default(),
        state: e.state.as_str().to_owned(),
        caller: e.caller.clone(),
        result: e
            .result
            .as_ref()
            .map(|r| serde_json::to_string_pretty(r).unwrap_or_default())
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "web/approvals.html")]
struct ApprovalsPage {
    page: Page,
    executions: Vec<ExecutionRow>,
    recent: Vec<ExecutionRow>,
}

pub async fn approvals(State(state): State<Arc<AppState>>, Signed(csrf): Signed) -> Response {
    let all = crate::execution::list(&state, None, 50).unwrap_or_default();
    let (paused, recent): (Vec<_>, Vec<_>) = all
        .iter()
        .partition(|e| e.state == crate::store::ExecutionState::Paused);
    render(&ApprovalsPage {
        page: page(&state, csrf),
        executions: paused.into_iter().map(execution_row).collect(),
        recent: recent.into_iter().map(execution_row).collect(),
    })
    .into_response()
}

#[derive(Template)]
#[template(path = "web/approval.html")]
struct ApprovalPage {
    page: Page,
    execution: ExecutionRow,
    paused: bool,
}

/// `/resume/{id}`: the page an `approvalUrl` points to. Signed out, it says
/// how to sign in (and still shows the CLI commands).
pub async fn approval(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(csrf) = sessions(&state).csrf(&headers) else {
        return (
            StatusCode::UNAUTHORIZED,
            signed_out(
                &state,
                &if plain_path(&format!("/{id}")) {
                    format!(
                        "Sign in to answer this call here, or answer it from a terminal: executor resume --execution-id {id} --action accept (or decline)."
                    )
                } else {
                    "No execution has this id.".to_owned()
                },
                Some(&format!("/resume/{id}")),
            ),
        )
            .into_response();
    };
    // Overdue pauses are marked expired first.
    let _ = crate::execution::list(&state, Some(crate::store::ExecutionState::Paused), 1);
    match crate::execution::get(&state, &id) {
        Ok(Some(e)) => render(&ApprovalPage {
            page: page(&state, csrf),
            paused: e.state == crate::store::ExecutionState::Paused,
            execution: execution_row(&e),
        })
        .into_response(),
        _ => (
            StatusCode::NOT_FOUND,
            signed_in_message(&state, csrf, &format!("No execution is called {id}.")),
        )
            .into_response(),
    }
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../../templates/web/app.js"),
    )
        .into_response()
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../../templates/web/app.css"),
    )
        .into_response()
}

/// Headers every page gets: no framing (clickjacking), scripts only from
/// this service, no referrer leaking an execution id.
pub async fn page_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, axum::http::HeaderValue::from_static(value));
    };
    set(headers, "x-frame-options", "DENY");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "x-content-type-options", "nosniff");
    set(
        headers,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'",
    );
    response
}
