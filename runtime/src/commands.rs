//! The CLI commands that talk to the service: `call`, `tools`, `resume`,
//! `policies`, `connections`, `web`, `daemon status|stop`.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::cli::{
    AuthArg, ConnectionsCommand, EXIT_FAILURE, EXIT_PAUSED, EXIT_USAGE, KeyIn, OwnerArg,
    PoliciesCommand, PolicyAction, ResumeAction, ResumeArgs, ToolsCommand, WebArgs,
};
use crate::client::{Client, ServiceError};
use crate::home::Home;
use crate::service;

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

/// Both stdin (to answer) and stderr (to ask) are a person's terminal.
fn is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Prints a call's outcome. A paused call is asked about inline on a
/// terminal; elsewhere the resume command is printed and the exit code
/// says the call waits (`EXIT_PAUSED`).
async fn finish(
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
fn ask(execution: &Value) -> anyhow::Result<Option<&'static str>> {
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

async fn answer(client: &Client, id: &str, action: &str) -> anyhow::Result<Value> {
    Ok(client
        .send(
            reqwest::Method::POST,
            &format!("/api/executions/{id}/resume"),
            &json!({ "action": action }),
        )
        .await?)
}

/// Prints data (or the envelope with --json); a failure goes to stderr
/// with exit code 1.
fn print_outcome(envelope: &Value, json_output: bool) -> anyhow::Result<ExitCode> {
    let ok = envelope.get("ok") == Some(&Value::Bool(true));
    if json_output {
        println!("{}", serde_json::to_string_pretty(envelope)?);
    } else if ok {
        println!("{}", serde_json::to_string_pretty(&envelope["data"])?);
    } else {
        let code = envelope
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or("error");
        let message = envelope
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("the call failed");
        eprintln!("error [{code}]: {message}");
        if let Some(details) = envelope.pointer("/error/details") {
            eprintln!("{}", serde_json::to_string_pretty(details)?);
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    })
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

fn owner_text(owner: OwnerArg) -> &'static str {
    match owner {
        OwnerArg::Org => "org",
        OwnerArg::User => "user",
    }
}

/// The secret, from standard input, an environment variable or a prompt
/// that does not echo; never from the command line.
fn read_secret(stdin: bool, env: Option<&str>) -> anyhow::Result<String> {
    if stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the secret from standard input")?;
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        return Ok(text.to_owned());
    }
    if let Some(var) = env {
        return std::env::var(var)
            .with_context(|| format!("the environment variable {var} is not set"));
    }
    if is_terminal() {
        return rpassword::prompt_password("secret (not shown): ")
            .context("cannot read the secret from the terminal");
    }
    bail!(
        "give the secret with --secret-stdin or --secret-env VAR (it is never taken as an argument)"
    )
}

