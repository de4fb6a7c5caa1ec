//! `executor connections list|add|remove`: the credentials executor
//! attaches to upstream calls; secrets are read from stdin, the
//! environment or a prompt, never from the command line.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use super::client::Client;
use super::{EXIT_USAGE, data, is_terminal, open_browser, print_outcome};
use crate::home::Home;

#[derive(Debug, Subcommand)]
pub enum ConnectionsCommand {
    /// Every connection and its auth method (never its secret)
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Store a connection's credentials (replacing one of the same name)
    Add(Box<AddConnectionArgs>),
    /// Forget a connection and its secret
    Remove {
        /// The integration (source namespace)
        integration: String,
        #[arg(long, value_enum, default_value_t = OwnerArg::Org)]
        owner: OwnerArg,
        #[arg(long, default_value = "main")]
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct AddConnectionArgs {
    /// The integration (source namespace), e.g. github
    pub integration: String,
    /// Whose connection: org (shared) or user
    #[arg(long, value_enum, default_value_t = OwnerArg::Org)]
    pub owner: OwnerArg,
    /// The connection's name
    #[arg(long, default_value = "main")]
    pub name: String,
    /// How to authenticate [default: what the source's security scheme says]
    #[arg(long, value_enum)]
    pub auth: Option<AuthArg>,
    /// With --auth basic: the username (the secret is the password)
    #[arg(long)]
    pub username: Option<String>,
    /// With --auth api-key: where the key goes
    #[arg(long = "in", value_enum, default_value_t = KeyIn::Header)]
    pub key_in: KeyIn,
    /// With --auth api-key: the header, query parameter or cookie name
    #[arg(long)]
    pub key_name: Option<String>,
    /// With --auth header: the header's name
    #[arg(long)]
    pub header: Option<String>,
    /// With --auth header: its value, with {secret} where the secret goes (e.g. 'Token {secret}')
    #[arg(long)]
    pub template: Option<String>,
    /// With --auth oauth2 or oauth2-client-credentials: the OAuth client id
    #[arg(long)]
    pub client_id: Option<String>,
    /// With --auth oauth2: the provider's authorization endpoint [default: the source's oauth2 scheme]
    #[arg(long)]
    pub authorization_url: Option<String>,
    /// With --auth oauth2 or oauth2-client-credentials: the token endpoint [default: the source's oauth2 scheme]
    #[arg(long)]
    pub token_url: Option<String>,
    /// With OAuth: a scope to ask for (repeat for several)
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// With --auth oauth2: print the sign-in URL instead of opening a browser
    #[arg(long)]
    pub no_open: bool,
    /// Read the secret (for OAuth: the client secret) from standard input (a trailing newline is dropped)
    #[arg(long, conflicts_with = "secret_env")]
    pub secret_stdin: bool,
    /// Read the secret from this environment variable
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OwnerArg {
    Org,
    User,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// Authorization: Bearer <secret>
    Bearer,
    /// Authorization: Basic, from --username and the secret as password
    Basic,
    /// The secret in a header, query parameter or cookie (--in, --key-name)
    ApiKey,
    /// A header built from a template (--header, --template)
    Header,
    /// OAuth 2 authorization code with PKCE: sign in once in a browser (--client-id; the secret, if any, is the client secret)
    Oauth2,
    /// OAuth 2 client credentials (--client-id, --token-url; the secret is the client secret)
    Oauth2ClientCredentials,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyIn {
    Header,
    Query,
    Cookie,
}

pub(super) fn owner_text(owner: OwnerArg) -> &'static str {
    match owner {
        OwnerArg::Org => "org",
        OwnerArg::User => "user",
    }
}

/// The secret, from standard input, an environment variable or a prompt
/// that does not echo; never from the command line.
pub(super) fn read_secret(stdin: bool, env: Option<&str>) -> anyhow::Result<String> {
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
