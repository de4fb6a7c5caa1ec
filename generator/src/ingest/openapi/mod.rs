//! OpenAPI ingest: Swagger 2.0, OpenAPI 3.0.x and 3.1.x to IR tools.
//!
//! Specs are read as `serde_json::Value` rather than through typed models:
//! `openapiv3` models 3.0 only, `utoipa`'s model rejects 3.0, and both lose
//! facts real specs rely on (see ARCHITECTURE.md). Each operation becomes one
//! tool whose input is a single JSON object (see [`operation`] for the rule).

mod operation;
pub(crate) mod refs;
mod schema;
mod validate;

use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::Value;

pub use refs::RefLoader;
pub use validate::Violation;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ingest::text::{self, ParseError};
use crate::ir::{
    ConnectionRef, Integration, OAuthFlow, ParamLocation, SecurityScheme, Server, ServerVariable,
    SourceKind, Tool,
};
use crate::naming::is_valid_namespace;
use refs::DocSet;

/// What to call the integration and which connection its tools use.
#[derive(Debug, Clone)]
pub struct Options {
    pub namespace: String,
    pub connection: ConnectionRef,
    /// Load documents that break the official schema anyway, reporting each
    /// violation as a warning instead of refusing the document.
    pub lenient: bool,
}

impl Options {
    pub fn new(namespace: impl Into<String>) -> Self {
        Options {
            namespace: namespace.into(),
            connection: ConnectionRef::default(),
            lenient: false,
        }
    }
}

/// The result of ingesting one source.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub integration: Integration,
    pub tools: Vec<Tool>,
    pub diagnostics: Vec<Diagnostic>,
    pub version: SpecVersion,
}

impl From<Ingested> for crate::ingest::Ingested {
    fn from(i: Ingested) -> crate::ingest::Ingested {
        crate::ingest::Ingested {
            integration: i.integration,
            tools: i.tools,
            diagnostics: i.diagnostics,
        }
    }
}

/// Which OpenAPI generation a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecVersion {
    Swagger2,
    OpenApi30,
    OpenApi31,
}

impl SpecVersion {
    pub fn label(self) -> &'static str {
        match self {
            SpecVersion::Swagger2 => "Swagger 2.0",
            SpecVersion::OpenApi30 => "OpenAPI 3.0",
            SpecVersion::OpenApi31 => "OpenAPI 3.1",
        }
    }
}

/// Why a source could not be ingested at all.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(
        "not an OpenAPI description: {reason}; executor reads Swagger 2.0 and OpenAPI 3.0/3.1 documents (JSON or YAML)"
    )]
    NotOpenApi { reason: String },
    #[error(
        "unsupported OpenAPI version {version:?}: executor reads Swagger 2.0 and OpenAPI 3.0.x and 3.1.x"
    )]
    UnsupportedVersion { version: String },
    #[error("{}", invalid_message(*.version, .violations))]
    Invalid {
        version: SpecVersion,
        violations: Vec<Violation>,
    },
    #[error(
        "invalid namespace {0:?}: use 1 to 64 letters, digits, '_' or '-' (it becomes the first segment of every tool path)"
    )]
    InvalidNamespace(String),
}

fn invalid_message(version: SpecVersion, violations: &[Violation]) -> String {
    const SHOWN: usize = 10;
    let mut message = format!(
        "the document is not valid {}: {} problem{} found against the official schema",
        version.label(),
        violations.len(),
        if violations.len() == 1 { "" } else { "s" }
    );
    for v in violations.iter().take(SHOWN) {
        message.push_str(&format!("\n  at #{}: {}", v.pointer, v.message));
    }
    if violations.len() > SHOWN {
        message.push_str(&format!("\n  ... and {} more", violations.len() - SHOWN));
    }
    message.push_str(
        "\nfix the document, or load it leniently (`--lenient`) to turn these into warnings",
    );
    message
}

/// Ingests OpenAPI text (JSON or YAML). `loader` reads the files that
/// relative `$ref`s name; without one such refs become diagnostics.
pub fn ingest(
    source: &str,
    options: &Options,
    loader: Option<&mut dyn RefLoader>,
) -> Result<Ingested, IngestError> {
    ingest_value(text::parse(source)?, options, loader)
}

/// Ingests an already parsed OpenAPI document.
pub fn ingest_value(
    document: Value,
    options: &Options,
    loader: Option<&mut dyn RefLoader>,
) -> Result<Ingested, IngestError> {
    ingest_document(&Rc::new(document), options, loader)
}

