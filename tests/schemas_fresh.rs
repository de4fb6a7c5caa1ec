//! `schemas/ir.schema.json` and `schemas/envelope.schema.json` are generated
//! from the Rust types. This test fails when they are stale; run it with
//! `UPDATE_SCHEMAS=1` to rewrite them.

mod support;

use generator::emit::to_pretty_json;

fn check(file: &str, expected: &serde_json::Value) {
    let path = support::repo_root().join("schemas").join(file);
    let expected = to_pretty_json(expected);
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is stale: run `UPDATE_SCHEMAS=1 cargo test --test schemas_fresh` and review the diff",
        path.display()
    );
}

#[test]
fn ir_schema_is_fresh() {
    check("ir.schema.json", &generator::ir_json_schema());
}

#[test]
fn envelope_schema_is_fresh() {
    check("envelope.schema.json", &generator::envelope_json_schema());
}
