//! libFuzzer target: a scenario file (JSON) parsed and, when it parses, evaluated against the
//! demo catalogue and printed both ways, as `preuves simulate` does.

#![no_main]

mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use preuves_domain::Catalogue;
use preuves_domain::scenario::ScenarioFile;

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        preuves_import::load_catalogue(&common::root().join("demo/catalogue/catalogue.toml"))
            .expect("the demo catalogue loads")
            .catalogue
    })
}

fn seeds() -> Vec<Vec<u8>> {
    ["cas-nominal.json", "cas-1.json", "cas-2.json", "cas-3.json"]
        .iter()
        .map(|f| common::repo_file(&format!("demo/scenarios/{f}")))
        .collect()
}

fuzz_target!(
    init: {
        catalogue();
        common::seed_corpus("scenario_json", &seeds());
    },
    |data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        match ScenarioFile::from_json(text) {
            Ok(file) => {
                let answer = file.evaluate(catalogue());
                let _ = answer.to_json_pretty();
                let _ = preuves_domain::text::render(&answer);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
);