/// Ingests a parsed OpenAPI document the caller keeps: a large document's
/// tree takes milliseconds to free (GitHub's: 8 ms), which a service may
/// rather do off its request's path.
pub fn ingest_document(
    document: &Rc<Value>,
    options: &Options,
    loader: Option<&mut dyn RefLoader>,
) -> Result<Ingested, IngestError> {
    if !is_valid_namespace(&options.namespace) {
        return Err(IngestError::InvalidNamespace(options.namespace.clone()));
    }
    let version = detect_version(document)?;
    let shared: &Value = document;
    // The document is checked against the OpenAPI schema on a second
    // thread while it is normalised: both only read it, and the check is a
    // quarter of the normaliser's time on a large spec (GitHub's: 13 of
    // 50 ms). If the check fails a strict ingest, the normalised result is
    // thrown away.
    let (violations, normalised) = std::thread::scope(|scope| {
        let check = scope.spawn(|| validate::validate(version, shared));
        let normalised = normalise(document.clone(), version, options, loader);
        let violations = check
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (violations, normalised)
    });
    if !violations.is_empty() && !options.lenient {
        return Err(IngestError::Invalid {
            version,
            violations,
        });
    }
    let (integration, tools, reader_diagnostics) = normalised;
    let mut diags = Diagnostics::default();
    for v in violations {
        let message = format!("not valid {}: {}", version.label(), v.message);
        diags.warn(format!("#{}", v.pointer), message);
    }
    diags.append(reader_diagnostics);
    Ok(Ingested {
        integration,
        tools,
        diagnostics: diags.list,
        version,
    })
}

/// The normaliser's part of an ingest: the integration, its tools and what
/// it noticed.
fn normalise(
    document: Rc<Value>,
    version: SpecVersion,
    options: &Options,
    loader: Option<&mut dyn RefLoader>,
) -> (Integration, Vec<Tool>, Vec<Diagnostic>) {
    let mut reader = Reader {
        docs: DocSet::new(document, loader),
        diags: Diagnostics::default(),
        defs: schema::Defs::default(),
        version,
    };
    reader.reserve_component_names(match version {
        SpecVersion::Swagger2 => "/definitions",
        _ => "/components/schemas",
    });
    let root = reader.docs.root();
    let drafts = reader.operations(&root);
    let tools = operation::name_tools(drafts, options, &mut reader.diags);
    let defs = reader.finish_defs();
    let info = root.get("info");
    let info_text = |key: &str| {
        info.and_then(|i| i.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let integration = Integration {
        name: options.namespace.clone(),
        kind: SourceKind::Openapi,
        title: info_text("title"),
        description: info_text("description"),
        version: info_text("version"),
        servers: reader.document_servers(&root),
        security_schemes: reader.security_schemes(&root),
        groups: tag_descriptions(&root),
        defs,
    };
    (integration, tools, reader.diags.list)
}

/// Converts JSON Schemas that sit at `pointers` inside `root` into IR
/// schemas sharing one set of definitions (used for sources whose schemas
/// are standalone documents, such as MCP tools: their local refs must
/// already point inside `root`).
pub(crate) fn normalise_schemas(
    root: Value,
    pointers: &[String],
) -> (Vec<Value>, serde_json::Map<String, Value>, Vec<Diagnostic>) {
    let mut reader = Reader {
        docs: DocSet::new(Rc::new(root), None),
        diags: Diagnostics::default(),
        defs: schema::Defs::default(),
        version: SpecVersion::OpenApi31,
    };
    let root = reader.docs.root();
    let schemas = pointers
        .iter()
        .map(|p| match root.pointer(p) {
            Some(value) => reader.schema(0, value, p),
            None => Value::Bool(true),
        })
        .collect();
    let defs = reader.finish_defs();
    (schemas, defs, reader.diags.list)
}

fn detect_version(document: &Value) -> Result<SpecVersion, IngestError> {
    let Value::Object(map) = document else {
        return Err(IngestError::NotOpenApi {
            reason: "the document is not an object".into(),
        });
    };
    if let Some(v) = map.get("openapi") {
        let version = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return if version.starts_with("3.0.") || version == "3.0" {
            Ok(SpecVersion::OpenApi30)
        } else if version.starts_with("3.1.") || version == "3.1" {
            Ok(SpecVersion::OpenApi31)
        } else {
            Err(IngestError::UnsupportedVersion { version })
        };
    }
    if let Some(v) = map.get("swagger") {
        // `swagger: 2.0` unquoted in YAML is a number.
        let version = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) if n.as_f64() == Some(2.0) => "2.0".to_owned(),
            other => other.to_string(),
        };
        return if version == "2.0" {
            Ok(SpecVersion::Swagger2)
        } else {
            Err(IngestError::UnsupportedVersion { version })
        };
    }
    let hint = if map.contains_key("asyncapi") {
        "it is an AsyncAPI document".to_owned()
    } else if map.contains_key("$schema") || map.contains_key("properties") {
        "it looks like a JSON Schema".to_owned()
    } else {
        "it has neither an `openapi` nor a `swagger` field at the top level".to_owned()
    };
    Err(IngestError::NotOpenApi { reason: hint })
}

