//! Connections and credentials against a real upstream on 127.0.0.1:0 that
//! checks every auth method: calls succeed with the right secret, fail
//! cleanly (`connection_missing`, `connection_rejected`) without it or with
//! a wrong one, and a canary secret appears nowhere it must not.

mod support;

use std::process::Command;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use serde_json::{Value, json};
use support::service::{Service, text};

/// Which credential a request carried, per route (a label, never the
/// credential itself), or `None` when it is not accepted.
fn accepted(route: &str, headers: &HeaderMap, uri: &Uri) -> Option<&'static str> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    match route {
        "bearer" => match header("authorization").as_str() {
            "Bearer right-bearer" => Some("bearer:main"),
            "Bearer work-bearer" => Some("bearer:work"),
            "Bearer canary-7f3a9c-secret" => Some("bearer:canary"),
            _ => None,
        },
        // alice:pa55:word (a colon inside the password is allowed).
        "basic" => (header("authorization") == "Basic YWxpY2U6cGE1NTp3b3Jk").then_some("basic"),
        "keyh" => (header("x-api-key") == "right-header-key").then_some("keyh"),
        "keyq" => (uri.query() == Some("api_key=right%20query%26key")).then_some("keyq"),
        "keyc" => (header("cookie") == "session=right-cookie").then_some("keyc"),
        "custom" => (header("x-auth") == "Token right-custom").then_some("custom"),
        // Answers with the credential it got, as careless APIs do.
        "echo" => None,
        _ => None,
    }
}

/// The upstream: 200 with which credential it saw, or 401 echoing what it
/// received (as careless APIs do; executor must redact it).
async fn start_upstream() -> String {
    let app = Router::new()
        // A GraphQL endpoint that echoes the credential in its data and in
        // an error, as careless servers do.
        .route(
            "/graphql",
            axum::routing::post(|headers: HeaderMap| async move {
                let got = format!("{:?}", headers.get("authorization"));
                axum::Json(json!({
                    "data": { "who": got },
                    "errors": [{ "message": format!("token {got} is read-only"), "path": ["who"] }],
                }))
            }),
        )
        .route(
            "/{route}/check",
            get(
                |axum::extract::Path(route): axum::extract::Path<String>,
                 headers: HeaderMap,
                 uri: Uri| async move {
                    if route == "echo" {
                        let got = format!("{:?}", headers.get("authorization"));
                        return (StatusCode::OK, axum::Json(json!({ "who": got })));
                    }
                    match accepted(&route, &headers, &uri) {
                        Some(who) => (StatusCode::OK, axum::Json(json!({ "who": who }))),
                        None => (
                            StatusCode::UNAUTHORIZED,
                            axum::Json(json!({
                                "error": "bad credentials",
                                "got": format!("{:?} {:?}", headers, uri.query()),
                            })),
                        ),
                    }
                },
            ),
        );
    support::service::serve(app).await
}

/// A one-operation spec whose security scheme is `scheme` (YAML).
fn spec(scheme: &str) -> String {
    format!(
        "openapi: 3.1.0
info: {{ title: Checked, version: '1' }}
components:
  securitySchemes:
    auth: {scheme}
security: [{{ auth: [] }}]
paths:
  /check:
    get:
      operationId: check
      responses:
        '200':
          description: who was seen
          content:
            application/json:
              schema: {{ type: object, properties: {{ who: {{ type: string }} }} }}
"
    )
}

const SCHEMES: [(&str, &str); 7] = [
    ("bearer", "{ type: http, scheme: bearer }"),
    ("echo", "{ type: http, scheme: bearer }"),
    ("basic", "{ type: http, scheme: basic }"),
    ("keyh", "{ type: apiKey, in: header, name: X-Api-Key }"),
    ("keyq", "{ type: apiKey, in: query, name: api_key }"),
    ("keyc", "{ type: apiKey, in: cookie, name: session }"),
    ("custom", "{ type: apiKey, in: header, name: X-Auth }"),
];

async fn service_with_sources(home: &std::path::Path, env: &[(&str, &str)]) -> Service {
    let upstream = start_upstream().await;
    let service = Service::start_with_env(home, env);
    for (namespace, scheme) in SCHEMES {
        let r = service
            .invoke(
                "executor.openapi.addSource",
                json!({"spec": spec(scheme), "namespace": namespace, "baseUrl": format!("{upstream}/{namespace}")}),
            )
            .await;
        assert_eq!(r.1["ok"], true, "{}", r.1);
    }
    service
}

