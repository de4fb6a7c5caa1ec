//! Calls an HTTP tool: builds the request from the binding and the input,
//! sends it, and turns the answer into `data` or a `ToolError`.
//!
//! Why this file is over 500 lines: it is the whole of calling a REST
//! operation after the URL is built (`wire.rs`): credentials of every
//! kind, redirects, bounded reading, decoding and redacting the answer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use generator::envelope::{ErrorCode, ToolError};
use generator::ir::{BodyShape, HttpBinding, ResponseKind, Server};

use crate::catalog::LiveTool as Tool;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

use super::wire;
use crate::catalog::SourceRuntime;
use crate::credential::Credential;
use crate::errors::error;

/// Upstream answers larger than this are refused.
const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// Upstream error bodies are kept up to this size in error details.
const MAX_ERROR_BODY: usize = 16 * 1024;
pub async fn call(
    client: &reqwest::Client,
    tool: &Tool,
    binding: &HttpBinding,
    integration_servers: &[Server],
    source: &SourceRuntime,
    credential: Option<&Credential>,
    input: &Value,
) -> Result<Value, ToolError> {
    // A tool whose every security alternative needs credentials cannot be
    // called without: say so before calling.
    let needs_credentials =
        !binding.security.is_empty() && binding.security.iter().all(|r| !r.is_empty());
    if needs_credentials && credential.is_none() && source.headers.is_empty() {
        return Err(missing(tool));
    }
    let secrets = Secrets::of(source, credential);
    let empty = Map::new();
    let fields = input.as_object().unwrap_or(&empty);
    let base = base_url(tool, binding, integration_servers, source)?;

    let applied = credential.map(Credential::apply).unwrap_or_default();
    let wire::Request {
        url,
        mut headers,
        mut cookies,
    } = wire::request(&base, binding, fields, &applied.query)?;
    crate::outbound::refuse_own_listener(&url, "the call's URL")?;
    cookies.extend(applied.cookies.iter().map(|(n, v)| wire::cookie_pair(n, v)));
    headers.extend(applied.headers);
    let path = url.path().to_owned();

    let method = reqwest::Method::from_bytes(binding.method.as_bytes()).map_err(|_| {
        error(
            ErrorCode::InternalError,
            format!("unknown HTTP method {}", binding.method),
            None,
        )
    })?;
    let mut request = client
        .request(method, url.clone())
        .timeout(crate::outbound::upstream_timeout());
    for (name, value) in source.headers.iter().chain(headers.iter()) {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            error(
                ErrorCode::InvalidInput,
                format!("{name:?} is not a valid header name"),
                None,
            )
        })?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            error(
                ErrorCode::InvalidInput,
                format!("the value of header {name} is not valid in a header"),
                None,
            )
        })?;
        request = request.header(name, value);
    }
    if !cookies.is_empty() {
        request = request.header(reqwest::header::COOKIE, cookies.join("; "));
    }
    if let Some(body) = &binding.body {
        request = attach_body(request, tool, body, fields)?;
    }

    let response = request
        .send()
        .await
        .map_err(|e| unreachable_error(&secrets.redact(url.as_str()), &e))?;
    let status = response.status();
    if let Some(e) = redirect_refused(&response, &secrets, &format!("{} {}", binding.method, path))
    {
        return Err(e);
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = read_capped(response).await?;
    if !status.is_success() {
        let text = secrets.redact(&String::from_utf8_lossy(
            &bytes[..bytes.len().min(MAX_ERROR_BODY)],
        ));
        let body = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
        let refused = status == reqwest::StatusCode::UNAUTHORIZED
            || (status == reqwest::StatusCode::FORBIDDEN && credential.is_some());
        let mut e = match (refused, credential) {
            (true, Some(_)) => error(
                ErrorCode::ConnectionRejected,
                format!(
                    "the upstream refused the credentials of connection {} ({status}): replace them with `executor connections add {} --owner {} --name {} --secret-stdin`",
                    connection_name(tool),
                    tool.integration,
                    crate::credential::owner_name(tool.connection.owner),
                    tool.connection.name
                ),
                Some(json!({ "body": body })),
            ),
            (true, None) if source.headers.is_empty() => {
                let mut e = missing(tool);
                e.details = Some(json!({ "body": body }));
                e
            }
            _ => error(
                ErrorCode::UpstreamHttpError,
                format!(
                    "the upstream answered {status} for {} {}",
                    binding.method,
                    secrets.redact(&path)
                ),
                Some(json!({ "body": body })),
            ),
        };
        e.status = Some(status.as_u16());
        return Err(e);
    }
    let mut data = decode(&bytes, &content_type, binding.response.kind)?;
    secrets.redact_answer(&mut data);
    Ok(data)
}

