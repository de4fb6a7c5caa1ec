//! The IR: one record per tool, whatever source it came from.
//!
//! Every consumer (runtime, MCP, emitters) reads these types and nothing else.
//! Schemas are JSON Schema draft 2020-12 held as `serde_json::Value`. A tool's
//! `input` and `output` may contain `{"$ref": "#/$defs/Name"}`; such refs point
//! into the `defs` of the tool's integration, never outside the catalog. Use
//! [`Catalog::standalone_schema`] for a self-contained document (MCP, validation).

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Every integration and every tool, in deterministic order (integrations by
/// name, tools by path).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "Catalog")]
pub struct Catalog<S = Value> {
    pub integrations: Vec<Integration>,
    pub tools: Vec<Tool<S>>,
}

/// One source of tools (an OpenAPI description, a GraphQL schema, an MCP server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Integration {
    /// The namespace: the first segment of every tool path (`[A-Za-z0-9_-]+`).
    pub name: String,
    pub kind: SourceKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The API's own version string (OpenAPI `info.version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Default upstream servers, in the source's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<Server>,
    /// Authentication schemes the source declares, by the source's name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub security_schemes: BTreeMap<String, SecurityScheme>,
    /// What each group of tools is for, by the group's name as it leads
    /// tool names (`issues` in `issues.create`): OpenAPI tag descriptions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, String>,
    /// Shared JSON Schema definitions, the target of every `#/$defs/Name`
    /// ref in this integration's tool schemas.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schemars(with = "BTreeMap<String, Value>")]
    pub defs: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Openapi,
    Graphql,
    Mcp,
}

impl SourceKind {
    /// As serialised: `openapi`, `graphql` or `mcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Openapi => "openapi",
            SourceKind::Graphql => "graphql",
            SourceKind::Mcp => "mcp",
        }
    }
}

/// Who a connection belongs to: the second segment of a tool path.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Owner {
    #[default]
    Org,
    User,
}

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Org => "org",
            Owner::User => "user",
        }
    }
}

/// Which credentials a tool is called with: `<owner>.<connection>` in its path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectionRef {
    pub owner: Owner,
    pub name: String,
}

impl ConnectionRef {
    /// `<integration>.<owner>.<connection>.`: what every tool path of this
    /// integration and connection starts with.
    pub fn path_prefix(&self, integration: &str) -> String {
        format!("{integration}.{}.{}.", self.owner.as_str(), self.name)
    }

    /// How long a tool's own name may be under that prefix, within MCP's
    /// 128-character rule (at least 16, whatever the prefix).
    pub fn name_budget(&self, integration: &str) -> usize {
        crate::naming::MAX_TOOL_PATH
            .saturating_sub(self.path_prefix(integration).len())
            .max(16)
    }
}

impl Default for ConnectionRef {
    fn default() -> Self {
        ConnectionRef {
            owner: Owner::Org,
            name: DEFAULT_CONNECTION.to_owned(),
        }
    }
}

/// The connection name used when none is given.
pub const DEFAULT_CONNECTION: &str = "main";

/// One callable tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(rename = "Tool")]
pub struct Tool<S = Value> {
    /// Canonical path `<integration>.<owner>.<connection>.<name>`, unique in
    /// the catalog and within MCP's name rule `[A-Za-z0-9_.-]{1,128}`.
    pub path: String,
    pub integration: String,
    pub connection: ConnectionRef,
    /// The tool's own segments, possibly dotted (`issues.create`).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the one input object.
    pub input: S,
    /// JSON Schema of `data` in a successful result.
    pub output: S,
    pub annotations: Annotations,
    pub default_policy: Policy,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    pub binding: Binding,
}

/// Hints about a tool's behaviour, named as in MCP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Annotations {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_world_hint: Option<bool>,
}

/// What happens when a tool is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    Allow,
    RequireApproval,
    Block,
}

impl Policy {
    /// Reads are allowed; writes and destructive calls need approval.
    pub fn default_for(annotations: &Annotations) -> Policy {
        if annotations.destructive_hint == Some(true) {
            Policy::RequireApproval
        } else if annotations.read_only_hint == Some(true) {
            Policy::Allow
        } else {
            Policy::RequireApproval
        }
    }
}

