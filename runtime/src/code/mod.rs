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

mod sandbox;
mod typescript;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use generator::envelope::{ErrorCode, ToolError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use sandbox::Limits;
use sandbox::{Ending, Host};

use crate::caller::Caller;
use crate::errors::error;
use crate::execution::{self, Action};
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
        caller: caller.as_str().to_owned(),
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
) -> Result<Option<Result<Value, ToolError>>, ToolError> {
    let Some(outcome) = invoke::resume(state, id, action).await? else {
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
    let failed = state.store().fail_interrupted_runs(&|body| {
        let mut body: Value = serde_json::from_str(body).unwrap_or(json!({}));
        body["result"] = envelope(&Err(error(
            ErrorCode::ScriptFailed,
            "the service stopped while this run was going on after an approval; it is not run again. Check the upstreams, then run the script again if needed",
            None,
        )));
        body.to_string()
    })?;
    if failed > 0 {
        tracing::warn!(
            "{failed} code-mode run(s) were going on when the service stopped; they are marked failed"
        );
    }
    Ok(())
}

/// Continues the run that paused on execution `id`, now answered.
async fn go_on(
    state: &Arc<AppState>,
    mut run: StoredRun,
    id: &str,
    outcome: Result<Value, ToolError>,
) -> RunOutcome {
    // Bounded: each turn either continues the run or sees another resume's
    // change of it.
    for _ in 0..6000 {
        let body: RunBody = match serde_json::from_str(&run.body) {
            Ok(body) => body,
            Err(e) => return failed(internal(e.into())),
        };
        match run.state.as_str() {
            "paused" if run.pending.as_deref() == Some(id) => {
                match state.store().claim_run(&run.id, id) {
                    Ok(true) => {}
                    Ok(false) => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        run = match reload(state, &run.id, id) {
                            Ok(run) => run,
                            Err(e) => return failed(e),
                        };
                        continue;
                    }
                    Err(e) => return failed(internal(e)),
                }
                let mut body = body;
                for record in &mut body.records {
                    if let Record::Paused {
                        path,
                        input,
                        execution,
                    } = record
                        && execution == id
                    {
                        *record = Record::Call {
                            path: path.clone(),
                            input: input.clone(),
                            envelope: envelope(&outcome),
                        };
                    }
                }
                let caller = Caller::recorded(&body.caller);
                tracing::info!(run = %run.id, execution = id, "code-mode run goes on after an approval");
                return self::run(state, run.id.clone(), body, caller).await;
            }
            "paused" => {
                // The run went on and paused again: that pause is the answer.
                let pending = run.pending.clone().unwrap_or_default();
                return RunOutcome {
                    result: Err(match execution::get(state, &pending) {
                        Ok(Some(execution)) => execution::paused_error(state, &execution),
                        Ok(None) => error(
                            ErrorCode::InternalError,
                            format!("the run waits on execution {pending}, which is gone"),
                            None,
                        ),
                        Err(e) => e,
                    }),
                    logs: body.logs,
                };
            }
            "running" => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                run = match reload(state, &run.id, id) {
                    Ok(run) => run,
                    Err(e) => return failed(e),
                };
            }
            _ => {
                return RunOutcome {
                    result: outcome_of(body.result.as_ref()),
                    logs: body.logs,
                };
            }
        }
    }
    failed(error(
        ErrorCode::InternalError,
        "the run is still going on after an approval; ask again later",
        None,
    ))
}

fn reload(state: &AppState, run_id: &str, id: &str) -> Result<StoredRun, ToolError> {
    state
        .store()
        .run_of_execution(id)
        .map_err(internal)?
        .filter(|r| r.id == run_id)
        .ok_or_else(|| error(ErrorCode::InternalError, "the run is gone", None))
}

fn failed(e: ToolError) -> RunOutcome {
    RunOutcome {
        result: Err(e),
        logs: Vec::new(),
    }
}

