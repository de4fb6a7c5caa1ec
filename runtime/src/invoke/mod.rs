//! The one path every call takes: resolve the tool, validate the input
//! against its schema, apply the policy, then run it through its binding.
//! REST, MCP, the CLI and generated clients all come through `invoke`, so a
//! policy cannot be sidestepped by choosing another door.

pub mod graphql;
pub mod http;
pub mod wire;

use generator::envelope::{ErrorCode, ToolError};
use generator::ir::{Binding, Policy};

use crate::catalog::LiveTool as Tool;
use serde_json::Value;

use crate::catalog::Live;
use crate::credential::Credential;
use crate::errors::error;
use crate::state::AppState;
use crate::{builtin, execution, policies, sources};

pub use crate::caller::{Caller, Role};

/// Runs a tool: `data` on success, a `ToolError` otherwise (including
/// `execution_paused` when the call waits for approval).
pub async fn invoke(
    state: &AppState,
    path: &str,
    input: Value,
    caller: &Caller,
) -> Result<Value, ToolError> {
    let started = std::time::Instant::now();
    let live = state.live();
    let mut ran = false;
    let mut canonical = None;
    let result = async {
        let tool = live.resolve_as(path, caller)?;
        canonical = Some(tool.path.as_str());
        live.validate_input(tool, &input)?;
        permit(state, &live, tool, &input, caller)?;
        ran = true;
        run(state, &live, tool, input).await
    }
    .await;
    let bytes = result.as_ref().map_or(0, crate::audit::size);
    let tool = canonical.unwrap_or(path);
    state
        .audit
        .record_call(caller, tool, ran, &result, started, bytes);
    result
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
    // A second line behind `resolve_as`: a scoped caller never runs a
    // tool out of its scope, whichever door it came by.
    if !caller.sees(tool) {
        return Err(error(
            ErrorCode::ToolNotFound,
            format!("no tool has the path {:?}", tool.path),
            None,
        ));
    }
    let decision = live.rules.decide(tool);
    let mut rule = decision.rule.as_deref();
    let action = match decision.action {
        Policy::Allow if caller.is_agent() && builtin::changes_settings(tool) => {
            Policy::RequireApproval
        }
        // A client made to ask for everything asks.
        Policy::Allow if caller.approves_all() => {
            rule = Some(execution::APPROVE_ALL);
            Policy::RequireApproval
        }
        action => action,
    };
    match action {
        Policy::Allow => Ok(()),
        Policy::RequireApproval => Err(execution::pause(state, tool, input, caller, rule)),
        // Blocked tools are not in the live catalog; this is a second line.
        Policy::Block => Err(error(
            ErrorCode::ToolBlocked,
            format!("{} is blocked by a policy", tool.path),
            None,
        )),
    }
}

/// The policy for a later round of a call a person approved (an upstream's
/// input-required round, answered and retried): the scope and blocks
/// still hold, but the call is not paused for approval again.
pub fn permit_round(live: &Live, tool: &Tool, caller: &Caller) -> Result<(), ToolError> {
    if !caller.sees(tool) {
        return Err(error(
            ErrorCode::ToolNotFound,
            format!("no tool has the path {:?}", tool.path),
            None,
        ));
    }
    if live.rules.decide(tool).action == Policy::Block {
        return Err(error(
            ErrorCode::ToolBlocked,
            format!("{} is blocked by a policy", tool.path),
            None,
        ));
    }
    Ok(())
}

/// Answers a paused call (see [`execution::resume`] for how it runs
/// exactly once): an accepted call runs against today's catalog, so a tool
/// removed or blocked since the pause is not run.
pub async fn resume(
    state: &AppState,
    id: &str,
    action: execution::Action,
    by: &str,
) -> Result<Option<Result<Value, ToolError>>, ToolError> {
    resume_with(state, id, action, by, |execution| async move {
        let live = state.live();
        let tool = live.resolve(&execution.tool_path)?;
        live.validate_input(tool, &execution.input)?;
        run(state, &live, tool, execution.input).await
    })
    .await
}

/// [`resume`] with the accepted call run by `runner` (the MCP source view
/// runs one so that its client can take the upstream's rounds).
pub async fn resume_with<F, Fut>(
    state: &AppState,
    id: &str,
    action: execution::Action,
    by: &str,
    runner: F,
) -> Result<Option<Result<Value, ToolError>>, ToolError>
where
    F: FnMut(crate::store::Execution) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ToolError>>,
{
    let started = std::time::Instant::now();
    let answered = execution::resume(state, id, action, runner).await;
    // The answer is on record: who answered, and how the call went.
    if let Ok(Some(result)) = &answered
        && let Ok(Some(execution)) = execution::get(state, id)
    {
        let verb = match action {
            execution::Action::Accept => "approved",
            execution::Action::Decline => "declined",
        };
        let caller = crate::clients::recorded(state, &execution.caller);
        state.audit.record(
            &caller,
            &execution.tool_path,
            &format!("{verb} by {by}"),
            crate::audit::outcome_of(true, result).1,
            started.elapsed(),
            result.as_ref().map_or(0, crate::audit::size),
            Some(id.to_owned()),
        );
    }
    answered
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
