//! Calls that wait for a person: pausing, resuming, declining, expiring.
//!
//! A paused call is a row in the `executions` table (see `store`), written
//! before the caller hears `execution_paused`, so a pause survives a crash.
//! Resuming claims the row atomically (`paused` → `approved`) before the
//! upstream is called, so two resumes, or a resume racing a restart, never
//! call the upstream twice: whoever loses the claim waits for, then returns,
//! the winner's outcome. A call that was running when the service died is
//! marked `failed` at the next start and never run again (the upstream may
//! or may not have seen it; only a person can tell).

use std::time::Duration;

use crate::catalog::LiveTool as Tool;
use generator::envelope::{ErrorCode, ToolError};
use serde_json::{Value, json};

use crate::caller::Caller;
use crate::errors::error;
use crate::shared::Shared;
use crate::store::{Execution, ExecutionState};

/// The largest input a paused call keeps.
pub const MAX_PAUSED_INPUT_BYTES: usize = 1024 * 1024;

/// How many calls may wait for approval at once: 1000, or
/// `EXECUTOR_MAX_OPEN_PAUSES`.
pub fn max_open_pauses() -> usize {
    crate::home::setting("EXECUTOR_MAX_OPEN_PAUSES", 1000) as usize
}

/// A person's answer to a paused call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Accept,
    Decline,
}

impl Action {
    pub fn parse(text: &str) -> Option<Action> {
        match text {
            "accept" => Some(Action::Accept),
            "decline" => Some(Action::Decline),
            _ => None,
        }
    }
}

/// Records a paused call and says so to the caller.
pub fn pause(
    state: &Shared,
    tool: &Tool,
    input: &Value,
    caller: &Caller,
    rule: Option<&str>,
) -> ToolError {
    // A pause keeps its input until answered, and the approvals page shows
    // it: both are bounded.
    let size = serde_json::to_vec(input)
        .map(|b| b.len())
        .unwrap_or(usize::MAX);
    if size > MAX_PAUSED_INPUT_BYTES {
        return error(
            ErrorCode::InvalidInput,
            format!(
                "{} needs approval, and inputs that wait for approval may be at most {} (this one is {size} bytes): send a smaller input, or let the tool run without approval",
                tool.path,
                crate::outbound::size(MAX_PAUSED_INPUT_BYTES)
            ),
            Some(json!({ "limit": MAX_PAUSED_INPUT_BYTES, "size": size })),
        );
    }
    let open = state.store().open_pauses();
    if open.as_ref().is_ok_and(|&n| n >= max_open_pauses()) {
        return error(
            ErrorCode::Overloaded,
            format!(
                "{} needs approval, but {} calls already wait for one: answer or decline them (executor web, approvals) before pausing more",
                tool.path,
                max_open_pauses()
            ),
            Some(json!({ "limit": max_open_pauses() })),
        );
    }
    let stored = state.store().pause(
        &tool.path,
        input,
        &caller.record(),
        rule,
        state.approval_ttl,
    );
    match stored {
        Ok(execution) => {
            tracing::info!(
                execution = %execution.id,
                tool = %tool.path,
                caller = %caller.record(),
                "call paused for approval"
            );
            paused_error(state, &execution)
        }
        Err(e) => crate::errors::internal_error(
            e,
            &format!("record the pause of {} (it needs approval)", tool.path),
        ),
    }
}

/// `POST` here to resume.
pub fn resume_path(id: &str) -> String {
    format!("/api/executions/{id}/resume")
}

/// The web page where a person approves or declines.
pub fn approval_url(state: &Shared, id: &str) -> String {
    format!("http://{}/resume/{id}", state.addr)
}

/// The rule a pause records when the caller's client has every call approved.
pub const APPROVE_ALL: &str = "client-approves-all";

/// The `execution_paused` error of a stored pause.
pub fn paused_error(state: &Shared, execution: &Execution) -> ToolError {
    let why = match &execution.rule {
        Some(rule) if rule == APPROVE_ALL => "every call of this client needs approval".to_owned(),
        Some(rule) => format!("policy {rule} requires approval"),
        None => "its default policy requires approval for calls that change data".to_owned(),
    };
    let approval_url = approval_url(state, &execution.id);
    ToolError {
        code: ErrorCode::ExecutionPaused,
        message: format!(
            "{} waits for a person's approval ({why}). Approve it at {approval_url} or with `executor resume --execution-id {}`; POST {{\"action\": \"accept\"}} to {} then runs it and returns its result.",
            execution.tool_path,
            execution.id,
            resume_path(&execution.id)
        ),
        execution_id: Some(execution.id.clone()),
        resume_path: Some(resume_path(&execution.id)),
        approval_url: Some(approval_url),
        status: None,
        details: Some(json!({
            "toolPath": execution.tool_path,
            "expiresAt": execution.expires_at,
        })),
    }
}

/// The envelope of an outcome, as stored.
pub fn envelope(outcome: &Result<Value, ToolError>) -> Value {
    match outcome {
        Ok(data) => json!({ "ok": true, "data": data }),
        Err(e) => json!({ "ok": false, "error": e }),
    }
}

/// A stored envelope as an outcome.
pub fn outcome(envelope: &Value) -> Result<Value, ToolError> {
    if envelope["ok"] == Value::Bool(true) {
        return Ok(envelope.get("data").cloned().unwrap_or(Value::Null));
    }
    Err(
        serde_json::from_value(envelope["error"].clone()).unwrap_or_else(|_| {
            error(
                ErrorCode::InternalError,
                "the stored outcome of this execution is unreadable",
                None,
            )
        }),
    )
}

