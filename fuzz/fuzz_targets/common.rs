//! What the targets share: their seed corpus, written from the repository's demonstration files
//! into `fuzz/corpus/<target>/` when that folder is empty (libFuzzer then starts from them).

#![allow(dead_code, reason = "each target uses a part")]

use std::path::{Path, PathBuf};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Reads a repository file.
pub fn repo_file(relative: &str) -> Vec<u8> {
    std::fs::read(root().join(relative)).unwrap_or_default()
}

/// Writes `seeds` into the target's corpus folder, unless it already holds inputs.
pub fn seed_corpus(target: &str, seeds: &[Vec<u8>]) {
    let dir = root().join("fuzz/corpus").join(target);
    let empty = std::fs::read_dir(&dir).map_or(true, |mut d| d.next().is_none());
    if !empty {
        return;
    }
    let _ = std::fs::create_dir_all(&dir);
    for (i, seed) in seeds.iter().enumerate() {
        let _ = std::fs::write(dir.join(format!("seed-{i:02}")), seed);
    }
}

/// The demo REMs, as CSV.
pub fn demo_rems() -> Vec<Vec<u8>> {
    vec![
        repo_file("demo/catalogue/REM-DUI-MS-Va2-demo.csv"),
        repo_file("demo/catalogue/REM-DPI-Va2-demo.csv"),
    ]
}
