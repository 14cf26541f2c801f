//! The shape of the page layer: no page module (`src/routes/*.rs`) imports another page module.
//! Shared presenters live in `views/` and use cases in `app/`; a page that reached into another
//! page would make the two impossible to read or change apart.

use std::collections::BTreeSet;
use std::path::Path;

/// The page modules another page's source names: `crate::routes::x` anywhere, or `super::x`
/// where `x` is a sibling page (`super::*` in a page's own test module names the page itself).
fn pages_named(source: &str, pages: &BTreeSet<String>) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for line in source.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for prefix in ["crate::routes::", "super::"] {
            let mut rest = line;
            while let Some(at) = rest.find(prefix) {
                rest = &rest[at + prefix.len()..];
                let ident: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let grouped = rest.starts_with('{');
                if pages.contains(&ident) || (prefix == "crate::routes::" && !grouped) {
                    named.insert(ident);
                } else if grouped {
                    let group = rest[1..].split('}').next().unwrap_or("");
                    for item in group.split(',') {
                        let item: String = item
                            .trim()
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        if pages.contains(&item) {
                            named.insert(item);
                        }
                    }
                }
            }
        }
    }
    named
}

#[test]
fn no_page_module_imports_another() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|e| e == "rs") && name != "mod" {
            sources.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    let pages: BTreeSet<String> = sources.iter().map(|(n, _)| n.clone()).collect();
    assert!(
        pages.contains("candidatures") && pages.contains("instruction"),
        "{pages:?}"
    );
    let offenders: Vec<String> = sources
        .iter()
        .flat_map(|(page, source)| {
            pages_named(source, &pages)
                .into_iter()
                .filter(move |other| other != page)
                .map(move |other| format!("routes/{page}.rs imports routes::{other}"))
        })
        .collect();
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn imports_of_other_pages_are_seen() {
    let pages: BTreeSet<String> = ["candidatures", "instruction"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let named = |source: &str| pages_named(source, &pages).into_iter().collect::<Vec<_>>();
    assert_eq!(
        named("use crate::routes::instruction::show;"),
        ["instruction"]
    );
    assert_eq!(named("use super::{candidatures, x};"), ["candidatures"]);
    assert_eq!(named("    use super::*;"), Vec::<String>::new());
    assert_eq!(
        named("// use crate::routes::instruction;"),
        Vec::<String>::new()
    );
    assert_eq!(named("use crate::views::facts;"), Vec::<String>::new());
}
