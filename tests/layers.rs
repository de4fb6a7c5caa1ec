//! The runtime's layers, checked from its sources: the core (state, store,
//! catalog, invoke and what it calls) imports no surface (HTTP API, MCP
//! server, web UI, CLI) and none of the surfaces' crates (axum, clap,
//! askama, rmcp's server side). A new module must say which layer it is in
//! here. See ARCHITECTURE.md.

mod support;

use std::path::{Path, PathBuf};

/// Below every surface: may import each other, never a surface.
const CORE: &[&str] = &[
    "builtin",
    "catalog",
    "connections",
    "credential",
    "errors",
    "execution",
    "files",
    "home",
    "invoke",
    "legacy_sse",
    "mcp_oauth",
    "oauth",
    "outbound",
    "policies",
    "policy",
    "search",
    "sources",
    "state",
    "store",
    "upstream",
];

/// Protocols over the core: may import the core and each other.
const SURFACES: &[&str] = &[
    "access",
    "cli",
    "client",
    "commands",
    "generate",
    "install",
    "listen",
    "mcp",
    "mcp_sessions",
    "mcp_stdio",
    "server",
    "service",
    "web",
];

/// What only surfaces may use.
const SURFACE_CRATES: &[&str] = &[
    "axum::",
    "clap::",
    "askama::",
    "rmcp::handler::server",
    "ServerHandler",
    "streamable_http_server",
    "RoleServer",
];

fn src() -> PathBuf {
    support::repo_root().join("runtime/src")
}

/// The files of a top-level module: `name.rs` and everything in `name/`.
fn files_of(name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let file = src().join(format!("{name}.rs"));
    if file.exists() {
        out.push(file);
    }
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    walk(&src().join(name), &mut out);
    out
}

/// The source without comments (a doc comment may name a surface).
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::<module>` a text refers to, also inside `use crate::{a, b}`.
fn crate_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push(name);
            }
        } else {
            out.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    out
}

#[test]
fn every_module_has_a_layer() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let modules: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    assert!(modules.len() > 20, "lib.rs lists its modules: {modules:?}");
    for module in &modules {
        assert!(
            CORE.contains(module) || SURFACES.contains(module),
            "runtime/src/{module} is in no layer: add it to CORE or SURFACES in tests/layers.rs (and ARCHITECTURE.md)"
        );
    }
    for module in CORE.iter().chain(SURFACES) {
        assert!(
            modules.contains(module),
            "{module} is listed in tests/layers.rs but not in lib.rs"
        );
    }
}

#[test]
fn the_core_imports_no_surface() {
    let mut problems = Vec::new();
    for module in CORE {
        let files = files_of(module);
        assert!(!files.is_empty(), "no files for {module}");
        for file in files {
            let text = code(&file);
            let shown = file.strip_prefix(src()).unwrap().display().to_string();
            for name in crate_refs(&text) {
                if SURFACES.contains(&name.as_str()) {
                    problems.push(format!("{shown} imports the surface `{name}`"));
                }
            }
            for forbidden in SURFACE_CRATES {
                if text.contains(forbidden) {
                    problems.push(format!("{shown} uses `{forbidden}`"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "layer violations:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_checker_sees_imports() {
    // The check above would pass on a reader that finds nothing: make sure
    // it finds what is there.
    let refs = crate_refs(
        "use crate::{server::failure, state::AppState};\nlet x = crate::web::sessions(s);",
    );
    assert_eq!(refs, ["server", "state", "web"]);
    let server = code(&src().join("server.rs"));
    assert!(crate_refs(&server).contains(&"state".to_owned()));
    assert!(server.contains("axum::"));
}