/// Runs (or replays, then continues) a run on a sandbox thread and stores
/// where it ended when that matters: a pause, or the end of a run that had
/// paused before.
async fn run(state: &Arc<AppState>, id: String, body: RunBody, caller: Caller) -> RunOutcome {
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
            let _permit = permit;
            let host = Rc::new(RefCell::new(host));
            let finished = sandbox::run(&code, &limits, host.clone());
            let host = host.borrow();
            let _ = send.send((
                finished,
                host.recorded.clone(),
                host.paused.clone(),
                host.limit.clone(),
            ));
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

/// The host side of a run, on its sandbox thread: tool calls go to the
/// async runtime and wait there; recorded steps are replayed first.
struct RunHost {
    state: Arc<AppState>,
    caller: Caller,
    handle: tokio::runtime::Handle,
    replay: VecDeque<Record>,
    recorded: Vec<Record>,
    calls: usize,
    max_calls: usize,
    deadline: Instant,
    /// The pause that stopped the run.
    paused: Option<ToolError>,
    /// The limit that stopped the run.
    limit: Option<ToolError>,
}

impl RunHost {
    fn diverged(&mut self, what: String) -> String {
        let message = format!(
            "the script did not repeat itself when it went on after an approval: {what}. A script must depend only on its tool results, time and randomness"
        );
        self.limit = Some(error(ErrorCode::ScriptFailed, message.clone(), None));
        message
    }

    fn replayed_value(&mut self, kind: &str) -> Result<Option<f64>, String> {
        match self.replay.pop_front() {
            None => Ok(None),
            Some(Record::Now { value }) if kind == "now" => {
                self.recorded.push(Record::Now { value });
                Ok(Some(value))
            }
            Some(Record::Random { value }) if kind == "random" => {
                self.recorded.push(Record::Random { value });
                Ok(Some(value))
            }
            Some(other) => {
                Err(self.diverged(format!("it asked for {kind} where it made {other:?}")))
            }
        }
    }
}

impl Host for RunHost {
    fn call(&mut self, path: &str, input: &str) -> Result<String, String> {
        let input: Value = serde_json::from_str(input).unwrap_or(Value::Null);
        self.calls += 1;
        if self.calls > self.max_calls {
            let message = format!(
                "the script made more than {} tool calls (EXECUTOR_CODE_MAX_CALLS)",
                self.max_calls
            );
            self.limit = Some(error(
                ErrorCode::ScriptCallLimit,
                message.clone(),
                Some(json!({ "limit": self.max_calls })),
            ));
            return Err(message);
        }
        if let Some(record) = self.replay.pop_front() {
            return match record {
                Record::Call {
                    path: p,
                    input: i,
                    envelope,
                } if p == path && i == input => {
                    let text = envelope.to_string();
                    self.recorded.push(Record::Call {
                        path: p,
                        input: i,
                        envelope,
                    });
                    Ok(text)
                }
                other => Err(self.diverged(format!("it called {path} where it made {other:?}"))),
            };
        }
        let state = self.state.clone();
        let caller = self.caller.clone();
        let left = self.deadline.saturating_duration_since(Instant::now());
        let owned_path = path.to_owned();
        let owned_input = input.clone();
        let outcome = self.handle.block_on(async move {
            tokio::time::timeout(
                left,
                invoke::invoke(&state, &owned_path, owned_input, &caller),
            )
            .await
        });
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(_) => {
                self.limit = Some(error(
                    ErrorCode::ScriptTimeout,
                    format!("the script's time ran out during its call to {path}"),
                    None,
                ));
                return Err("timed out".to_owned());
            }
        };
        if let Err(e) = &outcome
            && e.code == ErrorCode::ExecutionPaused
        {
            self.recorded.push(Record::Paused {
                path: path.to_owned(),
                input,
                execution: e.execution_id.clone().unwrap_or_default(),
            });
            self.paused = Some(e.clone());
            return Err("paused for approval".to_owned());
        }
        let envelope = envelope(&outcome);
        let text = envelope.to_string();
        self.recorded.push(Record::Call {
            path: path.to_owned(),
            input,
            envelope,
        });
        Ok(text)
    }

    fn search(&mut self, query: &str, options: &str) -> String {
        let options: Value = serde_json::from_str(options).unwrap_or(Value::Null);
        let limit = options["limit"].as_u64().unwrap_or(10).clamp(1, 50) as usize;
        search(&self.state, query, limit).to_string()
    }

    fn describe(&mut self, path: &str) -> String {
        let envelope = envelope(&describe(&self.state, path));
        envelope.to_string()
    }

    fn now(&mut self) -> Result<f64, String> {
        if let Some(value) = self.replayed_value("now")? {
            return Ok(value);
        }
        let value = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_millis() as f64);
        self.recorded.push(Record::Now { value });
        Ok(value)
    }

    fn random(&mut self) -> Result<f64, String> {
        if let Some(value) = self.replayed_value("random")? {
            return Ok(value);
        }
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
        // 53 random bits in [0, 1), as Math.random gives.
        let value = (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64;
        self.recorded.push(Record::Random { value });
        Ok(value)
    }
}

