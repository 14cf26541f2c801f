//! Unit tests of the REM import: header matching, folding, and every error and warning code on
//! tiny inline CSVs; properties on arbitrary input and on generated REMs.

use proptest::prelude::*;

use super::*;

const HEADER: [&str; 16] = [
    "Périmètre",
    "ID",
    "Chapitre",
    "Fonction",
    "Exigence",
    "Commentaire",
    "Profil",
    "N° scénario",
    "Scénario de conformité",
    "N° preuve",
    "Preuve",
    "Profil historique",
    "Criticité",
    "Ordre",
    "Exigence socle",
    "ID vague 1",
];

// Column positions in `HEADER`.
const PER: usize = 0;
const ID: usize = 1;
const CHAP: usize = 2;
const FUNC: usize = 3;
const TEXT: usize = 4;
const PROF: usize = 6;
const SNO: usize = 7;
const STEXT: usize = 8;
const PNO: usize = 9;
const PTEXT: usize = 10;
const SOCLE: usize = 14;

type Row = [String; 16];

/// A well-formed row of requirement `id`, scenario `sno`, proof `pno` (empty: none).
fn row(id: &str, sno: &str, pno: &str) -> Row {
    let mut r: Row = Default::default();
    r[PER] = "Vague 2".into();
    r[ID] = id.into();
    r[CHAP] = "Chapitre".into();
    r[FUNC] = "Fonction".into();
    r[TEXT] = format!("Texte de {id}");
    r[PROF] = "Général".into();
    r[SNO] = sno.into();
    if !sno.is_empty() {
        r[STEXT] = format!("Scénario {sno}");
    }
    r[PNO] = pno.into();
    if !pno.is_empty() {
        r[PTEXT] = format!("Preuve {pno}");
    }
    r
}

fn with(mut r: Row, col: usize, value: &str) -> Row {
    r[col] = value.into();
    r
}

/// A CSV with `header` and `rows`, quoted as needed, `\n` line ends.
fn csv_of(header: &[&str], rows: &[Row]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.into_inner().unwrap()
}

fn import(rows: &[Row]) -> Result<RemImport, ImportFailure> {
    import_rem_csv("REM-T.csv", &csv_of(&HEADER, rows))
}

fn codes(issues: &[Issue]) -> Vec<&'static str> {
    issues.iter().map(|i| i.code.as_str()).collect()
}

fn errors(result: Result<RemImport, ImportFailure>) -> Vec<Issue> {
    match result {
        Ok(_) => panic!("errors expected"),
        Err(f) => f.errors,
    }
}

fn ids(rem: &Rem) -> Vec<&str> {
    rem.requirements().iter().map(|r| r.id.as_str()).collect()
}

#[test]
fn rows_fold_into_requirements_scenarios_and_proofs_in_order() {
    let rows = [
        row("INS.02", "INS.02.01", "INS.02.01.01"),
        row("INS.01", "INS.01.02", "INS.01.02.01"),
        row("INS.01", "INS.01.01", "INS.01.01.01"),
        row("INS.01", "INS.01.02", "INS.01.02.02"),
        row("INS.02", "INS.02.01", "INS.02.01.02"),
        row("DMP/UX.01", "", ""),
    ];
    let import = import(&rows).unwrap();
    assert_eq!(import.rows, 6);
    assert_eq!(ids(&import.rem), ["INS.02", "INS.01", "DMP/UX.01"]);
    let ins01 = &import.rem.requirements()[1];
    let scenarios: Vec<_> = ins01.scenarios.iter().map(|s| s.id.as_deref()).collect();
    assert_eq!(scenarios, [Some("INS.01.02"), Some("INS.01.01")]);
    let proofs: Vec<_> = ins01.scenarios[0]
        .proofs
        .iter()
        .map(|p| (p.id.as_deref(), p.text.as_str()))
        .collect();
    assert_eq!(
        proofs,
        [
            (Some("INS.01.02.01"), "Preuve INS.01.02.01"),
            (Some("INS.01.02.02"), "Preuve INS.01.02.02")
        ]
    );
    assert_eq!(ins01.scenarios[0].text, "Scénario INS.01.02");
    assert_eq!(ins01.text, "Texte de INS.01");
    assert_eq!(ins01.chapter_code.as_str(), "INS");
    assert_eq!(ins01.perimeter, Perimeter::Wave2);
    let dmp = &import.rem.requirements()[2];
    assert_eq!(dmp.chapter_code.as_str(), "DMP");
    assert!(dmp.scenarios.is_empty());
    assert_eq!(codes(&import.warnings), ["no_scenario"]);
    assert_eq!(import.warnings[0].line, Some(7));
    assert_eq!(import.rem.chapters().len(), 2);
}

