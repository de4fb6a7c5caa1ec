//! `executor.sources.add`: one URL (or file, or text) in, its kind detected
//! by probing real servers: an OpenAPI document served over HTTP, graphql-js
//! behind an API key, the MCP reference server over streamable HTTP, a
//! legacy HTTP+SSE MCP server, and a URL that is none of them.

mod support;

use axum::Router;
use axum::routing::get;
use serde_json::json;
use support::service::{NodeServer, Service, serve};

const SPEC: &str = "openapi: 3.0.3
info: { title: Ping, version: '1' }
servers: [{ url: /v1 }]
paths:
  /ping:
    get:
      operationId: ping
      responses:
        '200':
          description: pong
          content:
            application/json:
              schema: { type: object, properties: { pong: { type: boolean } } }
";

/// A spec behind a key is fetched with the source's headers (adding and
/// refreshing alike), but a redirect to another origin never carries them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_fetches_carry_headers_to_their_own_origin_only() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let record = seen.clone();
    let elsewhere = serve(Router::new().route(
        "/spec.yaml",
        get(move |headers: axum::http::HeaderMap| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push(format!("{headers:?}"));
                SPEC
            }
        }),
    ))
    .await;
    let moved = format!("{elsewhere}/spec.yaml");
    let api = serve(
        Router::new()
            .route(
                "/private/spec.yaml",
                get(|headers: axum::http::HeaderMap| async move {
                    if headers.get("x-api-key").is_some_and(|k| k == "spec-key") {
                        Ok(SPEC)
                    } else {
                        Err(axum::http::StatusCode::UNAUTHORIZED)
                    }
                }),
            )
            .route(
                "/moved",
                get(move || {
                    let moved = moved.clone();
                    async move { axum::response::Redirect::temporary(&moved) }
                }),
            ),
    )
    .await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let headers = json!({"x-api-key": "spec-key"});

    let r = service
        .invoke(
            "executor.sources.add",
            json!({"source": format!("{api}/private/spec.yaml"), "namespace": "private", "headers": headers}),
        )
        .await;
    assert_eq!(r.1["data"]["kind"], "openapi", "{}", r.1);
    let r = service
        .invoke("executor.sources.refresh", json!({"namespace": "private"}))
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    let r = service
        .invoke(
            "executor.openapi.addSource",
            json!({"spec": format!("{api}/private/spec.yaml"), "namespace": "private2", "headers": headers}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);

    for (tool, input) in [
        (
            "executor.sources.add",
            json!({"source": format!("{api}/moved"), "namespace": "moved", "headers": headers}),
        ),
        (
            "executor.openapi.addSource",
            json!({"spec": format!("{api}/moved"), "namespace": "moved2", "headers": headers}),
        ),
    ] {
        let r = service.invoke(tool, input).await;
        assert_eq!(r.1["ok"], true, "{}", r.1);
    }
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(
        seen.iter().all(|h| !h.contains("spec-key")),
        "a header crossed origins: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_is_detected_from_its_url_or_text() {
    let api = serve(
        Router::new()
            .route("/spec.yaml", get(|| async { SPEC }))
            .route(
                "/v1/ping",
                get(|| async { axum::Json(json!({"pong": true})) }),
            ),
    )
    .await;
    let graphql = NodeServer::start("graphql-server.mjs");
    let everything = NodeServer::everything_http(0);
    let legacy = NodeServer::start("mcp-sse-server.mjs");
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    let add = |input: serde_json::Value| {
        let service = &service;
        async move { service.invoke("executor.sources.add", input).await.1 }
    };

    // An OpenAPI document (YAML, relative servers resolved against its URL).
    let r = add(json!({"source": format!("{api}/spec.yaml"), "namespace": "ping"})).await;
    assert_eq!(r["data"]["kind"], "openapi", "{r}");
    assert_eq!(r["data"]["tools"], 1, "{r}");
    let r = service.invoke("ping.ping.ping", json!({})).await;
    assert_eq!(r.1["data"], json!({"pong": true}), "{}", r.1);

    // A GraphQL endpoint: the probe carries the headers it needs.
    let r = add(
        json!({"source": graphql.url, "namespace": "films", "headers": {"x-api-key": "gql-key"}}),
    )
    .await;
    assert_eq!(r["data"]["kind"], "graphql", "{r}");
    assert_eq!(r["data"]["tools"], 4, "{r}");
    let r = service
        .invoke(
            "films.query.film",
            json!({"id": "1", "select": "{ title }"}),
        )
        .await;
    assert_eq!(r.1["data"], json!({"title": "A New Hope"}), "{}", r.1);

    // An MCP server over streamable HTTP.
    let r = add(json!({"source": everything.url, "namespace": "everything"})).await;
    assert_eq!(r["data"]["kind"], "mcp", "{r}");
    assert!(r["data"]["tools"].as_u64().unwrap() >= 5, "{r}");
    let r = service
        .invoke("everything.echo", json!({"message": "hi"}))
        .await;
    assert_eq!(r.1["data"], "Echo: hi", "{}", r.1);

    // A legacy HTTP+SSE MCP server: its GET opens an event stream.
    let r = add(json!({"source": format!("{}/sse", legacy.url), "namespace": "legacy", "headers": {"x-api-key": "fixture-key"}})).await;
    assert_eq!(r["data"]["kind"], "mcp", "{r}");

    // None of them: what each probe saw, and what to do.
    let r = add(json!({"source": format!("{api}/nothing"), "namespace": "none"})).await;
    assert_eq!(r["error"]["code"], "invalid_input", "{r}");
    assert_eq!(
        r["error"]["details"]["probes"].as_array().unwrap().len(),
        3,
        "{r}"
    );
    let message = r["error"]["message"].as_str().unwrap();
    assert!(message.contains("GET answered 404"), "{message}");
    assert!(message.contains("\"kind\""), "{message}");

    // A schema as text: GraphQL, called at the endpoint given as baseUrl.
    let sdl = "type Query { film(id: ID!): Film }\ntype Film { id: ID! title: String! }";
    let r = add(json!({"source": sdl, "namespace": "sdl"})).await;
    assert_eq!(r["error"]["details"]["pointer"], "/baseUrl", "{r}");
    let r = add(json!({"source": sdl, "namespace": "sdl", "baseUrl": graphql.url, "headers": {"x-api-key": "gql-key"}})).await;
    assert_eq!(r["data"]["kind"], "graphql", "{r}");
    let r = service.invoke("sdl.query.film", json!({"id": "2"})).await;
    assert_eq!(r.1["data"]["title"], "The Empire Strikes Back", "{}", r.1);

    // Text that is nothing known.
    let r = add(json!({"source": "{\"name\": \"x\"}", "namespace": "odd"})).await;
    assert_eq!(r["error"]["code"], "invalid_input", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("neither an OpenAPI description"),
        "{r}"
    );
}