/// The URL calls go to: the source's base URL, else the operation's or the
/// spec's first server with its variables at their defaults.
fn base_url(
    tool: &Tool,
    binding: &HttpBinding,
    servers: &[Server],
    source: &SourceRuntime,
) -> Result<String, ToolError> {
    if let Some(base) = &source.base_url {
        return Ok(base.clone());
    }
    let server = binding.servers.first().or_else(|| servers.first());
    let Some(server) = server else {
        return Err(error(
            ErrorCode::UpstreamUnreachable,
            format!(
                "{} has no server to call: add the source again with \"baseUrl\"",
                tool.integration
            ),
            None,
        ));
    };
    let mut url = server.url.clone();
    for (name, variable) in &server.variables {
        url = url.replace(&format!("{{{name}}}"), &variable.default);
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        let scheme = url.split_once("://").map(|(scheme, _)| scheme);
        let message = match scheme {
            Some(scheme) => format!(
                "{}'s server {url:?} is a {scheme}: URL; executor calls http(s) servers only: add the source again with \"baseUrl\" (e.g. \"https://api.example.com\")",
                tool.integration
            ),
            None => format!(
                "{}'s server {url:?} is relative: add the source again with \"baseUrl\" (e.g. \"https://api.example.com{url}\")",
                tool.integration
            ),
        };
        return Err(error(ErrorCode::UpstreamUnreachable, message, None));
    }
    Ok(url)
}

fn attach_body(
    request: reqwest::RequestBuilder,
    tool: &Tool,
    body: &generator::ir::HttpBody,
    fields: &Map<String, Value>,
) -> Result<reqwest::RequestBuilder, ToolError> {
    // The body's value, keyed by wire name when spread.
    let value = match &body.shape {
        BodyShape::Spread { properties } => {
            let mut out = Map::new();
            for (property, wire_name) in properties {
                if let Some(v) = fields.get(property) {
                    out.insert(wire_name.clone(), v.clone());
                }
            }
            if out.is_empty() && !body.required {
                return Ok(request);
            }
            Value::Object(out)
        }
        BodyShape::Property { property } => match fields.get(property) {
            Some(v) => v.clone(),
            None => return Ok(request),
        },
    };
    let media = body
        .media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media == "application/json" || media.ends_with("+json") || media.ends_with("/json") {
        let bytes = serde_json::to_vec(&value).unwrap_or_default();
        return Ok(request.header(CONTENT_TYPE, &body.media_type).body(bytes));
    }
    if media == "application/x-www-form-urlencoded" {
        let mut pairs = Vec::new();
        if let Value::Object(map) = &value {
            for (name, v) in map {
                let encoding = body.encoding.get(name);
                let style = encoding
                    .and_then(|e| e.style)
                    .unwrap_or(generator::ir::ParamStyle::Form);
                let explode = encoding.and_then(|e| e.explode).unwrap_or(true);
                let v = match (v, style) {
                    (Value::Object(_), generator::ir::ParamStyle::DeepObject) => v.clone(),
                    (Value::Object(_), _) if !explode => v.clone(),
                    (Value::Object(_), _) => Value::String(v.to_string()),
                    _ => v.clone(),
                };
                pairs.extend(wire::query_pairs(name, &v, style, explode));
            }
        }
        return Ok(request
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(wire::encode_pairs(&pairs, false)));
    }
    if media.starts_with("multipart/") {
        let mut form = reqwest::multipart::Form::new();
        if let Value::Object(map) = &value {
            for (name, v) in map {
                let property = property_for(&body.shape, name);
                let is_file = is_file_property(tool, &property);
                let items: Vec<&Value> = match v {
                    Value::Array(items) if is_file => items.iter().collect(),
                    other => vec![other],
                };
                for item in items {
                    let content_type = body.encoding.get(name).and_then(|e| e.content_type.clone());
                    let part = if is_file {
                        let bytes = decode_base64(item, &property)?;
                        reqwest::multipart::Part::bytes(bytes)
                            .file_name(name.clone())
                            .mime_str(
                                content_type
                                    .as_deref()
                                    .unwrap_or("application/octet-stream"),
                            )
                            .map_err(|e| error(ErrorCode::InvalidInput, e.to_string(), None))?
                    } else if item.is_object() || item.is_array() {
                        reqwest::multipart::Part::text(item.to_string())
                            .mime_str("application/json")
                            .map_err(|e| error(ErrorCode::InvalidInput, e.to_string(), None))?
                    } else {
                        reqwest::multipart::Part::text(wire::scalar(item))
                    };
                    form = form.part(name.clone(), part);
                }
            }
        }
        return Ok(request.multipart(form));
    }
    // Text or bytes.
    let property = property_for(&body.shape, "body");
    let bytes = match &value {
        Value::String(s) if is_file_property(tool, &property) => {
            decode_base64(&value, &property).unwrap_or_else(|_| s.clone().into_bytes())
        }
        Value::String(s) => s.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    };
    Ok(request.header(CONTENT_TYPE, &body.media_type).body(bytes))
}

