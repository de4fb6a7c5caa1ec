//! Input-required rounds of an upstream that speaks 2026-07-28 (SEP-2322),
//! forwarded by the source view (and the full catalog) to a client of that
//! revision.
//!
//! The upstream answers a `tools/call` with an `InputRequiredResult`
//! (elicitation, sampling or roots requests, and perhaps a `requestState`);
//! the client answers and retries with `inputResponses` and the state it
//! was given. Executor stays in the path of every round: each is validated,
//! scoped and audited like any call.
//!
//! The client never sees the upstream's state bare. Executor hands out its
//! own, sealed with the home's key (XChaCha20-Poly1305, bound to this
//! purpose) and naming the caller, the tool and when the call began, with
//! the upstream's state inside. So a state is useless to another client or
//! for another tool, expires, and one altered on the way is refused with a
//! JSON-RPC error before anything reaches the upstream. Each round is a
//! call like any other: validated, scoped, audited, and held to today's
//! policy.
//!
//! A call that waited for approval and was approved through the client
//! (executor's own round) runs so that the client takes the upstream's
//! rounds too; its later rounds carry the approval in the sealed state and
//! are not paused again (scope and blocks still hold). A call approved
//! elsewhere (the web UI, the CLI) has no client to take rounds: an
//! upstream that then asks for input gets an error from executor's
//! listener, and the call fails saying so.

use rmcp::model::InputRequiredResult;
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde::{Deserialize, Serialize};

use super::source::Passed;
use crate::invoke::Caller;
use crate::state::AppState;

/// What begins every `requestState` executor seals, so that a retry of a
/// forwarded round is told apart from one of executor's own approval
/// rounds (whose state is an execution id).
const PREFIX: &str = "mrtr.";

/// The associated data the seal is bound to.
const PLACE: &str = "mcp input-required round";

/// How long a client may take to answer a round: an approval question or a
/// person typing an answer, not a token to keep.
const ROUND_TTL_SECS: i64 = 30 * 60;

#[derive(Serialize, Deserialize)]
struct Sealed {
    /// The caller, as [`Caller::record`] has it.
    caller: String,
    /// The tool's path in the catalog.
    tool: String,
    /// Seconds since the epoch when the call's first round began.
    began: i64,
    /// The upstream's own `requestState`.
    upstream: Option<String>,
    /// The paused execution a person approved, when the call waited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    approved: Option<String>,
    /// SHA-256 of the call's arguments (keys sorted): a retry repeats its
    /// request, so an approval cannot be carried to other arguments.
    arguments: String,
}

/// SHA-256 of a value with every object's keys sorted, hex.
fn digest(value: &serde_json::Value) -> String {
    fn canonical(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&map[k])))
                    .collect::<serde_json::Map<_, _>>()
                    .into()
            }
            serde_json::Value::Array(items) => items.iter().map(canonical).collect(),
            other => other.clone(),
        }
    }
    crate::clients::hash(&canonical(value).to_string())
}

/// A retry that continues a forwarded call.
pub(super) struct Continued {
    pub upstream: Option<String>,
    pub began: i64,
    pub approved: Option<String>,
}

/// Where an approved call's run leaves the upstream's round, if it asks
/// for one, and the capabilities of the client that will take it.
#[derive(Default)]
pub(super) struct Pending {
    pub capabilities: Option<rmcp::model::ClientCapabilities>,
    pub round: std::sync::Mutex<Option<InputRequiredResult>>,
}

/// Whether the client of a request speaks a revision without sessions
/// (2026-07-28 on): it takes input-required rounds itself, and cannot be
/// asked anything mid-request.
pub(super) fn client_takes_rounds(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| !v.has_initialize())
}

/// Relays what an upstream sends about a request to the session client
/// that made it.
pub(super) fn relay_to(context: &RequestContext<RoleServer>) -> crate::upstream::Relay {
    crate::upstream::Relay {
        peer: std::sync::Arc::new(context.peer.clone()),
        progress_token: context.meta.get_progress_token(),
    }
}

/// Whether a `requestState` is one executor sealed for a forwarded round.
pub(super) fn is_forwarded(state: &str) -> bool {
    state.starts_with(PREFIX)
}

