//! The TypeScript client: one self-contained, dependency-free file
//! (`executor.gen.ts`), rendered from `templates/typescript/client.ts`.
//!
//! Every decision is made here: type names, identifiers, string escaping and
//! the printing of JSON Schemas as TypeScript types. The template only
//! places the finished text around the fixed runtime code.
//!
//! Types: objects (required or optional properties, `additionalProperties`
//! as index signatures), arrays and tuples, `enum` and `const` literals,
//! `oneOf`/`anyOf` unions, `allOf` intersections, `null` in type lists,
//! shared definitions as named types (so recursion stays named), formats as
//! `string`, descriptions as JSDoc. A schema part that TypeScript cannot
//! express becomes `unknown` at that spot only.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use serde_json::{Map, Value};

use super::{Names, generated_header, pascal};
use crate::ir::{Catalog, Tool, def_ref_target, reachable_defs};

/// Inline schemas nested deeper than this print as `unknown`.
const MAX_DEPTH: usize = 40;

#[derive(Template)]
#[template(path = "typescript/client.ts")]
struct ClientTemplate {
    header: String,
    example_path: String,
    example_input: String,
    error_codes: String,
    types: String,
    tool_map: String,
    tree: String,
}

/// The client for a whole catalog.
pub fn client(catalog: &Catalog) -> String {
    let mut names = Names::new(TAKEN);
    // Shared definitions first, in catalog order: stable names.
    let mut def_names: HashMap<(String, String), String> = HashMap::new();
    for integration in &catalog.integrations {
        for def in integration.defs.keys() {
            let name = names.claim(&format!("{} {}", pascal(&integration.name), pascal(def)));
            def_names.insert((integration.name.clone(), def.clone()), name);
        }
    }
    let mut types = String::new();
    for integration in &catalog.integrations {
        let printer = Printer {
            integration: &integration.name,
            def_names: &def_names,
        };
        for (def, schema) in &integration.defs {
            let name = &def_names[&(integration.name.clone(), def.clone())];
            types.push_str(&jsdoc(
                schema.get("description").and_then(Value::as_str),
                deprecated(schema),
                "",
            ));
            types.push_str(&format!(
                "export type {name} = {};\n\n",
                printer.print(schema, 0, 0)
            ));
        }
    }
    let mut tool_map = String::new();
    let mut tree = Tree::default();
    for tool in &catalog.tools {
        let printer = Printer {
            integration: &tool.integration,
            def_names: &def_names,
        };
        let base = pascal(&tool.path);
        let input_name = names.claim(&format!("{base} Input"));
        let output_name = names.claim(&format!("{base} Output"));
        types.push_str(&jsdoc(
            Some(&format!("Input of `{}`.", tool.path)),
            false,
            "",
        ));
        types.push_str(&format!(
            "export type {input_name} = {};\n\n",
            printer.print(&tool.input, 0, 0)
        ));
        types.push_str(&jsdoc(
            Some(&format!("Output (`data`) of `{}`.", tool.path)),
            false,
            "",
        ));
        types.push_str(&format!(
            "export type {output_name} = {};\n\n",
            printer.print(&tool.output, 0, 0)
        ));
        tool_map.push_str(&format!(
            "  {}: {{ input: {input_name}; output: {output_name} }};\n",
            string_literal(&tool.path)
        ));
        tree.insert(tool, &input_name, &output_name);
    }
    let example = catalog
        .tools
        .iter()
        .find(|t| t.integration != "executor")
        .or(catalog.tools.first());
    let template = ClientTemplate {
        header: generated_header(catalog, "typescript"),
        example_path: example
            .map(|t| t.path.clone())
            .unwrap_or_else(|| "namespace.org.main.tool".to_owned()),
        example_input: "{}".to_owned(),
        error_codes: error_codes(),
        types,
        tool_map,
        tree: tree.render(),
    };
    template.render().expect("the client template renders")
}