#[test]
fn descriptive_cells_are_trimmed_and_empty_optional_ones_are_none() {
    let mut r = row("INS.01", "INS.01.01", "INS.01.01.01");
    r[TEXT] = "  Le système DOIT\r\nfaire   ".into();
    r[SOCLE] = " SC.INS.01 ".into();
    r[PROF] = " IAM ".into();
    r[PER] = "vague 1".into();
    let import = import(&[r]).unwrap();
    let req = &import.rem.requirements()[0];
    assert_eq!(req.text, "Le système DOIT\nfaire");
    assert_eq!(req.socle_id.as_ref().unwrap().as_str(), "SC.INS.01");
    assert_eq!(req.profile.as_str(), "IAM");
    assert_eq!(req.perimeter, Perimeter::Wave1);
    assert_eq!(req.wave1_id, None);
    assert_eq!(req.comment, "");
}

#[test]
fn headers_match_in_any_order_case_and_spacing_with_semicolons() {
    let text = "\u{feff} id ;PROFIL;  n°   SCÉNARIO ;périmètre;Exigence;chapitre;Notes internes\r\n\
                INS.01;Général;INS.01.01;Vague 1;Texte;Identité;à revoir\r\n\
                ;;;;;;\r\n\
                INS.02;PA;;Vague 2;Autre;Identité;\r\n";
    let import = import_rem_csv("REM.csv", text.as_bytes()).unwrap();
    assert_eq!(ids(&import.rem), ["INS.01", "INS.02"]);
    assert_eq!(import.rows, 2, "the blank row is skipped");
    let r = &import.rem.requirements()[0];
    assert_eq!(r.perimeter, Perimeter::Wave1);
    assert_eq!(r.chapter, "Identité");
    assert_eq!(r.scenarios[0].id.as_deref(), Some("INS.01.01"));
    assert_eq!(r.scenarios[0].text, "");
    // Missing Convergence columns are warned about, each once; the extra ones are silent.
    let missing: Vec<_> = import
        .warnings
        .iter()
        .filter(|w| w.code == IssueCode::MissingOptionalColumn)
        .map(|w| w.column.as_deref().unwrap())
        .collect();
    assert_eq!(
        missing,
        [
            "Fonction",
            "Commentaire",
            "Scénario de conformité",
            "N° preuve",
            "Preuve",
            "Profil historique",
            "Criticité",
            "Ordre"
        ]
    );
    let unknown: Vec<_> = import
        .warnings
        .iter()
        .filter(|w| w.code == IssueCode::UnknownColumn)
        .collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].column.as_deref(), Some("Notes internes"));
    assert_eq!(unknown[0].line, Some(1));
}

#[test]
fn the_header_is_the_first_non_blank_row() {
    let mut bytes = b"\n,,,\n".to_vec();
    bytes.extend(csv_of(&HEADER, &[row("A.01", "A.01.01", "A.01.01.01")]));
    let import = import_rem_csv("REM.csv", &bytes).unwrap();
    assert_eq!(ids(&import.rem), ["A.01"]);
    assert!(import.warnings.is_empty(), "{:?}", import.warnings);
}

#[test]
fn every_missing_required_column_is_reported() {
    let header = ["Fonction", "N° scénario", "Exigence socle"];
    let result = import_rem_csv("REM.csv", &csv_of(&header, &[]));
    let errors = errors(result);
    let missing: Vec<_> = errors
        .iter()
        .filter(|e| e.code == IssueCode::MissingColumn)
        .map(|e| e.column.as_deref().unwrap())
        .collect();
    assert_eq!(
        missing,
        ["Périmètre", "ID", "Chapitre", "Exigence", "Profil"]
    );
    assert!(errors.iter().all(|e| e.line == Some(1)));
    assert_eq!(
        codes(&errors).last(),
        Some(&"empty_file"),
        "no data row either"
    );
}

#[test]
fn a_column_given_twice_is_refused() {
    let mut header = HEADER.to_vec();
    header.push("  profil ");
    let mut r = row("A.01", "", "").to_vec();
    r.push("PA".into());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).unwrap();
    w.write_record(&r).unwrap();
    let errors = errors(import_rem_csv("REM.csv", &w.into_inner().unwrap()));
    assert_eq!(codes(&errors), ["duplicate_column"]);
    assert_eq!(errors[0].column.as_deref(), Some("Profil"));
}

