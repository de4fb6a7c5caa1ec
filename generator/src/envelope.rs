//! The result envelope every invocation answers with:
//! `{ "ok": true, "data": ... }` or `{ "ok": false, "error": ToolError }`.
//!
//! The JSON Schema in `schemas/envelope.schema.json` and the error schemas
//! of the OpenAPI export are generated from these types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a tool call did not return data. The list is closed: clients may
/// switch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "ExecutorErrorCode")]
pub enum ErrorCode {
    /// The input does not match the tool's input schema; `details` lists each problem with its JSON pointer.
    InvalidInput,
    /// No tool has this path; `details.candidates` lists near or ambiguous matches.
    ToolNotFound,
    /// A policy blocks this tool.
    ToolBlocked,
    /// The call waits for a human's approval; resume it with `resumePath` once approved at `approvalUrl`.
    ExecutionPaused,
    /// A human declined the call.
    ApprovalDeclined,
    /// The pause was not answered in time.
    ExecutionExpired,
    /// The upstream answered with an error status; `status` and `details.body` carry its answer.
    UpstreamHttpError,
    /// The upstream could not be reached or did not answer in time.
    UpstreamUnreachable,
    /// The upstream's answer could not be read as the tool's output.
    UpstreamInvalidResponse,
    /// An upstream MCP tool answered with an error result; `details.result` holds it.
    UpstreamToolError,
    /// The tool needs credentials and its connection has none.
    ConnectionMissing,
    /// The upstream refused the connection's credentials.
    ConnectionRejected,
    /// The request to executor itself was not authorised (missing or wrong bearer token).
    Unauthorized,
    /// executor is at one of its limits (open connections, calls in flight to a source, paused calls); try again later.
    Overloaded,
    /// The disk holding executor's database is full: the change was not saved (reads still work); free space and try again.
    StorageFull,
    /// A code-mode script threw, or its promise rejected; `details` has the message and the script's stack.
    ScriptFailed,
    /// A code-mode script ran past its time limit and was stopped.
    ScriptTimeout,
    /// A code-mode script used more memory than its limit and was stopped.
    ScriptMemoryLimit,
    /// A code-mode script recursed past its stack limit and was stopped.
    ScriptStackOverflow,
    /// A code-mode script made more tool calls than a run may make.
    ScriptCallLimit,
    /// A code-mode script's result or logs were larger than a run may return.
    ScriptOutputLimit,
    /// executor failed; the details are in its log.
    InternalError,
}

/// What went wrong, in a form both people and programs can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ExecutorToolError")]
pub struct ToolError {
    pub code: ErrorCode,
    /// What happened and how to fix it.
    pub message: String,
    /// `execution_paused`: the paused execution, e.g. `exec_123`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_id: Option<String>,
    /// `execution_paused`: `POST` here with `{"action": "accept"}` or `{"action": "decline"}` to resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_path: Option<String>,
    /// `execution_paused`: the web page where a person approves or declines the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_url: Option<String>,
    /// `upstream_http_error`: the upstream's HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Anything else that helps: validation problems, candidates, the upstream's body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// `{ "ok": false, "error": ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ExecutorToolFailure")]
pub struct Failure {
    /// Always `false`.
    #[schemars(schema_with = "const_false")]
    pub ok: bool,
    pub error: ToolError,
}

fn const_false(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "const": false })
}

/// Every [`ErrorCode`] as it is written (`invalid_input`, ...), in the
/// enum's order, read off its schema so that no list can drift from it.
pub fn error_codes() -> Vec<String> {
    fn collect(schema: &serde_json::Value, out: &mut Vec<String>) {
        use serde_json::Value;
        match schema {
            Value::Object(map) => {
                if let Some(Value::String(c)) = map.get("const") {
                    out.push(c.clone());
                }
                if let Some(Value::Array(values)) = map.get("enum") {
                    out.extend(values.iter().filter_map(Value::as_str).map(str::to_owned));
                }
                for (key, child) in map {
                    if key != "const" && key != "enum" {
                        collect(child, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let mut codes = Vec::new();
    collect(&schemars::schema_for!(ErrorCode).to_value(), &mut codes);
    codes
}
