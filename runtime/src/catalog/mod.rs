//! The live catalog the service answers from: the stored sources plus the
//! built-in tools, the search index over them, path resolution and the
//! compiled input validators. Rebuilt whole when a source changes, then
//! swapped in, so readers never see half a change.

use crate::caller::Caller;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use generator::envelope::{ErrorCode, ToolError};
use generator::ir::{DefGraph, Policy, SchemaRole, SchemaText};
use serde_json::{Value, json};

use crate::builtin;
use crate::errors::error;
use crate::policy::Rules;
use crate::search::{Explanation, Hit, SearchIndex};

/// A tool as the live catalog holds it: its schemas as compact JSON text
/// ([`SchemaText`]), parsed when a request needs them.
pub type LiveTool = generator::ir::Tool<SchemaText>;
/// The live catalog's tools and integrations (see [`LiveTool`]).
pub type LiveCatalog = generator::ir::Catalog<SchemaText>;

mod compact;
mod schemas;
pub use schemas::Parsed;
mod validators;
use compact::CompactDefs;
use validators::Validators;

/// What the invoker needs of a source beyond the IR.
#[derive(Debug, Clone, Default)]
pub struct SourceRuntime {
    pub base_url: Option<String>,
    /// Static headers, decrypted (held in memory only).
    pub headers: Vec<(String, String)>,
    /// For MCP sources: how to reach the server (secrets decrypted).
    pub mcp: Option<crate::upstream::McpTarget>,
    /// For GraphQL sources: the schema, to check callers' `select`.
    pub graphql: Option<Arc<GraphqlSchema>>,
}

impl SourceRuntime {
    /// The static headers by name.
    pub fn header_map(&self) -> std::collections::BTreeMap<String, String> {
        self.headers.iter().cloned().collect()
    }
}

/// A GraphQL source's schema document, read on the first `select` that
/// needs it (a large schema costs milliseconds to read; most calls use the
/// default selection and never need it).
#[derive(Debug)]
pub struct GraphqlSchema {
    document: String,
    read: std::sync::OnceLock<Option<generator::ingest::graphql::Schema>>,
}

impl GraphqlSchema {
    pub fn new(document: String) -> GraphqlSchema {
        GraphqlSchema {
            document,
            read: std::sync::OnceLock::new(),
        }
    }

    /// `None` when the stored document no longer reads (it did when added).
    pub fn get(&self) -> Option<&generator::ingest::graphql::Schema> {
        self.read
            .get_or_init(|| generator::ingest::graphql::Schema::read(&self.document).ok())
            .as_ref()
    }
}

/// Values derived from one live catalog, one per type and key, built on
/// first use: the core keeps them without knowing their types.
#[derive(Default)]
pub struct Views {
    values: Mutex<HashMap<(std::any::TypeId, String), Arc<dyn std::any::Any + Send + Sync>>>,
}

impl Views {
    pub fn get_or_build<T: std::any::Any + Send + Sync>(
        &self,
        key: &str,
        build: impl FnOnce() -> T,
    ) -> Arc<T> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        values
            .entry((std::any::TypeId::of::<T>(), key.to_owned()))
            .or_insert_with(|| Arc::new(build()))
            .clone()
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("a view is stored under its own type"))
    }
}

pub struct Live {
    /// The tools callers may see: every tool not blocked by a policy.
    pub catalog: LiveCatalog,
    /// Tools a policy blocks: gone from listings, search, MCP and exports;
    /// calling one answers `tool_blocked`.
    pub blocked: Vec<LiveTool>,
    pub rules: Rules,
    /// The search index, built in the background right after a reload
    /// ([`Live::prepare`]): a search that comes sooner waits for it.
    index: std::sync::OnceLock<SearchIndex>,
    pub sources: HashMap<String, SourceRuntime>,
    /// Connections' credentials (secrets open), by `<integration>.<owner>.<name>`.
    pub credentials: HashMap<String, crate::credential::Credential>,
    /// What surfaces derive from this catalog (MCP's tool lists), built on
    /// first use and gone with it.
    pub views: Views,
    /// Which reload made this catalog (1, 2, ...): a listing that pages
    /// through names it in its cursors.
    pub version: u64,
    validators: Mutex<Validators>,
    /// Each integration's definitions as a graph (see
    /// [`generator::ir::DefGraph`]): made once per catalog, in the
    /// background right after a reload ([`Live::prepare`]), so that no
    /// listing or validation pays for it.
    graphs: std::sync::OnceLock<HashMap<String, DefGraph>>,
    /// Each integration's shared definitions as compact JSON, by
    /// integration: `catalog`'s integrations keep none. Held as `Value`
    /// trees they took seven times their size as text (25 MB for GitHub's,
    /// Stripe's, Kubernetes' and OpenAI's, against 3.6 MB); a request
    /// parses only the definitions it reaches.
    defs: HashMap<String, CompactDefs>,
}