fn add(service: &Service, args: &[&str], secret: &str) -> (Option<i32>, String, String) {
    let out = service.add_connection(args, secret);
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_auth_method_is_attached_and_checked() {
    let home = tempfile::tempdir().unwrap();
    let service = service_with_sources(home.path(), &[]).await;

    // (namespace, CLI arguments, right secret, what the upstream saw)
    let cases: [(&str, Vec<&str>, &str); 6] = [
        ("bearer", vec![], "right-bearer"),
        (
            "basic",
            vec!["--auth", "basic", "--username", "alice"],
            "pa55:word",
        ),
        ("keyh", vec![], "right-header-key"),
        ("keyq", vec![], "right query&key"),
        ("keyc", vec![], "right-cookie"),
        (
            "custom",
            vec![
                "--auth",
                "header",
                "--header",
                "X-Auth",
                "--template",
                "Token {secret}",
            ],
            "right-custom",
        ),
    ];
    for (namespace, args, secret) in cases {
        let path = format!("{namespace}.check.check");
        // No connection yet: the call says what to do, and never leaves.
        let r = service.invoke(&path, json!({})).await;
        assert_eq!(
            r.1["error"]["code"], "connection_missing",
            "{namespace}: {}",
            r.1
        );
        assert!(
            r.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("executor connections add {namespace}")),
            "{}",
            r.1
        );

        // A wrong secret: refused cleanly, and the upstream's echo of it is
        // redacted.
        let mut cli: Vec<&str> = vec![namespace];
        cli.extend(args.iter().copied());
        let wrong = format!("wrong-{namespace}-secret");
        let (code, _, stderr) = add(&service, &cli, &wrong);
        assert_eq!(code, Some(0), "{namespace}: {stderr}");
        let r = service.invoke(&path, json!({})).await;
        assert_eq!(
            r.1["error"]["code"], "connection_rejected",
            "{namespace}: {}",
            r.1
        );
        assert_eq!(r.1["error"]["status"], 401);
        assert!(!r.1.to_string().contains(&wrong), "{namespace}: {}", r.1);

        // The right one (replacing the wrong): the call goes through.
        let (code, stdout, stderr) = add(&service, &cli, secret);
        assert_eq!(code, Some(0), "{namespace}: {stderr}");
        assert!(
            stdout.contains(&format!("{namespace}.org.main.*")),
            "{stdout}"
        );
        let r = service.invoke(&path, json!({})).await;
        assert_eq!(r.1["ok"], true, "{namespace}: {}", r.1);
        assert!(
            r.1["data"]["who"].as_str().unwrap().starts_with(namespace),
            "{}",
            r.1
        );
    }

    // Listings never show a secret.
    let out = service.cli(&["connections", "list", "--json"]);
    assert!(out.status.success());
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 6, "{listed}");
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["hasSecret"] == true)
    );
    let listing = text(&out.stdout);
    for secret in [
        "right-bearer",
        "pa55:word",
        "right-header-key",
        "right query&key",
        "right-cookie",
        "right-custom",
    ] {
        assert!(!listing.contains(secret), "{listing}");
    }
    let basic = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["integration"] == "basic")
        .unwrap();
    assert_eq!(basic["auth"], json!({"type": "basic", "username": "alice"}));

    // The secret never comes from the command line; --secret-env works.
    let out = service.cli(&["connections", "add", "bearer", "--secret", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(support::service::EXE)
        .args([
            "connections",
            "add",
            "bearer",
            "--name",
            "env",
            "--secret-env",
            "TOKEN_FOR_TEST",
        ])
        .env("EXECUTOR_HOME", &service.home)
        .env("TOKEN_FOR_TEST", "work-bearer")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Two connections, two subtrees; the short path is then ambiguous.
    let r = service
        .invoke("bearer.org.env.check.check", json!({}))
        .await;
    assert_eq!(r.1["data"]["who"], "bearer:work", "{}", r.1);
    let r = service
        .invoke("bearer.org.main.check.check", json!({}))
        .await;
    assert_eq!(r.1["data"]["who"], "bearer:main", "{}", r.1);
    let r = service.invoke("bearer.check.check", json!({})).await;
    assert_eq!(r.1["error"]["code"], "tool_not_found", "{}", r.1);
    assert!(
        r.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bearer.org.env.check.check")
    );

    // Removing one leaves the other.
    let out = service.cli(&["connections", "remove", "bearer", "--name", "env"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r = service.invoke("bearer.check.check", json!({})).await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    let out = service.cli(&["connections", "remove", "bearer", "--name", "env"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("has no connection"),
        "{}",
        text(&out.stderr)
    );
}

/// A known secret is stored and used; then every listing, MCP answer, log,
/// the database file (as bytes), the export and the generated client are
/// searched for it: it appears nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_canary_secret_appears_nowhere() {
    const CANARY: &str = "canary-7f3a9c-secret";
    let home = tempfile::tempdir().unwrap();
    let service = service_with_sources(home.path(), &[("EXECUTOR_LOG", "debug")]).await;
    let (code, _, stderr) = add(&service, &["bearer"], CANARY);
    assert_eq!(code, Some(0), "{stderr}");
    let used = service.invoke("bearer.check.check", json!({})).await;
    assert_eq!(used.1["data"]["who"], "bearer:canary", "{}", used.1);
    // An upstream that answers with the credential it got: the result is
    // redacted (the agent would otherwise read it).
    let (code, _, stderr) = add(&service, &["echo"], CANARY);
    assert_eq!(code, Some(0), "{stderr}");
    let echoed = service.invoke("echo.check.check", json!({})).await;
    assert_eq!(echoed.1["ok"], true, "{}", echoed.1);
    assert!(
        echoed.1["data"]["who"]
            .as_str()
            .unwrap()
            .contains("[redacted]"),
        "{}",
        echoed.1
    );
    // A GraphQL endpoint echoing it in `data` and in `errors`.
    let upstream = service.get("/api/sources").await.1["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["namespace"] == "bearer")
        .unwrap()["baseUrl"]
        .as_str()
        .unwrap()
        .trim_end_matches("/bearer")
        .to_owned();
    let r = service
        .invoke(
            "executor.graphql.addSource",
            json!({"namespace": "gql", "endpoint": format!("{upstream}/graphql"), "schema": "type Query { who: String }"}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    let (code, _, stderr) = add(&service, &["gql", "--auth", "bearer"], CANARY);
    assert_eq!(code, Some(0), "{stderr}");
    let echoed = service.invoke("gql.query.who", json!({})).await;
    assert_eq!(
        echoed.1["error"]["code"], "upstream_tool_error",
        "{}",
        echoed.1
    );
    let answer = echoed.1.to_string();
    assert!(!answer.contains(CANARY), "{answer}");
    assert!(
        echoed.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[redacted]")
            && echoed.1["error"]["details"]["data"]["who"]
                .as_str()
                .unwrap()
                .contains("[redacted]"),
        "{answer}"
    );
    // Also through a failing call whose upstream echoes what it got.
    let (code, _, stderr) = add(
        &service,
        &["keyh", "--auth", "api-key", "--key-name", "X-Api-Key"],
        CANARY,
    );
    assert_eq!(code, Some(0), "{stderr}");
    let refused = service.invoke("keyh.check.check", json!({})).await;
    assert_eq!(refused.1["error"]["code"], "connection_rejected");

    let mut seen = vec![
        ("invoke result", used.1.to_string()),
        ("echoed result", echoed.1.to_string()),
        ("refused result", refused.1.to_string()),
    ];
    for route in [
        "/api/tools?limit=1000",
        "/api/tools/bearer.org.main.check.check",
        "/api/sources",
        "/api/connections",
        "/api/executions",
        "/api/policies",
    ] {
        seen.push((route, service.get(route).await.1.to_string()));
    }
    let export = support::service::http()
        .get(format!("{}/api/tools/export/openapi", service.url))
        .bearer_auth(&service.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    seen.push(("export", export));
    let out_dir = tempfile::tempdir().unwrap();
    let out = service.cli(&[
        "generate",
        "--format",
        "both",
        "-o",
        out_dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for file in ["executor.openapi.json", "executor.gen.ts"] {
        seen.push((
            file,
            std::fs::read_to_string(out_dir.path().join(file)).unwrap(),
        ));
    }
    // MCP: the listing and a call's result, through the official SDK.
    let steps = json!([{"list": true}, {"call": "bearer.org.main.check.check"}, {"call": "keyh.org.main.check.check"}]);
    let mcp = support::service::sdk(
        &format!("{}/mcp", service.url),
        &service.mcp_token,
        "none",
        steps,
    );
    let mcp_text = mcp.to_string();
    assert!(
        mcp_text.contains("bearer:canary"),
        "the MCP call did not run: {mcp_text}"
    );
    seen.push(("mcp", mcp_text));
    for (what, body) in &seen {
        assert!(
            !body.contains(CANARY),
            "the secret appears in {what}: {body}"
        );
    }

    // Logs and the database, as bytes (the WAL too), after a clean stop.
    let out = service.cli(&["daemon", "stop"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(service.wait_exit().success());
    let mut files = vec![home.path().join("test-service.log")];
    for entry in std::fs::read_dir(home.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("executor.db")
        {
            files.push(path);
        }
    }
    let log = std::fs::read_to_string(home.path().join("test-service.log")).unwrap();
    assert!(
        log.contains("DEBUG") || log.contains("connection stored"),
        "debug logging is off: {log}"
    );
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
            "the secret appears in {}",
            file.display()
        );
    }
}
