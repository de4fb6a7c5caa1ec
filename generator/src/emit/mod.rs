//! Emitters: artifacts made from the IR alone.

pub mod openapi;
pub mod openapi30;
pub mod rust;
pub mod typescript;

/// Pretty JSON with a final newline, as written to files.
pub fn to_pretty_json(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value always serialises");
    text.push('\n');
    text
}
