//! The `executor` command line.

use std::process::ExitCode;

use anyhow::bail;
use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::home::Home;
use crate::service;
use client::ServiceError;

mod call;
mod client;
mod clients;
mod connections;
mod daemon;
mod executions;
mod generate;
mod install;
mod logs;
mod mcp;
mod migrate;
mod policies;
mod tools;

use call::{CallArgs, RunArgs};
use connections::ConnectionsCommand;
use daemon::{DaemonCommand, InstallArgs, ServiceCommand, WebArgs};
use executions::ResumeArgs;
use generate::GenerateArgs;
use policies::PoliciesCommand;
use tools::ToolsCommand;

/// Exit code: the command ran but failed (a tool answered `ok: false`, a
/// spec did not load, a file could not be written).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code: the command line could not be understood.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the service could not be reached, started or used.
pub const EXIT_SERVICE: u8 = 3;
/// Exit code: the call waits for a person's approval; the resume command
/// is printed on stderr.
pub const EXIT_PAUSED: u8 = 4;

#[derive(Debug, Parser)]
#[command(
    name = "executor",
    version,
    about = "One local, durable runtime between agents and every API they use",
    long_about = "executor indexes OpenAPI, GraphQL and MCP sources into one catalog of tools, \
serves them to agents (MCP at /mcp, REST at /api/tools/invoke/...) with the stored credentials \
attached and per-tool policies applied, and exports the catalog as an OpenAPI 3.1 document.",
    after_help = "Examples:\n  \
executor web --foreground                              # run the service here (127.0.0.1:4788)\n  \
executor call executor openapi addSource '{\"spec\": \"https://petstore3.swagger.io/api/v3/openapi.json\", \"namespace\": \"petstore\"}'\n  \
executor tools sources                                 # integrations and tool counts\n  \
executor tools search \"send email\"                     # find tools by intent\n  \
executor call petstore pet --help                      # browse a namespace\n  \
executor call petstore pet getPetById '{\"petId\": 1}'\n  \
executor run script.ts                                 # a TypeScript script over the tools (code mode)\n  \
executor generate                                      # the catalog as executor.openapi.json\n\n\
State lives in ~/.executor (set EXECUTOR_HOME to move it). `call` and `tools` start the \
service in the background when it is not running. Exit codes: 0 ok, 1 the command or tool \
failed, 2 bad command line, 3 the service could not be reached, 4 the call waits for \
approval (resume it with `executor resume --execution-id ...`)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a tool: `executor call <segments...> ['{json}' | @file | -]`
    #[command(
        disable_help_flag = true,
        long_about = "Run a tool through the service. The tool path may be given as segments \
(`executor call github issues create`) or dotted (`executor call github.issues.create`); the \
input is a JSON object given inline, as @file, or - for standard input (default: {}).\n\n\
Add --help after a partial path to browse it: `executor call github issues --help` lists \
the tools below it, and on a full tool path shows its inputs.\n\n\
Prints the tool's data as JSON (--json prints the whole envelope). Exit code 1 when the tool \
answered ok: false."
    )]
    Call(CallArgs),

    /// Run a TypeScript script against the tools (code mode): `executor run script.ts`
    #[command(
        long_about = "Run a code-mode script through the service, as the owner. The script is \
TypeScript, the body of an async function: `await` works at the top and `return` gives the result. \
Call tools as `await tools.<path>(input)` (each answers {ok, data} or {ok: false, error}), find them \
with `await tools.search(\"...\")`, read one with `await tools.describe(path)`. It runs in a sandbox \
with no network, files or process; policies apply to every call, and a call that needs approval \
pauses the whole script (resume it with `executor resume`; the script then goes on).\n\n\
Prints the result as JSON; the script's console output goes to stderr.",
        after_help = "Examples:\n  \
executor run report.ts\n  \
echo 'return (await tools.search(\"pets\")).length' | executor run -"
    )]
    Run(RunArgs),

    /// Find and inspect tools
    #[command(subcommand)]
    Tools(ToolsCommand),

    /// Approve or decline a call that waits for approval, and print its result
    #[command(
        long_about = "Answer a call that a policy paused for approval. `accept` runs the call now \
and prints its result; `decline` refuses it. Without --action, on a terminal, it shows the tool and \
its arguments and asks; without a terminal --action is required. Answering an execution again prints \
the first outcome; the call never runs twice.",
        after_help = "Examples:\n  \
executor resume --execution-id exec_123                   # show the call and ask\n  \
executor resume --execution-id exec_123 --action accept   # in scripts\n  \
executor resume --execution-id exec_123 --action decline"
    )]
    Resume(ResumeArgs),

    /// Store, list and remove the credentials executor attaches to upstream calls
    #[command(
        subcommand,
        long_about = "A connection holds an integration's credentials. executor attaches them to \
every upstream call of that integration's tools; agents never see them. Its tools live under \
<integration>.<owner>.<name> (owner org or user, name main by default); with several connections \
to one integration each has its own subtree.\n\n\
The secret is read from standard input (--secret-stdin), an environment variable (--secret-env) \
or, on a terminal, a prompt that does not echo; never from the command line. It is stored \
encrypted under EXECUTOR_HOME/secret.key and never shown again.",
        after_help = "Examples:\n  \
printf %s \"$TOKEN\" | executor connections add github --auth bearer --secret-stdin\n  \
executor connections add jira --auth basic --username me@example.com      # asks for the password\n  \
executor connections add weather --auth api-key --in query --key-name appid --secret-env WEATHER_KEY\n  \
executor connections add github --owner user --name work --secret-stdin   # a second subtree\n  \
executor connections add acme --auth oauth2 --client-id my-app            # prints the sign-in URL\n  \
executor connections add svc --auth oauth2-client-credentials --client-id ci --token-url https://id.example.com/token --secret-env CLIENT_SECRET\n  \
executor connections list\n  \
executor connections remove github --owner user --name work"
    )]
    Connections(ConnectionsCommand),

    /// List, add, remove and reorder the policies that govern tool calls
    #[command(
        subcommand,
        long_about = "Policies are ordered rules over tool paths; for each call the first rule whose \
pattern matches decides: allow, require_approval (the call pauses until a person approves it) or block \
(the tool disappears from listings, search, MCP and exports). With no matching rule the tool's default \
applies: reads are allowed, writes and destructive tools need approval.\n\n\
Patterns are dotted tool paths with `*` wildcards: `*` alone is every tool, a trailing `*` a whole \
subtree (`github.*`), any other `*` one segment (`github.*.*.issues.*` covers \
github.org.main.issues.create). The short form `github.issues.*` (without owner and connection) works too.",
        after_help = "Examples:\n  \
executor policies add 'github.*.*.issues.*' require_approval\n  \
executor policies add 'petstore.*' allow\n  \
executor policies add 'github.repos.delete' block --position 1\n  \
executor policies list\n  \
executor policies move pol_1a2b3c 1\n  \
executor policies remove pol_1a2b3c"
    )]
    Policies(PoliciesCommand),

    /// Clients of /mcp: MCP clients signed in through OAuth, and tokens minted for scripts
    #[command(
        subcommand,
        long_about = "Clients of /mcp besides the holder of the MCP token. An MCP client pointed at \
http://127.0.0.1:4788/mcp with no token signs in through executor's own OAuth: you approve it on a \
consent page in the web UI, choosing which tools it may see and call. `executor clients add` mints a \
token for a script or CI instead. A client's token opens /mcp only (never executor's REST API, so it \
cannot approve its own paused calls); revoking a client ends its tokens at once.",
        after_help = "Examples:\n  \
executor clients list\n  \
executor clients add ci --scope 'github.*' --days 30      # prints the token once\n  \
executor clients add reviewer --approve-all              # every call waits for approval\n  \
executor clients revoke ci"
    )]
    Clients(clients::ClientsCommand),

    /// The audit log: every call, who made it, the decision and the outcome
    #[command(
        long_about = "Every call on record, whatever door it came by (REST, this CLI, MCP, code mode, \
generated clients): when, who (the owner, the MCP token or a client by name), the decision (allowed, \
paused, blocked, refused, approved or declined by whom), the outcome (ok or the error code), how long \
it took and how large its answer was. Never inputs, outputs or secrets. Records are kept \
EXECUTOR_AUDIT_DAYS days (30).",
        after_help = "Examples:\n  \
executor logs\n  \
executor logs --client ci --since 2h\n  \
executor logs --tool github. --limit 1000\n  \
executor logs --since 7d --json > audit.jsonl      # export as JSON lines"
    )]
    Logs(logs::LogsArgs),

    /// Export tools as an OpenAPI 3.1 (or 3.0) document, or a typed TypeScript or Rust client
    #[command(
        long_about = "Export tools as an OpenAPI 3.1 document: one `POST /api/tools/invoke/{tool path}` \
operation per tool, with the tool's full input schema as the request body and the result envelope \
around its output schema as the 200 response. Feed it to any client generator \
(openapi-typescript, openapi-generator, Kiota, ...): every call is typed and still runs through executor. \
`--format typescript` writes one dependency-free TypeScript client instead (`executor.gen.ts`); \
`--format rust` a typed Rust client over reqwest (`executor_client.rs`, or a crate with \
`--crate NAME`); `--format both` the document and the TypeScript client; `--format all` all three.\n\n\
Without --from it exports the stored catalog; with --from, one spec file. Either way it runs \
offline, without the service, so build pipelines can call it. The output is byte-identical for \
the same input.",
        after_help = "Examples:\n  \
executor generate                                          # the stored catalog\n  \
executor generate --integration github -o github.openapi.json\n  \
executor generate --format typescript                      # executor.gen.ts\n  \
executor generate --format both -o generated/              # both, into a directory\n  \
executor generate --format rust --crate executor-client -o clients/executor-client\n  \
executor generate --openapi 3.0 -o executor.openapi30.json # for 3.0-only generators\n  \
executor generate --from petstore.yaml                     # one spec, namespace `petstore`\n  \
executor generate --from spec.yaml -o -                    # to stdout"
    )]
    Generate(GenerateArgs),

    /// Serve MCP on stdio, forwarding to the service (for clients that launch a command)
    #[command(
        long_about = "Serve MCP on stdin/stdout for MCP clients that launch a command. Every request \
is forwarded to the service's /mcp endpoint (the service is started in the background when it is not \
running), so the same catalog, credentials and policies apply. Logs go to stderr.\n\n\
Client configuration: {\"command\": \"executor\", \"args\": [\"mcp\"]}"
    )]
    Mcp {
        /// Expose only the search, describe and call tools (the same as --tools discover)
        #[arg(long)]
        discover: bool,
        /// Which tools to expose: every tool (all), search/describe/call
        /// (discover), or execute/search/describe for scripts (code);
        /// without it, /mcp's default (code mode above 200 tools)
        #[arg(long, value_name = "VIEW", value_parser = ["all", "discover", "code"])]
        tools: Option<String>,
        /// Print the token MCP clients send over HTTP (it opens /mcp only,
        /// never the REST API) and exit
        #[arg(long)]
        print_token: bool,
    },

    /// Open the web UI, starting the service in the background if needed
    Web(WebArgs),

    /// Run, inspect or stop the background service
    #[command(subcommand)]
    Daemon(DaemonCommand),

    /// Register the service to start at login and keep running
    #[command(
        long_about = "Register executor as a user service that starts at login and restarts after a crash (a systemd user unit on Linux, a launchd agent on macOS), then start it. Running it again is safe: an unchanged unit is left as it is. Where there is no service manager (a container), it starts a detached background process instead and says so.\n\nEXECUTOR_SERVICE_MANAGER=systemd|launchd|none overrides the detection.",
        after_help = "Examples:\n  \
executor install                     # register and start\n  \
executor install --print             # show the unit it would write\n  \
executor service status              # is it installed, is it running\n  \
executor uninstall                   # stop it and remove the unit"
    )]
    Install(InstallArgs),

    /// Stop the service and remove what `executor install` registered (your data stays)
    Uninstall,

    /// The installed service
    #[command(subcommand)]
    Service(ServiceCommand),

    /// Bring the database's schema up to date (SQLite, or PostgreSQL for replicas)
    #[command(
        long_about = "Bring the database's schema up to date: the SQLite file in EXECUTOR_HOME, or \
the PostgreSQL database in EXECUTOR_DATABASE_URL (or --database-url) that several executor replicas \
share. The service does the same when it starts; run this first when replicas are deployed, so that \
none of them starts on an old schema. Running it again changes nothing.",
        after_help = "Examples:\n  \
executor migrate                                              # the SQLite file\n  \
EXECUTOR_DATABASE_URL=postgres://executor@db/executor executor migrate"
    )]
    Migrate(migrate::MigrateArgs),
}

