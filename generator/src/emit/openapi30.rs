//! The OpenAPI 3.0.3 export, for generators that read 3.0 only
//! (progenitor, older openapi-generator and Kiota setups): the same
//! document as the 3.1 export (`openapi.rs`), with every schema turned from
//! JSON Schema 2020-12 into the 3.0 Schema Object and the document built in
//! `openapiv3`'s typed model, which has no place for anything 3.1 has and
//! 3.0 lacks.
//!
//! Each schema is first written as 3.0-shaped JSON (only keywords 3.0
//! knows), then read into `openapiv3::Schema`; reading it back out must
//! give the same JSON, so nothing the model cannot hold is lost unseen.
//! What 2020-12 says and 3.0 cannot (`prefixItems` positions,
//! `patternProperties`, `if`/`then`/`else`, a type of its own for `null`,
//! ...) is converted as closely as 3.0 allows and recorded as a warning
//! with the JSON pointer of the schema in the 3.1 export.

use indexmap::IndexMap;
use openapiv3::{
    Components, Info, MediaType, OpenAPI, Operation, PathItem, Paths, ReferenceOr, RequestBody,
    Response, Responses, Schema, SecurityScheme, Server, StatusCode, Tag,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::openapi::{ExportOptions, document as document_31};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ir::Catalog;

/// The 3.0.3 export of a catalog, and what could not be said in 3.0.
pub fn document(catalog: &Catalog, options: &ExportOptions) -> (OpenAPI, Vec<Diagnostic>) {
    let source = document_31(catalog, options);
    let mut diagnostics = Diagnostics::default();
    let text = |v: &Value| v.as_str().map(str::to_owned);

    let mut schemas = IndexMap::new();
    if let Some(Value::Object(all)) = source.pointer("/components/schemas") {
        for (name, schema) in all {
            let at = format!("#/components/schemas/{}", escape(name));
            schemas.insert(name.clone(), schema_30(schema, &at, &mut diagnostics));
        }
    }
    let mut security_schemes = IndexMap::new();
    security_schemes.insert(
        "executorToken".to_owned(),
        ReferenceOr::Item(SecurityScheme::HTTP {
            scheme: "bearer".to_owned(),
            bearer_format: None,
            description: source
                .pointer("/components/securitySchemes/executorToken/description")
                .and_then(text),
            extensions: IndexMap::new(),
        }),
    );

    let mut paths = Paths::default();
    if let Some(Value::Object(all)) = source.get("paths") {
        for (path, item) in all {
            let at = format!("#/paths/{}/post", escape(path));
            let operation = operation_30(&item["post"], &at, &mut diagnostics);
            paths.paths.insert(
                path.clone(),
                ReferenceOr::Item(PathItem {
                    post: Some(operation),
                    ..Default::default()
                }),
            );
        }
    }

    let tags = source["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| Tag {
            name: t["name"].as_str().unwrap_or_default().to_owned(),
            description: t.get("description").and_then(text),
            ..Default::default()
        })
        .collect();
    let mut security = IndexMap::new();
    security.insert("executorToken".to_owned(), Vec::new());
    let document = OpenAPI {
        openapi: "3.0.3".to_owned(),
        info: Info {
            title: source
                .pointer("/info/title")
                .and_then(text)
                .unwrap_or_default(),
            description: source.pointer("/info/description").and_then(text),
            version: source
                .pointer("/info/version")
                .and_then(text)
                .unwrap_or_default(),
            ..Default::default()
        },
        servers: vec![Server {
            url: options.server_url.clone(),
            description: source.pointer("/servers/0/description").and_then(text),
            ..Default::default()
        }],
        paths,
        components: Some(Components {
            schemas,
            security_schemes,
            ..Default::default()
        }),
        security: Some(vec![security]),
        tags,
        ..Default::default()
    };
    (document, diagnostics.list)
}

/// The document as JSON, as written to files.
pub fn to_value(document: &OpenAPI) -> Value {
    serde_json::to_value(document).expect("an OpenAPI model always serialises")
}

