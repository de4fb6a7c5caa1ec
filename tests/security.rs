//! What a hostile upstream, spec or agent tries, against the real binary:
//! redirects to another origin (credentials, bodies, `Referer`), path
//! parameters that make dot-segments past a block policy, huge spec URLs
//! and files, and source headers echoed in answers. See SECURITY.md.

mod support;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use futures::StreamExt as _;
use serde_json::{Value, json};
use support::service::{Service, serve, start_recording_upstream};

type Log = Arc<Mutex<Vec<String>>>;

/// A host that records every request it gets, whole: method, URL, headers
/// and body.
async fn start_recorder() -> (String, Log) {
    let log = Log::default();
    let record = log.clone();
    let app = Router::new().fallback(any(move |request: Request| {
        let record = record.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            record.lock().unwrap().push(format!(
                "{} {} {:?} {}",
                parts.method,
                parts.uri,
                parts.headers,
                String::from_utf8_lossy(&body)
            ));
            "ok"
        }
    }));
    (serve(app).await, log)
}

/// An API whose `/{ns}/away/{code}` answers `code` with a `Location` on
/// `elsewhere`, whose `/{ns}/here/{code}` redirects to its own `/{ns}/seen`,
/// and whose `/{ns}/seen` answers with the headers it got.
async fn start_redirecting_api(elsewhere: String) -> String {
    let away = move |Path((ns, code)): Path<(String, u16)>| {
        let elsewhere = elsewhere.clone();
        async move {
            let location = format!("{elsewhere}/landing/{ns}?from=api");
            redirect(code, &location)
        }
    };
    let here = |Path((ns, code)): Path<(String, u16)>| async move {
        redirect(code, &format!("/{ns}/seen"))
    };
    let seen = |headers: HeaderMap, body: Bytes| async move {
        let names: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
        axum::Json(json!({
            "headerNames": names,
            "referer": headers.get(header::REFERER).map(|v| v.to_str().unwrap_or("?")),
            "body": String::from_utf8_lossy(&body),
        }))
    };
    serve(
        Router::new()
            .route("/{ns}/away/{code}", any(away))
            .route("/{ns}/here/{code}", any(here))
            .route("/{ns}/seen", any(seen)),
    )
    .await
}

