//! The shared store: PostgreSQL, for several executor replicas on one
//! database (`EXECUTOR_DATABASE_URL=postgres://...`).
//!
//! The same tables as SQLite's (`sqlite.rs`), in PostgreSQL's types, and
//! the same statements where SQL allows. Every change is one transaction;
//! what must happen once across replicas (a pause answered, a run resumed,
//! a refresh token used) is a single conditional `UPDATE`, which
//! PostgreSQL's row locks make exactly-once whichever replica runs it.
//!
//! [`Store`] is synchronous (SQLite is), and its callers hold it under a
//! mutex, sometimes on the async runtime's threads. The `postgres` crate's
//! blocking client drives its own runtime and may not be called from
//! inside another one, so the connection lives on a thread of its own and
//! each call sends it a job and waits for the answer, as a SQLite call
//! waits for the disk. A dropped connection is opened again on the next
//! call.
//!
//! Why this file is over 500 lines: like `sqlite.rs`, every statement
//! against the schema sits next to the migrations that define it.

use std::sync::mpsc;

use anyhow::Context;
use generator::ir::Catalog;
use postgres::{Client, NoTls, Row, Transaction};

use super::{
    AuditFilter, AuditRecord, ClientRecord, ConnectionRow, Execution, ExecutionState, SourceRecord,
    Store, StoredRun, TokenRecord, now,
};

/// Schema changes, applied in order under an advisory lock (replicas that
/// start together take turns); `executor_schema.version` counts the applied
/// ones. Never edit a released step: add one.
const MIGRATIONS: &[&str] = &[
    // 1: everything SQLite's first six steps made.
    "CREATE TABLE sources (
        namespace   TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        origin      TEXT NOT NULL,
        document    TEXT NOT NULL,
        options     TEXT NOT NULL,
        integration TEXT NOT NULL,
        tools       TEXT NOT NULL,
        diagnostics TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        updated_at  BIGINT NOT NULL
    );
    CREATE TABLE connections (
        integration TEXT NOT NULL,
        owner       TEXT NOT NULL,
        name        TEXT NOT NULL,
        auth        TEXT NOT NULL,
        secrets     TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        tokens      TEXT,
        PRIMARY KEY (integration, owner, name)
    );
    CREATE TABLE policies (
        id         TEXT PRIMARY KEY,
        position   BIGINT NOT NULL UNIQUE,
        pattern    TEXT NOT NULL,
        action     TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE TABLE executions (
        id         TEXT PRIMARY KEY,
        tool_path  TEXT NOT NULL,
        input      TEXT NOT NULL,
        state      TEXT NOT NULL,
        result     TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        expires_at BIGINT,
        caller     TEXT NOT NULL DEFAULT 'api',
        rule       TEXT
    );
    CREATE INDEX executions_by_state ON executions (state, created_at);
    CREATE TABLE runs (
        id          TEXT PRIMARY KEY,
        state       TEXT NOT NULL,
        pending     TEXT,
        body        TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        updated_at  BIGINT NOT NULL
    );
    CREATE TABLE run_pauses (
        execution_id TEXT PRIMARY KEY,
        run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE
    );
    CREATE TABLE clients (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        kind          TEXT NOT NULL,
        redirect_uris TEXT NOT NULL,
        scope         TEXT NOT NULL,
        approve_all   BOOLEAN NOT NULL,
        approved      BOOLEAN NOT NULL,
        created_at    BIGINT NOT NULL,
        last_used_at  BIGINT,
        revoked_at    BIGINT
    );
    CREATE TABLE client_tokens (
        hash       TEXT PRIMARY KEY,
        client_id  TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
        kind       TEXT NOT NULL,
        resource   TEXT,
        expires_at BIGINT NOT NULL,
        used_at    BIGINT,
        created_at BIGINT NOT NULL
    );
    CREATE INDEX client_tokens_by_client ON client_tokens (client_id);
    CREATE TABLE audit (
        id          BIGSERIAL PRIMARY KEY,
        at          BIGINT NOT NULL,
        client      TEXT,
        caller      TEXT NOT NULL,
        via         TEXT NOT NULL,
        tool        TEXT NOT NULL,
        decision    TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        duration_ms DOUBLE PRECISION NOT NULL,
        bytes       BIGINT NOT NULL,
        execution   TEXT
    );
    CREATE INDEX audit_by_at ON audit (at);",
    // 2: who refreshes a connection's OAuth tokens, until when.
    "ALTER TABLE connections ADD COLUMN refreshing_until BIGINT;",
    // 3: the web UI's login codes and sessions, by their hashes: a browser
    // signed in through one replica is signed in on all.
    "CREATE TABLE web_logins (
        hash       TEXT PRIMARY KEY,
        expires_at BIGINT NOT NULL
    );
    CREATE TABLE web_sessions (
        hash       TEXT PRIMARY KEY,
        csrf       TEXT NOT NULL,
        expires_at BIGINT NOT NULL
    );",
];