impl Live {
    /// `stored` is the catalog of the stored sources; the built-in tools
    /// are added here.
    /// A source's runtime facts (empty for the built-ins and unknown names).
    pub fn source(&self, namespace: &str) -> SourceRuntime {
        self.sources.get(namespace).cloned().unwrap_or_default()
    }

    /// How to reach an MCP source's server (empty for other sources).
    pub fn mcp_target(&self, namespace: &str) -> crate::upstream::McpTarget {
        self.sources
            .get(namespace)
            .and_then(|s| s.mcp.clone())
            .unwrap_or_default()
    }

    pub fn new(stored: LiveCatalog, sources: HashMap<String, SourceRuntime>, rules: Rules) -> Live {
        let (mut catalog, blocked) = visible(with_builtins(stored), &rules);
        let defs = catalog
            .integrations
            .iter_mut()
            .map(|i| {
                (
                    i.name.clone(),
                    CompactDefs::new(std::mem::take(&mut i.defs)),
                )
            })
            .collect();
        Live {
            defs,
            index: std::sync::OnceLock::new(),
            catalog,
            blocked,
            rules,
            sources,
            credentials: HashMap::new(),
            views: Views::default(),
            version: 0,
            validators: Mutex::new(Validators::new(crate::home::setting(
                "EXECUTOR_MAX_VALIDATORS",
                1024,
            ) as usize)),
            graphs: std::sync::OnceLock::new(),
        }
    }

    /// Makes what listings and validation derive from this catalog, so
    /// that no request pays for it: run in the background after a reload.
    pub fn prepare(&self) {
        // Graphs first: listings and validation wait for them, only
        // searches for the index.
        self.graphs();
        self.index();
    }

    /// The search index over the tools callers may see.
    fn index(&self) -> &SearchIndex {
        self.index.get_or_init(|| SearchIndex::build(&self.catalog))
    }

    /// Tool search, best first: the one ranking behind `executor tools
    /// search`, `GET /api/tools?q=`, MCP discovery and code mode's
    /// `tools.search`, optionally within one integration.
    pub fn search(&self, query: &str, integration: Option<&str>, limit: usize) -> Vec<Hit> {
        self.index().search(query, integration, limit)
    }

    /// [`search`](Self::search) over the tools `caller` may see.
    pub fn search_as(&self, caller: &Caller, q: &str, within: Option<&str>, n: usize) -> Vec<Hit> {
        let keep = |i: usize| self.catalog.tools.get(i).is_some_and(|t| caller.sees(t));
        self.index().search_within(q, within, &keep, n)
    }

    /// [`search`](Self::search) with each hit's reasons.
    pub fn explain(
        &self,
        query: &str,
        integration: Option<&str>,
        limit: usize,
    ) -> Vec<Explanation> {
        self.index().explain(query, integration, limit)
    }

    /// [`resolve`](Self::resolve) for a caller held to a scope: a tool out
    /// of scope is not found, told nothing more (no candidates, no rule).
    pub fn resolve_as(&self, path: &str, caller: &Caller) -> Result<&LiveTool, ToolError> {
        match self.resolve(path) {
            Ok(tool) if caller.sees(tool) => Ok(tool),
            _ if caller.grant.is_some() => Err(error(
                ErrorCode::ToolNotFound,
                format!(
                    "no tool has the path {path:?}; search finds the tools this client may use"
                ),
                None,
            )),
            other => other,
        }
    }

