//! The catalogue loader on a hostile `catalogue.toml`, in a folder holding the demo REMs and an
//! equivalence table, so that mutations that keep the file names reach the REM import and the
//! catalogue checks.

use std::path::Path;

use preuves_import::load_catalogue;

use super::{Input, Outcome, fuzz, input, repo_file};

/// Tokens of the catalogue format.
const CATALOGUE_TOKENS: &[&[u8]] = &[
    b"[[dispositif]]\n",
    b"[dispositif]\n",
    b"code = \"DPI\"\n",
    b"code = \"DUI-MS\"\n",
    b"wave = 1\n",
    b"wave = 2\n",
    b"wave = 3\n",
    b"name = \"\"\n",
    b"corridor = \"MS\"\n",
    b"rem = \"REM-DPI-Va2-demo.csv\"\n",
    b"rem = \"equivalences.csv\"\n",
    b"rem = \"missing.xlsx\"\n",
    b"rem = \".\"\n",
    b"rem = \"/\"\n",
    b"predecessors = [\"DPI\", \"MS1\"]\n",
    b"profiles = [\"PA\", \"\"]\n",
    b"date2 = \"2026-12-15\"\n",
    b"date2 = 2026-12-15\n",
    b"date2 = 2026-12-15T00:00:00Z\n",
    b"equivalences = \"equivalences.csv\"\n",
    b"rem_version = \"1\"\n",
    b"rem_version = \"\"\n",
    b"opens_on = \"2026-06-03\"\n",
    b"[[dispositif.older_rem]]\n",
    b"version = \"1\"\n",
    b"file = \"REM-DPI-Va2-demo-v1.csv\"\n",
    b"file = \"missing.csv\"\n",
    b"equivalences = \"REM-DPI-Va2-demo.csv\"\n",
    b"inf",
    b"nan",
    b"0x7FFFFFFFFFFFFFFF",
    b"1_000",
    b"[a.b.c]\n",
    b"a.b.c = 1\n",
    b"\"\\U0010FFFF\"",
    b"\"\\U00110000\"",
];

const DEMO_TOML: &str = "demo/catalogue/catalogue.toml";

/// A small equivalence table between the two demo REMs.
const EQUIVALENCES: &str = "Dispositif A,ID A,Dispositif B,ID B\n\
DPI,INS/va1.01,DUI-MS,INS/va1.01\n";

fn seeds() -> Vec<Vec<u8>> {
    let demo = repo_file(DEMO_TOML);
    let mut with_table = b"equivalences = \"equivalences.csv\"\n".to_vec();
    with_table.extend_from_slice(&demo);
    vec![
        demo,
        with_table,
        b"[[dispositif]]\ncode = \"DPI\"\nwave = 1\nname = \"x\"\ncorridor = \"HOP\"\n".to_vec(),
    ]
}

/// Copies the demo REMs and writes the table into `dir`.
fn prepare(dir: &Path) {
    for rem in [
        "REM-DPI-Va2-demo.csv",
        "REM-DPI-Va2-demo-v1.csv",
        "REM-DUI-MS-Va2-demo.csv",
    ] {
        std::fs::write(dir.join(rem), repo_file(&format!("demo/catalogue/{rem}")))
            .expect("REM copied");
    }
    std::fs::write(dir.join("equivalences.csv"), EQUIVALENCES).expect("table written");
}

fn run(dir: &Path, bytes: &[u8]) -> Outcome {
    let path = dir.join("catalogue.toml");
    std::fs::write(&path, bytes).expect("catalogue written");
    match load_catalogue(&path) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                let _ = w.to_string();
            }
            Outcome::Accepted
        }
        Err(failure) => {
            assert!(!failure.errors.is_empty(), "a refusal names its errors");
            let _ = failure.to_string();
            Outcome::Refused
        }
    }
}

#[test]
fn fuzz_catalogue_toml() {
    let dir = tempfile::tempdir().expect("temporary folder");
    prepare(dir.path());
    // The seeds load (with the table too), so mutations start from valid catalogues.
    for seed in &seeds()[..2] {
        assert_eq!(run(dir.path(), seed), Outcome::Accepted);
    }
    let seeds = seeds();
    fuzz(
        "catalogue_toml",
        input(),
        |i: &Input| i.bytes(&seeds, CATALOGUE_TOKENS),
        |bytes| run(dir.path(), bytes),
    );
}

/// Deep nesting in the toml is refused with an error, not a stack overflow.
#[test]
fn deeply_nested_catalogues_are_refused() {
    let dir = tempfile::tempdir().expect("temporary folder");
    for depth in [200, 10_000, 100_000] {
        for (open, close) in [("[", "]"), ("{a=", "}")] {
            let text = format!("x = {}1{}\n", open.repeat(depth), close.repeat(depth));
            assert_eq!(
                run(dir.path(), text.as_bytes()),
                Outcome::Refused,
                "depth {depth}"
            );
        }
        let text = format!("x{} = 1\n", ".a".repeat(depth));
        assert_eq!(
            run(dir.path(), text.as_bytes()),
            Outcome::Refused,
            "depth {depth}"
        );
    }
}
