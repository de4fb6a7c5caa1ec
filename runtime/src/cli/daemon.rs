//! The service as the CLI sees it: `executor web`, `executor daemon
//! run|status|stop`, and the arguments `executor install` shares.

use std::net::IpAddr;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::client::{Client, ServiceError};
use super::{EXIT_FAILURE, open_browser};
use crate::home::Home;
use crate::service;

#[derive(Debug, Args)]
pub struct WebArgs {
    /// Run the service in this terminal instead of in the background
    #[arg(long)]
    pub foreground: bool,
    /// Print the one-time login URL on stdout instead of opening a browser
    /// (it signs one browser in, within five minutes)
    #[arg(long)]
    pub no_open: bool,
    /// The page to land on once signed in, e.g. an approvalUrl's path (/resume/exec_...)
    #[arg(long, value_name = "PATH")]
    pub page: Option<String>,
    #[command(flatten)]
    pub listen: ListenArgs,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Address to listen on (keep the default, loopback, unless you know why)
    #[arg(long, env = "EXECUTOR_HOST", default_value = service::DEFAULT_HOST)]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one)
    #[arg(long, env = "EXECUTOR_PORT", default_value_t = service::DEFAULT_PORT)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub listen: ListenArgs,
    /// A PostgreSQL database shared by several replicas
    /// (`postgres://user@host/db`); without it, SQLite in EXECUTOR_HOME
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Run the service in the foreground (what the background service runs)
    Run(RunArgs),
    /// Say whether the service is running, and where
    Status,
    /// Stop the background service
    Stop,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Print the unit (or launchd agent) instead of installing it
    #[arg(long)]
    pub print: bool,
    #[command(flatten)]
    pub listen: ListenArgs,
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Say which service manager runs executor, whether it is installed and whether it runs
    Status,
}

pub async fn web(home: Home, args: WebArgs) -> anyhow::Result<ExitCode> {
    if args.foreground {
        crate::cli::init_logging();
        service::run(home, args.listen.host, args.listen.port).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let http = reqwest::Client::new();
    let info = match service::running(&home, &http).await {
        Some(info) => info,
        None => {
            eprintln!("executor: starting the service in the background");
            service::start_background(&home, &http, args.listen.host, args.listen.port)
                .await
                .map_err(ServiceError)?
        }
    };
    // A one-time login URL: the browser trades it for a session cookie.
    let client = Client::of(&home, info.url, http)?;
    let answer = client
        .send(reqwest::Method::POST, "/api/web/login", &json!({}))
        .await?;
    let Some(url) = answer.pointer("/data/url").and_then(Value::as_str) else {
        bail!("the service gave no login URL: {answer}");
    };
    let mut url = reqwest::Url::parse(url).context("the service gave a malformed login URL")?;
    if let Some(page) = &args.page {
        if !page.starts_with('/') {
            bail!(
                "--page takes a path of the web UI, e.g. /approvals or /resume/exec_123, not {page:?}"
            );
        }
        url.query_pairs_mut().append_pair("next", page);
    }
    let url = url.as_str();
    let opened = !args.no_open && open_browser(url);
    if opened {
        eprintln!("executor: opened the web UI in your browser");
    } else {
        // The URL signs a browser in once, within five minutes.
        println!("{url}");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn status(home: &Home) -> anyhow::Result<ExitCode> {
    match service::running(home, &reqwest::Client::new()).await {
        Some(info) => {
            println!(
                "running at {} (pid {}, version {})",
                info.url, info.pid, info.version
            );
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            println!("not running (state in {})", home.dir.display());
            Ok(ExitCode::from(EXIT_FAILURE))
        }
    }
}

pub async fn stop(home: &Home) -> anyhow::Result<ExitCode> {
    let http = reqwest::Client::new();
    if service::stop(home, &http).await.map_err(ServiceError)? {
        println!("stopped");
    } else {
        println!("not running");
    }
    Ok(ExitCode::SUCCESS)
}
