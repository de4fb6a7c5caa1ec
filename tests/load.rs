//! Load and fault tests against the real binary, each bounded in count and
//! time, all traffic on 127.0.0.1: concurrent invokes, a burst of pauses
//! resumed concurrently, SIGKILL during a burst of writes, and a small full
//! disk. Figures from these runs are in BENCHMARKS.md; these tests assert
//! correctness under load (no errors, nothing lost, nothing run twice),
//! never timings.

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::json;
use support::service::{EXE, Service, start_recording_upstream};

/// A spec with `n` operations, to fill a disk with.
fn filler_spec(title: &str, n: usize) -> String {
    let mut paths = serde_json::Map::new();
    for i in 0..n {
        paths.insert(
            format!("/{title}/things{i}/{{id}}"),
            json!({"get": {
                "operationId": format!("getThing{i}"),
                "description": "x".repeat(400),
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "a thing", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }}),
        );
    }
    json!({"openapi": "3.1.0", "info": {"title": title, "version": "1"}, "paths": paths})
        .to_string()
}

/// The database on a 2 MiB disk of its own (tmpfs in a user and mount
/// namespace, so no privileges are needed), with 768 KiB of it held by a
/// filler file that is removed when the test creates `free-space` in the
/// home: a full disk is said plainly (`storage_full`, 507), reads and calls
/// go on, and writes work again once there is space.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_said_plainly_reads_go_on_and_writes_recover() {
    let (upstream, _) = start_recording_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let small = home.path().join("small");
    std::fs::create_dir(&small).unwrap();
    std::os::unix::fs::symlink(small.join("executor.db"), home.path().join("executor.db")).unwrap();
    const SCRIPT: &str = r#"
set -e
mount -t tmpfs -o size=2m tmpfs "$SMALL"
head -c 786432 /dev/zero > "$SMALL/filler"
( for i in $(seq 1 1200); do
    if [ -e "$EXECUTOR_HOME/free-space" ]; then rm -f "$SMALL/filler"; exit 0; fi
    sleep 0.05
  done ) &
exec "$EXE" daemon run --port 0
"#;
    let mut command = Command::new("unshare");
    command
        .args([
            "--fork",
            "--kill-child",
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            SCRIPT,
        ])
        .env("SMALL", &small)
        .env("EXE", EXE);
    let service = Service::start_command(home.path(), command, &[], false);
    service.add_echo(&upstream).await;
    service.allow("echo.*").await;

    let add = |i: usize| {
        service.invoke(
            "executor.openapi.addSource",
            json!({"spec": filler_spec(&format!("fill{i}"), 60), "namespace": format!("fill{i}"), "baseUrl": "http://127.0.0.1:9"}),
        )
    };
    let mut full = None;
    for i in 0..60 {
        let (status, r) = add(i).await;
        if r["ok"] == false {
            full = Some((i, status, r));
            break;
        }
    }
    let (i, status, r) = full.expect("the 2 MiB disk never filled up");
    assert_eq!(status, 507, "{r}");
    assert_eq!(r["error"]["code"], "storage_full", "{r}");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("disk"),
        "{r}"
    );
    // Still full: the same write fails the same way, and nothing half
    // written shows.
    let (status, r) = add(i).await;
    assert_eq!(
        (status, &r["error"]["code"]),
        (507, &json!("storage_full")),
        "{r}"
    );
    let (_, sources) = service.get("/api/sources").await;
    assert!(
        !sources.to_string().contains(&format!("\"fill{i}\"")),
        "{sources}"
    );

    // Reads and calls go on.
    let (status, r) = service.get("/api/tools?namespace=echo").await;
    assert_eq!(status, 200, "{r}");
    let (_, r) = service.invoke("echo.items.getItem", json!({"id": 3})).await;
    assert_eq!(r["ok"], true, "{r}");

    // Space returns: so do writes.
    std::fs::write(home.path().join("free-space"), "").unwrap();
    let mut recovered = false;
    for _ in 0..100 {
        let (_, r) = add(i).await;
        if r["ok"] == true {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recovered, "writes did not recover once there was space");
    let (_, sources) = service.get("/api/sources").await;
    assert!(
        sources.to_string().contains(&format!("\"fill{i}\"")),
        "{sources}"
    );
}

/// One client for a burst: enough connections for every request at once.
fn burst_client() -> reqwest::Client {
    support::service::http();
    reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// 1,000 invokes at once against a local upstream: every one succeeds
/// (calls beyond a source's in-flight bound wait for a slot; none fails).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_invokes_all_succeed() {
    let (upstream, seen) = start_recording_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service.add_echo(&upstream).await;
    service.allow("echo.*").await;
    let client = burst_client();
    let calls = (0..1000).map(|i| {
        let client = &client;
        let service = &service;
        async move {
            service
                .post_with(
                    client,
                    "/api/tools/invoke/echo.items.getItem",
                    json!({"id": i}),
                )
                .await
        }
    });
    let results = futures::future::join_all(calls).await;
    let failed: Vec<_> = results.iter().filter(|(_, r)| r["ok"] != true).collect();
    assert!(
        failed.is_empty(),
        "{} failed, e.g. {:?}",
        failed.len(),
        failed.first()
    );
    for (i, (_, r)) in results.iter().enumerate() {
        assert_eq!(r["data"]["path"], format!("/v1/items/{i}"));
    }
    assert_eq!(seen.lock().unwrap().len(), 1000);
}

