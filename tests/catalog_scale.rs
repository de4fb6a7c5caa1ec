//! What the catalog's speed-ups rely on, pinned (not timed): a listing
//! right after a start is byte for byte the warm one, and a source added
//! while a client pages through a listing does not mix two catalogs.

mod support;

use generator::ir::SchemaRole;
use rmcp::ServiceExt;
use rmcp::model::PaginatedRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;
use support::service::Service;

async fn add(service: &Service, namespace: &str, spec: &std::path::Path) {
    let r = service
        .invoke(
            "executor.openapi.addSource",
            json!({"spec": spec.display().to_string(), "namespace": namespace, "lenient": true}),
        )
        .await;
    assert_eq!(r.1["ok"], true, "{}", r.1);
}

fn github() -> std::path::PathBuf {
    support::corpus().join("openapi/famous/github-api.github.com.json")
}

async fn client(service: &Service) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    let config =
        StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp?tools=all", service.url))
            .auth_header(service.mcp_token.clone());
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_right_after_a_start_is_the_warm_one() {
    runtime::install_crypto_provider();
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    add(&service, "github", &github()).await;
    service.kill();
    let service = Service::start(home.path());
    let cold = client(&service)
        .await
        .peer()
        .list_all_tools()
        .await
        .unwrap();
    let warm = client(&service)
        .await
        .peer()
        .list_all_tools()
        .await
        .unwrap();
    assert!(cold.len() > 1000, "{}", cold.len());
    assert_eq!(
        serde_json::to_string(&cold).unwrap(),
        serde_json::to_string(&warm).unwrap()
    );

    // Whether a tool's output schema is listed is decided by measuring it
    // without building it: the tools listed with one have one of at most
    // 16 KiB, and those listed without have a larger one (as
    // `GET /api/tools/{path}` builds it), give or take the measure's slack.
    // The live catalog keeps definitions as compact text and parses what a
    // tool reaches: the schemas it gives are those of the stored catalog
    // (read whole, as `executor generate` reads it).
    let stored = runtime::state::stored_catalog(&runtime::home::Home {
        dir: home.path().to_path_buf(),
        database_url: service.database_url.clone(),
    })
    .unwrap();
    let limit = runtime::mcp::MAX_OUTPUT_SCHEMA_BYTES;
    let (mut with, mut without) = (0, 0);
    for tool in &cold {
        let (status, body) = service.get(&format!("/api/tools/{}", tool.name)).await;
        assert_eq!(status, 200, "{body}");
        let ir = stored.tool(&tool.name).unwrap();
        for (role, key) in [(SchemaRole::Input, "input"), (SchemaRole::Output, "output")] {
            assert_eq!(
                body["data"][key],
                stored.standalone_schema(ir, role),
                "{} {key}",
                tool.name
            );
        }
        let built = body["data"]["output"].to_string().len();
        if tool.output_schema.is_some() {
            with += 1;
            assert!(
                built <= limit + 64,
                "{} listed with {built} bytes",
                tool.name
            );
        } else {
            without += 1;
            assert!(
                built + 64 > limit,
                "{} left out at {built} bytes",
                tool.name
            );
        }
    }
    assert!(
        with > 100 && without > 100,
        "{with} with, {without} without"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_added_while_a_listing_pages_through_does_not_mix_catalogs() {
    runtime::install_crypto_provider();
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    add(&service, "github", &github()).await;
    let before = client(&service)
        .await
        .peer()
        .list_all_tools()
        .await
        .unwrap();

    let paging = client(&service).await;
    let first = paging.peer().list_tools(None).await.unwrap();
    let mut names: Vec<String> = first.tools.iter().map(|t| t.name.to_string()).collect();
    let mut cursor = first.next_cursor.clone();
    assert!(cursor.is_some(), "GitHub's catalog is more than one page");
    // A second source arrives (its tools sort first: `aaa...`).
    let spec = support::fixtures().join("service/echo.yaml");
    add(&service, "aaa", &spec).await;
    while let Some(c) = cursor {
        let page = paging
            .peer()
            .list_tools(Some(PaginatedRequestParams::default().with_cursor(Some(c))))
            .await
            .unwrap();
        names.extend(page.tools.iter().map(|t| t.name.to_string()));
        cursor = page.next_cursor.clone();
    }
    let expected: Vec<String> = before.iter().map(|t| t.name.to_string()).collect();
    let first_difference = names.iter().zip(&expected).position(|(a, b)| a != b);
    assert!(
        names.len() == expected.len() && first_difference.is_none(),
        "the listing mixed catalogs: {} tools against {}, first difference at {first_difference:?}",
        names.len(),
        expected.len()
    );

    // Listing again shows the new source.
    let after = client(&service)
        .await
        .peer()
        .list_all_tools()
        .await
        .unwrap();
    assert_eq!(after.len(), before.len() + 12);
    assert!(after.iter().any(|t| t.name.starts_with("aaa.")));
}
