//! Approving a paused call from the MCP client: an `elicitation/create`
//! request in a session, or an input-required result on 2026-07-28. Calls
//! that change executor's own settings are never approved this way.

use generator::envelope::{ErrorCode, ToolError};
use rmcp::RoleServer;
use rmcp::service::RequestContext;
use serde_json::{Value, json};

use super::{Handler, Mode};
use crate::catalog::Live;
use crate::errors::error;

/// The key of the approval question in an input-required round.
pub(super) const APPROVAL_KEY: &str = "approval";

/// How long a session client may take to answer an approval question
/// before the call is left paused.
const ELICITATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// What asking for approval through elicitation came to.
pub(super) enum Asked {
    /// The person answered; this is the call's outcome.
    Answered(Result<Value, ToolError>),
    /// 2026-07-28: the question goes back as an input-required result.
    Round(rmcp::model::InputRequiredResult),
    /// No question was asked (or it was dismissed): the call stays paused.
    Unasked,
}

impl Handler {
    /// Asks the client's user to approve a paused call, where the client
    /// can be asked: by an `elicitation/create` request in a session, or by
    /// an input-required result on 2026-07-28. Calls that change executor's
    /// own settings are never approved this way: an agent's client could
    /// answer for the person, so those wait for the web UI or the CLI.
    pub(super) async fn ask(
        &self,
        context: &RequestContext<RoleServer>,
        live: &Live,
        paused: &ToolError,
    ) -> Asked {
        let Some(id) = paused.execution_id.as_deref() else {
            return Asked::Unasked;
        };
        let Ok(Some(execution)) = crate::execution::get(&self.state, id) else {
            return Asked::Unasked;
        };
        let Ok(tool) = live.resolve(&execution.tool_path) else {
            return Asked::Unasked;
        };
        // A client made to ask for everything asked the owner, not itself.
        if crate::builtin::changes_settings(tool)
            || execution.rule.as_deref() == Some(crate::execution::APPROVE_ALL)
        {
            return Asked::Unasked;
        }
        if context
            .client_capabilities()
            .is_none_or(|c| c.elicitation.is_none())
        {
            return Asked::Unasked;
        }
        let Some(params) = approval_question(&execution) else {
            return Asked::Unasked;
        };
        if super::rounds::client_takes_rounds(context) {
            let mut requests = rmcp::model::InputRequests::new();
            requests.insert(
                APPROVAL_KEY.to_owned(),
                rmcp::model::InputRequest::Elicitation(rmcp::model::ElicitRequest::new(params)),
            );
            return Asked::Round(rmcp::model::InputRequiredResult::new(
                Some(requests),
                Some(execution.id),
            ));
        }
        match context
            .peer
            .create_elicitation_with_timeout(params, Some(ELICITATION_TIMEOUT))
            .await
        {
            Ok(answer) => match approval_action(&answer) {
                Some(action) => Asked::Answered(self.resume(&execution.id, action).await),
                None => Asked::Unasked,
            },
            Err(e) => {
                tracing::info!(execution = %execution.id, "approval by elicitation not answered: {e}");
                Asked::Unasked
            }
        }
    }

