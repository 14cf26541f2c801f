//! The rules one by one on the mini catalogue, and a table with one scenario per refusal code.

use std::collections::BTreeSet;

use preuves_domain::{
    Candidature, IsoDate, LateEntry, Plan, Reason, RefusalCode, Rule, Status, Version, compute_plan,
};

use crate::fixtures::{self, candidature, catalogue, component, nru, profiles, register};

/// `(id, status, rule, nru, source or component)` for every entry of a plan.
fn lines(plan: &Plan<'_>) -> Vec<(String, Status, Option<String>)> {
    plan.entries
        .iter()
        .map(|e| {
            let reason = e.reason.as_ref().map(|r| match r {
                Reason::AdditionalComponent { component } => format!("R7 {component}"),
                Reason::Heritage { referencing } => format!("R3 {}", referencing.nru),
                Reason::Equivalence {
                    referencing,
                    source,
                    source_dispositif,
                    ..
                } => format!(
                    "R2 {} {} {}",
                    referencing.nru, source_dispositif.key.code, source.id
                ),
            });
            (e.requirement.id.to_string(), e.status, reason)
        })
        .collect()
}

fn plan_lines(c: &Candidature) -> Vec<(String, Status, Option<String>)> {
    let cat = catalogue();
    let reg = register();
    let plan = compute_plan(&cat, &reg, c).unwrap_or_else(|e| panic!("refused: {e:#?}"));
    lines(&plan)
}

fn dep(id: &str) -> (String, Status, Option<String>) {
    (id.to_owned(), Status::ToDeposit, None)
}
fn r7(id: &str, c: &str) -> (String, Status, Option<String>) {
    (id.to_owned(), Status::ToDeposit, Some(format!("R7 {c}")))
}
fn her(id: &str, n: &str) -> (String, Status, Option<String>) {
    (
        id.to_owned(),
        Status::MaskedHeritage,
        Some(format!("R3 {n}")),
    )
}
fn eqv(id: &str, n: &str, source: &str) -> (String, Status, Option<String>) {
    (
        id.to_owned(),
        Status::MaskedEquivalence,
        Some(format!("R2 {n} DPI {source}")),
    )
}

#[test]
fn nominal_scope_is_general_and_the_chosen_profiles_all_to_deposit() {
    let mut c = candidature();
    c.optional_profiles = profiles(&["PA"]);
    assert_eq!(
        plan_lines(&c),
        vec![
            dep("INS/va1.01"),
            dep("INS.01"),
            dep("DMP.01"),
            dep("SSI.01"),
            dep("USA/va1.01"),
            dep("USA.01"),
            dep("PA/va1.01"),
            dep("PA.01"),
        ]
    );
}

#[test]
fn case_1_equivalence_masks_general_requirements_common_with_dpi() {
    let mut c = candidature();
    c.optional_profiles = profiles(&["PA"]);
    c.nrus = vec![nru("REF-DPI-2-0001")];
    let d = "REF-DPI-2-0001";
    assert_eq!(
        plan_lines(&c),
        vec![
            eqv("INS/va1.01", d, "INS/va1.01"),
            eqv("INS.01", d, "INS.01"),
            eqv("DMP.01", d, "DMP.01"),
            // Common with DPI's IAM profile only, which this referencing does not hold.
            dep("SSI.01"),
            dep("USA/va1.01"),
            dep("USA.01"),
            dep("PA/va1.01"),
            dep("PA.01"),
        ]
    );
}

#[test]
fn equivalence_follows_the_profiles_the_source_referencing_holds() {
    let mut c = candidature();
    c.nrus = vec![nru("REF-DPI-2-0004")];
    let lines = plan_lines(&c);
    assert!(lines.contains(&eqv("SSI.01", "REF-DPI-2-0004", "SSI/IAM.01")));
}

#[test]
fn case_2_an_additional_component_overrides_equivalence_on_its_chapter() {
    let mut c = candidature();
    c.optional_profiles = profiles(&["PA"]);
    c.nrus = vec![nru("REF-DPI-2-0001")];
    c.additional_components = vec![component("Module INS", &["INS"])];
    c.commercial_names = vec!["A".into(), "A Santé".into(), "A Social".into()];
    c.honour_statement = true;
    let d = "REF-DPI-2-0001";
    let cat = catalogue();
    let reg = register();
    let plan = compute_plan(&cat, &reg, &c).unwrap();
    assert!(plan.warnings.is_empty());
    assert_eq!(
        lines(&plan),
        vec![
            r7("INS/va1.01", "Module INS"),
            r7("INS.01", "Module INS"),
            eqv("DMP.01", d, "DMP.01"),
            dep("SSI.01"),
            dep("USA/va1.01"),
            dep("USA.01"),
            dep("PA/va1.01"),
            dep("PA.01"),
        ]
    );
}

