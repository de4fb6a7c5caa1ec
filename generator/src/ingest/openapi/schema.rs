//! The schema normaliser: OpenAPI Schema Objects (Swagger 2.0, 3.0, 3.1) to
//! JSON Schema draft 2020-12.
//!
//! - Every `$ref` to a schema becomes `#/$defs/<name>`; the target is
//!   converted once into the integration's definitions, so recursive schemas
//!   stay recursive and are never expanded.
//! - 3.0 and 2.0 keywords are rewritten: `nullable`/`x-nullable` into a
//!   `null` type, boolean `exclusiveMinimum`/`exclusiveMaximum` into numbers,
//!   `example` into `examples`, array-form `items` into `prefixItems`,
//!   Swagger `type: file` into a base64 string.
//! - Binary strings (`format: binary`, `format: byte`) gain
//!   `contentEncoding: base64`: tool inputs and outputs are JSON, so bytes
//!   travel in base64.
//! - Extensions (`x-*`), `xml`, `externalDocs`, `$id` and `$schema` are dropped.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::Reader;
use super::refs::{DocId, Location, pointer_tokens};
use crate::ir::{def_ref, def_ref_target, escape_pointer_token, file_input_schema};

/// Inline schemas nested deeper than this are cut off with a diagnostic.
const MAX_SCHEMA_DEPTH: usize = 64;

/// Keywords whose value is one schema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contentSchema",
];
/// Keywords whose value is an array of schemas.
const SCHEMA_ARRAY_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value is a map of schemas.
const SCHEMA_MAP_KEYWORDS: &[&str] = &[
    "properties",
    "patternProperties",
    "dependentSchemas",
    "$defs",
    "definitions",
];
/// Dropped without a word: they do not describe the data, or are handled
/// beside another keyword.
const DROPPED: &[&str] = &[
    "xml",
    "externalDocs",
    "$id",
    "$schema",
    "$anchor",
    "$dynamicAnchor",
    "$recursiveAnchor",
    "$vocabulary",
    "nullable",
    "x-nullable",
    "additionalItems",
];
/// Other 2020-12 keywords, copied as written.
const PLAIN_KEYWORDS: &[&str] = &[
    "$comment",
    "title",
    "description",
    "deprecated",
    "readOnly",
    "writeOnly",
    "uniqueItems",
    "maxContains",
    "minContains",
    "dependentRequired",
    "contentEncoding",
    "contentMediaType",
];
/// Keywords whose value is data, not schema: a `$ref` inside them would be
/// read as a reference by many tools, so such values are dropped.
const DATA_KEYWORDS: &[&str] = &["const", "default"];

/// Definition names and the work left to convert them.
#[derive(Default)]
pub(crate) struct Defs {
    names: HashMap<Location, String>,
    locations: HashMap<String, Location>,
    patterns: HashMap<String, bool>,
    queued: HashSet<Location>,
    pending: Vec<Location>,
    done: Map<String, Value>,
    /// The definition being converted, target of `$recursiveRef`.
    current: Option<String>,
}

