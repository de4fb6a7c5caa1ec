//! Code mode: an agent sends a short TypeScript program instead of one
//! tool call; it runs in a QuickJS sandbox (`sandbox.rs`) against the
//! typed catalog and returns only what it computes.
//!
//! A script is another door to `invoke`, not a way around it: every
//! `tools.<path>(input)` goes through `invoke::invoke` with the run's
//! caller, so blocked tools are absent and policies apply as for any call.
//!
//! **Durable pauses, by replay.** Every tool call a run makes is recorded
//! with its envelope, and so is every `Date.now()` / `new Date()` and
//! `Math.random()`. A call that needs approval stops the run: the run (its
//! code, caller and records) is stored with the paused execution it waits
//! on, and the caller gets that execution's `execution_paused`. Whoever
//! resumes the execution, by any path ([`resume`]), runs the approved call
//! exactly once (`invoke::resume`), then claims the run (`paused` →
//! `running`, atomically) and runs the script again from the start: each
//! recorded call returns its recorded envelope without reaching the
//! upstream, the approved call returns its outcome, and the script goes on
//! from there to its result or its next pause. So no upstream call is made
//! twice, after a restart too. What a script must not do: depend on
//! anything but its tool results, time and randomness (which are recorded);
//! a replay that asks for a different call than the one recorded stops
//! with `script_failed`.

mod catalog;
mod host;
mod resume;
mod sandbox;
mod typescript;

pub use catalog::{describe, description, search};
use host::RunHost;
use resume::go_on;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use generator::envelope::{ErrorCode, ToolError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use sandbox::Ending;
pub use sandbox::Limits;

use crate::caller::Caller;
use crate::errors::error;
use crate::execution::{self, Action, envelope};
use crate::invoke;
use crate::state::AppState;
use crate::store::StoredRun;

/// Code mode's settings and its bound on concurrent runs, kept in the
/// state's slots.
pub struct CodeMode {
    pub limits: Limits,
    /// A result whose JSON is longer than this many characters is cut.
    pub result_chars: usize,
    runs: Arc<tokio::sync::Semaphore>,
    pub max_runs: usize,
}

impl CodeMode {
    /// Each limit from the environment, or its default.
    pub fn from_env() -> CodeMode {
        let setting = crate::home::setting;
        let max_runs = setting("EXECUTOR_CODE_MAX_RUNS", 4) as usize;
        CodeMode {
            limits: Limits {
                wall: Duration::from_secs(setting("EXECUTOR_CODE_TIMEOUT", 60)),
                memory: setting("EXECUTOR_CODE_MEMORY_MIB", 64) as usize * 1024 * 1024,
                stack: setting("EXECUTOR_CODE_STACK_KIB", 512) as usize * 1024,
                calls: setting("EXECUTOR_CODE_MAX_CALLS", 1000) as usize,
                output: setting("EXECUTOR_CODE_MAX_OUTPUT_MIB", 8) as usize * 1024 * 1024,
            },
            result_chars: setting("EXECUTOR_CODE_MAX_RESULT_CHARS", 30_000) as usize,
            runs: Arc::new(tokio::sync::Semaphore::new(max_runs)),
            max_runs,
        }
    }

    pub fn of(state: &AppState) -> Arc<CodeMode> {
        state.surfaces.get_or_insert_with(CodeMode::from_env)
    }
}

/// What a run answers: its outcome and what it logged.
#[derive(Debug)]
pub struct RunOutcome {
    pub result: Result<Value, ToolError>,
    pub logs: Vec<String>,
}

/// One recorded step of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum Record {
    Call {
        path: String,
        input: Value,
        envelope: Value,
    },
    Paused {
        path: String,
        input: Value,
        execution: String,
    },
    Now {
        value: f64,
    },
    Random {
        value: f64,
    },
}

/// A run as stored (`StoredRun::body`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunBody {
    /// The script as plain JavaScript.
    code: String,
    caller: String,
    records: Vec<Record>,
    /// The final envelope, once the run has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<Value>,
    #[serde(default)]
    logs: Vec<String>,
}

/// Runs a script for `caller`.
pub async fn execute(state: &Arc<AppState>, source: &str, caller: &Caller) -> RunOutcome {
    let code = match typescript::strip(source) {
        Ok(code) => code,
        Err(e) => {
            return RunOutcome {
                result: Err(e),
                logs: Vec::new(),
            };
        }
    };
    let id = match random_id() {
        Ok(id) => id,
        Err(e) => {
            return RunOutcome {
                result: Err(e),
                logs: Vec::new(),
            };
        }
    };
    let body = RunBody {
        code,
        caller: caller.record(),
        records: Vec::new(),
        result: None,
        logs: Vec::new(),
    };
    run(state, id, body, caller.clone()).await
}