    /// The retry of a 2026-07-28 approval round: `handle` is the execution
    /// id the round carried. It is untrusted, so it must name a paused call
    /// of exactly this tool and these arguments.
    ///
    /// On the source view, an accepted call of an upstream MCP tool runs so
    /// that the client can take the upstream's rounds: a round it asks for
    /// is left in `round`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn answer_round(
        &self,
        live: &Live,
        caller: &crate::invoke::Caller,
        handle: &str,
        name: &str,
        arguments: &Value,
        answer: Option<Value>,
        round: &super::rounds::Pending,
    ) -> Result<Value, ToolError> {
        let mismatch = || {
            error(
                ErrorCode::InvalidInput,
                "the requestState of this retry does not belong to this call; call the tool again without it",
                None,
            )
        };
        // Only the caller that was paused may answer its round.
        let execution = crate::execution::get(&self.state, handle)
            .ok()
            .flatten()
            .filter(|e| e.caller == caller.record())
            .ok_or_else(mismatch)?;
        let (path, input) = match &self.mode {
            Mode::All => (name.to_owned(), arguments.clone()),
            Mode::Source(_) => {
                let (live, tools) = self.tools(caller);
                let path = tools.path(&live, name).ok_or_else(mismatch)?.to_owned();
                (path, arguments.clone())
            }
            Mode::Discover if name == "call" => (
                arguments["path"].as_str().unwrap_or_default().to_owned(),
                arguments.get("input").cloned().unwrap_or_else(|| json!({})),
            ),
            Mode::Discover => return Err(mismatch()),
            // A run paused on one of its calls: the execution must belong
            // to a run, and the retry must be `execute`.
            Mode::Code
                if name == "execute"
                    && self
                        .state
                        .store()
                        .run_of_execution(handle)
                        .ok()
                        .flatten()
                        .is_some() =>
            {
                (execution.tool_path.clone(), execution.input.clone())
            }
            Mode::Code => return Err(mismatch()),
        };
        let tool = live.resolve_as(&path, caller)?;
        if tool.path != execution.tool_path || input != execution.input {
            return Err(mismatch());
        }
        if execution.rule.as_deref() == Some(crate::execution::APPROVE_ALL) {
            return Err(crate::execution::paused_error(&self.state, &execution));
        }
        let action = answer
            .and_then(|a| serde_json::from_value::<rmcp::model::ElicitResult>(a).ok())
            .and_then(|a| approval_action(&a));
        match action {
            Some(crate::execution::Action::Accept)
                if matches!(self.mode, Mode::Source(_) | Mode::All)
                    && matches!(tool.binding, generator::ir::Binding::Mcp(_)) =>
            {
                self.resume_forwarding(&execution.id, round).await
            }
            Some(action) if !crate::builtin::changes_settings(tool) => {
                self.resume(&execution.id, action).await
            }
            _ => Err(crate::execution::paused_error(&self.state, &execution)),
        }
    }

    pub(super) async fn resume(
        &self,
        id: &str,
        action: crate::execution::Action,
    ) -> Result<Value, ToolError> {
        match crate::code::resume(&self.state, id, action, "the person at the MCP client").await? {
            Some(outcome) => outcome,
            None => Err(error(
                ErrorCode::InternalError,
                format!("execution {id} disappeared"),
                None,
            )),
        }
    }
}

/// The approval question: the tool, its arguments, and one yes/no field.
pub(super) fn approval_question(
    execution: &crate::store::Execution,
) -> Option<rmcp::model::ElicitRequestParams> {
    let schema = rmcp::model::ElicitationSchema::builder()
        .required_bool_property("approve", |b| {
            b.title("Run this call")
                .description("true runs the call now; false declines it")
        })
        .build()
        .ok()?;
    let arguments = serde_json::to_string_pretty(&execution.input).unwrap_or_default();
    Some(rmcp::model::ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: format!(
            "An agent wants to run {} (execution {}), which needs your approval. Arguments:\n{arguments}",
            execution.tool_path, execution.id
        ),
        requested_schema: schema,
    })
}

/// accept with `approve: true` runs the call; accept with `false`, or
/// decline, refuses it; cancel (dismissed) leaves it paused.
pub(super) fn approval_action(
    answer: &rmcp::model::ElicitResult,
) -> Option<crate::execution::Action> {
    use rmcp::model::ElicitationAction;
    match answer.action {
        ElicitationAction::Accept => {
            let approve = answer
                .content
                .as_ref()
                .and_then(|c| c.get("approve"))
                .and_then(Value::as_bool);
            match approve {
                Some(true) => Some(crate::execution::Action::Accept),
                Some(false) => Some(crate::execution::Action::Decline),
                None => None,
            }
        }
        ElicitationAction::Decline => Some(crate::execution::Action::Decline),
        _ => None,
    }
}
