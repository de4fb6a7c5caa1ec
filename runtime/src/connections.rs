//! Connections: an integration's credentials, stored by the service and
//! attached to upstream calls; agents never see them.
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
use serde_json::{Value, json};

use crate::errors::error;
use crate::state::AppState;

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
pub fn expand(integration: &str, tools: Vec<Tool>, connections: &[(Owner, String)]) -> Vec<Tool> {
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

fn check_name(what: &str, text: &str) -> Result<(), ToolError> {
    if generator::naming::is_valid_namespace(text) {
        return Ok(());
    }
    Err(error(
        ErrorCode::InvalidInput,
        format!("invalid {what} {text:?}: use 1 to 64 letters, digits, '_' or '-'"),
        None,
    ))
}

fn check_auth(auth: &Auth) -> Result<(), ToolError> {
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

/// Stores a connection (replacing one of the same name) and reloads.
pub async fn add(state: &AppState, input: AddConnection) -> Result<ConnectionSummary, ToolError> {
    let name = input
        .name
        .clone()
        .unwrap_or_else(|| generator::ir::DEFAULT_CONNECTION.to_owned());
    check_name("connection name", &name)?;
    let live = state.live();
    let Some(integration) = live.catalog.integration(&input.integration) else {
        return Err(error(
            ErrorCode::InvalidInput,
            format!(
                "no integration is named {:?}; add its source first (`executor tools sources` lists them)",
                input.integration
            ),
            None,
        ));
    };
    if integration.name == crate::builtin::NAMESPACE {
        return Err(error(
            ErrorCode::InvalidInput,
            "executor's own tools take no connection",
            None,
        ));
    }
    if integration.kind == generator::ir::SourceKind::Mcp {
        return Err(error(
            ErrorCode::InvalidInput,
            format!(
                "{} is an MCP server: its credentials go in its source's \"headers\" or \"env\" (executor.mcp.addSource) until MCP connections exist",
                integration.name
            ),
            None,
        ));
    }
    let auth = match input.auth {
        Some(auth) => auth,
        None => derive(integration, None)
            .map_err(|message| error(ErrorCode::InvalidInput, message, None))?,
    };
    let auth = fill_oauth_urls(auth, integration)?;
    check_auth(&auth)?;
    if input.secret.is_empty() && !matches!(auth, Auth::Oauth2 { .. }) {
        return Err(error(ErrorCode::InvalidInput, "the secret is empty", None));
    }
    let place = secret_place(&input.integration, input.owner, &name);
    let sealed = state
        .secrets
        .seal(input.secret.as_bytes(), &place)
        .map_err(internal)?;
    state
        .store()
        .put_connection(
            &input.integration,
            owner_name(input.owner),
            &name,
            &auth,
            &sealed,
        )
        .map_err(internal)?;
    state.reload().map_err(internal)?;
    let key = format!("{}.{}.{name}", input.integration, owner_name(input.owner));
    state.oauth.forget(&key).await;
    tracing::info!(connection = %key, "connection stored");
    let mut summary = summary(
        &input.integration,
        input.owner,
        &name,
        auth.clone(),
        !input.secret.is_empty(),
        crate::store::now(),
    );
    if let Auth::Oauth2 { .. } = auth {
        let live = state.live();
        let credential = live.credentials.get(&key).ok_or_else(|| {
            error(
                ErrorCode::InternalError,
                "the stored connection is missing",
                None,
            )
        })?;
        summary.authorization_url = Some(state.oauth.begin(state, &key, credential)?);
    }
    Ok(summary)
}

/// OAuth URLs not given come from the source's `oauth2` security scheme.
fn fill_oauth_urls(auth: Auth, integration: &Integration) -> Result<Auth, ToolError> {
    let flows = || {
        integration
            .security_schemes
            .values()
            .filter_map(|s| match s {
                SecurityScheme::Oauth2 { flows } => Some(flows),
                _ => None,
            })
            .flat_map(|f| f.values())
            .collect::<Vec<_>>()
    };
    match auth {
        Auth::Oauth2 {
            authorization_url,
            token_url,
            client_id,
            scopes,
        } => {
            let flow = flows()
                .into_iter()
                .find(|f| f.authorization_url.is_some() && f.token_url.is_some());
            let authorization_url =
                authorization_url.or_else(|| flow.and_then(|f| f.authorization_url.clone()));
            let token_url = token_url.or_else(|| flow.and_then(|f| f.token_url.clone()));
            if authorization_url.is_none() || token_url.is_none() {
                return Err(error(
                    ErrorCode::InvalidInput,
                    format!(
                        "{} declares no OAuth authorization-code flow: give --authorization-url and --token-url",
                        integration.name
                    ),
                    None,
                ));
            }
            Ok(Auth::Oauth2 {
                authorization_url,
                token_url,
                client_id,
                scopes,
            })
        }
        other => Ok(other),
    }
}

pub fn list(state: &AppState) -> Result<Vec<ConnectionSummary>, ToolError> {
    let rows = state.store().connections().map_err(internal)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            summary(
                &row.integration,
                row.owner,
                &row.name,
                row.auth,
                !row.sealed_secret.is_empty(),
                row.created_at,
            )
        })
        .collect())
}

pub async fn remove(state: &AppState, input: ConnectionName) -> Result<Value, ToolError> {
    let name = input
        .name
        .unwrap_or_else(|| generator::ir::DEFAULT_CONNECTION.to_owned());
    let removed = state
        .store()
        .remove_connection(&input.integration, owner_name(input.owner), &name)
        .map_err(internal)?;
    if !removed {
        return Err(error(
            ErrorCode::InvalidInput,
            format!(
                "{} has no connection {}/{name}; `executor connections list` shows them",
                input.integration,
                owner_name(input.owner)
            ),
            None,
        ));
    }
    state.reload().map_err(internal)?;
    state
        .oauth
        .forget(&format!(
            "{}.{}.{name}",
            input.integration,
            owner_name(input.owner)
        ))
        .await;
    Ok(
        json!({ "integration": input.integration, "owner": input.owner, "name": name, "removed": true }),
    )
}

fn summary(
    integration: &str,
    owner: Owner,
    name: &str,
    auth: Auth,
    has_secret: bool,
    created_at: i64,
) -> ConnectionSummary {
    ConnectionSummary {
        integration: integration.to_owned(),
        owner,
        name: name.to_owned(),
        auth,
        has_secret,
        tools: format!("{integration}.{}.{name}.*", owner_name(owner)),
        created_at,
        authorization_url: None,
    }
}

fn internal(e: anyhow::Error) -> ToolError {
    crate::errors::internal_error(e, "store the connection")
}

/// Runs one `connections.*` built-in operation.
pub async fn run(state: &AppState, operation: &str, input: Value) -> Result<Value, ToolError> {
    match operation {
        crate::builtin::CONNECTIONS_LIST => Ok(json!(list(state)?)),
        crate::builtin::CONNECTIONS_ADD => {
            let input: AddConnection = serde_json::from_value(input)
                .map_err(|e| error(ErrorCode::InvalidInput, format!("invalid input: {e}"), None))?;
            Ok(json!(add(state, input).await?))
        }
        crate::builtin::CONNECTIONS_REMOVE => {
            let input: ConnectionName = serde_json::from_value(input)
                .map_err(|e| error(ErrorCode::InvalidInput, format!("invalid input: {e}"), None))?;
            remove(state, input).await
        }
        other => Err(error(
            ErrorCode::InternalError,
            format!("unknown built-in operation {other}"),
            None,
        )),
    }
}
