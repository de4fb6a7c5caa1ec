//! Every request executor sends to another host (invocations of every kind,
//! spec fetches, probes, introspection, OAuth, MCP upstreams) is built on a
//! client from here, and every answer body it reads is read through
//! [`read_capped`]. The rules, treating upstreams as hostile:
//!
//! - **Redirects stay on their origin.** [`client`] follows at most
//!   [`MAX_REDIRECTS`] redirects and only to the first URL's own origin
//!   (scheme, host and port). A redirect to another origin is not followed:
//!   the 3xx answer comes back to the caller, which reports it (an
//!   invocation answers `upstream_http_error` with the `Location`). So no
//!   credential (header, query, cookie, template, a source's `headers`) and
//!   no body ever reaches a host the caller did not name.
//! - Only a request that carries nothing of the caller's may go anywhere:
//!   [`anywhere_client`] follows redirects to other origins and is used
//!   solely for the header-less `GET` of a public document.
//! - **No `Referer`**: a URL may hold a query-string API key.
//! - **Sizes are capped while reading**: a declared `Content-Length` over the
//!   limit is refused before a byte is read, and a body that grows past it
//!   (chunked, endless) is dropped as soon as it does.
//! - Connecting takes at most 10 s; each caller sets its own total timeout.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use generator::envelope::{ErrorCode, ToolError};

/// Redirects followed within one origin.
pub const MAX_REDIRECTS: usize = 5;

const USER_AGENT: &str = concat!("executor/", env!("CARGO_PKG_VERSION"));

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .referer(false)
}

/// How long an upstream may take to answer: 30 s, or
/// `EXECUTOR_UPSTREAM_TIMEOUT` seconds.
pub fn upstream_timeout() -> Duration {
    static TIMEOUT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *TIMEOUT
        .get_or_init(|| Duration::from_secs(crate::home::setting("EXECUTOR_UPSTREAM_TIMEOUT", 30)))
}

/// The client for every request that may carry a credential or a body:
/// redirects are followed within the first URL's origin only.
pub fn client() -> reqwest::Client {
    builder()
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let same_origin = attempt
                .previous()
                .first()
                .is_some_and(|first| first.origin() == attempt.url().origin());
            if same_origin && attempt.previous().len() <= MAX_REDIRECTS {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }))
        .build()
        .expect("a client from static settings builds")
}

/// The client for a plain `GET` that carries nothing of the caller's (no
/// headers, no credential, no body): it may follow redirects anywhere.
pub fn anywhere_client() -> reqwest::Client {
    builder()
        .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
        .build()
        .expect("a client from static settings builds")
}

/// The service's own listener, once it listens.
static OWN_LISTENER: OnceLock<SocketAddr> = OnceLock::new();

/// Records where this process serves, so that no outbound request goes
/// back to it (see [`is_own_listener`]).
pub fn set_own_listener(addr: SocketAddr) {
    let _ = OWN_LISTENER.set(addr);
}

/// Whether `url` points at this service itself: a source whose server is
/// executor would call itself for every call it makes, recursing until
/// file descriptors run out. Loopback names and addresses, the unspecified
/// address and the listener's own address count, on the listener's port.
pub fn is_own_listener(url: &reqwest::Url) -> bool {
    let Some(own) = OWN_LISTENER.get() else {
        return false;
    };
    if url.port_or_known_default() != Some(own.port()) {
        return false;
    }
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip.is_unspecified() || ip == own.ip(),
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

/// `invalid_input` for a URL that points at this service itself.
pub fn refuse_own_listener(url: &reqwest::Url, what: &str) -> Result<(), ToolError> {
    if is_own_listener(url) {
        return Err(crate::errors::error(
            ErrorCode::InvalidInput,
            format!(
                "{what} {url} is executor itself: a source must point at an API, not at executor (that would call itself forever)"
            ),
            None,
        ));
    }
    Ok(())
}

/// Why a body was not read whole.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the answer is larger than {}", size(*.limit))]
    TooLarge { limit: usize },
    #[error("{}", broken(.0))]
    Broken(#[source] reqwest::Error),
}

/// What went wrong while an answer arrived, said plainly (reqwest says
/// "error decoding response body" for a timeout mid-body too).
fn broken(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the answer did not arrive whole within the time allowed (it came too slowly)".to_owned()
    } else {
        "the connection closed before the answer was whole".to_owned()
    }
}

/// A byte count as people write it ("64 MiB", "512 KiB").
pub fn size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / 1024 / 1024)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// The body, up to `limit` bytes: refused on a larger `Content-Length`
/// before reading, and as soon as more than `limit` bytes arrive. The
/// chunks are kept as they come and joined once at the end, so a refused
/// body never costs more than `limit` bytes of memory (a growing buffer
/// would hold its old and new allocations at once on each doubling).
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(ReadError::TooLarge { limit });
    }
    let mut chunks = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Broken)? {
        total += chunk.len();
        if total > limit {
            return Err(ReadError::TooLarge { limit });
        }
        chunks.push(chunk);
    }
    if chunks.len() == 1 {
        return Ok(Vec::from(chunks.pop().unwrap_or_default()));
    }
    let mut out = Vec::with_capacity(total);
    for chunk in chunks {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// [`read_capped`] as UTF-8 text.
pub async fn read_text_capped(
    response: reqwest::Response,
    limit: usize,
) -> Result<Result<String, std::string::FromUtf8Error>, ReadError> {
    read_capped(response, limit).await.map(String::from_utf8)
}

/// [`read_capped`] as JSON (`Null` when it is not JSON).
pub async fn read_json_capped(
    response: reqwest::Response,
    limit: usize,
) -> Result<serde_json::Value, ReadError> {
    let bytes = read_capped(response, limit).await?;
    Ok(serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

/// Calls in flight to each source, bounded: a slow or looping upstream
/// holds at most [`InFlight::per_source`] sockets; further calls wait for a
/// slot (up to the upstream timeout), then fail clearly.
pub struct InFlight {
    per_source: usize,
    sources: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>,
}

impl InFlight {
    /// 64 calls per source, or `EXECUTOR_MAX_CALLS_PER_SOURCE`.
    pub fn from_env() -> InFlight {
        let per_source = crate::home::setting("EXECUTOR_MAX_CALLS_PER_SOURCE", 64) as usize;
        InFlight {
            per_source,
            sources: Default::default(),
        }
    }

    pub async fn enter(
        &self,
        integration: &str,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, ToolError> {
        let slots = self
            .sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(integration.to_owned())
            .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(self.per_source)))
            .clone();
        let wait = crate::outbound::upstream_timeout();
        match tokio::time::timeout(wait, slots.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(crate::errors::error(
                ErrorCode::Overloaded,
                format!(
                    "{integration} already has {} calls in flight and none finished within {} s: try again later",
                    self.per_source,
                    wait.as_secs()
                ),
                None,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(64 * 1024 * 1024), "64 MiB");
        assert_eq!(size(512 * 1024), "512 KiB");
        assert_eq!(size(1000), "1000 bytes");
    }
}