#[test]
fn each_row_error_is_located_and_all_are_reported_at_once() {
    let rows = [
        row("A.01", "A.01.01", "A.01.01.01"),
        with(row("", "x", ""), TEXT, "orpheline"),
        row("A 02", "", ""),
        row("/va1.01", "", ""),
        with(row("A.03", "", ""), PER, "Vague 3"),
        with(row("A.04", "", ""), PER, ""),
        with(row("A.05", "", ""), PROF, "  "),
        with(row("A.06", "", ""), SOCLE, "SC A.06"),
    ];
    let errors = errors(import(&rows));
    let found: Vec<_> = errors
        .iter()
        .map(|e| {
            (
                e.code.as_str(),
                e.line.unwrap(),
                e.column.as_deref().unwrap(),
                e.ids.clone(),
            )
        })
        .collect();
    let id = |s: &str| vec![s.to_owned()];
    assert_eq!(
        found,
        [
            ("empty_id", 3, "ID", vec![]),
            ("invalid_id", 4, "ID", id("A 02")),
            ("invalid_id", 5, "ID", id("/va1.01")),
            ("unknown_perimeter", 6, "Périmètre", id("A.03")),
            ("unknown_perimeter", 7, "Périmètre", id("A.04")),
            ("empty_profile", 8, "Profil", id("A.05")),
            ("invalid_socle_id", 9, "Exigence socle", id("A.06")),
        ]
    );
    assert!(errors[3].message.contains("« Vague 3 »"), "{}", errors[3]);
    assert!(errors[4].message.contains("vide"), "{}", errors[4]);
}

#[test]
fn one_row_can_carry_several_errors() {
    let r = with(with(row("A 01", "", ""), PER, "V2"), PROF, "");
    let errors = errors(import(&[r]));
    assert_eq!(
        codes(&errors),
        ["invalid_id", "unknown_perimeter", "empty_profile"]
    );
    assert!(errors.iter().all(|e| e.line == Some(2)));
}

#[test]
fn conflicting_definitions_name_both_lines() {
    let rows = [
        row("A.01", "A.01.01", "A.01.01.01"),
        row("B.01", "", ""),
        with(row("A.01", "A.01.01", "A.01.01.02"), PROF, "IAM"),
        with(row("A.01", "A.01.02", "A.01.02.01"), TEXT, "Autre texte"),
        with(row("A.01", "A.01.03", ""), PER, "Vague 1"),
        with(row("A.01", "A.01.03", ""), SOCLE, "SC.A.01"),
        // Trimmed values compare equal: no conflict.
        with(
            row("A.01", "A.01.01", "A.01.01.03"),
            TEXT,
            "  Texte de A.01 ",
        ),
    ];
    let errors = errors(import(&rows));
    let found: Vec<_> = errors
        .iter()
        .map(|e| (e.line.unwrap(), e.column.as_deref().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            (4, "Profil"),
            (5, "Exigence"),
            (6, "Périmètre"),
            (7, "Exigence socle")
        ]
    );
    for e in &errors {
        assert_eq!(e.code, IssueCode::ConflictingDefinition);
        assert_eq!(e.ids, ["A.01"]);
        assert!(e.message.contains("ligne 2"), "{e}");
    }
    assert!(errors[0].message.contains("« IAM »") && errors[0].message.contains("« Général »"));
}

#[test]
fn unreadable_and_empty_files_are_errors() {
    let e = errors(import_rem_csv("REM.csv", b"P\xE9rim\xE8tre,ID\n"));
    assert_eq!(codes(&e), ["unreadable_file"]);
    assert_eq!(e[0].line, Some(1));

    let e = errors(import_rem_csv("REM.csv", b""));
    assert_eq!(codes(&e), ["empty_file"]);
    assert_eq!(e[0].line, None);

    let e = errors(import_rem_csv("REM.csv", "\u{feff}\r\n".as_bytes()));
    assert_eq!(codes(&e), ["empty_file"]);

    let e = errors(import_rem_csv("REM.csv", &csv_of(&HEADER, &[])));
    assert_eq!(codes(&e), ["empty_file"]);
    assert_eq!(e[0].line, Some(1));

    let e = errors(import_rem_xlsx("REM.xlsx", b"not a workbook"));
    assert_eq!(codes(&e), ["unreadable_file"]);
}

