//! `executor clients list|add|revoke`: who may use `/mcp` besides the
//! holder of the MCP token.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{Value, json};

use super::client::Client;
use super::print_outcome;
use crate::home::Home;

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Every client: MCP clients signed in through OAuth and minted tokens
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Mint a token for a script or CI: it opens /mcp only, within its scope
    Add {
        /// What the client is, e.g. "ci"
        name: String,
        /// Tool path patterns it may see and call, like policies' (repeat it; default: every tool)
        #[arg(long = "scope", value_name = "PATTERN")]
        scope: Vec<String>,
        /// Every call it makes waits for a person's approval
        #[arg(long)]
        approve_all: bool,
        /// Days until the token expires (1 to 366)
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
    /// Revoke a client by id or name: its tokens stop working at once
    Revoke {
        /// The client's id (`executor clients list` shows it) or its name
        client: String,
    },
}

pub async fn clients(home: &Home, command: ClientsCommand) -> anyhow::Result<ExitCode> {
    let client = Client::connect(home).await?;
    match command {
        ClientsCommand::List { json } => {
            let envelope = client.get("/api/clients").await?;
            if envelope.get("ok") != Some(&Value::Bool(true)) {
                return print_outcome(&envelope, false);
            }
            let list = envelope["data"]["clients"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                print_clients(&list);
            }
            Ok(ExitCode::SUCCESS)
        }
        ClientsCommand::Add {
            name,
            scope,
            approve_all,
            days,
        } => {
            let scope = if scope.is_empty() {
                vec!["*".to_owned()]
            } else {
                scope
            };
            let body =
                json!({ "name": name, "scope": scope, "approveAll": approve_all, "days": days });
            let envelope = client
                .send(reqwest::Method::POST, "/api/clients", &body)
                .await?;
            if envelope.get("ok") != Some(&Value::Bool(true)) {
                return print_outcome(&envelope, false);
            }
            let data = &envelope["data"];
            eprintln!(
                "client {} ({}) may use /mcp for {days} days; its token, shown this once:",
                data["client"]["name"].as_str().unwrap_or_default(),
                data["client"]["id"].as_str().unwrap_or_default(),
            );
            println!("{}", data["token"].as_str().unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        ClientsCommand::Revoke { client: id } => {
            let path = format!(
                "/api/clients/{}",
                percent_encoding::utf8_percent_encode(&id, percent_encoding::NON_ALPHANUMERIC)
            );
            let envelope = client
                .send(reqwest::Method::DELETE, &path, &json!({}))
                .await?;
            if envelope.get("ok") != Some(&Value::Bool(true)) {
                return print_outcome(&envelope, false);
            }
            let revoked = &envelope["data"]["client"];
            println!(
                "revoked {} ({}): its tokens no longer work",
                revoked["name"].as_str().unwrap_or_default(),
                revoked["id"].as_str().unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_clients(list: &[Value]) {
    if list.is_empty() {
        println!(
            "no clients: MCP clients appear here once they sign in; `executor clients add NAME` mints a token"
        );
        return;
    }
    println!(
        "{:<28} {:<8} {:<10} {:<20} NAME",
        "ID", "KIND", "STATE", "SCOPE"
    );
    for c in list {
        let state = if !c["revokedAt"].is_null() {
            "revoked"
        } else if c["approved"] == Value::Bool(true) {
            "active"
        } else {
            "pending"
        };
        let mut scope = c["scope"]
            .as_array()
            .map(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        if c["approveAll"] == Value::Bool(true) {
            scope.push_str(" (approve all)");
        }
        println!(
            "{:<28} {:<8} {:<10} {:<20} {}",
            c["id"].as_str().unwrap_or_default(),
            c["kind"].as_str().unwrap_or_default(),
            state,
            scope,
            c["name"].as_str().unwrap_or_default()
        );
    }
}
