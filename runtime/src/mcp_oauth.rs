//! MCP's authorization for upstream MCP servers, through rmcp's `auth`
//! (protected resource metadata discovery, dynamic client registration,
//! PKCE, refresh): adding a server that answers 401 returns a sign-in URL;
//! the provider sends the browser back to `/oauth/callback`; the tokens are
//! sealed into the source's connection row (`<namespace>.org.main`); the
//! source is then indexed, and every later session (after a restart too)
//! loads them from there.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use generator::envelope::{ErrorCode, ToolError};
use rmcp::transport::auth::{
    AuthError, AuthorizationManager, AuthorizationRequest, CredentialStore, OAuthState,
    StoredCredentials,
};

use crate::errors::error;
use crate::home::Home;
use crate::state::AppState;
use crate::store::Store as _;

/// A source's OAuth tokens, sealed in the store (opened per use: the
/// store's own connection and the home's key).
#[derive(Debug, Clone)]
pub struct SealedCredentials {
    pub home: Home,
    /// The connection key, `<namespace>.org.main`.
    pub key: String,
}

fn store_error(e: impl std::fmt::Display) -> AuthError {
    AuthError::InternalError(format!("executor's credential store: {e}"))
}

impl PartialEq for SealedCredentials {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.home.dir == other.home.dir
    }
}

impl SealedCredentials {
    fn place(&self) -> String {
        format!("mcp-oauth:{}", self.key)
    }
}

#[async_trait::async_trait]
impl CredentialStore for SealedCredentials {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        let store = crate::store::SqliteStore::open(&self.home.database()).map_err(store_error)?;
        let Some(sealed) = store.connection_tokens(&self.key).map_err(store_error)? else {
            return Ok(None);
        };
        let secrets = self.home.secret_box().map_err(store_error)?;
        let text = secrets.open(&sealed, &self.place()).map_err(store_error)?;
        Ok(serde_json::from_slice(&text).ok())
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        let text = serde_json::to_vec(&credentials).map_err(store_error)?;
        let secrets = self.home.secret_box().map_err(store_error)?;
        let sealed = secrets.seal(&text, &self.place()).map_err(store_error)?;
        let mut store =
            crate::store::SqliteStore::open(&self.home.database()).map_err(store_error)?;
        store
            .set_connection_tokens(&self.key, &sealed)
            .map_err(store_error)
    }

    async fn clear(&self) -> Result<(), AuthError> {
        let mut store =
            crate::store::SqliteStore::open(&self.home.database()).map_err(store_error)?;
        store
            .clear_connection_tokens(&self.key)
            .map_err(store_error)
    }
}

/// An authorization manager for a server URL. Metadata discovery refuses
/// private addresses (a server could point it at the local network), except
/// for a server that is itself on one: a person added that address.
pub async fn manager(url: &str) -> Result<AuthorizationManager, AuthError> {
    let private = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|host| {
            host == "localhost"
                || host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| match ip {
                        std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
                        std::net::IpAddr::V6(v6) => v6.is_loopback(),
                    })
        });
    if private {
        AuthorizationManager::new_allowing_private_addresses(url).await
    } else {
        AuthorizationManager::new(url).await
    }
}

struct Pending {
    oauth: OAuthState,
    namespace: String,
    /// How to reach the server and what to store once signed in.
    source: (crate::upstream::McpTarget, crate::store::SourceOptions),
    created: Instant,
}

const PENDING_FOR: Duration = Duration::from_secs(600);

/// Sign-ins waiting for the provider's redirect, by their `state`.
#[derive(Default)]
pub struct McpSignIns {
    pending: tokio::sync::Mutex<HashMap<String, Pending>>,
}

fn failed(namespace: &str, e: impl std::fmt::Display) -> ToolError {
    error(
        ErrorCode::ConnectionRejected,
        format!("signing in to the MCP server of {namespace} failed: {e}"),
        None,
    )
}

impl McpSignIns {
    /// Starts a sign-in for an MCP server that asked for authorization:
    /// the URL the person opens.
    pub async fn begin(
        &self,
        state: &AppState,
        namespace: &str,
        url: &str,
        source: (crate::upstream::McpTarget, crate::store::SourceOptions),
    ) -> Result<String, ToolError> {
        let mut manager = manager(url).await.map_err(|e| failed(namespace, e))?;
        manager.set_credential_store(SealedCredentials {
            home: state.home.clone(),
            key: key(namespace),
        });
        let mut oauth = OAuthState::Unauthorized(manager);
        let mut request =
            AuthorizationRequest::new(format!("http://{}/oauth/callback", state.addr));
        request.client_name = Some("executor".to_owned());
        oauth
            .start_authorization(request)
            .await
            .map_err(|e| failed(namespace, e))?;
        let authorization_url = oauth
            .get_authorization_url()
            .await
            .map_err(|e| failed(namespace, e))?;
        let csrf = reqwest::Url::parse(&authorization_url)
            .ok()
            .and_then(|u| {
                u.query_pairs()
                    .find(|(k, _)| k == "state")
                    .map(|(_, v)| v.into_owned())
            })
            .ok_or_else(|| failed(namespace, "the authorization URL has no state"))?;
        let mut pending = self.pending.lock().await;
        pending.retain(|_, p| p.created.elapsed() < PENDING_FOR);
        pending.insert(
            csrf,
            Pending {
                oauth,
                namespace: namespace.to_owned(),
                source,
                created: Instant::now(),
            },
        );
        Ok(authorization_url)
    }

    pub async fn owns(&self, csrf: &str) -> bool {
        self.pending.lock().await.contains_key(csrf)
    }

    /// The provider sent the person back: exchange the code (the tokens
    /// land in the store); what to add is given back.
    pub async fn complete(
        &self,
        csrf: &str,
        code: &str,
    ) -> Result<
        (
            String,
            crate::upstream::McpTarget,
            crate::store::SourceOptions,
        ),
        ToolError,
    > {
        let Some(mut pending) = self
            .pending
            .lock()
            .await
            .remove(csrf)
            .filter(|p| p.created.elapsed() < PENDING_FOR)
        else {
            return Err(error(
                ErrorCode::InvalidInput,
                "this sign-in is unknown or expired; add the source again",
                None,
            ));
        };
        pending
            .oauth
            .handle_callback(code, csrf)
            .await
            .map_err(|e| failed(&pending.namespace, e))?;
        let (target, options) = pending.source;
        Ok((pending.namespace, target, options))
    }
}

/// The connection key of an MCP source's tokens.
pub fn key(namespace: &str) -> String {
    format!("{namespace}.org.main")
}
