//! OAuth 2 for connections, through the `oauth2` crate:
//!
//! - **client credentials**: the connection's secret is the client secret;
//!   access tokens are fetched when needed and kept in memory until they
//!   expire.
//! - **authorization code with PKCE**: adding the connection returns an
//!   authorization URL; the person signs in in a browser, the provider
//!   redirects to the service's `/oauth/callback`, and the service exchanges
//!   the code. The tokens are sealed into the store; an expired access token
//!   is refreshed (a rotated refresh token is stored before it is used), and
//!   a 401 leads to one refresh and one retry.
//!
//! Pending sign-ins (state and PKCE verifier) live in memory for ten
//! minutes: a restart in between means signing in again.

use std::collections::HashMap;
use std::time::Duration;

use generator::envelope::{ErrorCode, ToolError};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, Scope, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::credential::{Auth, Credential};
use crate::errors::error;
use crate::shared::Shared;

/// How long a call waits for another replica's refresh of the same token.
const REFRESH_WAIT: Duration = Duration::from_secs(15);

/// Tokens of an authorization-code connection (stored sealed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// When to stop using the access token (seconds since the Unix epoch,
    /// a little before the provider's expiry); `None` when it did not say.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

impl Tokens {
    fn fresh(&self) -> bool {
        self.expires_at.is_none_or(|at| at > crate::store::now())
    }
}

struct Pending {
    connection: String,
    verifier: String,
    redirect: String,
    created: std::time::Instant,
}

const PENDING_FOR: Duration = Duration::from_secs(600);

/// Access tokens in memory, by connection key, and pending sign-ins.
#[derive(Default)]
pub struct OAuth {
    tokens: tokio::sync::Mutex<HashMap<String, Tokens>>,
    pending: std::sync::Mutex<HashMap<String, Pending>>,
}

/// The `oauth2` crate's HTTP client, on our reqwest (its own reqwest
/// feature would pull a second, older reqwest into the build).
async fn send(
    http: reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    // A token endpoint's answer is small; a hostile one is cut off.
    let bytes = match crate::outbound::read_capped(response, 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(crate::outbound::ReadError::Broken(e)) => return Err(e),
        Err(too_large) => {
            tracing::warn!("an OAuth endpoint's {too_large}");
            Vec::new()
        }
    };
    Ok(builder
        .body(bytes)
        .expect("a response rebuilt from valid parts"))
}

fn rejected(key: &str, what: String) -> ToolError {
    error(
        ErrorCode::ConnectionRejected,
        format!("the OAuth provider of connection {key} refused: {what}"),
        None,
    )
}

fn invalid(message: String) -> ToolError {
    error(ErrorCode::InvalidInput, message, None)
}

fn url<T>(
    make: impl FnOnce(String) -> Result<T, oauth2::url::ParseError>,
    text: &str,
) -> Result<T, ToolError> {
    make(text.to_owned()).map_err(|e| invalid(format!("invalid URL {text:?}: {e}")))
}

/// The provider's expiry less a margin for clocks and travel: a tenth of
/// the token's life, at most half a minute.
fn expires_at(response: &impl TokenResponse) -> Option<i64> {
    response.expires_in().map(|d| {
        let life = d.as_secs() as i64;
        crate::store::now() + life - (life / 10).min(30)
    })
}

