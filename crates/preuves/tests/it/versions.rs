//! The rules in time through scenario files and the command line, on the demo catalogue (DPI in
//! force is REM version `2` and keeps version `1`, which has no DMP chapter; the DUI-MS guichet
//! opens on 2026-06-03): the REM version a referencing was granted on, the candidature's own
//! version, R5's grant and submission days, R10's `on`, and the optional keys.

use std::io::Write;

use serde_json::{Value, json};

use crate::support::{demo_catalogue, demo_catalogue_path, demo_scenario, evaluate, preuves};

fn case_1() -> Value {
    serde_json::from_str(&std::fs::read_to_string(demo_scenario("cas-1.json")).unwrap()).unwrap()
}

/// Runs `preuves simulate` on `scenario`; returns its standard output.
fn simulate(scenario: &Value, format: &str) -> String {
    let mut f = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    f.write_all(scenario.to_string().as_bytes()).unwrap();
    let out = preuves(&[
        "simulate",
        "--catalogue",
        demo_catalogue_path().to_str().unwrap(),
        "--scenario",
        f.path().to_str().unwrap(),
        "--format",
        format,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn counts(answer: &Value) -> [u64; 4] {
    [
        "in_scope",
        "to_deposit",
        "masked_heritage",
        "masked_equivalence",
    ]
    .map(|k| answer["summary"][k].as_u64().unwrap())
}

#[test]
fn a_referencing_granted_on_an_older_rem_masks_only_what_that_version_asked() {
    let in_force: Value = serde_json::from_str(&simulate(&case_1(), "json")).unwrap();
    assert_eq!(counts(&in_force), [77, 45, 0, 32]);
    // Naming the version in force changes nothing.
    let mut named = case_1();
    named["referencings"][0]["rem_version"] = json!("2");
    named["candidature"]["rem_version"] = json!("1");
    named["candidature"]["on"] = json!("2026-06-03");
    assert_eq!(simulate(&named, "json"), simulate(&case_1(), "json"));
    // Granted on version 1, which had no DMP chapter: the 7 DMP requirements common with DPI
    // are to deposit.
    let mut older = case_1();
    older["referencings"][0]["rem_version"] = json!("1");
    let answer: Value = serde_json::from_str(&simulate(&older, "json")).unwrap();
    assert_eq!(counts(&answer), [77, 52, 0, 25]);
    for r in answer["requirements"].as_array().unwrap() {
        if r["chapter"] == "DMP" {
            assert_eq!(r["status"], "to_deposit", "{r}");
        }
    }
    insta::assert_snapshot!(simulate(&older, "text"));
}

#[test]
fn refusals_of_the_rules_in_time_through_a_scenario_file() {
    let mut s = case_1();
    s["referencings"][0]["rem_version"] = json!("0.9");
    s["candidature"]["on"] = json!("2026-06-02");
    let answer = simulate(&s, "json");
    let value: Value = serde_json::from_str(&answer).unwrap();
    let codes: Vec<&str> = value["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["guichet_not_open", "unknown_rem_version"]);
    insta::assert_snapshot!(answer);

    // The candidature's own unknown version stops everything after the guichet.
    s["candidature"]["rem_version"] = json!("3");
    let value: Value = serde_json::from_str(&simulate(&s, "json")).unwrap();
    assert_eq!(value["errors"][1]["code"], "unknown_rem_version");
    assert_eq!(value["errors"].as_array().unwrap().len(), 2);
    assert!(value["errors"][1].get("nru").is_none());
}

#[test]
fn r5_compares_the_grant_day_with_the_submission_day() {
    let late = |granted: Option<&str>, submitted: Option<&str>| {
        let mut s = case_1();
        if let Some(g) = granted {
            s["referencings"][0]["granted_on"] = json!(g);
        }
        s["candidature"]["nrus"] = json!([]);
        s["candidature"]["late_nrus"] = json!(["REF-DPI-2-0001"]);
        s["candidature"]["complete_on"] = json!("2027-01-15");
        if let Some(d) = submitted {
            s["candidature"]["submitted_on"] = json!(d);
        }
        let answer = evaluate(&demo_catalogue(), &s.to_string());
        answer
            .errors
            .iter()
            .map(|e| e.code.as_str())
            .collect::<Vec<_>>()
    };
    let refused = ["late_nru_not_allowed"];
    assert!(late(Some("2027-01-11"), Some("2027-01-10")).is_empty());
    assert_eq!(late(Some("2027-01-10"), Some("2027-01-10")), refused);
    assert_eq!(late(Some("2026-10-01"), Some("2027-01-10")), refused);
    assert!(late(None, Some("2027-01-10")).is_empty());
    assert!(late(Some("2026-10-01"), None).is_empty());
}

#[test]
fn the_new_keys_are_optional_and_other_keys_are_still_refused() {
    for (path, key) in [
        ("referencings", "granted"),
        ("referencings", "opens_on"),
        ("candidature", "opened_on"),
        ("candidature", "rem"),
    ] {
        let mut s = case_1();
        match path {
            "referencings" => s["referencings"][0][key] = json!("1"),
            _ => s["candidature"][key] = json!("1"),
        }
        let err = preuves_domain::scenario::ScenarioFile::from_json(&s.to_string())
            .expect_err(key)
            .to_string();
        assert!(err.contains(key), "{err}");
    }
    // Bad values of the new keys are refused with their path.
    let mut s = case_1();
    s["candidature"]["on"] = json!("2026-02-30");
    let err = preuves_domain::scenario::ScenarioFile::from_json(&s.to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("candidature.on"), "{err}");
    let mut s = case_1();
    s["referencings"][0]["rem_version"] = json!(" ");
    let err = preuves_domain::scenario::ScenarioFile::from_json(&s.to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("referencings[0].rem_version"), "{err}");
}