/// The advisory lock migrations take (any number, the same on every replica).
const MIGRATION_LOCK: i64 = 0x6578_6563_7574_6f72; // "executor"

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// A connection that opens itself again after it was lost.
struct Connection {
    url: String,
    client: Client,
}

impl Connection {
    fn client(&mut self) -> anyhow::Result<&mut Client> {
        if self.client.is_closed() {
            self.client = connect(&self.url)?;
        }
        Ok(&mut self.client)
    }
}

pub struct PostgresStore {
    jobs: mpsc::Sender<Job>,
    url: String,
    /// This store's own name in change notifications, so that it does not
    /// reload for its own changes.
    origin: String,
}

/// The channel replicas announce changes on (`NOTIFY`, `LISTEN`).
const CHANGES: &str = "executor_changes";

/// Tells the other replicas that the live catalog's inputs changed; sent
/// when the transaction it is part of commits.
fn announce(client: &mut impl postgres::GenericClient, origin: &str) -> anyhow::Result<()> {
    client.execute("SELECT pg_notify($1, $2)", &[&CHANGES, &origin])?;
    Ok(())
}

impl PostgresStore {
    /// Connects and brings the schema up to date.
    pub fn open(url: &str) -> anyhow::Result<PostgresStore> {
        let store = PostgresStore::connect(url)?;
        store.run(|c| migrate(c.client()?))?;
        Ok(store)
    }

    /// Connects to a database whose schema is up to date already (an
    /// offline `executor generate`): refuses one no executor has set up.
    pub fn open_existing(url: &str) -> anyhow::Result<PostgresStore> {
        let store = PostgresStore::connect(url)?;
        let version = store.run(|c| schema_version(c.client()?))?;
        anyhow::ensure!(
            version <= MIGRATIONS.len(),
            "the database was written by a newer executor (schema {version}); upgrade executor"
        );
        anyhow::ensure!(
            version > 0,
            "the database holds no catalog yet: run `executor migrate` or start the service"
        );
        Ok(store)
    }

    /// The schema version after migrating, for `executor migrate`.
    pub fn version(&self) -> anyhow::Result<usize> {
        self.run(|c| schema_version(c.client()?))
    }

    fn connect(url: &str) -> anyhow::Result<PostgresStore> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready, started) = mpsc::channel::<anyhow::Result<()>>();
        let own_url = url.to_owned();
        std::thread::Builder::new()
            .name("executor-postgres".into())
            .spawn(move || {
                let mut connection = match connect(&own_url) {
                    Ok(client) => Connection {
                        url: own_url,
                        client,
                    },
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                while let Ok(job) = inbox.recv() {
                    job(&mut connection);
                }
            })
            .context("cannot start the PostgreSQL connection's thread")?;
        started
            .recv()
            .context("the PostgreSQL connection's thread ended")??;
        Ok(PostgresStore {
            jobs,
            origin: format!("{}-{}", std::process::id(), super::random_hex(8)?),
            url: url.to_owned(),
        })
    }

    /// Runs `f` on the connection's thread and waits for its answer.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let (answer, answered) = mpsc::sync_channel(1);
        self.jobs
            .send(Box::new(move |c| {
                let _ = answer.send(f(c));
            }))
            .map_err(|_| anyhow::anyhow!("the PostgreSQL connection's thread ended"))?;
        answered
            .recv()
            .map_err(|_| anyhow::anyhow!("the PostgreSQL connection's thread ended"))?
    }

    /// Runs `f` in one transaction.
    fn transaction<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        self.run(|c| {
            let mut tx = c.client()?.transaction()?;
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(out)
        })
    }
}

fn connect(url: &str) -> anyhow::Result<Client> {
    // Where the password would be in the URL, it is not repeated.
    let shown = url.split('@').next_back().unwrap_or(url);
    let mut config: postgres::Config = url
        .parse()
        .with_context(|| format!("EXECUTOR_DATABASE_URL is not a PostgreSQL URL ({shown})"))?;
    // A database that does not answer is an error, not a hang.
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(5));
    }
    config.connect(NoTls).with_context(|| {
        format!(
            "cannot connect to PostgreSQL at {shown} (EXECUTOR_DATABASE_URL; TLS to the \
             database is not supported yet: reach it over loopback or a private network)"
        )
    })
}

fn schema_version(client: &mut Client) -> anyhow::Result<usize> {
    let exists: bool = client
        .query_one("SELECT to_regclass('executor_schema') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let version: i64 = client
        .query_one("SELECT COALESCE(MAX(version), 0) FROM executor_schema", &[])?
        .get(0);
    Ok(version as usize)
}

fn migrate(client: &mut Client) -> anyhow::Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS executor_schema (version BIGINT NOT NULL)")?;
    let version: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM executor_schema", &[])?
        .get(0);
    let version = version as usize;
    anyhow::ensure!(
        version <= MIGRATIONS.len(),
        "the database was written by a newer executor (schema {version}); upgrade executor"
    );
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.batch_execute(step)
            .with_context(|| format!("schema step {} failed", i + 1))?;
        tx.execute(
            "INSERT INTO executor_schema (version) VALUES ($1)",
            &[&((i + 1) as i64)],
        )?;
    }
    tx.commit()?;
    Ok(())
}

