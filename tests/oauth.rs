//! OAuth 2 connections against a local authorization server (axum, on
//! 127.0.0.1:0) that issues short-lived access tokens, checks PKCE and
//! rotates refresh tokens (only the latest one works): sign-in through the
//! service's callback, refresh after expiry, a rotated refresh token that
//! survives a restart, one refresh-and-retry on 401, client credentials,
//! and two replicas on one PostgreSQL database racing to refresh.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::json;
use sha2::Digest;
use support::service::{Service, text};

/// Access tokens live this long.
const LIFETIME: u64 = 2;

#[derive(Default)]
struct Provider {
    challenges: HashMap<String, String>,
    access: HashMap<String, Instant>,
    latest_refresh: Option<String>,
    issued: usize,
    grants: Vec<String>,
    /// Answers a refresh after a while, as a remote provider does: long
    /// enough for two callers to race.
    slow_refresh: bool,
}

type Shared = Arc<Mutex<Provider>>;

fn token_answer(p: &mut Provider, refresh: bool) -> Response {
    p.issued += 1;
    let access = format!("at-{}", p.issued);
    p.access.insert(
        access.clone(),
        Instant::now() + Duration::from_secs(LIFETIME),
    );
    let mut body = json!({"access_token": access, "token_type": "Bearer", "expires_in": LIFETIME});
    if refresh {
        let rotated = format!("rt-{}", p.issued);
        p.latest_refresh = Some(rotated.clone());
        body["refresh_token"] = json!(rotated);
    }
    axum::Json(body).into_response()
}

fn refused(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({"error": error}))).into_response()
}

async fn authorize(Query(q): Query<HashMap<String, String>>, State(p): State<Shared>) -> Response {
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["response_type"], "code");
    let mut p = p.lock().unwrap();
    let code = format!("code-{}", p.challenges.len() + 1);
    p.challenges
        .insert(code.clone(), q["code_challenge"].clone());
    Redirect::to(&format!(
        "{}?code={code}&state={}",
        q["redirect_uri"], q["state"]
    ))
    .into_response()
}

async fn token(State(p): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let slow = p.lock().unwrap().slow_refresh;
    if slow && form.get("grant_type").map(String::as_str) == Some("refresh_token") {
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let mut p = p.lock().unwrap();
    let grant = form.get("grant_type").cloned().unwrap_or_default();
    p.grants.push(grant.clone());
    match grant.as_str() {
        "authorization_code" => {
            let Some(challenge) = p.challenges.remove(&form["code"]) else {
                return refused("invalid_grant");
            };
            let digest = sha2::Sha256::digest(form["code_verifier"].as_bytes());
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
            if computed != challenge {
                return refused("invalid_grant");
            }
            token_answer(&mut p, true)
        }
        "refresh_token" => {
            if p.latest_refresh.as_deref() != form.get("refresh_token").map(String::as_str) {
                return refused("invalid_grant");
            }
            token_answer(&mut p, true)
        }
        "client_credentials" => {
            let basic = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("svc:svc-secret")
            );
            if basic != expected {
                return (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(json!({"error": "invalid_client"})),
                )
                    .into_response();
            }
            token_answer(&mut p, false)
        }
        _ => refused("unsupported_grant_type"),
    }
}

/// The API: a valid, unexpired access token, or 401.
async fn check(State(p): State<Shared>, headers: HeaderMap) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_owned();
    let p = p.lock().unwrap();
    match p.access.get(&token) {
        Some(until) if *until > Instant::now() => {
            // Which token, by number (executor redacts the token itself).
            axum::Json(json!({"who": token.replace("at-", "token #")})).into_response()
        }
        _ => (StatusCode::UNAUTHORIZED, "expired or unknown token").into_response(),
    }
}

/// A GraphQL endpoint behind the same tokens: `{ who }`, or 401.
async fn graphql(state: State<Shared>, headers: HeaderMap) -> Response {
    let answer = check(state, headers).await;
    if answer.status() != StatusCode::OK {
        return answer;
    }
    let body = axum::body::to_bytes(answer.into_body(), 1 << 16)
        .await
        .unwrap();
    let who: serde_json::Value = serde_json::from_slice(&body).unwrap();
    axum::Json(json!({"data": {"who": who["who"]}})).into_response()
}

