//! The service's accept loop: hyper's connection builder driven by hand,
//! because `axum::serve` sets neither a header-read timeout nor a bound on
//! open connections, and a flood of half-sent requests (slowloris) then
//! holds every file descriptor until the service stops answering.
//!
//! - A client has [`Limits::header_read_timeout`] to send a request's
//!   headers, then its connection is closed.
//! - At most [`Limits::max_connections`] connections are open. At the cap, a
//!   new connection evicts the oldest one that is not serving a request (a
//!   half-sent request, or an idle keep-alive): a flood of slow clients
//!   cannot starve real ones, whose requests arrive at once. When every
//!   open connection is mid-request, the new one gets a 503 envelope and is
//!   closed.
//! - On shutdown, connections finish their requests (at most 10 s).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
}

impl Limits {
    /// 1024 connections and 10 s for headers, or `EXECUTOR_MAX_CONNECTIONS`
    /// and `EXECUTOR_HEADER_TIMEOUT` (seconds).
    pub fn from_env() -> Limits {
        let number = crate::home::setting;
        Limits {
            max_connections: number("EXECUTOR_MAX_CONNECTIONS", 1024) as usize,
            header_read_timeout: Duration::from_secs(number("EXECUTOR_HEADER_TIMEOUT", 10)),
        }
    }
}

/// One open connection: how many of its requests are being served (until
/// their response bodies end), and how to close it.
struct Open {
    id: u64,
    busy: Arc<AtomicUsize>,
    close: CancellationToken,
}

#[derive(Default)]
struct Table {
    next: u64,
    /// Oldest first.
    open: VecDeque<Open>,
}

impl Table {
    /// Room for one more: at the cap, the oldest connection serving nothing
    /// is closed. `None` when every connection is mid-request.
    fn admit(&mut self, max: usize) -> Option<(u64, Arc<AtomicUsize>, CancellationToken)> {
        if self.open.len() >= max {
            let idle = self
                .open
                .iter()
                .position(|c| c.busy.load(Ordering::Acquire) == 0)?;
            if let Some(evicted) = self.open.remove(idle) {
                evicted.close.cancel();
            }
        }
        self.next += 1;
        let open = Open {
            id: self.next,
            busy: Arc::default(),
            close: CancellationToken::new(),
        };
        let admitted = (open.id, open.busy.clone(), open.close.clone());
        self.open.push_back(open);
        Some(admitted)
    }

    fn close(&mut self, id: u64) {
        self.open.retain(|c| c.id != id);
    }
}

/// Counts a request as being served until dropped (with its response body).
struct Serving(Arc<AtomicUsize>);

impl Serving {
    fn start(busy: &Arc<AtomicUsize>) -> Serving {
        busy.fetch_add(1, Ordering::AcqRel);
        Serving(busy.clone())
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let table = Arc::new(Mutex::new(Table::default()));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some
                    // to close rather than spin.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let admitted = table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .admit(limits.max_connections);
        let Some((id, busy, close)) = admitted else {
            tokio::spawn(shed(tcp));
            continue;
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let serving = Serving::start(&busy);
            let app = app.clone();
            async move {
                let Ok(response) = app.oneshot(request.map(Body::new)).await;
                // The request counts as served until its body has been sent
                // (an event stream can last long).
                Ok::<_, Infallible>(response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _ = &serving;
                        frame
                    }))
                }))
            }
        });
        let connection = builder
            .serve_connection(TokioIo::new(tcp), service)
            .into_owned();
        let connection = graceful.watch(connection);
        let table = table.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = connection => {}
                () = close.cancelled() => {}
            }
            table.lock().unwrap_or_else(|e| e.into_inner()).close(id);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::warn!("some connections were still open 10 s after the stop; closing them");
        }
    }
}

/// Answers a connection there is no room for with a 503 envelope, then
/// closes it (within a second, whatever the client does).
async fn shed(mut tcp: TcpStream) {
    const BODY: &str = r#"{"ok":false,"error":{"code":"overloaded","message":"executor has too many open connections, each busy with a request: try again shortly"}}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), tcp.write_all(response.as_bytes())).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let mut table = Table::default();
        let (_, first_busy, first_close) = table.admit(2).unwrap();
        let (_, _, second_close) = table.admit(2).unwrap();
        first_busy.fetch_add(1, Ordering::AcqRel);
        // The first is mid-request: the second (idle) is evicted.
        assert!(table.admit(2).is_some());
        assert!(!first_close.is_cancelled());
        assert!(second_close.is_cancelled());
        assert_eq!(table.open.len(), 2);
        // Everyone busy: no room.
        for open in &table.open {
            open.busy.fetch_add(1, Ordering::AcqRel);
        }
        assert!(table.admit(2).is_none());
    }
}
