//! The source view's calls (`/mcp?source=<namespace>`): one source under
//! its own tool names, each call validated, governed and audited like any
//! other, and an upstream MCP tool's result (or its input-required round,
//! see `rounds.rs`) passed back as the upstream gave it.

use generator::envelope::ToolError;
use rmcp::model::{CallToolRequestParams, CallToolResponse};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::Value;

use super::Handler;
use super::rounds;
use super::stamp::Stamped;
use crate::catalog::Live;
use crate::invoke;

/// What a call of the source view came to.
pub(super) enum Called {
    /// The answer as it goes back: the upstream's result or round.
    Answer(CallToolResponse),
    /// An outcome for the envelope (a pause is asked about first).
    Outcome(Result<Value, ToolError>),
}

/// What a passthrough call gave back.
pub(super) enum Passed {
    /// An upstream MCP tool's result (or input-required round), as it came.
    Verbatim(CallToolResponse),
    /// Any other tool's data, sent in the envelope.
    Data(Value),
}

impl Handler {
    /// A call of the source view, `path` the tool's path in the catalog;
    /// `forwarded`: its `requestState` is one executor sealed for a round.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn call_source(
        &self,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
        live: &Live,
        caller: &invoke::Caller,
        path: String,
        arguments: Value,
        forwarded: bool,
    ) -> Result<Called, McpError> {
        let relay = rounds::relay_to(context);
        // A client of 2026-07-28 answers an upstream's input-required
        // rounds itself; the retry of one carries executor's state.
        let (round, began, approved) = if rounds::client_takes_rounds(context) {
            rounds::check_responses(request.input_responses.as_ref())?;
            let continued = match request.request_state.as_deref() {
                Some(state) if forwarded => {
                    Some(rounds::open(&self.state, caller, &path, &arguments, state)?)
                }
                _ => None,
            };
            let began = continued.as_ref().map(|c| c.began);
            let approved = continued.as_ref().and_then(|c| c.approved.clone());
            let round = crate::upstream::Round {
                input_responses: request.input_responses.clone(),
                request_state: continued.and_then(|c| c.upstream),
                capabilities: context.client_capabilities(),
            };
            (Some(round), began, approved)
        } else if forwarded {
            return Err(McpError::invalid_params(
                "requestState answers a 2026-07-28 input-required round; this session speaks an older revision",
                None,
            ));
        } else {
            (None, None, None)
        };
        match self
            .passthrough(
                live,
                caller,
                &path,
                arguments.clone(),
                relay,
                round,
                approved.is_some(),
            )
            .await
        {
            Ok(Passed::Verbatim(CallToolResponse::InputRequired(result))) => {
                let result = rounds::forward(
                    &self.state,
                    caller,
                    &path,
                    &arguments,
                    began,
                    approved,
                    result,
                )?;
                Ok(Called::Answer(CallToolResponse::InputRequired(result)))
            }
            Ok(Passed::Verbatim(CallToolResponse::Complete(result))) => {
                Ok(Called::Answer(result.stamped().into()))
            }
            Ok(Passed::Verbatim(other)) => Ok(Called::Answer(other)),
            Ok(Passed::Data(data)) => Ok(Called::Outcome(Ok(data))),
            Err(crate::upstream::Refused::Rpc(e)) => Err(e),
            Err(crate::upstream::Refused::Tool(e)) => Ok(Called::Outcome(Err(e))),
        }
    }

    /// A call of the source view, on record like every call. `round`
    /// carries a 2026-07-28 client's answers on to the upstream;
    /// `approved`: the call's first round was approved by a person.
    #[allow(clippy::too_many_arguments)]
    async fn passthrough(
        &self,
        live: &Live,
        caller: &invoke::Caller,
        path: &str,
        input: Value,
        relay: crate::upstream::Relay,
        round: Option<crate::upstream::Round>,
        approved: bool,
    ) -> Result<Passed, crate::upstream::Refused> {
        use crate::upstream::Refused;
        let started = std::time::Instant::now();
        let mut ran = false;
        let result = async {
            let tool = live.resolve_as(path, caller).map_err(Refused::Tool)?;
            live.validate_input(tool, &input).map_err(Refused::Tool)?;
            if approved {
                // A later round of a call a person approved: not asked
                // again, but scope and blocks hold.
                invoke::permit_round(live, tool, caller).map_err(Refused::Tool)?;
            } else {
                // Every round is a call: a policy changed since the first
                // round holds for the next.
                invoke::permit(&self.state, live, tool, &input, caller).map_err(Refused::Tool)?;
            }
            ran = true;
            self.run_source_tool(live, tool, input, Some(relay), round)
                .await
        }
        .await;
        // A verbatim result's size is not known.
        let recorded = match &result {
            Ok(_) => Ok(()),
            Err(Refused::Tool(e)) => Err(e.clone()),
            Err(Refused::Rpc(e)) => Err(ToolError::from(Refused::Rpc(e.clone()))),
        };
        self.state
            .audit
            .record_call(caller, path, ran, &recorded, started, 0);
        result
    }

    /// Runs a permitted call through its binding; what an upstream MCP
    /// server sends about it goes to `relay`, if given.
    pub(super) async fn run_source_tool(
        &self,
        live: &Live,
        tool: &crate::catalog::LiveTool,
        input: Value,
        relay: Option<crate::upstream::Relay>,
        round: Option<crate::upstream::Round>,
    ) -> Result<Passed, crate::upstream::Refused> {
        use crate::upstream::Refused;
        match &tool.binding {
            generator::ir::Binding::Mcp(binding) => {
                // Bounded per source like every call (`invoke::run`).
                let _slot = self
                    .state
                    .in_flight
                    .enter(&tool.integration)
                    .await
                    .map_err(Refused::Tool)?;
                let target = live.mcp_target(&tool.integration);
                let response = self
                    .state
                    .upstreams
                    .call_raw(
                        &binding.upstream,
                        &target,
                        &binding.tool_name,
                        input,
                        relay,
                        round,
                    )
                    .await?;
                Ok(Passed::Verbatim(response))
            }
            _ => Ok(Passed::Data(
                invoke::run(&self.state, live, tool, input)
                    .await
                    .map_err(Refused::Tool)?,
            )),
        }
    }
}
