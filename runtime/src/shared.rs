//! What every room of the core shares: the store, the live catalog, the
//! secrets, the outbound clients and the service's own address. Rooms that
//! keep state of their own (OAuth, upstream sessions and sign-ins, calls in
//! flight) hold it themselves and are handed `&Shared`; [`crate::state`]
//! puts them together.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use generator::ir::Catalog;

use crate::catalog::{Live, SourceRuntime, with_builtins};
use crate::credential::{env_place, header_place};
use crate::home::{Home, SecretBox};
use crate::policy::Rules;
use crate::store::Store;

pub struct Shared {
    pub home: Home,
    pub token: String,
    /// Opens `/mcp` only: what MCP clients (agents) hold.
    pub mcp_token: String,
    pub addr: SocketAddr,
    /// `Host` values that name this service.
    pub hosts: Vec<String>,
    /// For every outbound request: redirects stay on their origin (see
    /// [`crate::outbound`]).
    pub http: reqwest::Client,
    /// For header-less `GET`s of public documents only: follows redirects
    /// to other origins.
    pub http_anywhere: reqwest::Client,
    pub secrets: SecretBox,
    pub shutdown: tokio::sync::Notify,
    /// Ends open MCP streams when the service stops.
    pub cancel: tokio_util::sync::CancellationToken,
    /// Bumped after every reload of the live catalog: surfaces that push
    /// changes (MCP's `tools/list_changed`) watch it.
    pub catalog_changes: tokio::sync::watch::Sender<u64>,
    /// The storage backend (SQLite, embedded; or PostgreSQL, shared).
    store: Mutex<Box<dyn Store>>,
    live: RwLock<Arc<Live>>,
    /// Held by a reload from reading the store to swapping the catalog in,
    /// so that reloads take turns: a slower one never swaps in a catalog
    /// older than a faster one's (two adds at once each kept only its own
    /// source until the next reload).
    reloading: Mutex<()>,
    /// Seconds an unanswered pause waits before it expires.
    pub approval_ttl: i64,
}

