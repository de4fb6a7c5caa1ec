//! An upstream MCP server of the 2026-07-28 revision answers some calls
//! with input-required rounds (SEP-2322): elicitation, sampling or roots
//! requests the client must answer before it retries. The source view
//! (`/mcp?source=<namespace>`) forwards the rounds to a client of that
//! revision, under executor's own sealed `requestState`, and answers them
//! for a client of an older revision by asking it in its session.
//!
//! The upstream is `tests/conformance/mrtr-server.mjs` (the MCP TypeScript
//! SDK v2 over stdio), the same fixture the conformance suite's
//! multi-round-trip scenarios run against. Executor speaks that revision to
//! the servers that do (`server/discover` first) and the older one to the
//! rest, including a server that breaks on the probe.

mod support;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, Implementation, InputResponses, ProtocolVersion,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::service::{Service, text};

/// A client that can be asked for input; it answers each elicitation from
/// its list of answers, in turn, and keeps the questions.
#[derive(Clone, Default)]
struct Person {
    answers: Arc<Mutex<Vec<Value>>>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Person {
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
        let answer = self.answers.lock().unwrap().remove(0);
        Ok(ElicitResult::new(ElicitationAction::Accept).with_content(answer))
    }
}

/// A service with the fixture added as the MCP source `mrtr`, its tools
/// allowed (MCP tools without a read-only hint otherwise wait for approval).
async fn service_with_fixture(home: &std::path::Path) -> Service {
    let service = service_with_fixture_waiting(home).await;
    let (_, allowed) = service
        .invoke(
            "executor.policies.add",
            json!({"pattern": "mrtr.*", "action": "allow"}),
        )
        .await;
    assert_eq!(allowed["ok"], true, "{allowed}");
    service
}

/// The same, with the default policies: the fixture's calls wait for approval.
async fn service_with_fixture_waiting(home: &std::path::Path) -> Service {
    let service = Service::start(home);
    add_fixture(&service).await;
    service
}

/// Adds the fixture as the MCP source `mrtr`.
async fn add_fixture(service: &Service) {
    let fixture = support::repo_root().join("tests/conformance/mrtr-server.mjs");
    assert!(
        support::repo_root()
            .join("tests/conformance/node_modules/@modelcontextprotocol/server")
            .is_dir(),
        "the MCP SDK v2 is not installed: run `npm ci --prefix tests/conformance` (the README's test command does it)"
    );
    let (status, added) = service
        .invoke(
            "executor.mcp.addSource",
            json!({"namespace": "mrtr", "command": "node", "args": [fixture.display().to_string()]}),
        )
        .await;
    assert_eq!(added["ok"], true, "{status} {added}");
}

/// A client of 2026-07-28 on the fixture's source view, as the MCP token.
async fn modern_client(service: &Service) -> RunningService<RoleClient, Person> {
    support::service::stateless_client(
        Person::default(),
        &service.url,
        "/mcp?source=mrtr",
        &service.mcp_token,
    )
    .await
}

fn call(tool: &str) -> CallToolRequestParams {
    CallToolRequestParams::new(tool.to_owned()).with_arguments(Default::default())
}

fn answer(content: Value) -> Value {
    json!({"action": "accept", "content": content})
}

fn first_text(response: CallToolResponse) -> String {
    match response {
        CallToolResponse::Complete(result) => {
            serde_json::to_value(&result.content).unwrap()[0]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
        other => panic!("expected a complete result, got {other:?}"),
    }
}

/// A client of 2026-07-28 gets the upstream's round as the upstream wrote
/// it, under a state only executor can read; a retry with that state
/// reaches the upstream with the upstream's own state, and the result
/// comes back as it came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_reach_a_modern_client_under_executors_sealed_state() {
    let home = tempfile::tempdir().unwrap();
    let service = service_with_fixture(home.path()).await;
    let client = modern_client(&service).await;
    let tool = "test_input_required_result_request_state";

    let CallToolResponse::InputRequired(round) = client.call_tool_once(call(tool)).await.unwrap()
    else {
        panic!("the first call did not ask for input");
    };
    let requests = serde_json::to_value(&round.input_requests).unwrap();
    assert_eq!(
        requests["confirm"]["method"], "elicitation/create",
        "{requests}"
    );
    assert_eq!(requests["confirm"]["params"]["message"], "Please confirm");
    let state = round.request_state.clone().expect("a round with state");
    // The upstream's state (JSON with its HMAC) is sealed inside executor's.
    assert!(state.starts_with("mrtr."), "{state}");
    assert!(!state.contains("request-state"), "{state}");
    assert!(!state.contains("mac"), "{state}");

    let confirm: InputResponses = [("confirm".to_owned(), answer(json!({"ok": true})))].into();
    let done = client
        .call_tool_once(
            call(tool)
                .with_input_responses(confirm.clone())
                .with_request_state(state.clone()),
        )
        .await
        .unwrap();
    assert_eq!(first_text(done), "state-ok: requestState validated");
    client.cancel().await.unwrap();
}

