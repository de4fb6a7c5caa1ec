//! Managing sources, of every kind: the built-in tools that add, list,
//! remove and refresh them. Adding fetches the document (OpenAPI here,
//! GraphQL in `graphql.rs`, an MCP server's tool list in `mcp.rs`; which
//! kind a URL is, `detect.rs`), ingests it, stores the document, its
//! options and its tools in one transaction, then swaps the live catalog.
//! Calling a source's tools is `invoke`'s job, not this room's.

pub mod detect;
pub mod graphql;
pub mod mcp;

use mcp::{add_mcp, index_mcp};
pub use mcp::{finish_mcp_sign_in, relist_mcp};

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use generator::envelope::{ErrorCode, ToolError};
use generator::ingest::openapi::{self, Options};
use generator::ir::SourceKind;
use generator::naming::is_valid_namespace;
use serde_json::Value;

use crate::builtin::{
    self, AddMcpSource, AddSource, Nothing, Removed, SourceName, SourceReport, SourceSummary,
    parse, to_value,
};
use crate::credential::header_place;
use crate::errors::error;
use crate::files::DirLoader;
use crate::state::AppState;
use crate::store::{SourceOptions, SourceRecord};

/// Specs larger than this are refused.
pub(crate) const MAX_SPEC_BYTES: usize = 64 * 1024 * 1024;

/// Runs one built-in operation.
pub async fn run(state: &AppState, operation: &str, input: Value) -> Result<Value, ToolError> {
    let output = match operation {
        builtin::ADD_OPENAPI => to_value(add(state, parse::<AddSource>(input)?).await?),
        builtin::ADD_MCP => to_value(add_mcp(state, parse::<AddMcpSource>(input)?).await?),
        builtin::ADD_ANY => {
            to_value(detect::add(state, parse::<builtin::AddAnySource>(input)?).await?)
        }
        builtin::ADD_GRAPHQL => {
            to_value(graphql::add_source(state, parse::<builtin::AddGraphqlSource>(input)?).await?)
        }
        builtin::LIST => {
            parse::<Nothing>(input)?;
            to_value(list(state)?)
        }
        builtin::REMOVE => to_value(remove(state, parse::<SourceName>(input)?).await?),
        builtin::REFRESH => to_value(refresh(state, parse::<SourceName>(input)?).await?),
        other => return Err(builtin::unknown(other)),
    };
    Ok(output)
}

pub(crate) fn internal(e: anyhow::Error) -> ToolError {
    crate::errors::internal_error(e, "store the change")
}

pub(crate) fn check_namespace(namespace: &str) -> Result<(), ToolError> {
    if !is_valid_namespace(namespace) || namespace == builtin::NAMESPACE {
        return Err(error(
            ErrorCode::InvalidInput,
            format!(
                "invalid namespace {namespace:?}: use 1 to 64 letters, digits, '_' or '-' (and not `executor`, which is reserved)"
            ),
            None,
        ));
    }
    Ok(())
}

pub(crate) async fn add(state: &AppState, input: AddSource) -> Result<SourceReport, ToolError> {
    // A bad namespace is refused before anything is fetched.
    check_namespace(&input.namespace)?;
    let (origin, document) = fetch(state, &input.spec, &input.headers).await?;
    add_fetched(state, input, origin, document).await
}

/// Adds an OpenAPI source whose document is already here (`origin`: where
/// it came from, for refreshes and relative servers).
pub(crate) async fn add_fetched(
    state: &AppState,
    input: AddSource,
    origin: String,
    document: String,
) -> Result<SourceReport, ToolError> {
    check_namespace(&input.namespace)?;
    if let Some(base) = &input.base_url {
        check_base_url(base)?;
    }
    let sealed_headers = seal_all(state, &input.headers, |name| {
        header_place(&input.namespace, name)
    })?;
    let options = SourceOptions {
        base_url: input.base_url.clone(),
        sealed_headers,
        lenient: input.lenient,
        mcp: None,
    };
    index(state, input.namespace, origin, document, options).await
}

