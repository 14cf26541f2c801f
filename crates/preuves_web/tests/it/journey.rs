//! The vendor's journey through the pages: the webinar's cases 1–3 walked through the forms with
//! the plan shown compared with the engine's answer for the same inputs, proof uploads (streamed,
//! interrupted, spoofed, too large, empty), submission, R5 and optimistic concurrency.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use preuves_db::{Actor, CandidatureId, CandidatureStatus, NewReferencing, OrganisationId, Role};
use preuves_domain::scenario::ScenarioFile;
use preuves_domain::{DispositifKey, IsoDate, Nru, ParisTime, Status};
use preuves_web::WebConfig;
use sha2::{Digest, Sha256};

use crate::support::{Client, TestApp, TestResponse};

const SIREN: &str = "732829320";

/// The Paris calendar day `days` days from now.
pub(crate) fn paris_day_after(days: i64) -> IsoDate {
    let now = preuves_db::Timestamp::now().as_millis();
    ParisTime::from_unix_millis(now + days * 86_400_000).date
}

pub(crate) fn scenario(name: &str) -> ScenarioFile {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../demo/scenarios")
        .join(name);
    ScenarioFile::from_json(&std::fs::read_to_string(path).expect("scenario file"))
        .expect("valid scenario")
}

/// A requirement of a plan: status, and the reason's rule, NRU, source and component.
type Row = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')?;
    Some(unescape(&tag[start..start + end]))
}

/// The plan rows a page shows, by requirement id.
pub(crate) fn shown_plan(html: &str) -> BTreeMap<String, Row> {
    let mut rows = BTreeMap::new();
    for (i, _) in html.match_indices("<li id=\"exigence-") {
        let tag = &html[i..i + html[i..].find('>').expect("tag end")];
        let id = attribute(tag, "data-exigence").expect("data-exigence");
        rows.insert(
            id,
            (
                attribute(tag, "data-statut").expect("data-statut"),
                attribute(tag, "data-regle"),
                attribute(tag, "data-nru"),
                attribute(tag, "data-source"),
                attribute(tag, "data-composant"),
            ),
        );
    }
    rows
}

pub(crate) fn shown_summary(html: &str) -> [u64; 4] {
    let i = html.find("<dl class=\"summary\"").expect("plan summary");
    let tag = &html[i..i + html[i..].find('>').unwrap()];
    [
        "data-in-scope",
        "data-to-deposit",
        "data-masked-heritage",
        "data-masked-equivalence",
    ]
    .map(|a| attribute(tag, a).unwrap().parse().unwrap())
}

/// The engine's answer for the scenario, in the same shape.
fn engine_plan(
    file: &ScenarioFile,
    catalogue: &preuves_domain::Catalogue,
) -> (BTreeMap<String, Row>, [u64; 4]) {
    let answer = file.evaluate(catalogue);
    assert!(answer.errors.is_empty(), "{:?}", answer.errors);
    let rows = answer
        .requirements
        .iter()
        .map(|r| {
            let status = match r.status {
                Status::ToDeposit => "to_deposit",
                Status::MaskedHeritage => "masked_heritage",
                Status::MaskedEquivalence => "masked_equivalence",
            };
            (
                r.id.to_string(),
                (
                    status.to_owned(),
                    r.reason.as_ref().map(|x| x.rule.to_string()),
                    r.reason
                        .as_ref()
                        .and_then(|x| x.nru.as_ref().map(|n| n.to_string())),
                    r.reason
                        .as_ref()
                        .and_then(|x| x.source_requirement.as_ref().map(|s| s.to_string())),
                    r.reason.as_ref().and_then(|x| x.component.clone()),
                ),
            )
        })
        .collect();
    let s = answer.summary.expect("summary");
    let n = |x: usize| x as u64;
    (
        rows,
        [
            n(s.in_scope),
            n(s.to_deposit),
            n(s.masked_heritage),
            n(s.masked_equivalence),
        ],
    )
}

