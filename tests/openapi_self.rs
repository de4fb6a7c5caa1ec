//! executor's own REST API, described (`GET /api/openapi.json`): every
//! `/api` route of the router is in the document and nothing else is, the
//! document passes the OpenAPI 3.1 validators, and schemathesis, run
//! against it and a live service, finds no server error, no answer that
//! breaks the document and no crash.

mod support;

use std::collections::BTreeSet;
use std::process::Command;

use support::service::{Service, http, start_upstream, text};

/// `(METHOD, path)` of every `/api` route the router registers, read from
/// its source: each `.route("/api/...", get(..).post(..))` call.
fn routes_in_the_router() -> BTreeSet<(String, String)> {
    let source =
        std::fs::read_to_string(support::repo_root().join("runtime/src/http/mod.rs")).unwrap();
    let mut routes = BTreeSet::new();
    for call in source.split(".route(").skip(1) {
        let call = call.trim_start();
        let Some(rest) = call.strip_prefix('"') else {
            continue;
        };
        let path = &rest[..rest.find('"').unwrap()];
        if !path.starts_with("/api") {
            continue;
        }
        // The call's arguments end where its parentheses balance.
        let mut depth = 1;
        let mut end = call.len();
        for (i, c) in call.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let args = &call[..end];
        let mut found = false;
        for method in ["get", "post", "put", "patch", "delete", "any"] {
            let calls = args.matches(&format!("{method}(")).count();
            let qualified = args.matches(&format!("_{method}(")).count();
            if calls > qualified {
                routes.insert((method.to_uppercase(), path.to_owned()));
                found = true;
            }
        }
        assert!(found, "no method found in .route({path:?}, ...)");
    }
    routes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_route_is_described_and_nothing_else() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    // No token needed, like /api/health.
    let response = http()
        .get(format!("{}/api/openapi.json", service.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let document: serde_json::Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let mut described = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            described.insert((method.to_uppercase(), path.clone()));
        }
    }
    let routes = routes_in_the_router();
    assert!(routes.len() >= 24, "{routes:?}");
    let undescribed: Vec<_> = routes.difference(&described).collect();
    assert!(
        undescribed.is_empty(),
        "routes the document does not describe (add #[utoipa::path] and list them in http/described.rs): {undescribed:?}"
    );
    let unrouted: Vec<_> = described.difference(&routes).collect();
    assert!(
        unrouted.is_empty(),
        "the document describes routes that do not exist: {unrouted:?}"
    );
    // Every operation but the three open ones needs the token, and says so.
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let open = ["/api/health", "/api/ready", "/api/openapi.json"].contains(&path.as_str());
            let security = &operation["security"];
            assert_eq!(
                security.as_array().is_some_and(|s| s
                    .iter()
                    .all(|r| r.as_object().is_some_and(|o| o.is_empty()))),
                open,
                "{method} {path}: {security}"
            );
        }
    }
    assert!(
        document["components"]["schemas"]["ErrorCode"]["enum"]
            .as_array()
            .is_some_and(|codes| codes.iter().any(|c| c == "execution_paused")),
        "the error codes are described"
    );

    // The 3.1 validators the catalog export passes.
    let file = home.path().join("executor-api.json");
    std::fs::write(&file, serde_json::to_string_pretty(&document).unwrap()).unwrap();
    support::validate_with_node(&[&file]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let upstream = start_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service.add_echo(&upstream).await;
    let schemathesis = support::repo_root().join("target/schemathesis/bin/schemathesis");
    assert!(
        schemathesis.is_file(),
        "schemathesis is not installed: `python3 -m venv target/schemathesis && \
         target/schemathesis/bin/pip install -r tests/python/requirements.txt` \
         (the README's test command does it)"
    );
    let out = Command::new(&schemathesis)
        .arg("run")
        .arg(format!("{}/api/openapi.json", service.url))
        .args(["-H", &format!("Authorization: Bearer {}", service.token)])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance,response_headers_conformance",
            // It would stop the service under test.
            "--exclude-path",
            "/api/shutdown",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "30",
            "--seed",
            "1",
            "--workers",
            "2",
            "--request-timeout",
            "30",
        ])
        .env("SCHEMATHESIS_HOOKS", "")
        .env("NO_COLOR", "1")
        .current_dir(home.path())
        .output()
        .unwrap();
    let report = text(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        text(&out.stderr)
    );
    assert!(report.contains(" passed"), "{report}");
    // The service is still there.
    let (status, _) = service.get("/api/sources").await;
    assert_eq!(status, 200);
}
