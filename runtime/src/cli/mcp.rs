//! `executor mcp`: an MCP server on stdio for clients that launch a command.
//! It forwards every request to the service's `/mcp` (starting the service
//! when needed), so the same catalog, credentials and policies apply; list
//! changes upstream are passed on. stdout is the protocol channel: every
//! human-readable word goes to stderr.

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{
    ClientHandler, ErrorData as McpError, Peer, RoleClient, RoleServer, ServerHandler, ServiceExt,
};

use crate::home::Home;
use crate::service;

/// Serves MCP on stdin/stdout until the client hangs up.
pub async fn run(home: &Home, view: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let info = service::ensure_running(home, &http).await?;
    // The agents' token: it opens /mcp and nothing else.
    let token = home.mcp_token()?;
    let url = format!(
        "{}/mcp{}",
        info.url,
        match view {
            "default" => String::new(),
            view => format!("?tools={view}"),
        }
    );
    let downstream: Arc<OnceLock<Peer<RoleServer>>> = Arc::default();
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.clone()).auth_header(token),
    );
    let upstream = Forwarder {
        downstream: downstream.clone(),
    }
    .serve(transport)
    .await
    .with_context(|| format!("cannot open an MCP session with {url}"))?;
    let bridge = Bridge {
        upstream: upstream.peer().clone(),
    };
    let running = bridge
        .serve(rmcp::transport::io::stdio())
        .await
        .context("the MCP client on stdio did not initialise")?;
    let _ = downstream.set(running.peer().clone());
    running.waiting().await?;
    upstream.cancel().await.ok();
    Ok(())
}

/// The client side, towards the service: passes list changes on.
struct Forwarder {
    downstream: Arc<OnceLock<Peer<RoleServer>>>,
}

impl ClientHandler for Forwarder {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        if let Some(peer) = self.downstream.get() {
            let _ = peer.notify_tool_list_changed().await;
        }
    }
}

/// The server side, towards the client on stdio.
#[derive(Clone)]
struct Bridge {
    upstream: Peer<RoleClient>,
}

fn relay(e: rmcp::ServiceError) -> McpError {
    match e {
        rmcp::ServiceError::McpError(error) => error,
        other => McpError::internal_error(format!("the executor service: {other}"), None),
    }
}

impl ServerHandler for Bridge {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("executor", env!("CARGO_PKG_VERSION")))
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        self.upstream.list_tools(request).await.map_err(relay)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        self.upstream.call_tool_once(request).await.map_err(relay)
    }
}
