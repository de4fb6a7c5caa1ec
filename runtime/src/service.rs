//! Running the service: in the foreground (`executor daemon run`, `executor
//! web --foreground`) or in the background, started by the CLI when it needs
//! it. The running service writes its address to `EXECUTOR_HOME/service.json`.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::files::write_atomically;
use crate::home::Home;
use crate::http::router;
use crate::state::AppState;

pub use crate::home::{DEFAULT_HOST, DEFAULT_PORT};

/// What `service.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceInfo {
    pub pid: u32,
    pub url: String,
    pub version: String,
}

/// Serves until stopped (Ctrl-C, SIGTERM or `POST /api/shutdown`).
pub async fn run(home: Home, host: IpAddr, port: u16) -> anyhow::Result<()> {
    let listener = match tokio::net::TcpListener::bind(SocketAddr::new(host, port)).await {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => bail!(
            "{host}:{port} is already in use: another executor may be running (`executor daemon status`), \
             or another program holds the port; pick another with --port"
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot listen on {host}:{port}")),
    };
    let addr = listener.local_addr()?;
    let state = Arc::new(AppState::new(home.clone(), addr)?);
    crate::code::recover(&state)?;
    // Upstream MCP servers announce list changes; re-list them in the background.
    let (changes, mut changed) = tokio::sync::mpsc::unbounded_channel::<String>();
    state.upstreams.listen(changes);
    let relist_state = state.clone();
    tokio::spawn(async move {
        while let Some(namespace) = changed.recv().await {
            if let Err(e) = crate::sources::relist_mcp(&relist_state, &namespace).await {
                tracing::warn!(
                    namespace,
                    "re-listing after tools/list_changed failed: {}",
                    e.message
                );
            }
        }
    });
    // Replicas on one PostgreSQL database: another's change (a source, a
    // policy, a connection) reloads this one's catalog, and its MCP
    // clients get `list_changed`. Changes that arrive together are read
    // once.
    let (others, mut other_changed) = tokio::sync::mpsc::unbounded_channel::<()>();
    state.store().watch(Box::new(move || {
        let _ = others.send(());
    }))?;
    let watch_state = state.clone();
    tokio::spawn(async move {
        while other_changed.recv().await.is_some() {
            while other_changed.try_recv().is_ok() {}
            let reloading = watch_state.clone();
            let reloaded = tokio::task::spawn_blocking(move || reloading.reload()).await;
            if let Ok(Err(e)) = reloaded {
                tracing::warn!("reloading after another replica's change failed: {e:#}");
            }
        }
    });
    let info = ServiceInfo {
        pid: std::process::id(),
        url: format!("http://{addr}"),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    write_atomically(&home.service_file(), &serde_json::to_vec_pretty(&info)?)?;
    tracing::info!(url = %info.url, home = %home.dir.display(), "executor is serving");
    eprintln!(
        "executor is serving on {} (state in {})",
        info.url,
        home.dir.display()
    );
    // A person at a terminal gets a way into the web UI; a log file never
    // holds a login code.
    if std::io::IsTerminal::is_terminal(&std::io::stderr())
        && let Ok(code) = crate::http::session::sessions(&state).login_code()
    {
        eprintln!(
            "open the web UI (this link works once, for five minutes): {}/login?code={code}",
            info.url
        );
    }
    // The audit log is written in batches, off the calls' path.
    let audit_state = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(crate::audit::FLUSH_EVERY) => {}
                _ = audit_state.audit.full.notified() => {}
            }
            let flushing = audit_state.clone();
            let _ = tokio::task::spawn_blocking(move || flushing.audit.flush(&flushing)).await;
        }
    });
    let signal_state = state.clone();
    let final_state = state.clone();
    // `listen` sets TCP_NODELAY (small answers such as MCP's SSE frames must
    // not wait for the client's delayed ACK), a header-read timeout and a
    // bound on open connections.
    crate::http::listen::serve(
        listener,
        router(state),
        crate::http::listen::Limits::from_env(),
        async move { stop_signal(&signal_state).await },
    )
    .await;
    final_state.audit.flush(&final_state);
    // Leave service.json alone if another service replaced it meanwhile.
    if read_info(&home).is_some_and(|i| i.pid == std::process::id()) {
        let _ = std::fs::remove_file(home.service_file());
    }
    tracing::info!("executor stopped");
    Ok(())
}