fn redirect(code: u16, location: &str) -> Response {
    (
        StatusCode::from_u16(code).unwrap(),
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

/// Operations that follow the API's redirects, guarded by `scheme`.
fn redirect_spec(scheme: &str) -> String {
    format!(
        "openapi: 3.1.0
info: {{ title: Moves, version: '1' }}
components:
  securitySchemes:
    auth: {scheme}
security: [{{ auth: [] }}]
paths:
  /away/{{code}}:
    parameters: [{{ name: code, in: path, required: true, schema: {{ type: integer }} }}]
    get: {{ operationId: awayGet, responses: {{ '200': {{ description: ok }} }} }}
    post:
      operationId: awayPost
      requestBody:
        content: {{ application/json: {{ schema: {{ type: object, properties: {{ note: {{ type: string }} }} }} }} }}
      responses: {{ '200': {{ description: ok }} }}
  /here/{{code}}:
    parameters: [{{ name: code, in: path, required: true, schema: {{ type: integer }} }}]
    post:
      operationId: herePost
      requestBody:
        content: {{ application/json: {{ schema: {{ type: object, properties: {{ note: {{ type: string }} }} }} }} }}
      responses:
        '200':
          description: what the API saw
          content: {{ application/json: {{ schema: {{ type: object }} }} }}
"
    )
}

/// Every kind of credential: (namespace, scheme, `connections add` flags,
/// secret). `srchdr` carries a source header instead of a connection.
const CREDENTIALS: [(&str, &str, &[&str], &str); 7] = [
    (
        "bearer",
        "{ type: http, scheme: bearer }",
        &[],
        "bearer-secret-1",
    ),
    (
        "basic",
        "{ type: http, scheme: basic }",
        &["--auth", "basic", "--username", "alice"],
        "basic-secret-2",
    ),
    (
        "keyh",
        "{ type: apiKey, in: header, name: X-Api-Key }",
        &[],
        "header-key-secret-3",
    ),
    (
        "keyq",
        "{ type: apiKey, in: query, name: api_key }",
        &[],
        "query-key-secret-4",
    ),
    (
        "keyc",
        "{ type: apiKey, in: cookie, name: session }",
        &[],
        "cookie-secret-5",
    ),
    (
        "custom",
        "{ type: apiKey, in: header, name: X-Auth }",
        &[
            "--header",
            "X-Auth",
            "--auth",
            "header",
            "--template",
            "Token {secret}",
        ],
        "template-secret-6",
    ),
    (
        "srchdr",
        "{ type: apiKey, in: header, name: X-Source-Key }",
        &[],
        "source-header-secret-7",
    ),
];

/// A redirect to another origin is never followed by an invocation: the
/// other host gets nothing (no credential of any kind, no body, not even a
/// request), and the caller gets `upstream_http_error` with the `Location`.
/// A redirect within the origin is followed, with no `Referer`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocations_never_carry_anything_to_another_origin() {
    let (elsewhere, elsewhere_log) = start_recorder().await;
    let api = start_redirecting_api(elsewhere.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());

    for (ns, scheme, flags, secret) in CREDENTIALS {
        let mut input = json!({
            "spec": redirect_spec(scheme),
            "namespace": ns,
            "baseUrl": format!("{api}/{ns}"),
        });
        if ns == "srchdr" {
            input["headers"] = json!({ "X-Source-Key": secret });
        }
        service.add_openapi(input).await;
        service.allow(&format!("{ns}.*")).await;
        if ns != "srchdr" {
            let mut args = vec![ns];
            args.extend_from_slice(flags);
            let out = service.add_connection(&args, secret);
            assert!(out.status.success(), "{ns}: {out:?}");
        }
    }

    for (ns, _, _, secret) in CREDENTIALS {
        for code in [301, 302, 303, 307, 308] {
            for (tool, input) in [
                ("awayGet", json!({ "code": code })),
                ("awayPost", json!({ "code": code, "note": "body-canary-8" })),
            ] {
                let (_, r) = service.invoke(&format!("{ns}.away.{tool}"), input).await;
                let what = format!("{ns} {tool} {code}: {r}");
                assert_eq!(r["ok"], false, "{what}");
                assert_eq!(r["error"]["code"], "upstream_http_error", "{what}");
                assert_eq!(r["error"]["status"], code, "{what}");
                let location = r["error"]["details"]["location"].as_str().unwrap_or("");
                assert!(
                    location.starts_with(&format!("{elsewhere}/landing/{ns}")),
                    "{what}"
                );
                assert!(!r.to_string().contains(secret), "{what}");
            }
        }
        // Within the origin: followed, with the credential, without Referer.
        let (_, r) = service
            .invoke(
                &format!("{ns}.here.herePost"),
                json!({ "code": 307, "note": "same-origin" }),
            )
            .await;
        assert_eq!(r["ok"], true, "{ns}: {r}");
        assert_eq!(r["data"]["referer"], Value::Null, "{ns}: {r}");
        assert_eq!(r["data"]["body"], r#"{"note":"same-origin"}"#, "{ns}: {r}");
    }
    let landed = elsewhere_log.lock().unwrap();
    assert!(
        landed.is_empty(),
        "another origin received requests: {landed:?}"
    );
}

/// A GraphQL endpoint that redirects elsewhere gets the same treatment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_calls_never_follow_a_redirect_to_another_origin() {
    let (elsewhere, elsewhere_log) = start_recorder().await;
    let api = start_redirecting_api(elsewhere.clone()).await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let r = service
        .invoke(
            "executor.graphql.addSource",
            json!({
                "endpoint": format!("{api}/gql/away/307"),
                "namespace": "gql",
                "schema": "type Query { hello: String }",
                "headers": { "X-Gql-Key": "graphql-secret-9" },
            }),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    service.allow("gql.*").await;
    let (_, r) = service.invoke("gql.query.hello", json!({})).await;
    assert_eq!(r["error"]["code"], "upstream_http_error", "{r}");
    assert!(!r.to_string().contains("graphql-secret-9"), "{r}");
    assert!(elsewhere_log.lock().unwrap().is_empty());
}

/// `..` and `.` (plain or percent-encoded) never leave their segment: with
/// `repos.deleteRepo` blocked and `removeCollaborator` allowed, a
/// collaborator named `..` must not delete the repository.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_in_path_parameters_never_escape_their_operation() {
    const SPEC: &str = "openapi: 3.1.0
info: { title: Repos, version: '1' }
paths:
  /repos/{owner}/{repo}:
    parameters:
      - { name: owner, in: path, required: true, schema: { type: string } }
      - { name: repo, in: path, required: true, schema: { type: string } }
    delete: { operationId: deleteRepo, tags: [repos], responses: { '204': { description: gone } } }
  /repos/{owner}/{repo}/collaborators/{username}:
    parameters:
      - { name: owner, in: path, required: true, schema: { type: string } }
      - { name: repo, in: path, required: true, schema: { type: string } }
      - { name: username, in: path, required: true, schema: { type: string } }
    delete: { operationId: removeCollaborator, tags: [repos], responses: { '204': { description: removed } } }
  /files/{path}:
    parameters:
      - { name: path, in: path, required: true, allowReserved: true, schema: { type: string } }
    get: { operationId: getFile, tags: [files], responses: { '200': { description: a file } } }
";
    let (upstream, seen) = start_recording_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let r = service
        .invoke(
            "executor.openapi.addSource",
            // allowReserved on a path parameter is outside OAS 3.1's schema,
            // yet specs have it: loaded leniently, it is honoured.
            json!({ "spec": SPEC, "namespace": "gh", "baseUrl": format!("{upstream}/api"), "lenient": true }),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    let (status, body) = service
        .post(
            "/api/policies",
            json!({ "pattern": "gh.repos.deleteRepo", "action": "block" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    service.allow("gh.*").await;

    let (_, r) = service
        .invoke(
            "gh.repos.deleteRepo",
            json!({"owner": "acme", "repo": "prod"}),
        )
        .await;
    assert_eq!(r["ok"], false, "the block policy holds: {r}");

    for username in ["..", ".", "%2e%2e", ".%2E", "%2E."] {
        let (_, r) = service
            .invoke(
                "gh.repos.removeCollaborator",
                json!({"owner": "acme", "repo": "prod", "username": username}),
            )
            .await;
        // Either refused, or sent with the value kept inside its segment.
        if r["ok"] == false {
            assert_eq!(r["error"]["code"], "invalid_input", "{username}: {r}");
        }
    }
    for (owner, repo) in [("acme", ".."), ("..", ".."), (".", "prod")] {
        let (_, r) = service
            .invoke(
                "gh.repos.removeCollaborator",
                json!({"owner": owner, "repo": repo, "username": "bob"}),
            )
            .await;
        assert_eq!(r["error"]["code"], "invalid_input", "{owner}/{repo}: {r}");
    }
    // allowReserved lets `/` through, but not `..` segments.
    for path in ["../../repos/acme/prod", "a/../../x", "docs/./x"] {
        let (_, r) = service
            .invoke("gh.files.getFile", json!({ "path": path }))
            .await;
        assert_eq!(r["error"]["code"], "invalid_input", "{path}: {r}");
    }
    let (_, r) = service
        .invoke("gh.files.getFile", json!({ "path": "docs/readme.md" }))
        .await;
    assert_eq!(r["ok"], true, "{r}");

    let seen = seen.lock().unwrap();
    let expected = [
        "DELETE /api/repos/acme/prod/collaborators/%252e%252e",
        "DELETE /api/repos/acme/prod/collaborators/.%252E",
        "DELETE /api/repos/acme/prod/collaborators/%252E.",
        "GET /api/files/docs/readme.md",
    ];
    assert_eq!(
        seen.as_slice(),
        expected,
        "only what stays in its segment reaches the upstream"
    );
}

/// The peak resident memory of a process (VmHWM), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// 2 GiB of spec-looking bytes, declared or chunked (no length).
fn huge_body(declared: bool) -> Response {
    const CHUNK: usize = 1 << 20;
    const CHUNKS: usize = 2048;
    let chunk = Bytes::from(vec![b' '; CHUNK]);
    let head = Bytes::from_static(b"{\"openapi\": \"3.1.0\", \"info\": {\"title\": \"");
    let stream =
        futures::stream::iter(std::iter::once(head).chain(std::iter::repeat_n(chunk, CHUNKS)))
            .map(Ok::<_, std::io::Error>);
    let mut response = Body::from_stream(stream).into_response();
    if declared {
        let length = 41 + CHUNK * CHUNKS;
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, length.into());
    }
    response
}

/// A 2 GiB spec URL (with `Content-Length`, or chunked) is refused while
/// the service stays small, for every way a spec is fetched: adding, adding
/// by detection, refreshing. A file over the limit is refused unread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_specs_are_refused_without_being_read_whole() {
    let huge = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = huge.clone();
    let api = serve(
        Router::new()
            .route("/declared.json", get(|| async { huge_body(true) }))
            .route("/chunked.json", get(|| async { huge_body(false) }))
            .route(
                "/grows.json",
                get(move || {
                    let flag = flag.clone();
                    async move {
                        if flag.load(std::sync::atomic::Ordering::SeqCst) {
                            huge_body(false)
                        } else {
                            r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{}}"#
                                .into_response()
                        }
                    }
                }),
            ),
    )
    .await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service
        .add_openapi(
            json!({"spec": format!("{api}/grows.json"), "namespace": "grows", "baseUrl": api}),
        )
        .await;
    huge.store(true, std::sync::atomic::Ordering::SeqCst);

    let cases = [
        (
            "executor.openapi.addSource",
            json!({"spec": format!("{api}/declared.json"), "namespace": "a"}),
        ),
        (
            "executor.openapi.addSource",
            json!({"spec": format!("{api}/chunked.json"), "namespace": "b"}),
        ),
        (
            "executor.sources.add",
            json!({"source": format!("{api}/declared.json"), "namespace": "c"}),
        ),
        (
            "executor.sources.add",
            json!({"source": format!("{api}/chunked.json"), "namespace": "d"}),
        ),
        ("executor.sources.refresh", json!({"namespace": "grows"})),
    ];
    for (tool, input) in cases {
        let (_, r) = service.invoke(tool, input.clone()).await;
        assert_eq!(r["ok"], false, "{tool} {input}: {r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("larger than 64 MiB"),
            "{tool} {input}: {r}"
        );
        eprintln!(
            "{tool} {input}: peak {} MiB",
            peak_rss(service.pid()) / 1024 / 1024
        );
    }
    let peak = peak_rss(service.pid());
    assert!(
        peak < 200 * 1024 * 1024,
        "the service peaked at {} MiB",
        peak / 1024 / 1024
    );

    // A file over the limit (sparse: it costs no disk) is refused unread.
    let file = home.path().join("huge.json");
    std::fs::File::create(&file)
        .unwrap()
        .set_len(65 * 1024 * 1024)
        .unwrap();
    let (_, r) = service
        .invoke(
            "executor.openapi.addSource",
            json!({"spec": file.display().to_string(), "namespace": "file"}),
        )
        .await;
    assert_eq!(r["error"]["code"], "invalid_input", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than 64 MiB"),
        "{r}"
    );
}

/// A source's `headers` are credentials: what an upstream echoes of them is
/// redacted from successful answers as from errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_headers_are_redacted_from_successful_answers() {
    let upstream = support::service::start_upstream().await;
    let home = tempfile::tempdir().unwrap();
    // The most talkative log: it must not hold the header either.
    let service = Service::start_with_env(home.path(), &[("EXECUTOR_LOG", "trace")]);
    let spec = support::fixtures().join("service/echo.yaml");
    let r = service
        .invoke(
            "executor.openapi.addSource",
            json!({
                "spec": spec.display().to_string(),
                "namespace": "echo",
                "baseUrl": format!("{upstream}/v1"),
                "headers": { "X-Api-Key": "source-canary-4242", "Accept": "application/json" },
            }),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    service.allow("echo.*").await;
    let (_, r) = service.invoke("echo.items.getItem", json!({"id": 1})).await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["data"]["headers"]["x-api-key"], "[redacted]", "{r}");
    assert!(!r.to_string().contains("source-canary-4242"), "{r}");
    let log = std::fs::read_to_string(home.path().join("test-service.log")).unwrap();
    assert!(log.len() > 1000, "the trace log is written");
    assert!(
        !log.contains("source-canary-4242"),
        "the log holds the header"
    );
}

/// Runs the CLI with its standard output already closed by the reader
/// (`executor ... | head` once `head` has what it wants).
fn with_closed_stdout(service: &Service, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    std::process::Command::new(support::service::EXE)
        .args(args)
        .env("EXECUTOR_HOME", &service.home)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

/// A closed pipe ends a command quietly (exit 141, as SIGPIPE would), with
/// no panic or stack trace: for commands that print with `println!` and for
/// `generate -o -`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_ends_commands_quietly() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let spec = support::fixtures().join("service/echo.yaml");
    let spec = spec.display().to_string();
    for args in [
        vec!["tools", "sources"],
        vec!["tools", "search", "add a source"],
        vec!["generate", "--from", spec.as_str(), "-o", "-"],
    ] {
        let out = with_closed_stdout(&service, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{args:?}: {stderr}"
        );
    }
}

/// Every refusal is an envelope that says what and where: a query string
/// that does not parse, a body over the limit, an offset at the top of the
/// range, MCP garbage (JSON-RPC -32700), an upstream that trickles, a
/// `file://` server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_an_envelope_that_says_what_and_where() {
    let trickle = serve(Router::new().route(
        "/slow",
        get(|| async {
            let stream = futures::stream::iter(0..100).then(|i| async move {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                Ok::<_, std::io::Error>(Bytes::from(format!("{i},")))
            });
            let mut response = Body::from_stream(stream).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
            response
        }),
    ))
    .await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start_with_env(home.path(), &[("EXECUTOR_UPSTREAM_TIMEOUT", "2")]);
    let http = support::service::http();

    let (status, body) = service.get("/api/tools?offset=18446744073709551615").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["nextOffset"], Value::Null, "{body}");
    assert_eq!(body["data"]["tools"], json!([]), "{body}");

    let (status, body) = service.get("/api/tools?limit=many").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["ok"], false);
    assert_eq!(body["error"]["code"], "invalid_input", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("limit"),
        "{body}"
    );

    let big = vec![b' '; 65 * 1024 * 1024];
    let response = support::service::http()
        .post(format!("{}/api/policies", service.url))
        .bearer_auth(&service.token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than 64 MiB"),
        "{body}"
    );

    for content_type in ["application/json", "text/plain"] {
        let response = http
            .post(format!("{}/mcp", service.url))
            .bearer_auth(&service.mcp_token)
            .header(header::ACCEPT, "application/json, text/event-stream")
            .header(header::CONTENT_TYPE, content_type)
            .body("garbage{")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{content_type}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["jsonrpc"], "2.0", "{body}");
        assert_eq!(body["error"]["code"], -32700, "{body}");
    }

    // Unauthenticated callers learn no local path.
    let response = http
        .get(format!("{}/api/tools", service.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let text = response.text().await.unwrap();
    assert!(!text.contains(&home.path().display().to_string()), "{text}");

    let spec = format!(
        "openapi: 3.1.0
info: {{ title: Slow, version: '1' }}
servers: [{{ url: '{trickle}' }}]
paths:
  /slow:
    get: {{ operationId: slow, responses: {{ '200': {{ description: slowly }} }} }}
"
    );
    service
        .add_openapi(json!({"spec": spec, "namespace": "slow"}))
        .await;
    service.allow("slow.*").await;
    let (_, r) = service.invoke("slow.slow.slow", json!({})).await;
    assert_eq!(r["error"]["code"], "upstream_unreachable", "{r}");
    let message = r["error"]["message"].as_str().unwrap();
    assert!(message.contains("too slowly"), "{r}");
    assert!(!message.contains("decoding"), "{r}");

    let spec = "openapi: 3.1.0
info: { title: Files, version: '1' }
servers: [{ url: 'file:///etc' }]
paths:
  /passwd:
    get: { operationId: passwd, responses: { '200': { description: a file } } }
";
    service
        .add_openapi(json!({"spec": spec, "namespace": "files"}))
        .await;
    service.allow("files.*").await;
    let (_, r) = service.invoke("files.passwd.passwd", json!({})).await;
    let message = r["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("file: URL") && !message.contains("relative"),
        "{r}"
    );
}

/// A spec file's relative `$ref`s read files under its own directory only:
/// one that climbs out (`../`) is refused, and what it points at reaches no
/// export.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refs_in_a_spec_file_stay_under_its_directory() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("private.yaml"),
        "type: string\nenum: [local-file-canary-1234]\n",
    )
    .unwrap();
    let dir = outside.path().join("specs/api");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ok.yaml"), "type: string\n").unwrap();
    let spec = |reference: &str| {
        format!(
            "openapi: 3.1.0
info: {{ title: Refs, version: '1' }}
paths:
  /x:
    get:
      operationId: x
      responses:
        '200':
          description: x
          content: {{ application/json: {{ schema: {{ $ref: '{reference}' }} }} }}
"
        )
    };
    std::fs::write(dir.join("inside.yaml"), spec("./ok.yaml")).unwrap();
    std::fs::write(dir.join("escape.yaml"), spec("../../private.yaml")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(outside.path().join("private.yaml"), dir.join("link.yaml")).unwrap();
    std::fs::write(dir.join("linked.yaml"), spec("./link.yaml")).unwrap();

    let add = |name: &str| json!({"spec": dir.join(name).display().to_string(), "namespace": name.trim_end_matches(".yaml"), "baseUrl": "http://127.0.0.1:9"});
    let (_, r) = service
        .invoke("executor.openapi.addSource", add("inside.yaml"))
        .await;
    assert_eq!(r["ok"], true, "{r}");
    for name in ["escape.yaml", "linked.yaml"] {
        let (_, r) = service
            .invoke("executor.openapi.addSource", add(name))
            .await;
        let text = r.to_string();
        assert!(!text.contains("local-file-canary-1234"), "{name}: {r}");
        if r["ok"] == true {
            // Loaded leniently at best: the ref is a diagnostic, not content.
            assert!(
                !r["data"]["diagnostics"].as_array().unwrap().is_empty(),
                "{name}: {r}"
            );
        } else {
            assert!(text.contains("outside"), "{name}: {r}");
        }
    }
    let (status, export) = service.get("/api/tools/export/openapi").await;
    assert_eq!(status, 200);
    assert!(!export.to_string().contains("local-file-canary-1234"));
}