fn property_for(shape: &BodyShape, wire_name: &str) -> String {
    match shape {
        BodyShape::Spread { properties } => properties
            .iter()
            .find(|(_, w)| w.as_str() == wire_name)
            .map(|(p, _)| p.clone())
            .unwrap_or_else(|| wire_name.to_owned()),
        BodyShape::Property { property } => property.clone(),
    }
}

/// Whether an input property holds base64 bytes (a file, or files).
fn is_file_property(tool: &Tool, property: &str) -> bool {
    // Parsed here: only multipart and raw bodies ask, once per property.
    let input = tool.input.parse();
    let Some(schema) = input.pointer(&format!(
        "/properties/{}",
        generator::ir::escape_pointer_token(property)
    )) else {
        return false;
    };
    let base64 = |s: &Value| s.get("contentEncoding").and_then(Value::as_str) == Some("base64");
    base64(schema) || schema.get("items").is_some_and(base64)
}

fn decode_base64(value: &Value, property: &str) -> Result<Vec<u8>, ToolError> {
    let text = value.as_str().unwrap_or_default();
    BASE64.decode(text.trim()).map_err(|e| {
        error(
            ErrorCode::InvalidInput,
            format!("property {property} must hold base64 bytes: {e}"),
            None,
        )
    })
}

/// An upstream's answer, at most [`MAX_RESPONSE_BYTES`] of it.
pub(super) async fn read_capped(response: reqwest::Response) -> Result<Vec<u8>, ToolError> {
    crate::outbound::read_capped(response, MAX_RESPONSE_BYTES)
        .await
        .map_err(|e| match e {
            crate::outbound::ReadError::TooLarge { .. } => error(
                ErrorCode::UpstreamInvalidResponse,
                format!("the upstream's {e}"),
                None,
            ),
            crate::outbound::ReadError::Broken(_) => error(
                ErrorCode::UpstreamUnreachable,
                format!("reading the upstream's answer failed: {e}"),
                None,
            ),
        })
}

/// A redirect the client did not follow (it leads to another origin, see
/// [`crate::outbound`]): `upstream_http_error` with its `Location`, so that
/// the caller can decide; nothing of the call went there.
pub(super) fn redirect_refused(
    response: &reqwest::Response,
    secrets: &Secrets,
    what: &str,
) -> Option<ToolError> {
    let status = response.status();
    if !status.is_redirection() || status == reqwest::StatusCode::NOT_MODIFIED {
        return None;
    }
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| secrets.redact(&String::from_utf8_lossy(v.as_bytes())));
    let mut e = error(
        ErrorCode::UpstreamHttpError,
        format!(
            "the upstream answered {status} for {} and redirects to {}: executor does not follow redirects to another origin (no credential or body leaves for a host the source does not name); if that host is right, add the source again with it as \"baseUrl\"",
            secrets.redact(what),
            location.as_deref().unwrap_or("nowhere (no Location)")
        ),
        Some(json!({ "location": location })),
    );
    e.status = Some(status.as_u16());
    Some(e)
}

/// The success answer as `data`, read the way the content type says.
fn decode(bytes: &[u8], content_type: &str, expected: ResponseKind) -> Result<Value, ToolError> {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let is_json = media == "application/json" || media.ends_with("+json");
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    if is_json || (media.is_empty() && expected == ResponseKind::Json) {
        return serde_json::from_slice(bytes).map_err(|e| {
            error(
                ErrorCode::UpstreamInvalidResponse,
                format!("the upstream said JSON but sent something else: {e}"),
                None,
            )
        });
    }
    let textual =
        media.starts_with("text/") || media.ends_with("+xml") || media == "application/xml";
    if textual || (expected == ResponseKind::Text && std::str::from_utf8(bytes).is_ok()) {
        return Ok(Value::String(String::from_utf8_lossy(bytes).into_owned()));
    }
    Ok(json!({
        "mediaType": if media.is_empty() { "application/octet-stream".to_owned() } else { media },
        "size": bytes.len(),
        "base64": BASE64.encode(bytes),
    }))
}

