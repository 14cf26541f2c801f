//! libFuzzer target: the REM importer on a workbook whose *sheet XML* is the input (zipped
//! around it with valid checksums, beside the shared strings of the demo REM), so that
//! mutations reach the spreadsheet's XML reading instead of stopping at the archive's checks.

#![no_main]

mod common;
#[path = "../../crates/preuves_import/tests/it/fuzz/xlsx.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "shared with the proptest fuzz tests"
)]
mod xlsx;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// The demo DUI-MS REM as workbook parts.
fn parts() -> &'static xlsx::Parts {
    static PARTS: OnceLock<xlsx::Parts> = OnceLock::new();
    PARTS.get_or_init(|| xlsx::workbook_parts(&xlsx::csv_rows(&common::demo_rems()[0])))
}

fuzz_target!(
    init: common::seed_corpus("rem_xlsx_sheet", &[parts()[xlsx::SHEET].1.clone()]),
    |data: &[u8]| {
        let mut parts = parts().clone();
        parts[xlsx::SHEET].1 = data.to_vec();
        match preuves_import::import_rem_xlsx("fuzz.xlsx", &xlsx::zip(&parts)) {
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
