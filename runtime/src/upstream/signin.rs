//! MCP's authorization for upstream MCP servers, through rmcp's `auth`
//! (protected resource metadata discovery, dynamic client registration,
//! PKCE, refresh): adding a server that answers 401 returns a sign-in URL;
//! the provider sends the browser back to `/oauth/callback`; the tokens are
//! sealed into the source's connection row (see [`super::auth`]); the
//! source is then indexed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use generator::envelope::{ErrorCode, ToolError};
use rmcp::transport::auth::{AuthorizationRequest, OAuthState};

use super::McpTarget;
use super::auth::{SealedCredentials, key, manager};
use crate::errors::error;
use crate::home::Home;
use crate::store::SourceOptions;

struct Pending {
    oauth: OAuthState,
    namespace: String,
    /// How to reach the server and what to store once signed in.
    source: (McpTarget, SourceOptions),
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
        home: &Home,
        addr: SocketAddr,
        namespace: &str,
        url: &str,
        source: (McpTarget, SourceOptions),
    ) -> Result<String, ToolError> {
        let mut manager = manager(url).await.map_err(|e| failed(namespace, e))?;
        manager.set_credential_store(SealedCredentials {
            home: home.clone(),
            key: key(namespace),
        });
        let mut oauth = OAuthState::Unauthorized(manager);
        let mut request = AuthorizationRequest::new(format!("http://{}/oauth/callback", addr));
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
    ) -> Result<(String, McpTarget, SourceOptions), ToolError> {
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