/// A state altered on the way, or carried to another tool or by another
/// client, is refused by executor with a JSON-RPC error; the rightful retry
/// still works afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rounds_state_is_refused_when_altered_or_carried_elsewhere() {
    let home = tempfile::tempdir().unwrap();
    let service = service_with_fixture(home.path()).await;
    let minted = service.cli(&["clients", "add", "other", "--scope", "mrtr.*"]);
    assert!(minted.status.success(), "{}", text(&minted.stderr));
    let owner = modern_client(&service).await;
    let other = support::service::stateless_client(
        Person::default(),
        &service.url,
        "/mcp?source=mrtr",
        text(&minted.stdout).trim(),
    )
    .await;
    let tool = "test_input_required_result_tampered_state";
    let CallToolResponse::InputRequired(round) = owner.call_tool_once(call(tool)).await.unwrap()
    else {
        panic!("the first call did not ask for input");
    };
    let state = round.request_state.unwrap();
    let confirm: InputResponses = [("confirm".to_owned(), answer(json!({"ok": true})))].into();
    let retry = |tool: &str, state: String| {
        call(tool)
            .with_input_responses(confirm.clone())
            .with_request_state(state)
    };
    let refused = |result: Result<CallToolResponse, rmcp::ServiceError>| match result {
        Err(rmcp::ServiceError::McpError(e)) => {
            assert_eq!(e.code, rmcp::model::ErrorCode::INVALID_PARAMS, "{e:?}");
            e.message.to_string()
        }
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    };

    let altered = refused(
        owner
            .call_tool_once(retry(tool, format!("{state}00")))
            .await,
    );
    assert!(altered.contains("integrity"), "{altered}");
    let elsewhere = refused(
        owner
            .call_tool_once(retry(
                "test_input_required_result_elicitation",
                state.clone(),
            ))
            .await,
    );
    assert!(elsewhere.contains("another call"), "{elsewhere}");
    let stolen = refused(other.call_tool_once(retry(tool, state.clone())).await);
    assert!(stolen.contains("another call"), "{stolen}");
    // Not executor's at all: the upstream's own kind of state.
    let foreign = refused(owner.call_tool_once(retry(tool, "mrtr.{}".into())).await);
    assert!(foreign.contains("integrity"), "{foreign}");

    let done = owner.call_tool_once(retry(tool, state)).await.unwrap();
    assert_eq!(first_text(done), "integrity-ok: state verified");
    owner.cancel().await.unwrap();
    other.cancel().await.unwrap();
}

/// The upstream asks only for what the calling client declares it can
/// answer: the caller's capabilities travel with each forwarded request,
/// not executor's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_capabilities_reach_the_upstream() {
    #[derive(Clone)]
    struct SamplesOnly;
    // Sampling is deprecated by SEP-2577, and still a capability to declare.
    #[allow(deprecated)]
    impl ClientHandler for SamplesOnly {
        fn get_info(&self) -> ClientConfig {
            ClientConfig::new(
                ClientCapabilities::builder().enable_sampling().build(),
                Implementation::new("executor-tests", "1.0.0"),
            )
        }
    }
    let home = tempfile::tempdir().unwrap();
    let service = service_with_fixture(home.path()).await;
    let client = support::service::stateless_client(
        SamplesOnly,
        &service.url,
        "/mcp?source=mrtr",
        &service.mcp_token,
    )
    .await;
    let CallToolResponse::InputRequired(round) = client
        .call_tool_once(call("test_input_required_result_capabilities"))
        .await
        .unwrap()
    else {
        panic!("the call did not ask for input");
    };
    let keys: Vec<String> = round.input_requests.unwrap().into_keys().collect();
    assert_eq!(keys, ["sample_input"]);
    client.cancel().await.unwrap();
}

