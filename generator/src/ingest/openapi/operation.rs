//! Operations to tools.
//!
//! # One input object per tool
//!
//! A tool's input is one JSON object holding the parameters and the body side
//! by side, as in `{"owner": "octocat", "repo": "Hello-World", "title": "Hi"}`.
//! The rule, applied in this order, is deterministic:
//!
//! 1. Parameters come first, by location (path, query, header, cookie), each
//!    in the order the operation declares it (path-item parameters merged
//!    with the operation's, the operation's winning on the same name and
//!    location). A parameter's property is its wire name exactly as written.
//! 2. The body: when its schema is an object with `properties` (and no
//!    `additionalProperties` schema, `allOf`, `anyOf` or `oneOf` at its top),
//!    its properties are *spread* at the top level beside the parameters.
//!    Otherwise (arrays, scalars, maps, unions, files, text) the whole body
//!    is the property `body`.
//! 3. A name already taken gets its location as a prefix: `query_id`,
//!    `header_id`, `cookie_id`, `body_id` (and `body_2`, ... if even that is
//!    taken). The binding records the wire name of every property.
//! 4. `Accept`, `Content-Type` and `Authorization` header parameters are
//!    ignored, as OpenAPI says; credentials come from connections.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::refs::DocId;
use super::{Options, Reader, SpecVersion, text_of};
use crate::diagnostic::Diagnostics;
use crate::ir::{
    Annotations, Binding, BodyShape, HttpBinding, HttpBody, HttpParam, HttpResponse, ParamLocation,
    ParamStyle, PartEncoding, Policy, ResponseKind, Tool, escape_pointer_token, file_input_schema,
    file_output_schema,
};
use crate::naming::{camel_case, sanitise_tool_name, stable_hash};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A tool before its name is final.
pub(super) struct Draft {
    pointer: String,
    method: String,
    path: String,
    group: Option<String>,
    operation_id: Option<String>,
    /// `x-executor.tool` in documents that executor exported.
    explicit_name: Option<String>,
    title: Option<String>,
    description: Option<String>,
    deprecated: bool,
    input: Value,
    output: Value,
    annotations: Annotations,
    default_policy: Policy,
    binding: HttpBinding,
}

/// The input object under construction.
#[derive(Default)]
struct Input {
    properties: Map<String, Value>,
    required: Vec<String>,
}

impl Input {
    /// Claims a property name: the wire name if free, else `<prefix>_<name>`,
    /// else that with `_2`, `_3`, ...
    fn claim(&self, name: &str, prefix: &str) -> String {
        if !self.properties.contains_key(name) {
            return name.to_owned();
        }
        let qualified = format!("{prefix}_{name}");
        let mut candidate = qualified.clone();
        let mut n = 2;
        while self.properties.contains_key(&candidate) {
            candidate = format!("{qualified}_{n}");
            n += 1;
        }
        candidate
    }

    fn add(&mut self, name: String, schema: Value, required: bool) {
        if required {
            self.required.push(name.clone());
        }
        self.properties.insert(name, schema);
    }

    fn into_schema(self) -> Value {
        let mut schema = json!({ "type": "object", "properties": {} });
        schema["properties"] = Value::Object(self.properties);
        if !self.required.is_empty() {
            schema["required"] = json!(self.required);
        }
        schema["additionalProperties"] = Value::Bool(false);
        schema
    }
}

/// One parameter after `$ref`s are followed.
struct Param {
    doc: DocId,
    pointer: String,
    value: Value,
    name: String,
    location: String,
}

