//! A real executor service (the binary, in its own `EXECUTOR_HOME`) and a
//! real upstream HTTP server that echoes what it receives.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use base64::Engine;
use serde_json::{Value, json};

pub const EXE: &str = env!("CARGO_BIN_EXE_executor");

/// How many tools executor brings itself (`executor.*`).
pub const BUILTIN_TOOLS: usize = 14;

/// An HTTP client for the tests (with the crypto provider installed).
pub fn http() -> reqwest::Client {
    runtime::install_crypto_provider();
    reqwest::Client::new()
}

/// The service, run as `executor daemon run --port 0`.
pub struct Service {
    pub home: PathBuf,
    pub url: String,
    pub token: String,
    /// What MCP clients hold: it opens `/mcp` only.
    pub mcp_token: String,
    /// The PostgreSQL database it runs on, if not SQLite.
    pub database_url: Option<String>,
    /// The environment it was started with, which its CLI gets too.
    env: Vec<(String, String)>,
    child: Child,
}

/// With `EXECUTOR_TEST_STORE=postgres` every service of the test runs on a
/// PostgreSQL database of its own (on the process's shared cluster), kept
/// for its home across restarts; otherwise on SQLite in its home.
fn test_database(home: &Path, env: &[(&str, &str)]) -> Option<String> {
    if let Some((_, url)) = env.iter().find(|(k, _)| *k == "EXECUTOR_DATABASE_URL") {
        return Some((*url).to_owned());
    }
    if std::env::var("EXECUTOR_TEST_STORE").as_deref() != Ok("postgres") {
        return None;
    }
    let file = home.join("test-database-url");
    if let Ok(url) = std::fs::read_to_string(&file) {
        return Some(url);
    }
    let url = super::postgres::shared_database();
    std::fs::write(&file, &url).unwrap();
    Some(url)
}

impl Service {
    pub fn start(home: &Path) -> Service {
        Service::start_with_env(home, &[])
    }

    pub fn start_with_env(home: &Path, env: &[(&str, &str)]) -> Service {
        let mut command = Command::new(EXE);
        command.args(["daemon", "run", "--port", "0"]);
        Service::start_command(home, command, env, true)
    }

