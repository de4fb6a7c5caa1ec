//! executor's own tools, under the `executor` namespace, invoked like every
//! other tool (`executor call executor openapi addSource '{...}'`). Their
//! schemas come from the Rust types below.

use std::collections::BTreeMap;

use generator::ir::{
    Annotations, Binding, BuiltinBinding, ConnectionRef, Integration, Policy, SourceKind, Tool,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The reserved namespace of the built-in tools.
pub const NAMESPACE: &str = "executor";

/// Adds a source of any kind, detecting which.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddAnySource {
    /// An http(s) URL (an OpenAPI document, a GraphQL endpoint or an MCP server), an absolute file path, or the document itself (OpenAPI JSON/YAML, GraphQL SDL or an introspection result).
    pub source: String,
    /// The namespace of its tools: the first segment of every tool path (letters, digits, `_`, `-`).
    pub namespace: String,
    /// For OpenAPI: the API's base URL when the document's servers are relative or missing. For a GraphQL schema given as text or a file: the endpoint to call.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Headers sent on every call (and on the probes), e.g. an API key. Stored encrypted and never shown again.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Skip detection: `openapi`, `graphql` or `mcp`.
    #[serde(default)]
    pub kind: Option<SourceKind>,
}

/// Adds an OpenAPI source.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddSource {
    /// The OpenAPI description (Swagger 2.0, OpenAPI 3.0 or 3.1): an http(s) URL, an absolute file path, or the document itself (JSON or YAML).
    pub spec: String,
    /// The namespace of its tools: the first segment of every tool path (letters, digits, `_`, `-`).
    pub namespace: String,
    /// Base URL of the API, for specs whose `servers` are relative (e.g. "/api/v3") or missing.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Headers sent on every call to this API, e.g. a static API key. Stored encrypted and never shown again.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Load a spec that breaks the official OpenAPI schema anyway, reporting each problem as a diagnostic.
    #[serde(default)]
    pub lenient: bool,
}

/// Adds an upstream MCP server: give `url` (streamable HTTP) or `command` (a stdio child process).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddMcpSource {
    /// The namespace of its tools: the first segment of every tool path (letters, digits, `_`, `-`).
    pub namespace: String,
    /// The server's streamable HTTP endpoint, e.g. "https://mcp.example.com/mcp".
    #[serde(default)]
    pub url: Option<String>,
    /// Headers sent to the server (with `url`), e.g. an API key. Stored encrypted and never shown again.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The program to start (instead of `url`); it speaks MCP on stdin/stdout.
    #[serde(default)]
    pub command: Option<String>,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Its environment, e.g. a token. Stored encrypted and never shown again.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// Adds a GraphQL endpoint: its schema is introspected unless given.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddGraphqlSource {
    /// The namespace of its tools: the first segment of every tool path (letters, digits, `_`, `-`).
    pub namespace: String,
    /// The GraphQL endpoint, e.g. "https://api.example.com/graphql".
    pub endpoint: String,
    /// Headers sent on every request (and on introspection), e.g. an API key. Stored encrypted and never shown again.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The schema, when the endpoint does not allow introspection: SDL text, or an introspection result (bare or under "data").
    #[serde(default)]
    pub schema: Option<String>,
}

/// Names one source.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceName {
    /// The source's namespace.
    pub namespace: String,
}

/// Takes no input.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nothing {}

/// What adding or refreshing a source did.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceReport {
    pub namespace: String,
    pub kind: SourceKind,
    /// How many tools the source now has.
    pub tools: usize,
    /// What could not be represented, with where (`warning: #/paths/...: ...`).
    pub diagnostics: Vec<String>,
    /// Where its calls go, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// An MCP server that asks for authorization: open this URL to sign in; the source's tools are indexed when the sign-in completes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_url: Option<String>,
}

/// One configured source.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceSummary {
    pub namespace: String,
    pub kind: SourceKind,
    /// A URL, a file path, or `inline`.
    pub origin: String,
    pub title: Option<String>,
    pub tools: usize,
    pub diagnostics: usize,
    pub base_url: Option<String>,
    /// Names of the static headers (their values are never shown).
    pub headers: Vec<String>,
    /// When it was last indexed (seconds since the Unix epoch).
    pub updated_at: i64,
}

/// What removing a source did.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Removed {
    pub namespace: String,
    /// How many tools left the catalog.
    pub tools: usize,
}

