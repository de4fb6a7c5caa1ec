//! MCP sessions with a bound: rmcp's in-memory session manager keeps every
//! session until it idles out (five minutes), so a client that opens
//! sessions in a loop grows the service without limit (20k `initialize`
//! calls took it to 3 GB). This wraps it and, past [`max_sessions`], closes
//! the least recently used session. A closed session's client gets 404 on
//! its next request and, as MCP says, starts a new one.
//!
//! With `EXECUTOR_REPLICA=<name>` every session id starts with `<name>-`,
//! so that a load balancer in front of several replicas sends a session's
//! requests to the replica that holds it (`deploy/nginx.conf` routes on the
//! prefix of `Mcp-Session-Id`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use futures::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::{
    ServerSseMessage, SessionId, SessionManager,
};

/// 256 live sessions per MCP view, or `EXECUTOR_MAX_MCP_SESSIONS`.
pub fn max_sessions() -> usize {
    crate::home::setting("EXECUTOR_MAX_MCP_SESSIONS", 256) as usize
}

pub struct CappedSessions {
    inner: LocalSessionManager,
    max: usize,
    /// `<replica>-`, or empty.
    prefix: String,
    /// When each live session was last used.
    used: Mutex<HashMap<SessionId, Instant>>,
}

impl CappedSessions {
    pub fn new(max: usize) -> CappedSessions {
        CappedSessions {
            inner: LocalSessionManager::default(),
            max,
            prefix: replica().map(|r| format!("{r}-")).unwrap_or_default(),
            used: Mutex::default(),
        }
    }

    fn touch(&self, id: &SessionId) {
        if let Some(at) = self
            .used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(id)
        {
            *at = Instant::now();
        }
    }

    /// Whether this manager holds the session `id`.
    pub fn holds(&self, id: &str) -> bool {
        self.used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .any(|session| session.as_ref() == id)
    }

    /// Live sessions, for tests and status.
    pub fn len(&self) -> usize {
        self.used.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `EXECUTOR_REPLICA`: this replica's name among several (letters, digits
/// and `_`, at most 32), which starts its MCP session ids.
pub fn replica() -> Option<String> {
    let name = std::env::var("EXECUTOR_REPLICA").ok()?;
    let valid = !name.is_empty()
        && name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        tracing::warn!(
            "EXECUTOR_REPLICA={name:?} is not a replica name (letters, digits and _): ignored"
        );
    }
    valid.then_some(name)
}

impl SessionManager for CappedSessions {
    type Error = <LocalSessionManager as SessionManager>::Error;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let (id, transport) = if self.prefix.is_empty() {
            self.inner.create_session().await?
        } else {
            // rmcp's own `create_session`, with the replica's name in front
            // of a random id.
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("no randomness: {e}"));
            let id = SessionId::from(format!("{}{}", self.prefix, hex::encode(bytes)));
            let (handle, worker) =
                rmcp::transport::streamable_http_server::session::local::create_local_session(
                    id.clone(),
                    self.inner.session_config.clone(),
                );
            self.inner.sessions.write().await.insert(id.clone(), handle);
            (id, rmcp::transport::WorkerTransport::spawn(worker))
        };
        let evicted = {
            let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
            // Sessions that ended by themselves (idle timeout, DELETE) are
            // gone from the inner manager; forget them first.
            let live = self
                .inner
                .sessions
                .try_read()
                .ok()
                .map(|s| s.keys().cloned().collect::<std::collections::HashSet<_>>());
            if let Some(live) = live {
                used.retain(|id, _| live.contains(id));
            }
            used.insert(id.clone(), Instant::now());
            let mut evicted = Vec::new();
            while used.len() > self.max {
                let Some(oldest) = used
                    .iter()
                    .filter(|(other, _)| **other != id)
                    .min_by_key(|(_, at)| **at)
                    .map(|(other, _)| other.clone())
                else {
                    break;
                };
                used.remove(&oldest);
                evicted.push(oldest);
            }
            evicted
        };
        for oldest in evicted {
            tracing::info!(session = %oldest, "closed the least recently used MCP session (too many open)");
            let _ = self.inner.close_session(&oldest).await;
        }
        Ok((id, transport))
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        self.touch(id);
        self.inner.initialize_session(id, message).await
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        self.inner.has_session(id).await
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        self.inner.close_session(id).await
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id);
        self.inner.create_stream(id, message).await
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.touch(id);
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id);
        self.inner.create_standalone_stream(id).await
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id);
        self.inner.resume(id, last_event_id).await
    }
}
