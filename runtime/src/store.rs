//! The embedded store: SQLite in `EXECUTOR_HOME/executor.db`.
//!
//! WAL mode with `synchronous = FULL`: a committed source survives a crash
//! of the process or the machine, and readers (an offline `executor
//! generate`) never block the service. Every change is one transaction.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use generator::Diagnostic;
use generator::ir::{Catalog, Integration, Tool};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// Schema changes, applied in order; `PRAGMA user_version` counts the
/// applied ones. Never edit a released step: add one.
const MIGRATIONS: &[&str] = &[
    // 1: sources and their indexed tools; room for what comes next.
    "CREATE TABLE sources (
        namespace   TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        origin      TEXT NOT NULL,
        document    TEXT NOT NULL,
        options     TEXT NOT NULL,
        integration TEXT NOT NULL,
        tools       TEXT NOT NULL,
        diagnostics TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE connections (
        integration TEXT NOT NULL,
        owner       TEXT NOT NULL,
        name        TEXT NOT NULL,
        auth        TEXT NOT NULL,
        secrets     TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (integration, owner, name)
    ) STRICT;
    CREATE TABLE policies (
        id         TEXT PRIMARY KEY,
        position   INTEGER NOT NULL,
        pattern    TEXT NOT NULL,
        action     TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE executions (
        id         TEXT PRIMARY KEY,
        tool_path  TEXT NOT NULL,
        input      TEXT NOT NULL,
        state      TEXT NOT NULL,
        result     TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER
    ) STRICT;",
];

/// Where a source came from and how to call it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceOptions {
    /// The base URL every call goes to (overrides the spec's servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Static headers sent on every upstream call, each value sealed with
    /// the home's secret key (never stored in clear).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sealed_headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lenient: bool,
    /// For MCP sources: how to reach the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<McpOptions>,
}

/// How to reach an upstream MCP server; `sealed_headers` above carries its
/// HTTP headers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct McpOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Environment of the child process, each value sealed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sealed_env: BTreeMap<String, String>,
}

/// One stored source with its indexed tools.
#[derive(Debug, Clone)]
pub struct SourceRecord {
    pub namespace: String,
    pub kind: String,
    /// A URL, an absolute file path, or `inline`.
    pub origin: String,
    pub document: String,
    pub options: SourceOptions,
    pub integration: Integration,
    pub tools: Vec<Tool>,
    pub diagnostics: Vec<Diagnostic>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        let conn =
            Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Store { conn };
        store
            .migrate()
            .with_context(|| format!("cannot upgrade {}", path.display()))?;
        Ok(store)
    }

    /// Opens an existing database for reading only (`executor generate`
    /// beside a running service).
    pub fn open_read_only(path: &Path) -> anyhow::Result<Store> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let version = version as usize;
        anyhow::ensure!(
            version <= MIGRATIONS.len(),
            "{} was written by a newer executor (schema {version}); upgrade executor",
            path.display()
        );
        anyhow::ensure!(version > 0, "{} holds no catalog yet", path.display());
        Ok(Store { conn })
    }

    fn migrate(&mut self) -> anyhow::Result<()> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let version = version as usize;
        anyhow::ensure!(
            version <= MIGRATIONS.len(),
            "the database was written by a newer executor (schema {version}); upgrade executor"
        );
        for (i, step) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(step)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn sources(&self) -> anyhow::Result<Vec<SourceRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT namespace, kind, origin, document, options, integration, tools, diagnostics, created_at, updated_at
             FROM sources ORDER BY namespace",
        )?;
        let rows = stmt.query_map([], row_to_raw)?;
        rows.map(|r| r.map_err(anyhow::Error::from).and_then(RawSource::decode))
            .collect()
    }

    pub fn source(&self, namespace: &str) -> anyhow::Result<Option<SourceRecord>> {
        let raw = self
            .conn
            .query_row(
                "SELECT namespace, kind, origin, document, options, integration, tools, diagnostics, created_at, updated_at
                 FROM sources WHERE namespace = ?1",
                [namespace],
                row_to_raw,
            )
            .optional()?;
        raw.map(RawSource::decode).transpose()
    }

    /// Inserts or replaces a source, keeping its creation time.
    pub fn put_source(&mut self, record: &SourceRecord) -> anyhow::Result<()> {
        let now = now();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO sources (namespace, kind, origin, document, options, integration, tools, diagnostics, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
             ON CONFLICT(namespace) DO UPDATE SET
               kind = excluded.kind, origin = excluded.origin, document = excluded.document,
               options = excluded.options, integration = excluded.integration, tools = excluded.tools,
               diagnostics = excluded.diagnostics, updated_at = excluded.updated_at",
            params![
                record.namespace,
                record.kind,
                record.origin,
                record.document,
                serde_json::to_string(&record.options)?,
                serde_json::to_string(&record.integration)?,
                serde_json::to_string(&record.tools)?,
                serde_json::to_string(&record.diagnostics)?,
                now,
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Removes a source; `false` when there was none.
    pub fn remove_source(&mut self, namespace: &str) -> anyhow::Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM sources WHERE namespace = ?1", [namespace])?
            > 0)
    }

    /// The catalog of every stored source.
    pub fn catalog(&self) -> anyhow::Result<Catalog> {
        let mut catalog = Catalog::default();
        for source in self.sources()? {
            catalog.insert(source.integration, source.tools);
        }
        Ok(catalog)
    }
}

struct RawSource {
    namespace: String,
    kind: String,
    origin: String,
    document: String,
    options: String,
    integration: String,
    tools: String,
    diagnostics: String,
    created_at: i64,
    updated_at: i64,
}

fn row_to_raw(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawSource> {
    Ok(RawSource {
        namespace: row.get(0)?,
        kind: row.get(1)?,
        origin: row.get(2)?,
        document: row.get(3)?,
        options: row.get(4)?,
        integration: row.get(5)?,
        tools: row.get(6)?,
        diagnostics: row.get(7)?,
        created_at: row.get(8)?,
        updated_at: row.get(9)?,
    })
}

impl RawSource {
    fn decode(self) -> anyhow::Result<SourceRecord> {
        let context = || format!("the stored source {:?} is unreadable", self.namespace);
        Ok(SourceRecord {
            options: serde_json::from_str(&self.options).with_context(context)?,
            integration: serde_json::from_str(&self.integration).with_context(context)?,
            tools: serde_json::from_str(&self.tools).with_context(context)?,
            diagnostics: serde_json::from_str(&self.diagnostics).with_context(context)?,
            namespace: self.namespace,
            kind: self.kind,
            origin: self.origin,
            document: self.document,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
