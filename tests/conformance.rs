//! The official MCP conformance suite (`@modelcontextprotocol/conformance`,
//! server mode) against executor's source view of a fixture upstream
//! (`/mcp?source=conformance`), through `tests/conformance/run.sh`: 0.1.16
//! with every scenario, 0.2.0-alpha.12 with its requirement sets for the
//! 2026-07-28 and 2025-11-25 revisions, and its authorization-server
//! scenarios against executor's own OAuth server (Chromium consents).
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
    let measured = statuses(&results["results"]["executor"]);
    assert!(measured.len() >= 30, "too few scenarios ran: {measured:?}");
    let expected: Value = serde_json::from_slice(
        &std::fs::read(support::repo_root().join("tests/conformance/expected.json")).unwrap(),
    )
    .unwrap();
    let mut differences = Vec::new();
    compare("0.1.16", &measured, &expected["executor"], &mut differences);
    for revision in ["2026-07-28", "2025-11-25"] {
        for part in ["scored", "unscored"] {
            let measured = statuses(&results["requirements"][revision][part]);
            if part == "scored" {
                assert!(
                    measured.len() >= 25,
                    "too few scenarios ran for {revision}: {measured:?}"
                );
            }
            let record = &expected["requirements"][revision][part];
            compare(
                &format!("{revision} {part}"),
                &measured,
                record,
                &mut differences,
            );
        }
    }
    let authorization = statuses(&results["authorization"]);
    assert_eq!(authorization.len(), 2, "{authorization:?}");
    compare(
        "authorization",
        &authorization,
        &expected["authorization"],
        &mut differences,
    );
    assert!(
        differences.is_empty(),
        "conformance outcomes differ from tests/conformance/expected.json (update it when a scenario starts passing):\n{}\n\n{}",
        differences.join("\n"),
        std::fs::read_to_string(out.path().join("results.md")).unwrap_or_default()
    );
}

/// Each scenario's status in a map of outcomes (`{"scenario": {"status"}}`).
fn statuses(outcomes: &Value) -> BTreeMap<String, String> {
    outcomes
        .as_object()
        .unwrap_or_else(|| panic!("no outcomes in {outcomes}"))
        .iter()
        .map(|(scenario, outcome)| {
            let status = outcome["status"].as_str().unwrap_or("error").to_owned();
            (scenario.clone(), status)
        })
        .collect()
}

/// Records, in `differences`, each scenario whose outcome is not the
/// recorded one, and each recorded scenario that did not run.
fn compare(
    set: &str,
    measured: &BTreeMap<String, String>,
    recorded: &Value,
    differences: &mut Vec<String>,
) {
    let recorded = statuses(recorded);
    for (scenario, status) in measured {
        let was = recorded.get(scenario).map_or("missing", String::as_str);
        if was != status {
            differences.push(format!("{set} {scenario}: recorded {was}, now {status}"));
        }
    }
    for scenario in recorded.keys() {
        if !measured.contains_key(scenario) {
            differences.push(format!(
                "{set} {scenario}: recorded, but the suite no longer has it"
            ));
        }
    }
}
