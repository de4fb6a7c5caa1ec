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

fn echo_spec() -> String {
    support::fixtures()
        .join("service/echo.yaml")
        .display()
        .to_string()
}

async fn add_echo(service: &Service, upstream: &str) {
    let r = service
        .invoke(
            "executor.openapi.addSource",
            json!({"spec": echo_spec(), "namespace": "echo", "baseUrl": format!("{upstream}/v1")}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
}

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
    add_echo(&service, &upstream).await;
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
