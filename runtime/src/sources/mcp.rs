//! Adding an MCP server as a source: reach it (streamable HTTP, legacy
//! SSE or a stdio child), sign in when it asks for authorization, list its
//! tools and store them; re-list them when the server says they changed.

use generator::envelope::{ErrorCode, ToolError};
use generator::ingest::openapi::Options;
use generator::ir::SourceKind;

use super::{check_base_url, check_namespace, internal, save, seal_all};
use crate::builtin::{AddMcpSource, SourceReport};
use crate::credential::{env_place, header_place};
use crate::errors::error;
use crate::state::AppState;
use crate::store::{SourceOptions, SourceRecord};

/// Adds an upstream MCP server: connects, lists its tools, ingests them,
/// stores them with the (sealed) way to reach it, and keeps the session.
pub(crate) async fn add_mcp(
    state: &AppState,
    input: AddMcpSource,
) -> Result<SourceReport, ToolError> {
    check_namespace(&input.namespace)?;
    match (&input.url, &input.command) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(error(
                ErrorCode::InvalidInput,
                "give either \"url\" (a streamable HTTP server) or \"command\" (a stdio server), not both",
                None,
            ));
        }
        (Some(url), None) => check_base_url(url)?,
        (None, Some(_)) => {}
    }
    let target = crate::upstream::McpTarget {
        url: input.url.clone(),
        headers: input.headers.clone(),
        command: input.command.clone(),
        args: input.args.clone(),
        env: input.env.clone(),
        oauth: None,
    };
    let sealed_headers = seal_all(state, &input.headers, |name| {
        header_place(&input.namespace, name)
    })?;
    let sealed_env = seal_all(state, &input.env, |name| env_place(&input.namespace, name))?;
    let options = SourceOptions {
        sealed_headers,
        mcp: Some(crate::store::McpOptions {
            url: input.url.clone(),
            command: input.command.clone(),
            args: input.args.clone(),
            sealed_env,
            oauth: false,
        }),
        ..SourceOptions::default()
    };
    match index_mcp(state, input.namespace.clone(), &target, options.clone()).await {
        Err(e) if target.url.is_some() && asks_for_authorization(state, &target).await => {
            tracing::info!(namespace = %input.namespace, "the MCP server asks for authorization ({})", e.message);
            sign_in(state, input.namespace, target, options).await
        }
        other => other,
    }
}

/// Whether a server asks for MCP authorization (401 with a Bearer
/// challenge).
pub(super) async fn asks_for_authorization(
    state: &AppState,
    target: &crate::upstream::McpTarget,
) -> bool {
    let Some(url) = &target.url else { return false };
    let mut request = state
        .http
        .post(url)
        .header(
            reqwest::header::ACCEPT,
            "application/json, text/event-stream",
        )
        .json(&serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "ping"}));
    for (name, value) in &target.headers {
        request = request.header(name, value);
    }
    // MCP authorization answers 401 with a Bearer challenge; a 401 without
    // one is a wrong static credential, reported as it is.
    request.send().await.is_ok_and(|r| {
        r.status() == reqwest::StatusCode::UNAUTHORIZED
            && r.headers()
                .get(reqwest::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("bearer"))
    })
}

/// Starts MCP authorization for a server: a connection row to keep its
/// tokens, and the sign-in URL, reported with the source (no tools yet).
pub(super) async fn sign_in(
    state: &AppState,
    namespace: String,
    target: crate::upstream::McpTarget,
    mut options: SourceOptions,
) -> Result<SourceReport, ToolError> {
    let url = target.url.clone().unwrap_or_default();
    state
        .store()
        .put_connection(
            &namespace,
            "org",
            generator::ir::DEFAULT_CONNECTION,
            &crate::credential::Auth::McpOauth,
            "",
        )
        .map_err(internal)?;
    if let Some(mcp) = &mut options.mcp {
        mcp.oauth = true;
    }
    let authorization_url = state
        .mcp_signins
        .begin(&state.home, state.addr, &namespace, &url, (target, options))
        .await?;
    Ok(SourceReport {
        namespace,
        tools: 0,
        diagnostics: vec![format!(
            "the server asks for authorization: sign in within ten minutes at {authorization_url}; the source is added when you are back"
        )],
        kind: SourceKind::Mcp,
        base_url: None,
        authorization_url: Some(authorization_url),
    })
}

/// The end of an MCP sign-in: the tokens are stored; index the source.
pub async fn finish_mcp_sign_in(
    state: &AppState,
    namespace: String,
    mut target: crate::upstream::McpTarget,
    options: SourceOptions,
) -> Result<SourceReport, ToolError> {
    target.oauth = Some(crate::upstream::auth::SealedCredentials {
        home: state.home.clone(),
        key: crate::upstream::auth::key(&namespace),
    });
    index_mcp(state, namespace, &target, options).await
}

pub(crate) async fn index_mcp(
    state: &AppState,
    namespace: String,
    target: &crate::upstream::McpTarget,
    options: SourceOptions,
) -> Result<SourceReport, ToolError> {
    let client = state.upstreams.connect(&namespace, target).await?;
    let (tools, server) = crate::upstream::list(&client).await?;
    let record = mcp_record(&namespace, target.origin(), options, &tools, server);
    // The session joins the pool before the catalog swaps, so the first
    // call after the swap reuses it.
    state.upstreams.put(&namespace, client).await;
    save(state, record)
}

/// An MCP source's stored form: its `tools/list` answer, ingested.
pub(super) fn mcp_record(
    namespace: &str,
    origin: String,
    options: SourceOptions,
    tools: &[serde_json::Value],
    server: Option<serde_json::Value>,
) -> SourceRecord {
    let ingested = generator::ingest::mcp::ingest(tools, server.as_ref(), &Options::new(namespace));
    let document = serde_json::json!({ "serverInfo": server, "tools": tools }).to_string();
    SourceRecord::new(namespace.to_owned(), origin, document, options, ingested)
}

/// Lists an MCP source's tools again over its open session (the upstream
/// said its list changed) and re-indexes them.
pub async fn relist_mcp(state: &AppState, namespace: &str) -> Result<usize, ToolError> {
    let existing = state.store().source(namespace).map_err(internal)?;
    let Some(existing) = existing.filter(|s| s.kind() == SourceKind::Mcp) else {
        return Ok(0);
    };
    let target = state.live().mcp_target(namespace);
    let client = state.upstreams.session(namespace, &target).await?;
    let (tools, server) = crate::upstream::list(&client).await?;
    let record = mcp_record(namespace, existing.origin, existing.options, &tools, server);
    let count = record.tools.len();
    state.store_source(record).map_err(internal)?;
    tracing::info!(
        namespace,
        tools = count,
        "MCP source re-listed after tools/list_changed"
    );
    Ok(count)
}
