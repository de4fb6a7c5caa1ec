//! The official MCP conformance suite (`@modelcontextprotocol/conformance`,
//! server mode, every scenario) against executor's source view of a fixture
//! upstream (`/mcp?source=conformance`), through `tests/conformance/run.sh`.
//!
//! The outcome of every scenario is recorded in
//! `tests/conformance/expected.json`; this test fails when a scenario's
//! outcome differs from the record in either direction, so a regression
//! fails and an improvement must be recorded.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;
use support::service::text;

#[test]
fn the_conformance_suite_gives_the_recorded_outcomes() {
    let out = tempfile::tempdir().unwrap();
    let script = support::repo_root().join("tests/conformance/run.sh");
    let run = Command::new("bash")
        .arg(script)
        .arg(support::service::EXE)
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the conformance harness failed:\n{}{}",
        text(&run.stdout),
        text(&run.stderr)
    );
    let results: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("results.json")).unwrap()).unwrap();
    let measured: BTreeMap<String, String> = results["results"]["executor"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(scenario, outcome)| {
            let status = outcome["status"].as_str().unwrap_or("error").to_owned();
            (scenario.clone(), status)
        })
        .collect();
    assert!(measured.len() >= 30, "too few scenarios ran: {measured:?}");
    let expected: Value = serde_json::from_slice(
        &std::fs::read(support::repo_root().join("tests/conformance/expected.json")).unwrap(),
    )
    .unwrap();
    let expected = expected["executor"].as_object().unwrap();
    let mut differences = Vec::new();
    for (scenario, status) in &measured {
        let recorded = expected[scenario.as_str()]["status"]
            .as_str()
            .unwrap_or("missing");
        if recorded != status {
            differences.push(format!("{scenario}: recorded {recorded}, now {status}"));
        }
    }
    for scenario in expected.keys() {
        if !measured.contains_key(scenario) {
            differences.push(format!(
                "{scenario}: recorded, but the suite no longer has it"
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "conformance outcomes differ from tests/conformance/expected.json (update it when a scenario starts passing):\n{}\n\n{}",
        differences.join("\n"),
        std::fs::read_to_string(out.path().join("results.md")).unwrap_or_default()
    );
}
