//! executor's own REST API, described: `GET /api/openapi.json`, an OpenAPI
//! 3.1 document made by `utoipa` from the `#[utoipa::path]` attribute on
//! each handler. It is the management API's document, separate from the
//! catalog export (`/api/tools/export/openapi`), which describes the tools.
//!
//! Every `/api` route in `http/mod.rs` is listed here; `tests/openapi_self.rs`
//! fails when the router has a route this document does not describe.

use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "executor",
        description = "The management API of executor: run tools, list and search the catalog, \
manage sources' connections, policies, paused executions, clients and the audit log. Every route \
but `/api/health`, `/api/ready` and `/api/openapi.json` needs the owner's token (`Authorization: Bearer ...`). \
Answers are envelopes: `{\"ok\": true, \"data\": ...}` or `{\"ok\": false, \"error\": {code, message, ...}}`.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        super::health,
        super::ready,
        openapi_json,
        super::api::invoke_tool,
        super::execute::execute,
        super::api::list_tools,
        super::export::export_openapi,
        super::api::describe_tool,
        super::api::list_sources,
        super::api::list_connections,
        super::api::add_connection,
        super::api::remove_connection,
        super::api::list_policies,
        super::api::add_policy,
        super::api::remove_policy,
        super::api::move_policy,
        super::executions::list_executions,
        super::executions::get_execution,
        super::executions::resume_execution,
        super::api::shutdown,
        super::session::login_url,
        super::clients::list,
        super::clients::add,
        super::clients::revoke,
        super::audit::audit,
    ),
    modifiers(&Bearer),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// The document, made once.
pub fn document() -> &'static Value {
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| {
        serde_json::to_value(ApiDoc::openapi()).expect("the API document serialises")
    })
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "This OpenAPI 3.1 document", body = Object))
)]
pub(super) async fn openapi_json() -> Response {
    axum::Json(document()).into_response()
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The owner's token (`executor token`), or a client's token \
                         (`executor clients add`) where the client's scope allows",
                    ))
                    .build(),
            ),
        );
    }
}

/// A tool's outcome: its data, or why it failed (a tool's own errors
/// travel with status 200).
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // only described
pub enum Envelope {
    Success(Success),
    Failure(Failure),
}

/// A route's answer when it worked.
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct Success {
    /// Always `true` here.
    ok: bool,
    /// What the route answers (see the route).
    data: Value,
}

/// A route's answer when it did not work (any status).
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct Failure {
    /// Always `false` here.
    ok: bool,
    error: ToolErrorDoc,
}

/// What went wrong, in a form both people and programs can act on.
#[derive(ToSchema)]
#[schema(as = ToolError)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // only described
pub struct ToolErrorDoc {
    code: Code,
    /// What happened and how to fix it.
    message: String,
    /// `execution_paused`: the paused execution.
    execution_id: Option<String>,
    /// `execution_paused`: `POST` here with `{"action": "accept"}` or `{"action": "decline"}`.
    resume_path: Option<String>,
    /// `execution_paused`: the web page where a person answers.
    approval_url: Option<String>,
    /// `upstream_http_error`: the upstream's status.
    status: Option<u16>,
    /// Validation problems, candidates, the upstream's body.
    details: Option<Value>,
}

/// `GET /api/health`.
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct Health {
    ok: bool,
    /// `executor`.
    service: String,
    version: String,
}

/// `GET /api/ready`.
#[derive(ToSchema)]
#[allow(dead_code)] // only described
pub struct Ready {
    ok: bool,
    /// `sqlite` or `postgres`.
    store: String,
}

/// executor's error codes, from the one enum the envelope uses.
pub struct Code;

impl PartialSchema for Code {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Why the call did not return data"))
            .enum_values(Some(generator::envelope::error_codes()))
            .into()
    }
}

impl ToSchema for Code {
    fn name() -> std::borrow::Cow<'static, str> {
        "ErrorCode".into()
    }
}
