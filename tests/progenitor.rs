//! progenitor, Oxide's Rust client generator, reads OpenAPI 3.0 only: it
//! generates a client from executor's 3.0 export (`--openapi 3.0`) of every
//! famous spec in the corpus, one method per tool, each with its typed body
//! and the envelope's failure as its error type.
//!
//! Four of them need what the 3.0 export does for 3.0 generators (each
//! recorded as a diagnostic): GitHub's and Stripe's enums whose values
//! differ only in `+`/`-` (`+1`/`-1`, `Etc/GMT+0`/`Etc/GMT-0`) become
//! patterns, OpenAI's "any string or one of these" unions become strings
//! and its defaults its schemas refuse are dropped, and Twilio's `format`
//! on an object goes. progenitor stops on GitHub's original earlier still
//! (two media types for one body).

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
        ("famous/github-api.github.com.json", "github"),
        ("famous/stripe-spec3-2023-09-12.yaml", "stripe"),
        ("famous/openai-openapi.yaml", "openai"),
        ("famous/twilio/twilio_api_v2010.json", "twilio"),
        ("famous/twilio/twilio_lookups_v2.json", "lookups"),
        ("famous/twilio/twilio_verify_v2.json", "verify"),
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
