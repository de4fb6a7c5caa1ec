//! The TypeScript client: it type-checks under `tsc --strict` for every
//! fixture spec (GitHub's included), its types reject wrong inputs, it runs
//! under Node against a live service, and it agrees with what
//! openapi-typescript makes of our OpenAPI export of the same catalog.

mod support;

use std::process::Command;

use generator::emit;
use support::service::{Service, start_upstream, text};
use support::{node_bin, tsc};

fn echo_client() -> String {
    let spec = support::fixtures().join("service/echo.yaml");
    let loaded = support::load(&spec, "echo").unwrap();
    emit::typescript::client(&support::catalog_of(&loaded.ingested))
}

#[test]
fn clients_type_check_for_every_fixture_and_github() {
    let dir = tempfile::tempdir().unwrap();
    let specs = support::client_specs();
    let mut files = Vec::new();
    for spec in &specs {
        let loaded = support::load(spec, "api").unwrap();
        let catalog = support::catalog_of(&loaded.ingested);
        let client = emit::typescript::client(&catalog);
        assert_eq!(
            client,
            emit::typescript::client(&catalog),
            "{}: not deterministic",
            spec.display()
        );
        let name = format!(
            "{}.gen.ts",
            support::flat_name(spec.parent().unwrap().parent().unwrap(), spec).replace('.', "_")
        );
        std::fs::write(dir.path().join(&name), client).unwrap();
        files.push(name);
    }
    assert!(files.len() > 35);
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    tsc(dir.path(), &["--noEmit"], &files);
}

#[test]
fn wrong_inputs_do_not_type_check() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("echo.gen.ts"), echo_client()).unwrap();
    std::fs::copy(
        support::repo_root().join("tests/typescript/typecheck.ts"),
        dir.path().join("typecheck.ts"),
    )
    .unwrap();
    std::fs::write(dir.path().join("package.json"), r#"{"type": "module"}"#).unwrap();
    // Every @ts-expect-error must be needed (tsc reports unused ones) and
    // every other line must pass.
    tsc(
        dir.path(),
        &["--noEmit", "--lib", "es2022,dom"],
        &["typecheck.ts"],
    );
    // And the check has teeth: the same file without the markers fails.
    let source = std::fs::read_to_string(dir.path().join("typecheck.ts")).unwrap();
    let markers = source.matches("// @ts-expect-error").count();
    std::fs::write(
        dir.path().join("typecheck.ts"),
        source.replace("// @ts-expect-error", "//"),
    )
    .unwrap();
    let out = Command::new(node_bin("tsc"))
        .args([
            "--strict",
            "--noEmit",
            "--target",
            "es2022",
            "--lib",
            "es2022,dom",
            "--module",
            "nodenext",
            "typecheck.ts",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let errors = text(&out.stdout).matches("error TS").count();
    assert!(
        errors >= markers,
        "only {errors} errors for {markers} wrong lines:\n{}",
        text(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_runs_under_node_against_a_live_service() {
    let upstream = start_upstream().await;
    let home = tempfile::tempdir().unwrap();
    let service = Service::start(home.path());
    service.add_echo(&upstream).await;

    // The client as the user gets it: generated from the store.
    let script =
        std::fs::read_to_string(support::repo_root().join("tests/typescript/run.ts")).unwrap();
    let result = service.run_typescript("echo", &script);
    assert_eq!(result["success"]["path"], "/v1/items/42", "{result}");
    assert_eq!(result["success"]["query"], "tags=x");
    assert_eq!(result["invalid"]["code"], "invalid_input", "{result}");
    assert_eq!(result["missing"], "tool_not_found");
    assert_eq!(result["unreachable"], "ExecutorRequestError");
    assert_eq!(result["badToken"]["status"], 401);
    let id = result["paused"]["executionId"].as_str().unwrap_or_default();
    assert!(id.starts_with("exec_"), "{result}");
    assert_eq!(
        result["paused"]["approvalUrl"],
        format!("{}/resume/{id}", service.url)
    );
    assert_eq!(
        result["paused"]["resumePath"],
        format!("/api/executions/{id}/resume")
    );
    assert_eq!(result["resumed"]["ok"], true, "{result}");
    assert_eq!(result["resumed"]["body"], r#"{"name":"from-typescript"}"#);
}

#[test]
fn openapi_typescript_agrees_with_our_client() {
    let spec = support::fixtures().join("service/echo.yaml");
    let loaded = support::load(&spec, "echo").unwrap();
    let catalog = support::catalog_of(&loaded.ingested);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("echo.gen.ts"),
        emit::typescript::client(&catalog),
    )
    .unwrap();
    let export = emit::openapi::document(&catalog, &Default::default());
    std::fs::write(
        dir.path().join("export.json"),
        emit::to_pretty_json(&export),
    )
    .unwrap();
    let out = Command::new(node_bin("openapi-typescript"))
        .args(["export.json", "-o", "export.d.ts"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // For every tool: our input and output types and openapi-typescript's
    // request body and success data are assignable both ways.
    let mut check = String::from(
        "import type { ExecutorTools } from \"./echo.gen.js\";\nimport type { paths } from \"./export.js\";\n\
         type Body<P extends keyof paths> = paths[P][\"post\"][\"requestBody\"][\"content\"][\"application/json\"];\n\
         type Data<P extends keyof paths> = Extract<paths[P][\"post\"][\"responses\"][200][\"content\"][\"application/json\"], { ok: true }>[\"data\"];\n\
         declare function some<T>(): T;\n",
    );
    for tool in &catalog.tools {
        let p = &tool.path;
        check.push_str(&format!(
            "{{ const ours = some<ExecutorTools[\"{p}\"][\"input\"]>(); const theirs = some<Body<\"/api/tools/invoke/{p}\">>(); const a: typeof theirs = ours; const b: typeof ours = theirs; void a; void b; }}\n\
             {{ const ours = some<ExecutorTools[\"{p}\"][\"output\"]>(); const theirs = some<Data<\"/api/tools/invoke/{p}\">>(); const a: typeof theirs = ours; const b: typeof ours = theirs; void a; void b; }}\n"
        ));
    }
    std::fs::write(dir.path().join("agree.ts"), check).unwrap();
    std::fs::write(dir.path().join("package.json"), r#"{"type": "module"}"#).unwrap();
    tsc(dir.path(), &["--noEmit"], &["agree.ts"]);
}
