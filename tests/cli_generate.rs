//! `executor generate` as a build pipeline runs it: the real binary, a
//! temporary working directory, exit codes and messages.

mod support;

use std::path::Path;
use std::process::{Command, Output};

fn executor(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_executor"))
        .args(args)
        .current_dir(dir)
        .env("EXECUTOR_HOME", dir.join("home"))
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixture(rel: &str) -> String {
    support::fixtures().join(rel).to_string_lossy().into_owned()
}

#[test]
fn help_teaches_the_usage() {
    let dir = tempfile::tempdir().unwrap();
    let out = executor(dir.path(), &["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("generate"), "{help}");
    assert!(help.contains("EXECUTOR_HOME"), "{help}");

    let out = executor(dir.path(), &["generate", "--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for needle in [
        "--from",
        "--namespace",
        "--out",
        "executor.openapi.json",
        "--lenient",
        "Examples:",
    ] {
        assert!(
            help.contains(needle),
            "generate --help lacks {needle}: {help}"
        );
    }
}

#[test]
fn writes_executor_openapi_json_by_default_and_byte_identically() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fixture("openapi/oas30/petstore3-swagger-api.yaml");
    let out = executor(
        dir.path(),
        &["generate", "--from", &spec, "--namespace", "petstore"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("19 tools"), "{stderr}");
    let first = std::fs::read(dir.path().join("executor.openapi.json")).unwrap();
    let document: serde_json::Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["paths"].as_object().unwrap().len(), 19);
    assert!(
        document["paths"]["/api/tools/invoke/petstore.org.main.pet.addPet"]["post"].is_object()
    );

    let out = executor(
        dir.path(),
        &["generate", "--from", &spec, "--namespace", "petstore"],
    );
    assert!(out.status.success());
    let second = std::fs::read(dir.path().join("executor.openapi.json")).unwrap();
    assert!(first == second, "the same spec must give the same bytes");

    // To standard output, the same document.
    let out = executor(
        dir.path(),
        &["generate", "--from", &spec, "-n", "petstore", "-o", "-"],
    );
    assert!(out.status.success());
    assert!(out.stdout == first);
}

#[test]
fn namespace_defaults_to_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fixture("openapi/multi/petstore-separate/spec/swagger.yaml");
    let out = executor(
        dir.path(),
        &["generate", "--from", &spec, "-o", "out/api.json"],
    );
    assert!(
        !out.status.success(),
        "a missing output directory is an error"
    );
    assert!(
        text(&out.stderr).contains("cannot write out/api.json"),
        "{}",
        text(&out.stderr)
    );

    // Its refs climb to ../common: outside the spec's directory, so they
    // need the wider root said out loud.
    let out = executor(dir.path(), &["generate", "--from", &spec, "-o", "api.json"]);
    // Without it, each such ref is a diagnostic that says how to widen.
    assert!(
        text(&out.stderr).contains("--refs-under"),
        "{}",
        text(&out.stderr)
    );
    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("api.json")).unwrap()).unwrap();
    assert!(document["components"]["schemas"]["swagger.Error"].is_null());
    let root = fixture("openapi/multi/petstore-separate");
    let out = executor(
        dir.path(),
        &[
            "generate",
            "--from",
            &spec,
            "--refs-under",
            &root,
            "-o",
            "api.json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("api.json")).unwrap()).unwrap();
    // Multi-file: refs to ../common/Error.yaml were followed.
    assert!(document["components"]["schemas"]["swagger.Error"].is_object());
    assert!(document["paths"]["/api/tools/invoke/swagger.org.main.pets.findPets"].is_object());
}

#[test]
fn bad_input_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["generate".into()], "there is no catalog in"),
        (
            vec!["generate".into(), "--from".into(), "missing.yaml".into()],
            "cannot read missing.yaml",
        ),
        (
            vec![
                "generate".into(),
                "--from".into(),
                fixture("oai-schema-tests/fail/servers.yaml"),
            ],
            "at #/servers",
        ),
        (
            vec![
                "generate".into(),
                "--from".into(),
                fixture("openapi/oas30/oai-example-petstore.json"),
                "-n".into(),
                "a.b".into(),
            ],
            "invalid namespace \"a.b\"",
        ),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = executor(dir.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }

    std::fs::write(
        dir.path().join("schema.json"),
        r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}"#,
    )
    .unwrap();
    let out = executor(dir.path(), &["generate", "--from", "schema.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not an OpenAPI description: it looks like a JSON Schema"),
        "{}",
        text(&out.stderr)
    );

    std::fs::write(
        dir.path().join("broken.yaml"),
        "openapi: 3.1.0\ninfo: [unclosed\n",
    )
    .unwrap();
    let out = executor(dir.path(), &["generate", "--from", "broken.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("invalid YAML at line"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !dir.path().join("executor.openapi.json").exists(),
        "nothing is written on failure"
    );

    let out = executor(dir.path(), &["generate", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit with 2");
}

#[test]
fn lenient_loads_what_strict_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fixture("openapi/edge/progenitor-param-collision.json");
    let out = executor(dir.path(), &["generate", "--from", &spec]);
    assert_eq!(out.status.code(), Some(1));
    let out = executor(dir.path(), &["generate", "--from", &spec, "--lenient"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("warning: #/paths/~1key~1{query}/get/responses/200"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn typescript_and_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fixture("openapi/oas30/petstore3-swagger-api.yaml");
    let out = executor(
        dir.path(),
        &[
            "generate",
            "--from",
            &spec,
            "-n",
            "petstore",
            "--format",
            "typescript",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let client = std::fs::read_to_string(dir.path().join("executor.gen.ts")).unwrap();
    assert!(client.contains("export function createExecutorClient"));
    assert!(client.contains("\"petstore.org.main.pet.addPet\": { input: PetstoreOrgMainPetAddPetInput; output: PetstoreOrgMainPetAddPetOutput };"));
    assert!(!dir.path().join("executor.openapi.json").exists());

    std::fs::create_dir(dir.path().join("gen")).unwrap();
    let out = executor(
        dir.path(),
        &[
            "generate", "--from", &spec, "-n", "petstore", "--format", "both", "-o", "gen",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again = std::fs::read_to_string(dir.path().join("gen/executor.gen.ts")).unwrap();
    assert_eq!(client, again, "the same catalog gives the same client");
    assert!(dir.path().join("gen/executor.openapi.json").exists());

    let out = executor(
        dir.path(),
        &["generate", "--from", &spec, "--format", "both", "-o", "-"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("give -o a directory"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn rust_module_crate_and_all_formats() {
    let dir = tempfile::tempdir().unwrap();
    let spec = fixture("openapi/oas30/petstore3-swagger-api.yaml");
    let generate = |extra: &[&str]| {
        let mut args = vec!["generate", "--from", spec.as_str(), "-n", "petstore"];
        args.extend_from_slice(extra);
        executor(dir.path(), &args)
    };
    let out = generate(&["--format", "rust"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let module = std::fs::read_to_string(dir.path().join("executor_client.rs")).unwrap();
    assert!(module.contains("pub struct Client {"), "{module}");
    assert!(
        module.contains("pub async fn add_pet(\n"),
        "one method per tool"
    );

    let out = generate(&["--format", "rust", "--crate", "petstore-client", "-o", "pc"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let manifest = std::fs::read_to_string(dir.path().join("pc/Cargo.toml")).unwrap();
    assert!(
        manifest.contains("name = \"petstore-client\""),
        "{manifest}"
    );
    let lib = std::fs::read_to_string(dir.path().join("pc/src/lib.rs")).unwrap();
    assert_eq!(
        lib, module,
        "the crate's library is the module, byte for byte"
    );

    std::fs::create_dir(dir.path().join("all")).unwrap();
    let out = generate(&["--format", "all", "-o", "all"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for name in [
        "executor.openapi.json",
        "executor.gen.ts",
        "executor_client.rs",
    ] {
        assert!(dir.path().join("all").join(name).is_file(), "{name}");
    }

    for (args, expected) in [
        (
            &["--format", "typescript", "--crate", "x"][..],
            "use it with --format rust",
        ),
        (
            &["--format", "rust", "--crate", "9lives"][..],
            "cannot name a crate",
        ),
        (
            &["--format", "rust", "--crate", "x", "-o", "-"][..],
            "give -o a directory",
        ),
        (&["--format", "all", "-o", "-"][..], "give -o a directory"),
    ] {
        let out = generate(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}
