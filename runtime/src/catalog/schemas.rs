//! How the live catalog hands out schemas: it keeps definitions as compact
//! JSON ([`super::compact`]) and parses what a request reaches, through
//! each integration's definition graph.

use std::collections::HashMap;

use generator::ir::{Catalog, DefGraph, SchemaRole};
use serde_json::Value;

use super::{Live, LiveTool};

impl Live {
    pub(super) fn graphs(&self) -> &HashMap<String, DefGraph> {
        self.graphs.get_or_init(|| {
            self.defs
                .iter()
                .map(|(name, defs)| (name.clone(), DefGraph::from_texts(defs.texts())))
                .collect()
        })
    }

    /// The definitions of a tool's integration that `schemas` reach, parsed.
    fn reached_defs(
        &self,
        integration: &str,
        schemas: &[&Value],
    ) -> serde_json::Map<String, Value> {
        self.reached_defs_in(integration, schemas, &mut Parsed::default())
    }

    /// [`Live::reached_defs`], parsing each definition once per `parsed`.
    fn reached_defs_in(
        &self,
        integration: &str,
        schemas: &[&Value],
        parsed: &mut Parsed,
    ) -> serde_json::Map<String, Value> {
        let graph = self.graph(integration);
        let mut names: Vec<&str> = schemas.iter().flat_map(|s| graph.reached(s).0).collect();
        names.sort_unstable();
        names.dedup();
        let Some(defs) = self.defs.get(integration) else {
            return serde_json::Map::new();
        };
        let known = parsed.0.entry(integration.to_owned()).or_default();
        names
            .into_iter()
            .filter_map(|name| {
                let def = match known.get(name) {
                    Some(def) => def.clone(),
                    None => {
                        let def = defs.get(name)?;
                        known.insert(name.to_owned(), def.clone());
                        def
                    }
                };
                Some((name.to_owned(), def))
            })
            .collect()
    }

    /// One tool and its integration with the definitions the tool reaches:
    /// what the TypeScript emitter needs to print it.
    pub fn catalog_for(&self, tool: &LiveTool) -> Catalog {
        let mut catalog = Catalog::default();
        if let Some(integration) = self.catalog.integration(&tool.integration) {
            let mut integration = integration.clone();
            let tool = tool.parsed();
            integration.defs = self.reached_defs(&tool.integration, &[&tool.input, &tool.output]);
            catalog.insert(integration, vec![tool]);
        }
        catalog
    }

    /// The catalog callers see, with every definition (what exports emit),
    /// or only one integration's; `None` for an unknown integration.
    pub fn full_catalog(&self, integration: Option<&str>) -> Option<Catalog> {
        let mut catalog = match integration {
            Some(name) => self.catalog.filtered(name)?.parsed(),
            None => self.catalog.parsed(),
        };
        for integration in &mut catalog.integrations {
            if let Some(defs) = self.defs.get(&integration.name) {
                integration.defs = defs.all();
            }
        }
        Some(catalog)
    }

    /// An integration's definitions as a graph (empty for unknown names).
    pub fn graph(&self, integration: &str) -> &DefGraph {
        static EMPTY: std::sync::OnceLock<DefGraph> = std::sync::OnceLock::new();
        self.graphs()
            .get(integration)
            .unwrap_or_else(|| EMPTY.get_or_init(DefGraph::default))
    }

    /// A tool's schema as a self-contained document (what MCP lists and
    /// validation compiles).
    pub fn standalone(&self, tool: &LiveTool, role: SchemaRole) -> Value {
        self.standalone_in(
            &tool.integration,
            tool.schema(role).parse(),
            &mut Parsed::default(),
        )
    }

    /// [`Live::standalone`] for many tools in a row (a listing's page):
    /// the definitions they share are parsed once per `parsed`.
    pub fn standalone_in(&self, integration: &str, schema: Value, parsed: &mut Parsed) -> Value {
        let defs = self.reached_defs_in(integration, &[&schema], parsed);
        generator::ir::standalone_document(schema, defs)
    }
}

/// Definitions parsed from their compact text, by integration and name,
/// kept while one piece of work (a page of a listing) needs them.
#[derive(Default)]
pub struct Parsed(HashMap<String, HashMap<String, Value>>);