fn operation_30(op: &Value, at: &str, diagnostics: &mut Diagnostics) -> Operation {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let content = |media: &Value, at: String, diagnostics: &mut Diagnostics| {
        let mut content = IndexMap::new();
        content.insert(
            "application/json".to_owned(),
            MediaType {
                schema: Some(schema_30(
                    &media["application/json"]["schema"],
                    &format!("{at}/application~1json/schema"),
                    diagnostics,
                )),
                ..Default::default()
            },
        );
        content
    };
    let response = |key: &str, diagnostics: &mut Diagnostics| {
        let r = &op["responses"][key];
        ReferenceOr::Item(Response {
            description: r["description"].as_str().unwrap_or_default().to_owned(),
            content: content(
                &r["content"],
                format!("{at}/responses/{key}/content"),
                diagnostics,
            ),
            ..Default::default()
        })
    };
    // The refusals are the 4XX and 5XX ranges rather than `default` (as in
    // 3.1): generators that read 3.0 (progenitor among them) take `default`
    // for a second kind of success, and the codes say more anyway.
    let mut responses = Responses::default();
    responses
        .responses
        .insert(StatusCode::Code(200), response("200", diagnostics));
    let refused = response("default", diagnostics);
    let mut failed = refused.clone();
    if let ReferenceOr::Item(failed) = &mut failed {
        failed.description =
            "executor itself failed (`internal_error`): `ok: false` with an error.".to_owned();
    }
    responses.responses.insert(StatusCode::Range(4), refused);
    responses.responses.insert(StatusCode::Range(5), failed);
    let mut extensions = IndexMap::new();
    if let Some(x) = op.get("x-executor") {
        extensions.insert("x-executor".to_owned(), x.clone());
    }
    Operation {
        tags: op["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(text)
            .collect(),
        summary: op.get("summary").and_then(text),
        description: op.get("description").and_then(text),
        operation_id: op.get("operationId").and_then(text),
        request_body: Some(ReferenceOr::Item(RequestBody {
            required: true,
            content: content(
                &op["requestBody"]["content"],
                format!("{at}/requestBody/content"),
                diagnostics,
            ),
            ..Default::default()
        })),
        responses,
        deprecated: op["deprecated"] == true,
        extensions,
        ..Default::default()
    }
}

/// RFC 6901: `~` and `/` in a pointer's segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// One schema, 2020-12 to 3.0, through the typed model.
fn schema_30(schema: &Value, at: &str, diagnostics: &mut Diagnostics) -> ReferenceOr<Schema> {
    let shaped = shape(schema, at, diagnostics);
    if let Some(reference) = shaped.get("$ref").and_then(Value::as_str) {
        return ReferenceOr::Reference {
            reference: reference.to_owned(),
        };
    }
    let typed = Schema::deserialize(&shaped).unwrap_or_else(|e| {
        panic!("a 3.0-shaped schema at {at} is not a 3.0 Schema Object: {e}: {shaped}")
    });
    // The model holds exactly what was written (numbers aside: it keeps
    // bounds as f64 where the type is not integer).
    debug_assert!(
        same_but_numbers(&serde_json::to_value(&typed).unwrap_or_default(), &shaped),
        "openapiv3 dropped part of the schema at {at}: {shaped}"
    );
    ReferenceOr::Item(typed)
}

fn same_but_numbers(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_but_numbers(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_but_numbers(v, w))
        }
        _ => a == b,
    }
}

/// Keywords 3.0 shares with 2020-12 as they are (their values are not
/// schemas).
const SAME: &[&str] = &[
    "title",
    "description",
    "default",
    "multipleOf",
    "maximum",
    "minimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "format",
    "readOnly",
    "writeOnly",
    "deprecated",
    "example",
];

/// Keywords with nothing to say in 3.0 that lose nothing when dropped.
const SILENT: &[&str] = &["$schema", "$id", "$comment", "$anchor", "examples"];