/// A client of 2025-11-25 cannot take rounds: executor answers them by
/// asking it in its session (elicitation), round after round, and the
/// client sees one call and its result; the same for a prompt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_client_is_asked_in_its_session() {
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    let home = tempfile::tempdir().unwrap();
    let service = service_with_fixture(home.path()).await;
    let person = Person::default();
    person.answers.lock().unwrap().extend([
        json!({"name": "Ada"}),
        json!({"color": "teal"}),
        json!({"context": "tests"}),
    ]);
    runtime::install_crypto_provider();
    let config =
        StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp?source=mrtr", service.url))
            .auth_header(service.mcp_token.clone());
    let client: RunningService<RoleClient, Person> = person
        .clone()
        .serve(StreamableHttpClientTransport::from_config(config))
        .await
        .unwrap();
    assert!(
        client.peer().peer_info().unwrap().protocol_version < ProtocolVersion::V_2026_07_28,
        "the session speaks an older revision"
    );
    let result = client
        .peer()
        .call_tool(call("test_input_required_result_multi_round"))
        .await
        .unwrap();
    let said = serde_json::to_value(&result.content).unwrap()[0]["text"].clone();
    assert_eq!(said, "Multi-round complete for Ada who likes teal");
    // A prompt's rounds too.
    let prompt = client
        .peer()
        .get_prompt(rmcp::model::GetPromptRequestParams::new(
            "test_input_required_result_prompt",
        ))
        .await
        .unwrap();
    let said = serde_json::to_value(&prompt.messages).unwrap()[0]["content"]["text"].clone();
    assert_eq!(said, "Prompt with context: tests");
    let asked = person.asked.lock().unwrap().clone();
    assert_eq!(
        asked,
        [
            "Step 1: What is your name?",
            "Step 2: What is your favorite color?",
            "What context should the prompt use?"
        ]
    );
    client.cancel().await.unwrap();
}

