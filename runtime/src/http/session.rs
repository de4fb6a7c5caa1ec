//! Signing in to the web UI: `executor web` asks the service (with the
//! bearer token) for a one-time login URL; opening it trades the code for
//! a session cookie (HttpOnly, SameSite=Strict, valid twelve hours). Codes
//! and sessions are kept in the store by their SHA-256 only, so a restart
//! keeps the browser signed in, and replicas on one database share them.
//! Each session has a CSRF token that the pages carry and the script sends
//! as `x-csrf-token`; `/api` accepts a session only together with that
//! header (see `access::require_token`). With the host and origin checks,
//! a page on another site can neither read the UI nor make it act.

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use sha2::Digest;

use super::web::render;
use crate::state::AppState;

/// The session cookie's name carries the port the browser reached the
/// service on (its `Host`): browsers share cookies across the ports of one
/// host, and two services (or any other local server) must not see or
/// overwrite each other's sessions by name. Replicas behind one balancer
/// are reached on its port, so they share the name.
fn cookie_name(headers: &HeaderMap, port: u16) -> String {
    let host_port = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.rsplit_once(':'))
        .and_then(|(_, p)| p.parse::<u16>().ok());
    format!("executor_session_{}", host_port.unwrap_or(port))
}
/// A login URL works once, within this time.
const LOGIN_TTL: Duration = Duration::from_secs(300);
const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// The web UI's sessions, in the store.
pub struct Sessions<'a> {
    state: &'a AppState,
}

fn random() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(hex::encode(bytes))
}

/// What the store keeps of a code or a session id.
fn hash(secret: &str) -> String {
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

pub fn sessions(state: &AppState) -> Sessions<'_> {
    Sessions { state }
}

impl Sessions<'_> {
    /// A new one-time login code.
    pub fn login_code(&self) -> anyhow::Result<String> {
        let code = random()?;
        let expires = crate::store::now() + LOGIN_TTL.as_secs() as i64;
        self.state.store().put_login_code(&hash(&code), expires)?;
        Ok(code)
    }

    /// Trades a login code (once) for a new session id.
    fn redeem(&self, code: &str) -> Option<String> {
        let mut store = self.state.store();
        if !store.redeem_login_code(&hash(code)).ok()? {
            return None;
        }
        let id = random().ok()?;
        let csrf = random().ok()?;
        let expires = crate::store::now() + SESSION_TTL.as_secs() as i64;
        store.put_web_session(&hash(&id), &csrf, expires).ok()?;
        Some(id)
    }

    /// The CSRF token of the request's session, if it has a live one.
    pub fn csrf(&self, headers: &HeaderMap) -> Option<String> {
        let id = cookie(headers, &cookie_name(headers, self.state.addr.port()))?;
        match self.state.store().web_session(&hash(&id)) {
            Ok(csrf) => csrf,
            Err(e) => {
                tracing::warn!("reading a web session: {e:#}");
                None
            }
        }
    }

    /// A live session cookie together with its CSRF token in `x-csrf-token`.
    pub fn authorizes(&self, headers: &HeaderMap) -> bool {
        let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
        match (self.csrf(headers), sent) {
            (Some(expected), Some(sent)) => {
                crate::http::access::same(expected.as_bytes(), sent.as_bytes())
            }
            _ => false,
        }
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

/// `POST /api/web/login` (bearer token): a one-time login URL.
#[utoipa::path(
    post,
    path = "/api/web/login",
    tag = "meta",
    summary = "A one-time login URL for the web UI",
    responses((status = 200, description = "`{url}`", body = crate::http::described::Success), (status = "default", description = "What went wrong (4xx: the request; 5xx: executor)", body = crate::http::described::Failure))
)]
pub async fn login_url(State(state): State<Arc<AppState>>) -> Response {
    match sessions(&state).login_code() {
        Ok(code) => axum::Json(json!({
            "ok": true,
            "data": { "url": format!("http://{}/login?code={code}", state.addr) }
        }))
        .into_response(),
        Err(e) => crate::http::failure(
            StatusCode::INTERNAL_SERVER_ERROR,
            crate::errors::internal_error(e, "make a login code"),
        ),
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    code: String,
    #[serde(default)]
    next: Option<String>,
}

/// `GET /login?code=...`: the session cookie, then the page asked for.
pub async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let Some(id) = sessions(&state).redeem(&q.code) else {
        return (
            StatusCode::UNAUTHORIZED,
            signed_out(
                &state,
                "This login link was used already or has expired.",
                None,
            ),
        )
            .into_response();
    };
    // Only plain paths of this service: never an open redirect.
    let next = q
        .next
        .filter(|n| plain_path(n))
        .unwrap_or_else(|| "/".into());
    let cookie = format!(
        "{}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        cookie_name(&headers, state.addr.port()),
        SESSION_TTL.as_secs()
    );
    tracing::info!("a browser signed in to the web UI");
    ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}

#[derive(Template)]
#[template(path = "web/signed_out.html")]
struct SignedOut {
    reason: String,
    command: String,
}

/// A path of this service made only of letters, digits and `/_.-`: safe
/// to redirect to (no `//host`, no control characters a browser would
/// drop) and to print in a shell command.
pub(super) fn plain_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
}

/// The page for a browser without a session: why, and the command that
/// signs it in (landing on `next` when given).
pub(super) fn signed_out(state: &AppState, reason: &str, next: Option<&str>) -> Html<String> {
    let port = state.addr.port();
    let mut command = "executor web".to_owned();
    if port != crate::home::DEFAULT_PORT {
        command.push_str(&format!(" --port {port}"));
    }
    if let Some(next) = next.filter(|n| plain_path(n)) {
        command.push_str(&format!(" --page {next}"));
    }
    render(&SignedOut {
        reason: reason.to_owned(),
        command,
    })
}

/// The session's CSRF token, or the signed-out page to answer with.
pub(super) fn session(
    state: &AppState,
    headers: &HeaderMap,
    path: Option<&str>,
) -> Result<String, Response> {
    sessions(state).csrf(headers).ok_or_else(|| {
        (
            StatusCode::UNAUTHORIZED,
            signed_out(state, "Sign in to use the web UI.", path),
        )
            .into_response()
    })
}

/// A signed-in browser, as an extractor: the session's CSRF token. Signed
/// out, the page answers 401 with how to sign in.
pub struct Signed(pub String);

impl axum::extract::FromRequestParts<Arc<AppState>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Arc<AppState>,
    ) -> Result<Signed, Response> {
        let path = Some(parts.uri.path()).filter(|p| *p != "/");
        session(state, &parts.headers, path).map(Signed)
    }
}
