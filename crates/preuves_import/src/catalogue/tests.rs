//! Unit tests of catalogue loading, on small catalogue directories written to a temporary folder.

use std::fs;

use tempfile::TempDir;

use super::*;

const HEADER: &str = "Périmètre,ID,Chapitre,Fonction,Exigence,Commentaire,Profil,N° scénario,\
                      Scénario de conformité,N° preuve,Preuve,Profil historique,Criticité,Ordre,\
                      Exigence socle,ID vague 1";

/// A REM row: périmètre, id, profile, socle; one scenario and one proof.
fn rem_row(perimeter: &str, id: &str, profile: &str, socle: &str) -> String {
    format!(
        "{perimeter},{id},Chapitre,Fonction,Texte de {id},,{profile},{id}.01,Scénario,{id}.01.01,\
         Preuve,,,1,{socle},"
    )
}

fn rem(rows: &[String]) -> String {
    let mut text = String::from(HEADER);
    for r in rows {
        text.push('\n');
        text.push_str(r);
    }
    text.push('\n');
    text
}

const WAVE1_DPI: &str = r#"
[[dispositif]]
code = "DPI"
wave = 1
name = "Dossier patient informatisé (vague 1)"
corridor = "HOP"
"#;

fn wave2(code: &str, rem: &str) -> String {
    format!(
        r#"
[[dispositif]]
code = "{code}"
wave = 2
name = "{code} vague 2"
corridor = "HOP"
rem = "{rem}"
predecessors = []
date2 = "2026-12-15"
"#
    )
}

/// Writes `files` (name, content) into a new folder; returns it and the toml's path.
fn dir(files: &[(&str, &str)]) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    let toml = dir.path().join("catalogue.toml");
    (dir, toml)
}

fn failure(toml: &Path) -> CatalogueFailure {
    match load_catalogue(toml) {
        Ok(_) => panic!("failure expected"),
        Err(f) => f,
    }
}

fn codes(issues: &[Issue]) -> Vec<&'static str> {
    issues.iter().map(|i| i.code.as_str()).collect()
}

fn dpi_rem() -> String {
    rem(&[
        rem_row("Vague 1", "INS/va1.01", "Général", "SC.INS/va1.01"),
        rem_row("Vague 2", "DMP.01", "Général", ""),
        rem_row("Vague 2", "IAM.01", "IAM", ""),
    ])
}

fn lgc_rem() -> String {
    rem(&[
        rem_row("Vague 1", "INS/va1.01", "Général", "SC.INS/va1.01"),
        rem_row("Vague 2", "DMP/LGC.07", "Général", ""),
    ])
}

