//! Benchmarks of `compute_plan`: on the real RIS REM (the largest) with one héritage and one
//! équivalence NRU, and on a synthetic catalogue of 20,000 requirements.
//!
//! `PREUVES_REAL_DATA=<rem-draft-2023 folder> cargo bench -p preuves_import --bench plan`

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use preuves_domain::{
    Candidature, Catalogue, ChapterCode, Dispositif, DispositifCode, DispositifKey, Nru, Perimeter,
    Profile, ProofSpec, Referencing, ReferencingStatus, Rem, RemVersionLabel, Requirement,
    RequirementId, Scenario, Siren, SocleId, Version, Wave, compute_plan,
};

fn key(code: &str, wave: Wave) -> DispositifKey {
    DispositifKey {
        code: DispositifCode::parse(code).unwrap(),
        wave,
    }
}

fn referencing(nru: &str, code: &str, wave: Wave, profiles: &[&str]) -> Referencing {
    Referencing {
        nru: Nru::parse(nru).unwrap(),
        vendor: Siren::parse("732829320").unwrap(),
        dispositif: key(code, wave),
        profiles: profiles
            .iter()
            .map(|p| Profile::parse(p).unwrap())
            .collect(),
        solution: "A".to_owned(),
        main_component: "A-core".to_owned(),
        version: Version::parse("1.0").unwrap(),
        status: ReferencingStatus::Valid,
        rem_version: None,
        granted_on: None,
    }
}

fn candidature(target: &str, optional: &[&str], nrus: &[&str]) -> Candidature {
    Candidature {
        vendor: Siren::parse("732829320").unwrap(),
        target: key(target, Wave::Two),
        optional_profiles: optional
            .iter()
            .map(|p| Profile::parse(p).unwrap())
            .collect(),
        solution: "A".to_owned(),
        main_component: "A-core".to_owned(),
        version: Version::parse("2.0").unwrap(),
        nrus: nrus.iter().map(|n| Nru::parse(n).unwrap()).collect(),
        additional_components: vec![],
        commercial_names: vec![],
        honour_statement: false,
        late: None,
        rem_version: None,
        opened_on: None,
    }
}

fn real_ris(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("PREUVES_REAL_DATA").map(PathBuf::from) else {
        eprintln!("skipped: plan on the real RIS REM: PREUVES_REAL_DATA is not set");
        return;
    };
    let catalogue = preuves_import::catalogue::load_catalogue(&dir.join("catalogue.toml"))
        .expect("the real catalogue loads")
        .catalogue;
    let register = vec![
        referencing("REF-RIS-1-0001", "RIS", Wave::One, &[]),
        referencing("REF-DPI-2-0001", "DPI", Wave::Two, &["IAM"]),
    ];
    let cand = candidature(
        "RIS",
        &["IAM", "BAL PER-ORG"],
        &["REF-RIS-1-0001", "REF-DPI-2-0001"],
    );
    let plan = compute_plan(&catalogue, &register, &cand).expect("accepted");
    eprintln!("RIS plan: {:?}", plan.summary);
    c.bench_function("plan/real_ris_heritage_and_equivalence", |b| {
        b.iter(|| {
            compute_plan(
                black_box(&catalogue),
                black_box(&register),
                black_box(&cand),
            )
        })
    });
}

/// A REM of `n` requirements over 8 chapters and 4 profiles; socle ids overlap between REMs by
/// `offset` so that about half of them are common.
fn synthetic_rem(n: usize, offset: usize) -> Rem {
    const CHAPTERS: [&str; 8] = ["INS", "DMP", "MSS", "PSC", "SSI", "ANN", "DOC", "USA"];
    const PROFILES: [&str; 4] = ["Général", "PA", "PH", "PDE"];
    let requirements = (0..n)
        .map(|i| {
            let id = RequirementId::parse(&format!("{}.{i:05}", CHAPTERS[i % 8])).unwrap();
            Requirement {
                chapter_code: ChapterCode::parse(CHAPTERS[i % 8]).unwrap(),
                chapter: CHAPTERS[i % 8].to_owned(),
                function: String::new(),
                text: format!("Le système DOIT {i}."),
                comment: String::new(),
                profile: Profile::parse(PROFILES[(i / 8) % 4]).unwrap(),
                historical_profile: String::new(),
                criticality: String::new(),
                socle_id: (i % 5 != 0)
                    .then(|| SocleId::parse(&format!("SC.{}", i + offset)).unwrap()),
                wave1_id: None,
                scenarios: vec![Scenario {
                    id: Some(format!("{id}.01")),
                    text: String::new(),
                    proofs: vec![ProofSpec {
                        id: None,
                        text: "Vidéo".to_owned(),
                    }],
                }],
                perimeter: if i % 2 == 0 {
                    Perimeter::Wave1
                } else {
                    Perimeter::Wave2
                },
                id,
            }
        })
        .collect();
    Rem::new(requirements).unwrap()
}

fn synthetic(c: &mut Criterion) {
    let n = 20_000;
    let dispositif = |code: &str, wave, predecessors: &[&str], rem| Dispositif {
        key: key(code, wave),
        name: code.to_owned(),
        corridor: "X".to_owned(),
        predecessors: predecessors
            .iter()
            .map(|p| DispositifCode::parse(p).unwrap())
            .collect(),
        date2: None,
        wave1_profiles: vec![],
        rem,
        rem_version: RemVersionLabel::initial(),
        older_rems: vec![],
        opens_on: None,
    };
    let catalogue = Catalogue::new(
        vec![
            dispositif("T", Wave::One, &[], None),
            dispositif("T", Wave::Two, &["T"], Some(synthetic_rem(n, 0))),
            dispositif("E", Wave::Two, &[], Some(synthetic_rem(n, n / 2))),
        ],
        &[],
    )
    .unwrap();
    let register = vec![
        referencing("REF-T-1-0001", "T", Wave::One, &["PA"]),
        referencing("REF-E-2-0001", "E", Wave::Two, &["PA", "PH"]),
    ];
    let cand = candidature("T", &["PA", "PH", "PDE"], &["REF-T-1-0001", "REF-E-2-0001"]);
    let plan = compute_plan(&catalogue, &register, &cand).expect("accepted");
    eprintln!("synthetic plan: {:?}", plan.summary);
    c.bench_function("plan/synthetic_20000", |b| {
        b.iter(|| {
            compute_plan(
                black_box(&catalogue),
                black_box(&register),
                black_box(&cand),
            )
        })
    });
}

criterion_group!(benches, real_ris, synthetic);
criterion_main!(benches);