/// One tool as TypeScript declarations, printed exactly as the client
/// prints it (code mode's `tools.describe` and `tools.search` show these,
/// so a script and a generated client can never disagree): the shared
/// definitions the tool reaches, `Input`, `Output`, and `call`, whose
/// JSDoc names the path to call it by. The text compiles on its own.
pub fn tool_declarations(catalog: &Catalog, tool: &Tool) -> String {
    let (def_names, types) = tool_defs(catalog, tool);
    let printer = Printer {
        integration: &tool.integration,
        def_names: &def_names,
    };
    let mut out = types;
    out.push_str(&format!(
        "type Input = {};\n\ntype Output = {};\n\ntype ExecutorToolError = {{ code: string; message: string; executionId?: string; approvalUrl?: string; details?: unknown }};\n\n",
        printer.print(&tool.input, 0, 0),
        printer.print(&tool.output, 0, 0),
    ));
    let call = format!("Call it as `{}(input)`.", call_expression(&tool.path));
    let doc = match tool.description.as_deref().map(str::trim) {
        Some(description) if !description.is_empty() => format!("{description}\n\n{call}"),
        _ => call,
    };
    out.push_str(&jsdoc(Some(&doc), false, ""));
    out.push_str(
        "declare function call(input: Input): Promise<{ ok: true; data: Output } | { ok: false; error: ExecutorToolError }>;\n",
    );
    out
}

/// A tool's call with its input type on one line, for search results:
/// `tools.<path>(input: { ... })`. Shared definitions print by name.
pub fn tool_signature(catalog: &Catalog, tool: &Tool) -> String {
    let (def_names, _) = tool_defs(catalog, tool);
    let printer = Printer {
        integration: &tool.integration,
        def_names: &def_names,
    };
    let input = printer.print(&tool.input, 0, 0);
    let input: String = input.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{}(input: {input})", call_expression(&tool.path))
}

/// `tools.a.b["c-d"]`: the path as a member expression on `tools`.
pub fn call_expression(path: &str) -> String {
    let mut out = "tools".to_owned();
    for segment in path.split('.') {
        let plain = segment
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
        if plain {
            out.push('.');
            out.push_str(segment);
        } else {
            out.push_str(&format!("[{}]", string_literal(segment)));
        }
    }
    out
}

/// The names and declarations of the shared definitions a tool reaches.
fn tool_defs(catalog: &Catalog, tool: &Tool) -> (HashMap<(String, String), String>, String) {
    let mut names = Names::new(TAKEN);
    let mut def_names = HashMap::new();
    let mut types = String::new();
    let Some(integration) = catalog.integration(&tool.integration) else {
        return (def_names, types);
    };
    let mut reached = reachable_defs(&tool.input, &integration.defs);
    reached.extend(reachable_defs(&tool.output, &integration.defs));
    for def in &reached {
        let name = names.claim(&pascal(def));
        def_names.insert((integration.name.clone(), def.clone()), name);
    }
    let printer = Printer {
        integration: &integration.name,
        def_names: &def_names,
    };
    for def in &reached {
        if let Some(schema) = integration.defs.get(def) {
            let name = &def_names[&(integration.name.clone(), def.clone())];
            types.push_str(&format!(
                "type {name} = {};\n\n",
                printer.print(schema, 0, 0)
            ));
        }
    }
    (def_names, types)
}

