//! Input-required rounds of an upstream that speaks 2026-07-28 (SEP-2322),
//! forwarded by the source view to a client of that revision.
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
//! A call that waited for approval runs when the person answers, with no
//! client to take rounds: an upstream that then asks for input gets an
//! error from executor's listener (as over REST), and the call fails
//! saying so.

use rmcp::ErrorData as McpError;
use rmcp::model::InputRequiredResult;
use serde::{Deserialize, Serialize};

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
}

/// A retry that continues a forwarded call.
pub(super) struct Continued {
    pub upstream: Option<String>,
    pub began: i64,
}

/// Whether a `requestState` is one executor sealed for a forwarded round.
pub(super) fn is_forwarded(state: &str) -> bool {
    state.starts_with(PREFIX)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The result the client gets: the upstream's requests as they came, and
/// executor's sealed state in place of the upstream's.
pub(super) fn forward(
    state: &AppState,
    caller: &Caller,
    tool: &str,
    began: Option<i64>,
    mut result: InputRequiredResult,
) -> Result<InputRequiredResult, McpError> {
    let sealed = Sealed {
        caller: caller.record(),
        tool: tool.to_owned(),
        began: began.unwrap_or_else(now),
        upstream: result.request_state.take(),
    };
    let text =
        serde_json::to_vec(&sealed).map_err(|e| McpError::internal_error(e.to_string(), None))?;
    let sealed = state.secrets.seal(&text, PLACE).map_err(|e| {
        McpError::internal_error(format!("cannot seal the round's state: {e}"), None)
    })?;
    result.request_state = Some(format!("{PREFIX}{sealed}"));
    Ok(result)
}

/// Opens a retry's state: it must be executor's, unaltered, of this caller
/// and tool, and recent.
pub(super) fn open(
    state: &AppState,
    caller: &Caller,
    tool: &str,
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
    if sealed.caller != caller.record() || sealed.tool != tool {
        return Err(refused("belongs to another call"));
    }
    if now() - sealed.began > ROUND_TTL_SECS {
        return Err(refused("has expired"));
    }
    Ok(Continued {
        upstream: sealed.upstream,
        began: sealed.began,
    })
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
