//! The two stores behave alike: the same calls against SQLite (a file) and
//! PostgreSQL (a throwaway cluster from Debian's package) give the same
//! answers, including the ones that must happen once (a pause answered, a
//! run claimed, a refresh token used). Then two executor replicas on one
//! PostgreSQL database: a call paused through one is approved through the
//! other, and the upstream sees it once; a policy or a source added through
//! one reaches the other within a second.

mod support;

use runtime::store::{
    AuditFilter, AuditRecord, ClientRecord, ExecutionState, PostgresStore, SourceOptions,
    SourceRecord, SqliteStore, Store, StoredRun, TokenRecord,
};
use serde_json::json;
use support::postgres::Cluster;
use support::service::{Service, start_recording_upstream};

/// Everything the core asks of a store, with what it must answer.
fn behaves(store: &mut dyn Store, backend: &str) {
    // Sources: stored, read back whole or without their document, replaced
    // keeping their creation time, removed.
    let spec = support::fixtures().join("openapi/oas30/petstore3-swagger-api.yaml");
    let document = std::fs::read_to_string(&spec).unwrap();
    let loaded = support::load(&spec, "pets").unwrap();
    let tools = loaded.ingested.tools.len();
    let record = SourceRecord::new(
        "pets".into(),
        spec.display().to_string(),
        document.clone(),
        SourceOptions {
            base_url: Some("http://127.0.0.1:9/v3".into()),
            ..SourceOptions::default()
        },
        loaded.ingested.into(),
    );
    store.put_source(&record).unwrap();
    let whole = store.source("pets").unwrap().expect("stored");
    assert_eq!(whole.document, document, "{backend}");
    assert_eq!(whole.tools.len(), tools, "{backend}");
    assert_eq!(
        whole.options.base_url.as_deref(),
        Some("http://127.0.0.1:9/v3")
    );
    let listed = store.sources().unwrap();
    assert_eq!(listed.len(), 1, "{backend}");
    assert_eq!(
        listed[0].document, "",
        "{backend}: OpenAPI documents stay out of the list"
    );
    assert!(
        store.sources_except("pets").unwrap().is_empty(),
        "{backend}"
    );
    assert_eq!(store.catalog().unwrap().tools.len(), tools, "{backend}");
    store.put_source(&record).unwrap();
    assert_eq!(
        store.source("pets").unwrap().unwrap().created_at,
        whole.created_at
    );
    assert!(store.remove_source("pets").unwrap(), "{backend}");
    assert!(!store.remove_source("pets").unwrap(), "{backend}");
    assert!(store.source("pets").unwrap().is_none(), "{backend}");

    // Policies: kept in order, inserted and moved by position.
    use generator::ir::Policy;
    let a = store.add_policy("a.*", Policy::Allow, None).unwrap();
    let b = store.add_policy("b.*", Policy::Block, None).unwrap();
    let c = store
        .add_policy("c.*", Policy::RequireApproval, Some(1))
        .unwrap();
    let order = |store: &dyn Store| -> Vec<String> {
        store
            .policies()
            .unwrap()
            .into_iter()
            .map(|r| r.pattern)
            .collect()
    };
    assert_eq!(order(store), ["c.*", "a.*", "b.*"], "{backend}");
    assert!(store.move_policy(&b.id, 1).unwrap());
    assert_eq!(order(store), ["b.*", "c.*", "a.*"], "{backend}");
    assert!(store.remove_policy(&c.id).unwrap());
    assert!(
        !store.move_policy(&c.id, 1).unwrap(),
        "{backend}: a removed rule"
    );
    let rules = store.policies().unwrap();
    assert_eq!(
        rules
            .iter()
            .map(|r| (r.id.as_str(), r.position))
            .collect::<Vec<_>>(),
        [(b.id.as_str(), 1), (a.id.as_str(), 2)],
        "{backend}"
    );
    assert_eq!(rules[0].action, Policy::Block);

    // Executions: paused, read, answered once.
    let paused = store
        .pause(
            "pets.addPet",
            &json!({"name": "rex"}),
            "mcp",
            Some(&b.id),
            600,
        )
        .unwrap();
    assert!(paused.id.starts_with("exec_"));
    assert_eq!(
        store.execution(&paused.id).unwrap().unwrap(),
        paused,
        "{backend}"
    );
    assert_eq!(store.open_pauses().unwrap(), 1, "{backend}");
    let approved = store
        .transition(
            &paused.id,
            ExecutionState::Paused,
            ExecutionState::Approved,
            None,
        )
        .unwrap();
    let again = store
        .transition(
            &paused.id,
            ExecutionState::Paused,
            ExecutionState::Approved,
            None,
        )
        .unwrap();
    assert!(approved && !again, "{backend}: answered once");
    let result = json!({"ok": true, "data": 1});
    assert!(
        store
            .transition(
                &paused.id,
                ExecutionState::Approved,
                ExecutionState::Completed,
                Some(&result)
            )
            .unwrap()
    );
    let done = store.execution(&paused.id).unwrap().unwrap();
    assert_eq!(
        (done.state, done.result),
        (ExecutionState::Completed, Some(result))
    );
    let other = store.pause("pets.x", &json!({}), "api", None, 600).unwrap();
    store
        .transition(
            &other.id,
            ExecutionState::Paused,
            ExecutionState::Approved,
            None,
        )
        .unwrap();
    assert_eq!(store.fail_interrupted(&json!({"ok": false})).unwrap(), 1);
    assert_eq!(
        store
            .executions(Some(ExecutionState::Failed), 10)
            .unwrap()
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>(),
        std::slice::from_ref(&other.id),
        "{backend}"
    );
    assert_eq!(store.executions(None, 10).unwrap().len(), 2, "{backend}");
    assert_eq!(store.executions(None, 1).unwrap().len(), 1, "{backend}");

    // Connections and their OAuth tokens.
    let auth: runtime::credential::Auth =
        serde_json::from_value(json!({"type": "bearer"})).unwrap();
    store
        .put_connection("pets", "org", "main", &auth, "sealed-1")
        .unwrap();
    store
        .set_connection_tokens("pets.org.main", "tokens-1")
        .unwrap();
    assert_eq!(
        store.connection_tokens("pets.org.main").unwrap().as_deref(),
        Some("tokens-1")
    );
    // Replacing a connection forgets its tokens.
    store
        .put_connection("pets", "org", "main", &auth, "sealed-2")
        .unwrap();
    assert_eq!(
        store.connection_tokens("pets.org.main").unwrap(),
        None,
        "{backend}"
    );
    let connections = store.connections().unwrap();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0].sealed_secret, "sealed-2", "{backend}");
    // One refresh at a time: a second claim waits for the first's release.
    let until = runtime::store::now() + 30;
    assert!(store.claim_refresh("pets.org.main", until).unwrap());
    assert!(
        !store.claim_refresh("pets.org.main", until).unwrap(),
        "{backend}"
    );
    store.release_refresh("pets.org.main").unwrap();
    assert!(
        store.claim_refresh("pets.org.main", until).unwrap(),
        "{backend}"
    );
    // A claim that ran out (its holder died) can be taken.
    store.release_refresh("pets.org.main").unwrap();
    assert!(store.claim_refresh("pets.org.main", 1).unwrap());
    assert!(
        store.claim_refresh("pets.org.main", until).unwrap(),
        "{backend}: expired"
    );
    assert!(store.remove_connection("pets", "org", "main").unwrap());
    assert!(store.connections().unwrap().is_empty());

    // Code-mode runs: claimed once.
    let run = StoredRun {
        id: "run_1".into(),
        state: "paused".into(),
        pending: Some(paused.id.clone()),
        body: "{}".into(),
    };
    store.save_run(&run).unwrap();
    assert_eq!(
        store.run_of_execution(&paused.id).unwrap(),
        Some(run.clone())
    );
    assert!(store.claim_run("run_1", &paused.id).unwrap());
    assert!(
        !store.claim_run("run_1", &paused.id).unwrap(),
        "{backend}: claimed once"
    );
    assert_eq!(
        store.runs_in_state("running").unwrap().len(),
        1,
        "{backend}"
    );

    // Clients and tokens: a refresh token used once; revoking ends tokens.
    let client = ClientRecord {
        id: "cl_1".into(),
        name: "ci".into(),
        kind: "token".into(),
        redirect_uris: vec!["http://127.0.0.1/cb".into()],
        scope: vec!["pets.*".into()],
        approve_all: true,
        approved: true,
        created_at: 1,
        last_used_at: None,
        revoked_at: None,
    };
    store.put_client(&client).unwrap();
    assert_eq!(
        store.client("cl_1").unwrap(),
        Some(client.clone()),
        "{backend}"
    );
    store.touch_client("cl_1", 99).unwrap();
    assert_eq!(store.clients().unwrap()[0].last_used_at, Some(99));
    let token = TokenRecord {
        hash: "h1".into(),
        client_id: "cl_1".into(),
        kind: "refresh".into(),
        resource: Some("http://127.0.0.1:4788/mcp".into()),
        expires_at: i64::MAX,
        used_at: None,
        created_at: 1,
    };
    store.put_token(&token).unwrap();
    assert_eq!(store.token("h1").unwrap(), Some(token), "{backend}");
    assert!(store.use_token("h1", 5).unwrap());
    assert!(!store.use_token("h1", 6).unwrap(), "{backend}: a replay");
    assert!(store.revoke_client("cl_1").unwrap());
    assert!(store.token("h1").unwrap().is_none(), "{backend}");
    assert!(store.client("cl_1").unwrap().unwrap().revoked_at.is_some());
    store.reinstate_client("cl_1").unwrap();
    let back = store.client("cl_1").unwrap().unwrap();
    assert!(back.revoked_at.is_none() && !back.approved && back.scope.is_empty());

    // Web UI sign-ins: a code works once and not after it expired; a
    // session answers with its CSRF token until it expires.
    let later = runtime::store::now() + 300;
    store.put_login_code("code-hash", later).unwrap();
    store.put_login_code("old-hash", 1).unwrap();
    assert!(store.redeem_login_code("code-hash").unwrap(), "{backend}");
    assert!(
        !store.redeem_login_code("code-hash").unwrap(),
        "{backend}: once"
    );
    assert!(
        !store.redeem_login_code("old-hash").unwrap(),
        "{backend}: expired"
    );
    store
        .put_web_session("session-hash", "csrf-1", later)
        .unwrap();
    store.put_web_session("gone-hash", "csrf-2", 1).unwrap();
    assert_eq!(
        store.web_session("session-hash").unwrap().as_deref(),
        Some("csrf-1")
    );
    assert_eq!(
        store.web_session("gone-hash").unwrap(),
        None,
        "{backend}: expired"
    );
    assert_eq!(store.web_session("nope").unwrap(), None);

    // The audit log: filtered by client, tool prefix and time; pruned.
    let record = |at: i64, client: Option<&str>, tool: &str| AuditRecord {
        id: 0,
        at,
        client: client.map(str::to_owned),
        caller: "api".into(),
        via: "api".into(),
        tool: tool.into(),
        decision: "allowed".into(),
        outcome: "ok".into(),
        duration_ms: 1.5,
        bytes: 10,
        execution: None,
    };
    store
        .append_audit(&[
            record(100, None, "pets.list"),
            record(200, Some("ci"), "pets.add"),
            record(300, None, "pets_x.list"),
        ])
        .unwrap();
    let read = |store: &dyn Store, filter: AuditFilter| -> Vec<String> {
        store
            .audit(&filter)
            .unwrap()
            .into_iter()
            .map(|r| r.tool)
            .collect()
    };
    let all = AuditFilter {
        limit: 10,
        ..AuditFilter::default()
    };
    assert_eq!(
        read(store, all.clone()),
        ["pets_x.list", "pets.add", "pets.list"],
        "{backend}"
    );
    assert_eq!(
        read(
            store,
            AuditFilter {
                tool: Some("pets.".into()),
                ..all.clone()
            }
        ),
        ["pets.add", "pets.list"],
        "{backend}: `_` is no wildcard"
    );
    assert_eq!(
        read(
            store,
            AuditFilter {
                client: Some("ci".into()),
                ..all.clone()
            }
        ),
        ["pets.add"]
    );
    assert_eq!(
        read(
            store,
            AuditFilter {
                since: Some(200),
                ..all.clone()
            }
        ),
        ["pets_x.list", "pets.add"]
    );
    assert_eq!(store.prune_audit(200).unwrap(), 1, "{backend}");
    assert_eq!(read(store, all).len(), 2);
}

