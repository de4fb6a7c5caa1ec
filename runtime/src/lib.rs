//! The executor runtime: the CLI and, later, the service, invokers and store.
//! The only crate with IO.

pub mod cli;
pub mod files;
pub mod generate;
