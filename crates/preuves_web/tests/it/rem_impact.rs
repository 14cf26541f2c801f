//! The REM impact analysis shown before an import, through the page and the API: a modified
//! DUI-MS REM (a requirement added, one removed, one socle id changed) over the demo catalogue,
//! with a draft and a filed candidature pinned to the version in force and a DPI referencing
//! whose équivalence reuse into DUI-MS shrinks. Nothing is imported before the confirmation; an
//! unknown, foreign or mistyped staging is refused.

use axum::http::StatusCode;
use preuves_db::{Actor, AdministrativeStep, OrganisationId, Role, SolutionFields};
use preuves_domain::{DispositifCode, DispositifKey, Nru, Version, Wave};
use serde_json::json;

use crate::api::referencing;
use crate::api_admin::{admin, multipart, upload as api_upload};
use crate::catalogue::{confirm, hidden, upload};
use crate::support::TestApp;

const NBSP: char = '\u{a0}';
const SIREN: &str = "732829320";
const NRU: &str = "REF-DPI-2-0042";

fn dui() -> DispositifKey {
    DispositifKey {
        code: DispositifCode::parse("DUI-MS").unwrap(),
        wave: Wave::Two,
    }
}

/// The demo DUI-MS REM with ANN.01 removed, INS.01's socle id changed to one DPI does not have,
/// and a requirement USA.99 (Général, vague 2, no socle id) added.
fn modified_rem() -> Vec<u8> {
    let demo = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../demo/catalogue/REM-DUI-MS-Va2-demo.csv"),
    )
    .unwrap();
    let mut reader = csv::Reader::from_reader(&demo[..]);
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, socle) = (col("ID"), col("Exigence socle"));
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(&headers).unwrap();
    let mut template = None;
    for record in reader.records() {
        let record = record.unwrap();
        let mut fields: Vec<String> = record.iter().map(str::to_owned).collect();
        match &fields[id][..] {
            "ANN.01" => continue,
            "INS.01" => fields[socle] = "SC.INS.99".to_owned(),
            "USA.01" => template = Some(fields.clone()),
            _ => {}
        }
        out.write_record(&fields).unwrap();
    }
    let mut added = template.expect("USA.01 in the demo REM");
    added[id] = "USA.99".to_owned();
    added[col("Exigence")] = "Le système DOIT tracer la sortie d'un usager.".to_owned();
    added[col("N° scénario")] = "USA.99.01".to_owned();
    added[col("N° preuve")] = "USA.99.01.01".to_owned();
    added[col("Preuve")] = "Vidéo".to_owned();
    added[socle] = String::new();
    out.write_record(&added).unwrap();
    out.into_inner().unwrap()
}

/// A vendor holding the DPI referencing [`NRU`] (Général only), with a draft citing it and a
/// filed candidature on DUI-MS, both pinned to the version in force: (draft id, filed id).
async fn world(app: &TestApp) -> (OrganisationId, i64, i64) {
    let org = app.organisation("Éditeur Impact", SIREN).await;
    referencing(app, NRU, org, "DPI", Wave::Two).await;
    let db = &app.db;
    let solution = db
        .create_solution(
            org,
            &SolutionFields {
                name: "Solution Impact".to_owned(),
                main_component: "core".to_owned(),
                versions: vec!["5.0".to_owned()],
                commercial_names: vec!["Solution Impact".to_owned()],
            },
            &Actor::System,
        )
        .await
        .unwrap();
    let step = |nrus: Vec<Nru>| AdministrativeStep {
        solution: solution.id,
        optional_profiles: vec![],
        version: Version::parse("5.0").unwrap(),
        nrus,
        additional_components: vec![],
        commercial_names: vec!["Solution Impact".to_owned()],
        honour_statement: None,
    };
    let draft = db
        .create_candidature(
            org,
            &dui(),
            &step(vec![Nru::parse(NRU).unwrap()]),
            &Actor::System,
        )
        .await
        .unwrap();
    let filed = db
        .create_candidature(org, &dui(), &step(vec![]), &Actor::System)
        .await
        .unwrap();
    db.submit_candidature(org, filed.id, filed.revision, true, &Actor::System)
        .await
        .unwrap();
    (org, draft.id.0, filed.id.0)
}