/// Adds a policy rule.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddPolicy {
    /// Tool paths it covers: dotted segments, `*` for one segment or, at the end, a whole subtree. Examples: `*`, `github.*`, `github.*.*.issues.*`, `github.issues.create`.
    pub pattern: String,
    /// `allow`, `require_approval` or `block`.
    pub action: Policy,
    /// 1-based place in the evaluation order (the first matching rule wins); the end when absent.
    #[serde(default)]
    pub position: Option<usize>,
}

/// Names one policy rule.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyId {
    /// The rule's id, as `executor.policies.list` shows it (`pol_...`).
    pub id: String,
}

/// Moves a policy rule.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MovePolicy {
    /// The rule's id (`pol_...`).
    pub id: String,
    /// Its new 1-based place in the evaluation order.
    #[schemars(range(min = 1))]
    pub position: usize,
}

/// The built-in operations.
pub const ADD_ANY: &str = "sources.add";
pub const ADD_OPENAPI: &str = "openapi.addSource";
pub const ADD_MCP: &str = "mcp.addSource";
pub const ADD_GRAPHQL: &str = "graphql.addSource";
pub const LIST: &str = "sources.list";
pub const REMOVE: &str = "sources.remove";
pub const REFRESH: &str = "sources.refresh";
pub const CONNECTIONS_LIST: &str = "connections.list";
pub const CONNECTIONS_ADD: &str = "connections.add";
pub const CONNECTIONS_REMOVE: &str = "connections.remove";
pub const POLICIES_LIST: &str = "policies.list";
pub const POLICIES_ADD: &str = "policies.add";
pub const POLICIES_REMOVE: &str = "policies.remove";
pub const POLICIES_MOVE: &str = "policies.move";

/// Whether a tool changes executor's own settings (sources, connections,
/// policies). Agents calling these over MCP always need a person's
/// approval, whatever the rules say, so an agent cannot widen its own
/// permissions.
pub fn changes_settings<S>(tool: &Tool<S>) -> bool {
    tool.integration == NAMESPACE && tool.annotations.read_only_hint != Some(true)
}

/// A built-in operation no room knows: a mismatch between the catalog's
/// built-ins and their dispatch, never the caller's mistake.
pub fn unknown(operation: &str) -> generator::envelope::ToolError {
    crate::errors::error(
        generator::envelope::ErrorCode::InternalError,
        format!("unknown built-in operation {operation}"),
        None,
    )
}

/// A built-in tool's input as its Rust type (already checked against its
/// schema; this is the second line).
pub fn parse<T: serde::de::DeserializeOwned>(
    input: Value,
) -> Result<T, generator::envelope::ToolError> {
    serde_json::from_value(input).map_err(|e| {
        crate::errors::error(
            generator::envelope::ErrorCode::InvalidInput,
            format!("invalid input: {e}"),
            None,
        )
    })
}

