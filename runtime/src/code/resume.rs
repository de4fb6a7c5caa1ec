//! A run going on after the call it paused on was answered: claimed
//! (`paused` → `running`, atomically, so two resumes never both go on),
//! replayed with the answer in place of the pause, and stored where it
//! ends; a resume that loses the claim waits for, then returns, the
//! winner's outcome.

use std::sync::Arc;
use std::time::Duration;

use generator::envelope::{ErrorCode, ToolError};
use serde_json::Value;

use super::{Record, RunBody, RunOutcome, failed, internal, outcome_of};
use crate::errors::error;
use crate::execution;
use crate::execution::envelope;
use crate::state::AppState;
use crate::store::StoredRun;

/// Continues the run that paused on execution `id`, now answered.
pub(super) async fn go_on(
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
                let claimed = state.store().claim_run(&run.id, id);
                match claimed {
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
                // A client's run goes on as that client, held to its scope
                // as it is now: revoked, its calls are refused.
                let caller = crate::clients::recorded(state, &body.caller);
                tracing::info!(run = %run.id, execution = id, "code-mode run goes on after an approval");
                return super::run(state, run.id.clone(), body, caller).await;
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