const SOURCE_COLUMNS: &str =
    "namespace, origin, options, integration, tools, diagnostics, created_at, updated_at";

fn row_to_source(row: &Row, document: String) -> anyhow::Result<SourceRecord> {
    let namespace: String = row.get(0);
    let context = || format!("the stored source {namespace:?} is unreadable");
    Ok(SourceRecord {
        origin: row.get(1),
        options: serde_json::from_str(row.get(2)).with_context(context)?,
        integration: serde_json::from_str(row.get(3)).with_context(context)?,
        tools: serde_json::from_str(row.get(4)).with_context(context)?,
        diagnostics: serde_json::from_str(row.get(5)).with_context(context)?,
        created_at: row.get(6),
        updated_at: row.get(7),
        document,
        namespace,
    })
}

const EXECUTION_COLUMNS: &str =
    "id, tool_path, input, state, result, caller, rule, created_at, updated_at, expires_at";

fn row_to_execution(row: &Row) -> anyhow::Result<Execution> {
    let id: String = row.get(0);
    let context = || format!("the stored execution {id} is unreadable");
    let state: String = row.get(3);
    let result: Option<String> = row.get(4);
    Ok(Execution {
        tool_path: row.get(1),
        input: serde_json::from_str(row.get(2)).with_context(context)?,
        state: ExecutionState::parse(&state)
            .with_context(|| format!("execution {id} has an unknown state {state:?}"))?,
        result: result
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .with_context(context)?,
        caller: row.get(5),
        rule: row.get(6),
        created_at: row.get(7),
        updated_at: row.get(8),
        expires_at: row.get::<_, Option<i64>>(9).unwrap_or(i64::MAX),
        id,
    })
}

fn row_to_run(row: &Row) -> StoredRun {
    StoredRun {
        id: row.get(0),
        state: row.get(1),
        pending: row.get(2),
        body: row.get(3),
    }
}

const CLIENT_COLUMNS: &str = "id, name, kind, redirect_uris, scope, approve_all, approved, \
                              created_at, last_used_at, revoked_at";

fn row_to_client(row: &Row) -> anyhow::Result<ClientRecord> {
    Ok(ClientRecord {
        id: row.get(0),
        name: row.get(1),
        kind: row.get(2),
        redirect_uris: serde_json::from_str(row.get(3))?,
        scope: serde_json::from_str(row.get(4))?,
        approve_all: row.get(5),
        approved: row.get(6),
        created_at: row.get(7),
        last_used_at: row.get(8),
        revoked_at: row.get(9),
    })
}

/// Gives the rules positions 1..n in their current order, placing `moved`
/// where asked (as `sqlite.rs` does).
fn renumber(tx: &mut Transaction<'_>, moved: Option<(&str, usize)>) -> anyhow::Result<()> {
    let ids: Vec<String> = tx
        .query("SELECT id FROM policies ORDER BY position", &[])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let ids = super::reordered(ids, moved);
    // Two passes so the unique constraint never sees a duplicate position.
    for (i, id) in ids.iter().enumerate() {
        tx.execute(
            "UPDATE policies SET position = $2 WHERE id = $1",
            &[id, &(-(i as i64) - 1)],
        )?;
    }
    tx.execute("UPDATE policies SET position = -position", &[])?;
    Ok(())
}

/// A connection key's parts, owned (to move to the connection's thread).
fn split_key(key: &str) -> anyhow::Result<(String, String, String)> {
    let (i, o, n) = super::split_key(key)?;
    Ok((i.to_owned(), o.to_owned(), n.to_owned()))
}

impl Store for PostgresStore {
    fn sources(&self) -> anyhow::Result<Vec<SourceRecord>> {
        self.sources_except("")
    }

    fn sources_except(&self, namespace: &str) -> anyhow::Result<Vec<SourceRecord>> {
        let namespace = namespace.to_owned();
        self.run(move |c| {
            let rows = c.client()?.query(
                &format!(
                    "SELECT {SOURCE_COLUMNS}, CASE kind WHEN 'graphql' THEN document ELSE '' END
                     FROM sources WHERE namespace != $1 ORDER BY namespace"
                ),
                &[&namespace],
            )?;
            rows.iter().map(|r| row_to_source(r, r.get(8))).collect()
        })
    }

