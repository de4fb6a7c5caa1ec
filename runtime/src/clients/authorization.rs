//! The authorization code grant: requests checked and waiting for a
//! person on the consent page, the person's answer, codes (PKCE S256, a
//! minute, once) and their exchange for tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::Issued;
use super::{OAuthError, fail, hash, internal, issue, parse_scope, random_hex};
use crate::shared::Shared;
use crate::store::ClientRecord;

/// A code works once, within this time.
const CODE_TTL: Duration = Duration::from_secs(60);
/// A person has this long to answer a consent page.
const PENDING_TTL: Duration = Duration::from_secs(10 * 60);
/// At most this many requests wait for consent at once.
const MAX_PENDING: usize = 100;

/// An authorization request waiting for a person on the consent page.
#[derive(Debug, Clone)]
pub struct Pending {
    pub client: ClientRecord,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub code_challenge: String,
    pub resource: String,
    created: Instant,
}

struct Code {
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    resource: String,
    created: Instant,
}

/// The authorization server's short-lived memory: requests waiting for
/// consent and codes waiting for exchange. Neither outlives a restart (a
/// client then starts its sign-in again).
#[derive(Default)]
pub struct AuthServer {
    pending: Mutex<HashMap<String, Pending>>,
    codes: Mutex<HashMap<String, Code>>,
}

/// What `/oauth/authorize` was asked.
#[derive(Debug, Deserialize)]
pub struct AuthorizeRequest {
    #[serde(default)]
    pub response_type: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub code_challenge_method: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// Where an authorization request fails: before the client and its
/// redirect URI are known good, the person is told (never redirected to
/// an unchecked URI); after, the client is told through its redirect.
#[derive(Debug)]
pub enum AuthorizeError {
    Show(String),
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

impl AuthServer {
    /// Checks an authorization request; `Ok` is the id of the consent page
    /// to show. `resources` are the names of `/mcp` the token may be for.
    pub fn request(
        &self,
        shared: &Shared,
        request: AuthorizeRequest,
        resources: &[String],
    ) -> Result<String, AuthorizeError> {
        let client_id = request
            .client_id
            .ok_or_else(|| AuthorizeError::Show("the request names no client_id".into()))?;
        let client = shared
            .store()
            .client(&client_id)
            .map_err(|e| AuthorizeError::Show(internal(e).description))?
            .filter(|c| c.kind == "oauth" && c.revoked_at.is_none())
            .ok_or_else(|| {
                AuthorizeError::Show(format!(
                    "no registered client has the id {client_id:?} (it may have been revoked); the client should register again"
                ))
            })?;
        let redirect_uri = match request.redirect_uri {
            Some(uri) if client.redirect_uris.contains(&uri) => uri,
            Some(uri) => {
                return Err(AuthorizeError::Show(format!(
                    "{uri:?} is not a redirect URI {} registered",
                    client.name
                )));
            }
            None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
            None => {
                return Err(AuthorizeError::Show(
                    "the request names no redirect_uri and the client registered several".into(),
                ));
            }
        };
        let state = request.state;
        let refuse = |error: OAuthError| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.clone(),
            state: state.clone(),
            error,
        };
        if request.response_type.as_deref() != Some("code") {
            return Err(refuse(fail(
                "unsupported_response_type",
                "response_type must be \"code\"",
            )));
        }
        let challenge = match (
            request.code_challenge,
            request.code_challenge_method.as_deref(),
        ) {
            (Some(c), Some("S256")) if (43..=128).contains(&c.len()) => c,
            (Some(_), Some("S256")) => {
                return Err(refuse(fail(
                    "invalid_request",
                    "code_challenge must be 43 to 128 characters",
                )));
            }
            _ => {
                return Err(refuse(fail(
                    "invalid_request",
                    "PKCE is required: send code_challenge with code_challenge_method=S256",
                )));
            }
        };
        let resource = match request.resource {
            Some(r) if resources.contains(&r) => r,
            Some(r) => {
                return Err(refuse(fail(
                    "invalid_target",
                    format!(
                        "resource {r:?} is not this server's MCP endpoint ({})",
                        resources[0]
                    ),
                )));
            }
            None => resources[0].clone(),
        };
        let id = random_hex(16).map_err(|e| AuthorizeError::Show(internal(e).description))?;
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.retain(|_, p| p.created.elapsed() < PENDING_TTL);
        // Bounded: the oldest request waiting gives way.
        if pending.len() >= MAX_PENDING
            && let Some(oldest) = pending
                .iter()
                .min_by_key(|(_, p)| p.created)
                .map(|(id, _)| id.clone())
        {
            pending.remove(&oldest);
        }
        pending.insert(
            id.clone(),
            Pending {
                client,
                redirect_uri,
                state,
                code_challenge: challenge,
                resource,
                created: Instant::now(),
            },
        );
        Ok(id)
    }

