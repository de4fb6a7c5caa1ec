//! GraphQL ingest: a schema (SDL, or an introspection result) to IR tools.
//!
//! Every field of the query root becomes `query.<field>`, every field of
//! the mutation root `mutation.<field>`. Arguments become the input schema
//! (input objects and enums shared under `$defs`); the return type, cut to
//! a **default selection set**, becomes a real output schema:
//!
//! - scalars and enums of an object are selected; nested objects are
//!   followed to [`MAX_DEPTH`] levels, never into a type already on the
//!   path (cycles), and never through fields that need arguments;
//! - the connection pattern (`...Connection` / `...Edge` types with `edges`,
//!   `node`, `nodes`, `pageInfo`) does not count against the depth, so a
//!   list of nodes keeps its fields;
//! - interfaces select their own leaf fields and `__typename`; unions select
//!   `__typename` and each member's leaf fields.
//!
//! An optional `select` input lets a caller give its own selection, checked
//! against the schema before it is sent (see [`Schema::check_select`]).
//!
//! Custom scalars map to JSON Schema by name (see [`custom_scalar`]);
//! unknown ones accept any JSON value.
//!
//! The schema is read leniently: a field defined twice in one type (GitHub's
//! schema does this) keeps its first definition and gets a diagnostic.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::diagnostic::{Diagnostic, Severity};
use crate::ingest::Ingested;
use crate::ingest::openapi::Options;
use crate::ir::{
    Annotations, Binding, GraphqlBinding, GraphqlOperation, Integration, Policy, SourceKind, Tool,
};
use crate::naming::{sanitise_tool_name, stable_hash};

mod select;

/// How deep the default selection follows object fields.
pub const MAX_DEPTH: usize = 2;

/// Why a schema cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphqlError {
    #[error("the GraphQL schema does not parse: {0}")]
    Syntax(String),
    #[error(
        "the introspection result has no `__schema` (give `{{\"data\": {{\"__schema\": ...}}}}` or `{{\"__schema\": ...}}`)"
    )]
    NoSchema,
    #[error("the schema has no query type")]
    NoQuery,
}

#[derive(Debug, Clone, PartialEq)]
enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    fn name(&self) -> &str {
        match self {
            TypeRef::Named(n) => n,
            TypeRef::List(t) | TypeRef::NonNull(t) => t.name(),
        }
    }

    fn non_null(&self) -> bool {
        matches!(self, TypeRef::NonNull(_))
    }

    /// As written in a query's variable definitions.
    fn text(&self) -> String {
        match self {
            TypeRef::Named(n) => n.clone(),
            TypeRef::List(t) => format!("[{}]", t.text()),
            TypeRef::NonNull(t) => format!("{}!", t.text()),
        }
    }
}

#[derive(Debug, Clone)]
struct InputValue {
    name: String,
    description: Option<String>,
    ty: TypeRef,
    has_default: bool,
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    description: Option<String>,
    args: Vec<InputValue>,
    ty: TypeRef,
    deprecated: bool,
}

#[derive(Debug, Clone)]
enum Kind {
    Scalar,
    Object(Vec<Field>),
    Interface(Vec<Field>),
    Union(Vec<String>),
    Enum(Vec<String>),
    InputObject(Vec<InputValue>),
}

#[derive(Debug, Clone)]
struct TypeDef {
    description: Option<String>,
    kind: Kind,
}

/// A schema read into the model ingest works on; the runtime keeps one per
/// GraphQL source to check callers' selections ([`Schema::check_select`]).
#[derive(Debug, Default)]
pub struct Schema {
    types: BTreeMap<String, TypeDef>,
    query: Option<String>,
    mutation: Option<String>,
}

impl Schema {
    /// Reads SDL text or an introspection result (JSON, bare or under `data`).
    pub fn read(text: &str) -> Result<Schema, GraphqlError> {
        read(text, &mut Vec::new())
    }
}

fn read(text: &str, diagnostics: &mut Vec<Diagnostic>) -> Result<Schema, GraphqlError> {
    if text.trim_start().starts_with('{') {
        let value: Value =
            serde_json::from_str(text).map_err(|e| GraphqlError::Syntax(e.to_string()))?;
        from_introspection(&value, diagnostics)
    } else {
        from_sdl(text, diagnostics)
    }
}

