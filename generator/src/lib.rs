//! executor's generator: source ingest, the JSON Schema IR and the emitters.
//!
//! Pure and synchronous: functions take text or `serde_json::Value` and
//! return values. No async, no file or network IO (files that specs refer to
//! arrive through [`ingest::openapi::RefLoader`], implemented by the caller).

pub mod diagnostic;
pub mod ingest;
pub mod ir;
pub mod naming;

pub use diagnostic::{Diagnostic, Severity};
pub mod emit;
pub mod envelope;

/// The JSON Schema of the IR (`schemas/ir.schema.json`), from the Rust types.
pub fn ir_json_schema() -> serde_json::Value {
    schemars::schema_for!(ir::Catalog).to_value()
}

/// The JSON Schema of a failed result (`schemas/envelope.schema.json`).
pub fn envelope_json_schema() -> serde_json::Value {
    schemars::schema_for!(envelope::Failure).to_value()
}
