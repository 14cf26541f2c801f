//! libFuzzer target: the REM importer on arbitrary CSV bytes. Ok or a clean refusal, never a
//! panic.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: common::seed_corpus("rem_csv", &common::demo_rems()),
    |data: &[u8]| {
        match preuves_import::import_rem_csv("fuzz.csv", data) {
            Ok(import) => {
                for w in &import.warnings {
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
