//! Parameter serialisation as OpenAPI defines it (`style`, `explode`,
//! `allowReserved`), for path, query, header and cookie parameters and form
//! bodies. Written by hand: no crate implements OpenAPI's styles.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use generator::envelope::{ErrorCode, ToolError};

use generator::ir::{HttpBinding, ParamLocation, ParamStyle};
use serde_json::Map;

/// Everything but RFC 3986 unreserved characters is encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// With `allowReserved`, RFC 3986 reserved characters pass as written in a
/// query value, except those that would end or break the query: `#` (a
/// fragment, never sent, would swallow every later parameter, a query-string
/// credential included), `[` and `]` (not allowed in a query at all).
const RESERVED_OK: &AsciiSet = &UNRESERVED
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');

/// One `name=value` of a `Cookie` header, the value percent-encoded.
pub fn cookie_pair(name: &str, value: &str) -> String {
    format!("{name}={}", encode(value, false))
}

/// `allowReserved` in a path value (OpenAPI allows it on query parameters
/// only, yet 3.0 documents and lenient loads carry it): `/` and the
/// sub-delimiters pass, but never `?` or `#`, which would end the path and
/// send the call to another operation's.
const RESERVED_IN_PATH: &AsciiSet = &RESERVED_OK.add(b'?');

fn encode_in_path(text: &str, allow_reserved: bool) -> String {
    if allow_reserved {
        utf8_percent_encode(text, RESERVED_IN_PATH).to_string()
    } else {
        encode(text, false)
    }
}

pub fn encode(text: &str, allow_reserved: bool) -> String {
    utf8_percent_encode(
        text,
        if allow_reserved {
            RESERVED_OK
        } else {
            UNRESERVED
        },
    )
    .to_string()
}

/// A scalar as text; `null` is empty.
pub fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A path parameter's text, already percent-encoded, to replace `{name}`.
pub fn path_value(
    name: &str,
    value: &Value,
    style: ParamStyle,
    explode: bool,
    allow_reserved: bool,
) -> String {
    let enc = |s: &str| encode_in_path(s, allow_reserved);
    match style {
        ParamStyle::Label => {
            let parts = parts(value, explode, "=", &enc);
            format!(".{}", parts.join(if explode { "." } else { "," }))
        }
        ParamStyle::Matrix => match value {
            Value::Array(items) if explode => items
                .iter()
                .map(|v| format!(";{name}={}", enc(&scalar(v))))
                .collect(),
            Value::Object(map) if explode => map
                .iter()
                .map(|(k, v)| format!(";{}={}", enc(k), enc(&scalar(v))))
                .collect(),
            _ => format!(";{name}={}", parts(value, false, ",", &enc).join(",")),
        },
        _ => parts(value, explode, "=", &enc).join(","),
    }
}

/// The pieces of a value for the simple/label styles: arrays item by item,
/// objects as `k,v` (or `k=v` exploded).
fn parts(value: &Value, explode: bool, kv: &str, enc: &dyn Fn(&str) -> String) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().map(|v| enc(&scalar(v))).collect(),
        Value::Object(map) if explode => map
            .iter()
            .map(|(k, v)| format!("{}{kv}{}", enc(k), enc(&scalar(v))))
            .collect(),
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| [enc(k), enc(&scalar(v))])
            .collect(),
        other => vec![enc(&scalar(other))],
    }
}

/// The parts of a request its parameters make.
#[derive(Debug)]
pub struct Request {
    /// The URL as it will be sent: base, path and query.
    pub url: reqwest::Url,
    pub headers: Vec<(String, String)>,
    /// `name=value` pairs of the `Cookie` header.
    pub cookies: Vec<String>,
}