impl Reader<'_> {
    /// Gives every component schema its own name first, so that names made
    /// up for other ref targets never take a component's name.
    pub(super) fn reserve_component_names(&mut self, container: &str) {
        let root = self.docs.root();
        let Some(Value::Object(schemas)) = root.pointer(container) else {
            return;
        };
        for name in schemas.keys() {
            let location = Location {
                doc: 0,
                pointer: format!("{container}/{}", escape_pointer_token(name)),
            };
            self.name_for(location, Some(name));
        }
    }

    /// Converts a schema found at `pointer` in document `doc`.
    pub(super) fn schema(&mut self, doc: DocId, value: &Value, pointer: &str) -> Value {
        self.convert(doc, value, pointer, 0)
    }

    /// Follows a schema that is nothing but a `$ref` (in the source, without
    /// naming a definition) to what it points at.
    pub(super) fn follow_schema_refs(
        &mut self,
        doc: DocId,
        value: &Value,
        pointer: &str,
    ) -> (DocId, Value, String) {
        let mut current = (doc, value.clone(), pointer.to_owned());
        for _ in 0..16 {
            let reference = match current.1.as_object() {
                Some(map) if map.len() == 1 => map.get("$ref").and_then(Value::as_str),
                _ => None,
            };
            let Some(location) = reference.and_then(|r| self.docs.resolve(current.0, r).ok())
            else {
                break;
            };
            let Some((root, inner)) = self.docs.get(&location) else {
                break;
            };
            let target = root.pointer(&inner).cloned().unwrap_or(Value::Null);
            current = (location.doc, target, location.pointer);
        }
        current
    }

    /// Converts every queued definition and returns them sorted by name.
    pub(super) fn finish_defs(&mut self) -> Map<String, Value> {
        while let Some(location) = self.defs.pending.pop() {
            let name = self.defs.names[&location].clone();
            self.defs.current = Some(name.clone());
            let converted = match self.docs.get(&location) {
                Some((root, inner)) => {
                    let target = root.pointer(&inner).unwrap_or(&Value::Null);
                    self.convert(location.doc, target, &location.pointer, 0)
                }
                None => Value::Bool(true),
            };
            self.defs.current = None;
            // Definitions are objects: some tools refuse boolean schemas there.
            let converted = match converted {
                Value::Bool(true) => json!({}),
                Value::Bool(false) => json!({ "not": {} }),
                other => other,
            };
            self.defs.done.insert(name, converted);
        }
        self.break_empty_cycles();
        let mut sorted: Vec<(String, Value)> =
            std::mem::take(&mut self.defs.done).into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        sorted.into_iter().collect()
    }

    /// A definition that is only a `$ref` chain leading back to itself has
    /// no content at all: it becomes the empty schema.
    fn break_empty_cycles(&mut self) {
        let names: Vec<String> = self.defs.done.keys().cloned().collect();
        for start in names {
            let mut seen = vec![start.clone()];
            let mut current = start.clone();
            while let Some(next) = self.defs.done.get(&current).and_then(only_ref) {
                if seen.contains(&next) {
                    if next == start {
                        let location = self.location_of(&start);
                        let at = location.map(|l| self.docs.describe(&l)).unwrap_or_default();
                        self.diags.warn(
                            at,
                            "circular $ref with no schema of its own: accepts any value",
                        );
                        self.defs.done.insert(start.clone(), json!({}));
                    }
                    break;
                }
                seen.push(next.clone());
                current = next;
            }
        }
    }

    fn location_of(&self, name: &str) -> Option<Location> {
        self.defs.locations.get(name).cloned()
    }

    /// The definition name of a location, queuing its conversion.
    fn def_for(&mut self, location: Location) -> String {
        let name = self.name_for(location.clone(), None);
        if self.defs.queued.insert(location.clone()) {
            self.defs.pending.push(location);
        }
        name
    }

    fn name_for(&mut self, location: Location, preferred: Option<&str>) -> String {
        if let Some(name) = self.defs.names.get(&location) {
            return name.clone();
        }
        let base = sanitise_def_name(&match preferred {
            Some(p) => p.to_owned(),
            None => self.derive_name(&location),
        });
        let mut name = base.clone();
        let mut n = 2;
        while self.defs.locations.contains_key(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.defs.locations.insert(name.clone(), location.clone());
        self.defs.names.insert(location, name.clone());
        name
    }

    fn derive_name(&self, location: &Location) -> String {
        let tokens = pointer_tokens(&location.pointer);
        if let [container, name] = tokens.as_slice()
            && container == "definitions"
        {
            return name.clone();
        }
        if let [a, b, name] = tokens.as_slice()
            && a == "components"
            && b == "schemas"
        {
            return name.clone();
        }
        // A definition inside a schema (`.../$defs/Node`) keeps its own name.
        if let [.., container, name] = tokens.as_slice()
            && (container == "$defs" || container == "definitions")
        {
            return name.clone();
        }
        let file_stem = {
            let path = self.docs.path_of(location.doc);
            let file = path.rsplit('/').next().unwrap_or(path);
            file.split('.').next().unwrap_or(file).to_owned()
        };
        let meaningful: Vec<&str> = tokens
            .iter()
            .map(String::as_str)
            .filter(|t| {
                !matches!(
                    *t,
                    "components"
                        | "schemas"
                        | "definitions"
                        | "properties"
                        | "content"
                        | "schema"
                        | "paths"
                ) && !t.contains('/')
            })
            .collect();
        match (meaningful.is_empty(), file_stem.is_empty()) {
            (true, true) => "Schema".to_owned(),
            (true, false) => file_stem,
            (false, _) => meaningful.join("_"),
        }
    }

    fn convert(&mut self, doc: DocId, value: &Value, pointer: &str, depth: usize) -> Value {
        let map = match value {
            Value::Object(map) => map,
            Value::Bool(b) => return Value::Bool(*b),
            other => {
                let message = format!(
                    "expected a schema, found {}: accepts any value",
                    kind_of(other)
                );
                let at = self.at(doc, pointer);
                self.diags.warn(at, message);
                return Value::Bool(true);
            }
        };
        if depth > MAX_SCHEMA_DEPTH {
            let at = self.at(doc, pointer);
            self.diags.warn(
                at,
                format!("schema nested more than {MAX_SCHEMA_DEPTH} levels: accepts any value below here"),
            );
            return Value::Bool(true);
        }
        let mut out = Map::new();
        for (key, child) in map {
            let child_pointer = || format!("{pointer}/{}", escape_pointer_token(key));
            match key.as_str() {
                "$ref" => match child.as_str() {
                    Some(reference) => match self.docs.resolve(doc, reference) {
                        Ok(location) => {
                            let name = self.def_for(location);
                            out.insert(key.clone(), Value::String(def_ref(&name)));
                        }
                        Err(e) => self
                            .diags
                            .warn(self.at(doc, pointer), format!("{e}: accepts any value")),
                    },
                    None => self
                        .diags
                        .warn(self.at(doc, pointer), "$ref is not a string: ignored"),
                },
                k if k.starts_with("x-") || DROPPED.contains(&k) => {}
                "$recursiveRef" | "$dynamicRef" => match self.defs.current.clone() {
                    // Both point back at the enclosing resource: here, the definition.
                    Some(current) if !map.contains_key("$ref") => {
                        out.insert("$ref".into(), Value::String(def_ref(&current)));
                    }
                    _ => {
                        let at = self.at(doc, pointer);
                        self.diags.warn(
                            at,
                            format!("{key} outside a named schema: accepts any value"),
                        );
                    }
                },
                k if PLAIN_KEYWORDS.contains(&k) => {
                    out.insert(key.clone(), child.clone());
                }
                k if DATA_KEYWORDS.contains(&k) => {
                    if contains_ref(child) {
                        let at = self.at(doc, pointer);
                        self.diags.warn(
                            at,
                            format!("{key} holds a $ref, which is not data: dropped"),
                        );
                    } else {
                        out.insert(key.clone(), child.clone());
                    }
                }
                "dependencies" => {
                    // Draft 4-7: arrays are dependentRequired, schemas dependentSchemas.
                    if let Value::Object(deps) = child {
                        let mut required = Map::new();
                        let mut schemas = Map::new();
                        for (name, dep) in deps {
                            if dep.is_array() {
                                required.insert(name.clone(), dep.clone());
                            } else {
                                let p =
                                    format!("{}/{}", child_pointer(), escape_pointer_token(name));
                                schemas.insert(name.clone(), self.convert(doc, dep, &p, depth + 1));
                            }
                        }
                        if !required.is_empty() {
                            out.insert("dependentRequired".into(), Value::Object(required));
                        }
                        if !schemas.is_empty() {
                            out.insert("dependentSchemas".into(), Value::Object(schemas));
                        }
                    }
                }
                "items" => match child {
                    Value::Array(items) => {
                        let converted = self.convert_list(doc, items, &child_pointer(), depth);
                        out.insert("prefixItems".into(), Value::Array(converted));
                        // Draft 4 `additionalItems` is 2020-12 `items` beside `prefixItems`.
                        if let Some(extra) = map.get("additionalItems") {
                            let p = format!("{pointer}/additionalItems");
                            let converted = self.convert(doc, extra, &p, depth + 1);
                            out.insert("items".into(), converted);
                        }
                    }
                    other => {
                        let converted = self.convert(doc, other, &child_pointer(), depth + 1);
                        out.insert(key.clone(), converted);
                    }
                },
                k if SCHEMA_KEYWORDS.contains(&k) => {
                    let converted = self.convert(doc, child, &child_pointer(), depth + 1);
                    out.insert(key.clone(), converted);
                }
                k if SCHEMA_ARRAY_KEYWORDS.contains(&k) => match child {
                    Value::Array(items) => {
                        let converted = self.convert_list(doc, items, &child_pointer(), depth);
                        out.insert(key.clone(), Value::Array(converted));
                    }
                    _ => self.diags.warn(
                        self.at(doc, pointer),
                        format!("{key} is not an array of schemas: ignored"),
                    ),
                },
                k if SCHEMA_MAP_KEYWORDS.contains(&k) => match child {
                    Value::Object(entries) => {
                        let mut converted = Map::new();
                        for (name, schema) in entries {
                            let p = format!("{}/{}", child_pointer(), escape_pointer_token(name));
                            converted
                                .insert(name.clone(), self.convert(doc, schema, &p, depth + 1));
                        }
                        let key = if k == "definitions" { "$defs" } else { k };
                        out.insert(key.to_owned(), Value::Object(converted));
                    }
                    _ => self.diags.warn(
                        self.at(doc, pointer),
                        format!("{key} is not a map of schemas: ignored"),
                    ),
                },
                "exclusiveMinimum" | "exclusiveMaximum" => match child {
                    Value::Bool(true) => {
                        let bound = if key == "exclusiveMinimum" {
                            "minimum"
                        } else {
                            "maximum"
                        };
                        if let Some(limit) = map.get(bound) {
                            out.insert(key.clone(), limit.clone());
                        }
                    }
                    Value::Bool(false) => {}
                    Value::Number(_) => {
                        out.insert(key.clone(), child.clone());
                    }
                    _ => self.diags.warn(
                        self.at(doc, pointer),
                        format!("{key} is not a number: ignored"),
                    ),
                },
                "minimum" | "maximum" => {
                    let exclusive = if key == "minimum" {
                        "exclusiveMinimum"
                    } else {
                        "exclusiveMaximum"
                    };
                    if map.get(exclusive) == Some(&Value::Bool(true)) {
                        continue; // moved into the exclusive keyword above
                    }
                    self.copy_number(&mut out, key, child, doc, pointer);
                }
                "multipleOf" | "maxLength" | "minLength" | "maxItems" | "minItems"
                | "maxProperties" | "minProperties" => {
                    self.copy_number(&mut out, key, child, doc, pointer)
                }
                "required" => match child {
                    Value::Array(items) if items.iter().all(Value::is_string) => {
                        let mut unique: Vec<Value> = Vec::with_capacity(items.len());
                        for item in items {
                            if !unique.contains(item) {
                                unique.push(item.clone());
                            }
                        }
                        out.insert(key.clone(), Value::Array(unique));
                    }
                    // `required: true` on a property is a common 2.0 mistake.
                    _ => self.diags.warn(
                        self.at(doc, pointer),
                        "required is not a list of property names: ignored",
                    ),
                },
                "type" => match child {
                    Value::String(t) if t == "file" => {
                        out.extend(as_map(file_input_schema(None)));
                    }
                    Value::String(_) => {
                        out.insert(key.clone(), child.clone());
                    }
                    Value::Array(types) if types.iter().all(Value::is_string) => {
                        out.insert(key.clone(), child.clone());
                    }
                    _ => self
                        .diags
                        .warn(self.at(doc, pointer), "type is not a type name: ignored"),
                },
                "pattern" => match child.as_str() {
                    Some(pattern) if self.pattern_compiles(pattern) => {
                        out.insert(key.clone(), child.clone());
                    }
                    _ => self.diags.warn(
                        self.at(doc, pointer),
                        format!("pattern {child} is not a valid regular expression: not checked"),
                    ),
                },
                "format" => {
                    if matches!(child.as_str(), Some("binary" | "byte")) {
                        out.insert("contentEncoding".into(), Value::String("base64".into()));
                    }
                    out.insert(key.clone(), child.clone());
                }
                "example" | "examples" if contains_ref(child) => {
                    let at = self.at(doc, pointer);
                    self.diags.warn(
                        at,
                        format!("{key} holds a $ref, which is not data: dropped"),
                    );
                }
                "example" => {
                    if !map.contains_key("examples") {
                        out.insert("examples".into(), Value::Array(vec![child.clone()]));
                    }
                }
                "examples" => {
                    // 2020-12 `examples` is an array; OpenAPI media types use a map.
                    if child.is_array() {
                        out.insert(key.clone(), child.clone());
                    }
                }
                "discriminator" => {
                    if let Some(d) = self.convert_discriminator(doc, child, &child_pointer()) {
                        out.insert(key.clone(), d);
                    }
                }
                "enum" => match child {
                    Value::Array(_) if contains_ref(child) => self.diags.warn(
                        self.at(doc, pointer),
                        "enum holds $ref objects, which are not values: any value accepted",
                    ),
                    Value::Array(_) => {
                        out.insert(key.clone(), child.clone());
                    }
                    _ => self
                        .diags
                        .warn(self.at(doc, pointer), "enum is not an array: ignored"),
                },
                _ => {
                    let at = self.at(doc, pointer);
                    self.diags
                        .warn(at, format!("unknown schema keyword {key:?}: dropped"));
                }
            }
        }
        // `exclusiveMinimum: true` without `minimum` above means nothing.
        let nullable = map.get("nullable") == Some(&Value::Bool(true))
            || map.get("x-nullable") == Some(&Value::Bool(true));
        if nullable {
            return make_nullable(out);
        }
        Value::Object(out)
    }

    /// Whether the validators downstream will accept a `pattern`.
    fn pattern_compiles(&mut self, pattern: &str) -> bool {
        if let Some(ok) = self.defs.patterns.get(pattern) {
            return *ok;
        }
        let ok = jsonschema::validator_for(&json!({ "pattern": pattern })).is_ok();
        self.defs.patterns.insert(pattern.to_owned(), ok);
        ok
    }

    fn convert_list(
        &mut self,
        doc: DocId,
        items: &[Value],
        pointer: &str,
        depth: usize,
    ) -> Vec<Value> {
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.convert(doc, item, &format!("{pointer}/{i}"), depth + 1))
            .collect()
    }

    fn copy_number(
        &mut self,
        out: &mut Map<String, Value>,
        key: &str,
        value: &Value,
        doc: DocId,
        pointer: &str,
    ) {
        if value.is_number() {
            out.insert(key.to_owned(), value.clone());
        } else {
            let at = self.at(doc, pointer);
            self.diags
                .warn(at, format!("{key} is not a number: ignored"));
        }
    }

    fn at(&self, doc: DocId, pointer: &str) -> String {
        format!("{}#{pointer}", self.docs.path_of(doc))
    }

    /// Keeps `propertyName` and the mapping entries whose targets exist,
    /// rewritten to `#/$defs/...` refs.
    fn convert_discriminator(&mut self, doc: DocId, value: &Value, pointer: &str) -> Option<Value> {
        let at = format!("{}#{pointer}", self.docs.path_of(doc));
        let property = value.get("propertyName").and_then(Value::as_str);
        let Some(property) = property else {
            self.diags
                .warn(at, "discriminator without propertyName: ignored");
            return None;
        };
        let mut out = json!({ "propertyName": property });
        if let Some(Value::Object(mapping)) = value.get("mapping") {
            let mut converted = Map::new();
            for (tag, target) in mapping {
                let Some(target) = target.as_str() else {
                    continue;
                };
                // A bare name means a component schema of that name.
                let reference =
                    if target.contains('#') || target.contains('/') || target.contains('.') {
                        target.to_owned()
                    } else {
                        let container = if self.docs.root().get("swagger").is_some() {
                            "#/definitions/"
                        } else {
                            "#/components/schemas/"
                        };
                        format!("{container}{}", escape_pointer_token(target))
                    };
                match self.docs.resolve(doc, &reference) {
                    Ok(location) => {
                        let name = self.def_for(location);
                        converted.insert(tag.clone(), Value::String(def_ref(&name)));
                    }
                    Err(e) => self.diags.warn(
                        at.clone(),
                        format!("discriminator mapping {tag:?}: {e}: dropped"),
                    ),
                }
            }
            if !converted.is_empty() {
                out["mapping"] = Value::Object(converted);
            }
        }
        Some(out)
    }
}