#[test]
fn case_3_heritage_then_equivalence_with_r7_first() {
    let mut c = candidature();
    c.optional_profiles = profiles(&["PDE"]);
    // Entered in the "wrong" order on purpose: the plan must not depend on it.
    c.nrus = vec![nru("REF-MS2-PDE-1-0001"), nru("REF-DPI-2-0001")];
    c.additional_components = vec![component("Module INS", &["INS"])];
    let (d, h) = ("REF-DPI-2-0001", "REF-MS2-PDE-1-0001");
    let cat = catalogue();
    let reg = register();
    let plan = compute_plan(&cat, &reg, &c).unwrap();
    assert_eq!(
        lines(&plan),
        vec![
            r7("INS/va1.01", "Module INS"),
            r7("INS.01", "Module INS"),
            eqv("DMP.01", d, "DMP.01"),
            dep("SSI.01"),
            her("USA/va1.01", h),
            dep("USA.01"),
            her("PDE/va1.01", h),
            dep("PDE.01"),
        ]
    );
    assert_eq!(plan.summary.in_scope, 8);
    assert_eq!(plan.summary.to_deposit, 5);
    assert_eq!(plan.summary.masked_heritage, 2);
    assert_eq!(plan.summary.masked_equivalence, 1);
    // DMP.01 expects 3 proofs, USA/va1.01 1, PDE/va1.01 2.
    assert_eq!(plan.summary.proofs_saved, 6);
    assert_eq!(plan.heritage.len(), 1);
    assert_eq!(plan.equivalence.map(|r| r.nru.as_str()), Some(d));
}

#[test]
fn heritage_wins_over_equivalence_on_a_vague_1_requirement() {
    let mut c = candidature();
    c.nrus = vec![nru("REF-DPI-2-0001"), nru("REF-MS2-PDE-1-0001")];
    let lines = plan_lines(&c);
    assert_eq!(lines[0], her("INS/va1.01", "REF-MS2-PDE-1-0001"));
    // A vague-2 requirement cannot be inherited: équivalence applies.
    assert_eq!(lines[1], eqv("INS.01", "REF-DPI-2-0001", "INS.01"));
}

#[test]
fn heritage_masks_only_the_profiles_the_vague_1_referencing_holds() {
    let mut c = candidature();
    c.optional_profiles = profiles(&["PA", "PDE"]);
    c.nrus = vec![nru("REF-MS1-1-0001")];
    let lines = plan_lines(&c);
    assert!(lines.contains(&her("PA/va1.01", "REF-MS1-1-0001")));
    assert!(lines.contains(&her("USA/va1.01", "REF-MS1-1-0001")));
    assert!(lines.contains(&dep("PDE/va1.01")));
    assert!(
        lines.contains(&dep("PA.01")),
        "a vague-2 requirement is never inherited"
    );
}

#[test]
fn dui_ms_takes_one_heritage_nru_per_predecessor_and_cites_the_first_predecessor() {
    let mut c = candidature();
    c.optional_profiles = profiles(&["PA", "PDE", "PDS"]);
    c.nrus = vec![
        nru("REF-MS2-PDS-1-0001"),
        nru("REF-MS2-PDE-1-0001"),
        nru("REF-MS1-1-0001"),
    ];
    let lines = plan_lines(&c);
    // Général is held by all three: MS1 comes first in the catalogue's predecessor order.
    assert!(lines.contains(&her("USA/va1.01", "REF-MS1-1-0001")));
    assert!(lines.contains(&her("PA/va1.01", "REF-MS1-1-0001")));
    assert!(lines.contains(&her("PDE/va1.01", "REF-MS2-PDE-1-0001")));
    assert!(lines.contains(&her("PDS/va1.01", "REF-MS2-PDS-1-0001")));
}

