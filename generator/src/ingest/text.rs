//! Source text (JSON or YAML) to `serde_json::Value`.
//!
//! JSON is read as JSON (some real-world JSON is not valid YAML 1.2); anything
//! else as YAML with serde_norway (a maintained serde_yaml, on libyaml's
//! grammar, which real specs such as Docker's need). YAML goes through our own
//! visitor because real specs hold integers beyond 64 bits in
//! `minimum`/`maximum`, which `serde_json::Value` refuses: they become the
//! nearest `f64`. Mapping keys that YAML reads as numbers (`200:`) become
//! strings, and merge keys (`<<`) are applied.

use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a text could not be read as a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the document is empty")]
    Empty,
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("invalid YAML at line {line}, column {column}: {message}")]
    Yaml {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the document is nested more than {0} levels deep")]
    TooDeep(usize),
}

/// Deeper documents are refused rather than risking the stack.
pub const MAX_DEPTH: usize = 128;

/// Parses JSON or YAML text; a UTF-8 byte-order mark is ignored.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(ParseError::Empty);
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        // serde_json refuses nesting beyond 128 levels by itself.
        let value = serde_json::from_str::<Value>(text);
        return match value {
            Ok(value) => Ok(value),
            Err(e) => Err(ParseError::Json {
                line: e.line(),
                column: e.column(),
                message: strip_position(&e.to_string()),
            }),
        };
    }
    // libyaml's scanner takes time proportional to the flow depth for every
    // token, so a deeply nested flow sequence (`x: [[[[...`) costs time
    // quadratic in its size before the recursion limit below is reached
    // (80 KB: 2 s; 160 KB: 19 s). Brackets are counted first, in one pass.
    if flow_depth(text) > MAX_DEPTH {
        return Err(ParseError::TooDeep(MAX_DEPTH));
    }
    let de = serde_norway::Deserializer::from_str(text);
    de.deserialize_any(JsonVisitor).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        let message = strip_position(&e.to_string());
        if message.contains("recursion limit exceeded") {
            ParseError::TooDeep(MAX_DEPTH)
        } else {
            ParseError::Yaml {
                line,
                column,
                message,
            }
        }
    })
}

/// The deepest nesting of `[` and `{` in a text, counted without regard to
/// quotes or comments (over-counting only refuses a document with more than
/// `MAX_DEPTH` unclosed brackets inside its strings, which no spec has).
fn flow_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for byte in text.bytes() {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Builds a `serde_json::Value` from any self-describing format, widening
/// what `Value`'s own visitor refuses.
struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(float(v as f64))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(float(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Json(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        let mut merged = Vec::new();
        while let Some(Json(key)) = access.next_key()? {
            let Json(value) = access.next_value()?;
            let key = match key {
                Value::String(s) => s,
                Value::Null => "null".to_owned(),
                other => other.to_string(),
            };
            if key == "<<" {
                merged.push(value);
            } else {
                map.insert(key, value);
            }
        }
        // Merge keys: fields of the merged mapping(s) not set explicitly.
        for value in &merged {
            merge_into(&mut map, value);
        }
        Ok(Value::Object(map))
    }
}

struct Json(Value);

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor).map(Json)
    }
}

fn float(v: f64) -> Value {
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

fn merge_into(map: &mut Map<String, Value>, merged: &Value) {
    match merged {
        Value::Object(fields) => {
            for (k, v) in fields {
                map.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        Value::Array(items) => items.iter().for_each(|item| merge_into(map, item)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deep_flow_yaml_is_refused_before_the_yaml_parser_sees_it() {
        // The fuzzer's find: 40,000 levels took libyaml seconds to scan.
        let deep = format!(
            "openapi: 3.0.0\nx: {}{}\n",
            "[".repeat(40_000),
            "]".repeat(40_000)
        );
        assert!(matches!(parse(&deep), Err(ParseError::TooDeep(MAX_DEPTH))));
        // Shallow flow and many sibling brackets are fine.
        let wide = format!("x: [{}]\n", vec!["[1]"; 5_000].join(", "));
        assert!(parse(&wide).is_ok());
        assert_eq!(flow_depth("a: [[1], {b: [2]}]"), 3);
    }

    #[test]
    fn json_with_bom_and_big_integers() {
        let v = parse("\u{feff}{\"a\": 123456789012345678901234567890}").unwrap();
        assert!(v["a"].as_f64().unwrap() > 1e29);
    }

    #[test]
    fn yaml_keys_numbers_and_merge_keys() {
        let v = parse(
            "swagger: 2.0\nbig: 123456789012345678901234567890\nresponses:\n  200: ok\nbase: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n",
        )
        .unwrap();
        assert_eq!(v["swagger"], json!(2.0));
        assert!(v["big"].as_f64().unwrap() > 1e29);
        assert_eq!(v["responses"]["200"], "ok");
        assert_eq!(v["derived"], json!({"x": 1, "y": 3}));
    }

    #[test]
    fn errors_say_where() {
        match parse("{\"a\": }") {
            Err(ParseError::Json {
                line: 1, column, ..
            }) => assert!(column > 0),
            other => panic!("unexpected {other:?}"),
        }
        match parse("a: [1, 2\nb: c") {
            Err(ParseError::Yaml { line, .. }) => assert!(line >= 1),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(parse("  \n"), Err(ParseError::Empty));
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(matches!(parse(&deep), Err(ParseError::Json { .. })));
        let deep_yaml = "a: ".to_owned() + &"[".repeat(200) + &"]".repeat(200);
        assert_eq!(parse(&deep_yaml), Err(ParseError::TooDeep(MAX_DEPTH)));
        // Docker's spec: a quoted scalar continued at its key's indentation.
        let docker = "a:\n  d: \"one\n  two\"\n";
        assert_eq!(parse(docker).unwrap(), json!({"a": {"d": "one two"}}));
    }
}
