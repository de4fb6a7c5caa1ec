//! `executor logs`: the audit log, one line per call.

use std::process::ExitCode;

use clap::Args;
use serde_json::Value;

use super::client::Client;
use super::print_outcome;
use crate::home::Home;

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Only this client's calls (its name or id)
    #[arg(long)]
    client: Option<String>,
    /// Only this tool, or every tool under a prefix ending in '.' (e.g. 'github.')
    #[arg(long)]
    tool: Option<String>,
    /// Only calls since then: an age (30m, 2h, 7d) or milliseconds since the epoch
    #[arg(long)]
    since: Option<String>,
    /// At most this many, newest first
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// JSON lines, one record each (an export: pipe it to a file)
    #[arg(long)]
    json: bool,
}

pub async fn logs(home: &Home, args: LogsArgs) -> anyhow::Result<ExitCode> {
    let client = Client::connect(home).await?;
    let mut query = vec![format!("limit={}", args.limit)];
    for (key, value) in [
        ("client", &args.client),
        ("tool", &args.tool),
        ("since", &args.since),
    ] {
        if let Some(value) = value {
            query.push(format!(
                "{key}={}",
                percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
            ));
        }
    }
    let envelope = client
        .get(&format!("/api/audit?{}", query.join("&")))
        .await?;
    if envelope.get("ok") != Some(&Value::Bool(true)) {
        return print_outcome(&envelope, false);
    }
    let records = envelope["data"]["records"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if args.json {
        for record in &records {
            println!("{}", serde_json::to_string(record)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if records.is_empty() {
        println!(
            "no calls on record{}",
            if query.len() > 1 { " match" } else { "" }
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<19} {:<22} {:<5} {:<24} {:<22} {:>9} {:>9}  TOOL",
        "WHEN (UTC)", "WHO", "VIA", "DECISION", "OUTCOME", "MS", "BYTES"
    );
    for r in records.iter().rev() {
        let who = r["client"].as_str().unwrap_or(match r["caller"].as_str() {
            Some("api") => "owner",
            _ => "MCP token",
        });
        println!(
            "{:<19} {:<22} {:<5} {:<24} {:<22} {:>9.1} {:>9}  {}",
            crate::audit::utc(r["at"].as_i64().unwrap_or(0)),
            who,
            r["via"].as_str().unwrap_or_default(),
            r["decision"].as_str().unwrap_or_default(),
            r["outcome"].as_str().unwrap_or_default(),
            r["durationMs"].as_f64().unwrap_or(0.0),
            r["bytes"],
            r["tool"].as_str().unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