    fn source(&self, namespace: &str) -> anyhow::Result<Option<SourceRecord>> {
        let namespace = namespace.to_owned();
        self.run(move |c| {
            let row = c.client()?.query_opt(
                &format!("SELECT {SOURCE_COLUMNS}, document FROM sources WHERE namespace = $1"),
                &[&namespace],
            )?;
            row.map(|r| row_to_source(&r, r.get(8))).transpose()
        })
    }

    fn put_source(&mut self, record: &SourceRecord) -> anyhow::Result<()> {
        let values: [String; 8] = [
            record.namespace.clone(),
            record.kind().as_str().to_owned(),
            record.origin.clone(),
            record.document.clone(),
            serde_json::to_string(&record.options)?,
            serde_json::to_string(&record.integration)?,
            serde_json::to_string(&record.tools)?,
            serde_json::to_string(&record.diagnostics)?,
        ];
        let announced = self.origin.clone();
        self.transaction(move |tx| {
            let [namespace, kind, origin, document, options, integration, tools, diagnostics] =
                &values;
            announce(tx, &announced)?;
            tx.execute(
                "INSERT INTO sources (namespace, kind, origin, document, options, integration, tools, diagnostics, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
                 ON CONFLICT (namespace) DO UPDATE SET
                   kind = excluded.kind, origin = excluded.origin, document = excluded.document,
                   options = excluded.options, integration = excluded.integration, tools = excluded.tools,
                   diagnostics = excluded.diagnostics, updated_at = excluded.updated_at",
                &[namespace, kind, origin, document, options, integration, tools, diagnostics, &now()],
            )?;
            Ok(())
        })
    }

    fn remove_source(&mut self, namespace: &str) -> anyhow::Result<bool> {
        let namespace = namespace.to_owned();
        let announced = self.origin.clone();
        self.transaction(move |tx| {
            announce(tx, &announced)?;
            Ok(tx.execute("DELETE FROM sources WHERE namespace = $1", &[&namespace])? > 0)
        })
    }

    fn policies(&self) -> anyhow::Result<Vec<crate::policy::Rule>> {
        self.run(|c| {
            let rows = c.client()?.query(
                "SELECT id, pattern, action FROM policies ORDER BY position",
                &[],
            )?;
            rows.iter()
                .enumerate()
                .map(|(i, row)| {
                    let id: String = row.get(0);
                    let action: String = row.get(2);
                    let action = crate::policy::parse_action(&action)
                        .with_context(|| format!("policy {id} has an unknown action {action:?}"))?;
                    Ok(crate::policy::Rule {
                        id,
                        pattern: row.get(1),
                        action,
                        position: i + 1,
                    })
                })
                .collect()
        })
    }

    fn add_policy(
        &mut self,
        pattern: &str,
        action: generator::ir::Policy,
        position: Option<usize>,
    ) -> anyhow::Result<crate::policy::Rule> {
        let id = format!("pol_{}", super::random_hex(6)?);
        let pattern = pattern.to_owned();
        let announced = self.origin.clone();
        self.transaction(move |tx| {
            // Policies change one at a time across replicas.
            tx.execute("LOCK TABLE policies IN EXCLUSIVE MODE", &[])?;
            announce(tx, &announced)?;
            let count: i64 = tx.query_one("SELECT COUNT(*) FROM policies", &[])?.get(0);
            let position = position.map_or(count as usize + 1, |p| p.clamp(1, count as usize + 1));
            tx.execute(
                "INSERT INTO policies (id, position, pattern, action, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[&id, &i64::MAX, &pattern, &crate::policy::action_name(action), &now()],
            )?;
            renumber(tx, Some((&id, position)))?;
            Ok(crate::policy::Rule {
                id,
                pattern,
                action,
                position,
            })
        })
    }

    fn remove_policy(&mut self, id: &str) -> anyhow::Result<bool> {
        let id = id.to_owned();
        let announced = self.origin.clone();
        self.transaction(move |tx| {
            tx.execute("LOCK TABLE policies IN EXCLUSIVE MODE", &[])?;
            announce(tx, &announced)?;
            let removed = tx.execute("DELETE FROM policies WHERE id = $1", &[&id])? > 0;
            renumber(tx, None)?;
            Ok(removed)
        })
    }

    fn move_policy(&mut self, id: &str, position: usize) -> anyhow::Result<bool> {
        let id = id.to_owned();
        let announced = self.origin.clone();
        self.transaction(move |tx| {
            tx.execute("LOCK TABLE policies IN EXCLUSIVE MODE", &[])?;
            announce(tx, &announced)?;
            let exists = tx
                .query_opt("SELECT 1 FROM policies WHERE id = $1", &[&id])?
                .is_some();
            if exists {
                renumber(tx, Some((&id, position.max(1))))?;
            }
            Ok(exists)
        })
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
        let input = serde_json::to_string(input)?;
        let row = execution.clone();
        self.run(move |c| {
            c.client()?.execute(
                "INSERT INTO executions (id, tool_path, input, state, result, created_at, updated_at, expires_at, caller, rule)
                 VALUES ($1, $2, $3, 'paused', NULL, $4, $4, $5, $6, $7)",
                &[&row.id, &row.tool_path, &input, &now, &row.expires_at, &row.caller, &row.rule],
            )?;
            Ok(())
        })?;
        Ok(execution)
    }

