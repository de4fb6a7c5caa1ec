//! GraphQL sources end to end: graphql-js (the reference implementation,
//! served by graphql-http from npm) as the upstream; its schema introspected
//! by `executor.graphql.addSource`; queries and mutations called through
//! REST invoke and MCP, with errors, partial data and a custom `select`.

mod support;

use serde_json::json;
use support::service::{NodeServer, Service, sdk};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_and_mutations_run_through_rest_and_mcp() {
    let server = NodeServer::start("graphql-server.mjs");
    let endpoint = server.url.clone();
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());

    // Introspection needs the header too: without it, a clear refusal.
    let r = service
        .invoke(
            "executor.graphql.addSource",
            json!({"namespace": "films", "endpoint": endpoint}),
        )
        .await;
    assert_eq!(r.1["ok"], false, "{}", r.1);
    assert!(
        r.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("introspecting"),
        "{}",
        r.1
    );
    let r = service
        .invoke(
            "executor.graphql.addSource",
            json!({"namespace": "films", "endpoint": endpoint, "headers": {"x-api-key": "gql-key"}}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
    assert_eq!(r.1["data"]["tools"], 4, "{}", r.1);

    // A query with the default selection (nested object included).
    let r = service.invoke("films.query.film", json!({"id": "1"})).await;
    assert_eq!(
        r.1["data"],
        json!({"id": "1", "title": "A New Hope", "stars": 5, "genre": "SCIFI", "director": {"id": "p1", "name": "George Lucas"}}),
        "{}",
        r.1
    );
    // The connection pattern: edges, nodes and page info.
    let r = service
        .invoke("films.query.films", json!({"first": 1}))
        .await;
    assert_eq!(
        r.1["data"]["edges"][0]["node"]["title"], "A New Hope",
        "{}",
        r.1
    );
    assert_eq!(r.1["data"]["pageInfo"]["hasNextPage"], true);
    // A caller's own selection.
    let r = service
        .invoke(
            "films.query.film",
            json!({"id": "2", "select": "{ title }"}),
        )
        .await;
    assert_eq!(
        r.1["data"],
        json!({"title": "The Empire Strikes Back"}),
        "{}",
        r.1
    );
    let r = service
        .invoke("films.query.film", json!({"id": "2", "select": "{ title"}))
        .await;
    assert_eq!(r.1["error"]["code"], "invalid_input", "{}", r.1);
    // Checked against the schema before sending: every problem, where it
    // is, and the closest name (graphql-js would answer in its own words,
    // as an upstream error).
    let r = service
        .invoke(
            "films.query.film",
            json!({"id": "2", "select": "{ titel director genre { x } }"}),
        )
        .await;
    assert_eq!(r.1["error"]["code"], "invalid_input", "{}", r.1);
    assert_eq!(r.1["error"]["details"]["pointer"], "/select", "{}", r.1);
    let problems = r.1["error"]["details"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 3, "{}", r.1);
    assert_eq!(
        problems[0],
        "Film has no field `titel` (line 1, column 3); did you mean `title`?"
    );
    assert!(
        problems[1]
            .as_str()
            .unwrap()
            .starts_with("`film.director` is a Person: say which of its fields to select"),
        "{}",
        r.1
    );
    assert!(
        problems[2]
            .as_str()
            .unwrap()
            .starts_with("`film.genre` is a Genre, which has no fields"),
        "{}",
        r.1
    );
    // An inline fragment and a nested object pass; a trailing comment
    // does not swallow the rest of the document.
    let r = service
        .invoke(
            "films.query.film",
            json!({"id": "1", "select": "{ ... on Film { title } director { name } } # mine"}),
        )
        .await;
    assert_eq!(
        r.1["data"],
        json!({"title": "A New Hope", "director": {"name": "George Lucas"}}),
        "{}",
        r.1
    );
    // GraphQL errors: messages with paths, partial data kept.
    let r = service.invoke("films.query.fail", json!({})).await;
    assert_eq!(r.1["error"]["code"], "upstream_tool_error", "{}", r.1);
    assert!(
        r.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("always fails (at fail)"),
        "{}",
        r.1
    );
    assert_eq!(r.1["error"]["details"]["data"], json!({"fail": null}));
    // Input validation against the argument schema happens before sending.
    let r = service.invoke("films.query.film", json!({})).await;
    assert_eq!(r.1["error"]["code"], "invalid_input", "{}", r.1);

    // Mutations need approval by default; allowed, they run.
    let input = json!({"input": {"id": "1", "stars": 3}});
    let r = service
        .invoke("films.mutation.rateFilm", input.clone())
        .await;
    assert_eq!(r.1["error"]["code"], "execution_paused", "{}", r.1);
    service.allow("films.*").await;
    let r = service.invoke("films.mutation.rateFilm", input).await;
    assert_eq!(r.1["data"]["stars"], 3, "{}", r.1);

    // Over MCP, with the real output schema the SDK client checks.
    let out = sdk(
        &format!("{}/mcp", service.url),
        &service.mcp_token,
        "none",
        json!([{"list": true}, {"call": "films.org.main.query.film", "arguments": {"id": "2"}}]),
    );
    let tools = out["results"][0]["tools"].as_array().unwrap();
    let film = tools
        .iter()
        .find(|t| t["name"] == "films.org.main.query.film")
        .unwrap();
    assert_eq!(
        film["outputSchema"]["properties"]["data"]["properties"]["title"]["type"],
        "string"
    );
    assert_eq!(
        out["results"][1]["structuredContent"]["data"]["title"], "The Empire Strikes Back",
        "{out}"
    );

    // Through the generated TypeScript client, compiled by tsc and run by
    // Node: typed by the default selection, errors as values.
    let result = service.run_typescript(
        "films",
        r#"import { createExecutorClient } from "./films.gen.js";
const executor = createExecutorClient();
const film = await executor.films.org.main.query.film({ id: "1" });
const title: string | undefined = film.ok && film.data ? film.data.title : undefined;
const failed = await executor.films.org.main.query.fail({});
console.log(JSON.stringify({ title, director: film.ok ? film.data?.director?.name : null, fail: failed.ok ? null : failed.error.code }));
"#,
    );
    assert_eq!(
        result,
        json!({"title": "A New Hope", "director": "George Lucas", "fail": "upstream_tool_error"})
    );

    // Refresh introspects again.
    let r = service
        .invoke("executor.sources.refresh", json!({"namespace": "films"}))
        .await;
    assert_eq!(r.1["data"]["tools"], 4, "{}", r.1);
}
