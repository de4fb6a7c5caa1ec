//! executor as an OAuth 2.1 authorization server for `/mcp`, as the MCP
//! authorization specification asks of a server: protected resource
//! metadata (RFC 9728), authorization server metadata (RFC 8414), dynamic
//! client registration (RFC 7591), the authorization code grant with PKCE
//! S256, `iss` in the authorization response (RFC 9207), refresh tokens
//! that rotate, and resource indicators (RFC 8707). The consent page is
//! part of the web UI: the person signs in as for any page. The rules
//! live in the `clients` room; this file is their HTTP side (the owner's
//! `/api/clients` and Clients page are in `http/clients.rs`).

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use serde_json::json;

use super::session::{sessions, signed_out};
use super::web::{Page, page, render, signed_in_message};
use crate::clients::{self, AuthorizeError, AuthorizeRequest, OAuthError, Registration};
use crate::state::AppState;

/// The origin a request was addressed to (`Host` is checked against the
/// service's own names before any handler runs).
pub fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// The names `/mcp` goes by, the one this request used first: a token is
/// for one of them (RFC 8707), never for another server.
pub fn resources(state: &AppState, headers: &HeaderMap) -> Vec<String> {
    let mut names = vec![format!("{}/mcp", origin(headers))];
    for host in state.hosts.iter() {
        let name = format!("http://{host}/mcp");
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The `WWW-Authenticate` challenge `/mcp` answers a request without a
/// usable token with: where its metadata is.
pub fn challenge(headers: &HeaderMap, invalid: bool) -> String {
    let metadata = format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        origin(headers)
    );
    if invalid {
        format!(
            "Bearer error=\"invalid_token\", error_description=\"the token is unknown, expired or revoked\", resource_metadata=\"{metadata}\""
        )
    } else {
        format!("Bearer resource_metadata=\"{metadata}\"")
    }
}

/// `GET /.well-known/oauth-protected-resource[/mcp]` (RFC 9728).
pub async fn resource_metadata(headers: HeaderMap) -> Response {
    let origin = origin(&headers);
    axum::Json(json!({
        "resource": format!("{origin}/mcp"),
        "authorization_servers": [origin],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["mcp"],
        "resource_name": "executor",
    }))
    .into_response()
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
pub async fn server_metadata(headers: HeaderMap) -> Response {
    let origin = origin(&headers);
    axum::Json(json!({
        "issuer": origin,
        "authorization_endpoint": format!("{origin}/oauth/authorize"),
        "token_endpoint": format!("{origin}/oauth/token"),
        "registration_endpoint": format!("{origin}/oauth/register"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["mcp"],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": true,
    }))
    .into_response()
}

fn oauth_error(status: StatusCode, e: OAuthError) -> Response {
    // The store's failures are executor's, not the client's.
    let status = match e.code {
        "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
        "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        _ => status,
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({ "error": e.code, "error_description": e.description })),
    )
        .into_response()
}

/// `POST /oauth/register` (RFC 7591): public clients with loopback
/// redirect URIs.
pub async fn register(State(state): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    let request: Registration = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                OAuthError {
                    code: "invalid_client_metadata",
                    description: format!(
                        "the registration is not the JSON RFC 7591 describes: {e}"
                    ),
                },
            );
        }
    };
    match clients::register(&state, request) {
        Ok(client) => (
            StatusCode::CREATED,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(json!({
                "client_id": client.id,
                "client_id_issued_at": client.created_at,
                "client_name": client.name,
                "redirect_uris": client.redirect_uris,
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
            })),
        )
            .into_response(),
        Err(e) => oauth_error(StatusCode::BAD_REQUEST, e),
    }
}

/// `GET /oauth/authorize`: checked, then on to the consent page.
pub async fn authorize(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    axum::extract::Query(request): axum::extract::Query<AuthorizeRequest>,
) -> Response {
    let resources = resources(&state, &headers);
    // A client named by its metadata document: fetched and kept first.
    if let Some(client_id) = request
        .client_id
        .as_deref()
        .filter(|id| clients::is_metadata_url(id))
        && let Err(e) = clients::resolve_metadata(&state, client_id).await
    {
        return (StatusCode::BAD_REQUEST, signed_out_message(&e.description)).into_response();
    }
    match state.auth_server.request(&state, request, &resources) {
        Ok(id) => Redirect::to(&format!("/consent/{id}")).into_response(),
        Err(AuthorizeError::Show(message)) => {
            (StatusCode::BAD_REQUEST, signed_out_message(&message)).into_response()
        }
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state: client_state,
            error,
        }) => {
            let mut url = match reqwest::Url::parse(&redirect_uri) {
                Ok(url) => url,
                Err(_) => {
                    return (
                        StatusCode::BAD_REQUEST,
                        signed_out_message(&error.description),
                    )
                        .into_response();
                }
            };
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("error", error.code);
                query.append_pair("error_description", &error.description);
                if let Some(s) = &client_state {
                    query.append_pair("state", s);
                }
                query.append_pair("iss", &origin(&headers));
            }
            Redirect::to(url.as_str()).into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "web/refused.html")]