/// The service's resident memory now (VmRSS), in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// A flood of half-sent requests (slowloris) neither exhausts the service's
/// file descriptors nor stops it answering: each new connection evicts the
/// oldest one that is not mid-request, and a client that does not finish
/// its headers in time is cut off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_half_sent_requests_does_not_stop_the_service() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let home = tempfile::tempdir().unwrap();
    let service = Service::start_with_env(
        home.path(),
        &[
            ("EXECUTOR_MAX_CONNECTIONS", "100"),
            ("EXECUTOR_HEADER_TIMEOUT", "2"),
        ],
    );
    let addr = service.url.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..2000 {
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(format!("GET /api/health HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ").as_bytes())
            .await
            .unwrap();
        held.push(tcp);
    }
    for _ in 0..5 {
        // A new client each time: no pooled connection to lean on.
        runtime::install_crypto_provider();
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let r = client
            .get(format!("{}/api/health", service.url))
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
            .expect("the service answers during the flood");
        assert_eq!(r.status(), 200);
    }
    let fds = std::fs::read_dir(format!("/proc/{}/fd", service.pid()))
        .unwrap()
        .count();
    assert!(fds < 100 + 64, "the service holds {fds} file descriptors");

    // Past the header timeout, whatever is left of the flood is closed.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let mut open = 0;
    for tcp in &mut held {
        let mut buf = [0u8; 256];
        let read =
            tokio::time::timeout(std::time::Duration::from_millis(20), tcp.read(&mut buf)).await;
        if read.is_err() {
            open += 1;
        }
    }
    assert_eq!(open, 0, "{open} half-sent connections are still open");
}