#[test]
fn a_row_with_another_field_count_is_malformed() {
    let mut bytes = csv_of(&HEADER, &[row("A.01", "", "")]);
    bytes.extend_from_slice(b"Vague 2,A.02,\"chapitre mal ferm\xC3\xA9,x\n");
    let e = errors(import_rem_csv("REM.csv", &bytes));
    assert_eq!(codes(&e), ["malformed_row"]);
    assert_eq!(e[0].line, Some(3));
}

#[test]
fn the_format_follows_the_extension() {
    let bytes = csv_of(&HEADER, &[row("A.01", "", "")]);
    assert!(import_rem_bytes("rem.CSV", &bytes).is_ok());
    let e = errors(import_rem_bytes("rem.xlsx", &bytes));
    assert_eq!(codes(&e), ["unreadable_file"]);
    for name in ["rem.xls", "rem.txt", "rem"] {
        let e = errors(import_rem_bytes(name, &bytes));
        assert_eq!(codes(&e), ["unsupported_format"], "{name}");
    }
    assert!(
        errors(import_rem_bytes("rem.xls", &bytes))[0]
            .message
            .contains(".xlsx")
    );
    let e = errors(import_rem_file(Path::new("/nonexistent/REM.csv")));
    assert_eq!(codes(&e), ["unreadable_file"]);
    assert!(e[0].message.contains("introuvable"));
    assert_eq!(e[0].file, "/nonexistent/REM.csv");
}

#[test]
fn failure_display_lists_every_error() {
    let rows = [row("A 01", "", ""), with(row("A.02", "", ""), PROF, "")];
    let failure = import(&rows).unwrap_err();
    let text = failure.to_string();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.starts_with("REM-T.csv:2: colonne « ID » : "), "{text}");
    assert!(text.ends_with("[empty_profile]"), "{text}");
    let _: &dyn std::error::Error = &failure;
}

#[test]
fn scenario_and_proof_warnings() {
    let rows = [
        // Proof without scenario: kept under a scenario without number.
        row("A.01", "", "A.01.01.01"),
        // Scenario without proof.
        row("A.02", "A.02.01", ""),
        // Scenario number not under its requirement, then equal to it.
        row("A.03", "B.03.01", "B.03.01.01"),
        row("A.04", "A.04", "A.04.01"),
        // Prefix without separator is no prefix.
        row("A.1", "A.10.01", "A.10.01.01"),
        // Proof number not under its scenario.
        row("A.05", "A.05.01", "A.05.02.01"),
    ];
    let import = import(&rows).unwrap();
    let found: Vec<_> = import
        .warnings
        .iter()
        .map(|w| (w.code.as_str(), w.line.unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("proof_without_scenario", 2),
            ("no_proof", 3),
            ("scenario_number_mismatch", 4),
            ("scenario_number_mismatch", 5),
            ("scenario_number_mismatch", 6),
            ("proof_number_mismatch", 7),
        ]
    );
    let a01 = &import.rem.requirements()[0];
    assert_eq!(a01.scenarios.len(), 1);
    assert_eq!(a01.scenarios[0].id, None);
    assert_eq!(a01.scenarios[0].proofs[0].id.as_deref(), Some("A.01.01.01"));
    assert!(import.warnings[3].message.contains("identique"));
    assert!(import.rem.requirements()[1].scenarios[0].proofs.is_empty());
}

#[test]
fn repeated_proofs_are_warned_and_identical_ones_dropped() {
    let rows = [
        row("A.01", "A.01.01", "A.01.01.01"),
        row("A.01", "A.01.01", "A.01.01.01"),
        with(
            row("A.01", "A.01.01", "A.01.01.01"),
            PTEXT,
            "Une autre preuve",
        ),
    ];
    let import = import(&rows).unwrap();
    let found: Vec<_> = import
        .warnings
        .iter()
        .map(|w| (w.code.as_str(), w.line.unwrap()))
        .collect();
    assert_eq!(found, [("duplicate_proof", 3), ("duplicate_proof", 4)]);
    let proofs = &import.rem.requirements()[0].scenarios[0].proofs;
    assert_eq!(proofs.len(), 2);
    assert_eq!(proofs[1].text, "Une autre preuve");
}

