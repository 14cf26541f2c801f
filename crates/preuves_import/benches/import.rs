//! Benchmark of importing the six real draft REMs (CSV), all together.
//!
//! `PREUVES_REAL_DATA=<rem-draft-2023 folder> cargo bench -p preuves_import --bench import`

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};

fn six_real_csvs(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("PREUVES_REAL_DATA").map(PathBuf::from) else {
        eprintln!("skipped: import of the real REMs: PREUVES_REAL_DATA is not set");
        return;
    };
    let files: Vec<(String, Vec<u8>)> = ["DPI", "DRIMBOX", "LGC", "PFI", "RIS", "SGL"]
        .iter()
        .map(|name| {
            let file = format!("REM-{name}-Va2.csv");
            let bytes = std::fs::read(dir.join(&file)).expect("the real REM is readable");
            (file, bytes)
        })
        .collect();
    c.bench_function("import/six_real_csvs", |b| {
        b.iter(|| {
            for (name, bytes) in &files {
                black_box(preuves_import::import_rem_csv(name, black_box(bytes)).expect("imports"));
            }
        })
    });
}

criterion_group!(benches, six_real_csvs);
criterion_main!(benches);