impl OAuth {
    /// Starts a sign-in for an authorization-code connection: the URL the
    /// person opens.
    pub fn begin(
        &self,
        state: &Shared,
        key: &str,
        credential: &Credential,
    ) -> Result<String, ToolError> {
        let Auth::Oauth2 {
            authorization_url: Some(authorization_url),
            client_id,
            scopes,
            ..
        } = &credential.auth
        else {
            return Err(invalid(
                "this connection does not sign in through a browser".into(),
            ));
        };
        let redirect = format!("http://{}/oauth/callback", state.addr);
        let client = BasicClient::new(ClientId::new(client_id.clone()))
            .set_auth_uri(url(AuthUrl::new, authorization_url)?)
            .set_redirect_uri(url(RedirectUrl::new, &redirect)?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge);
        for scope in scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, csrf) = request.url();
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.retain(|_, p| p.created.elapsed() < PENDING_FOR);
        pending.insert(
            csrf.secret().clone(),
            Pending {
                connection: key.to_owned(),
                verifier: verifier.secret().clone(),
                redirect,
                created: std::time::Instant::now(),
            },
        );
        Ok(url.to_string())
    }

    /// The provider sent the person back: exchange the code, store the
    /// tokens. Returns the connection key.
    pub async fn complete(
        &self,
        state: &Shared,
        csrf: &str,
        code: &str,
    ) -> Result<String, ToolError> {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(csrf)
            .filter(|p| p.created.elapsed() < PENDING_FOR)
            .ok_or_else(|| {
                invalid(
                    "this sign-in is unknown or expired; run `executor connections add ...` again"
                        .into(),
                )
            })?;
        let live = state.live();
        let credential = live.credentials.get(&pending.connection).ok_or_else(|| {
            invalid(format!(
                "connection {} was removed during the sign-in",
                pending.connection
            ))
        })?;
        let Auth::Oauth2 {
            token_url: Some(token_url),
            client_id,
            ..
        } = &credential.auth
        else {
            return Err(invalid("the connection changed during the sign-in".into()));
        };
        let mut client = BasicClient::new(ClientId::new(client_id.clone()))
            .set_token_uri(url(TokenUrl::new, token_url)?)
            .set_redirect_uri(url(RedirectUrl::new, &pending.redirect)?);
        if !credential.secret.is_empty() {
            client = client.set_client_secret(ClientSecret::new(credential.secret.clone()));
        }
        let http = state.http.clone();
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&|request| send(http.clone(), request))
            .await
            .map_err(|e| rejected(&pending.connection, describe(&e)))?;
        let tokens = Tokens {
            access_token: response.access_token().secret().clone(),
            refresh_token: response.refresh_token().map(|t| t.secret().clone()),
            expires_at: expires_at(&response),
        };
        self.store(state, &pending.connection, &tokens)?;
        self.tokens
            .lock()
            .await
            .insert(pending.connection.clone(), tokens);
        tracing::info!(connection = %pending.connection, "OAuth sign-in completed");
        Ok(pending.connection)
    }

    /// A bearer credential for a call: the cached access token, else a new
    /// one (client credentials) or a refreshed one (authorization code).
    /// `stale` is a token the upstream just refused: not to be used again.
    pub async fn bearer(
        &self,
        state: &Shared,
        key: &str,
        credential: &Credential,
        stale: Option<&str>,
    ) -> Result<Credential, ToolError> {
        let mut tokens = self.tokens.lock().await;
        if !tokens.contains_key(key)
            && let Some(stored) = self.load(state, key)?
        {
            tokens.insert(key.to_owned(), stored);
        }
        let current = tokens.get(key).cloned();
        if let Some(t) = &current
            && t.fresh()
            && stale != Some(t.access_token.as_str())
        {
            return Ok(bearer(t));
        }
        let http = state.http.clone();
        let fresh = match &credential.auth {
            Auth::Oauth2ClientCredentials {
                token_url,
                client_id,
                scopes,
            } => {
                let client = BasicClient::new(ClientId::new(client_id.clone()))
                    .set_client_secret(ClientSecret::new(credential.secret.clone()))
                    .set_token_uri(url(TokenUrl::new, token_url)?);
                let mut request = client.exchange_client_credentials();
                for scope in scopes {
                    request = request.add_scope(Scope::new(scope.clone()));
                }
                let response = request
                    .request_async(&|request| send(http.clone(), request))
                    .await
                    .map_err(|e| rejected(key, describe(&e)))?;
                Tokens {
                    access_token: response.access_token().secret().clone(),
                    refresh_token: None,
                    expires_at: expires_at(&response),
                }
            }
            Auth::Oauth2 {
                token_url: Some(token_url),
                client_id,
                ..
            } => {
                // Another replica (on a shared database) may have refreshed
                // already, and a rotated refresh token works once: what is
                // stored wins over what this process remembers, and one
                // process refreshes at a time.
                let usable = |t: &Tokens| t.fresh() && stale != Some(t.access_token.as_str());
                let deadline = std::time::Instant::now() + REFRESH_WAIT;
                let current = loop {
                    let stored = self.load(state, key)?;
                    if let Some(t) = stored.as_ref().filter(|t| usable(t)) {
                        tokens.insert(key.to_owned(), t.clone());
                        return Ok(bearer(t));
                    }
                    let until = crate::store::now() + REFRESH_WAIT.as_secs() as i64 * 2;
                    if state.store().claim_refresh(key, until).map_err(internal)? {
                        // Read again under the claim: a refresh that ended
                        // just before it has stored its tokens.
                        match self.load(state, key)? {
                            Some(t) if usable(&t) => {
                                let _ = state.store().release_refresh(key);
                                tokens.insert(key.to_owned(), t.clone());
                                return Ok(bearer(&t));
                            }
                            stored => break stored.or(current),
                        }
                    }
                    if std::time::Instant::now() > deadline {
                        return Err(rejected(
                            key,
                            "another replica is refreshing the token and has not finished".into(),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                };
                let refreshed = self
                    .refresh(state, key, credential, token_url, client_id, current)
                    .await;
                let _ = state.store().release_refresh(key);
                refreshed?
            }
            _ => return Ok(credential.clone()),
        };
        tokens.insert(key.to_owned(), fresh.clone());
        Ok(bearer(&fresh))
    }

    /// Exchanges the refresh token of `current` for new tokens and stores
    /// them; the caller holds the connection's refresh claim.
    async fn refresh(
        &self,
        state: &Shared,
        key: &str,
        credential: &Credential,
        token_url: &str,
        client_id: &str,
        current: Option<Tokens>,
    ) -> Result<Tokens, ToolError> {
        let Some(refresh) = current.and_then(|t| t.refresh_token) else {
            return Err(error(
                ErrorCode::ConnectionMissing,
                format!(
                    "connection {key} has no valid token: sign in again with `executor connections add {}` and the same options",
                    key.split('.').next().unwrap_or(key)
                ),
                None,
            ));
        };
        let http = state.http.clone();
        let mut client = BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_token_uri(url(TokenUrl::new, token_url)?);
        if !credential.secret.is_empty() {
            client = client.set_client_secret(ClientSecret::new(credential.secret.clone()));
        }
        let response = client
            .exchange_refresh_token(&RefreshToken::new(refresh.clone()))
            .request_async(&|request| send(http.clone(), request))
            .await
            .map_err(|e| rejected(key, describe(&e)))?;
        let tokens = Tokens {
            access_token: response.access_token().secret().clone(),
            // Providers that rotate send a new one; the old one may already
            // be dead, so the new one is stored first.
            refresh_token: Some(
                response
                    .refresh_token()
                    .map(|t| t.secret().clone())
                    .unwrap_or(refresh),
            ),
            expires_at: expires_at(&response),
        };
        self.store(state, key, &tokens)?;
        tracing::info!(connection = key, "OAuth access token refreshed");
        Ok(tokens)
    }

    /// Forgets a connection's tokens (it was removed or replaced).
    pub async fn forget(&self, key: &str) {
        self.tokens.lock().await.remove(key);
    }

    fn store(&self, state: &Shared, key: &str, tokens: &Tokens) -> Result<(), ToolError> {
        let text = serde_json::to_vec(tokens).unwrap_or_default();
        let sealed = state
            .secrets
            .seal(&text, &tokens_place(key))
            .map_err(internal)?;
        state
            .store()
            .set_connection_tokens(key, &sealed)
            .map_err(internal)
    }

    fn load(&self, state: &Shared, key: &str) -> Result<Option<Tokens>, ToolError> {
        let Some(sealed) = state.store().connection_tokens(key).map_err(internal)? else {
            return Ok(None);
        };
        let text = state
            .secrets
            .open(&sealed, &tokens_place(key))
            .map_err(internal)?;
        Ok(serde_json::from_slice(&text).ok())
    }
}

fn bearer(tokens: &Tokens) -> Credential {
    Credential {
        auth: Auth::Bearer,
        secret: tokens.access_token.clone(),
    }
}

fn tokens_place(key: &str) -> String {
    format!("oauth-tokens:{key}")
}

/// The provider's refusal in words, without echoing anything secret.
fn describe<RE: std::error::Error + 'static>(
    e: &oauth2::RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
) -> String {
    match e {
        oauth2::RequestTokenError::ServerResponse(response) => {
            format!("{}", response.error())
        }
        oauth2::RequestTokenError::Request(e) => format!("the token endpoint failed: {e}"),
        oauth2::RequestTokenError::Parse(_, _) => {
            "the token endpoint answered something that is not a token".into()
        }
        oauth2::RequestTokenError::Other(text) => text.clone(),
    }
}

fn internal(e: anyhow::Error) -> ToolError {
    crate::errors::internal_error(e, "store OAuth tokens")
}