#[test]
fn chapter_codes_spelled_two_ways_are_warned_once_per_spelling() {
    let rows = [
        row("APCV/va1.01", "", ""),
        row("ApCV/va1.02", "", ""),
        row("ApCV/va1.03", "", ""),
        row("VI-SO.01", "", ""),
        row("VI_SO.02", "", ""),
        row("apcv.04", "", ""),
    ];
    let import = import(&rows).unwrap();
    let spelling: Vec<_> = import
        .warnings
        .iter()
        .filter(|w| w.code == IssueCode::ChapterSpelling)
        .collect();
    let found: Vec<_> = spelling
        .iter()
        .map(|w| (w.line.unwrap(), w.ids[0].as_str()))
        .collect();
    assert_eq!(found, [(3, "ApCV/va1.02"), (6, "VI_SO.02"), (7, "apcv.04")]);
    assert!(spelling[0].message.contains("ligne 2"), "{}", spelling[0]);
    assert!(spelling[0].message.contains("même") || spelling[0].message.contains("désignent"));
    assert!(spelling[1].message.contains("distincts"), "{}", spelling[1]);
    // The domain upper-cases chapter codes: one APCV chapter, two VI-SO ones.
    let chapters: Vec<_> = import.rem.chapters().iter().map(|c| c.as_str()).collect();
    assert_eq!(chapters, ["APCV", "VI-SO", "VI_SO"]);
}

