//! `executor.sources.add`: one way in for every kind of source. Given a
//! URL, a file path or the text, it works out whether it is an OpenAPI
//! description, a GraphQL endpoint (or schema) or an MCP server, then adds
//! it the way that kind's own `addSource` does.
//!
//! A URL is probed in this order, each probe short and harmless:
//! 1. `GET`: an OpenAPI or Swagger document (JSON or YAML) is one;
//! 2. `POST {"query": "{ __typename }"}`: a GraphQL endpoint answers
//!    `data.__typename`;
//! 3. `POST` an MCP `initialize`: an MCP server answers JSON-RPC (as JSON or
//!    an event stream) or asks for authorization with a Bearer challenge;
//!    a legacy HTTP+SSE server answers the `GET` with an event stream.

use std::collections::BTreeMap;
use std::time::Duration;

use generator::envelope::{ErrorCode, ToolError};
use generator::ir::SourceKind;
use reqwest::header::{ACCEPT, CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::{Value, json};

use crate::builtin::{AddAnySource, AddGraphqlSource, AddMcpSource, AddSource, SourceReport};
use crate::errors::error;
use crate::outbound::read_json_capped;
use crate::state::AppState;

/// The GraphQL and MCP probes read at most this much of an answer.
const PROBE_MAX_BYTES: usize = 256 * 1024;
/// How long each probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

pub async fn add(state: &AppState, input: AddAnySource) -> Result<SourceReport, ToolError> {
    crate::sources::check_namespace(&input.namespace)?;
    let trimmed = input.source.trim();
    let is_url = trimmed.starts_with("http://") || trimmed.starts_with("https://");
    // An OpenAPI document the probe already fetched is not fetched again.
    let mut fetched = None;
    let kind = match input.kind {
        Some(kind) => kind,
        None if is_url => {
            let (kind, document) = probe(state, trimmed, &input.headers).await?;
            fetched = document;
            kind
        }
        None => {
            let text = read(state, &input.source).await?;
            generator::ingest::kind_of(&text).ok_or_else(|| {
                error(
                    ErrorCode::InvalidInput,
                    "the source is neither an OpenAPI description (no top-level \"openapi\" or \"swagger\" key) nor a GraphQL schema (SDL or an introspection result); an MCP server is added by its URL, or by command with executor.mcp.addSource",
                    Some(json!({ "pointer": "/source" })),
                )
            })?
        }
    };
    tracing::info!(namespace = %input.namespace, ?kind, "adding a source");
    match kind {
        SourceKind::Openapi => {
            let add = AddSource {
                spec: input.source.clone(),
                namespace: input.namespace,
                base_url: input.base_url,
                headers: input.headers,
                lenient: false,
            };
            match fetched {
                Some(document) => {
                    crate::sources::add_fetched(state, add, trimmed.to_owned(), document).await
                }
                None => crate::sources::add(state, add).await,
            }
        }
        SourceKind::Graphql => {
            let (endpoint, schema) = if is_url {
                (trimmed.to_owned(), None)
            } else {
                let endpoint = input.base_url.clone().ok_or_else(|| {
                    error(
                        ErrorCode::InvalidInput,
                        "this is a GraphQL schema: give the endpoint to call as \"baseUrl\", e.g. \"https://api.example.com/graphql\"",
                        Some(json!({ "pointer": "/baseUrl" })),
                    )
                })?;
                (endpoint, Some(read(state, &input.source).await?))
            };
            super::graphql::add_source(
                state,
                AddGraphqlSource {
                    namespace: input.namespace,
                    endpoint,
                    headers: input.headers,
                    schema,
                },
            )
            .await
        }
        SourceKind::Mcp => {
            if !is_url {
                return Err(error(
                    ErrorCode::InvalidInput,
                    "an MCP server is added by its URL here; for a stdio server use executor.mcp.addSource with \"command\"",
                    Some(json!({ "pointer": "/source" })),
                ));
            }
            crate::sources::add_mcp(
                state,
                AddMcpSource {
                    namespace: input.namespace,
                    url: Some(trimmed.to_owned()),
                    headers: input.headers,
                    command: None,
                    args: Vec::new(),
                    env: BTreeMap::new(),
                },
            )
            .await
        }
    }
}

/// The text of a source given as an absolute file path or as the text
/// itself (one line of SDL included, which is no path).
async fn read(state: &AppState, source: &str) -> Result<String, ToolError> {
    if source.trim_start().starts_with('/') {
        Ok(crate::sources::fetch(state, source, &BTreeMap::new())
            .await?
            .1)
    } else {
        Ok(source.to_owned())
    }
}

/// Probes a URL: its kind, with the document when it is an OpenAPI one.
/// The error says what each probe saw.
async fn probe(
    state: &AppState,
    url: &str,
    headers: &BTreeMap<String, String>,
) -> Result<(SourceKind, Option<String>), ToolError> {
    crate::sources::check_base_url(url)?;
    // The caller's headers (credentials, often) go to the URL's own origin
    // only.
    let client = &state.http;
    let with_headers = |mut request: reqwest::RequestBuilder| {
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.timeout(PROBE_TIMEOUT)
    };
    let mut seen = Vec::new();

    // 1. A document (fetched as adding and refreshing one fetch it).
    let get = crate::sources::get_document(state, url, headers, PROBE_TIMEOUT).await;
    match get {
        Ok(response) => {
            let status = response.status();
            let event_stream = content_type(&response).starts_with("text/event-stream");
            if event_stream {
                // A legacy HTTP+SSE MCP server opens its stream on GET.
                return Ok((SourceKind::Mcp, None));
            }
            // Read as adding reads a spec: refused past its limit.
            let text =
                match crate::sources::read_document(url, response, crate::sources::MAX_SPEC_BYTES)
                    .await
                {
                    Ok(text) => text,
                    Err(too_large) if too_large.code == ErrorCode::InvalidInput => {
                        return Err(too_large);
                    }
                    Err(_) => String::new(),
                };
            if status.is_success() && generator::ingest::kind_of(&text) == Some(SourceKind::Openapi)
            {
                return Ok((SourceKind::Openapi, Some(text)));
            }
            seen.push(format!("GET answered {status} without an OpenAPI document"));
        }
        Err(e) => seen.push(format!("GET failed: {}", e.message)),
    }

    // 2. A GraphQL endpoint.
    let post = with_headers(client.post(url).header(
        ACCEPT,
        "application/graphql-response+json, application/json",
    ))
    .json(&json!({ "query": "{ __typename }" }))
    .send()
    .await;
    match post {
        Ok(response) => {
            let status = response.status();
            let body = read_json_capped(response, PROBE_MAX_BYTES)
                .await
                .unwrap_or(Value::Null);
            if body
                .pointer("/data/__typename")
                .is_some_and(Value::is_string)
            {
                return Ok((SourceKind::Graphql, None));
            }
            seen.push(format!("a GraphQL query got {status} without data"));
        }
        Err(e) => seen.push(format!("a GraphQL query failed: {e}")),
    }

    // 3. An MCP server.
    let initialize = with_headers(
        client
            .post(url)
            .header(ACCEPT, "application/json, text/event-stream"),
    )
    .json(&json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": { "name": "executor-probe", "version": env!("CARGO_PKG_VERSION") }
        }
    }))
    .send()
    .await;
    match initialize {
        Ok(response) => {
            let status = response.status();
            // MCP authorization: a Bearer challenge naming the protected
            // resource's metadata (any OAuth-protected API would answer 401
            // with a Bearer challenge; only MCP servers name that document).
            let bearer = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_ascii_lowercase)
                .is_some_and(|v| {
                    v.trim_start().starts_with("bearer") && v.contains("resource_metadata=")
                });
            let stream = content_type(&response).starts_with("text/event-stream");
            if (status == reqwest::StatusCode::UNAUTHORIZED && bearer)
                || (status.is_success() && stream)
            {
                return Ok((SourceKind::Mcp, None));
            }
            let body = read_json_capped(response, PROBE_MAX_BYTES)
                .await
                .unwrap_or(Value::Null);
            if body["jsonrpc"] == "2.0" {
                return Ok((SourceKind::Mcp, None));
            }
            seen.push(format!("an MCP initialize got {status} without JSON-RPC"));
        }
        Err(e) => seen.push(format!("an MCP initialize failed: {e}")),
    }
    Err(error(
        ErrorCode::InvalidInput,
        format!(
            "cannot tell what {url} is: {}. Give \"kind\" (openapi, graphql or mcp), or the headers it needs",
            seen.join("; ")
        ),
        Some(json!({ "pointer": "/source", "probes": seen })),
    ))
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}