#[test]
fn late_equivalence_nru_is_allowed_when_complete_by_date_2() {
    let mut c = candidature();
    c.late = Some(LateEntry {
        submitted_on: None,
        complete_on: Some(IsoDate::parse("2027-03-31").unwrap()),
        nrus: vec![nru("REF-DPI-2-0001")],
    });
    let lines = plan_lines(&c);
    assert_eq!(lines[2], eqv("DMP.01", "REF-DPI-2-0001", "DMP.01"));
}

#[test]
fn several_names_without_sworn_statement_is_a_warning_not_a_refusal() {
    let mut c = candidature();
    c.commercial_names = vec!["A".into(), "A Santé".into()];
    let cat = catalogue();
    let reg = register();
    let plan = compute_plan(&cat, &reg, &c).unwrap();
    assert_eq!(plan.warnings.len(), 1);
    assert_eq!(plan.warnings[0].code, RefusalCode::MissingHonourStatement);
    assert_eq!(plan.warnings[0].rule, Some(Rule::R6));
    // A single name different from the solution's is an extra name too.
    c.commercial_names = vec!["B".into()];
    assert_eq!(compute_plan(&cat, &reg, &c).unwrap().warnings.len(), 1);
    c.commercial_names = vec!["A".into(), " A ".into()];
    assert!(compute_plan(&cat, &reg, &c).unwrap().warnings.is_empty());
}

/// A change to the base candidature.
type Change = Box<dyn Fn(&mut Candidature)>;

/// One scenario per refusal code: `(code, change to the base candidature, NRU expected)`.
fn refusal_table() -> Vec<(RefusalCode, Change, Option<&'static str>)> {
    use RefusalCode as C;
    let nrus = |list: &'static [&'static str]| {
        move |c: &mut Candidature| c.nrus = list.iter().map(|n| nru(n)).collect()
    };
    vec![
        (
            C::TooManyEquivalenceNrus,
            Box::new(nrus(&["REF-DPI-2-0001", "REF-DPI-2-0004"])),
            Some("REF-DPI-2-0001"),
        ),
        (
            C::EquivalenceSameDispositif,
            Box::new(nrus(&["REF-DUI-MS-2-0001"])),
            Some("REF-DUI-MS-2-0001"),
        ),
        (
            C::HeritageWrongDispositif,
            Box::new(nrus(&["REF-DPI-1-0001"])),
            Some("REF-DPI-1-0001"),
        ),
        (
            C::HeritageDuplicatePredecessor,
            Box::new(nrus(&["REF-MS2-PDE-1-0002", "REF-MS2-PDE-1-0001"])),
            Some("REF-MS2-PDE-1-0002"),
        ),
        (
            C::UnknownDispositif,
            Box::new(|c: &mut Candidature| c.target = fixtures::key("XYZ", 2)),
            None,
        ),
        (
            C::UnknownDispositif,
            Box::new(nrus(&["REF-XYZ-2-0001"])),
            Some("REF-XYZ-2-0001"),
        ),
        (
            C::UnknownNru,
            Box::new(nrus(&["REF-NOPE-2-0001"])),
            Some("REF-NOPE-2-0001"),
        ),
        (
            C::NruOtherVendor,
            Box::new(nrus(&["REF-DPI-2-0099"])),
            Some("REF-DPI-2-0099"),
        ),
        (
            C::NruNotValid,
            Box::new(nrus(&["REF-DPI-2-0002"])),
            Some("REF-DPI-2-0002"),
        ),
        (
            C::MainComponentMismatch,
            Box::new(nrus(&["REF-DPI-2-0003"])),
            Some("REF-DPI-2-0003"),
        ),
        (
            C::VersionLower,
            Box::new(|c: &mut Candidature| {
                c.nrus = vec![nru("REF-DPI-2-0001")];
                c.version = Version::parse("4.1.9").unwrap();
            }),
            Some("REF-DPI-2-0001"),
        ),
        (
            C::UnknownProfile,
            Box::new(|c: &mut Candidature| c.optional_profiles = profiles(&["PA", "XX"])),
            None,
        ),
        (
            C::UnknownChapter,
            Box::new(|c: &mut Candidature| {
                c.additional_components = vec![component("M", &["ZZZ"])]
            }),
            None,
        ),
        (
            C::TargetNotVague2,
            Box::new(|c: &mut Candidature| c.target = fixtures::key("MS1", 1)),
            None,
        ),
        (
            C::GuichetNotOpen,
            Box::new(|c: &mut Candidature| c.opened_on = Some(fixtures::date("2026-06-02"))),
            None,
        ),
        (
            C::UnknownRemVersion,
            Box::new(|c: &mut Candidature| c.rem_version = Some(fixtures::label("2030"))),
            None,
        ),
        (
            C::UnknownRemVersion,
            Box::new(nrus(&["REF-DPI-2-0012"])),
            Some("REF-DPI-2-0012"),
        ),
        (
            C::MainComponentMismatch,
            Box::new(nrus(&["REF-MS1-1-0002"])),
            Some("REF-MS1-1-0002"),
        ),
        (
            C::LateNruNotAllowed,
            Box::new(|c: &mut Candidature| {
                c.late = Some(LateEntry {
                    submitted_on: None,
                    complete_on: None,
                    nrus: vec![nru("REF-DPI-2-0001")],
                })
            }),
            Some("REF-DPI-2-0001"),
        ),
        (
            C::LateNruNotAllowed,
            Box::new(|c: &mut Candidature| {
                c.late = Some(LateEntry {
                    submitted_on: None,
                    complete_on: Some(IsoDate::parse("2027-04-01").unwrap()),
                    nrus: vec![nru("REF-DPI-2-0001")],
                })
            }),
            Some("REF-DPI-2-0001"),
        ),
        (
            C::LateNruNotAllowed,
            Box::new(|c: &mut Candidature| {
                c.late = Some(LateEntry {
                    submitted_on: None,
                    complete_on: Some(IsoDate::parse("2027-01-01").unwrap()),
                    nrus: vec![nru("REF-MS2-PDE-1-0001")],
                })
            }),
            Some("REF-MS2-PDE-1-0001"),
        ),
    ]
}