async fn start_provider() -> (String, Shared) {
    let shared = Shared::default();
    let app = Router::new()
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route("/api/check", get(check))
        .route("/graphql", post(graphql))
        .route(
            "/revoke",
            post(|State(p): State<Shared>| async move {
                p.lock().unwrap().access.clear();
                "revoked"
            }),
        )
        .with_state(shared.clone());
    let url = support::service::serve(app).await;
    (url, shared)
}

fn spec(provider: &str) -> String {
    format!(
        "openapi: 3.1.0
info: {{ title: OAuth API, version: '1' }}
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows:
        authorizationCode:
          authorizationUrl: {provider}/authorize
          tokenUrl: {provider}/token
          scopes: {{ read: read things }}
security: [{{ oauth: [read] }}]
paths:
  /check:
    get:
      operationId: check
      responses:
        '200':
          description: who
          content:
            application/json:
              schema: {{ type: object, properties: {{ who: {{ type: string }} }} }}
"
    )
}

/// An OAuth client-credentials connection (client `svc`) for `integration`.
fn add_client_credentials(
    service: &Service,
    integration: &str,
    provider: &str,
    secret: &str,
) -> std::process::Output {
    let token_url = format!("{provider}/token");
    let args = [
        integration,
        "--auth",
        "oauth2-client-credentials",
        "--client-id",
        "svc",
        "--token-url",
        &token_url,
    ];
    service.add_connection(&args, secret)
}

