//! `executor generate`: export the catalog as an OpenAPI 3.1 (or 3.0.3)
//! document, a TypeScript client, a Rust client (module or crate), or all.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use generator::emit::{self, openapi::ExportOptions};
use generator::ingest::openapi::{self, Options};
use generator::ir::Catalog;
use generator::naming::is_valid_namespace;

use crate::files::{DirLoader, read_text, write_atomically};
use crate::home::Home;
use crate::state::stored_catalog;
use clap::{Args, ValueEnum};

/// Diagnostics shown without `--verbose`.
const SHOWN_DIAGNOSTICS: usize = 10;

pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    let (catalog, what) = match &args.from {
        Some(spec_path) => from_spec(args, spec_path)?,
        None => {
            let home = Home::from_env()?;
            let catalog = stored_catalog(&home).context(
                "add a source first (`executor call executor openapi addSource '{...}'`), \
                 or export one spec with --from <SPEC>",
            )?;
            (
                catalog,
                format!("the stored catalog in {}", home.dir.display()),
            )
        }
    };
    let catalog = match &args.integration {
        Some(name) => catalog.filtered(name).with_context(|| {
            let names: Vec<&str> = catalog
                .integrations
                .iter()
                .map(|i| i.name.as_str())
                .collect();
            format!(
                "no integration is named {name:?}; there are: {}",
                names.join(", ")
            )
        })?,
        None => catalog,
    };
    let tool_count = catalog.tools.len();
    let several = matches!(args.format, Format::Both | Format::All);
    if several && args.out.as_deref() == Some(Path::new("-")) {
        bail!("--format both and all write several files: give -o a directory, not -");
    }
    if let Some(name) = &args.krate {
        if !matches!(args.format, Format::Rust | Format::All) {
            bail!("--crate makes a Rust crate: use it with --format rust (or all)");
        }
        if !emit::rust::is_valid_crate_name(name) {
            bail!(
                "--crate {name:?} cannot name a crate: letters, digits, '_' and '-', starting with a letter"
            );
        }
        if args.out.as_deref() == Some(Path::new("-")) {
            bail!(
                "--crate writes a directory (Cargo.toml and src/lib.rs): give -o a directory, not -"
            );
        }
    }
    let export = ExportOptions {
        server_url: args.server_url.clone(),
    };
    let mut outputs: Vec<(PathBuf, String)> = Vec::new();
    let (openapi_name, typescript_name, rust_name) = (
        "executor.openapi.json",
        "executor.gen.ts",
        "executor_client.rs",
    );
    let target = |name: &str| match (several, &args.out) {
        (true, out) => out.clone().unwrap_or_else(|| PathBuf::from(".")).join(name),
        (false, Some(out)) => out.clone(),
        (false, None) => PathBuf::from(name),
    };
    if matches!(args.format, Format::Openapi | Format::Both | Format::All) {
        let document = match args.openapi {
            OpenapiVersion::V3_1 => emit::openapi::document(&catalog, &export),
            OpenapiVersion::V3_0 => {
                let (document, lost) = emit::openapi30::document(&catalog, &export);
                show(&lost, args.verbose, "said in 3.0");
                emit::openapi30::to_value(&document)
            }
        };
        outputs.push((target(openapi_name), emit::to_pretty_json(&document)));
        // Freeing millions of JSON nodes one by one would only add to the
        // wall time of a process that ends right after this command.
        std::mem::forget(document);
    }
    if matches!(args.format, Format::Typescript | Format::Both | Format::All) {
        outputs.push((target(typescript_name), emit::typescript::client(&catalog)));
    }
    if matches!(args.format, Format::Rust | Format::All) {
        let source = emit::rust::client(&catalog);
        match &args.krate {
            Some(name) => {
                let dir = target(name);
                std::fs::create_dir_all(dir.join("src"))
                    .with_context(|| format!("cannot make {}", dir.join("src").display()))?;
                outputs.push((
                    dir.join("Cargo.toml"),
                    emit::rust::cargo_toml(name, &catalog),
                ));
                outputs.push((dir.join("src/lib.rs"), source));
            }
            None => outputs.push((target(rust_name), source)),
        }
    }
    std::mem::forget(catalog);

    let mut written = Vec::new();
    for (path, text) in &outputs {
        if path == Path::new("-") {
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .context("cannot write to standard output")?;
            written.push("standard output".to_owned());
        } else {
            write_atomically(path, text.as_bytes())?;
            written.push(path.display().to_string());
        }
    }
    eprintln!(
        "{tool_count} tools from {what}; wrote {}",
        written.join(" and ")
    );
    Ok(())
}