/// Reads SDL text or an introspection result (JSON, bare or under `data`).
pub fn ingest(text: &str, options: &Options) -> Result<Ingested, GraphqlError> {
    let mut diagnostics = Vec::new();
    let schema = read(text, &mut diagnostics)?;
    Ok(build(&schema, options, diagnostics))
}

fn warn(diagnostics: &mut Vec<Diagnostic>, location: String, message: String) {
    diagnostics.push(Diagnostic {
        severity: Severity::Warning,
        location,
        message,
    });
}

/// Keeps the first field of each name.
fn dedupe_fields(
    type_name: &str,
    fields: Vec<Field>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Field> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(fields.len());
    for field in fields {
        if seen.insert(field.name.clone()) {
            out.push(field);
        } else {
            warn(
                diagnostics,
                format!("#/types/{type_name}/fields/{}", field.name),
                format!(
                    "{type_name}.{} is defined twice: the first definition is used",
                    field.name
                ),
            );
        }
    }
    out
}

fn from_sdl(text: &str, diagnostics: &mut Vec<Diagnostic>) -> Result<Schema, GraphqlError> {
    use graphql_parser::schema::{Definition, TypeDefinition, TypeExtension};
    let document = graphql_parser::schema::parse_schema::<String>(text)
        .map_err(|e| GraphqlError::Syntax(e.to_string()))?;
    let mut schema = Schema::default();
    let mut extensions: Vec<(String, Vec<Field>)> = Vec::new();
    let mut member_extensions: Vec<(String, Vec<String>)> = Vec::new();
    let mut value_extensions: Vec<(String, Vec<String>)> = Vec::new();
    let mut input_extensions: Vec<(String, Vec<InputValue>)> = Vec::new();
    for definition in document.definitions {
        match definition {
            Definition::SchemaDefinition(s) => {
                schema.query = s.query;
                schema.mutation = s.mutation;
            }
            Definition::TypeDefinition(t) => {
                let (name, def) = match t {
                    TypeDefinition::Scalar(s) => (
                        s.name,
                        TypeDef {
                            description: s.description,
                            kind: Kind::Scalar,
                        },
                    ),
                    TypeDefinition::Object(o) => (
                        o.name.clone(),
                        TypeDef {
                            description: o.description,
                            kind: Kind::Object(dedupe_fields(
                                &o.name,
                                o.fields.into_iter().map(sdl_field).collect(),
                                diagnostics,
                            )),
                        },
                    ),
                    TypeDefinition::Interface(i) => (
                        i.name.clone(),
                        TypeDef {
                            description: i.description,
                            kind: Kind::Interface(dedupe_fields(
                                &i.name,
                                i.fields.into_iter().map(sdl_field).collect(),
                                diagnostics,
                            )),
                        },
                    ),
                    TypeDefinition::Union(u) => (
                        u.name,
                        TypeDef {
                            description: u.description,
                            kind: Kind::Union(u.types),
                        },
                    ),
                    TypeDefinition::Enum(e) => (
                        e.name,
                        TypeDef {
                            description: e.description,
                            kind: Kind::Enum(e.values.into_iter().map(|v| v.name).collect()),
                        },
                    ),
                    TypeDefinition::InputObject(i) => (
                        i.name,
                        TypeDef {
                            description: i.description,
                            kind: Kind::InputObject(i.fields.into_iter().map(sdl_input).collect()),
                        },
                    ),
                };
                schema.types.insert(name, def);
            }
            Definition::TypeExtension(TypeExtension::Object(o)) => {
                extensions.push((o.name, o.fields.into_iter().map(sdl_field).collect()));
            }
            Definition::TypeExtension(TypeExtension::Interface(i)) => {
                extensions.push((i.name, i.fields.into_iter().map(sdl_field).collect()));
            }
            Definition::TypeExtension(TypeExtension::Union(u)) => {
                member_extensions.push((u.name, u.types));
            }
            Definition::TypeExtension(TypeExtension::Enum(e)) => {
                value_extensions.push((e.name, e.values.into_iter().map(|v| v.name).collect()));
            }
            Definition::TypeExtension(TypeExtension::InputObject(i)) => {
                input_extensions.push((i.name, i.fields.into_iter().map(sdl_input).collect()));
            }
            Definition::TypeExtension(TypeExtension::Scalar(_))
            | Definition::DirectiveDefinition(_) => {}
        }
    }
    // Extensions apply after every definition is read (they may come first).
    for (name, fields) in extensions {
        if let Some(TypeDef {
            kind: Kind::Object(existing) | Kind::Interface(existing),
            ..
        }) = schema.types.get_mut(&name)
        {
            existing.extend(fields);
            let all = std::mem::take(existing);
            *existing = dedupe_fields(&name, all, diagnostics);
        }
    }
    for (name, more) in member_extensions {
        if let Some(TypeDef {
            kind: Kind::Union(members),
            ..
        }) = schema.types.get_mut(&name)
        {
            members.extend(more);
        }
    }
    for (name, more) in value_extensions {
        if let Some(TypeDef {
            kind: Kind::Enum(values),
            ..
        }) = schema.types.get_mut(&name)
        {
            values.extend(more);
        }
    }
    for (name, more) in input_extensions {
        if let Some(TypeDef {
            kind: Kind::InputObject(fields),
            ..
        }) = schema.types.get_mut(&name)
        {
            fields.extend(more);
        }
    }
    if schema.query.is_none() && schema.types.contains_key("Query") {
        schema.query = Some("Query".into());
    }
    if schema.mutation.is_none() && schema.types.contains_key("Mutation") {
        schema.mutation = Some("Mutation".into());
    }
    Ok(schema)
}