async fn versions(app: &TestApp) -> usize {
    app.db.list_rem_versions(&dui()).await.unwrap().len()
}

/// The text of the element with id `id`, up to its end tag `end`.
fn section<'a>(body: &'a str, id: &str, end: &str) -> &'a str {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id} in {body}"));
    let rest = &body[start..];
    &rest[..rest.find(end).unwrap()]
}

#[tokio::test]
async fn the_page_shows_the_impact_and_imports_only_once_confirmed() {
    let app = TestApp::new().await;
    let (_, draft, filed) = world(&app).await;
    let mut admin = app.signed_in("admin@example.fr", Role::Admin, None).await;
    let file = modified_rem();

    let preview = upload(&mut admin, "DUI-MS", "REM-DUI-MS-v2.csv", &file).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let b = &preview.body;
    assert_eq!(
        versions(&app).await,
        1,
        "nothing imported before confirmation"
    );
    for text in [
        "Rien n'a encore été importé.".to_owned(),
        "Différence avec la version en vigueur (1)".to_owned(),
        "Exigences&nbsp;: 113 → 113".to_owned(),
        "<strong id=\"nb-ajoutees\">1</strong>".to_owned(),
        "<strong id=\"nb-supprimees\">1</strong>".to_owned(),
        "<strong id=\"nb-modifiees\">1</strong>".to_owned(),
        "<span id=\"nb-socle\">1</span>".to_owned(),
        "Inchangées&nbsp;: 111".to_owned(),
        "<code>USA.99</code>".to_owned(),
        "<code>ANN.01</code>".to_owned(),
        "<code>INS.01</code>".to_owned(),
        format!("exigence socle{NBSP}: SC.INS.01 → SC.INS.99"),
        "Importer cette version".to_owned(),
        "action=\"/admin/import/confirmer\"".to_owned(),
    ] {
        assert!(b.contains(&text), "{text} missing in {b}");
    }
    // The draft: 32 requirements masked by the DPI referencing under version 1, 30 under the new
    // one (ANN.01 gone, INS.01 no longer common); USA.99 appears, to deposit.
    let d = section(b, &format!("candidature-{draft}"), "</tr>");
    for text in [
        "À déposer&nbsp;: 36 → 38".to_owned(),
        "masquées&nbsp;: 32 → 30".to_owned(),
        "Deviendraient à déposer&nbsp;: INS.01".to_owned(),
        "Deviendraient masquées&nbsp;: —".to_owned(),
        "Apparaîtraient, à déposer&nbsp;: USA.99".to_owned(),
        "Disparaîtraient&nbsp;: ANN.01".to_owned(),
        "brouillon".to_owned(),
    ] {
        assert!(d.contains(&text), "{text} missing in {d}");
    }
    // The filed one keeps its version.
    let f = section(b, &format!("candidature-{filed}"), "</tr>");
    assert!(f.contains("Déposée&nbsp;: garde la version 1."), "{f}");
    assert!(f.contains("déposée"));
    // The DPI referencing reaches 32 DUI-MS requirements now, 30 under the new version.
    let reuse = section(b, &format!("reutilisation-{NRU}"), "</tr>");
    assert!(reuse.contains("32 → 30"), "{reuse}");
    assert!(reuse.contains("réduite"));
    // Narrow screens: every impact table stacks its cells, each labelled.
    assert!(b.contains("<table class=\"stack\">"));
    assert!(b.contains("data-label=\"Nouvelle version\""));

    // A staging id that is not this one is refused, and nothing is imported.
    let sha = hidden(b, "sha256");
    let staging = hidden(b, "staging");
    let r = admin
        .post(
            "/admin/import/confirmer",
            &[("staging", &"0".repeat(32)), ("sha256", &sha)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("importez à nouveau le fichier"),
        "{}",
        r.body
    );
    assert!(r.body.contains("id=\"fichier-erreur\""));
    // The right id with another SHA-256 too.
    let r = admin
        .post(
            "/admin/import/confirmer",
            &[("staging", &staging), ("sha256", &"0".repeat(64))],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Another administrator cannot confirm it.
    let mut other = app.signed_in("admin2@example.fr", Role::Admin, None).await;
    other.get("/admin/import").await;
    let r = other
        .post(
            "/admin/import/confirmer",
            &[("staging", &staging), ("sha256", &sha)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(versions(&app).await, 1);

    // The confirmation imports that very file, once.
    let r = confirm(&mut admin, &preview).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(versions(&app).await, 2);
    let v2 = &app.db.list_rem_versions(&dui()).await.unwrap()[1];
    assert_eq!(v2.requirement_count, 113);
    assert_eq!(v2.sha256, sha);
    let r = admin
        .post(
            "/admin/import/confirmer",
            &[("staging", &staging), ("sha256", &sha)],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a staging is used once"
    );
    assert_eq!(versions(&app).await, 2);
    // The staged file is gone from the blob store.
    let staged = app
        .blobs
        .list(Some(
            &preuves_storage::BlobKey::parse("rem-staging").unwrap(),
        ))
        .await
        .unwrap();
    assert!(staged.is_empty(), "{staged:?}");
}

#[tokio::test]
async fn the_api_returns_the_impact_then_imports_on_confirmation() {
    let app = TestApp::new().await;
    let (_, draft, filed) = world(&app).await;
    let (_, api) = admin(&app).await;
    let file = modified_rem();

    let r = api_upload(
        &api,
        multipart(
            &[("dispositif", "DUI-MS"), ("label", "2026-09")],
            Some(("REM-DUI-MS.csv", &file)),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        versions(&app).await,
        1,
        "nothing imported before confirmation"
    );
    let p = &r.json;
    assert_eq!(p["label"], "2026-09");
    assert_eq!(p["requirements"], 113);
    assert!(p["impact_unavailable"].is_null());
    let i = &p["impact"];
    assert_eq!(i["base_label"], "1");
    let d = &i["diff"];
    assert_eq!(
        (d["old_count"].as_u64(), d["new_count"].as_u64()),
        (Some(113), Some(113))
    );
    assert_eq!(d["unchanged"], 111);
    assert_eq!(d["added"], json!(["USA.99"]));
    assert_eq!(d["removed"], json!(["ANN.01"]));
    assert_eq!(
        d["changed"],
        json!([{
            "id": "INS.01",
            "fields": ["socle"],
            "socle_before": "SC.INS.01",
            "socle_after": "SC.INS.99",
            "profile_before": null,
            "profile_after": null,
        }])
    );
    let candidatures = i["candidatures"].as_array().unwrap();
    assert_eq!(candidatures.len(), 2);
    let d = candidatures.iter().find(|c| c["id"] == draft).unwrap();
    assert_eq!(d["status"], "draft");
    assert_eq!(d["filed"], false);
    assert_eq!(
        d["plan_delta"],
        json!({
            "to_deposit_before": 36,
            "to_deposit_after": 38,
            "masked_before": 32,
            "masked_after": 30,
            "become_to_deposit": ["INS.01"],
            "become_masked": [],
            "appear_to_deposit": ["USA.99"],
            "appear_masked": [],
            "disappear": ["ANN.01"],
        })
    );
    let f = candidatures.iter().find(|c| c["id"] == filed).unwrap();
    assert_eq!(f["status"], "submitted");
    assert_eq!(f["filed"], true);
    assert!(f["plan_delta"].is_null());
    assert_eq!(
        i["referencings"],
        json!([{
            "nru": NRU,
            "dispositif": {"code": "DPI", "wave": 2},
            "vendor": "Éditeur Impact",
            "solution": format!("Solution {NRU}"),
            "common_before": 32,
            "common_after": 30,
        }])
    );
    assert_eq!(i["referencings_unchanged"], 0);

    // Unknown, mistyped or malformed stagings are refused; nothing is imported.
    let staging = p["staging"]["id"].as_str().unwrap().to_owned();
    let sha = p["staging"]["sha256"].as_str().unwrap().to_owned();
    let confirm = |staging: String, sha256: String| {
        let api = &api;
        async move {
            api.post(
                "/api/v1/admin/rem-imports/confirm",
                &json!({"staging": staging, "sha256": sha256}),
            )
            .await
        }
    };
    confirm("f".repeat(32), sha.clone())
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unknown_staging");
    confirm(staging.clone(), "a".repeat(64))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unknown_staging");
    let r = confirm(String::new(), "x".to_owned()).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(versions(&app).await, 1);

    let r = confirm(staging.clone(), sha.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["label"], "2026-09");
    assert_eq!(r.json["sha256"], sha.as_str());
    assert_eq!(r.json["current"], true);
    assert_eq!(versions(&app).await, 2);
    confirm(staging, sha)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unknown_staging");
}

#[tokio::test]
async fn an_analysis_made_stale_by_another_import_is_refused() {
    let app = TestApp::new().await;
    let (_, api) = admin(&app).await;
    let file = modified_rem();
    let first = api_upload(
        &api,
        multipart(&[("dispositif", "DUI-MS")], Some(("REM-a.csv", &file))),
    )
    .await;
    let second = api_upload(
        &api,
        multipart(&[("dispositif", "DUI-MS")], Some(("REM-b.csv", &file))),
    )
    .await;
    let r = crate::api_admin::confirm(&api, &second.json).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    crate::api_admin::confirm(&api, &first.json)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "stale_analysis");
    assert_eq!(versions(&app).await, 2);
}

#[tokio::test]
async fn an_unreadable_version_in_force_says_so_and_still_allows_the_import() {
    let app = TestApp::new().await;
    // The version in force, damaged in the database: one requirement's scenarios unreadable.
    sqlx::query(
        "UPDATE requirements SET scenarios = 'not json' WHERE requirement_code = 'USA.01' \
         AND rem_version_id = (SELECT MAX(v.id) FROM rem_versions v JOIN dispositifs d \
         ON d.id = v.dispositif_id WHERE d.code = 'DUI-MS')",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    let mut admin = app.signed_in("admin@example.fr", Role::Admin, None).await;
    let preview = upload(&mut admin, "DUI-MS", "REM.csv", &modified_rem()).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let b = &preview.body;
    assert!(b.contains("id=\"impact-indisponible\""), "{b}");
    assert!(b.contains("pas pu être relue"), "{b}");
    assert!(b.contains("import reste possible."));
    assert!(!b.contains("id=\"compteurs\""));
    let (_, api) = crate::api_admin::admin(&app).await;
    let r = api_upload(
        &api,
        multipart(
            &[("dispositif", "DUI-MS")],
            Some(("REM.csv", &modified_rem())),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json["impact"].is_null());
    assert_eq!(
        r.json["impact_unavailable"]["code"],
        "rem_in_force_unreadable"
    );

    // The import itself does not need the old version.
    let r = confirm(&mut admin, &preview).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(versions(&app).await, 2);
}

/// The real RIS REM of 2023 with `AC/va1.01` removed, `ANN/va1.99` added (a copy of
/// `ANN/va1.02`'s row under a new socle id), `ANN/va1.01`'s socle id changed and `ANN/va1.03`'s
/// text reworded (the modifications of `preuves rem diff`'s real-data test).
fn modified_real_ris(source: &std::path::Path) -> Vec<u8> {
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
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&headers).unwrap();
    for record in reader.records() {
        let mut row: Vec<String> = record.unwrap().iter().map(str::to_owned).collect();
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
    writer.into_inner().unwrap()
}

#[tokio::test]
async fn the_real_ris_rem_against_a_modified_copy() {
    let Some(dir) = std::env::var_os("PREUVES_REAL_DATA").map(std::path::PathBuf::from) else {
        eprintln!(
            "skipped: the_real_ris_rem_against_a_modified_copy: PREUVES_REAL_DATA is not set"
        );
        return;
    };
    let app = TestApp::with_catalogue(&dir.join("catalogue.toml")).await;
    let ris = DispositifKey {
        code: DispositifCode::parse("RIS").unwrap(),
        wave: Wave::Two,
    };
    // A vendor holding a DPI referencing (Général only) with a draft on RIS citing it.
    let org = app.organisation("Éditeur Impact", SIREN).await;
    referencing(&app, NRU, org, "DPI", Wave::Two).await;
    let solution = app
        .db
        .create_solution(
            org,
            &SolutionFields {
                name: "Solution Impact".to_owned(),
                main_component: "core".to_owned(),
                versions: vec!["5.0".to_owned()],
                commercial_names: vec!["Solution Impact".to_owned()],
            },
            &Actor::System,
        )
        .await
        .unwrap();
    let draft = app
        .db
        .create_candidature(
            org,
            &ris,
            &AdministrativeStep {
                solution: solution.id,
                optional_profiles: vec![],
                version: Version::parse("5.0").unwrap(),
                nrus: vec![Nru::parse(NRU).unwrap()],
                additional_components: vec![],
                commercial_names: vec!["Solution Impact".to_owned()],
                honour_statement: None,
            },
            &Actor::System,
        )
        .await
        .unwrap();

    let (_, api) = admin(&app).await;
    let file = modified_real_ris(&dir.join("REM-RIS-Va2.csv"));
    let r = api_upload(
        &api,
        multipart(
            &[("dispositif", "RIS")],
            Some(("REM-RIS-Va2-modifie.csv", &file)),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let i = &r.json["impact"];
    let d = &i["diff"];
    assert_eq!(
        (d["old_count"].as_u64(), d["new_count"].as_u64()),
        (Some(246), Some(246))
    );
    assert_eq!(d["added"], json!(["ANN/va1.99"]));
    assert_eq!(d["removed"], json!(["AC/va1.01"]));
    assert_eq!(d["unchanged"], 243);
    let changed: Vec<(&str, &serde_json::Value)> = d["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), &c["fields"]))
        .collect();
    assert_eq!(
        changed,
        [
            ("ANN/va1.01", &json!(["socle"])),
            ("ANN/va1.03", &json!(["text"]))
        ]
    );
    // The draft's 197 Général requirements: 80 common with the DPI referencing, 79 after.
    assert_eq!(
        i["candidatures"],
        json!([{
            "id": draft.id.0,
            "vendor": "Éditeur Impact",
            "solution": "Solution Impact",
            "status": "draft",
            "filed": false,
            "plan_delta": {
                "to_deposit_before": 117,
                "to_deposit_after": 118,
                "masked_before": 80,
                "masked_after": 79,
                "become_to_deposit": ["ANN/va1.01"],
                "become_masked": [],
                "appear_to_deposit": ["ANN/va1.99"],
                "appear_masked": [],
                "disappear": ["AC/va1.01"],
            },
            "refusals": [],
        }])
    );
    assert_eq!(i["referencings"][0]["common_before"], 80);
    assert_eq!(i["referencings"][0]["common_after"], 79);
    assert_eq!(app.db.list_rem_versions(&ris).await.unwrap().len(), 1);
    let r = crate::api_admin::confirm(&api, &r.json).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["requirements"], 246);
    assert_eq!(app.db.list_rem_versions(&ris).await.unwrap().len(), 2);
}
