//! `preuves rem diff`: the real RIS REM of 2023 against a copy with a requirement removed, one
//! added, one socle id changed and one text changed, with the exact counts expected.

use std::path::Path;

use crate::support::{preuves, real_data};

/// Writes a modified copy of `source`: `AC/va1.01` removed, `ANN/va1.99` added (a copy of
/// `ANN/va1.02`'s row), `ANN/va1.01`'s socle id changed on each of its rows, `ANN/va1.03`'s text
/// reworded.
fn modified_copy(source: &Path, dest: &Path) {
    let mut reader = csv::Reader::from_path(source).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, text, scenario, proof, socle) = (
        col("ID"),
        col("Exigence"),
        col("N° scénario"),
        col("N° preuve"),
        col("Exigence socle"),
    );
    let mut writer = csv::Writer::from_path(dest).unwrap();
    writer.write_record(&headers).unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        let mut row: Vec<String> = record.iter().map(str::to_owned).collect();
        match row[id].as_str() {
            "AC/va1.01" => continue,
            "ANN/va1.01" => row[socle] = "SC.ANN/va1.77".to_owned(),
            "ANN/va1.03" => row[text].push_str(" Cette phrase est nouvelle."),
            "ANN/va1.02" => {
                writer.write_record(&row).unwrap();
                row[id] = "ANN/va1.99".to_owned();
                row[scenario] = "ANN/va1.99.01".to_owned();
                row[proof] = "ANN/va1.99.01.01".to_owned();
                row[socle] = "SC.ANN/va1.99".to_owned();
            }
            _ => {}
        }
        writer.write_record(&row).unwrap();
    }
    writer.flush().unwrap();
}

#[test]
fn the_real_ris_rem_against_a_modified_copy() {
    let Some(dir) = real_data("the_real_ris_rem_against_a_modified_copy") else {
        return;
    };
    let old = dir.join("REM-RIS-Va2.csv");
    let tmp = tempfile::tempdir().unwrap();
    let new = tmp.path().join("REM-RIS-Va2-modifie.csv");
    modified_copy(&old, &new);

    let out = preuves(&[
        "rem",
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["old_count"], 246);
    assert_eq!(d["new_count"], 246);
    assert_eq!(d["added"], serde_json::json!(["ANN/va1.99"]));
    assert_eq!(d["removed"], serde_json::json!(["AC/va1.01"]));
    assert_eq!(d["unchanged"], 243);
    assert_eq!(
        d["changed"],
        serde_json::json!([
            {"id": "ANN/va1.01", "fields": ["socle"],
             "socle_before": "SC.ANN/va1.01", "socle_after": "SC.ANN/va1.77"},
            {"id": "ANN/va1.03", "fields": ["text"]},
        ])
    );

    let text = preuves(&["rem", "diff", old.to_str().unwrap(), new.to_str().unwrap()]);
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("1\u{a0}ajoutée, 1\u{a0}supprimée, 2\u{a0}modifiées, 243\u{a0}inchangées."),
        "{text}"
    );
    assert!(text.contains("+ ANN/va1.99\n"), "{text}");
    assert!(text.contains("- AC/va1.01\n"), "{text}");
    assert!(
        text.contains("~ ANN/va1.01\u{a0}: exigence socle (SC.ANN/va1.01 → SC.ANN/va1.77)\n"),
        "{text}"
    );

    // The same file twice: nothing to report.
    let same = preuves(&["rem", "diff", old.to_str().unwrap(), old.to_str().unwrap()]);
    assert!(
        String::from_utf8(same.stdout)
            .unwrap()
            .contains("Aucune différence.")
    );
}

#[test]
fn an_unreadable_rem_is_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("vide.csv");
    std::fs::write(&bad, "pas un REM\n").unwrap();
    let out = preuves(&["rem", "diff", bad.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("REM illisible"), "{err}");
}
