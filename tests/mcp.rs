//! The `/mcp` endpoint driven by the official MCP TypeScript SDK client
//! (`@modelcontextprotocol/sdk`): tools listed with their schemas and
//! annotations, called from an OpenAPI source, failures as `isError`
//! results, the discovery view, the token, and `tools/list_changed`.

mod support;

use std::process::Command;

use serde_json::{Value, json};
use support::service::{BUILTIN_TOOLS, NodeServer, Service, start_upstream, text};

fn sdk(url: &str, token: &str, steps: Value) -> Value {
    support::service::sdk(url, token, "none", steps)
}

async fn service_with_echo(home: &std::path::Path) -> (Service, String) {
    let upstream = start_upstream().await;
    let service = Service::start(home);
    service.add_echo(&upstream).await;
    (service, upstream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_lists_and_calls_catalog_tools() {
    let home = tempfile::tempdir().unwrap();
    let (service, _upstream) = service_with_echo(home.path()).await;
    let url = format!("{}/mcp", service.url);
    let out = sdk(
        &url,
        &service.mcp_token,
        json!([
            {"list": true},
            {"call": "echo.org.main.items.getItem", "arguments": {"id": 5, "tags": ["a"]}},
            {"call": "echo.org.main.items.getItem", "arguments": {"id": "five"}},
            {"call": "echo.org.main.fail.fail"},
            {"call": "echo.org.main.nope"},
            {"call": "executor.org.main.sources.list"}
        ]),
    );
    let results = out["results"].as_array().unwrap();
    let tools = results[0]["tools"].as_array().unwrap();
    assert_eq!(
        tools.len(),
        12 + BUILTIN_TOOLS,
        "the echo tools and the built-in ones"
    );
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "tools/list is in path order");
    let get_item = tools
        .iter()
        .find(|t| t["name"] == "echo.org.main.items.getItem")
        .unwrap();
    assert_eq!(get_item["inputSchema"]["required"], json!(["id"]));
    assert_eq!(
        get_item["inputSchema"]["properties"]["id"]["type"],
        "integer"
    );
    assert_eq!(get_item["outputSchema"]["type"], "object");
    assert_eq!(get_item["annotations"]["readOnlyHint"], true);
    let delete = tools
        .iter()
        .find(|t| t["name"] == "echo.org.main.items.deleteItem")
        .unwrap();
    assert_eq!(delete["annotations"]["destructiveHint"], true);

    let ok = &results[1];
    assert_eq!(ok["isError"], false, "{ok}");
    assert_eq!(ok["structuredContent"]["ok"], true);
    assert_eq!(ok["structuredContent"]["data"]["path"], "/v1/items/5");
    let text_copy: Value =
        serde_json::from_str(ok["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text_copy, ok["structuredContent"]);

    let invalid = &results[2];
    assert_eq!(invalid["isError"], true, "{invalid}");
    assert_eq!(
        invalid["structuredContent"]["error"]["code"],
        "invalid_input"
    );
    let upstream_error = &results[3];
    assert_eq!(upstream_error["isError"], true);
    assert_eq!(
        upstream_error["structuredContent"]["error"]["code"],
        "upstream_http_error"
    );
    assert_eq!(upstream_error["structuredContent"]["error"]["status"], 500);
    // An unknown tool is the one protocol error.
    assert!(
        results[4]["thrown"]
            .as_str()
            .unwrap()
            .contains("unknown tool"),
        "{}",
        results[4]
    );
    assert_eq!(
        results[5]["structuredContent"]["data"][0]["namespace"],
        "echo"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_discovery_view_searches_describes_and_calls() {
    let home = tempfile::tempdir().unwrap();
    let (service, _upstream) = service_with_echo(home.path()).await;
    let url = format!("{}/mcp?tools=discover", service.url);
    let out = sdk(
        &url,
        &service.mcp_token,
        json!([
            {"list": true},
            {"call": "search", "arguments": {"query": "upload a file", "limit": 3}},
            {"call": "describe", "arguments": {"path": "echo.uploads.upload"}},
            {"call": "call", "arguments": {"path": "echo.items.getItem", "input": {"id": 8}}},
            {"call": "call", "arguments": {"path": "echo.items.nothing", "input": {}}}
        ]),
    );
    let results = out["results"].as_array().unwrap();
    let names: Vec<&str> = results[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["search", "describe", "call"]);
    assert_eq!(
        results[1]["structuredContent"]["data"]["tools"][0]["path"],
        "echo.org.main.uploads.upload"
    );
    let described = &results[2]["structuredContent"]["data"];
    assert_eq!(
        described["inputSchema"]["properties"]["file"]["contentEncoding"],
        "base64"
    );
    assert_eq!(
        results[3]["structuredContent"]["data"]["path"],
        "/v1/items/8"
    );
    assert_eq!(results[4]["isError"], true);
    assert_eq!(
        results[4]["structuredContent"]["error"]["code"],
        "tool_not_found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_needs_the_token_and_announces_new_tools() {
    let home = tempfile::tempdir().unwrap();
    let (service, upstream) = service_with_echo(home.path()).await;
    let url = format!("{}/mcp", service.url);
    let refused = sdk(&url, "-", json!([{"list": true}]));
    assert!(
        refused["connectError"]
            .as_str()
            .is_some_and(|e| e.contains("401") || e.to_lowercase().contains("unauthorized")),
        "{refused}"
    );

    let spec = support::fixtures()
        .join("service/echo.yaml")
        .display()
        .to_string();
    // The owner's token: this client also adds a source over REST.
    let out = sdk(
        &url,
        &service.token,
        json!([
            {"list": true},
            {"addSourceThenWait": {"spec": spec, "namespace": "second", "baseUrl": format!("{upstream}/v1")}},
            {"list": true}
        ]),
    );
    let results = out["results"].as_array().unwrap();
    assert_eq!(results[1]["added"], true);
    assert!(
        results[1]["listChanged"].as_u64().unwrap() >= 1,
        "no tools/list_changed: {}",
        results[1]
    );
    assert_eq!(
        results[2]["tools"].as_array().unwrap().len(),
        12 + 12 + BUILTIN_TOOLS
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_mcp_serves_stdio_through_the_service() {
    let home = tempfile::tempdir().unwrap();
    let (service, _upstream) = service_with_echo(home.path()).await;
    let script = support::repo_root().join("tests/node/mcp-stdio-client.mjs");
    let steps = json!([
        {"list": true},
        {"call": "echo.org.main.items.getItem", "arguments": {"id": 11}},
        {"call": "echo.org.main.items.getItem", "arguments": {}}
    ]);
    let out = Command::new("node")
        .arg(script)
        .args([
            support::service::EXE,
            home.path().to_str().unwrap(),
            &steps.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let out: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = out["results"].as_array().unwrap();
    assert_eq!(
        results[0]["tools"].as_array().unwrap().len(),
        12 + BUILTIN_TOOLS
    );
    assert_eq!(
        results[1]["structuredContent"]["data"]["path"], "/v1/items/11",
        "{}",
        results[1]
    );
    assert_eq!(results[2]["isError"], true);
    assert_eq!(
        results[2]["structuredContent"]["error"]["code"],
        "invalid_input"
    );
    // The service it used is the one already running (no second start).
    assert!(
        !out["stderr"].as_str().unwrap().contains("starting it"),
        "{}",
        out["stderr"]
    );
    drop(service);
}

fn everything() -> String {
    support::repo_root()
        .join("tests/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js")
        .display()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_mcp_servers_over_stdio_and_http_join_the_catalog() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());

    // The reference server as a stdio child process, with a secret in its environment.
    let r = service
        .invoke(
            "executor.mcp.addSource",
            json!({"namespace": "everything", "command": "node", "args": [everything(), "stdio"], "env": {"EVERYTHING_TOKEN": "env-secret-123"}}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    assert!(r.1["data"]["tools"].as_u64().unwrap() >= 5, "{}", r.1);

    let r = service
        .invoke("everything.echo", json!({"message": "hi"}))
        .await;
    assert_eq!(r.1["data"], "Echo: hi", "{}", r.1);
    let r = service
        .invoke("everything.get-sum", json!({"a": 2, "b": 3}))
        .await;
    assert!(r.1["data"].as_str().unwrap().contains('5'), "{}", r.1);
    let r = service
        .invoke(
            "everything.get-structured-content",
            json!({"location": "Chicago"}),
        )
        .await;
    assert!(r.1["data"]["temperature"].is_number(), "{}", r.1);
    // The environment reached the child; the catalog validated the input first.
    let r = service.invoke("everything.get-env", json!({})).await;
    assert!(
        r.1["data"].as_str().unwrap().contains("env-secret-123"),
        "{}",
        r.1
    );
    let r = service
        .invoke("everything.get-sum", json!({"a": "two"}))
        .await;
    assert_eq!(r.1["error"]["code"], "invalid_input", "{}", r.1);
    let (_, sources) = service.get("/api/sources").await;
    assert!(!sources.to_string().contains("env-secret-123"));
    let db = service.stored();
    assert!(
        !db.windows(14).any(|w| w == b"env-secret-123"),
        "the env secret is stored in clear"
    );

    // The same server over streamable HTTP.
    let http_server = NodeServer::everything_http(0);
    let r = service
        .invoke(
            "executor.mcp.addSource",
            json!({"namespace": "remote", "url": http_server.url}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    let r = service
        .invoke("remote.echo", json!({"message": "over http"}))
        .await;
    assert_eq!(r.1["data"], "Echo: over http", "{}", r.1);

    // Proxied again through executor's own /mcp, to the official SDK client.
    let out = sdk(
        &format!("{}/mcp", service.url),
        &service.mcp_token,
        json!([
            {"call": "everything.org.main.echo", "arguments": {"message": "via mcp"}},
            {"call": "remote.org.main.get-sum", "arguments": {"a": 40, "b": 2}}
        ]),
    );
    let results = out["results"].as_array().unwrap();
    assert_eq!(
        results[0]["structuredContent"]["data"], "Echo: via mcp",
        "{}",
        results[0]
    );
    assert!(
        results[1]["structuredContent"]["data"]
            .as_str()
            .unwrap()
            .contains("42"),
        "{}",
        results[1]
    );

    // A crashed upstream is reconnected on the next call.
    let port = http_server.port();
    drop(http_server);
    let r = service
        .invoke("remote.echo", json!({"message": "gone"}))
        .await;
    assert_eq!(r.1["ok"], false, "{}", r.1);
    let http_server = NodeServer::everything_http(port);
    let r = service
        .invoke("remote.echo", json!({"message": "back"}))
        .await;
    assert_eq!(r.1["data"], "Echo: back", "{}", r.1);
    drop(http_server);

    // Restart: the MCP sources come back from the store and reconnect on use.
    service.kill();
    let service = Service::start(home.path());
    let r = service
        .invoke("everything.echo", json!({"message": "after restart"}))
        .await;
    assert_eq!(r.1["data"], "Echo: after restart", "{}", r.1);
}

/// The stateless 2026-07-28 revision (`server/discover`, no sessions),
/// spoken by rmcp's own client, and the 2025-11-25 handshake beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_protocol_lifecycles_work() {
    use rmcp::model::{CallToolRequestParams, ProtocolVersion};
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    use rmcp::{ClientLifecycleMode, ClientServiceExt};

    runtime::install_crypto_provider();
    let home = tempfile::tempdir().unwrap();
    let (service, _upstream) = service_with_echo(home.path()).await;
    for (lifecycle, expected) in [
        (
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
            ProtocolVersion::V_2026_07_28,
        ),
        (
            ClientLifecycleMode::Initialize,
            ProtocolVersion::V_2025_11_25,
        ),
    ] {
        let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", service.url))
            .auth_header(service.mcp_token.clone());
        let client = ()
            .serve_with_lifecycle(
                StreamableHttpClientTransport::from_config(config),
                lifecycle,
            )
            .await
            .unwrap();
        let info = client
            .peer()
            .peer_info()
            .expect("the server described itself");
        assert_eq!(info.protocol_version, expected);
        let tools = client.peer().list_all_tools().await.unwrap();
        assert_eq!(tools.len(), 12 + BUILTIN_TOOLS, "{expected:?}");
        let arguments = serde_json::json!({"id": 3}).as_object().unwrap().clone();
        let result = client
            .peer()
            .call_tool(
                CallToolRequestParams::new("echo.org.main.items.getItem").with_arguments(arguments),
            )
            .await
            .unwrap();
        assert_eq!(
            result.structured_content.unwrap()["data"]["path"],
            "/v1/items/3",
            "{expected:?}"
        );
        client.cancel().await.unwrap();
    }
}

/// A 2026-07-28 client has no session to hear `list_changed` on: it opens
/// `subscriptions/listen`, and a source added meanwhile reaches it there,
/// tagged with its subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_clients_hear_of_new_tools_on_a_subscription() {
    use rmcp::model::{ServerNotification, SubscriptionFilter};

    let home = tempfile::tempdir().unwrap();
    let (service, upstream) = service_with_echo(home.path()).await;
    let client =
        support::service::stateless_client((), &service.url, "/mcp", &service.mcp_token).await;
    let mut wanted = SubscriptionFilter::new();
    wanted.tools_list_changed = Some(true);
    wanted.prompts_list_changed = Some(true);
    let mut subscription = client.peer().listen(wanted).await.unwrap();
    // Only the tool list is offered: prompts change upstream, unseen.
    assert_eq!(subscription.acknowledged().tools_list_changed, Some(true));
    assert_eq!(subscription.acknowledged().prompts_list_changed, None);

    service
        .add_openapi(json!({
            "spec": support::fixtures().join("service/echo.yaml").display().to_string(),
            "namespace": "second",
            "baseUrl": format!("{upstream}/v1"),
        }))
        .await;
    let heard = tokio::time::timeout(std::time::Duration::from_secs(10), subscription.next())
        .await
        .expect("no notification within 10 s")
        .unwrap()
        .expect("the subscription ended");
    assert!(
        matches!(heard, ServerNotification::ToolListChangedNotification(_)),
        "{heard:?}"
    );
    let tools = client.peer().list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 12 + 12 + BUILTIN_TOOLS);
    subscription.cancel().await.unwrap();
    client.cancel().await.unwrap();
}

/// An upstream that announces a new tool: executor lists it again by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_list_changes_reach_the_catalog() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let fixture = support::repo_root()
        .join("tests/node/mcp-fixture-server.mjs")
        .display()
        .to_string();
    let r = service
        .invoke(
            "executor.mcp.addSource",
            json!({"namespace": "grow", "command": "node", "args": [fixture]}),
        )
        .await;
    assert_eq!(r.1["data"]["tools"], 1, "{}", r.1);
    service.allow("grow.*").await;
    let r = service.invoke("grow.grow", json!({})).await;
    assert_eq!(r.1["data"], "grown-1", "{}", r.1);
    let started = std::time::Instant::now();
    loop {
        let r = service.invoke("grow.grown-1", json!({"x": 7})).await;
        if r.1["ok"] == true {
            assert_eq!(r.1["data"], "grown-1: 7");
            break;
        }
        assert!(
            started.elapsed().as_secs() < 10,
            "the new tool never appeared: {}",
            r.1
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A remote server that only speaks the legacy HTTP+SSE transport: adding it
/// by URL falls back from streamable HTTP, with its headers sent on both
/// the stream and the messages, and its tools are called through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_sse_servers_are_reached_by_falling_back() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let server = support::service::NodeServer::start("mcp-sse-server.mjs");
    let base = server.url.clone();

    let r = service
        .invoke(
            "executor.mcp.addSource",
            json!({"namespace": "legacy", "url": format!("{base}/sse"), "headers": {"x-api-key": "wrong"}}),
        )
        .await;
    assert_eq!(r.1["error"]["code"], "upstream_unreachable", "{}", r.1);
    let message = r.1["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("streamable HTTP") && message.contains("legacy SSE"),
        "{message}"
    );

    let r = service
        .invoke(
            "executor.mcp.addSource",
            json!({"namespace": "legacy", "url": format!("{base}/sse"), "headers": {"x-api-key": "fixture-key"}}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    assert_eq!(r.1["data"]["tools"], 1);
    service.allow("legacy.*").await;
    let r = service
        .invoke("legacy.shout", json!({"word": "quiet"}))
        .await;
    assert_eq!(r.1["data"], "QUIET", "{}", r.1);
}

/// MCP authorization for an upstream: the SDK's own example server with
/// `--oauth` (protected resource metadata, dynamic client registration,
/// PKCE, its demo authorization server). Adding it returns a sign-in URL;
/// following it ends on executor's callback, which indexes the source; the
/// tokens are sealed in the store and still work after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_servers_that_need_authorization_are_signed_in() {
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (mcp_port, auth_port) = (free(), free());
    let example = support::repo_root().join(
        "tests/node/node_modules/@modelcontextprotocol/sdk/dist/esm/examples/server/simpleStreamableHttp.js",
    );
    let mut server = Command::new("node")
        .arg(example)
        .arg("--oauth")
        .env("MCP_PORT", mcp_port.to_string())
        .env("MCP_AUTH_PORT", auth_port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    for port in [mcp_port, auth_port] {
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed().as_secs() < 20,
                "the example server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let r = service
        .invoke(
            "executor.mcp.addSource",
            json!({"namespace": "secured", "url": format!("http://localhost:{mcp_port}/mcp")}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    assert_eq!(r.1["data"]["tools"], 0);
    let url = r.1["data"]["authorizationUrl"].as_str().unwrap().to_owned();
    assert!(url.contains("code_challenge="), "{url}");

    let page = support::service::http().get(&url).send().await.unwrap();
    let status = page.status();
    let page = page.text().await.unwrap();
    let log = || std::fs::read_to_string(home.path().join("test-service.log")).unwrap_or_default();
    assert_eq!(status, 200, "{page}\n{}", log());
    assert!(page.contains("Source secured is added"), "{page}");

    service.allow("secured.*").await;
    let r = service
        .invoke("secured.greet", json!({"name": "Ada"}))
        .await;
    assert_eq!(r.1["data"], "Hello, Ada!", "{}", r.1);
    let (_, listed) = service.get("/api/connections").await;
    assert_eq!(listed["data"][0]["auth"]["type"], "mcp_oauth", "{listed}");

    // After a restart the stored tokens open a new session.
    service.kill();
    let service = Service::start(home.path());
    let r = service
        .invoke("secured.greet", json!({"name": "again"}))
        .await;
    assert_eq!(r.1["data"], "Hello, again!", "{}", r.1);

    let _ = server.kill();
    let _ = server.wait();
}
