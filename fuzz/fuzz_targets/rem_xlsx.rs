//! libFuzzer target: the REM importer on arbitrary XLSX bytes (the seeds are the demo REMs as
//! workbooks). Ok or a clean refusal, never a panic nor a huge allocation.

#![no_main]

mod common;
#[path = "../../crates/preuves_import/tests/it/fuzz/xlsx.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "shared with the proptest fuzz tests"
)]
mod xlsx;

use libfuzzer_sys::fuzz_target;

fn seeds() -> Vec<Vec<u8>> {
    common::demo_rems()
        .iter()
        .map(|csv| xlsx::zip(&xlsx::workbook_parts(&xlsx::csv_rows(csv))))
        .collect()
}

fuzz_target!(
    init: common::seed_corpus("rem_xlsx", &seeds()),
    |data: &[u8]| {
        match preuves_import::import_rem_xlsx("fuzz.xlsx", data) {
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
