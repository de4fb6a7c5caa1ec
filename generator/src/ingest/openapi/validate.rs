//! Structural validation against the official OpenAPI schemas (vendored in
//! `schemas/openapi/`, sources in `schemas/README.md`).

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

use super::SpecVersion;
use crate::ingest::text;

/// One way a document breaks its version's official schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the document (empty for the root).
    pub pointer: String,
    pub message: String,
}

const OAS_31: &str = include_str!("../../../../schemas/openapi/oas-3.1-schema.yaml");
const OAS_30: &str = include_str!("../../../../schemas/openapi/oas-3.0-schema.yaml");
const SWAGGER_20: &str = include_str!("../../../../schemas/openapi/swagger-2.0-schema.json");

/// The document's violations, in the validator's order, deduplicated.
pub fn validate(version: SpecVersion, document: &Value) -> Vec<Violation> {
    let validator = validator(version);
    let mut out: Vec<Violation> = Vec::new();
    for error in validator.iter_errors(document) {
        let violation = Violation {
            pointer: error.instance_path().to_string(),
            message: shorten(&error.to_string()),
        };
        if !out.contains(&violation) {
            out.push(violation);
        }
        if out.len() >= 100 {
            break;
        }
    }
    out
}

fn validator(version: SpecVersion) -> &'static Validator {
    static V31: OnceLock<Validator> = OnceLock::new();
    static V30: OnceLock<Validator> = OnceLock::new();
    static V20: OnceLock<Validator> = OnceLock::new();
    let (cell, source) = match version {
        SpecVersion::OpenApi31 => (&V31, OAS_31),
        SpecVersion::OpenApi30 => (&V30, OAS_30),
        SpecVersion::Swagger2 => (&V20, SWAGGER_20),
    };
    cell.get_or_init(|| {
        let schema = text::parse(source).expect("vendored meta-schema parses");
        // Formats are not asserted: real specs write `uri` fields loosely and
        // the structure is what matters for loading.
        jsonschema::options()
            .should_validate_formats(false)
            .build(&schema)
            .expect("vendored meta-schema compiles")
    })
}

/// Validator messages quote the offending value, which can be a whole
/// `paths` object: keep them to one readable line.
fn shorten(message: &str) -> String {
    const MAX: usize = 240;
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= MAX {
        return one_line;
    }
    let cut: String = one_line.chars().take(MAX).collect();
    format!("{cut}...")
}
