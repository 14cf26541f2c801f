//! The webinar's four cases (`docs/rules.md`) on the demonstration catalogue, through the shipped
//! scenario files.
//!
//! Each test states the case's expected sets the way the webinar does ("Général not common with
//! DPI Général", "PA va1 + va2", ...) as plain set expressions over the REM rows, independently of
//! the engine, then compares them with the engine's answer, reasons included. The counts were
//! computed separately from the CSV files when the demo data was written.

use std::collections::{BTreeMap, BTreeSet};

use preuves_domain::scenario::{Answer, AnswerReason};
use preuves_domain::{
    Catalogue, DispositifCode, DispositifKey, Perimeter, Requirement, Rule, Status, Wave,
};

use crate::support::{demo_catalogue, demo_scenario, evaluate, preuves};

const DPI_NRU: &str = "REF-DPI-2-0001";
const PDE_NRU: &str = "REF-MS2-PDE-1-0001";

fn rem<'a>(catalogue: &'a Catalogue, code: &str) -> &'a [Requirement] {
    let key = DispositifKey {
        code: DispositifCode::parse(code).unwrap(),
        wave: Wave::Two,
    };
    catalogue
        .dispositif(&key)
        .unwrap()
        .rem
        .as_ref()
        .unwrap()
        .requirements()
}

/// The first DPI `Général` requirement sharing `r`'s socle id: what équivalence cites.
fn dpi_source(catalogue: &Catalogue, r: &Requirement) -> Option<String> {
    let socle = r.socle_id.as_ref()?;
    rem(catalogue, "DPI")
        .iter()
        .find(|s| s.profile.is_general() && s.socle_id.as_ref() == Some(socle))
        .map(|s| s.id.to_string())
}

type Expected = BTreeMap<String, (Status, Option<AnswerReason>)>;

fn reason(
    rule: Rule,
    nru: Option<&str>,
    source: Option<String>,
    component: Option<&str>,
) -> Option<AnswerReason> {
    Some(AnswerReason {
        rule,
        nru: nru.map(|n| preuves_domain::Nru::parse(n).unwrap()),
        source_requirement: source.map(|s| preuves_domain::RequirementId::parse(&s).unwrap()),
        component: component.map(str::to_owned),
    })
}

fn answered(answer: &Answer) -> Expected {
    assert!(answer.errors.is_empty(), "{:#?}", answer.errors);
    answer
        .requirements
        .iter()
        .map(|r| (r.id.to_string(), (r.status, r.reason.clone())))
        .collect()
}

fn run_case(file: &str) -> (Catalogue, Answer) {
    let catalogue = demo_catalogue();
    let json = std::fs::read_to_string(demo_scenario(file)).unwrap();
    let answer = evaluate(&catalogue, &json);
    // The command line prints exactly the same answer.
    let out = preuves(&[
        "simulate",
        "--catalogue",
        crate::support::demo_catalogue_path().to_str().unwrap(),
        "--scenario",
        demo_scenario(file).to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, serde_json::to_value(&answer).unwrap());
    (catalogue, answer)
}

fn counts(answer: &Answer) -> (usize, usize, usize, usize) {
    let s = answer.summary.unwrap();
    (
        s.in_scope,
        s.to_deposit,
        s.masked_heritage,
        s.masked_equivalence,
    )
}

fn dui_scope<'a>(catalogue: &'a Catalogue, profile: &str) -> Vec<&'a Requirement> {
    rem(catalogue, "DUI-MS")
        .iter()
        .filter(|r| r.profile.is_general() || r.profile.as_str() == profile)
        .collect()
}

#[test]
fn no_optional_profile_requirement_is_common_with_dpi() {
    // The cases below rely on it: the webinar masks only Général requirements.
    let catalogue = demo_catalogue();
    let dpi_socles: BTreeSet<_> = rem(&catalogue, "DPI")
        .iter()
        .filter_map(|r| r.socle_id.clone())
        .collect();
    for r in rem(&catalogue, "DUI-MS") {
        if !r.profile.is_general() {
            assert!(
                r.socle_id.as_ref().is_none_or(|s| !dpi_socles.contains(s)),
                "{}",
                r.id
            );
        }
    }
}

