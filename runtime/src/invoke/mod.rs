//! The one path every call takes: resolve the tool, validate the input
//! against its schema, then run it through its binding.

pub mod http;
pub mod wire;

use generator::envelope::{ErrorCode, ToolError};
use generator::ir::Binding;
use serde_json::Value;

use crate::catalog::error;
use crate::server::AppState;
use crate::sources;

/// Runs a tool: `data` on success, a `ToolError` otherwise.
pub async fn invoke(state: &AppState, path: &str, input: Value) -> Result<Value, ToolError> {
    let live = state.live();
    let tool = live.resolve(path)?;
    live.validate_input(tool, &input)?;
    match &tool.binding {
        Binding::Http(binding) => {
            let servers = live
                .catalog
                .integration(&tool.integration)
                .map(|i| i.servers.as_slice())
                .unwrap_or_default();
            let source = live
                .sources
                .get(&tool.integration)
                .cloned()
                .unwrap_or_default();
            http::call(&state.http, tool, binding, servers, &source, &input).await
        }
        Binding::Builtin(builtin) => sources::run(state, &builtin.operation, input).await,
        Binding::Mcp(binding) => {
            let target = live
                .sources
                .get(&tool.integration)
                .and_then(|s| s.mcp.clone())
                .unwrap_or_default();
            state
                .upstreams
                .call(&binding.upstream, &target, &binding.tool_name, input)
                .await
        }
        Binding::Graphql(_) => Err(error(
            ErrorCode::InternalError,
            format!(
                "{} cannot be called yet: this kind of source is not supported",
                tool.path
            ),
            None,
        )),
    }
}