/// Ingests and stores a source, then swaps the live catalog.
async fn index(
    state: &AppState,
    namespace: String,
    origin: String,
    document: String,
    mut options: SourceOptions,
) -> Result<SourceReport, ToolError> {
    let ingest_options = Options {
        lenient: options.lenient,
        ..Options::new(&namespace)
    };
    let started = std::time::Instant::now();
    let (answer, ingested) = tokio::sync::oneshot::channel();
    {
        let origin = origin.clone();
        tokio::task::spawn_blocking(move || {
            let mut loader =
                (origin.starts_with('/')).then(|| DirLoader::for_spec(Path::new(&origin)));
            let loader = loader.as_mut().map(|l| l as &mut dyn openapi::RefLoader);
            let parsed = generator::ingest::text::parse(&document);
            // A spec read from a file or URL is read there again on
            // refresh; only one given inline has nowhere else to come from
            // and is stored. The others' text (GitHub's is 13 MB) is let
            // go as soon as it is parsed, before the service's peak.
            let document = if origin == "inline" {
                document
            } else {
                // Dropped here: a shadowed binding would live on to the
                // end of the closure.
                drop(document);
                String::new()
            };
            let (ingested, tree) = match parsed {
                Ok(tree) => {
                    let tree = std::rc::Rc::new(tree);
                    let ingested = openapi::ingest_document(&tree, &ingest_options, loader);
                    (ingested, std::rc::Rc::try_unwrap(tree).ok())
                }
                Err(e) => (Err(e.into()), None),
            };
            let _ = answer.send((ingested, document));
            // The parsed document (tens of megabytes of tree for a large
            // spec) is freed after the answer is on its way: 8 ms of
            // GitHub's add. On this thread: mimalloc reuses and gives back
            // a thread's own pages sooner than pages freed by another.
            drop(tree);
        });
    }
    let (ingested, document) = ingested
        .await
        .map_err(|_| internal(anyhow::anyhow!("the ingest stopped before it answered")))?;
    let ingested = ingested.map_err(|e| {
        error(
            ErrorCode::InvalidInput,
            format!("cannot add {namespace}: {e}"),
            None,
        )
    })?;
    if options.base_url.is_none() {
        options.base_url = derived_base_url(&origin, &ingested.integration.servers);
    }
    tracing::debug!(namespace = %namespace, ms = started.elapsed().as_millis() as u64, "spec ingested");
    save(
        state,
        SourceRecord::new(namespace, origin, document, options, ingested.into()),
    )
}

/// Stores an indexed source in one transaction, swaps the live catalog,
/// and reports what it now has: the last step of every add and refresh.
pub(crate) fn save(state: &AppState, record: SourceRecord) -> Result<SourceReport, ToolError> {
    let report = SourceReport {
        diagnostics: record.diagnostics.iter().map(ToString::to_string).collect(),
        namespace: record.namespace.clone(),
        kind: record.kind(),
        tools: record.tools.len(),
        base_url: record.options.base_url.clone(),
        authorization_url: None,
    };
    state.store_source(record).map_err(internal)?;
    tracing::info!(namespace = %report.namespace, kind = report.kind.as_str(), tools = report.tools, "source indexed");
    Ok(report)
}

/// Relative servers of a spec fetched from a URL resolve against that URL.
fn derived_base_url(origin: &str, servers: &[generator::ir::Server]) -> Option<String> {
    let server = servers.first()?;
    if server.url.starts_with("http://") || server.url.starts_with("https://") {
        return None;
    }
    let base = reqwest::Url::parse(origin).ok()?;
    base.join(&server.url)
        .ok()
        .map(|u| u.to_string().trim_end_matches('/').to_owned())
}