fn sdl_type(t: graphql_parser::schema::Type<'_, String>) -> TypeRef {
    use graphql_parser::schema::Type;
    match t {
        Type::NamedType(n) => TypeRef::Named(n),
        Type::ListType(t) => TypeRef::List(Box::new(sdl_type(*t))),
        Type::NonNullType(t) => TypeRef::NonNull(Box::new(sdl_type(*t))),
    }
}

fn sdl_input(v: graphql_parser::schema::InputValue<'_, String>) -> InputValue {
    InputValue {
        name: v.name,
        description: v.description,
        ty: sdl_type(v.value_type),
        has_default: v.default_value.is_some(),
    }
}

fn sdl_field(f: graphql_parser::schema::Field<'_, String>) -> Field {
    Field {
        deprecated: f.directives.iter().any(|d| d.name == "deprecated"),
        name: f.name,
        description: f.description,
        args: f.arguments.into_iter().map(sdl_input).collect(),
        ty: sdl_type(f.field_type),
    }
}

/// The introspection format is a plain JSON tree; reading it into the same
/// model as SDL is a few lines (a crate would bring its own model).
fn from_introspection(
    value: &Value,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Schema, GraphqlError> {
    let root = value
        .pointer("/data/__schema")
        .or_else(|| value.get("__schema"))
        .ok_or(GraphqlError::NoSchema)?;
    let name_of = |v: &Value, key: &str| {
        v.pointer(&format!("/{key}/name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut schema = Schema {
        query: name_of(root, "queryType"),
        mutation: name_of(root, "mutationType"),
        ..Schema::default()
    };
    fn type_ref(v: &Value) -> TypeRef {
        match v["kind"].as_str() {
            Some("NON_NULL") => TypeRef::NonNull(Box::new(type_ref(&v["ofType"]))),
            Some("LIST") => TypeRef::List(Box::new(type_ref(&v["ofType"]))),
            _ => TypeRef::Named(v["name"].as_str().unwrap_or_default().to_owned()),
        }
    }
    let text = |v: &Value, key: &str| v[key].as_str().map(str::to_owned);
    let input = |v: &Value| InputValue {
        name: text(v, "name").unwrap_or_default(),
        description: text(v, "description"),
        ty: type_ref(&v["type"]),
        has_default: !v["defaultValue"].is_null(),
    };
    for t in root["types"].as_array().into_iter().flatten() {
        let Some(name) = text(t, "name") else {
            continue;
        };
        if name.starts_with("__") {
            continue;
        }
        let fields = || -> Vec<Field> {
            t["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| Field {
                    name: text(f, "name").unwrap_or_default(),
                    description: text(f, "description"),
                    args: f["args"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(input)
                        .collect(),
                    ty: type_ref(&f["type"]),
                    deprecated: f["isDeprecated"].as_bool().unwrap_or(false),
                })
                .collect()
        };
        let kind = match t["kind"].as_str() {
            Some("OBJECT") => Kind::Object(dedupe_fields(&name, fields(), diagnostics)),
            Some("INTERFACE") => Kind::Interface(dedupe_fields(&name, fields(), diagnostics)),
            Some("UNION") => Kind::Union(
                t["possibleTypes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| text(p, "name"))
                    .collect(),
            ),
            Some("ENUM") => Kind::Enum(
                t["enumValues"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| text(v, "name"))
                    .collect(),
            ),
            Some("INPUT_OBJECT") => Kind::InputObject(
                t["inputFields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(input)
                    .collect(),
            ),
            _ => Kind::Scalar,
        };
        schema.types.insert(
            name,
            TypeDef {
                description: text(t, "description"),
                kind,
            },
        );
    }
    Ok(schema)
}

/// The JSON Schema of a custom scalar, by its name; unknown ones accept any
/// JSON value. Built-in scalars are handled before.
pub fn custom_scalar(name: &str) -> Value {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "datetime" | "timestamp" | "datetimeutc" => {
            json!({"type": "string", "format": "date-time"})
        }
        "date" => json!({"type": "string", "format": "date"}),
        "time" => json!({"type": "string", "format": "time"}),
        "uri" | "url" => json!({"type": "string", "format": "uri"}),
        "email" | "emailaddress" => json!({"type": "string", "format": "email"}),
        "uuid" => json!({"type": "string", "format": "uuid"}),
        "bigint" | "long" | "int64" => json!({"type": "integer"}),
        "decimal" | "bigdecimal" | "positivedecimal" => json!({"type": ["number", "string"]}),
        "json" | "jsonobject" | "jsonstring" | "jsonvalue" | "any" | "genericscalar" => json!({}),
        _ if lower.ends_with("id") || lower.contains("html") || lower.contains("string") => {
            json!({"type": "string"})
        }
        _ => json!({}),
    }
}

struct Builder<'s> {
    schema: &'s Schema,
    defs: Map<String, Value>,
    diagnostics: Vec<Diagnostic>,
}

impl Builder<'_> {
    fn leaf(&self, name: &str) -> Option<Value> {
        match name {
            "Int" => Some(json!({"type": "integer"})),
            "Float" => Some(json!({"type": "number"})),
            "String" => Some(json!({"type": "string"})),
            "ID" => Some(json!({"type": "string"})),
            "Boolean" => Some(json!({"type": "boolean"})),
            _ => match self.schema.types.get(name).map(|t| &t.kind) {
                Some(Kind::Scalar) => Some(custom_scalar(name)),
                Some(Kind::Enum(values)) => Some(json!({"type": "string", "enum": values})),
                _ => None,
            },
        }
    }

    /// An input type's schema (`null` allowed where GraphQL allows it).
    fn input(&mut self, ty: &TypeRef) -> Value {
        match ty {
            TypeRef::NonNull(inner) => self.input_inner(inner),
            other => self.input_inner(other),
        }
    }

    fn input_inner(&mut self, ty: &TypeRef) -> Value {
        match ty {
            TypeRef::NonNull(inner) => self.input_inner(inner),
            TypeRef::List(inner) => json!({"type": "array", "items": self.input(inner)}),
            TypeRef::Named(name) => {
                if let Some(leaf) = self.leaf(name) {
                    if matches!(
                        self.schema.types.get(name).map(|t| &t.kind),
                        Some(Kind::Enum(_))
                    ) {
                        self.defs.entry(name.clone()).or_insert(leaf);
                        return json!({"$ref": format!("#/$defs/{name}")});
                    }
                    return leaf;
                }
                match self.schema.types.get(name) {
                    Some(TypeDef {
                        kind: Kind::InputObject(fields),
                        description,
                    }) => {
                        if !self.defs.contains_key(name) {
                            // Placeholder first: input objects may refer to themselves.
                            self.defs.insert(name.clone(), json!({}));
                            let fields = fields.clone();
                            let description = description.clone();
                            let object = self.object_of_inputs(&fields, description.as_deref());
                            self.defs.insert(name.clone(), object);
                        }
                        json!({"$ref": format!("#/$defs/{name}")})
                    }
                    _ => {
                        warn(
                            &mut self.diagnostics,
                            format!("#/types/{name}"),
                            format!("input type {name} is not defined: any value is accepted"),
                        );
                        json!({})
                    }
                }
            }
        }
    }

    fn object_of_inputs(&mut self, values: &[InputValue], description: Option<&str>) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for v in values {
            let mut schema = self.input(&v.ty);
            if let (Some(d), Value::Object(map)) = (&v.description, &mut schema)
                && !map.contains_key("$ref")
            {
                map.insert("description".into(), json!(d));
            }
            if v.ty.non_null() && !v.has_default {
                required.push(json!(v.name));
            }
            properties.insert(v.name.clone(), schema);
        }
        let mut object =
            json!({"type": "object", "properties": properties, "additionalProperties": false});
        if !required.is_empty() {
            object["required"] = Value::Array(required);
        }
        if let Some(d) = description {
            object["description"] = json!(d);
        }
        object
    }

    /// The selection and output schema of a field's type, or `None` when
    /// nothing of it can be selected.
    fn output(
        &self,
        ty: &TypeRef,
        depth: usize,
        path: &mut Vec<String>,
    ) -> Option<(String, Value)> {
        let (selection, schema) = self.output_inner(ty, depth, path)?;
        let schema = if ty.non_null() {
            schema
        } else {
            nullable(schema)
        };
        Some((selection, schema))
    }

    fn output_inner(
        &self,
        ty: &TypeRef,
        depth: usize,
        path: &mut Vec<String>,
    ) -> Option<(String, Value)> {
        match ty {
            TypeRef::NonNull(inner) => self.output_inner(inner, depth, path),
            TypeRef::List(inner) => {
                let (selection, items) = self.output(inner, depth, path)?;
                Some((selection, json!({"type": "array", "items": items})))
            }
            TypeRef::Named(name) => {
                if let Some(leaf) = self.leaf(name) {
                    return Some((String::new(), leaf));
                }
                let def = self.schema.types.get(name)?;
                if path.contains(name) {
                    return None;
                }
                // Connection wrappers do not use up the depth, but are not
                // entered where the depth is spent.
                let wrapper = name.ends_with("Connection") || name.ends_with("Edge");
                if depth == 0 {
                    return None;
                }
                let next = if wrapper { depth } else { depth - 1 };
                path.push(name.clone());
                let result = match &def.kind {
                    Kind::Object(fields) | Kind::Interface(fields) => {
                        let interface = matches!(def.kind, Kind::Interface(_));
                        let connection = name.ends_with("Connection");
                        self.object(fields, interface, connection, next, path)
                    }
                    Kind::Union(members) => {
                        let mut parts = vec!["__typename".to_owned()];
                        for member in members {
                            if let Some(TypeDef {
                                kind: Kind::Object(fields),
                                ..
                            }) = self.schema.types.get(member)
                            {
                                let leaves: Vec<&str> = fields
                                    .iter()
                                    .filter(|f| selectable(f) && self.leaf(f.ty.name()).is_some())
                                    .map(|f| f.name.as_str())
                                    .collect();
                                if !leaves.is_empty() {
                                    parts.push(format!(
                                        "... on {member} {{ {} }}",
                                        leaves.join(" ")
                                    ));
                                }
                            }
                        }
                        Some((
                            format!("{{ {} }}", parts.join(" ")),
                            json!({"type": "object", "properties": {"__typename": {"type": "string"}}, "required": ["__typename"]}),
                        ))
                    }
                    _ => None,
                };
                path.pop();
                result
            }
        }
    }

    /// A connection selects its leaves, `edges` and `pageInfo` (or `nodes`
    /// when it has no `edges`), not the other lists of the same nodes.
    fn object(
        &self,
        fields: &[Field],
        interface: bool,
        connection: bool,
        depth: usize,
        path: &mut Vec<String>,
    ) -> Option<(String, Value)> {
        let has_edges = fields.iter().any(|f| f.name == "edges");
        let mut parts = Vec::new();
        let mut properties = Map::new();
        let mut required = Vec::new();
        if interface {
            parts.push("__typename".to_owned());
            properties.insert("__typename".into(), json!({"type": "string"}));
            required.push(json!("__typename"));
        }
        let wanted = |f: &Field| {
            !connection
                || self.leaf(f.ty.name()).is_some()
                || f.name == "pageInfo"
                || f.name == if has_edges { "edges" } else { "nodes" }
        };
        for field in fields.iter().filter(|f| selectable(f) && wanted(f)) {
            let Some((selection, mut schema)) = self.output(&field.ty, depth, path) else {
                continue;
            };
            // Descriptions on the first level only: nested copies of the
            // same types would repeat them many times over.
            if let (Some(d), Value::Object(map)) = (&field.description, &mut schema)
                && !map.contains_key("$ref")
                && depth + 1 >= MAX_DEPTH
            {
                map.insert("description".into(), json!(d));
            }
            parts.push(if selection.is_empty() {
                field.name.clone()
            } else {
                format!("{} {selection}", field.name)
            });
            required.push(json!(field.name));
            properties.insert(field.name.clone(), schema);
        }
        if parts.is_empty() {
            return None;
        }
        Some((
            format!("{{ {} }}", parts.join(" ")),
            json!({"type": "object", "properties": properties, "required": required}),
        ))
    }
}

/// Fields the default selection can take: not deprecated, no required
/// arguments.
fn selectable(field: &Field) -> bool {
    !field.deprecated && !field.args.iter().any(|a| a.ty.non_null() && !a.has_default)
}

fn nullable(schema: Value) -> Value {
    match schema {
        Value::Object(mut map)
            if map.get("type").is_some_and(Value::is_string) && !map.contains_key("enum") =>
        {
            let t = map.remove("type").unwrap_or(Value::Null);
            map.insert("type".into(), json!([t, "null"]));
            Value::Object(map)
        }
        Value::Object(map) if map.is_empty() => Value::Object(map),
        other => json!({"anyOf": [other, {"type": "null"}]}),
    }
}

fn build(schema: &Schema, options: &Options, diagnostics: Vec<Diagnostic>) -> Ingested {
    let mut builder = Builder {
        schema,
        defs: Map::new(),
        diagnostics,
    };
    let mut tools = Vec::new();
    let prefix = options.connection.path_prefix(&options.namespace);
    let budget = options.connection.name_budget(&options.namespace);
    for (operation, root) in [
        (GraphqlOperation::Query, &schema.query),
        (GraphqlOperation::Mutation, &schema.mutation),
    ] {
        let Some(root) = root else { continue };
        let Some(TypeDef {
            kind: Kind::Object(fields),
            ..
        }) = schema.types.get(root)
        else {
            continue;
        };
        let keyword = match operation {
            GraphqlOperation::Query => "query",
            GraphqlOperation::Mutation => "mutation",
        };
        for field in fields {
            let mut input = builder.object_of_inputs(&field.args, None);
            let (selection, output) = builder
                .output(&field.ty, MAX_DEPTH, &mut Vec::new())
                .unwrap_or_else(|| (String::new(), json!({})));
            if !selection.is_empty() {
                input["properties"]["select"] = json!({
                    "type": "string",
                    "description": format!(
                        "Your own selection set for the {} result instead of the default, e.g. \"{{ id }}\"; checked against the schema before sending",
                        field.ty.name()
                    ),
                });
            }
            let variables: Vec<String> = field
                .args
                .iter()
                .map(|a| format!("${}: {}", a.name, a.ty.text()))
                .collect();
            let arguments: Vec<String> = field
                .args
                .iter()
                .map(|a| format!("{0}: ${0}", a.name))
                .collect();
            let document = format!(
                "{keyword} {}{} {{ {}{} {selection} }}",
                field.name,
                if variables.is_empty() {
                    String::new()
                } else {
                    format!("({})", variables.join(", "))
                },
                field.name,
                if arguments.is_empty() {
                    String::new()
                } else {
                    format!("({})", arguments.join(", "))
                },
            )
            .replace("  ", " ");
            let mut name = format!("{keyword}.{}", sanitise_tool_name(&field.name));
            if name.len() > budget {
                let keep = budget.saturating_sub(9);
                name = format!("{}_{}", &name[..keep], &stable_hash(&field.name)[..8]);
            }
            let read_only = operation == GraphqlOperation::Query;
            tools.push(Tool {
                path: format!("{prefix}{name}"),
                integration: options.namespace.clone(),
                connection: options.connection.clone(),
                name,
                title: None,
                description: field.description.clone(),
                input,
                output,
                annotations: Annotations {
                    read_only_hint: Some(read_only),
                    destructive_hint: None,
                    idempotent_hint: read_only.then_some(true),
                    open_world_hint: Some(true),
                },
                default_policy: if read_only {
                    Policy::Allow
                } else {
                    Policy::RequireApproval
                },
                deprecated: field.deprecated,
                binding: Binding::Graphql(GraphqlBinding {
                    operation,
                    field: field.name.clone(),
                    document,
                }),
            });
        }
    }
    tools.sort_by(|a, b| a.path.cmp(&b.path));
    let description = schema
        .query
        .as_ref()
        .and_then(|q| schema.types.get(q))
        .and_then(|t| t.description.clone());
    Ingested {
        integration: Integration {
            name: options.namespace.clone(),
            kind: SourceKind::Graphql,
            title: None,
            description,
            version: None,
            servers: Vec::new(),
            security_schemes: BTreeMap::new(),
            groups: BTreeMap::new(),
            defs: builder.defs,
        },
        tools,
        diagnostics: builder.diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        "The root"
        type Query {
          "One film"
          film(id: ID!): Film
          allFilms(first: Int, after: String): FilmsConnection
          search(text: String!, kind: Kind = FILM): [SearchResult!]!
          node(id: ID!): Node
        }
        type Mutation { rate(input: RatingInput!): Film }
        interface Node { id: ID! }
        enum Kind { FILM PERSON }
        scalar DateTime
        input RatingInput { filmId: ID!, stars: Int!, note: String, next: RatingInput }
        type Film implements Node {
          id: ID!
          title: String
          released: DateTime
          director: Person
          characters(first: Int): PeopleConnection
          old: String @deprecated(reason: "gone")
          nope(required: Int!): String
        }
        type Person implements Node { id: ID! name: String! films: [Film] name: String }
        type FilmsConnection { edges: [FilmsEdge] pageInfo: PageInfo! totalCount: Int }
        type FilmsEdge { node: Film cursor: String! }
        type PeopleConnection { edges: [PeopleEdge] }
        type PeopleEdge { node: Person }
        type PageInfo { hasNextPage: Boolean! endCursor: String }
        union SearchResult = Film | Person
    "#;

    fn tools() -> Ingested {
        ingest(SDL, &Options::new("swapi")).unwrap()
    }

    fn tool<'a>(ingested: &'a Ingested, name: &str) -> &'a Tool {
        ingested.tools.iter().find(|t| t.name == name).unwrap()
    }

    #[test]
    fn roots_become_tools_with_defaults_by_operation() {
        let ingested = tools();
        let names: Vec<&str> = ingested.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "mutation.rate",
                "query.allFilms",
                "query.film",
                "query.node",
                "query.search"
            ]
        );
        assert_eq!(tool(&ingested, "query.film").default_policy, Policy::Allow);
        assert_eq!(
            tool(&ingested, "mutation.rate").default_policy,
            Policy::RequireApproval
        );
        assert_eq!(
            tool(&ingested, "query.film").path,
            "swapi.org.main.query.film"
        );
    }

    #[test]
    fn arguments_become_the_input_schema() {
        let ingested = tools();
        let film = tool(&ingested, "query.film");
        assert_eq!(film.input["required"], json!(["id"]));
        assert_eq!(film.input["properties"]["id"], json!({"type": "string"}));
        let search = tool(&ingested, "query.search");
        // A default makes a non-null argument optional; enums are shared.
        assert_eq!(search.input["required"], json!(["text"]));
        assert_eq!(
            search.input["properties"]["kind"],
            json!({"$ref": "#/$defs/Kind"})
        );
        assert_eq!(
            ingested.integration.defs["Kind"]["enum"],
            json!(["FILM", "PERSON"])
        );
        // Input objects are shared and may refer to themselves.
        let rate = tool(&ingested, "mutation.rate");
        assert_eq!(
            rate.input["properties"]["input"],
            json!({"$ref": "#/$defs/RatingInput"})
        );
        let rating = &ingested.integration.defs["RatingInput"];
        assert_eq!(rating["required"], json!(["filmId", "stars"]));
        assert_eq!(
            rating["properties"]["next"],
            json!({"$ref": "#/$defs/RatingInput"})
        );
    }

    #[test]
    fn the_default_selection_is_a_real_output_schema() {
        let ingested = tools();
        let film = tool(&ingested, "query.film");
        let Binding::Graphql(binding) = &film.binding else {
            panic!()
        };
        // Leaves, a nested object one level down, no deprecated fields, no
        // fields with required arguments, no cycle back to Film.
        assert_eq!(
            binding.document,
            "query film($id: ID!) { film(id: $id) { id title released director { id name } characters { edges { node { id name } } } } }"
        );
        assert_eq!(film.output["type"], json!(["object", "null"]));
        let props = &film.output["properties"];
        assert_eq!(props["released"]["format"], "date-time");
        assert_eq!(props["title"]["type"], json!(["string", "null"]));
        assert_eq!(props["director"]["properties"]["name"]["type"], "string");
        assert!(props.get("old").is_none() && props.get("nope").is_none());
        assert!(film.input["properties"]["select"].is_object());

        // The connection pattern keeps the nodes' fields.
        let all = tool(&ingested, "query.allFilms");
        let Binding::Graphql(binding) = &all.binding else {
            panic!()
        };
        assert!(
            binding
                .document
                .contains("edges { node { id title released"),
            "{}",
            binding.document
        );
        assert!(
            binding
                .document
                .contains("pageInfo { hasNextPage endCursor } totalCount"),
            "{}",
            binding.document
        );

        // Unions: __typename and each member's leaves.
        let search = tool(&ingested, "query.search");
        let Binding::Graphql(binding) = &search.binding else {
            panic!()
        };
        assert!(
            binding.document.contains(
                "{ __typename ... on Film { id title released } ... on Person { id name } }"
            ),
            "{}",
            binding.document
        );
        assert_eq!(search.output["type"], "array");
    }

    #[test]
    fn duplicate_fields_keep_the_first_and_say_so() {
        let ingested = tools();
        assert!(
            ingested
                .diagnostics
                .iter()
                .any(|d| d.message.contains("defined twice")),
            "{:?}",
            ingested.diagnostics
        );
    }

    #[test]
    fn introspection_results_read_like_sdl() {
        let introspection = json!({"data": {"__schema": {
            "queryType": {"name": "Query"},
            "mutationType": null,
            "types": [
                {"kind": "OBJECT", "name": "Query", "fields": [
                    {"name": "hello", "args": [{"name": "who", "type": {"kind": "NON_NULL", "ofType": {"kind": "SCALAR", "name": "String"}}, "defaultValue": null}],
                     "type": {"kind": "SCALAR", "name": "String"}, "isDeprecated": false}
                ]},
                {"kind": "SCALAR", "name": "String"}
            ]
        }}});
        let ingested = ingest(&introspection.to_string(), &Options::new("hi")).unwrap();
        assert_eq!(ingested.tools.len(), 1);
        assert_eq!(ingested.tools[0].input["required"], json!(["who"]));
        let Binding::Graphql(binding) = &ingested.tools[0].binding else {
            panic!()
        };
        assert_eq!(
            binding.document,
            "query hello($who: String!) { hello(who: $who) }"
        );
        assert!(matches!(
            ingest("{}", &Options::new("x")),
            Err(GraphqlError::NoSchema)
        ));
        assert!(matches!(
            ingest("type {", &Options::new("x")),
            Err(GraphqlError::Syntax(_))
        ));
    }
}
