//! The MCP client side of the legacy HTTP+SSE transport (protocol
//! 2024-11-05), for remote servers that predate streamable HTTP: a `GET` on
//! the server's URL opens an event stream whose first `endpoint` event names
//! the URL to `POST` messages to; the server's messages arrive as `message`
//! events on the stream.
//!
//! Written by hand because rmcp 3.9 dropped its legacy SSE client; the SSE
//! framing itself comes from the `sse-stream` crate (rmcp's own parser).

use std::time::Duration;

use futures::StreamExt;
use rmcp::RoleClient;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use sse_stream::SseStream;

#[derive(Debug, thiserror::Error)]
pub enum LegacySseError {
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("{0}")]
    Protocol(String),
}

/// An open legacy SSE session.
pub struct LegacySse {
    http: reqwest::Client,
    headers: reqwest::header::HeaderMap,
    /// Where messages are `POST`ed (from the `endpoint` event).
    endpoint: reqwest::Url,
    incoming: tokio::sync::mpsc::Receiver<RxJsonRpcMessage<RoleClient>>,
    reader: tokio::task::JoinHandle<()>,
}

/// How long the server may take to name its message endpoint.
const ENDPOINT_TIMEOUT: Duration = Duration::from_secs(10);

impl LegacySse {
    /// Opens the event stream and waits for the `endpoint` event.
    pub async fn connect(
        http: reqwest::Client,
        url: &str,
        headers: reqwest::header::HeaderMap,
    ) -> Result<LegacySse, LegacySseError> {
        let base = reqwest::Url::parse(url)
            .map_err(|e| LegacySseError::Protocol(format!("invalid URL {url:?}: {e}")))?;
        let response = http
            .get(base.clone())
            .headers(headers.clone())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await?
            .error_for_status()?;
        let is_sse = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !is_sse {
            return Err(LegacySseError::Protocol(
                "GET did not answer with an event stream (text/event-stream)".into(),
            ));
        }
        let mut events = SseStream::from_bytes_stream(response.bytes_stream());
        let endpoint = tokio::time::timeout(ENDPOINT_TIMEOUT, async {
            while let Some(event) = events.next().await {
                let event = event.map_err(|e| LegacySseError::Protocol(e.to_string()))?;
                if event.event.as_deref() == Some("endpoint") {
                    let data = event.data.unwrap_or_default();
                    // Same origin only: the endpoint must not send our
                    // headers (credentials) anywhere else.
                    let endpoint = base.join(data.trim()).map_err(|e| {
                        LegacySseError::Protocol(format!("invalid endpoint {data:?}: {e}"))
                    })?;
                    if endpoint.origin() != base.origin() {
                        return Err(LegacySseError::Protocol(format!(
                            "the server named an endpoint on another origin ({endpoint}); refused"
                        )));
                    }
                    return Ok(endpoint);
                }
            }
            Err(LegacySseError::Protocol(
                "the event stream ended before an `endpoint` event".into(),
            ))
        })
        .await
        .map_err(|_| {
            LegacySseError::Protocol(format!(
                "no `endpoint` event within {} s",
                ENDPOINT_TIMEOUT.as_secs()
            ))
        })??;
        let (sender, incoming) = tokio::sync::mpsc::channel(64);
        let reader = tokio::spawn(async move {
            while let Some(Ok(event)) = events.next().await {
                if event.event.as_deref().is_some_and(|e| e != "message") {
                    continue;
                }
                let Some(data) = event.data else { continue };
                match serde_json::from_str::<RxJsonRpcMessage<RoleClient>>(&data) {
                    Ok(message) => {
                        if sender.send(message).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => tracing::warn!("legacy SSE: unreadable message skipped: {e}"),
                }
            }
        });
        Ok(LegacySse {
            http,
            headers,
            endpoint,
            incoming,
            reader,
        })
    }
}

impl Transport<RoleClient> for LegacySse {
    type Error = LegacySseError;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let request = self
            .http
            .post(self.endpoint.clone())
            .headers(self.headers.clone())
            .json(&item);
        async move {
            request.send().await?.error_for_status()?;
            Ok(())
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        self.incoming.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.reader.abort();
        Ok(())
    }
}

impl Drop for LegacySse {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
