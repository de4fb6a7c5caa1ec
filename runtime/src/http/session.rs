//! Signing in to the web UI: `executor web` asks the service (with the
//! bearer token) for a one-time login URL; opening it trades the code for
//! a session cookie (HttpOnly, SameSite=Strict, valid twelve hours, kept in
//! memory: a restart signs the browser out). Each session has a CSRF token
//! that the pages carry and the script sends as `x-csrf-token`; `/api`
//! accepts a session only together with that header (see
//! `access::require_token`). With the host and origin checks, a page on
//! another site can neither read the UI nor make it act.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::web::render;
use crate::state::AppState;

/// The session cookie's name carries the port: browsers share cookies
/// across the ports of one host, and two services (or any other local
/// server) must not see or overwrite each other's sessions by name.
fn cookie_name(port: u16) -> String {
    format!("executor_session_{port}")
}
/// A login URL works once, within this time.
const LOGIN_TTL: Duration = Duration::from_secs(300);
const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

pub struct Sessions {
    cookie: String,
    logins: Mutex<HashMap<String, Instant>>,
    sessions: Mutex<HashMap<String, Session>>,
}

struct Session {
    csrf: String,
    expires: Instant,
}

fn random() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The web UI's sessions, kept in the state's surface slot.
pub fn sessions(state: &AppState) -> Arc<Sessions> {
    state
        .surfaces
        .get_or_insert_with(|| Sessions::new(state.addr.port()))
}

impl Sessions {
    pub fn new(port: u16) -> Sessions {
        Sessions {
            cookie: cookie_name(port),
            logins: Mutex::default(),
            sessions: Mutex::default(),
        }
    }

    /// A new one-time login code.
    pub fn login_code(&self) -> anyhow::Result<String> {
        let code = random()?;
        let mut logins = self.logins.lock().unwrap_or_else(|e| e.into_inner());
        logins.retain(|_, issued| issued.elapsed() < LOGIN_TTL);
        logins.insert(code.clone(), Instant::now());
        Ok(code)
    }

    /// Trades a login code (once) for a new session id.
    fn redeem(&self, code: &str) -> Option<String> {
        let issued = self
            .logins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(code)?;
        if issued.elapsed() >= LOGIN_TTL {
            return None;
        }
        let id = random().ok()?;
        let csrf = random().ok()?;
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(
            id.clone(),
            Session {
                csrf,
                expires: now + SESSION_TTL,
            },
        );
        Some(id)
    }

    /// The CSRF token of the request's session, if it has a live one.
    pub fn csrf(&self, headers: &HeaderMap) -> Option<String> {
        let id = cookie(headers, &self.cookie)?;
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions
            .get(&id)
            .filter(|s| s.expires > Instant::now())
            .map(|s| s.csrf.clone())
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
pub async fn login(State(state): State<Arc<AppState>>, Query(q): Query<LoginQuery>) -> Response {
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
        sessions(&state).cookie,
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