struct Refused<'a> {
    reason: &'a str,
}

/// A page that says what is wrong with a sign-in request, to the person.
fn signed_out_message(reason: &str) -> axum::response::Html<String> {
    render(&Refused { reason })
}

#[derive(Template)]
#[template(path = "web/consent.html")]
struct ConsentPage {
    page: Page,
    id: String,
    client: String,
    client_id: String,
    redirect: String,
    integrations: Vec<String>,
}

/// `GET /consent/{id}`: who asks, for what; signed out, how to sign in
/// and come back here.
pub async fn consent(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let here = format!("/consent/{id}");
    let Some(csrf) = sessions(&state).csrf(&headers) else {
        return (
            StatusCode::UNAUTHORIZED,
            signed_out(
                &state,
                "Sign in to answer an MCP client's request to use executor.",
                Some(&here),
            ),
        )
            .into_response();
    };
    let Some(pending) = state.auth_server.pending(&id) else {
        return (
            StatusCode::NOT_FOUND,
            signed_in_message(&state, csrf, "This sign-in request has expired or was answered. Start it again from the MCP client."),
        )
            .into_response();
    };
    // A custom scheme (an allowed `cursor://...`) has no origin: its scheme
    // is the CSP source.
    let redirect_origin = reqwest::Url::parse(&pending.redirect_uri)
        .map(|u| {
            let origin = u.origin();
            if origin.is_tuple() {
                origin.ascii_serialization()
            } else {
                format!("{}:", u.scheme())
            }
        })
        .unwrap_or_default();
    let mut response = render(&ConsentPage {
        page: page(&state, csrf),
        id,
        client: pending.client.name.clone(),
        client_id: pending.client.id.clone(),
        redirect: pending.redirect_uri.clone(),
        integrations: state
            .live()
            .catalog
            .integrations
            .iter()
            .map(|i| i.name.clone())
            .collect(),
    })
    .into_response();
    // The form's answer redirects to the client: the page may send it there.
    // Its form is posted (not fetched): the browser must send its origin.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("same-origin"),
    );
    if let Ok(csp) = axum::http::HeaderValue::from_str(&format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self' {redirect_origin}"
    )) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// `POST /consent/{id}`: the person's answer, with the session's CSRF token.
pub async fn answer(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let csrf_ok = match (sessions(&state).csrf(&headers), field("csrf")) {
        (Some(expected), Some(sent)) => super::access::same(expected.as_bytes(), sent.as_bytes()),
        _ => false,
    };
    if !csrf_ok {
        return (
            StatusCode::FORBIDDEN,
            signed_out(
                &state,
                "This answer did not come from a signed-in page of executor.",
                Some(&format!("/consent/{id}")),
            ),
        )
            .into_response();
    }
    let approval = (field("decision") == Some("allow")).then(|| {
        let scope: Vec<String> = fields
            .iter()
            .filter(|(k, _)| k == "scope")
            .map(|(_, v)| v.clone())
            .collect();
        (scope, field("approve_all") == Some("on"))
    });
    match state
        .auth_server
        .answer(&state, &id, approval, &origin(&headers))
    {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => {
            let csrf = sessions(&state).csrf(&headers).unwrap_or_default();
            (
                StatusCode::BAD_REQUEST,
                signed_in_message(&state, csrf, &e.description),
            )
                .into_response()
        }
    }
}

/// `POST /oauth/token`: a code for tokens, or a refresh token for new ones.
pub async fn token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let form: HashMap<String, String> = fields.into_iter().collect();
    let issued = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            state
                .auth_server
                .exchange(&state, &form, &resources(&state, &headers))
        }
        Some("refresh_token") => clients::refresh(&state, &form),
        other => Err(OAuthError {
            code: "unsupported_grant_type",
            description: format!(
                "grant_type {other:?}: authorization_code and refresh_token are offered"
            ),
        }),
    };
    match issued {
        Ok(tokens) => (
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            axum::Json(tokens),
        )
            .into_response(),
        Err(e) => oauth_error(StatusCode::BAD_REQUEST, e),
    }
}
