//! The catalog as MCP tools: every tool (the default view), one source
//! under its own names, or the three discovery tools; each tool's input
//! and output schemas as MCP carries them.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use generator::ir::SchemaRole;

use crate::catalog::LiveTool as IrTool;
use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

use crate::catalog::{Live, Parsed};

/// Tools per `tools/list` page. With 500, a page of GitHub's tools built
/// tens of megabytes of trees at once: the first page after an idle spell
/// took 30–70 ms, faulting that memory in again, and the whole catalog
/// was slower too (four specs, server side: 330–410 ms against 250–266 ms
/// with 250 a page, first page 13–16 ms).
pub const PAGE_SIZE: usize = 250;

/// A short list of MCP tools, built once per live catalog.
#[derive(Default)]
pub struct McpTools {
    pub(super) list: Vec<Tool>,
    pub(super) by_name: HashMap<String, usize>,
    /// The catalog path of each tool in `list`.
    pub(super) paths: Vec<String>,
}

impl McpTools {
    /// The catalog path behind an MCP tool name.
    pub(super) fn path(&self, name: &str) -> Option<&str> {
        self.by_name.get(name).map(|&i| self.paths[i].as_str())
    }
}

pub(super) fn first_line(text: Option<&str>) -> Option<String> {
    text.and_then(|t| t.lines().find(|l| !l.trim().is_empty()))
        .map(|l| l.trim().to_owned())
}

/// The tools one MCP view lists, for one live catalog.
#[derive(Clone)]
pub(super) enum View {
    /// Every catalog tool under its path, built a page at a time from the
    /// live catalog. Kept built, 3,000 tools with self-contained schemas
    /// (GitHub's, Stripe's, Kubernetes' and OpenAI's: 28.8 MB as JSON) cost
    /// more memory than the whole catalog; built from the catalog's
    /// definition graphs (made when the catalog is loaded), a page costs
    /// milliseconds.
    Catalog,
    /// The catalog tools a scoped client may see, by their place in the
    /// catalog (made once per catalog and client).
    Subset(Arc<Vec<usize>>),
    /// A short list built once per catalog: one source's tools, or the
    /// discovery or code tools.
    Built(Arc<McpTools>),
}

impl View {
    pub(super) fn len(&self, live: &Live) -> usize {
        match self {
            View::Catalog => live.catalog.tools.len(),
            View::Subset(at) => at.len(),
            View::Built(tools) => tools.list.len(),
        }
    }

    /// The tools from `start` to `end` (clamped), in listing order.
    pub(super) fn page(&self, live: &Live, start: usize, end: usize) -> Vec<Tool> {
        match self {
            View::Catalog => {
                // The page's tools share definitions: each is parsed once.
                let mut parsed = Parsed::default();
                live.catalog
                    .tools
                    .get(start..end.min(live.catalog.tools.len()))
                    .unwrap_or_default()
                    .iter()
                    .map(|tool| mcp_tool_in(live, tool, &mut parsed))
                    .collect()
            }
            View::Subset(at) => {
                let mut parsed = Parsed::default();
                at.get(start..end.min(at.len()))
                    .unwrap_or_default()
                    .iter()
                    .map(|&i| mcp_tool_in(live, &live.catalog.tools[i], &mut parsed))
                    .collect()
            }
            View::Built(tools) => tools
                .list
                .get(start..end.min(tools.list.len()))
                .unwrap_or_default()
                .to_vec(),
        }
    }

    /// The MCP tool of this name, as listed.
    pub(super) fn get(&self, live: &Live, name: &str) -> Option<Tool> {
        match self {
            View::Catalog => live.catalog.tool(name).map(|tool| mcp_tool(live, tool)),
            View::Subset(_) => self
                .path(live, name)
                .and_then(|path| live.catalog.tool(path))
                .map(|tool| mcp_tool(live, tool)),
            View::Built(tools) => tools.by_name.get(name).map(|&i| tools.list[i].clone()),
        }
    }

    /// The catalog path behind an MCP tool name.
    pub(super) fn path<'a>(&'a self, live: &'a Live, name: &str) -> Option<&'a str> {
        match self {
            View::Catalog => live.catalog.tool(name).map(|t| t.path.as_str()),
            View::Subset(at) => live
                .catalog
                .tools
                .binary_search_by(|t| t.path.as_str().cmp(name))
                .ok()
                .filter(|i| at.binary_search(i).is_ok())
                .map(|i| live.catalog.tools[i].path.as_str()),
            View::Built(tools) => tools.path(name),
        }
    }

