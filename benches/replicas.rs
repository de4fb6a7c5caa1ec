//! Issue 21's figures (`cargo bench --bench invoke -- replicas`): invoke
//! throughput and latency with one replica on SQLite, one on PostgreSQL,
//! and three on PostgreSQL behind nginx (`deploy/nginx.conf`), for a read
//! (a call to the upstream, nothing stored) and a write that pauses (an
//! execution stored). PostgreSQL is a throwaway cluster from Debian's
//! package, as in the tests; the load comes from this process.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Target, latencies, post_ok, throughput, us};

#[path = "../tests/support/postgres.rs"]
#[allow(dead_code)]
mod pg;

struct Replica {
    child: Child,
    _home: tempfile::TempDir,
    url: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn replica(env: &[(&str, String)]) -> Replica {
    let home = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_executor"))
        .args(["daemon", "run", "--port", "0"])
        .env("EXECUTOR_HOME", home.path())
        .env("EXECUTOR_LOG", "warn")
        // Every write of the load stays paused: no cap on open pauses.
        .env("EXECUTOR_MAX_OPEN_PAUSES", "100000000")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Its token may be in a shared file: only its address is read here.
    let started = Instant::now();
    let url = loop {
        if let Ok(bytes) = std::fs::read(home.path().join("service.json")) {
            let info: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            break info["url"].as_str().unwrap().to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the replica did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    Replica {
        child,
        _home: home,
        url,
    }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// `deploy/nginx.conf` in front of `replicas`, on `port`.
fn nginx(dir: &Path, replicas: &[Replica], port: u16) -> Child {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut conf = std::fs::read_to_string(root.join("deploy/nginx.conf")).unwrap();
    for (default, replica) in ["4788", "4789", "4790"].iter().zip(replicas) {
        conf = conf.replace(
            &format!("127.0.0.1:{default}"),
            &format!("127.0.0.1:{}", port_of(&replica.url)),
        );
    }
    conf = conf.replace("listen 8080;", &format!("listen 127.0.0.1:{port};"));
    conf = conf.replace(
        "worker_processes 1;",
        "worker_processes 1;\nerror_log stderr;",
    );
    conf = conf.replace("http {", "http {\n    access_log off;");
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new("/usr/sbin/nginx")
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("logs/error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Debian's nginx");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "nginx did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// The bench API added through `url` (a read; a write paused by a rule).
async fn add_bench(url: &str, token: &str, upstream: &str) {
    let http = reqwest::Client::new();
    let spec = json!({
        "openapi": "3.1.0",
        "info": {"title": "bench", "version": "1"},
        "paths": {"/items/{id}": {
            "get": {"operationId": "getItem", "tags": ["items"],
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}},
            "put": {"operationId": "putItem", "tags": ["items"],
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "ok"}}}}}
    });
    post_ok(
        &http,
        &format!("{url}/api/tools/invoke/executor.openapi.addSource"),
        token,
        &json!({"spec": spec.to_string(), "namespace": "bench", "baseUrl": format!("{upstream}/v1")}),
    )
    .await;
}

async fn measure(label: &str, url: &str, token: &str) {
    let http = reqwest::Client::new();
    let read = Target {
        url: format!("{url}/api/tools/invoke/bench.org.main.items.getItem"),
        token: Some(token.to_owned()),
        body: Some(json!({"id": 1}).to_string()),
    };
    let write = Target {
        url: format!("{url}/api/tools/invoke/bench.org.main.items.putItem"),
        token: Some(token.to_owned()),
        body: Some(json!({"id": 1}).to_string()),
    };
    for _ in 0..200 {
        read.send(&http).await;
        write.send(&http).await;
    }
    let r = latencies(&http, &read).await;
    let rt = throughput(&read).await;
    let w = latencies(&http, &write).await;
    let wt = throughput(&write).await;
    println!(
        "| {label} | {} / {} | {rt:.0} req/s | {} / {} | {wt:.0} req/s |",
        us(r.0),
        us(r.1),
        us(w.0),
        us(w.1)
    );
}

pub async fn replicas_bench() {
    let app = axum::Router::new().route(
        "/v1/items/{id}",
        axum::routing::get(|| async { axum::Json(json!({"id": 1, "name": "widget"})) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    println!(
        "## replicas: {} sequential calls (p50 / p99), then {} concurrent for {} s\n",
        super::SEQUENTIAL,
        super::CONCURRENCY,
        super::LOAD_SECONDS
    );
    println!(
        "| setup | read p50 / p99 | read throughput | paused write p50 / p99 | paused write throughput |"
    );
    println!("|---|---|---|---|---|");

    // One replica on SQLite.
    {
        let one = replica(&[]);
        let token = std::fs::read_to_string(one._home.path().join("token")).unwrap();
        add_bench(&one.url, token.trim(), &upstream).await;
        measure("1 replica, SQLite", &one.url, token.trim()).await;
    }

    let cluster = pg::Cluster::start();
    let shared = tempfile::tempdir().unwrap();
    let file = |name: &str| shared.path().join(name).display().to_string();
    let lb_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = |database: &str, name: &str| {
        vec![
            ("EXECUTOR_DATABASE_URL", cluster.database(database)),
            ("EXECUTOR_SECRET_KEY_FILE", file("secret.key")),
            ("EXECUTOR_TOKEN_FILE", file("token")),
            ("EXECUTOR_MCP_TOKEN_FILE", file("mcp-token")),
            ("EXECUTOR_REPLICA", name.to_owned()),
            ("EXECUTOR_ALLOWED_HOSTS", format!("127.0.0.1:{lb_port}")),
        ]
    };

    // One replica on PostgreSQL.
    {
        let one = replica(&env("one", "a"));
        let token = std::fs::read_to_string(file("token")).unwrap();
        add_bench(&one.url, token.trim(), &upstream).await;
        measure("1 replica, PostgreSQL", &one.url, token.trim()).await;
    }

    // Three on one PostgreSQL database behind nginx.
    {
        let mut shared_env = env("three", "a");
        let url = shared_env[0].1.clone();
        let replicas: Vec<Replica> = ["a", "b", "c"]
            .iter()
            .map(|name| {
                shared_env[0].1 = url.clone();
                shared_env[4].1 = (*name).to_owned();
                replica(&shared_env)
            })
            .collect();
        let token = std::fs::read_to_string(file("token")).unwrap();
        add_bench(&replicas[0].url, token.trim(), &upstream).await;
        // Every replica has the source before the load starts.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let dir = tempfile::tempdir().unwrap();
        let mut balancer = nginx(dir.path(), &replicas, lb_port);
        measure(
            "3 replicas, PostgreSQL, nginx",
            &format!("http://127.0.0.1:{lb_port}"),
            token.trim(),
        )
        .await;
        super::stop_nginx(&mut balancer);
    }
    println!();
}
