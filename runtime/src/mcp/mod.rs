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

pub mod sessions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use generator::envelope::{ErrorCode, Failure, ToolError};
use generator::ir::{SchemaRole, Tool as IrTool};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::{ErrorData as McpError, Peer, RoleServer, ServerHandler, service::RequestContext};
use serde_json::{Map, Value, json};

use crate::catalog::Live;
use crate::errors::error;
use crate::invoke;
use crate::state::AppState;

/// Tools per `tools/list` page.
pub const PAGE_SIZE: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    All,
    Discover,
    /// One source under its own tool names (`/mcp?source=<namespace>`): a
    /// passthrough for clients that expect an upstream server's names,
    /// results, resources and prompts as they are.
    Source(Arc<str>),
}

/// The MCP tools of one live catalog, built on first use.
#[derive(Default)]
pub struct McpTools {
    list: Vec<Tool>,
    by_name: HashMap<String, usize>,
    /// The catalog path of each tool in `list`.
    paths: Vec<String>,
}

impl McpTools {
    /// The catalog path behind an MCP tool name.
    fn path(&self, name: &str) -> Option<&str> {
        self.by_name.get(name).map(|&i| self.paths[i].as_str())
    }
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

impl Handler {
    fn tools(&self) -> (Arc<Live>, Arc<McpTools>) {
        let live = self.state.live();
        let tools = match &self.mode {
            Mode::All => live.views.get_or_build("", || catalog_tools(&live)),
            Mode::Discover => discovery_tools().clone(),
            Mode::Source(namespace) => live
                .views
                .get_or_build(namespace, || source_tools(&live, namespace)),
        };
        (live, tools)
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
            Mode::Source(_) => {
                "One source of this executor catalog under its own tool names; calls still go through executor's policies and credentials."
            }
        };
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("executor", env!("CARGO_PKG_VERSION")))
            .with_instructions(instructions)
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Subscribers::of(&self.state).add(&context.peer);
        let (_, tools) = self.tools();
        let start = match request.and_then(|r| r.cursor) {
            Some(cursor) => cursor.parse::<usize>().map_err(|_| {
                McpError::invalid_params(format!("invalid cursor {cursor:?}"), None)
            })?,
            None => 0,
        };
        let end = (start + PAGE_SIZE).min(tools.list.len());
        let mut result = ListToolsResult::with_all_items(
            tools.list.get(start..end).unwrap_or_default().to_vec(),
        );
        if end < tools.list.len() {
            result.next_cursor = Some(end.to_string());
        }
        Ok(result)
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, McpError> {
        if !self.forwards() {
            return Ok(Default::default());
        }
        let client = self.upstream().await?;
        client.peer().list_resources(request).await.map_err(relay)
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, McpError> {
        if !self.forwards() {
            return Ok(Default::default());
        }
        let client = self.upstream().await?;
        client
            .peer()
            .list_resource_templates(request)
            .await
            .map_err(relay)
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, McpError> {
        let client = self.upstream().await?;
        client
            .peer()
            .read_resource_once(request)
            .await
            .map_err(relay)
    }

    async fn subscribe(
        &self,
        request: rmcp::model::SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let client = self.upstream().await?;
        #[allow(deprecated)]
        client.peer().subscribe(request).await.map_err(relay)
    }

    async fn unsubscribe(
        &self,
        request: rmcp::model::UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let client = self.upstream().await?;
        #[allow(deprecated)]
        client.peer().unsubscribe(request).await.map_err(relay)
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListPromptsResult, McpError> {
        if !self.forwards() {
            return Ok(Default::default());
        }
        let client = self.upstream().await?;
        client.peer().list_prompts(request).await.map_err(relay)
    }

    async fn get_prompt(
        &self,
        request: rmcp::model::GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetPromptResponse, McpError> {
        let client = self.upstream().await?;
        client.peer().get_prompt_once(request).await.map_err(relay)
    }

    async fn complete(
        &self,
        request: rmcp::model::CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CompleteResult, McpError> {
        if !self.forwards() {
            return Ok(Default::default());
        }
        let client = self.upstream().await?;
        client.peer().complete(request).await.map_err(relay)
    }

    #[allow(deprecated)]
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let client = self.upstream().await?;
        #[allow(deprecated)]
        client.peer().set_level(request).await.map_err(relay)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let (_, tools) = self.tools();
        tools.by_name.get(name).map(|&i| tools.list[i].clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let (live, tools) = self.tools();
        let name = request.name.to_string();
        if !tools.by_name.contains_key(&name) {
            return Err(McpError::invalid_params(
                format!("unknown tool: {name}"),
                None,
            ));
        }
        let arguments = Value::Object(request.arguments.clone().unwrap_or_default());
        // 2026-07-28: the client answered an approval round and retries.
        if let Some(handle) = request.request_state.as_deref() {
            let answer = request
                .input_responses
                .as_ref()
                .and_then(|r| r.get(APPROVAL_KEY))
                .cloned();
            let outcome = self
                .answer_round(&live, handle, &name, &arguments, answer)
                .await;
            return Ok(result_of(outcome).into());
        }
        let outcome = match &self.mode {
            Mode::All => self.run(&live, &name, arguments).await,
            Mode::Discover => self.discover(&live, &name, arguments).await,
            Mode::Source(_) => {
                let path = tools.path(&name).unwrap_or_default().to_owned();
                let relay = crate::upstream::Relay {
                    peer: Arc::new(context.peer.clone()),
                    progress_token: context.meta.get_progress_token(),
                };
                match self.passthrough(&live, &path, arguments, relay).await {
                    Ok(Passed::Verbatim(result)) => return Ok(result.into()),
                    Ok(Passed::Data(data)) => Ok(data),
                    Err(e) => Err(e),
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

/// What a passthrough call gave back.
enum Passed {
    /// An upstream MCP tool's result, as it came.
    Verbatim(CallToolResult),
    /// Any other tool's data, sent in the envelope.
    Data(Value),
}

/// An upstream's failure as the MCP error it was (a request the upstream
/// refused keeps its code), or an internal error naming what broke.
fn relay(e: rmcp::ServiceError) -> McpError {
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

    /// The pooled session with the upstream of this source view.
    async fn upstream(&self) -> Result<Arc<crate::upstream::Client>, McpError> {
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

    /// A call in a source view: validated and governed like every call; an
    /// upstream MCP tool's result comes back as the upstream gave it.
    async fn passthrough(
        &self,
        live: &Live,
        path: &str,
        input: Value,
        relay: crate::upstream::Relay,
    ) -> Result<Passed, ToolError> {
        let tool = live.resolve(path)?;
        live.validate_input(tool, &input)?;
        invoke::permit(&self.state, live, tool, &input, &invoke::Caller::AGENT)?;
        match &tool.binding {
            generator::ir::Binding::Mcp(binding) => {
                let target = live.mcp_target(&tool.integration);
                let result = self
                    .state
                    .upstreams
                    .call_raw(
                        &binding.upstream,
                        &target,
                        &binding.tool_name,
                        input,
                        Some(relay),
                    )
                    .await?;
                Ok(Passed::Verbatim(result))
            }
            _ => Ok(Passed::Data(
                invoke::run(&self.state, live, tool, input).await?,
            )),
        }
    }
}

/// The key of the approval question in an input-required round.
const APPROVAL_KEY: &str = "approval";

/// How long a session client may take to answer an approval question
/// before the call is left paused.
const ELICITATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// What asking for approval through elicitation came to.
enum Asked {
    /// The person answered; this is the call's outcome.
    Answered(Result<Value, ToolError>),
    /// 2026-07-28: the question goes back as an input-required result.
    Round(rmcp::model::InputRequiredResult),
    /// No question was asked (or it was dismissed): the call stays paused.
    Unasked,
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
    /// Asks the client's user to approve a paused call, where the client
    /// can be asked: by an `elicitation/create` request in a session, or by
    /// an input-required result on 2026-07-28. Calls that change executor's
    /// own settings are never approved this way: an agent's client could
    /// answer for the person, so those wait for the web UI or the CLI.
    async fn ask(
        &self,
        context: &RequestContext<RoleServer>,
        live: &Live,
        paused: &ToolError,
    ) -> Asked {
        let Some(id) = paused.execution_id.as_deref() else {
            return Asked::Unasked;
        };
        let Ok(Some(execution)) = crate::execution::get(&self.state, id) else {
            return Asked::Unasked;
        };
        let Ok(tool) = live.resolve(&execution.tool_path) else {
            return Asked::Unasked;
        };
        if crate::builtin::changes_settings(tool) {
            return Asked::Unasked;
        }
        if context
            .client_capabilities()
            .is_none_or(|c| c.elicitation.is_none())
        {
            return Asked::Unasked;
        }
        let Some(params) = approval_question(&execution) else {
            return Asked::Unasked;
        };
        let stateless = context
            .protocol_version()
            .is_some_and(|v| !v.has_initialize());
        if stateless {
            let mut requests = rmcp::model::InputRequests::new();
            requests.insert(
                APPROVAL_KEY.to_owned(),
                rmcp::model::InputRequest::Elicitation(rmcp::model::ElicitRequest::new(params)),
            );
            return Asked::Round(rmcp::model::InputRequiredResult::new(
                Some(requests),
                Some(execution.id),
            ));
        }
        match context
            .peer
            .create_elicitation_with_timeout(params, Some(ELICITATION_TIMEOUT))
            .await
        {
            Ok(answer) => match approval_action(&answer) {
                Some(action) => Asked::Answered(self.resume(&execution.id, action).await),
                None => Asked::Unasked,
            },
            Err(e) => {
                tracing::info!(execution = %execution.id, "approval by elicitation not answered: {e}");
                Asked::Unasked
            }
        }
    }

    /// The retry of a 2026-07-28 approval round: `handle` is the execution
    /// id the round carried. It is untrusted, so it must name a paused call
    /// of exactly this tool and these arguments.
    async fn answer_round(
        &self,
        live: &Live,
        handle: &str,
        name: &str,
        arguments: &Value,
        answer: Option<Value>,
    ) -> Result<Value, ToolError> {
        let mismatch = || {
            error(
                ErrorCode::InvalidInput,
                "the requestState of this retry does not belong to this call; call the tool again without it",
                None,
            )
        };
        let execution = crate::execution::get(&self.state, handle)
            .ok()
            .flatten()
            .ok_or_else(mismatch)?;
        let (path, input) = match &self.mode {
            Mode::All => (name.to_owned(), arguments.clone()),
            Mode::Source(_) => {
                let (_, tools) = self.tools();
                let path = tools.path(name).ok_or_else(mismatch)?.to_owned();
                (path, arguments.clone())
            }
            Mode::Discover if name == "call" => (
                arguments["path"].as_str().unwrap_or_default().to_owned(),
                arguments.get("input").cloned().unwrap_or_else(|| json!({})),
            ),
            Mode::Discover => return Err(mismatch()),
        };
        let tool = live.resolve(&path)?;
        if tool.path != execution.tool_path || input != execution.input {
            return Err(mismatch());
        }
        let action = answer
            .and_then(|a| serde_json::from_value::<rmcp::model::ElicitResult>(a).ok())
            .and_then(|a| approval_action(&a));
        match action {
            Some(action) if !crate::builtin::changes_settings(tool) => {
                self.resume(&execution.id, action).await
            }
            _ => Err(crate::execution::paused_error(&self.state, &execution)),
        }
    }

    async fn resume(&self, id: &str, action: crate::execution::Action) -> Result<Value, ToolError> {
        match crate::invoke::resume(&self.state, id, action).await? {
            Some(outcome) => outcome,
            None => Err(error(
                ErrorCode::InternalError,
                format!("execution {id} disappeared"),
                None,
            )),
        }
    }
}

/// The approval question: the tool, its arguments, and one yes/no field.
fn approval_question(
    execution: &crate::store::Execution,
) -> Option<rmcp::model::ElicitRequestParams> {
    let schema = rmcp::model::ElicitationSchema::builder()
        .required_bool_property("approve", |b| {
            b.title("Run this call")
                .description("true runs the call now; false declines it")
        })
        .build()
        .ok()?;
    let arguments = serde_json::to_string_pretty(&execution.input).unwrap_or_default();
    Some(rmcp::model::ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: format!(
            "An agent wants to run {} (execution {}), which needs your approval. Arguments:\n{arguments}",
            execution.tool_path, execution.id
        ),
        requested_schema: schema,
    })
}

/// accept with `approve: true` runs the call; accept with `false`, or
/// decline, refuses it; cancel (dismissed) leaves it paused.
fn approval_action(answer: &rmcp::model::ElicitResult) -> Option<crate::execution::Action> {
    use rmcp::model::ElicitationAction;
    match answer.action {
        ElicitationAction::Accept => {
            let approve = answer
                .content
                .as_ref()
                .and_then(|c| c.get("approve"))
                .and_then(Value::as_bool);
            match approve {
                Some(true) => Some(crate::execution::Action::Accept),
                Some(false) => Some(crate::execution::Action::Decline),
                None => None,
            }
        }
        ElicitationAction::Decline => Some(crate::execution::Action::Decline),
        _ => None,
    }
}

impl Handler {
    /// Runs a catalog tool; its answer must match the output schema MCP
    /// clients were promised.
    async fn run(&self, live: &Live, path: &str, input: Value) -> Result<Value, ToolError> {
        let data = invoke::invoke(&self.state, path, input, &invoke::Caller::AGENT).await?;
        let (_, tools) = self.tools();
        let promised = tools
            .by_name
            .get(path)
            .is_some_and(|&i| tools.list[i].output_schema.is_some());
        if promised && let Ok(tool) = live.resolve(path) {
            live.validate_output(tool, &data)?;
        }
        Ok(data)
    }

    async fn discover(&self, live: &Live, name: &str, input: Value) -> Result<Value, ToolError> {
        let text = |key: &str| input.get(key).and_then(Value::as_str).map(str::to_owned);
        match name {
            "search" => {
                let query = text("query").unwrap_or_default();
                let limit = input
                    .get("limit")
                    .and_then(Value::as_u64)
                    .unwrap_or(10)
                    .clamp(1, 50) as usize;
                let hits: Vec<Value> = live
                    .index
                    .search(&query, limit)
                    .into_iter()
                    .filter_map(|h| live.catalog.tool(&h.path))
                    .map(|t| json!({ "path": t.path, "title": t.title, "description": first_line(t.description.as_deref()) }))
                    .collect();
                Ok(json!({ "tools": hits }))
            }
            "describe" => {
                let path = text("path").unwrap_or_default();
                let tool = live.resolve(&path)?;
                Ok(json!({
                    "path": tool.path,
                    "title": tool.title,
                    "description": tool.description,
                    "inputSchema": live.catalog.standalone_schema(tool, SchemaRole::Input),
                    "outputSchema": live.catalog.standalone_schema(tool, SchemaRole::Output),
                    "annotations": tool.annotations,
                }))
            }
            "call" => {
                let path = text("path").unwrap_or_default();
                let input = input.get("input").cloned().unwrap_or_else(|| json!({}));
                invoke::invoke(&self.state, &path, input, &invoke::Caller::AGENT).await
            }
            other => Err(error(
                ErrorCode::ToolNotFound,
                format!("unknown tool {other}"),
                None,
            )),
        }
    }
}

fn first_line(text: Option<&str>) -> Option<String> {
    text.and_then(|t| t.lines().find(|l| !l.trim().is_empty()))
        .map(|l| l.trim().to_owned())
}

/// Every catalog tool as an MCP tool.
fn catalog_tools(live: &Live) -> McpTools {
    let mut tools = McpTools::default();
    for tool in &live.catalog.tools {
        tools.by_name.insert(tool.path.clone(), tools.list.len());
        tools.paths.push(tool.path.clone());
        tools.list.push(mcp_tool(live, tool));
    }
    tools
}

/// One source's tools under their own names: an upstream MCP server's
/// tools as that server names them (with its own output schema, results
/// passed through), other sources' tools by their name within the
/// integration (results in the envelope). With several connections, the
/// first in path order keeps a name.
fn source_tools(live: &Live, namespace: &str) -> McpTools {
    let mut tools = McpTools::default();
    for tool in live
        .catalog
        .tools
        .iter()
        .filter(|t| t.integration == namespace)
    {
        let (name, mut mcp) = match &tool.binding {
            generator::ir::Binding::Mcp(binding) => {
                let mut mcp = mcp_tool(live, tool);
                let output = &tool.output;
                mcp.output_schema =
                    (output.as_object().is_some_and(|o| !o.is_empty())).then(|| {
                        Arc::new(object(
                            live.catalog.standalone_schema(tool, SchemaRole::Output),
                        ))
                    });
                (binding.tool_name.clone(), mcp)
            }
            _ => (tool.name.clone(), mcp_tool(live, tool)),
        };
        if tools.by_name.contains_key(&name) {
            continue;
        }
        mcp.name = name.clone().into();
        tools.by_name.insert(name, tools.list.len());
        tools.paths.push(tool.path.clone());
        tools.list.push(mcp);
    }
    tools
}

/// Output schemas larger than this (self-contained, as JSON) are left out
/// of `tools/list`: some APIs answer with objects whose schemas run to
/// hundreds of kilobytes (GitHub's repository), which would flood an agent's
/// context and make listing a large catalog take seconds. `describe` (in
/// the discovery view) and `GET /api/tools/{path}` still give them.
pub const MAX_OUTPUT_SCHEMA_BYTES: usize = 16 * 1024;

fn mcp_tool(live: &Live, tool: &IrTool) -> Tool {
    let input = object(live.catalog.standalone_schema(tool, SchemaRole::Input));
    let output = live.catalog.standalone_schema(tool, SchemaRole::Output);
    let output = (serde_json::to_vec(&output).map_or(usize::MAX, |b| b.len())
        <= MAX_OUTPUT_SCHEMA_BYTES)
        .then_some(output);
    let description = tool
        .description
        .clone()
        .or_else(|| tool.title.clone())
        .unwrap_or_else(|| tool.name.clone());
    let a = &tool.annotations;
    let annotations = ToolAnnotations::from_raw(
        tool.title.clone(),
        a.read_only_hint,
        a.destructive_hint,
        a.idempotent_hint,
        a.open_world_hint,
    );
    let mut mcp =
        Tool::new(tool.path.clone(), description, Arc::new(input)).with_annotations(annotations);
    if let Some(output) = output {
        mcp = mcp.with_raw_output_schema(Arc::new(envelope_schema(output)));
    }
    if let Some(title) = &tool.title {
        mcp = mcp.with_title(title.clone());
    }
    mcp
}

/// MCP wants object schemas; the IR's input schemas are objects already.
fn object(schema: Value) -> Map<String, Value> {
    match schema {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The output schema MCP clients see: the envelope, with the tool's own
/// output schema as `data`.
fn envelope_schema(output: Value) -> Map<String, Value> {
    let mut output = object(output);
    let defs = output.remove("$defs");
    output.remove("$schema");
    let mut schema = json!({
        "$schema": generator::ir::JSON_SCHEMA_DIALECT,
        "type": "object",
        "properties": {
            "ok": { "type": "boolean", "description": "true: `data` holds the tool's answer; false: `error` says what went wrong" },
            "data": {},
            "error": { "type": "object", "description": "An ExecutorToolError: code, message and details" }
        },
        "required": ["ok"]
    });
    schema["properties"]["data"] = Value::Object(output);
    if let Some(defs) = defs {
        schema["$defs"] = defs;
    }
    object(schema)
}

/// The three tools of the discovery view.
fn discovery_tools() -> &'static Arc<McpTools> {
    static TOOLS: OnceLock<Arc<McpTools>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let tools = vec![
            Tool::new(
                "search",
                "Find tools by what you want to do, best first. Returns paths with one-line descriptions.",
                Arc::new(object(json!({
                    "type": "object",
                    "properties": {
                        "query": { "type": "string", "description": "What you want to do, e.g. \"create an issue\"" },
                        "limit": { "type": "integer", "minimum": 1, "maximum": 50, "description": "How many results (default 10)" }
                    },
                    "required": ["query"],
                    "additionalProperties": false
                }))),
            )
            .with_annotations(ToolAnnotations::from_raw(Some("Search tools".into()), Some(true), None, Some(true), Some(false))),
            Tool::new(
                "describe",
                "Show one tool: its description and its input and output JSON Schemas.",
                Arc::new(object(json!({
                    "type": "object",
                    "properties": { "path": { "type": "string", "description": "The tool's path, as `search` returns it" } },
                    "required": ["path"],
                    "additionalProperties": false
                }))),
            )
            .with_annotations(ToolAnnotations::from_raw(Some("Describe a tool".into()), Some(true), None, Some(true), Some(false))),
            Tool::new(
                "call",
                "Run a tool by path with its input object. The answer is {ok: true, data} or {ok: false, error}.",
                Arc::new(object(json!({
                    "type": "object",
                    "properties": {
                        "path": { "type": "string", "description": "The tool's path" },
                        "input": { "type": "object", "description": "The tool's input, as its input schema says" }
                    },
                    "required": ["path"],
                    "additionalProperties": false
                }))),
            )
            .with_annotations(ToolAnnotations::from_raw(Some("Call a tool".into()), Some(false), None, Some(false), Some(true))),
        ];
        let by_name = tools.iter().enumerate().map(|(i, t)| (t.name.to_string(), i)).collect();
        let paths = tools.iter().map(|t| t.name.to_string()).collect();
        Arc::new(McpTools { list: tools, by_name, paths })
    })
}