/// The schema as 3.0-shaped JSON.
fn shape(schema: &Value, at: &str, diagnostics: &mut Diagnostics) -> Value {
    let map = match schema {
        Value::Bool(true) => return json!({}),
        Value::Bool(false) => return json!({ "not": {} }),
        Value::Object(map) => map,
        // Not a schema at all: the IR never holds one, but a `null` data
        // schema in a hand-made catalog means "anything".
        _ => return json!({}),
    };
    let mut out = Map::new();
    let mut nullable = map.get("nullable") == Some(&Value::Bool(true));

    // `$ref` with siblings: 3.0 ignores the siblings, so the reference
    // goes into `allOf` beside them.
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let others = map
            .keys()
            .any(|k| k != "$ref" && !SILENT.contains(&k.as_str()));
        if !others {
            return json!({ "$ref": reference });
        }
        out.insert("allOf".into(), json!([{ "$ref": reference }]));
    }

    // The type: one type, or several (`null` among them is `nullable`).
    let types: Vec<&str> = match map.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"null") {
        nullable = true;
    }
    let concrete: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
    match concrete.as_slice() {
        // Only null: 3.0 has no null type, but a schema of any type that
        // allows only `null` says the same.
        [] if types.contains(&"null") => {
            out.insert("enum".into(), json!([null]));
        }
        [] => {}
        [one] => {
            out.insert("type".into(), json!(one));
        }
        several => {
            // Each keyword applies only to the instances of its type, so the
            // other keywords stay beside the alternatives.
            let alternatives: Vec<Value> = several.iter().map(|t| json!({ "type": t })).collect();
            push_all(&mut out, "anyOf", alternatives);
        }
    }

    for (keyword, value) in map {
        let child = |name: &str| format!("{at}/{name}");
        match keyword.as_str() {
            "$ref" | "type" | "nullable" => {}
            // 3.0 gives `format` to primitives only; on an object, array or
            // boolean it is an annotation generators cannot place.
            "format"
                if concrete
                    .iter()
                    .any(|t| ["object", "array", "boolean"].contains(t)) =>
            {
                lost(
                    diagnostics,
                    at,
                    "format",
                    "on an object, array or boolean: dropped",
                );
            }
            k if SAME.contains(&k) => {
                out.insert(keyword.clone(), value.clone());
            }
            k if k.starts_with("x-") => {
                out.insert(keyword.clone(), value.clone());
            }
            k if SILENT.contains(&k) => {
                if k == "examples"
                    && !map.contains_key("example")
                    && let Some(first) = value.as_array().and_then(|a| a.first())
                {
                    out.insert("example".into(), first.clone());
                }
            }
            "const" => {
                if value.is_null() {
                    nullable = true;
                }
                out.insert("enum".into(), json!([value]));
            }
            "enum" => {
                let values = value.as_array().map(Vec::as_slice).unwrap_or_default();
                if values.iter().any(Value::is_null) {
                    nullable = true;
                }
                if let Some(pattern) = colliding_enum_as_pattern(values) {
                    diagnostics.warn(
                        at.to_owned(),
                        "`enum` values differ only in punctuation or case (as `+1` and `-1`), \
                         which 3.0 generators turn into one identifier: said as a `pattern` \
                         matching exactly those values"
                            .to_owned(),
                    );
                    if map.contains_key("pattern") {
                        push_all(&mut out, "allOf", vec![json!({ "pattern": pattern })]);
                    } else {
                        out.insert("pattern".into(), json!(pattern));
                    }
                } else {
                    out.insert("enum".into(), value.clone());
                }
            }

            "exclusiveMinimum" | "exclusiveMaximum" => {
                let bound = if keyword == "exclusiveMinimum" {
                    "minimum"
                } else {
                    "maximum"
                };
                if let Some(n) = value.as_f64() {
                    let kept = map.get(bound).and_then(Value::as_f64);
                    // The stricter of the two bounds wins.
                    let stricter = match kept {
                        Some(k) if keyword == "exclusiveMinimum" => n >= k,
                        Some(k) => n <= k,
                        None => true,
                    };
                    if stricter {
                        out.insert(bound.into(), value.clone());
                        out.insert(keyword.clone(), json!(true));
                    }
                }
            }
            "properties" => {
                let mut properties = Map::new();
                for (name, property) in value.as_object().into_iter().flatten() {
                    let at = child(&format!("properties/{}", escape(name)));
                    properties.insert(name.clone(), shape(property, &at, diagnostics));
                }
                out.insert("properties".into(), Value::Object(properties));
            }
            "additionalProperties" => {
                let shaped = match value {
                    Value::Bool(b) => json!(b),
                    other => shape(other, &child("additionalProperties"), diagnostics),
                };
                out.insert("additionalProperties".into(), shaped);
            }
            "items" => {
                if !map.contains_key("prefixItems") {
                    out.insert("items".into(), shape(value, &child("items"), diagnostics));
                }
            }
            "prefixItems" => {
                let mut positions: Vec<Value> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, s)| shape(s, &child(&format!("prefixItems/{i}")), diagnostics))
                    .collect();
                if let Some(rest) = map.get("items").filter(|r| **r != Value::Bool(false)) {
                    positions.push(shape(rest, &child("items"), diagnostics));
                }
                lost(
                    diagnostics,
                    at,
                    "prefixItems",
                    "each item may be any of the positions' schemas (`items.anyOf`); which position holds which is lost",
                );
                out.insert("items".into(), json!({ "anyOf": positions }));
            }
            "allOf" | "anyOf" | "oneOf" => {
                let mut shaped: Vec<Value> = Vec::new();
                for (i, s) in value.as_array().into_iter().flatten().enumerate() {
                    // `anyOf: [X, {type: null}]` is 3.0's `nullable` X.
                    if keyword != "allOf" && *s == json!({ "type": "null" }) {
                        nullable = true;
                        continue;
                    }
                    shaped.push(shape(s, &child(&format!("{keyword}/{i}")), diagnostics));
                }
                if keyword != "allOf" && !map.contains_key("type") && is_open_string_enum(&shaped) {
                    // Any string, or one of some strings: any string. The
                    // known values say nothing to a 3.0 validator, and
                    // generators (typify) stop on the union.
                    let known: Vec<&Value> = shaped
                        .iter()
                        .filter_map(|s| s.get("enum").and_then(Value::as_array))
                        .flatten()
                        .collect();
                    diagnostics.warn(
                        at.to_owned(),
                        format!(
                            "`{keyword}` of any string and known values ({}) is said as a string",
                            known
                                .iter()
                                .map(|v| v.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    out.insert("type".into(), json!("string"));
                } else if !shaped.is_empty() {
                    push_all(&mut out, keyword, shaped);
                }
            }
            "not" => {
                out.insert("not".into(), shape(value, &child("not"), diagnostics));
            }
            "discriminator" => {
                let mut d = Map::new();
                if let Some(name) = value.get("propertyName") {
                    d.insert("propertyName".into(), name.clone());
                }
                if let Some(mapping) = value.get("mapping") {
                    d.insert("mapping".into(), mapping.clone());
                }
                out.insert("discriminator".into(), Value::Object(d));
            }
            "contentEncoding" if value == "base64" => {
                out.insert("format".into(), json!("byte"));
            }
            other => lost(diagnostics, at, other, "dropped"),
        }
    }
    if nullable {
        out.insert("nullable".into(), json!(true));
    }
    // A default the schema itself refuses (a list for a string, a number
    // out of range) is a mistake in the source; generators that type the
    // default stop on it.
    if let Some(default) = out.get("default").filter(|d| !d.is_null())
        && !default_fits(default, &out)
    {
        diagnostics.warn(
            at.to_owned(),
            format!("`default` {default} does not fit its own schema: dropped"),
        );
        out.remove("default");
    }
    // What says nothing goes: 3.0 allows no empty `required`, and the model
    // leaves out `false` flags and empty maps (they are the defaults).
    out.retain(|keyword, value| match keyword.as_str() {
        "required" | "properties" if value.as_array().is_some_and(Vec::is_empty) => false,
        "properties" => value.as_object().is_none_or(|m| !m.is_empty()),
        "deprecated" | "readOnly" | "writeOnly" | "uniqueItems" => *value != Value::Bool(false),
        // The model reads a `null` default or example as none at all. For a
        // property that may be left out, a default of `null` says what
        // leaving it out means anyway.
        "default" | "example" => !value.is_null(),
        _ => true,
    });
    Value::Object(out)
}