    // The child is moved into the returned Service, whose Drop kills and
    // reaps it; only a failing test's panic can leave it unreaped.
    /// The service as `command` runs it: `executor daemon run --port 0`, or
    /// a wrapper that runs it (then `own_pid` is false: the service's pid
    /// is not the child's).
    #[allow(clippy::zombie_processes)]
    pub fn start_command(
        home: &Path,
        mut command: Command,
        env: &[(&str, &str)],
        own_pid: bool,
    ) -> Service {
        let _ = std::fs::remove_file(home.join("service.json"));
        let database_url = test_database(home, env);
        if let Some(url) = &database_url {
            command.env("EXECUTOR_DATABASE_URL", url);
        }
        let mut child = command
            .env("EXECUTOR_HOME", home)
            .env("EXECUTOR_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(home.join("test-service.log")).unwrap())
            .spawn()
            .expect("the executor binary starts");
        let started = Instant::now();
        loop {
            if let Ok(bytes) = std::fs::read(home.join("service.json")) {
                let info: Value = serde_json::from_slice(&bytes).unwrap();
                if !own_pid || info["pid"].as_u64() == Some(u64::from(child.id())) {
                    // Replicas may share token files named in their environment.
                    let file = |variable: &str, default: &str| {
                        env.iter()
                            .find(|(k, _)| *k == variable)
                            .map(|(_, v)| std::path::PathBuf::from(v))
                            .unwrap_or_else(|| home.join(default))
                    };
                    let token = std::fs::read_to_string(file("EXECUTOR_TOKEN_FILE", "token"))
                        .unwrap()
                        .trim()
                        .to_owned();
                    let mcp_token =
                        std::fs::read_to_string(file("EXECUTOR_MCP_TOKEN_FILE", "mcp-token"))
                            .unwrap()
                            .trim()
                            .to_owned();
                    return Service {
                        home: home.to_path_buf(),
                        url: info["url"].as_str().unwrap().to_owned(),
                        token,
                        mcp_token,
                        database_url,
                        env: env
                            .iter()
                            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                            .collect(),
                        child,
                    };
                }
            }
            if started.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                let log =
                    std::fs::read_to_string(home.join("test-service.log")).unwrap_or_default();
                panic!("the service did not start: {log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the service to exit by itself (after `daemon stop`).
    pub fn wait_exit(mut self) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the service did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The service's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// The CLI, pointed at this service's home.
    /// The one-time login URL `executor web --no-open` prints.
    pub fn login_url(&self) -> String {
        let out = self.cli(&["web", "--no-open"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let url = text(&out.stdout).trim().to_owned();
        assert!(
            url.starts_with(&format!("{}/login?code=", self.url)),
            "{url}"
        );
        url
    }

    /// Everything the service stored, as bytes to search: the SQLite file
    /// and its write-ahead log, or every row of its PostgreSQL database as
    /// JSON.
    pub fn stored(&self) -> Vec<u8> {
        match &self.database_url {
            None => {
                let mut bytes = std::fs::read(self.home.join("executor.db")).unwrap();
                bytes.extend(std::fs::read(self.home.join("executor.db-wal")).unwrap_or_default());
                bytes
            }
            Some(url) => super::postgres::dump(url),
        }
    }

    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_with_stdin(args, None)
    }

    pub fn cli_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut command = Command::new(EXE);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(url) = &self.database_url {
            command.env("EXECUTOR_DATABASE_URL", url);
        }
        let mut child = command
            .args(args)
            .env("EXECUTOR_HOME", &self.home)
            .env("EXECUTOR_PORT", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    /// The user's TypeScript path end to end: `executor generate --format
    /// typescript` for `integration` (into `<integration>.gen.ts`), `script`
    /// as `run.ts` beside it, `tsc --strict`, then Node against this
    /// service; what the script printed, as JSON.
    pub fn run_typescript(&self, integration: &str, script: &str) -> Value {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path();
        let client = dir.join(format!("{integration}.gen.ts"));
        let out = self.cli(&[
            "generate",
            "--format",
            "typescript",
            "--integration",
            integration,
            "-o",
            client.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        std::fs::write(dir.join("run.ts"), script).unwrap();
        std::fs::write(dir.join("package.json"), r#"{"type": "module"}"#).unwrap();
        super::tsc(
            dir,
            &["--lib", "es2022,dom", "--outDir", "out"],
            &["run.ts"],
        );
        std::fs::write(dir.join("out/package.json"), r#"{"type": "module"}"#).unwrap();
        let run = Command::new("node")
            .arg(dir.join("out/run.js"))
            .env("EXECUTOR_URL", &self.url)
            .env("EXECUTOR_API_KEY", &self.token)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "node failed: {}{}",
            text(&run.stdout),
            text(&run.stderr)
        );
        serde_json::from_slice(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&run.stdout)))
    }

    /// `executor connections add <args> --secret-stdin`, the secret on stdin.
    pub fn add_connection(&self, args: &[&str], secret: &str) -> Output {
        let mut all = vec!["connections", "add"];
        all.extend_from_slice(args);
        all.push("--secret-stdin");
        self.cli_with_stdin(&all, Some(secret))
    }

    pub async fn invoke(&self, path: &str, input: Value) -> (u16, Value) {
        let response = http()
            .post(format!("{}/api/tools/invoke/{path}", self.url))
            .bearer_auth(&self.token)
            .json(&input)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Adds an OpenAPI source (`executor.openapi.addSource`); it must work.
    pub async fn add_openapi(&self, input: Value) {
        let (_, r) = self.invoke("executor.openapi.addSource", input).await;
        assert_eq!(r["ok"], true, "{r}");
    }

    /// The echo API (`tests/fixtures/service/echo.yaml`) added as `echo`,
    /// its calls going to `upstream` (an echo upstream's base URL).
    pub async fn add_echo(&self, upstream: &str) {
        let spec = super::fixtures().join("service/echo.yaml");
        self.add_openapi(json!({
            "spec": spec.display().to_string(),
            "namespace": "echo",
            "baseUrl": format!("{upstream}/v1"),
        }))
        .await;
    }

    /// `POST` a JSON body to a route.
    pub async fn post(&self, route: &str, body: Value) -> (u16, Value) {
        self.post_with(&http(), route, body).await
    }

    /// `POST` a JSON body to a route with a client of the test's own (one
    /// with a large pool, for bursts).
    pub async fn post_with(
        &self,
        client: &reqwest::Client,
        route: &str,
        body: Value,
    ) -> (u16, Value) {
        let response = client
            .post(format!("{}{route}", self.url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Adds a policy rule that lets the tools under `pattern` run without
    /// approval (for tests about something else than policies).
    pub async fn allow(&self, pattern: &str) {
        let (status, body) = self
            .post(
                "/api/policies",
                json!({ "pattern": pattern, "action": "allow" }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    pub async fn get(&self, route: &str) -> (u16, Value) {
        let response = http()
            .get(format!("{}{route}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The echo upstream: answers every request with what it received, plus a
/// few routes with other kinds of answers. Returns its base URL.
pub async fn start_upstream() -> String {
    serve(upstream_app()).await
}

/// Requests an upstream received, as `METHOD /path?query`, in order.
pub type Seen = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// The echo upstream, recording every request it receives (to count how
/// often a call reached it).
pub async fn start_recording_upstream() -> (String, Seen) {
    let seen = Seen::default();
    let record = seen.clone();
    let app = upstream_app().layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let record = record.clone();
            async move {
                let line = format!(
                    "{} {}",
                    request.method(),
                    request
                        .uri()
                        .path_and_query()
                        .map(|p| p.as_str())
                        .unwrap_or("")
                );
                record.lock().unwrap().push(line);
                next.run(request).await
            }
        },
    ));
    (serve(app).await, seen)
}

/// Serves an axum app on 127.0.0.1:0; its base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn upstream_app() -> Router {
    Router::new()
        // Its own description, as a URL to add (servers: /v1, relative).
        .route(
            "/openapi.yaml",
            get(|| async {
                std::fs::read_to_string(super::fixtures().join("service/echo.yaml")).unwrap()
            }),
        )
        .route(
            "/v1/blobs/{name}",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/octet-stream")],
                    vec![0u8, 1, 2, 255],
                )
            })
            .put(echo),
        )
        .route(
            "/v1/notes",
            post(|body: String| async move {
                (
                    [(header::CONTENT_TYPE, "text/plain")],
                    format!("noted: {body}"),
                )
            }),
        )
        .route(
            "/v1/fail",
            get(|headers: HeaderMap| async move {
                // An upstream that echoes the caller's credential in its error.
                let key = headers
                    .get("x-api-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    axum::Json(json!({ "error": "boom", "seen_key": key })),
                )
            }),
        )
        .route(
            "/v1/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "late"
            }),
        )
        .route(
            "/v1/items/{id}",
            axum::routing::delete(|| async { StatusCode::NO_CONTENT }).get(echo),
        )
        .route(
            "/specs/echo.yaml",
            get(|| async {
                std::fs::read_to_string(super::fixtures().join("service/echo.yaml")).unwrap()
            }),
        )
        .fallback(any(echo))
}

async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let mut seen = serde_json::Map::new();
    for name in ["x-trace", "cookie", "content-type", "x-api-key"] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            seen.insert(name.to_owned(), Value::String(v.to_owned()));
        }
    }
    // The key reversed: executor redacts echoed credentials from answers,
    // so tests that check what reached the upstream read it this way.
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        seen.insert(
            "x-api-key-reversed".to_owned(),
            Value::String(key.chars().rev().collect()),
        );
    }
    let status = if method == Method::POST && uri.path() == "/v1/items" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (
        status,
        axum::Json(json!({
            "method": method.as_str(),
            "path": uri.path(),
            "query": uri.query().unwrap_or(""),
            "headers": seen,
            "body": String::from_utf8_lossy(&body),
            "bodyBase64": base64::engine::general_purpose::STANDARD.encode(&body),
        })),
    )
}

/// Runs the official MCP TypeScript SDK client (`tests/node/mcp-client.mjs`)
/// against an MCP URL: `elicitation` is how it answers approval questions
/// (`approve`, `decline`, or `none`: no elicitation capability).
pub fn sdk(url: &str, token: &str, elicitation: &str, steps: Value) -> Value {
    let script = super::repo_root().join("tests/node/mcp-client.mjs");
    let out = Command::new("node")
        .arg(script)
        .args([url, token, &steps.to_string(), elicitation])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the SDK client failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

/// A Node script of `tests/node` that prints `listening <url>` once it
/// serves; killed and reaped when dropped.
pub struct NodeServer {
    child: Child,
    pub url: String,
}

impl NodeServer {
    pub fn start(script: &str) -> NodeServer {
        use std::io::BufRead;
        let mut child = Command::new("node")
            .arg(super::repo_root().join("tests/node").join(script))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("{script} did not start: {line:?}"))
            .to_owned();
        NodeServer { child, url }
    }
}

impl NodeServer {
    /// The MCP reference server (`server-everything`) over streamable HTTP
    /// on `port` (0: a free one); `url` is its `/mcp` endpoint.
    pub fn everything_http(port: u16) -> NodeServer {
        let port = match port {
            0 => std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port(),
            port => port,
        };
        let child = Command::new("node")
            .arg(super::repo_root().join(
                "tests/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js",
            ))
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed().as_secs() < 20,
                "server-everything did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        NodeServer {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        }
    }

    pub fn port(&self) -> u16 {
        reqwest::Url::parse(&self.url).unwrap().port().unwrap()
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// rmcp's client on `/mcp` (or a view of it, `path` after the service
/// URL) at the stateless 2026-07-28 revision (`server/discover`, no
/// session), as `handler` with `token`.
pub async fn stateless_client<H: rmcp::ClientHandler>(
    handler: H,
    service_url: &str,
    path: &str,
    token: &str,
) -> rmcp::service::RunningService<rmcp::RoleClient, H> {
    use rmcp::ClientServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    runtime::install_crypto_provider();
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{service_url}{path}"))
        .auth_header(token.to_owned());
    handler
        .serve_with_lifecycle(
            StreamableHttpClientTransport::from_config(config),
            rmcp::ClientLifecycleMode::Discover {
                preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
