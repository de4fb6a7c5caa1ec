//! The failures every room returns: `ToolError`s built one way, and
//! executor's own failures logged and reported without internals.

use generator::envelope::{ErrorCode, ToolError};
use serde_json::Value;

/// executor's own failure: the cause goes to the log, the caller hears what
/// failed (`doing`: "store the connection").
pub fn internal_error(cause: anyhow::Error, doing: &str) -> ToolError {
    if disk_full(&cause) {
        tracing::error!("cannot {doing}: the disk is full ({cause:#})");
        return error(
            ErrorCode::StorageFull,
            format!(
                "executor could not {doing}: the disk holding its database (EXECUTOR_HOME) is full, so nothing was changed. Reads still work; free some space and try again"
            ),
            None,
        );
    }
    tracing::error!("{cause:#}");
    error(
        ErrorCode::InternalError,
        format!("executor failed to {doing}; see its log"),
        None,
    )
}

/// Whether an error comes from a full disk: SQLite's `SQLITE_FULL`, or an
/// I/O error whose cause is `ENOSPC` (or a quota).
pub fn disk_full(cause: &anyhow::Error) -> bool {
    cause.chain().any(|e| {
        if let Some(rusqlite::Error::SqliteFailure(failure, _)) =
            e.downcast_ref::<rusqlite::Error>()
        {
            return failure.code == rusqlite::ErrorCode::DiskFull;
        }
        e.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            )
        })
    })
}

pub fn error(code: ErrorCode, message: impl Into<String>, details: Option<Value>) -> ToolError {
    ToolError {
        code,
        message: message.into(),
        execution_id: None,
        resume_path: None,
        approval_url: None,
        status: None,
        details,
    }
}
