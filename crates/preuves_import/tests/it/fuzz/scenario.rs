//! The scenario JSON on hostile text: parsed, and when it parses, evaluated against the demo
//! catalogue and printed both ways, as `preuves simulate` and the API do.

use std::sync::OnceLock;

use preuves_domain::Catalogue;
use preuves_domain::scenario::ScenarioFile;

use super::{Input, Outcome, fuzz, input, repo_file, root};

/// Tokens of the scenario format.
const SCENARIO_TOKENS: &[&[u8]] = &[
    b"\"referencings\":",
    b"\"candidature\":",
    b"\"nru\":",
    b"\"vendor\":",
    b"\"dispositif\":",
    b"\"wave\":",
    b"\"profiles\":",
    b"\"optional_profiles\":",
    b"\"version\":",
    b"\"nrus\":",
    b"\"late_nrus\":",
    b"\"complete_on\":",
    b"\"submitted_on\":",
    b"\"granted_on\":",
    b"\"rem_version\":",
    b"\"on\":",
    b"\"2026-06-02\"",
    b"\"additional_components\":",
    b"\"chapters\":",
    b"\"status\":",
    b"\"suspended\"",
    b"\"withdrawn\"",
    b"\"DUI-MS\"",
    b"\"DPI\"",
    b"\"MS1\"",
    b"\"\"",
    b"\"\\u0000\"",
    b"[]",
    b"{}",
    b"1",
    b"2",
    b"3",
    b"\"732829320\"",
    b"\"000000000\"",
    b"\"INS\"",
    b"\"PDE\"",
    b"\"G\xC3\xA9n\xC3\xA9ral\"",
    b"\"2027-03-31\"",
    b"\"99999-99-99\"",
    b"\"4.3\"",
    b"\"v\"",
    b"\"4..3\"",
    b"\"18446744073709551616.1\"",
];

fn seeds() -> Vec<Vec<u8>> {
    ["cas-nominal.json", "cas-1.json", "cas-2.json", "cas-3.json"]
        .iter()
        .map(|f| repo_file(&format!("demo/scenarios/{f}")))
        .collect()
}

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        preuves_import::load_catalogue(&root().join("demo/catalogue/catalogue.toml"))
            .unwrap_or_else(|e| panic!("the demo catalogue loads: {e}"))
            .catalogue
    })
}

fn run(bytes: &[u8]) -> Outcome {
    // The command reads the file as UTF-8 text (and refuses it otherwise): mutations that break
    // UTF-8 are read the lossy way so that they still reach the parser.
    let text = String::from_utf8_lossy(bytes);
    match ScenarioFile::from_json(&text) {
        Ok(file) => {
            let answer = file.evaluate(catalogue());
            let _ = answer.to_json_pretty();
            let _ = preuves_domain::text::render(&answer);
            Outcome::Accepted
        }
        Err(e) => {
            assert!(e.line >= 1 || text.is_empty() || e.line == 0);
            let _ = e.to_string();
            Outcome::Refused
        }
    }
}

#[test]
fn fuzz_scenario_json() {
    let seeds = seeds();
    catalogue();
    fuzz(
        "scenario_json",
        input(),
        |i: &Input| i.bytes(&seeds, SCENARIO_TOKENS),
        run,
    );
}

/// Deep nesting is refused with an error, not a stack overflow.
#[test]
fn deeply_nested_scenarios_are_refused() {
    for depth in [200, 10_000, 200_000] {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let text = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            assert!(ScenarioFile::from_json(&text).is_err());
            let text = format!(
                "{{\"candidature\": {{\"vendor\": {}1{}}}}}",
                open.repeat(depth),
                close.repeat(depth)
            );
            assert!(ScenarioFile::from_json(&text).is_err());
        }
    }
}

/// Found while timing the slowest fuzz cases: a scenario citing thousands of équivalence NRUs (with their referencings)
/// made the answer grow with their square (each R2 refusal lists every one: 12,000 NRUs in a
/// 2 MB file gave gigabytes and seconds). A candidature now cites at most
/// `MAX_SCENARIO_NRUS`, a clean error beyond.
#[test]
fn scenarios_citing_too_many_nrus_are_refused() {
    use preuves_domain::scenario::MAX_SCENARIO_NRUS;
    let base = String::from_utf8(repo_file("demo/scenarios/cas-3.json")).unwrap();
    let with_nrus = |n: usize, field: &str| {
        let mut v: serde_json::Value = serde_json::from_str(&base).unwrap();
        let model = v["referencings"][0].clone();
        let mut referencings = Vec::new();
        let mut nrus = Vec::new();
        for i in 0..n {
            let nru = format!("REF-DPI-2-{i:05}");
            let mut r = model.clone();
            r["nru"] = serde_json::json!(nru);
            referencings.push(r);
            nrus.push(nru);
        }
        v["referencings"] = serde_json::json!(referencings);
        v["candidature"][field] = serde_json::json!(nrus);
        v["candidature"]["complete_on"] = serde_json::json!("2026-01-01");
        v.to_string()
    };
    // At the limit: evaluated (refused by R2, every NRU named), and the answer stays small.
    let file = ScenarioFile::from_json(&with_nrus(MAX_SCENARIO_NRUS, "nrus")).unwrap();
    let answer = file.evaluate(catalogue());
    assert!(!answer.errors.is_empty());
    assert!(answer.to_json_pretty().len() < 5_000_000);
    // Beyond: refused where it is, in French.
    for field in ["nrus", "late_nrus"] {
        let e = ScenarioFile::from_json(&with_nrus(MAX_SCENARIO_NRUS + 1, field)).unwrap_err();
        assert_eq!(e.path, format!("candidature.{field}"));
        assert!(e.message.contains("au plus 100 NRU"), "{e}");
    }
}
