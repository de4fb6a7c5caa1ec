//! JSON Schemas as Rust types, for the Rust client.
//!
//! Every schema becomes a type expression; the ones Rust needs a name for
//! (objects with properties, `oneOf`/`anyOf`, string enums, `allOf`)
//! become items in the `types` module, named after the definition, or after
//! the tool and the property that holds them.
//!
//! - objects: structs, serde renames for names that are not Rust's, `Option`
//!   for properties that are not required or may be `null`; a map type when
//!   only `additionalProperties` is given, `serde_json::Map` when nothing is;
//! - `oneOf`/`anyOf`: enums, untagged, or dispatched on the discriminator's
//!   property when every member is a named definition;
//! - `allOf`: a struct whose parts are `#[serde(flatten)]`ed;
//! - string enums: enums of unit variants; other enums: their base type;
//! - recursion through definitions: `Box` (and a newtype where an alias
//!   would name itself).
//!
//! `serde_json::Value` is left only where a schema says nothing (`{}`,
//! `not`, refs into the middle of a definition, nesting beyond 40 levels).

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};

use crate::emit::{Names, pascal};
use crate::ir::{Integration, collect_def_refs, def_ref_target};

/// Inline schemas nested deeper than this become `serde_json::Value`.
const MAX_DEPTH: usize = 40;

const VALUE: &str = "serde_json::Value";
const DERIVES: &str = "#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]";

/// A type expression, and whether `null` is one of its values.
pub struct Ty {
    pub code: String,
    pub nullable: bool,
}

impl Ty {
    fn plain(code: impl Into<String>) -> Self {
        Ty {
            code: code.into(),
            nullable: false,
        }
    }

    /// The type as a value of its own: `Option<T>` when it may be `null`.
    pub fn whole(&self) -> String {
        if self.nullable {
            format!("Option<{}>", self.code)
        } else {
            self.code.clone()
        }
    }
}

/// Names the generated module's prelude uses.
const TAKEN: &[&str] = &[
    "Option", "Result", "String", "Vec", "Box", "Some", "None", "Ok", "Err", "Self", "Default",
];

/// Prints the schemas of a catalog as items of the `types` module.
pub struct Types {
    pub names: Names,
    /// `(integration, definition)` → its Rust name.
    def_names: HashMap<(String, String), String>,
    /// `(integration, definition)` → every definition it reaches.
    reaches: HashMap<(String, String), BTreeSet<String>>,
    /// The items, in the order they were made.
    pub items: String,
}

/// Where a schema sits: which integration's definitions its refs name, and
/// which definition holds it (a ref back to that one is boxed).
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub integration: &'a Integration,
    pub owner: Option<&'a str>,
}

impl Types {
    /// Names every definition of every integration first, so that they
    /// keep their natural names.
    pub fn new(integrations: &[Integration]) -> Self {
        let mut names = Names::new(TAKEN);
        let mut def_names = HashMap::new();
        let mut reaches = HashMap::new();
        for integration in integrations {
            for (def, schema) in &integration.defs {
                let key = (integration.name.clone(), def.clone());
                let name = names.claim(&format!("{} {}", integration.name, def));
                def_names.insert(key.clone(), name);
                let mut reached = BTreeSet::new();
                let mut stack = Vec::new();
                collect_def_refs(schema, &mut stack);
                while let Some(next) = stack.pop() {
                    if reached.insert(next.clone())
                        && let Some(schema) = integration.defs.get(&next)
                    {
                        collect_def_refs(schema, &mut stack);
                    }
                }
                reaches.insert(key, reached);
            }
        }
        Types {
            names,
            def_names,
            reaches,
            items: String::new(),
        }
    }

    /// Every definition of an integration as an item.
    pub fn definitions(&mut self, integration: &Integration) {
        for (def, schema) in &integration.defs {
            let key = (integration.name.clone(), def.clone());
            let name = self.def_names[&key].clone();
            let at = At {
                integration,
                owner: Some(def),
            };
            let ty = self.ty(schema, at, &name, Some(&name), 0);
            if ty.code == name {
                continue;
            }
            let docs = docs(schema);
            if self.reaches[&key].contains(def) {
                // `type A = Vec<A>` is an error: a newtype can name itself.
                self.items.push_str(&format!(
                    "{docs}{DERIVES}\n#[serde(transparent)]\npub struct {name}(pub {});\n\n",
                    ty.whole()
                ));
            } else {
                self.items
                    .push_str(&format!("{docs}pub type {name} = {};\n\n", ty.whole()));
            }
        }
    }