/// State of one ingest run.
pub(crate) struct Reader<'l> {
    docs: DocSet<'l>,
    diags: Diagnostics,
    defs: schema::Defs,
    version: SpecVersion,
}

impl Reader<'_> {
    fn document_servers(&mut self, root: &Value) -> Vec<Server> {
        if self.version == SpecVersion::Swagger2 {
            return swagger_servers(root);
        }
        self.servers(root.get("servers"), "/servers")
    }

    fn servers(&mut self, value: Option<&Value>, pointer: &str) -> Vec<Server> {
        let Some(Value::Array(list)) = value else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, server) in list.iter().enumerate() {
            let Some(url) = server.get("url").and_then(Value::as_str) else {
                self.diags
                    .warn(format!("#{pointer}/{i}"), "server without a url: ignored");
                continue;
            };
            let mut variables = BTreeMap::new();
            if let Some(Value::Object(vars)) = server.get("variables") {
                for (name, var) in vars {
                    let default = match var.get("default") {
                        Some(Value::String(s)) => s.clone(),
                        Some(other) if !other.is_null() => other.to_string(),
                        _ => String::new(),
                    };
                    let enum_values = var
                        .get("enum")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    let description = var
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    variables.insert(
                        name.clone(),
                        ServerVariable {
                            default,
                            enum_values,
                            description,
                        },
                    );
                }
            }
            out.push(Server {
                url: url.to_owned(),
                description: server
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                variables,
            });
        }
        out
    }

    fn security_schemes(&mut self, root: &Value) -> BTreeMap<String, SecurityScheme> {
        let (container, pointer) = match self.version {
            SpecVersion::Swagger2 => (root.get("securityDefinitions"), "/securityDefinitions"),
            _ => (
                root.pointer("/components/securitySchemes"),
                "/components/securitySchemes",
            ),
        };
        let mut out = BTreeMap::new();
        let Some(Value::Object(schemes)) = container else {
            return out;
        };
        for (name, scheme) in schemes {
            let at = format!("#{pointer}/{}", crate::ir::escape_pointer_token(name));
            let scheme = match self.docs.follow(0, scheme, &at) {
                Ok(followed) => followed.value().clone(),
                Err(e) => {
                    self.diags.warn(at, format!("{e}: security scheme ignored"));
                    continue;
                }
            };
            match security_scheme(&scheme) {
                Some(s) => {
                    out.insert(name.clone(), s);
                }
                None => self.diags.warn(at, "unrecognised security scheme: ignored"),
            }
        }
        out
    }
}

/// The root `tags` descriptions, by group name as tool names carry it
/// (the first tag, camel-cased).
fn tag_descriptions(root: &Value) -> BTreeMap<String, String> {
    root.get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tag| {
            let group = crate::naming::camel_case(text_of(tag, "name")?);
            let description = text_of(tag, "description")?.trim();
            (!group.is_empty() && !description.is_empty()).then(|| (group, description.to_owned()))
        })
        .collect()
}

