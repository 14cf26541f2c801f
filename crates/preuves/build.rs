//! Build script: embeds the demonstration data (`demo/catalogue/` and `demo/scenarios/`) in the
//! binary, so that `preuves serve --demo` works from any folder and from an installed binary.
//!
//! It writes `$OUT_DIR/demo_files.rs`: two sorted tables of `(file name, bytes)`, one
//! `include_bytes!` per file, read by `demo_files.rs`. Every regular file of the two folders is
//! embedded (the catalogue names its REM files by relative path, so the folder travels whole).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let demo = manifest.join("../../demo");
    let mut code = String::new();
    for (table, folder) in [("CATALOGUE", "catalogue"), ("SCENARIOS", "scenarios")] {
        let folder = demo.join(folder);
        // Cargo scans a watched folder whole: adding, changing or removing a file reruns us.
        println!("cargo:rerun-if-changed={}", folder.display());
        let mut files = regular_files(&folder);
        files.sort();
        writeln!(
            code,
            "/// The files of `demo/{}/`, by name, sorted.\n\
             pub(crate) static {table}: &[(&str, &[u8])] = &[",
            folder
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
        )
        .expect("write to a String");
        for (name, path) in &files {
            writeln!(
                code,
                "    ({name:?}, include_bytes!({:?})),",
                path.display().to_string()
            )
            .expect("write to a String");
        }
        code.push_str("];\n");
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out.join("demo_files.rs"), code).expect("OUT_DIR is writable");
}

/// The regular files directly in `folder` with their absolute paths; the build fails loudly when
/// the folder is missing, since `serve --demo` could not work without it.
fn regular_files(folder: &Path) -> Vec<(String, PathBuf)> {
    let entries = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("demo data folder {} unreadable: {e}", folder.display()));
    entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let path = entry.path().canonicalize().ok()?;
            Some((name, path))
        })
        .collect()
}