/// At a start: calls that were running when the service stopped are
/// marked failed, never run again.
pub fn recover(state: &Shared) -> anyhow::Result<()> {
    let interrupted = state.store().fail_interrupted(&interrupted())?;
    if interrupted > 0 {
        tracing::warn!(
            "{interrupted} approved call(s) were running when the service stopped; they are marked failed and not run again"
        );
    }
    Ok(())
}

/// What a call that was running when the service stopped ended with.
fn interrupted() -> Value {
    envelope(&Err(error(
        ErrorCode::InternalError,
        "the service stopped while this approved call was running; whether the upstream received it is unknown, so it is not run again. Check the upstream, then call the tool again if needed",
        None,
    )))
}

fn expired(execution: &Execution) -> Value {
    envelope(&Err(error(
        ErrorCode::ExecutionExpired,
        format!(
            "the call to {} waited for approval until it expired; call the tool again to ask anew",
            execution.tool_path
        ),
        Some(json!({ "executionId": execution.id })),
    )))
}

fn declined(execution: &Execution) -> Value {
    envelope(&Err(error(
        ErrorCode::ApprovalDeclined,
        format!(
            "a person declined the call to {}; it was not run",
            execution.tool_path
        ),
        Some(json!({ "executionId": execution.id })),
    )))
}

fn internal(e: anyhow::Error) -> ToolError {
    crate::errors::internal_error(e, "read or write the execution")
}

/// One execution, with an overdue pause marked expired first.
pub fn get(state: &Shared, id: &str) -> Result<Option<Execution>, ToolError> {
    let mut store = state.store();
    let Some(execution) = store.execution(id).map_err(internal)? else {
        return Ok(None);
    };
    if execution.state == ExecutionState::Paused && execution.expires_at <= crate::store::now() {
        store
            .transition(
                id,
                ExecutionState::Paused,
                ExecutionState::Expired,
                Some(&expired(&execution)),
            )
            .map_err(internal)?;
        return store.execution(id).map_err(internal);
    }
    Ok(Some(execution))
}

/// Answers a paused call: `accept` runs it and returns its outcome,
/// `decline` refuses it. Answering again returns the first outcome.
/// `Ok(None)` when there is no such execution.
///
/// `run` runs the approved call (`invoke` passes its own runner, so that
/// this room never calls tools itself); it is called at most once.
pub async fn resume<F, Fut>(
    state: &Shared,
    id: &str,
    action: Action,
    mut run: F,
) -> Result<Option<Result<Value, ToolError>>, ToolError>
where
    F: FnMut(Execution) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ToolError>>,
{
    // Bounded: each turn either finishes or sees another resume's change.
    for _ in 0..100 {
        let Some(execution) = get(state, id)? else {
            return Ok(None);
        };
        match (execution.state, action) {
            (ExecutionState::Paused, Action::Decline) => {
                let result = declined(&execution);
                if state
                    .store()
                    .transition(
                        id,
                        ExecutionState::Paused,
                        ExecutionState::Declined,
                        Some(&result),
                    )
                    .map_err(internal)?
                {
                    tracing::info!(execution = id, "paused call declined");
                    return Ok(Some(outcome(&result)));
                }
            }
            (ExecutionState::Paused, Action::Accept) => {
                let claimed = state
                    .store()
                    .transition(id, ExecutionState::Paused, ExecutionState::Approved, None)
                    .map_err(internal)?;
                if claimed {
                    tracing::info!(execution = id, tool = %execution.tool_path, "paused call approved");
                    let result = run(execution).await;
                    let stored = envelope(&result);
                    let end = if result.is_ok() {
                        ExecutionState::Completed
                    } else {
                        ExecutionState::Failed
                    };
                    state
                        .store()
                        .transition(id, ExecutionState::Approved, end, Some(&stored))
                        .map_err(internal)?;
                    return Ok(Some(result));
                }
            }
            (ExecutionState::Approved, _) => {
                // Another resume runs it: wait for its outcome.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (_, _) => {
                let result = execution.result.unwrap_or(Value::Null);
                return Ok(Some(outcome(&result)));
            }
        }
    }
    Err(error(
        ErrorCode::InternalError,
        format!("execution {id} is still running; ask again later"),
        None,
    ))
}

/// Executions as the API lists them, each pause with its approval URL.
pub fn describe(state: &Shared, execution: &Execution) -> Value {
    let mut value = serde_json::to_value(execution).unwrap_or(Value::Null);
    if execution.state == ExecutionState::Paused {
        value["approvalUrl"] = json!(approval_url(state, &execution.id));
        value["resumePath"] = json!(resume_path(&execution.id));
    }
    value
}

/// Recent executions, overdue pauses marked expired first.
pub fn list(
    state: &Shared,
    filter: Option<ExecutionState>,
    limit: usize,
) -> Result<Vec<Execution>, ToolError> {
    let mut store = state.store();
    let now = crate::store::now();
    let overdue: Vec<Execution> = store
        .executions(Some(ExecutionState::Paused), usize::MAX >> 1)
        .map_err(internal)?
        .into_iter()
        .filter(|e| e.expires_at <= now)
        .collect();
    for execution in overdue {
        store
            .transition(
                &execution.id,
                ExecutionState::Paused,
                ExecutionState::Expired,
                Some(&expired(&execution)),
            )
            .map_err(internal)?;
    }
    store.executions(filter, limit).map_err(internal)
}
