//! Upstream MCP servers: one pooled rmcp client per MCP source, over
//! streamable HTTP or a stdio child process. A client whose transport has
//! closed (the server crashed, the connection dropped) is replaced on the
//! next call, which is retried once.
//!
//! Why this file is over 500 lines: connecting (three transports, each
//! revision's handshake), the pool, the retry of a closed session and
//! relaying or forwarding a call's rounds share the pool's locking and
//! read best together; OAuth tokens (`auth.rs`),
//! sign-ins (`signin.rs`) and the legacy SSE transport are apart.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use generator::envelope::{ErrorCode, ToolError};
use rmcp::model::{CallToolRequestParams, ContentBlock};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Map, Value, json};

use crate::errors::error;

pub mod auth;
pub mod legacy_sse;
pub mod signin;

/// How to reach one upstream MCP server (secrets already decrypted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct McpTarget {
    pub url: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub command: Option<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// The server uses MCP authorization: its tokens, where they are kept.
    pub oauth: Option<auth::SealedCredentials>,
}

impl McpTarget {
    /// Where it is, for people: the URL or the command line (no secrets).
    pub fn origin(&self) -> String {
        match (&self.url, &self.command) {
            (Some(url), _) => url.clone(),
            (None, Some(command)) => std::iter::once(command.as_str())
                .chain(self.args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
            (None, None) => String::new(),
        }
    }
}

pub type Client = RunningService<RoleClient, Listener>;

/// Tells the service when an upstream's tool list changes, and relays what
/// the upstream sends during a call (log messages, progress, sampling and
/// elicitation requests) to the client that made the call.
#[derive(Clone)]
pub struct Listener {
    namespace: String,
    changes: Option<tokio::sync::mpsc::UnboundedSender<String>>,
    relay: Arc<RelaySlot>,
}

/// The client a source-view call came from (an MCP session of the `/mcp`
/// surface, which implements this), to which what the upstream sends about
/// the call is relayed. A trait, so that this core room does not name the
/// server side of MCP. (Logging and sampling are deprecated by SEP-2577,
/// but servers of 2025-11-25 still send them: they are relayed.)
#[allow(deprecated)]
#[async_trait::async_trait]
pub trait Downstream: Send + Sync {
    async fn log(&self, params: rmcp::model::LoggingMessageNotificationParam);
    async fn progress(&self, params: rmcp::model::ProgressNotificationParam);
    async fn sample(
        &self,
        params: rmcp::model::CreateMessageRequestParams,
    ) -> Result<rmcp::model::CreateMessageResult, rmcp::ServiceError>;
    async fn elicit(
        &self,
        params: rmcp::model::ElicitRequestParams,
    ) -> Result<rmcp::model::ElicitResult, rmcp::ServiceError>;
}

/// The downstream client of the call in flight to one upstream.
#[derive(Clone)]
pub struct Relay {
    pub peer: Arc<dyn Downstream>,
    /// The caller's progress token, to put on relayed progress.
    pub progress_token: Option<rmcp::model::ProgressToken>,
}

/// Where a namespace's listener finds the call it belongs to. An upstream
/// session is shared, and a notification or request from the upstream does
/// not say which call it is about, so relaying happens only while exactly
/// one call is in flight: with two, nothing is relayed rather than sent to
/// the wrong client.
#[derive(Default)]
pub struct RelaySlot {
    state: std::sync::Mutex<(usize, Option<Relay>)>,
    /// Notifications being relayed right now.
    relaying: std::sync::atomic::AtomicUsize,
}

/// While alive, one call is in flight on a slot.
pub struct InFlight {
    slot: Arc<RelaySlot>,
}

impl RelaySlot {
    fn enter(self: &Arc<Self>, relay: Option<Relay>) -> InFlight {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += 1;
        state.1 = if state.0 == 1 { relay } else { None };
        InFlight { slot: self.clone() }
    }

    fn current(&self) -> Option<Relay> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    /// rmcp handles each notification in a task of its own, so a call's
    /// result can overtake the upstream's last notifications about it.
    /// Before the result goes back, let those tasks run and finish
    /// (bounded: a stuck client must not hold the result).
    async fn settle(&self) {
        use std::sync::atomic::Ordering;
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
        let started = std::time::Instant::now();
        while self.relaying.load(Ordering::Acquire) > 0
            && started.elapsed() < Duration::from_millis(200)
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    fn relaying(&self) -> Relaying<'_> {
        self.relaying
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        Relaying { slot: self }
    }
}

/// A notification being relayed.
struct Relaying<'a> {
    slot: &'a RelaySlot,
}