/// When string `enum` values would collide as identifiers (equal once
/// every character that is not a letter or digit is one and the same and
/// case is ignored), a `pattern` that matches exactly those values.
fn colliding_enum_as_pattern(values: &[Value]) -> Option<String> {
    let strings: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
    if strings.len() + values.iter().filter(|v| v.is_null()).count() != values.len() {
        return None;
    }
    let folded = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    let mut seen = std::collections::HashSet::new();
    if strings.iter().all(|s| seen.insert(folded(s))) {
        return None;
    }
    // ECMA-262's syntax characters, escaped.
    let escape = |s: &str| -> String {
        s.chars().fold(String::new(), |mut out, c| {
            if "^$\\.*+?()[]{}|/".contains(c) {
                out.push('\\');
            }
            out.push(c);
            out
        })
    };
    let alternatives: Vec<String> = strings.iter().map(|s| escape(s)).collect();
    Some(format!("^(?:{})$", alternatives.join("|")))
}

/// Whether alternatives are a plain string and string values: OpenAI's
/// "open enum" (`anyOf: [{type: string}, {type: string, enum: [...]}]`).
fn is_open_string_enum(alternatives: &[Value]) -> bool {
    let annotation = |k: &str| ["description", "title", "example"].contains(&k);
    let plain = |s: &Value| {
        s.as_object().is_some_and(|m| {
            m.get("type") == Some(&json!("string"))
                && m.keys().all(|k| k == "type" || annotation(k))
        })
    };
    let known = |s: &Value| {
        s.as_object().is_some_and(|m| {
            m.get("type").is_none_or(|t| t == "string")
                && m.get("enum")
                    .and_then(Value::as_array)
                    .is_some_and(|values| values.iter().all(Value::is_string))
                && m.keys()
                    .all(|k| k == "type" || k == "enum" || annotation(k))
        })
    };
    alternatives.iter().any(plain) && alternatives.iter().all(|s| plain(s) || known(s))
}

