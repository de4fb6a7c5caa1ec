//! progenitor, Oxide's Rust client generator, reads OpenAPI 3.0 only: it
//! generates a client from executor's 3.0 export (`--openapi 3.0`) of the
//! famous specs it can read, one method per tool, each with its typed body
//! and the envelope's failure as its error type.
//!
//! Of the corpus's famous specs, GitHub and Stripe stop in typify (the type
//! generator progenitor uses) on enums whose values differ only in `+`/`-`
//! (`+1`/`-1`, `Etc/GMT+0`/`Etc/GMT-0`), OpenAI on a `default` outside its
//! integer range, and Twilio on a `format` on an object: each is in the
//! original spec, and progenitor stops on GitHub's original earlier still
//! (two media types for one body). The README says so.

mod support;

use generator::emit::openapi::ExportOptions;
use generator::emit::{openapi30, to_pretty_json};
use support::{catalog_of, corpus_openapi, load};

#[test]
fn progenitor_generates_a_client_from_the_3_0_export() {
    for (file, namespace) in [
        ("famous/petstore3-swagger-api.yaml", "petstore"),
        ("famous/oxide-nexus.json", "oxide"),
        ("famous/kubernetes-swagger-2.0.json", "kubernetes"),
    ] {
        let loaded = load(&corpus_openapi().join(file), namespace).unwrap();
        let catalog = catalog_of(&loaded.ingested);
        let (document, _) = openapi30::document(&catalog, &ExportOptions::default());
        // progenitor reads the text, as it would the file.
        let text = to_pretty_json(&openapi30::to_value(&document));
        let spec: openapiv3::OpenAPI = serde_json::from_str(&text).unwrap();
        let code = progenitor_impl::Generator::default()
            .generate_tokens(&spec)
            .unwrap_or_else(|e| panic!("{file}: progenitor failed: {e}"))
            .to_string();
        assert_eq!(
            code.matches("pub async fn").count(),
            catalog.tools.len(),
            "{file}: one method per tool"
        );
        let first = &code[code.find("pub async fn").unwrap()..];
        let signature = &first[..first.find('{').unwrap()];
        assert!(
            signature.contains("body : & 'a types ::")
                && signature.contains("Error < types :: ExecutorToolFailure >"),
            "{file}: {signature}"
        );
    }
}
