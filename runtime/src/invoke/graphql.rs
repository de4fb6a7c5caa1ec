//! Calling a GraphQL source's tools: one POST with the query, the
//! variables and the operation name; GraphQL `errors` become
//! `upstream_tool_error` with their messages and paths, partial `data` kept
//! in the details. (Adding a GraphQL source is `sources::graphql`.)

use generator::envelope::{ErrorCode, ToolError};
use generator::ir::GraphqlBinding;

use crate::catalog::LiveTool as Tool;
use serde_json::{Map, Value, json};

use crate::catalog::SourceRuntime;
use crate::credential::Credential;
use crate::errors::error;

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
        .timeout(crate::outbound::upstream_timeout())
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