/// `executor connections list|add|remove`.
pub async fn connections(home: &Home, command: ConnectionsCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConnectionsCommand::List { json } => {
            let client = Client::connect(home).await?;
            let listed = data(client.get("/api/connections").await?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&listed)?);
            } else if listed.as_array().is_none_or(Vec::is_empty) {
                println!("no connections: tools call their APIs without credentials");
            } else {
                println!("{:<28} {:<12} TOOLS", "CONNECTION", "AUTH");
                for c in listed.as_array().into_iter().flatten() {
                    println!(
                        "{:<28} {:<12} {}",
                        format!(
                            "{}/{}/{}",
                            c["integration"].as_str().unwrap_or_default(),
                            c["owner"].as_str().unwrap_or_default(),
                            c["name"].as_str().unwrap_or_default()
                        ),
                        c["auth"]["type"].as_str().unwrap_or_default(),
                        c["tools"].as_str().unwrap_or_default()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ConnectionsCommand::Add(args) => {
            let auth = match args.auth {
                None | Some(AuthArg::Oauth2 | AuthArg::Oauth2ClientCredentials) => Value::Null,
                Some(AuthArg::Bearer) => json!({"type": "bearer"}),
                Some(AuthArg::Basic) => match &args.username {
                    Some(username) => json!({"type": "basic", "username": username}),
                    None => {
                        eprintln!(
                            "error: --auth basic needs --username (the secret is the password)"
                        );
                        return Ok(ExitCode::from(EXIT_USAGE));
                    }
                },
                Some(AuthArg::ApiKey) => match &args.key_name {
                    Some(name) => {
                        let location = match args.key_in {
                            KeyIn::Header => "header",
                            KeyIn::Query => "query",
                            KeyIn::Cookie => "cookie",
                        };
                        json!({"type": "api_key", "in": location, "name": name})
                    }
                    None => {
                        eprintln!(
                            "error: --auth api-key needs --key-name (the header, query parameter or cookie)"
                        );
                        return Ok(ExitCode::from(EXIT_USAGE));
                    }
                },
                Some(AuthArg::Header) => match (&args.header, &args.template) {
                    (Some(name), Some(template)) => {
                        json!({"type": "header", "name": name, "template": template})
                    }
                    _ => {
                        eprintln!(
                            "error: --auth header needs --header NAME and --template 'Token {{secret}}'"
                        );
                        return Ok(ExitCode::from(EXIT_USAGE));
                    }
                },
            };
            let auth = match (args.auth, &args.client_id) {
                (Some(AuthArg::Oauth2 | AuthArg::Oauth2ClientCredentials), None) => {
                    eprintln!("error: OAuth needs --client-id");
                    return Ok(ExitCode::from(EXIT_USAGE));
                }
                (Some(AuthArg::Oauth2), Some(client_id)) => json!({
                    "type": "oauth2",
                    "authorizationUrl": args.authorization_url,
                    "tokenUrl": args.token_url,
                    "clientId": client_id,
                    "scopes": args.scopes,
                }),
                (Some(AuthArg::Oauth2ClientCredentials), Some(client_id)) => {
                    match &args.token_url {
                        Some(token_url) => json!({
                            "type": "oauth2_client_credentials",
                            "tokenUrl": token_url,
                            "clientId": client_id,
                            "scopes": args.scopes,
                        }),
                        None => {
                            eprintln!("error: --auth oauth2-client-credentials needs --token-url");
                            return Ok(ExitCode::from(EXIT_USAGE));
                        }
                    }
                }
                _ => auth,
            };
            // A public OAuth client (authorization code) has no secret.
            let public_client = args.auth == Some(AuthArg::Oauth2)
                && !args.secret_stdin
                && args.secret_env.is_none();
            let secret = if public_client {
                String::new()
            } else {
                read_secret(args.secret_stdin, args.secret_env.as_deref())?
            };
            let client = Client::connect(home).await?;
            let mut body = json!({
                "integration": args.integration,
                "owner": owner_text(args.owner),
                "name": args.name,
                "secret": secret,
            });
            if !auth.is_null() {
                body["auth"] = auth;
            }
            let answer = client
                .send(reqwest::Method::POST, "/api/connections", &body)
                .await?;
            if answer.get("ok") != Some(&Value::Bool(true)) {
                return print_outcome(&answer, false);
            }
            let c = &answer["data"];
            println!(
                "stored: {}/{}/{} ({}); its tools are {}",
                c["integration"].as_str().unwrap_or_default(),
                c["owner"].as_str().unwrap_or_default(),
                c["name"].as_str().unwrap_or_default(),
                c["auth"]["type"].as_str().unwrap_or_default(),
                c["tools"].as_str().unwrap_or_default()
            );
            if let Some(url) = c["authorizationUrl"].as_str() {
                if !args.no_open && is_terminal() && open_browser(url) {
                    println!("sign in in the browser that opened (within ten minutes); or open:");
                } else {
                    println!("sign in within ten minutes at:");
                }
                println!("{url}");
            }
            Ok(ExitCode::SUCCESS)
        }
        ConnectionsCommand::Remove {
            integration,
            owner,
            name,
        } => {
            let client = Client::connect(home).await?;
            let answer = client
                .send(
                    reqwest::Method::DELETE,
                    &format!(
                        "/api/connections/{integration}/{}/{name}",
                        owner_text(owner)
                    ),
                    &json!({}),
                )
                .await?;
            if answer.get("ok") != Some(&Value::Bool(true)) {
                return print_outcome(&answer, false);
            }
            println!("removed {integration}/{}/{name}", owner_text(owner));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_rules(rules: &[Value]) {
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

fn parse_input(text: &str, from: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text).with_context(|| {
        format!("the input from {from} is not JSON: give a JSON object such as '{{\"id\": 1}}'")
    })
}

/// The service does not share the CLI's working directory: a relative
/// file path given to `addSource` is made absolute here.
fn absolutise_spec_path(path: &str, input: &mut Value) {
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

/// `executor call github issues --help`: the tools below a path, or one
/// tool's inputs.
async fn browse(client: &Client, path: &str, json_output: bool) -> anyhow::Result<ExitCode> {
    if !path.is_empty() {
        let described = client.get(&format!("/api/tools/{path}")).await?;
        if described.get("ok") == Some(&Value::Bool(true)) {
            if json_output {
                println!("{}", serde_json::to_string_pretty(&described["data"])?);
            } else {
                print!("{}", usage(&described["data"]));
            }
            return Ok(ExitCode::SUCCESS);
        }
    }
    let listed = client
        .get(&format!("/api/tools?prefix={}&limit=1000", urlencode(path)))
        .await?;
    let tools = listed
        .pointer("/data/tools")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if json_output {
        println!("{}", serde_json::to_string_pretty(&tools)?);
        return Ok(ExitCode::SUCCESS);
    }
    if tools.is_empty() {
        eprintln!(
            "error: nothing is under {path:?}; `executor tools sources` lists the integrations"
        );
        return Ok(ExitCode::from(EXIT_FAILURE));
    }
    // Group by the next segment below the prefix.
    let prefix_len = if path.is_empty() {
        0
    } else {
        path.split('.').count()
    };
    let mut children: std::collections::BTreeMap<String, (usize, String)> = Default::default();
    for tool in &tools {
        let full = tool["path"].as_str().unwrap_or_default();
        let short = format!(
            "{}.{}",
            tool["integration"].as_str().unwrap_or_default(),
            tool["name"].as_str().unwrap_or_default()
        );
        let shown = if path.is_empty() || !(full == path || full.starts_with(&format!("{path}."))) {
            short
        } else {
            full.to_owned()
        };
        let rest: Vec<&str> = shown.split('.').skip(prefix_len).collect();
        let (child, is_leaf) = match rest.as_slice() {
            [] => continue,
            [one] => (one.to_string(), true),
            [first, ..] => (first.to_string(), false),
        };
        let entry = children.entry(child).or_insert((0, String::new()));
        entry.0 += 1;
        if is_leaf {
            entry.1 = one_line(
                tool["title"]
                    .as_str()
                    .or(tool["description"].as_str())
                    .unwrap_or_default(),
            );
        }
    }
    let shown = if path.is_empty() {
        "executor catalog".to_owned()
    } else {
        path.to_owned()
    };
    println!(
        "{shown}: {} tool{}",
        tools.len(),
        if tools.len() == 1 { "" } else { "s" }
    );
    let width = children.keys().map(|k| k.len()).max().unwrap_or(0);
    for (child, (count, line)) in &children {
        if line.is_empty() || *count > 1 {
            println!("  {child:<width$}  ({count} tools)");
        } else {
            println!("  {child:<width$}  {line}");
        }
    }
    let example = if path.is_empty() {
        "<integration>".to_owned()
    } else {
        path.replace('.', " ")
    };
    println!("\n`executor call {example} <name> --help` shows the next level or a tool's inputs.");
    Ok(ExitCode::SUCCESS)
}

/// A tool's inputs as readable usage.
fn usage(tool: &Value) -> String {
    let path = tool["path"].as_str().unwrap_or_default();
    let mut out = format!("{path}\n");
    if let Some(title) = tool["title"].as_str() {
        out.push_str(&format!("  {title}\n"));
    }
    if let Some(description) = tool["description"].as_str()
        && Some(description) != tool["title"].as_str()
    {
        out.push_str(&format!(
            "\n  {}\n",
            description.trim().replace('\n', "\n  ")
        ));
    }
    out.push_str(&format!(
        "\n  policy by default: {}\n",
        tool["defaultPolicy"].as_str().unwrap_or("?")
    ));
    let input = &tool["input"];
    let required: Vec<&str> = input["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut example = serde_json::Map::new();
    if let Some(props) = input["properties"].as_object() {
        out.push_str("\ninputs:\n");
        let width = props.keys().map(|k| k.len()).max().unwrap_or(0);
        for (name, schema) in props {
            let req = required.contains(&name.as_str());
            let description = schema["description"]
                .as_str()
                .map(one_line)
                .unwrap_or_default();
            out.push_str(&format!(
                "  {name:<width$}  {:<10} {}{}\n",
                type_of(schema),
                if req { "required" } else { "optional" },
                if description.is_empty() {
                    String::new()
                } else {
                    format!("  {description}")
                }
            ));
            if req {
                example.insert(name.clone(), placeholder(schema));
            }
        }
    }
    let short = format!(
        "{} {}",
        tool["integration"].as_str().unwrap_or_default(),
        tool["name"].as_str().unwrap_or_default().replace('.', " ")
    );
    out.push_str(&format!(
        "\nexample:\n  executor call {short} '{}'\n",
        Value::Object(example)
    ));
    out
}

fn type_of(schema: &Value) -> String {
    match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("|"),
        _ if schema.get("$ref").is_some() => "object".to_owned(),
        _ => "any".to_owned(),
    }
}

fn placeholder(schema: &Value) -> Value {
    match type_of(schema).split('|').next().unwrap_or("") {
        "integer" | "number" => json!(0),
        "boolean" => json!(false),
        "array" => json!([]),
        "object" => json!({}),
        _ => json!("..."),
    }
}

fn one_line(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() > 80 {
        format!("{}...", line.chars().take(77).collect::<String>())
    } else {
        line.to_owned()
    }
}

fn urlencode(text: &str) -> String {
    crate::invoke::wire::encode(text, false)
}

pub async fn tools(home: &Home, command: ToolsCommand) -> anyhow::Result<ExitCode> {
    let client = Client::connect(home).await?;
    match command {
        ToolsCommand::Sources { json } => {
            let sources = data(client.get("/api/sources").await?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&sources)?);
                return Ok(ExitCode::SUCCESS);
            }
            let list = sources.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!(
                    "no sources yet: add one with `executor call executor openapi addSource '{{\"spec\": \"<url or path>\", \"namespace\": \"<name>\"}}'`"
                );
                return Ok(ExitCode::SUCCESS);
            }
            let width = list
                .iter()
                .filter_map(|s| s["namespace"].as_str())
                .map(str::len)
                .max()
                .unwrap_or(9)
                .max(9);
            println!(
                "{:<width$}  {:>5}  {:<7}  origin",
                "namespace", "tools", "kind"
            );
            for s in &list {
                println!(
                    "{:<width$}  {:>5}  {:<7}  {}",
                    s["namespace"].as_str().unwrap_or_default(),
                    s["tools"].as_u64().unwrap_or_default(),
                    s["kind"].as_str().unwrap_or_default(),
                    s["origin"].as_str().unwrap_or_default()
                );
            }
        }
        ToolsCommand::Search {
            query,
            namespace,
            limit,
            json,
        } => {
            let mut route = format!("/api/tools?q={}&limit={limit}", urlencode(&query));
            if let Some(ns) = namespace {
                route.push_str(&format!("&namespace={}", urlencode(&ns)));
            }
            let found = data(client.get(&route).await?)?;
            let tools = found["tools"].as_array().cloned().unwrap_or_default();
            if json {
                println!("{}", serde_json::to_string_pretty(&tools)?);
                return Ok(ExitCode::SUCCESS);
            }
            if tools.is_empty() {
                println!("no tool matches {query:?}");
                return Ok(ExitCode::SUCCESS);
            }
            for tool in &tools {
                let line = one_line(
                    tool["title"]
                        .as_str()
                        .or(tool["description"].as_str())
                        .unwrap_or_default(),
                );
                println!("{}\n    {line}", tool["path"].as_str().unwrap_or_default());
            }
        }
        ToolsCommand::Describe { path, json } => {
            let envelope = client.get(&format!("/api/tools/{path}")).await?;
            let described = data(envelope)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&described)?);
            } else {
                print!("{}", usage(&described));
                println!(
                    "\ninput schema:\n{}",
                    serde_json::to_string_pretty(&described["input"])?
                );
                println!(
                    "\noutput schema:\n{}",
                    serde_json::to_string_pretty(&described["output"])?
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The `data` of an envelope, or its error as a command failure.
fn data(envelope: Value) -> anyhow::Result<Value> {
    if envelope.get("ok") == Some(&Value::Bool(true)) {
        return Ok(envelope["data"].clone());
    }
    let message = envelope
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("the service failed");
    bail!("{message}")
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

/// Opens a URL with the desktop's browser, where there is a desktop.
fn open_browser(url: &str) -> bool {
    let graphical =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if !graphical {
        return false;
    }
    std::process::Command::new("xdg-open")
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
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