/// How to call a tool upstream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Binding {
    Http(HttpBinding),
    Graphql(GraphqlBinding),
    Mcp(McpBinding),
    /// Served by executor itself (the `executor` namespace).
    Builtin(BuiltinBinding),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpBinding {
    /// Upper-case HTTP method.
    pub method: String,
    /// Servers for this operation (operation, then path item, then document
    /// level). Empty means the integration's base URL must be given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<Server>,
    /// The path as written in the source, with `{name}` placeholders.
    pub path_template: String,
    /// Where each parameter property of the input goes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<HttpParam>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<HttpBody>,
    /// How to read the success response.
    pub response: HttpResponse,
    /// Alternatives of security requirements (any one suffices); empty means
    /// no authentication.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<BTreeMap<String, Vec<String>>>,
}

/// One input property that travels as a parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpParam {
    /// The input property that holds the value.
    pub property: String,
    /// The name on the wire, exactly as written in the source.
    pub wire_name: String,
    pub location: ParamLocation,
    pub style: ParamStyle,
    pub explode: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_reserved: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Set when the parameter is sent serialised as this media type
    /// (OpenAPI `content` instead of `schema`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ParamLocation {
    Path,
    Query,
    Header,
    Cookie,
}

impl ParamLocation {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamLocation::Path => "path",
            ParamLocation::Query => "query",
            ParamLocation::Header => "header",
            ParamLocation::Cookie => "cookie",
        }
    }
}

/// OpenAPI serialisation styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ParamStyle {
    Matrix,
    Label,
    Simple,
    Form,
    SpaceDelimited,
    PipeDelimited,
    DeepObject,
    Cookie,
}

/// The request body and which input properties make it up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpBody {
    /// The media type sent in `Content-Type`.
    pub media_type: String,
    pub shape: BodyShape,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Per-property encoding of form and multipart bodies.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub encoding: BTreeMap<String, PartEncoding>,
}

/// How the body is assembled from the input object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum BodyShape {
    /// The body is an object whose properties sit at the top level of the
    /// input, beside the parameters. `properties` maps each input property
    /// to its name in the body (they differ only after a name collision).
    Spread {
        properties: BTreeMap<String, String>,
    },
    /// The whole body is the value of one input property.
    Property { property: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartEncoding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<ParamStyle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explode: Option<bool>,
}

/// How the success response is decoded into `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpResponse {
    pub kind: ResponseKind,
    /// The media type the output schema was taken from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResponseKind {
    /// Parsed as JSON.
    Json,
    /// Returned as a string.
    Text,
    /// Returned as the file shape (see [`file_output_schema`]).
    Binary,
    /// No content: `data` is `null`.
    Empty,
}

