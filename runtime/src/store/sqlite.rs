//! The embedded store: SQLite in `EXECUTOR_HOME/executor.db`.
//!
//! WAL mode with `synchronous = FULL`: a committed source survives a crash
//! of the process or the machine, and readers (an offline `executor
//! generate`) never block the service. Every change is one transaction.
//!
//! Why this file is over 500 lines: every SQL statement against the schema
//! sits here, next to the migrations that define it, so a change of the
//! schema and the queries it touches are read and reviewed together.

use std::path::Path;

use anyhow::Context;
use generator::ir::Catalog;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::{ConnectionRow, Execution, ExecutionState, SourceRecord, Store, StoredRun, now};

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
    // 2: who asked for a paused call and which rule paused it; pending
    // executions are listed by state.
    "ALTER TABLE executions ADD COLUMN caller TEXT NOT NULL DEFAULT 'api';
    ALTER TABLE executions ADD COLUMN rule TEXT;
    CREATE INDEX executions_by_state ON executions (state, created_at);
    CREATE UNIQUE INDEX policies_by_position ON policies (position);",
    // 3: a connection's OAuth tokens, sealed.
    "ALTER TABLE connections ADD COLUMN tokens TEXT;",
    // 4: code-mode runs paused on a call (their recorded calls, to replay),
    // and which paused execution belongs to which run.
    "CREATE TABLE runs (
        id          TEXT PRIMARY KEY,
        state       TEXT NOT NULL,
        pending     TEXT,
        body        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE run_pauses (
        execution_id TEXT PRIMARY KEY,
        run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE
    ) STRICT;",
    // 5: clients (OAuth-registered MCP clients and minted tokens) and their
    // tokens, stored hashed.
    "CREATE TABLE clients (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        kind          TEXT NOT NULL,
        redirect_uris TEXT NOT NULL,
        scope         TEXT NOT NULL,
        approve_all   INTEGER NOT NULL,
        approved      INTEGER NOT NULL,
        created_at    INTEGER NOT NULL,
        last_used_at  INTEGER,
        revoked_at    INTEGER
    ) STRICT;
    CREATE TABLE client_tokens (
        hash       TEXT PRIMARY KEY,
        client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        kind       TEXT NOT NULL,
        resource   TEXT,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX client_tokens_by_client ON client_tokens (client_id);",
    // 6: the audit log.
    "CREATE TABLE audit (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        at          INTEGER NOT NULL,
        client      TEXT,
        caller      TEXT NOT NULL,
        via         TEXT NOT NULL,
        tool        TEXT NOT NULL,
        decision    TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        duration_ms REAL NOT NULL,
        bytes       INTEGER NOT NULL,
        execution   TEXT
    ) STRICT;
    CREATE INDEX audit_by_at ON audit (at);",
    // 7: who refreshes a connection's OAuth tokens, until when.
    "ALTER TABLE connections ADD COLUMN refreshing_until INTEGER;",
    // 8: the web UI's login codes and sessions, by their hashes.
    "CREATE TABLE web_logins (
        hash       TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE web_sessions (
        hash       TEXT PRIMARY KEY,
        csrf       TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    ) STRICT;",
];

pub struct SqliteStore {
    conn: Connection,
}

impl SqliteStore {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> anyhow::Result<SqliteStore> {
        let conn =
            Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = SqliteStore { conn };
        store
            .migrate()
            .with_context(|| format!("cannot upgrade {}", path.display()))?;
        Ok(store)
    }

    /// Opens an existing database for reading only (`executor generate`
    /// beside a running service).
    pub fn open_read_only(path: &Path) -> anyhow::Result<SqliteStore> {
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
        Ok(SqliteStore { conn })
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
}

impl Store for SqliteStore {
    fn sources(&self) -> anyhow::Result<Vec<SourceRecord>> {
        // No namespace is empty (`check_namespace`), so this is every one.
        self.sources_except("")
    }

