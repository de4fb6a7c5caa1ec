//! The `executor` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::generate;

/// Exit code for a command that ran but failed (bad spec, unreadable file).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for a command line that could not be understood (clap's own).
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "executor",
    version,
    about = "One local, durable runtime between agents and every API they use",
    long_about = "executor indexes OpenAPI, GraphQL and MCP sources into one catalog of tools, \
serves them to agents (MCP at /mcp, REST at /api/tools/invoke/...) with the stored credentials \
attached and per-tool policies applied, and exports the catalog as an OpenAPI 3.1 document.",
    after_help = "Examples:\n  \
executor generate --from openapi.yaml --namespace petstore   # writes executor.openapi.json\n  \
executor generate --from github.json -o - | jq '.paths | length'\n\n\
State lives in ~/.executor (set EXECUTOR_HOME to move it)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Export tools as an OpenAPI 3.1 document (one POST operation per tool)
    #[command(
        long_about = "Export tools as an OpenAPI 3.1 document: one `POST /api/tools/invoke/{tool path}` \
operation per tool, with the tool's full input schema as the request body and the result envelope \
around its output schema as the 200 response. Feed it to any client generator \
(openapi-typescript, openapi-generator, Kiota, ...): every call is typed and still runs through executor.\n\n\
Runs offline, without the service, so build pipelines can call it. The output is byte-identical \
for the same input.",
        after_help = "Examples:\n  \
executor generate --from petstore.yaml                     # namespace from the file name\n  \
executor generate --from github.json --namespace github -o api/executor.openapi.json\n  \
executor generate --from spec.yaml -o -                    # to stdout"
    )]
    Generate(GenerateArgs),
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The OpenAPI description to export (Swagger 2.0, OpenAPI 3.0 or 3.1; JSON or YAML).
    /// Relative $refs to files beside it are followed; network $refs never are.
    #[arg(long, value_name = "SPEC")]
    pub from: Option<PathBuf>,

    /// Namespace of the tools: the first segment of every tool path
    /// [default: the spec's file name, e.g. `petstore` for petstore.yaml]
    #[arg(long, short = 'n', value_name = "NAME")]
    pub namespace: Option<String>,

    /// Where to write the document; `-` writes to standard output
    #[arg(
        long,
        short = 'o',
        value_name = "FILE",
        default_value = "executor.openapi.json"
    )]
    pub out: PathBuf,

    /// What to write
    #[arg(long, value_enum, default_value_t = Format::Openapi)]
    pub format: Format,

    /// The service URL written into the document's `servers`
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:4788")]
    pub server_url: String,

    /// Load a spec that breaks the official OpenAPI schema anyway: each
    /// violation becomes a warning instead of an error
    #[arg(long)]
    pub lenient: bool,

    /// Print every diagnostic, not only the first ten
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An OpenAPI 3.1 document (executor.openapi.json)
    Openapi,
}

/// Parses the command line, runs the command and turns errors into a
/// message on stderr and an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => generate::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