/// An upstream server URL, possibly relative and with `{variables}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Server {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, ServerVariable>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerVariable {
    pub default: String,
    #[serde(default, rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An authentication scheme as the source declares it, for the credentials layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SecurityScheme {
    /// `Authorization: <scheme> ...` (bearer, basic, digest, ...).
    Http {
        scheme: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bearer_format: Option<String>,
    },
    ApiKey {
        #[serde(rename = "in")]
        location: ParamLocation,
        name: String,
    },
    Oauth2 {
        flows: BTreeMap<String, OAuthFlow>,
    },
    OpenIdConnect {
        url: String,
    },
    MutualTls,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthFlow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_url: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scopes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphqlBinding {
    pub operation: GraphqlOperation,
    pub field: String,
    pub document: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GraphqlOperation {
    Query,
    Mutation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuiltinBinding {
    /// Which of the runtime's own operations runs the tool.
    pub operation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpBinding {
    pub upstream: String,
    pub tool_name: String,
}

/// The JSON Schema of a file in a tool's output: binary responses are
/// returned as `{ "mediaType": ..., "size": ..., "base64": ... }`.
pub fn file_output_schema() -> Value {
    serde_json::json!({
        "type": "object",
        "description": "A binary response: its media type, its size in bytes and its bytes in base64.",
        "required": ["mediaType", "size", "base64"],
        "properties": {
            "mediaType": { "type": "string" },
            "size": { "type": "integer", "minimum": 0 },
            "base64": { "type": "string", "contentEncoding": "base64" }
        },
        "additionalProperties": false
    })
}

/// The JSON Schema of a file in a tool's input: bytes in base64.
pub fn file_input_schema(media_type: Option<&str>) -> Value {
    let mut schema = serde_json::json!({
        "type": "string",
        "contentEncoding": "base64",
    });
    if let Some(media_type) = media_type {
        schema["contentMediaType"] = Value::String(media_type.to_owned());
    }
    schema
}

/// Which of a tool's schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaRole {
    Input,
    Output,
}

impl<S> Tool<S> {
    /// One of the tool's schemas.
    pub fn schema(&self, role: SchemaRole) -> &S {
        match role {
            SchemaRole::Input => &self.input,
            SchemaRole::Output => &self.output,
        }
    }

    /// The same tool with its schemas converted by `f` (to and from
    /// [`SchemaText`]).
    pub fn map_schemas<T>(self, mut f: impl FnMut(S) -> T) -> Tool<T> {
        let Tool {
            path,
            integration,
            connection,
            name,
            title,
            description,
            input,
            output,
            annotations,
            default_policy,
            deprecated,
            binding,
        } = self;
        Tool {
            path,
            integration,
            connection,
            name,
            title,
            description,
            input: f(input),
            output: f(output),
            annotations,
            default_policy,
            deprecated,
            binding,
        }
    }
}

impl Tool<Value> {
    /// The tool with its schemas as compact JSON text.
    pub fn into_text(self) -> Tool<SchemaText> {
        self.map_schemas(|s| SchemaText::from(&s))
    }
}

impl Tool<SchemaText> {
    /// The tool with its schemas parsed.
    pub fn parsed(&self) -> Tool<Value> {
        self.clone().map_schemas(|s| s.parse())
    }
}

impl Catalog<Value> {
    /// The catalog with every tool's schemas as compact JSON text.
    pub fn into_text(self) -> Catalog<SchemaText> {
        Catalog {
            integrations: self.integrations,
            tools: self.tools.into_iter().map(Tool::into_text).collect(),
        }
    }
}

impl Catalog<SchemaText> {
    /// The catalog with every tool's schemas parsed.
    pub fn parsed(&self) -> Catalog<Value> {
        Catalog {
            integrations: self.integrations.clone(),
            tools: self.tools.iter().map(Tool::parsed).collect(),
        }
    }
}

/// A schema kept as compact JSON text rather than a `Value` tree: how the
/// runtime holds its catalog's tools, read straight from the stored IR (a
/// tree takes three to four times the memory of its text, and most schemas
/// are never looked at between two reloads). Clones share the text.
#[derive(Clone)]
pub struct SchemaText(std::sync::Arc<serde_json::value::RawValue>);

impl SchemaText {
    /// The schema as a `Value` tree.
    pub fn parse(&self) -> Value {
        // The text was produced by serde_json (from a `Value` or read back
        // as a `RawValue`), so it is always valid JSON.
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }

    pub fn text(&self) -> &str {
        self.0.get()
    }
}

impl From<&Value> for SchemaText {
    fn from(value: &Value) -> SchemaText {
        let raw = serde_json::value::to_raw_value(value)
            .unwrap_or_else(|_| unreachable!("a Value always serialises"));
        SchemaText(raw.into())
    }
}

impl std::fmt::Debug for SchemaText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.get())
    }
}

impl PartialEq for SchemaText {
    fn eq(&self, other: &SchemaText) -> bool {
        self.0.get() == other.0.get()
    }
}

impl Serialize for SchemaText {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SchemaText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<SchemaText, D::Error> {
        // Only serde_json's deserializer can hand out raw text; the stored
        // IR is always read with it.
        Box::<serde_json::value::RawValue>::deserialize(deserializer)
            .map(|raw| SchemaText(raw.into()))
    }
}

// By hand: the derive would ask `S: Default`, which no schema needs.
impl<S> Default for Catalog<S> {
    fn default() -> Self {
        Catalog {
            integrations: Vec::new(),
            tools: Vec::new(),
        }
    }
}

impl<S> Catalog<S> {
    /// Adds an integration and its tools, keeping the catalog ordered.
    /// An integration of the same name is replaced along with its tools.
    pub fn insert(&mut self, integration: Integration, tools: Vec<Tool<S>>) {
        let name = integration.name.clone();
        self.integrations.retain(|i| i.name != name);
        self.tools.retain(|t| t.integration != name);
        self.integrations.push(integration);
        self.tools.extend(tools);
        self.integrations.sort_by(|a, b| a.name.cmp(&b.name));
        self.tools.sort_by(|a, b| a.path.cmp(&b.path));
    }

    pub fn integration(&self, name: &str) -> Option<&Integration> {
        self.integrations.iter().find(|i| i.name == name)
    }

    pub fn tool(&self, path: &str) -> Option<&Tool<S>> {
        self.tools
            .binary_search_by(|t| t.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.tools[i])
    }