    /// The request behind a consent page, while it may be answered.
    pub fn pending(&self, id: &str) -> Option<Pending> {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending
            .get(id)
            .filter(|p| p.created.elapsed() < PENDING_TTL)
            .cloned()
    }

    /// The person's answer: approved, the client gets its scope and a code;
    /// either way the redirect (with `iss`, RFC 9207) to send the browser to.
    pub fn answer(
        &self,
        shared: &Shared,
        id: &str,
        approval: Option<(Vec<String>, bool)>,
        issuer: &str,
    ) -> Result<String, OAuthError> {
        if let Some((scope, _)) = &approval {
            parse_scope(scope)?;
        }
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
            .filter(|p| p.created.elapsed() < PENDING_TTL)
            .ok_or_else(|| fail("invalid_request", "this sign-in request has expired or was answered; start it again from the client"))?;
        let mut url = reqwest::Url::parse(&pending.redirect_uri)
            .map_err(|_| fail("invalid_request", "the redirect URI does not parse"))?;
        {
            let mut query = url.query_pairs_mut();
            match approval {
                Some((scope, approve_all)) => {
                    let mut client = pending.client.clone();
                    client.scope = scope;
                    client.approve_all = approve_all;
                    client.approved = true;
                    shared.store().put_client(&client).map_err(internal)?;
                    let code = random_hex(32).map_err(internal)?;
                    let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
                    codes.retain(|_, c| c.created.elapsed() < CODE_TTL);
                    codes.insert(
                        hash(&code),
                        Code {
                            client_id: client.id.clone(),
                            redirect_uri: pending.redirect_uri.clone(),
                            code_challenge: pending.code_challenge.clone(),
                            resource: pending.resource.clone(),
                            created: Instant::now(),
                        },
                    );
                    tracing::info!(client = %client.id, name = %client.name, "a person approved an OAuth client");
                    query.append_pair("code", &code);
                }
                None => {
                    query.append_pair("error", "access_denied");
                    query.append_pair("error_description", "the person declined");
                }
            }
            if let Some(state) = &pending.state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", issuer);
        }
        Ok(url.into())
    }

    /// `grant_type=authorization_code`: the code (once), checked against
    /// its client, redirect URI, PKCE verifier and resource.
    pub fn exchange(
        &self,
        shared: &Shared,
        form: &HashMap<String, String>,
        resources: &[String],
    ) -> Result<Issued, OAuthError> {
        let field = |name: &str| form.get(name).map(String::as_str);
        let code = field("code").ok_or_else(|| fail("invalid_request", "code is missing"))?;
        let found = self
            .codes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&hash(code))
            .filter(|c| c.created.elapsed() < CODE_TTL)
            .ok_or_else(|| fail("invalid_grant", "the code is unknown, used or expired"))?;
        if field("client_id") != Some(found.client_id.as_str()) {
            return Err(fail(
                "invalid_grant",
                "the code was issued to another client",
            ));
        }
        if field("redirect_uri").is_some_and(|uri| uri != found.redirect_uri) {
            return Err(fail(
                "invalid_grant",
                "redirect_uri differs from the authorization request's",
            ));
        }
        let verifier = field("code_verifier")
            .ok_or_else(|| fail("invalid_request", "code_verifier is missing (PKCE)"))?;
        if !pkce_matches(verifier, &found.code_challenge) {
            return Err(fail(
                "invalid_grant",
                "code_verifier does not match the code_challenge",
            ));
        }
        let resource = match field("resource") {
            Some(r) if r == found.resource && resources.iter().any(|own| own == r) => r.to_owned(),
            Some(r) => {
                return Err(fail(
                    "invalid_target",
                    format!("resource {r:?} is not the one the code was issued for"),
                ));
            }
            None => found.resource.clone(),
        };
        super::live_client(shared, &found.client_id)
            .ok_or_else(|| fail("invalid_grant", "the client was revoked"))?;
        issue(shared, &found.client_id, &resource)
    }
}

/// RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    use base64::Engine;
    let valid = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    valid && crate::credential::same(computed.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_the_rfc_example() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
        ));
        assert!(!pkce_matches(
            "short",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }
}