async fn stop_signal(state: &AppState) {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let sigterm = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = sigterm => {},
        _ = state.shutdown.notified() => {},
    }
    // Open MCP streams would otherwise keep the server alive.
    state.cancel.cancel();
}

pub fn read_info(home: &Home) -> Option<ServiceInfo> {
    let bytes = std::fs::read(home.service_file()).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The service of this home, if it is running and answers.
pub async fn running(home: &Home, http: &reqwest::Client) -> Option<ServiceInfo> {
    let info = read_info(home)?;
    healthy(http, &info.url).await.then_some(info)
}

/// Whether a service answers at `url`.
pub async fn healthy(http: &reqwest::Client, url: &str) -> bool {
    let response = http
        .get(format!("{url}/api/health"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    matches!(response, Ok(r) if r.status().is_success())
}

/// The running service, started in the background first if none answers.
/// Says on stderr when it starts one.
pub async fn ensure_running(home: &Home, http: &reqwest::Client) -> anyhow::Result<ServiceInfo> {
    if let Some(info) = running(home, http).await {
        return Ok(info);
    }
    let (host, port) = address_from_env()?;
    eprintln!(
        "executor: the service is not running; starting it in the background on {host}:{port}"
    );
    start_background(home, http, host, port).await
}

/// `EXECUTOR_HOST` and `EXECUTOR_PORT`, else 127.0.0.1:4788.
pub fn address_from_env() -> anyhow::Result<(IpAddr, u16)> {
    let host = match std::env::var("EXECUTOR_HOST") {
        Ok(h) if !h.is_empty() => h
            .parse()
            .with_context(|| format!("EXECUTOR_HOST={h:?} is not an IP address"))?,
        _ => DEFAULT_HOST.parse().expect("a valid default"),
    };
    let port = match std::env::var("EXECUTOR_PORT") {
        Ok(p) if !p.is_empty() => p
            .parse()
            .with_context(|| format!("EXECUTOR_PORT={p:?} is not a port number"))?,
        _ => DEFAULT_PORT,
    };
    Ok((host, port))
}

/// Starts `executor daemon run` detached from this terminal, its output in
/// `EXECUTOR_HOME/service.log`, and waits until it answers.
pub async fn start_background(
    home: &Home,
    http: &reqwest::Client,
    host: IpAddr,
    port: u16,
) -> anyhow::Result<ServiceInfo> {
    use std::os::unix::process::CommandExt;
    home.ensure()?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(home.log_file())
        .with_context(|| format!("cannot open {}", home.log_file().display()))?;
    let exe = std::env::current_exe().context("cannot find the executor binary")?;
    let mut child = std::process::Command::new(exe)
        .args([
            "daemon",
            "run",
            "--host",
            &host.to_string(),
            "--port",
            &port.to_string(),
        ])
        .env("EXECUTOR_HOME", &home.dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .context("cannot start the service")?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Some(status) = child.try_wait()? {
            bail!(
                "the service exited at once ({status}); its log says:\n{}",
                tail(&home.log_file(), 5)
            );
        }
        if let Some(info) = read_info(home)
            && info.pid == child.id()
            && healthy(http, &info.url).await
        {
            return Ok(info);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!(
        "the service did not answer within 20 s; its log ({}) says:\n{}",
        home.log_file().display(),
        tail(&home.log_file(), 5)
    )
}

/// Asks the running service to stop and waits until it has. `false` when
/// none was running.
pub async fn stop(home: &Home, http: &reqwest::Client) -> anyhow::Result<bool> {
    let Some(info) = read_info(home) else {
        return Ok(false);
    };
    if !healthy(http, &info.url).await {
        let _ = std::fs::remove_file(home.service_file());
        return Ok(false);
    }
    let token = home
        .existing_token()
        .context("the service's token is missing")?;
    http.post(format!("{}/api/shutdown", info.url))
        .bearer_auth(token)
        .send()
        .await
        .context("cannot reach the service")?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if !healthy(http, &info.url).await {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the service (pid {}) did not stop within 10 s", info.pid)
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