/// A built-in tool's answer as JSON.
pub fn to_value<T: Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The `executor` integration and its tools.
pub fn integration() -> (Integration, Vec<Tool>) {
    let integration = Integration {
        name: NAMESPACE.to_owned(),
        kind: SourceKind::Openapi,
        title: Some("executor".to_owned()),
        description: Some("executor's own tools: manage the sources of the catalog, their connections and the policies that govern calls.".to_owned()),
        version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        servers: Vec::new(),
        security_schemes: BTreeMap::new(),
        groups: BTreeMap::new(),
        defs: serde_json::Map::new(),
    };
    let tools = vec![
        tool::<AddAnySource, SourceReport>(
            ADD_ANY,
            "Add a source (any kind)",
            "Add an OpenAPI description, a GraphQL endpoint or schema, or an MCP server from a URL, a file path or the text: its kind is detected (or given as `kind`) and it is added as that kind's own addSource would. Replaces a source of the same namespace.",
            false,
        ),
        tool::<AddSource, SourceReport>(
            ADD_OPENAPI,
            "Add an OpenAPI source",
            "Index an OpenAPI description (URL, file path or text) as tools under a namespace. Replaces a source of the same namespace. Reports how many tools it indexed and every diagnostic.",
            false,
        ),
        tool::<AddMcpSource, SourceReport>(
            ADD_MCP,
            "Add an MCP server",
            "Add an upstream MCP server (streamable HTTP `url`, or a stdio `command`) as a source: its tools join the catalog under the namespace, called through executor. Replaces a source of the same namespace.",
            false,
        ),
        tool::<AddGraphqlSource, SourceReport>(
            ADD_GRAPHQL,
            "Add a GraphQL endpoint",
            "Index a GraphQL endpoint's queries and mutations as tools (query.<field>, mutation.<field>) under a namespace; the schema is introspected unless given. Replaces a source of the same namespace.",
            false,
        ),
        tool::<Nothing, Vec<SourceSummary>>(
            LIST,
            "List sources",
            "Every configured source with its tool count and diagnostics count.",
            true,
        ),
        tool::<SourceName, Removed>(
            REMOVE,
            "Remove a source",
            "Remove a source and its tools from the catalog.",
            false,
        ),
        tool::<SourceName, SourceReport>(
            REFRESH,
            "Refresh a source",
            "Fetch a source again from where it came from (URL or file) and re-index its tools.",
            false,
        ),
        tool::<Nothing, Vec<crate::credential::ConnectionSummary>>(
            CONNECTIONS_LIST,
            "List connections",
            "Every stored connection: integration, owner, name and auth method (secrets are never shown).",
            true,
        ),
        tool::<crate::credential::AddConnection, crate::credential::ConnectionSummary>(
            CONNECTIONS_ADD,
            "Add a connection",
            "Store credentials for an integration; executor attaches them to its upstream calls. The tools of a connection live under <integration>.<owner>.<name>. The secret is stored encrypted and never shown again.",
            false,
        ),
        tool::<crate::credential::ConnectionName, Value>(
            CONNECTIONS_REMOVE,
            "Remove a connection",
            "Forget a connection and its stored secret.",
            false,
        ),
        tool::<Nothing, Vec<crate::policy::Rule>>(
            POLICIES_LIST,
            "List policies",
            "The policy rules in evaluation order: for each tool call the first rule whose pattern matches decides (allow, require_approval or block); with none, the tool's default applies (reads allowed, writes need approval).",
            true,
        ),
        tool::<AddPolicy, crate::policy::Rule>(
            POLICIES_ADD,
            "Add a policy",
            "Add a rule that allows, requires approval for, or blocks the tools whose paths match a pattern. Blocked tools disappear from listings, search, MCP and exports.",
            false,
        ),
        tool::<PolicyId, crate::policy::Rule>(
            POLICIES_REMOVE,
            "Remove a policy",
            "Remove a policy rule by id.",
            false,
        ),
        tool::<MovePolicy, Vec<crate::policy::Rule>>(
            POLICIES_MOVE,
            "Move a policy",
            "Move a policy rule to another place in the evaluation order; returns the rules in their new order.",
            false,
        ),
    ];
    (integration, tools)
}

fn tool<I: JsonSchema, O: JsonSchema>(
    name: &str,
    title: &str,
    description: &str,
    read_only: bool,
) -> Tool {
    let connection = ConnectionRef::default();
    let annotations = Annotations {
        read_only_hint: Some(read_only),
        destructive_hint: (name == REMOVE || name == POLICIES_REMOVE || name == CONNECTIONS_REMOVE)
            .then_some(true),
        idempotent_hint: Some(true),
        open_world_hint: Some(!read_only),
    };
    Tool {
        path: format!("{}{name}", connection.path_prefix(NAMESPACE)),
        integration: NAMESPACE.to_owned(),
        connection,
        name: name.to_owned(),
        title: Some(title.to_owned()),
        description: Some(description.to_owned()),
        input: schema_of::<I>(),
        output: schema_of::<O>(),
        // The owner's CLI and API run these without a pause (scripts call
        // `executor call executor openapi addSource ...`); agents over MCP
        // are always paused for the ones that change settings
        // (`changes_settings`, enforced in `invoke`).
        default_policy: Policy::Allow,
        annotations,
        deprecated: false,
        binding: Binding::Builtin(BuiltinBinding {
            operation: name.to_owned(),
        }),
    }
}

/// A type's JSON Schema as an IR schema: no `$schema`, no `title`, nested
/// definitions inlined by schemars' own settings.
fn schema_of<T: JsonSchema>() -> Value {
    let settings =
        schemars::generate::SchemaSettings::draft2020_12().with(|s| s.inline_subschemas = true);
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    if let Value::Object(map) = &mut schema {
        map.remove("$schema");
        map.remove("title");
    }
    drop_rust_formats(&mut schema);
    schema
}

/// schemars marks Rust integer widths as formats (`uint`, `int32`, ...);
/// `minimum` already says what matters, and validators warn on the names.
fn drop_rust_formats(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| f.starts_with("uint") || f.starts_with("int"))
            {
                map.remove("format");
            }
            map.values_mut().for_each(drop_rust_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_rust_formats),
        _ => {}
    }
}
