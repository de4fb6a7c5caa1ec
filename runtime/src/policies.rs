//! Managing the policy rules: the `executor.policies.*` built-in tools and
//! `/api/policies` both come here. Every change is stored in one
//! transaction, then the live catalog is rebuilt (blocked tools leave it)
//! and MCP clients are told their tool list changed.

use generator::envelope::{ErrorCode, ToolError};
use serde_json::Value;

use crate::builtin::{self, AddPolicy, MovePolicy, Nothing, PolicyId, parse, to_value};
use crate::errors::error;
use crate::policy::{Pattern, Rule};
use crate::shared::Shared;

/// Runs one `policies.*` operation.
pub fn run(state: &Shared, operation: &str, input: Value) -> Result<Value, ToolError> {
    let output = match operation {
        builtin::POLICIES_LIST => {
            parse::<Nothing>(input)?;
            to_value(list(state)?)
        }
        builtin::POLICIES_ADD => to_value(add(state, parse::<AddPolicy>(input)?)?),
        builtin::POLICIES_REMOVE => to_value(remove(state, &parse::<PolicyId>(input)?.id)?),
        builtin::POLICIES_MOVE => {
            let MovePolicy { id, position } = parse(input)?;
            to_value(move_to(state, &id, position)?)
        }
        other => return Err(builtin::unknown(other)),
    };
    Ok(output)
}

pub fn list(state: &Shared) -> Result<Vec<Rule>, ToolError> {
    state.store().policies().map_err(internal)
}

pub fn add(state: &Shared, input: AddPolicy) -> Result<Rule, ToolError> {
    let pattern = Pattern::parse(input.pattern.trim()).map_err(|e| {
        error(
            ErrorCode::InvalidInput,
            e.to_string(),
            Some(serde_json::json!({ "pointer": "/pattern" })),
        )
    })?;
    if input.position == Some(0) {
        return Err(error(
            ErrorCode::InvalidInput,
            "position counts from 1 (the first rule)",
            Some(serde_json::json!({ "pointer": "/position" })),
        ));
    }
    let rule = state
        .store()
        .add_policy(&pattern.to_string(), input.action, input.position)
        .map_err(internal)?;
    reload(state)?;
    tracing::info!(policy = %rule.id, pattern = %rule.pattern, action = crate::policy::action_name(rule.action), "policy added");
    Ok(rule)
}

pub fn remove(state: &Shared, id: &str) -> Result<Rule, ToolError> {
    let rules = list(state)?;
    let Some(rule) = rules.into_iter().find(|r| r.id == id) else {
        return Err(unknown(state, id));
    };
    state.store().remove_policy(id).map_err(internal)?;
    reload(state)?;
    tracing::info!(policy = id, "policy removed");
    Ok(rule)
}

pub fn move_to(state: &Shared, id: &str, position: usize) -> Result<Vec<Rule>, ToolError> {
    if position == 0 {
        return Err(error(
            ErrorCode::InvalidInput,
            "position counts from 1 (the first rule)",
            Some(serde_json::json!({ "pointer": "/position" })),
        ));
    }
    if !state.store().move_policy(id, position).map_err(internal)? {
        return Err(unknown(state, id));
    }
    reload(state)?;
    list(state)
}

fn unknown(state: &Shared, id: &str) -> ToolError {
    let ids: Vec<String> = list(state)
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.id)
        .collect();
    error(
        ErrorCode::InvalidInput,
        format!(
            "no policy has the id {id:?}; {}",
            if ids.is_empty() {
                "there are no policies".to_owned()
            } else {
                format!("the ids are {}", ids.join(", "))
            }
        ),
        Some(serde_json::json!({ "pointer": "/id" })),
    )
}

fn reload(state: &Shared) -> Result<(), ToolError> {
    state.reload().map_err(internal)
}

fn internal(e: anyhow::Error) -> ToolError {
    crate::errors::internal_error(e, "read or store the policies")
}