/// One spec file, ingested offline.
fn from_spec(args: &GenerateArgs, spec_path: &Path) -> anyhow::Result<(Catalog, String)> {
    let namespace = match &args.namespace {
        Some(n) => n.clone(),
        None => namespace_from_path(spec_path)?,
    };
    let text = read_text(spec_path)?;
    let mut loader = DirLoader::for_spec(spec_path);
    if let Some(boundary) = &args.refs_under {
        loader = loader.within(boundary);
    }
    let options = Options {
        lenient: args.lenient,
        ..Options::new(&namespace)
    };
    let ingested = openapi::ingest(&text, &options, Some(&mut loader))
        .with_context(|| format!("cannot load {}", spec_path.display()))?;
    show(&ingested.diagnostics, args.verbose, "loaded");
    let what = format!(
        "{} ({}, namespace `{namespace}`) with {} diagnostics",
        spec_path.display(),
        ingested.version.label(),
        ingested.diagnostics.len()
    );
    let mut catalog = Catalog::default();
    catalog.insert(ingested.integration, ingested.tools);
    Ok((catalog, what))
}

/// Prints diagnostics on standard error: the first ten, or all with
/// `--verbose`, then how many there were of what could not be `what`.
fn show(diagnostics: &[generator::diagnostic::Diagnostic], verbose: bool, what: &str) {
    let shown = if verbose {
        usize::MAX
    } else {
        SHOWN_DIAGNOSTICS
    };
    for diagnostic in diagnostics.iter().take(shown) {
        eprintln!("{diagnostic}");
    }
    if diagnostics.len() > shown {
        eprintln!(
            "... and {} more diagnostics of what could not be {what} (--verbose shows them all)",
            diagnostics.len() - shown
        );
    }
}

/// `petstore.yaml` → `petstore`; `GitHub API.v3.json` → `github-api`.
fn namespace_from_path(path: &Path) -> anyhow::Result<String> {
    let stem = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem.split('.').next().unwrap_or_default();
    let namespace: String = stem
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let namespace = namespace.trim_matches('-').to_owned();
    if !is_valid_namespace(&namespace) {
        bail!(
            "cannot derive a namespace from {}: pass --namespace NAME (letters, digits, '_' or '-')",
            path.display()
        );
    }
    Ok(namespace)
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Export this OpenAPI description instead of the stored catalog (Swagger 2.0, OpenAPI 3.0
    /// or 3.1; JSON or YAML). Relative $refs to files beside it are followed; network $refs
    /// never are.
    #[arg(long, value_name = "SPEC")]
    pub from: Option<PathBuf>,

    /// With --from: namespace of the tools, the first segment of every tool path
    /// [default: the spec's file name, e.g. `petstore` for petstore.yaml]
    #[arg(long, short = 'n', value_name = "NAME")]
    pub namespace: Option<String>,

    /// Only this integration's tools
    #[arg(long, value_name = "NAME")]
    pub integration: Option<String>,

    /// Where to write: a file (`-` for standard output); a directory with `--format both`,
    /// `--format all` or `--crate` [default: executor.openapi.json, executor.gen.ts or
    /// executor_client.rs in the current directory; with --crate, a directory named after the
    /// crate]
    #[arg(long, short = 'o', value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// What to write
    #[arg(long, value_enum, default_value_t = Format::Openapi)]
    pub format: Format,

    /// With --format rust: a crate named NAME (NAME/Cargo.toml and NAME/src/lib.rs, or the
    /// directory -o names) instead of one module file
    #[arg(long = "crate", value_name = "NAME")]
    pub krate: Option<String>,

    /// The OpenAPI version of the document: 3.1 (JSON Schema 2020-12, the default), or 3.0
    /// (3.0.3, for generators that read 3.0 only: progenitor, older openapi-generator or
    /// Kiota setups). What 3.0 cannot say (`prefixItems` positions, `patternProperties`,
    /// `if`/`then`/`else`, ...) is converted as closely as it allows and printed as warnings
    #[arg(long, value_enum, value_name = "VERSION", default_value_t = OpenapiVersion::V3_1)]
    pub openapi: OpenapiVersion,

    /// The service URL written into the document's `servers`
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:4788")]
    pub server_url: String,

    /// With --from: load a spec that breaks the official OpenAPI schema anyway; each
    /// violation becomes a warning instead of an error
    #[arg(long)]
    pub lenient: bool,

    /// Let `$ref`s of the spec read files anywhere under DIR (by default
    /// only files under the spec's own directory)
    #[arg(long, value_name = "DIR", requires = "from")]
    pub refs_under: Option<PathBuf>,

    /// Print every diagnostic, not only the first ten
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An OpenAPI document (executor.openapi.json): 3.1, or 3.0.3 with --openapi 3.0
    Openapi,
    /// A self-contained TypeScript client (executor.gen.ts)
    Typescript,
    /// A typed Rust client over reqwest: one module (executor_client.rs), or a crate with
    /// --crate NAME
    Rust,
    /// The OpenAPI document and the TypeScript client
    Both,
    /// Every artifact: the OpenAPI document, the TypeScript and the Rust client
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OpenapiVersion {
    /// OpenAPI 3.1.0
    #[value(name = "3.1")]
    V3_1,
    /// OpenAPI 3.0.3
    #[value(name = "3.0")]
    V3_0,
}
