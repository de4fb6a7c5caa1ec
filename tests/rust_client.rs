//! The Rust client (`executor generate --format rust`): a crate generated
//! for every fixture spec, GitHub's and two GraphQL schemas passes `cargo check` with no
//! warnings, and a program using one runs against a live service: a typed
//! read, a refused token, a tool error, a write that pauses, and after
//! `executor resume` the execution's result read back as the tool's type.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use generator::emit;
use support::service::{Service, start_upstream, text};

/// One target directory for every generated crate, kept between runs so
/// that reqwest and serde are built once.
fn target_dir() -> PathBuf {
    support::repo_root().join("target/rust-clients")
}

/// A Cargo workspace of `members` in `dir`, resolved like executor's own
/// (its lockfile), so the generated crates build with the versions the
/// rest of the suite already fetched.
fn workspace(dir: &Path, members: &[String]) {
    let members: Vec<String> = members.iter().map(|m| format!("{m:?}")).collect();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    )
    .unwrap();
    std::fs::copy(
        support::repo_root().join("Cargo.lock"),
        dir.join("Cargo.lock"),
    )
    .unwrap();
}

fn cargo(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args(args)
        .args(["--message-format", "short", "--target-dir"])
        .arg(target_dir())
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?} failed in {}:\n{}",
        dir.display(),
        text(&out.stderr)
    );
    out
}

/// `dir/name/Cargo.toml` and `dir/name/src/lib.rs`, as `--crate` writes them.
fn write_crate(dir: &Path, name: &str, catalog: &generator::ir::Catalog, source: &str) {
    let crate_dir = dir.join(name);
    std::fs::create_dir_all(crate_dir.join("src")).unwrap();
    std::fs::write(
        crate_dir.join("Cargo.toml"),
        emit::rust::cargo_toml(name, catalog),
    )
    .unwrap();
    std::fs::write(crate_dir.join("src/lib.rs"), source).unwrap();
}

