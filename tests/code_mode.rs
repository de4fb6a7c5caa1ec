//! Code mode end to end: scripts sent by the official MCP TypeScript SDK
//! client to `/mcp?tools=code`, by `POST /api/execute` and by `executor
//! run`, against real upstreams (the echo REST server, graphql-js, the MCP
//! reference server); a paused write that goes on after `executor resume`
//! exactly once, across a SIGKILL; and the sandbox's walls as the service
//! sees them (time, memory, runs at once, blocked tools, secrets).

mod support;

use serde_json::{Value, json};
use support::service::{NodeServer, Service, sdk, start_recording_upstream, text};

fn everything() -> String {
    support::repo_root()
        .join("tests/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js")
        .display()
        .to_string()
}

/// The structured envelope of an SDK `callTool` result.
fn envelope(result: &Value) -> &Value {
    &result["structuredContent"]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_runs_one_script_over_openapi_graphql_and_mcp_tools() {
    let (upstream, seen) = start_recording_upstream().await;
    let graphql = NodeServer::start("graphql-server.mjs");
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service.add_echo(&upstream).await;
    let r = service
        .invoke(
            "executor.graphql.addSource",
            json!({"namespace": "films", "endpoint": graphql.url, "headers": {"x-api-key": "gql-key"}}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    let r = service
        .invoke(
            "executor.mcp.addSource",
            json!({"namespace": "everything", "command": "node", "args": [everything(), "stdio"]}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    service.allow("everything.*").await;

    let script = r#"
        interface Film { title: string }
        const item = await tools.echo.items.getItem({ id: 7 });
        const film = await tools.films.query.film({ id: "1" });
        const sum = await tools.everything["get-sum"]({ a: 2, b: 3 });
        if (!item.ok || !film.ok || !sum.ok) return { failed: [item, film, sum] };
        const title: string = (film.data as Film).title;
        console.log("three calls made");
        return `${item.data.path} | ${title} | ${String(sum.data).match(/\d+/g).pop()}`;
    "#;
    let url = format!("{}/mcp?tools=code", service.url);
    let out = sdk(
        &url,
        &service.mcp_token,
        "none",
        json!([
            {"list": true},
            {"call": "execute", "arguments": {"code": script}},
            {"call": "search", "arguments": {"query": "film by id", "limit": 3}},
            {"call": "describe", "arguments": {"path": "echo.items.createItem"}}
        ]),
    );
    let results = out["results"].as_array().unwrap();
    let names: Vec<&str> = results[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["execute", "search", "describe"]);
    let execute = &results[0]["tools"][0]["description"];
    for integration in ["echo", "films", "everything", "executor"] {
        assert!(
            execute
                .as_str()
                .unwrap()
                .contains(&format!("- {integration} (")),
            "the execute tool names {integration}: {execute}"
        );
    }

    let ran = envelope(&results[1]);
    assert_eq!(ran["ok"], true, "{}", results[1]);
    assert_eq!(ran["data"], "/v1/items/7 | A New Hope | 5", "{ran}");
    assert_eq!(ran["logs"], json!(["three calls made"]));
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        ["GET /v1/items/7"],
        "the REST call reached the upstream once"
    );

    // One search is enough to write the call: each hit has its signature.
    let hits = &envelope(&results[2])["data"]["tools"];
    assert_eq!(hits[0]["path"], "films.org.main.query.film", "{hits}");
    let signature = hits[0]["signature"].as_str().unwrap();
    assert!(
        signature.starts_with("tools.films.org.main.query.film(input: {")
            && signature.contains("id"),
        "{signature}"
    );
    // describe gives TypeScript from the same emitter as the client, and it
    // compiles on its own under a real tsc.
    let declarations = envelope(&results[3])["data"]["declarations"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(declarations.contains("name: string;"), "{declarations}");
    assert!(
        declarations.contains("Call it as `tools.echo.org.main.items.createItem(input)`."),
        "{declarations}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("describe.ts"),
        format!(
            "{declarations}\nexport async function use(): Promise<string> {{\n  const r = await call({{ name: \"n\" }});\n  return r.ok ? r.data.path ?? \"\" : r.error.message;\n}}\n"
        ),
    )
    .unwrap();
    support::tsc(dir.path(), &["--noEmit"], &["describe.ts"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_write_goes_on_after_approval_exactly_once_across_a_sigkill() {
    let (upstream, seen) = start_recording_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service.add_echo(&upstream).await;

    // The id of the read comes from Math.random and the write's name from
    // Date.now: going on after the approval replays both, or the replayed
    // calls would differ from the recorded ones and the run would stop.
    let script = r#"
        const id = 1 + Math.floor(Math.random() * 1000);
        const read = await tools.echo.items.getItem({ id });
        const created = await tools.echo.items.createItem({ name: `at-${Date.now()}` });
        if (!created.ok) return { failed: created.error.code };
        return { read: read.data.path, created: created.data.method, body: JSON.parse(created.data.body).name.startsWith("at-") };
    "#;
    let url = format!("{}/mcp?tools=code", service.url);
    let out = sdk(
        &url,
        &service.mcp_token,
        "none",
        json!([{"call": "execute", "arguments": {"code": script}}]),
    );
    let paused = envelope(&out["results"][0]);
    assert_eq!(paused["ok"], false, "{}", out);
    assert_eq!(paused["error"]["code"], "execution_paused", "{paused}");
    assert!(paused["error"]["details"]["runId"].is_string(), "{paused}");
    let id = paused["error"]["executionId"].as_str().unwrap().to_owned();
    let reads: Vec<String> = seen.lock().unwrap().clone();
    assert_eq!(reads.len(), 1, "only the read ran: {reads:?}");
    assert!(reads[0].starts_with("GET /v1/items/"), "{reads:?}");

    // The service dies between the pause and the approval.
    service.kill();
    let service = Service::start(home.path());
    let resumed = service.cli(&["resume", "--execution-id", &id, "--action", "accept"]);
    assert!(
        resumed.status.success(),
        "{}{}",
        text(&resumed.stdout),
        text(&resumed.stderr)
    );
    let result: Value = serde_json::from_slice(&resumed.stdout).unwrap();
    assert_eq!(
        result,
        json!({"read": reads[0].trim_start_matches("GET "), "created": "POST", "body": true}),
        "the script went on to its final value"
    );
    // Answering again gives the same value and runs nothing again.
    let again = service.cli(&["resume", "--execution-id", &id, "--action", "accept"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again, result);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [reads[0].clone(), "POST /v1/items".to_owned()],
        "the read once (replayed, not repeated) and the write once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_reaches_no_blocked_tool_no_secret_and_nothing_of_the_host() {
    let (upstream, seen) = start_recording_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service.add_echo(&upstream).await;
    let added = service.add_connection(
        &[
            "echo",
            "--auth",
            "api-key",
            "--in",
            "header",
            "--key-name",
            "x-api-key",
        ],
        "sekret-key-123",
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let (status, body) = service
        .post(
            "/api/policies",
            json!({"pattern": "echo.*.*.fail.*", "action": "block"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let script = r#"
        const tries = [
            await tools.echo.org.main.fail.fail({}),
            await tools.echo.fail.fail({}),
            await tools["echo.org.main.fail.fail"]({}),
            await tools.echo["org"]["main"]["fail"]["fail"]({}),
        ].map((r) => r.ok ? "reached" : r.error.code);
        const reach = [typeof fetch, typeof require, typeof process, typeof XMLHttpRequest,
            typeof globalThis.constructor.constructor("return this")().process];
        const everything = JSON.stringify(Object.getOwnPropertyNames(globalThis).map((k) => {
            try { return [k, String(globalThis[k])]; } catch { return [k, "?"]; }
        }));
        const listed = await tools.executor.connections.list({});
        const called = await tools.echo.items.getItem({ id: 1 });
        return { tries, reach, everything, listed, called };
    "#;
    let (status, body) = service.post("/api/execute", json!({"code": script})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ok"], true, "{body}");
    let data = &body["data"];
    for code in data["tries"].as_array().unwrap() {
        assert!(
            code == "tool_blocked" || code == "tool_not_found",
            "a blocked tool answered {code}: {data}"
        );
    }
    assert_eq!(data["reach"], json!(vec!["undefined"; 5]), "{data}");
    assert!(
        seen.lock().unwrap().iter().all(|s| !s.contains("/v1/fail")),
        "the blocked tool never reached the upstream"
    );
    // The call carried the credential (the upstream saw it), yet nothing
    // the script got holds it, nor the service's tokens.
    assert_eq!(
        data["called"]["data"]["headers"]["x-api-key-reversed"], "321-yek-terkes",
        "{data}"
    );
    let everything = body.to_string();
    for secret in [
        "sekret-key-123",
        service.token.as_str(),
        service.mcp_token.as_str(),
    ] {
        assert!(!everything.contains(secret), "the script saw {secret}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_stop_a_run_and_the_service_carries_on() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start_with_env(
        home.path(),
        &[
            ("EXECUTOR_CODE_TIMEOUT", "2"),
            ("EXECUTOR_CODE_MAX_RUNS", "1"),
            ("EXECUTOR_CODE_MEMORY_MIB", "16"),
            ("EXECUTOR_CODE_MAX_RESULT_CHARS", "1000"),
        ],
    );
    // A busy loop holds the only run slot; meanwhile the service answers
    // other requests, and a second script is refused plainly.
    let busy = {
        let url = format!("{}/api/execute", service.url);
        let token = service.token.clone();
        tokio::spawn(async move {
            let answer = support::service::http()
                .post(url)
                .bearer_auth(token)
                .json(&json!({"code": "while (true) {}"}))
                .send()
                .await
                .unwrap();
            answer.json::<Value>().await.unwrap()
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (status, health) = service.get("/api/health").await;
    assert_eq!(status, 200, "{health}");
    assert!(
        !busy.is_finished(),
        "the loop is still running while the service answers"
    );
    let (status, refused) = service
        .post("/api/execute", json!({"code": "return 1"}))
        .await;
    assert_eq!(status, 503, "{refused}");
    assert_eq!(refused["error"]["code"], "overloaded", "{refused}");
    let stopped = busy.await.unwrap();
    assert_eq!(stopped["error"]["code"], "script_timeout", "{stopped}");

    let (_, bomb) = service
        .post(
            "/api/execute",
            json!({"code": "const a = []; while (true) a.push(new Array(1e5).fill(a.length));"}),
        )
        .await;
    assert_eq!(bomb["error"]["code"], "script_memory_limit", "{bomb}");

    let (status, syntax) = service
        .post(
            "/api/execute",
            json!({"code": "const a = 1;\nconst b: number = ;"}),
        )
        .await;
    assert_eq!(status, 400, "{syntax}");
    assert_eq!(syntax["error"]["code"], "invalid_input");
    assert_eq!(syntax["error"]["details"]["line"], 2, "{syntax}");

    let (_, thrown) = service
        .post(
            "/api/execute",
            json!({"code": "throw new TypeError('bad ' + 1)"}),
        )
        .await;
    assert_eq!(thrown["error"]["code"], "script_failed", "{thrown}");
    assert!(
        thrown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bad 1")
    );

    // A long result is cut, saying how much was left out.
    let (_, long) = service
        .post("/api/execute", json!({"code": "return 'x'.repeat(5000)"}))
        .await;
    assert_eq!(long["ok"], true, "{long}");
    assert_eq!(long["data"]["truncated"].as_str().unwrap().len(), 1000);
    assert!(
        long["data"]["note"].as_str().unwrap().contains("4002"),
        "{long}"
    );

    // And after all that, scripts still run.
    let (_, fine) = service
        .post(
            "/api/execute",
            json!({"code": "return [1, 2, 3].map((n) => n * 2)"}),
        )
        .await;
    assert_eq!(fine["data"], json!([2, 4, 6]), "{fine}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_run_prints_the_result_and_the_logs() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("count.ts");
    std::fs::write(
        &file,
        "const sources: unknown[] = (await tools.executor.sources.list({})).data;\nconsole.log('counted');\nreturn { sources: sources.length };\n",
    )
    .unwrap();
    let out = service.cli(&["run", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result, json!({"sources": 0}));
    assert!(
        text(&out.stderr).contains("counted"),
        "{}",
        text(&out.stderr)
    );

    let out = service.cli_with_stdin(&["run", "-"], Some("throw new Error('from stdin')"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("script_failed") && text(&out.stderr).contains("from stdin"),
        "{}",
        text(&out.stderr)
    );
}

/// With GitHub, Stripe, Kubernetes and OpenAI added (over 3,000 tools), the
/// code view's `tools/list` stays a few KB, the execute tool names every
/// integration, and one search finds a GitHub operation with its signature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_view_stays_small_with_four_large_apis() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let famous = support::corpus().join("openapi/famous");
    for (namespace, file) in [
        ("github", "github-api.github.com.json"),
        ("stripe", "stripe-spec3-2023-09-12.yaml"),
        ("kubernetes", "kubernetes-swagger-2.0.json"),
        ("openai", "openai-openapi.yaml"),
    ] {
        let spec = famous.join(file).display().to_string();
        let r = service
            .invoke(
                "executor.openapi.addSource",
                json!({"spec": spec, "namespace": namespace, "lenient": true}),
            )
            .await;
        assert_eq!(r.1["ok"], true, "{namespace}: {}", r.1);
    }
    let (_, tools) = service.get("/api/tools?limit=1").await;
    let total = tools["data"]["total"].as_u64().unwrap_or(0);
    let url = format!("{}/mcp?tools=code", service.url);
    let out = sdk(
        &url,
        &service.mcp_token,
        "none",
        json!([
            {"list": true},
            {"call": "execute", "arguments": {"code": "const hits = await tools.search('create an issue in a repository', { limit: 3 });\nreturn hits.map((h) => h.signature.slice(0, 60));"}}
        ]),
    );
    let listed = &out["results"][0];
    let bytes = listed["tools"].to_string().len();
    assert!(
        bytes < 8 * 1024,
        "the code view's tool list is {bytes} bytes for a catalog of {total} tools"
    );
    let description = listed["tools"][0]["description"].as_str().unwrap();
    for integration in ["github", "stripe", "kubernetes", "openai"] {
        assert!(
            description.contains(&format!("- {integration} (")),
            "{description}"
        );
    }
    // Over 200 tools, plain /mcp serves the code view by itself.
    let default = sdk(
        &format!("{}/mcp", service.url),
        &service.mcp_token,
        "none",
        json!([{"list": true}]),
    );
    let names: Vec<&str> = default["results"][0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["execute", "search", "describe"], "{total} tools");
    let hits = &envelope(&out["results"][1])["data"];
    assert!(
        hits.as_array().unwrap().iter().any(|h| h
            .as_str()
            .unwrap()
            .starts_with("tools.github.org.main.issues.create(")),
        "{hits}"
    );
}

/// An MCP client that can be asked approves the script's paused write in
/// the same call: the run goes on at once (with one run allowed at a time,
/// the paused run's slot is free before it does) and `execute` answers the
/// script's final value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_asked_through_elicitation_lets_the_script_go_on() {
    let (upstream, seen) = start_recording_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start_with_env(home.path(), &[("EXECUTOR_CODE_MAX_RUNS", "1")]);
    service.add_echo(&upstream).await;
    let script = "const created = await tools.echo.items.createItem({ name: 'asked' });\nreturn created.ok ? created.data.method : created.error.code;";
    let out = sdk(
        &format!("{}/mcp?tools=code", service.url),
        &service.mcp_token,
        "approve",
        json!([{"call": "execute", "arguments": {"code": script}}]),
    );
    assert_eq!(out["elicitations"].as_array().unwrap().len(), 1, "{out}");
    let answer = envelope(&out["results"][0]);
    assert_eq!(answer["ok"], true, "{out}");
    assert_eq!(answer["data"], "POST", "{out}");
    assert_eq!(seen.lock().unwrap().as_slice(), ["POST /v1/items"]);
}

/// A run that was going on after an approval when the service died is
/// marked failed at the next start: asking again says so, and nothing it
/// had done runs again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_off_by_a_restart_is_failed_not_run_again() {
    let (upstream, seen) = start_recording_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service.add_echo(&upstream).await;
    let script = "await tools.echo.items.createItem({ name: 'once' });\nawait tools.echo.slow.slow({});\nreturn 'never';";
    let (_, paused) = service.post("/api/execute", json!({"code": script})).await;
    assert_eq!(paused["error"]["code"], "execution_paused", "{paused}");
    let id = paused["error"]["executionId"].as_str().unwrap().to_owned();
    // The approval sets the run going; it hangs on the slow upstream.
    let resume = std::process::Command::new(support::service::EXE)
        .args(["resume", "--execution-id", &id, "--action", "accept"])
        .env("EXECUTOR_HOME", home.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !seen.lock().unwrap().iter().any(|s| s == "GET /v1/slow") {
        assert!(
            started.elapsed().as_secs() < 20,
            "{:?}",
            seen.lock().unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    service.kill();
    let mut resume = resume;
    let _ = resume.wait();
    let service = Service::start(home.path());
    let again = service.cli(&["resume", "--execution-id", &id, "--action", "accept"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again.stdout));
    assert!(
        text(&again.stderr).contains("script_failed")
            && text(&again.stderr).contains("service stopped while this run was going on"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        ["POST /v1/items", "GET /v1/slow"],
        "nothing ran again"
    );
}