/// Answers a paused execution by any path (REST, CLI, the approval page,
/// MCP): the call runs exactly once; when it belongs to a code-mode run,
/// the run then goes on, and its outcome is the answer. `Ok(None)` when
/// there is no such execution.
pub async fn resume(
    state: &Arc<AppState>,
    id: &str,
    action: Action,
    by: &str,
) -> Result<Option<Result<Value, ToolError>>, ToolError> {
    let Some(outcome) = invoke::resume(state, id, action, by).await? else {
        return Ok(None);
    };
    let run = state.store().run_of_execution(id).map_err(internal)?;
    match run {
        None => Ok(Some(outcome)),
        Some(run) => Ok(Some(go_on(state, run, id, outcome).await.result)),
    }
}

/// At a start: runs that were going on when the service stopped are
/// marked failed (their calls may or may not have reached upstreams).
pub fn recover(state: &AppState) -> anyhow::Result<()> {
    let interrupted = state.store().runs_in_state("running")?;
    for run in &interrupted {
        let mut body: Value = serde_json::from_str(&run.body).unwrap_or(json!({}));
        body["result"] = envelope(&Err(error(
            ErrorCode::ScriptFailed,
            "the service stopped while this run was going on after an approval; it is not run again. Check the upstreams, then run the script again if needed",
            None,
        )));
        state.store().save_run(&StoredRun {
            state: "failed".to_owned(),
            pending: None,
            body: body.to_string(),
            ..run.clone()
        })?;
    }
    if !interrupted.is_empty() {
        tracing::warn!(
            "{} code-mode run(s) were going on when the service stopped; they are marked failed",
            interrupted.len()
        );
    }
    Ok(())
}

pub(super) fn failed(e: ToolError) -> RunOutcome {
    RunOutcome {
        result: Err(e),
        logs: Vec::new(),
    }
}