fn text_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn security_scheme(scheme: &Value) -> Option<SecurityScheme> {
    let kind = text_of(scheme, "type")?;
    Some(match kind {
        "http" => SecurityScheme::Http {
            scheme: text_of(scheme, "scheme")?.to_ascii_lowercase(),
            bearer_format: text_of(scheme, "bearerFormat").map(str::to_owned),
        },
        "basic" => SecurityScheme::Http {
            scheme: "basic".into(),
            bearer_format: None,
        },
        "apiKey" => SecurityScheme::ApiKey {
            location: match text_of(scheme, "in")? {
                "query" => ParamLocation::Query,
                "header" => ParamLocation::Header,
                "cookie" => ParamLocation::Cookie,
                _ => return None,
            },
            name: text_of(scheme, "name")?.to_owned(),
        },
        "oauth2" => {
            let mut flows = BTreeMap::new();
            if let Some(Value::Object(map)) = scheme.get("flows") {
                for (name, flow) in map {
                    flows.insert(name.clone(), oauth_flow(flow));
                }
            } else if let Some(flow) = text_of(scheme, "flow") {
                // Swagger 2.0 names: implicit, password, application, accessCode.
                let name = match flow {
                    "application" => "clientCredentials",
                    "accessCode" => "authorizationCode",
                    other => other,
                };
                flows.insert(name.to_owned(), oauth_flow(scheme));
            }
            SecurityScheme::Oauth2 { flows }
        }
        "openIdConnect" => SecurityScheme::OpenIdConnect {
            url: text_of(scheme, "openIdConnectUrl")?.to_owned(),
        },
        "mutualTLS" => SecurityScheme::MutualTls,
        _ => return None,
    })
}

fn oauth_flow(flow: &Value) -> OAuthFlow {
    let scopes = flow
        .get("scopes")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    OAuthFlow {
        authorization_url: text_of(flow, "authorizationUrl").map(str::to_owned),
        token_url: text_of(flow, "tokenUrl").map(str::to_owned),
        refresh_url: text_of(flow, "refreshUrl").map(str::to_owned),
        scopes,
    }
}

/// Swagger 2.0 `schemes`, `host` and `basePath` as servers.
fn swagger_servers(root: &Value) -> Vec<Server> {
    let base_path = text_of(root, "basePath").unwrap_or("");
    let base_path = base_path.trim_end_matches('/');
    let Some(host) = text_of(root, "host") else {
        return if base_path.is_empty() {
            Vec::new()
        } else {
            vec![Server {
                url: base_path.to_owned(),
                description: None,
                variables: BTreeMap::new(),
            }]
        };
    };
    let schemes: Vec<&str> = root
        .get("schemes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .filter(|s: &Vec<&str>| !s.is_empty())
        .unwrap_or_else(|| vec!["https"]);
    schemes
        .into_iter()
        .filter(|s| matches!(*s, "http" | "https"))
        .map(|scheme| Server {
            url: format!("{scheme}://{host}{base_path}"),
            description: None,
            variables: BTreeMap::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `info.version` missing (invalid against the OpenAPI schema) and a
    /// server without a `url` (which the normaliser reports too).
    fn invalid_spec() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "t"},
            "servers": [{"description": "no url"}],
            "paths": {"/a": {"get": {"operationId": "getA", "responses": {"200": {"description": "ok"}}}}}
        })
    }

    #[test]
    fn the_schema_check_beside_the_normaliser_still_refuses_and_reports_first() {
        let strict = ingest_value(invalid_spec(), &Options::new("t"), None);
        assert!(
            matches!(strict, Err(IngestError::Invalid { .. })),
            "{strict:?}"
        );
        let lenient = Options {
            lenient: true,
            ..Options::new("t")
        };
        let ingested = ingest_value(invalid_spec(), &lenient, None).unwrap();
        assert_eq!(ingested.tools.len(), 1);
        let messages: Vec<&str> = ingested
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        let first_normaliser = messages
            .iter()
            .position(|m| m.contains("server without a url"))
            .expect("the normaliser's warning is kept");
        assert!(
            messages[..first_normaliser]
                .iter()
                .any(|m| m.starts_with("not valid OpenAPI 3.1")),
            "the schema check's findings come first: {messages:?}"
        );
        // The same document shared with the caller gives the same result.
        let shared = Rc::new(invalid_spec());
        let again = ingest_document(&shared, &lenient, None).unwrap();
        assert_eq!(again.diagnostics, ingested.diagnostics);
        assert_eq!(again.tools, ingested.tools);
    }

    #[test]
    fn tag_descriptions_are_kept_by_the_group_name_tools_carry() {
        let spec = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "tags": [
                {"name": "pull requests", "description": "  Review and merge changes. "},
                {"name": "empty", "description": ""},
                {"name": "undescribed"}
            ],
            "paths": {"/pulls": {"get": {
                "operationId": "list",
                "tags": ["pull requests"],
                "responses": {"200": {"description": "ok"}}
            }}}
        });
        let ingested = ingest_value(spec, &Options::new("t"), None).unwrap();
        assert_eq!(ingested.tools[0].name, "pullRequests.list");
        assert_eq!(
            ingested.integration.groups,
            BTreeMap::from([(
                "pullRequests".to_owned(),
                "Review and merge changes.".to_owned()
            )])
        );
    }
}
