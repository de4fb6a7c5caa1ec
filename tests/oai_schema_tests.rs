//! The official OpenAPI 3.1 schema tests: every `pass` document loads, every
//! `fail` document is refused with a message that says where it breaks.

mod support;

use generator::ingest::openapi::{self, IngestError, Options};

fn documents(kind: &str) -> Vec<(String, String)> {
    let dir = support::fixtures().join("oai-schema-tests").join(kind);
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no documents in {}", dir.display());
    out
}

#[test]
fn every_passing_document_loads() {
    for (name, text) in documents("pass") {
        if let Err(e) = openapi::ingest(&text, &Options::new("t"), None) {
            panic!("{name} should load: {e}");
        }
    }
}

/// Where each failing document breaks the schema.
const EXPECTED: &[(&str, &str)] = &[
    ("example-examples.yaml", "/components/parameters/animal"),
    (
        "header-object-allowReserved.yaml",
        "/components/headers/Style",
    ),
    ("invalid_schema_types.yaml", "/components/schemas/invalid_"),
    (
        "link-object-no-body.yaml",
        "/components/links/Link-Object-with-body-property",
    ),
    ("no_containers.yaml", ""),
    (
        "parameter-object-cookie-form-allowReserved.yaml",
        "/components/parameters/style_",
    ),
    (
        "parameter-object-header-allowReserved.yaml",
        "/components/parameters/header",
    ),
    (
        "parameter-object-path-allowReserved.yaml",
        "/components/parameters/path",
    ),
    ("server_enum_empty.yaml", "/servers/0/variables/var/enum"),
    ("servers.yaml", "/servers"),
    ("unknown_container.yaml", ""),
];

#[test]
fn every_failing_document_is_refused_where_it_breaks() {
    let docs = documents("fail");
    assert_eq!(
        docs.len(),
        EXPECTED.len(),
        "a fail document has no expectation"
    );
    for (name, text) in docs {
        let expected = EXPECTED.iter().find(|(n, _)| *n == name).map(|(_, p)| *p);
        let expected = expected.unwrap_or_else(|| panic!("no expectation for {name}"));
        match openapi::ingest(&text, &Options::new("t"), None) {
            Err(e @ IngestError::Invalid { .. }) => {
                let IngestError::Invalid { violations, .. } = &e else {
                    unreachable!()
                };
                assert!(
                    violations.iter().any(|v| v.pointer.starts_with(expected)),
                    "{name}: no violation at {expected:?}: {violations:#?}"
                );
                let message = e.to_string();
                assert!(
                    message.contains("not valid OpenAPI 3.1"),
                    "{name}: {message}"
                );
                assert!(
                    message.contains(&format!("at #{expected}")),
                    "{name}: {message}"
                );
                assert!(
                    message.contains("--lenient"),
                    "{name}: the message should say how to proceed"
                );
            }
            Err(other) => panic!("{name}: refused for the wrong reason: {other}"),
            Ok(_) => panic!("{name} should be refused"),
        }
    }
}

#[test]
fn lenient_mode_loads_failing_documents_with_warnings() {
    for (name, text) in documents("fail") {
        let options = Options {
            lenient: true,
            ..Options::new("t")
        };
        let ingested = openapi::ingest(&text, &options, None)
            .unwrap_or_else(|e| panic!("{name} should load leniently: {e}"));
        assert!(
            ingested
                .diagnostics
                .iter()
                .any(|d| d.message.starts_with("not valid OpenAPI 3.1")),
            "{name}: the violations should be warnings"
        );
    }
}