    fn execution(&self, id: &str) -> anyhow::Result<Option<Execution>> {
        let id = id.to_owned();
        self.run(move |c| {
            c.client()?
                .query_opt(
                    &format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE id = $1"),
                    &[&id],
                )?
                .as_ref()
                .map(row_to_execution)
                .transpose()
        })
    }

    fn executions(
        &self,
        state: Option<ExecutionState>,
        limit: usize,
    ) -> anyhow::Result<Vec<Execution>> {
        let state = state.map(|s| s.as_str().to_owned());
        self.run(move |c| {
            c.client()?
                .query(
                    &format!(
                        "SELECT {EXECUTION_COLUMNS} FROM executions
                         WHERE $1::TEXT IS NULL OR state = $1 ORDER BY created_at DESC, id LIMIT $2"
                    ),
                    &[&state, &(limit as i64)],
                )?
                .iter()
                .map(row_to_execution)
                .collect()
        })
    }

    fn transition(
        &mut self,
        id: &str,
        from: ExecutionState,
        to: ExecutionState,
        result: Option<&serde_json::Value>,
    ) -> anyhow::Result<bool> {
        let result = result.map(serde_json::to_string).transpose()?;
        let id = id.to_owned();
        self.run(move |c| {
            Ok(c.client()?.execute(
                "UPDATE executions SET state = $3, result = COALESCE($4, result), updated_at = $5
                 WHERE id = $1 AND state = $2",
                &[&id, &from.as_str(), &to.as_str(), &result, &now()],
            )? > 0)
        })
    }

    fn put_connection(
        &mut self,
        integration: &str,
        owner: &str,
        name: &str,
        auth: &crate::credential::Auth,
        sealed_secret: &str,
    ) -> anyhow::Result<()> {
        let values = [
            integration.to_owned(),
            owner.to_owned(),
            name.to_owned(),
            serde_json::to_string(auth)?,
            sealed_secret.to_owned(),
        ];
        let announced = self.origin.clone();
        self.transaction(move |tx| {
            let [integration, owner, name, auth, secret] = &values;
            announce(tx, &announced)?;
            tx.execute(
                "INSERT INTO connections (integration, owner, name, auth, secrets, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (integration, owner, name) DO UPDATE SET auth = excluded.auth, secrets = excluded.secrets, tokens = NULL",
                &[integration, owner, name, auth, secret, &now()],
            )?;
            Ok(())
        })
    }

    fn connections(&self) -> anyhow::Result<Vec<ConnectionRow>> {
        self.run(|c| {
            let rows = c.client()?.query(
                "SELECT integration, owner, name, auth, secrets, created_at FROM connections
                 ORDER BY integration, owner, name",
                &[],
            )?;
            rows.iter()
                .map(|row| {
                    let integration: String = row.get(0);
                    let owner: String = row.get(1);
                    let name: String = row.get(2);
                    let auth = serde_json::from_str(row.get(3)).with_context(|| {
                        format!("the stored connection {integration}/{owner}/{name} is unreadable")
                    })?;
                    Ok(ConnectionRow {
                        owner: match owner.as_str() {
                            "user" => generator::ir::Owner::User,
                            _ => generator::ir::Owner::Org,
                        },
                        auth,
                        integration,
                        name,
                        sealed_secret: row.get(4),
                        created_at: row.get(5),
                    })
                })
                .collect()
        })
    }

    fn set_connection_tokens(&mut self, key: &str, sealed: &str) -> anyhow::Result<()> {
        let (integration, owner, name) = split_key(key)?;
        let sealed = sealed.to_owned();
        self.run(move |c| {
            c.client()?.execute(
                "UPDATE connections SET tokens = $4 WHERE integration = $1 AND owner = $2 AND name = $3",
                &[&integration, &owner, &name, &sealed],
            )?;
            Ok(())
        })
    }

    fn clear_connection_tokens(&mut self, key: &str) -> anyhow::Result<()> {
        let (integration, owner, name) = split_key(key)?;
        self.run(move |c| {
            c.client()?.execute(
                "UPDATE connections SET tokens = NULL WHERE integration = $1 AND owner = $2 AND name = $3",
                &[&integration, &owner, &name],
            )?;
            Ok(())
        })
    }

    fn connection_tokens(&self, key: &str) -> anyhow::Result<Option<String>> {
        let (integration, owner, name) = split_key(key)?;
        self.run(move |c| {
            Ok(c.client()?
                .query_opt(
                    "SELECT tokens FROM connections WHERE integration = $1 AND owner = $2 AND name = $3",
                    &[&integration, &owner, &name],
                )?
                .and_then(|r| r.get::<_, Option<String>>(0)))
        })
    }