    /// The type of `schema`; `hint` names the items it needs, and `fixed`
    /// is the name already claimed for it (a definition's).
    pub fn ty(
        &mut self,
        schema: &Value,
        at: At<'_>,
        hint: &str,
        fixed: Option<&str>,
        depth: usize,
    ) -> Ty {
        let Value::Object(map) = schema else {
            return Ty::plain(VALUE);
        };
        if depth > MAX_DEPTH {
            return Ty::plain(VALUE);
        }
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            return Ty::plain(self.reference(reference, at));
        }
        if let Some(value) = map.get("const") {
            return literal_type(std::slice::from_ref(value));
        }
        if let Some(Value::Array(values)) = map.get("enum") {
            return self.enumeration(map, values, hint, fixed);
        }
        if let Some(Value::Array(parts)) = map.get("allOf")
            && !parts.is_empty()
        {
            return self.all_of(map, parts, at, hint, fixed, depth);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(members)) = map.get(key)
                && !members.is_empty()
            {
                return self.one_of(map, members, at, hint, fixed, depth);
            }
        }
        let types: Vec<&str> = match map.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ if map.contains_key("properties") || map.contains_key("additionalProperties") => {
                vec!["object"]
            }
            _ if map.contains_key("items") => vec!["array"],
            _ => return Ty::plain(VALUE),
        };
        let nullable = types.contains(&"null");
        let rest: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
        let code = match rest.as_slice() {
            [] => "()".to_owned(),
            [one] => self.of_type(one, map, at, hint, fixed, depth),
            many => {
                // `type: [string, integer]`: an untagged enum, one variant a type.
                let name = claim(&mut self.names, hint, fixed);
                let mut body = String::new();
                for t in many {
                    let payload = self.of_type(t, map, at, &format!("{hint} {t}"), None, depth);
                    body.push_str(&format!("    {}({payload}),\n", pascal(t)));
                }
                self.items.push_str(&format!(
                    "{}{DERIVES}\n#[serde(untagged)]\npub enum {name} {{\n{body}}}\n\n",
                    docs(schema)
                ));
                name
            }
        };
        Ty { code, nullable }
    }

    fn of_type(
        &mut self,
        t: &str,
        map: &Map<String, Value>,
        at: At<'_>,
        hint: &str,
        fixed: Option<&str>,
        depth: usize,
    ) -> String {
        match t {
            "string" => "String".to_owned(),
            "integer" => "i64".to_owned(),
            "number" => "f64".to_owned(),
            "boolean" => "bool".to_owned(),
            "array" => match map.get("items") {
                Some(items) if !map.contains_key("prefixItems") => {
                    let item = self.ty(items, at, &format!("{hint} item"), None, depth + 1);
                    format!("Vec<{}>", item.whole())
                }
                _ => format!("Vec<{VALUE}>"),
            },
            "object" => self.object(map, at, hint, fixed, depth),
            _ => VALUE.to_owned(),
        }
    }

    fn reference(&self, reference: &str, at: At<'_>) -> String {
        let Some(target) = def_ref_target(reference) else {
            return VALUE.to_owned();
        };
        // `#/$defs/A/properties/b` points inside a definition: not named.
        if reference
            .trim_start_matches(crate::ir::DEFS_PREFIX)
            .contains('/')
        {
            return VALUE.to_owned();
        }
        let key = (at.integration.name.clone(), target);
        let Some(name) = self.def_names.get(&key) else {
            return VALUE.to_owned();
        };
        let cycles_back = at.owner.is_some_and(|owner| {
            self.reaches
                .get(&key)
                .is_some_and(|reached| reached.contains(owner))
        });
        if cycles_back {
            format!("Box<{name}>")
        } else {
            name.clone()
        }
    }

    fn object(
        &mut self,
        map: &Map<String, Value>,
        at: At<'_>,
        hint: &str,
        fixed: Option<&str>,
        depth: usize,
    ) -> String {
        let properties = map.get("properties").and_then(Value::as_object);
        let Some(properties) = properties.filter(|p| !p.is_empty()) else {
            return match map.get("additionalProperties") {
                Some(extra @ Value::Object(_)) => {
                    let value = self.ty(extra, at, &format!("{hint} value"), None, depth + 1);
                    format!("std::collections::BTreeMap<String, {}>", value.whole())
                }
                _ => format!("serde_json::Map<String, {VALUE}>"),
            };
        };
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let name = claim(&mut self.names, hint, fixed);
        let mut fields = String::new();
        let mut idents = HashSet::new();
        let mut all_optional = true;
        for (key, schema) in properties {
            let ty = self.ty(schema, at, &format!("{name} {key}"), None, depth + 1);
            let ident = unique_ident(&snake(key), &mut idents);
            fields.push_str(&docs(schema));
            let mut attrs = Vec::new();
            if bare(&ident) != key {
                attrs.push(format!("rename = {}", string_literal(key)));
            }
            let code = if required.contains(&key.as_str()) {
                all_optional = false;
                if ty.nullable {
                    attrs.push("default".to_owned());
                }
                ty.whole()
            } else {
                attrs.push("default".to_owned());
                attrs.push("skip_serializing_if = \"Option::is_none\"".to_owned());
                format!("Option<{}>", ty.code)
            };
            if !attrs.is_empty() {
                fields.push_str(&format!("    #[serde({})]\n", attrs.join(", ")));
            }
            fields.push_str(&format!("    pub {ident}: {code},\n"));
        }
        let derives = if all_optional {
            DERIVES.replace("PartialEq,", "PartialEq, Default,")
        } else {
            DERIVES.to_owned()
        };
        self.items.push_str(&format!(
            "{}{derives}\npub struct {name} {{\n{fields}}}\n\n",
            map_docs(map)
        ));
        name
    }

    fn enumeration(
        &mut self,
        map: &Map<String, Value>,
        values: &[Value],
        hint: &str,
        fixed: Option<&str>,
    ) -> Ty {
        let nullable = values.iter().any(Value::is_null);
        let strings: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        if strings.is_empty() || strings.len() + usize::from(nullable) != values.len() {
            return literal_type(values);
        }
        let name = claim(&mut self.names, hint, fixed);
        let mut variants = String::new();
        let mut used = HashSet::new();
        for value in strings {
            let mut variant = pascal(value);
            if variant.is_empty() {
                variant = if value.is_empty() { "Empty" } else { "Value" }.to_owned();
            }
            if variant.starts_with(|c: char| c.is_ascii_digit()) || variant == "Self" {
                variant = format!("V{variant}");
            }
            let variant = unique(variant, &mut used);
            variants.push_str(&format!(
                "    #[serde(rename = {})]\n    {variant},\n",
                string_literal(value)
            ));
        }
        self.items.push_str(&format!(
            "{}{}\npub enum {name} {{\n{variants}}}\n\n",
            map_docs(map),
            DERIVES.replace("PartialEq,", "PartialEq, Eq, Hash, PartialOrd, Ord,")
        ));
        Ty {
            code: name,
            nullable,
        }
    }

    fn all_of(
        &mut self,
        map: &Map<String, Value>,
        parts: &[Value],
        at: At<'_>,
        hint: &str,
        fixed: Option<&str>,
        depth: usize,
    ) -> Ty {
        let mut parts: Vec<Value> = parts.to_vec();
        if map.contains_key("properties") {
            let mut rest = map.clone();
            rest.remove("allOf");
            parts.push(Value::Object(rest));
        }
        let objects: Vec<&Value> = parts
            .iter()
            .filter(|p| object_like(p, at.integration, 0))
            .collect();
        if parts.len() == 1 || objects.len() != parts.len() {
            // One part, or parts that are not all objects (a string with
            // a format, say): the first object part, else the first part.
            let first = objects.first().copied().unwrap_or(&parts[0]);
            return self.ty(first, at, hint, fixed, depth + 1);
        }
        let name = claim(&mut self.names, hint, fixed);
        let mut fields = String::new();
        for (i, part) in parts.iter().enumerate() {
            let ty = self.ty(part, at, &format!("{name} part {i}"), None, depth + 1);
            fields.push_str(&format!(
                "    #[serde(flatten)]\n    pub part{i}: {},\n",
                ty.code
            ));
        }
        self.items.push_str(&format!(
            "{}{DERIVES}\npub struct {name} {{\n{fields}}}\n\n",
            map_docs(map)
        ));
        Ty::plain(name)
    }

    fn one_of(
        &mut self,
        map: &Map<String, Value>,
        members: &[Value],
        at: At<'_>,
        hint: &str,
        fixed: Option<&str>,
        depth: usize,
    ) -> Ty {
        let is_null = |m: &Value| m.get("type").and_then(Value::as_str) == Some("null");
        let nullable = members.iter().any(is_null);
        let members: Vec<&Value> = members.iter().filter(|m| !is_null(m)).collect();
        if members.len() == 1 {
            let ty = self.ty(members[0], at, hint, fixed, depth + 1);
            return Ty {
                code: ty.code,
                nullable: nullable || ty.nullable,
            };
        }
        if members.is_empty() {
            return Ty {
                code: "()".to_owned(),
                nullable,
            };
        }
        let name = claim(&mut self.names, hint, fixed);
        let mut used = HashSet::new();
        let mut variants: Vec<(String, String, Option<String>)> = Vec::new();
        for (i, member) in members.iter().enumerate() {
            let target = member
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(def_ref_target);
            let label = match (&target, member.get("type").and_then(Value::as_str)) {
                (Some(def), _) => pascal(def),
                (None, Some(t)) => pascal(t),
                (None, None) => format!("Variant{i}"),
            };
            let label = if label.is_empty() || label.starts_with(|c: char| c.is_ascii_digit()) {
                format!("Variant{i}")
            } else {
                label
            };
            let variant = unique(label, &mut used);
            let ty = self.ty(member, at, &format!("{name} {variant}"), None, depth + 1);
            variants.push((variant, ty.whole(), target));
        }
        let body: String = variants
            .iter()
            .map(|(variant, code, _)| format!("    {variant}({code}),\n"))
            .collect();
        let docs = map_docs(map);
        let dispatch = self.dispatch(map, &variants);
        match dispatch {
            Some(dispatch) => {
                self.items.push_str(&format!(
                    "{docs}#[derive(Debug, Clone, PartialEq, serde::Serialize)]\n#[serde(untagged)]\npub enum {name} {{\n{body}}}\n\n{}",
                    dispatch.replace("NAME", &name)
                ));
            }
            None => {
                self.items.push_str(&format!(
                    "{docs}{DERIVES}\n#[serde(untagged)]\npub enum {name} {{\n{body}}}\n\n"
                ));
            }
        }
        Ty {
            code: name,
            nullable,
        }
    }

    /// A `Deserialize` that picks the variant by the discriminator's
    /// property, when every member is a definition; `None` otherwise.
    fn dispatch(
        &self,
        map: &Map<String, Value>,
        variants: &[(String, String, Option<String>)],
    ) -> Option<String> {
        let discriminator = map.get("discriminator")?;
        let property = discriminator.get("propertyName")?.as_str()?;
        let mapping = discriminator.get("mapping").and_then(Value::as_object);
        let mut arms = String::new();
        let mut tags_seen = HashSet::new();
        for (variant, _, target) in variants {
            let target = target.as_ref()?;
            let mut tags: Vec<String> = mapping
                .map(|m| {
                    m.iter()
                        .filter(|(_, r)| {
                            r.as_str().and_then(def_ref_target).as_ref() == Some(target)
                        })
                        .map(|(tag, _)| tag.clone())
                        .collect()
                })
                .unwrap_or_default();
            if tags.is_empty() {
                tags.push(target.clone());
            }
            tags.retain(|t| tags_seen.insert(t.clone()));
            if tags.is_empty() {
                continue;
            }
            let pattern: Vec<String> = tags.iter().map(|t| string_literal(t)).collect();
            arms.push_str(&format!(
                "            Some({}) => serde_json::from_value(value).map(Self::{variant}).map_err(serde::de::Error::custom),\n",
                pattern.join(" | ")
            ));
        }
        let property = string_literal(property);
        Some(format!(
            "impl<'de> serde::Deserialize<'de> for NAME {{\n    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\n        let value = {VALUE}::deserialize(deserializer)?;\n        let tag = value.get({property}).and_then({VALUE}::as_str).map(str::to_owned);\n        match tag.as_deref() {{\n{arms}            other => Err(serde::de::Error::custom(format!(\"unknown {{}} {{:?}}\", {property}, other))),\n        }}\n    }}\n}}\n\n"
        ))
    }
}