/// Opening MCP sessions in a loop keeps at most the configured number
/// alive (the least recently used is closed), so memory stays flat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_sessions_are_capped_and_cost_little() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start_with_env(home.path(), &[("EXECUTOR_MAX_MCP_SESSIONS", "50")]);
    let http = support::service::http();
    let initialize = || {
        http.post(format!("{}/mcp", service.url))
            .bearer_auth(&service.mcp_token)
            .header(header::ACCEPT, "application/json, text/event-stream")
            .json(&json!({
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "flood", "version": "1"}}
            }))
            .send()
    };
    let session = |r: &reqwest::Response| {
        r.headers()
            .get("mcp-session-id")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let first = initialize().await.unwrap();
    assert_eq!(first.status(), 200);
    let first = session(&first);
    // Warm up (allocator arenas, the catalog), then measure.
    for _ in 0..100 {
        initialize().await.unwrap();
    }
    let before = rss(service.pid());
    for _ in 0..1000 {
        let r = initialize().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let after = rss(service.pid());
    assert!(
        after < before + 40 * 1024 * 1024,
        "1000 sessions grew the service from {} to {} MiB",
        before / 1024 / 1024,
        after / 1024 / 1024
    );
    // The first session was closed to make room.
    let r = http
        .post(format!("{}/mcp", service.url))
        .bearer_auth(&service.mcp_token)
        .header(header::ACCEPT, "application/json, text/event-stream")
        .header("mcp-session-id", &first)
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "{}", r.text().await.unwrap());
}