    fn remove_connection(
        &mut self,
        integration: &str,
        owner: &str,
        name: &str,
    ) -> anyhow::Result<bool> {
        let key = [integration.to_owned(), owner.to_owned(), name.to_owned()];
        let announced = self.origin.clone();
        self.transaction(move |tx| {
            let [integration, owner, name] = &key;
            announce(tx, &announced)?;
            Ok(tx.execute(
                "DELETE FROM connections WHERE integration = $1 AND owner = $2 AND name = $3",
                &[integration, owner, name],
            )? > 0)
        })
    }

    fn claim_refresh(&mut self, key: &str, until: i64) -> anyhow::Result<bool> {
        let (integration, owner, name) = split_key(key)?;
        self.run(move |c| {
            // One row, one conditional UPDATE: PostgreSQL's row lock lets one
            // replica through.
            Ok(c.client()?.execute(
                "UPDATE connections SET refreshing_until = $4
                 WHERE integration = $1 AND owner = $2 AND name = $3
                   AND (refreshing_until IS NULL OR refreshing_until < $5)",
                &[&integration, &owner, &name, &until, &now()],
            )? == 1)
        })
    }

    fn release_refresh(&mut self, key: &str) -> anyhow::Result<()> {
        let (integration, owner, name) = split_key(key)?;
        self.run(move |c| {
            c.client()?.execute(
                "UPDATE connections SET refreshing_until = NULL
                 WHERE integration = $1 AND owner = $2 AND name = $3",
                &[&integration, &owner, &name],
            )?;
            Ok(())
        })
    }

    fn put_login_code(&mut self, hash: &str, expires_at: i64) -> anyhow::Result<()> {
        let hash = hash.to_owned();
        self.transaction(move |tx| {
            tx.execute("DELETE FROM web_logins WHERE expires_at <= $1", &[&now()])?;
            tx.execute(
                "INSERT INTO web_logins (hash, expires_at) VALUES ($1, $2)",
                &[&hash, &expires_at],
            )?;
            Ok(())
        })
    }

    fn redeem_login_code(&mut self, hash: &str) -> anyhow::Result<bool> {
        let hash = hash.to_owned();
        self.run(move |c| {
            Ok(c.client()?.execute(
                "DELETE FROM web_logins WHERE hash = $1 AND expires_at > $2",
                &[&hash, &now()],
            )? == 1)
        })
    }

    fn put_web_session(&mut self, hash: &str, csrf: &str, expires_at: i64) -> anyhow::Result<()> {
        let (hash, csrf) = (hash.to_owned(), csrf.to_owned());
        self.transaction(move |tx| {
            tx.execute("DELETE FROM web_sessions WHERE expires_at <= $1", &[&now()])?;
            tx.execute(
                "INSERT INTO web_sessions (hash, csrf, expires_at) VALUES ($1, $2, $3)",
                &[&hash, &csrf, &expires_at],
            )?;
            Ok(())
        })
    }

    fn web_session(&self, hash: &str) -> anyhow::Result<Option<String>> {
        let hash = hash.to_owned();
        self.run(move |c| {
            Ok(c.client()?
                .query_opt(
                    "SELECT csrf FROM web_sessions WHERE hash = $1 AND expires_at > $2",
                    &[&hash, &now()],
                )?
                .map(|r| r.get(0)))
        })
    }

    fn open_pauses(&self) -> anyhow::Result<usize> {
        self.run(|c| {
            let n: i64 = c
                .client()?
                .query_one(
                    "SELECT COUNT(*) FROM executions WHERE state = 'paused' AND expires_at > $1",
                    &[&now()],
                )?
                .get(0);
            Ok(n as usize)
        })
    }

    fn fail_interrupted(&mut self, result: &serde_json::Value) -> anyhow::Result<usize> {
        let result = serde_json::to_string(result)?;
        self.run(move |c| {
            Ok(c.client()?.execute(
                "UPDATE executions SET state = 'failed', result = $1, updated_at = $2 WHERE state = 'approved'",
                &[&result, &now()],
            )? as usize)
        })
    }

    fn save_run(&mut self, run: &StoredRun) -> anyhow::Result<()> {
        let run = run.clone();
        self.transaction(move |tx| {
            tx.execute(
                "INSERT INTO runs (id, state, pending, body, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5)
                 ON CONFLICT (id) DO UPDATE SET state = $2, pending = $3, body = $4, updated_at = $5",
                &[&run.id, &run.state, &run.pending, &run.body, &now()],
            )?;
            if let Some(pending) = &run.pending {
                tx.execute(
                    "INSERT INTO run_pauses (execution_id, run_id) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                    &[pending, &run.id],
                )?;
            }
            Ok(())
        })
    }

