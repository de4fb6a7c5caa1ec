//! The web UI: pages rendered on the server from askama templates
//! (`templates/web/`), with one small plain script (`app.js`) that calls
//! the same `/api` routes the CLI uses. No front-end build step.
//! Signing in is [`super::session`].

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::session::{Signed, plain_path, sessions, signed_out};
use crate::state::AppState;

pub(super) fn render<T: Template>(template: &T) -> Html<String> {
    Html(
        template
            .render()
            .unwrap_or_else(|e| format!("<!doctype html><p>The page failed to render: {e}")),
    )
}

/// What every page's layout needs.
pub(super) struct Page {
    pub(super) csrf: String,
    pub(super) pending: usize,
}

pub(super) fn page(state: &AppState, csrf: String) -> Page {
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
    /// Which tools `/mcp` serves for this catalog, in words.
    mcp_view: String,
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
    // MCP clients sign in through OAuth (a consent page here); the MCP
    // token, which opens /mcp only, is for clients that take a header.
    let token_path = state.home.mcp_token_path().display().to_string();
    let add_mcp = format!("npx add-mcp {mcp_url} --transport http --name executor");
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
    let tools = state.live().catalog.tools.len();
    let mcp_view = match crate::mcp::default_mode(tools) {
        crate::mcp::Mode::Code => format!(
            "With {tools} tools (more than {}), /mcp serves code mode: agents get execute, search and describe and write a short TypeScript program against the catalog. Add ?tools=all for every tool.",
            crate::mcp::code_mode_above()
        ),
        _ => format!(
            "With {tools} tools, /mcp serves every tool directly; above {} it serves code mode. Add ?tools=code for code mode now.",
            crate::mcp::code_mode_above()
        ),
    };
    render(&Home {
        page: page(&state, csrf),
        sources,
        mcp_url,
        mcp_view,
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

pub(super) fn signed_in_message(state: &AppState, csrf: String, message: &str) -> Html<String> {
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
    // The consent page sets its own (`same-origin`): with `no-referrer`
    // Chromium sends `Origin: null` on a form's POST, which the origin
    // check refuses.
    if !headers.contains_key("referrer-policy") {
        set(headers, "referrer-policy", "no-referrer");
    }
    set(headers, "x-content-type-options", "nosniff");
    // A page that sends a form elsewhere (the consent page, to the
    // client's loopback redirect) sets its own, as strict otherwise.
    if !headers.contains_key("content-security-policy") {
        set(
            headers,
            "content-security-policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'",
        );
    }
    response
}