/// A vendor of the scenario's SIREN holding the scenario's referencings, with its solution
/// declared through the page.
pub(crate) struct Vendor {
    pub(crate) app: TestApp,
    pub(crate) client: Client,
    pub(crate) organisation: OrganisationId,
    pub(crate) solution: String,
}

pub(crate) async fn vendor_for(file: &ScenarioFile, app: TestApp) -> Vendor {
    let organisation = app.organisation("Éditeur A", SIREN).await;
    for r in &file.referencings {
        app.db
            .insert_referencing(
                &NewReferencing {
                    nru: r.nru.clone(),
                    organisation,
                    dispositif: DispositifKey {
                        code: r.dispositif.clone(),
                        wave: r.wave,
                    },
                    profiles: r.profiles.clone(),
                    solution: r.solution.clone(),
                    main_component: r.main_component.clone(),
                    version: r.version.clone(),
                    commercial_names: vec![r.solution.clone()],
                    granted_on: IsoDate::parse("2025-06-01").unwrap(),
                    status: r.status,
                    status_reason: None,
                },
                &Actor::System,
            )
            .await
            .unwrap();
    }
    let mut client = app
        .signed_in("editeur@a.example.fr", Role::Vendor, Some(organisation))
        .await;
    let c = &file.candidature;
    let r = client
        .post(
            "/solutions",
            &[
                ("name", c.solution.as_str()),
                ("main_component", c.main_component.as_str()),
                ("versions", c.version.as_str()),
                ("commercial_names", &c.commercial_names.join("\n")),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = client.follow(&r).await;
    assert!(page.body.contains("a été déclarée"), "{}", page.body);
    let solution = app.db.list_solutions(organisation).await.unwrap()[0]
        .id
        .0
        .to_string();
    Vendor {
        app,
        client,
        organisation,
        solution,
    }
}

/// The administrative step's fields for the scenario's candidature.
pub(crate) fn step_fields(
    file: &ScenarioFile,
    solution: &str,
    action: &str,
) -> Vec<(String, String)> {
    let c = &file.candidature;
    let mut f: Vec<(String, String)> = vec![
        (
            "dispositif".into(),
            format!("{}-{}", c.dispositif, c.wave.number()),
        ),
        ("solution".into(), solution.to_owned()),
        ("version".into(), c.version.to_string()),
    ];
    for p in &c.optional_profiles {
        f.push(("profil".into(), p.to_string()));
    }
    f.push((
        "nrus".into(),
        c.nrus
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    ));
    for a in &c.additional_components {
        f.push(("composant_nom".into(), a.name.clone()));
        f.push((
            "composant_chapitres".into(),
            a.chapters
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    f.push(("composant_nom".into(), String::new()));
    f.push(("composant_chapitres".into(), String::new()));
    f.push(("noms".into(), c.commercial_names.join("\n")));
    f.push(("action".into(), action.to_owned()));
    f
}

pub(crate) async fn post_pairs(
    client: &mut Client,
    path: &str,
    pairs: &[(String, String)],
) -> TestResponse {
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    client.post(path, &borrowed).await
}

/// Walks a webinar case: preview, open, view; each time the plan shown is the engine's.
async fn walk_case(name: &str) -> (Vendor, CandidatureId, ScenarioFile) {
    let file = scenario(name);
    let mut v = vendor_for(&file, TestApp::new().await).await;
    let catalogue = v.app.db.load_catalogue().await.unwrap();
    let (expected, counts) = engine_plan(&file, &catalogue);

    let preview = post_pairs(
        &mut v.client,
        "/candidatures/nouvelle",
        &step_fields(&file, &v.solution, "apercu"),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{name}: {}", preview.body);
    assert!(
        preview
            .body
            .contains("ces valeurs ne sont pas enregistrées")
    );
    assert_eq!(shown_plan(&preview.body), expected, "{name}: preview");
    assert_eq!(
        shown_summary(&preview.body),
        counts,
        "{name}: preview summary"
    );
    assert!(
        v.app
            .db
            .list_candidatures(Some(v.organisation), None)
            .await
            .unwrap()
            .is_empty(),
        "a preview saves nothing"
    );

    let opened = post_pairs(
        &mut v.client,
        "/candidatures/nouvelle",
        &step_fields(&file, &v.solution, "enregistrer"),
    )
    .await;
    assert_eq!(
        opened.status,
        StatusCode::SEE_OTHER,
        "{name}: {}",
        opened.body
    );
    let page = v.client.follow(&opened).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("enregistré"), "{}", page.body);
    assert_eq!(shown_plan(&page.body), expected, "{name}: saved draft");
    assert_eq!(shown_summary(&page.body), counts);
    let id = v
        .app
        .db
        .list_candidatures(Some(v.organisation), None)
        .await
        .unwrap()[0]
        .id;
    (v, id, file)
}

#[tokio::test]
async fn webinar_case_1_through_the_pages_equals_the_engine() {
    let (v, id, _) = walk_case("cas-1.json").await;
    let page = v.client.clone().get("/candidatures").await;
    assert!(page.body.contains("Prochaine étape"), "{}", page.body);
    // The REM version shown is the REM's own label, never the internal id.
    let c = v.app.db.find_candidature(id).await.unwrap().unwrap();
    assert_eq!(c.rem_version_label.as_str(), "1");
    assert_ne!(c.rem_version.0, 1, "the id differs from the label here");
    let page = v.client.clone().get(&format!("/candidatures/{id}")).await;
    assert!(
        page.body.contains("version 1 du REM (figée"),
        "{}",
        page.body
    );
    assert!(
        !page
            .body
            .contains(&format!("version {} du REM", c.rem_version)),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn webinar_case_2_through_the_pages_equals_the_engine() {
    let (mut v, id, _) = walk_case("cas-2.json").await;
    // Three commercial names: the sworn statement is asked for, then attached.
    let page = v.client.get(&format!("/candidatures/{id}")).await;
    assert!(
        page.body.contains("attestation sur l'honneur sera exigée"),
        "{}",
        page.body
    );
    let revision = v
        .app
        .db
        .find_candidature(id)
        .await
        .unwrap()
        .unwrap()
        .revision
        .to_string();
    let r = v
        .client
        .upload(
            &format!("/candidatures/{id}/attestation-honneur"),
            &[("revision", &revision)],
            "attestation.pdf",
            b"%PDF-1.4\nattestation sur l'honneur\n%%EOF\n",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let stored = v.app.db.find_candidature(id).await.unwrap().unwrap();
    let honour = stored.step.honour_statement.expect("attached");
    assert_eq!(honour.file_name, "attestation.pdf");
    assert!(
        v.app
            .blobs
            .head(&preuves_storage::BlobKey::parse(honour.blob_key).unwrap())
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn webinar_case_3_through_the_pages_equals_the_engine() {
    let (mut v, id, _) = walk_case("cas-3.json").await;
    // The webinar's counts, independently of the engine (see the binary's webinar tests).
    let page = v.client.get(&format!("/candidatures/{id}")).await;
    assert_eq!(shown_summary(&page.body), [77, 36, 28, 13]);
    // Every masked requirement says why, naming its NRU; équivalence names its source.
    for (id, (status, rule, nru, source, _)) in shown_plan(&page.body) {
        match status.as_str() {
            "masked_heritage" => {
                assert_eq!(rule.as_deref(), Some("R3"), "{id}");
                assert_eq!(nru.as_deref(), Some("REF-MS2-PDE-1-0001"), "{id}");
            }
            "masked_equivalence" => {
                assert_eq!(rule.as_deref(), Some("R2"), "{id}");
                assert_eq!(nru.as_deref(), Some("REF-DPI-2-0001"), "{id}");
                assert!(source.is_some(), "{id}");
            }
            _ => {}
        }
    }
    // Filters: by status, server-side.
    let filtered = v
        .client
        .get(&format!("/candidatures/{id}?statut=heritage"))
        .await;
    let rows = shown_plan(&filtered.body);
    assert_eq!(rows.len(), 28);
    assert!(rows.values().all(|r| r.0 == "masked_heritage"));
}

#[tokio::test]
async fn refusals_are_shown_next_to_the_field_naming_rule_and_nru() {
    let file = scenario("cas-1.json");
    let mut v = vendor_for(&file, TestApp::new().await).await;
    let mut fields = step_fields(&file, &v.solution, "apercu");
    for (k, val) in &mut fields {
        if k == "nrus" {
            *val = "REF-INCONNU-2-0042".into();
        }
        if k == "version" {
            *val = "4.1".into();
        }
    }
    let r = post_pairs(&mut v.client, "/candidatures/nouvelle", &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let field_error = r
        .body
        .find("id=\"nrus-erreur\"")
        .expect("error next to the NRU field");
    assert!(r.body[field_error..].contains("REF-INCONNU-2-0042"));
    assert!(
        r.body.contains("unknown_nru"),
        "stable code shown in the plan section"
    );
    // R4: version lower than the held referencing's.
    for (k, val) in &mut fields {
        if k == "nrus" {
            *val = "REF-DPI-2-0001".into();
        }
    }
    let r = post_pairs(&mut v.client, "/candidatures/nouvelle", &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("version_lower"), "{}", r.body);
    assert!(r.body.contains("R4"));
}

/// Opens case 3 as a draft and returns a requirement to deposit with its first expected proof.
pub(crate) async fn case3_draft(app: TestApp) -> (Vendor, CandidatureId, String) {
    let file = scenario("cas-3.json");
    let mut v = vendor_for(&file, app).await;
    let r = post_pairs(
        &mut v.client,
        "/candidatures/nouvelle",
        &step_fields(&file, &v.solution, "enregistrer"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id = v
        .app
        .db
        .list_candidatures(Some(v.organisation), None)
        .await
        .unwrap()[0]
        .id;
    let catalogue = v.app.db.load_catalogue().await.unwrap();
    let answer = file.evaluate(&catalogue);
    let requirement = answer
        .requirements
        .iter()
        .find(|r| r.status == Status::ToDeposit)
        .unwrap()
        .id
        .to_string();
    (v, id, requirement)
}

pub(crate) fn proof_fields(requirement: &str) -> [(&str, &str); 3] {
    [
        ("exigence", requirement),
        ("scenario", "0"),
        ("preuve", "0"),
    ]
}

async fn blob_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&app.dir.path().join("blobs"), &mut out);
    out
}

#[tokio::test]
async fn a_large_file_streams_to_storage_and_is_recorded_with_its_hash() {
    let app = TestApp::with_local_blobs(WebConfig {
        secure_cookies: false,
        ..WebConfig::default()
    })
    .await;
    let (mut v, id, requirement) = case3_draft(app).await;
    // 48 MiB generated chunk by chunk: the test never holds the file either.
    const CHUNK: usize = 256 * 1024;
    const CHUNKS: usize = 192;
    let mut expected = Sha256::new();
    let mut first = b"%PDF-1.7\n".to_vec();
    first.resize(CHUNK, b'a');
    expected.update(&first);
    for i in 1..CHUNKS {
        expected.update(vec![(i % 251) as u8; CHUNK]);
    }
    let expected = hex::encode(expected.finalize());
    let stream = futures_util::stream::iter((0..CHUNKS).map(move |i| {
        Ok(if i == 0 {
            bytes::Bytes::from(first.clone())
        } else {
            bytes::Bytes::from(vec![(i % 251) as u8; CHUNK])
        })
    }));
    let r = v
        .client
        .upload_stream(
            &format!("/candidatures/{id}/preuves"),
            &proof_fields(&requirement),
            "grand-rapport.pdf",
            stream,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let proofs = v.app.db.list_proofs(id).await.unwrap();
    assert_eq!(proofs.len(), 1);
    assert_eq!(proofs[0].size, (CHUNK * CHUNKS) as u64);
    assert_eq!(proofs[0].sha256, expected);
    assert_eq!(proofs[0].content_type, "application/pdf");
    assert_eq!(
        blob_files(&v.app).await.len(),
        1,
        "one blob, no staging file left"
    );
    // The page shows it; the download gives it back as an attachment.
    let page = v.client.follow(&r).await;
    assert!(page.body.contains("grand-rapport.pdf"));
    let download = v
        .client
        .get(&format!("/candidatures/{id}/preuves/{}", proofs[0].id))
        .await;
    assert_eq!(download.status, StatusCode::OK);
    assert!(
        download.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(
        download.headers["content-length"].to_str().unwrap(),
        (CHUNK * CHUNKS).to_string()
    );
}

#[tokio::test]
async fn an_interrupted_upload_leaves_no_record_and_no_blob() {
    let app = TestApp::with_local_blobs(WebConfig {
        secure_cookies: false,
        ..WebConfig::default()
    })
    .await;
    let (mut v, id, requirement) = case3_draft(app).await;
    let audit_before = v.app.db.audit_entries(0, 100_000).await.unwrap().len();
    let chunk = {
        let mut c = b"%PDF-1.7\n".to_vec();
        c.resize(1024 * 1024, b'x');
        bytes::Bytes::from(c)
    };
    // Nine MiB, then the connection drops.
    let stream = futures_util::stream::iter((0..10).map(move |i| {
        if i < 9 {
            Ok(chunk.clone())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "client went away",
            ))
        }
    }));
    let r = v
        .client
        .upload_stream(
            &format!("/candidatures/{id}/preuves"),
            &proof_fields(&requirement),
            "video.pdf",
            stream,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("interrompu"), "{}", r.body);
    assert!(v.app.db.list_proofs(id).await.unwrap().is_empty());
    assert!(
        blob_files(&v.app).await.is_empty(),
        "{:?}",
        blob_files(&v.app).await
    );
    assert_eq!(
        v.app.db.audit_entries(0, 100_000).await.unwrap().len(),
        audit_before
    );
}

#[tokio::test]
async fn spoofed_empty_and_oversized_files_are_refused_and_leave_nothing() {
    let app = TestApp::with_local_blobs(WebConfig {
        secure_cookies: false,
        max_proof_upload: 64 * 1024,
        ..WebConfig::default()
    })
    .await;
    let (mut v, id, requirement) = case3_draft(app).await;
    let path = format!("/candidatures/{id}/preuves");
    let cases: [(&str, Vec<u8>, StatusCode, &str); 5] = [
        (
            "rapport.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00program".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "pas accepté",
        ),
        (
            "rapport.pdf",
            b"\x89PNG\r\n\x1a\n....".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "une image PNG",
        ),
        (
            "page.txt",
            b"<html><script>alert(1)</script></html>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "pas accepté",
        ),
        (
            "vide.pdf",
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "vide",
        ),
        (
            "enorme.pdf",
            {
                let mut b = b"%PDF-1.7\n".to_vec();
                b.resize(200 * 1024, b'z');
                b
            },
            StatusCode::PAYLOAD_TOO_LARGE,
            "taille maximale",
        ),
    ];
    for (name, content, status, message) in cases {
        let r = v
            .client
            .upload(&path, &proof_fields(&requirement), name, &content)
            .await;
        assert_eq!(r.status, status, "{name}: {}", r.body);
        assert!(r.body.contains(message), "{name}: {}", r.body);
    }
    assert!(v.app.db.list_proofs(id).await.unwrap().is_empty());
    assert!(blob_files(&v.app).await.is_empty());
    // A proof the plan does not expect (a masked requirement) is refused too.
    let r = v
        .client
        .upload(
            &path,
            &[("exigence", "NOPE/1"), ("scenario", "0"), ("preuve", "0")],
            "a.pdf",
            b"%PDF-1.4",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
}

#[tokio::test]
async fn submission_needs_a_complete_dossier_or_a_confirmation_and_happens_once() {
    let (mut v, id, _) = case3_draft(TestApp::new().await).await;
    let revision = v
        .app
        .db
        .find_candidature(id)
        .await
        .unwrap()
        .unwrap()
        .revision
        .to_string();
    let submit = format!("/candidatures/{id}/deposer");
    // Case 3 has three names: R6 blocks submission until the sworn statement is there.
    let r = v
        .client
        .post(
            &submit,
            &[("revision", &revision), ("confirmer_incomplet", "oui")],
        )
        .await;
    // Refused beside the names, in French (issue 14: no longer a 400 with the raw code).
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("plusieurs noms commerciaux sont déclarés sans l&#39;attestation"),
        "{}",
        r.body
    );
    let r = v
        .client
        .upload(
            &format!("/candidatures/{id}/attestation-honneur"),
            &[("revision", &revision)],
            "attestation.pdf",
            b"%PDF-1.4 signed",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let revision = v
        .app
        .db
        .find_candidature(id)
        .await
        .unwrap()
        .unwrap()
        .revision
        .to_string();
    // Incomplete, without the confirmation: not filed, told why.
    let r = v.client.post(&submit, &[("revision", &revision)]).await;
    let page = v.client.follow(&r).await;
    assert!(
        page.body
            .contains("Le dossier est incomplet et n&#39;a pas été déposé"),
        "{}",
        page.body
    );
    assert_eq!(
        v.app.db.find_candidature(id).await.unwrap().unwrap().status,
        CandidatureStatus::Draft
    );
    // Two tabs submit the same revision: one wins, the other is told.
    let mut other_tab = v.client.clone();
    let first = v
        .client
        .post(
            &submit,
            &[("revision", &revision), ("confirmer_incomplet", "oui")],
        )
        .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let second = other_tab
        .post(
            &submit,
            &[("revision", &revision), ("confirmer_incomplet", "oui")],
        )
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT, "{}", second.body);
    assert!(second.body.contains("déjà été déposée"));
    let stored = v.app.db.find_candidature(id).await.unwrap().unwrap();
    assert_eq!(stored.status, CandidatureStatus::Submitted);
    assert!(stored.plan.is_some(), "the plan is frozen");
    // A replayed administrative-step form changes nothing.
    let audit_before = v.app.db.audit_entries(0, 100_000).await.unwrap().len();
    let file = scenario("cas-3.json");
    let mut replay = step_fields(&file, &v.solution, "enregistrer");
    replay.push(("revision".into(), revision.clone()));
    for (k, val) in &mut replay {
        if k == "version" {
            *val = "9.9".into();
        }
    }
    let r = post_pairs(&mut v.client, &format!("/candidatures/{id}"), &replay).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("figée"), "{}", r.body);
    assert_eq!(
        v.app
            .db
            .find_candidature(id)
            .await
            .unwrap()
            .unwrap()
            .step
            .version
            .to_string(),
        "4.3"
    );
    assert_eq!(
        v.app.db.audit_entries(0, 100_000).await.unwrap().len(),
        audit_before
    );
    // The filed page shows the frozen plan.
    let page = v.client.get(&format!("/candidatures/{id}")).await;
    assert!(page.body.contains("figé au dépôt"), "{}", page.body);
}

#[tokio::test]
async fn concurrent_edits_of_a_draft_do_not_overwrite_each_other() {
    let (mut v, id, _) = case3_draft(TestApp::new().await).await;
    let file = scenario("cas-3.json");
    let revision = v
        .app
        .db
        .find_candidature(id)
        .await
        .unwrap()
        .unwrap()
        .revision
        .to_string();
    let mut tab_b = v.client.clone();
    let edit = |version: &str| {
        let mut f = step_fields(&file, &v.solution, "enregistrer");
        f.push(("revision".into(), revision.clone()));
        for (k, val) in &mut f {
            if k == "version" {
                *val = version.into();
            }
        }
        f
    };
    let (a, b) = (edit("4.4"), edit("4.5"));
    let first = post_pairs(&mut v.client, &format!("/candidatures/{id}"), &a).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let second = post_pairs(&mut tab_b, &format!("/candidatures/{id}"), &b).await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert!(
        second.body.contains("modifié entre-temps"),
        "{}",
        second.body
    );
    assert!(
        second.body.contains("value=\"4.5\""),
        "the typed values are kept on the page"
    );
    assert_eq!(
        v.app
            .db
            .find_candidature(id)
            .await
            .unwrap()
            .unwrap()
            .step
            .version
            .to_string(),
        "4.4"
    );
}

#[tokio::test]
async fn r5_a_late_equivalence_nru_masks_and_keeps_the_deposited_proofs() {
    // Case 1 without its NRU, filed complete; then REF-DPI-2-0001 "obtained since".
    let mut file = scenario("cas-1.json");
    file.candidature.nrus.clear();
    let mut v = vendor_for(&file, TestApp::new().await).await;
    let r = post_pairs(
        &mut v.client,
        "/candidatures/nouvelle",
        &step_fields(&file, &v.solution, "enregistrer"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id = v
        .app
        .db
        .list_candidatures(Some(v.organisation), None)
        .await
        .unwrap()[0]
        .id;
    // Deposit every expected proof (through the store API: the upload path is tested above).
    let c = v.app.db.find_candidature(id).await.unwrap().unwrap();
    let plan = v.app.db.candidature_plan(&c).await.unwrap().unwrap();
    for e in plan.entries.iter().filter(|e| e.is_to_deposit()) {
        for x in &e.expected {
            let key = format!(
                "proofs/{id}/test/{}-{}-{}",
                e.requirement.replace(['/', '.'], "-").to_lowercase(),
                x.scenario_index,
                x.proof_index
            );
            let blob = v
                .app
                .blobs
                .put_bytes(
                    &preuves_storage::BlobKey::parse(key).unwrap(),
                    &b"%PDF-1.4"[..],
                )
                .await
                .unwrap();
            v.app
                .db
                .record_proof(
                    v.organisation,
                    id,
                    &preuves_db::NewProof {
                        requirement: preuves_domain::RequirementId::parse(&e.requirement).unwrap(),
                        scenario_index: x.scenario_index,
                        proof_index: x.proof_index,
                        blob_key: blob.key.into_string(),
                        file_name: "preuve.pdf".into(),
                        content_type: "application/pdf".into(),
                        size: blob.size,
                        sha256: blob.sha256,
                    },
                    &Actor::System,
                )
                .await
                .unwrap();
        }
    }
    let page = v.client.get(&format!("/candidatures/{id}/preuves")).await;
    assert!(
        page.body.contains("Dossier complet"),
        "computed, not declared"
    );
    let revision = v
        .app
        .db
        .find_candidature(id)
        .await
        .unwrap()
        .unwrap()
        .revision
        .to_string();
    let r = v
        .client
        .post(
            &format!("/candidatures/{id}/deposer"),
            &[("revision", &revision)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let filed = v.app.db.find_candidature(id).await.unwrap().unwrap();
    assert!(filed.complete_at.is_some());

    let form = v
        .client
        .get(&format!("/candidatures/{id}/nru-obtenu"))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    // REF-DPI-2-0001 was granted on 2025-06-01, before submission: it was not obtained since
    // (R5), and is refused with the reason beside the field; nothing changes.
    let r = v
        .client
        .post(
            &format!("/candidatures/{id}/nru-obtenu"),
            &[
                ("nrus", "REF-DPI-2-0001"),
                ("revision", &filed.revision.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("avant ou le jour même du dépôt"),
        "{}",
        r.body
    );
    let unchanged = v.app.db.find_candidature(id).await.unwrap().unwrap();
    assert_eq!(unchanged.revision, filed.revision);
    assert!(unchanged.late_nrus.is_empty());
    // A DPI referencing of the same solution granted after the submission day is accepted.
    let dpi = &file.referencings[0];
    v.app
        .db
        .insert_referencing(
            &NewReferencing {
                nru: Nru::parse("REF-DPI-2-0002").unwrap(),
                organisation: v.organisation,
                dispositif: DispositifKey {
                    code: dpi.dispositif.clone(),
                    wave: dpi.wave,
                },
                profiles: dpi.profiles.clone(),
                solution: dpi.solution.clone(),
                main_component: dpi.main_component.clone(),
                version: dpi.version.clone(),
                commercial_names: vec![dpi.solution.clone()],
                granted_on: paris_day_after(1),
                status: dpi.status,
                status_reason: None,
            },
            &Actor::System,
        )
        .await
        .unwrap();
    let r = v
        .client
        .post(
            &format!("/candidatures/{id}/nru-obtenu"),
            &[
                ("nrus", "REF-DPI-2-0002"),
                ("revision", &filed.revision.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = v.client.follow(&r).await;
    assert!(page.body.contains("plan recalculé"), "{}", page.body);
    let after = v.app.db.find_candidature(id).await.unwrap().unwrap();
    let frozen = after.plan.expect("recomputed plan");
    let masked: Vec<&str> = frozen
        .entries
        .iter()
        .filter(|e| e.status == "masked_equivalence")
        .map(|e| e.requirement.as_str())
        .collect();
    assert!(!masked.is_empty());
    let proofs = v.app.db.list_proofs(id).await.unwrap();
    for p in &proofs {
        let now_masked = masked.contains(&p.requirement.as_str());
        assert_eq!(!p.is_needed(), now_masked, "{}", p.requirement);
    }
    assert!(page.body.contains("plus nécessaire"));
    // The same NRU again is refused by R5/R2 with a message, nothing changes.
    let r = v
        .client
        .post(
            &format!("/candidatures/{id}/nru-obtenu"),
            &[
                ("nrus", "REF-INCONNU-2-1"),
                ("revision", &after.revision.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("REF-INCONNU-2-1"));
}

/// Moves the guichet opening day (R10) of the vague-2 dispositif `code`, as a catalogue import
/// would.
pub(crate) async fn move_guichet(app: &TestApp, code: &str, day: IsoDate) {
    let catalogue = app.db.load_catalogue().await.unwrap();
    let mut all = catalogue.dispositifs().to_vec();
    for d in &mut all {
        if d.key.code.as_str() == code && d.key.wave == preuves_domain::Wave::Two {
            d.opens_on = Some(day);
        }
    }
    let pairs = app.db.list_equivalences().await.unwrap();
    let moved = preuves_domain::Catalogue::new(all, &pairs).unwrap();
    assert_eq!(
        app.db
            .upsert_dispositifs(&moved, &Actor::System)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn r10_a_candidature_is_opened_only_once_the_guichet_opens() {
    let file = scenario("cas-1.json");
    let mut v = vendor_for(&file, TestApp::new().await).await;
    // The demo DUI-MS guichet opened on 3 June 2026: vendors see it, and can open a candidature.
    let page = v.client.get("/catalogue/DUI-MS/2").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Ouverture du guichet"), "{}", page.body);
    assert!(page.body.contains("le 03/06/2026"), "{}", page.body);

    // Moved to tomorrow: the form says why beside the field, and nothing is opened.
    let tomorrow = paris_day_after(1);
    move_guichet(&v.app, "DUI-MS", tomorrow).await;
    let page = v.client.get("/catalogue/DUI-MS/2").await;
    assert!(
        page.body.contains(&format!("le {}", tomorrow.to_french())),
        "{}",
        page.body
    );
    for action in ["apercu", "enregistrer"] {
        let r = post_pairs(
            &mut v.client,
            "/candidatures/nouvelle",
            &step_fields(&file, &v.solution, action),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body
                .contains(&format!("ouvre que le {}", tomorrow.to_french())),
            "{}",
            r.body
        );
        assert!(r.body.contains("dispositif-erreur"), "{}", r.body);
    }
    assert!(
        v.app
            .db
            .list_candidatures(Some(v.organisation), None)
            .await
            .unwrap()
            .is_empty()
    );

    // Open today: the candidature is opened.
    move_guichet(&v.app, "DUI-MS", paris_day_after(0)).await;
    let r = post_pairs(
        &mut v.client,
        "/candidatures/nouvelle",
        &step_fields(&file, &v.solution, "enregistrer"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}