    fn run_of_execution(&self, execution_id: &str) -> anyhow::Result<Option<StoredRun>> {
        let execution_id = execution_id.to_owned();
        self.run(move |c| {
            Ok(c.client()?
                .query_opt(
                    "SELECT r.id, r.state, r.pending, r.body FROM run_pauses p JOIN runs r ON r.id = p.run_id
                     WHERE p.execution_id = $1",
                    &[&execution_id],
                )?
                .as_ref()
                .map(row_to_run))
        })
    }

    fn claim_run(&mut self, id: &str, pending: &str) -> anyhow::Result<bool> {
        let (id, pending) = (id.to_owned(), pending.to_owned());
        self.run(move |c| {
            Ok(c.client()?.execute(
                "UPDATE runs SET state = 'running', updated_at = $3
                 WHERE id = $1 AND state = 'paused' AND pending = $2",
                &[&id, &pending, &now()],
            )? == 1)
        })
    }

    fn runs_in_state(&self, state: &str) -> anyhow::Result<Vec<StoredRun>> {
        let state = state.to_owned();
        self.run(move |c| {
            Ok(c.client()?
                .query(
                    "SELECT id, state, pending, body FROM runs WHERE state = $1 ORDER BY id",
                    &[&state],
                )?
                .iter()
                .map(row_to_run)
                .collect())
        })
    }

    fn catalog(&self) -> anyhow::Result<Catalog<generator::ir::SchemaText>> {
        let mut catalog = Catalog::default();
        for source in self.sources()? {
            catalog.insert(source.integration, source.tools);
        }
        Ok(catalog)
    }

    fn put_client(&mut self, client: &ClientRecord) -> anyhow::Result<()> {
        let client = client.clone();
        let redirects = serde_json::to_string(&client.redirect_uris)?;
        let scope = serde_json::to_string(&client.scope)?;
        self.run(move |c| {
            c.client()?.execute(
                "INSERT INTO clients (id, name, kind, redirect_uris, scope, approve_all, approved,
                                      created_at, last_used_at, revoked_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, redirect_uris = excluded.redirect_uris,
                     scope = excluded.scope, approve_all = excluded.approve_all, approved = excluded.approved",
                &[
                    &client.id,
                    &client.name,
                    &client.kind,
                    &redirects,
                    &scope,
                    &client.approve_all,
                    &client.approved,
                    &client.created_at,
                    &client.last_used_at,
                    &client.revoked_at,
                ],
            )?;
            Ok(())
        })
    }

    fn clients(&self) -> anyhow::Result<Vec<ClientRecord>> {
        self.run(|c| {
            c.client()?
                .query(
                    &format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY created_at, id"),
                    &[],
                )?
                .iter()
                .map(row_to_client)
                .collect()
        })
    }

    fn client(&self, id: &str) -> anyhow::Result<Option<ClientRecord>> {
        let id = id.to_owned();
        self.run(move |c| {
            c.client()?
                .query_opt(
                    &format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1"),
                    &[&id],
                )?
                .as_ref()
                .map(row_to_client)
                .transpose()
        })
    }

    fn revoke_client(&mut self, id: &str) -> anyhow::Result<bool> {
        let id = id.to_owned();
        self.transaction(move |tx| {
            let found = tx.execute(
                "UPDATE clients SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
                &[&id, &now()],
            )? > 0;
            tx.execute("DELETE FROM client_tokens WHERE client_id = $1", &[&id])?;
            Ok(found)
        })
    }

    fn reinstate_client(&mut self, id: &str) -> anyhow::Result<()> {
        let id = id.to_owned();
        self.run(move |c| {
            c.client()?.execute(
                "UPDATE clients SET revoked_at = NULL, approved = FALSE, scope = '[]', approve_all = FALSE
                 WHERE id = $1",
                &[&id],
            )?;
            Ok(())
        })
    }

    fn touch_client(&mut self, id: &str, at: i64) -> anyhow::Result<()> {
        let id = id.to_owned();
        self.run(move |c| {
            c.client()?.execute(
                "UPDATE clients SET last_used_at = $2 WHERE id = $1",
                &[&id, &at],
            )?;
            Ok(())
        })
    }

    fn put_token(&mut self, token: &TokenRecord) -> anyhow::Result<()> {
        let t = token.clone();
        self.transaction(move |tx| {
            // Expired tokens go as new ones come: the table holds live ones only.
            tx.execute("DELETE FROM client_tokens WHERE expires_at < $1", &[&now()])?;
            tx.execute(
                "INSERT INTO client_tokens (hash, client_id, kind, resource, expires_at, used_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&t.hash, &t.client_id, &t.kind, &t.resource, &t.expires_at, &t.used_at, &t.created_at],
            )?;
            Ok(())
        })
    }

