//! The command line's interface: output formats, exit codes, and messages naming file, line and
//! column.

use std::io::Write;

use crate::support::{demo_catalogue_path, demo_scenario, preuves, real_data};

fn temp_file(content: &str, suffix: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    f.write_all(content.as_bytes()).unwrap();
    f
}

fn simulate(
    catalogue: &std::path::Path,
    scenario: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "simulate",
        "--catalogue",
        catalogue.to_str().unwrap(),
        "--scenario",
        scenario.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    preuves(&args)
}

#[test]
fn text_format_prints_a_summary_and_a_table() {
    let out = simulate(
        &demo_catalogue_path(),
        &demo_scenario("cas-3.json"),
        &["--format", "text"],
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Plan de preuves\n"), "{text}");
    assert!(
        text.contains("Masquées par héritage       :    28"),
        "{text}"
    );
    assert!(text.contains("R3 · NRU REF-MS2-PDE-1-0001"));
    assert!(text.contains("R7 · composant « Module INS »"));
}

#[test]
fn a_scenario_with_refusals_exits_0_with_the_refusals_in_the_answer() {
    let scenario = std::fs::read_to_string(demo_scenario("cas-1.json"))
        .unwrap()
        .replace("\"4.3\"", "\"4.1\"");
    let file = temp_file(&scenario, ".json");
    let out = simulate(&demo_catalogue_path(), file.path(), &[]);
    assert_eq!(out.status.code(), Some(0));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["errors"][0]["code"], "version_lower");
    assert_eq!(answer["errors"][0]["nru"], "REF-DPI-2-0001");
    assert_eq!(answer["summary"], serde_json::Value::Null);
    assert_eq!(answer["requirements"], serde_json::json!([]));
}