/// `tools.search`: the best matches, each with its TypeScript signature,
/// so that one search is enough to write the call.
pub fn search(state: &AppState, query: &str, limit: usize) -> Value {
    let live = state.live();
    let hits: Vec<Value> = live
        .index
        .search(query, limit)
        .into_iter()
        .filter_map(|hit| live.catalog.tool(&hit.path))
        .map(|tool| {
            json!({
                "path": tool.path,
                "description": first_line(tool.description.as_deref().or(tool.title.as_deref())),
                "signature": generator::emit::typescript::tool_signature(&live.catalog, tool),
            })
        })
        .collect();
    json!(hits)
}

/// `tools.describe`: a tool's input and output as TypeScript declarations,
/// printed by the same emitter as `executor generate --format typescript`.
pub fn describe(state: &AppState, path: &str) -> Result<Value, ToolError> {
    let live = state.live();
    let tool = live.resolve(path)?;
    Ok(json!({
        "path": tool.path,
        "description": tool.description,
        "declarations": generator::emit::typescript::tool_declarations(&live.catalog, tool),
    }))
}

/// What the `execute` tool says of itself: every integration with a
/// one-line summary, how to find tools, and an example.
pub fn description(state: &AppState) -> String {
    let live = state.live();
    let mut text = String::from(
        "Run a TypeScript program against executor's tools and return what it computes. \
The code is the body of an async function: `await` works at the top and `return` gives the result. \
Call a tool as `await tools.<path>(input)`; it answers `{ ok: true, data } | { ok: false, error }`. \
Find tools with `await tools.search(\"what you need\", { limit: 5 })` (each hit has its TypeScript signature) \
and read one with `await tools.describe(path)`. `console.log` goes to the logs. \
No network, files or timers beyond setTimeout; calls that need approval pause the whole run.\n\nIntegrations:\n",
    );
    for integration in &live.catalog.integrations {
        let count = live
            .catalog
            .tools
            .iter()
            .filter(|t| t.integration == integration.name)
            .count();
        let summary = first_line(
            integration
                .description
                .as_deref()
                .or(integration.title.as_deref()),
        )
        .unwrap_or_default();
        text.push_str(&format!(
            "- {} ({count} tools){}{summary}\n",
            integration.name,
            if summary.is_empty() { "" } else { ": " }
        ));
    }
    let example = live
        .catalog
        .tools
        .iter()
        .find(|t| t.integration != crate::builtin::NAMESPACE)
        .map_or("executor.sources.list", |t| t.path.as_str());
    text.push_str(&format!(
        "\nExample:\nconst hits = await tools.search(\"list items\", {{ limit: 3 }});\nconst r = await {}({{}});\nreturn r.ok ? r.data : r.error;\n",
        call_expression(example)
    ));
    text
}

fn call_expression(path: &str) -> String {
    let mut out = "tools".to_owned();
    for segment in path.split('.') {
        if segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !segment.starts_with(|c: char| c.is_ascii_digit())
        {
            out.push('.');
            out.push_str(segment);
        } else {
            out.push_str(&format!("[{}]", json!(segment)));
        }
    }
    out
}

fn first_line(text: Option<&str>) -> Option<String> {
    text.and_then(|t| t.lines().find(|l| !l.trim().is_empty()))
        .map(|l| {
            let line = l.trim();
            match line.char_indices().nth(160) {
                Some((i, _)) => format!("{}…", &line[..i]),
                None => line.to_owned(),
            }
        })
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

/// `{ ok: true, data }` or `{ ok: false, error }`.
fn envelope(outcome: &Result<Value, ToolError>) -> Value {
    execution::envelope(outcome)
}

fn outcome_of(envelope: Option<&Value>) -> Result<Value, ToolError> {
    let Some(envelope) = envelope else {
        return Err(error(
            ErrorCode::InternalError,
            "the run has no result",
            None,
        ));
    };
    if envelope["ok"] == Value::Bool(true) {
        return Ok(envelope.get("data").cloned().unwrap_or(Value::Null));
    }
    Err(
        serde_json::from_value(envelope["error"].clone()).unwrap_or_else(|_| {
            error(
                ErrorCode::InternalError,
                "the run's result is unreadable",
                None,
            )
        }),
    )
}

fn random_id() -> Result<String, ToolError> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(format!("run_{}", hex::encode(bytes)))
}

fn internal(e: anyhow::Error) -> ToolError {
    crate::errors::internal_error(e, "record the run")
}
