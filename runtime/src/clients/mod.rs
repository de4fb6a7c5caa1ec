//! Clients: who may use `/mcp` besides the holder of the MCP token. An MCP
//! client signs in through executor's own OAuth 2.1 authorization server
//! (dynamic registration, authorization code with PKCE S256, refresh
//! tokens that rotate); the owner may also mint a token for a script
//! (`executor clients add`). Each client has a scope (tool path patterns,
//! like policies) and may be made to wait for approval on every call.
//!
//! Invariants: tokens are stored as their SHA-256 only and shown once; a
//! code works once, within a minute, for the client, redirect URI, PKCE
//! verifier and resource it was issued for; a refresh token works once,
//! and a second use (a replay) ends every token of its client; revoking a
//! client deletes its tokens in the same transaction, so its next request
//! is refused; a client's token opens `/mcp` only (see `http::access`).
//! The protocol's HTTP side is `http/authorize.rs`.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

mod authorization;
mod metadata;
mod registration;

pub use authorization::{AuthServer, AuthorizeError, AuthorizeRequest, Pending};
pub use metadata::{is_metadata_url, resolve_metadata};
use registration::clean_name;
pub use registration::{Registration, redirect_allowed, register};

use crate::policy::Pattern;
use crate::shared::Shared;
use crate::store::{ClientRecord, TokenRecord, now};

/// An access token lives an hour; a refresh token thirty days.
pub const ACCESS_TTL: i64 = 60 * 60;
pub const REFRESH_TTL: i64 = 30 * 24 * 60 * 60;
/// `last_used_at` is written at most this often per client.
const TOUCH_EVERY: i64 = 60;

/// What went wrong, as OAuth names it (`error`) and in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub code: &'static str,
    pub description: String,
}

pub(super) fn fail(code: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        code,
        description: description.into(),
    }
}

/// The SHA-256 of a token, as stored.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(super) fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(hex::encode(buf))
}

pub(super) fn internal(e: anyhow::Error) -> OAuthError {
    tracing::error!(error = %format!("{e:#}"), "client store");
    fail(
        "server_error",
        "executor could not store the client; see its log",
    )
}

/// Checks a scope's patterns; `*` alone is every tool.
pub fn parse_scope(patterns: &[String]) -> Result<Vec<Pattern>, OAuthError> {
    if patterns.is_empty() {
        return Err(fail(
            "invalid_scope",
            "the scope is empty: give tool path patterns such as `*` or `github.*`",
        ));
    }
    patterns
        .iter()
        .map(|p| Pattern::parse(p).map_err(|e| fail("invalid_scope", e.to_string())))
        .collect()
}

/// Tokens as handed out: shown this once.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Issued {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

fn put(
    shared: &Shared,
    client_id: &str,
    kind: &str,
    resource: Option<&str>,
    ttl: i64,
) -> Result<String, OAuthError> {
    let prefix = if kind == "access" { "exa" } else { "exr" };
    let token = format!("{prefix}_{}", random_hex(32).map_err(internal)?);
    let created_at = now();
    shared
        .store()
        .put_token(&TokenRecord {
            hash: hash(&token),
            client_id: client_id.to_owned(),
            kind: kind.to_owned(),
            resource: resource.map(str::to_owned),
            expires_at: created_at + ttl,
            used_at: None,
            created_at,
        })
        .map_err(internal)?;
    Ok(token)
}

pub(super) fn issue(
    shared: &Shared,
    client_id: &str,
    resource: &str,
) -> Result<Issued, OAuthError> {
    Ok(Issued {
        access_token: put(shared, client_id, "access", Some(resource), ACCESS_TTL)?,
        token_type: "Bearer",
        expires_in: ACCESS_TTL,
        refresh_token: Some(put(
            shared,
            client_id,
            "refresh",
            Some(resource),
            REFRESH_TTL,
        )?),
    })
}

/// `grant_type=refresh_token`: a new pair for a refresh token used once.
/// A refresh token presented twice was stolen or replayed: every token of
/// its client ends.
pub fn refresh(shared: &Shared, form: &HashMap<String, String>) -> Result<Issued, OAuthError> {
    let field = |name: &str| form.get(name).map(String::as_str);
    let token = field("refresh_token")
        .ok_or_else(|| fail("invalid_request", "refresh_token is missing"))?;
    let hashed = hash(token);
    let record = shared
        .store()
        .token(&hashed)
        .map_err(internal)?
        .filter(|t| t.kind == "refresh")
        .ok_or_else(|| fail("invalid_grant", "the refresh token is unknown or revoked"))?;
    if field("client_id").is_some_and(|id| id != record.client_id) {
        return Err(fail(
            "invalid_grant",
            "the refresh token was issued to another client",
        ));
    }
    let resource = record.resource.clone().unwrap_or_default();
    if field("resource").is_some_and(|r| r != resource) {
        return Err(fail(
            "invalid_target",
            "resource differs from the one the token was issued for",
        ));
    }
    let first_use = shared.store().use_token(&hashed, now()).map_err(internal)?;
    if !first_use {
        shared
            .store()
            .drop_tokens(&record.client_id)
            .map_err(internal)?;
        tracing::warn!(client = %record.client_id, "a refresh token was used twice: every token of the client is revoked");
        return Err(fail(
            "invalid_grant",
            "the refresh token was used already; the client must sign in again",
        ));
    }
    if record.expires_at < now() {
        return Err(fail("invalid_grant", "the refresh token has expired"));
    }
    let client = live_client(shared, &record.client_id)
        .ok_or_else(|| fail("invalid_grant", "the client was revoked"))?;
    issue(shared, &client.id, &resource)
}

