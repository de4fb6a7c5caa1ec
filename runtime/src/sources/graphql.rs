//! Adding a GraphQL source: introspecting the endpoint unless a schema is
//! given, ingesting it, storing it; refreshing it. (Calling its tools is
//! `invoke::graphql`.)

use generator::envelope::{ErrorCode, ToolError};
use serde_json::json;

use super::{check_base_url, check_namespace, seal_all};
use crate::builtin::{AddGraphqlSource, SourceReport};
use crate::credential::header_place;
use crate::errors::error;
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
        .timeout(crate::outbound::upstream_timeout())
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