/// Compiler warnings in cargo's short messages (`file:line:col: warning: ...`).
fn warnings(out: &Output) -> Vec<String> {
    text(&out.stderr)
        .lines()
        .filter(|l| l.contains("warning"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn clients_compile_without_warnings_for_every_fixture_and_github() {
    let specs = support::client_specs();
    let dir = tempfile::tempdir().unwrap();
    let mut members = Vec::new();
    for spec in &specs {
        let loaded = support::load(spec, "api").unwrap();
        let catalog = support::catalog_of(&loaded.ingested);
        let source = emit::rust::client(&catalog);
        assert_eq!(
            source,
            emit::rust::client(&catalog),
            "{}: not deterministic",
            spec.display()
        );
        let name = format!(
            "c_{}",
            support::flat_name(spec.parent().unwrap().parent().unwrap(), spec)
                .replace(['.', '-', '/'], "_")
        );
        write_crate(dir.path(), &name, &catalog, &source);
        members.push(name);
    }
    // GraphQL sources too: their inputs and selections are the same IR.
    for (file, namespace) in [
        ("swapi.graphql", "swapi"),
        ("apollo-weather-supergraph.graphql", "weather"),
    ] {
        let text = std::fs::read_to_string(support::corpus().join("graphql").join(file)).unwrap();
        let options = generator::ingest::openapi::Options::new(namespace);
        let ingested = generator::ingest::graphql::ingest(&text, &options).unwrap();
        let mut catalog = generator::ir::Catalog::default();
        catalog.insert(ingested.integration, ingested.tools);
        let name = format!("g_{namespace}");
        write_crate(dir.path(), &name, &catalog, &emit::rust::client(&catalog));
        members.push(name);
    }
    assert!(members.len() > 35, "{members:?}");
    workspace(dir.path(), &members);
    let out = cargo(dir.path(), &["check", "--workspace"]);
    let warnings = warnings(&out);
    assert!(warnings.is_empty(), "{}", warnings.join("\n"));
}

#[test]
fn the_types_read_and_write_what_their_schemas_describe() {
    let spec = support::fixtures().join("rust/shapes.yaml");
    let loaded = support::load(&spec, "shapes").unwrap();
    let catalog = support::catalog_of(&loaded.ingested);
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("shapes");
    std::fs::create_dir_all(crate_dir.join("src")).unwrap();
    std::fs::create_dir_all(crate_dir.join("tests")).unwrap();
    let mut manifest = emit::rust::cargo_toml("shapes", &catalog);
    manifest.push_str("\n[dev-dependencies]\nserde = \"1\"\nserde_json = \"1\"\n");
    std::fs::write(crate_dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(crate_dir.join("src/lib.rs"), emit::rust::client(&catalog)).unwrap();
    std::fs::copy(
        support::repo_root().join("tests/rust/shapes.rs"),
        crate_dir.join("tests/shapes.rs"),
    )
    .unwrap();
    workspace(dir.path(), &["shapes".to_owned()]);
    let out = cargo(dir.path(), &["test", "-p", "shapes"]);
    let report = text(&out.stdout);
    assert!(report.contains("test result: ok. 2 passed"), "{report}");
    let warnings = warnings(&out);
    assert!(warnings.is_empty(), "{}", warnings.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_program_runs_against_a_live_service() {
    let upstream = start_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service.add_echo(&upstream).await;

    // The client as the user gets it: a crate generated from the store.
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let out = service.cli(&[
        "generate",
        "--format",
        "rust",
        "--integration",
        "echo",
        "--crate",
        "echo_client",
        "-o",
        dir.join("echo_client").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::create_dir_all(dir.join("app/src")).unwrap();
    std::fs::write(
        dir.join("app/Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\necho_client = { path = \"../echo_client\" }\n\
         serde_json = \"1\"\ntokio = { version = \"1.54\", features = [\"rt\", \"macros\"] }\n",
    )
    .unwrap();
    std::fs::copy(
        support::repo_root().join("tests/rust/app.rs"),
        dir.join("app/src/main.rs"),
    )
    .unwrap();
    workspace(dir, &["echo_client".to_owned(), "app".to_owned()]);
    let built = cargo(dir, &["build", "-p", "app"]);
    let warnings = warnings(&built);
    assert!(warnings.is_empty(), "{}", warnings.join("\n"));

    let run = |args: &[&str]| -> serde_json::Value {
        let out = Command::new(target_dir().join("debug/app"))
            .args(args)
            .env("EXECUTOR_URL", &service.url)
            .env("EXECUTOR_API_KEY", &service.token)
            .env_remove("EXECUTOR_AUTH_TOKEN")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "app {args:?} failed: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
    };
    let called = run(&["call"]);
    assert_eq!(called["read"]["path"], "/v1/items/42", "{called}");
    assert_eq!(called["read"]["query"], "tags=x", "{called}");
    assert_eq!(called["refused"]["status"], 401, "{called}");
    assert_eq!(called["failed"]["code"], "upstream_http_error", "{called}");
    assert_eq!(called["failed"]["status"], 500, "{called}");
    let id = called["paused"]["executionId"].as_str().unwrap_or_default();
    assert!(id.starts_with("exec_"), "{called}");
    assert_eq!(
        called["paused"]["approvalUrl"],
        format!("{}/resume/{id}", service.url)
    );
    assert_eq!(
        called["paused"]["resumePath"],
        format!("/api/executions/{id}/resume")
    );
    // Nothing ran while it waited.
    let before = run(&["read", id]);
    assert_eq!(before["state"], "paused", "{before}");

    let resumed = service.cli(&["resume", "--execution-id", id, "--action", "accept"]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let read = run(&["read", id]);
    assert_eq!(read["state"], "completed", "{read}");
    assert_eq!(read["method"], "POST", "{read}");
    assert_eq!(read["body"], r#"{"count":2,"name":"from-rust"}"#, "{read}");
}