/// Whether `default` is an instance of the 3.0-shaped `schema` as far as
/// its type, `enum` and bounds say (what generators check when they type a
/// default).
fn default_fits(default: &Value, schema: &Map<String, Value>) -> bool {
    let typed = match schema.get("type").and_then(Value::as_str) {
        Some("string") => default.is_string(),
        Some("integer") => default.is_i64() || default.is_u64(),
        Some("number") => default.is_number(),
        Some("boolean") => default.is_boolean(),
        Some("array") => default.is_array(),
        Some("object") => default.is_object(),
        _ => true,
    };
    let listed = schema
        .get("enum")
        .and_then(Value::as_array)
        .is_none_or(|values| values.contains(default));
    let in_range = match default.as_f64() {
        Some(n) => {
            schema
                .get("minimum")
                .and_then(Value::as_f64)
                .is_none_or(|min| n >= min)
                && schema
                    .get("maximum")
                    .and_then(Value::as_f64)
                    .is_none_or(|max| n <= max)
        }
        None => true,
    };
    typed && listed && in_range
}

fn lost(diagnostics: &mut Diagnostics, at: &str, keyword: &str, what: &str) {
    diagnostics.warn(
        at.to_owned(),
        format!("`{keyword}` has no OpenAPI 3.0 form: {what}"),
    );
}

