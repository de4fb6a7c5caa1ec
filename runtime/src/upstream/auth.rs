//! Where an upstream MCP server's OAuth tokens live: sealed in the
//! source's connection row (`<namespace>.org.main`), loaded by rmcp's
//! `auth` for every session (after a restart too). Signing in is
//! [`super::signin`].

use rmcp::transport::auth::{AuthError, AuthorizationManager, CredentialStore, StoredCredentials};

use crate::home::Home;

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
        let store = crate::store::open(self.home.database_url.as_deref(), &self.home.database())
            .map_err(store_error)?;
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
            crate::store::open(self.home.database_url.as_deref(), &self.home.database())
                .map_err(store_error)?;
        store
            .set_connection_tokens(&self.key, &sealed)
            .map_err(store_error)
    }

    async fn clear(&self) -> Result<(), AuthError> {
        let mut store =
            crate::store::open(self.home.database_url.as_deref(), &self.home.database())
                .map_err(store_error)?;
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

/// The connection key of an MCP source's tokens.
pub fn key(namespace: &str) -> String {
    format!("{namespace}.org.main")
}