/// 200 pauses, then 200 resumes at once, each raced by two more resumes of
/// the same pause: exactly 200 writes reach the upstream, one per pause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_pauses_resumed_at_once_run_exactly_once_each() {
    let (upstream, seen) = start_recording_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service.add_echo(&upstream).await;
    let client = burst_client();
    let mut ids = Vec::new();
    for i in 0..200 {
        let (_, r) = service
            .invoke("echo.items.deleteItem", json!({"id": i}))
            .await;
        assert_eq!(r["error"]["code"], "execution_paused", "{r}");
        ids.push(r["error"]["executionId"].as_str().unwrap().to_owned());
    }
    assert!(seen.lock().unwrap().is_empty());
    let resumes = ids.iter().flat_map(|id| {
        let route = format!("/api/executions/{id}/resume");
        (0..3).map(move |_| route.clone())
    });
    let resumes = resumes.map(|route| {
        let (client, service) = (&client, &service);
        async move {
            service
                .post_with(client, &route, json!({"action": "accept"}))
                .await
        }
    });
    let results = futures::future::join_all(resumes).await;
    // Every resume answers with the call's one result (a repeated resume
    // returns the stored outcome), and the upstream saw each call once.
    let answered = results.iter().filter(|(_, r)| r["ok"] == true).count();
    assert_eq!(
        answered,
        600,
        "{:?}",
        results.iter().find(|(_, r)| r["ok"] != true)
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 200, "{seen:?}");
    let mut paths: Vec<&String> = seen.iter().collect();
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 200, "a pause ran twice");
}

/// SIGKILL in the middle of a burst of policy adds and resumes, then a
/// restart: every acknowledged add is there, every acknowledged resume ran
/// exactly once, and nothing runs twice (a resume cut off mid-call is
/// marked failed, never run again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_burst_loses_nothing_acknowledged_and_runs_nothing_twice() {
    let (upstream, seen) = start_recording_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service.add_echo(&upstream).await;
    let client = burst_client();
    let mut ids = Vec::new();
    for i in 0..100 {
        let (_, r) = service
            .invoke("echo.items.deleteItem", json!({"id": i}))
            .await;
        ids.push(r["error"]["executionId"].as_str().unwrap().to_owned());
    }
    let url = service.url.clone();
    let token = service.token.clone();
    let burst = {
        let client = client.clone();
        let ids = ids.clone();
        tokio::spawn(async move {
            let mut acked_rules = Vec::new();
            let mut acked_resumes = Vec::new();
            // Rule adds and resumes interleaved, all at once.
            let calls = ids.iter().enumerate().flat_map(|(i, id)| {
                let (client, url, token) = (client.clone(), url.clone(), token.clone());
                let id = id.clone();
                [false, true].map(move |is_resume| {
                    let (client, url, token, id) =
                        (client.clone(), url.clone(), token.clone(), id.clone());
                    async move {
                        let (route, body) = if is_resume {
                            (
                                format!("{url}/api/executions/{id}/resume"),
                                json!({"action": "accept"}),
                            )
                        } else {
                            (
                                format!("{url}/api/policies"),
                                json!({"pattern": format!("ns{i}.*"), "action": "block"}),
                            )
                        };
                        let response = client
                            .post(route)
                            .bearer_auth(&token)
                            .json(&body)
                            .send()
                            .await;
                        let acked = match response {
                            Ok(r) => r
                                .json::<serde_json::Value>()
                                .await
                                .is_ok_and(|v| v["ok"] == true),
                            Err(_) => false,
                        };
                        (i, is_resume, acked)
                    }
                })
            });
            for (i, is_resume, acked) in futures::future::join_all(calls).await {
                match (is_resume, acked) {
                    (false, true) => acked_rules.push(i),
                    (true, true) => acked_resumes.push(i),
                    _ => {}
                }
            }
            (acked_rules, acked_resumes)
        })
    };
    // Let part of the burst land, then pull the plug.
    // Pull the plug once a fifth of the resumes reached the upstream.
    let started = std::time::Instant::now();
    while seen.lock().unwrap().len() < 20 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the burst never started"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    service.kill();
    let (acked_rules, acked_resumes) = burst.await.unwrap();

    let service = Service::start(home.path());
    let (_, rules) = service.get("/api/policies").await;
    let patterns = rules["data"].to_string();
    for i in &acked_rules {
        assert!(
            patterns.contains(&format!("\"ns{i}.*\"")),
            "acknowledged rule ns{i}.* was lost"
        );
    }
    // Resume everything again after the restart: whatever was claimed but
    // cut off is failed, not run a second time.
    for id in &ids {
        service
            .post_with(
                &client,
                &format!("/api/executions/{id}/resume"),
                json!({"action": "accept"}),
            )
            .await;
    }
    let seen = seen.lock().unwrap();
    for i in 0..100 {
        let line = format!("DELETE /v1/items/{i}");
        let runs = seen.iter().filter(|l| **l == line).count();
        assert!(runs <= 1, "item {i} was deleted {runs} times");
        if acked_resumes.contains(&i) {
            assert_eq!(runs, 1, "acknowledged resume of item {i} did not run");
        }
    }
    eprintln!(
        "before the kill: {} rules and {} resumes acknowledged, {} upstream calls in all",
        acked_rules.len(),
        acked_resumes.len(),
        seen.len()
    );
}
