//! {{ header }}
//!
//! A typed client for executor. Every call runs through the executor
//! service (`POST /api/tools/invoke/<tool path>`), which attaches the stored
//! credentials and applies the tool's policy; this code never sees them.
//!
//! ```ignore
//! let executor = Client::from_env(); // EXECUTOR_URL; EXECUTOR_API_KEY, else EXECUTOR_AUTH_TOKEN
//! match executor.{{ example_call }}(&input).await {
//!     Ok(data) => println!("{data:?}"),
//!     Err(ExecutorError::Paused { execution_id, approval_url, .. }) => {
//!         // A person approves at `approval_url`; then `executor.resume(&execution_id, true)`.
//!     }
//!     Err(other) => eprintln!("{other}"),
//! }
//! ```
//!
//! Needs `reqwest` (0.13, any features), `serde` (with `derive`) and
//! `serde_json`, and an async runtime that runs `reqwest` (tokio).
#![allow(
    clippy::all,
    clippy::pedantic,
    deprecated,
    non_camel_case_types,
    non_snake_case,
    unused_imports
)]

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Where executor listens unless `EXECUTOR_URL` says otherwise.
pub const DEFAULT_URL: &str = "http://127.0.0.1:4788";

/// Why a call did not return its data.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ExecutorError {
    /// The call needs a person's approval. It waits, durably: approve it at
    /// `approval_url`, or resume it with [`Client::resume`], then read its
    /// result with [`Client::execution`].
    Paused {
        /// The paused execution, `exec_...`.
        execution_id: String,
        /// The web page where a person approves or declines the call.
        approval_url: String,
        /// `POST` here with `{"action": "accept"}` or `{"action": "decline"}`.
        resume_path: String,
        message: String,
    },
    /// The tool call failed: `code` is executor's (`invalid_input`,
    /// `tool_not_found`, `policy_blocked`, `upstream_http_error`, ...).
    Tool {
        code: String,
        /// What happened and how to fix it.
        message: String,
        /// `upstream_http_error`: the upstream's HTTP status.
        status: Option<u16>,
        /// Validation problems, candidates, the upstream's body.
        details: Option<serde_json::Value>,
    },
    /// executor could not be reached, refused the token, or answered
    /// something that is not a result.
    Request {
        message: String,
        status: Option<u16>,
        body: Option<String>,
    },
    /// The call succeeded but its data does not match the generated type
    /// (was the catalog changed since the client was generated?). The data
    /// is kept as it came.
    Decode {
        message: String,
        data: serde_json::Value,
    },
}

impl ExecutorError {
    /// executor's error code: `execution_paused`, the tool error's code,
    /// `request_failed` or `unexpected_data`.
    pub fn code(&self) -> &str {
        match self {
            ExecutorError::Paused { .. } => "execution_paused",
            ExecutorError::Tool { code, .. } => code,
            ExecutorError::Request { .. } => "request_failed",
            ExecutorError::Decode { .. } => "unexpected_data",
        }
    }
}

impl std::fmt::Display for ExecutorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecutorError::Paused { message, approval_url, .. } => {
                write!(f, "{message} (approve at {approval_url})")
            }
            ExecutorError::Tool { code, message, .. } => write!(f, "{code}: {message}"),
            ExecutorError::Request { message, .. } | ExecutorError::Decode { message, .. } => {
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for ExecutorError {}

/// One call that needed approval, as `GET /api/executions/<id>` shows it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub id: String,
    pub tool_path: String,
    /// `paused`, `approved` (running), `completed`, `failed`, `declined`, `expired`.
    pub state: String,
    /// The envelope the call ended with, once final.
    #[serde(default)]
    pub result: Option<serde_json::Value>,
    /// While paused: where a person approves it.
    #[serde(default)]
    pub approval_url: Option<String>,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
}

impl Execution {
    /// The call's outcome once it is final (`None` while it waits): its
    /// data as `O` (the tool's output type), or why it failed.
    pub fn outcome<O: DeserializeOwned>(&self) -> Option<Result<O, ExecutorError>> {
        let result = self.result.clone()?;
        Some(envelope(result, None).and_then(decode))
    }
}