fn unreachable_error(url: &str, e: &reqwest::Error) -> ToolError {
    let what = if e.is_timeout() {
        format!(
            "did not answer within {} s",
            crate::outbound::upstream_timeout().as_secs()
        )
    } else if e.is_connect() {
        "refused the connection or could not be reached".to_owned()
    } else {
        "failed".to_owned()
    };
    let origin = url.split('?').next().unwrap_or(url);
    error(
        ErrorCode::UpstreamUnreachable,
        format!("the upstream at {origin} {what}"),
        None,
    )
}

/// What must never reach a caller: the source's stored header values and
/// the connection's secret with its wire forms.
pub(super) struct Secrets {
    /// The connection's secret and what it becomes on the wire.
    credential: Vec<String>,
    /// The source's static header values (also credentials, as a rule).
    headers: Vec<String>,
}

/// `text` with each secret (of four characters or more), plain or
/// percent-encoded, replaced by `[redacted]`.
fn scrub<'a>(text: &str, secrets: impl IntoIterator<Item = &'a String>) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if secret.len() >= 4 {
            out = out.replace(secret.as_str(), "[redacted]");
            let encoded = wire::encode(secret, false);
            if encoded != *secret {
                out = out.replace(&encoded, "[redacted]");
            }
        }
    }
    out
}

/// Header names whose values are settings, not credentials: a source's
/// `headers` under these names are not redacted from answers (an API may
/// legitimately echo its own `Accept`). Every other header value is treated
/// as a secret.
const PLAIN_HEADERS: &[&str] = &[
    "accept",
    "accept-language",
    "accept-encoding",
    "content-type",
    "user-agent",
    "cache-control",
    "x-github-api-version",
    "openai-beta",
    "stripe-version",
    "notion-version",
    "anthropic-version",
];

impl Secrets {
    pub(super) fn of(source: &SourceRuntime, credential: Option<&Credential>) -> Secrets {
        Secrets {
            credential: credential.map(Credential::secrets).unwrap_or_default(),
            headers: source
                .headers
                .iter()
                .filter(|(name, _)| !PLAIN_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
                .map(|(_, v)| v.clone())
                .collect(),
        }
    }

    fn all(&self) -> impl Iterator<Item = &String> {
        self.headers.iter().chain(&self.credential)
    }

    /// Text shown to callers (error bodies, URLs) with every secret replaced.
    pub(super) fn redact(&self, text: &str) -> String {
        scrub(text, self.all())
    }

    /// An upstream that answers with a credential (the connection's, or a
    /// source header's) would hand it to the agent: every string of a
    /// successful answer is redacted too.
    pub(super) fn redact_answer(&self, value: &mut Value) {
        match value {
            Value::String(text)
                if self
                    .all()
                    .any(|s| s.len() >= 4 && text.contains(s.as_str())) =>
            {
                *text = scrub(text, self.all());
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_answer(v)),
            Value::Object(map) => {
                // Keys too: an echo may put the secret in a key.
                let keys: Vec<String> = map.keys().cloned().collect();
                for key in keys {
                    if self.all().any(|s| s.len() >= 4 && key.contains(s.as_str()))
                        && let Some(v) = map.remove(&key)
                    {
                        map.insert(scrub(&key, self.all()), v);
                    }
                }
                map.values_mut().for_each(|v| self.redact_answer(v));
            }
            _ => {}
        }
    }
}

fn connection_name(tool: &Tool) -> String {
    format!(
        "{}.{}.{}",
        tool.integration,
        crate::credential::owner_name(tool.connection.owner),
        tool.connection.name
    )
}

/// `connection_missing`, with the command that fixes it.
fn missing(tool: &Tool) -> ToolError {
    error(
        ErrorCode::ConnectionMissing,
        format!(
            "{} needs credentials and connection {} has none: add them with `printf %s \"$TOKEN\" | executor connections add {} --owner {} --name {} --secret-stdin`",
            tool.path,
            connection_name(tool),
            tool.integration,
            crate::credential::owner_name(tool.connection.owner),
            tool.connection.name
        ),
        None,
    )
}