pub(super) fn live_client(shared: &Shared, id: &str) -> Option<ClientRecord> {
    shared
        .store()
        .client(id)
        .ok()
        .flatten()
        .filter(|c| c.approved && c.revoked_at.is_none())
}

/// The client an access token belongs to, if the token is live, was
/// issued for one of `resources` (or for none: a minted token) and its
/// client is approved and not revoked.
pub fn authenticate(shared: &Shared, token: &str, resources: &[String]) -> Option<ClientRecord> {
    let record = shared.store().token(&hash(token)).ok().flatten()?;
    let now = now();
    if record.kind != "access" || record.expires_at < now {
        return None;
    }
    if record
        .resource
        .as_ref()
        .is_some_and(|r| !resources.contains(r))
    {
        return None;
    }
    let client = live_client(shared, &record.client_id)?;
    if client.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY) {
        let _ = shared.store().touch_client(&client.id, now);
    }
    Some(client)
}

/// The caller a client's requests run as: an agent under its name, held
/// to its scope.
pub fn caller(client: &ClientRecord) -> crate::caller::Caller {
    crate::caller::Caller {
        role: crate::caller::Role::Agent,
        client: Some(client.name.clone()),
        grant: Some(std::sync::Arc::new(crate::caller::Grant {
            client_id: client.id.clone(),
            scope: client
                .scope
                .iter()
                .filter_map(|p| Pattern::parse(p).ok())
                .collect(),
            approve_all: client.approve_all,
        })),
        via: "mcp",
    }
}

/// The caller a stored record names (`Caller::record`): a client's comes
/// back with its scope as stored now; a revoked or deleted client's with
/// an empty scope, so nothing it asks for is found.
pub fn recorded(shared: &Shared, record: &str) -> crate::caller::Caller {
    let Some(id) = crate::caller::Caller::client_in(record) else {
        return crate::caller::Caller::recorded(record);
    };
    match live_client(shared, id) {
        Some(client) => caller(&client),
        None => crate::caller::Caller {
            role: crate::caller::Role::Agent,
            client: Some(id.to_owned()),
            grant: Some(std::sync::Arc::new(crate::caller::Grant {
                client_id: id.to_owned(),
                scope: Vec::new(),
                approve_all: true,
            })),
            via: "mcp",
        },
    }
}

/// `executor clients add`: a client with a token of its own for `/mcp`,
/// for a script or CI (no refresh: it expires after `days`).
pub fn mint(
    shared: &Shared,
    name: &str,
    scope: Vec<String>,
    approve_all: bool,
    days: i64,
) -> Result<(ClientRecord, String), OAuthError> {
    parse_scope(&scope)?;
    if !(1..=366).contains(&days) {
        return Err(fail("invalid_request", "a token lives 1 to 366 days"));
    }
    let client = ClientRecord {
        id: format!("cl_{}", random_hex(12).map_err(internal)?),
        name: clean_name(name),
        kind: "token".to_owned(),
        redirect_uris: Vec::new(),
        scope,
        approve_all,
        approved: true,
        created_at: now(),
        last_used_at: None,
        revoked_at: None,
    };
    shared.store().put_client(&client).map_err(internal)?;
    let token = put(shared, &client.id, "access", None, days * 24 * 60 * 60)?;
    Ok((client, token))
}

/// Every client, oldest first.
pub fn list(shared: &Shared) -> anyhow::Result<Vec<ClientRecord>> {
    shared.store().clients()
}

/// Revokes a client by id (or by name, when one live client has it): its
/// tokens end at once.
pub fn revoke(shared: &Shared, id_or_name: &str) -> Result<ClientRecord, OAuthError> {
    let clients = shared.store().clients().map_err(internal)?;
    let by_id = clients.iter().find(|c| c.id == id_or_name);
    let by_name: Vec<&ClientRecord> = clients
        .iter()
        .filter(|c| c.name == id_or_name && c.revoked_at.is_none())
        .collect();
    let client = match (by_id, by_name.as_slice()) {
        (Some(c), _) => c.clone(),
        (None, [c]) => (*c).clone(),
        (None, []) => {
            return Err(fail(
                "not_found",
                format!(
                    "no client has the id or name {id_or_name:?}; `executor clients list` shows them"
                ),
            ));
        }
        (None, many) => {
            return Err(fail(
                "ambiguous",
                format!(
                    "{} clients are named {id_or_name:?}; revoke one by id: {}",
                    many.len(),
                    many.iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    };
    shared.store().revoke_client(&client.id).map_err(internal)?;
    tracing::info!(client = %client.id, name = %client.name, "a client was revoked");
    Ok(shared
        .store()
        .client(&client.id)
        .ok()
        .flatten()
        .unwrap_or(client))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_redirects_unless_listed() {
        assert!(redirect_allowed("http://127.0.0.1:33418/callback"));
        assert!(redirect_allowed("http://localhost/cb"));
        assert!(redirect_allowed("http://[::1]:9/cb"));
        assert!(!redirect_allowed("https://evil.example/cb"));
        assert!(!redirect_allowed("http://127.0.0.1.evil.example/cb"));
        assert!(!redirect_allowed("http://user@127.0.0.1/cb"));
        assert!(!redirect_allowed("http://127.0.0.1/cb#frag"));
        assert!(!redirect_allowed("javascript:alert(1)"));
    }
}
