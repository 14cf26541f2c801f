//! The real files, read where `PREUVES_REAL_DATA` points (never copied into the repository):
//! every test returns early, saying so, when the variable is unset.

use std::collections::BTreeMap;
use std::path::PathBuf;

use preuves_domain::{DispositifCode, DispositifKey, Perimeter, Profile, RequirementId, Wave};
use preuves_import::{Issue, import_rem_file, load_catalogue};

/// One real REM: file stem, requirements, data rows, warnings per code.
type RealRem = (&'static str, usize, usize, &'static [(&'static str, usize)]);

/// The six real REMs.
const REMS: [RealRem; 6] = [
    (
        "DPI",
        146,
        224,
        &[
            ("duplicate_proof", 1),
            ("no_scenario", 13),
            ("proof_number_mismatch", 12),
            ("scenario_number_mismatch", 7),
        ],
    ),
    (
        "DRIMBOX",
        146,
        176,
        &[
            ("chapter_spelling", 1),
            ("duplicate_proof", 1),
            ("no_scenario", 89),
            ("proof_number_mismatch", 10),
            ("scenario_number_mismatch", 2),
        ],
    ),
    (
        "LGC",
        227,
        331,
        &[
            ("chapter_spelling", 1),
            ("no_proof", 1),
            ("no_scenario", 27),
            ("proof_number_mismatch", 7),
            ("scenario_number_mismatch", 2),
        ],
    ),
    (
        "PFI",
        100,
        171,
        &[
            ("duplicate_proof", 1),
            ("no_scenario", 2),
            ("proof_number_mismatch", 9),
        ],
    ),
    (
        "RIS",
        246,
        385,
        &[
            ("duplicate_proof", 1),
            ("no_scenario", 29),
            ("proof_number_mismatch", 14),
            ("scenario_number_mismatch", 2),
        ],
    ),
    (
        "SGL",
        222,
        371,
        &[
            ("chapter_spelling", 1),
            ("duplicate_proof", 1),
            ("no_proof", 1),
            ("no_scenario", 17),
            ("proof_number_mismatch", 13),
            ("scenario_number_mismatch", 4),
        ],
    ),
];

fn real_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PREUVES_REAL_DATA").map(PathBuf::from);
    if dir.is_none() {
        eprintln!("skipped: PREUVES_REAL_DATA is not set");
    }
    dir
}

fn summary(warnings: &[Issue]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for w in warnings {
        *counts.entry(w.code.as_str()).or_default() += 1;
    }
    counts
}

fn key(code: &str, wave: Wave) -> DispositifKey {
    DispositifKey {
        code: DispositifCode::parse(code).unwrap(),
        wave,
    }
}

#[test]
fn the_six_real_rems_load_with_exact_counts_and_warnings() {
    let Some(dir) = real_dir() else { return };
    for (name, requirements, rows, warnings) in REMS {
        let path = dir.join(format!("REM-{name}-Va2.csv"));
        let import = import_rem_file(&path).unwrap_or_else(|f| panic!("{name}:\n{f}"));
        assert_eq!(import.rem.requirements().len(), requirements, "{name}");
        assert_eq!(import.rows, rows, "{name}");
        let expected: BTreeMap<&str, usize> = warnings.iter().copied().collect();
        assert_eq!(summary(&import.warnings), expected, "{name}");
        // Every warning is located.
        for w in &import.warnings {
            assert!(w.line.is_some() && !w.ids.is_empty(), "{w}");
            assert_eq!(w.file, path.display().to_string());
        }
    }
}

#[test]
fn real_rems_keep_their_chapter_spellings_apart_as_the_domain_says() {
    let Some(dir) = real_dir() else { return };
    let lgc = import_rem_file(&dir.join("REM-LGC-Va2.csv")).unwrap();
    let apcv: Vec<_> = lgc
        .rem
        .requirements()
        .iter()
        .filter(|r| r.chapter_code.as_str() == "APCV")
        .map(|r| r.id.as_str())
        .collect();
    assert!(apcv.iter().any(|id| id.starts_with("ApCV")));
    assert!(apcv.iter().any(|id| id.starts_with("APCV")));
    let w = lgc
        .warnings
        .iter()
        .find(|w| w.code.as_str() == "chapter_spelling")
        .unwrap();
    assert!(
        w.message.contains("ApCV") && w.message.contains("APCV"),
        "{w}"
    );

    let drimbox = import_rem_file(&dir.join("REM-DRIMBOX-Va2.csv")).unwrap();
    let w = drimbox
        .warnings
        .iter()
        .find(|w| w.code.as_str() == "chapter_spelling")
        .unwrap();
    assert!(
        w.message.contains("VI_SO") && w.message.contains("VI-SO"),
        "{w}"
    );
    let chapters: Vec<_> = drimbox.rem.chapters().iter().map(|c| c.as_str()).collect();
    assert!(chapters.contains(&"VI-SO") && chapters.contains(&"VI_SO"));
}

#[test]
fn real_rem_folds_rows_into_scenarios_and_proofs() {
    let Some(dir) = real_dir() else { return };
    let dpi = import_rem_file(&dir.join("REM-DPI-Va2.csv")).unwrap();
    let rem = &dpi.rem;
    let ann = rem
        .requirement(&RequirementId::parse("ANN/va1.01").unwrap())
        .unwrap();
    assert_eq!(rem.position(&ann.id), Some(0));
    assert_eq!(ann.perimeter, Perimeter::Wave1);
    assert_eq!(ann.chapter_code.as_str(), "ANN");
    assert_eq!(ann.chapter, "Annuaire Santé.fr");
    assert!(ann.profile.is_general());
    assert_eq!(ann.socle_id.as_ref().unwrap().as_str(), "SC.ANN/va1.01");
    assert_eq!(ann.wave1_id.as_deref(), Some("ANN.01"));
    assert_eq!(ann.scenarios.len(), 1);
    assert_eq!(ann.scenarios[0].id.as_deref(), Some("ANN/va1.01.01"));
    let proofs: Vec<_> = ann.scenarios[0]
        .proofs
        .iter()
        .map(|p| p.id.as_deref().unwrap())
        .collect();
    assert_eq!(proofs, ["ANN/va1.01.01.01", "ANN/va1.01.01.02"]);
    // Multi-line cells keep their inner line breaks, trimmed.
    let ann2 = rem
        .requirement(&RequirementId::parse("ANN/va1.02").unwrap())
        .unwrap();
    assert!(ann2.scenarios[0].text.contains('\n'));
    assert!(!ann2.scenarios[0].text.ends_with(char::is_whitespace));
    // The optional profiles of the REM, in order of appearance.
    let optional: Vec<_> = rem.optional_profiles().map(Profile::as_str).collect();
    assert_eq!(optional.len(), 6, "{optional:?}");
    assert!(optional.contains(&"IAM") && optional.contains(&"IE Usagers"));
    // Every row gives one proof, but the 13 rows without scenario nor proof.
    assert_eq!(rem.proof_count(), 224 - 13);
}

#[test]
fn real_xlsx_gives_the_same_rem_as_the_csv() {
    let Some(dir) = real_dir() else { return };
    let csv = import_rem_file(&dir.join("REM-DPI-Va2.csv")).unwrap();
    let xlsx = import_rem_file(&dir.join("REM-DPI-Va2.xlsx")).unwrap();
    assert_eq!(xlsx.rem, csv.rem);
    assert_eq!(xlsx.rows, csv.rows);
    assert_eq!(summary(&xlsx.warnings), summary(&csv.warnings));
    let ids = |w: &[Issue]| {
        w.iter()
            .map(|i| (i.code, i.ids.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&xlsx.warnings), ids(&csv.warnings));
    // CSV lines are physical lines (multi-line cells count), spreadsheet rows are rows.
    let lines = |w: &[Issue], id: &str| {
        w.iter()
            .find(|i| i.ids == [id])
            .and_then(|i| i.line)
            .unwrap()
    };
    assert_eq!(lines(&csv.warnings, "DMP/va1.06"), 21);
    assert_eq!(lines(&xlsx.warnings, "DMP/va1.06"), 12);
    assert_eq!(lines(&csv.warnings, "SSI/IAM.94"), 701);
    assert_eq!(lines(&xlsx.warnings, "SSI/IAM.94"), 182);
}

#[test]
fn the_convergence_template_holds_one_requirement() {
    let Some(dir) = real_dir() else { return };
    let path = dir.join("../template-export-convergence.xlsx");
    let import = import_rem_file(&path).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(import.rows, 1);
    // The template has the 14 Convergence columns and no other: no warning.
    assert!(import.warnings.is_empty(), "{:?}", import.warnings);
    let [r] = import.rem.requirements() else {
        panic!("one requirement expected")
    };
    assert_eq!(r.id.as_str(), "MSS/CDA.01");
    assert_eq!(r.chapter_code.as_str(), "MSS");
    assert_eq!(r.perimeter, Perimeter::Wave1);
    assert_eq!(
        r.chapter,
        "Modalités d'intégration d'un document au format CDA"
    );
    assert_eq!(r.function, "Intégration d'un document CDA reçu");
    assert!(
        r.text
            .starts_with("Le système vérifie au moment de la récupération")
    );
    assert_eq!(r.comment, "test");
    assert!(r.profile.is_general());
    assert_eq!(r.historical_profile, "Général");
    assert_eq!(r.criticality, "Mineure");
    assert_eq!(r.socle_id, None);
    assert_eq!(r.wave1_id, None);
    assert_eq!(r.scenarios.len(), 1);
    let s = &r.scenarios[0];
    assert_eq!(s.id.as_deref(), Some("MSS/CDA.01.01"));
    assert_eq!(s.text, r.text);
    assert_eq!(s.proofs.len(), 1);
    assert_eq!(s.proofs[0].id.as_deref(), Some("MSS/CDA.01.01.01"));
    assert_eq!(s.proofs[0].text, r.text);
}

#[test]
fn the_real_catalogue_loads() {
    let Some(dir) = real_dir() else { return };
    let loaded = load_catalogue(&dir.join("catalogue.toml")).unwrap_or_else(|f| panic!("{f}"));
    let catalogue = &loaded.catalogue;
    assert_eq!(catalogue.dispositifs().len(), 11);
    let waves: Vec<_> = catalogue.dispositifs().iter().map(|d| d.key.wave).collect();
    assert_eq!(waves.iter().filter(|w| **w == Wave::One).count(), 5);
    let mut total_warnings = 0;
    for (name, requirements, rows, warnings) in REMS {
        let k = key(name, Wave::Two);
        let d = catalogue.dispositif(&k).unwrap();
        assert_eq!(
            d.rem.as_ref().unwrap().requirements().len(),
            requirements,
            "{name}"
        );
        let (_, path, r) = loaded.rems.iter().find(|(rk, _, _)| *rk == k).unwrap();
        assert_eq!(*r, rows, "{name}");
        assert!(path.ends_with(format!("REM-{name}-Va2.csv")));
        assert_eq!(d.date2.unwrap().to_string(), "2026-12-15");
        total_warnings += warnings.iter().map(|(_, n)| n).sum::<usize>();
    }
    assert_eq!(loaded.rems.len(), 6);
    assert_eq!(loaded.warnings.len(), total_warnings);
    let dpi2 = catalogue.dispositif(&key("DPI", Wave::Two)).unwrap();
    assert_eq!(dpi2.predecessors, [DispositifCode::parse("DPI").unwrap()]);
    assert!(
        catalogue
            .dispositif(&key("DRIMBOX", Wave::Two))
            .unwrap()
            .predecessors
            .is_empty()
    );

    // Exigences communes through socle ids, as counted in the data's README.
    let common = |a: &str, b: &str| {
        let ka = key(a, Wave::Two);
        let rem = catalogue.dispositif(&ka).unwrap().rem.as_ref().unwrap();
        rem.requirements()
            .iter()
            .filter(|r| {
                catalogue
                    .shared_with(&ka, &r.id)
                    .iter()
                    .any(|(d, _)| d.key.code.as_str() == b)
            })
            .count()
    };
    assert_eq!(common("DPI", "RIS"), 106);
    assert_eq!(common("DPI", "LGC"), 79);
    assert_eq!(common("LGC", "RIS"), 172);
    assert_eq!(common("DPI", "PFI"), 57);
}

/// R2 on the real REMs: a RIS candidature citing a DPI referencing granted on an older DPI REM
/// (here the real one without its INS chapter) masks only what that version shared; citing the
/// version in force gives the very plan of the catalogue without older version.
#[test]
fn real_equivalence_follows_the_version_the_source_was_granted_on() {
    use preuves_domain::scenario::Answer;
    use preuves_domain::{
        Candidature, Catalogue, Nru, OlderRem, Referencing, ReferencingStatus, Rem,
        RemVersionLabel, Siren, Status, Version, compute_plan,
    };

    let Some(dir) = real_dir() else { return };
    let loaded = load_catalogue(&dir.join("catalogue.toml")).unwrap_or_else(|f| panic!("{f}"));
    let plain = loaded.catalogue;
    let older_label = RemVersionLabel::parse("2023-brouillon").unwrap();
    let dispositifs = plain
        .dispositifs()
        .iter()
        .cloned()
        .map(|mut d| {
            if d.key == key("DPI", Wave::Two) {
                let rem = d.rem.as_ref().unwrap();
                let kept = rem
                    .requirements()
                    .iter()
                    .filter(|r| r.chapter_code.as_str() != "INS")
                    .cloned()
                    .collect();
                d.older_rems.push(OlderRem {
                    version: older_label.clone(),
                    rem: Rem::new(kept).unwrap(),
                });
            }
            d
        })
        .collect();
    let versioned = Catalogue::new(dispositifs, &[]).unwrap();

    let referencing = |version: Option<RemVersionLabel>| Referencing {
        nru: Nru::parse("REF-DPI-2-0001").unwrap(),
        vendor: Siren::parse("732829320").unwrap(),
        dispositif: key("DPI", Wave::Two),
        profiles: vec![Profile::parse("IAM").unwrap()],
        solution: "R".to_owned(),
        main_component: "R-core".to_owned(),
        version: Version::parse("7.0").unwrap(),
        status: ReferencingStatus::Valid,
        rem_version: version,
        granted_on: None,
    };
    let candidature = Candidature {
        vendor: Siren::parse("732829320").unwrap(),
        target: key("RIS", Wave::Two),
        optional_profiles: vec![],
        solution: "R".to_owned(),
        main_component: "R-core".to_owned(),
        version: Version::parse("7.1").unwrap(),
        nrus: vec![Nru::parse("REF-DPI-2-0001").unwrap()],
        additional_components: vec![],
        commercial_names: vec![],
        honour_statement: false,
        late: None,
        rem_version: None,
        opened_on: None,
    };
    let in_force = vec![referencing(None)];
    let before = Answer::new(&compute_plan(&plain, &in_force, &candidature));
    let after = Answer::new(&compute_plan(&versioned, &in_force, &candidature));
    assert_eq!(before, after);
    assert!(before.summary.unwrap().masked_equivalence > 0);

    let granted_on_older = vec![referencing(Some(older_label))];
    let older = compute_plan(&versioned, &granted_on_older, &candidature).unwrap();
    let masked = |a: &Answer| {
        a.requirements
            .iter()
            .filter(|r| r.status == Status::MaskedEquivalence)
            .map(|r| r.id.to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let older_masked = masked(&Answer::new(&Ok(older.clone())));
    let in_force_masked = masked(&before);
    assert!(older_masked.is_subset(&in_force_masked));
    assert!(older_masked.len() < in_force_masked.len());
    // Every source cited is a requirement of the older version, outside INS.
    for e in &older.entries {
        if let Some(preuves_domain::Reason::Equivalence {
            source,
            source_version,
            ..
        }) = &e.reason
        {
            assert_eq!(source_version.as_str(), "2023-brouillon");
            assert_ne!(source.chapter_code.as_str(), "INS");
        }
    }
}
