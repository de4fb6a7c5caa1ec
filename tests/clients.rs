//! Clients of `/mcp` and executor's own OAuth authorization server.
//!
//! - The official MCP TypeScript SDK client's own OAuth, with no token
//!   configured: it discovers, registers, headless Chromium signs in and
//!   approves the consent page, the SDK lists and calls tools; once the
//!   client is revoked, its next connection is refused.
//! - The protocol's rules one by one over plain HTTP: the 401 challenge,
//!   both metadata documents, loopback-only registration, PKCE S256 only,
//!   one-time codes, the resource indicator, refresh tokens that rotate
//!   (a replay ends every token of the client), agent tokens refused by
//!   the REST API.
//! - A client named by its metadata document (a URL client_id): fetched,
//!   held to the registration rules, signed in, revoked and signed in anew.
//! - Scopes and per-client policy: a client held to one integration sees
//!   and calls only it, in every MCP view; an approve-all client pauses; a
//!   source's resources and prompts go only to clients that see all of it.

mod support;

use std::process::Command;

use base64::Engine;
use serde_json::{Value, json};
use sha2::Digest;
use support::service::{Service, http, sdk, start_upstream, text};

fn no_redirects() -> reqwest::Client {
    runtime::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

fn query(url: &str) -> std::collections::HashMap<String, String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn oauth_node(args: &[&str]) -> Value {
    let out = Command::new("node")
        .arg(support::repo_root().join("tests/node/mcp-oauth.mjs"))
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the SDK's OAuth client failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_signs_in_with_oauth_through_the_consent_page_and_is_refused_once_revoked() {
    let upstream = start_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service.add_echo(&upstream).await;
    let mcp = format!("{}/mcp", service.url);
    let state = home.path().join("sdk-oauth.json");
    let state = state.to_str().unwrap();

    let seen = oauth_node(&[
        "signin",
        &mcp,
        state,
        &service.login_url(),
        "echo.org.main.items.getItem",
        r#"{"id": 7}"#,
    ]);
    assert_eq!(seen["firstError"], "UnauthorizedError", "{seen}");
    assert_eq!(seen["authorize"]["path"], "/oauth/authorize", "{seen}");
    assert_eq!(seen["authorize"]["codeChallengeMethod"], "S256", "{seen}");
    assert_eq!(seen["authorize"]["resource"], mcp, "{seen}");
    // Signed out, the consent page says how to sign in and come back.
    assert_eq!(seen["signedOutStatus"], 401, "{seen}");
    let consent = seen["consentPath"].as_str().unwrap();
    assert!(consent.starts_with("/consent/"), "{seen}");
    assert!(
        seen["signedOutText"]
            .as_str()
            .unwrap()
            .contains(&format!("--page {consent}")),
        "{seen}"
    );
    assert_eq!(
        seen["consentClient"], "executor-tests OAuth client",
        "{seen}"
    );
    assert!(
        seen["consentRedirect"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"),
        "{seen}"
    );
    assert_eq!(seen["callback"]["hasCode"], true, "{seen}");
    assert_eq!(seen["callback"]["iss"], service.url.as_str(), "{seen}");
    assert_eq!(
        seen["tokens"],
        json!({"access": true, "refresh": true}),
        "{seen}"
    );
    let tools = seen["tools"].as_array().unwrap();
    assert!(
        tools.iter().any(|t| t == "echo.org.main.items.getItem"),
        "{seen}"
    );
    assert_eq!(seen["call"]["structuredContent"]["ok"], true, "{seen}");

    // The client is on record: named, approved, with every tool in scope.
    let client_id = seen["registered"].as_str().unwrap().to_owned();
    let (_, listed) = service.get("/api/clients").await;
    let clients = listed["data"]["clients"].as_array().unwrap();
    let record = clients
        .iter()
        .find(|c| c["id"] == client_id.as_str())
        .unwrap();
    assert_eq!(record["name"], "executor-tests OAuth client");
    assert_eq!(record["approved"], true);
    assert_eq!(record["scope"], json!(["*"]));
    assert!(record["lastUsedAt"].is_i64(), "{record}");
    assert!(!listed.to_string().contains("exa_"), "no token in the list");

    // Revoked, its saved tokens open nothing and refreshing fails: the
    // SDK is sent back to sign in.
    let out = service.cli(&["clients", "revoke", &client_id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("revoked"),
        "{}",
        text(&out.stdout)
    );
    let again = oauth_node(&["again", &mcp, state]);
    assert!(again["connectError"].is_string(), "{again}");
    assert!(again.get("tools").is_none(), "{again}");
}

/// An authorization up to the code, as a browser would do it after
/// signing in: `(code, query of the redirect)`.
async fn authorize(
    service: &Service,
    client_id: &str,
    redirect: &str,
    challenge: &str,
    extra: &[(&str, &str)],
    decision: &str,
) -> std::collections::HashMap<String, String> {
    let http = no_redirects();
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("state", "xyz"),
    ];
    params.extend_from_slice(extra);
    let response = http
        .get(format!("{}/oauth/authorize", service.url))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    let consent = location(&response);
    if !consent.starts_with("/consent/") {
        return query(&consent);
    }
    // Sign in: the one-time login URL sets the session cookie.
    let login = http.get(service.login_url()).send().await.unwrap();
    let cookie = login.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = http
        .get(format!("{}{consent}", service.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" content=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let origin = reqwest::Url::parse(redirect)
        .unwrap()
        .origin()
        .ascii_serialization();
    assert!(
        csp.contains(&format!("form-action 'self' {origin}")),
        "{csp}"
    );
    // Without the session's CSRF token, the answer is refused.
    let forged = http
        .post(format!("{}{consent}", service.url))
        .header("cookie", &cookie)
        .form(&[("csrf", "nope"), ("scope", "*"), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let answered = http
        .post(format!("{}{consent}", service.url))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("scope", "*"),
            ("decision", decision),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 303);
    let back = location(&answered);
    assert!(back.starts_with(redirect), "{back}");
    query(&back)
}

/// The JSON at a URL, fetched with no token.
async fn json_at(url: &str) -> Value {
    http().get(url).send().await.unwrap().json().await.unwrap()
}

fn pkce() -> (String, String) {
    let verifier = format!("v{}", "0123456789abcdef".repeat(3));
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

async fn token(service: &Service, form: &[(&str, &str)]) -> (u16, Value) {
    let response = http()
        .post(format!("{}/oauth/token", service.url))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status == 200 {
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
    (status, response.json().await.unwrap())
}

async fn mcp_status(service: &Service, token: &str) -> (u16, Option<String>) {
    let response = http()
        .post(format!("{}/mcp", service.url))
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}),
        )
        .send()
        .await
        .unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), challenge)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorization_server_keeps_the_oauth_rules() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let base = &service.url;
    let mcp = format!("{base}/mcp");

    // No token: 401 and where the metadata is.
    let (status, challenge) = mcp_status(&service, "").await;
    assert_eq!(status, 401);
    let metadata_url = format!("{base}/.well-known/oauth-protected-resource/mcp");
    assert_eq!(
        challenge.as_deref(),
        Some(format!("Bearer resource_metadata=\"{metadata_url}\"").as_str())
    );
    let (status, challenge) = mcp_status(&service, "exa_not-a-token").await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("error=\"invalid_token\""));
    let resource = json_at(&metadata_url).await;
    assert_eq!(resource["resource"], mcp.as_str());
    assert_eq!(resource["authorization_servers"], json!([base]));
    let server = json_at(&format!("{base}/.well-known/oauth-authorization-server")).await;
    assert_eq!(server["issuer"], base.as_str());
    assert_eq!(server["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        server["authorization_response_iss_parameter_supported"],
        true
    );
    let registration = server["registration_endpoint"].as_str().unwrap().to_owned();

    // Registration: loopback redirects only, public clients only.
    for (body, why) in [
        (
            json!({"redirect_uris": ["https://evil.example/cb"]}),
            "invalid_redirect_uri",
        ),
        (json!({"redirect_uris": []}), "invalid_redirect_uri"),
        (
            json!({"redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "client_secret_basic"}),
            "invalid_client_metadata",
        ),
    ] {
        let response = http().post(&registration).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], why, "{answer}");
    }
    let redirect = "http://127.0.0.1:9/cb";
    let response = http()
        .post(&registration)
        .json(&json!({"redirect_uris": [redirect], "client_name": "protocol test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let client: Value = response.json().await.unwrap();
    let client_id = client["client_id"].as_str().unwrap();

    // Not approved yet: it is pending, and holds no token.
    let listed = service.cli(&["clients", "list"]);
    assert!(
        text(&listed.stdout).contains("pending"),
        "{}",
        text(&listed.stdout)
    );

    // An unregistered redirect is shown to the person, never followed.
    let response = no_redirects()
        .get(format!("{base}/oauth/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", "http://127.0.0.1:10/other"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(page.contains("is not a redirect URI"), "{page}");
    assert!(
        !page.contains("\"http://127.0.0.1:10/other\""),
        "escaped: {page}"
    );
    // Without PKCE, or for another resource, the client hears why.
    let (_, challenge) = pkce();
    let response = no_redirects()
        .get(format!("{base}/oauth/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("state", "s1"),
        ])
        .send()
        .await
        .unwrap();
    let refused = query(&location(&response));
    assert_eq!(refused["error"], "invalid_request");
    assert_eq!(refused["state"], "s1");
    assert_eq!(refused["iss"], base.as_str());
    let refused = authorize(
        &service,
        client_id,
        redirect,
        &challenge,
        &[("resource", "http://elsewhere.example/mcp")],
        "allow",
    )
    .await;
    assert_eq!(refused["error"], "invalid_target");

    // Declined: access_denied.
    let denied = authorize(&service, client_id, redirect, &challenge, &[], "deny").await;
    assert_eq!(denied["error"], "access_denied");
    assert_eq!(denied["iss"], base.as_str());

    // A wrong verifier spends the code.
    let (verifier, challenge) = pkce();
    let granted = authorize(
        &service,
        client_id,
        redirect,
        &challenge,
        &[("resource", &mcp)],
        "allow",
    )
    .await;
    assert_eq!(granted["state"], "xyz");
    assert_eq!(granted["iss"], base.as_str());
    let code = granted["code"].clone();
    let exchange = |code: &str, verifier: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("client_id", client_id.to_owned()),
            ("redirect_uri", redirect.to_owned()),
            ("code_verifier", verifier.to_owned()),
            ("resource", mcp.clone()),
        ]
    };
    let wrong = format!("w{}", "0123456789abcdef".repeat(3));
    let form = exchange(&code, &wrong);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, answer) = token(&service, &form).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let form = exchange(&code, &verifier);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, answer) = token(&service, &form).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_grant")),
        "a code works once"
    );

    // The right verifier: tokens, for /mcp only.
    let granted = authorize(
        &service,
        client_id,
        redirect,
        &challenge,
        &[("resource", &mcp)],
        "allow",
    )
    .await;
    let form = exchange(&granted["code"], &verifier);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, tokens) = token(&service, &form).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(mcp_status(&service, &access).await.0, 200);
    for route in ["/api/tools", "/api/clients", "/api/executions"] {
        let response = http()
            .get(format!("{base}{route}"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{route}");
    }
    let resume = http()
        .post(format!("{base}/api/executions/exec_x/resume"))
        .bearer_auth(&access)
        .json(&json!({"action": "accept"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resume.status(),
        403,
        "an agent cannot approve its own pauses"
    );
    // Tokens are stored hashed: neither is in the database.
    let db = service.stored();
    for secret in [&access, &refresh] {
        let found = |bytes: &[u8]| bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found(&db), "a token is stored in the clear");
    }

    // Refresh rotates; a replayed refresh token ends every token.
    let (status, rotated) = token(
        &service,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", client_id),
        ],
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let access2 = rotated["access_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated["refresh_token"].as_str().unwrap(), refresh);
    assert_eq!(mcp_status(&service, &access2).await.0, 200);
    let (status, replay) = token(
        &service,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", client_id),
        ],
    )
    .await;
    assert_eq!(
        (status, replay["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        mcp_status(&service, &access2).await.0,
        401,
        "the replay ended the client's tokens"
    );
    let next_refresh = rotated["refresh_token"].as_str().unwrap();
    let (status, _) = token(
        &service,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", next_refresh),
            ("client_id", client_id),
        ],
    )
    .await;
    assert_eq!(status, 400);
}

/// A host publishing client metadata documents: `/client.json` names
/// itself, `/other.json` names another URL, `/wide.json` wants a redirect
/// that is not loopback, `/big.json` is 64 KiB, `/away` redirects to
/// another origin. `(its base URL, redirect URI in client.json)`.
async fn metadata_host() -> (String, String) {
    use axum::Json;
    use axum::response::{IntoResponse, Redirect};
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let redirect = "http://127.0.0.1:9/metadata-callback".to_owned();
    let document = |id: String, redirect: &str| {
        json!({
            "client_id": id,
            "client_name": "published client",
            "redirect_uris": [redirect],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        })
    };
    let own = document(format!("{base}/client.json"), &redirect);
    let other = document("https://elsewhere.example/client.json".into(), &redirect);
    let wide = document(format!("{base}/wide.json"), "https://evil.example/cb");
    let app = axum::Router::new()
        .route("/client.json", get(move || async move { Json(own) }))
        .route("/other.json", get(move || async move { Json(other) }))
        .route("/wide.json", get(move || async move { Json(wide) }))
        .route(
            "/big.json",
            get(|| async { "x".repeat(64 * 1024).into_response() }),
        )
        .route(
            "/away",
            get(|| async { Redirect::temporary("http://127.0.0.2:9/client.json") }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, redirect)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_named_by_its_metadata_document_signs_in() {
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let base = &service.url;
    let server = json_at(&format!("{base}/.well-known/oauth-authorization-server")).await;
    assert_eq!(server["client_id_metadata_document_supported"], true);
    let (host, redirect) = metadata_host().await;
    let (verifier, challenge) = pkce();

    // Documents that break the rules are refused to the person, naming why.
    for (path, why) in [
        ("/other.json", "names another client_id"),
        ("/wide.json", "is not a loopback URL"),
        ("/big.json", "larger than 5 KiB"),
        ("/away", "answered HTTP 307"),
        ("/missing.json", "answered HTTP 404"),
    ] {
        let response = no_redirects()
            .get(format!("{base}/oauth/authorize"))
            .query(&[
                ("response_type", "code"),
                ("client_id", &format!("{host}{path}")),
                ("redirect_uri", &redirect),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let page = response.text().await.unwrap();
        assert!(page.contains(why), "{path}: {page}");
    }
    // Only HTTPS, unless the host is this machine's loopback.
    let response = no_redirects()
        .get(format!("{base}/oauth/authorize"))
        .query(&[("client_id", "http://client.example/metadata.json")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("over HTTPS"));

    // The published client signs in like a registered one, by its URL.
    let client_id = format!("{host}/client.json");
    let back = authorize(&service, &client_id, &redirect, &challenge, &[], "allow").await;
    let code = back["code"].clone();
    let (status, tokens) = token(
        &service,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &client_id),
            ("redirect_uri", &redirect),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(mcp_status(&service, &access).await.0, 200);
    let listed = text(&service.cli(&["clients", "list"]).stdout);
    assert!(
        listed.contains("published client") && listed.contains(&client_id),
        "{listed}"
    );

    // Revoked, its token is refused; a new sign-in asks the person again.
    let out = service.cli(&["clients", "revoke", &client_id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mcp_status(&service, &access).await.0, 401);
    let again = no_redirects()
        .get(format!("{base}/oauth/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303);
    assert!(location(&again).starts_with("/consent/"));
    let listed = text(&service.cli(&["clients", "list"]).stdout);
    let line = listed
        .lines()
        .find(|l| l.contains(&client_id))
        .unwrap_or_default();
    assert!(line.contains("pending"), "{listed}");
}

/// A source's resources and prompts are the whole source's: on the source
/// view, a client whose scope holds only some of its tools gets none of
/// them, while one that holds every tool gets them forwarded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sources_resources_go_only_to_clients_that_see_all_of_it() {
    use rmcp::ServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

    runtime::install_crypto_provider();
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let everything = support::repo_root()
        .join("tests/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    let (_, added) = service
        .invoke(
            "executor.mcp.addSource",
            json!({"namespace": "everything", "command": "node", "args": [everything, "stdio"]}),
        )
        .await;
    assert_eq!(added["ok"], true, "{added}");
    let mint = |name: &str, scope: &str| {
        let out = service.cli(&["clients", "add", name, "--scope", scope]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_owned()
    };
    let partial = mint("partial", "everything.echo");
    let whole = mint("whole", "everything.*");
    let connect = |token: String| {
        let config = StreamableHttpClientTransportConfig::with_uri(format!(
            "{}/mcp?source=everything",
            service.url
        ))
        .auth_header(token);
        ().serve(StreamableHttpClientTransport::from_config(config))
    };

    let client = connect(partial).await.unwrap();
    let tools = client.peer().list_all_tools().await.unwrap();
    let names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(names, ["echo"]);
    let refused = client.peer().list_resources(None).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("does not hold the whole source"),
        "{refused}"
    );
    let refused = client.peer().list_prompts(None).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("does not hold the whole source"),
        "{refused}"
    );
    client.cancel().await.unwrap();

    let client = connect(whole).await.unwrap();
    assert!(client.peer().list_all_tools().await.unwrap().len() > 1);
    let resources = client.peer().list_resources(None).await.unwrap();
    assert!(!resources.resources.is_empty());
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_client_sees_and_calls_only_its_integration() {
    let upstream = start_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service.add_echo(&upstream).await;
    service.allow("echo.*").await;

    let minted = service.cli(&[
        "clients",
        "add",
        "echo-only",
        "--scope",
        "echo.*",
        "--days",
        "1",
    ]);
    assert!(minted.status.success(), "{}", text(&minted.stderr));
    let scoped = text(&minted.stdout).trim().to_owned();
    assert!(scoped.starts_with("exa_"), "{scoped}");
    let mcp = format!("{}/mcp", service.url);

    // The whole-catalog view: echo's tools and nothing else; another
    // integration's tool is as unknown as a tool that does not exist.
    let out = sdk(
        &mcp,
        &scoped,
        "none",
        json!([
            {"list": true},
            {"call": "echo.org.main.items.getItem", "arguments": {"id": 3}},
            {"call": "executor.org.main.sources.list", "arguments": {}},
            {"call": "nothing.org.main.here", "arguments": {}},
        ]),
    );
    let names: Vec<&str> = out["results"][0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.is_empty() && names.iter().all(|n| n.starts_with("echo.")),
        "{names:?}"
    );
    assert_eq!(out["results"][1]["structuredContent"]["ok"], true, "{out}");
    let hidden = out["results"][2]
        .to_string()
        .replace("executor.org.main.sources.list", "X");
    let absent = out["results"][3]
        .to_string()
        .replace("nothing.org.main.here", "X");
    assert_eq!(hidden, absent, "out of scope reads as not there");

    // Discovery and code mode: search finds only echo; describing or
    // calling anything else is tool_not_found.
    let out = sdk(
        &format!("{mcp}?tools=discover"),
        &scoped,
        "none",
        json!([
            {"call": "search", "arguments": {"query": "list sources", "limit": 50}},
            {"call": "describe", "arguments": {"path": "executor.org.main.sources.list"}},
            {"call": "call", "arguments": {"path": "executor.org.main.sources.list", "input": {}}},
        ]),
    );
    let hits = out["results"][0]["structuredContent"]["data"]["tools"]
        .as_array()
        .unwrap();
    assert!(
        hits.iter()
            .all(|h| h["path"].as_str().unwrap().starts_with("echo.")),
        "{out}"
    );
    for i in [1, 2] {
        assert_eq!(
            out["results"][i]["structuredContent"]["error"]["code"], "tool_not_found",
            "{out}"
        );
    }
    let script = "const found = await tools.search('sources', { limit: 50 });\n\
        const r = await tools.executor.org.main.sources.list({});\n\
        return { paths: found.map((h) => h.path), code: r.ok ? 'ok' : r.error.code };";
    let out = sdk(
        &format!("{mcp}?tools=code"),
        &scoped,
        "none",
        json!([
            {"list": true},
            {"call": "execute", "arguments": {"code": script}},
        ]),
    );
    let execute = out["results"][0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "execute")
        .unwrap();
    let description = execute["description"].as_str().unwrap();
    assert!(description.contains("- echo ("), "{description}");
    assert!(!description.contains("- executor ("), "{description}");
    let data = &out["results"][1]["structuredContent"]["data"];
    assert_eq!(data["code"], "tool_not_found", "{out}");
    assert!(
        data["paths"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.as_str().unwrap().starts_with("echo.")),
        "{out}"
    );

    // An approve-all client's read waits for a person, though policy allows it.
    let minted = service.cli(&["clients", "add", "careful", "--approve-all"]);
    let careful = text(&minted.stdout).trim().to_owned();
    let out = sdk(
        &mcp,
        &careful,
        "none",
        json!([
            {"call": "echo.org.main.items.getItem", "arguments": {"id": 3}},
        ]),
    );
    assert_eq!(
        out["results"][0]["structuredContent"]["error"]["code"], "execution_paused",
        "{out}"
    );
    // Its own client cannot answer for the owner: it is not even asked.
    let out = sdk(
        &mcp,
        &careful,
        "approve",
        json!([
            {"call": "echo.org.main.items.getItem", "arguments": {"id": 4}},
        ]),
    );
    assert_eq!(
        out["results"][0]["structuredContent"]["error"]["code"], "execution_paused",
        "{out}"
    );
    assert_eq!(out["elicitations"], json!([]), "{out}");
    let listed = service.cli(&["clients", "list", "--json"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let careful_id = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "careful")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, paused) = service.get("/api/executions?state=paused").await;
    let pause = &paused["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        pause["caller"],
        format!("mcp:{careful_id}"),
        "the pause names its client: {paused}"
    );
    assert_eq!(pause["rule"], "client-approves-all", "{paused}");

    // Listed with their scopes; revoked by name.
    let listed = service.cli(&["clients", "list"]);
    let listed = text(&listed.stdout);
    assert!(
        listed.contains("echo-only") && listed.contains("echo.*"),
        "{listed}"
    );
    assert!(listed.contains("(approve all)"), "{listed}");
    let out = service.cli(&["clients", "revoke", "echo-only"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = sdk(&mcp, &scoped, "none", json!([{"list": true}]));
    assert!(out["connectError"].is_string(), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_is_on_record_once_with_its_client_and_no_secret() {
    let upstream = start_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service.add_echo(&upstream).await;
    service.allow("echo.*").await;
    let secret = "canary-credential-7f3a9c";
    let out = service.add_connection(&["echo", "--auth", "bearer"], secret);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let input_secret = "canary-input-51be0d";
    let minted = service.cli(&["clients", "add", "auditor"]);
    let agent = text(&minted.stdout).trim().to_owned();

    // Adding the source was a call too. Then REST, the CLI, MCP and code
    // mode: one call each, and one refusal.
    let (status, _) = service
        .invoke(
            "echo.org.main.items.getItem",
            json!({"id": 1, "tags": [input_secret]}),
        )
        .await;
    assert_eq!(status, 200);
    let out = service.cli(&["call", "echo", "items", "getItem", r#"{"id": 2}"#]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mcp = format!("{}/mcp", service.url);
    let out = sdk(
        &mcp,
        &agent,
        "none",
        json!([
            {"call": "echo.org.main.items.getItem", "arguments": {"id": 3, "tags": [input_secret]}},
        ]),
    );
    assert_eq!(out["results"][0]["structuredContent"]["ok"], true, "{out}");
    let script = "return (await tools.echo.org.main.items.getItem({ id: 4 })).ok;";
    let out = sdk(
        &format!("{mcp}?tools=code"),
        &agent,
        "none",
        json!([
            {"call": "execute", "arguments": {"code": script}},
        ]),
    );
    assert_eq!(
        out["results"][0]["structuredContent"]["data"], true,
        "{out}"
    );
    let (status, _) = service.invoke("echo.org.main.nothing", json!({})).await;
    assert_eq!(status, 404);

    let (_, audit) = service.get("/api/audit").await;
    let records = audit["data"]["records"].as_array().unwrap();
    let seen: Vec<(String, String, String, String, String)> = records
        .iter()
        .rev()
        .map(|r| {
            (
                r["via"].as_str().unwrap().to_owned(),
                r["client"].as_str().unwrap_or("-").to_owned(),
                r["tool"].as_str().unwrap().to_owned(),
                r["decision"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let get = "echo.org.main.items.getItem";
    let row = |via: &str, client: &str, tool: &str, decision: &str, outcome: &str| {
        (
            via.into(),
            client.into(),
            tool.into(),
            decision.into(),
            outcome.into(),
        )
    };
    assert_eq!(
        seen,
        vec![
            row(
                "api",
                "-",
                "executor.org.main.openapi.addSource",
                "allowed",
                "ok"
            ),
            row("api", "-", get, "allowed", "ok"),
            row("cli", "-", get, "allowed", "ok"),
            row("mcp", "auditor", get, "allowed", "ok"),
            row("code", "auditor", get, "allowed", "ok"),
            row(
                "api",
                "-",
                "echo.org.main.nothing",
                "refused",
                "tool_not_found"
            ),
        ],
        "{audit}"
    );
    assert!(
        records
            .iter()
            .all(|r| r["durationMs"].as_f64().unwrap() > 0.0),
        "{audit}"
    );
    assert!(records[1]["bytes"].as_u64().unwrap() > 0, "{audit}");

    // Filters, and the JSON lines export.
    let (_, mine) = service.get("/api/audit?client=auditor").await;
    assert_eq!(
        mine["data"]["records"].as_array().unwrap().len(),
        2,
        "{mine}"
    );
    let out = service.cli(&["logs", "--json", "--since", "1h"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    let table = service.cli(&["logs", "--client", "auditor"]);
    assert!(
        text(&table.stdout).contains("auditor"),
        "{}",
        text(&table.stdout)
    );

    // No secret anywhere in the log, read back or on disk.
    let db = service.stored();
    for canary in [secret, input_secret] {
        assert!(
            !audit.to_string().contains(canary),
            "{canary} in the audit log"
        );
        assert!(
            !text(&out.stdout).contains(canary),
            "{canary} in the export"
        );
        let found = |bytes: &[u8]| bytes.windows(canary.len()).any(|w| w == canary.as_bytes());
        assert!(!found(&db), "{canary} on disk");
    }
}