/// Parses the command line, runs the command and turns errors into a
/// message on stderr and an exit code.
pub fn main() -> ExitCode {
    crate::install_crypto_provider();
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => generate::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Migrate(args) => migrate::run(&args).map(|()| ExitCode::SUCCESS),
        command => with_runtime(command),
    };
    match result {
        Ok(code) => code,
        Err(error) if closed_pipe(&error) => ExitCode::from(141),
        Err(error) => {
            eprintln!("error: {error:#}");
            let code = if error.downcast_ref::<ServiceError>().is_some() {
                EXIT_SERVICE
            } else {
                EXIT_FAILURE
            };
            ExitCode::from(code)
        }
    }
}

/// `executor ... | head`: when the reader of stdout goes away, `println!`
/// panics ("failed printing to stdout: Broken pipe"). Rust ignores SIGPIPE,
/// and restoring it would need `unsafe` (and would also reach the service's
/// sockets), so the panic is caught here instead: the command ends quietly
/// with the exit code a shell gives a process killed by SIGPIPE (141).
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// Whether writing failed because the reader of stdout went away.
fn closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn with_runtime(command: Command) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let home = Home::from_env()?;
        match command {
            Command::Call(args) => call::call(&home, args.args).await,
            Command::Tools(tools) => tools::tools(&home, tools).await,
            Command::Run(args) => call::run(&home, args).await,
            Command::Resume(args) => executions::resume(&home, args).await,
            Command::Policies(command) => policies::policies(&home, command).await,
            Command::Clients(command) => clients::clients(&home, command).await,
            Command::Logs(args) => logs::logs(&home, args).await,
            Command::Connections(command) => connections::connections(&home, command).await,
            Command::Web(args) => daemon::web(home, args).await,
            Command::Mcp {
                print_token: true, ..
            } => {
                println!("{}", home.mcp_token()?);
                Ok(ExitCode::SUCCESS)
            }
            Command::Mcp {
                discover, tools, ..
            } => {
                let view = match (tools.as_deref(), discover) {
                    (Some(view), _) => view.to_owned(),
                    (None, true) => "discover".to_owned(),
                    (None, false) => "default".to_owned(),
                };
                crate::cli::mcp::run(&home, &view)
                    .await
                    .map_err(ServiceError)?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Daemon(DaemonCommand::Run(args)) => {
                init_logging();
                let home = home.with_database_url(args.database_url);
                service::run(home, args.listen.host, args.listen.port).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Daemon(DaemonCommand::Status) => daemon::status(&home).await,
            Command::Daemon(DaemonCommand::Stop) => daemon::stop(&home).await,
            Command::Install(args) => {
                let plan = crate::cli::install::Plan {
                    exe: crate::cli::install::invoked_path()?,
                    home: home.dir.clone(),
                    host: args.listen.host,
                    port: args.listen.port,
                };
                crate::cli::install::install(&home, plan, args.print).await
            }
            Command::Uninstall => crate::cli::install::uninstall(&home).await,
            Command::Service(ServiceCommand::Status) => crate::cli::install::status(&home).await,
            Command::Generate(_) | Command::Migrate(_) => {
                unreachable!("generate and migrate run without a runtime")
            }
        }
    })
}

/// Logs go to stderr (in the background service: to service.log).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EXECUTOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// The `data` of an envelope, or its error as a command failure.
pub(super) fn data(envelope: Value) -> anyhow::Result<Value> {
    if envelope.get("ok") == Some(&Value::Bool(true)) {
        return Ok(envelope["data"].clone());
    }
    let message = envelope
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("the service failed");
    bail!("{message}")
}

/// Both stdin (to answer) and stderr (to ask) are a person's terminal.
pub(super) fn is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Prints data (or the envelope with --json); a failure goes to stderr
/// with exit code 1.
pub(super) fn print_outcome(envelope: &Value, json_output: bool) -> anyhow::Result<ExitCode> {
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

/// Opens a URL with the desktop's browser, where there is a desktop.
pub(super) fn open_browser(url: &str) -> bool {
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