#[test]
fn nominal_case_everything_in_scope_is_to_deposit() {
    let (catalogue, answer) = run_case("cas-nominal.json");
    let expected: Expected = dui_scope(&catalogue, "PA")
        .into_iter()
        .map(|r| (r.id.to_string(), (Status::ToDeposit, None)))
        .collect();
    assert_eq!(answered(&answer), expected);
    assert_eq!(counts(&answer), (77, 77, 0, 0));
    assert!(answer.warnings.is_empty());
}

#[test]
fn case_1_general_requirements_common_with_dpi_are_masked() {
    let (catalogue, answer) = run_case("cas-1.json");
    let expected: Expected = dui_scope(&catalogue, "PA")
        .into_iter()
        .map(|r| {
            let source = r
                .profile
                .is_general()
                .then(|| dpi_source(&catalogue, r))
                .flatten();
            let v = match source {
                Some(s) => (
                    Status::MaskedEquivalence,
                    reason(Rule::R2, Some(DPI_NRU), Some(s), None),
                ),
                None => (Status::ToDeposit, None),
            };
            (r.id.to_string(), v)
        })
        .collect();
    assert_eq!(answered(&answer), expected);
    assert_eq!(counts(&answer), (77, 45, 0, 32));
    // Both périmètres are masked.
    let masked_perimeters: BTreeSet<_> = answer
        .requirements
        .iter()
        .filter(|r| r.status == Status::MaskedEquivalence)
        .map(|r| r.perimeter)
        .collect();
    assert_eq!(
        masked_perimeters,
        BTreeSet::from([Perimeter::Wave1, Perimeter::Wave2])
    );
}

#[test]
fn case_2_the_ins_component_unmasks_every_ins_requirement() {
    let (catalogue, answer) = run_case("cas-2.json");
    let expected: Expected = dui_scope(&catalogue, "PA")
        .into_iter()
        .map(|r| {
            let v = if r.chapter_code.as_str() == "INS" {
                (
                    Status::ToDeposit,
                    reason(Rule::R7, None, None, Some("Module INS")),
                )
            } else {
                match r
                    .profile
                    .is_general()
                    .then(|| dpi_source(&catalogue, r))
                    .flatten()
                {
                    Some(s) => (
                        Status::MaskedEquivalence,
                        reason(Rule::R2, Some(DPI_NRU), Some(s), None),
                    ),
                    None => (Status::ToDeposit, None),
                }
            };
            (r.id.to_string(), v)
        })
        .collect();
    assert_eq!(answered(&answer), expected);
    assert_eq!(counts(&answer), (77, 53, 0, 24));
    // Three names with the sworn statement: no warning; the names do not change the plan.
    assert!(answer.warnings.is_empty());
    let ins: Vec<_> = answer
        .requirements
        .iter()
        .filter(|r| r.chapter.as_str() == "INS")
        .collect();
    assert!(
        ins.iter().any(|r| r.perimeter == Perimeter::Wave1)
            && ins.iter().any(|r| r.perimeter == Perimeter::Wave2)
    );
}

#[test]
fn case_3_heritage_for_vague_1_equivalence_for_the_rest_and_ins_to_deposit() {
    let (catalogue, answer) = run_case("cas-3.json");
    let expected: Expected = dui_scope(&catalogue, "PDE")
        .into_iter()
        .map(|r| {
            let v = if r.chapter_code.as_str() == "INS" {
                (
                    Status::ToDeposit,
                    reason(Rule::R7, None, None, Some("Module INS")),
                )
            } else if r.perimeter == Perimeter::Wave1 {
                // Général and PDE vague 1: inherited from the MS2 PDE referencing.
                (
                    Status::MaskedHeritage,
                    reason(Rule::R3, Some(PDE_NRU), None, None),
                )
            } else {
                match r
                    .profile
                    .is_general()
                    .then(|| dpi_source(&catalogue, r))
                    .flatten()
                {
                    Some(s) => (
                        Status::MaskedEquivalence,
                        reason(Rule::R2, Some(DPI_NRU), Some(s), None),
                    ),
                    None => (Status::ToDeposit, None),
                }
            };
            (r.id.to_string(), v)
        })
        .collect();
    assert_eq!(answered(&answer), expected);
    assert_eq!(counts(&answer), (77, 36, 28, 13));
}

#[test]
fn case_3_answer_snapshot() {
    let (_, answer) = run_case("cas-3.json");
    insta::assert_json_snapshot!(answer);
}