    /// Only the named integration and its tools.
    pub fn filtered(&self, integration: &str) -> Option<Catalog<S>>
    where
        S: Clone,
    {
        let found = self.integration(integration)?.clone();
        Some(Catalog {
            integrations: vec![found],
            tools: self
                .tools
                .iter()
                .filter(|t| t.integration == integration)
                .cloned()
                .collect(),
        })
    }
}

impl Catalog {
    /// A self-contained JSON Schema document for one of a tool's schemas:
    /// `$schema` set, and only the definitions it reaches under `$defs`.
    pub fn standalone_schema(&self, tool: &Tool, role: SchemaRole) -> Value {
        let schema = tool.schema(role);
        // Borrowed, never cloned: an integration's definitions can be
        // megabytes (GitHub's), and this runs for every tool of a listing.
        let empty = Map::new();
        let defs = self
            .integration(&tool.integration)
            .map_or(&empty, |i| &i.defs);
        let reached = reachable_defs(schema, defs);
        standalone(schema, defs, reached.iter().map(String::as_str))
    }
}

/// `schema` with `$schema` set and the named definitions under `$defs`.
fn standalone<'a>(
    schema: &Value,
    defs: &Map<String, Value>,
    reached: impl Iterator<Item = &'a str>,
) -> Value {
    let mut sub = Map::new();
    for name in reached {
        if let Some(def) = defs.get(name) {
            sub.insert(name.to_owned(), def.clone());
        }
    }
    standalone_document(schema.clone(), sub)
}

/// `schema` as a self-contained document: `$schema` set, and `defs` (the
/// definitions it reaches, by name) under `$defs`.
pub fn standalone_document(schema: Value, defs: Map<String, Value>) -> Value {
    let mut out = match schema {
        Value::Object(map) => map,
        Value::Bool(true) => Map::new(),
        other => {
            // `false`: nothing validates; keep it as `not: {}`.
            let mut m = Map::new();
            if other == Value::Bool(false) {
                m.insert("not".into(), Value::Object(Map::new()));
            }
            m
        }
    };
    if !defs.is_empty() {
        out.insert("$defs".into(), Value::Object(defs));
    }
    // `$schema` first (a schema's own, if it names one).
    let dialect = out
        .shift_remove("$schema")
        .unwrap_or_else(|| Value::String(JSON_SCHEMA_DIALECT.to_owned()));
    out.shift_insert(0, "$schema".into(), dialect);
    Value::Object(out)
}

/// One integration's definitions as a graph: each one's direct refs and
/// its size as JSON, measured once. A listing of thousands of tools asks
/// for each tool's reachable definitions; walking the definitions' trees
/// again for every tool (GitHub's reach hundreds of kilobytes) is what made
/// the first MCP listing of a large catalog take seconds.
#[derive(Debug, Default)]
pub struct DefGraph {
    index: std::collections::HashMap<String, usize>,
    /// Definition names, sorted; `refs` and `sizes` are by this index.
    names: Vec<String>,
    refs: Vec<Vec<usize>>,
    /// Bytes of `"name":<definition>` as compact JSON.
    sizes: Vec<usize>,
}

impl DefGraph {
    /// The graph of definitions held as compact JSON text (each as
    /// `serde_json::to_string` wrote it), `(name, text)`; one that does not
    /// parse has no refs.
    pub fn from_texts<'a>(defs: impl Iterator<Item = (&'a str, &'a str)>) -> DefGraph {
        let mut parts: Vec<(&str, &str)> = defs.collect();
        parts.sort_by(|a, b| a.0.cmp(b.0));
        let names: Vec<String> = parts.iter().map(|(n, _)| (*n).to_owned()).collect();
        let index: std::collections::HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let mut refs = Vec::with_capacity(names.len());
        let mut sizes = Vec::with_capacity(names.len());
        let mut found = Vec::new();
        for (name, text) in &parts {
            found.clear();
            if let Ok(def) = serde_json::from_str::<Value>(text) {
                collect_def_refs(&def, &mut found);
            }
            let mut targets: Vec<usize> =
                found.iter().filter_map(|n| index.get(n).copied()).collect();
            targets.sort_unstable();
            targets.dedup();
            refs.push(targets);
            sizes.push(json_len(&Value::String((*name).to_owned())) + 1 + text.len());
        }
        DefGraph {
            index,
            names,
            refs,
            sizes,
        }
    }

    /// The definitions `schema` reaches, directly or through others, as
    /// sorted names, and their bytes as JSON (each `"name":<definition>`
    /// plus a separator).
    pub fn reached(&self, schema: &Value) -> (Vec<&str>, usize) {
        let mut start = Vec::new();
        collect_def_refs(schema, &mut start);
        let mut seen = vec![false; self.names.len()];
        let mut stack: Vec<usize> = start
            .iter()
            .filter_map(|n| self.index.get(n).copied())
            .collect();
        let mut reached = Vec::new();
        let mut bytes = 0;
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            reached.push(i);
            bytes += self.sizes[i] + 1;
            stack.extend(self.refs[i].iter().copied().filter(|&j| !seen[j]));
        }
        reached.sort_unstable();
        (
            reached
                .into_iter()
                .map(|i| self.names[i].as_str())
                .collect(),
            bytes,
        )
    }

    /// Bytes of `schema` as a standalone document (see
    /// [`Catalog::standalone_schema`]) as compact JSON, give or take a few,
    /// measured without building it.
    pub fn standalone_len(&self, schema: &Value) -> usize {
        json_len(schema) + JSON_SCHEMA_DIALECT.len() + 24 + self.reached(schema).1
    }
}

