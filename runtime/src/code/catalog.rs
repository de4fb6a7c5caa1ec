//! What a script (and code mode's MCP view) reads of the catalog: search
//! hits with their TypeScript signatures, a tool's declarations, and the
//! `execute` tool's description naming every integration.

use generator::envelope::ToolError;
use serde_json::{Value, json};

use crate::caller::Caller;
use crate::catalog::Live;
use crate::state::AppState;

/// `tools.search`: the best matches, each with its TypeScript signature,
/// so that one search is enough to write the call.
pub fn search(
    state: &AppState,
    caller: &Caller,
    query: &str,
    integration: Option<&str>,
    limit: usize,
) -> Value {
    let live = state.live();
    let hits: Vec<Value> = live
        .search_as(caller, query, integration, limit)
        .into_iter()
        .filter_map(|hit| live.catalog.tool(&hit.path))
        .map(|tool| {
            json!({
                "path": tool.path,
                "description": first_line(tool.description.as_deref().or(tool.title.as_deref())),
                "signature": emitted(&live, tool, generator::emit::typescript::tool_signature),
            })
        })
        .collect();
    json!(hits)
}

/// `tools.describe`: a tool's input and output as TypeScript declarations,
/// printed by the same emitter as `executor generate --format typescript`.
pub fn describe(state: &AppState, caller: &Caller, path: &str) -> Result<Value, ToolError> {
    let live = state.live();
    let tool = live.resolve_as(path, caller)?;
    Ok(json!({
        "path": tool.path,
        "description": tool.description,
        "declarations": emitted(&live, tool, generator::emit::typescript::tool_declarations),
    }))
}

/// What the TypeScript emitter prints for one tool, given the tool with
/// its schemas parsed and the definitions it reaches.
fn emitted(
    live: &Live,
    tool: &crate::catalog::LiveTool,
    emit: fn(&generator::ir::Catalog, &generator::ir::Tool) -> String,
) -> String {
    let catalog = live.catalog_for(tool);
    catalog
        .tools
        .first()
        .map(|t| emit(&catalog, t))
        .unwrap_or_default()
}

/// What the `execute` tool says of itself: every integration with a
/// one-line summary, how to find tools, and an example.
pub fn description(live: &Live, caller: &Caller) -> String {
    let mut text = String::from(
        "Run a TypeScript program against executor's tools and return what it computes. \
The code is the body of an async function: `await` works at the top and `return` gives the result. \
Call a tool as `await tools.<path>(input)`; it answers `{ ok: true, data } | { ok: false, error }`. \
Find tools with `await tools.search(\"what you need\", { limit: 5 })` (each hit has its TypeScript signature; `integration: \"github\"` keeps to one API) \
and read one with `await tools.describe(path)`. `console.log` goes to the logs. \
No network, files or timers beyond setTimeout; calls that need approval pause the whole run.\n\nIntegrations:\n",
    );
    for integration in &live.catalog.integrations {
        let count = live
            .catalog
            .tools
            .iter()
            .filter(|t| t.integration == integration.name && caller.sees(t))
            .count();
        if count == 0 && caller.grant.is_some() {
            continue;
        }
        let summary = first_line(
            integration
                .description
                .as_deref()
                .or(integration.title.as_deref()),
        )
        .unwrap_or_default();
        text.push_str(&format!(
            "- {} ({count} tools){}{summary}\n",
            integration.name,
            if summary.is_empty() { "" } else { ": " }
        ));
    }
    let example = live
        .catalog
        .tools
        .iter()
        .find(|t| t.integration != crate::builtin::NAMESPACE && caller.sees(t))
        .map_or("executor.sources.list", |t| t.path.as_str());
    text.push_str(&format!(
        "\nExample:\nconst hits = await tools.search(\"list items\", {{ limit: 3 }});\nconst r = await {}({{}});\nreturn r.ok ? r.data : r.error;\n",
        generator::emit::typescript::call_expression(example)
    ));
    text
}

fn first_line(text: Option<&str>) -> Option<String> {
    text.and_then(|t| t.lines().find(|l| !l.trim().is_empty()))
        .map(|l| {
            let line = l.trim();
            match line.char_indices().nth(160) {
                Some((i, _)) => format!("{}…", &line[..i]),
                None => line.to_owned(),
            }
        })
}
