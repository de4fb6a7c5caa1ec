//! `executor resume`: answer a call that waits for approval.

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::call::{answer, ask};
use super::client::Client;
use super::{EXIT_PAUSED, EXIT_USAGE, data, is_terminal, print_outcome};
use crate::home::Home;

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The paused execution, as the paused call reported it (`exec_...`)
    #[arg(long, value_name = "ID")]
    pub execution_id: String,
    /// accept (run the call) or decline (refuse it); asked on a terminal when absent
    #[arg(long, value_enum)]
    pub action: Option<ResumeAction>,
    /// Print the whole result envelope as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResumeAction {
    Accept,
    Decline,
}

/// `executor resume --execution-id ID [--action accept|decline]`.
pub async fn resume(home: &Home, args: ResumeArgs) -> anyhow::Result<ExitCode> {
    let client = Client::connect(home).await?;
    let id = args.execution_id.trim();
    let described = client.get(&format!("/api/executions/{id}")).await?;
    let execution = data(described)?;
    let action = match args.action {
        Some(ResumeAction::Accept) => "accept",
        Some(ResumeAction::Decline) => "decline",
        None if execution["state"] != "paused" => "accept",
        None if is_terminal() => match ask(&execution)? {
            Some(action) => action,
            None => {
                eprintln!("left paused.");
                return Ok(ExitCode::from(EXIT_PAUSED));
            }
        },
        None => {
            eprintln!(
                "error: {id} waits for approval of {}; pass --action accept or --action decline",
                execution["toolPath"].as_str().unwrap_or("a call")
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let outcome = answer(&client, id, action).await?;
    print_outcome(&outcome, args.json)
}
