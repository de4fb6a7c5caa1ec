//! What a connection is: an integration's credentials (`Auth`, `Credential`),
//! how they go on the wire (`Credential::apply`), where their secret is
//! bound (`secret_place`), and how an integration's tools expand into one
//! subtree per connection. A leaf below the state; managing connections
//! (adding, listing, removing) is `connections`.
//!
//! A connection belongs to an integration and has an owner (`org` or
//! `user`) and a name (`main` by default): `github.user.work` is the user's
//! connection `work` to GitHub, and its tools live under
//! `github.user.work.*`. An integration without connections has the one
//! implicit `org.main` subtree, calling without credentials.
//!
//! The secret is sealed with the home's key, bound to its connection
//! (associated data), and opened only into the live catalog's memory. No
//! route, tool, log line or export shows it: listings say `hasSecret`.

use generator::envelope::{ErrorCode, ToolError};
use generator::ir::{ConnectionRef, Integration, Owner, ParamLocation, SecurityScheme, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::errors::error;

/// How a connection authenticates upstream calls. The secret (token,
/// password, key) is stored apart from this, sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Auth {
    /// `Authorization: Bearer <secret>`.
    Bearer,
    /// `Authorization: Basic base64(<username>:<secret>)`, encoded by the service.
    Basic { username: String },
    /// The secret as an API key in a header, a query parameter or a cookie.
    ApiKey {
        #[serde(rename = "in")]
        location: KeyLocation,
        name: String,
    },
    /// A header whose value is a template around the secret, e.g. `Token {secret}`.
    Header { name: String, template: String },
    /// OAuth 2 client credentials: the secret is the client secret; the
    /// service fetches and renews access tokens.
    Oauth2ClientCredentials {
        token_url: String,
        client_id: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        scopes: Vec<String>,
    },
    /// OAuth 2 authorization code with PKCE: a person signs in once in a
    /// browser; the service keeps and refreshes the tokens. The secret, if
    /// any, is the client secret (empty for public clients). The URLs
    /// default to the source's own `oauth2` security scheme.
    Oauth2 {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authorization_url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_url: Option<String>,
        client_id: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        scopes: Vec<String>,
    },
    /// An MCP server's own authorization (discovered, registered and
    /// signed in through `executor.mcp.addSource`); the tokens are kept by
    /// the service.
    McpOauth,
}

impl Auth {
    pub fn is_oauth(&self) -> bool {
        matches!(
            self,
            Auth::Oauth2ClientCredentials { .. } | Auth::Oauth2 { .. }
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyLocation {
    Header,
    Query,
    Cookie,
}

/// A connection as listings show it (never its secret).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSummary {
    pub integration: String,
    pub owner: Owner,
    pub name: String,
    pub auth: Auth,
    /// Whether a secret is stored (it is never shown).
    pub has_secret: bool,
    /// Where its tools are: `<integration>.<owner>.<name>.*`.
    pub tools: String,
    pub created_at: i64,
    /// OAuth authorization code: open this URL to sign in (valid ten minutes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_url: Option<String>,
}

/// Adds or replaces a connection. The secret comes from the caller's
/// prompt, standard input or environment (the CLI never takes it as an
/// argument).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddConnection {
    /// The integration (the source's namespace), e.g. `github`.
    pub integration: String,
    /// `org` (shared, the default) or `user`.
    #[serde(default)]
    pub owner: Owner,
    /// The connection's name (letters, digits, `_`, `-`); default `main`.
    #[serde(default)]
    pub name: Option<String>,
    /// How to authenticate; default: derived from the source's security scheme.
    #[serde(default)]
    pub auth: Option<Auth>,
    /// The token, password, key or OAuth client secret (empty for an OAuth public client). Stored encrypted and never shown again.
    #[serde(default)]
    pub secret: String,
}

/// Names one connection.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectionName {
    pub integration: String,
    #[serde(default)]
    pub owner: Owner,
    #[serde(default)]
    pub name: Option<String>,
}

/// A connection with its secret open, as the live catalog holds it.
#[derive(Debug, Clone)]
pub struct Credential {
    pub auth: Auth,
    pub secret: String,
}

/// Where a connection's secret is sealed (the associated data).
pub fn secret_place(integration: &str, owner: Owner, name: &str) -> String {
    format!("connection:{integration}/{}/{name}", owner_name(owner))
}

pub fn owner_name(owner: Owner) -> &'static str {
    match owner {
        Owner::Org => "org",
        Owner::User => "user",
    }
}

