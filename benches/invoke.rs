//! Added latency and throughput of `POST /api/tools/invoke` against calling
//! the same upstream directly, and tool search latency over a catalog of
//! every fixture spec. Run with `cargo bench --bench invoke`; numbers go to
//! BENCHMARKS.md.
//!
//! One process holds the load generator and the upstream (an axum app on
//! 127.0.0.1:0); the service is the real release binary in another process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

// The fixture corpus, unpacked under target/test-fixtures/ as the tests do.
#[path = "../tests/support/corpus.rs"]
mod corpus;

// Issue 17's figures: adds, memory, the first listing (`-- scale`).
#[path = "scale.rs"]
mod scale;

// The same workload on the npm product, when it is installed.
#[path = "product.rs"]
mod product;

// Issue 21's figures: one replica on SQLite, one on PostgreSQL, three
// behind nginx (`-- replicas`, only when asked: it needs PostgreSQL and
// nginx from Debian).
#[path = "replicas.rs"]
mod replicas;

const SEQUENTIAL: usize = 3000;
const CONCURRENCY: usize = 16;
const LOAD_SECONDS: u64 = 4;

fn main() {
    runtime::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // `cargo bench --bench invoke -- mcp` runs one part: invoke, mcp, proxy,
    // search, load, code, scale or replicas (that one only when named).
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let run = |part: &str| only.as_deref().is_none_or(|o| o == part);
    if run("invoke") {
        rt.block_on(invoke_bench());
    }
    if run("mcp") {
        rt.block_on(mcp_bench());
    }
    if run("proxy") {
        rt.block_on(proxy_bench());
    }
    if run("search") {
        search_bench();
    }
    if run("load") {
        rt.block_on(load_bench());
    }
    if run("code") {
        rt.block_on(code_bench());
    }
    if only.as_deref() == Some("replicas") {
        rt.block_on(replicas::replicas_bench());
    }
    if run("scale") {
        rt.block_on(scale::scale_bench());
        match product::product_bin() {
            Some(bin) => rt.block_on(product::product_bench(bin)),
            None => println!(
                "the npm product is not installed: `npm install --prefix benches/product executor@1.5.9` adds it beside these figures\n"
            ),
        }
    }
}

/// Code mode: a one-call script against calling the same tool through
/// `POST /api/tools/invoke`; an empty script (the sandbox's start-up, plus
/// one HTTP round trip); and the bytes of `tools/list` in each MCP view
/// with GitHub, Stripe, Kubernetes and OpenAI loaded.
async fn code_bench() {
    let (_upstream, _home, mut child, url, token) = bench_source().await;
    let http = reqwest::Client::new();
    let invoke = Target {
        url: format!("{url}/api/tools/invoke/bench.org.main.items.getItem"),
        token: Some(token.clone()),
        body: Some(json!({"id": 1}).to_string()),
    };
    let script = Target {
        url: format!("{url}/api/execute"),
        token: Some(token.clone()),
        body: Some(
            json!({"code": "const r = await tools.bench.items.getItem({ id: 1 });\nreturn r.data;"})
                .to_string(),
        ),
    };
    let empty = Target {
        url: format!("{url}/api/execute"),
        token: Some(token.clone()),
        body: Some(json!({"code": "return 1"}).to_string()),
    };
    for _ in 0..200 {
        invoke.send(&http).await;
        script.send(&http).await;
        empty.send(&http).await;
    }
    let i = latencies(&http, &invoke).await;
    let s = latencies(&http, &script).await;
    let e = latencies(&http, &empty).await;
    println!("## code mode: {SEQUENTIAL} sequential calls each\n");
    println!("| path | p50 | p99 |");
    println!("|---|---|---|");
    println!(
        "| `POST /api/tools/invoke` (one read) | {} | {} |",
        us(i.0),
        us(i.1)
    );
    println!(
        "| `POST /api/execute`, a script making the same call | {} | {} |",
        us(s.0),
        us(s.1)
    );
    println!(
        "| `POST /api/execute`, `return 1` (sandbox start-up + HTTP) | {} | {} |",
        us(e.0),
        us(e.1)
    );
    println!(
        "\nadded by the script: p50 {}, p99 {}\n",
        us(s.0.saturating_sub(i.0)),
        us(s.1.saturating_sub(i.1))
    );

    for (namespace, file) in FOUR_SPECS {
        add_source(
            &http,
            &url,
            &token,
            "executor.openapi.addSource",
            famous_spec(namespace, file),
        )
        .await;
    }
    println!("| `/mcp` view, four specs loaded | tools | bytes of `tools/list` (all pages) |");
    println!("|---|---|---|");
    for view in ["all", "discover", "code"] {
        let listing = list_all(&url, &token, view).await;
        println!(
            "| `?tools={view}` | {} | {} |",
            listing.tools, listing.bytes
        );
    }
    println!();
    let _ = child.kill();
    let _ = child.wait();
}