#[test]
fn differing_descriptive_cells_are_warned_once_per_column() {
    let rows = [
        row("A.01", "A.01.01", "A.01.01.01"),
        with(row("A.01", "A.01.01", "A.01.01.02"), FUNC, "Autre fonction"),
        with(
            row("A.01", "A.01.01", "A.01.01.03"),
            FUNC,
            "Encore une autre",
        ),
        with(
            row("A.01", "A.01.01", "A.01.01.04"),
            STEXT,
            "Autre scénario",
        ),
        with(row("A.01", "A.01.02", "A.01.02.01"), CHAP, "Autre chapitre"),
    ];
    let import = import(&rows).unwrap();
    let found: Vec<_> = import
        .warnings
        .iter()
        .map(|w| {
            (
                w.code.as_str(),
                w.line.unwrap(),
                w.column.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("inconsistent_field", 3, "Fonction"),
            ("inconsistent_field", 5, "Scénario de conformité"),
            ("inconsistent_field", 6, "Chapitre"),
        ]
    );
    let r = &import.rem.requirements()[0];
    assert_eq!(r.function, "Fonction");
    assert_eq!(r.chapter, "Chapitre");
    assert_eq!(r.scenarios[0].text, "Scénario A.01.01");
}

#[test]
fn chapter_labels_may_differ_between_requirements_of_one_code() {
    // Real REMs give several labels to one chapter code: not worth a warning.
    let rows = [
        row("DMP.01", "", ""),
        with(row("DMP.02", "", ""), CHAP, "Reprise historique"),
    ];
    let import = import(&rows).unwrap();
    assert_eq!(codes(&import.warnings), ["no_scenario", "no_scenario"]);
}

#[test]
fn numbers_extend_their_parent_only_after_a_separator() {
    assert!(extends("INS/va1.12.01", "INS/va1.12"));
    assert!(extends("A.01-02", "A.01"));
    assert!(!extends("INS/va1.12", "INS/va1.12"));
    assert!(!extends("INS/va1.120", "INS/va1.12"));
    assert!(!extends("39.01.01", "INS/va1.39.01"));
}

// ----- Properties.

/// A requirement to generate: id suffix, perimeter, profile, text, socle, scenarios (each with
/// its text and proofs' texts, or `None` for a proof without number).
#[derive(Debug, Clone)]
struct GenRequirement {
    chapter: &'static str,
    wave1: bool,
    profile: String,
    text: String,
    function: String,
    socle: bool,
    scenarios: Vec<(String, Vec<(bool, String)>)>,
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Zéèà0-9 ,;\"'\n«»]{0,24}".prop_map(|s| s.trim().to_owned())
}

fn gen_requirement() -> impl Strategy<Value = GenRequirement> {
    (
        prop::sample::select(vec!["INS", "DMP", "MSS", "PSC", "SSI"]),
        any::<bool>(),
        prop::sample::select(vec!["Général", "IAM", "PA", "IE Usagers"]),
        text(),
        text(),
        any::<bool>(),
        prop::collection::vec(
            (text(), prop::collection::vec((any::<bool>(), text()), 0..3)),
            0..3,
        ),
    )
        .prop_map(
            |(chapter, wave1, profile, text, function, socle, scenarios)| GenRequirement {
                chapter,
                wave1,
                profile: profile.to_owned(),
                text,
                function,
                socle,
                scenarios,
            },
        )
}

/// The requirements a generated REM must import to, and its CSV (one row per scenario × proof).
fn expected_and_csv(generated: &[GenRequirement], semicolons: bool) -> (Vec<Requirement>, Vec<u8>) {
    let mut expected = Vec::new();
    let mut rows = Vec::new();
    for (n, g) in generated.iter().enumerate() {
        let id = format!("{}/G.{n:02}", g.chapter);
        let mut base = row(&id, "", "");
        base[PER] = if g.wave1 { "Vague 1" } else { "Vague 2" }.into();
        base[PROF] = g.profile.clone();
        base[TEXT] = g.text.clone();
        base[FUNC] = g.function.clone();
        if g.socle {
            base[SOCLE] = format!("SC.{id}");
        }
        let mut scenarios = Vec::new();
        for (s, (stext, proofs)) in g.scenarios.iter().enumerate() {
            let sid = format!("{id}.{s:02}");
            let mut specs: Vec<ProofSpec> = Vec::new();
            for (p, (numbered, ptext)) in proofs.iter().enumerate() {
                let spec = ProofSpec {
                    id: numbered.then(|| format!("{sid}.{p:02}")),
                    text: ptext.clone(),
                };
                // A repeated identical proof is dropped on import: do not generate one.
                if specs.contains(&spec) || (spec.id.is_none() && spec.text.is_empty()) {
                    continue;
                }
                let mut r = base.clone();
                r[SNO] = sid.clone();
                r[STEXT] = stext.clone();
                r[PNO] = spec.id.clone().unwrap_or_default();
                r[PTEXT] = spec.text.clone();
                rows.push(r);
                specs.push(spec);
            }
            if specs.is_empty() {
                let mut r = base.clone();
                r[SNO] = sid.clone();
                r[STEXT] = stext.clone();
                rows.push(r);
            }
            scenarios.push(Scenario {
                id: Some(sid),
                text: stext.clone(),
                proofs: specs,
            });
        }
        if scenarios.is_empty() {
            rows.push(base.clone());
        }
        let rid = RequirementId::parse(&id).unwrap();
        expected.push(Requirement {
            chapter_code: rid.chapter_code(),
            id: rid,
            perimeter: if g.wave1 {
                Perimeter::Wave1
            } else {
                Perimeter::Wave2
            },
            chapter: "Chapitre".into(),
            function: g.function.clone(),
            text: g.text.clone(),
            comment: String::new(),
            profile: Profile::parse(&g.profile).unwrap(),
            historical_profile: String::new(),
            criticality: String::new(),
            socle_id: g
                .socle
                .then(|| SocleId::parse(&format!("SC.{id}")).unwrap()),
            wave1_id: None,
            scenarios,
        });
    }
    let mut w = csv::WriterBuilder::new()
        .delimiter(if semicolons { b';' } else { b',' })
        .from_writer(Vec::new());
    w.write_record(HEADER).unwrap();
    for r in &rows {
        w.write_record(r).unwrap();
    }
    (expected, w.into_inner().unwrap())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = import_rem_csv("x.csv", &bytes);
        let _ = import_rem_xlsx("x.xlsx", &bytes);
    }

    #[test]
    fn arbitrary_csv_text_never_panics(
        lines in prop::collection::vec("[A-Za-z0-9 ,;\"\r\n°éÉ./_-]{0,60}", 0..8),
        header in prop::sample::subsequence(HEADER.to_vec(), 0..16),
    ) {
        let mut text = header.join(",");
        text.push('\n');
        text.push_str(&lines.join("\n"));
        let _ = import_rem_csv("x.csv", text.as_bytes());
    }

    #[test]
    fn generated_rems_import_back_to_the_same_requirements(
        generated in prop::collection::vec(gen_requirement(), 1..8),
        semicolons in any::<bool>(),
    ) {
        let (expected, bytes) = expected_and_csv(&generated, semicolons);
        let import = import_rem_csv("gen.csv", &bytes)
            .map_err(|f| TestCaseError::fail(f.to_string()))?;
        prop_assert_eq!(import.rem.requirements(), expected.as_slice());
        prop_assert!(import.warnings.iter().all(|w| matches!(
            w.code,
            IssueCode::NoScenario | IssueCode::NoProof
        )), "{:?}", import.warnings);
    }
}
