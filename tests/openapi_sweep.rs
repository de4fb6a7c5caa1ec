//! Every spec in the fixture corpus (`tests/fixtures/corpus/openapi/`,
//! unpacked by `support::corpus()`): ingest never panics, every real spec
//! loads (leniently at worst), every tool's schemas compile as standalone
//! JSON Schema 2020-12 documents, and every export passes the OpenAPI 3.1
//! validators. And the unpacked corpus is whole: what its SOURCES.tsv
//! files list, at the sizes they give.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use generator::emit::to_pretty_json;
use generator::ir::SchemaRole;
use support::{catalog_of, corpus_openapi, export, flat_name, load, validate_with_node};

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
fn every_corpus_spec_loads_and_exports_valid_openapi() {
    let base = corpus_openapi();
    let mut files = Vec::new();
    spec_files(&base, &mut files);
    files.sort();
    let exports = tempfile::tempdir().unwrap();
    let exports30 = tempfile::tempdir().unwrap();
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
        // The 3.0.3 export (its typed model must hold every schema whole:
        // a debug assertion in the emitter checks that).
        let options = generator::emit::openapi::ExportOptions::default();
        match catch_unwind(AssertUnwindSafe(|| {
            generator::emit::openapi30::document(&catalog, &options)
        })) {
            Ok((document, _)) => {
                let file = exports30.path().join(format!("{name}.json"));
                let value = generator::emit::openapi30::to_value(&document);
                std::fs::write(file, to_pretty_json(&value)).unwrap();
            }
            Err(_) => problems.push(format!("{name}: the 3.0 export panicked")),
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
    support::validate_with_node_args(&["--any-version"], &[exports30.path()]);
}

/// The unpacked corpus is whole: every file that a SOURCES.tsv lists is
/// there with the size it gives (so each `.zst` decompressed in full), and
/// every file there is listed, with its source and licence.
#[test]
fn corpus_matches_its_sources_lists() {
    for half in ["openapi", "graphql"] {
        let base = support::corpus().join(half);
        let sources = std::fs::read_to_string(base.join("SOURCES.tsv")).unwrap();
        let mut lines = sources.lines();
        let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
        let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (file, bytes, licence) = (column("file"), column("bytes"), column("licence"));
        let mut listed = Vec::new();
        for line in lines {
            let row: Vec<&str> = line.split('\t').collect();
            assert_eq!(row.len(), header.len(), "{half}/SOURCES.tsv: {line}");
            assert!(!row[licence].is_empty(), "{half}/{}: no licence", row[file]);
            let size = std::fs::metadata(base.join(row[file]))
                .unwrap_or_else(|e| panic!("{half}/{}: {e}", row[file]))
                .len();
            assert_eq!(size.to_string(), row[bytes], "{half}/{}: size", row[file]);
            listed.push(base.join(row[file]));
        }
        let mut present = Vec::new();
        all_files(&base, &mut present);
        present.retain(|p| !p.ends_with("SOURCES.tsv"));
        listed.sort();
        present.sort();
        assert_eq!(
            present, listed,
            "{half}: files on disk and in SOURCES.tsv differ"
        );
    }
}

fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}
