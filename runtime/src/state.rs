//! The runtime's state: what every room shares ([`Shared`]) and the rooms
//! that keep state of their own (OAuth, upstream MCP sessions and sign-ins,
//! calls in flight). The top of the core: `invoke`, `connections` and
//! `sources` take `&AppState`; the surfaces (HTTP API, MCP, web UI, CLI)
//! hold an `Arc<AppState>` and translate their protocol into calls on it,
//! and it knows none of them.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::home::Home;
use crate::oauth::OAuth;
use crate::outbound::InFlight;
pub use crate::shared::{Shared, stored_catalog};
use crate::upstream::McpUpstreams;
use crate::upstream::signin::McpSignIns;

pub struct AppState {
    pub shared: Shared,
    /// What each surface keeps beside the core (web sessions, MCP peers),
    /// by type: the core holds it without knowing it.
    pub surfaces: Surfaces,
    /// Sessions with upstream MCP servers.
    pub upstreams: McpUpstreams,
    /// Calls in flight to each source, bounded.
    pub in_flight: InFlight,
    /// OAuth access tokens and pending sign-ins.
    pub oauth: OAuth,
    /// Sign-ins to MCP servers waiting for the provider's redirect.
    pub mcp_signins: McpSignIns,
    /// executor's own authorization server: consents and codes in flight.
    pub auth_server: crate::clients::AuthServer,
    /// Audit records waiting to be written.
    pub audit: crate::audit::Audit,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl AppState {
    pub fn new(home: Home, addr: SocketAddr) -> anyhow::Result<AppState> {
        let shared = Shared::new(home, addr)?;
        crate::execution::recover(&shared)?;
        shared.reload()?;
        Ok(AppState {
            shared,
            surfaces: Surfaces::default(),
            upstreams: McpUpstreams::default(),
            in_flight: InFlight::from_env(),
            oauth: OAuth::default(),
            mcp_signins: McpSignIns::default(),
            auth_server: crate::clients::AuthServer::default(),
            audit: crate::audit::Audit::default(),
        })
    }
}

/// One value per type, made on first use: where a surface keeps its own
/// state in the core's `AppState` without the core naming its type.
#[derive(Default)]
pub struct Surfaces {
    values: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Surfaces {
    pub fn get_or_insert_with<T: Any + Send + Sync>(&self, make: impl FnOnce() -> T) -> Arc<T> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        let value = values
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(make()))
            .clone();
        value
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("a value is stored under its own type"))
    }
}
