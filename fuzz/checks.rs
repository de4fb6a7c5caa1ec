//! What each fuzz target checks, shared by the targets (`fuzz/fuzz_targets/`,
//! each a one-line call into this file) and the corpus replay test
//! (`tests/fuzz_corpus.rs`, which includes this file with `#[path]`), so the
//! test runs exactly the code libFuzzer runs.
//!
//! Every check must never panic on any input; a panic (or a failed
//! `assert!` here) is a finding. Each returns whether the input got past
//! the parser (ingested, accepted, encoded): the replay test uses that to
//! make sure the seed corpora reach the interesting code.
#![allow(dead_code)] // each fuzz target uses one check

use std::collections::BTreeSet;
use std::sync::OnceLock;

use generator::emit::openapi::{ExportOptions, INVOKE_PREFIX, document};
use generator::emit::typescript;
use generator::envelope::ErrorCode;
use generator::ingest::graphql::{self, Schema};
use generator::ingest::openapi::{self, IngestError, Options};
use generator::ir::{
    Binding, Catalog, GraphqlOperation, HttpBinding, Integration, ParamLocation, SourceKind, Tool,
};
use runtime::invoke::wire;
use serde_json::{Map, Number, Value};

/// The targets, named as in fuzz/Cargo.toml and fuzz/corpus/.
pub const TARGETS: [&str; 5] = [
    "openapi_ingest",
    "graphql_sdl",
    "graphql_introspection",
    "graphql_select",
    "wire_request",
];

/// Runs the check of `target` on one input.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "openapi_ingest" => openapi_ingest(data),
        "graphql_sdl" => graphql_sdl(data),
        "graphql_introspection" => graphql_introspection(data),
        "graphql_select" => graphql_select(data),
        "wire_request" => wire_request(data),
        other => panic!("unknown fuzz target {other:?}"),
    }
}

const NAMESPACE: &str = "fuzz";

// ---------------------------------------------------------------- OpenAPI