/// Bytes of a value as compact JSON, without keeping them.
pub fn json_len(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// The dialect of every IR schema.
pub const JSON_SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The prefix of every ref into an integration's shared definitions.
pub const DEFS_PREFIX: &str = "#/$defs/";

/// The definition name a `$ref` string points at, when it is `#/$defs/<name>`.
pub fn def_ref_target(reference: &str) -> Option<String> {
    let rest = reference.strip_prefix(DEFS_PREFIX)?;
    let first = rest.split('/').next().unwrap_or(rest);
    Some(unescape_pointer_token(&percent_decode(first)))
}

/// `#/$defs/<name>` for a definition name.
pub fn def_ref(name: &str) -> String {
    format!("{DEFS_PREFIX}{}", escape_pointer_token(name))
}

/// Names of every definition `schema` reaches, directly or through other
/// definitions, in sorted order.
pub fn reachable_defs(schema: &Value, defs: &Map<String, Value>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = Vec::new();
    collect_def_refs(schema, &mut stack);
    while let Some(name) = stack.pop() {
        if seen.insert(name.clone())
            && let Some(def) = defs.get(&name)
        {
            collect_def_refs(def, &mut stack);
        }
    }
    seen
}

/// Pushes the definition names of every `$ref` inside `value`, and of
/// every `discriminator.mapping` target (those are refs too).
pub fn collect_def_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(reference)) => out.extend(def_ref_target(reference)),
                    ("discriminator", Value::Object(d)) => {
                        if let Some(Value::Object(mapping)) = d.get("mapping") {
                            let targets = mapping.values().filter_map(Value::as_str);
                            out.extend(targets.filter_map(def_ref_target));
                        }
                        collect_def_refs(child, out);
                    }
                    _ => collect_def_refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_def_refs(v, out)),
        _ => {}
    }
}

/// Rewrites every `#/$defs/<name>` ref inside `value` (including
/// discriminator mappings) with `rename`.
pub fn rewrite_def_refs(value: &mut Value, rename: &dyn Fn(&str) -> String) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match (key.as_str(), child) {
                    ("$ref", Value::String(reference)) => rename_ref(reference, rename),
                    ("discriminator", child @ Value::Object(_)) => {
                        if let Some(Value::Object(mapping)) = child.get_mut("mapping") {
                            for target in mapping.values_mut() {
                                if let Value::String(reference) = target {
                                    rename_ref(reference, rename);
                                }
                            }
                        }
                        rewrite_def_refs(child, rename);
                    }
                    (_, child) => rewrite_def_refs(child, rename),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_def_refs(v, rename)),
        _ => {}
    }
}

fn rename_ref(reference: &mut String, rename: &dyn Fn(&str) -> String) {
    if let Some(name) = def_ref_target(reference) {
        *reference = rename(&name);
    }
}

