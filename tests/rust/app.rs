//! Runs the generated Rust client (`echo_client`) against a live executor
//! service, started by `tests/rust_client.rs`, and prints what happened as
//! one line of JSON.
//!
//! `app call`: a typed read, a refused token, a tool error, a write that
//! pauses. `app read <execution id>`: the execution's result, read back as
//! the tool's output type once `executor resume` ran it.

use echo_client::types::{EchoEcho, EchoOrgMainItemsCreateItemInput, EchoOrgMainItemsGetItemInput};
use echo_client::{Client, ExecutorError};
use serde_json::{Map, Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let executor = Client::from_env(); // EXECUTOR_URL and EXECUTOR_API_KEY
    let mut out = Map::new();
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("call") => {
            let input = EchoOrgMainItemsGetItemInput {
                id: 42,
                tags: Some(vec!["x".to_owned()]),
                filter: None,
                x_trace: None,
                session: None,
            };
            let items = executor.echo().org().main().items();
            let echo: EchoEcho = items.get_item(&input).await.expect("the read runs");
            out.insert("read".into(), json!({ "path": echo.path, "query": echo.query }));

            let stranger = Client::new(executor.base_url(), Some("wrong".to_owned()));
            let refused = stranger.echo().org().main().items().get_item(&input).await;
            out.insert("refused".into(), match refused {
                Err(ExecutorError::Request { status, .. }) => json!({ "status": status }),
                other => json!(format!("{other:?}")),
            });

            let failed = executor.echo().org().main().fail().fail(&Map::new()).await;
            out.insert("failed".into(), match failed {
                Err(ExecutorError::Tool { code, status, .. }) => {
                    json!({ "code": code, "status": status })
                }
                other => json!(format!("{other:?}")),
            });

            let write = EchoOrgMainItemsCreateItemInput {
                dry_run: None,
                name: "from-rust".to_owned(),
                count: Some(2),
            };
            out.insert("paused".into(), match items.create_item(&write).await {
                Err(ExecutorError::Paused { execution_id, approval_url, resume_path, .. }) => json!({
                    "executionId": execution_id,
                    "approvalUrl": approval_url,
                    "resumePath": resume_path,
                }),
                other => json!(format!("{other:?}")),
            });
        }
        Some("read") => {
            let id = args.get(2).expect("app read <execution id>");
            let execution = executor.execution(id).await.expect("the execution reads");
            out.insert("state".into(), json!(execution.state));
            match execution.outcome::<EchoEcho>() {
                None => {}
                Some(Ok(echo)) => {
                    out.insert("method".into(), json!(echo.method));
                    out.insert("body".into(), json!(echo.body));
                }
                Some(Err(e)) => {
                    out.insert("error".into(), json!(e.to_string()));
                }
            }
        }
        _ => panic!("usage: app call | app read <execution id>"),
    }
    println!("{}", Value::Object(out));
}
