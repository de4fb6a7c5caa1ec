//! GraphQL ingest over the corpus's schemas (`tests/fixtures/corpus/graphql`:
//! SDL and introspection results): every schema loads, every tool's schemas compile, every export
//! is valid OpenAPI 3.1, SDL and introspection agree, and GitHub's duplicate
//! field is a diagnostic rather than a failure.

mod support;

use std::path::PathBuf;

use generator::emit::openapi::{ExportOptions, document};
use generator::ingest::graphql;
use generator::ingest::openapi::Options;
use generator::ir::{Catalog, SchemaRole};

fn fixtures() -> PathBuf {
    support::corpus().join("graphql")
}

fn load(file: &str, namespace: &str) -> generator::ingest::Ingested {
    let text = std::fs::read_to_string(fixtures().join(file)).unwrap();
    graphql::ingest(&text, &Options::new(namespace)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn every_fixture_schema_loads_compiles_and_exports() {
    let out = tempfile::tempdir().unwrap();
    let cases = [
        ("swapi.graphql", "swapi"),
        ("github.graphql", "github"),
        ("saleor.graphql", "saleor"),
        ("apollo-weather-supergraph.graphql", "weather"),
        ("derived/swapi.introspection.json", "swapi_i"),
        ("derived/saleor.introspection.json", "saleor_i"),
    ];
    for (file, namespace) in cases {
        let ingested = load(file, namespace);
        assert!(!ingested.tools.is_empty(), "{file}: no tools");
        let mut catalog = Catalog::default();
        catalog.insert(ingested.integration.clone(), ingested.tools.clone());
        for tool in &catalog.tools {
            for role in [SchemaRole::Input, SchemaRole::Output] {
                let schema = catalog.standalone_schema(tool, role);
                jsonschema::options()
                    .should_validate_formats(false)
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("{file}: {} {role:?}: {e}", tool.path));
            }
        }
        let export = document(&catalog, &ExportOptions::default());
        std::fs::write(
            out.path().join(format!("{namespace}.json")),
            generator::emit::to_pretty_json(&export),
        )
        .unwrap();
    }
    support::validate_with_node(&[out.path()]);
}

#[test]
fn github_loads_despite_its_duplicate_field() {
    let github = load("github.graphql", "github");
    assert!(
        github
            .diagnostics
            .iter()
            .any(|d| d.message.contains("defined twice")),
        "{:?}",
        github.diagnostics.iter().take(5).collect::<Vec<_>>()
    );
    assert!(github.tools.iter().any(|t| t.name == "query.viewer"));
    assert!(
        github
            .tools
            .iter()
            .any(|t| t.name == "mutation.createIssue")
    );
}

#[test]
fn sdl_and_introspection_give_the_same_tools() {
    let sdl = load("swapi.graphql", "swapi");
    let introspection = load("derived/swapi.introspection.json", "swapi");
    let names = |i: &generator::ingest::Ingested| {
        i.tools.iter().map(|t| t.path.clone()).collect::<Vec<_>>()
    };
    assert_eq!(names(&sdl), names(&introspection));
    for (a, b) in sdl.tools.iter().zip(&introspection.tools) {
        assert_eq!(a.binding, b.binding, "{}", a.path);
    }
}

/// The emitted artifacts of every fixture schema, pinned (review every
/// change as code): the small schemas' in full; GitHub's and Saleor's
/// (tens of megabytes emitted) as digests: each tool's hash, each whole
/// artifact's hash and every diagnostic, so a change shows which tools it
/// touched. `tsc --strict` on the TypeScript client of every one.
#[test]
fn snapshots_and_typescript_clients() {
    let work = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (file, namespace, snapshot) in [
        ("swapi.graphql", "swapi", true),
        ("apollo-weather-supergraph.graphql", "weather", true),
        ("github.graphql", "github", false),
        ("saleor.graphql", "saleor", false),
    ] {
        let ingested = load(file, namespace);
        let mut catalog = Catalog::default();
        catalog.insert(ingested.integration.clone(), ingested.tools.clone());
        let client = generator::emit::typescript::client(&catalog);
        let diagnostics: Vec<String> = ingested
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect();
        let export = document(&catalog, &ExportOptions::default());
        insta::with_settings!({
            snapshot_path => "../snapshots/graphql",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            snapshot_suffix => namespace,
        }, {
            if snapshot {
                insta::assert_json_snapshot!("ir", catalog);
                insta::assert_json_snapshot!("export", export);
                insta::assert_snapshot!("typescript", client);
                insta::assert_json_snapshot!("diagnostics", diagnostics);
            } else {
                insta::assert_json_snapshot!("digest", digest(&catalog, &export, &client, diagnostics));
            }
        });
        let name = format!("{namespace}.gen.ts");
        std::fs::write(work.path().join(&name), client).unwrap();
        files.push(name);
    }
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    support::tsc(work.path(), &["--noEmit", "--skipLibCheck"], &files);
}

/// A reviewable stand-in for artifacts too large to keep: per tool, a hash
/// of its IR (schemas, binding, annotations); per artifact, a hash of the
/// whole; the diagnostics in full.
fn digest(
    catalog: &Catalog,
    export: &serde_json::Value,
    client: &str,
    diagnostics: Vec<String>,
) -> serde_json::Value {
    use sha2::{Digest, Sha256};
    let hash = |bytes: &[u8]| {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let tools: serde_json::Map<String, serde_json::Value> = catalog
        .tools
        .iter()
        .map(|t| {
            let ir = serde_json::to_vec(t).unwrap();
            (t.path.clone(), serde_json::json!(hash(&ir)[..16]))
        })
        .collect();
    serde_json::json!({
        "toolCount": catalog.tools.len(),
        "irSha256": hash(&serde_json::to_vec(catalog).unwrap()),
        "exportSha256": hash(&serde_json::to_vec(export).unwrap()),
        "typescriptSha256": hash(client.as_bytes()),
        "typescriptBytes": client.len(),
        "diagnostics": diagnostics,
        "tools": tools,
    })
}
