//! The OpenAPI 3.1 export: one `POST /api/tools/invoke/{tool path}`
//! operation per tool, request body = the tool's input schema, 200 response
//! = the result envelope around its output schema.
//!
//! Built as a `serde_json::Value` rather than from a text template: JSON
//! escaping and structure are then correct by construction, and the order of
//! every map is the catalog's sorted order, so the same catalog always gives
//! the same bytes.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::envelope::Failure;
use crate::ir::{Catalog, Tool, rewrite_def_refs};
use crate::naming::StableHasher;

/// Where the export says the service is.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub server_url: String,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            server_url: "http://127.0.0.1:4788".to_owned(),
        }
    }
}

/// The route prefix of every exported operation.
pub const INVOKE_PREFIX: &str = "/api/tools/invoke/";

const SECURITY_SCHEME: &str = "executorToken";

/// The export of a whole catalog.
pub fn document(catalog: &Catalog, options: &ExportOptions) -> Value {
    let mut paths = Map::new();
    for tool in &catalog.tools {
        let mut item = Map::new();
        item.insert("post".into(), operation(tool));
        paths.insert(format!("{INVOKE_PREFIX}{}", tool.path), Value::Object(item));
    }
    let mut schemas = Map::new();
    for integration in &catalog.integrations {
        for (name, def) in &integration.defs {
            let mut def = def.clone();
            rewrite_def_refs(&mut def, &|target| component_ref(&integration.name, target));
            schemas.insert(component_name(&integration.name, name), def);
        }
    }
    schemas.extend(envelope_components());
    let tags: Vec<Value> = catalog
        .integrations
        .iter()
        .map(|i| {
            let mut tag = json!({ "name": i.name });
            let text = match (&i.title, &i.description) {
                (Some(t), Some(d)) => Some(format!("{t}\n\n{d}")),
                (Some(t), None) => Some(t.clone()),
                (None, Some(d)) => Some(d.clone()),
                (None, None) => None,
            };
            if let Some(text) = text {
                tag["description"] = Value::String(text);
            }
            tag
        })
        .collect();
    // The version changes exactly when the catalog does.
    let fingerprint = catalog_fingerprint(catalog);
    // `json!` deep-copies interpolated values through serde, so the big maps
    // are moved in afterwards, into keys that keep their place.
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "executor tools",
            "version": format!("catalog-{}", &fingerprint[..12]),
            "description": DESCRIPTION,
        },
        "servers": [{ "url": options.server_url, "description": "the local executor service" }],
        "security": [{ SECURITY_SCHEME: [] }],
        "tags": tags,
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The service's token, kept in EXECUTOR_HOME/token (the `executor` CLI reads it by itself)."
                }
            }
        }
    });
    doc["paths"] = Value::Object(paths);
    doc["components"]["schemas"] = Value::Object(schemas);
    doc
}

/// A stable hash of the catalog, streamed through the serialiser so that
/// no copy of the whole catalog is made.
fn catalog_fingerprint(catalog: &Catalog) -> String {
    let mut hasher = StableHasher::default();
    serde_json::to_writer(&mut hasher, catalog).expect("the IR always serialises");
    hasher.finish()
}

const DESCRIPTION: &str = "Every operation runs one tool through executor, which attaches the connection's \
credentials and applies the tool's policy. Each answers `{ \"ok\": true, \"data\": ... }` or \
`{ \"ok\": false, \"error\": { \"code\": ..., \"message\": ... } }`. A call that needs approval answers \
`error.code: \"execution_paused\"` with `executionId`, `resumePath` (POST it to resume) and `approvalUrl`.";

fn operation(tool: &Tool) -> Value {
    let rename = |target: &str| component_ref(&tool.integration, target);
    let mut input = tool.input.clone();
    rewrite_def_refs(&mut input, &rename);
    let mut output = tool.output.clone();
    rewrite_def_refs(&mut output, &rename);
    let mut success = json!({
        "type": "object",
        "required": ["ok", "data"],
        "properties": { "ok": { "const": true }, "data": null },
        "additionalProperties": false
    });
    success["properties"]["data"] = output;
    let failure = json!({ "$ref": "#/components/schemas/ExecutorToolFailure" });
    let mut op = Map::new();
    op.insert("operationId".into(), Value::String(tool.path.clone()));
    op.insert("tags".into(), json!([tool.integration]));
    op.insert(
        "summary".into(),
        Value::String(tool.title.clone().unwrap_or_else(|| tool.name.clone())),
    );
    if let Some(description) = &tool.description {
        op.insert("description".into(), Value::String(description.clone()));
    }
    if tool.deprecated {
        op.insert("deprecated".into(), Value::Bool(true));
    }
    op.insert(
        "x-executor".into(),
        json!({
            "tool": tool.name,
            "annotations": tool.annotations,
            "defaultPolicy": tool.default_policy,
        }),
    );
    let mut body =
        json!({ "required": true, "content": { "application/json": { "schema": null } } });
    body["content"]["application/json"]["schema"] = input;
    op.insert("requestBody".into(), body);
    let mut responses = json!({
            "200": {
                "description": "The tool ran: `ok: true` with its data, or `ok: false` with the error it met (`upstream_http_error`, `upstream_unreachable`, ...; `execution_paused` carries `executionId`, `resumePath` and `approvalUrl`).",
                "content": { "application/json": { "schema": { "oneOf": [null, failure] } } }
            },
            "default": {
                "description": "The call was refused before the tool ran: `invalid_input` (400: malformed JSON or an input that breaks the schema, each problem with its JSON pointer), `tool_not_found` (404, with candidates), `unauthorized` (401, 403), or a body over 64 MiB (413). `ok: false` with an error.",
                "content": { "application/json": { "schema": failure } }
            }
    });
    responses["200"]["content"]["application/json"]["schema"]["oneOf"][0] = success;
    op.insert("responses".into(), responses);
    Value::Object(op)
}

/// `<integration>.<definition>`: integration names hold no dots, so the
/// first dot separates the two and names never clash across integrations.
pub fn component_name(integration: &str, def: &str) -> String {
    format!("{integration}.{def}")
}

fn component_ref(integration: &str, def: &str) -> String {
    format!("#/components/schemas/{}", component_name(integration, def))
}

/// `ExecutorToolFailure`, `ExecutorToolError` and `ExecutorErrorCode`,
/// generated from the envelope types.
pub fn envelope_components() -> Map<String, Value> {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<Failure>();
    let mut root = schema.to_value();
    let mut out = Map::new();
    let defs = root
        .as_object_mut()
        .and_then(|m| m.remove("$defs"))
        .and_then(|d| match d {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default();
    if let Value::Object(map) = &mut root {
        map.remove("$schema");
    }
    let mut all = vec![("ExecutorToolFailure".to_owned(), root)];
    all.extend(defs);
    for (name, mut schema) in all {
        rewrite_def_refs(&mut schema, &|target| {
            format!("#/components/schemas/{target}")
        });
        out.insert(name, schema);
    }
    out
}