    fn sources_except(&self, namespace: &str) -> anyhow::Result<Vec<SourceRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT namespace, kind, origin, CASE kind WHEN 'graphql' THEN document ELSE '' END,
                    options, integration, tools, diagnostics, created_at, updated_at
             FROM sources WHERE namespace != ?1 ORDER BY namespace",
        )?;
        let rows = stmt.query_map([namespace], row_to_raw)?;
        rows.map(|r| r.map_err(anyhow::Error::from).and_then(RawSource::decode))
            .collect()
    }

    fn source(&self, namespace: &str) -> anyhow::Result<Option<SourceRecord>> {
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

    fn put_source(&mut self, record: &SourceRecord) -> anyhow::Result<()> {
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
                record.kind().as_str(),
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

    fn remove_source(&mut self, namespace: &str) -> anyhow::Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM sources WHERE namespace = ?1", [namespace])?
            > 0)
    }

    fn policies(&self) -> anyhow::Result<Vec<crate::policy::Rule>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, pattern, action, position FROM policies ORDER BY position")?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?;
        let mut rules = Vec::new();
        for (i, row) in rows.enumerate() {
            let (id, pattern, action, _) = row?;
            let action = crate::policy::parse_action(&action)
                .with_context(|| format!("policy {id} has an unknown action {action:?}"))?;
            rules.push(crate::policy::Rule {
                id,
                pattern,
                action,
                position: i + 1,
            });
        }
        Ok(rules)
    }

    fn add_policy(
        &mut self,
        pattern: &str,
        action: generator::ir::Policy,
        position: Option<usize>,
    ) -> anyhow::Result<crate::policy::Rule> {
        let id = format!("pol_{}", super::random_hex(6)?);
        let tx = self.conn.transaction()?;
        let count: i64 = tx.query_row("SELECT COUNT(*) FROM policies", [], |r| r.get(0))?;
        let position = position.map_or(count as usize + 1, |p| p.clamp(1, count as usize + 1));
        // Inserted past the end, then moved into place with the others
        // renumbered around it.
        tx.execute(
            "INSERT INTO policies (id, position, pattern, action, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, i64::MAX, pattern, crate::policy::action_name(action), now()],
        )?;
        renumber(&tx, Some((&id, position)))?;
        tx.commit()?;
        Ok(crate::policy::Rule {
            id,
            pattern: pattern.to_owned(),
            action,
            position,
        })
    }

    fn remove_policy(&mut self, id: &str) -> anyhow::Result<bool> {
        let tx = self.conn.transaction()?;
        let removed = tx.execute("DELETE FROM policies WHERE id = ?1", [id])? > 0;
        renumber(&tx, None)?;
        tx.commit()?;
        Ok(removed)
    }

    fn move_policy(&mut self, id: &str, position: usize) -> anyhow::Result<bool> {
        let tx = self.conn.transaction()?;
        let exists: bool = tx
            .query_row("SELECT 1 FROM policies WHERE id = ?1", [id], |_| Ok(true))
            .optional()?
            .unwrap_or(false);
        if exists {
            renumber(&tx, Some((id, position.max(1))))?;
        }
        tx.commit()?;
        Ok(exists)
    }

    fn pause(
        &mut self,
        tool_path: &str,
        input: &serde_json::Value,
        caller: &str,
        rule: Option<&str>,
        ttl_seconds: i64,
    ) -> anyhow::Result<Execution> {
        let execution = Execution::paused(
            format!("exec_{}", super::random_hex(10)?),
            tool_path,
            input,
            caller,
            rule,
            ttl_seconds,
        );
        let now = execution.created_at;
        self.conn.execute(
            "INSERT INTO executions (id, tool_path, input, state, result, created_at, updated_at, expires_at, caller, rule)
             VALUES (?1, ?2, ?3, 'paused', NULL, ?4, ?4, ?5, ?6, ?7)",
            params![
                execution.id,
                execution.tool_path,
                serde_json::to_string(input)?,
                now,
                execution.expires_at,
                caller,
                rule
            ],
        )?;
        Ok(execution)
    }

    fn execution(&self, id: &str) -> anyhow::Result<Option<Execution>> {
        self.conn
            .query_row(
                &format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE id = ?1"),
                [id],
                row_to_execution,
            )
            .optional()?
            .transpose()
    }

    fn executions(
        &self,
        state: Option<ExecutionState>,
        limit: usize,
    ) -> anyhow::Result<Vec<Execution>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions
             WHERE ?1 IS NULL OR state = ?1 ORDER BY created_at DESC, id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(
            params![state.map(ExecutionState::as_str), limit as i64],
            row_to_execution,
        )?;
        rows.map(|r| r.map_err(anyhow::Error::from).and_then(|r| r))
            .collect()
    }

    fn transition(
        &mut self,
        id: &str,
        from: ExecutionState,
        to: ExecutionState,
        result: Option<&serde_json::Value>,
    ) -> anyhow::Result<bool> {
        let result = result.map(serde_json::to_string).transpose()?;
        Ok(self.conn.execute(
            "UPDATE executions SET state = ?3, result = COALESCE(?4, result), updated_at = ?5
             WHERE id = ?1 AND state = ?2",
            params![id, from.as_str(), to.as_str(), result, now()],
        )? > 0)
    }

    fn put_connection(
        &mut self,
        integration: &str,
        owner: &str,
        name: &str,
        auth: &crate::credential::Auth,
        sealed_secret: &str,
    ) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO connections (integration, owner, name, auth, secrets, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(integration, owner, name) DO UPDATE SET auth = excluded.auth, secrets = excluded.secrets, tokens = NULL",
            params![integration, owner, name, serde_json::to_string(auth)?, sealed_secret, now()],
        )?;
        Ok(())
    }

    fn connections(&self) -> anyhow::Result<Vec<ConnectionRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT integration, owner, name, auth, secrets, created_at FROM connections
             ORDER BY integration, owner, name",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (integration, owner, name, auth, sealed_secret, created_at) = row?;
            let context =
                || format!("the stored connection {integration}/{owner}/{name} is unreadable");
            out.push(ConnectionRow {
                owner: match owner.as_str() {
                    "user" => generator::ir::Owner::User,
                    _ => generator::ir::Owner::Org,
                },
                auth: serde_json::from_str(&auth).with_context(context)?,
                integration,
                name,
                sealed_secret,
                created_at,
            });
        }
        Ok(out)
    }

    fn set_connection_tokens(&mut self, key: &str, sealed: &str) -> anyhow::Result<()> {
        let (integration, owner, name) = super::split_key(key)?;
        self.conn.execute(
            "UPDATE connections SET tokens = ?4 WHERE integration = ?1 AND owner = ?2 AND name = ?3",
            params![integration, owner, name, sealed],
        )?;
        Ok(())
    }

    fn clear_connection_tokens(&mut self, key: &str) -> anyhow::Result<()> {
        let (integration, owner, name) = super::split_key(key)?;
        self.conn.execute(
            "UPDATE connections SET tokens = NULL WHERE integration = ?1 AND owner = ?2 AND name = ?3",
            params![integration, owner, name],
        )?;
        Ok(())
    }

    fn connection_tokens(&self, key: &str) -> anyhow::Result<Option<String>> {
        let (integration, owner, name) = super::split_key(key)?;
        Ok(self
            .conn
            .query_row(
                "SELECT tokens FROM connections WHERE integration = ?1 AND owner = ?2 AND name = ?3",
                params![integration, owner, name],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    fn remove_connection(
        &mut self,
        integration: &str,
        owner: &str,
        name: &str,
    ) -> anyhow::Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM connections WHERE integration = ?1 AND owner = ?2 AND name = ?3",
            params![integration, owner, name],
        )? > 0)
    }

    fn claim_refresh(&mut self, key: &str, until: i64) -> anyhow::Result<bool> {
        let (integration, owner, name) = super::split_key(key)?;
        Ok(self.conn.execute(
            "UPDATE connections SET refreshing_until = ?4
             WHERE integration = ?1 AND owner = ?2 AND name = ?3
               AND (refreshing_until IS NULL OR refreshing_until < ?5)",
            params![integration, owner, name, until, now()],
        )? == 1)
    }

    fn release_refresh(&mut self, key: &str) -> anyhow::Result<()> {
        let (integration, owner, name) = super::split_key(key)?;
        self.conn.execute(
            "UPDATE connections SET refreshing_until = NULL
             WHERE integration = ?1 AND owner = ?2 AND name = ?3",
            params![integration, owner, name],
        )?;
        Ok(())
    }

    fn put_login_code(&mut self, hash: &str, expires_at: i64) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM web_logins WHERE expires_at <= ?1", [now()])?;
        tx.execute(
            "INSERT INTO web_logins (hash, expires_at) VALUES (?1, ?2)",
            params![hash, expires_at],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn redeem_login_code(&mut self, hash: &str) -> anyhow::Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM web_logins WHERE hash = ?1 AND expires_at > ?2",
            params![hash, now()],
        )? == 1)
    }

    fn put_web_session(&mut self, hash: &str, csrf: &str, expires_at: i64) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM web_sessions WHERE expires_at <= ?1", [now()])?;
        tx.execute(
            "INSERT INTO web_sessions (hash, csrf, expires_at) VALUES (?1, ?2, ?3)",
            params![hash, csrf, expires_at],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn web_session(&self, hash: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT csrf FROM web_sessions WHERE hash = ?1 AND expires_at > ?2",
                params![hash, now()],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn open_pauses(&self) -> anyhow::Result<usize> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM executions WHERE state = 'paused' AND expires_at > ?1",
            params![now()],
            |row| row.get(0),
        )?;
        Ok(n as usize)
    }

    fn fail_interrupted(&mut self, result: &serde_json::Value) -> anyhow::Result<usize> {
        Ok(self.conn.execute(
            "UPDATE executions SET state = 'failed', result = ?1, updated_at = ?2 WHERE state = 'approved'",
            params![serde_json::to_string(result)?, now()],
        )?)
    }

    fn save_run(&mut self, run: &StoredRun) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        let now = now();
        tx.execute(
            "INSERT INTO runs (id, state, pending, body, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)
             ON CONFLICT (id) DO UPDATE SET state = ?2, pending = ?3, body = ?4, updated_at = ?5",
            params![run.id, run.state, run.pending, run.body, now],
        )?;
        if let Some(pending) = &run.pending {
            tx.execute(
                "INSERT OR IGNORE INTO run_pauses (execution_id, run_id) VALUES (?1, ?2)",
                params![pending, run.id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn run_of_execution(&self, execution_id: &str) -> anyhow::Result<Option<StoredRun>> {
        Ok(self
            .conn
            .query_row(
                "SELECT r.id, r.state, r.pending, r.body FROM run_pauses p JOIN runs r ON r.id = p.run_id
                 WHERE p.execution_id = ?1",
                params![execution_id],
                |row| {
                    Ok(StoredRun {
                        id: row.get(0)?,
                        state: row.get(1)?,
                        pending: row.get(2)?,
                        body: row.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    fn claim_run(&mut self, id: &str, pending: &str) -> anyhow::Result<bool> {
        Ok(self.conn.execute(
            "UPDATE runs SET state = 'running', updated_at = ?3
             WHERE id = ?1 AND state = 'paused' AND pending = ?2",
            params![id, pending, now()],
        )? == 1)
    }

    fn runs_in_state(&self, state: &str) -> anyhow::Result<Vec<StoredRun>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, state, pending, body FROM runs WHERE state = ?1 ORDER BY id")?;
        let runs = stmt
            .query_map(params![state], |row| {
                Ok(StoredRun {
                    id: row.get(0)?,
                    state: row.get(1)?,
                    pending: row.get(2)?,
                    body: row.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(runs)
    }

    fn put_client(&mut self, client: &super::ClientRecord) -> anyhow::Result<()> {
        super::clients::put_client(&self.conn, client)
    }

    fn clients(&self) -> anyhow::Result<Vec<super::ClientRecord>> {
        super::clients::clients(&self.conn, None)
    }

    fn client(&self, id: &str) -> anyhow::Result<Option<super::ClientRecord>> {
        Ok(super::clients::clients(&self.conn, Some(id))?.pop())
    }

    fn revoke_client(&mut self, id: &str) -> anyhow::Result<bool> {
        super::clients::revoke_client(&mut self.conn, id)
    }

    fn reinstate_client(&mut self, id: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE clients SET revoked_at = NULL, approved = 0, scope = '[]', approve_all = 0
             WHERE id = ?1",
            [id],
        )?;
        Ok(())
    }

    fn touch_client(&mut self, id: &str, at: i64) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE clients SET last_used_at = ?2 WHERE id = ?1",
            params![id, at],
        )?;
        Ok(())
    }

    fn put_token(&mut self, token: &super::TokenRecord) -> anyhow::Result<()> {
        super::clients::put_token(&self.conn, token)
    }

    fn token(&self, hash: &str) -> anyhow::Result<Option<super::TokenRecord>> {
        super::clients::token(&self.conn, hash)
    }

    fn use_token(&mut self, hash: &str, at: i64) -> anyhow::Result<bool> {
        Ok(self.conn.execute(
            "UPDATE client_tokens SET used_at = ?2 WHERE hash = ?1 AND used_at IS NULL",
            params![hash, at],
        )? == 1)
    }

    fn drop_tokens(&mut self, client_id: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "DELETE FROM client_tokens WHERE client_id = ?1",
            [client_id],
        )?;
        Ok(())
    }

    fn append_audit(&mut self, records: &[super::AuditRecord]) -> anyhow::Result<()> {
        super::audit::append(&mut self.conn, records)
    }

    fn audit(&self, filter: &super::AuditFilter) -> anyhow::Result<Vec<super::AuditRecord>> {
        super::audit::read(&self.conn, filter)
    }

    fn prune_audit(&mut self, before: i64) -> anyhow::Result<usize> {
        Ok(self
            .conn
            .execute("DELETE FROM audit WHERE at < ?1", [before])?)
    }

    fn ping(&self) -> anyhow::Result<()> {
        self.conn.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn catalog(&self) -> anyhow::Result<Catalog<generator::ir::SchemaText>> {
        let mut catalog = Catalog::default();
        for source in self.sources()? {
            catalog.insert(source.integration, source.tools);
        }
        Ok(catalog)
    }
}

const EXECUTION_COLUMNS: &str =
    "id, tool_path, input, state, result, caller, rule, created_at, updated_at, expires_at";

fn row_to_execution(row: &rusqlite::Row<'_>) -> rusqlite::Result<anyhow::Result<Execution>> {
    let id: String = row.get(0)?;
    let input: String = row.get(2)?;
    let state: String = row.get(3)?;
    let result: Option<String> = row.get(4)?;
    let decode = || -> anyhow::Result<Execution> {
        let context = || format!("the stored execution {id} is unreadable");
        Ok(Execution {
            id: id.clone(),
            tool_path: row.get(1)?,
            input: serde_json::from_str(&input).with_context(context)?,
            state: ExecutionState::parse(&state)
                .with_context(|| format!("execution {id} has an unknown state {state:?}"))?,
            result: result
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .with_context(context)?,
            caller: row.get(5)?,
            rule: row.get(6)?,
            created_at: row.get(7)?,
            updated_at: row.get(8)?,
            expires_at: row.get::<_, Option<i64>>(9)?.unwrap_or(i64::MAX),
        })
    };
    Ok(decode())
}

/// Gives the rules positions 1..n in their current order, placing `moved`
/// (a rule id and its wanted position) where asked.
fn renumber(tx: &rusqlite::Transaction<'_>, moved: Option<(&str, usize)>) -> anyhow::Result<()> {
    let ids: Vec<String> = {
        let mut stmt = tx.prepare("SELECT id FROM policies ORDER BY position")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    let ids = super::reordered(ids, moved);
    // Two passes so the unique index never sees a duplicate position.
    for (i, id) in ids.iter().enumerate() {
        tx.execute(
            "UPDATE policies SET position = ?2 WHERE id = ?1",
            params![id, -(i as i64) - 1],
        )?;
    }
    tx.execute("UPDATE policies SET position = -position", [])?;
    Ok(())
}

/// A stored row; its `kind` column is kept for people reading the
/// database (the record's kind is its integration's).
struct RawSource {
    namespace: String,
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
            origin: self.origin,
            document: self.document,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}
