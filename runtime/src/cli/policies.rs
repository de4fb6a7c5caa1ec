//! `executor policies list|add|remove|move`.

use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use super::client::Client;
use super::{data, print_outcome};
use crate::home::Home;

#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// The rules in evaluation order
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Add a rule (at the end unless --position says otherwise)
    Add {
        /// Tool paths it covers, e.g. '*', 'github.*', 'github.*.*.issues.*' (quote it for the shell)
        pattern: String,
        /// What happens to matching calls
        #[arg(value_enum)]
        action: PolicyAction,
        /// 1-based place in the evaluation order
        #[arg(long)]
        position: Option<usize>,
    },
    /// Remove a rule by id
    Remove {
        /// The rule's id (`executor policies list` shows it)
        id: String,
    },
    /// Move a rule to another place in the evaluation order
    Move {
        /// The rule's id
        id: String,
        /// Its new 1-based position
        position: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyAction {
    /// Calls run
    Allow,
    /// Calls pause until a person approves them
    #[value(name = "require_approval", alias = "require-approval")]
    RequireApproval,
    /// The tool is hidden and calls are refused
    Block,
}

/// `executor policies list|add|remove|move`.
pub async fn policies(home: &Home, command: PoliciesCommand) -> anyhow::Result<ExitCode> {
    let client = Client::connect(home).await?;
    let post = reqwest::Method::POST;
    let (envelope, json_output) = match command {
        PoliciesCommand::List { json } => (client.get("/api/policies").await?, json),
        PoliciesCommand::Add {
            pattern,
            action,
            position,
        } => {
            let action = match action {
                PolicyAction::Allow => "allow",
                PolicyAction::RequireApproval => "require_approval",
                PolicyAction::Block => "block",
            };
            let body = json!({ "pattern": pattern, "action": action, "position": position });
            (client.send(post, "/api/policies", &body).await?, false)
        }
        PoliciesCommand::Remove { id } => (
            client
                .send(
                    reqwest::Method::DELETE,
                    &format!("/api/policies/{id}"),
                    &json!({}),
                )
                .await?,
            false,
        ),
        PoliciesCommand::Move { id, position } => (
            client
                .send(
                    post,
                    &format!("/api/policies/{id}/move"),
                    &json!({ "position": position }),
                )
                .await?,
            false,
        ),
    };
    if envelope.get("ok") != Some(&Value::Bool(true)) {
        return print_outcome(&envelope, false);
    }
    if json_output {
        println!("{}", serde_json::to_string_pretty(&envelope["data"])?);
        return Ok(ExitCode::SUCCESS);
    }
    match &envelope["data"] {
        Value::Array(rules) => print_rules(rules),
        rule => println!(
            "{} {} {} (position {})",
            rule["id"].as_str().unwrap_or_default(),
            rule["pattern"].as_str().unwrap_or_default(),
            rule["action"].as_str().unwrap_or_default(),
            rule["position"]
        ),
    }
    if matches!(&envelope["data"], Value::Object(_)) {
        print_rules(
            data(client.get("/api/policies").await?)?
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn print_rules(rules: &[Value]) {
    if rules.is_empty() {
        println!(
            "no policies: every tool follows its default (reads allowed, writes need approval)"
        );
        return;
    }
    println!("{:>3}  {:<16} {:<18} PATTERN", "#", "ID", "ACTION");
    for rule in rules {
        println!(
            "{:>3}  {:<16} {:<18} {}",
            rule["position"],
            rule["id"].as_str().unwrap_or_default(),
            rule["action"].as_str().unwrap_or_default(),
            rule["pattern"].as_str().unwrap_or_default()
        );
    }
    println!("the first matching rule decides; unmatched tools follow their default");
}