/// Whether a schema is an object (or a ref to one): `allOf` can flatten it.
fn object_like(schema: &Value, integration: &Integration, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    let Some(map) = schema.as_object() else {
        return false;
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        return !reference
            .trim_start_matches(crate::ir::DEFS_PREFIX)
            .contains('/')
            && def_ref_target(reference)
                .and_then(|d| integration.defs.get(&d))
                .is_some_and(|d| object_like(d, integration, depth + 1));
    }
    if let Some(Value::Array(parts)) = map.get("allOf") {
        return parts.iter().all(|p| object_like(p, integration, depth + 1));
    }
    map.get("type").and_then(Value::as_str) == Some("object")
        && map
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty())
        || (!map.contains_key("type")
            && map
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| !p.is_empty()))
}

fn claim(names: &mut Names, hint: &str, fixed: Option<&str>) -> String {
    match fixed {
        Some(name) => name.to_owned(),
        None => names.claim(hint),
    }
}

/// The base type of `enum`/`const` values that are not all strings.
fn literal_type(values: &[Value]) -> Ty {
    let nullable = values.iter().any(Value::is_null);
    let kinds: BTreeSet<&str> = values
        .iter()
        .filter(|v| !v.is_null())
        .map(|v| match v {
            Value::String(_) => "String",
            Value::Bool(_) => "bool",
            Value::Number(n) if n.is_i64() || n.is_u64() => "i64",
            Value::Number(_) => "f64",
            _ => VALUE,
        })
        .collect();
    let code = match (kinds.len(), kinds.iter().next()) {
        (0, _) => "()",
        (1, Some(kind)) => kind,
        _ if kinds.iter().all(|k| *k == "i64" || *k == "f64") => "f64",
        _ => VALUE,
    };
    Ty {
        code: code.to_owned(),
        nullable,
    }
}

