//! MCP ingest: an upstream server's `tools/list` answer to IR tools.
//!
//! Each tool's `inputSchema` and `outputSchema` is a standalone JSON Schema
//! document; they are placed side by side in one synthetic document, their
//! local refs re-pointed into it, and run through the same schema
//! normaliser as OpenAPI, so every source's schemas come out alike.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::diagnostic::Diagnostic;
use crate::ingest::Ingested;
use crate::ingest::openapi::{Options, normalise_schemas};
use crate::ir::{Annotations, Binding, Integration, McpBinding, Policy, SourceKind, Tool};
use crate::naming::{sanitise_tool_name, stable_hash};

/// `tools` is the `tools` array of `tools/list` (all pages);
/// `server` is the upstream's `serverInfo`, when known.
pub fn ingest(tools: &[Value], server: Option<&Value>, options: &Options) -> Ingested {
    let mut diagnostics = Vec::new();
    let mut root = Map::new();
    let mut pointers = Vec::new();
    let mut kept = Vec::new();
    for (i, tool) in tools.iter().enumerate() {
        let Some(name) = tool.get("name").and_then(Value::as_str) else {
            diagnostics.push(Diagnostic {
                severity: crate::Severity::Warning,
                location: format!("#/tools/{i}"),
                message: "tool without a name: ignored".into(),
            });
            continue;
        };
        let key = i.to_string();
        let mut entry = Map::new();
        for (field, schema_key) in [("input", "inputSchema"), ("output", "outputSchema")] {
            let pointer = format!("/{key}/{field}");
            let schema = tool
                .get(schema_key)
                .cloned()
                .unwrap_or(if field == "input" {
                    json!({ "type": "object" })
                } else {
                    Value::Bool(true)
                });
            entry.insert(field.to_owned(), repoint(schema, &pointer));
            pointers.push(pointer);
        }
        root.insert(key, Value::Object(entry));
        kept.push((name.to_owned(), tool));
    }
    let (schemas, defs, schema_diagnostics) = normalise_schemas(Value::Object(root), &pointers);
    diagnostics.extend(schema_diagnostics);

    let prefix = options.connection.path_prefix(&options.namespace);
    let budget = options.connection.name_budget(&options.namespace);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, (upstream_name, tool)) in kept.iter().enumerate() {
        let mut name = sanitise_tool_name(upstream_name);
        if name.is_empty() || name.len() > budget || seen.contains_key(&name) {
            let suffix = &stable_hash(upstream_name)[..8];
            let keep = budget.saturating_sub(9).min(name.len());
            name = format!("{}_{suffix}", &name[..keep])
                .trim_start_matches('_')
                .to_owned();
        }
        *seen.entry(name.clone()).or_default() += 1;
        let hints = tool.get("annotations");
        let hint = |key: &str| hints.and_then(|a| a.get(key)).and_then(Value::as_bool);
        let annotations = Annotations {
            read_only_hint: hint("readOnlyHint"),
            destructive_hint: hint("destructiveHint"),
            idempotent_hint: hint("idempotentHint"),
            open_world_hint: hint("openWorldHint"),
        };
        let text = |key: &str| tool.get(key).and_then(Value::as_str).map(str::to_owned);
        let title = text("title").or_else(|| {
            hints
                .and_then(|a| a.get("title"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        out.push(Tool {
            path: format!("{prefix}{name}"),
            integration: options.namespace.clone(),
            connection: options.connection.clone(),
            name,
            title,
            description: text("description"),
            input: schemas[2 * i].clone(),
            output: schemas[2 * i + 1].clone(),
            default_policy: Policy::default_for(&annotations),
            annotations,
            deprecated: false,
            binding: Binding::Mcp(McpBinding {
                upstream: options.namespace.clone(),
                tool_name: upstream_name.clone(),
            }),
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    let info = |key: &str| {
        server
            .and_then(|s| s.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ingested {
        integration: Integration {
            name: options.namespace.clone(),
            kind: SourceKind::Mcp,
            title: info("title").or_else(|| info("name")),
            description: None,
            version: info("version"),
            servers: Vec::new(),
            security_schemes: BTreeMap::new(),
            groups: BTreeMap::new(),
            defs,
        },
        tools: out,
        diagnostics,
    }
}

/// Re-points a standalone schema's local refs (`#/...`) to where the schema
/// now sits (`#<pointer>/...`).
fn repoint(mut schema: Value, pointer: &str) -> Value {
    fn walk(value: &mut Value, pointer: &str) {
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    match (key.as_str(), child) {
                        ("$ref", Value::String(r)) if r.starts_with('#') => {
                            *r = format!("#{pointer}{}", &r[1..]);
                        }
                        (_, child) => walk(child, pointer),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, pointer)),
            _ => {}
        }
    }
    walk(&mut schema, pointer);
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_list_becomes_ir_tools_with_shared_definitions() {
        let tools = vec![
            json!({
                "name": "get-sum",
                "description": "Adds two numbers",
                "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]},
                "annotations": {"readOnlyHint": true}
            }),
            json!({
                "name": "tree",
                "inputSchema": {
                    "type": "object",
                    "properties": {"root": {"$ref": "#/$defs/Node"}},
                    "$defs": {"Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}}
                },
                "outputSchema": {"type": "object", "properties": {"count": {"type": "integer"}}}
            }),
            json!({"description": "no name"}),
        ];
        let ingested = ingest(
            &tools,
            Some(&json!({"name": "everything", "version": "1"})),
            &Options::new("up"),
        );
        assert_eq!(ingested.tools.len(), 2);
        let sum = &ingested.tools[0];
        assert_eq!(sum.path, "up.org.main.get-sum");
        assert_eq!(sum.default_policy, Policy::Allow);
        assert_eq!(
            sum.binding,
            Binding::Mcp(McpBinding {
                upstream: "up".into(),
                tool_name: "get-sum".into()
            })
        );
        let tree = &ingested.tools[1];
        assert_eq!(tree.default_policy, Policy::RequireApproval);
        // The recursive definition stays a named, recursive definition.
        let node_ref = tree.input["properties"]["root"]["$ref"].as_str().unwrap();
        let node = crate::ir::def_ref_target(node_ref).unwrap();
        let def = &ingested.integration.defs[&node];
        assert_eq!(def["properties"]["children"]["items"]["$ref"], node_ref);
        assert_eq!(tree.output["properties"]["count"]["type"], "integer");
        assert_eq!(ingested.diagnostics.len(), 1);
        assert_eq!(ingested.integration.title.as_deref(), Some("everything"));
    }
}
