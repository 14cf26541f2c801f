//! Every refusal code of `docs/rules.md`, each triggered by a scenario file on the demo catalogue.

use std::collections::BTreeSet;

use preuves_domain::RefusalCode;
use serde_json::{Value, json};

use crate::support::{demo_catalogue, evaluate};

const VENDOR: &str = "732829320";

fn referencing(nru: &str, dispositif: &str, wave: u8, profiles: &[&str], version: &str) -> Value {
    json!({
        "nru": nru, "vendor": VENDOR, "dispositif": dispositif, "wave": wave,
        "profiles": profiles, "solution": "A", "main_component": "A-core",
        "version": version, "status": "valid"
    })
}

/// The register every scenario shares, and a valid DUI-MS candidature without NRU.
fn base() -> Value {
    let mut other = referencing("REF-DPI-2-0099", "DPI", 2, &["Général"], "1.0");
    other["vendor"] = json!("552100554");
    let mut suspended = referencing("REF-DPI-2-0002", "DPI", 2, &["Général"], "1.0");
    suspended["status"] = json!("suspended");
    let mut withdrawn = referencing("REF-DPI-2-0005", "DPI", 2, &["Général"], "1.0");
    withdrawn["status"] = json!("withdrawn");
    let mut component = referencing("REF-DPI-2-0003", "DPI", 2, &["Général"], "1.0");
    component["main_component"] = json!("B-core");
    let mut other_solution = referencing("REF-MS2-PDE-1-0003", "MS2-PDE", 1, &["PDE"], "3.0");
    other_solution["main_component"] = json!("B-core");
    let mut unknown_version = referencing("REF-DPI-2-0007", "DPI", 2, &["Général"], "1.0");
    unknown_version["rem_version"] = json!("0.9");
    json!({
        "referencings": [
            referencing("REF-DPI-2-0001", "DPI", 2, &["Général"], "4.2"),
            referencing("REF-DPI-2-0004", "DPI", 2, &["Général", "IAM"], "4.0"),
            referencing("REF-DUI-MS-2-0001", "DUI-MS", 2, &["Général"], "4.0"),
            referencing("REF-MS2-PDE-1-0001", "MS2-PDE", 1, &["PDE"], "3.8"),
            referencing("REF-MS2-PDE-1-0002", "MS2-PDE", 1, &["PDE"], "3.9"),
            referencing("REF-DPI-1-0001", "DPI", 1, &[], "2.0"),
            referencing("REF-LGC-2-0001", "LGC", 2, &[], "1.0"),
            other, suspended, withdrawn, component, other_solution, unknown_version
        ],
        "candidature": {
            "vendor": VENDOR, "dispositif": "DUI-MS", "wave": 2, "optional_profiles": ["PDE"],
            "solution": "A", "main_component": "A-core", "version": "4.3", "nrus": [],
            "additional_components": [], "commercial_names": ["A"], "honour_statement": false
        }
    })
}

fn with(changes: Value) -> Value {
    let mut s = base();
    for (k, v) in changes.as_object().unwrap() {
        s["candidature"][k] = v.clone();
    }
    s
}

#[test]
fn the_base_scenario_is_accepted() {
    let answer = evaluate(&demo_catalogue(), &base().to_string());
    assert!(
        answer.errors.is_empty() && answer.warnings.is_empty(),
        "{answer:#?}"
    );
}