/// `#[doc = "..."]` lines for a schema's description, or nothing.
pub fn docs(schema: &Value) -> String {
    schema.as_object().map(map_docs).unwrap_or_default()
}

fn map_docs(schema: &Map<String, Value>) -> String {
    let text = schema
        .get("description")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default();
    let deprecated = schema.get("deprecated") == Some(&Value::Bool(true));
    let mut out = doc_attr(text);
    if deprecated {
        out.push_str("#[deprecated]\n");
    }
    out
}

pub fn doc_attr(text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    format!(
        "#[doc = {}]\n",
        string_literal(&format!(" {}", text.trim()))
    )
}

/// A Rust string literal (`Debug` of a `str` is one).
pub fn string_literal(text: &str) -> String {
    format!("{text:?}")
}

/// `userName`, `X-Trace`, `HTMLParser` → `user_name`, `x_trace`,
/// `html_parser`; keywords as raw identifiers; never empty.
pub fn snake(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            let boundary = c.is_ascii_uppercase()
                && i > 0
                && (chars[i - 1].is_ascii_lowercase()
                    || chars[i - 1].is_ascii_digit()
                    || (chars[i - 1].is_ascii_uppercase()
                        && chars.get(i + 1).is_some_and(char::is_ascii_lowercase)));
            if boundary && !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_owned();
    let out = if out.is_empty() {
        "value".to_owned()
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{out}")
    } else {
        out
    };
    keyword_safe(out)
}

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static",
    "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn",
    "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized",
    "virtual", "yield", "try", "gen",
];