impl Shared {
    pub fn new(home: Home, addr: SocketAddr) -> anyhow::Result<Shared> {
        home.ensure()?;
        let token = home.token()?;
        let mcp_token = home.mcp_token()?;
        let secrets = home.secret_box()?;
        let store = crate::store::open(home.database_url.as_deref(), &home.database())?;
        let approval_ttl = crate::home::approval_ttl()?;
        let http = crate::outbound::client();
        crate::outbound::set_own_listener(addr);
        let port = addr.port();
        let mut hosts = vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ];
        if !hosts.contains(&addr.to_string()) {
            hosts.push(addr.to_string());
        }
        // Behind a load balancer: the names clients address it by
        // (`Host` as they send it), each one allowed like the loopback ones.
        for name in crate::home::allowed_hosts() {
            if !hosts.contains(&name) {
                hosts.push(name);
            }
        }
        Ok(Shared {
            home,
            token,
            mcp_token,
            addr,
            hosts,
            http,
            http_anywhere: crate::outbound::anywhere_client(),
            secrets,
            shutdown: tokio::sync::Notify::new(),
            cancel: tokio_util::sync::CancellationToken::new(),
            catalog_changes: tokio::sync::watch::Sender::new(0),
            store: Mutex::new(store),
            live: RwLock::new(Arc::new(Live::new(
                Catalog::default(),
                HashMap::new(),
                Rules::default(),
            ))),
            reloading: Mutex::new(()),
            approval_ttl,
        })
    }

    pub fn store(&self) -> MutexGuard<'_, Box<dyn Store>> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn live(&self) -> Arc<Live> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Rebuilds the live catalog from the store and swaps it in.
    pub fn reload(&self) -> anyhow::Result<()> {
        let _turn = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        self.rebuild(None)
    }

    /// Stores a source (one transaction) and swaps in the catalog with it:
    /// the last step of every add, refresh and re-listing. The record is
    /// not read back from the store.
    pub fn store_source(&self, record: crate::store::SourceRecord) -> anyhow::Result<()> {
        let _turn = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let started = std::time::Instant::now();
        self.store().put_source(&record)?;
        let stored = started.elapsed();
        self.rebuild(Some(record))?;
        tracing::debug!(
            stored_ms = stored.as_millis() as u64,
            reloaded_ms = (started.elapsed() - stored).as_millis() as u64,
            "source stored and the catalog reloaded"
        );
        Ok(())
    }

    /// Builds the live catalog from the store (and `fresh`, just stored,
    /// in place of its stored copy) and swaps it in; the caller holds
    /// `reloading`.
    fn rebuild(&self, fresh: Option<crate::store::SourceRecord>) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        let (mut records, rules, connections) = {
            let store = self.store();
            let records = match &fresh {
                Some(fresh) => store.sources_except(&fresh.namespace)?,
                None => store.sources()?,
            };
            (records, store.policies()?, store.connections()?)
        };
        if let Some(fresh) = fresh {
            let at = records.partition_point(|r| r.namespace < fresh.namespace);
            records.insert(at, fresh);
        }
        let mut credentials = HashMap::new();
        let mut subtrees: HashMap<String, Vec<(generator::ir::Owner, String)>> = HashMap::new();
        for row in connections {
            let place = crate::credential::secret_place(&row.integration, row.owner, &row.name);
            // Public OAuth clients and MCP sign-ins store no secret.
            let secret = if row.sealed_secret.is_empty() {
                Vec::new()
            } else {
                self.secrets.open(&row.sealed_secret, &place)?
            };
            credentials.insert(
                format!(
                    "{}.{}.{}",
                    row.integration,
                    crate::credential::owner_name(row.owner),
                    row.name
                ),
                crate::credential::Credential {
                    auth: row.auth,
                    secret: String::from_utf8_lossy(&secret).into_owned(),
                },
            );
            subtrees
                .entry(row.integration)
                .or_default()
                .push((row.owner, row.name));
        }
        let read = started.elapsed();
        let mut catalog = Catalog::default();
        let mut sources = HashMap::new();
        for record in records {
            let mut headers = Vec::new();
            for (name, sealed) in &record.options.sealed_headers {
                let value = self
                    .secrets
                    .open(sealed, &header_place(&record.namespace, name))?;
                headers.push((name.clone(), String::from_utf8_lossy(&value).into_owned()));
            }
            let mcp = match &record.options.mcp {
                Some(options) => {
                    let mut env = std::collections::BTreeMap::new();
                    for (name, sealed) in &options.sealed_env {
                        let value = self
                            .secrets
                            .open(sealed, &env_place(&record.namespace, name))?;
                        env.insert(name.clone(), String::from_utf8_lossy(&value).into_owned());
                    }
                    Some(crate::upstream::McpTarget {
                        url: options.url.clone(),
                        headers: headers.iter().cloned().collect(),
                        command: options.command.clone(),
                        args: options.args.clone(),
                        env,
                        oauth: options
                            .oauth
                            .then(|| crate::upstream::auth::SealedCredentials {
                                home: self.home.clone(),
                                key: crate::upstream::auth::key(&record.namespace),
                            }),
                    })
                }
                None => None,
            };
            sources.insert(
                record.namespace.clone(),
                SourceRuntime {
                    base_url: record.options.base_url.clone(),
                    headers,
                    mcp,
                    graphql: (record.kind() == generator::ir::SourceKind::Graphql)
                        .then(|| Arc::new(crate::catalog::GraphqlSchema::new(record.document))),
                },
            );
            let tools = crate::credential::expand(
                &record.namespace,
                record.tools,
                subtrees
                    .get(&record.namespace)
                    .map_or(&[][..], Vec::as_slice),
            );
            catalog.insert(record.integration, tools);
        }
        let assembled = started.elapsed();
        let mut live = Live::new(catalog, sources, Rules::new(rules));
        tracing::debug!(
            read_ms = read.as_millis() as u64,
            assembled_ms = (assembled - read).as_millis() as u64,
            built_ms = (started.elapsed() - assembled).as_millis() as u64,
            "catalog reloaded"
        );
        live.credentials = credentials;
        live.version = *self.catalog_changes.borrow() + 1;
        let live = Arc::new(live);
        *self.live.write().unwrap_or_else(|e| e.into_inner()) = live.clone();
        // What listings and validation derive from the catalog, made now
        // rather than by the first request that needs it.
        std::thread::Builder::new()
            .name("catalog-prepare".into())
            .spawn(move || {
                live.prepare();
                // What the reload parsed and dropped goes back to the OS
                // now, not whenever the allocator is next called.
                drop(live);
                alloc_shim::release_free_memory();
            })?;
        self.catalog_changes.send_modify(|version| *version += 1);
        Ok(())
    }
}

/// The catalog `executor generate` exports from the store, the same one the
/// service serves (stored sources plus the built-in tools, less the tools
/// a policy blocks).
pub fn stored_catalog(home: &Home) -> anyhow::Result<Catalog> {
    let store = crate::store::open_existing(home.database_url.as_deref(), &home.database())?;
    let rules = Rules::new(store.policies()?);
    // Blocked tools are left out of exports, as they are of listings.
    Ok(
        crate::catalog::visible(with_builtins(store.catalog()?), &rules)
            .0
            .parsed(),
    )
}
