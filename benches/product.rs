//! The product executor follows (npm `executor`, 1.5.9) under issue 17's
//! workload, printed after executor's own figures when it is installed:
//!
//! ```sh
//! npm install --prefix benches/product executor@1.5.9
//! cargo bench --bench invoke -- scale
//! ```
//!
//! (or `EXECUTOR_PRODUCT_BIN=/path/to/executor`). Its server is started
//! with `executor web --port N` on a data directory of its own; a spec is
//! added the way its documents say, `executor call executor openapi
//! addSpec` with the spec by URL (served here from the corpus), and the
//! add pauses for approval, so the time is that of `executor resume
//! --action accept`, which does the work. Both are its CLI, so they
//! include its start-up, printed for reference. Each added API then gets a
//! connection (`POST /api/connections`, no credential): the product makes
//! an integration's tools per connection, and has none without one.

use super::*;
use scale::{memory, ms};

/// The product's CLI, if installed.
pub fn product_bin() -> Option<PathBuf> {
    let bin = std::env::var_os("EXECUTOR_PRODUCT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../benches/product/node_modules/executor-linux-x64/bin/executor")
        });
    bin.exists().then_some(bin)
}

struct Product {
    bin: PathBuf,
    data: tempfile::TempDir,
    url: String,
    port: u16,
}

impl Product {
    /// Its CLI, on its own data directory.
    fn command(&self) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .env("HOME", self.data.path())
            .env("EXECUTOR_DATA_DIR", self.data.path())
            .env("EXECUTOR_SCOPE_DIR", self.data.path())
            .current_dir(self.data.path());
        command
    }

    /// Runs its CLI against its server; stdout.
    fn cli(&self, args: &[&str]) -> String {
        let out = self
            .command()
            .args(args)
            .args(["--base-url", &self.url])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn start(&self) -> std::process::Child {
        let child = self
            .command()
            .args(["web", "--port", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "the product did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        child
    }
}

pub async fn product_bench(bin: PathBuf) {
    // The corpus's specs over HTTP: the product adds specs by URL.
    let famous = corpus::corpus().join("openapi/famous");
    let app = Router::new().route(
        "/{file}",
        get(
            move |axum::extract::Path(file): axum::extract::Path<String>| {
                let path = famous.join(file);
                async move { std::fs::read(path).unwrap_or_default() }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let specs = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let product = Product {
        bin,
        data: tempfile::tempdir().unwrap(),
        url: format!("http://127.0.0.1:{port}"),
        port,
    };
    let started = Instant::now();
    let version = product.cli(&["--version"]);
    let cli_start = started.elapsed();
    let mut server = product.start();
    let (rss, _) = memory(server.id());
    println!(
        "## the product it follows ({}, the npm `executor` package), same run\n",
        version.trim()
    );
    println!(
        "server started: RSS {rss:.1} MiB; its CLI takes {} to print its version (part of each add below)\n",
        ms(cli_start)
    );
    println!(
        "| add (in this order) | time (`resume --action accept`) | server RSS after | server peak so far |"
    );
    println!("|---|---|---|---|");
    for (namespace, file) in FOUR_SPECS {
        let input =
            json!({"spec": {"kind": "url", "url": format!("{specs}/{file}")}, "slug": namespace});
        let paused = product.cli(&["call", "executor", "openapi", "addSpec", &input.to_string()]);
        let execution = paused
            .lines()
            .find_map(|l| l.strip_prefix("executionId:"))
            .unwrap_or_else(|| panic!("the add did not pause: {paused}"))
            .trim()
            .to_owned();
        let started = Instant::now();
        let done = product.cli(&["resume", "--execution-id", &execution, "--action", "accept"]);
        let took = started.elapsed();
        if !done.contains("toolCount") {
            let (rss, peak) = memory(server.id());
            // It refuses Swagger 2 (Kubernetes' spec), for one.
            let said: Value = serde_json::from_str(&done).unwrap_or(Value::Null);
            println!(
                "| {namespace} | refused: {} | {rss:.1} MiB | {peak:.1} MiB |",
                said["error"]["message"].as_str().unwrap_or(done.trim())
            );
            continue;
        }
        // An added integration has no tools until it has a connection (the
        // product makes its tools per connection): without one, the
        // figures below would be those of an empty catalogue.
        let connection = json!({"owner": "org", "name": "main", "integration": namespace, "template": "none", "values": {}});
        let connected = reqwest::Client::new()
            .post(format!("{}/api/connections", product.url))
            .json(&connection)
            .send()
            .await
            .unwrap();
        assert!(
            connected.status().is_success(),
            "{namespace}: the product refused the connection: {}",
            connected.text().await.unwrap_or_default()
        );
        let (rss, peak) = memory(server.id());
        println!(
            "| {namespace} | {} | {rss:.1} MiB | {peak:.1} MiB |",
            ms(took)
        );
    }
    println!();
    let _ = server.kill();
    let _ = server.wait();

    let mut server = product.start();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (idle, _) = memory(server.id());
    let mut mcp = McpHttp::connect(&format!("{}/mcp", product.url), None).await;
    let started = Instant::now();
    let (mut tools, mut bytes, mut cursor) = mcp.list_page(None).await;
    let first = started.elapsed();
    while let Some(c) = cursor {
        let (more, size, next) = mcp.list_page(Some(&c)).await;
        tools += more;
        bytes += size;
        cursor = next;
    }
    let whole = started.elapsed();
    let (listed, peak) = memory(server.id());
    println!("| the product's server | |");
    println!("|---|---|");
    println!("| idle after a restart, the specs above loaded | {idle:.1} MiB |");
    println!(
        "| first `tools/list` on `/mcp` after the restart | {} (all pages {}; {tools} tools, {bytes} bytes) |",
        ms(first),
        ms(whole)
    );
    println!("| after that listing | {listed:.1} MiB (peak so far {peak:.1} MiB) |");
    println!();
    let _ = server.kill();
    let _ = server.wait();
}
