//! Rendering an attestation with a 300-requirement reuse manifest (target: under 300 ms).
//!
//! typst memoises typesetting results across compilations: rendering the very same attestation
//! again mostly hits that cache. The headline measure, `distinct`, therefore renders a different
//! attestation each time (every NRU and requirement id changes), as a server does; `same` shows
//! the re-render of an unchanged attestation.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use preuves_pdf::{Attestation, ManifestEntry, Origin, render_attestation};

/// An attestation of `requirements` rows whose ids all carry `serial`.
fn attestation(requirements: usize, serial: u32) -> Attestation {
    let manifest = (1..=requirements)
        .map(|i| ManifestEntry {
            requirement: format!(
                "DUI.{}.{serial}.{i:03}",
                ["INS", "DMP", "MSS", "PSC", "SSI"][i % 5]
            ),
            chapter: ["INS", "DMP", "MSS", "PSC", "SSI"][i % 5].to_owned(),
            origin: match i % 4 {
                0 => Origin::Proven,
                1 => Origin::Inherited {
                    nru: format!("NRU-2023-MS1-{serial:06}"),
                },
                2 => Origin::Equivalent {
                    nru: format!("NRU-2025-DPI-{serial:06}"),
                    source_requirement: format!("DPI.{serial}.{i:03}"),
                    source_dispositif: "DPI-VA2".into(),
                },
                _ => Origin::AdditionalComponent {
                    component: "Module INS".into(),
                },
            },
        })
        .collect();
    Attestation {
        nru: format!("NRU-2026-DUI-{serial:06}"),
        verification_code: format!("7KQ4-MZ2P-{serial:04}"),
        verification_url: format!("https://preuves.example.fr/verifier/NRU-2026-DUI-{serial:06}"),
        decided_on: "2026-11-26".into(),
        vendor_name: "Éditions Médicales de l’Ouest".into(),
        vendor_siren: "123456789".into(),
        solution: "Dossier usager Hélios".into(),
        main_component: "helios-core".into(),
        version: "4.2.1".into(),
        commercial_names: vec!["Hélios".into(), "Hélios Pro".into(), "DU Santé".into()],
        dispositif_code: "DUI-MS-VA2".into(),
        dispositif_label: "DUI médico-social".into(),
        wave: 2,
        profiles: vec!["Général".into(), "PA".into(), "PDE".into()],
        rem_version: "2026.1".into(),
        manifest,
    }
}

fn bench(c: &mut Criterion) {
    // The first render parses the fonts; it is outside the measurement, as in a running server.
    render_attestation(&attestation(300, 0)).expect("renders");
    let mut group = c.benchmark_group("attestation_300_requirements");
    group.sample_size(30);
    let mut serial = 0;
    group.bench_function("distinct", |b| {
        b.iter_batched(
            || {
                serial += 1;
                attestation(300, serial)
            },
            |a| render_attestation(black_box(&a)).expect("renders"),
            BatchSize::SmallInput,
        );
    });
    let same = attestation(300, 0);
    group.bench_function("same", |b| {
        b.iter(|| render_attestation(black_box(&same)).expect("renders"));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
