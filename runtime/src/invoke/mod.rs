//! The one path every call takes: resolve the tool, validate the input
//! against its schema, apply the policy, then run it through its binding.
//! REST, MCP, the CLI and generated clients all come through `invoke`, so a
//! policy cannot be sidestepped by choosing another door.

pub mod graphql;
pub mod http;
pub mod wire;

use std::collections::HashMap;
use std::sync::Arc;

use generator::envelope::{ErrorCode, ToolError};
use generator::ir::{Binding, Policy, Tool};
use serde_json::Value;

use crate::catalog::Live;
use crate::credential::Credential;
use crate::errors::error;
use crate::state::AppState;
use crate::{builtin, execution, policies, sources};

/// Who is calling. Agents (MCP) may not change executor's own settings
/// without a person's approval; the machine's owner (the token holder using
/// the REST API, the CLI or a generated client) may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The machine's owner: the REST API, the CLI, generated clients.
    Owner,
    /// An MCP client.
    Agent,
}

/// Who makes a call. Passed by reference through `invoke`, `permit` and
/// `execution::pause`, so that what a caller is can grow (a client
/// identity, its scope, its own policies) without touching every signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub role: Role,
    /// The client's name, when it has one of its own.
    pub client: Option<String>,
}

impl Caller {
    pub const OWNER: Caller = Caller {
        role: Role::Owner,
        client: None,
    };
    pub const AGENT: Caller = Caller {
        role: Role::Agent,
        client: None,
    };

    pub fn is_agent(&self) -> bool {
        self.role == Role::Agent
    }

    /// How executions record the caller.
    pub fn as_str(&self) -> &'static str {
        match self.role {
            Role::Owner => "api",
            Role::Agent => "mcp",
        }
    }
}

/// Runs a tool: `data` on success, a `ToolError` otherwise (including
/// `execution_paused` when the call waits for approval).
pub async fn invoke(
    state: &AppState,
    path: &str,
    input: Value,
    caller: &Caller,
) -> Result<Value, ToolError> {
    let live = state.live();
    let tool = live.resolve(path)?;
    live.validate_input(tool, &input)?;
    permit(state, &live, tool, &input, caller)?;
    run(state, &live, tool, input).await
}

/// Applies the policy to a resolved, validated call: `Ok` when it may run
/// now; `execution_paused` (the pause is stored) or `tool_blocked` if not.
pub fn permit(
    state: &AppState,
    live: &Live,
    tool: &Tool,
    input: &Value,
    caller: &Caller,
) -> Result<(), ToolError> {
    let decision = live.rules.decide(tool);
    let action = match decision.action {
        Policy::Allow if caller.is_agent() && builtin::changes_settings(tool) => {
            Policy::RequireApproval
        }
        action => action,
    };
    match action {
        Policy::Allow => Ok(()),
        Policy::RequireApproval => Err(execution::pause(
            state,
            tool,
            input,
            caller,
            decision.rule.as_deref(),
        )),
        // Blocked tools are not in the live catalog; this is a second line.
        Policy::Block => Err(error(
            ErrorCode::ToolBlocked,
            format!("{} is blocked by a policy", tool.path),
            None,
        )),
    }
}

/// Calls in flight to each source, bounded: a slow or looping upstream
/// holds at most [`InFlight::per_source`] sockets; further calls wait for a
/// slot (up to the upstream timeout), then fail clearly.
pub struct InFlight {
    per_source: usize,
    sources: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
}

impl InFlight {
    /// 64 calls per source, or `EXECUTOR_MAX_CALLS_PER_SOURCE`.
    pub fn from_env() -> InFlight {
        let per_source = crate::home::setting("EXECUTOR_MAX_CALLS_PER_SOURCE", 64) as usize;
        InFlight {
            per_source,
            sources: Default::default(),
        }
    }

    async fn enter(
        &self,
        integration: &str,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, ToolError> {
        let slots = self
            .sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(integration.to_owned())
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(self.per_source)))
            .clone();
        let wait = crate::outbound::upstream_timeout();
        match tokio::time::timeout(wait, slots.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(error(
                ErrorCode::Overloaded,
                format!(
                    "{integration} already has {} calls in flight and none finished within {} s: try again later",
                    self.per_source,
                    wait.as_secs()
                ),
                None,
            )),
        }
    }
}

/// Runs a resolved, validated and permitted call through its binding.
pub async fn run(
    state: &AppState,
    live: &Live,
    tool: &Tool,
    input: Value,
) -> Result<Value, ToolError> {
    let _slot = match &tool.binding {
        Binding::Builtin(_) => None,
        _ => Some(state.in_flight.enter(&tool.integration).await?),
    };
    match &tool.binding {
        Binding::Http(binding) => {
            let servers = live
                .catalog
                .integration(&tool.integration)
                .map(|i| i.servers.as_slice())
                .unwrap_or_default();
            let source = live.source(&tool.integration);
            let (source, input) = (&source, &input);
            let call = move |credential: Option<Credential>| async move {
                let credential = credential.as_ref();
                http::call(
                    &state.http,
                    tool,
                    binding,
                    servers,
                    source,
                    credential,
                    input,
                )
                .await
            };
            with_credential(state, live, tool, call).await
        }
        Binding::Builtin(builtin) if builtin.operation.starts_with("policies.") => {
            policies::run(state, &builtin.operation, input)
        }
        Binding::Builtin(builtin) if builtin.operation.starts_with("connections.") => {
            crate::connections::run(state, &builtin.operation, input).await
        }
        Binding::Builtin(builtin) => sources::run(state, &builtin.operation, input).await,
        Binding::Mcp(binding) => {
            let target = live.mcp_target(&tool.integration);
            // What the server echoes of the source's headers is never passed on.
            let secrets = http::Secrets::of(&live.source(&tool.integration), None);
            let result = state
                .upstreams
                .call(&binding.upstream, &target, &binding.tool_name, input)
                .await;
            match result {
                Ok(mut data) => {
                    secrets.redact_answer(&mut data);
                    Ok(data)
                }
                Err(mut e) => {
                    e.message = secrets.redact(&e.message);
                    if let Some(details) = e.details.as_mut() {
                        secrets.redact_answer(details);
                    }
                    Err(e)
                }
            }
        }
        Binding::Graphql(binding) => {
            let source = live.source(&tool.integration);
            let (source, input) = (&source, &input);
            let call = move |credential: Option<Credential>| async move {
                let credential = credential.as_ref();
                graphql::call(&state.http, tool, binding, source, credential, input).await
            };
            with_credential(state, live, tool, call).await
        }
    }
}

/// Calls with the tool's connection, if it has one. An OAuth connection
/// gives its current access token; refused once, the call is made again
/// with a new one.
async fn with_credential<F, Fut>(
    state: &AppState,
    live: &Live,
    tool: &Tool,
    call: F,
) -> Result<Value, ToolError>
where
    F: Fn(Option<Credential>) -> Fut,
    Fut: Future<Output = Result<Value, ToolError>>,
{
    let credential = live.credential(tool);
    let Some(oauth) = credential.filter(|c| c.auth.is_oauth()) else {
        return call(credential.cloned()).await;
    };
    let key = live.credential_key(tool);
    let token = state.oauth.bearer(state, &key, oauth, None).await?;
    let stale = token.secret.clone();
    match call(Some(token)).await {
        Err(e) if e.code == ErrorCode::ConnectionRejected => {
            let token = state.oauth.bearer(state, &key, oauth, Some(&stale)).await?;
            call(Some(token)).await
        }
        other => other,
    }
}
