//! Replays the fuzz corpora (`fuzz/corpus/<target>/`) through the very
//! checks the fuzz targets run (`fuzz/checks.rs`, included below), so every
//! `cargo test` keeps the seeds, and whatever libFuzzer found worth keeping,
//! passing without nightly or libFuzzer. See fuzz/README.md.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

/// Inputs the fuzzers found that once broke a check, kept as regressions.
fn regressions(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target)
}

/// Runs every file of a target's corpus through its check; panics listing
/// each file whose check failed. Returns how many files got past the
/// parser and how many did not.
fn replay(target: &str) -> (usize, usize) {
    let dir = corpus(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .chain(std::fs::read_dir(regressions(target)).into_iter().flatten())
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no seed", dir.display());
    let (mut passed, mut refused) = (0, 0);
    let mut failures = Vec::new();
    for file in &files {
        let data = std::fs::read(file).unwrap();
        match catch_unwind(AssertUnwindSafe(|| checks::run(target, &data))) {
            Ok(true) => passed += 1,
            Ok(false) => refused += 1,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                failures.push(format!("{}: {message}", file.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{target}: {} of {} corpus files fail the check:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    (passed, refused)
}

#[test]
fn every_target_has_a_corpus() {
    for target in checks::TARGETS {
        assert!(corpus(target).is_dir(), "no corpus for {target}");
    }
}

#[test]
fn openapi_ingest_corpus() {
    let (passed, _) = replay("openapi_ingest");
    assert!(passed >= 10, "only {passed} OpenAPI seeds ingest");
}

#[test]
fn graphql_sdl_corpus() {
    let (passed, _) = replay("graphql_sdl");
    assert!(passed >= 3, "only {passed} GraphQL seeds ingest");
}

#[test]
fn graphql_introspection_corpus() {
    let (passed, _) = replay("graphql_introspection");
    assert!(passed >= 2, "only {passed} introspection seeds ingest");
}

#[test]
fn graphql_select_corpus() {
    let (passed, refused) = replay("graphql_select");
    assert!(
        passed > 0 && refused > 0,
        "the select seeds should hold valid and invalid selections ({passed} valid, {refused} refused)"
    );
}

#[test]
fn wire_request_corpus() {
    let (passed, refused) = replay("wire_request");
    assert!(
        passed > 0 && refused > 0,
        "the wire seeds should hold encoded and refused inputs ({passed} encoded, {refused} refused)"
    );
}

/// The wire check is not vacuous: it catches each kind of escape.
#[test]
fn wire_violation_catches_escapes() {
    let check = |origin: &str, path: &str| {
        checks::wire_violation(
            "https://api.example.com",
            "/v1",
            "/users/{id}",
            origin,
            path,
        )
    };
    check("https://api.example.com", "/v1/users/42").unwrap();
    check("https://api.example.com", "/v1/users/").unwrap();
    assert!(check("https://evil.example", "/v1/users/42").is_err());
    assert!(check("https://api.example.com", "/v1/admin").is_err());
    assert!(check("https://api.example.com", "/v1/users/x/..").is_err());
    assert!(check("https://api.example.com", "/v1/users/%2E%2e/x").is_err());
    assert!(check("https://api.example.com", "/v1/users/./x").is_err());
}
