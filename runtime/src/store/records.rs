//! The records the store keeps and gives back: executions and their
//! states, connections, sources, clients and their tokens, audit records,
//! code-mode runs. Both stores read and write these; the rooms see only
//! them and the `Store` trait.

use std::collections::BTreeMap;

use generator::Diagnostic;
use generator::ir::{Integration, SchemaText, Tool};
use serde::{Deserialize, Serialize};

use super::now;

/// The states of an execution. `paused` waits for a person; `approved`
/// is claimed by the resume that runs it; the rest are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionState {
    Paused,
    Approved,
    Declined,
    Completed,
    Failed,
    Expired,
}

impl ExecutionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionState::Paused => "paused",
            ExecutionState::Approved => "approved",
            ExecutionState::Declined => "declined",
            ExecutionState::Completed => "completed",
            ExecutionState::Failed => "failed",
            ExecutionState::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<ExecutionState> {
        Some(match text {
            "paused" => ExecutionState::Paused,
            "approved" => ExecutionState::Approved,
            "declined" => ExecutionState::Declined,
            "completed" => ExecutionState::Completed,
            "failed" => ExecutionState::Failed,
            "expired" => ExecutionState::Expired,
            _ => return None,
        })
    }

    pub fn is_final(self) -> bool {
        !matches!(self, ExecutionState::Paused | ExecutionState::Approved)
    }
}

/// One stored connection; the secret stays sealed.
#[derive(Debug, Clone)]
pub struct ConnectionRow {
    pub integration: String,
    pub owner: generator::ir::Owner,
    pub name: String,
    pub auth: crate::credential::Auth,
    pub sealed_secret: String,
    pub created_at: i64,
}

/// One call that needed approval.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    /// `exec_<hex>`.
    pub id: String,
    pub tool_path: String,
    pub input: serde_json::Value,
    pub state: ExecutionState,
    /// The envelope the call ended with (`{ok, data}` or `{ok: false, error}`), once final.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// `mcp` (an agent) or `api` (the REST API, the CLI, generated clients).
    pub caller: String,
    /// The policy rule that paused it; absent when the tool's default did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    pub updated_at: i64,
    /// When an unanswered pause expires.
    pub expires_at: i64,
}

impl Execution {
    /// A call paused now, waiting `ttl_seconds` for an answer.
    pub(super) fn paused(
        id: String,
        tool_path: &str,
        input: &serde_json::Value,
        caller: &str,
        rule: Option<&str>,
        ttl_seconds: i64,
    ) -> Execution {
        let now = now();
        Execution {
            id,
            tool_path: tool_path.to_owned(),
            input: input.clone(),
            state: ExecutionState::Paused,
            result: None,
            caller: caller.to_owned(),
            rule: rule.map(str::to_owned),
            created_at: now,
            updated_at: now,
            expires_at: now.saturating_add(ttl_seconds),
        }
    }
}

/// Where a source came from and how to call it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceOptions {
    /// The base URL every call goes to (overrides the spec's servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Static headers sent on every upstream call, each value sealed with
    /// the home's secret key (never stored in clear).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sealed_headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lenient: bool,
    /// For MCP sources: how to reach the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<McpOptions>,
}

/// How to reach an upstream MCP server; `sealed_headers` above carries its
/// HTTP headers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Environment of the child process, each value sealed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sealed_env: BTreeMap<String, String>,
    /// The server uses MCP authorization (its tokens are in the connection row).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub oauth: bool,
}

/// One stored source with its indexed tools.
#[derive(Debug, Clone)]
pub struct SourceRecord {
    pub namespace: String,
    /// A URL, an absolute file path, or `inline`.
    pub origin: String,
    pub document: String,
    pub options: SourceOptions,
    pub integration: Integration,
    /// Read back with their schemas as text: what the live catalog keeps.
    pub tools: Vec<Tool<SchemaText>>,
    pub diagnostics: Vec<Diagnostic>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl SourceRecord {
    /// A freshly indexed source (its kind is its integration's); the store
    /// sets the times.
    pub fn new(
        namespace: String,
        origin: String,
        document: String,
        options: SourceOptions,
        ingested: generator::ingest::Ingested,
    ) -> SourceRecord {
        SourceRecord {
            namespace,
            origin,
            document,
            options,
            integration: ingested.integration,
            tools: ingested.tools.into_iter().map(Tool::into_text).collect(),
            diagnostics: ingested.diagnostics,
            created_at: 0,
            updated_at: 0,
        }
    }

    pub fn kind(&self) -> generator::ir::SourceKind {
        self.integration.kind
    }
}

/// One call on record. Never an input, an output or a secret.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub id: i64,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// The client's name, for a client of its own.
    pub client: Option<String>,
    /// `api`, `mcp`, or `mcp:<client id>`.
    pub caller: String,
    /// The door: `api`, `cli`, `web`, `mcp`, `code`.
    pub via: String,
    pub tool: String,
    /// `allowed`, `paused`, `blocked`, `refused`, `approved by ...`, `declined by ...`.
    pub decision: String,
    /// `ok` or the error code.
    pub outcome: String,
    pub duration_ms: f64,
    /// The size of the answer's `data` (0 for an error).
    pub bytes: u64,
    /// The paused execution, when there is one.
    pub execution: Option<String>,
}

/// Which audit records to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// A client's name or id.
    pub client: Option<String>,
    /// A tool path, or a prefix ending in `.`.
    pub tool: Option<String>,
    /// Milliseconds since the epoch.
    pub since: Option<i64>,
    pub limit: usize,
}

/// One client of executor: an MCP client that signed in through OAuth, or
/// a token the owner minted for a script. Never holds a token itself.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientRecord {
    /// `cl_<hex>`; an OAuth client's `client_id`.
    pub id: String,
    pub name: String,
    /// `oauth` (registered by an MCP client) or `token` (minted by the owner).
    pub kind: String,
    /// Where an OAuth client may be sent back to.
    pub redirect_uris: Vec<String>,
    /// Tool path patterns it may see and call (`*` for all).
    pub scope: Vec<String>,
    /// Every call it makes waits for a person's approval.
    pub approve_all: bool,
    /// A person approved it (an OAuth client is registered first, approved
    /// on the consent page).
    pub approved: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A token as stored: only its SHA-256, never the token.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub hash: String,
    pub client_id: String,
    /// `access` or `refresh`.
    pub kind: String,
    /// The resource it was issued for (`http://127.0.0.1:4788/mcp`).
    pub resource: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub created_at: i64,
}

/// A code-mode run as stored: `state` is `paused`, `running`, `completed`
/// or `failed`; `pending` the execution it waits on; `body` its record
/// (JSON, owned by the `code` room).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    pub id: String,
    pub state: String,
    pub pending: Option<String>,
    pub body: String,
}
