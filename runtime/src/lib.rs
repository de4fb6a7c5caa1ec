//! The executor runtime: the CLI, the local service (axum), the invokers
//! and the store (SQLite). The only crate with IO and async.

pub mod audit;
pub mod builtin;
pub mod caller;
pub mod catalog;
pub mod cli;
pub mod clients;
pub mod code;
pub mod connections;
pub mod credential;
pub mod errors;
pub mod execution;
pub mod files;
pub mod home;
pub mod http;
pub mod invoke;
pub mod mcp;
pub mod oauth;
pub mod outbound;
pub mod policies;
pub mod policy;
pub mod search;
pub mod service;
pub mod shared;
pub mod sources;
pub mod state;
pub mod store;
pub mod upstream;

/// reqwest's rustls needs a process-wide crypto provider before the first
/// client is built; ring builds faster than the default aws-lc-rs.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
