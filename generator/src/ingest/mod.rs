//! Source adapters: read a source document, produce IR tools and diagnostics.

pub mod graphql;
pub mod mcp;
pub mod openapi;
pub mod text;

use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::ir::{Integration, SourceKind, Tool};

/// What a source became: its integration, its tools and what could not be
/// represented. (OpenAPI's own result adds the spec version.)
#[derive(Debug, Clone)]
pub struct Ingested {
    pub integration: Integration,
    pub tools: Vec<Tool>,
    pub diagnostics: Vec<Diagnostic>,
}

/// What kind of source a document is, by its content: an OpenAPI or
/// Swagger description (JSON or YAML with a top-level `openapi` or
/// `swagger`), or a GraphQL schema (an introspection result, bare or under
/// `data`, or SDL). An MCP server has no document; `None` for anything else.
pub fn kind_of(text: &str) -> Option<SourceKind> {
    if let Ok(Value::Object(map)) = text::parse(text) {
        if map.contains_key("openapi") || map.contains_key("swagger") {
            return Some(SourceKind::Openapi);
        }
        if map.contains_key("__schema")
            || map.get("data").is_some_and(|d| d.get("__schema").is_some())
        {
            return Some(SourceKind::Graphql);
        }
    }
    graphql::Schema::read(text)
        .is_ok()
        .then_some(SourceKind::Graphql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_told_apart_by_content() {
        let openapi = Some(SourceKind::Openapi);
        let graphql = Some(SourceKind::Graphql);
        assert_eq!(kind_of(r#"{"openapi": "3.1.0"}"#), openapi);
        assert_eq!(kind_of(r#"{"swagger": "2.0"}"#), openapi);
        assert_eq!(kind_of("info: {}\nopenapi: 3.0.3\n"), openapi);
        assert_eq!(kind_of("\"swagger\": '2.0'\n"), openapi);
        // Nested `openapi` keys are not the top level.
        assert_eq!(kind_of("info:\n  openapi: x\n"), None);
        assert_eq!(kind_of("openapiVersion: 3\n"), None);
        assert_eq!(kind_of(r#"{"data": {"__schema": {"types": []}}}"#), graphql);
        assert_eq!(kind_of(r#"{"__schema": {"types": []}}"#), graphql);
        assert_eq!(kind_of("type Query { a: Int }"), graphql);
        assert_eq!(kind_of("type Query {\n  a: Int\n}\n"), graphql);
        assert_eq!(kind_of(r#"{"name": "x"}"#), None);
        assert_eq!(kind_of("hello there"), None);
        assert_eq!(kind_of("<!doctype html><p>a page</p>"), None);
    }
}
