//! The runtime's layers, checked from its sources: the core (state, store,
//! catalog, invoke and what it calls) imports no surface (HTTP API, MCP
//! server, web UI, CLI) and none of the surfaces' crates (axum, clap,
//! askama, rmcp's server side). A new module must say which layer it is in
//! here. See ARCHITECTURE.md.

//! The runtime's layers, checked from its sources (see ARCHITECTURE.md):
//!
//! - every top-level module of `runtime/src` is in exactly one layer of
//!   [`LAYERS`], and imports only modules of its own layer or below;
//! - no two top-level modules import each other, directly or through
//!   others (a folder and its own files may refer to each other);
//! - the core (every layer below the surfaces) uses none of the surfaces'
//!   crates (axum, clap, askama, rmcp's server side).
//!
//! A new module says here which layer it is in.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// From the bottom up. A module may import its own layer and the layers
/// before it, never one after it.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "leaves",
        &[
            "caller",
            "credential",
            "errors",
            "files",
            "home",
            "outbound",
            "policy",
            "search",
        ],
    ),
    ("storage", &["store"]),
    ("parts", &["builtin", "catalog", "upstream"]),
    ("shared", &["shared"]),
    (
        "rooms with state of their own",
        &["audit", "clients", "execution", "oauth", "policies"],
    ),
    ("state", &["state"]),
    ("calls", &["connections", "invoke", "sources"]),
    ("programs", &["code"]),
    ("surfaces", &["mcp", "http", "service", "cli"]),
];

const SURFACES: &str = "surfaces";

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

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

fn modules() -> Vec<String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';').to_owned())
        .collect()
}

/// Which top-level modules each top-level module imports.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let mut graph = BTreeMap::new();
    for module in &modules {
        let files = files_of(module);
        assert!(!files.is_empty(), "no files for {module}");
        let mut refs = BTreeSet::new();
        for file in files {
            for name in crate_refs(&code(&file)) {
                if name != *module && modules.contains(&name) {
                    refs.insert(name);
                }
            }
        }
        graph.insert(module.clone(), refs);
    }
    graph
}

/// One import cycle, if there is any: `[a, b, ..., a]`.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next.as_str()).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let start = path.iter().position(|n| n == next).unwrap();
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(cycle) = visit(next, graph, marks, path) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node.as_str()).copied().unwrap_or(Mark::New) == Mark::New
            && let Some(cycle) = visit(node, graph, &mut marks, &mut Vec::new())
        {
            return Some(cycle);
        }
    }
    None
}

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
    let modules = modules();
    assert!(modules.len() > 20, "lib.rs lists its modules: {modules:?}");
    for module in &modules {
        assert!(
            layer_of(module).is_some(),
            "runtime/src/{module} is in no layer: add it to LAYERS in tests/layers.rs (and ARCHITECTURE.md)"
        );
    }
    for (_, listed) in LAYERS {
        for module in *listed {
            assert!(
                modules.iter().any(|m| m == module),
                "{module} is listed in tests/layers.rs but not in lib.rs"
            );
        }
    }
}

#[test]
fn imports_go_down_the_layers() {
    let mut problems = Vec::new();
    for (module, refs) in imports() {
        let own = layer_of(&module).unwrap();
        for name in refs {
            let theirs = layer_of(&name).unwrap();
            if theirs > own {
                problems.push(format!(
                    "{module} ({}) imports {name}, which is above it ({})",
                    LAYERS[own].0, LAYERS[theirs].0
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "imports against the layers:\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_import_cycle_between_modules() {
    let graph = imports();
    assert!(
        graph.values().map(BTreeSet::len).sum::<usize>() > 50,
        "the reader finds the imports: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "an import cycle between top-level modules: {}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_core_uses_no_surface_crate() {
    let surfaces = LAYERS
        .iter()
        .position(|(name, _)| *name == SURFACES)
        .unwrap();
    let mut problems = Vec::new();
    for (_, modules) in &LAYERS[..surfaces] {
        for module in *modules {
            for file in files_of(module) {
                let text = code(&file);
                let shown = file.strip_prefix(src()).unwrap().display().to_string();
                for forbidden in SURFACE_CRATES {
                    if text.contains(forbidden) {
                        problems.push(format!("{shown} uses `{forbidden}`"));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the core uses a surface's crate:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_checkers_see_what_is_there() {
    // The checks above would pass on a reader that finds nothing, or a
    // cycle finder that never finds one: make sure they find what is there.
    let refs = crate_refs(
        "use crate::{http::failure, state::AppState};\nlet x = crate::http::web::sessions(s);",
    );
    assert_eq!(refs, ["http", "state", "http"]);
    let router = code(&src().join("http/mod.rs"));
    assert!(crate_refs(&router).contains(&"state".to_owned()));
    assert!(router.contains("axum::"));
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])),
        None
    );
}

#[test]
fn long_files_say_why() {
    // A room is read file by file: a file over 500 lines says at its top
    // why it is not split.
    let mut all = Vec::new();
    for module in modules() {
        all.extend(files_of(&module));
    }
    assert!(all.len() > 40, "the reader finds the files: {all:?}");
    let mut problems = Vec::new();
    for file in all {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines = text.lines().count();
        let head: String = text
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        if lines > 500 && !head.contains("Why this file is over 500 lines") {
            problems.push(format!(
                "{} has {lines} lines and does not say why at its top",
                file.strip_prefix(src()).unwrap().display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