/// Encodes the input's parameters as the binding says (`fields` is the
/// input object; `extra_query` is appended, e.g. a query-string API key).
/// The URL's path always starts with the base URL's path and the
/// operation's template up to its first parameter: values that would make
/// a `.` or `..` segment, or otherwise leave it, are `invalid_input`.
pub fn request(
    base: &str,
    binding: &HttpBinding,
    fields: &Map<String, Value>,
    extra_query: &[(String, String)],
) -> Result<Request, ToolError> {
    let mut path = binding.path_template.clone();
    let mut query: Vec<String> = Vec::new();
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut cookies: Vec<String> = Vec::new();
    for param in &binding.params {
        let Some(value) = fields.get(&param.property) else {
            continue;
        };
        let value = match &param.content_type {
            Some(_) => Value::String(value.to_string()),
            None => value.clone(),
        };
        match param.location {
            ParamLocation::Path => {
                let text = path_value(
                    &param.wire_name,
                    &value,
                    param.style,
                    param.explode,
                    param.allow_reserved,
                );
                path = path.replace(&format!("{{{}}}", param.wire_name), &text);
            }
            ParamLocation::Query => {
                let pairs = query_pairs(&param.wire_name, &value, param.style, param.explode);
                query.push(encode_pairs(&pairs, param.allow_reserved));
            }
            ParamLocation::Header => {
                headers.push((param.wire_name.clone(), header_value(&value, param.explode)))
            }
            ParamLocation::Cookie => {
                let text = header_value(&value, false);
                cookies.push(cookie_pair(&param.wire_name, &text));
            }
        }
    }
    check_path(&binding.path_template, &path)?;
    query.push(encode_pairs(extra_query, false));
    let mut url = format!("{}{}", base.trim_end_matches('/'), path);
    let query: Vec<String> = query.into_iter().filter(|q| !q.is_empty()).collect();
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query.join("&"));
    }
    let url = checked_url(&url, base, &binding.path_template)?;
    Ok(Request {
        url,
        headers,
        cookies,
    })
}

/// The URL as it will be sent, refused unless its path (as a URL parser
/// resolves it) still starts with the base URL's path and the operation's
/// own template up to its first parameter.
fn checked_url(url: &str, base: &str, template: &str) -> Result<reqwest::Url, ToolError> {
    let invalid = |what: String| crate::errors::error(ErrorCode::InvalidInput, what, None);
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| invalid(format!("the inputs make an invalid URL: {e}")))?;
    let prefix = format!(
        "{}{}",
        base.trim_end_matches('/'),
        template_prefix(template)
    );
    let prefix = reqwest::Url::parse(&prefix)
        .map_err(|e| invalid(format!("the base URL {base:?} is not valid: {e}")))?;
    if parsed.origin() != prefix.origin() || !parsed.path().starts_with(prefix.path()) {
        return Err(invalid(format!(
            "the inputs would send the call outside {template}: check the path parameters"
        )));
    }
    Ok(parsed)
}

/// Whether a path segment is `.` or `..`, as URL parsers read it: also
/// percent-encoded (`%2e`, `.%2E`, ...), which the WHATWG URL standard
/// resolves like the plain dots.
fn is_dot_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."
    )
}

/// Refuses a path whose parameters made a `.` or `..` segment: a URL
/// parser would resolve it and the call would reach another operation's
/// path (`/repos/acme/prod/collaborators/..` is `DELETE /repos/acme/prod/`),
/// past whatever policy guards that operation.
pub fn check_path(template: &str, path: &str) -> Result<(), ToolError> {
    let literal: Vec<&str> = template.split('/').filter(|s| is_dot_segment(s)).collect();
    let bad = path
        .split('/')
        .find(|s| is_dot_segment(s) && !literal.contains(s));
    match bad {
        None => Ok(()),
        Some(segment) => Err(crate::errors::error(
            ErrorCode::InvalidInput,
            format!(
                "a path parameter of {template} makes the segment {segment:?}, which would leave the operation's path: give the value itself, not `.` or `..`"
            ),
            Some(serde_json::json!({ "pathTemplate": template, "segment": segment })),
        )),
    }
}

/// The literal start of a path template, up to its first parameter.
pub fn template_prefix(template: &str) -> &str {
    template.split('{').next().unwrap_or(template)
}