    /// Whether the listing gave this tool an output schema (its answers
    /// must then match it).
    pub(super) fn promises_output(&self, live: &Live, name: &str) -> bool {
        match self {
            View::Catalog | View::Subset(_) => live
                .catalog
                .tool(name)
                .is_some_and(|tool| output_listed(live, &tool.integration, &tool.output.parse())),
            View::Built(tools) => tools
                .by_name
                .get(name)
                .is_some_and(|&i| tools.list[i].output_schema.is_some()),
        }
    }
}

/// Whether a tool's output schema is small enough to list (see
/// [`MAX_OUTPUT_SCHEMA_BYTES`]), measured without building it.
fn output_listed(live: &Live, integration: &str, output: &Value) -> bool {
    live.graph(integration).standalone_len(output) <= MAX_OUTPUT_SCHEMA_BYTES
}

/// One source's tools under their own names: an upstream MCP server's
/// tools as that server names them (with its own output schema, results
/// passed through), other sources' tools by their name within the
/// integration (results in the envelope). With several connections, the
/// first in path order keeps a name.
pub(super) fn source_tools(
    live: &Live,
    namespace: &str,
    caller: &crate::caller::Caller,
) -> McpTools {
    let mut tools = McpTools::default();
    for tool in live
        .catalog
        .tools
        .iter()
        .filter(|t| t.integration == namespace && caller.sees(t))
    {
        let (name, mut mcp) = match &tool.binding {
            generator::ir::Binding::Mcp(binding) => {
                let mut mcp = mcp_tool(live, tool);
                let output = tool.output.parse();
                mcp.output_schema = (output.as_object().is_some_and(|o| !o.is_empty()))
                    .then(|| Arc::new(object(live.standalone(tool, SchemaRole::Output))));
                (binding.tool_name.clone(), mcp)
            }
            _ => (tool.name.clone(), mcp_tool(live, tool)),
        };
        if tools.by_name.contains_key(&name) {
            continue;
        }
        mcp.name = name.clone().into();
        tools.by_name.insert(name, tools.list.len());
        tools.paths.push(tool.path.clone());
        tools.list.push(mcp);
    }
    tools
}

/// Output schemas larger than this (self-contained, as JSON) are left out
/// of `tools/list`: some APIs answer with objects whose schemas run to
/// hundreds of kilobytes (GitHub's repository), which would flood an agent's
/// context and make listing a large catalog take seconds. `describe` (in
/// the discovery view) and `GET /api/tools/{path}` still give them.
pub const MAX_OUTPUT_SCHEMA_BYTES: usize = 16 * 1024;

pub(super) fn mcp_tool(live: &Live, tool: &IrTool) -> Tool {
    mcp_tool_in(live, tool, &mut Parsed::default())
}

fn mcp_tool_in(live: &Live, tool: &IrTool, parsed: &mut Parsed) -> Tool {
    let integration = tool.integration.as_str();
    let input = object(live.standalone_in(integration, tool.input.parse(), parsed));
    let output = tool.output.parse();
    let output = output_listed(live, integration, &output)
        .then(|| live.standalone_in(integration, output, parsed));
    let description = tool
        .description
        .clone()
        .or_else(|| tool.title.clone())
        .unwrap_or_else(|| tool.name.clone());
    let a = &tool.annotations;
    let annotations = ToolAnnotations::from_raw(
        tool.title.clone(),
        a.read_only_hint,
        a.destructive_hint,
        a.idempotent_hint,
        a.open_world_hint,
    );
    let mut mcp =
        Tool::new(tool.path.clone(), description, Arc::new(input)).with_annotations(annotations);
    if let Some(output) = output {
        mcp = mcp.with_raw_output_schema(Arc::new(envelope_schema(output)));
    }
    if let Some(title) = &tool.title {
        mcp = mcp.with_title(title.clone());
    }
    mcp
}

