//! The MCP endpoint (`/mcp`, streamable HTTP, through rmcp): every catalog
//! tool as an MCP tool, called through the same invoke path as REST.
//!
//! Two views of the catalog:
//! - `/mcp` (the default): every tool, paginated, in path order. Clients are
//!   built around `tools/list`, and the product promises that every added
//!   integration appears in the agent by itself.
//! - `/mcp?tools=discover`: three tools only (`search`, `describe`, `call`),
//!   for catalogs large enough to flood an agent's context (GitHub alone is
//!   1,200 tools).
//!
//! Results carry the envelope both as `structuredContent` and as JSON text;
//! a tool's failure is a result with `isError: true`, never a protocol error
//! (only an unknown tool name is one).
//!
//! Why this file is over 500 lines: rmcp wants the whole `ServerHandler`
//! as one trait impl; the tool lists (`tools.rs`), approval rounds
//! (`approval.rs`), the source view's calls (`source.rs`) and the
//! upstream rounds they forward (`rounds.rs`) live beside it.

mod approval;
mod rounds;
pub mod sessions;
mod source;
mod stamp;
mod tools;

use approval::{APPROVAL_KEY, Asked};
use stamp::Stamped;
pub use tools::{MAX_OUTPUT_SCHEMA_BYTES, PAGE_SIZE};
use tools::{View, code_tools, discovery_tools, first_line, source_tools};

use std::sync::{Arc, Mutex};

use generator::envelope::{ErrorCode, Failure, ToolError};
use generator::ir::SchemaRole;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::{ErrorData as McpError, Peer, RoleServer, ServerHandler, service::RequestContext};
use serde_json::{Value, json};

use crate::catalog::Live;
use crate::errors::error;
use crate::invoke;
use crate::state::AppState;

/// Above this many tools, `/mcp` without `?tools=` serves code mode
/// (`EXECUTOR_MCP_CODE_MODE_ABOVE`, default 200): at about 9 KB of
/// definitions a tool, 200 tools already fill much of an agent's context,
/// while below it calling tools directly saves the agent writing a script.
pub fn code_mode_above() -> usize {
    crate::home::setting("EXECUTOR_MCP_CODE_MODE_ABOVE", 200) as usize
}

/// The view `/mcp` serves without `?tools=`, for a catalog of this size.
pub fn default_mode(tools: usize) -> Mode {
    if tools > code_mode_above() {
        Mode::Code
    } else {
        Mode::All
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    All,
    Discover,
    /// Code mode (`/mcp?tools=code`): `execute`, `search`, `describe`.
    Code,
    /// One source under its own tool names (`/mcp?source=<namespace>`): a
    /// passthrough for clients that expect an upstream server's names,
    /// results, resources and prompts as they are.
    Source(Arc<str>),
}

/// A session relays what an upstream sends about the call it made.
#[allow(deprecated)]
#[async_trait::async_trait]
impl crate::upstream::Downstream for Peer<RoleServer> {
    async fn log(&self, params: rmcp::model::LoggingMessageNotificationParam) {
        let _ = self.notify_logging_message(params).await;
    }

    async fn progress(&self, params: rmcp::model::ProgressNotificationParam) {
        let _ = self.notify_progress(params).await;
    }

    async fn sample(
        &self,
        params: rmcp::model::CreateMessageRequestParams,
    ) -> Result<rmcp::model::CreateMessageResult, rmcp::ServiceError> {
        #[allow(deprecated)]
        self.create_message(params).await
    }

    async fn elicit(
        &self,
        params: rmcp::model::ElicitRequestParams,
    ) -> Result<rmcp::model::ElicitResult, rmcp::ServiceError> {
        self.create_elicitation(params).await
    }
}

/// Peers to tell when the tool list changes.
#[derive(Default)]
pub struct Subscribers {
    peers: Arc<Mutex<Vec<Peer<RoleServer>>>>,
}

impl Subscribers {
    /// The service's subscribers, kept in the state's surface slot. The
    /// first call starts the task that tells them of every catalog reload.
    pub fn of(state: &AppState) -> Arc<Subscribers> {
        state.surfaces.get_or_insert_with(|| {
            let subscribers = Subscribers::default();
            let peers = subscribers.peers.clone();
            let mut changes = state.catalog_changes.subscribe();
            tokio::spawn(async move {
                while changes.changed().await.is_ok() {
                    Subscribers {
                        peers: peers.clone(),
                    }
                    .notify();
                }
            });
            subscribers
        })
    }

    fn add(&self, peer: &Peer<RoleServer>) {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.retain(|p| !p.is_transport_closed());
        if peers.len() < 1024 {
            peers.push(peer.clone());
        }
    }

    /// Sends `notifications/tools/list_changed` to every live session.
    pub fn notify(&self) {
        let peers: Vec<_> = {
            let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
            peers.retain(|p| !p.is_transport_closed());
            peers.clone()
        };
        for peer in peers {
            tokio::spawn(async move {
                let _ = peer.notify_tool_list_changed().await;
            });
        }
    }
}

#[derive(Clone)]
pub struct Handler {
    pub state: Arc<AppState>,
    pub mode: Mode,
}

/// Who sent an MCP request: the caller `http::access` put on it (a client
/// of its own, held to its scope), or the holder of the MCP token.
fn caller_of(context: &RequestContext<RoleServer>) -> invoke::Caller {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<invoke::Caller>())
        .cloned()
        .unwrap_or(invoke::Caller::AGENT)
}

