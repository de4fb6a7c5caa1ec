//! Shared helpers of the integration tests: fixture paths, ingest from
//! files, and the Node-based OpenAPI validators.
#![allow(dead_code)] // each test binary uses its own subset

mod corpus;
pub mod postgres;
pub mod service;

use std::path::{Path, PathBuf};
use std::process::Command;

use generator::emit::openapi::{ExportOptions, document};
use generator::ingest::openapi::{self, IngestError, Ingested, Options};
use generator::ir::Catalog;
use runtime::files::DirLoader;
use serde_json::Value;

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn fixtures() -> PathBuf {
    repo_root().join("tests/fixtures")
}

/// The real-world corpus (`tests/fixtures/corpus/`: OpenAPI, GraphQL),
/// unpacked once under `target/test-fixtures/corpus/` (see corpus.rs).
pub use corpus::corpus;

/// The corpus's OpenAPI half: every spec the sweep reads.
pub fn corpus_openapi() -> PathBuf {
    corpus().join("openapi")
}

/// How a fixture loaded.
pub struct Loaded {
    pub ingested: Ingested,
    /// The strict error, when the document had to be loaded leniently.
    pub strict_error: Option<String>,
}

/// Ingests a spec file strictly, falling back to lenient mode when the
/// document breaks the official schema.
pub fn load(path: &Path, namespace: &str) -> Result<Loaded, IngestError> {
    let text = std::fs::read_to_string(path).unwrap();
    // Fixtures are trusted, and multi-file layouts climb to a sibling
    // folder (petstore-separate's spec/ refs ../common): refs may read the
    // whole fixture tree. Confinement itself is tested in security.rs.
    let mut loader = DirLoader::for_spec(path).within(Path::new("/"));
    match openapi::ingest(&text, &Options::new(namespace), Some(&mut loader)) {
        Ok(ingested) => Ok(Loaded {
            ingested,
            strict_error: None,
        }),
        Err(e @ IngestError::Invalid { .. }) => {
            let options = Options {
                lenient: true,
                ..Options::new(namespace)
            };
            let ingested = openapi::ingest(&text, &options, Some(&mut loader))?;
            Ok(Loaded {
                ingested,
                strict_error: Some(e.to_string()),
            })
        }
        Err(e) => Err(e),
    }
}

pub fn catalog_of(ingested: &Ingested) -> Catalog {
    let mut catalog = Catalog::default();
    catalog.insert(ingested.integration.clone(), ingested.tools.clone());
    catalog
}

pub fn export(catalog: &Catalog) -> Value {
    document(catalog, &ExportOptions::default())
}

/// Runs the Node validators (`@seriousme/openapi-schema-validator` and
/// Redocly's linter) over files or directories; panics with their report
/// when any document fails.
pub fn validate_with_node(paths: &[&Path]) {
    validate_with_node_args(&[], paths)
}

/// [`validate_with_node`] with the script's flags (`--any-version` checks
/// 3.0 documents as 3.0).
pub fn validate_with_node_args(args: &[&str], paths: &[&Path]) {
    let node_dir = repo_root().join("tests/node");
    assert!(
        node_dir.join("node_modules").is_dir(),
        "the Node validators are not installed: run `npm ci --prefix tests/node` \
         (the README's test command does it)"
    );
    let output = Command::new("node")
        .arg(node_dir.join("validate-openapi.mjs"))
        .args(args)
        .args(paths)
        .output()
        .expect("node runs (Node 20 or newer is needed for the validators)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let failures: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("FAIL") || l.starts_with("    ["))
        .collect();
    assert!(
        output.status.success(),
        "OpenAPI validation failed:\n{}\n{}\nstderr: {}",
        failures.join("\n"),
        stdout.lines().last().unwrap_or_default(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A path-safe name for a fixture: `oas30/readme-circular.json` →
/// `oas30__readme-circular.json`.
pub fn flat_name(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap()
        .to_string_lossy()
        .replace(['/', '\\'], "__")
}

/// A tool installed in `tests/node` (`npm ci --prefix tests/node`).
pub fn node_bin(name: &str) -> String {
    let path = repo_root().join("tests/node/node_modules/.bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `npm ci --prefix tests/node`",
        path.display()
    );
    path.display().to_string()
}

/// `tsc --strict` over files; panics with its report on any error.
pub fn tsc(dir: &Path, extra: &[&str], files: &[&str]) {
    let out = Command::new(node_bin("tsc"))
        .args([
            "--strict",
            "--target",
            "es2022",
            "--lib",
            "es2022",
            "--module",
            "nodenext",
            "--moduleResolution",
            "nodenext",
        ])
        .args(extra)
        .args(files)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tsc failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every `.json`, `.yaml` and `.yml` file under `dir`, sorted.
pub fn walk_specs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk_specs(&path));
        } else if path
            .extension()
            .is_some_and(|e| e == "json" || e == "yaml" || e == "yml")
        {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The specs every generated client is checked on: each OpenAPI or
/// Swagger fixture, the service's echo spec and GitHub's.
pub fn client_specs() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = walk_specs(&fixtures().join("openapi"))
        .into_iter()
        .filter(|entry| {
            let text = std::fs::read_to_string(entry).unwrap();
            let value = generator::ingest::text::parse(&text).unwrap();
            value.get("openapi").is_some() || value.get("swagger").is_some()
        })
        .collect();
    specs.push(fixtures().join("service/echo.yaml"));
    specs.push(corpus_openapi().join("famous/github-api.github.com.json"));
    specs
}