/// MCP wants object schemas; the IR's input schemas are objects already.
pub(super) fn object(schema: Value) -> Map<String, Value> {
    match schema {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The output schema MCP clients see: the envelope, with the tool's own
/// output schema as `data`.
pub(super) fn envelope_schema(output: Value) -> Map<String, Value> {
    let mut output = object(output);
    let defs = output.remove("$defs");
    output.remove("$schema");
    let mut schema = json!({
        "$schema": generator::ir::JSON_SCHEMA_DIALECT,
        "type": "object",
        "properties": {
            "ok": { "type": "boolean", "description": "true: `data` holds the tool's answer; false: `error` says what went wrong" },
            "data": {},
            "error": { "type": "object", "description": "An ExecutorToolError: code, message and details" }
        },
        "required": ["ok"]
    });
    schema["properties"]["data"] = Value::Object(output);
    if let Some(defs) = defs {
        schema["$defs"] = defs;
    }
    object(schema)
}

/// `search`, as the discovery and code views both offer it.
fn search_tool(description: &'static str) -> Tool {
    Tool::new(
        "search",
        description,
        Arc::new(object(json!({
            "type": "object",
            "properties": {
                "query": { "type": "string", "description": "What you want to do, e.g. \"create an issue\"" },
                "limit": { "type": "integer", "minimum": 1, "maximum": 50, "description": "How many results (default 10)" },
                "integration": { "type": "string", "description": "Only this integration's tools (the first segment of a path, e.g. \"github\")" }
            },
            "required": ["query"],
            "additionalProperties": false
        }))),
    )
    .with_annotations(ToolAnnotations::from_raw(Some("Search tools".into()), Some(true), None, Some(true), Some(false)))
}

/// `describe`, as the discovery and code views both offer it.
fn describe_tool(description: &'static str) -> Tool {
    Tool::new(
        "describe",
        description,
        Arc::new(object(json!({
            "type": "object",
            "properties": { "path": { "type": "string", "description": "The tool's path, as `search` returns it" } },
            "required": ["path"],
            "additionalProperties": false
        }))),
    )
    .with_annotations(ToolAnnotations::from_raw(Some("Describe a tool".into()), Some(true), None, Some(true), Some(false)))
}

/// The three tools of the discovery view.
pub(super) fn discovery_tools() -> &'static Arc<McpTools> {
    static TOOLS: OnceLock<Arc<McpTools>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let tools = vec![
            search_tool(
                "Find tools by what you want to do, best first. Returns paths with one-line descriptions.",
            ),
            describe_tool("Show one tool: its description and its input and output JSON Schemas."),
            Tool::new(
                "call",
                "Run a tool by path with its input object. The answer is {ok: true, data} or {ok: false, error}.",
                Arc::new(object(json!({
                    "type": "object",
                    "properties": {
                        "path": { "type": "string", "description": "The tool's path" },
                        "input": { "type": "object", "description": "The tool's input, as its input schema says" }
                    },
                    "required": ["path"],
                    "additionalProperties": false
                }))),
            )
            .with_annotations(ToolAnnotations::from_raw(Some("Call a tool".into()), Some(false), None, Some(false), Some(true))),
        ];
        let by_name = tools.iter().enumerate().map(|(i, t)| (t.name.to_string(), i)).collect();
        let paths = tools.iter().map(|t| t.name.to_string()).collect();
        Arc::new(McpTools { list: tools, by_name, paths })
    })
}

/// Code mode's view: `execute` (its description names every integration of
/// this live catalog), `search` and `describe` with TypeScript.
pub(super) fn code_tools(live: &Live, caller: &crate::caller::Caller) -> McpTools {
    let list = vec![
        Tool::new(
            "execute",
            crate::code::description(live, caller),
            Arc::new(object(json!({
                "type": "object",
                "properties": {
                    "code": { "type": "string", "description": "TypeScript: the body of an async function; `return` its result" }
                },
                "required": ["code"],
                "additionalProperties": false
            }))),
        )
        .with_annotations(ToolAnnotations::from_raw(Some("Run a script".into()), Some(false), Some(true), Some(false), Some(true))),
        search_tool(
            "Find tools by what you want to do, best first: each hit has its path and its TypeScript signature, enough to write the call in `execute`.",
        ),
        describe_tool("Show one tool as TypeScript declarations: its input, its output and its call."),
    ];
    let mut tools = McpTools::default();
    for tool in list {
        tools
            .by_name
            .insert(tool.name.to_string(), tools.list.len());
        tools.paths.push(tool.name.to_string());
        tools.list.push(tool);
    }
    tools
}
