//! The host side of a run, on its sandbox thread: what `tools.<path>()`,
//! `Date.now()` and `Math.random()` do, recorded, and replayed first when
//! a run goes on after an approval.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use generator::envelope::{ErrorCode, ToolError};
use serde_json::{Value, json};

use super::sandbox::Host;
use super::{Record, describe, search};
use crate::caller::Caller;
use crate::errors::error;
use crate::execution::envelope;
use crate::invoke;
use crate::state::AppState;

/// The host side of a run, on its sandbox thread: tool calls go to the
/// async runtime and wait there; recorded steps are replayed first.
pub(super) struct RunHost {
    pub(super) state: Arc<AppState>,
    pub(super) caller: Caller,
    pub(super) handle: tokio::runtime::Handle,
    pub(super) replay: VecDeque<Record>,
    pub(super) recorded: Vec<Record>,
    pub(super) calls: usize,
    pub(super) max_calls: usize,
    pub(super) deadline: Instant,
    /// The pause that stopped the run.
    pub(super) paused: Option<ToolError>,
    /// The limit that stopped the run.
    pub(super) limit: Option<ToolError>,
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
        let integration = options["integration"].as_str();
        search(&self.state, &self.caller, query, integration, limit).to_string()
    }

    fn describe(&mut self, path: &str) -> String {
        let envelope = envelope(&describe(&self.state, &self.caller, path));
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
