//! Paths and helpers shared by the tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use preuves_domain::Catalogue;
use preuves_domain::scenario::{Answer, ScenarioFile};

/// The repository's root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn demo_catalogue_path() -> PathBuf {
    root().join("demo/catalogue/catalogue.toml")
}

pub(crate) fn demo_scenario(name: &str) -> PathBuf {
    root().join("demo/scenarios").join(name)
}

pub(crate) fn demo_catalogue() -> Catalogue {
    preuves_import::catalogue::load_catalogue(&demo_catalogue_path())
        .unwrap_or_else(|e| panic!("the demo catalogue loads: {e}"))
        .catalogue
}

/// Evaluates a scenario given as JSON text.
pub(crate) fn evaluate(catalogue: &Catalogue, json: &str) -> Answer {
    ScenarioFile::from_json(json)
        .unwrap_or_else(|e| panic!("scenario parses: {e}\n{json}"))
        .evaluate(catalogue)
}

/// Runs the `preuves` binary.
pub(crate) fn preuves(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_preuves"))
        .args(args)
        .output()
        .expect("the preuves binary runs")
}

/// The real data folder, or `None` after saying plainly that the test is skipped.
pub(crate) fn real_data(test: &str) -> Option<PathBuf> {
    match std::env::var_os("PREUVES_REAL_DATA") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            eprintln!("skipped: {test}: PREUVES_REAL_DATA is not set");
            None
        }
    }
}