/// Any text through the OpenAPI ingest (JSON or YAML; Swagger 2.0,
/// OpenAPI 3.0 and 3.1 share the entry point), strictly and, when the
/// document breaks the official schema, leniently (as `executor add
/// --lenient` and tests/support `load` do). No ref loader: external `$ref`s
/// become diagnostics, nothing is read from disk. What ingests is then
/// exported as OpenAPI 3.1 and as the TypeScript client.
pub fn openapi_ingest(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let ingested = match openapi::ingest(text, &Options::new(NAMESPACE), None) {
        Ok(ingested) => ingested,
        Err(IngestError::Invalid { violations, .. }) => {
            assert!(!violations.is_empty(), "Invalid without a violation");
            let lenient = Options {
                lenient: true,
                ..Options::new(NAMESPACE)
            };
            match openapi::ingest(text, &lenient, None) {
                Ok(ingested) => ingested,
                Err(e @ IngestError::Invalid { .. }) => panic!("lenient ingest refused: {e}"),
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    // Whatever ingests is recognised as OpenAPI by the sniffer `executor add`
    // uses to pick the adapter.
    assert_eq!(
        generator::ingest::kind_of(text),
        Some(SourceKind::Openapi),
        "ingested as OpenAPI but not sniffed as OpenAPI"
    );
    check_catalog(&ingested.integration, &ingested.tools);
    true
}

/// What every ingest must give: tool paths unique and within MCP's name
/// rule (`Tool::path`'s promise), and a catalog both emitters take: one
/// exported operation per tool, and a TypeScript client.
fn check_catalog(integration: &Integration, tools: &[Tool]) {
    let mut paths = BTreeSet::new();
    for tool in tools {
        assert!(
            is_mcp_name(&tool.path),
            "tool path {:?} breaks MCP's [A-Za-z0-9_.-]{{1,128}}",
            tool.path
        );
        assert!(paths.insert(&tool.path), "tool path {:?} twice", tool.path);
        assert_eq!(tool.integration, integration.name);
    }
    let mut catalog = Catalog::default();
    catalog.insert(integration.clone(), tools.to_vec());
    let exported = document(&catalog, &ExportOptions::default());
    assert_eq!(exported["openapi"], "3.1.0");
    let exported_paths = exported["paths"].as_object().expect("the export has paths");
    for tool in tools {
        let key = format!("{INVOKE_PREFIX}{}", tool.path);
        assert!(exported_paths.contains_key(&key), "{key} not exported");
    }
    let client = typescript::client(&catalog);
    assert!(!client.is_empty());
}

fn is_mcp_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

// ---------------------------------------------------------------- GraphQL

/// Any text through the GraphQL ingest, which takes SDL or, when the text
/// starts with `{`, an introspection result. What ingests goes through both
/// emitters, and each tool's root field is known to the schema the runtime
/// keeps for checking `select` (the same text read by `Schema::read`).
pub fn graphql_sdl(data: &[u8]) -> bool {
    match std::str::from_utf8(data) {
        Ok(text) => graphql_text(text),
        Err(_) => false,
    }
}

/// The introspection half of the GraphQL ingest: only texts that take the
/// JSON path (starting with `{`), so libFuzzer does not drift into SDL.
pub fn graphql_introspection(data: &[u8]) -> bool {
    match std::str::from_utf8(data) {
        Ok(text) if text.trim_start().starts_with('{') => graphql_text(text),
        _ => false,
    }
}

fn graphql_text(text: &str) -> bool {
    let ingested = graphql::ingest(text, &Options::new(NAMESPACE));
    let schema = Schema::read(text);
    assert_eq!(
        ingested.is_ok(),
        schema.is_ok(),
        "ingest and Schema::read disagree"
    );
    let (Ok(ingested), Ok(schema)) = (ingested, schema) else {
        return false;
    };
    check_catalog(&ingested.integration, &ingested.tools);
    for tool in &ingested.tools {
        let Binding::Graphql(binding) = &tool.binding else {
            panic!("{}: a GraphQL tool without a GraphQL binding", tool.path);
        };
        if let Err(errors) =
            schema.check_select(binding.operation, &binding.field, "{ __typename }")
        {
            assert!(!errors.is_empty(), "Err without a message");
            assert!(
                !errors[0].contains("no longer has the root field"),
                "{}: the schema does not know the tool's own root field {:?}",
                tool.path,
                binding.field
            );
        }
    }
    true
}

/// A SWAPI-like schema: an interface, a union, enums, an input object,
/// connections, required and defaulted arguments, a mutation root, and root
/// types not named Query/Mutation.
pub const SELECT_SCHEMA: &str = r#"
schema { query: Root mutation: Mutation }
"A thing with an id."
interface Node { id: ID! }
type Root {
  film(id: ID!): Film
  allFilms(first: Int, after: String): FilmsConnection
  node(id: ID!): Node
  search(text: String!, kinds: [Kind!] = [FILM]): [SearchResult!]!
  count: Int
  colour: Colour
}
type Mutation { rate(input: RateInput!): Film }
input RateInput { id: ID!, stars: Int! }
type Film implements Node {
  id: ID!
  title: String
  episodeID: Int
  released: Date
  director: Person
  characters(first: Int): [Person]
  planetConnection(first: Int, after: String): FilmPlanetsConnection
}
type Person implements Node { id: ID! name: String films: [Film] homeworld: Planet }
type Planet implements Node { id: ID! name: String diameter: Float }
type FilmsConnection { edges: [FilmsEdge] pageInfo: PageInfo! totalCount: Int films: [Film] }
type FilmsEdge { node: Film cursor: String! }
type FilmPlanetsConnection { edges: [FilmPlanetsEdge] planets: [Planet] }
type FilmPlanetsEdge { node: Planet cursor: String! }
type PageInfo { hasNextPage: Boolean! endCursor: String }
union SearchResult = Film | Person | Planet
enum Kind { FILM PERSON PLANET }
enum Colour { RED GREEN }
scalar Date
"#;

/// The root fields `graphql_select` checks against, picked by the first
/// byte modulo 8 (ASCII `'0'`..`'7'` pick them in order); the last one is
/// not in the schema.
pub const SELECT_FIELDS: [(GraphqlOperation, &str); 8] = [
    (GraphqlOperation::Query, "film"),
    (GraphqlOperation::Query, "allFilms"),
    (GraphqlOperation::Query, "node"),
    (GraphqlOperation::Query, "search"),
    (GraphqlOperation::Query, "count"),
    (GraphqlOperation::Query, "colour"),
    (GraphqlOperation::Mutation, "rate"),
    (GraphqlOperation::Query, "missing"),
];

fn select_schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::read(SELECT_SCHEMA).expect("the select schema reads"))
}

/// `Schema::check_select` of any text as the selection of one root field
/// of [`SELECT_SCHEMA`]. A refusal always says why.
pub fn graphql_select(data: &[u8]) -> bool {
    let Some((&first, rest)) = data.split_first() else {
        return false;
    };
    let Ok(select) = std::str::from_utf8(rest) else {
        return false;
    };
    let (operation, field) = SELECT_FIELDS[usize::from(first) % SELECT_FIELDS.len()];
    match select_schema().check_select(operation, field, select) {
        Ok(()) => true,
        Err(errors) => {
            assert!(!errors.is_empty(), "Err without a message");
            assert!(errors.iter().all(|e| !e.is_empty()), "an empty message");
            false
        }
    }
}

// ---------------------------------------------------------------- wire

/// The operations `wire_request` encodes for: every parameter location, and
/// the styles simple, label, matrix, form, spaceDelimited, pipeDelimited and
/// deepObject, exploded or not, `allowReserved`, a `content` parameter, two
/// parameters in one segment and a template that starts with a parameter.
pub const WIRE_SPEC: &str = r##"
openapi: 3.0.3
info: { title: wire fuzz, version: "1" }
paths:
  /users/{id}:
    get:
      operationId: getUser
      parameters:
        - { name: id, in: path, required: true, schema: { type: string } }
        - { name: fields, in: query, schema: { type: array, items: { type: string } } }
        - { name: X-Trace, in: header, schema: { type: string } }
        - { name: session, in: cookie, schema: { type: string } }
      responses: { "200": { description: ok } }
  /files/{path}:
    get:
      operationId: getFile
      parameters:
        - { name: path, in: path, required: true, allowReserved: true, schema: { type: string } }
        - { name: q, in: query, allowReserved: true, schema: { type: string } }
      responses: { "200": { description: ok } }
  /items/{label}/details:
    get:
      operationId: getItemDetails
      parameters:
        - { name: label, in: path, required: true, style: label, explode: true, schema: { type: array, items: { type: string } } }
        - { name: ids, in: query, style: pipeDelimited, explode: false, schema: { type: array, items: { type: integer } } }
      responses: { "200": { description: ok } }
  /rows/{m}/cells:
    get:
      operationId: getCells
      parameters:
        - { name: m, in: path, required: true, style: matrix, explode: true, schema: { type: object } }
        - { name: words, in: query, style: spaceDelimited, explode: false, schema: { type: array, items: { type: string } } }
      responses: { "200": { description: ok } }
  /search:
    get:
      operationId: search
      parameters:
        - { name: filter, in: query, style: deepObject, explode: true, schema: { type: object } }
        - { name: tags, in: query, style: pipeDelimited, explode: false, schema: { type: array, items: { type: string } } }
        - { name: point, in: query, style: form, explode: false, schema: { type: object } }
        - { name: meta, in: query, content: { application/json: { schema: { type: object } } } }
      responses: { "200": { description: ok } }
  /repos/{owner}/{repo}/collaborators/{user}:
    delete:
      operationId: removeCollaborator
      parameters:
        - { name: owner, in: path, required: true, schema: { type: string } }
        - { name: repo, in: path, required: true, style: matrix, schema: { type: string } }
        - { name: user, in: path, required: true, style: label, schema: { type: string } }
        - { name: X-Ids, in: header, explode: true, schema: { type: object } }
        - { name: prefs, in: cookie, schema: { type: object } }
      responses: { "204": { description: gone } }
  /a/{x}.{fmt}:
    get:
      operationId: getFormatted
      parameters:
        - { name: x, in: path, required: true, style: label, schema: { type: array, items: { type: string } } }
        - { name: fmt, in: path, required: true, schema: { type: string } }
      responses: { "200": { description: ok } }
  /{tenant}/reports:
    post:
      operationId: postReport
      parameters:
        - { name: tenant, in: path, required: true, allowReserved: true, schema: { type: string } }
        - { name: since, in: query, schema: { type: string } }
      responses: { "200": { description: ok } }
"##;

/// The operations of [`WIRE_SPEC`], picked by the first byte modulo 8
/// (ASCII `'0'`..`'7'` pick them in order, with the first base URL).
pub const WIRE_OPERATIONS: [(&str, &str); 8] = [
    ("GET", "/users/{id}"),
    ("GET", "/files/{path}"),
    ("GET", "/items/{label}/details"),
    ("GET", "/rows/{m}/cells"),
    ("GET", "/search"),
    ("DELETE", "/repos/{owner}/{repo}/collaborators/{user}"),
    ("GET", "/a/{x}.{fmt}"),
    ("POST", "/{tenant}/reports"),
];

/// Base URLs (picked by the first byte / 8, modulo 3) with the origin and
/// path they must keep.
pub const WIRE_BASES: [(&str, &str, &str); 3] = [
    (
        "https://api.example.com/v1",
        "https://api.example.com",
        "/v1",
    ),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080", ""),
    ("https://h.example/a/b/", "https://h.example", "/a/b"),
];

/// Appended to every query, as a query-string API key would be.
const EXTRA_QUERY: [(&str, &str); 1] = [("api_key", "k&=#?/ é")];

fn wire_bindings() -> &'static [HttpBinding] {
    static BINDINGS: OnceLock<Vec<HttpBinding>> = OnceLock::new();
    BINDINGS.get_or_init(|| {
        let options = Options {
            lenient: true,
            ..Options::new(NAMESPACE)
        };
        let ingested = openapi::ingest(WIRE_SPEC, &options, None).expect("the wire spec ingests");
        WIRE_OPERATIONS
            .iter()
            .map(|(method, template)| {
                ingested
                    .tools
                    .iter()
                    .find_map(|t| match &t.binding {
                        Binding::Http(b) if b.method == *method && b.path_template == *template => {
                            Some(b.clone())
                        }
                        _ => None,
                    })
                    .unwrap_or_else(|| panic!("the wire spec has no {method} {template}"))
            })
            .collect()
    })
}