/// A source whose server is executor itself is refused (it would call
/// itself until file descriptors run out), and calls in flight to one
/// source are bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_cannot_point_at_executor_and_calls_per_source_are_bounded() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let now = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (n, m) = (now.clone(), most.clone());
    let slow = serve(Router::new().route(
        "/slow",
        get(move || {
            let (now, most) = (n.clone(), m.clone());
            async move {
                let in_flight = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(in_flight, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                axum::Json(json!({"done": true}))
            }
        }),
    ))
    .await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start_with_env(home.path(), &[("EXECUTOR_MAX_CALLS_PER_SOURCE", "2")]);
    let port = service.url.rsplit(':').next().unwrap().to_owned();
    let spec = |server: &str| {
        format!(
            "openapi: 3.1.0
info: {{ title: Loop, version: '1' }}
servers: [{{ url: '{server}' }}]
paths:
  /slow:
    get: {{ operationId: slow, responses: {{ '200': {{ description: ok }} }} }}
"
        )
    };
    for base in [
        service.url.clone(),
        format!("http://localhost:{port}/api"),
        format!("http://[::1]:{port}"),
    ] {
        let (_, r) = service
            .invoke(
                "executor.openapi.addSource",
                json!({"spec": spec("http://127.0.0.1:9"), "namespace": "loop", "baseUrl": base}),
            )
            .await;
        assert_eq!(r["error"]["code"], "invalid_input", "{base}: {r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("executor itself"),
            "{r}"
        );
    }
    // A spec whose own server is executor: refused when called.
    let server = format!("http://127.0.0.1:{port}");
    service
        .add_openapi(json!({"spec": spec(&server), "namespace": "self"}))
        .await;
    service.allow("self.*").await;
    let (_, r) = service.invoke("self.slow.slow", json!({})).await;
    assert_eq!(r["error"]["code"], "invalid_input", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("executor itself"),
        "{r}"
    );

    service
        .add_openapi(json!({"spec": spec(&slow), "namespace": "slow"}))
        .await;
    service.allow("slow.*").await;
    let calls = (0..6).map(|_| service.invoke("slow.slow.slow", json!({})));
    for (_, r) in futures::future::join_all(calls).await {
        assert_eq!(r["ok"], true, "{r}");
    }
    assert_eq!(
        most.load(Ordering::SeqCst),
        2,
        "calls in flight to one source"
    );
}

