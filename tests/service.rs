//! The service end to end: the real `executor` binary in a fresh
//! `EXECUTOR_HOME`, a real upstream on 127.0.0.1:0, sources added through
//! the built-in tool, tools called through `POST /api/tools/invoke` and the
//! CLI, every parameter location and body kind, errors by code, restarts.

mod support;

use serde_json::{Value, json};
use support::service::{BUILTIN_TOOLS, Service, start_upstream, text};

const SECRET: &str = "s3cret-key-value";

fn echo_spec() -> String {
    support::fixtures()
        .join("service/echo.yaml")
        .display()
        .to_string()
}

/// A service with the echo upstream added as `echo` (through the CLI, as
/// the product documents do it).
async fn service_with_echo(home: &std::path::Path) -> (Service, String) {
    let upstream = start_upstream().await;
    let service = Service::start(home);
    let input = json!({
        "spec": echo_spec(),
        "namespace": "echo",
        "baseUrl": format!("{upstream}/v1"),
        "headers": { "X-Api-Key": SECRET },
    });
    let out = service.cli(&[
        "call",
        "executor",
        "openapi",
        "addSource",
        &input.to_string(),
    ]);
    assert!(
        out.status.success(),
        "addSource failed: {}",
        text(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["namespace"], "echo");
    assert_eq!(report["tools"], 12, "{report}");
    // Policies have their own tests (tests/policies.rs); here every echo
    // tool runs without approval.
    service.allow("echo.*").await;
    (service, upstream)
}

fn data(response: (u16, Value)) -> Value {
    assert_eq!(response.0, 200, "{}", response.1);
    assert_eq!(response.1["ok"], true, "{}", response.1);
    response.1["data"].clone()
}

fn error_code(response: &(u16, Value)) -> &str {
    assert_eq!(response.1["ok"], false, "{}", response.1);
    response.1["error"]["code"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameters_and_bodies_reach_the_upstream_as_the_spec_says() {
    let home = tempfile::tempdir().unwrap();
    let (service, _upstream) = service_with_echo(home.path()).await;

    // Path, query (form, exploded array; deepObject), header and cookie.
    let echo = data(
        service
            .invoke(
                "echo.org.main.items.getItem",
                json!({"id": 7, "tags": ["a", "b c"], "filter": {"color": "red"}, "X-Trace": "t-1", "session": "abc"}),
            )
            .await,
    );
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["path"], "/v1/items/7");
    assert_eq!(echo["query"], "tags=a&tags=b%20c&filter%5Bcolor%5D=red");
    assert_eq!(echo["headers"]["x-trace"], "t-1");
    assert_eq!(echo["headers"]["cookie"], "session=abc");
    // The source's static header is attached; the caller never sent it,
    // and never sees it (the echo of it is redacted).
    assert_eq!(echo["headers"]["x-api-key"], "[redacted]");
    let reversed: String = SECRET.chars().rev().collect();
    assert_eq!(echo["headers"]["x-api-key-reversed"], reversed);

    // The short path resolves too.
    let echo = data(service.invoke("echo.items.getItem", json!({"id": 1})).await);
    assert_eq!(echo["path"], "/v1/items/1");

    // Label and matrix path styles, pipe-delimited query.
    let echo = data(
        service
            .invoke(
                "echo.styles.getStyles",
                json!({"lab": ["x", "y"], "mat": ["p", "q"], "ids": [1, 2]}),
            )
            .await,
    );
    assert_eq!(echo["path"], "/v1/styles/.x,y/;mat=p;mat=q");
    assert_eq!(echo["query"], "ids=1%7C2");

    // JSON body spread beside a query parameter; 201 is success.
    let echo = data(
        service
            .invoke(
                "echo.items.createItem",
                json!({"name": "n", "count": 2, "dryRun": true}),
            )
            .await,
    );
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["query"], "dryRun=true");
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(echo["body"].as_str().unwrap()).unwrap(),
        json!({"name": "n", "count": 2})
    );

    // A body property named like a path parameter becomes `body_id`.
    let echo = data(
        service
            .invoke(
                "echo.things.putThing",
                json!({"id": "p", "body_id": "b", "label": "l"}),
            )
            .await,
    );
    assert_eq!(echo["path"], "/v1/things/p");
    assert_eq!(
        serde_json::from_str::<Value>(echo["body"].as_str().unwrap()).unwrap(),
        json!({"id": "b", "label": "l"})
    );

    // Form-urlencoded.
    let echo = data(
        service
            .invoke(
                "echo.forms.postForm",
                json!({"name": "a b", "tags": ["x", "y"]}),
            )
            .await,
    );
    assert_eq!(
        echo["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(echo["body"], "name=a%20b&tags=x&tags=y");

    // Multipart with a file given in base64.
    let echo = data(
        service
            .invoke(
                "echo.uploads.upload",
                json!({"file": "aGVsbG8=", "note": "n1"}),
            )
            .await,
    );
    let content_type = echo["headers"]["content-type"].as_str().unwrap();
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    let body = echo["body"].as_str().unwrap();
    assert!(
        body.contains("name=\"file\"") && body.contains("hello"),
        "{body}"
    );
    assert!(
        body.contains("name=\"note\"") && body.contains("n1"),
        "{body}"
    );

    // Bytes in and out.
    let echo = data(
        service
            .invoke(
                "echo.blobs.putBlob",
                json!({"name": "b", "body": "AAEC/w=="}),
            )
            .await,
    );
    assert_eq!(echo["headers"]["content-type"], "application/octet-stream");
    assert_eq!(echo["bodyBase64"], "AAEC/w==");
    let file = data(
        service
            .invoke("echo.blobs.getBlob", json!({"name": "b"}))
            .await,
    );
    assert_eq!(
        file,
        json!({"mediaType": "application/octet-stream", "size": 4, "base64": "AAEC/w=="})
    );

    // Text in and out; an empty answer is null.
    let note = data(
        service
            .invoke("echo.notes.postNote", json!({"body": "hi"}))
            .await,
    );
    assert_eq!(note, "noted: hi");
    assert_eq!(
        data(
            service
                .invoke("echo.items.deleteItem", json!({"id": 3}))
                .await
        ),
        Value::Null
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_come_back_by_code_and_never_show_the_secret() {
    let home = tempfile::tempdir().unwrap();
    let (service, _upstream) = service_with_echo(home.path()).await;

    let r = service
        .invoke("echo.items.getItem", json!({"id": "seven"}))
        .await;
    assert_eq!(r.0, 400);
    assert_eq!(error_code(&r), "invalid_input");
    assert!(
        r.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("property id"),
        "{}",
        r.1
    );
    assert_eq!(r.1["error"]["details"]["problems"][0]["pointer"], "/id");

    let r = service
        .invoke("echo.items.getItem", json!({"id": 1, "nope": 1}))
        .await;
    assert_eq!(error_code(&r), "invalid_input");

    let r = service
        .invoke("echo.items.createItem", json!({"count": -1}))
        .await;
    assert_eq!(error_code(&r), "invalid_input");

    let r = service.invoke("echo.items.nothing", json!({})).await;
    assert_eq!(r.0, 404);
    assert_eq!(error_code(&r), "tool_not_found");
    assert!(
        r.1["error"]["details"]["candidates"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{}",
        r.1
    );

    // The upstream's 500, its body kept, the credential it echoed redacted.
    let r = service.invoke("echo.fail.fail", json!({})).await;
    assert_eq!(r.0, 200);
    assert_eq!(error_code(&r), "upstream_http_error");
    assert_eq!(r.1["error"]["status"], 500);
    assert_eq!(r.1["error"]["details"]["body"]["error"], "boom");
    assert!(
        !r.1.to_string().contains(SECRET),
        "the secret leaked: {}",
        r.1
    );

    // Malformed JSON and oversized bodies.
    let http = support::service::http();
    let response = http
        .post(format!(
            "{}/api/tools/invoke/echo.items.getItem",
            service.url
        ))
        .bearer_auth(&service.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_input");
    let big = vec![b' '; 65 * 1024 * 1024];
    // Its own client: the service closes a connection whose body it
    // refused, so a pooled one would be stale for the next request.
    let response = support::service::http()
        .post(format!(
            "{}/api/tools/invoke/echo.items.getItem",
            service.url
        ))
        .bearer_auth(&service.token)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    // No token, wrong token, foreign Host, foreign Origin.
    let r = http
        .get(format!("{}/api/tools", service.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{}/api/tools", service.url))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{}/api/tools", service.url))
        .bearer_auth(&service.token)
        .header("Host", "evil.example:80")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .get(format!("{}/api/tools", service.url))
        .bearer_auth(&service.token)
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .get(format!("{}/api/health", service.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "health needs no token");

    // Nothing of it reached the store, and no route shows the secret.
    let (_, sources) = service.get("/api/sources").await;
    assert_eq!(sources["data"][0]["headers"], json!(["X-Api-Key"]));
    assert!(!sources.to_string().contains(SECRET));
    let db = service.stored();
    assert!(
        !db.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "the secret is stored in clear"
    );

    // Specs that fail to load leave what is stored alone.
    for (spec, needle) in [
        (
            json!("{\"not\": \"openapi\"}"),
            "not an OpenAPI description",
        ),
        (
            json!("/no/such/file.yaml"),
            "cannot read /no/such/file.yaml",
        ),
        (json!("relative.yaml"), "absolute file path"),
    ] {
        let r = service
            .invoke(
                "executor.openapi.addSource",
                json!({"spec": spec, "namespace": "echo"}),
            )
            .await;
        assert_eq!(error_code(&r), "invalid_input");
        assert!(
            r.1["error"]["message"].as_str().unwrap().contains(needle),
            "{}",
            r.1
        );
    }
    let r = service
        .invoke(
            "executor.openapi.addSource",
            json!({"spec": echo_spec(), "namespace": "a.b"}),
        )
        .await;
    assert_eq!(error_code(&r), "invalid_input");
    assert_eq!(
        data(service.invoke("echo.items.getItem", json!({"id": 2})).await)["path"],
        "/v1/items/2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_upstreams_and_relative_servers_are_explained() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    // No baseUrl and relative servers: the call says what to do.
    data(
        service
            .invoke(
                "executor.openapi.addSource",
                json!({"spec": echo_spec(), "namespace": "rel"}),
            )
            .await,
    );
    let r = service.invoke("rel.items.getItem", json!({"id": 1})).await;
    assert_eq!(error_code(&r), "upstream_unreachable");
    assert!(
        r.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("baseUrl"),
        "{}",
        r.1
    );
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    data(
        service
            .invoke(
                "executor.openapi.addSource",
                json!({"spec": echo_spec(), "namespace": "gone", "baseUrl": format!("http://127.0.0.1:{closed}/v1")}),
            )
            .await,
    );
    let r = service.invoke("gone.items.getItem", json!({"id": 1})).await;
    assert_eq!(error_code(&r), "upstream_unreachable");
    assert!(
        r.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("refused the connection"),
        "{}",
        r.1
    );
    drop(service);

    // An upstream that never answers, with the timeout shortened.
    let upstream = start_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start_with_env(home.path(), &[("EXECUTOR_UPSTREAM_TIMEOUT", "1")]);
    data(
        service
            .invoke(
                "executor.openapi.addSource",
                json!({"spec": echo_spec(), "namespace": "echo", "baseUrl": format!("{upstream}/v1")}),
            )
            .await,
    );
    let r = service.invoke("echo.slow.slow", json!({})).await;
    assert_eq!(error_code(&r), "upstream_unreachable");
    assert!(
        r.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did not answer within 1 s"),
        "{}",
        r.1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_calls_browses_and_searches() {
    let home = tempfile::tempdir().unwrap();
    let (service, _upstream) = service_with_echo(home.path()).await;

    let out = service.cli(&["call", "echo", "items", "getItem", r#"{"id": 5}"#]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let echo: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(echo["path"], "/v1/items/5");

    let input_file = home.path().join("input.json");
    std::fs::write(&input_file, r#"{"name": "from-file"}"#).unwrap();
    let out = service.cli(&[
        "call",
        "echo.items.createItem",
        &format!("@{}", input_file.display()),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let envelope: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(envelope["ok"], true);
    assert!(
        envelope["data"]["body"]
            .as_str()
            .unwrap()
            .contains("from-file")
    );

    let out = service.cli_with_stdin(
        &["call", "echo", "notes", "postNote", "-"],
        Some(r#"{"body": "piped"}"#),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        "noted: piped"
    );

    // A tool's failure: exit 1, the code on stderr.
    let out = service.cli(&["call", "echo", "items", "getItem", r#"{"id": "x"}"#]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("invalid_input"),
        "{}",
        text(&out.stderr)
    );
    let out = service.cli(&["call", "echo", "items", "getItem", "{not json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not JSON"),
        "{}",
        text(&out.stderr)
    );

    // Browsing.
    let out = service.cli(&["call", "echo", "items", "--help"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    for needle in ["echo.items: 3 tools", "getItem", "createItem", "deleteItem"] {
        assert!(listing.contains(needle), "{listing}");
    }
    let out = service.cli(&["call", "echo", "items", "getItem", "--help"]);
    let usage = text(&out.stdout);
    for needle in [
        "echo.org.main.items.getItem",
        "inputs:",
        "id",
        "required",
        "X-Trace",
        "executor call echo items getItem",
    ] {
        assert!(usage.contains(needle), "{usage}");
    }

    // Sources, search, describe.
    let out = service.cli(&["tools", "sources"]);
    let sources = text(&out.stdout);
    assert!(
        sources.contains("echo") && sources.contains("12"),
        "{sources}"
    );
    let out = service.cli(&["tools", "search", "upload a file", "--json"]);
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits[0]["path"], "echo.org.main.uploads.upload", "{hits}");
    let out = service.cli(&["tools", "describe", "echo.items.createItem", "--json"]);
    let described: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(described["input"]["required"], json!(["name"]));
    assert_eq!(
        described["input"]["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_survive_sigkill_and_generate_reads_them_offline() {
    let home = tempfile::tempdir().unwrap();
    let (service, upstream) = service_with_echo(home.path()).await;
    let (_, before) = service.get("/api/tools?namespace=echo&limit=100").await;
    let url = service.url.clone();

    // While the service runs, `executor generate` reads the store offline and
    // writes what GET /api/tools/export/openapi serves.
    let out_file = home.path().join("export.json");
    let out = service.cli(&[
        "generate",
        "--server-url",
        &url,
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let served = support::service::http()
        .get(format!("{url}/api/tools/export/openapi"))
        .bearer_auth(&service.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), served);
    let document: Value = serde_json::from_str(&served).unwrap();
    assert!(document["paths"]["/api/tools/invoke/echo.org.main.items.getItem"].is_object());
    let r = support::service::http()
        .get(format!("{url}/api/tools/export/openapi"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the export needs the token");

    // The 3.0.3 export, the same from the CLI and the service.
    let out_file = home.path().join("export30.json");
    let out = service.cli(&[
        "generate",
        "--openapi",
        "3.0",
        "--server-url",
        &url,
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let export30 = |version: &'static str| {
        support::service::http()
            .get(format!("{url}/api/tools/export/openapi?version={version}"))
            .bearer_auth(&service.token)
            .send()
    };
    let served30 = export30("3.0").await.unwrap().text().await.unwrap();
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), served30);
    let document: Value = serde_json::from_str(&served30).unwrap();
    assert_eq!(document["openapi"], "3.0.3");
    assert!(document["paths"]["/api/tools/invoke/echo.org.main.items.getItem"]["post"].is_object());
    let refused = export30("2.0").await.unwrap();
    assert_eq!(refused.status(), 400);
    let refused: Value = refused.json().await.unwrap();
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3.1 (the default) or 3.0"),
        "{refused}"
    );

    service.kill();
    let service = Service::start(home.path());
    let (_, after) = service.get("/api/tools?namespace=echo&limit=100").await;
    assert_eq!(before["data"], after["data"]);
    // The stored secret still decrypts after the restart.
    let echo = data(service.invoke("echo.items.getItem", json!({"id": 9})).await);
    let reversed: String = SECRET.chars().rev().collect();
    assert_eq!(echo["headers"]["x-api-key-reversed"], reversed);
    drop(upstream);

    // Removing a source takes its tools away, and that survives too.
    let removed = data(
        service
            .invoke("executor.sources.remove", json!({"namespace": "echo"}))
            .await,
    );
    assert_eq!(removed, json!({"namespace": "echo", "tools": 12}));
    service.kill();
    let service = Service::start(home.path());
    let r = service.invoke("echo.items.getItem", json!({"id": 1})).await;
    assert_eq!(error_code(&r), "tool_not_found");
}

#[test]
fn the_cli_starts_the_service_by_itself_and_stops_it() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(support::service::EXE)
            .args(args)
            .env("EXECUTOR_HOME", home.path())
            .env("EXECUTOR_PORT", "0")
            .output()
            .unwrap()
    };
    let out = run(&["daemon", "status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("not running"));

    let out = run(&["tools", "sources"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("starting it in the background"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("no sources yet"));
    let token = std::fs::metadata(home.path().join("token")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(token.permissions().mode() & 0o777, 0o600);

    let out = run(&["daemon", "status"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("running at http://127.0.0.1:"));
    let out = run(&["tools", "sources"]);
    assert!(
        !text(&out.stderr).contains("starting"),
        "a running service is reused"
    );

    let out = run(&["daemon", "stop"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["daemon", "status"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_taken_port_is_reported_clearly() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(support::service::EXE)
        .args(["daemon", "run", "--port", &port])
        .env("EXECUTOR_HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(&format!("127.0.0.1:{port} is already in use")),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_from_urls_refresh_page_and_export_by_integration() {
    let upstream = start_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    // From a URL, without baseUrl: the relative server `/v1` resolves
    // against the spec's own URL.
    let spec_url = format!("{upstream}/specs/echo.yaml");
    let report = data(
        service
            .invoke(
                "executor.openapi.addSource",
                json!({"spec": spec_url, "namespace": "web"}),
            )
            .await,
    );
    assert_eq!(report["baseUrl"], format!("{upstream}/v1"));
    let echo = data(service.invoke("web.items.getItem", json!({"id": 4})).await);
    assert_eq!(echo["path"], "/v1/items/4");

    // Inline text, then refresh: the same tools come back.
    let text = std::fs::read_to_string(echo_spec()).unwrap();
    data(
        service
            .invoke(
                "executor.openapi.addSource",
                json!({"spec": text, "namespace": "inline", "baseUrl": format!("{upstream}/v1")}),
            )
            .await,
    );
    let refreshed = data(
        service
            .invoke("executor.sources.refresh", json!({"namespace": "web"}))
            .await,
    );
    assert_eq!(refreshed["tools"], 12);
    let refreshed = data(
        service
            .invoke("executor.sources.refresh", json!({"namespace": "inline"}))
            .await,
    );
    assert_eq!(refreshed["tools"], 12);
    let r = service
        .invoke("executor.sources.refresh", json!({"namespace": "nope"}))
        .await;
    assert_eq!(error_code(&r), "invalid_input");
    assert!(
        r.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("inline, web"),
        "{}",
        r.1
    );

    let listed = data(service.invoke("executor.sources.list", json!({})).await);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["inline", "web"]);

    // Paging through a namespace gives every tool once.
    let mut seen = Vec::new();
    let mut offset = Some(0);
    while let Some(o) = offset {
        let page = data(
            service
                .get(&format!("/api/tools?namespace=web&limit=5&offset={o}"))
                .await,
        );
        assert_eq!(page["total"], 12);
        for tool in page["tools"].as_array().unwrap() {
            seen.push(tool["path"].as_str().unwrap().to_owned());
        }
        offset = page["nextOffset"].as_u64();
    }
    assert_eq!(seen.len(), 12);
    seen.dedup();
    assert_eq!(seen.len(), 12);

    // The export, whole and for one integration.
    let http = support::service::http();
    let export = |query: &str| {
        http.get(format!("{}/api/tools/export/openapi{query}", service.url))
            .bearer_auth(&service.token)
            .send()
    };
    let r = export("").await.unwrap();
    assert_eq!(r.status(), 200);
    let whole: Value = r.json().await.unwrap();
    assert_eq!(
        whole["paths"].as_object().unwrap().len(),
        12 + 12 + BUILTIN_TOOLS,
        "two sources and the built-in tools"
    );
    let one: Value = export("?integration=web")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths: Vec<&String> = one["paths"].as_object().unwrap().keys().collect();
    assert_eq!(paths.len(), 12);
    assert!(
        paths
            .iter()
            .all(|p| p.starts_with("/api/tools/invoke/web."))
    );
    assert_eq!(export("?integration=nope").await.unwrap().status(), 404);
}

/// Sources added at once are all in the live catalog once every add has
/// answered: reloads take turns. (Before, a reload that had read fewer
/// sources could swap its catalog in after one that had read more, and
/// a source was missing from listings and calls until the next reload.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_added_at_once_are_all_in_the_live_catalog() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    // Rounds of eight: the old race showed in about one round of four.
    for round in 0..6 {
        let names: Vec<String> = (0..8).map(|i| format!("echo{round}x{i}")).collect();
        let adds = names.iter().map(|name| {
            service.invoke(
                "executor.openapi.addSource",
                json!({
                    "spec": echo_spec(),
                    "namespace": name,
                    "baseUrl": "http://127.0.0.1:9/v1",
                }),
            )
        });
        for answer in futures::future::join_all(adds).await {
            data(answer);
        }
        for name in &names {
            let listed = data(service.get(&format!("/api/tools?namespace={name}")).await);
            assert_eq!(listed["total"], 12, "round {round}, {name}: {listed}");
        }
    }
}

/// SIGTERM (a deploy, `systemctl stop`) stops taking requests but lets the
/// calls in flight finish: a call that is waiting on its upstream when the
/// signal comes still gets its answer, and the service then exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_service_finishes_the_calls_in_flight() {
    let upstream = support::service::serve(axum::Router::new().route(
        "/wait",
        axum::routing::get(|| async {
            tokio::time::sleep(std::time::Duration::from_millis(800)).await;
            axum::Json(json!({"waited": true}))
        }),
    ))
    .await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let spec = json!({
        "openapi": "3.1.0",
        "info": {"title": "slow", "version": "1"},
        "paths": {"/wait": {"get": {"operationId": "wait", "responses": {"200": {
            "description": "after a while",
            "content": {"application/json": {"schema": {"type": "object"}}}}}}}}
    });
    service
        .add_openapi(json!({"spec": spec.to_string(), "namespace": "slow", "baseUrl": upstream}))
        .await;
    let url = format!("{}/api/tools/invoke/slow.wait.wait", service.url);
    let token = service.token.clone();
    let in_flight = tokio::spawn(async move {
        support::service::http()
            .post(url)
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &service.pid().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let answer = in_flight.await.unwrap();
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["data"]["waited"], true, "{answer}");
    assert!(service.wait_exit().success(), "a clean exit");
}
