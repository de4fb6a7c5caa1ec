//! Source adapters: read a source document, produce IR tools and diagnostics.

pub mod graphql;
pub mod mcp;
pub mod openapi;
pub mod text;