    fn token(&self, hash: &str) -> anyhow::Result<Option<TokenRecord>> {
        let hash = hash.to_owned();
        self.run(move |c| {
            Ok(c.client()?
                .query_opt(
                    "SELECT hash, client_id, kind, resource, expires_at, used_at, created_at
                     FROM client_tokens WHERE hash = $1",
                    &[&hash],
                )?
                .map(|r| TokenRecord {
                    hash: r.get(0),
                    client_id: r.get(1),
                    kind: r.get(2),
                    resource: r.get(3),
                    expires_at: r.get(4),
                    used_at: r.get(5),
                    created_at: r.get(6),
                }))
        })
    }

    fn use_token(&mut self, hash: &str, at: i64) -> anyhow::Result<bool> {
        let hash = hash.to_owned();
        self.run(move |c| {
            Ok(c.client()?.execute(
                "UPDATE client_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL",
                &[&hash, &at],
            )? == 1)
        })
    }

    fn drop_tokens(&mut self, client_id: &str) -> anyhow::Result<()> {
        let client_id = client_id.to_owned();
        self.run(move |c| {
            c.client()?.execute(
                "DELETE FROM client_tokens WHERE client_id = $1",
                &[&client_id],
            )?;
            Ok(())
        })
    }

    fn append_audit(&mut self, records: &[AuditRecord]) -> anyhow::Result<()> {
        let records = records.to_vec();
        self.transaction(move |tx| {
            let insert = tx.prepare(
                "INSERT INTO audit (at, client, caller, via, tool, decision, outcome, duration_ms, bytes, execution)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )?;
            for r in &records {
                tx.execute(
                    &insert,
                    &[
                        &r.at,
                        &r.client,
                        &r.caller,
                        &r.via,
                        &r.tool,
                        &r.decision,
                        &r.outcome,
                        &r.duration_ms,
                        &(r.bytes as i64),
                        &r.execution,
                    ],
                )?;
            }
            Ok(())
        })
    }

    fn audit(&self, filter: &AuditFilter) -> anyhow::Result<Vec<AuditRecord>> {
        let tool_like = filter.tool.as_deref().map(super::audit::tool_like);
        let filter = filter.clone();
        self.run(move |c| {
            let rows = c.client()?.query(
                "SELECT id, at, client, caller, via, tool, decision, outcome, duration_ms, bytes, execution
                 FROM audit
                 WHERE ($1::TEXT IS NULL OR client = $1 OR caller = 'mcp:' || $1)
                   AND ($2::TEXT IS NULL OR tool LIKE $2 ESCAPE '\\')
                   AND ($3::BIGINT IS NULL OR at >= $3)
                 ORDER BY id DESC LIMIT $4",
                &[&filter.client, &tool_like, &filter.since, &(filter.limit as i64)],
            )?;
            Ok(rows
                .iter()
                .map(|r| AuditRecord {
                    id: r.get(0),
                    at: r.get(1),
                    client: r.get(2),
                    caller: r.get(3),
                    via: r.get(4),
                    tool: r.get(5),
                    decision: r.get(6),
                    outcome: r.get(7),
                    duration_ms: r.get(8),
                    bytes: r.get::<_, i64>(9) as u64,
                    execution: r.get(10),
                })
                .collect())
        })
    }

    fn prune_audit(&mut self, before: i64) -> anyhow::Result<usize> {
        self.run(move |c| {
            Ok(c.client()?
                .execute("DELETE FROM audit WHERE at < $1", &[&before])? as usize)
        })
    }

    fn ping(&self) -> anyhow::Result<()> {
        self.run(|c| {
            c.client()?.simple_query("SELECT 1")?;
            Ok(())
        })
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn watch(&self, changed: Box<dyn Fn() + Send>) -> anyhow::Result<()> {
        let (url, origin) = (self.url.clone(), self.origin.clone());
        // A connection of its own that only listens. When it is lost,
        // whatever was announced meanwhile is unknown: it reconnects and
        // reports a change, so the catalog is read again.
        std::thread::Builder::new()
            .name("executor-postgres-listen".into())
            .spawn(move || {
                let mut first = true;
                loop {
                    match listen(&url, &origin, &*changed, !first) {
                        Ok(()) => {}
                        Err(e) => tracing::warn!("listening for other replicas' changes: {e:#}"),
                    }
                    first = false;
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            })
            .context("cannot start the PostgreSQL listener's thread")?;
        Ok(())
    }
}

/// Listens until the connection ends, calling `changed` for every change
/// another store announced (and once at the start after a reconnect).
fn listen(url: &str, origin: &str, changed: &dyn Fn(), missed: bool) -> anyhow::Result<()> {
    let mut client = connect(url)?;
    client.batch_execute(&format!("LISTEN {CHANGES}"))?;
    if missed {
        changed();
    }
    let mut notifications = client.notifications();
    let mut iter = notifications.blocking_iter();
    while let Some(notification) = postgres::fallible_iterator::FallibleIterator::next(&mut iter)? {
        if notification.payload() != origin {
            changed();
        }
    }
    Ok(())
}