/// `"invalid_input" | "tool_not_found" | ...`, from the Rust enum.
fn error_codes() -> String {
    crate::envelope::error_codes()
        .iter()
        .map(|c| string_literal(c))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Names the client's own code uses, or TypeScript's globals it relies on.
const TAKEN: &[&str] = &[
    "ExecutorErrorCode",
    "ExecutorToolError",
    "ExecutorResult",
    "ExecutorPausedError",
    "ExecutorRequestError",
    "ExecutorFetch",
    "ExecutorClientOptions",
    "ExecutorTools",
    "ExecutorToolPath",
    "ExecutorClient",
    "Array",
    "Record",
    "Promise",
    "Error",
    "Object",
    "String",
    "Number",
    "Boolean",
    "Date",
    "JSON",
    "Partial",
    "ReturnType",
];

/// A TypeScript string literal (JSON's escaping is valid TypeScript).
fn string_literal(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

/// A property key: bare when it is an identifier, quoted otherwise.
fn property_key(name: &str) -> String {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
        name.to_owned()
    } else {
        string_literal(name)
    }
}

fn deprecated(schema: &Value) -> bool {
    schema.get("deprecated") == Some(&Value::Bool(true))
}

/// A JSDoc comment (with a trailing newline), or nothing.
fn jsdoc(text: Option<&str>, deprecated: bool, indent: &str) -> String {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    if text.is_none() && !deprecated {
        return String::new();
    }
    let mut lines: Vec<String> = text
        .map(|t| {
            t.replace("*/", "*\\/")
                .lines()
                .map(|l| l.trim_end().to_owned())
                .collect()
        })
        .unwrap_or_default();
    if deprecated {
        lines.push("@deprecated".to_owned());
    }
    if lines.len() == 1 {
        return format!("{indent}/** {} */\n", lines[0]);
    }
    let mut out = format!("{indent}/**\n");
    for line in lines {
        if line.is_empty() {
            out.push_str(&format!("{indent} *\n"));
        } else {
            out.push_str(&format!("{indent} * {line}\n"));
        }
    }
    out.push_str(&format!("{indent} */\n"));
    out
}

/// Prints JSON Schemas of one integration as TypeScript types.
struct Printer<'a> {
    integration: &'a str,
    def_names: &'a HashMap<(String, String), String>,
}

impl Printer<'_> {
    fn print(&self, schema: &Value, indent: usize, depth: usize) -> String {
        if depth > MAX_DEPTH {
            return "unknown".to_owned();
        }
        let map = match schema {
            Value::Bool(true) => return "unknown".to_owned(),
            Value::Bool(false) => return "never".to_owned(),
            Value::Object(map) => map,
            _ => return "unknown".to_owned(),
        };
        let mut parts: Vec<String> = Vec::new();
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            parts.push(self.reference(reference));
        }
        if let Some(value) = map.get("const") {
            parts.push(literal(value));
        } else if let Some(Value::Array(values)) = map.get("enum") {
            let members: Vec<String> = values.iter().map(literal).collect();
            parts.push(union(members));
        } else if let Some(typed) = self.typed(map, indent, depth) {
            parts.push(typed);
        }
        if let Some(Value::Array(items)) = map.get("allOf")
            && !items.is_empty()
        {
            let members: Vec<String> = items
                .iter()
                .map(|s| paren(self.print(s, indent, depth + 1)))
                .collect();
            parts.push(members.join(" & "));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(items)) = map.get(key)
                && !items.is_empty()
            {
                let members: Vec<String> = items
                    .iter()
                    .map(|s| self.print(s, indent, depth + 1))
                    .collect();
                parts.push(union(members));
            }
        }
        match parts.len() {
            0 => "unknown".to_owned(),
            1 => parts.pop().unwrap_or_default(),
            _ => parts.into_iter().map(paren).collect::<Vec<_>>().join(" & "),
        }
    }

    fn reference(&self, reference: &str) -> String {
        let Some(target) = def_ref_target(reference) else {
            return "unknown".to_owned();
        };
        // `#/$defs/A/properties/b` points inside a definition: not named.
        if reference
            .trim_start_matches(crate::ir::DEFS_PREFIX)
            .contains('/')
        {
            return "unknown".to_owned();
        }
        self.def_names
            .get(&(self.integration.to_owned(), target))
            .cloned()
            .unwrap_or_else(|| "unknown".to_owned())
    }

    /// The type from `type` (or implied by object/array keywords).
    fn typed(&self, map: &Map<String, Value>, indent: usize, depth: usize) -> Option<String> {
        let types: Vec<&str> = match map.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ if map.contains_key("properties") || map.contains_key("additionalProperties") => {
                vec!["object"]
            }
            _ if map.contains_key("items") || map.contains_key("prefixItems") => vec!["array"],
            _ => return None,
        };
        let members: Vec<String> = types
            .into_iter()
            .map(|t| match t {
                "string" => "string".to_owned(),
                "integer" | "number" => "number".to_owned(),
                "boolean" => "boolean".to_owned(),
                "null" => "null".to_owned(),
                "array" => self.array(map, indent, depth),
                "object" => self.object(map, indent, depth),
                _ => "unknown".to_owned(),
            })
            .collect();
        Some(union(members))
    }

    fn array(&self, map: &Map<String, Value>, indent: usize, depth: usize) -> String {
        let items = map.get("items");
        if let Some(Value::Array(prefix)) = map.get("prefixItems") {
            let mut members: Vec<String> = prefix
                .iter()
                .map(|s| self.print(s, indent, depth + 1))
                .collect();
            match items {
                Some(Value::Bool(false)) => {}
                Some(rest) => {
                    members.push(format!("...Array<{}>", self.print(rest, indent, depth + 1)))
                }
                None => members.push("...unknown[]".to_owned()),
            }
            return format!("[{}]", members.join(", "));
        }
        match items {
            Some(item) => format!("Array<{}>", self.print(item, indent, depth + 1)),
            None => "unknown[]".to_owned(),
        }
    }

    fn object(&self, map: &Map<String, Value>, indent: usize, depth: usize) -> String {
        let pad = "  ".repeat(indent + 1);
        let close = "  ".repeat(indent);
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let properties = map.get("properties").and_then(Value::as_object);
        let extra = map.get("additionalProperties");
        let has_props = properties.is_some_and(|p| !p.is_empty());
        let mut out = String::new();
        if let Some(properties) = properties {
            for (name, schema) in properties {
                out.push_str(&jsdoc(
                    schema.get("description").and_then(Value::as_str),
                    deprecated(schema),
                    &pad,
                ));
                let optional = if required.contains(&name.as_str()) {
                    ""
                } else {
                    "?"
                };
                out.push_str(&format!(
                    "{pad}{}{optional}: {};\n",
                    property_key(name),
                    self.print(schema, indent + 1, depth + 1)
                ));
            }
        }
        let index = match extra {
            Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some("unknown".to_owned()),
            Some(schema @ Value::Object(_)) if !has_props => {
                Some(self.print(schema, indent + 1, depth + 1))
            }
            Some(Value::Object(_)) => Some("unknown".to_owned()),
            None if !has_props => Some("unknown".to_owned()),
            _ => None,
        };
        if map.contains_key("patternProperties")
            && index.is_none()
            && extra != Some(&Value::Bool(false))
        {
            out.push_str(&format!("{pad}[key: string]: unknown;\n"));
        } else if let Some(index) = index {
            out.push_str(&format!("{pad}[key: string]: {index};\n"));
        }
        if out.is_empty() {
            return "Record<string, never>".to_owned();
        }
        format!("{{\n{out}{close}}}")
    }
}