impl Reader<'_> {
    /// Every operation of every path, in document order.
    pub(super) fn operations(&mut self, root: &Value) -> Vec<Draft> {
        let mut drafts = Vec::new();
        let Some(Value::Object(paths)) = root.get("paths") else {
            return drafts;
        };
        for (path, item) in paths {
            let item_pointer = format!("/paths/{}", escape_pointer_token(path));
            let item = match self.docs.follow(0, item, &item_pointer) {
                Ok(followed) => followed,
                Err(e) => {
                    self.diags
                        .error(format!("#{item_pointer}"), format!("{e}: path skipped"));
                    continue;
                }
            };
            let item_doc = item.doc;
            let item_value = item.value();
            let Value::Object(item_map) = item_value else {
                continue;
            };
            for (method, operation) in item_map {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                let pointer = format!("{item_pointer}/{method}");
                if !operation.is_object() {
                    self.diags
                        .error(format!("#{pointer}"), "operation is not an object: skipped");
                    continue;
                }
                drafts
                    .push(self.operation(item_doc, item_value, path, method, operation, &pointer));
            }
        }
        drafts
    }

    fn operation(
        &mut self,
        doc: DocId,
        item: &Value,
        path: &str,
        method: &str,
        op: &Value,
        pointer: &str,
    ) -> Draft {
        let at = format!("#{pointer}");
        let mut input = Input::default();
        let mut params = Vec::new();
        for param in self.merged_params(doc, item, op, pointer) {
            if let Some(binding) = self.parameter(&param, &mut input, &at) {
                params.push(binding);
            }
        }
        self.undeclared_path_params(path, &mut params, &mut input, &at);
        let body = match self.version {
            SpecVersion::Swagger2 => self.swagger_body(doc, item, op, pointer, &mut input),
            _ => self.request_body(doc, op, pointer, &mut input),
        };
        let executor_ext = op.get("x-executor");
        let (output, response) = self.output(doc, op, pointer, executor_ext.is_some());

        let method_upper = method.to_ascii_uppercase();
        let mut annotations = Annotations {
            read_only_hint: matches!(method, "get" | "head" | "options").then_some(true),
            destructive_hint: (method == "delete").then_some(true),
            idempotent_hint: matches!(method, "put" | "delete").then_some(true),
            open_world_hint: Some(true),
        };
        let mut default_policy = Policy::default_for(&annotations);
        let mut explicit_name = None;
        if let Some(ext) = executor_ext {
            explicit_name = text_of(ext, "tool")
                .map(sanitise_tool_name)
                .filter(|n| !n.is_empty());
            if let Some(a) = ext
                .get("annotations")
                .and_then(|a| serde_json::from_value(a.clone()).ok())
            {
                annotations = a;
            }
            if let Some(p) = ext
                .get("defaultPolicy")
                .and_then(|p| serde_json::from_value(p.clone()).ok())
            {
                default_policy = p;
            }
        }

        let servers = match self.version {
            SpecVersion::Swagger2 => Vec::new(),
            _ => {
                let op_servers = self.servers(op.get("servers"), &format!("{pointer}/servers"));
                if op_servers.is_empty() {
                    self.servers(item.get("servers"), &format!("{}/servers", parent(pointer)))
                } else {
                    op_servers
                }
            }
        };
        let root = self.docs.root();
        let security = op
            .get("security")
            .or_else(|| root.get("security"))
            .and_then(Value::as_array)
            .map(|alternatives| {
                alternatives
                    .iter()
                    .filter_map(|alt| serde_json::from_value(alt.clone()).ok())
                    .collect()
            })
            .unwrap_or_default();

        let summary = text_of(op, "summary").map(str::to_owned);
        let description = text_of(op, "description").map(str::to_owned);
        Draft {
            pointer: at,
            method: method_upper.clone(),
            path: path.to_owned(),
            group: op
                .get("tags")
                .and_then(Value::as_array)
                .and_then(|tags| tags.first())
                .and_then(Value::as_str)
                .map(camel_case)
                .filter(|g| !g.is_empty())
                .or_else(|| group_from_path(path)),
            operation_id: text_of(op, "operationId").map(str::to_owned),
            explicit_name,
            description: description.or_else(|| summary.clone()),
            title: summary,
            deprecated: op.get("deprecated") == Some(&Value::Bool(true)),
            input: input.into_schema(),
            output,
            annotations,
            default_policy,
            binding: HttpBinding {
                method: method_upper,
                servers,
                path_template: path.to_owned(),
                params,
                body,
                response,
                security,
            },
        }
    }

    /// Path-item parameters overridden by the operation's, `$ref`s followed.
    fn merged_params(&mut self, doc: DocId, item: &Value, op: &Value, pointer: &str) -> Vec<Param> {
        let mut merged: Vec<Param> = Vec::new();
        let sources = [
            (
                item.get("parameters"),
                format!("{}/parameters", parent(pointer)),
            ),
            (op.get("parameters"), format!("{pointer}/parameters")),
        ];
        for (list, list_pointer) in sources {
            let Some(list) = list else { continue };
            let Some(list) = list.as_array() else {
                self.diags.warn(
                    format!("#{list_pointer}"),
                    "parameters is not an array: ignored",
                );
                continue;
            };
            for (i, raw) in list.iter().enumerate() {
                let raw_pointer = format!("{list_pointer}/{i}");
                let followed = match self.docs.follow(doc, raw, &raw_pointer) {
                    Ok(f) => f,
                    Err(e) => {
                        self.diags
                            .warn(format!("#{raw_pointer}"), format!("{e}: parameter ignored"));
                        continue;
                    }
                };
                let value = followed.value();
                let name = text_of(value, "name").map(str::to_owned);
                let location = text_of(value, "in").map(str::to_owned);
                let (Some(name), Some(location)) = (name, location) else {
                    self.diags.warn(
                        format!("#{raw_pointer}"),
                        "parameter without name or in: ignored",
                    );
                    continue;
                };
                let param = Param {
                    doc: followed.doc,
                    pointer: followed.pointer.clone(),
                    name,
                    location,
                    value: value.clone(),
                };
                merged.retain(|p| !(p.name == param.name && p.location == param.location));
                merged.push(param);
            }
        }
        let order = |p: &Param| match p.location.as_str() {
            "path" => 0,
            "query" => 1,
            "header" => 2,
            "cookie" => 3,
            _ => 4,
        };
        merged.sort_by_key(order);
        merged
    }

    /// One path, query, header or cookie parameter; body and formData
    /// parameters (Swagger 2.0) are left to [`Self::swagger_body`].
    fn parameter(&mut self, param: &Param, input: &mut Input, at: &str) -> Option<HttpParam> {
        let location = match param.location.as_str() {
            "path" => ParamLocation::Path,
            "query" => ParamLocation::Query,
            "header" => ParamLocation::Header,
            "cookie" => ParamLocation::Cookie,
            "body" | "formData" if self.version == SpecVersion::Swagger2 => return None,
            other => {
                self.diags.warn(
                    at.to_owned(),
                    format!(
                        "parameter {:?} has unknown location {other:?}: ignored",
                        param.name
                    ),
                );
                return None;
            }
        };
        if location == ParamLocation::Header
            && ["accept", "content-type", "authorization"]
                .contains(&param.name.to_ascii_lowercase().as_str())
        {
            return None;
        }
        let value = &param.value;
        let (schema, content_type) = self.param_schema(param);
        let default_style = match location {
            ParamLocation::Path | ParamLocation::Header => ParamStyle::Simple,
            ParamLocation::Query | ParamLocation::Cookie => ParamStyle::Form,
        };
        let (style, explode) = if self.version == SpecVersion::Swagger2 {
            swagger_style(text_of(value, "collectionFormat"), location)
        } else {
            let style = text_of(value, "style")
                .and_then(|s| serde_json::from_value(Value::String(s.to_owned())).ok())
                .unwrap_or(default_style);
            let explode = value
                .get("explode")
                .and_then(Value::as_bool)
                .unwrap_or(style == ParamStyle::Form);
            (style, explode)
        };
        let required =
            location == ParamLocation::Path || value.get("required") == Some(&Value::Bool(true));
        let property = input.claim(&param.name, location.as_str());
        input.add(property.clone(), schema, required);
        Some(HttpParam {
            property,
            wire_name: param.name.clone(),
            location,
            style,
            explode,
            allow_reserved: value.get("allowReserved") == Some(&Value::Bool(true)),
            required,
            content_type,
        })
    }

    fn param_schema(&mut self, param: &Param) -> (Value, Option<String>) {
        let value = &param.value;
        let (mut schema, content_type) = if self.version == SpecVersion::Swagger2 {
            (self.swagger_param_schema(param), None)
        } else if let Some(schema) = value.get("schema") {
            (
                self.schema(param.doc, schema, &format!("{}/schema", param.pointer)),
                None,
            )
        } else if let Some(Value::Object(content)) = value.get("content") {
            match content.iter().next() {
                Some((media, m)) => {
                    let pointer = format!(
                        "{}/content/{}/schema",
                        param.pointer,
                        escape_pointer_token(media)
                    );
                    let schema = m.get("schema").map(|s| self.schema(param.doc, s, &pointer));
                    (schema.unwrap_or(Value::Bool(true)), Some(media.clone()))
                }
                None => (Value::Bool(true), None),
            }
        } else {
            (json!({ "type": "string" }), None)
        };
        annotate(&mut schema, value);
        (schema, content_type)
    }

    /// Swagger 2.0 non-body parameters carry their schema keywords inline.
    fn swagger_param_schema(&mut self, param: &Param) -> Value {
        const KEYS: &[&str] = &[
            "type",
            "format",
            "items",
            "default",
            "maximum",
            "exclusiveMaximum",
            "minimum",
            "exclusiveMinimum",
            "maxLength",
            "minLength",
            "pattern",
            "maxItems",
            "minItems",
            "uniqueItems",
            "enum",
            "multipleOf",
            "x-nullable",
        ];
        let mut schema = Map::new();
        if let Value::Object(map) = &param.value {
            for (k, v) in map {
                if KEYS.contains(&k.as_str()) {
                    schema.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(Value::Object(items)) = schema.get_mut("items") {
            items.remove("collectionFormat");
        }
        self.schema(param.doc, &Value::Object(schema), &param.pointer)
    }

    /// Placeholders in the path that no parameter declares still need a
    /// value: they become required string properties.
    fn undeclared_path_params(
        &mut self,
        path: &str,
        params: &mut Vec<HttpParam>,
        input: &mut Input,
        at: &str,
    ) {
        for name in path_placeholders(path) {
            let declared = params
                .iter()
                .any(|p| p.location == ParamLocation::Path && p.wire_name == name);
            if declared {
                continue;
            }
            self.diags.warn(
                at.to_owned(),
                format!("path parameter {name:?} is not declared: taken as a required string"),
            );
            let property = input.claim(&name, "path");
            input.add(property.clone(), json!({ "type": "string" }), true);
            params.push(HttpParam {
                property,
                wire_name: name,
                location: ParamLocation::Path,
                style: ParamStyle::Simple,
                explode: false,
                allow_reserved: false,
                required: true,
                content_type: None,
            });
        }
    }

    /// OpenAPI 3.x `requestBody`.
    fn request_body(
        &mut self,
        doc: DocId,
        op: &Value,
        pointer: &str,
        input: &mut Input,
    ) -> Option<HttpBody> {
        let raw = op.get("requestBody")?;
        let body_pointer = format!("{pointer}/requestBody");
        let followed = match self.docs.follow(doc, raw, &body_pointer) {
            Ok(f) => f,
            Err(e) => {
                self.diags.warn(
                    format!("#{body_pointer}"),
                    format!("{e}: request body ignored"),
                );
                return None;
            }
        };
        let body = followed.value();
        let Some(Value::Object(content)) = body.get("content") else {
            return None;
        };
        let (media_type, media) = pick_media_type(content.iter().map(|(k, v)| (k.as_str(), v)))?;
        let kind = MediaKind::of(media_type);
        let media_pointer = format!(
            "{}/content/{}",
            followed.pointer,
            escape_pointer_token(media_type)
        );
        let required = body.get("required") == Some(&Value::Bool(true));
        let (schema, spread) = match (kind, media.get("schema")) {
            (MediaKind::Binary, _) => (file_input_schema(Some(media_type)), false),
            (MediaKind::Text, None) => (json!({ "type": "string" }), false),
            (_, Some(schema)) => {
                let p = format!("{media_pointer}/schema");
                self.body_schema(followed.doc, schema, &p, kind.spreads())
            }
            (_, None) => (Value::Bool(true), false),
        };
        let mut encoding = BTreeMap::new();
        if let Some(Value::Object(map)) = media.get("encoding") {
            for (name, e) in map {
                encoding.insert(
                    name.clone(),
                    PartEncoding {
                        content_type: text_of(e, "contentType").map(str::to_owned),
                        style: text_of(e, "style")
                            .and_then(|s| serde_json::from_value(json!(s)).ok()),
                        explode: e.get("explode").and_then(Value::as_bool),
                    },
                );
            }
        }
        let description = text_of(body, "description");
        let media_type = if media_type.contains('*') {
            "application/json".to_owned()
        } else {
            media_type.to_owned()
        };
        let shape = place_body(schema, spread, required, description, input);
        Some(HttpBody {
            media_type,
            shape,
            required,
            encoding,
        })
    }

    /// The schema of a body and whether its properties can be spread into
    /// the input: when `spreads` and the schema (through plain `$ref`s) is an
    /// object of properties, that object inlined; otherwise the schema as
    /// written, a ref staying a ref.
    fn body_schema(
        &mut self,
        doc: DocId,
        schema: &Value,
        pointer: &str,
        spreads: bool,
    ) -> (Value, bool) {
        if spreads {
            let (target_doc, target, target_pointer) =
                self.follow_schema_refs(doc, schema, pointer);
            if target.get("properties").is_some_and(Value::is_object) {
                let inlined = self.schema(target_doc, &target, &target_pointer);
                if spreadable_properties(&inlined).is_some() {
                    return (inlined, true);
                }
            }
        }
        (self.schema(doc, schema, pointer), false)
    }

    /// Swagger 2.0 `in: body` and `in: formData` parameters.
    fn swagger_body(
        &mut self,
        doc: DocId,
        item: &Value,
        op: &Value,
        pointer: &str,
        input: &mut Input,
    ) -> Option<HttpBody> {
        let root = self.docs.root();
        let consumes: Vec<String> = op
            .get("consumes")
            .or_else(|| root.get("consumes"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let params = self.merged_params(doc, item, op, pointer);

        if let Some(body) = params.iter().find(|p| p.location == "body") {
            let media_type = pick_media_type(consumes.iter().map(|c| (c.as_str(), &Value::Null)))
                .map(|(m, _)| m.to_owned())
                .unwrap_or_else(|| "application/json".to_owned());
            let kind = MediaKind::of(&media_type);
            let required = body.value.get("required") == Some(&Value::Bool(true));
            let schema_pointer = format!("{}/schema", body.pointer);
            let schema = match (kind, body.value.get("schema")) {
                (MediaKind::Binary, _) => (file_input_schema(Some(&media_type)), false),
                (_, Some(s)) => self.body_schema(body.doc, s, &schema_pointer, kind.spreads()),
                (_, None) => (Value::Bool(true), false),
            };
            let description = text_of(&body.value, "description");
            let shape = place_body(schema.0, schema.1, required, description, input);
            return Some(HttpBody {
                media_type: if media_type.contains('*') {
                    "application/json".into()
                } else {
                    media_type
                },
                shape,
                required,
                encoding: BTreeMap::new(),
            });
        }

        let fields: Vec<&Param> = params.iter().filter(|p| p.location == "formData").collect();
        if fields.is_empty() {
            return None;
        }
        let has_file = fields
            .iter()
            .any(|p| text_of(&p.value, "type") == Some("file"));
        let media_type = if has_file
            || consumes
                .iter()
                .any(|c| c.starts_with("multipart/form-data"))
        {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        let mut properties = BTreeMap::new();
        let mut any_required = false;
        for field in fields {
            let (schema, _) = self.param_schema(field);
            let required = field.value.get("required") == Some(&Value::Bool(true));
            any_required |= required;
            let property = input.claim(&field.name, "body");
            input.add(property.clone(), schema, required);
            properties.insert(property, field.name.clone());
        }
        Some(HttpBody {
            media_type: media_type.to_owned(),
            shape: BodyShape::Spread { properties },
            required: any_required,
            encoding: BTreeMap::new(),
        })
    }

    /// The output schema: the first 2xx response with JSON content, else
    /// `default` with JSON content, else the first 2xx's text, file or
    /// empty shape.
    fn output(
        &mut self,
        doc: DocId,
        op: &Value,
        pointer: &str,
        exported: bool,
    ) -> (Value, HttpResponse) {
        let empty = (
            json!({ "type": "null" }),
            HttpResponse {
                kind: ResponseKind::Empty,
                media_type: None,
            },
        );
        let Some(Value::Object(responses)) = op.get("responses") else {
            return (
                json!({}),
                HttpResponse {
                    kind: ResponseKind::Json,
                    media_type: None,
                },
            );
        };
        let mut candidates: Vec<(&String, &Value)> = responses
            .iter()
            .filter(|(code, _)| code.starts_with('2'))
            .collect();
        candidates.sort_by(|a, b| a.0.cmp(b.0));
        let has_success = !candidates.is_empty();
        candidates.extend(responses.get_key_value("default"));
        let mut fallback: Option<(Value, HttpResponse)> = None;
        for (code, raw) in candidates {
            let response_pointer = format!("{pointer}/responses/{}", escape_pointer_token(code));
            let followed = match self.docs.follow(doc, raw, &response_pointer) {
                Ok(f) => f,
                Err(e) => {
                    self.diags.warn(
                        format!("#{response_pointer}"),
                        format!("{e}: response ignored"),
                    );
                    continue;
                }
            };
            let is_default = code == "default";
            match self.response_shape(followed.doc, followed.value(), &followed.pointer, exported) {
                Some((schema, shape)) if shape.kind == ResponseKind::Json => {
                    return (schema, shape);
                }
                Some(other) if !is_default && fallback.is_none() => fallback = Some(other),
                None if !is_default && fallback.is_none() => fallback = Some(empty.clone()),
                _ => {}
            }
        }
        fallback.unwrap_or_else(|| {
            if !has_success && !responses.contains_key("default") {
                (
                    json!({}),
                    HttpResponse {
                        kind: ResponseKind::Json,
                        media_type: None,
                    },
                )
            } else {
                empty
            }
        })
    }

    /// The schema and decoding of one response, `None` when it has no content.
    fn response_shape(
        &mut self,
        doc: DocId,
        response: &Value,
        pointer: &str,
        exported: bool,
    ) -> Option<(Value, HttpResponse)> {
        let root = self.docs.root();
        let (media_type, schema, schema_pointer) = if self.version == SpecVersion::Swagger2 {
            let schema = response.get("schema")?;
            let produces: Vec<String> = root
                .get("produces")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let media = pick_media_type(produces.iter().map(|p| (p.as_str(), &Value::Null)))
                .map(|(m, _)| m.to_owned())
                .unwrap_or_else(|| "application/json".to_owned());
            let media = if text_of(schema, "type") == Some("file") {
                "application/octet-stream".to_owned()
            } else {
                media
            };
            (media, Some(schema.clone()), format!("{pointer}/schema"))
        } else {
            let Some(Value::Object(content)) = response.get("content") else {
                return None;
            };
            let (media, m) = pick_media_type(content.iter().map(|(k, v)| (k.as_str(), v)))?;
            let p = format!("{pointer}/content/{}/schema", escape_pointer_token(media));
            (media.to_owned(), m.get("schema").cloned(), p)
        };
        let kind = MediaKind::of(&media_type);
        let (schema, response_kind) = match kind {
            MediaKind::Json | MediaKind::Form => {
                let schema = match &schema {
                    Some(s) if exported => self.unwrap_envelope(doc, s, &schema_pointer),
                    Some(s) => self.schema(doc, s, &schema_pointer),
                    None => Value::Bool(true),
                };
                (schema, ResponseKind::Json)
            }
            MediaKind::Text => (json!({ "type": "string" }), ResponseKind::Text),
            MediaKind::Binary | MediaKind::Multipart => {
                (file_output_schema(), ResponseKind::Binary)
            }
        };
        Some((
            schema,
            HttpResponse {
                kind: response_kind,
                media_type: Some(media_type),
            },
        ))
    }

    /// In a document executor exported, the 200 response is the result
    /// envelope; the tool's own output is its success branch's `data`.
    fn unwrap_envelope(&mut self, doc: DocId, schema: &Value, pointer: &str) -> Value {
        let data_pointer = "/oneOf/0/properties/data";
        match schema.pointer(data_pointer) {
            Some(data) => self.schema(doc, data, &format!("{pointer}{data_pointer}")),
            None => self.schema(doc, schema, pointer),
        }
    }
}

/// Puts a body into the input, spreading object properties when it can.
fn place_body(
    schema: Value,
    spread: bool,
    required: bool,
    description: Option<&str>,
    input: &mut Input,
) -> BodyShape {
    if spread && let Some(props) = spreadable_properties(&schema) {
        let body_required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut properties = BTreeMap::new();
        for (name, prop_schema) in props {
            let property = input.claim(name, "body");
            input.add(
                property.clone(),
                prop_schema.clone(),
                required && body_required.contains(&name.as_str()),
            );
            properties.insert(property, name.clone());
        }
        return BodyShape::Spread { properties };
    }
    let property = input.claim("body", "body");
    let mut schema = schema;
    if let Some(d) = description {
        add_description(&mut schema, d);
    }
    input.add(property.clone(), schema, required);
    BodyShape::Property { property }
}

fn spreadable_properties(schema: &Value) -> Option<&Map<String, Value>> {
    let map = schema.as_object()?;
    let props = map.get("properties")?.as_object()?;
    let blocked = ["allOf", "anyOf", "oneOf", "$ref", "if", "patternProperties"]
        .iter()
        .any(|k| map.contains_key(*k));
    let extra_ok = matches!(
        map.get("additionalProperties"),
        None | Some(Value::Bool(false))
    );
    let type_ok = match map.get("type") {
        None => true,
        Some(Value::String(t)) => t == "object",
        Some(_) => false,
    };
    (!blocked && extra_ok && type_ok).then_some(props)
}

/// Adds a parameter's description and deprecation to its property schema.
fn annotate(schema: &mut Value, param: &Value) {
    if let Some(d) = text_of(param, "description") {
        add_description(schema, d);
    }
    if param.get("deprecated") == Some(&Value::Bool(true))
        && let Value::Object(map) = schema
    {
        map.insert("deprecated".into(), Value::Bool(true));
    }
}

fn add_description(schema: &mut Value, description: &str) {
    if description.trim().is_empty() {
        return;
    }
    match schema {
        Value::Object(map) => {
            map.entry("description")
                .or_insert_with(|| Value::String(description.to_owned()));
        }
        Value::Bool(true) => *schema = json!({ "description": description }),
        _ => {}
    }
}

/// Swagger 2.0 `collectionFormat` as an OpenAPI 3 style.
fn swagger_style(format: Option<&str>, location: ParamLocation) -> (ParamStyle, bool) {
    let simple = matches!(location, ParamLocation::Path | ParamLocation::Header);
    match format {
        Some("ssv") => (ParamStyle::SpaceDelimited, false),
        Some("pipes") => (ParamStyle::PipeDelimited, false),
        Some("multi") => (ParamStyle::Form, true),
        _ if simple => (ParamStyle::Simple, false),
        _ => (ParamStyle::Form, false),
    }
}

fn path_placeholders(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + len];
        if !name.is_empty() && !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
        rest = &rest[start + len + 1..];
    }
    out
}

/// The group of a tool without tags: the first path segment that is not
/// `api`, a version (`v1`) or a placeholder.
fn group_from_path(path: &str) -> Option<String> {
    path.split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .find(|s| {
            let lower = s.to_ascii_lowercase();
            lower != "api"
                && !(lower.starts_with('v')
                    && lower[1..].chars().all(|c| c.is_ascii_digit())
                    && lower.len() > 1)
        })
        .map(camel_case)
        .filter(|s| !s.is_empty())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaKind {
    Json,
    Form,
    Multipart,
    Text,
    Binary,
}

impl MediaKind {
    fn of(media_type: &str) -> MediaKind {
        let m = media_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if m == "application/json"
            || m.ends_with("+json")
            || m.ends_with("/json")
            || m == "*/*"
            || m == "application/*"
        {
            MediaKind::Json
        } else if m == "application/x-www-form-urlencoded" {
            MediaKind::Form
        } else if m.starts_with("multipart/") {
            MediaKind::Multipart
        } else if m.starts_with("text/") || m.ends_with("+xml") || m == "application/xml" {
            MediaKind::Text
        } else {
            MediaKind::Binary
        }
    }

    fn spreads(self) -> bool {
        matches!(
            self,
            MediaKind::Json | MediaKind::Form | MediaKind::Multipart
        )
    }
}

/// Prefers JSON, then forms, then bytes, then text, then the first listed.
fn pick_media_type<'a>(
    options: impl Iterator<Item = (&'a str, &'a Value)> + Clone,
) -> Option<(&'a str, &'a Value)> {
    let rank = |m: &str| {
        let lower = m.to_ascii_lowercase();
        match MediaKind::of(&lower) {
            _ if lower.starts_with("application/json") => 0,
            MediaKind::Json if !lower.contains('*') => 1,
            MediaKind::Form => 2,
            MediaKind::Multipart => 3,
            MediaKind::Json => 4,
            MediaKind::Binary => 5,
            MediaKind::Text => 6,
        }
    };
    // `min_by_key` keeps the first of equal ranks: the source's order.
    options.min_by_key(|(m, _)| rank(m))
}

/// The pointer of the path item an operation pointer sits in.
fn parent(pointer: &str) -> &str {
    pointer.rsplit_once('/').map_or("", |(p, _)| p)
}

/// Gives every draft its final name and path (see the guide's "Tool paths"):
/// group (first tag or path segment) then operationId in camelCase, else
/// method and path; names that collide all take a suffix hashed from their
/// method and path, which stays put when other operations change.
pub(super) fn name_tools(
    drafts: Vec<Draft>,
    options: &Options,
    diags: &mut Diagnostics,
) -> Vec<Tool> {
    let prefix = options.connection.path_prefix(&options.namespace);
    let budget = options.connection.name_budget(&options.namespace);
    let names: Vec<String> = drafts
        .iter()
        .map(|d| fit(base_name(d), budget, d))
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for n in &names {
        *counts.entry(n.as_str()).or_default() += 1;
    }
    let finals: Vec<String> = drafts
        .iter()
        .zip(&names)
        .map(|(d, n)| {
            if counts[n.as_str()] > 1 {
                let suffix = &stable_hash(&format!("{} {}", d.method, d.path))[..6];
                diags.warn(
                    d.pointer.clone(),
                    format!("tool name {n:?} is shared with another operation: named {n}_{suffix}"),
                );
                fit(format!("{n}_{suffix}"), budget, d)
            } else {
                n.clone()
            }
        })
        .collect();
    let mut tools: Vec<Tool> = drafts
        .into_iter()
        .zip(finals)
        .map(|(d, name)| Tool {
            path: format!("{prefix}{name}"),
            integration: options.namespace.clone(),
            connection: options.connection.clone(),
            name,
            title: d.title,
            description: d.description,
            input: d.input,
            output: d.output,
            annotations: d.annotations,
            default_policy: d.default_policy,
            deprecated: d.deprecated,
            binding: Binding::Http(d.binding),
        })
        .collect();
    tools.sort_by(|a, b| a.path.cmp(&b.path));
    tools
}

fn base_name(d: &Draft) -> String {
    if let Some(name) = &d.explicit_name {
        return name.clone();
    }
    let op_segments: Vec<String> = match &d.operation_id {
        Some(id) => id
            .split(['/', '.', ':'])
            .map(camel_case)
            .filter(|s| !s.is_empty())
            .collect(),
        None => Vec::new(),
    };
    let op_segments = if op_segments.is_empty() {
        vec![method_path_name(&d.method, &d.path)]
    } else {
        op_segments
    };
    let mut segments = Vec::new();
    if let Some(group) = &d.group {
        segments.push(group.clone());
    }
    let more_than_one = op_segments.len() > 1;
    for (i, s) in op_segments.into_iter().enumerate() {
        // GitHub's `issues/create` under tag `issues` is `issues.create`
        // (but an operation named like its tag keeps its name: `fail.fail`).
        if i == 0 && more_than_one && segments.first().is_some_and(|g| g.eq_ignore_ascii_case(&s)) {
            continue;
        }
        segments.push(s);
    }
    sanitise_tool_name(&segments.join("."))
}

/// `GET /pets/{petId}/photos` → `getPetsByPetIdPhotos`.
fn method_path_name(method: &str, path: &str) -> String {
    let mut words = vec![method.to_ascii_lowercase()];
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            words.push(format!("by {name}"));
        } else {
            words.push(segment.to_owned());
        }
    }
    let name = camel_case(&words.join(" "));
    if name.is_empty() {
        method.to_ascii_lowercase()
    } else {
        name
    }
}

/// Keeps a name within the path budget, with a stable hash where cut.
fn fit(name: String, budget: usize, d: &Draft) -> String {
    if name.len() <= budget {
        return name;
    }
    let suffix = &stable_hash(&format!("{} {} {name}", d.method, d.path))[..8];
    let keep = budget - suffix.len() - 1;
    let mut cut = name[..keep].trim_end_matches('.').to_owned();
    cut.push('_');
    cut.push_str(suffix);
    cut
}