/// GitHub, Stripe, Kubernetes and OpenAI: namespaces and files in the
/// corpus's `openapi/famous/`.
const FOUR_SPECS: [(&str, &str); 4] = [
    ("github", "github-api.github.com.json"),
    ("stripe", "stripe-spec3-2023-09-12.yaml"),
    ("kubernetes", "kubernetes-swagger-2.0.json"),
    ("openai", "openai-openapi.yaml"),
];

/// `executor.openapi.addSource`'s input for a spec of the corpus's
/// `openapi/famous/`.
fn famous_spec(namespace: &str, file: &str) -> Value {
    let spec = corpus::corpus().join("openapi/famous").join(file);
    json!({"spec": spec.display().to_string(), "namespace": namespace, "lenient": true})
}

/// What one listing of every page of `tools/list` took and gave.
struct Listing {
    first_page: Duration,
    whole: Duration,
    tools: usize,
    bytes: usize,
}

/// Every page of `tools/list` on a fresh session of `/mcp?tools=<view>`.
async fn list_all(url: &str, token: &str, view: &str) -> Listing {
    let mut mcp = McpHttp::connect(&format!("{url}/mcp?tools={view}"), Some(token)).await;
    let started = Instant::now();
    let mut first_page = None;
    let (mut tools, mut bytes) = (0, 0);
    let mut cursor: Option<String> = None;
    loop {
        let (count, size, next) = mcp.list_page(cursor.as_deref()).await;
        first_page.get_or_insert(started.elapsed());
        tools += count;
        bytes += size;
        cursor = next;
        if cursor.is_none() {
            break;
        }
    }
    Listing {
        first_page: first_page.unwrap_or_default(),
        whole: started.elapsed(),
        tools,
        bytes,
    }
}