/// Escapes one JSON pointer token (RFC 6901).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Unescapes one JSON pointer token (RFC 6901).
pub fn unescape_pointer_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Decodes `%XX` escapes in a URI fragment; invalid escapes are kept as written.
pub fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_text_keeps_the_stored_text_and_parses_back() {
        let schema = json!({"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}, "required": ["b"]});
        let text = SchemaText::from(&schema);
        assert_eq!(text.text(), schema.to_string());
        assert_eq!(text.parse(), schema);
        // Read from stored JSON, the text is the stored bytes: no tree is
        // built, nothing is reordered.
        let stored = r##"{"z":1,"a":{"$ref":"#/$defs/A"}}"##;
        let read: SchemaText = serde_json::from_str(stored).unwrap();
        assert_eq!(read.text(), stored);
        assert_eq!(serde_json::to_string(&read).unwrap(), stored);
        assert_ne!(read, text);
        // A clone shares the text.
        assert!(std::ptr::eq(read.clone().text(), read.text()));
    }

    #[test]
    fn a_tool_and_a_catalog_round_trip_through_text() {
        let tool = Tool {
            path: "t.org.main.get".into(),
            integration: "t".into(),
            connection: ConnectionRef::default(),
            name: "get".into(),
            title: None,
            description: Some("d".into()),
            input: json!({"type": "object", "properties": {"id": {"type": "integer"}}}),
            output: json!({"$ref": "#/$defs/Item"}),
            annotations: Annotations::default(),
            default_policy: Policy::Allow,
            deprecated: false,
            binding: Binding::Builtin(BuiltinBinding {
                operation: "x".into(),
            }),
        };
        let mut catalog = Catalog::default();
        catalog.tools.push(tool.clone());
        let text = catalog.clone().into_text();
        assert_eq!(text.tools[0].input.text(), tool.input.to_string());
        assert_eq!(text.parsed(), catalog);
        // What the store writes from text is what it wrote from trees.
        assert_eq!(
            serde_json::to_string(&text.tools[0]).unwrap(),
            serde_json::to_string(&tool).unwrap()
        );
    }

    #[test]
    fn def_refs_round_trip_through_escaping() {
        let name = "a/b~c";
        assert_eq!(def_ref(name), "#/$defs/a~1b~0c");
        assert_eq!(def_ref_target(&def_ref(name)).as_deref(), Some(name));
        assert_eq!(
            def_ref_target("#/$defs/Pet/properties/x").as_deref(),
            Some("Pet")
        );
        assert_eq!(def_ref_target("#/components/schemas/Pet"), None);
        assert_eq!(percent_decode("a%20b%zz"), "a b%zz");
    }

    #[test]
    fn standalone_schema_carries_only_reachable_defs() {
        let mut defs = Map::new();
        defs.insert(
            "A".into(),
            json!({"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}}),
        );
        defs.insert(
            "B".into(),
            json!({"type": "array", "items": {"$ref": "#/$defs/A"}}),
        );
        defs.insert("C".into(), json!({"type": "string"}));
        let integration = Integration {
            name: "x".into(),
            kind: SourceKind::Openapi,
            title: None,
            description: None,
            version: None,
            servers: vec![],
            security_schemes: BTreeMap::new(),
            groups: BTreeMap::new(),
            defs,
        };
        let tool = Tool {
            path: "x.org.main.t".into(),
            integration: "x".into(),
            connection: ConnectionRef::default(),
            name: "t".into(),
            title: None,
            description: None,
            input: json!({"$ref": "#/$defs/A"}),
            output: json!(true),
            annotations: Annotations::default(),
            default_policy: Policy::Allow,
            deprecated: false,
            binding: Binding::Mcp(McpBinding {
                upstream: "u".into(),
                tool_name: "t".into(),
            }),
        };
        let mut catalog = Catalog::default();
        catalog.insert(integration, vec![tool.clone()]);
        let doc = catalog.standalone_schema(&tool, SchemaRole::Input);
        let defs = doc["$defs"].as_object().unwrap();
        assert_eq!(defs.keys().collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(doc["$schema"], JSON_SCHEMA_DIALECT);
        let out = catalog.standalone_schema(&tool, SchemaRole::Output);
        assert!(out.get("$defs").is_none());

        // The graph finds the same definitions, and measures the document
        // without building it.
        let texts: Vec<(String, String)> = catalog.integrations[0]
            .defs
            .iter()
            .map(|(n, d)| (n.clone(), d.to_string()))
            .collect();
        let graph = DefGraph::from_texts(texts.iter().map(|(n, t)| (n.as_str(), t.as_str())));
        assert_eq!(graph.reached(&tool.input).0, ["A", "B"]);
        assert_eq!(graph.reached(&tool.output).0, Vec::<&str>::new());
        for role in [SchemaRole::Input, SchemaRole::Output] {
            let built = json_len(&catalog.standalone_schema(&tool, role));
            let measured = graph.standalone_len(tool.schema(role));
            assert!(
                measured.abs_diff(built) <= 32,
                "{role:?}: measured {measured}, built {built}"
            );
        }
    }
}
