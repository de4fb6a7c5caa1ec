//! `executor tools ...` and `executor call <path> --help`: finding and
//! describing tools.

use std::process::ExitCode;

use clap::Subcommand;
use serde_json::{Value, json};

use super::client::Client;
use super::{EXIT_FAILURE, data};
use crate::home::Home;

#[derive(Debug, Subcommand)]
pub enum ToolsCommand {
    /// List the configured integrations with their tool counts
    Sources {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Find tools by intent, best first
    Search {
        /// What you want to do, e.g. "send email"
        query: String,
        /// Only tools of this integration
        #[arg(long, short = 'n')]
        namespace: Option<String>,
        /// How many results
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Show why each tool ranked where it did: the words it matched and
        /// where, and the factors of its score (text × coverage × focus ×
        /// intent × verb × object × prior)
        #[arg(long)]
        explain: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show one tool: its description and input and output schemas
    Describe {
        /// The tool path, canonical (github.org.main.issues.create) or short (github.issues.create)
        path: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// `executor call github issues --help`: the tools below a path, or one
/// tool's inputs.
pub(super) async fn browse(
    client: &Client,
    path: &str,
    json_output: bool,
) -> anyhow::Result<ExitCode> {
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
pub(super) fn usage(tool: &Value) -> String {
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

pub(super) fn type_of(schema: &Value) -> String {
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

pub(super) fn placeholder(schema: &Value) -> Value {
    match type_of(schema).split('|').next().unwrap_or("") {
        "integer" | "number" => json!(0),
        "boolean" => json!(false),
        "array" => json!([]),
        "object" => json!({}),
        _ => json!("..."),
    }
}

pub(super) fn one_line(text: &str) -> String {
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

pub(super) fn urlencode(text: &str) -> String {
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
            explain,
            json,
        } => {
            let mut route = format!("/api/tools?q={}&limit={limit}", urlencode(&query));
            if let Some(ns) = namespace {
                route.push_str(&format!("&namespace={}", urlencode(&ns)));
            }
            if explain {
                route.push_str("&explain=true");
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
                if explain {
                    print!("{}", why(&tool["why"]));
                }
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

/// `--explain`: a hit's score and what made it, indented under the hit.
fn why(why: &Value) -> String {
    let number = |key: &str| why[key].as_f64().unwrap_or_default();
    let names = |key: &str| {
        let names: Vec<&str> = why[key]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if names.is_empty() {
            "-".to_owned()
        } else {
            names.join("/")
        }
    };
    let mut out = format!(
        "    score {:.3} = text {:.3} × coverage² {:.2}² × focus {:.2} × intent {:.2} (asked {}, does {}) × verb {:.2} × object {:.2} × prior {:.3}\n",
        number("score"),
        number("text"),
        number("coverage"),
        number("focus"),
        number("intent"),
        names("queryIntents"),
        names("toolIntents"),
        number("verb"),
        number("object"),
        number("prior"),
    );
    for term in why["terms"].as_array().into_iter().flatten() {
        let fields: Vec<&str> = term["fields"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        out.push_str(&format!(
            "      {:>7.3}  {:?} as {:?} in {}\n",
            term["score"].as_f64().unwrap_or_default(),
            term["word"].as_str().unwrap_or_default(),
            term["term"].as_str().unwrap_or_default(),
            fields.join(", ")
        ));
    }
    out
}
