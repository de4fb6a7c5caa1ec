//! Dynamic client registration (RFC 7591), and the rules every client's
//! metadata is held to, registered or published (`metadata.rs`): public
//! clients, PKCE, loopback redirect URIs unless the owner allows others.

use serde::Deserialize;

use super::{OAuthError, fail, internal, random_hex};
use crate::shared::Shared;
use crate::store::{ClientRecord, now};

/// Registrations not yet approved beyond this many are refused, so a local
/// process cannot fill the store by registering in a loop.
const MAX_UNAPPROVED: usize = 100;

/// A redirect URI executor may send a code to: loopback over plain HTTP
/// (`127.0.0.1`, `localhost`, `[::1]`, any port), or one the owner listed
/// in `EXECUTOR_OAUTH_REDIRECT_URIS` (comma-separated, exact).
pub fn redirect_allowed(uri: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(uri) else {
        return false;
    };
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    let loopback = url.scheme() == "http"
        && matches!(
            url.host_str(),
            Some("127.0.0.1") | Some("localhost") | Some("[::1]")
        );
    loopback
        || std::env::var("EXECUTOR_OAUTH_REDIRECT_URIS")
            .unwrap_or_default()
            .split(',')
            .any(|allowed| !allowed.trim().is_empty() && allowed.trim() == uri)
}

/// A registration request (RFC 7591), the fields executor reads.
#[derive(Debug, Deserialize)]
pub struct Registration {
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub response_types: Option<Vec<String>>,
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
}

/// A name fit to show on the consent page and in lists.
pub(super) fn clean_name(name: &str) -> String {
    let name: String = name.chars().filter(|c| !c.is_control()).take(80).collect();
    let name = name.trim();
    if name.is_empty() {
        "unnamed client".to_owned()
    } else {
        name.to_owned()
    }
}

/// Registers a public OAuth client; a person approves it on the consent
/// page before it gets a token.
pub fn register(shared: &Shared, request: Registration) -> Result<ClientRecord, OAuthError> {
    check(&request)?;
    let name = request.client_name.as_deref().unwrap_or_default();
    let id = format!("cl_{}", random_hex(12).map_err(internal)?);
    let client = new_client(id, clean_name(name), request.redirect_uris);
    admit(shared, &client)?;
    tracing::info!(client = %client.id, name = %client.name, "an OAuth client registered");
    Ok(client)
}

/// What executor accepts of a client's metadata, registered or published
/// (`metadata.rs`): public clients with allowed redirect URIs.
pub(super) fn check(request: &Registration) -> Result<(), OAuthError> {
    if request.redirect_uris.is_empty() {
        return Err(fail(
            "invalid_redirect_uri",
            "redirect_uris is empty: give the loopback URL executor should send the code to",
        ));
    }
    if request.redirect_uris.len() > 10 || request.redirect_uris.iter().any(|u| u.len() > 1000) {
        return Err(fail(
            "invalid_redirect_uri",
            "at most 10 redirect URIs of at most 1000 characters each",
        ));
    }
    if let Some(bad) = request.redirect_uris.iter().find(|u| !redirect_allowed(u)) {
        return Err(fail(
            "invalid_redirect_uri",
            format!(
                "{bad:?} is not a loopback URL (http://127.0.0.1:PORT/..., http://localhost:PORT/...); the owner may allow others with EXECUTOR_OAUTH_REDIRECT_URIS"
            ),
        ));
    }
    if let Some(method) = request
        .token_endpoint_auth_method
        .as_deref()
        .filter(|m| *m != "none")
    {
        return Err(fail(
            "invalid_client_metadata",
            format!(
                "token_endpoint_auth_method {method:?}: executor registers public clients only (\"none\", with PKCE)"
            ),
        ));
    }
    if let Some(grant) = request
        .grant_types
        .iter()
        .flatten()
        .find(|g| !matches!(g.as_str(), "authorization_code" | "refresh_token"))
    {
        return Err(fail(
            "invalid_client_metadata",
            format!(
                "grant type {grant:?} is not offered: authorization_code and refresh_token are"
            ),
        ));
    }
    if let Some(kind) = request
        .response_types
        .iter()
        .flatten()
        .find(|t| *t != "code")
    {
        return Err(fail(
            "invalid_client_metadata",
            format!("response type {kind:?} is not offered: \"code\" is"),
        ));
    }
    Ok(())
}

/// A new OAuth client: waiting for a person's consent, with no scope.
pub(super) fn new_client(id: String, name: String, redirect_uris: Vec<String>) -> ClientRecord {
    ClientRecord {
        id,
        name,
        kind: "oauth".to_owned(),
        redirect_uris,
        scope: Vec::new(),
        approve_all: false,
        approved: false,
        created_at: now(),
        last_used_at: None,
        revoked_at: None,
    }
}

/// Stores a new client, unless too many wait for approval already.
pub(super) fn admit(shared: &Shared, client: &ClientRecord) -> Result<(), OAuthError> {
    let mut store = shared.store();
    let unapproved = store
        .clients()
        .map_err(internal)?
        .iter()
        .filter(|c| !c.approved && c.revoked_at.is_none())
        .count();
    if unapproved >= MAX_UNAPPROVED {
        return Err(fail(
            "temporarily_unavailable",
            format!(
                "{unapproved} registrations wait for approval; `executor clients list` shows them and `executor clients revoke` removes them"
            ),
        ));
    }
    store.put_client(client).map_err(internal)
}