/// A literal type for an `enum`/`const` value; objects and arrays cannot be.
fn literal(value: &Value) -> String {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => value.to_string(),
        _ => "unknown".to_owned(),
    }
}

/// `A | B`, duplicates dropped; `unknown` absorbs the rest.
fn union(members: Vec<String>) -> String {
    let mut seen = Vec::new();
    for m in members {
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    if seen.iter().any(|m| m == "unknown") {
        return "unknown".to_owned();
    }
    match seen.len() {
        0 => "never".to_owned(),
        _ => seen.join(" | "),
    }
}

/// Parenthesises a union or intersection so it can be combined.
fn paren(t: String) -> String {
    let top_level = {
        let (mut depth, mut found) = (0i32, false);
        for c in t.chars() {
            match c {
                '{' | '<' | '[' | '(' => depth += 1,
                '}' | '>' | ']' | ')' => depth -= 1,
                '|' | '&' if depth == 0 => found = true,
                _ => {}
            }
        }
        found
    };
    if top_level { format!("({t})") } else { t }
}

/// The client object: tool paths as nested properties.
#[derive(Default)]
struct Tree {
    children: BTreeMap<String, Tree>,
    leaf: Option<Leaf>,
}

struct Leaf {
    path: String,
    input: String,
    doc: String,
    optional_input: bool,
}

impl Tree {
    fn insert(&mut self, tool: &Tool, input: &str, _output: &str) {
        let mut node = self;
        for segment in tool.path.split('.') {
            node = node.children.entry(segment.to_owned()).or_default();
        }
        let doc = [tool.title.as_deref(), tool.description.as_deref()]
            .into_iter()
            .flatten()
            .fold(Vec::<&str>::new(), |mut acc, t| {
                if !acc.contains(&t) {
                    acc.push(t);
                }
                acc
            })
            .join("\n\n");
        let optional_input = tool
            .input
            .get("required")
            .and_then(Value::as_array)
            .is_none_or(|r| r.is_empty());
        node.leaf = Some(Leaf {
            path: tool.path.clone(),
            input: input.to_owned(),
            doc,
            optional_input,
        });
    }

    fn render(&self) -> String {
        let mut out = String::new();
        self.render_children(2, &mut out);
        out
    }

    fn render_children(&self, indent: usize, out: &mut String) {
        let pad = "  ".repeat(indent);
        for (segment, child) in &self.children {
            let key = property_key(segment);
            if let Some(leaf) = &child.leaf {
                out.push_str(&jsdoc(Some(&leaf.doc), false, &pad));
            }
            let function = child.leaf.as_ref().map(|leaf| {
                let param = if leaf.optional_input {
                    format!("input: {} = {{}}", leaf.input)
                } else {
                    format!("input: {}", leaf.input)
                };
                format!("({param}) => call({}, input)", string_literal(&leaf.path))
            });
            match (function, child.children.is_empty()) {
                (Some(f), true) => out.push_str(&format!("{pad}{key}: {f},\n")),
                (Some(f), false) => {
                    out.push_str(&format!("{pad}{key}: Object.assign({f}, {{\n"));
                    child.render_children(indent + 1, out);
                    out.push_str(&format!("{pad}}}),\n"));
                }
                (None, _) => {
                    out.push_str(&format!("{pad}{key}: {{\n"));
                    child.render_children(indent + 1, out);
                    out.push_str(&format!("{pad}}},\n"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn print(schema: Value) -> String {
        let names = HashMap::from([(("x".to_owned(), "Pet".to_owned()), "XPet".to_owned())]);
        Printer {
            integration: "x",
            def_names: &names,
        }
        .print(&schema, 0, 0)
    }

    #[test]
    fn schemas_print_as_types() {
        assert_eq!(
            print(json!({"type": "string", "format": "date-time"})),
            "string"
        );
        assert_eq!(print(json!({"type": ["integer", "null"]})), "number | null");
        assert_eq!(
            print(json!({"enum": ["a", "b\"c", 1, null]})),
            r#""a" | "b\"c" | 1 | null"#
        );
        assert_eq!(print(json!({"const": true})), "true");
        assert_eq!(
            print(json!({"type": "array", "items": {"$ref": "#/$defs/Pet"}})),
            "Array<XPet>"
        );
        assert_eq!(
            print(json!({"prefixItems": [{"type": "string"}], "items": false})),
            "[string]"
        );
        assert_eq!(
            print(json!({"anyOf": [{"type": "string"}, {"$ref": "#/$defs/Pet"}]})),
            "string | XPet"
        );
        assert_eq!(
            print(
                json!({"allOf": [{"$ref": "#/$defs/Pet"}, {"anyOf": [{"type": "string"}, {"type": "number"}]}]})
            ),
            "XPet & (string | number)"
        );
        assert_eq!(
            print(json!({"type": "object", "additionalProperties": {"type": "integer"}})),
            "{\n  [key: string]: number;\n}"
        );
        assert_eq!(
            print(
                json!({"type": "object", "required": ["a-b"], "properties": {"a-b": {"type": "string", "description": "x */ y"}, "c": {}}, "additionalProperties": false})
            ),
            "{\n  /** x *\\/ y */\n  \"a-b\": string;\n  c?: unknown;\n}"
        );
        assert_eq!(print(json!({"$ref": "#/$defs/Missing"})), "unknown");
        assert_eq!(print(json!({"not": {}})), "unknown");
        assert_eq!(print(json!(false)), "never");
    }

    #[test]
    fn names_are_unique_and_safe() {
        let mut names = Names::new(TAKEN);
        assert_eq!(names.claim("github issue"), "GithubIssue");
        assert_eq!(names.claim("github-issue"), "GithubIssue2");
        assert_eq!(names.claim("2fa"), "T2fa");
        assert_eq!(names.claim("record"), "Record2");
        assert_eq!(property_key("ok_1"), "ok_1");
        assert_eq!(property_key("X-Trace"), "\"X-Trace\"");
    }
}
