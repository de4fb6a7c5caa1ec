//! Storage behind one interface: [`Store`] is what the core asks of it
//! (sources and their catalogs, connections, policies, executions, OAuth
//! tokens); [`SqliteStore`] (`sqlite.rs`) is the embedded implementation,
//! [`PostgresStore`] (`postgres.rs`) the shared one for several replicas.
//! [`open`] picks one: PostgreSQL when a database URL is given, else
//! SQLite.

use std::time::{SystemTime, UNIX_EPOCH};

use generator::ir::{Catalog, SchemaText};

mod audit;
mod clients;
mod postgres;
mod records;
mod sqlite;

pub use records::*;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// The store for a home: PostgreSQL at `database_url` when there is one
/// (`EXECUTOR_DATABASE_URL`), else SQLite at `sqlite_path`. Either is
/// brought up to date first.
pub fn open(
    database_url: Option<&str>,
    sqlite_path: &std::path::Path,
) -> anyhow::Result<Box<dyn Store>> {
    Ok(match database_url {
        Some(url) => Box::new(PostgresStore::open(url)?),
        None => Box::new(SqliteStore::open(sqlite_path)?),
    })
}

/// The store for reading only, beside a running service (`executor
/// generate`): it must exist and be set up already.
pub fn open_existing(
    database_url: Option<&str>,
    sqlite_path: &std::path::Path,
) -> anyhow::Result<Box<dyn Store>> {
    Ok(match database_url {
        Some(url) => Box::new(PostgresStore::open_existing(url)?),
        None => {
            anyhow::ensure!(
                sqlite_path.exists(),
                "there is no catalog in {} yet",
                sqlite_path.parent().unwrap_or(sqlite_path).display()
            );
            Box::new(SqliteStore::open_read_only(sqlite_path)?)
        }
    })
}

/// `len` random bytes as hex, for ids.
fn random_hex(len: usize) -> anyhow::Result<String> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(hex::encode(bytes))
}

/// The policy ids in their new order: `moved` (an id and its wanted
/// 1-based position) taken out and put back there.
fn reordered(mut ids: Vec<String>, moved: Option<(&str, usize)>) -> Vec<String> {
    if let Some((id, position)) = moved {
        ids.retain(|i| i != id);
        let at = (position - 1).min(ids.len());
        ids.insert(at, id.to_owned());
    }
    ids
}

/// A connection key (`<integration>.<owner>.<name>`) in its parts.
fn split_key(key: &str) -> anyhow::Result<(&str, &str, &str)> {
    let mut parts = key.splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(i), Some(o), Some(n)) => Ok((i, o, n)),
        _ => anyhow::bail!("{key:?} is not a connection key"),
    }
}

/// What the core needs from storage: sources, policy rules, executions and
/// connections, each change one transaction. `SqliteStore` is the embedded
/// implementation; a second backend (PostgreSQL) is another `impl Store`.
pub trait Store: Send {
    /// Every source, in namespace order. Documents are left out (empty)
    /// but for GraphQL sources, whose schema checks callers' selections:
    /// the live catalog never needs an OpenAPI document again after it was
    /// indexed, and reading them all (GitHub's is 13 MB) on every reload
    /// cost memory and time. [`Store::source`] gives one source whole.
    fn sources(&self) -> anyhow::Result<Vec<SourceRecord>>;

    /// [`Store::sources`] but one: a reload after storing a source has
    /// that one in hand already, and reading it back (GitHub's is 15 MB of
    /// JSON) was the larger part of the reload.
    fn sources_except(&self, namespace: &str) -> anyhow::Result<Vec<SourceRecord>>;

    fn source(&self, namespace: &str) -> anyhow::Result<Option<SourceRecord>>;

    /// Inserts or replaces a source, keeping its creation time.
    fn put_source(&mut self, record: &SourceRecord) -> anyhow::Result<()>;

    /// Removes a source; `false` when there was none.
    fn remove_source(&mut self, namespace: &str) -> anyhow::Result<bool>;

    /// The policy rules in evaluation order.
    fn policies(&self) -> anyhow::Result<Vec<crate::policy::Rule>>;

    /// Inserts a rule at a 1-based position (the end when `None` or past
    /// it), shifting the rules after it down.
    fn add_policy(
        &mut self,
        pattern: &str,
        action: generator::ir::Policy,
        position: Option<usize>,
    ) -> anyhow::Result<crate::policy::Rule>;

    /// Removes a rule; `false` when there was none.
    fn remove_policy(&mut self, id: &str) -> anyhow::Result<bool>;

    /// Moves a rule to a 1-based position; `false` when there is no such rule.
    fn move_policy(&mut self, id: &str, position: usize) -> anyhow::Result<bool>;

    /// Stores a paused call.
    fn pause(
        &mut self,
        tool_path: &str,
        input: &serde_json::Value,
        caller: &str,
        rule: Option<&str>,
        ttl_seconds: i64,
    ) -> anyhow::Result<Execution>;

    fn execution(&self, id: &str) -> anyhow::Result<Option<Execution>>;

    /// Executions, newest first, optionally in one state.
    fn executions(
        &self,
        state: Option<ExecutionState>,
        limit: usize,
    ) -> anyhow::Result<Vec<Execution>>;

    /// Moves an execution from one state to another, atomically: `false`
    /// when it was not in `from` (someone else got there first).
    fn transition(
        &mut self,
        id: &str,
        from: ExecutionState,
        to: ExecutionState,
        result: Option<&serde_json::Value>,
    ) -> anyhow::Result<bool>;

    /// Inserts or replaces a connection (its secret already sealed).
    fn put_connection(
        &mut self,
        integration: &str,
        owner: &str,
        name: &str,
        auth: &crate::credential::Auth,
        sealed_secret: &str,
    ) -> anyhow::Result<()>;