/// `type` → `r#type`; `self`, `super`, `crate` (no raw form) → `self_`.
pub fn keyword_safe(ident: String) -> String {
    match ident.as_str() {
        "self" | "super" | "crate" | "Self" | "_" => format!("{ident}_"),
        word if KEYWORDS.contains(&word) => format!("r#{ident}"),
        _ => ident,
    }
}

/// The identifier without its `r#`.
pub fn bare(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

/// `name`, else `name_2`, `name_3`... among `used`.
pub fn unique_ident(ident: &str, used: &mut HashSet<String>) -> String {
    let mut candidate = ident.to_owned();
    let mut n = 2;
    while !used.insert(bare(&candidate).to_owned()) {
        candidate = format!("{}_{n}", bare(ident));
        n += 1;
    }
    candidate
}

fn unique(name: String, used: &mut HashSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while !used.insert(candidate.clone()) {
        candidate = format!("{name}{n}");
        n += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_rust() {
        assert_eq!(snake("userName"), "user_name");
        assert_eq!(snake("X-Trace"), "x_trace");
        assert_eq!(snake("HTMLParser"), "html_parser");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("+1"), "_1");
        assert_eq!(snake("@"), "value");
        assert_eq!(snake("per_page"), "per_page");
        let mut used = HashSet::new();
        assert_eq!(unique_ident("r#type", &mut used), "r#type");
        assert_eq!(unique_ident("r#type", &mut used), "type_2");
        assert_eq!(string_literal("a \"b\"\n"), r#""a \"b\"\n""#);
    }
}
