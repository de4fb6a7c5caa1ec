//! Who may talk to the service: requests must name the service itself in
//! `Host` (and `Origin`, when a browser sends one), which defeats DNS
//! rebinding; every `/api` route but `/api/health`, `/api/ready` and
//! `/api/openapi.json` needs the bearer token,
//! or a web UI session cookie with its CSRF token (see `web`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use generator::envelope::ErrorCode;

use crate::errors::error;
use crate::http::failure;
use crate::state::AppState;

pub async fn check_host_and_origin(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let hosts = &state.hosts;
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        tracing::warn!(host, "refused a request for another host");
        return forbidden(format!(
            "requests must be addressed to this service ({}), not {host:?}",
            hosts[0]
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let ok = hosts
            .iter()
            .any(|h| origin.eq_ignore_ascii_case(&format!("http://{h}")));
        if !ok {
            tracing::warn!(origin, "refused a cross-origin request");
            return forbidden(format!(
                "cross-origin requests from {origin} are not allowed"
            ));
        }
    }
    next.run(request).await
}

fn forbidden(message: String) -> Response {
    failure(
        StatusCode::FORBIDDEN,
        error(ErrorCode::Unauthorized, message, None),
    )
}

/// The owner's token opens every `/api` route and `/mcp`; the MCP token
/// (what agents hold) opens `/mcp` only, so an agent cannot reach the REST
/// API, and with it cannot approve its own paused calls.
pub async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let sent = bearer(request.headers());
    if sent.is_some_and(|t| same(t.as_bytes(), state.token.as_bytes())) {
        return next.run(request).await;
    }
    let mcp_route = request.uri().path() == "/mcp";
    let mcp_token = sent.is_some_and(|t| same(t.as_bytes(), state.mcp_token.as_bytes()));
    if mcp_route && mcp_token {
        return next.run(request).await;
    }
    // A client's own token (OAuth or minted): `/mcp` only, as that client.
    let client = sent.filter(|t| t.starts_with("exa_")).and_then(|t| {
        let resources = crate::http::authorize::resources(&state, request.headers());
        crate::clients::authenticate(&state, t, &resources)
    });
    if let Some(client) = &client
        && mcp_route
    {
        let mut request = request;
        request
            .extensions_mut()
            .insert(crate::clients::caller(client));
        return next.run(request).await;
    }
    if mcp_route {
        // The MCP authorization spec's challenge: where to sign in.
        let challenge = crate::http::authorize::challenge(request.headers(), sent.is_some());
        let mut response = failure(
            StatusCode::UNAUTHORIZED,
            error(
                ErrorCode::Unauthorized,
                "missing or wrong bearer token: sign in through OAuth (this server's metadata is in the WWW-Authenticate header), or send `Authorization: Bearer <token>` with the MCP token from `executor mcp --print-token`",
                None,
            ),
        );
        if let Ok(value) = axum::http::HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        return response;
    }
    let agent_token = mcp_token || client.is_some();
    // The web UI: its session cookie together with the session's CSRF token.
    if !mcp_route && crate::http::session::sessions(&state).authorizes(request.headers()) {
        return next.run(request).await;
    }
    // Local paths are not shown to whoever asks without a token.
    let message = if agent_token {
        "an agent's token (the MCP token or a client's) opens /mcp only: the REST API takes the owner's token (`executor` commands use it)".to_owned()
    } else {
        "missing or wrong bearer token: send `Authorization: Bearer <token>` with the owner's token (the file `token` in executor's home)".to_owned()
    };
    failure(
        if agent_token {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNAUTHORIZED
        },
        error(ErrorCode::Unauthorized, message, None),
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub(crate) use crate::credential::same;

/// The door an owner's request came by, for the audit log: the CLI says
/// so (`x-executor-via: cli`), the web UI sends its CSRF header.
pub fn owner_via(headers: &axum::http::HeaderMap) -> &'static str {
    if headers.get("x-executor-via").is_some_and(|v| v == "cli") {
        "cli"
    } else if headers.contains_key("x-csrf-token") {
        "web"
    } else {
        "api"
    }
}