/// A server of 2026-07-28 announces a changed tool list only on a
/// `subscriptions/listen` stream: executor holds one open on its session,
/// and the new tool joins the catalog without a refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modern_upstreams_new_tool_joins_the_catalog() {
    let home = tempfile::tempdir().unwrap();
    let service = service_with_fixture(home.path()).await;
    let tools = |listing: &Value| -> Vec<String> {
        listing["data"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, before) = service.get("/api/tools?namespace=mrtr&limit=100").await;
    assert_eq!(tools(&before).len(), 13, "{before}");
    let (_, changed) = service
        .invoke("mrtr.test_trigger_tool_change", json!({}))
        .await;
    assert_eq!(changed["ok"], true, "{changed}");
    let added = changed["data"]
        .as_str()
        .unwrap()
        .trim_start_matches("added ");
    let started = std::time::Instant::now();
    loop {
        let (_, now) = service.get("/api/tools?namespace=mrtr&limit=100").await;
        if tools(&now).iter().any(|name| name == added) {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "{added} did not join the catalog: {now}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (_, called) = service.invoke(&format!("mrtr.{added}"), json!({})).await;
    assert_eq!(called["data"], "added", "{called}");
}

/// Executor greets a server with `server/discover` first. A server of an
/// older revision that breaks on it (this one exits) is started again and
/// greeted the old way, with `initialize`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_server_that_breaks_on_the_probe_is_greeted_the_old_way() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let strict = support::repo_root().join("tests/node/mcp-strict-server.mjs");
    let (_, added) = service
        .invoke(
            "executor.mcp.addSource",
            json!({"namespace": "strict", "command": "node", "args": [strict.display().to_string()]}),
        )
        .await;
    assert_eq!(added["ok"], true, "{added}");
    assert_eq!(added["data"]["tools"], 1, "{added}");
    let (_, called) = service.invoke("strict.ping", json!({})).await;
    assert_eq!(called["data"], "pong", "{called}");
}

/// A call that waits for approval asks the client first (executor's own
/// round); approved, the call runs and the upstream's rounds follow, and
/// the approval holds for them: they are not paused again. It holds for
/// that call's arguments only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_call_goes_on_in_the_upstreams_rounds() {
    let home = tempfile::tempdir().unwrap();
    let service = service_with_fixture_waiting(home.path()).await;
    let client = modern_client(&service).await;
    let tool = "test_input_required_result_multi_round";
    let keys = |response: CallToolResponse| match response {
        CallToolResponse::InputRequired(round) => (
            round
                .input_requests
                .unwrap()
                .into_keys()
                .collect::<Vec<_>>(),
            round.request_state.unwrap(),
        ),
        other => panic!("expected a round, got {other:?}"),
    };
    let retry = |key: &str, content: Value, state: &str| {
        let responses: InputResponses = [(key.to_owned(), answer(content))].into();
        call(tool)
            .with_input_responses(responses)
            .with_request_state(state.to_owned())
    };

    let (asked, execution) = keys(client.call_tool_once(call(tool)).await.unwrap());
    assert_eq!(asked, ["approval"]);
    let (asked, state) = keys(
        client
            .call_tool_once(retry("approval", json!({"approve": true}), &execution))
            .await
            .unwrap(),
    );
    assert_eq!(
        asked,
        ["step1"],
        "the upstream's first round follows the approval"
    );
    assert!(state.starts_with("mrtr."), "{state}");
    let (asked, state) = keys(
        client
            .call_tool_once(retry("step1", json!({"name": "Ada"}), &state))
            .await
            .unwrap(),
    );
    assert_eq!(asked, ["step2"], "no second approval");

    // The approval is for these arguments, not others.
    let elsewhere = client
        .call_tool_once(
            retry("step2", json!({"color": "teal"}), &state)
                .with_arguments(json!({"other": 1}).as_object().unwrap().clone()),
        )
        .await;
    match elsewhere {
        Err(rmcp::ServiceError::McpError(e)) => {
            assert!(e.message.contains("another call"), "{e:?}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    let done = client
        .call_tool_once(retry("step2", json!({"color": "teal"}), &state))
        .await
        .unwrap();
    assert_eq!(
        first_text(done),
        "Multi-round complete for Ada who likes teal"
    );
    // The execution was answered once, by the person at the client.
    let (_, record) = service.get(&format!("/api/executions/{execution}")).await;
    assert_eq!(record["data"]["state"], "completed", "{record}");
    assert!(
        record["data"]["result"]["data"]["continued"]
            .as_str()
            .is_some_and(|s| s.contains("input-required rounds")),
        "{record}"
    );
    client.cancel().await.unwrap();
}

/// The full catalog (`/mcp?tools=all`) takes the same way for a client of
/// 2026-07-28: the upstream's round as it is, then the result in
/// executor's envelope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_catalog_forwards_rounds_too() {
    let home = tempfile::tempdir().unwrap();
    let service = service_with_fixture(home.path()).await;
    let client = support::service::stateless_client(
        Person::default(),
        &service.url,
        "/mcp?tools=all",
        &service.mcp_token,
    )
    .await;
    let tool = "mrtr.org.main.test_input_required_result_elicitation";
    let CallToolResponse::InputRequired(round) = client.call_tool_once(call(tool)).await.unwrap()
    else {
        panic!("the call did not ask for input");
    };
    let keys: Vec<String> = round.input_requests.unwrap().into_keys().collect();
    assert_eq!(keys, ["user_name"]);
    let state = round.request_state.expect("executor's state");
    let name: InputResponses = [("user_name".to_owned(), answer(json!({"name": "Ada"})))].into();
    let done = client
        .call_tool_once(
            call(tool)
                .with_input_responses(name)
                .with_request_state(state),
        )
        .await
        .unwrap();
    let CallToolResponse::Complete(result) = done else {
        panic!("expected a result, got {done:?}");
    };
    let envelope = result.structured_content.unwrap();
    assert_eq!(envelope, json!({"ok": true, "data": "Hello, Ada!"}));
    client.cancel().await.unwrap();
}

/// Calls through the source view are bounded per source like every call
/// (`EXECUTOR_MAX_CALLS_PER_SOURCE`): the upstream never sees more at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_view_calls_are_bounded_per_source() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start_with_env(home.path(), &[("EXECUTOR_MAX_CALLS_PER_SOURCE", "1")]);
    add_fixture(&service).await;
    let (_, allowed) = service
        .invoke(
            "executor.policies.add",
            json!({"pattern": "mrtr.*", "action": "allow"}),
        )
        .await;
    assert_eq!(allowed["ok"], true, "{allowed}");
    let client = modern_client(&service).await;
    let calls = (0..4).map(|_| client.call_tool_once(call("test_slow")));
    let mut said = Vec::new();
    for response in futures::future::join_all(calls).await {
        said.push(first_text(response.unwrap()));
    }
    assert!(said.iter().all(|s| s == "most in flight: 1"), "{said:?}");
    client.cancel().await.unwrap();
}