/// What waits for approval is bounded: an input over 1 MiB is refused
/// before it is stored, and so is a pause past the cap on open ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_calls_are_bounded_in_size_and_number() {
    let (upstream, seen) = start_recording_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start_with_env(home.path(), &[("EXECUTOR_MAX_OPEN_PAUSES", "3")]);
    let spec = support::fixtures().join("service/echo.yaml");
    service.add_openapi(json!({"spec": spec.display().to_string(), "namespace": "echo", "baseUrl": format!("{upstream}/v1")})).await;

    let huge = "x".repeat(2 * 1024 * 1024);
    let (status, r) = service
        .invoke("echo.items.createItem", json!({"name": huge}))
        .await;
    assert_eq!(status, 400, "{r}");
    assert_eq!(r["error"]["code"], "invalid_input", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 1 MiB"),
        "{r}"
    );

    for i in 0..3 {
        let (_, r) = service
            .invoke("echo.items.createItem", json!({"name": format!("n{i}")}))
            .await;
        assert_eq!(r["error"]["code"], "execution_paused", "{r}");
    }
    let (_, r) = service
        .invoke("echo.items.createItem", json!({"name": "one more"}))
        .await;
    assert_eq!(r["error"]["code"], "overloaded", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 calls already wait"),
        "{r}"
    );
    let (_, listed) = service.get("/api/executions?state=paused&limit=100").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 3, "{listed}");
    assert!(seen.lock().unwrap().is_empty(), "nothing ran");
}
