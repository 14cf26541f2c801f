//! libFuzzer target: `catalogue.toml` loaded from a folder holding the demo REMs and an
//! equivalence table (written once per process), so that mutations keeping the file names
//! reach the REM import and the catalogue checks.

#![no_main]

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// The process's folder, with the demo REMs and an equivalence table.
fn folder() -> &'static PathBuf {
    static FOLDER: OnceLock<PathBuf> = OnceLock::new();
    FOLDER.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("preuves-fuzz-catalogue-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary folder");
        for rem in [
            "REM-DPI-Va2-demo.csv",
            "REM-DPI-Va2-demo-v1.csv",
            "REM-DUI-MS-Va2-demo.csv",
        ] {
            std::fs::write(
                dir.join(rem),
                common::repo_file(&format!("demo/catalogue/{rem}")),
            )
            .expect("REM copied");
        }
        std::fs::write(
            dir.join("equivalences.csv"),
            "Dispositif A,ID A,Dispositif B,ID B\nDPI,INS/va1.01,DUI-MS,INS/va1.01\n",
        )
        .expect("table written");
        dir
    })
}

fn seeds() -> Vec<Vec<u8>> {
    let demo = common::repo_file("demo/catalogue/catalogue.toml");
    let mut with_table = b"equivalences = \"equivalences.csv\"\n".to_vec();
    with_table.extend_from_slice(&demo);
    vec![demo, with_table]
}

fuzz_target!(
    init: {
        folder();
        common::seed_corpus("catalogue_toml", &seeds());
    },
    |data: &[u8]| {
        let path = folder().join("catalogue.toml");
        std::fs::write(&path, data).expect("catalogue written");
        match preuves_import::load_catalogue(&path) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    let _ = w.to_string();
                }
            }
            Err(failure) => {
                assert!(!failure.errors.is_empty());
                let _ = failure.to_string();
            }
        }
    }
);