/// The connection to one executor service. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    base_url: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Client {
    // The token stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl Client {
    /// `EXECUTOR_URL` (default `http://127.0.0.1:4788`) with the token from
    /// `EXECUTOR_API_KEY`, else `EXECUTOR_AUTH_TOKEN`.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let base_url = var("EXECUTOR_URL").unwrap_or_else(|| DEFAULT_URL.to_owned());
        let token = var("EXECUTOR_API_KEY").or_else(|| var("EXECUTOR_AUTH_TOKEN"));
        Client::new(base_url, token)
    }

    /// A client for the service at `base_url`, sending `token` as a bearer
    /// token. Redirects are not followed: the token goes only where it is sent.
    pub fn new(base_url: impl Into<String>, token: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Client {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            token,
            http,
        }
    }

    /// The same client over another `reqwest::Client` (proxies, TLS roots, timeouts).
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Calls any tool by path; the typed methods call this.
    pub async fn call<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        path: &str,
        input: &I,
    ) -> Result<O, ExecutorError> {
        let route = format!("/api/tools/invoke/{path}");
        let data = self.send(reqwest::Method::POST, &route, Some(input)).await?;
        decode(data)
    }

    /// Resumes a paused execution once a person has approved it (`accept`)
    /// or not: the call's data, or why it failed.
    pub async fn resume<O: DeserializeOwned>(
        &self,
        execution_id: &str,
        accept: bool,
    ) -> Result<O, ExecutorError> {
        let route = format!("/api/executions/{}/resume", segment(execution_id));
        let action = if accept { "accept" } else { "decline" };
        let body = serde_json::json!({ "action": action });
        let data = self.send(reqwest::Method::POST, &route, Some(&body)).await?;
        decode(data)
    }

    /// A paused (or once paused) execution: its state, and its result once final.
    pub async fn execution(&self, execution_id: &str) -> Result<Execution, ExecutorError> {
        let route = format!("/api/executions/{}", segment(execution_id));
        let data = self.send::<()>(reqwest::Method::GET, &route, None).await?;
        decode(data)
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        method: reqwest::Method,
        route: &str,
        body: Option<&B>,
    ) -> Result<serde_json::Value, ExecutorError> {
        let failed = |message: String, status: Option<u16>, body: Option<String>| {
            ExecutorError::Request { message, status, body }
        };
        let mut request = self
            .http
            .request(method, format!("{}{route}", self.base_url))
            .header("accept", "application/json");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            let text = serde_json::to_string(body)
                .map_err(|e| failed(format!("cannot serialise the input: {e}"), None, None))?;
            request = request.header("content-type", "application/json").body(text);
        }
        let response = request.send().await.map_err(|e| {
            failed(format!("cannot reach executor at {}: {e}", self.base_url), None, None)
        })?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| {
            failed(format!("executor's answer broke off: {e}"), Some(status), None)
        })?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|_| {
            failed(
                format!("executor answered {status} with something that is not JSON"),
                Some(status),
                Some(text.clone()),
            )
        })?;
        envelope(value, Some(status))
    }
}

/// `{ok: true, data}` → the data; `{ok: false, error}` → the error.
fn envelope(mut value: serde_json::Value, status: Option<u16>) -> Result<serde_json::Value, ExecutorError> {
    match value.get("ok").and_then(serde_json::Value::as_bool) {
        Some(true) => Ok(value.get_mut("data").map(serde_json::Value::take).unwrap_or_default()),
        Some(false) => {
            let error = value.get_mut("error").map(serde_json::Value::take).unwrap_or_default();
            let text = |key: &str| error.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
            let code = text("code");
            let message = text("message");
            if code == "unauthorized" || matches!(status, Some(401 | 403)) {
                return Err(ExecutorError::Request { message, status, body: None });
            }
            if code == "execution_paused" {
                return Err(ExecutorError::Paused {
                    execution_id: text("executionId"),
                    approval_url: text("approvalUrl"),
                    resume_path: text("resumePath"),
                    message,
                });
            }
            Err(ExecutorError::Tool {
                status: error.get("status").and_then(serde_json::Value::as_u64).and_then(|s| u16::try_from(s).ok()),
                details: error.get("details").cloned(),
                code,
                message,
            })
        }
        None => Err(ExecutorError::Request {
            message: "executor answered something that is not a result".to_owned(),
            status,
            body: Some(value.to_string()),
        }),
    }
}

fn decode<O: DeserializeOwned>(data: serde_json::Value) -> Result<O, ExecutorError> {
    O::deserialize(&data).map_err(|e| ExecutorError::Decode {
        message: format!(
            "the data does not match the generated type: {e} (regenerate the client if the catalog changed)"
        ),
        data,
    })
}

/// A path segment, percent-encoded.
fn segment(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl Client {
{{ roots }}}

/// Every tool's input and output types, and the shared definitions.
pub mod types {
{{ types }}}

/// The namespaces that lead to each tool (`client.github().org()...`).
pub mod ns {
    use super::types::*;
    use super::{Client, ExecutorError};

{{ namespaces }}}