/// `wire::request` on one operation of [`WIRE_SPEC`] with any input
/// object. The first byte picks the operation and the base URL; the rest is
/// the input: a JSON object as it is, anything else decoded into one whose
/// keys are the operation's parameters (see [`Decoder`]).
///
/// A success must keep the base URL's origin, start its path with the base
/// path and the template up to its first `{`, and hold no `.`/`..` segment;
/// a refusal is `invalid_input`; path parameters that are plain words or
/// numbers are never refused.
pub fn wire_request(data: &[u8]) -> bool {
    let Some((&first, rest)) = data.split_first() else {
        return false;
    };
    let binding = &wire_bindings()[usize::from(first) % WIRE_OPERATIONS.len()];
    let (base, origin, base_path) = WIRE_BASES[usize::from(first) / 8 % WIRE_BASES.len()];
    let fields = match serde_json::from_slice::<Value>(rest) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return false,
        Err(_) => Decoder(rest).fields(binding),
    };
    let extra: Vec<(String, String)> = EXTRA_QUERY
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    match wire::request(base, binding, &fields, &extra) {
        Ok(request) => {
            let url = &request.url;
            if let Err(problem) = wire_violation(
                origin,
                base_path,
                &binding.path_template,
                &url.origin().ascii_serialization(),
                url.path(),
            ) {
                panic!("{problem}: {url} from {fields:?}");
            }
            // Nothing a value holds turns into a fragment or cuts the query:
            // the credential's pair arrives whole.
            assert!(
                url.fragment().is_none(),
                "a fragment: {url} from {fields:?}"
            );
            for (key, value) in EXTRA_QUERY {
                assert!(
                    url.query_pairs().any(|(k, v)| k == key && v == value),
                    "{key} did not arrive: {url} from {fields:?}"
                );
            }
            true
        }
        Err(error) => {
            assert_eq!(error.code, ErrorCode::InvalidInput, "{error:?}");
            assert!(
                !plain_path_values(binding, &fields),
                "plain path values refused: {fields:?}: {}",
                error.message
            );
            false
        }
    }
}

