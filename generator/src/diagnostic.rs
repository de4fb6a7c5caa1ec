//! Located, non-fatal findings of ingest: what could not be represented and
//! what was done instead. The rest of the source still loads.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Where in the source: a URI reference made of the file (empty for the
    /// document itself) and a JSON pointer, e.g. `#/paths/~1pets/get`.
    pub location: String,
    /// What happened and what was done instead (lowercase, no final period).
    pub message: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something was dropped or approximated; the tool may be less precise.
    Warning,
    /// An operation or schema could not be loaded at all.
    Error,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{severity}: {}: {}", self.location, self.message)
    }
}

/// Collects diagnostics in the order they are found.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    pub list: Vec<Diagnostic>,
    seen: std::collections::HashSet<Diagnostic>,
}

impl Diagnostics {
    pub fn warn(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Warning, location.into(), message.into());
    }

    pub fn error(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Error, location.into(), message.into());
    }

    /// Adds diagnostics gathered elsewhere, after these, skipping repeats.
    pub fn append(&mut self, list: Vec<Diagnostic>) {
        for d in list {
            self.push(d.severity, d.location, d.message);
        }
    }

    fn push(&mut self, severity: Severity, location: String, message: String) {
        let diagnostic = Diagnostic {
            severity,
            location,
            message,
        };
        // The same shared schema can be reported from many places.
        if self.seen.insert(diagnostic.clone()) {
            self.list.push(diagnostic);
        }
    }
}
