//! Client ID metadata documents (MCP authorization 2025-11-25,
//! draft-ietf-oauth-client-id-metadata-document): instead of registering,
//! a client names itself by a URL, and the JSON document at that URL says
//! what it is (`client_id`, `client_name`, `redirect_uris`, ...). Executor
//! fetches the document when the client asks to sign in (a person is on
//! the consent page anyway, so there is nothing to cache), holds it to the
//! same rules as a registration (public client, PKCE, allowed redirect URIs),
//! and keeps a client record whose id is the URL.
//!
//! The fetch treats the host as hostile: HTTPS only (plain HTTP to a
//! loopback host, for clients on this machine), redirects only within the
//! URL's origin (`outbound::client`), 5 s in all, at most 5 KiB (the draft's
//! suggested limit), and errors never quote what the host sent.

use std::time::Duration;

use serde::Deserialize;

use super::registration::{admit, check, clean_name, new_client};
use super::{OAuthError, Registration, fail, internal};
use crate::shared::Shared;
use crate::store::ClientRecord;

/// A metadata document is at most this large.
const MAX_DOCUMENT: usize = 5 * 1024;
/// Fetching it takes at most this long.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether a `client_id` is a URL (a metadata document) rather than an id
/// executor issued.
pub fn is_metadata_url(client_id: &str) -> bool {
    client_id.starts_with("https://") || client_id.starts_with("http://")
}

/// The document: the registration fields, and the client's own id.
#[derive(Deserialize)]
struct Document {
    client_id: String,
    #[serde(flatten)]
    registration: Registration,
}

fn invalid(description: impl Into<String>) -> OAuthError {
    fail("invalid_client", description)
}

/// The URL as a client id may be: HTTPS with a path, no fragment, no
/// credentials, no dot segments; or plain HTTP on a loopback host.
fn check_url(client_id: &str) -> Result<reqwest::Url, OAuthError> {
    if client_id.len() > 1000 {
        return Err(invalid("a client_id URL is at most 1000 characters"));
    }
    let url = reqwest::Url::parse(client_id)
        .map_err(|e| invalid(format!("client_id {client_id:?} is not a URL: {e}")))?;
    let loopback = matches!(
        url.host_str(),
        Some("127.0.0.1") | Some("localhost") | Some("[::1]")
    );
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(invalid(format!(
            "client_id {client_id:?}: a client metadata document is fetched over HTTPS (plain HTTP only from this machine's loopback)"
        )));
    }
    let dotted = client_id
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .split('/')
        .any(|segment| segment == "." || segment == "..");
    if url.path() == "/"
        || dotted
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(invalid(format!(
            "client_id {client_id:?}: a client metadata URL has a path, and no fragment, credentials or dot segments"
        )));
    }
    Ok(url)
}

/// Fetches the document a URL `client_id` names, checks it, and returns
/// the client record for it (made on first use; renewed from the document
/// on every sign-in; a revoked one starts over, unapproved).
pub async fn resolve_metadata(
    shared: &Shared,
    client_id: &str,
) -> Result<ClientRecord, OAuthError> {
    let url = check_url(client_id)?;
    if crate::outbound::is_own_listener(&url) {
        return Err(invalid(format!(
            "client_id {client_id:?} points at executor itself, which publishes no client metadata"
        )));
    }
    let document = fetch(&url).await?;
    if document.client_id != client_id {
        return Err(invalid(format!(
            "the metadata document at {client_id} names another client_id; it must name its own URL exactly"
        )));
    }
    check(&document.registration)?;
    let name = clean_name(
        document
            .registration
            .client_name
            .as_deref()
            .unwrap_or(url.host_str().unwrap_or_default()),
    );
    let existing = shared.store().client(client_id).map_err(internal)?;
    let client = match existing {
        Some(mut client) => {
            if client.revoked_at.is_some() {
                shared
                    .store()
                    .reinstate_client(client_id)
                    .map_err(internal)?;
                client.revoked_at = None;
                client.approved = false;
                client.scope = Vec::new();
                client.approve_all = false;
            }
            client.name = name;
            client.redirect_uris = document.registration.redirect_uris;
            shared.store().put_client(&client).map_err(internal)?;
            client
        }
        None => {
            let client = new_client(
                client_id.to_owned(),
                name,
                document.registration.redirect_uris,
            );
            admit(shared, &client)?;
            tracing::info!(client = %client.id, name = %client.name, "an OAuth client named by its metadata document");
            client
        }
    };
    Ok(client)
}

async fn fetch(url: &reqwest::Url) -> Result<Document, OAuthError> {
    let unreachable = |why: String| invalid(format!("the client metadata document at {url} {why}"));
    let response = crate::outbound::client()
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|e| {
            unreachable(if e.is_timeout() {
                format!("did not answer within {} s", FETCH_TIMEOUT.as_secs())
            } else {
                "could not be reached".to_owned()
            })
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(unreachable(format!("answered HTTP {}", status.as_u16())));
    }
    let body = crate::outbound::read_capped(response, MAX_DOCUMENT)
        .await
        .map_err(|e| unreachable(format!("could not be read: {e}")))?;
    serde_json::from_slice(&body).map_err(|_| {
        unreachable("is not a JSON object with client_id and redirect_uris".to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_id_urls_are_https_with_a_path_or_loopback_http() {
        for good in [
            "https://client.example/oauth/metadata.json",
            "https://client.example:8443/mcp?v=1",
            "http://127.0.0.1:4000/client.json",
            "http://localhost/client",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for bad in [
            "https://client.example",
            "https://client.example/",
            "http://client.example/metadata.json",
            "https://client.example/a/../b",
            "https://client.example/a/./b",
            "https://user:pass@client.example/m",
            "https://client.example/m#frag",
            "ftp://client.example/m",
        ] {
            let e = check_url(bad).unwrap_err();
            assert_eq!(e.code, "invalid_client", "{bad}");
        }
    }
}