pub(crate) fn check_base_url(base: &str) -> Result<(), ToolError> {
    match reqwest::Url::parse(base) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => {
            crate::outbound::refuse_own_listener(&url, "the URL")
        }
        _ => Err(error(
            ErrorCode::InvalidInput,
            format!("baseUrl {base:?} is not an http(s) URL, e.g. \"https://api.example.com/v1\""),
            None,
        )),
    }
}

/// `GET`s a document with the source's headers. Moved to another origin,
/// it is fetched there without them (see [`crate::outbound`]).
pub(crate) async fn get_document(
    state: &AppState,
    url: &str,
    headers: &BTreeMap<String, String>,
    timeout: Duration,
) -> Result<reqwest::Response, ToolError> {
    const ACCEPT: &str = "application/json, application/yaml;q=0.9, text/yaml;q=0.9, */*;q=0.1";
    if let Ok(parsed) = reqwest::Url::parse(url) {
        crate::outbound::refuse_own_listener(&parsed, "the document's URL")?;
    }
    let plain = || {
        state
            .http_anywhere
            .get(url)
            .header(reqwest::header::ACCEPT, ACCEPT)
            .timeout(timeout)
    };
    let fail = |e: reqwest::Error| {
        error(
            ErrorCode::UpstreamUnreachable,
            format!("cannot fetch {url}: {e}"),
            None,
        )
    };
    if headers.is_empty() {
        return plain().send().await.map_err(fail);
    }
    let mut request = state
        .http
        .get(url)
        .header(reqwest::header::ACCEPT, ACCEPT)
        .timeout(timeout);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.map_err(fail)?;
    if response.status().is_redirection() {
        return plain().send().await.map_err(fail);
    }
    Ok(response)
}

/// A fetched document's text, read with a running cap of `limit` bytes.
pub(crate) async fn read_document(
    url: &str,
    response: reqwest::Response,
    limit: usize,
) -> Result<String, ToolError> {
    let fail = |what: String| {
        error(
            ErrorCode::UpstreamUnreachable,
            format!("cannot fetch {url}: {what}"),
            None,
        )
    };
    match crate::outbound::read_text_capped(response, limit).await {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(_)) => Err(fail("the document is not UTF-8 text".into())),
        Err(crate::outbound::ReadError::TooLarge { limit }) => Err(error(
            ErrorCode::InvalidInput,
            format!(
                "cannot fetch {url}: the document is larger than {}, the most a spec may be",
                crate::outbound::size(limit)
            ),
            Some(serde_json::json!({ "limit": limit })),
        )),
        Err(e) => Err(fail(e.to_string())),
    }
}

/// The spec's text and where it came from: a URL (fetched with `headers`,
/// see [`get_document`]), an absolute file path, or the document itself.
/// Whatever the form, a spec larger than [`MAX_SPEC_BYTES`] is refused
/// without being read whole.
pub(crate) async fn fetch(
    state: &AppState,
    spec: &str,
    headers: &BTreeMap<String, String>,
) -> Result<(String, String), ToolError> {
    let trimmed = spec.trim_start();
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        let url = trimmed.trim_end();
        let response = get_document(state, url, headers, Duration::from_secs(60)).await?;
        if !response.status().is_success() {
            return Err(error(
                ErrorCode::UpstreamUnreachable,
                format!(
                    "cannot fetch {url}: the server answered {}",
                    response.status()
                ),
                None,
            ));
        }
        let text = read_document(url, response, MAX_SPEC_BYTES).await?;
        return Ok((url.to_owned(), text));
    }
    if trimmed.starts_with('{') || trimmed.contains('\n') {
        return Ok(("inline".to_owned(), spec.to_owned()));
    }
    let path = Path::new(spec.trim());
    if !path.is_absolute() {
        return Err(error(
            ErrorCode::InvalidInput,
            format!(
                "spec {spec:?} is neither a URL, an absolute file path, nor a document: give an absolute path (the service does not share your working directory)"
            ),
            None,
        ));
    }
    let text = read_spec_file(path)?;
    Ok((path.display().to_string(), text))
}