#[test]
fn a_catalogue_loads_with_its_rems_and_equivalences() {
    let mut toml = String::from("equivalences = \"tables/equivalences.csv\"\n");
    toml.push_str(WAVE1_DPI);
    toml.push_str(&wave2("DPI", "rems/REM-DPI.csv").replace("[]", "[\"DPI\"]"));
    toml.push_str(&wave2("LGC", "REM-LGC.csv"));
    let table = "\u{feff}Dispositif A;ID A;Dispositif B;ID B\r\nDPI;DMP.01;LGC;DMP/LGC.07\r\n";
    let (_dir, path) = dir(&[
        ("catalogue.toml", &toml),
        ("rems/REM-DPI.csv", &dpi_rem()),
        ("REM-LGC.csv", &lgc_rem()),
        ("tables/equivalences.csv", table),
    ]);
    let loaded = load_catalogue(&path).unwrap_or_else(|f| panic!("{f}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = &loaded.catalogue;
    assert_eq!(c.dispositifs().len(), 3);
    let dpi = DispositifKey {
        code: DispositifCode::parse("DPI").unwrap(),
        wave: Wave::Two,
    };
    let d = c.dispositif(&dpi).unwrap();
    assert_eq!(d.predecessors, [DispositifCode::parse("DPI").unwrap()]);
    assert_eq!(d.date2, IsoDate::from_ymd(2026, 12, 15));
    assert_eq!(d.rem.as_ref().unwrap().requirements().len(), 3);
    assert_eq!(loaded.rems.len(), 2);
    assert_eq!(loaded.rems[0].0, dpi);
    assert!(loaded.rems[0].1.ends_with("rems/REM-DPI.csv"));
    assert_eq!(loaded.rems[0].2, 3);
    // Common through the socle id, and through the table.
    let shared = |id: &str| {
        c.shared_with(&dpi, &RequirementId::parse(id).unwrap())
            .iter()
            .map(|(_, r)| r.id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(shared("INS/va1.01"), ["INS/va1.01"]);
    assert_eq!(shared("DMP.01"), ["DMP/LGC.07"]);
    assert!(shared("IAM.01").is_empty());
}

#[test]
fn wave1_profiles_are_kept() {
    let toml = format!("{WAVE1_DPI}profiles = [\"PA\", \"PH\"]\n");
    let (_dir, path) = dir(&[("catalogue.toml", &toml)]);
    let loaded = load_catalogue(&path).unwrap();
    let d = &loaded.catalogue.dispositifs()[0];
    let profiles: Vec<_> = d.optional_profiles().iter().map(|p| p.as_str()).collect();
    assert_eq!(profiles, ["PA", "PH"]);
}

#[test]
fn unknown_keys_are_refused_with_line_and_position() {
    let toml = "\n[[dispositif]]\ncode = \"DPI\"\nwave = 1\nname = \"x\"\ncorridor = \"HOP\"\n  colour = \"bleu\"\n";
    let (_dir, path) = dir(&[("catalogue.toml", toml)]);
    let f = failure(&path);
    assert_eq!(codes(&f.errors), ["invalid_toml"]);
    let e = &f.errors[0];
    assert_eq!((e.line, e.position), (Some(7), Some(3)), "{e}");
    assert!(e.message.starts_with("clé inconnue « colour »"), "{e}");
    assert!(e.message.contains("corridor"), "{e}");
    assert!(e.to_string().contains("catalogue.toml:7:3: "), "{e}");

    let (_dir, path) = dir(&[("catalogue.toml", "dispositifs = []\n")]);
    let e = &failure(&path).errors[0];
    assert_eq!(e.line, Some(1));
    assert!(e.message.contains("« dispositifs »"), "{e}");
}

#[test]
fn bad_values_are_refused_in_french_with_their_line() {
    let cases = [
        ("wave = 3", "vague 3"),
        ("wave = 1\ndate2 = \"2026-02-30\"", "ce jour n'existe pas"),
        ("wave = 1\nprofiles = [\" \"]", "le profil est vide"),
    ];
    for (wave, expected) in cases {
        let toml =
            format!("[[dispositif]]\ncode = \"DPI\"\n{wave}\nname = \"x\"\ncorridor = \"HOP\"\n");
        let (_dir, path) = dir(&[("catalogue.toml", &toml)]);
        let f = failure(&path);
        assert_eq!(codes(&f.errors), ["invalid_toml"], "{wave}");
        assert!(f.errors[0].message.contains(expected), "{}", f.errors[0]);
        assert!(f.errors[0].line.is_some_and(|l| l >= 3), "{}", f.errors[0]);
    }
    let (_dir, path) = dir(&[(
        "catalogue.toml",
        "[[dispositif]]\ncode = \"DPI\"\nwave = 1\n",
    )]);
    let f = failure(&path);
    assert!(
        f.errors[0]
            .message
            .contains("clé obligatoire « name » absente"),
        "{}",
        f.errors[0]
    );

    let (_dir, path) = dir(&[("catalogue.toml", "[[dispositif]\n")]);
    let f = failure(&path);
    assert_eq!(codes(&f.errors), ["invalid_toml"]);
    assert_eq!(f.errors[0].line, Some(1));
}

#[test]
fn a_missing_toml_is_a_missing_file() {
    let f = failure(Path::new("/nonexistent/catalogue.toml"));
    assert_eq!(codes(&f.errors), ["missing_file"]);
}

#[test]
fn wave_rules_are_checked_and_all_reported() {
    let toml = r#"
[[dispositif]]
code = "DPI"
wave = 1
name = "DPI 1"
corridor = "HOP"
rem = "REM.csv"
predecessors = ["X"]
date2 = "2026-12-15"

[[dispositif]]
code = "DPI"
wave = 2
name = "DPI 2"
corridor = "HOP"
predecessors = ["MS1"]
profiles = ["PA"]

[[dispositif]]
code = "LGC"
wave = 2
name = "LGC 2"
corridor = "MDV"
rem = "absent.csv"

[[dispositif]]
code = "LGC"
wave = 2
name = "LGC 2 bis"
corridor = "MDV"
rem = "REM.csv"
date2 = "2026-12-15"
"#;
    let (_dir, path) = dir(&[("catalogue.toml", toml), ("REM.csv", &dpi_rem())]);
    let f = failure(&path);
    let found: Vec<_> = f
        .errors
        .iter()
        .map(|e| (e.code.as_str(), e.line.unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("misplaced_field", 7),
            ("misplaced_field", 8),
            ("misplaced_field", 9),
            ("misplaced_field", 17),
            ("missing_rem", 11),
            ("unknown_predecessor", 16),
            ("missing_file", 24),
            ("duplicate_dispositif", 26),
        ]
    );
    assert!(
        f.errors[6].message.contains("absent.csv"),
        "{}",
        f.errors[6]
    );
    let warnings: Vec<_> = f
        .warnings
        .iter()
        .map(|w| (w.code.as_str(), w.line.unwrap()))
        .collect();
    assert_eq!(warnings, [("missing_date2", 11), ("missing_date2", 19)]);
    assert_eq!(f.to_string().lines().count(), 8);
}

#[test]
fn every_rem_error_is_reported_not_only_the_first_rem() {
    let bad_dpi = rem(&[
        rem_row("Vague 3", "INS.01", "Général", ""),
        rem_row("Vague 2", "INS.02", "", ""),
    ]);
    let bad_lgc = rem(&[rem_row("Vague 2", "A 01", "Général", "")]);
    let mut toml = String::from(WAVE1_DPI);
    toml.push_str(&wave2("DPI", "DPI.csv"));
    toml.push_str(&wave2("LGC", "LGC.csv"));
    toml.push_str(&wave2("RIS", "RIS.xls"));
    let (_dir, path) = dir(&[
        ("catalogue.toml", &toml),
        ("DPI.csv", &bad_dpi),
        ("LGC.csv", &bad_lgc),
        ("RIS.xls", "x"),
    ]);
    let f = failure(&path);
    assert_eq!(
        codes(&f.errors),
        [
            "unknown_perimeter",
            "empty_profile",
            "invalid_id",
            "unsupported_format"
        ]
    );
    assert!(f.errors[0].file.ends_with("DPI.csv"));
    assert!(f.errors[2].file.ends_with("LGC.csv"));
    assert!(f.errors[3].file.ends_with("RIS.xls"));
}

#[test]
fn rem_warnings_come_with_the_catalogue() {
    let with_warning =
        rem(&["Vague 2,INS.01,Chapitre,Fonction,Texte,,Général,,,,,,,1,,".to_owned()]);
    let mut toml = String::from(WAVE1_DPI);
    toml.push_str(&wave2("DPI", "DPI.csv"));
    let (_dir, path) = dir(&[("catalogue.toml", &toml), ("DPI.csv", &with_warning)]);
    let loaded = load_catalogue(&path).unwrap();
    assert_eq!(codes(&loaded.warnings), ["no_scenario"]);
    assert!(loaded.warnings[0].file.ends_with("DPI.csv"));
}

#[test]
fn equivalence_table_errors_are_located() {
    let mut toml = String::from("equivalences = \"eq.csv\"\n");
    toml.push_str(WAVE1_DPI);
    toml.push_str(&wave2("DPI", "DPI.csv"));
    toml.push_str(&wave2("LGC", "LGC.csv"));
    let table = "Dispositif A,ID A,Dispositif B,ID B,Note\n\
                 DPI,DMP.01,LGC,DMP/LGC.07,ok\n\
                 LGC,DMP/LGC.07,DPI,DMP.01,même paire\n\
                 MS1,X.01,LGC,DMP/LGC.07,\n\
                 DPI,DMP.99,LGC,DMP/LGC.07,\n\
                 DPI,DMP.01,DPI,IAM.01,\n\
                 DPI,,LGC,A B,\n";
    let (_dir, path) = dir(&[
        ("catalogue.toml", &toml),
        ("DPI.csv", &dpi_rem()),
        ("LGC.csv", &lgc_rem()),
        ("eq.csv", table),
    ]);
    let f = failure(&path);
    let found: Vec<_> = f
        .errors
        .iter()
        .map(|e| {
            (
                e.code.as_str(),
                e.line.unwrap(),
                e.column.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("unknown_dispositif", 4, "Dispositif A"),
            ("unknown_requirement", 5, "ID A"),
            ("invalid_pair", 6, "Dispositif B"),
            ("empty_id", 7, "ID A"),
            ("invalid_id", 7, "ID B"),
        ]
    );
    assert!(f.errors.iter().all(|e| e.file.ends_with("eq.csv")));
    let warnings: Vec<_> = f
        .warnings
        .iter()
        .map(|w| (w.code.as_str(), w.line.unwrap()))
        .collect();
    assert_eq!(warnings, [("unknown_column", 1), ("duplicate_pair", 3)]);
}

#[test]
fn equivalence_table_needs_its_columns_and_its_file() {
    let mut toml = String::from("equivalences = \"eq.csv\"\n");
    toml.push_str(WAVE1_DPI);
    toml.push_str(&wave2("DPI", "DPI.csv"));
    let (_dir, path) = dir(&[
        ("catalogue.toml", &toml),
        ("DPI.csv", &dpi_rem()),
        ("eq.csv", "Dispositif A,ID A\n"),
    ]);
    let f = failure(&path);
    let missing: Vec<_> = f
        .errors
        .iter()
        .map(|e| e.column.as_deref().unwrap())
        .collect();
    assert_eq!(missing, ["Dispositif B", "ID B"]);
    assert!(f.errors.iter().all(|e| e.code == IssueCode::MissingColumn));

    let (_dir, path) = dir(&[("catalogue.toml", &toml), ("DPI.csv", &dpi_rem())]);
    let f = failure(&path);
    assert_eq!(codes(&f.errors), ["missing_file"]);
    assert_eq!(f.errors[0].line, Some(1));
}

#[test]
fn toml_messages_are_translated() {
    assert_eq!(
        french_toml_message("unknown field `foo`, expected one of `a`, `b`"),
        "clé inconnue « foo » (clés admises : a, b)"
    );
    assert_eq!(
        french_toml_message("unknown field `foo`, there are no fields"),
        "clé inconnue « foo »"
    );
    assert_eq!(
        french_toml_message("missing field `rem`"),
        "clé obligatoire « rem » absente"
    );
    assert_eq!(
        french_toml_message("invalid string\n"),
        "catalogue invalide : invalid string"
    );
    assert_eq!(line_and_position("ab\ncé\nx", 6), (2, 3));
    assert_eq!(line_and_position("ab", 99), (1, 3));
}

/// A DPI vague-2 entry with `extra` keys, then `older` `[[dispositif.older_rem]]` tables.
fn versioned_dpi(extra: &str, older: &[(&str, &str)]) -> String {
    let mut toml = String::from(WAVE1_DPI);
    toml.push_str(&wave2("DPI", "REM-DPI.csv").replace("[]", "[\"DPI\"]"));
    toml.push_str(extra);
    for (version, file) in older {
        toml.push_str(&format!(
            "[[dispositif.older_rem]]\nversion = \"{version}\"\nfile = \"{file}\"\n"
        ));
    }
    toml
}

fn dpi_v1_rem() -> String {
    rem(&[rem_row("Vague 1", "INS/va1.01", "Général", "SC.INS/va1.01")])
}

#[test]
fn older_rem_versions_load_with_their_labels_and_the_guichet_calendar() {
    let toml = versioned_dpi(
        "rem_version = \"2\"\nopens_on = \"2026-01-05\"\n",
        &[("1", "REM-DPI-v1.csv")],
    );
    let (_dir, path) = dir(&[
        ("catalogue.toml", &toml),
        ("REM-DPI.csv", &dpi_rem()),
        ("REM-DPI-v1.csv", &dpi_v1_rem()),
    ]);
    let loaded = load_catalogue(&path).unwrap_or_else(|f| panic!("{f}"));
    let d = &loaded.catalogue.dispositifs()[1];
    assert_eq!(d.rem_version.as_str(), "2");
    assert_eq!(d.opens_on, IsoDate::from_ymd(2026, 1, 5));
    let versions: Vec<(&str, usize)> = d
        .rem_versions()
        .map(|(l, rem)| (l.as_str(), rem.requirements().len()))
        .collect();
    assert_eq!(versions, [("1", 1), ("2", 3)]);
    assert_eq!(loaded.rems.len(), 1);
    assert_eq!(loaded.older_rems.len(), 1);
    assert_eq!(loaded.older_rems[0].1.as_str(), "1");
    assert!(loaded.older_rems[0].2.ends_with("REM-DPI-v1.csv"));

    // Without `rem_version`, the version in force is "1"; without `opens_on`, the guichet is open.
    let (_dir, path) = dir(&[
        ("catalogue.toml", &versioned_dpi("", &[])),
        ("REM-DPI.csv", &dpi_rem()),
    ]);
    let loaded = load_catalogue(&path).unwrap();
    let d = &loaded.catalogue.dispositifs()[1];
    assert_eq!((d.rem_version.as_str(), d.opens_on), ("1", None));
    assert!(d.older_rems.is_empty());
}

#[test]
fn rem_version_labels_are_unique_per_dispositif() {
    // The default label "1" of the version in force counts too.
    for (extra, older) in [
        ("", vec![("1", "REM-DPI-v1.csv")]),
        (
            "rem_version = \"3\"\n",
            vec![("1", "REM-DPI-v1.csv"), ("1", "REM-DPI-v1.csv")],
        ),
    ] {
        let (_dir, path) = dir(&[
            ("catalogue.toml", &versioned_dpi(extra, &older)),
            ("REM-DPI.csv", &dpi_rem()),
            ("REM-DPI-v1.csv", &dpi_v1_rem()),
        ]);
        let f = failure(&path);
        assert_eq!(codes(&f.errors), ["duplicate_rem_version"], "{f}");
        assert!(f.errors[0].message.contains("« 1 »"), "{}", f.errors[0]);
        assert!(f.errors[0].line.is_some(), "{}", f.errors[0]);
    }
    // A missing older file is named with its version.
    let (_dir, path) = dir(&[
        (
            "catalogue.toml",
            &versioned_dpi("rem_version = \"2\"\n", &[("1", "nope.csv")]),
        ),
        ("REM-DPI.csv", &dpi_rem()),
    ]);
    let f = failure(&path);
    assert_eq!(codes(&f.errors), ["missing_file"]);
    assert!(
        f.errors[0].message.contains("version « 1 »"),
        "{}",
        f.errors[0]
    );
}

#[test]
fn versions_and_calendar_are_vague_2_keys() {
    for key in [
        "rem_version = \"2\"",
        "opens_on = \"2026-06-03\"",
        "[[dispositif.older_rem]]\nversion = \"1\"\nfile = \"x.csv\"",
    ] {
        let toml = format!("{WAVE1_DPI}{key}\n");
        let (_dir, path) = dir(&[("catalogue.toml", &toml)]);
        let f = failure(&path);
        assert_eq!(codes(&f.errors), ["misplaced_field"], "{key}");
    }
    // An older version's unknown key is refused like any other.
    let toml = versioned_dpi("", &[])
        + "[[dispositif.older_rem]]\nversion = \"0\"\nfile = \"x.csv\"\nlabel = \"x\"\n";
    let (_dir, path) = dir(&[("catalogue.toml", &toml), ("REM-DPI.csv", &dpi_rem())]);
    assert_eq!(codes(&failure(&path).errors), ["invalid_toml"]);
}

#[test]
fn an_equivalence_pair_may_name_a_requirement_of_an_older_version() {
    let mut toml = String::from("equivalences = \"eq.csv\"\n");
    toml.push_str(&versioned_dpi(
        "rem_version = \"2\"\n",
        &[("1", "REM-DPI-v1.csv")],
    ));
    toml.push_str(&wave2("LGC", "REM-LGC.csv"));
    let v1 = rem(&[rem_row("Vague 2", "OLD.01", "Général", "")]);
    let table = "Dispositif A,ID A,Dispositif B,ID B\nDPI,OLD.01,LGC,DMP/LGC.07\nDPI,GONE.01,LGC,DMP/LGC.07\n";
    let (_dir, path) = dir(&[
        ("catalogue.toml", &toml),
        ("REM-DPI.csv", &dpi_rem()),
        ("REM-DPI-v1.csv", &v1),
        ("REM-LGC.csv", &lgc_rem()),
        ("eq.csv", table),
    ]);
    let f = failure(&path);
    // OLD.01 exists in version 1: accepted; GONE.01 in no version: refused.
    assert_eq!(codes(&f.errors), ["unknown_requirement"], "{f}");
    assert_eq!(f.errors[0].line, Some(3), "{}", f.errors[0]);
}
