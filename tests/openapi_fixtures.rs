//! Fixture-driven checks of OpenAPI ingest and export: for every spec under
//! `tests/fixtures/openapi/` the IR, the OpenAPI export, the TypeScript
//! client and the diagnostics are snapshotted, the IR matches `schemas/ir.schema.json`, the export is
//! deterministic, re-ingesting the export gives the same tools, and every
//! export passes two OpenAPI 3.1 validators written by others. The same for
//! the OpenAPI 3.0.3 export (`--openapi 3.0`), with what it could not say.

mod support;

use std::path::Path;

use generator::emit::to_pretty_json;
use generator::ir::{Catalog, Tool, rewrite_def_refs};
use serde_json::{Value, json};
use support::{catalog_of, export, flat_name, load, validate_with_node};

const NAMESPACE: &str = "fixture";

fn check_fixture(path: &Path, exports: &Path, exports30: &Path, ir_schema: &jsonschema::Validator) {
    let base = support::fixtures().join("openapi");
    let name = flat_name(&base, path);
    let loaded = load(path, NAMESPACE).unwrap_or_else(|e| panic!("{name} does not load: {e}"));
    let catalog = catalog_of(&loaded.ingested);
    let document = export(&catalog);

    insta::assert_json_snapshot!("ir", catalog);
    insta::assert_json_snapshot!("export", document);
    insta::assert_snapshot!("typescript", generator::emit::typescript::client(&catalog));
    let diagnostics: Vec<String> = loaded
        .ingested
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect();
    insta::assert_json_snapshot!(
        "diagnostics",
        json!({ "strict": loaded.strict_error.as_deref().unwrap_or("accepted"), "diagnostics": diagnostics })
    );

    let ir = serde_json::to_value(&catalog).unwrap();
    let problems: Vec<String> = ir_schema
        .iter_errors(&ir)
        .map(|e| format!("{} {e}", e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "{name}: the IR breaks schemas/ir.schema.json: {problems:#?}"
    );

    // Same input, same bytes.
    let again = export(&catalog_of(&load(path, NAMESPACE).unwrap().ingested));
    assert_eq!(
        to_pretty_json(&document),
        to_pretty_json(&again),
        "{name}: export is not deterministic"
    );

    round_trip(&name, &catalog, &document);
    std::fs::write(
        exports.join(format!("{name}.json")),
        to_pretty_json(&document),
    )
    .unwrap();

    // The 3.0 export: pinned with what it could not say, the same bytes
    // every time, and it loads again with the same tools.
    let options = generator::emit::openapi::ExportOptions::default();
    let (v30, lost) = generator::emit::openapi30::document(&catalog, &options);
    let v30 = generator::emit::openapi30::to_value(&v30);
    insta::assert_json_snapshot!(
        "export30",
        json!({
            "diagnostics": lost.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "document": v30,
        })
    );
    let (again, _) = generator::emit::openapi30::document(&catalog, &options);
    assert_eq!(
        to_pretty_json(&v30),
        to_pretty_json(&generator::emit::openapi30::to_value(&again)),
        "{name}: the 3.0 export is not deterministic"
    );
    let reloaded = generator::ingest::openapi::ingest_value(
        v30.clone(),
        &generator::ingest::openapi::Options::new(NAMESPACE),
        None,
    )
    .unwrap_or_else(|e| panic!("{name}: the 3.0 export does not load again: {e}"));
    let paths = |c: &Catalog| c.tools.iter().map(|t| t.path.clone()).collect::<Vec<_>>();
    assert_eq!(paths(&catalog_of(&reloaded)), paths(&catalog), "{name}");
    std::fs::write(exports30.join(format!("{name}.json")), to_pretty_json(&v30)).unwrap();
}

/// Ingest the export again: the same tools with the same schemas come back.
fn round_trip(name: &str, original: &Catalog, document: &Value) {
    let options = generator::ingest::openapi::Options::new(NAMESPACE);
    let again = generator::ingest::openapi::ingest_value(document.clone(), &options, None)
        .unwrap_or_else(|e| panic!("{name}: the export does not load again: {e}"));
    assert_eq!(
        again.diagnostics,
        vec![],
        "{name}: re-ingesting the export reported problems"
    );
    let again = catalog_of(&again);
    // The export names shared schemas `<integration>.<name>`; the IR says `<name>`.
    let prefix = format!("{NAMESPACE}.");
    let strip =
        |target: &str| generator::ir::def_ref(target.strip_prefix(&prefix).unwrap_or(target));
    let normalise = |tool: &Tool| {
        let mut input = tool.input.clone();
        let mut output = tool.output.clone();
        rewrite_def_refs(&mut input, &strip);
        rewrite_def_refs(&mut output, &strip);
        json!({
            "path": tool.path,
            "input": input,
            "output": output,
            "annotations": tool.annotations,
            "defaultPolicy": tool.default_policy,
            "deprecated": tool.deprecated,
        })
    };
    let before: Vec<Value> = original.tools.iter().map(normalise).collect();
    let after: Vec<Value> = again.tools.iter().map(normalise).collect();
    assert_eq!(
        before.len(),
        after.len(),
        "{name}: tool count changed in the round trip"
    );
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a, "{name}: a tool changed in the round trip");
    }
    let defs_before = &original.integrations[0].defs;
    let mut defs_after = serde_json::Map::new();
    for (def_name, schema) in &again.integrations[0].defs {
        let mut schema = schema.clone();
        rewrite_def_refs(&mut schema, &strip);
        defs_after.insert(
            def_name
                .strip_prefix(&prefix)
                .unwrap_or(def_name)
                .to_owned(),
            schema,
        );
    }
    assert_eq!(
        defs_before, &defs_after,
        "{name}: shared definitions changed in the round trip"
    );
}

fn is_spec(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap();
    let value = generator::ingest::text::parse(&text).unwrap();
    value.get("openapi").is_some() || value.get("swagger").is_some()
}

#[test]
fn openapi_fixtures() {
    let exports = tempfile::tempdir().unwrap();
    let exports30 = tempfile::tempdir().unwrap();
    let ir_schema = jsonschema::validator_for(&generator::ir_json_schema()).unwrap();
    insta::with_settings!({
        snapshot_path => "../snapshots/openapi",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::glob!("fixtures/openapi", "**/*.{json,yaml,yml}", |path| {
            // Files that multi-file specs refer to are fragments, not specs.
            if is_spec(path) {
                check_fixture(path, exports.path(), exports30.path(), &ir_schema);
            }
        });
    });
    validate_with_node(&[exports.path()]);
    // 3.0 documents, validated as 3.0 by the same two validators.
    support::validate_with_node_args(&["--any-version"], &[exports30.path()]);
}