/// `nullable: true` in 2020-12 terms.
fn make_nullable(mut out: Map<String, Value>) -> Value {
    let null = Value::String("null".into());
    let has_ref_or_combinator = ["$ref", "allOf", "anyOf", "oneOf"]
        .iter()
        .any(|k| out.contains_key(*k));
    match out.get_mut("type") {
        Some(Value::String(t)) if !has_ref_or_combinator => {
            let t = Value::String(std::mem::take(t));
            out.insert("type".into(), Value::Array(vec![t, null.clone()]));
            if let Some(Value::Array(values)) = out.get_mut("enum")
                && !values.contains(&Value::Null)
            {
                values.push(Value::Null);
            }
            Value::Object(out)
        }
        Some(Value::Array(types)) if !has_ref_or_combinator => {
            if !types.contains(&null) {
                types.push(null);
            }
            Value::Object(out)
        }
        _ => {
            let mut wrapper = Map::new();
            let any_of = vec![Value::Object(out), json!({ "type": "null" })];
            wrapper.insert("anyOf".into(), Value::Array(any_of));
            Value::Object(wrapper)
        }
    }
}

/// Whether a data value holds a `$ref` key anywhere.
fn contains_ref(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.contains_key("$ref") || map.values().any(contains_ref),
        Value::Array(items) => items.iter().any(contains_ref),
        _ => false,
    }
}

/// The definition a schema is nothing but a ref to.
fn only_ref(value: &Value) -> Option<String> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    def_ref_target(map.get("$ref")?.as_str()?)
}

fn as_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Definition names keep to `[A-Za-z0-9._-]`, which every consumer accepts
/// (OpenAPI component names, TypeScript after its own mangling, URIs).
pub(crate) fn sanitise_def_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "Schema".to_owned()
    } else {
        cleaned
    }
}