#[test]
fn every_refusal_code_is_triggered_by_its_scenario_and_alone() {
    let cat = catalogue();
    let reg = register();
    let mut covered = BTreeSet::new();
    for (code, change, expected_nru) in refusal_table() {
        let mut c = candidature();
        change(&mut c);
        let refusals = compute_plan(&cat, &reg, &c)
            .err()
            .unwrap_or_else(|| panic!("{code} was not refused"));
        let codes: BTreeSet<_> = refusals.iter().map(|r| r.code).collect();
        assert_eq!(codes, BTreeSet::from([code]), "{code}: {refusals:#?}");
        let first = &refusals[0];
        assert_eq!(
            first.nru.as_ref().map(|n| n.as_str()),
            expected_nru,
            "{code}"
        );
        if let Some(n) = expected_nru {
            assert!(
                first.message.contains(n),
                "{code}: message names the NRU: {}",
                first.message
            );
        }
        if let Some(rule) = first.rule {
            assert!(
                first.message.contains(&rule.to_string()),
                "{code}: message names the rule"
            );
        }
        covered.insert(code);
    }
    // missing_honour_statement is a warning, tested above; every other code is covered here.
    covered.insert(RefusalCode::MissingHonourStatement);
    assert_eq!(covered, RefusalCode::ALL.into_iter().collect());
}

#[test]
fn every_refusal_is_reported_at_once() {
    let cat = catalogue();
    let reg = register();
    let mut c = candidature();
    c.optional_profiles = profiles(&["XX"]);
    c.additional_components = vec![component("M", &["ZZZ"])];
    c.nrus = vec![nru("REF-NOPE-2-0001"), nru("REF-DPI-2-0002")];
    let codes: Vec<_> = compute_plan(&cat, &reg, &c)
        .unwrap_err()
        .into_iter()
        .map(|r| r.code)
        .collect();
    assert_eq!(
        codes,
        vec![
            RefusalCode::UnknownProfile,
            RefusalCode::UnknownChapter,
            RefusalCode::NruNotValid,
            RefusalCode::UnknownNru,
        ]
    );
}

#[test]
fn an_nru_of_the_candidature_s_own_version_is_accepted() {
    let mut c = candidature();
    c.nrus = vec![nru("REF-DPI-2-0001")];
    c.version = Version::parse("4.2").unwrap();
    assert!(compute_plan(&catalogue(), &register(), &c).is_ok());
    c.version = Version::parse("4.10").unwrap();
    assert!(compute_plan(&catalogue(), &register(), &c).is_ok());
}
