//! GraphQL sources: adding one (introspecting the endpoint unless a schema
//! is given) and calling its tools: one POST with the query, the variables
//! and the operation name; GraphQL `errors` become `upstream_tool_error`
//! with their messages and paths, partial `data` kept in the details.

use generator::envelope::{ErrorCode, ToolError};
use generator::ir::{GraphqlBinding, Tool};
use serde_json::{Map, Value, json};

use crate::builtin::{AddGraphqlSource, SourceReport};
use crate::catalog::SourceRuntime;
use crate::connections::Credential;
use crate::errors::error;
use crate::sources::{check_base_url, check_namespace, header_place, seal_all};
use crate::state::AppState;
use crate::store::{SourceOptions, SourceRecord};

/// The standard introspection query (types to seven levels of wrapping).
const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } types { kind name description fields(includeDeprecated: true) { name description isDeprecated args { name description defaultValue type { ...TypeRef } } type { ...TypeRef } } inputFields { name description defaultValue type { ...TypeRef } } enumValues(includeDeprecated: true) { name } possibleTypes { name } } } } fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";

pub async fn add_source(
    state: &AppState,
    input: AddGraphqlSource,
) -> Result<SourceReport, ToolError> {
    check_namespace(&input.namespace)?;
    check_base_url(&input.endpoint)?;
    let document = match &input.schema {
        Some(schema) => schema.clone(),
        None => introspect(state, &input.endpoint, &input.headers).await?,
    };
    let sealed_headers = seal_all(state, &input.headers, |name| {
        header_place(&input.namespace, name)
    })?;
    let options = SourceOptions {
        base_url: Some(input.endpoint.clone()),
        sealed_headers,
        ..SourceOptions::default()
    };
    let origin = if input.schema.is_some() {
        "inline".to_owned()
    } else {
        input.endpoint.clone()
    };
    index(state, input.namespace, origin, document, options)
}

/// Introspects again (a source added from an endpoint) or re-reads the
/// stored schema (one given inline).
pub async fn refresh(state: &AppState, existing: SourceRecord) -> Result<SourceReport, ToolError> {
    let document = if existing.origin == "inline" {
        existing.document
    } else {
        let headers = state.live().source(&existing.namespace).header_map();
        introspect(state, &existing.origin, &headers).await?
    };
    index(
        state,
        existing.namespace,
        existing.origin,
        document,
        existing.options,
    )
}

async fn introspect(
    state: &AppState,
    endpoint: &str,
    headers: &std::collections::BTreeMap<String, String>,
) -> Result<String, ToolError> {
    let mut request = state
        .http
        .post(endpoint)
        .timeout(super::http::upstream_timeout())
        .json(&json!({ "query": INTROSPECTION, "operationName": "IntrospectionQuery" }));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.map_err(|e| {
        error(
            ErrorCode::UpstreamUnreachable,
            format!("cannot reach the GraphQL endpoint {endpoint}: {e}"),
            None,
        )
    })?;
    let status = response.status();
    let text =
        crate::sources::read_document(endpoint, response, crate::sources::MAX_SPEC_BYTES).await?;
    if !status.is_success() {
        return Err(error(
            ErrorCode::UpstreamHttpError,
            format!(
                "introspecting {endpoint} failed with {status}; give the schema as \"schema\" (SDL or an introspection result) if the endpoint does not allow introspection"
            ),
            None,
        ));
    }
    Ok(text)
}

fn index(
    state: &AppState,
    namespace: String,
    origin: String,
    document: String,
    options: SourceOptions,
) -> Result<SourceReport, ToolError> {
    let ingested = generator::ingest::graphql::ingest(
        &document,
        &generator::ingest::openapi::Options::new(&namespace),
    )
    .map_err(|e| error(ErrorCode::InvalidInput, e.to_string(), None))?;
    crate::sources::save(
        state,
        SourceRecord::new(namespace, origin, document, options, ingested),
    )
}

/// The document to send: the binding's, or with the caller's own
/// selection set for the root field, checked against the schema first.
fn document(
    tool: &Tool,
    binding: &GraphqlBinding,
    source: &SourceRuntime,
    select: Option<&Value>,
) -> Result<String, ToolError> {
    let Some(select) = select else {
        return Ok(binding.document.clone());
    };
    let bad = |message: String, problems: Option<Vec<String>>| {
        error(
            ErrorCode::InvalidInput,
            message,
            Some(match problems {
                Some(problems) => json!({ "pointer": "/select", "problems": problems }),
                None => json!({ "pointer": "/select" }),
            }),
        )
    };
    let Some(select) = select.as_str().map(str::trim) else {
        return Err(bad(
            "\"select\" is a string: a selection set in braces, e.g. \"{ id name }\"".into(),
            None,
        ));
    };
    let schema = source.graphql.as_deref().and_then(|s| s.get());
    let Some(schema) = schema else {
        return Err(bad(
            format!(
                "the schema of {} cannot be read to check \"select\": refresh the source",
                tool.integration
            ),
            None,
        ));
    };
    if let Err(problems) = schema.check_select(binding.operation, &binding.field, select) {
        return Err(bad(
            format!(
                "\"select\" does not fit the schema: {}",
                problems.join("; ")
            ),
            Some(problems),
        ));
    }
    // The root field's call has no `{` in it; the first `{` after it opens
    // the default selection, which the caller's replaces.
    let root = binding.document.find(" { ").map(|i| i + 3);
    let open = root.and_then(|root| binding.document[root..].find('{').map(|i| i + root));
    let Some(open) = open else {
        return Err(bad(
            format!("{} answers a scalar: there is nothing to select", tool.path),
            None,
        ));
    };
    // On a line of its own: a comment ending `select` must not swallow it.
    Ok(format!("{}{select}\n}}", &binding.document[..open]))
}