impl Drop for Relaying<'_> {
    fn drop(&mut self) {
        self.slot
            .relaying
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.slot.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 = state.0.saturating_sub(1);
        if state.0 == 0 {
            state.1 = None;
        }
    }
}

fn no_relay(what: &str) -> rmcp::ErrorData {
    rmcp::ErrorData::invalid_request(
        format!(
            "executor cannot relay {what} here: only calls made through /mcp?source=<namespace>, one at a time, reach the calling client"
        ),
        None,
    )
}

// Sampling and logging are deprecated in the newest revision but still
// what 2025-11-25 servers send; they are relayed as they come.
#[allow(deprecated)]
impl rmcp::ClientHandler for Listener {
    fn get_info(&self) -> rmcp::model::ClientConfig {
        let mut capabilities = rmcp::model::ClientCapabilities::builder()
            .enable_sampling()
            .enable_elicitation()
            .build();
        capabilities.roots = None;
        rmcp::model::ClientConfig::new(
            capabilities,
            rmcp::model::Implementation::new("executor", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn on_tool_list_changed(&self, _context: rmcp::service::NotificationContext<RoleClient>) {
        if let Some(changes) = &self.changes {
            let _ = changes.send(self.namespace.clone());
        }
    }

    async fn on_logging_message(
        &self,
        params: rmcp::model::LoggingMessageNotificationParam,
        _context: rmcp::service::NotificationContext<RoleClient>,
    ) {
        let _relaying = self.relay.relaying();
        if let Some(relay) = self.relay.current() {
            relay.peer.log(params).await;
        }
    }

    async fn on_progress(
        &self,
        mut params: rmcp::model::ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<RoleClient>,
    ) {
        let _relaying = self.relay.relaying();
        if let Some(relay) = self.relay.current()
            && let Some(token) = relay.progress_token
        {
            params.progress_token = token;
            relay.peer.progress(params).await;
        }
    }

    async fn create_message(
        &self,
        params: rmcp::model::CreateMessageRequestParams,
        _context: rmcp::service::RequestContext<RoleClient>,
    ) -> Result<rmcp::model::CreateMessageResult, rmcp::ErrorData> {
        let relay = self.relay.current().ok_or_else(|| no_relay("sampling"))?;
        relay.peer.sample(params).await.map_err(relayed)
    }

    async fn create_elicitation(
        &self,
        params: rmcp::model::ElicitRequestParams,
        _context: rmcp::service::RequestContext<RoleClient>,
    ) -> Result<rmcp::model::ElicitResult, rmcp::ErrorData> {
        let relay = self
            .relay
            .current()
            .ok_or_else(|| no_relay("elicitation"))?;
        relay.peer.elicit(params).await.map_err(relayed)
    }
}

fn relayed(e: rmcp::ServiceError) -> rmcp::ErrorData {
    match e {
        rmcp::ServiceError::McpError(e) => e,
        other => {
            rmcp::ErrorData::internal_error(format!("the calling client failed: {other}"), None)
        }
    }
}

/// A caller's answers to an upstream's input-required round (2026-07-28):
/// what the retry carries on to the upstream.
#[derive(Debug, Clone, Default)]
pub struct Round {
    pub input_responses: Option<rmcp::model::InputResponses>,
    /// The upstream's own `requestState`, as it gave it.
    pub request_state: Option<String>,
    /// What the calling client can answer (2026-07-28 says it per
    /// request): the upstream asks only for what it declares.
    pub capabilities: Option<rmcp::model::ClientCapabilities>,
}

/// Why an upstream call gave no result.
#[derive(Debug)]
pub enum Refused {
    /// Executor's own failure (unreachable, timed out, ...).
    Tool(ToolError),
    /// The upstream answered with a JSON-RPC error, kept as it came for a
    /// client that speaks MCP.
    Rpc(rmcp::ErrorData),
}

impl From<Refused> for ToolError {
    /// The refusal as the envelope says it.
    fn from(refused: Refused) -> ToolError {
        match refused {
            Refused::Tool(e) => e,
            Refused::Rpc(e) => error(
                ErrorCode::UpstreamToolError,
                format!("the MCP server refused the call: {}", e.message),
                e.data,
            ),
        }
    }
}

/// Connections to upstream MCP servers, by namespace.
#[derive(Default)]
pub struct McpUpstreams {
    clients: tokio::sync::Mutex<HashMap<String, Arc<Client>>>,
    relays: std::sync::Mutex<HashMap<String, Arc<RelaySlot>>>,
    changes: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<String>>,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the `server/discover` probe may take before the server is
/// taken for one of an older revision that ignores what it does not know
/// (rmcp would wait 10 s, on every connect).
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Opens a session with an upstream MCP server.
async fn connect(target: &McpTarget, listener: Listener) -> Result<Client, ToolError> {
    let fail = |what: String| {
        error(
            ErrorCode::UpstreamUnreachable,
            format!("cannot reach the MCP server {}: {what}", target.origin()),
            None,
        )
    };
    let connecting = async {
        match (&target.url, &target.command) {
            (Some(url), _) => {
                if let Ok(parsed) = reqwest::Url::parse(url) {
                    crate::outbound::refuse_own_listener(&parsed, "the MCP server's URL")?;
                }
                let mut headers = HashMap::new();
                for (name, value) in &target.headers {
                    let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                        .map_err(|e| fail(e.to_string()))?;
                    let value = reqwest::header::HeaderValue::from_str(value)
                        .map_err(|e| fail(e.to_string()))?;
                    headers.insert(name, value);
                }
                let config = StreamableHttpClientTransportConfig::with_uri(url.clone())
                    .custom_headers(headers.clone());
                if let Some(credentials) = &target.oauth {
                    // MCP authorization: the tokens from the store, refreshed
                    // by rmcp's client as they expire.
                    let mut manager = auth::manager(url).await.map_err(|e| fail(e.to_string()))?;
                    manager.set_credential_store(credentials.clone());
                    let signed_in = manager
                        .initialize_from_store()
                        .await
                        .map_err(|e| fail(e.to_string()))?;
                    if !signed_in {
                        return Err(error(
                            ErrorCode::ConnectionMissing,
                            format!(
                                "the MCP server {url} needs a sign-in: add the source again (executor.mcp.addSource) and open the URL it gives"
                            ),
                            None,
                        ));
                    }
                    let client =
                        rmcp::transport::auth::AuthClient::new(crate::outbound::client(), manager);
                    // As below: the newest revision first, then the old
                    // greeting on a fresh transport (the same tokens).
                    let transport = || {
                        StreamableHttpClientTransport::with_client(client.clone(), config.clone())
                    };
                    let probe =
                        tokio::time::timeout(PROBE_TIMEOUT, open(listener.clone(), transport()))
                            .await;
                    return match probe {
                        Ok(Ok(client)) => Ok(client),
                        _ => listener
                            .serve(transport())
                            .await
                            .map_err(|e| fail(e.to_string())),
                    };
                }
                let (relay, changes, namespace) = (
                    listener.relay.clone(),
                    listener.changes.clone(),
                    listener.namespace.clone(),
                );
                let transport = || {
                    StreamableHttpClientTransport::with_client(
                        crate::outbound::client(),
                        config.clone(),
                    )
                };
                let probe =
                    tokio::time::timeout(PROBE_TIMEOUT, open(listener.clone(), transport())).await;
                // A server of an older revision may answer the discovery
                // probe with an error rmcp cannot read as "legacy" (an HTTP
                // 400 with no request id), or not at all: greet it the old
                // way on a fresh transport.
                let probe = match probe {
                    Ok(Ok(client)) => return Ok(client),
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "no answer".to_owned(),
                };
                let streamable = match listener.clone().serve(transport()).await {
                    Ok(client) => {
                        tracing::debug!(%url, "server/discover failed ({probe}); initialize worked");
                        return Ok(client);
                    }
                    Err(e) => e,
                };
                // Servers from before streamable HTTP speak the legacy
                // HTTP+SSE transport on the same URL.
                tracing::info!(%url, "streamable HTTP failed ({streamable}); trying the legacy SSE transport");
                let header_map: reqwest::header::HeaderMap = headers.into_iter().collect();
                let legacy =
                    legacy_sse::LegacySse::connect(crate::outbound::client(), url, header_map)
                        .await
                        .map_err(|e| {
                            fail(format!(
                                "streamable HTTP failed ({streamable}), and so did legacy SSE ({e})"
                            ))
                        })?;
                let listener = Listener {
                    namespace,
                    changes,
                    relay,
                };
                listener
                    .serve(legacy)
                    .await
                    .map_err(|e| fail(format!("legacy SSE: {e}")))
            }
            (None, Some(command)) => {
                let spawn = || {
                    let mut cmd = tokio::process::Command::new(command);
                    cmd.args(&target.args).envs(&target.env);
                    TokioChildProcess::builder(cmd)
                        .stderr(std::process::Stdio::null())
                        .spawn()
                        .map(|(transport, _stderr)| transport)
                        .map_err(|e| fail(e.to_string()))
                };
                match tokio::time::timeout(PROBE_TIMEOUT, open(listener.clone(), spawn()?)).await {
                    Ok(Ok(client)) => Ok(client),
                    // A server that did not answer the discovery probe in
                    // time, or broke on it: a fresh process, greeted the
                    // old way (the first one is killed as it is dropped).
                    Ok(Err(probe)) => {
                        tracing::debug!(%command, "server/discover failed ({probe}); trying initialize");
                        listener
                            .serve(spawn()?)
                            .await
                            .map_err(|e| fail(e.to_string()))
                    }
                    Err(_) => {
                        tracing::debug!(%command, "no answer to server/discover; trying initialize");
                        listener
                            .serve(spawn()?)
                            .await
                            .map_err(|e| fail(e.to_string()))
                    }
                }
            }
            (None, None) => Err(fail("neither a url nor a command".into())),
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| fail(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())))?
}

/// Opens a session the newest way both sides speak: `server/discover`
/// (2026-07-28, whose servers answer tools with input-required rounds that
/// the source view forwards), falling back to `initialize` on the same
/// transport when the server answers that it is of an older revision.
async fn open<T, E, A>(
    listener: Listener,
    transport: T,
) -> Result<Client, rmcp::service::ClientInitializeError>
where
    T: rmcp::transport::IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    use rmcp::{ClientLifecycleMode, ClientServiceExt};
    listener
        .serve_with_lifecycle(
            transport,
            ClientLifecycleMode::Auto {
                preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
                legacy_version: None,
            },
        )
        .await
}

/// Whether a session speaks a revision without `initialize` (2026-07-28
/// on): its server answers with input-required rounds rather than asking
/// the client mid-call.
pub fn is_stateless(client: &Client) -> bool {
    client
        .peer()
        .peer_info()
        .is_some_and(|info| !info.protocol_version.has_initialize())
}

/// One `tools/call` of a forwarded round, its input-required result
/// returned as it is. The calling client's capabilities replace the
/// session's own (executor's) in the request's `_meta`.
async fn forward_round(
    client: &Client,
    params: CallToolRequestParams,
    capabilities: Option<rmcp::model::ClientCapabilities>,
) -> Result<rmcp::model::CallToolResponse, rmcp::ServiceError> {
    use rmcp::model::{CallToolResponse, ServerResult};
    let mut options = rmcp::service::PeerRequestOptions::no_options();
    if let Some(capabilities) = capabilities {
        let mut meta = rmcp::model::RequestMetaObject::new();
        meta.set_client_capabilities(capabilities);
        options.meta = Some(meta);
    }
    let request =
        rmcp::model::ClientRequest::CallToolRequest(rmcp::model::CallToolRequest::new(params));
    let handle = client
        .peer()
        .send_request_with_option(request, options)
        .await?;
    match handle.await_response().await? {
        ServerResult::CallToolResult(result) => Ok(CallToolResponse::Complete(result)),
        ServerResult::InputRequiredResult(result) => Ok(CallToolResponse::InputRequired(result)),
        _ => Err(rmcp::ServiceError::UnexpectedResponse),
    }
}

/// Every tool the server lists (all pages), and its `serverInfo`.
pub async fn list(client: &Client) -> Result<(Vec<Value>, Option<Value>), ToolError> {
    let tools = client.peer().list_all_tools().await.map_err(|e| {
        error(
            ErrorCode::UpstreamInvalidResponse,
            format!("tools/list failed: {e}"),
            None,
        )
    })?;
    let tools = tools
        .into_iter()
        .map(|t| serde_json::to_value(t).unwrap_or(Value::Null))
        .collect();
    let info = client.peer().peer_info().map(|i| json!(i.server_info));
    Ok((tools, info))
}

impl McpUpstreams {
    /// Where upstream list changes are announced (set once, by the service).
    pub fn listen(&self, changes: tokio::sync::mpsc::UnboundedSender<String>) {
        let _ = self.changes.set(changes);
    }

    /// Opens a session for a namespace (not kept: see [`Self::put`]).
    pub async fn connect(&self, namespace: &str, target: &McpTarget) -> Result<Client, ToolError> {
        let listener = Listener {
            namespace: namespace.to_owned(),
            changes: self.changes.get().cloned(),
            relay: self.relay_slot(namespace),
        };
        let client = connect(target, listener).await?;
        self.follow_changes(namespace, &client);
        Ok(client)
    }

    /// A server of 2026-07-28 announces a changed tool list only on a
    /// `subscriptions/listen` stream (an older one sends it in the session,
    /// to the listener): one is held open while the session lives, and what
    /// it hears goes where the listener's would.
    fn follow_changes(&self, namespace: &str, client: &Client) {
        let lists_change = client
            .peer()
            .peer_info()
            .and_then(|info| {
                info.capabilities
                    .tools
                    .as_ref()
                    .and_then(|t| t.list_changed)
            })
            .unwrap_or(false);
        let Some(changes) = self.changes.get().cloned() else {
            return;
        };
        if !is_stateless(client) || !lists_change {
            return;
        }
        let peer = client.peer().clone();
        let namespace = namespace.to_owned();
        tokio::spawn(async move {
            let filter = rmcp::model::SubscriptionFilter::builder()
                .tools_list_changed()
                .build();
            let mut subscription = match peer.listen(filter).await {
                Ok(subscription) => subscription,
                Err(e) => {
                    tracing::info!(%namespace, "the MCP server refused subscriptions/listen ({e}); its tool list is read again only on refresh");
                    return;
                }
            };
            // Ends with the session (closed, or replaced in the pool).
            while let Ok(Some(notification)) = subscription.next().await {
                if matches!(
                    notification,
                    rmcp::model::ServerNotification::ToolListChangedNotification(_)
                ) && changes.send(namespace.clone()).is_err()
                {
                    return;
                }
            }
        });
    }

    /// The pooled session of a namespace, opened if needed.
    pub async fn session(
        &self,
        namespace: &str,
        target: &McpTarget,
    ) -> Result<Arc<Client>, ToolError> {
        self.client(namespace, target).await
    }

    /// Keeps a client for a namespace (replacing any other).
    pub async fn put(&self, namespace: &str, client: Client) {
        let old = self
            .clients
            .lock()
            .await
            .insert(namespace.to_owned(), Arc::new(client));
        if let Some(old) = old {
            old.cancellation_token().cancel();
        }
    }

    /// Drops a namespace's client, closing its session.
    pub async fn forget(&self, namespace: &str) {
        if let Some(old) = self.clients.lock().await.remove(namespace) {
            old.cancellation_token().cancel();
        }
    }

    /// Calls a tool upstream: `data` is the result's `structuredContent`,
    /// else its text (one block), else its content blocks. Input-required
    /// rounds of a 2026-07-28 upstream are answered through the listener,
    /// which reaches no client here, so such a tool fails saying so.
    pub async fn call(
        &self,
        namespace: &str,
        target: &McpTarget,
        tool: &str,
        arguments: Value,
    ) -> Result<Value, ToolError> {
        match self
            .call_raw(namespace, target, tool, arguments, None, None)
            .await
        {
            Ok(rmcp::model::CallToolResponse::Complete(result)) => result_data(result),
            Ok(_) => Err(error(
                ErrorCode::UpstreamInvalidResponse,
                format!(
                    "the MCP server {} answered with neither a result nor an error",
                    target.origin()
                ),
                None,
            )),
            Err(refused) => Err(refused.into()),
        }
    }

    fn relay_slot(&self, namespace: &str) -> Arc<RelaySlot> {
        self.relays
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(namespace.to_owned())
            .or_default()
            .clone()
    }

    /// Runs `work` (a request to the namespace's upstream) with `relay` as
    /// the client that what the upstream sends about it goes to (when it
    /// is the only request in flight on that upstream).
    pub async fn relaying<T>(
        &self,
        namespace: &str,
        relay: Relay,
        work: impl std::future::Future<Output = T>,
    ) -> T {
        let slot = self.relay_slot(namespace);
        let _in_flight = slot.enter(Some(relay));
        let result = work.await;
        slot.settle().await;
        result
    }

    /// Calls a tool upstream and returns its result as it came; while it
    /// runs, what the upstream sends about it goes to `relay`, if given
    /// (when this is the only call in flight to that upstream).
    ///
    /// With `round` (a caller that takes input-required rounds itself: a
    /// 2026-07-28 client of the source view), an upstream of that revision
    /// gets the round's answers and its `InputRequiredResult` comes back as
    /// it is. Without, the rounds are answered here through the listener
    /// (relayed to a session client, if one is calling).
    pub async fn call_raw(
        &self,
        namespace: &str,
        target: &McpTarget,
        tool: &str,
        arguments: Value,
        relay: Option<Relay>,
        round: Option<Round>,
    ) -> Result<rmcp::model::CallToolResponse, Refused> {
        let slot = self.relay_slot(namespace);
        let relaying = relay.is_some();
        let _in_flight = slot.enter(relay);
        let result = self
            .call_once(namespace, target, tool, arguments, round)
            .await;
        if relaying {
            slot.settle().await;
        }
        result
    }

    async fn call_once(
        &self,
        namespace: &str,
        target: &McpTarget,
        tool: &str,
        arguments: Value,
        round: Option<Round>,
    ) -> Result<rmcp::model::CallToolResponse, Refused> {
        use rmcp::model::CallToolResponse;
        let arguments: Map<String, Value> = match arguments {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        for attempt in 0..2 {
            let client = self
                .client(namespace, target)
                .await
                .map_err(Refused::Tool)?;
            let mut params =
                CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments.clone());
            let calling = async {
                match &round {
                    Some(round) if is_stateless(&client) => {
                        params.input_responses = round.input_responses.clone();
                        params.request_state = round.request_state.clone();
                        forward_round(&client, params, round.capabilities.clone()).await
                    }
                    _ => client
                        .call_tool(params)
                        .await
                        .map(CallToolResponse::Complete),
                }
            };
            match tokio::time::timeout(crate::outbound::upstream_timeout(), calling).await {
                Err(_) => {
                    return Err(Refused::Tool(error(
                        ErrorCode::UpstreamUnreachable,
                        format!(
                            "the MCP server {} did not answer within {} s",
                            target.origin(),
                            crate::outbound::upstream_timeout().as_secs()
                        ),
                        None,
                    )));
                }
                Ok(Ok(CallToolResponse::Task(_))) => {
                    return Err(Refused::Tool(error(
                        ErrorCode::UpstreamInvalidResponse,
                        "the MCP server answered with a task, which executor did not ask for",
                        None,
                    )));
                }
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(rmcp::ServiceError::McpError(e))) => return Err(Refused::Rpc(e)),
                Ok(Err(e @ rmcp::ServiceError::InputRequiredRoundsExceeded { .. })) => {
                    return Err(Refused::Tool(error(
                        ErrorCode::UpstreamToolError,
                        format!("the MCP server kept asking for input: {e}"),
                        None,
                    )));
                }
                Ok(Err(e)) if attempt == 0 => {
                    // The session or the process is gone: start over once.
                    tracing::warn!(namespace, "upstream MCP session failed ({e}); reconnecting");
                    self.forget(namespace).await;
                }
                Ok(Err(e)) => {
                    return Err(Refused::Tool(error(
                        ErrorCode::UpstreamUnreachable,
                        format!("the MCP server {} failed: {e}", target.origin()),
                        None,
                    )));
                }
            }
        }
        unreachable!("the loop returns on its second attempt")
    }

    async fn client(&self, namespace: &str, target: &McpTarget) -> Result<Arc<Client>, ToolError> {
        let mut clients = self.clients.lock().await;
        if let Some(client) = clients.get(namespace)
            && !client.is_transport_closed()
        {
            return Ok(client.clone());
        }
        let client = Arc::new(self.connect(namespace, target).await?);
        clients.insert(namespace.to_owned(), client.clone());
        Ok(client)
    }
}

/// A result's data as the envelope carries it (see [`McpUpstreams::call`]).
pub fn result_data(result: rmcp::model::CallToolResult) -> Result<Value, ToolError> {
    let data = match result.structured_content {
        Some(structured) => structured,
        None => {
            let texts: Vec<&str> = result
                .content
                .iter()
                .filter_map(|c| match c {
                    ContentBlock::Text(t) => Some(t.text.as_str()),
                    _ => None,
                })
                .collect();
            if texts.len() == result.content.len() && texts.len() == 1 {
                Value::String(texts[0].to_owned())
            } else {
                serde_json::to_value(&result.content).unwrap_or(Value::Null)
            }
        }
    };
    if result.is_error == Some(true) {
        let message = match &data {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Err(error(
            ErrorCode::UpstreamToolError,
            format!("the upstream tool failed: {message}"),
            Some(json!({ "result": data })),
        ));
    }
    Ok(data)
}
