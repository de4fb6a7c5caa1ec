//! Managing connections: adding (secret sealed, bound to its connection),
//! listing (never the secret: `hasSecret`), removing, each followed by a
//! reload. What a connection is lives in `credential`.
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
use generator::ir::{Integration, Owner, SecurityScheme};
use serde_json::{Value, json};

use crate::credential::{
    AddConnection, Auth, ConnectionName, ConnectionSummary, check_auth, check_name, derive,
    owner_name, secret_place,
};
use crate::errors::error;
use crate::state::AppState;

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
        other => Err(crate::builtin::unknown(other)),
    }
}
