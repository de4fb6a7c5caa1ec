//! Every spec in the shared fixture set (`../shared/fixtures/openapi/`,
//! beside the repository): ingest never panics, every real spec loads
//! (leniently at worst), every tool's schemas compile as standalone JSON
//! Schema 2020-12 documents, and every export passes the OpenAPI 3.1
//! validators.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use generator::emit::to_pretty_json;
use generator::ir::SchemaRole;
use support::{catalog_of, export, flat_name, load, shared_openapi_fixtures, validate_with_node};

fn spec_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // The official meta-schemas are not API descriptions.
            if path.file_name().is_some_and(|n| n != "meta") {
                spec_files(&path, out);
            }
        } else if path
            .extension()
            .is_some_and(|e| e == "json" || e == "yaml" || e == "yml")
        {
            out.push(path);
        }
    }
}

/// Files with an `openapi` or `swagger` field; the rest are fragments of
/// multi-file specs or example payloads.
fn is_spec(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap();
    match generator::ingest::text::parse(&text) {
        Ok(v) => v.get("openapi").is_some() || v.get("swagger").is_some(),
        Err(_) => true, // must then fail with a parse error, not a panic
    }
}

#[test]
fn every_shared_spec_loads_and_exports_valid_openapi() {
    let base = shared_openapi_fixtures();
    let mut files = Vec::new();
    spec_files(&base, &mut files);
    files.sort();
    let exports = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    let mut loaded_count = 0;
    for path in files.iter().filter(|p| is_spec(p)) {
        let name = flat_name(&base, path);
        let expected_to_fail = name.contains("oai-schema-tests-fail");
        let result = catch_unwind(AssertUnwindSafe(|| load(path, "sweep")));
        let loaded = match result {
            Err(_) => {
                problems.push(format!("{name}: ingest panicked"));
                continue;
            }
            Ok(Err(e)) if !expected_to_fail => {
                problems.push(format!("{name}: does not load: {e}"));
                continue;
            }
            Ok(Err(_)) => continue,
            Ok(Ok(loaded)) => loaded,
        };
        loaded_count += 1;
        let catalog = catalog_of(&loaded.ingested);
        for tool in &catalog.tools {
            for role in [SchemaRole::Input, SchemaRole::Output] {
                let schema = catalog.standalone_schema(tool, role);
                if let Err(e) = jsonschema::validator_for(&schema) {
                    problems.push(format!(
                        "{name}: {} {role:?} schema does not compile: {e}",
                        tool.path
                    ));
                }
            }
        }
        let document = catch_unwind(AssertUnwindSafe(|| export(&catalog)));
        match document {
            Ok(document) => {
                let file = exports.path().join(format!("{name}.json"));
                std::fs::write(file, to_pretty_json(&document)).unwrap();
            }
            Err(_) => problems.push(format!("{name}: export panicked")),
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        loaded_count > 150,
        "only {loaded_count} specs loaded: is the fixture set complete?"
    );
    validate_with_node(&[exports.path()]);
}