#[test]
fn each_refusal_code_has_a_scenario_that_triggers_it() {
    use RefusalCode as C;
    let table: Vec<(RefusalCode, Value, Option<&str>)> = vec![
        (
            C::TooManyEquivalenceNrus,
            with(json!({"nrus": ["REF-DPI-2-0001", "REF-DPI-2-0004"]})),
            Some("REF-DPI-2-0001"),
        ),
        (
            C::EquivalenceSameDispositif,
            with(json!({"nrus": ["REF-DUI-MS-2-0001"]})),
            Some("REF-DUI-MS-2-0001"),
        ),
        (
            C::HeritageWrongDispositif,
            with(json!({"nrus": ["REF-DPI-1-0001"]})),
            Some("REF-DPI-1-0001"),
        ),
        (
            C::HeritageDuplicatePredecessor,
            with(json!({"nrus": ["REF-MS2-PDE-1-0001", "REF-MS2-PDE-1-0002"]})),
            Some("REF-MS2-PDE-1-0002"),
        ),
        (
            C::UnknownDispositif,
            with(json!({"dispositif": "SIH"})),
            None,
        ),
        (
            C::UnknownDispositif,
            with(json!({"nrus": ["REF-LGC-2-0001"]})),
            Some("REF-LGC-2-0001"),
        ),
        (
            C::UnknownNru,
            with(json!({"nrus": ["REF-DPI-2-7777"]})),
            Some("REF-DPI-2-7777"),
        ),
        (
            C::NruOtherVendor,
            with(json!({"nrus": ["REF-DPI-2-0099"]})),
            Some("REF-DPI-2-0099"),
        ),
        (
            C::NruNotValid,
            with(json!({"nrus": ["REF-DPI-2-0002"]})),
            Some("REF-DPI-2-0002"),
        ),
        (
            C::NruNotValid,
            with(json!({"nrus": ["REF-DPI-2-0005"]})),
            Some("REF-DPI-2-0005"),
        ),
        (
            C::MainComponentMismatch,
            with(json!({"nrus": ["REF-DPI-2-0003"]})),
            Some("REF-DPI-2-0003"),
        ),
        (
            C::MainComponentMismatch,
            with(json!({"nrus": ["REF-MS2-PDE-1-0003"]})),
            Some("REF-MS2-PDE-1-0003"),
        ),
        (C::GuichetNotOpen, with(json!({"on": "2026-06-02"})), None),
        (
            C::UnknownRemVersion,
            with(json!({"rem_version": "3"})),
            None,
        ),
        (
            C::UnknownRemVersion,
            with(json!({"nrus": ["REF-DPI-2-0007"]})),
            Some("REF-DPI-2-0007"),
        ),
        (
            C::VersionLower,
            with(json!({"nrus": ["REF-DPI-2-0001"], "version": "4.1.10"})),
            Some("REF-DPI-2-0001"),
        ),
        (
            C::UnknownProfile,
            with(json!({"optional_profiles": ["PDE", "EHPAD"]})),
            None,
        ),
        (
            C::UnknownChapter,
            with(json!({"additional_components": [{"name": "Module X", "chapters": ["XYZ"]}]})),
            None,
        ),
        (
            C::TargetNotVague2,
            with(json!({"dispositif": "MS1", "wave": 1})),
            None,
        ),
        (
            C::LateNruNotAllowed,
            with(json!({"late_nrus": ["REF-DPI-2-0001"]})),
            Some("REF-DPI-2-0001"),
        ),
        (
            C::LateNruNotAllowed,
            with(json!({"late_nrus": ["REF-DPI-2-0001"], "complete_on": "2027-04-01"})),
            Some("REF-DPI-2-0001"),
        ),
    ];
    let catalogue = demo_catalogue();
    let mut covered = BTreeSet::new();
    for (code, scenario, nru) in table {
        let answer = evaluate(&catalogue, &scenario.to_string());
        let codes: BTreeSet<_> = answer.errors.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            BTreeSet::from([code]),
            "{code}: {:#?}",
            answer.errors
        );
        assert_eq!(
            answer.errors[0].nru.as_ref().map(|n| n.as_str()),
            nru,
            "{code}"
        );
        assert!(answer.summary.is_none() && answer.requirements.is_empty());
        covered.insert(code);
    }

    // R6 blocks submission only: a warning, and the plan is still computed.
    let answer = evaluate(
        &catalogue,
        &with(json!({"commercial_names": ["A", "A Santé"]})).to_string(),
    );
    assert!(answer.errors.is_empty());
    assert_eq!(
        answer.warnings.iter().map(|w| w.code).collect::<Vec<_>>(),
        vec![C::MissingHonourStatement]
    );
    assert!(answer.summary.is_some() && !answer.requirements.is_empty());
    covered.insert(C::MissingHonourStatement);

    assert_eq!(covered, RefusalCode::ALL.into_iter().collect());
}

#[test]
fn a_late_equivalence_nru_is_accepted_when_the_dossier_was_complete_by_date_2() {
    // DUI-MS's date 2 in the demo catalogue is 2027-03-31.
    let scenario = with(json!({"late_nrus": ["REF-DPI-2-0001"], "complete_on": "2027-03-31"}));
    let answer = evaluate(&demo_catalogue(), &scenario.to_string());
    assert!(answer.errors.is_empty(), "{:#?}", answer.errors);
    assert!(answer.summary.unwrap().masked_equivalence > 0);
}