impl Handler {
    fn tools(&self, caller: &invoke::Caller) -> (Arc<Live>, View) {
        let live = self.state.live();
        let view = self.view(&live, caller);
        (live, view)
    }

    /// The view for this caller: a scoped client's lists hold only the
    /// tools it may see (made once per catalog, client and scope).
    fn view(&self, live: &Live, caller: &invoke::Caller) -> View {
        let scoped = caller.grant.as_ref().map(|g| {
            let patterns: Vec<String> = g.scope.iter().map(|p| p.to_string()).collect();
            format!("#client:{}:{}", g.client_id, patterns.join(","))
        });
        let key = |base: &str| match &scoped {
            Some(scope) => format!("{base}{scope}"),
            None => base.to_owned(),
        };
        match &self.mode {
            Mode::All => match &scoped {
                None => View::Catalog,
                Some(scope) => View::Subset(live.views.get_or_build(scope, || {
                    live.catalog
                        .tools
                        .iter()
                        .enumerate()
                        .filter(|(_, t)| caller.sees(t))
                        .map(|(i, _)| i)
                        .collect::<Vec<usize>>()
                })),
            },
            Mode::Discover => View::Built(discovery_tools().clone()),
            Mode::Code => View::Built(
                live.views
                    .get_or_build(&key("#code"), || code_tools(live, caller)),
            ),
            Mode::Source(namespace) => View::Built(
                live.views
                    .get_or_build(&key(namespace), || source_tools(live, namespace, caller)),
            ),
        }
    }
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        let capabilities = if self.forwards() {
            // What an upstream MCP server may offer beside tools, forwarded.
            #[allow(deprecated)]
            let builder = ServerCapabilities::builder()
                .enable_logging()
                .enable_completions()
                .enable_prompts()
                .enable_resources()
                .enable_resources_subscribe();
            builder.enable_tools().enable_tool_list_changed().build()
        } else {
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .build()
        };
        let instructions = match &self.mode {
            Mode::All => {
                "Every tool of this executor catalog, named by its path (<integration>.<owner>.<connection>.<tool>). Results are {ok, data} or {ok: false, error}."
            }
            Mode::Discover => {
                "Find tools with `search`, read one with `describe`, run it with `call`. Results are {ok, data} or {ok: false, error}."
            }
            Mode::Code => {
                "Code mode: write a short TypeScript program for `execute` that calls this executor's tools (`await tools.<path>(input)`) and returns only what you need; find tools with `search` (signatures included) and `describe`."
            }
            Mode::Source(_) => {
                "One source of this executor catalog under its own tool names; calls still go through executor's policies and credentials."
            }
        };
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("executor", env!("CARGO_PKG_VERSION")))
            .with_instructions(instructions)
    }

    /// 2026-07-28 clients hold no session to be told of changes on; they
    /// open `subscriptions/listen` instead. Every view offers the tool
    /// list's changes (what sessions hear as `list_changed`), and nothing
    /// else: a source's prompts and resources change upstream, unseen.
    fn accepted_subscription_filter(
        &self,
        _requested: &rmcp::model::SubscriptionFilter,
    ) -> Option<rmcp::model::SubscriptionFilter> {
        let mut accepted = rmcp::model::SubscriptionFilter::new();
        accepted.tools_list_changed = Some(true);
        Some(accepted)
    }

    async fn listen(&self, context: rmcp::service::SubscriptionContext) -> Result<(), McpError> {
        let mut changes = self.state.catalog_changes.subscribe();
        loop {
            tokio::select! {
                () = context.cancelled() => return Ok(()),
                changed = changes.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    if context.sink().notify_tool_list_changed().await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Subscribers::of(&self.state).add(&context.peer);
        let live = self.state.live();
        // A cursor names the catalog its listing began on, so a source
        // added while a client pages through never mixes two catalogs: the
        // pages come from the catalog of the first page (kept for a while),
        // and the client hears `list_changed` to list again.
        let (version, start) = match request.and_then(|r| r.cursor) {
            Some(cursor) => parse_cursor(&cursor).ok_or_else(|| {
                McpError::invalid_params(format!("invalid cursor {cursor:?}"), None)
            })?,
            None => (live.version, 0),
        };
        let live = if version == live.version {
            live
        } else {
            Listings::of(&self.state)
                .get(&self.mode, version)
                .ok_or_else(|| {
                    McpError::invalid_params(
                        "the catalog changed since this listing began; list again from the start",
                        None,
                    )
                })?
        };
        let view = self.view(&live, &caller_of(&context));
        let len = view.len(&live);
        let end = (start + PAGE_SIZE).min(len);
        let mut result = ListToolsResult::with_all_items(view.page(&live, start, end));
        if end < len {
            if start == 0 {
                Listings::of(&self.state).keep(&self.mode, version, live.clone());
            }
            result.next_cursor = Some(format!("{version}.{end}"));
        }
        Ok(result)
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, McpError> {
        if !self.forwards() {
            return Ok(Default::default());
        }
        let client = self.upstream(&context).await?;
        client
            .peer()
            .list_resources(request)
            .await
            .map_err(relay_error)
            .stamped()
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, McpError> {
        if !self.forwards() {
            return Ok(Default::default());
        }
        let client = self.upstream(&context).await?;
        client
            .peer()
            .list_resource_templates(request)
            .await
            .map_err(relay_error)
            .stamped()
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, McpError> {
        let client = self.upstream(&context).await?;
        if let Some(relay) = self.asks_in_session(&context, &client) {
            let namespace = self.namespace();
            let read = client.read_resource(request);
            return self
                .state
                .upstreams
                .relaying(&namespace, relay, read)
                .await
                .map(rmcp::model::ReadResourceResponse::Complete)
                .map_err(relay_error)
                .stamped();
        }
        client
            .peer()
            .read_resource_once(request)
            .await
            .map_err(relay_error)
            .stamped()
    }

    async fn subscribe(
        &self,
        request: rmcp::model::SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let client = self.upstream(&context).await?;
        #[allow(deprecated)]
        client.peer().subscribe(request).await.map_err(relay_error)
    }

    async fn unsubscribe(
        &self,
        request: rmcp::model::UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let client = self.upstream(&context).await?;
        #[allow(deprecated)]
        client
            .peer()
            .unsubscribe(request)
            .await
            .map_err(relay_error)
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListPromptsResult, McpError> {
        if !self.forwards() {
            return Ok(Default::default());
        }
        let client = self.upstream(&context).await?;
        client
            .peer()
            .list_prompts(request)
            .await
            .map_err(relay_error)
            .stamped()
    }

    async fn get_prompt(
        &self,
        request: rmcp::model::GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetPromptResponse, McpError> {
        let client = self.upstream(&context).await?;
        if let Some(relay) = self.asks_in_session(&context, &client) {
            let namespace = self.namespace();
            let get = client.get_prompt(request);
            return self
                .state
                .upstreams
                .relaying(&namespace, relay, get)
                .await
                .map(rmcp::model::GetPromptResponse::Complete)
                .map_err(relay_error)
                .stamped();
        }
        client
            .peer()
            .get_prompt_once(request)
            .await
            .map_err(relay_error)
            .stamped()
    }

    async fn complete(
        &self,
        request: rmcp::model::CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CompleteResult, McpError> {
        if !self.forwards() {
            return Ok(Default::default());
        }
        let client = self.upstream(&context).await?;
        client
            .peer()
            .complete(request)
            .await
            .map_err(relay_error)
            .stamped()
    }

    #[allow(deprecated)]
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let client = self.upstream(&context).await?;
        #[allow(deprecated)]
        client.peer().set_level(request).await.map_err(relay_error)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let (live, view) = self.tools(&invoke::Caller::AGENT);
        view.get(&live, name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let caller = caller_of(&context);
        let (live, tools) = self.tools(&caller);
        let name = request.name.to_string();
        if tools.path(&live, &name).is_none() {
            return Err(McpError::invalid_params(
                format!("unknown tool: {name}"),
                None,
            ));
        }
        let arguments = Value::Object(request.arguments.clone().unwrap_or_default());
        let forwarded = request
            .request_state
            .as_deref()
            .is_some_and(rounds::is_forwarded);
        // 2026-07-28: the client answered an approval round and retries.
        if let Some(handle) = request.request_state.as_deref().filter(|_| !forwarded) {
            let answer = request
                .input_responses
                .as_ref()
                .and_then(|r| r.get(APPROVAL_KEY))
                .cloned();
            let pending = rounds::Pending {
                capabilities: context.client_capabilities(),
                ..Default::default()
            };
            let outcome = self
                .answer_round(&live, &caller, handle, &name, &arguments, answer, &pending)
                .await;
            // Approved, the upstream asked the client for input.
            let round = pending
                .round
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let (Some(round), Mode::Source(_) | Mode::All) = (round, &self.mode) {
                let path = tools.path(&live, &name).unwrap_or_default().to_owned();
                let round = rounds::forward(
                    &self.state,
                    &caller,
                    &path,
                    &arguments,
                    None,
                    Some(handle.to_owned()),
                    round,
                )?;
                return Ok(CallToolResponse::InputRequired(round));
            }
            return Ok(result_of(outcome).into());
        }
        let outcome = match &self.mode {
            // A client of 2026-07-28 takes an upstream MCP tool's rounds
            // here too; its result comes in the envelope like any other.
            Mode::All if self.takes_rounds(&context, &live, &caller, &name) => {
                let path = tools.path(&live, &name).unwrap_or_default().to_owned();
                match self
                    .call_source(
                        &request, &context, &live, &caller, path, arguments, forwarded,
                    )
                    .await?
                {
                    source::Called::Answer(CallToolResponse::Complete(result)) => {
                        crate::upstream::result_data(result)
                    }
                    source::Called::Answer(response) => return Ok(response),
                    source::Called::Outcome(outcome) => outcome,
                }
            }
            Mode::All => self.run(&live, &caller, &name, arguments).await,
            Mode::Discover => self.discover(&live, &caller, &name, arguments).await,
            Mode::Code if name == "execute" => {
                let code = arguments["code"].as_str().unwrap_or_default();
                let run = crate::code::execute(&self.state, code, &caller).await;
                match run.result {
                    Err(paused) if paused.code == ErrorCode::ExecutionPaused => Err(paused),
                    other => return Ok(code_result(other, run.logs).into()),
                }
            }
            Mode::Code => self.code_helper(&caller, &name, &arguments),
            Mode::Source(_) => {
                let path = tools.path(&live, &name).unwrap_or_default().to_owned();
                match self
                    .call_source(
                        &request, &context, &live, &caller, path, arguments, forwarded,
                    )
                    .await?
                {
                    source::Called::Answer(response) => return Ok(response),
                    source::Called::Outcome(outcome) => outcome,
                }
            }
        };
        let outcome = match outcome {
            Err(paused) if paused.code == ErrorCode::ExecutionPaused => {
                match self.ask(&context, &live, &paused).await {
                    Asked::Answered(outcome) => outcome,
                    Asked::Round(round) => return Ok(round.into()),
                    Asked::Unasked => Err(paused),
                }
            }
            other => other,
        };
        Ok(result_of(outcome).into())
    }
}

/// `<catalog version>.<offset>`.
fn parse_cursor(cursor: &str) -> Option<(u64, usize)> {
    let (version, offset) = cursor.split_once('.')?;
    Some((version.parse().ok()?, offset.parse().ok()?))
}

/// The last few catalogs that a listing began on, by view: what later
/// pages of those listings are served from. Each is kept at most
/// [`KEPT_FOR`]: an old catalog is as large as the current one.
#[derive(Default)]
struct Listings {
    recent: Mutex<std::collections::VecDeque<Listed>>,
}

/// A listing's view, its catalog's version, that catalog, and when a
/// listing of it last began.
type Listed = (Mode, u64, Arc<Live>, std::time::Instant);

/// Listings that may still be paging through: a few catalogs back.
const KEPT_LISTINGS: usize = 3;

/// How long a listing's later pages may come after its first.
const KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(300);

impl Listings {
    fn of(state: &AppState) -> Arc<Listings> {
        state.surfaces.get_or_insert_with(Listings::default)
    }

    fn keep(&self, mode: &Mode, version: u64, live: Arc<Live>) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.retain(|(.., at)| at.elapsed() < KEPT_FOR);
        if let Some(found) = recent
            .iter_mut()
            .find(|(m, v, ..)| m == mode && *v == version)
        {
            found.3 = std::time::Instant::now();
            return;
        }
        if recent.len() >= KEPT_LISTINGS {
            recent.pop_front();
        }
        recent.push_back((mode.clone(), version, live, std::time::Instant::now()));
    }

    fn get(&self, mode: &Mode, version: u64) -> Option<Arc<Live>> {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.retain(|(.., at)| at.elapsed() < KEPT_FOR);
        recent
            .iter()
            .find(|(m, v, ..)| m == mode && *v == version)
            .map(|(_, _, live, _)| live.clone())
    }
}

/// A run's outcome as an MCP result: the envelope with its logs.
fn code_result(outcome: Result<Value, ToolError>, logs: Vec<String>) -> CallToolResult {
    let mut result = result_of(outcome);
    if !logs.is_empty()
        && let Some(Value::Object(map)) = result.structured_content.as_mut()
    {
        map.insert("logs".into(), json!(logs));
        let text = Value::Object(map.clone()).to_string();
        result.content = vec![rmcp::model::ContentBlock::text(text)];
    }
    result
}

/// An upstream's failure as the MCP error it was (a request the upstream
/// refused keeps its code), or an internal error naming what broke.
fn relay_error(e: rmcp::ServiceError) -> McpError {
    match e {
        rmcp::ServiceError::McpError(e) => e,
        other => McpError::internal_error(format!("the upstream MCP server failed: {other}"), None),
    }
}

impl Handler {
    /// The source view of an upstream MCP server forwards resources,
    /// prompts, completion and logging to it.
    fn forwards(&self) -> bool {
        match &self.mode {
            Mode::Source(namespace) => self
                .state
                .live()
                .sources
                .get(namespace.as_ref())
                .is_some_and(|s| s.mcp.is_some()),
            _ => false,
        }
    }

    /// Whether a call of the full catalog goes the way of the source view:
    /// from a client of 2026-07-28 (which takes input-required rounds), to
    /// an upstream MCP tool this caller sees.
    fn takes_rounds(
        &self,
        context: &RequestContext<RoleServer>,
        live: &Live,
        caller: &invoke::Caller,
        name: &str,
    ) -> bool {
        rounds::client_takes_rounds(context)
            && live
                .resolve_as(name, caller)
                .is_ok_and(|t| matches!(t.binding, generator::ir::Binding::Mcp(_)))
    }

    /// The namespace of this source view ("" on other views).
    fn namespace(&self) -> String {
        match &self.mode {
            Mode::Source(namespace) => namespace.to_string(),
            _ => String::new(),
        }
    }

    /// A client of an older revision cannot take an upstream's
    /// input-required rounds (2026-07-28): executor answers them by asking
    /// it in its session, through this relay. `None` when the client takes
    /// rounds itself, or the upstream asks in the session anyway.
    fn asks_in_session(
        &self,
        context: &RequestContext<RoleServer>,
        client: &crate::upstream::Client,
    ) -> Option<crate::upstream::Relay> {
        (!rounds::client_takes_rounds(context) && crate::upstream::is_stateless(client))
            .then(|| rounds::relay_to(context))
    }

    /// The pooled session with the upstream of this source view.
    async fn upstream(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> Result<Arc<crate::upstream::Client>, McpError> {
        let unsupported = || {
            McpError::new(
                rmcp::model::ErrorCode::METHOD_NOT_FOUND,
                "executor serves only tools here; resources, prompts, completion and logging are forwarded on the view of one MCP source: /mcp?source=<namespace>",
                None,
            )
        };
        let Mode::Source(namespace) = &self.mode else {
            return Err(unsupported());
        };
        // Resources and prompts are the whole source's: a client that may
        // not see every one of its tools (or a source without tools, whose
        // scope cannot be told) gets none of them.
        let caller = caller_of(context);
        if caller.grant.is_some() {
            let live = self.state.live();
            let mut tools = live
                .catalog
                .tools
                .iter()
                .filter(|t| t.integration == namespace.as_ref())
                .peekable();
            let whole = tools.peek().is_some() && tools.all(|t| caller.sees(t));
            if !whole {
                return Err(McpError::invalid_request(
                    "this client's scope does not hold the whole source, so its resources and prompts are not served to it",
                    None,
                ));
            }
        }
        let live = self.state.live();
        let target = live
            .sources
            .get(namespace.as_ref())
            .and_then(|s| s.mcp.clone())
            .ok_or_else(unsupported)?;
        self.state
            .upstreams
            .session(namespace, &target)
            .await
            .map_err(|e| McpError::internal_error(e.message, None))
    }
}

/// An outcome as an MCP result: the envelope as `structuredContent` and
/// text; failures flagged `isError`.
fn result_of(outcome: Result<Value, ToolError>) -> CallToolResult {
    match outcome {
        Ok(data) => CallToolResult::structured(json!({ "ok": true, "data": data })),
        Err(e) => CallToolResult::structured_error(
            serde_json::to_value(Failure {
                ok: false,
                error: e,
            })
            .unwrap_or(Value::Null),
        ),
    }
}

impl Handler {
    /// Runs a catalog tool; its answer must match the output schema MCP
    /// clients were promised.
    async fn run(
        &self,
        live: &Live,
        caller: &invoke::Caller,
        path: &str,
        input: Value,
    ) -> Result<Value, ToolError> {
        let data = invoke::invoke(&self.state, path, input, caller).await?;
        let promised = self.view(live, caller).promises_output(live, path);
        if promised && let Ok(tool) = live.resolve(path) {
            live.validate_output(tool, &data)?;
        }
        Ok(data)
    }

    async fn discover(
        &self,
        live: &Live,
        caller: &invoke::Caller,
        name: &str,
        input: Value,
    ) -> Result<Value, ToolError> {
        let text = |key: &str| input.get(key).and_then(Value::as_str).map(str::to_owned);
        match name {
            "search" => {
                let query = text("query").unwrap_or_default();
                let limit = input
                    .get("limit")
                    .and_then(Value::as_u64)
                    .unwrap_or(10)
                    .clamp(1, 50) as usize;
                let integration = text("integration");
                let hits: Vec<Value> = live
                    .search_as(caller, &query, integration.as_deref(), limit)
                    .into_iter()
                    .filter_map(|h| live.catalog.tool(&h.path))
                    .map(|t| json!({ "path": t.path, "title": t.title, "description": first_line(t.description.as_deref()) }))
                    .collect();
                Ok(json!({ "tools": hits }))
            }
            "describe" => {
                let path = text("path").unwrap_or_default();
                let tool = live.resolve_as(&path, caller)?;
                Ok(json!({
                    "path": tool.path,
                    "title": tool.title,
                    "description": tool.description,
                    "inputSchema": live.standalone(tool, SchemaRole::Input),
                    "outputSchema": live.standalone(tool, SchemaRole::Output),
                    "annotations": tool.annotations,
                }))
            }
            "call" => {
                let path = text("path").unwrap_or_default();
                let input = input.get("input").cloned().unwrap_or_else(|| json!({}));
                invoke::invoke(&self.state, &path, input, caller).await
            }
            other => Err(error(
                ErrorCode::ToolNotFound,
                format!("unknown tool {other}"),
                None,
            )),
        }
    }
}

impl Handler {
    /// Code mode's `search` and `describe`.
    fn code_helper(
        &self,
        caller: &invoke::Caller,
        name: &str,
        input: &Value,
    ) -> Result<Value, ToolError> {
        match name {
            "search" => {
                let query = input["query"].as_str().unwrap_or_default();
                let limit = input["limit"].as_u64().unwrap_or(10).clamp(1, 50) as usize;
                let integration = input["integration"].as_str();
                Ok(
                    json!({ "tools": crate::code::search(&self.state, caller, query, integration, limit) }),
                )
            }
            "describe" => crate::code::describe(
                &self.state,
                caller,
                input["path"].as_str().unwrap_or_default(),
            ),
            other => Err(error(
                ErrorCode::ToolNotFound,
                format!("unknown tool {other}"),
                None,
            )),
        }
    }
}