/// What is wrong with an encoded URL (its origin and path), if anything:
/// the invariant `wire_request` asserts.
pub fn wire_violation(
    base_origin: &str,
    base_path: &str,
    template: &str,
    origin: &str,
    path: &str,
) -> Result<(), String> {
    if origin != base_origin {
        return Err(format!("origin {origin} is not the base's {base_origin}"));
    }
    let literal = template.split('{').next().unwrap_or_default();
    let prefix = format!("{}{literal}", base_path.trim_end_matches('/'));
    if !path.starts_with(&prefix) {
        return Err(format!("path {path} does not start with {prefix}"));
    }
    if let Some(segment) = path.split('/').find(|s| is_dot_segment(s)) {
        return Err(format!("path {path} has the segment {segment:?}"));
    }
    // And it ends as the template ends (`/{tenant}/reports` ends with
    // `/reports`): no value cut the path short.
    let suffix = template.rsplit('}').next().unwrap_or_default();
    if template.contains('}') && !path.ends_with(suffix) {
        return Err(format!("path {path} does not end with {suffix}"));
    }
    Ok(())
}

fn is_dot_segment(segment: &str) -> bool {
    let s = segment.to_ascii_lowercase().replace("%2e", ".");
    s == "." || s == ".."
}

/// Whether every path parameter given is a non-empty word
/// (`[A-Za-z0-9_-]+`), a number or a boolean: values no encoding can turn
/// into a dot segment or a way out of the template.
fn plain_path_values(binding: &HttpBinding, fields: &Map<String, Value>) -> bool {
    binding
        .params
        .iter()
        .filter(|p| p.location == ParamLocation::Path)
        .filter_map(|p| fields.get(&p.property))
        .all(|v| match v {
            Value::String(s) => {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }
            Value::Number(_) | Value::Bool(_) => true,
            _ => false,
        })
}

