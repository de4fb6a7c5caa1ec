//! The audit log: one record per call, whatever door it came by (REST, the
//! CLI, MCP, code mode, generated clients): who (the client, or the owner),
//! which tool, the decision (allowed, paused, blocked, refused, and later
//! approved or declined by whom), the outcome (`ok` or the error code), how
//! long it took and how large its answer was. Never an input, an output or
//! a secret: only their size.
//!
//! Records are kept in memory and written in batches (every quarter of a
//! second, or at 256), so a call never waits for the disk; a crash may lose
//! the last quarter second of records, never a call. Records older than
//! `EXECUTOR_AUDIT_DAYS` (30) are deleted as new ones are written.

use std::sync::Mutex;
use std::time::Duration;

use generator::envelope::{ErrorCode, ToolError};
use serde_json::Value;

use crate::caller::Caller;
use crate::shared::Shared;
use crate::store::{AuditFilter, AuditRecord};

/// Records waiting to be written beyond this many are written at once.
const BATCH: usize = 256;
/// How often waiting records are written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);

#[derive(Default)]
pub struct Audit {
    pending: Mutex<Vec<AuditRecord>>,
    /// Woken when a batch is full.
    pub full: tokio::sync::Notify,
    writes: std::sync::atomic::AtomicU64,
}

/// How many days records are kept (`EXECUTOR_AUDIT_DAYS`, default 30).
pub fn retention_days() -> i64 {
    crate::home::setting("EXECUTOR_AUDIT_DAYS", 30).max(1) as i64
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The decision and outcome an invocation's result stands for.
pub fn outcome_of<T>(ran: bool, result: &Result<T, ToolError>) -> (&'static str, String) {
    match result {
        Ok(_) => ("allowed", "ok".to_owned()),
        Err(e) => {
            let decision = match e.code {
                ErrorCode::ExecutionPaused => "paused",
                ErrorCode::ToolBlocked => "blocked",
                _ if ran => "allowed",
                _ => "refused",
            };
            (decision, code_name(e.code))
        }
    }
}

fn code_name(code: ErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The size of a JSON value as sent, counted without keeping the text.
pub fn size(value: &Value) -> u64 {
    generator::ir::json_len(value) as u64
}

impl Audit {
    /// Records one call from its result: `ran` says whether it got past
    /// the policy; `bytes`, its answer's size.
    pub fn record_call<T>(
        &self,
        caller: &Caller,
        tool: &str,
        ran: bool,
        result: &Result<T, ToolError>,
        started: std::time::Instant,
        bytes: u64,
    ) {
        let (decision, outcome) = outcome_of(ran, result);
        let execution = result.as_ref().err().and_then(|e| e.execution_id.clone());
        self.record(
            caller,
            tool,
            decision,
            outcome,
            started.elapsed(),
            bytes,
            execution,
        );
    }

    /// Records one call.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        caller: &Caller,
        tool: &str,
        decision: &str,
        outcome: String,
        duration: Duration,
        bytes: u64,
        execution: Option<String>,
    ) {
        let record = AuditRecord {
            id: 0,
            at: now_ms(),
            client: caller.client.clone(),
            caller: caller.record(),
            via: caller.via.to_owned(),
            tool: tool.chars().take(300).collect(),
            decision: decision.to_owned(),
            outcome,
            duration_ms: duration.as_secs_f64() * 1000.0,
            bytes,
            execution,
        };
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.push(record);
        if pending.len() >= BATCH {
            self.full.notify_one();
        }
    }

    /// Writes the waiting records in one transaction; now and then deletes
    /// those past retention.
    pub fn flush(&self, shared: &Shared) {
        let batch = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if batch.is_empty() {
            return;
        }
        let mut store = shared.store();
        if let Err(e) = store.append_audit(&batch) {
            tracing::error!(error = %format!("{e:#}"), records = batch.len(), "the audit log could not be written");
        }
        let writes = self
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if writes.is_multiple_of(64) {
            let before = now_ms() - retention_days() * 24 * 60 * 60 * 1000;
            if let Err(e) = store.prune_audit(before) {
                tracing::warn!(error = %format!("{e:#}"), "old audit records could not be deleted");
            }
        }
    }

    /// The records matching `filter`, newest first (waiting ones written first).
    pub fn query(&self, shared: &Shared, filter: &AuditFilter) -> anyhow::Result<Vec<AuditRecord>> {
        self.flush(shared);
        shared.store().audit(filter)
    }
}

/// `2026-11-29 14:03:07` from milliseconds since the epoch (civil from
/// days, Howard Hinnant's algorithm: no date crate for one column).
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00");
        assert_eq!(super::utc(1_795_960_826_000), "2026-11-29 14:00:26");
        assert_eq!(super::utc(951_782_400_000), "2000-02-29 00:00:00");
    }
}