/// The authorization-code connection for `api`, signed in: the CLI prints
/// the sign-in URL (the URLs come from the spec's flow), and a browser
/// following it ends on the service's callback.
async fn sign_in(service: &Service, provider: &str) {
    let out = service.cli(&[
        "connections",
        "add",
        "api",
        "--auth",
        "oauth2",
        "--client-id",
        "app",
        "--scope",
        "read",
        "--no-open",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let url = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{provider}/authorize?")))
        .unwrap_or_else(|| panic!("no sign-in URL in: {stdout}"));
    assert!(
        url.contains("code_challenge=") && url.contains("scope=read"),
        "{url}"
    );
    let page = support::service::http().get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Signed in"));
}

async fn add_source(service: &Service, provider: &str, namespace: &str) {
    let r = service
        .invoke(
            "executor.openapi.addSource",
            json!({"spec": spec(provider), "namespace": namespace, "baseUrl": format!("{provider}/api")}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_code_with_pkce_refreshes_and_survives_a_restart() {
    let (provider, shared) = start_provider().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    add_source(&service, &provider, "api").await;

    // Before signing in: connection_missing.
    let r = service.invoke("api.check.check", json!({})).await;
    assert_eq!(r.1["error"]["code"], "connection_missing", "{}", r.1);

    sign_in(&service, &provider).await;

    let r = service.invoke("api.check.check", json!({})).await;
    assert_eq!(r.1["data"]["who"], "token #1", "{}", r.1);

    // Expired: refreshed (the provider rotates the refresh token).
    tokio::time::sleep(Duration::from_millis(LIFETIME * 1000 + 200)).await;
    let r = service.invoke("api.check.check", json!({})).await;
    assert_eq!(r.1["data"]["who"], "token #2", "{}", r.1);

    // Restarted and expired again: the rotated refresh token was stored
    // (the first one would be refused now).
    service.kill();
    let service = Service::start(home.path());
    tokio::time::sleep(Duration::from_millis(LIFETIME * 1000 + 200)).await;
    let r = service.invoke("api.check.check", json!({})).await;
    assert_eq!(r.1["data"]["who"], "token #3", "{}", r.1);

    // Refused before expiry (revoked): one refresh, one retry.
    support::service::http()
        .post(format!("{provider}/revoke"))
        .send()
        .await
        .unwrap();
    let r = service.invoke("api.check.check", json!({})).await;
    assert_eq!(r.1["data"]["who"], "token #4", "{}", r.1);
    assert_eq!(
        shared.lock().unwrap().grants,
        [
            "authorization_code",
            "refresh_token",
            "refresh_token",
            "refresh_token"
        ]
    );

    // No token leaks into listings, and the database holds ciphertext.
    let (_, listed) = service.get("/api/connections").await;
    assert_eq!(listed["data"][0]["auth"]["type"], "oauth2");
    assert!(!listed.to_string().contains("rt-"), "{listed}");
    let db = service.stored();
    assert!(!db.windows(4).any(|w| w == b"rt-3" || w == b"at-3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_fetch_cache_and_renew_tokens() {
    let (provider, shared) = start_provider().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    add_source(&service, &provider, "svc").await;
    let add = |secret: &str| add_client_credentials(&service, "svc", &provider, secret);
    let out = add("wrong-secret");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r = service.invoke("svc.check.check", json!({})).await;
    assert_eq!(r.1["error"]["code"], "connection_rejected", "{}", r.1);
    assert!(
        r.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid_client"),
        "{}",
        r.1
    );
    assert!(!r.1.to_string().contains("wrong-secret"));

    let out = add("svc-secret");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r = service.invoke("svc.check.check", json!({})).await;
    assert_eq!(r.1["data"]["who"], "token #1", "{}", r.1);
    let r = service.invoke("svc.check.check", json!({})).await;
    assert_eq!(
        r.1["data"]["who"], "token #1",
        "the token is reused while valid: {}",
        r.1
    );
    tokio::time::sleep(Duration::from_millis(LIFETIME * 1000 + 200)).await;
    let r = service.invoke("svc.check.check", json!({})).await;
    assert_eq!(r.1["data"]["who"], "token #2", "{}", r.1);
    let grants = shared.lock().unwrap().grants.clone();
    assert_eq!(
        grants.iter().filter(|g| *g == "client_credentials").count(),
        3,
        "{grants:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_calls_carry_the_token_and_renew_it_once_on_401() {
    let (provider, shared) = start_provider().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let r = service
        .invoke(
            "executor.graphql.addSource",
            json!({"namespace": "gql", "endpoint": format!("{provider}/graphql"), "schema": "type Query { who: String }"}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    let r = service.invoke("gql.query.who", json!({})).await;
    assert_eq!(r.1["error"]["code"], "connection_missing", "{}", r.1);

    let out = add_client_credentials(&service, "gql", &provider, "svc-secret");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r = service.invoke("gql.query.who", json!({})).await;
    assert_eq!(r.1["data"], "token #1", "{}", r.1);
    // The provider forgets every token: refused once, a new token, the call
    // made again.
    reqwest::Client::new()
        .post(format!("{provider}/revoke"))
        .send()
        .await
        .unwrap();
    let r = service.invoke("gql.query.who", json!({})).await;
    assert_eq!(r.1["data"], "token #2", "{}", r.1);
    assert_eq!(shared.lock().unwrap().grants.len(), 2);
}

/// Two replicas on one PostgreSQL database call a tool whose access token
/// has just expired, at the same moment. The provider rotates refresh
/// tokens (each works once) and answers slowly: the refresh token is used
/// once, and both calls succeed with the one new access token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_racing_on_two_replicas_uses_the_refresh_token_once() {
    let (provider, shared) = start_provider().await;
    shared.lock().unwrap().slow_refresh = true;
    let cluster = support::postgres::Cluster::start();
    let url = cluster.database("race");
    let files = tempfile::tempdir().unwrap();
    let file = |name: &str| files.path().join(name).display().to_string();
    let (key, token) = (file("secret.key"), file("token"));
    let env = [
        ("EXECUTOR_DATABASE_URL", url.as_str()),
        ("EXECUTOR_SECRET_KEY_FILE", key.as_str()),
        ("EXECUTOR_TOKEN_FILE", token.as_str()),
    ];
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Service::start_with_env(home_a.path(), &env);
    add_source(&a, &provider, "api").await;
    sign_in(&a, &provider).await;
    let b = Service::start_with_env(home_b.path(), &env);
    let r = b.invoke("api.check.check", json!({})).await;
    assert_eq!(r.1["data"]["who"], "token #1", "{}", r.1);

    tokio::time::sleep(Duration::from_millis(LIFETIME * 1000 + 200)).await;
    let (on_a, on_b) = tokio::join!(
        a.invoke("api.check.check", json!({})),
        b.invoke("api.check.check", json!({}))
    );
    assert_eq!(on_a.1["data"]["who"], "token #2", "{}", on_a.1);
    assert_eq!(on_b.1["data"]["who"], "token #2", "{}", on_b.1);
    assert_eq!(
        shared.lock().unwrap().grants,
        ["authorization_code", "refresh_token"],
        "the refresh token was used once"
    );
}