    /// Finds a tool by canonical path (`github.org.main.issues.create`) or
    /// short path (`github.issues.create`, when one connection matches).
    pub fn resolve(&self, path: &str) -> Result<&LiveTool, ToolError> {
        if let Some(tool) = self.catalog.tool(path) {
            return Ok(tool);
        }
        let matches: Vec<&LiveTool> = match path.split_once('.') {
            Some((integration, name)) => self
                .catalog
                .tools
                .iter()
                .filter(|t| t.integration == integration && t.name == name)
                .collect(),
            None => Vec::new(),
        };
        match matches.as_slice() {
            [tool] => Ok(tool),
            [] if self.blocked_tool(path).is_some() => {
                let tool = self.blocked_tool(path).expect("checked above");
                let rule = self.rules.decide(tool).rule.unwrap_or_default();
                Err(error(
                    ErrorCode::ToolBlocked,
                    format!(
                        "{} is blocked by policy {rule}; `executor policies list` shows the rules and `executor policies remove {rule}` lifts it",
                        tool.path
                    ),
                    Some(json!({ "path": tool.path, "rule": rule })),
                ))
            }
            [] => {
                let candidates: Vec<String> = self
                    .search(&path.replace('.', " "), None, 5)
                    .into_iter()
                    .map(|h| h.path)
                    .collect();
                let hint = if candidates.is_empty() {
                    "run `executor tools search <words>` to find tools".to_owned()
                } else {
                    format!("did you mean {}?", candidates.join(", "))
                };
                Err(error(
                    ErrorCode::ToolNotFound,
                    format!("no tool has the path {path:?}; {hint}"),
                    Some(json!({ "candidates": candidates })),
                ))
            }
            many => {
                let candidates: Vec<&str> = many.iter().map(|t| t.path.as_str()).collect();
                Err(error(
                    ErrorCode::ToolNotFound,
                    format!(
                        "{path:?} matches {} connections; use the full path: {}",
                        many.len(),
                        candidates.join(", ")
                    ),
                    Some(json!({ "candidates": candidates })),
                ))
            }
        }
    }

    /// The credential of a tool's connection, if it has one.
    pub fn credential(&self, tool: &LiveTool) -> Option<&crate::credential::Credential> {
        self.credentials.get(&self.credential_key(tool))
    }

    /// `<integration>.<owner>.<name>` of a tool's connection.
    pub fn credential_key(&self, tool: &LiveTool) -> String {
        let owner = crate::credential::owner_name(tool.connection.owner);
        format!("{}.{owner}.{}", tool.integration, tool.connection.name)
    }

    /// A blocked tool by canonical or (unambiguous) short path.
    fn blocked_tool(&self, path: &str) -> Option<&LiveTool> {
        if let Some(tool) = self.blocked.iter().find(|t| t.path == path) {
            return Some(tool);
        }
        let (integration, name) = path.split_once('.')?;
        let mut matches = self
            .blocked
            .iter()
            .filter(|t| t.integration == integration && t.name == name);
        let first = matches.next()?;
        matches.next().is_none().then_some(first)
    }

    /// Tools whose canonical or short path lies under `prefix` (segment-wise).
    pub fn under(&self, prefix: &str) -> Vec<&LiveTool> {
        let prefix = prefix.trim_matches('.');
        let within = |path: &str| {
            prefix.is_empty()
                || path == prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.'))
        };
        self.catalog
            .tools
            .iter()
            .filter(|t| within(&t.path) || within(&format!("{}.{}", t.integration, t.name)))
            .collect()
    }

