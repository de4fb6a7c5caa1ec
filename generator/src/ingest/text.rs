//! Source text (JSON or YAML) to `serde_json::Value`.
//!
//! JSON is read as JSON (some real-world JSON is not valid YAML 1.2); anything
//! else as YAML. The YAML tree is converted by hand because serde-based YAML
//! crates reject integers beyond 64 bits, which real specs use in
//! `minimum`/`maximum`: such numbers become the nearest `f64` here.

use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

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
    #[error("the YAML stream holds {0} documents; give one")]
    MultipleDocuments(usize),
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
    let docs = YamlLoader::load_from_str(text).map_err(|e| ParseError::Yaml {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_owned(),
    })?;
    match docs.len() {
        0 => Err(ParseError::Empty),
        1 => yaml_to_json(&docs[0], 0),
        n => Err(ParseError::MultipleDocuments(n)),
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn yaml_to_json(node: &Yaml, depth: usize) -> Result<Value, ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::TooDeep(MAX_DEPTH));
    }
    Ok(match node {
        Yaml::Null | Yaml::BadValue | Yaml::Alias(_) => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::Number((*i).into()),
        Yaml::Real(text) => real_to_json(text),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| yaml_to_json(item, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Hash(hash) => {
            let mut map = Map::new();
            for (key, value) in hash {
                let key = yaml_key(key);
                if key == "<<" {
                    // Merge keys: fields of the merged mapping(s) that are
                    // not set explicitly.
                    merge_into(&mut map, &yaml_to_json(value, depth + 1)?);
                    continue;
                }
                map.insert(key, yaml_to_json(value, depth + 1)?);
            }
            Value::Object(map)
        }
    })
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

/// Mapping keys become strings: `200:` is the response code "200".
fn yaml_key(key: &Yaml) -> String {
    match key {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "null".to_owned(),
        other => format!("{other:?}"),
    }
}

fn real_to_json(text: &str) -> Value {
    // Integers too large for i64 arrive here too (yaml-rust2 falls back to Real).
    if let Ok(u) = text.parse::<u64>() {
        return Value::Number(u.into());
    }
    match text.parse::<f64>().ok().and_then(Number::from_f64) {
        Some(n) => Value::Number(n),
        None => Value::String(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    }
}