/// Runs a GraphQL tool.
pub async fn call(
    client: &reqwest::Client,
    tool: &Tool,
    binding: &GraphqlBinding,
    source: &SourceRuntime,
    credential: Option<&Credential>,
    input: &Value,
) -> Result<Value, ToolError> {
    let mut variables: Map<String, Value> = input.as_object().cloned().unwrap_or_default();
    let select = variables.remove("select");
    let query = document(tool, binding, source, select.as_ref())?;
    let endpoint = source.base_url.clone().ok_or_else(|| {
        error(
            ErrorCode::UpstreamUnreachable,
            format!("{} has no endpoint: add the source again", tool.integration),
            None,
        )
    })?;
    let secrets = super::http::Secrets::of(source, credential);
    // The credential goes where its method says: a header, the query or a cookie.
    let applied = credential.map(Credential::apply).unwrap_or_default();
    if let Ok(parsed) = reqwest::Url::parse(&endpoint) {
        crate::outbound::refuse_own_listener(&parsed, "the GraphQL endpoint")?;
    }
    let mut url = endpoint.clone();
    if !applied.query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&super::wire::encode_pairs(&applied.query, false));
    }
    let mut request = client
        .post(&url)
        .timeout(super::http::upstream_timeout())
        .json(&json!({ "query": query, "variables": variables, "operationName": binding.field }));
    for (name, value) in source.headers.iter().chain(applied.headers.iter()) {
        request = request.header(name, value);
    }
    if !applied.cookies.is_empty() {
        let cookies: Vec<String> = applied
            .cookies
            .iter()
            .map(|(n, v)| super::wire::cookie_pair(n, v))
            .collect();
        request = request.header(reqwest::header::COOKIE, cookies.join("; "));
    }
    let response = request.send().await.map_err(|e| {
        error(
            ErrorCode::UpstreamUnreachable,
            format!(
                "cannot reach the GraphQL endpoint of {}: {e}",
                tool.integration
            ),
            None,
        )
    })?;
    let status = response.status();
    if let Some(e) = super::http::redirect_refused(
        &response,
        &secrets,
        &format!("the GraphQL endpoint of {}", tool.integration),
    ) {
        return Err(e);
    }
    let bytes = super::http::read_capped(response).await?;
    let mut body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    // Errors and data alike: what the endpoint echoes of a credential is
    // never passed on.
    if let Some(errors) = body.get_mut("errors") {
        *errors = serde_json::from_str(&secrets.redact(&errors.to_string())).unwrap_or(Value::Null);
    }
    if let Some(data) = body.get_mut("data") {
        secrets.redact_answer(data);
    }
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        let mut e = error(
            if credential.is_some() || !source.headers.is_empty() {
                ErrorCode::ConnectionRejected
            } else {
                ErrorCode::ConnectionMissing
            },
            format!(
                "the GraphQL endpoint of {} refused the request ({status}): check its credentials (`executor connections add {}`)",
                tool.integration, tool.integration
            ),
            None,
        );
        e.status = Some(status.as_u16());
        return Err(e);
    }
    let errors = body["errors"].as_array().filter(|e| !e.is_empty());
    if let Some(errors) = errors {
        let messages: Vec<String> = errors
            .iter()
            .map(|e| {
                let message = e["message"].as_str().unwrap_or("error");
                match e["path"].as_array() {
                    Some(path) => format!(
                        "{message} (at {})",
                        path.iter()
                            .map(|p| p
                                .as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| p.to_string()))
                            .collect::<Vec<_>>()
                            .join(".")
                    ),
                    None => message.to_owned(),
                }
            })
            .collect();
        let mut e = error(
            ErrorCode::UpstreamToolError,
            format!(
                "the GraphQL endpoint answered with errors: {}",
                messages.join("; ")
            ),
            Some(json!({ "errors": errors, "data": body["data"] })),
        );
        e.status = Some(status.as_u16());
        return Err(e);
    }
    if !status.is_success() || !body["data"].is_object() {
        let mut e = error(
            ErrorCode::UpstreamInvalidResponse,
            format!(
                "the GraphQL endpoint of {} answered {status} without data",
                tool.integration
            ),
            Some(json!({ "body": body })),
        );
        e.status = Some(status.as_u16());
        return Err(e);
    }
    Ok(body["data"][&binding.field].clone())
}