    /// Checks an input against the tool's schema; the error names every
    /// offending property by JSON pointer.
    pub fn validate_input(&self, tool: &LiveTool, input: &Value) -> Result<(), ToolError> {
        let validator = self.validator(tool, SchemaRole::Input)?;
        let problems: Vec<Value> = validator
            .iter_errors(input)
            .take(20)
            .map(|e| {
                let pointer = e.instance_path().to_string();
                json!({ "pointer": pointer, "message": e.to_string() })
            })
            .collect();
        if problems.is_empty() {
            return Ok(());
        }
        let first = &problems[0];
        let at = match first["pointer"].as_str() {
            Some("") | None => "the input".to_owned(),
            Some(p) => format!("property {}", p.trim_start_matches('/').replace('/', ".")),
        };
        Err(error(
            ErrorCode::InvalidInput,
            format!(
                "invalid input for {}: {at}: {}{}; `executor tools describe {}` shows the input schema",
                tool.path,
                first["message"].as_str().unwrap_or_default(),
                if problems.len() > 1 {
                    format!(" (and {} more problems)", problems.len() - 1)
                } else {
                    String::new()
                },
                tool.path
            ),
            Some(json!({ "problems": problems })),
        ))
    }

    /// Checks a tool's answer against its output schema (what MCP clients
    /// were promised): a mismatch is the upstream's fault, said as such.
    pub fn validate_output(&self, tool: &LiveTool, data: &Value) -> Result<(), ToolError> {
        let validator = self.validator(tool, SchemaRole::Output)?;
        let problems: Vec<Value> = validator
            .iter_errors(data)
            .take(20)
            .map(|e| json!({ "pointer": e.instance_path().to_string(), "message": e.to_string() }))
            .collect();
        if problems.is_empty() {
            return Ok(());
        }
        Err(error(
            ErrorCode::UpstreamInvalidResponse,
            format!(
                "the upstream's answer for {} does not match the output schema of its own description ({} problem{}); the answer is in details.data",
                tool.path,
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ),
            Some(json!({ "problems": problems, "data": data })),
        ))
    }

    fn validator(
        &self,
        tool: &LiveTool,
        role: SchemaRole,
    ) -> Result<Arc<jsonschema::Validator>, ToolError> {
        let key = (tool.path.clone(), role == SchemaRole::Input);
        if let Some(v) = self
            .validators
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .compiled
            .get(&key)
        {
            return Ok(v.clone());
        }
        let schema = self.standalone(tool, role);
        let validator = jsonschema::options()
            .should_validate_formats(false)
            .build(&schema)
            .map_err(|e| {
                error(
                    ErrorCode::InternalError,
                    format!("a schema of {} does not compile: {e}", tool.path),
                    None,
                )
            })?;
        let validator = Arc::new(validator);
        self.validators
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, validator.clone());
        Ok(validator)
    }
}

/// Splits a catalog into the tools callers may see and those a policy
/// blocks. Integrations stay, so a fully blocked source still has a name.
pub fn visible(mut catalog: LiveCatalog, rules: &Rules) -> (LiveCatalog, Vec<LiveTool>) {
    let (blocked, shown): (Vec<LiveTool>, Vec<LiveTool>) = std::mem::take(&mut catalog.tools)
        .into_iter()
        .partition(|t| rules.decide(t).action == Policy::Block);
    catalog.tools = shown;
    (catalog, blocked)
}

/// The stored catalog with executor's own tools added.
pub fn with_builtins(mut catalog: LiveCatalog) -> LiveCatalog {
    let (integration, tools) = builtin::integration();
    catalog.insert(
        integration,
        tools
            .into_iter()
            .map(generator::ir::Tool::into_text)
            .collect(),
    );
    catalog
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators_dropped_from_the_cache_still_validate() {
        let live = Live::new(LiveCatalog::default(), HashMap::new(), Rules::default());
        *live.validators.lock().unwrap() = Validators::new(2);
        let paths: Vec<String> = live
            .catalog
            .tools
            .iter()
            .filter(|t| {
                t.input.parse()["required"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty())
            })
            .take(3)
            .map(|t| t.path.clone())
            .collect();
        assert_eq!(paths.len(), 3, "three built-in tools with required inputs");
        for _ in 0..2 {
            for path in &paths {
                let tool = live.resolve(path).unwrap();
                let refused = live.validate_input(tool, &json!({})).unwrap_err();
                assert_eq!(refused.code, ErrorCode::InvalidInput, "{path}");
                assert!(live.validators.lock().unwrap().compiled.len() <= 2);
            }
        }
        let cache = live.validators.lock().unwrap();
        assert_eq!(cache.compiled.len(), 2);
        assert_eq!(cache.order.len(), 2);
    }
}
