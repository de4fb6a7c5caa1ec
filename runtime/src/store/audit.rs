//! SQLite statements for the audit log (migration 6).

use rusqlite::{Connection, params};

use super::{AuditFilter, AuditRecord};

pub(super) fn append(conn: &mut Connection, records: &[AuditRecord]) -> anyhow::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO audit (at, client, caller, via, tool, decision, outcome, duration_ms, bytes, execution)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for r in records {
            insert.execute(params![
                r.at,
                r.client,
                r.caller,
                r.via,
                r.tool,
                r.decision,
                r.outcome,
                r.duration_ms,
                r.bytes as i64,
                r.execution
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

pub(super) fn read(conn: &Connection, filter: &AuditFilter) -> anyhow::Result<Vec<AuditRecord>> {
    let tool_like = filter.tool.as_deref().map(tool_like);
    let mut statement = conn.prepare(
        "SELECT id, at, client, caller, via, tool, decision, outcome, duration_ms, bytes, execution
         FROM audit
         WHERE (?1 IS NULL OR client = ?1 OR caller = 'mcp:' || ?1)
           AND (?2 IS NULL OR tool LIKE ?2 ESCAPE '\\')
           AND (?3 IS NULL OR at >= ?3)
         ORDER BY id DESC LIMIT ?4",
    )?;
    let rows = statement.query_map(
        params![filter.client, tool_like, filter.since, filter.limit as i64],
        |r| {
            Ok(AuditRecord {
                id: r.get(0)?,
                at: r.get(1)?,
                client: r.get(2)?,
                caller: r.get(3)?,
                via: r.get(4)?,
                tool: r.get(5)?,
                decision: r.get(6)?,
                outcome: r.get(7)?,
                duration_ms: r.get(8)?,
                bytes: r.get::<_, i64>(9)? as u64,
                execution: r.get(10)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A tool filter as a `LIKE` pattern (with `ESCAPE '\\'`): one ending in
/// `.` is a prefix; `%` and `_` in it are literal.
pub(super) fn tool_like(tool: &str) -> String {
    let escaped = tool
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    if tool.ends_with('.') {
        format!("{escaped}%")
    } else {
        escaped
    }
}
