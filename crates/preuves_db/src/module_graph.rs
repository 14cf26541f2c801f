//! A test of the crate's shape: no two modules import each other, directly or through others.
//!
//! It reads the crate's own sources at test time, collects every `crate::…` path of each module
//! (a name re-exported by the crate root counts as its defining module), and looks for a cycle.
//! Cycles are what made the candidature, proof and instruction code impossible to read in
//! isolation; shared identifiers live in `ids`, rows in `stored_*`, below the repositories.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The module graph: each module and the modules it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The `crate::…` imports of one source text, as first path segments (`crate::{a, b::C}` gives
/// `a` and `b`). Comment lines are skipped.
fn crate_paths(source: &str) -> Vec<String> {
    let code: String = source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        // `preuves_crate::x` or `$crate::x` are not this crate's paths.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0_usize;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => items.push(std::mem::take(&mut item)),
                    _ if depth == 0 => item.push(c),
                    _ => {}
                }
            }
            items.push(item);
            out.extend(items.iter().filter_map(|i| first_ident(i)));
        } else if let Some(ident) = first_ident(rest) {
            out.push(ident);
        }
    }
    out
}

/// The identifier at the start of `text` (after blanks), if any.
fn first_ident(text: &str) -> Option<String> {
    let ident: String = text
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!ident.is_empty()).then_some(ident)
}

/// The names the crate root re-exports from its modules (`pub use audit::{A, B}` maps `A` and
/// `B` to `audit`).
fn root_reexports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    let mut rest = lib;
    while let Some(at) = rest.find("pub use ") {
        rest = &rest[at + "pub use ".len()..];
        let Some(end) = rest.find(';') else { break };
        let statement = &rest[..end];
        let Some((module, items)) = statement.split_once("::") else {
            continue;
        };
        if !modules.contains(module.trim()) {
            continue;
        }
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            if let Some(name) = first_ident(item) {
                names.insert(name, module.trim().to_owned());
            }
        }
    }
    names
}

/// The module graph of the crate whose sources are in `src`: a top-level module is a file
/// `src/m.rs` (with its children in `src/m/`), and `lib.rs` is the root, not a node.
fn graph_of(src: &Path) -> Graph {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable source folder") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src).expect("under src");
                let first = relative.components().next().expect("a file name");
                let first = first.as_os_str().to_string_lossy();
                let module = first.trim_end_matches(".rs").to_owned();
                let text = std::fs::read_to_string(&path).expect("readable source");
                files.push((module, text));
            }
        }
    }
    let modules: BTreeSet<String> = files
        .iter()
        .map(|(m, _)| m.clone())
        .filter(|m| m != "lib")
        .collect();
    let lib = files
        .iter()
        .find(|(m, _)| m == "lib")
        .map_or("", |(_, t)| t.as_str());
    let reexports = root_reexports(lib, &modules);
    let mut graph = Graph::new();
    for (module, text) in files.iter().filter(|(m, _)| m != "lib") {
        let edges = graph.entry(module.clone()).or_default();
        for name in crate_paths(text) {
            let target = if modules.contains(&name) {
                Some(name)
            } else {
                reexports.get(&name).cloned()
            };
            if let Some(target) = target.filter(|t| t != module) {
                edges.insert(target);
            }
        }
    }
    graph
}

/// A cycle of `graph` (its modules in order, the first repeated at the end), if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, path) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

#[test]
fn no_two_modules_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = graph_of(&src);
    // The graph was read: the repositories are there and import their shared identifiers.
    assert!(graph["candidatures"].contains("ids"), "{graph:?}");
    assert!(
        graph["instruction"].contains("stored_candidatures"),
        "{graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_graph_sees_grouped_nested_and_reexported_imports() {
    let text = "use crate::a::X;\n// use crate::commented::Y;\nuse crate::{b::Z, Db, Re};\n\
                fn f() { crate::c::g(); preuves_crate::d(); }\n";
    assert_eq!(crate_paths(text), ["a", "b", "Db", "Re", "c"]);
    let modules: BTreeSet<String> = ["a", "b"].into_iter().map(str::to_owned).collect();
    let lib = "pub use a::{Re, Other};\npub use b::Z;\npub use preuves_domain::{W};";
    let names = root_reexports(lib, &modules);
    assert_eq!(names.get("Re").map(String::as_str), Some("a"));
    assert_eq!(names.get("Z").map(String::as_str), Some("b"));
    assert_eq!(names.get("W"), None);
}

#[test]
fn a_cycle_is_found_and_named() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g = Graph::new();
        for (from, to) in edges {
            g.entry((*from).to_owned())
                .or_default()
                .insert((*to).to_owned());
            g.entry((*to).to_owned()).or_default();
        }
        g
    };
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])),
        None
    );
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(
        find_cycle(&graph(&[("users", "audit"), ("audit", "users")])),
        Some(vec!["audit".into(), "users".into(), "audit".into()])
    );
}