/// A spec file, refused before reading when it is larger than
/// [`MAX_SPEC_BYTES`].
pub(crate) fn read_spec_file(path: &Path) -> Result<String, ToolError> {
    let cannot = |e: std::io::Error| {
        error(
            ErrorCode::InvalidInput,
            format!("cannot read {}: {e}", path.display()),
            None,
        )
    };
    let size = std::fs::metadata(path).map_err(cannot)?.len();
    if size > MAX_SPEC_BYTES as u64 {
        return Err(error(
            ErrorCode::InvalidInput,
            format!(
                "{} is {size} bytes, larger than {}, the most a spec may be",
                path.display(),
                crate::outbound::size(MAX_SPEC_BYTES)
            ),
            Some(serde_json::json!({ "limit": MAX_SPEC_BYTES })),
        ));
    }
    std::fs::read_to_string(path).map_err(cannot)
}

pub(crate) fn list(state: &AppState) -> Result<Vec<SourceSummary>, ToolError> {
    let sources = state.store().sources().map_err(internal)?;
    Ok(sources
        .into_iter()
        .map(|s| SourceSummary {
            kind: s.kind(),
            title: s.integration.title.clone(),
            tools: s.tools.len(),
            diagnostics: s.diagnostics.len(),
            base_url: s.options.base_url.clone(),
            headers: s.options.sealed_headers.keys().cloned().collect(),
            namespace: s.namespace,
            origin: s.origin,
            updated_at: s.updated_at,
        })
        .collect())
}

async fn remove(state: &AppState, input: SourceName) -> Result<Removed, ToolError> {
    let existing = state.store().source(&input.namespace).map_err(internal)?;
    let Some(existing) = existing else {
        return Err(no_such_source(state, &input.namespace));
    };
    state
        .store()
        .remove_source(&input.namespace)
        .map_err(internal)?;
    state.reload().map_err(internal)?;
    Ok(Removed {
        namespace: input.namespace,
        tools: existing.tools.len(),
    })
}

async fn refresh(state: &AppState, input: SourceName) -> Result<SourceReport, ToolError> {
    let existing = state.store().source(&input.namespace).map_err(internal)?;
    let Some(existing) = existing else {
        return Err(no_such_source(state, &input.namespace));
    };
    if existing.kind() == SourceKind::Graphql {
        return graphql::refresh(state, existing).await;
    }
    if existing.kind() == SourceKind::Mcp {
        let target = state.live().mcp_target(&existing.namespace);
        state.upstreams.forget(&existing.namespace).await;
        return index_mcp(state, existing.namespace, &target, existing.options).await;
    }
    let (origin, document) = if existing.origin == "inline" {
        (existing.origin, existing.document)
    } else {
        // With the source's headers, as when it was added.
        let headers = state.live().source(&existing.namespace).header_map();
        fetch(state, &existing.origin, &headers).await?
    };
    index(
        state,
        existing.namespace,
        origin,
        document,
        existing.options,
    )
    .await
}

fn no_such_source(state: &AppState, namespace: &str) -> ToolError {
    let known: Vec<String> = state
        .store()
        .sources()
        .map(|s| s.into_iter().map(|s| s.namespace).collect())
        .unwrap_or_default();
    error(
        ErrorCode::InvalidInput,
        format!(
            "no source is named {namespace:?}; the sources are: {}",
            if known.is_empty() {
                "none yet".to_owned()
            } else {
                known.join(", ")
            }
        ),
        None,
    )
}

/// Seals every value of a map of secrets, each bound to its place.
pub(crate) fn seal_all(
    state: &AppState,
    values: &std::collections::BTreeMap<String, String>,
    place: impl Fn(&str) -> String,
) -> Result<std::collections::BTreeMap<String, String>, ToolError> {
    values
        .iter()
        .map(|(name, value)| {
            let sealed = state
                .secrets
                .seal(value.as_bytes(), &place(name))
                .map_err(internal)?;
            Ok((name.clone(), sealed))
        })
        .collect()
}