/// Turns bytes into an input object for a binding: a few entries, each key
/// one of the binding's parameter properties (or a stray one), each value a
/// small JSON tree. Running out of bytes reads zeros.
struct Decoder<'a>(&'a [u8]);

impl Decoder<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn fields(&mut self, binding: &HttpBinding) -> Map<String, Value> {
        let mut map = Map::new();
        for _ in 0..self.byte() % 6 {
            let pick = usize::from(self.byte());
            let key = match binding.params.get(pick % (binding.params.len() + 1)) {
                Some(param) => param.property.clone(),
                None => "stray".to_owned(),
            };
            let value = self.value(0);
            map.insert(key, value);
        }
        map
    }

    fn text(&mut self) -> String {
        let len = usize::from(self.byte() % 12);
        let n = len.min(self.0.len());
        let (bytes, rest) = self.0.split_at(n);
        self.0 = rest;
        String::from_utf8_lossy(bytes).into_owned()
    }

    fn value(&mut self, depth: u8) -> Value {
        match self.byte() % 8 {
            0 => Value::Null,
            1 => Value::Bool(self.byte() & 1 == 1),
            2 => Value::Number(Number::from(i64::from(self.byte() as i8))),
            3 => Number::from_f64(f64::from(self.byte()) / 4.0 - 3.0)
                .map_or(Value::Null, Value::Number),
            6 if depth < 3 => {
                let n = self.byte() % 4;
                Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
            }
            7 if depth < 3 => {
                let n = self.byte() % 4;
                let mut map = Map::new();
                for _ in 0..n {
                    let key = self.text();
                    let value = self.value(depth + 1);
                    map.insert(key, value);
                }
                Value::Object(map)
            }
            _ => Value::String(self.text()),
        }
    }
}