/// The auth method a source's own description asks for, when it is one a
/// secret alone can satisfy.
pub fn derive(integration: &Integration, username: Option<&str>) -> Result<Auth, String> {
    let mut reasons = Vec::new();
    for (scheme_name, scheme) in &integration.security_schemes {
        match scheme {
            SecurityScheme::Http { scheme, .. } if scheme.eq_ignore_ascii_case("bearer") => {
                return Ok(Auth::Bearer);
            }
            SecurityScheme::Http { scheme, .. } if scheme.eq_ignore_ascii_case("basic") => {
                match username {
                    Some(u) => {
                        return Ok(Auth::Basic {
                            username: u.to_owned(),
                        });
                    }
                    None => reasons.push(format!(
                        "{scheme_name} is HTTP basic: give the username (--username)"
                    )),
                }
            }
            SecurityScheme::ApiKey { location, name } => {
                let location = match location {
                    ParamLocation::Header => KeyLocation::Header,
                    ParamLocation::Query => KeyLocation::Query,
                    ParamLocation::Cookie => KeyLocation::Cookie,
                    ParamLocation::Path => continue,
                };
                return Ok(Auth::ApiKey {
                    location,
                    name: name.clone(),
                });
            }
            _ => reasons.push(format!(
                "{scheme_name} is not a scheme a stored secret satisfies yet"
            )),
        }
    }
    if reasons.is_empty() {
        reasons.push(format!("{} declares no security scheme", integration.name));
    }
    Err(format!(
        "cannot tell how to authenticate to {} ({}); say it with --auth",
        integration.name,
        reasons.join("; ")
    ))
}

/// Every tool of an integration once per connection, under the
/// connection's subtree; unchanged when it has none.
pub fn expand<S: Clone>(
    integration: &str,
    tools: Vec<Tool<S>>,
    connections: &[(Owner, String)],
) -> Vec<Tool<S>> {
    if connections.is_empty() {
        return tools;
    }
    let mut out = Vec::with_capacity(tools.len() * connections.len());
    for (owner, name) in connections {
        let connection = ConnectionRef {
            owner: *owner,
            name: name.clone(),
        };
        let prefix = connection.path_prefix(integration);
        for tool in &tools {
            let mut tool = tool.clone();
            tool.path = format!("{prefix}{}", tool.name);
            tool.connection = connection.clone();
            out.push(tool);
        }
    }
    out
}

/// The request parts a credential adds: headers, query pairs, cookies.
#[derive(Debug, Default)]
pub struct Applied {
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub cookies: Vec<(String, String)>,
}

impl Credential {
    pub fn apply(&self) -> Applied {
        use base64::Engine;
        let mut applied = Applied::default();
        match &self.auth {
            Auth::Bearer => applied
                .headers
                .push(("Authorization".into(), format!("Bearer {}", self.secret))),
            Auth::Basic { username } => {
                let pair = format!("{username}:{}", self.secret);
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                applied
                    .headers
                    .push(("Authorization".into(), format!("Basic {encoded}")));
            }
            Auth::ApiKey { location, name } => {
                let pair = (name.clone(), self.secret.clone());
                match location {
                    KeyLocation::Header => applied.headers.push(pair),
                    KeyLocation::Query => applied.query.push(pair),
                    KeyLocation::Cookie => applied.cookies.push(pair),
                }
            }
            Auth::Header { name, template } => applied
                .headers
                .push((name.clone(), template.replace("{secret}", &self.secret))),
            // OAuth connections are turned into a bearer credential (the
            // access token) by `oauth` before a call.
            Auth::Oauth2ClientCredentials { .. } | Auth::Oauth2 { .. } | Auth::McpOauth => {}
        }
        applied
    }

    /// Texts that must never leave the service: the secret and what it
    /// becomes on the wire.
    pub fn secrets(&self) -> Vec<String> {
        let mut out = vec![self.secret.clone()];
        for (_, value) in self.apply().headers {
            out.push(value);
        }
        out
    }
}

pub(crate) fn check_name(what: &str, text: &str) -> Result<(), ToolError> {
    if generator::naming::is_valid_namespace(text) {
        return Ok(());
    }
    Err(error(
        ErrorCode::InvalidInput,
        format!("invalid {what} {text:?}: use 1 to 64 letters, digits, '_' or '-'"),
        None,
    ))
}

pub(crate) fn check_auth(auth: &Auth) -> Result<(), ToolError> {
    let bad = |message: String| Err(error(ErrorCode::InvalidInput, message, None));
    match auth {
        Auth::Header { name, template } => {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return bad(format!("{name:?} is not a valid header name"));
            }
            if !template.contains("{secret}") {
                return bad(format!(
                    "the header template {template:?} has no {{secret}} placeholder"
                ));
            }
        }
        Auth::ApiKey { name, .. } if name.trim().is_empty() => {
            return bad("the API key needs a name (the header, query parameter or cookie)".into());
        }
        Auth::Basic { username } if username.contains(':') => {
            return bad("a basic-auth username cannot contain ':'".into());
        }
        _ => {}
    }
    Ok(())
}

/// What a sealed environment value of an MCP child process is bound to.
pub fn env_place(namespace: &str, name: &str) -> String {
    format!("source:{namespace}:env:{name}")
}

/// What a sealed header value is bound to.
pub fn header_place(namespace: &str, header: &str) -> String {
    format!("source:{namespace}:header:{header}")
}

/// Compares in time that depends only on the length, so the token cannot be
/// guessed byte by byte from response times.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