/// The result the client gets: the upstream's requests as they came, and
/// executor's sealed state in place of the upstream's.
#[allow(clippy::too_many_arguments)]
pub(super) fn forward(
    state: &AppState,
    caller: &Caller,
    tool: &str,
    arguments: &serde_json::Value,
    began: Option<i64>,
    approved: Option<String>,
    mut result: InputRequiredResult,
) -> Result<InputRequiredResult, McpError> {
    let sealed = Sealed {
        caller: caller.record(),
        tool: tool.to_owned(),
        began: began.unwrap_or_else(crate::store::now),
        upstream: result.request_state.take(),
        approved,
        arguments: digest(arguments),
    };
    let text =
        serde_json::to_vec(&sealed).map_err(|e| McpError::internal_error(e.to_string(), None))?;
    let sealed = state.secrets.seal(&text, PLACE).map_err(|e| {
        McpError::internal_error(format!("cannot seal the round's state: {e}"), None)
    })?;
    result.request_state = Some(format!("{PREFIX}{sealed}"));
    Ok(result)
}

/// Opens a retry's state: it must be executor's, unaltered, of this caller,
/// tool and arguments, and recent.
pub(super) fn open(
    state: &AppState,
    caller: &Caller,
    tool: &str,
    arguments: &serde_json::Value,
    request_state: &str,
) -> Result<Continued, McpError> {
    let refused = |why: &str| {
        McpError::invalid_params(
            format!(
                "requestState {why}; call {tool} again without requestState and inputResponses"
            ),
            None,
        )
    };
    let sealed = request_state
        .strip_prefix(PREFIX)
        .ok_or_else(|| refused("is not one executor gave"))?;
    let text = state
        .secrets
        .open(sealed, PLACE)
        .map_err(|_| refused("failed its integrity check"))?;
    let sealed: Sealed =
        serde_json::from_slice(&text).map_err(|_| refused("failed its integrity check"))?;
    if sealed.caller != caller.record()
        || sealed.tool != tool
        || sealed.arguments != digest(arguments)
    {
        return Err(refused("belongs to another call"));
    }
    if crate::store::now() - sealed.began > ROUND_TTL_SECS {
        return Err(refused("has expired"));
    }
    Ok(Continued {
        upstream: sealed.upstream,
        began: sealed.began,
        approved: sealed.approved,
    })
}

/// What an approved call's run stores as its result when the upstream
/// answered with a round: the call goes on between the client and the
/// upstream.
fn continued() -> serde_json::Value {
    serde_json::json!({
        "continued": "the upstream asked for input; the call goes on in input-required rounds with the client that approved it"
    })
}

impl super::Handler {
    /// Runs an approved call of the source view (exactly once, like every
    /// resume) so that the client can take the upstream's rounds: a round
    /// the upstream asks for is left in `pending`.
    pub(super) async fn resume_forwarding(
        &self,
        id: &str,
        pending: &Pending,
    ) -> Result<serde_json::Value, generator::envelope::ToolError> {
        let state = &self.state;
        let resumed = crate::invoke::resume_with(
            state,
            id,
            crate::execution::Action::Accept,
            "the person at the MCP client",
            |execution| async move {
                let live = state.live();
                let tool = live.resolve(&execution.tool_path)?;
                live.validate_input(tool, &execution.input)?;
                let round = crate::upstream::Round {
                    capabilities: pending.capabilities.clone(),
                    ..Default::default()
                };
                match self
                    .run_source_tool(&live, tool, execution.input, None, Some(round))
                    .await?
                {
                    Passed::Verbatim(rmcp::model::CallToolResponse::InputRequired(round)) => {
                        *pending.round.lock().unwrap_or_else(|e| e.into_inner()) = Some(round);
                        Ok(continued())
                    }
                    Passed::Verbatim(rmcp::model::CallToolResponse::Complete(result)) => {
                        crate::upstream::result_data(result)
                    }
                    Passed::Verbatim(_) => Err(crate::errors::error(
                        generator::envelope::ErrorCode::UpstreamInvalidResponse,
                        "the MCP server answered with a task, which executor did not ask for",
                        None,
                    )),
                    Passed::Data(data) => Ok(data),
                }
            },
        )
        .await?;
        resumed.unwrap_or_else(|| {
            Err(crate::errors::error(
                generator::envelope::ErrorCode::InternalError,
                format!("execution {id} disappeared"),
                None,
            ))
        })
    }
}

/// `inputResponses` must be an object of objects: each answer is the bare
/// result of the request it answers. Anything else is a protocol error,
/// said before the upstream is bothered.
pub(super) fn check_responses(
    responses: Option<&rmcp::model::InputResponses>,
) -> Result<(), McpError> {
    for (key, value) in responses.into_iter().flatten() {
        if !value.is_object() {
            return Err(McpError::invalid_params(
                format!(
                    "inputResponses.{key} must be an object: the result of the input request it answers"
                ),
                None,
            ));
        }
    }
    Ok(())
}