#[test]
fn sqlite_and_postgres_answer_alike() {
    let dir = tempfile::tempdir().unwrap();
    let mut sqlite = SqliteStore::open(&dir.path().join("executor.db")).unwrap();
    behaves(&mut sqlite, "sqlite");

    let cluster = Cluster::start();
    let url = cluster.database("behaviour");
    let mut postgres = PostgresStore::open(&url).unwrap();
    behaves(&mut postgres, "postgres");
    // Opening again (another replica, a restart) migrates nothing twice.
    assert_eq!(PostgresStore::open(&url).unwrap().version().unwrap(), 3);
    // A database no executor set up is refused for reading.
    let fresh = cluster.database("fresh");
    let refused = PostgresStore::open_existing(&fresh).err().unwrap();
    assert!(
        refused.to_string().contains("executor migrate"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_made_through_one_replica_is_approved_through_another_once() {
    let cluster = Cluster::start();
    let url = cluster.database("replicas");
    let key = tempfile::tempdir().unwrap();
    let key_file = key.path().join("secret.key");
    let env = [
        ("EXECUTOR_DATABASE_URL", url.as_str()),
        ("EXECUTOR_SECRET_KEY_FILE", key_file.to_str().unwrap()),
    ];

    // `executor migrate` first, as a deployment would.
    let home_a = tempfile::tempdir().unwrap();
    let migrate = std::process::Command::new(support::service::EXE)
        .arg("migrate")
        .env("EXECUTOR_HOME", home_a.path())
        .envs(env)
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        support::service::text(&migrate.stderr)
    );
    assert!(
        support::service::text(&migrate.stdout).contains("schema version 3, up to date"),
        "{}",
        support::service::text(&migrate.stdout)
    );

    let (upstream, seen) = start_recording_upstream().await;
    let a = Service::start_with_env(home_a.path(), &env);
    a.add_echo(&upstream).await;
    // B starts after the source was added through A: it reads it from the
    // database (changes reaching replicas already running come next).
    // B is given its database on the command line (`--database-url`)
    // rather than in its environment.
    let home_b = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(support::service::EXE);
    command.args(["daemon", "run", "--port", "0", "--database-url", &url]);
    let b = Service::start_command(home_b.path(), command, &env[1..], true);

    let (status, paused) = a
        .invoke("echo.items.createItem", json!({"name": "once"}))
        .await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["error"]["code"], "execution_paused", "{paused}");
    let id = paused["error"]["executionId"].as_str().unwrap().to_owned();
    // B sees the pause and answers it.
    let (_, listed) = b.get("/api/executions?state=paused").await;
    assert_eq!(listed["data"][0]["id"], id, "{listed}");
    let resume = json!({"action": "accept"});
    let (_, resumed) = b
        .post(&format!("/api/executions/{id}/resume"), resume.clone())
        .await;
    assert_eq!(resumed["ok"], true, "{resumed}");
    assert_eq!(resumed["data"]["method"], "POST", "{resumed}");
    // Answering again through A gives the first outcome and runs nothing.
    let (_, again) = a
        .post(&format!("/api/executions/{id}/resume"), resume)
        .await;
    assert_eq!(again["data"], resumed["data"], "{again}");
    let posts = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.as_str() == "POST /v1/items")
        .count();
    assert_eq!(posts, 1, "the upstream saw the call once");

    // Changes reach the replica already running: a policy added through
    // A blocks the tool on B, a source added through A is callable on B,
    // each within a second.
    let within_a_second = |what: &str| {
        let started = std::time::Instant::now();
        let what = what.to_owned();
        move || {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(1),
                "{what} did not reach the other replica within a second"
            );
        }
    };
    let (status, added) = a
        .post(
            "/api/policies",
            json!({"pattern": "echo.*.*.items.getItem", "action": "block"}),
        )
        .await;
    assert_eq!(status, 200, "{added}");
    let check = within_a_second("a policy");
    loop {
        let (_, read) = b.invoke("echo.items.getItem", json!({"id": 1})).await;
        if read["ok"] == false {
            assert_eq!(read["error"]["code"], "tool_blocked", "{read}");
            break;
        }
        check();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    a.add_openapi(json!({
        "spec": support::fixtures().join("service/echo.yaml").display().to_string(),
        "namespace": "second",
        "baseUrl": format!("{upstream}/v1"),
    }))
    .await;
    let check = within_a_second("a source");
    loop {
        let (_, found) = b.invoke("second.items.getItem", json!({"id": 7})).await;
        if found["ok"] == true {
            break;
        }
        assert_eq!(found["error"]["code"], "tool_not_found", "{found}");
        check();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
