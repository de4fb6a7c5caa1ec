//! `executor call`: run a tool through the service, and what a call
//! prints (its data, its envelope, or how to resume it).

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use serde_json::{Value, json};

use super::client::Client;
use super::tools::browse;
use super::{EXIT_PAUSED, EXIT_USAGE, data, is_terminal, print_outcome};
use crate::home::Home;

#[derive(Debug, Args)]
pub struct CallArgs {
    /// Tool path segments, then optionally the input ('{json}', @file or -); also --json, --help
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The script: a TypeScript file, or - for standard input
    #[arg(value_name = "SCRIPT")]
    pub script: String,
    /// Print the whole envelope (with the logs) instead of the result
    #[arg(long)]
    pub json: bool,
}

/// `executor run script.ts`: a code-mode script through the service (as
/// the owner); the result on stdout, the script's logs on stderr.
pub async fn run(home: &Home, args: RunArgs) -> anyhow::Result<ExitCode> {
    let code = if args.script == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the script from standard input")?;
        text
    } else {
        std::fs::read_to_string(&args.script)
            .with_context(|| format!("cannot read the script {}", args.script))?
    };
    let client = Client::connect(home).await?;
    let envelope = client
        .send(
            reqwest::Method::POST,
            "/api/execute",
            &json!({ "code": code }),
        )
        .await?;
    if !args.json {
        for line in envelope["logs"].as_array().into_iter().flatten() {
            eprintln!("{}", line.as_str().unwrap_or_default());
        }
    }
    let interactive = args.script != "-" && is_terminal();
    finish(&client, envelope, args.json, interactive).await
}

/// `executor call <segments...> [input] [--json] [--help]`.
pub async fn call(home: &Home, args: Vec<String>) -> anyhow::Result<ExitCode> {
    let mut json_output = false;
    let mut help = false;
    let mut words = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--json" => json_output = true,
            "--help" | "-h" => help = true,
            _ => words.push(arg),
        }
    }
    let input_text = match words.last() {
        Some(last)
            if last.starts_with('{')
                || last.starts_with('[')
                || last.starts_with('@')
                || last == "-" =>
        {
            words.pop()
        }
        _ => None,
    };
    if let Some(bad) = words.iter().find(|w| w.starts_with('-')) {
        eprintln!("error: unknown option {bad} (call takes --json and --help)");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let path = words.join(".");
    if help {
        let client = Client::connect(home).await?;
        return browse(&client, &path, json_output).await;
    }
    if path.is_empty() {
        eprintln!(
            "error: name a tool: `executor call <segments...> ['{{json}}']`; `executor call --help` explains"
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let mut input: Value = match input_text.as_deref() {
        None => json!({}),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the input from standard input")?;
            parse_input(&text, "standard input")?
        }
        Some(file) if file.starts_with('@') => {
            let text = std::fs::read_to_string(&file[1..])
                .with_context(|| format!("cannot read {}", &file[1..]))?;
            parse_input(&text, &file[1..])?
        }
        Some(text) => parse_input(text, "the command line")?,
    };
    absolutise_spec_path(&path, &mut input);
    let client = Client::connect(home).await?;
    let envelope = client.invoke(&path, &input).await?;
    let interactive = input_text.as_deref() != Some("-") && is_terminal();
    finish(&client, envelope, json_output, interactive).await
}

/// Prints a call's outcome. A paused call is asked about inline on a
/// terminal; elsewhere the resume command is printed and the exit code
/// says the call waits (`EXIT_PAUSED`).
pub(super) async fn finish(
    client: &Client,
    envelope: Value,
    json_output: bool,
    interactive: bool,
) -> anyhow::Result<ExitCode> {
    let paused =
        envelope.pointer("/error/code").and_then(Value::as_str) == Some("execution_paused");
    if !paused {
        return print_outcome(&envelope, json_output);
    }
    let id = envelope
        .pointer("/error/executionId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if interactive {
        let execution = data(client.get(&format!("/api/executions/{id}")).await?)?;
        match ask(&execution)? {
            Some(action) => {
                let outcome = answer(client, &id, action).await?;
                return print_outcome(&outcome, json_output);
            }
            None => eprintln!("left paused."),
        }
    } else if json_output {
        println!("{}", serde_json::to_string_pretty(&envelope)?);
    } else {
        let message = envelope
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("the call waits for approval");
        eprintln!("paused [execution_paused]: {message}");
    }
    eprintln!(
        "resume it with: executor resume --execution-id {id} --action accept   (or --action decline)"
    );
    Ok(ExitCode::from(EXIT_PAUSED))
}

/// Shows a paused call and asks whether to run it: `None` leaves it paused.
pub(super) fn ask(execution: &Value) -> anyhow::Result<Option<&'static str>> {
    use std::io::Write;
    let tool = execution["toolPath"].as_str().unwrap_or("?");
    eprintln!("{tool} waits for your approval. Arguments:");
    eprintln!("{}", serde_json::to_string_pretty(&execution["input"])?);
    eprint!("Run it? [y] run, [n] decline, [Enter] leave it paused: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Some("accept"),
        "n" | "no" => Some("decline"),
        _ => None,
    })
}

pub(super) async fn answer(client: &Client, id: &str, action: &str) -> anyhow::Result<Value> {
    Ok(client
        .send(
            reqwest::Method::POST,
            &format!("/api/executions/{id}/resume"),
            &json!({ "action": action }),
        )
        .await?)
}

pub(super) fn parse_input(text: &str, from: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text).with_context(|| {
        format!("the input from {from} is not JSON: give a JSON object such as '{{\"id\": 1}}'")
    })
}

/// The service does not share the CLI's working directory: a relative
/// file path given to `addSource` is made absolute here.
pub(super) fn absolutise_spec_path(path: &str, input: &mut Value) {
    let is_add = matches!(
        path,
        "executor.openapi.addSource" | "executor.org.main.openapi.addSource"
    );
    let Some(Value::String(spec)) = input.get_mut("spec") else {
        return;
    };
    if !is_add || spec.contains('\n') || spec.starts_with('{') || spec.contains("://") {
        return;
    }
    let candidate = std::path::Path::new(spec.as_str());
    if candidate.is_relative()
        && candidate.exists()
        && let Ok(absolute) = std::fs::canonicalize(candidate)
    {
        *spec = absolute.display().to_string();
    }
}