/// The load tests' scenarios (tests/load.rs) timed on the release binary:
/// 1,000 invokes at once, direct and through executor; 200 pauses resumed
/// at once.
async fn load_bench() {
    let writes = Arc::new(AtomicU64::new(0));
    let counted = writes.clone();
    let app = Router::new().route(
        "/v1/items/{id}",
        get(|| async { axum::Json(json!({"id": 1, "name": "widget"})) }).delete(move || {
            counted.fetch_add(1, Ordering::Relaxed);
            async { axum::http::StatusCode::NO_CONTENT }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let (_home, mut child, url, token) = start_service();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap();
    let spec = json!({
        "openapi": "3.1.0",
        "info": {"title": "load", "version": "1"},
        "paths": {"/items/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
            "get": {"operationId": "getItem", "tags": ["items"], "responses": {"200": {"description": "ok"}}},
            "delete": {"operationId": "deleteItem", "tags": ["items"], "responses": {"204": {"description": "gone"}}}
        }}
    });
    post_ok(&http, &format!("{url}/api/tools/invoke/executor.openapi.addSource"), &token,
        &json!({"spec": spec.to_string(), "namespace": "load", "baseUrl": format!("{upstream}/v1")})).await;
    post_ok(
        &http,
        &format!("{url}/api/policies"),
        &token,
        &json!({"pattern": "load.items.getItem", "action": "allow"}),
    )
    .await;

    println!("## load: 1,000 invokes at once; 200 pauses resumed at once\n");
    println!("| scenario | wall time | p50 | p99 | errors |");
    println!("|---|---|---|---|---|");
    for (name, target, token) in [
        (
            "1,000 GETs at once, direct",
            format!("{upstream}/v1/items/1"),
            None,
        ),
        (
            "1,000 invokes at once, through executor",
            format!("{url}/api/tools/invoke/load.items.getItem"),
            Some(token.clone()),
        ),
    ] {
        // Warm the pool, then one burst.
        let burst = |n: usize| {
            let calls = (0..n).map(|i| {
                let (http, target, token) = (http.clone(), target.clone(), token.clone());
                async move {
                    let started = Instant::now();
                    let request = match &token {
                        Some(t) => http.post(&target).bearer_auth(t).json(&json!({"id": i})),
                        None => http.get(&target),
                    };
                    let ok = request.send().await.is_ok_and(|r| r.status().is_success());
                    (started.elapsed(), ok)
                }
            });
            futures::future::join_all(calls)
        };
        burst(1000).await;
        let started = Instant::now();
        let mut results = burst(1000).await;
        let wall = started.elapsed();
        let errors = results.iter().filter(|(_, ok)| !ok).count();
        results.sort();
        println!(
            "| {name} | {:.0} ms | {:.1} ms | {:.1} ms | {errors} |",
            wall.as_secs_f64() * 1000.0,
            results[500].0.as_secs_f64() * 1000.0,
            results[990].0.as_secs_f64() * 1000.0
        );
    }
    let mut ids = Vec::new();
    for i in 0..200 {
        let answer: Value = http
            .post(format!("{url}/api/tools/invoke/load.items.deleteItem"))
            .bearer_auth(&token)
            .json(&json!({"id": i}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(answer["error"]["executionId"].as_str().unwrap().to_owned());
    }
    let started = Instant::now();
    let resumes = ids.iter().map(|id| {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        async move {
            let started = Instant::now();
            let ok = http
                .post(format!("{url}/api/executions/{id}/resume"))
                .bearer_auth(&token)
                .json(&json!({"action": "accept"}))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            (started.elapsed(), ok)
        }
    });
    let mut results = futures::future::join_all(resumes).await;
    let wall = started.elapsed();
    let errors = results.iter().filter(|(_, ok)| !ok).count();
    results.sort();
    println!(
        "| 200 resumes at once (each one upstream write) | {:.0} ms | {:.1} ms | {:.1} ms | {errors} |",
        wall.as_secs_f64() * 1000.0,
        results[100].0.as_secs_f64() * 1000.0,
        results[198].0.as_secs_f64() * 1000.0
    );
    println!(
        "\nupstream writes: {} (expected 200)\n",
        writes.load(Ordering::Relaxed)
    );
    let _ = child.kill();
    let _ = child.wait();
}

async fn invoke_bench() {
    let (upstream, _home, mut child, url, token) = bench_source().await;
    let http = reqwest::Client::new();

    let direct = Target {
        url: format!("{upstream}/v1/items/1"),
        token: None,
        body: None,
    };
    let through = Target {
        url: format!("{url}/api/tools/invoke/bench.org.main.items.getItem"),
        token: Some(token.clone()),
        body: Some(json!({"id": 1}).to_string()),
    };
    // Warm up both paths.
    for _ in 0..200 {
        direct.send(&http).await;
        through.send(&http).await;
    }
    let d = latencies(&http, &direct).await;
    let t = latencies(&http, &through).await;
    let dr = throughput(&direct).await;
    let tr = throughput(&through).await;
    println!(
        "## invoke: {SEQUENTIAL} sequential calls, then {CONCURRENCY} concurrent for {LOAD_SECONDS} s\n"
    );
    println!("| path | p50 | p99 | throughput |");
    println!("|---|---|---|---|");
    println!(
        "| direct to the upstream | {} | {} | {dr:.0} req/s |",
        us(d.0),
        us(d.1)
    );
    let pct = |r: f64| 100.0 * r / dr;
    println!(
        "| through executor | {} | {} | {tr:.0} req/s ({:.0}% of direct) |",
        us(t.0),
        us(t.1),
        pct(tr)
    );
    // The reference any local proxy is held to: nginx, proxying only.
    if let Some((port, _dir, mut nginx)) = start_nginx(&upstream) {
        let via = Target {
            url: format!("http://127.0.0.1:{port}/v1/items/1"),
            token: None,
            body: None,
        };
        for _ in 0..200 {
            via.send(&http).await;
        }
        let n = latencies(&http, &via).await;
        let nr = throughput(&via).await;
        println!(
            "| through nginx (proxy only) | {} | {} | {nr:.0} req/s ({:.0}% of direct) |",
            us(n.0),
            us(n.1),
            pct(nr)
        );
        stop_nginx(&mut nginx);
    } else {
        println!(
            "| through nginx | not measured: install nginx (apt-get install nginx-light) | | |"
        );
    }
    println!(
        "\nadded by executor: p50 {}, p99 {}\n",
        us(t.0.saturating_sub(d.0)),
        us(t.1.saturating_sub(d.1))
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// The benches' upstream (axum, one JSON answer at `/v1/items/{id}`) and a
/// service with it added as `bench`: the upstream's URL, the service's
/// home, process, URL and token.
async fn bench_source() -> (
    String,
    tempfile::TempDir,
    std::process::Child,
    String,
    String,
) {
    let app = Router::new().route(
        "/v1/items/{id}",
        get(|| async { axum::Json(json!({"id": 1, "name": "widget", "tags": ["a", "b"]})) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let (home, child, url, token) = start_service();
    let spec = json!({
        "openapi": "3.1.0",
        "info": {"title": "bench", "version": "1"},
        "paths": {"/items/{id}": {"get": {"operationId": "getItem", "tags": ["items"],
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}}}
    });
    add_source(&reqwest::Client::new(), &url, &token, "executor.openapi.addSource", json!({"spec": spec.to_string(), "namespace": "bench", "baseUrl": format!("{upstream}/v1")})).await;
    (upstream, home, child, url, token)
}

/// nginx as a plain keep-alive reverse proxy to the upstream, if installed.
fn start_nginx(upstream: &str) -> Option<(u16, tempfile::TempDir, std::process::Child)> {
    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())?;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let up = upstream.trim_start_matches("http://");
    let d = dir.path().display().to_string();
    let conf = format!(
        "daemon off; worker_processes auto; pid {d}/nginx.pid; error_log {d}/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{ access_log off; client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};\n\
         upstream up {{ server {up}; keepalive 64; }}\n\
         server {{ listen 127.0.0.1:{port}; location / {{ proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection \"\"; }} }} }}\n"
    );
    let conf_path = dir.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let mut child = Command::new(nginx)
        .args(["-c", &conf_path.display().to_string(), "-p", &d])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some((port, dir, child))
}

/// SIGTERM, so that nginx's master stops its workers (after a SIGKILL
/// they would live on, holding the port), then waits for it.
fn stop_nginx(nginx: &mut std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &nginx.id().to_string()])
        .status();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = nginx.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = nginx.kill();
    let _ = nginx.wait();
}

struct Target {
    url: String,
    token: Option<String>,
    body: Option<String>,
}

impl Target {
    async fn send(&self, http: &reqwest::Client) {
        let request = match &self.body {
            Some(body) => http
                .post(&self.url)
                .header("content-type", "application/json")
                .body(body.clone()),
            None => http.get(&self.url),
        };
        let request = match &self.token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        let response = request.send().await.unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
    }
}

async fn latencies(http: &reqwest::Client, target: &Target) -> (Duration, Duration) {
    let mut samples = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        let started = Instant::now();
        target.send(http).await;
        samples.push(started.elapsed());
    }
    samples.sort();
    (samples[SEQUENTIAL / 2], samples[SEQUENTIAL * 99 / 100])
}

async fn throughput(target: &Target) -> f64 {
    let http = reqwest::Client::new();
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECONDS);
    let target = Arc::new(Target {
        url: target.url.clone(),
        token: target.token.clone(),
        body: target.body.clone(),
    });
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (http, count, target) = (http.clone(), count.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                target.send(&http).await;
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    count.load(Ordering::Relaxed) as f64 / LOAD_SECONDS as f64
}

/// Runs one of executor's source tools and insists that it worked, then
/// allows its tools: the benchmarks measure calling, and a rule in place is
/// the realistic setup.
async fn add_source(http: &reqwest::Client, url: &str, token: &str, tool: &str, input: Value) {
    let namespace = input["namespace"].as_str().unwrap().to_owned();
    post_ok(
        http,
        &format!("{url}/api/tools/invoke/{tool}"),
        token,
        &input,
    )
    .await;
    let rule = json!({"pattern": format!("{namespace}.*"), "action": "allow"});
    post_ok(http, &format!("{url}/api/policies"), token, &rule).await;
}

/// POSTs JSON with the token; the answer must be `ok: true`.
async fn post_ok(http: &reqwest::Client, url: &str, token: &str, body: &Value) {
    let answer: Value = http
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["ok"], true, "{answer}");
}

/// The release binary as the service, in a fresh home.
fn start_service() -> (tempfile::TempDir, std::process::Child, String, String) {
    let home = tempfile::tempdir().unwrap();
    let (child, url, token) = start_service_in(home.path());
    (home, child, url, token)
}

/// The service on an existing home (a restart, after the last one was
/// killed): its child, URL and token.
fn start_service_in(home: &Path) -> (std::process::Child, String, String) {
    let _ = std::fs::remove_file(home.join("service.json"));
    // EXECUTOR_BENCH_EXE runs another build of the service (an older
    // commit's, to compare side by side) under the same load.
    let exe = std::env::var("EXECUTOR_BENCH_EXE")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_executor").to_owned());
    let child = Command::new(exe)
        .args(["daemon", "run", "--port", "0"])
        .env("EXECUTOR_HOME", home)
        .env("EXECUTOR_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (url, token) = wait_for_service(home);
    (child, url, token)
}

fn wait_for_service(home: &Path) -> (String, String) {
    let started = Instant::now();
    loop {
        if let Ok(bytes) = std::fs::read(home.join("service.json")) {
            let info: Value = serde_json::from_slice(&bytes).unwrap();
            let token = std::fs::read_to_string(home.join("token"))
                .unwrap()
                .trim()
                .to_owned();
            return (info["url"].as_str().unwrap().to_owned(), token);
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the service did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn us(d: Duration) -> String {
    format!("{} µs", d.as_micros())
}

/// Every spec of the fixture corpus (tests/fixtures/corpus/openapi) in one
/// catalog, then queries.
fn search_bench() {
    let base = corpus::corpus().join("openapi");
    let mut files = Vec::new();
    collect(&base, &mut files);
    files.sort();
    let mut catalog = generator::ir::Catalog::default();
    for (i, path) in files.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let options = generator::ingest::openapi::Options {
            lenient: true,
            ..generator::ingest::openapi::Options::new(format!("s{i}"))
        };
        let mut loader = runtime::files::DirLoader::for_spec(path);
        if let Ok(ingested) = generator::ingest::openapi::ingest(&text, &options, Some(&mut loader))
        {
            catalog.insert(
                ingested.integration,
                ingested
                    .tools
                    .into_iter()
                    .map(generator::ir::Tool::into_text)
                    .collect(),
            );
        }
    }
    let started = Instant::now();
    let index = runtime::search::SearchIndex::build(&catalog);
    let build = started.elapsed();
    let everyday = [
        "send email",
        "create an issue",
        "list pull requests",
        "upload a file",
        "delete user",
        "get account balance",
        "refund a payment",
        "search repositories",
    ];
    // The labelled set of tests/search.rs: 311 queries as people type them.
    let labelled: Vec<String> = ["queries.tsv", "heldout.tsv"]
        .iter()
        .flat_map(|set| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/fixtures/search")
                .join(set);
            std::fs::read_to_string(path)
                .unwrap()
                .lines()
                .skip(1)
                .filter_map(|l| l.split('\t').nth(1).map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect();
    println!(
        "## search: {} tools from {} specs\n",
        catalog.tools.len(),
        catalog.integrations.len()
    );
    println!("index build {:.1} ms", build.as_secs_f64() * 1000.0);
    let everyday: Vec<String> = everyday.iter().map(|q| q.to_string()).collect();
    for (name, queries, rounds) in [
        ("8 everyday queries", &everyday, 50),
        ("the labelled set's 311 queries", &labelled, 5),
    ] {
        let mut samples = Vec::new();
        for _ in 0..rounds {
            for q in queries {
                let started = Instant::now();
                std::hint::black_box(index.search(q, None, 10));
                samples.push(started.elapsed());
            }
        }
        samples.sort();
        println!(
            "{name}: query p50 {}, p99 {} ({} queries)",
            us(samples[samples.len() / 2]),
            us(samples[samples.len() * 99 / 100]),
            samples.len()
        );
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("meta")
                && !path.ends_with("definitions")
                && !path.ends_with("examples")
            {
                collect(&path, out);
            }
        } else if path
            .extension()
            .is_some_and(|e| e == "json" || e == "yaml" || e == "yml")
        {
            out.push(path);
        }
    }
}

/// A bare MCP client over HTTP (JSON-RPC posts, SSE or JSON answers), so
/// that nothing is cached between measured calls.
struct McpHttp {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    session: Option<String>,
    next_id: u64,
    revision: String,
}

impl McpHttp {
    async fn connect(url: &str, token: Option<&str>) -> McpHttp {
        McpHttp::connect_speaking(url, token, "2025-06-18").await
    }

    /// A session of a given protocol revision.
    async fn connect_speaking(url: &str, token: Option<&str>, revision: &str) -> McpHttp {
        let mut client = McpHttp {
            http: reqwest::Client::new(),
            url: url.to_owned(),
            token: token.map(str::to_owned),
            session: None,
            next_id: 1,
            revision: revision.to_owned(),
        };
        let init = json!({"protocolVersion": revision, "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}});
        client.request("initialize", init).await;
        client.notify("notifications/initialized").await;
        client
    }

    fn post(&self, body: Value) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", &self.revision)
            .json(&body);
        if let Some(t) = &self.token {
            request = request.bearer_auth(t);
        }
        if let Some(s) = &self.session {
            request = request.header("mcp-session-id", s);
        }
        request
    }

    async fn notify(&self, method: &str) {
        self.post(json!({"jsonrpc": "2.0", "method": method}))
            .send()
            .await
            .unwrap();
    }

    async fn request(&mut self, method: &str, params: Value) -> Value {
        let text = self.request_text(method, params).await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    /// The answer's JSON-RPC message as text (from an SSE event or a JSON
    /// body).
    async fn request_text(&mut self, method: &str, params: Value) -> String {
        let id = self.next_id;
        self.next_id += 1;
        let response = self
            .post(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .send()
            .await
            .unwrap();
        if let Some(s) = response.headers().get("mcp-session-id") {
            self.session = Some(s.to_str().unwrap().to_owned());
        }
        let text = response.text().await.unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .rfind(|l| l.contains("\"id\""))
            .unwrap_or(text.trim())
            .to_owned()
    }

    /// One `tools/list` page: how many tools, the answer's bytes, the next
    /// cursor. The answer is read through (serde's `IgnoredAny`) but not
    /// built into a tree: building 28.8 MB of JSON into `Value`s took the
    /// bench longer than the service took to answer, on the same two
    /// cores, and was counted in the service's time.
    async fn list_page(&mut self, cursor: Option<&str>) -> (usize, usize, Option<String>) {
        #[derive(serde::Deserialize)]
        struct Message {
            result: Page,
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Page {
            tools: Vec<serde::de::IgnoredAny>,
            next_cursor: Option<String>,
        }
        let params = match cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let text = self.request_text("tools/list", params).await;
        let page: Message = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{e}: {}", &text[..text.len().min(500)]));
        (page.result.tools.len(), text.len(), page.result.next_cursor)
    }
}

async fn mcp_bench() {
    let (_home, mut child, url, token) = start_service();
    let http = reqwest::Client::new();
    // GitHub's catalog under eight namespaces and Stripe's: over 10,000 tools.
    let fixtures = corpus::corpus().join("openapi/famous");
    let mut sources = vec![(
        "stripe".to_owned(),
        fixtures.join("stripe-spec3-2023-09-12.yaml"),
    )];
    for i in 0..8 {
        sources.push((
            format!("github{i}"),
            fixtures.join("github-api.github.com.json"),
        ));
    }
    for (namespace, spec) in &sources {
        add_source(
            &http,
            &url,
            &token,
            "executor.openapi.addSource",
            json!({"spec": spec.display().to_string(), "namespace": namespace, "lenient": true}),
        )
        .await;
    }
    let mut mcp = McpHttp::connect(&format!("{url}/mcp?tools=all"), Some(&token)).await;
    let (mut first_page, mut whole) = (Vec::new(), Vec::new());
    let mut total = 0;
    for round in 0..12 {
        let started = Instant::now();
        let (mut count, _, mut cursor) = mcp.list_page(None).await;
        let first = started.elapsed();
        while let Some(c) = cursor {
            let (more, _, next) = mcp.list_page(Some(&c)).await;
            count += more;
            cursor = next;
        }
        if round > 1 {
            first_page.push(first);
            whole.push(started.elapsed());
        }
        total = count;
    }
    first_page.sort();
    whole.sort();
    println!("## MCP: tools/list over {total} tools (10 rounds after 2 warm-up rounds)\n");
    println!(
        "first page ({} tools): p50 {}; every page: p50 {}, max {}\n",
        mcp::PAGE_SIZE,
        us(first_page[first_page.len() / 2]),
        us(whole[whole.len() / 2]),
        us(*whole.last().unwrap())
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// `tools/call` of server-everything's `echo` (streamable HTTP): called
/// directly, through executor's `/mcp`, and through its REST invoke, so
/// that what executor adds can be told apart (the MCP server side against
/// the upstream client and the invoke path).
async fn proxy_bench() {
    let (_home, mut child, url, token) = start_service();
    let http = reqwest::Client::new();
    let mut mcp = McpHttp::connect(&format!("{url}/mcp?tools=all"), Some(&token)).await;
    // Proxied tools/call: the reference server over streamable HTTP, called
    // directly and through executor's /mcp.
    let everything = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    let mut proxied = None;
    if everything.exists() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Command::new("node")
            .arg(&everything)
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            std::thread::sleep(Duration::from_millis(50));
        }
        let upstream_url = format!("http://127.0.0.1:{port}/mcp");
        add_source(
            &http,
            &url,
            &token,
            "executor.mcp.addSource",
            json!({"namespace": "everything", "url": upstream_url}),
        )
        .await;
        // rmcp's client alone, as executor holds it (one pooled session).
        let upstreams = runtime::upstream::McpUpstreams::default();
        let target = runtime::upstream::McpTarget {
            url: Some(upstream_url.clone()),
            ..Default::default()
        };
        // The direct client speaks the revision executor's upstream session
        // agreed on: server-everything answers 2025-11-25 sessions about a
        // millisecond slower than 2025-06-18 ones (it stores each event
        // for resumption and sends a priming event first), which is the
        // server's cost, not executor's.
        let revision = upstreams
            .session("everything", &target)
            .await
            .unwrap()
            .peer_info()
            .map(|i| i.protocol_version.to_string())
            .unwrap();
        let mut direct = McpHttp::connect_speaking(&upstream_url, None, &revision).await;
        let mut older = McpHttp::connect_speaking(&upstream_url, None, "2025-06-18").await;
        let mut o_ = Vec::new();
        let call = |name: &str| json!({"name": name, "arguments": {"message": "hi"}});
        let (mut d, mut t, mut r_) = (Vec::new(), Vec::new(), Vec::new());
        let rest = Target {
            url: format!("{url}/api/tools/invoke/everything.org.main.echo"),
            token: Some(token.clone()),
            body: Some(json!({"message": "hi"}).to_string()),
        };
        let mut c_ = Vec::new();
        for i in 0..600 {
            let started = Instant::now();
            older.request("tools/call", call("echo")).await;
            if i >= 100 {
                o_.push(started.elapsed());
            }
            let started = Instant::now();
            upstreams
                .call("everything", &target, "echo", json!({"message": "hi"}))
                .await
                .unwrap();
            let ce = started.elapsed();
            if i >= 100 {
                c_.push(ce);
            }
            let started = Instant::now();
            rest.send(&http).await;
            let re = started.elapsed();
            let started = Instant::now();
            let r = direct.request("tools/call", call("echo")).await;
            let de = started.elapsed();
            let started = Instant::now();
            let p = mcp
                .request("tools/call", call("everything.org.main.echo"))
                .await;
            let te = started.elapsed();
            assert!(
                r["result"].is_object() && p["result"]["structuredContent"]["ok"] == true,
                "{r} {p}"
            );
            if i >= 100 {
                d.push(de);
                t.push(te);
                r_.push(re);
            }
        }
        d.sort();
        t.sort();
        r_.sort();
        c_.sort();
        o_.sort();
        let q = |v: &Vec<Duration>, pct: usize| v[v.len() * pct / 100];
        println!(
            "## MCP: a proxied tools/call (500 calls after 100 warm-up calls)\n\n| path | p50 | p99 |\n|---|---|---|\n| direct to server-everything, speaking {revision} (as executor does) | {} | {} |\n| direct, speaking 2025-06-18 | {} | {} |\n| through executor's `/mcp` | {} | {} |\n| through executor's REST invoke | {} | {} |\n| rmcp's client alone, in the bench | {} | {} |\n\nadded by executor at p50: {} over `/mcp`, {} over REST\n",
            us(q(&d, 50)),
            us(q(&d, 99)),
            us(q(&o_, 50)),
            us(q(&o_, 99)),
            us(q(&t, 50)),
            us(q(&t, 99)),
            us(q(&r_, 50)),
            us(q(&r_, 99)),
            us(q(&c_, 50)),
            us(q(&c_, 99)),
            us(q(&t, 50).saturating_sub(q(&d, 50))),
            us(q(&r_, 50).saturating_sub(q(&d, 50)))
        );
        proxied = Some((q(&d, 50), q(&d, 99), q(&t, 50), q(&t, 99)));
        let _ = server.kill();
        let _ = server.wait();
    }
    if proxied.is_none() {
        println!("proxied tools/call: not measured (run `npm ci --prefix tests/node`)\n");
    }
    let _ = child.kill();
    let _ = child.wait();
}

mod mcp {
    pub const PAGE_SIZE: usize = runtime::mcp::PAGE_SIZE;
}