/// Runs (or replays, then continues) a run on a sandbox thread and stores
/// where it ended when that matters: a pause, or the end of a run that had
/// paused before.
async fn run(state: &Arc<AppState>, id: String, body: RunBody, caller: Caller) -> RunOutcome {
    // A script's calls are on record as code mode's, whoever runs it.
    let caller = caller.via("code");
    let mode = CodeMode::of(state);
    let Ok(permit) = mode.runs.clone().try_acquire_owned() else {
        return failed(error(
            ErrorCode::Overloaded,
            format!(
                "{} scripts are already running (EXECUTOR_CODE_MAX_RUNS): try again when one has finished",
                mode.max_runs
            ),
            Some(json!({ "limit": mode.max_runs })),
        ));
    };
    let replayed = !body.records.is_empty();
    let host = RunHost {
        state: state.clone(),
        caller,
        handle: tokio::runtime::Handle::current(),
        replay: body.records.clone().into(),
        recorded: Vec::new(),
        calls: 0,
        max_calls: mode.limits.calls,
        deadline: Instant::now() + mode.limits.wall,
        paused: None,
        limit: None,
    };
    let limits = mode.limits.clone();
    let code = body.code.clone();
    let (send, receive) = tokio::sync::oneshot::channel();
    // Each run on a thread of its own (at most EXECUTOR_CODE_MAX_RUNS at
    // once, by the permit it holds): a CPU-bound script never holds an
    // async worker.
    let spawned = std::thread::Builder::new()
        .name("executor-code".to_owned())
        .stack_size(limits.stack + 8 * 1024 * 1024)
        .spawn(move || {
            let host = Rc::new(RefCell::new(host));
            let finished = sandbox::run(&code, &limits, host.clone());
            let answer = {
                let host = host.borrow();
                (
                    finished,
                    host.recorded.clone(),
                    host.paused.clone(),
                    host.limit.clone(),
                )
            };
            // The slot is free before the answer is out: whoever hears it
            // may start the next run at once (a resume going on).
            drop(host);
            drop(permit);
            let _ = send.send(answer);
        });
    if let Err(e) = spawned {
        return failed(internal(e.into()));
    }
    let Ok((finished, recorded, paused, limit)) = receive.await else {
        return failed(error(
            ErrorCode::InternalError,
            "the sandbox stopped unexpectedly",
            None,
        ));
    };
    let logs = cut_logs(finished.logs, finished.logs_cut);
    let result = match finished.ending {
        Ending::Returned(json) => Ok(cut_result(
            serde_json::from_str(&json).unwrap_or(Value::Null),
            mode.result_chars,
        )),
        Ending::Stopped(_) if paused.is_some() => {
            let paused = paused.expect("checked");
            let pending = paused.execution_id.clone().unwrap_or_default();
            let stored = StoredRun {
                id: id.clone(),
                state: "paused".to_owned(),
                pending: Some(pending),
                body: serde_json::to_string(&RunBody {
                    records: recorded,
                    result: None,
                    logs: logs.clone(),
                    ..body
                })
                .unwrap_or_default(),
            };
            if let Err(e) = state.store().save_run(&stored) {
                return RunOutcome {
                    result: Err(crate::errors::internal_error(e, "record the paused run")),
                    logs,
                };
            }
            tracing::info!(run = %id, "code-mode run paused for approval");
            let mut paused = paused;
            paused.message = format!(
                "the script paused: {} When approved, the script goes on from there and its result is the answer to the resume.",
                paused.message
            );
            if let Some(details) = paused.details.as_mut().and_then(Value::as_object_mut) {
                details.insert("runId".into(), json!(id));
            }
            return RunOutcome {
                result: Err(paused),
                logs,
            };
        }
        Ending::Stopped(reason) => {
            Err(limit.unwrap_or_else(|| error(ErrorCode::ScriptFailed, reason, None)))
        }
        Ending::Threw { message, stack } => Err(error(
            ErrorCode::ScriptFailed,
            format!("the script threw: {message}"),
            Some(json!({ "message": message, "stack": stack })),
        )),
        Ending::TimedOut => Err(error(
            ErrorCode::ScriptTimeout,
            format!(
                "the script ran longer than {} s and was stopped (EXECUTOR_CODE_TIMEOUT)",
                mode.limits.wall.as_secs()
            ),
            Some(json!({ "limitSeconds": mode.limits.wall.as_secs() })),
        )),
        Ending::OutOfMemory => Err(error(
            ErrorCode::ScriptMemoryLimit,
            format!(
                "the script used more than {} of memory and was stopped (EXECUTOR_CODE_MEMORY_MIB)",
                crate::outbound::size(mode.limits.memory)
            ),
            Some(json!({ "limitBytes": mode.limits.memory })),
        )),
        Ending::StackOverflow => Err(error(
            ErrorCode::ScriptStackOverflow,
            format!(
                "the script recursed deeper than its {} stack and was stopped (EXECUTOR_CODE_STACK_KIB)",
                crate::outbound::size(mode.limits.stack)
            ),
            Some(json!({ "limitBytes": mode.limits.stack })),
        )),
        Ending::OutputTooLarge => Err(error(
            ErrorCode::ScriptOutputLimit,
            format!(
                "the script's result and logs came to more than {} (EXECUTOR_CODE_MAX_OUTPUT_MIB): return less",
                crate::outbound::size(mode.limits.output)
            ),
            Some(json!({ "limitBytes": mode.limits.output })),
        )),
    };
    if replayed {
        // The end of a run that paused before: whoever resumes again gets it.
        let stored = StoredRun {
            id: id.clone(),
            state: if result.is_ok() {
                "completed"
            } else {
                "failed"
            }
            .to_owned(),
            pending: None,
            body: serde_json::to_string(&RunBody {
                records: Vec::new(),
                result: Some(envelope(&result)),
                logs: logs.clone(),
                ..body
            })
            .unwrap_or_default(),
        };
        if let Err(e) = state.store().save_run(&stored) {
            tracing::error!(run = %id, "could not record the end of a run: {e:#}");
        }
    }
    RunOutcome { result, logs }
}

/// A result too long for an agent's context is cut, saying so.
fn cut_result(value: Value, max_chars: usize) -> Value {
    let text = value.to_string();
    let total = text.chars().count();
    if total <= max_chars {
        return value;
    }
    let shown: String = text.chars().take(max_chars).collect();
    json!({
        "truncated": shown,
        "note": format!(
            "the result was {total} characters of JSON; the first {max_chars} are shown and {} were left out. Return less (filter, count or summarise in the script) to get the rest (EXECUTOR_CODE_MAX_RESULT_CHARS sets the cut).",
            total - max_chars
        ),
    })
}

fn cut_logs(mut logs: Vec<String>, cut: usize) -> Vec<String> {
    if cut > 0 {
        logs.push(format!(
            "({cut} more log lines were left out: the logs reached their share of the output limit)"
        ));
    }
    logs
}

fn outcome_of(envelope: Option<&Value>) -> Result<Value, ToolError> {
    match envelope {
        Some(envelope) => execution::outcome(envelope),
        None => Err(error(
            ErrorCode::InternalError,
            "the run has no result",
            None,
        )),
    }
}

fn random_id() -> Result<String, ToolError> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(format!("run_{}", hex::encode(bytes)))
}

fn internal(e: anyhow::Error) -> ToolError {
    crate::errors::internal_error(e, "record the run")
}