#[test]
fn malformed_scenario_exits_2_naming_file_line_and_column() {
    let file = temp_file(
        "{\n  \"candidature\": {\n    \"vendor\": \"12\"\n  }\n}\n",
        ".json",
    );
    let out = simulate(&demo_catalogue_path(), file.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    let name = file.path().display().to_string();
    // The position serde gives for a value refused after parsing is the end of its object;
    // the key path names the value itself.
    assert!(
        err.starts_with(&format!("{name}:4:3: candidature.vendor : le SIREN « 12 »")),
        "{err}"
    );
    assert!(!err.contains(" at line "), "{err}");
}

#[test]
fn unknown_key_in_scenario_is_refused() {
    let scenario = std::fs::read_to_string(demo_scenario("cas-1.json"))
        .unwrap()
        .replace("\"optional_profiles\"", "\"optional_profile\"");
    let file = temp_file(&scenario, ".json");
    let out = simulate(&demo_catalogue_path(), file.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("optional_profile"));
}

#[test]
fn missing_files_exit_2() {
    let out = simulate(
        &demo_catalogue_path(),
        std::path::Path::new("nowhere.json"),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere.json"));
    let out = simulate(
        std::path::Path::new("nowhere/catalogue.toml"),
        &demo_scenario("cas-1.json"),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere/catalogue.toml"));
}

#[test]
fn a_catalogue_whose_rem_has_errors_is_refused_whole_with_every_error() {
    let dir = tempfile::tempdir().unwrap();
    let header = "Périmètre,ID,Chapitre,Fonction,Exigence,Commentaire,Profil,N° scénario,Scénario de conformité,N° preuve,Preuve,Profil historique,Criticité,Ordre";
    let rem = format!(
        "{header}\nVague 3,INS.01,INS,f,Texte,,Général,,,,,,,1\nVague 2,,INS,f,Texte,,Général,,,,,,,2\nVague 2,INS.02,INS,f,Texte A,,Général,,,,,,,3\nVague 2,INS.02,INS,f,Texte B,,Général,,,,,,,4\n"
    );
    std::fs::write(dir.path().join("rem.csv"), rem).unwrap();
    std::fs::write(
        dir.path().join("catalogue.toml"),
        "[[dispositif]]\ncode = \"DPI\"\nwave = 2\nname = \"DPI\"\ncorridor = \"HOP\"\nrem = \"rem.csv\"\npredecessors = []\ndate2 = \"2026-12-15\"\n",
    )
    .unwrap();
    let out = simulate(
        &dir.path().join("catalogue.toml"),
        &demo_scenario("cas-1.json"),
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    // Lines 2, 3 and 5 of the file: unknown périmètre, empty id, conflicting definition.
    for needle in ["rem.csv:2", "rem.csv:3", "rem.csv:5", "INS.02"] {
        assert!(err.contains(needle), "{needle} in {err}");
    }
}

#[test]
fn check_catalogue_lists_the_dispositifs() {
    let out = preuves(&[
        "check-catalogue",
        "--catalogue",
        demo_catalogue_path().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("DUI-MS vague 2"), "{text}");
    assert!(text.contains("113 exigences"), "{text}");
    assert!(
        text.contains("REM en vigueur : version « 2 », versions antérieures conservées : « 1 »"),
        "{text}"
    );
    assert!(
        text.contains("guichet ouvert à partir du 03/06/2026"),
        "{text}"
    );
}

#[test]
fn real_catalogue_simulation_with_heritage_and_equivalence() {
    let Some(dir) = real_data("real_catalogue_simulation_with_heritage_and_equivalence") else {
        return;
    };
    let scenario = serde_json::json!({
        "referencings": [
            {"nru": "REF-RIS-1-0001", "vendor": "732829320", "dispositif": "RIS", "wave": 1, "profiles": [],
             "solution": "R", "main_component": "R-core", "version": "7.0"},
            {"nru": "REF-DPI-2-0001", "vendor": "732829320", "dispositif": "DPI", "wave": 2, "profiles": ["Général"],
             "solution": "R", "main_component": "R-core", "version": "7.1"}
        ],
        "candidature": {"vendor": "732829320", "dispositif": "RIS", "solution": "R", "main_component": "R-core",
            "version": "7.2", "nrus": ["REF-RIS-1-0001", "REF-DPI-2-0001"]}
    });
    let file = temp_file(&scenario.to_string(), ".json");
    let out = simulate(&dir.join("catalogue.toml"), file.path(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["errors"], serde_json::json!([]));
    let s = &answer["summary"];
    // RIS Général: 307 rows; every vague-1 Général requirement is inherited.
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(
        n("in_scope"),
        n("to_deposit") + n("masked_heritage") + n("masked_equivalence")
    );
    assert!(
        n("masked_heritage") > 0 && n("masked_equivalence") > 0,
        "{s}"
    );
}

/// `preuves audit verify` passes on an untouched trail and, once a row is altered behind the
/// platform's back, exits with 3 naming the first altered entry.
#[test]
fn audit_verify_names_the_first_altered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    for (email, name) in [("a@example.fr", "Alice"), ("b@example.fr", "Bruno")] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_preuves"))
            .args([
                "create-user",
                "--data-dir",
                data,
                "--email",
                email,
                "--name",
                name,
                "--role",
                "admin",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"un mot de passe assez long\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let ok = preuves(&["audit", "verify", "--data-dir", data]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Journal d'audit intègre"));

    // Alter the first user's creation entry directly, as someone with database access could.
    let file = dir.path().join("preuves.sqlite3");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
            let (id,): (i64,) =
                sqlx::query_as("SELECT MIN(id) FROM audit_log WHERE details LIKE '%a@example.fr%'")
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
            sqlx::query("DROP TRIGGER audit_log_no_update")
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::query(
                "UPDATE audit_log SET details = replace(details, 'Alice', 'Mallory') WHERE id = $1",
            )
            .bind(id)
            .execute(&mut conn)
            .await
            .unwrap();
            let broken = preuves(&["audit", "verify", "--data-dir", data]);
            assert_eq!(broken.status.code(), Some(3));
            let message = String::from_utf8_lossy(&broken.stderr);
            assert!(
                message.contains(&format!("n° {id} ")),
                "names entry {id}: {message}"
            );
            assert!(message.contains("modifiée"), "{message}");
        });
}

/// `preuves demo export` writes the embedded demonstration data, which gives the same plans as
/// the repository's files, and never overwrites what is there.
#[test]
fn demo_export_writes_the_embedded_data_without_overwriting() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("essai");
    let out = preuves(&["demo", "export", target.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(
        printed.contains("preuves simulate --catalogue"),
        "{printed}"
    );

    for case in ["cas-nominal.json", "cas-1.json", "cas-2.json", "cas-3.json"] {
        let exported = target.join("scenarios").join(case);
        assert_eq!(
            std::fs::read(&exported).unwrap(),
            std::fs::read(demo_scenario(case)).unwrap(),
            "{case}"
        );
        let from_export = simulate(&target.join("catalogue/catalogue.toml"), &exported, &[]);
        let from_repo = simulate(&demo_catalogue_path(), &demo_scenario(case), &[]);
        assert!(from_export.status.success());
        assert_eq!(from_export.stdout, from_repo.stdout, "{case}");
    }

    let scenario = target.join("scenarios/cas-1.json");
    std::fs::write(&scenario, "{}").unwrap();
    let again = preuves(&["demo", "export", target.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("existe déjà"));
    assert_eq!(
        std::fs::read_to_string(&scenario).unwrap(),
        "{}",
        "not overwritten"
    );
}