/// Appends to an `allOf`/`anyOf`/`oneOf` list, or wraps when the keyword is
/// taken already (two `anyOf` lists become `allOf` of both).
fn push_all(out: &mut Map<String, Value>, keyword: &str, schemas: Vec<Value>) {
    match out.remove(keyword) {
        None => {
            out.insert(keyword.into(), Value::Array(schemas));
        }
        Some(existing) => {
            let both = vec![json!({ keyword: existing }), json!({ keyword: schemas })];
            push_all(out, "allOf", both);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shaped(schema: Value) -> (Value, Vec<String>) {
        let mut diagnostics = Diagnostics::default();
        let out = shape(&schema, "#/s", &mut diagnostics);
        // Every shape reads into the typed model and back unchanged.
        let typed: Schema = serde_json::from_value(out.clone()).unwrap();
        assert!(
            same_but_numbers(&serde_json::to_value(&typed).unwrap(), &out),
            "{out}"
        );
        let messages = diagnostics.list.iter().map(|d| d.message.clone()).collect();
        (out, messages)
    }

    #[test]
    fn what_3_0_can_say_is_said_the_3_0_way() {
        let (out, lost) = shaped(json!({
            "type": ["string", "null"], "const": "a", "minLength": 1, "$comment": "c"
        }));
        assert_eq!(
            out,
            json!({"type": "string", "enum": ["a"], "minLength": 1, "nullable": true})
        );
        assert!(lost.is_empty(), "{lost:?}");

        let (out, _) = shaped(json!({"type": "integer", "exclusiveMinimum": 0, "maximum": 9}));
        assert_eq!(
            out,
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 9})
        );

        let (out, _) = shaped(json!({"$ref": "#/components/schemas/a.B", "description": "d"}));
        assert_eq!(
            out,
            json!({"allOf": [{"$ref": "#/components/schemas/a.B"}], "description": "d"})
        );

        let (out, _) = shaped(json!({"type": ["string", "integer"], "minimum": 1}));
        assert_eq!(
            out,
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}], "minimum": 1})
        );

        let (out, _) = shaped(json!({"examples": [1, 2], "type": "integer"}));
        assert_eq!(out, json!({"type": "integer", "example": 1}));
        let (out, _) = shaped(json!(false));
        assert_eq!(out, json!({"not": {}}));
    }

    #[test]
    fn what_3_0_cannot_say_is_recorded() {
        let (out, lost) = shaped(json!({
            "type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false
        }));
        assert_eq!(
            out,
            json!({"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}})
        );
        assert!(
            lost[0].starts_with("`prefixItems` has no OpenAPI 3.0 form"),
            "{lost:?}"
        );

        let (out, lost) = shaped(json!({
            "type": "object",
            "patternProperties": {"^x": {"type": "string"}},
            "if": {"required": ["a"]}, "then": {"required": ["b"]}
        }));
        assert_eq!(out, json!({"type": "object"}));
        assert_eq!(lost.len(), 3, "{lost:?}");

        // Values generators would name alike, a format on an object and a
        // default the schema refuses.
        let (out, lost) = shaped(json!({"type": "string", "enum": ["+1", "-1", "a.b"]}));
        assert_eq!(
            out,
            json!({"type": "string", "pattern": "^(?:\\+1|-1|a\\.b)$"})
        );
        assert!(lost[0].contains("differ only in punctuation"), "{lost:?}");
        let (out, lost) = shaped(json!({"type": "string", "enum": ["+1", "laugh"]}));
        assert_eq!(out, json!({"type": "string", "enum": ["+1", "laugh"]}));
        assert!(lost.is_empty(), "{lost:?}");
        let (out, lost) = shaped(json!({"type": "object", "format": "uri-map"}));
        assert_eq!(out, json!({"type": "object"}));
        assert_eq!(lost.len(), 1, "{lost:?}");
        let (out, lost) = shaped(json!({"type": "string", "enum": ["a"], "default": ["a"]}));
        assert_eq!(out, json!({"type": "string", "enum": ["a"]}));
        assert!(lost[0].contains("does not fit"), "{lost:?}");
        let (out, lost) = shaped(json!({"type": "integer", "maximum": 5, "default": 9}));
        assert_eq!(out, json!({"type": "integer", "maximum": 5}));
        assert_eq!(lost.len(), 1, "{lost:?}");
        let (out, lost) = shaped(json!({"type": "integer", "maximum": 5, "default": 5}));
        assert_eq!(out, json!({"type": "integer", "maximum": 5, "default": 5}));
        assert!(lost.is_empty(), "{lost:?}");

        let (out, lost) = shaped(json!({
            "anyOf": [{"type": "string"}, {"type": "string", "enum": ["a", "b"]}], "default": "a"
        }));
        assert_eq!(out, json!({"type": "string", "default": "a"}));
        assert!(lost[0].contains(r#"known values ("a", "b")"#), "{lost:?}");
        let (out, _) = shaped(json!({"anyOf": [{"type": "string"}, {"type": "integer"}]}));
        assert_eq!(
            out,
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );

        let (out, lost) = shaped(json!({"type": "null"}));
        assert_eq!(out, json!({"enum": [null], "nullable": true}));
        assert!(lost.is_empty());
        let (out, _) =
            shaped(json!({"anyOf": [{"$ref": "#/components/schemas/a.B"}, {"type": "null"}]}));
        assert_eq!(
            out,
            json!({"anyOf": [{"$ref": "#/components/schemas/a.B"}], "nullable": true})
        );
    }
}
