//! Policies and approvals, end to end against the real binary: rules
//! managed over the API and the CLI, enforced on REST, the CLI, MCP (the
//! official SDK client and rmcp's) and the generated TypeScript client;
//! paused calls that survive SIGKILL and reach the upstream exactly once.
//!
//! The decision table itself (patterns, order, defaults) is unit-tested in
//! `runtime/src/policy.rs`.

mod support;

use std::process::Command;

use serde_json::{Value, json};
use support::service::{Seen, Service, sdk, start_recording_upstream, text};

/// The service with the echo API as a source, calls recorded upstream. No
/// policy rule: every tool follows its default.
async fn service_with_echo(home: &std::path::Path, env: &[(&str, &str)]) -> (Service, Seen) {
    let (upstream, seen) = start_recording_upstream().await;
    let service = Service::start_with_env(home, env);
    service.add_echo(&upstream).await;
    (service, seen)
}

fn count(seen: &Seen, line: &str) -> usize {
    seen.lock().unwrap().iter().filter(|l| *l == line).count()
}

fn paused(response: &(u16, Value)) -> (String, Value) {
    assert_eq!(response.0, 200, "{}", response.1);
    let error = &response.1["error"];
    assert_eq!(error["code"], "execution_paused", "{}", response.1);
    let id = error["executionId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("exec_"), "{id}");
    (id, error.clone())
}

async fn resume(service: &Service, id: &str, action: &str) -> (u16, Value) {
    service
        .post(
            &format!("/api/executions/{id}/resume"),
            json!({ "action": action }),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_pause_writes_and_resume_runs_them_once() {
    let home = tempfile::tempdir().unwrap();
    let (service, seen) = service_with_echo(home.path(), &[]).await;

    // A read runs; a write pauses with resume coordinates and does not
    // reach the upstream.
    let read = service.invoke("echo.items.getItem", json!({"id": 1})).await;
    assert_eq!(read.1["ok"], true, "{}", read.1);
    let write = service
        .invoke("echo.items.createItem", json!({"name": "first"}))
        .await;
    let (id, error) = paused(&write);
    assert_eq!(error["resumePath"], format!("/api/executions/{id}/resume"));
    assert_eq!(error["approvalUrl"], format!("{}/resume/{id}", service.url));
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(&format!("executor resume --execution-id {id}")),
        "{error}"
    );
    assert_eq!(count(&seen, "POST /v1/items"), 0);

    // The pause is listed with its arguments; the approval page shows it.
    let (status, listed) = service.get("/api/executions?state=paused").await;
    assert_eq!(status, 200);
    let listed = listed["data"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["toolPath"], "echo.org.main.items.createItem");
    assert_eq!(listed[0]["input"], json!({"name": "first"}));
    assert_eq!(listed[0]["state"], "paused");
    let page = support::service::http()
        .get(error["approvalUrl"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    // Signed out (no browser session), the approval page shows no
    // arguments, only how to answer (the web UI test signs in).
    assert_eq!(page.status(), 401);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(&format!("executor resume --execution-id {id}")) && !page.contains("first"),
        "{page}"
    );

    // Accept runs it once; answering again gives the same outcome and
    // never calls the upstream again, whatever the answer.
    let first = resume(&service, &id, "accept").await;
    assert_eq!(first.0, 200);
    assert_eq!(first.1["ok"], true, "{}", first.1);
    assert_eq!(first.1["data"]["method"], "POST");
    assert_eq!(first.1["data"]["body"], r#"{"name":"first"}"#);
    for action in ["accept", "decline"] {
        let again = resume(&service, &id, action).await;
        assert_eq!(again.1, first.1, "{action}");
    }
    assert_eq!(count(&seen, "POST /v1/items"), 1);
    let (_, execution) = service.get(&format!("/api/executions/{id}")).await;
    assert_eq!(execution["data"]["state"], "completed");
    assert_eq!(execution["data"]["result"], first.1);

    // Decline refuses it, for good.
    let write = service
        .invoke("echo.items.deleteItem", json!({"id": 2}))
        .await;
    let (id, _) = paused(&write);
    let declined = resume(&service, &id, "decline").await;
    assert_eq!(
        declined.1["error"]["code"], "approval_declined",
        "{}",
        declined.1
    );
    let again = resume(&service, &id, "accept").await;
    assert_eq!(again.1, declined.1);
    assert_eq!(count(&seen, "DELETE /v1/items/2"), 0);

    // Bad requests say what is wrong.
    let (status, body) = resume(&service, "exec_nope", "accept").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "invalid_input");
    let (status, body) = resume(&service, &id, "maybe").await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("accept")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_from_the_cli_allow_pause_and_block_in_order() {
    let home = tempfile::tempdir().unwrap();
    let (service, seen) = service_with_echo(home.path(), &[]).await;
    let policies = |args: &[&str]| {
        let mut all = vec!["policies"];
        all.extend_from_slice(args);
        let out = service.cli(&all);
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };

    // Block a subtree: gone from listings, search, export and generate;
    // calls answer tool_blocked, on REST and on the CLI.
    let (code, stdout, stderr) = policies(&["add", "echo.*.*.items.*", "block"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("echo.*.*.items.*") && stdout.contains("block"),
        "{stdout}"
    );
    let (_, tools) = service.get("/api/tools?namespace=echo&limit=100").await;
    let paths: Vec<&str> = tools["data"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 12 - 3, "{paths:?}");
    assert!(!paths.iter().any(|p| p.contains(".items.")), "{paths:?}");
    let (_, found) = service.get("/api/tools?q=item").await;
    assert!(
        !found.to_string().contains("echo.org.main.items."),
        "{found}"
    );
    let export = support::service::http()
        .get(format!("{}/api/tools/export/openapi", service.url))
        .bearer_auth(&service.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(export.contains("echo.org.main.things.putThing"));
    assert!(
        !export.contains("echo.org.main.items."),
        "blocked tools are exported"
    );
    let generated = home.path().join("generated.json");
    let out = service.cli(&["generate", "-o", generated.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let generated = std::fs::read_to_string(&generated).unwrap();
    assert!(!generated.contains("echo.org.main.items."));
    assert!(generated.contains("executor.org.main.policies.add"));

    let blocked = service.invoke("echo.items.getItem", json!({"id": 1})).await;
    assert_eq!(blocked.1["error"]["code"], "tool_blocked", "{}", blocked.1);
    assert!(
        blocked.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("executor policies"),
        "{}",
        blocked.1
    );
    let out = service.cli(&["call", "echo", "items", "getItem", r#"{"id": 1}"#]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("tool_blocked"),
        "{}",
        text(&out.stderr)
    );

    // A rule placed first wins over the block; moved after it, it loses.
    let (code, _, stderr) = policies(&["add", "echo.items.getItem", "allow", "--position", "1"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (_, listed) = service.get("/api/policies").await;
    let rules = listed["data"].as_array().unwrap().clone();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0]["pattern"], "echo.items.getItem");
    assert_eq!(rules[0]["position"], 1);
    assert_eq!(rules[1]["pattern"], "echo.*.*.items.*");
    let allow_id = rules[0]["id"].as_str().unwrap().to_owned();
    let block_id = rules[1]["id"].as_str().unwrap().to_owned();
    let read = service.invoke("echo.items.getItem", json!({"id": 3})).await;
    assert_eq!(read.1["ok"], true, "{}", read.1);
    let write = service
        .invoke("echo.items.createItem", json!({"name": "x"}))
        .await;
    assert_eq!(write.1["error"]["code"], "tool_blocked");

    let (code, stdout, _) = policies(&["move", &allow_id, "2"]);
    assert_eq!(code, Some(0));
    let first_row = stdout.lines().nth(1).unwrap_or_default();
    assert!(first_row.contains(&block_id), "{stdout}");
    let read = service.invoke("echo.items.getItem", json!({"id": 3})).await;
    assert_eq!(read.1["error"]["code"], "tool_blocked", "{}", read.1);

    // `list --json` gives the rules; removing them restores the defaults.
    let (_, stdout, _) = policies(&["list", "--json"]);
    let listed: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed[0]["id"], block_id.as_str());
    for id in [&block_id, &allow_id] {
        let (code, _, stderr) = policies(&["remove", id]);
        assert_eq!(code, Some(0), "{stderr}");
    }
    let (code, stdout, _) = policies(&["list"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("no policies"), "{stdout}");

    // Require approval by rule, even for a read; the CLI without a terminal
    // exits 4 and prints the resume command, which then works in scripts.
    let (code, _, _) = policies(&["add", "echo.*.*.items.getItem", "require-approval"]);
    assert_eq!(code, Some(0));
    let out = service.cli(&["call", "echo", "items", "getItem", r#"{"id": 9}"#]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let id = stderr
        .split("--execution-id ")
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .unwrap_or_else(|| panic!("no resume command in: {stderr}"));
    assert_eq!(count(&seen, "GET /v1/items/9"), 0);
    let out = service.cli(&["resume", "--execution-id", &id]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "no terminal: --action is required"
    );
    assert!(text(&out.stderr).contains("--action accept"));
    let out = service.cli(&["resume", "--execution-id", &id, "--action", "accept"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let data: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(data["path"], "/v1/items/9");
    assert_eq!(count(&seen, "GET /v1/items/9"), 1);

    // The owner's CLI runs executor's own tools without a pause.
    let out = service.cli(&["call", "executor", "policies", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Bad patterns and ids are explained.
    let (code, _, stderr) = policies(&["add", "git*", "allow"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("whole segments"), "{stderr}");
    let (code, _, stderr) = policies(&["remove", "pol_nope"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("no policy has the id"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pauses_survive_sigkill_and_reach_the_upstream_once() {
    let home = tempfile::tempdir().unwrap();
    let (service, seen) = service_with_echo(home.path(), &[]).await;
    let (id, _) = paused(
        &service
            .invoke("echo.items.deleteItem", json!({"id": 7}))
            .await,
    );
    // A call approved and running when the service dies is not run again.
    let slow = service
        .post(
            "/api/policies",
            json!({"pattern": "echo.slow.*", "action": "require_approval"}),
        )
        .await;
    assert_eq!(slow.0, 200, "{}", slow.1);
    let (slow_id, _) = paused(&service.invoke("echo.slow.slow", json!({})).await);
    let url = format!("{}/api/executions/{slow_id}/resume", service.url);
    let token = service.token.clone();
    tokio::spawn(async move {
        let _ = support::service::http()
            .post(url)
            .bearer_auth(token)
            .json(&json!({"action": "accept"}))
            .send()
            .await;
    });
    let started = std::time::Instant::now();
    while count(&seen, "GET /v1/slow") == 0 {
        assert!(
            started.elapsed().as_secs() < 20,
            "the slow call never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    service.kill();

    let service = Service::start(home.path());
    let (_, pending) = service.get("/api/executions?state=paused").await;
    assert_eq!(pending["data"][0]["id"], id.as_str(), "{pending}");
    let done = resume(&service, &id, "accept").await;
    assert_eq!(done.1["ok"], true, "{}", done.1);
    let again = resume(&service, &id, "accept").await;
    assert_eq!(again.1, done.1);
    assert_eq!(count(&seen, "DELETE /v1/items/7"), 1);

    let (_, interrupted) = service.get(&format!("/api/executions/{slow_id}")).await;
    assert_eq!(interrupted["data"]["state"], "failed", "{interrupted}");
    let outcome = resume(&service, &slow_id, "accept").await;
    assert!(
        outcome.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stopped while"),
        "{}",
        outcome.1
    );
    assert_eq!(count(&seen, "GET /v1/slow"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_pauses_expire() {
    let home = tempfile::tempdir().unwrap();
    let (service, seen) =
        service_with_echo(home.path(), &[("EXECUTOR_APPROVAL_TIMEOUT", "1")]).await;
    let (id, error) = paused(
        &service
            .invoke("echo.items.createItem", json!({"name": "late"}))
            .await,
    );
    assert!(error["details"]["expiresAt"].as_i64().is_some());
    // Expiry is by the clock in whole seconds: wait past it.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let late = resume(&service, &id, "accept").await;
    assert_eq!(late.1["error"]["code"], "execution_expired", "{}", late.1);
    let (_, execution) = service.get(&format!("/api/executions/{id}")).await;
    assert_eq!(execution["data"]["state"], "expired");
    assert_eq!(count(&seen, "POST /v1/items"), 0);

    // A timeout that is not a number stops the service with a clear word.
    let out = Command::new(support::service::EXE)
        .args(["daemon", "run", "--port", "0"])
        .env("EXECUTOR_HOME", home.path().join("other"))
        .env("EXECUTOR_APPROVAL_TIMEOUT", "soon")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("EXECUTOR_APPROVAL_TIMEOUT"),
        "{}",
        text(&out.stderr)
    );
}

/// Agents over MCP: paused calls are `isError` results naming the
/// execution; clients that can elicit are asked instead; executor's own
/// settings always wait for a person outside the agent's client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_pauses_elicits_and_never_lets_agents_change_settings() {
    let home = tempfile::tempdir().unwrap();
    let (service, seen) = service_with_echo(home.path(), &[]).await;
    service.allow("*").await;
    service
        .post(
            "/api/policies",
            json!({"pattern": "echo.*.*.items.deleteItem", "action": "require_approval", "position": 1}),
        )
        .await;
    service
        .post(
            "/api/policies",
            json!({"pattern": "echo.things.*", "action": "block", "position": 1}),
        )
        .await;
    let url = format!("{}/mcp", service.url);

    // Without elicitation: an isError result with the coordinates.
    let out = sdk(
        &url,
        &service.mcp_token,
        "none",
        json!([
            {"list": true},
            {"call": "echo.org.main.items.deleteItem", "arguments": {"id": 1}},
            {"call": "executor.org.main.policies.add", "arguments": {"pattern": "*", "action": "allow"}},
            {"call": "echo.org.main.things.putThing", "arguments": {"id": "a"}}
        ]),
    );
    let results = out["results"].as_array().unwrap();
    let names: Vec<&str> = results[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"echo.org.main.items.deleteItem"));
    assert!(
        !names.contains(&"echo.org.main.things.putThing"),
        "blocked tools are listed"
    );
    let pause = &results[1];
    assert_eq!(pause["isError"], true, "{pause}");
    let error = &pause["structuredContent"]["error"];
    assert_eq!(error["code"], "execution_paused", "{pause}");
    let id = error["executionId"].as_str().unwrap();
    assert!(error["approvalUrl"].as_str().unwrap().ends_with(id));
    assert_eq!(count(&seen, "DELETE /v1/items/1"), 0);
    // An `allow *` rule does not let an agent change the rules.
    assert_eq!(
        results[2]["structuredContent"]["error"]["code"], "execution_paused",
        "{}",
        results[2]
    );
    // Nor can the agent approve that pause itself: its token opens /mcp
    // only, not the REST API where pauses are answered.
    let agents_id = results[2]["structuredContent"]["error"]["executionId"]
        .as_str()
        .unwrap();
    for route in [
        format!("/api/executions/{agents_id}/resume"),
        "/api/policies".to_owned(),
    ] {
        let r = support::service::http()
            .post(format!("{}{route}", service.url))
            .bearer_auth(&service.mcp_token)
            .json(&json!({"action": "accept", "pattern": "*"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{route}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{body}");
        assert!(
            !body
                .to_string()
                .contains(&service.home.display().to_string())
        );
    }
    let (_, rules) = service.get("/api/policies").await;
    assert_eq!(rules["data"].as_array().unwrap().len(), 3);
    // A blocked tool is unknown to MCP.
    assert!(
        results[3].to_string().contains("unknown tool"),
        "{}",
        results[3]
    );

    // With elicitation (2025-11-25 session): the person is asked in the
    // client, and the call runs or is declined right away.
    let out = sdk(
        &url,
        &service.mcp_token,
        "approve",
        json!([
            {"call": "echo.org.main.items.deleteItem", "arguments": {"id": 2}},
            {"call": "executor.org.main.sources.remove", "arguments": {"namespace": "echo"}}
        ]),
    );
    let results = out["results"].as_array().unwrap();
    assert_eq!(results[0]["isError"], false, "{}", results[0]);
    assert_eq!(results[0]["structuredContent"]["ok"], true);
    assert_eq!(count(&seen, "DELETE /v1/items/2"), 1);
    let asked = out["elicitations"].as_array().unwrap();
    assert_eq!(
        asked.len(),
        1,
        "settings are never approved by elicitation: {out}"
    );
    assert!(
        asked[0]
            .as_str()
            .unwrap()
            .contains("echo.org.main.items.deleteItem")
    );
    assert_eq!(
        results[1]["structuredContent"]["error"]["code"], "execution_paused",
        "{}",
        results[1]
    );
    let out = sdk(
        &url,
        &service.mcp_token,
        "decline",
        json!([{"call": "echo.org.main.items.deleteItem", "arguments": {"id": 3}}]),
    );
    let declined = &out["results"][0];
    assert_eq!(
        declined["structuredContent"]["error"]["code"], "approval_declined",
        "{declined}"
    );
    assert_eq!(count(&seen, "DELETE /v1/items/3"), 0);

    // The owner resumes the agent's paused settings change from the CLI.
    let (_, pending) = service.get("/api/executions?state=paused").await;
    let pending = pending["data"].as_array().unwrap();
    let removal = pending
        .iter()
        .find(|e| e["toolPath"] == "executor.org.main.sources.remove")
        .unwrap();
    assert_eq!(removal["caller"], "mcp");
    let out = service.cli(&[
        "resume",
        "--execution-id",
        removal["id"].as_str().unwrap(),
        "--action",
        "decline",
    ]);
    assert_eq!(out.status.code(), Some(1), "declined is a failure outcome");
    assert!(text(&out.stderr).contains("approval_declined"));
    let (_, sources) = service.get("/api/sources").await;
    assert_eq!(sources["data"].as_array().unwrap().len(), 1, "{sources}");
}

/// 2026-07-28 has no server-to-client requests: the approval question goes
/// back as an input-required result, which rmcp's client answers through
/// its elicitation handler and retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_mcp_asks_through_an_input_required_round() {
    use rmcp::model::{
        CallToolRequestParams, ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult,
        ElicitationAction, Implementation, ProtocolVersion,
    };
    use rmcp::service::RequestContext;
    use rmcp::{ClientHandler, ErrorData, RoleClient};
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Approver {
        asked: Arc<Mutex<Vec<String>>>,
    }
    impl ClientHandler for Approver {
        fn get_info(&self) -> ClientConfig {
            ClientConfig::new(
                ClientCapabilities::builder().enable_elicitation().build(),
                Implementation::new("executor-tests", "1.0.0"),
            )
        }
        async fn create_elicitation(
            &self,
            request: ElicitRequestParams,
            _context: RequestContext<RoleClient>,
        ) -> Result<ElicitResult, ErrorData> {
            if let ElicitRequestParams::FormElicitationParams { message, .. } = request {
                self.asked.lock().unwrap().push(message);
            }
            Ok(ElicitResult::new(ElicitationAction::Accept).with_content(json!({"approve": true})))
        }
    }

    let home = tempfile::tempdir().unwrap();
    let (service, seen) = service_with_echo(home.path(), &[]).await;
    let approver = Approver::default();
    let client = support::service::stateless_client(
        approver.clone(),
        &service.url,
        "/mcp",
        &service.mcp_token,
    )
    .await;
    assert_eq!(
        client.peer().peer_info().unwrap().protocol_version,
        ProtocolVersion::V_2026_07_28
    );
    let arguments = json!({"name": "stateless"}).as_object().unwrap().clone();
    // `RunningService::call_tool` drives input-required rounds.
    let result = client
        .call_tool(
            CallToolRequestParams::new("echo.org.main.items.createItem").with_arguments(arguments),
        )
        .await
        .unwrap();
    let content = result.structured_content.unwrap();
    assert_eq!(content["ok"], true, "{content}");
    assert_eq!(content["data"]["body"], r#"{"name":"stateless"}"#);
    assert_eq!(count(&seen, "POST /v1/items"), 1);
    let asked = approver.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0].contains("echo.org.main.items.createItem"),
        "{asked:?}"
    );
    client.cancel().await.unwrap();
}

/// A round belongs to the caller that was paused: another client holding
/// its `requestState` (the execution id) cannot answer it, and the upstream
/// sees nothing until the paused caller answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_required_round_is_answered_only_by_its_caller() {
    use rmcp::model::{
        CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, Implementation,
        InputResponses,
    };
    use rmcp::{ClientHandler, RoleClient};

    #[derive(Clone)]
    struct Elicits;
    impl ClientHandler for Elicits {
        fn get_info(&self) -> ClientConfig {
            ClientConfig::new(
                ClientCapabilities::builder().enable_elicitation().build(),
                Implementation::new("executor-tests", "1.0.0"),
            )
        }
    }
    async fn connect(url: &str, token: &str) -> rmcp::service::RunningService<RoleClient, Elicits> {
        support::service::stateless_client(Elicits, url, "/mcp", token).await
    }
    fn envelope(response: CallToolResponse) -> Value {
        match response {
            CallToolResponse::Complete(result) => result.structured_content.unwrap(),
            other => panic!("expected a complete result, got {other:?}"),
        }
    }

    let home = tempfile::tempdir().unwrap();
    let (service, seen) = service_with_echo(home.path(), &[]).await;
    let minted = service.cli(&["clients", "add", "asker"]);
    assert!(minted.status.success(), "{}", text(&minted.stderr));
    let asker = connect(&service.url, text(&minted.stdout).trim()).await;
    let other = connect(&service.url, &service.mcp_token).await;

    let arguments = json!({"name": "mine"}).as_object().unwrap().clone();
    let call =
        CallToolRequestParams::new("echo.org.main.items.createItem").with_arguments(arguments);
    let CallToolResponse::InputRequired(round) = asker.call_tool_once(call.clone()).await.unwrap()
    else {
        panic!("the write did not ask for approval");
    };
    let handle = round.request_state.clone().expect("a round has its state");
    let approve: InputResponses = [(
        "approval".to_owned(),
        json!({"action": "accept", "content": {"approve": true}}),
    )]
    .into();

    let stolen = envelope(
        other
            .call_tool_once(
                call.clone()
                    .with_request_state(handle.clone())
                    .with_input_responses(approve.clone()),
            )
            .await
            .unwrap(),
    );
    assert_eq!(stolen["ok"], false, "{stolen}");
    assert!(
        stolen["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not belong to this call"),
        "{stolen}"
    );
    assert_eq!(count(&seen, "POST /v1/items"), 0);

    let own = envelope(
        asker
            .call_tool_once(
                call.with_request_state(handle)
                    .with_input_responses(approve),
            )
            .await
            .unwrap(),
    );
    assert_eq!(own["ok"], true, "{own}");
    assert_eq!(own["data"]["body"], r#"{"name":"mine"}"#);
    assert_eq!(count(&seen, "POST /v1/items"), 1);
    asker.cancel().await.unwrap();
    other.cancel().await.unwrap();
}

/// On a terminal, `executor call` asks about its paused call inline and
/// `executor resume` asks before answering (a pseudo-terminal from
/// util-linux `script`, the answers typed on its input).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_the_cli_asks() {
    let home = tempfile::tempdir().unwrap();
    let (service, seen) = service_with_echo(home.path(), &[]).await;
    let in_terminal = |command: &str, typed: &str| {
        let mut child = Command::new("script")
            .args(["-qec", command, "/dev/null"])
            .env("EXECUTOR_HOME", &service.home)
            .env("EXECUTOR_PORT", "0")
            .env("EXE", support::service::EXE)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("util-linux `script` runs");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(typed.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code(), text(&out.stdout))
    };

    let (code, screen) = in_terminal(
        r#""$EXE" call echo items createItem '{"name": "typed"}'"#,
        "y\n",
    );
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("waits for your approval"), "{screen}");
    assert!(screen.contains(r#"\"name\":\"typed\""#), "{screen}");
    assert_eq!(count(&seen, "POST /v1/items"), 1);

    let (id, _) = paused(
        &service
            .invoke("echo.items.deleteItem", json!({"id": 5}))
            .await,
    );
    let (code, screen) = in_terminal(&format!(r#""$EXE" resume --execution-id {id}"#), "n\n");
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        screen.contains("echo.org.main.items.deleteItem"),
        "{screen}"
    );
    assert!(screen.contains("approval_declined"), "{screen}");
    assert_eq!(count(&seen, "DELETE /v1/items/5"), 0);
}
