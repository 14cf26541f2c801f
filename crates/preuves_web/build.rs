//! Build script: embeds the user guide's screenshots (`docs/screenshots/*.png`) in the binary.
//!
//! It writes `$OUT_DIR/guide_captures.rs`, a sorted table of `(name, bytes)` with one
//! `include_bytes!` per PNG file, read by `guide`. A missing folder gives an empty table
//! (the guide's images answer 404), never a build failure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let docs = manifest.join("../../docs");
    let folder = docs.join("screenshots");
    let mut captures: Vec<(String, PathBuf)> = Vec::new();
    match std::fs::read_dir(&folder) {
        Ok(entries) => {
            // A folder is scanned whole by Cargo: adding, changing or removing a file reruns us.
            println!("cargo:rerun-if-changed={}", folder.display());
            for entry in entries.flatten() {
                let path = entry.path();
                if let Some(name) = capture_name(&path) {
                    captures.push((name, path));
                }
            }
        }
        Err(_) => {
            // A missing path would rerun the script on every build: watch the parent instead,
            // which changes when the folder appears.
            println!("cargo:rerun-if-changed={}", docs.display());
        }
    }
    captures.sort();
    let mut code = String::from(
        "/// The guide's screenshots, by name (without `.png`), sorted.\n\
         pub(crate) static CAPTURES: &[(&str, &[u8])] = &[\n",
    );
    for (name, path) in &captures {
        let absolute = path.canonicalize().unwrap_or_else(|_| path.clone());
        writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            absolute.to_string_lossy()
        )
        .expect("write to a string");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out.join("guide_captures.rs"), code).expect("write guide_captures.rs");
}

/// The name of a screenshot file: a `.png` whose stem is lowercase letters, digits and dashes
/// (the only names the guide's addresses use); anything else is left out.
fn capture_name(path: &Path) -> Option<String> {
    if !path.is_file() || path.extension()? != "png" {
        return None;
    }
    let stem = path.file_stem()?.to_str()?;
    let valid = !stem.is_empty()
        && stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    valid.then(|| stem.to_owned())
}