    /// Every connection, by integration, owner and name.
    fn connections(&self) -> anyhow::Result<Vec<ConnectionRow>>;

    /// Stores a connection's sealed OAuth tokens (`key`: `<integration>.<owner>.<name>`).
    fn set_connection_tokens(&mut self, key: &str, sealed: &str) -> anyhow::Result<()>;

    /// Forgets a connection's OAuth tokens.
    fn clear_connection_tokens(&mut self, key: &str) -> anyhow::Result<()>;

    /// A connection's sealed OAuth tokens, if any.
    fn connection_tokens(&self, key: &str) -> anyhow::Result<Option<String>>;

    /// Removes a connection; `false` when there was none.
    fn remove_connection(
        &mut self,
        integration: &str,
        owner: &str,
        name: &str,
    ) -> anyhow::Result<bool>;

    /// Takes the right to refresh a connection's OAuth tokens until `until`
    /// (seconds since the epoch), unless another process holds it: `false`
    /// then. Replicas on one database refresh a token once between them.
    fn claim_refresh(&mut self, key: &str, until: i64) -> anyhow::Result<bool>;

    /// Gives the right to refresh back.
    fn release_refresh(&mut self, key: &str) -> anyhow::Result<()>;

    /// Stores a web UI login code (its hash), good until `expires_at`
    /// (seconds since the epoch); expired ones go.
    fn put_login_code(&mut self, hash: &str, expires_at: i64) -> anyhow::Result<()>;

    /// Uses a login code up, atomically: `false` when it was used already,
    /// expired or never issued.
    fn redeem_login_code(&mut self, hash: &str) -> anyhow::Result<bool>;

    /// Stores a web UI session (its id's hash) with its CSRF token;
    /// expired ones go.
    fn put_web_session(&mut self, hash: &str, csrf: &str, expires_at: i64) -> anyhow::Result<()>;

    /// A live web UI session's CSRF token.
    fn web_session(&self, hash: &str) -> anyhow::Result<Option<String>>;

    /// Paused calls still waiting for an answer (not yet expired).
    fn open_pauses(&self) -> anyhow::Result<usize>;

    /// Calls claimed by a resume when the service stopped: whether the
    /// upstream saw them is unknown, so they are never run again.
    fn fail_interrupted(&mut self, result: &serde_json::Value) -> anyhow::Result<usize>;

    /// Stores a code-mode run (insert or replace); a run paused on a call
    /// also records that the paused execution belongs to it.
    fn save_run(&mut self, run: &StoredRun) -> anyhow::Result<()>;

    /// The run a paused execution belongs to, if any (also after the run
    /// has moved on or finished).
    fn run_of_execution(&self, execution_id: &str) -> anyhow::Result<Option<StoredRun>>;

    /// Claims a run paused on `pending` for continuing (`paused` →
    /// `running`, atomically): `false` when another resume has it.
    fn claim_run(&mut self, id: &str, pending: &str) -> anyhow::Result<bool>;

    /// The runs in `state` (`running` ones, at a start, were interrupted).
    fn runs_in_state(&self, state: &str) -> anyhow::Result<Vec<StoredRun>>;

    /// The catalog of every stored source.
    fn catalog(&self) -> anyhow::Result<Catalog<SchemaText>>;

    /// Inserts or replaces a client record.
    fn put_client(&mut self, client: &ClientRecord) -> anyhow::Result<()>;

    /// Every client, oldest first.
    fn clients(&self) -> anyhow::Result<Vec<ClientRecord>>;

    /// One client by id.
    fn client(&self, id: &str) -> anyhow::Result<Option<ClientRecord>>;

    /// Marks a client revoked and deletes its tokens, in one transaction:
    /// `false` when there is no such client.
    fn revoke_client(&mut self, id: &str) -> anyhow::Result<bool>;

    /// A revoked client that signs in again starts over: no longer
    /// revoked, but unapproved, with no scope and no approve-all.
    fn reinstate_client(&mut self, id: &str) -> anyhow::Result<()>;

    /// Records when a client was last used.
    fn touch_client(&mut self, id: &str, at: i64) -> anyhow::Result<()>;

    /// Stores a token by its hash.
    fn put_token(&mut self, token: &TokenRecord) -> anyhow::Result<()>;

    /// A token by its hash.
    fn token(&self, hash: &str) -> anyhow::Result<Option<TokenRecord>>;

    /// Marks a refresh token used, atomically: `false` when it was used
    /// already (a replay) or does not exist.
    fn use_token(&mut self, hash: &str, at: i64) -> anyhow::Result<bool>;

    /// Deletes every token of a client (a replayed refresh token ends them all).
    fn drop_tokens(&mut self, client_id: &str) -> anyhow::Result<()>;

    /// Appends audit records, in one transaction.
    fn append_audit(&mut self, records: &[AuditRecord]) -> anyhow::Result<()>;

    /// Audit records matching a filter, newest first.
    fn audit(&self, filter: &AuditFilter) -> anyhow::Result<Vec<AuditRecord>>;

    /// Deletes audit records older than `before` (ms since the epoch).
    fn prune_audit(&mut self, before: i64) -> anyhow::Result<usize>;

    /// Whether the database answers (readiness): a trivial query.
    fn ping(&self) -> anyhow::Result<()>;

    /// Which backend this is: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Calls `changed` (from a thread of its own) whenever another process
    /// changed what the live catalog is built from: sources, policies,
    /// connections. Only a shared store has other writers; SQLite's one
    /// service makes every change itself.
    fn watch(&self, changed: Box<dyn Fn() + Send>) -> anyhow::Result<()> {
        drop(changed);
        Ok(())
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