/// Query (and form body) pairs, unencoded: `(key, value)`.
pub fn query_pairs(
    name: &str,
    value: &Value,
    style: ParamStyle,
    explode: bool,
) -> Vec<(String, String)> {
    match (style, value) {
        (ParamStyle::DeepObject, Value::Object(_)) => {
            let mut out = Vec::new();
            deep_object(name, value, &mut out);
            out
        }
        (ParamStyle::SpaceDelimited, Value::Array(items)) if !explode => {
            vec![(
                name.to_owned(),
                items.iter().map(scalar).collect::<Vec<_>>().join(" "),
            )]
        }
        (ParamStyle::PipeDelimited, Value::Array(items)) if !explode => {
            vec![(
                name.to_owned(),
                items.iter().map(scalar).collect::<Vec<_>>().join("|"),
            )]
        }
        (_, Value::Array(items)) if explode => {
            items.iter().map(|v| (name.to_owned(), scalar(v))).collect()
        }
        (_, Value::Array(items)) => vec![(
            name.to_owned(),
            items.iter().map(scalar).collect::<Vec<_>>().join(","),
        )],
        (_, Value::Object(map)) if explode => {
            map.iter().map(|(k, v)| (k.clone(), scalar(v))).collect()
        }
        (_, Value::Object(map)) => {
            let flat: Vec<String> = map
                .iter()
                .flat_map(|(k, v)| [k.clone(), scalar(v)])
                .collect();
            vec![(name.to_owned(), flat.join(","))]
        }
        (_, other) => vec![(name.to_owned(), scalar(other))],
    }
}

fn deep_object(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                deep_object(&format!("{prefix}[{k}]"), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                deep_object(&format!("{prefix}[{i}]"), v, out);
            }
        }
        other => out.push((prefix.to_owned(), scalar(other))),
    }
}

/// `k=v&k2=v2` with both sides encoded.
pub fn encode_pairs(pairs: &[(String, String)], allow_reserved: bool) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k, false), encode(v, allow_reserved)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A header value (simple style).
pub fn header_value(value: &Value, explode: bool) -> String {
    parts(value, explode, "=", &|s| s.to_owned()).join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // The examples of the OpenAPI 3.1 specification's style table.
    #[test]
    fn path_styles_follow_the_specification() {
        let list = json!(["blue", "black", "brown"]);
        let obj = json!({"R": 100, "G": 200, "B": 150});
        assert_eq!(
            path_value("color", &json!("blue"), ParamStyle::Simple, false, false),
            "blue"
        );
        assert_eq!(
            path_value("color", &list, ParamStyle::Simple, false, false),
            "blue,black,brown"
        );
        assert_eq!(
            path_value("color", &obj, ParamStyle::Simple, false, false),
            "R,100,G,200,B,150"
        );
        assert_eq!(
            path_value("color", &obj, ParamStyle::Simple, true, false),
            "R=100,G=200,B=150"
        );
        assert_eq!(
            path_value("color", &list, ParamStyle::Label, true, false),
            ".blue.black.brown"
        );
        assert_eq!(
            path_value("color", &list, ParamStyle::Label, false, false),
            ".blue,black,brown"
        );
        assert_eq!(
            path_value("color", &json!("blue"), ParamStyle::Matrix, false, false),
            ";color=blue"
        );
        assert_eq!(
            path_value("color", &list, ParamStyle::Matrix, true, false),
            ";color=blue;color=black;color=brown"
        );
        assert_eq!(
            path_value("color", &obj, ParamStyle::Matrix, true, false),
            ";R=100;G=200;B=150"
        );
        assert_eq!(
            path_value("p", &json!("a/b c"), ParamStyle::Simple, false, false),
            "a%2Fb%20c"
        );
        assert_eq!(
            path_value("p", &json!("a/b"), ParamStyle::Simple, false, true),
            "a/b"
        );
    }

    #[test]
    fn query_styles_follow_the_specification() {
        let list = json!(["blue", "black"]);
        let obj = json!({"R": 100, "G": 200});
        let pairs = |v: Vec<(String, String)>| encode_pairs(&v, false);
        assert_eq!(
            pairs(query_pairs("color", &list, ParamStyle::Form, true)),
            "color=blue&color=black"
        );
        assert_eq!(
            pairs(query_pairs("color", &list, ParamStyle::Form, false)),
            "color=blue%2Cblack"
        );
        assert_eq!(
            pairs(query_pairs("color", &obj, ParamStyle::Form, true)),
            "R=100&G=200"
        );
        assert_eq!(
            pairs(query_pairs(
                "color",
                &list,
                ParamStyle::SpaceDelimited,
                false
            )),
            "color=blue%20black"
        );
        assert_eq!(
            pairs(query_pairs(
                "color",
                &list,
                ParamStyle::PipeDelimited,
                false
            )),
            "color=blue%7Cblack"
        );
        assert_eq!(
            pairs(query_pairs("color", &obj, ParamStyle::DeepObject, true)),
            "color%5BR%5D=100&color%5BG%5D=200"
        );
    }
}
