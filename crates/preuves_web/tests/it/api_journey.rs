//! The webinar's case 3 walked entirely through the API: a vendor declares its solution, opens
//! the candidature, reads its plan (compared with the engine's answer for the same scenario),
//! gives the sworn statement, deposits every expected proof, submits; an instructor takes it into
//! instruction, asks for a complement that the vendor answers, judges every file, grants the
//! referencing; the public verifies the attestation.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use preuves_db::{Actor, NewReferencing, Role, TokenScope};
use preuves_domain::scenario::ScenarioFile;
use preuves_domain::{DispositifKey, IsoDate, Nru};
use serde_json::{Value, json};

use crate::api::{Api, token_for};
use crate::support::TestApp;

fn scenario(name: &str) -> ScenarioFile {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../demo/scenarios")
        .join(name);
    ScenarioFile::from_json(&std::fs::read_to_string(path).expect("scenario file"))
        .expect("valid scenario")
}

/// A requirement as compared: perimeter, profile, chapter, status, and the reason's rule, NRU,
/// source requirement and component.
type Row = [Option<String>; 8];

fn engine_rows(
    file: &ScenarioFile,
    catalogue: &preuves_domain::Catalogue,
) -> (BTreeMap<String, Row>, Value) {
    let answer = serde_json::to_value(file.evaluate(catalogue)).unwrap();
    assert_eq!(answer["errors"], json!([]), "{answer}");
    let rows = answer["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_owned(), row(r)))
        .collect();
    (rows, answer["summary"].clone())
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn row(r: &Value) -> Row {
    [
        text(&r["perimeter"]),
        text(&r["profile"]),
        text(&r["chapter"]),
        text(&r["status"]),
        text(&r["reason"]["rule"]),
        text(&r["reason"]["nru"]),
        text(&r["reason"]["source_requirement"]),
        text(&r["reason"]["component"]),
    ]
}

#[tokio::test]
async fn webinar_case_3_entirely_through_the_api() {
    let file = scenario("cas-3.json");
    let app = TestApp::new().await;
    let organisation = app.organisation("Éditeur A", "732829320").await;
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
    let vendor_user = app
        .user("editeur@a.example.fr", Role::Vendor, Some(organisation))
        .await;
    let instructor_user = app
        .user("instructeur@ans.example.fr", Role::Instructor, None)
        .await;
    let vendor = Api::new(
        &app,
        Some(&token_for(&app, &vendor_user, TokenScope::ReadWrite).await),
    );
    let instructor = Api::new(
        &app,
        Some(&token_for(&app, &instructor_user, TokenScope::ReadWrite).await),
    );
    let public = Api::new(&app, None);
    let c = &file.candidature;

    // The solution and the candidature, as in the scenario.
    let r = vendor
        .post(
            "/api/v1/solutions",
            &json!({"name": c.solution, "main_component": c.main_component, "versions": [c.version.to_string()], "commercial_names": c.commercial_names}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let solution = r.json["id"].as_i64().unwrap();
    let step = json!({
        "dispositif": c.dispositif.to_string(),
        "wave": c.wave.number(),
        "solution": solution,
        "version": c.version.to_string(),
        "optional_profiles": c.optional_profiles.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "nrus": c.nrus.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "additional_components": c.additional_components.iter().map(|a| json!({
            "name": a.name, "chapters": a.chapters.iter().map(ToString::to_string).collect::<Vec<_>>()
        })).collect::<Vec<_>>(),
        "commercial_names": c.commercial_names,
    });
    let r = vendor.post("/api/v1/candidatures", &step).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json["id"].as_i64().unwrap();
    let base = format!("/api/v1/candidatures/{id}");

    // The live plan is the engine's, requirement by requirement, reasons included.
    let catalogue = app.db.load_catalogue().await.unwrap();
    let (expected, summary) = engine_rows(&file, &catalogue);
    let plan = vendor.get(&format!("{base}/plan")).await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text);
    assert_eq!(plan.json["frozen"], false);
    assert_eq!(plan.json["rem_version_label"], "1");
    assert_eq!(plan.json["computed"], true, "{}", plan.text);
    let shown: BTreeMap<String, Row> = plan.json["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_owned(), row(r)))
        .collect();
    assert_eq!(shown, expected);
    for k in [
        "in_scope",
        "to_deposit",
        "masked_heritage",
        "masked_equivalence",
    ] {
        assert_eq!(plan.json["summary"][k], summary[k], "{k}");
    }
    assert!(
        summary["masked_heritage"].as_u64().unwrap() > 0
            && summary["masked_equivalence"].as_u64().unwrap() > 0
    );
    // R6: three names and no sworn statement yet.
    assert_eq!(plan.json["warnings"][0]["code"], "missing_honour_statement");
    let revision = vendor.get(&base).await.json["revision"].as_i64().unwrap();
    vendor
        .post(
            &format!("{base}/submission"),
            &json!({"revision": revision, "confirm_incomplete": true}),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "missing_honour_statement");
    let r = vendor
        .bytes(
            Method::PUT,
            &format!(
                "{base}/honour-statement?revision={revision}&file_name=attestation-honneur.pdf"
            ),
            b"%PDF-1.4 attestation sur l'honneur",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json["honour_statement"]["file_name"],
        "attestation-honneur.pdf"
    );
    let plan = vendor.get(&format!("{base}/plan")).await;
    assert_eq!(plan.json["warnings"], json!([]));

    // Every expected proof, streamed as a raw body; a masked requirement takes none.
    let masked = plan.json["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "masked_equivalence")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    vendor
        .bytes(
            Method::POST,
            &format!("{base}/proofs?requirement={masked}&scenario=0&proof=0&file_name=p.pdf"),
            b"%PDF-1.4",
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "proof_not_expected");
    vendor
        .bytes(
            Method::POST,
            &format!("{base}/proofs?file_name=p.pdf"),
            b"%PDF-1.4",
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let mut deposited = 0;
    let mut first: Option<(String, i64, i64)> = None;
    for r in plan.json["requirements"].as_array().unwrap() {
        for x in r["expected"].as_array().unwrap() {
            let req = r["id"].as_str().unwrap();
            let (si, pi) = (
                x["scenario_index"].as_i64().unwrap(),
                x["proof_index"].as_i64().unwrap(),
            );
            let path = format!(
                "{base}/proofs?requirement={req}&scenario={si}&proof={pi}&file_name=preuve-{deposited}.pdf"
            );
            let up = vendor
                .bytes(
                    Method::POST,
                    &path,
                    format!("%PDF-1.4 preuve {req} {si} {pi}").as_bytes(),
                )
                .await;
            assert_eq!(up.status, StatusCode::CREATED, "{}", up.text);
            assert_eq!(up.json["content_type"], "application/pdf");
            assert_eq!(up.json["sha256"].as_str().unwrap().len(), 64);
            first.get_or_insert((req.to_owned(), si, pi));
            deposited += 1;
        }
    }
    assert_eq!(
        deposited,
        plan.json["summary"]["proofs_to_deposit"].as_u64().unwrap()
    );
    // A file whose content is not its name's kind is refused.
    let (req, si, pi) = first.clone().unwrap();
    vendor
        .bytes(
            Method::POST,
            &format!("{base}/proofs?requirement={req}&scenario={si}&proof={pi}&file_name=x.pdf"),
            b"MZ\x90\x00 not a pdf",
        )
        .await
        .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "file_type_refused");
    let plan = vendor.get(&format!("{base}/plan")).await;
    assert_eq!(
        (
            plan.json["complete"].as_bool(),
            plan.json["missing_proofs"].as_u64()
        ),
        (Some(true), Some(0))
    );
    let listed = vendor.get(&format!("{base}/proofs?size=200")).await;
    assert_eq!(listed.json["total"].as_u64(), Some(deposited));
    let one = listed.json["items"][0]["id"].as_i64().unwrap();
    let file_back = vendor.get(&format!("{base}/proofs/{one}/file")).await;
    assert_eq!(file_back.status, StatusCode::OK);
    assert!(file_back.text.starts_with("%PDF-1.4 preuve"));

    // Submission: complete, frozen.
    let revision = vendor.get(&base).await.json["revision"].as_i64().unwrap();
    let r = vendor
        .post(
            &format!("{base}/submission"),
            &json!({"revision": revision, "confirm_incomplete": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["status"], "submitted");
    assert!(r.json["complete_at"].as_str().is_some());
    vendor
        .post(
            &format!("{base}/submission"),
            &json!({"revision": revision}),
        )
        .await
        .assert_error(StatusCode::CONFLICT, "candidature_already_submitted");
    let frozen = vendor.get(&format!("{base}/plan")).await;
    assert_eq!(frozen.json["frozen"], true);
    let frozen_rows: BTreeMap<String, Row> = frozen.json["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_owned(), row(r)))
        .collect();
    assert_eq!(frozen_rows, expected, "the frozen plan is the engine's");

    // Instruction.
    let queue = instructor
        .get("/api/v1/instruction/queue?status=submitted")
        .await;
    assert_eq!(queue.json["items"][0]["candidature"], id);
    let ins = format!("/api/v1/instruction/candidatures/{id}");
    let taken = instructor.post(&format!("{ins}/take"), &json!({})).await;
    assert_eq!(taken.json["status"], "in_instruction", "{}", taken.text);
    let detail = instructor.get(&ins).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert_eq!(detail.json["assigned_to"], instructor_user.id.0);
    let proofs: Vec<Value> = detail.json["proofs"].as_array().unwrap().clone();
    assert_eq!(proofs.len() as u64, deposited);
    // One file asks for a complement.
    let asked = &proofs[0];
    let asked_id = asked["id"].as_i64().unwrap();
    let asked_req = asked["requirement"].as_str().unwrap().to_owned();
    let verdict = |proof: i64, v: &str, comment: &str| {
        let instructor = instructor.clone();
        let path = format!("{ins}/proofs/{proof}/verdict");
        let body = json!({"verdict": v, "comment": comment});
        async move { instructor.put(&path, &body).await }
    };
    verdict(asked_id, "not_compliant", "")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let r = verdict(asked_id, "complement_requested", "La vidéo est coupée.").await;
    assert_eq!(r.json["verdict"], "complement_requested", "{}", r.text);
    let r = instructor
        .post(
            &format!("{ins}/complement-requests"),
            &json!({"message": "Merci de redéposer la vidéo entière.", "items": [{"requirement": asked_req, "comment": "Vidéo coupée"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let requests = vendor.get(&format!("{base}/complement-requests")).await;
    assert_eq!(requests.json[0]["open"], true);
    assert_eq!(
        requests.json[0]["items"][0]["requirement"],
        asked_req.as_str()
    );
    let (si, pi) = (
        asked["scenario_index"].as_i64().unwrap(),
        asked["proof_index"].as_i64().unwrap(),
    );
    let again = vendor
        .bytes(Method::POST, &format!("{base}/proofs?requirement={asked_req}&scenario={si}&proof={pi}&file_name=video-entiere.pdf"), b"%PDF-1.4 complete")
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    let answered = vendor
        .post(
            &format!("{base}/complement-answer"),
            &json!({"message": "Redéposée."}),
        )
        .await;
    assert_eq!(answered.json["open"], false, "{}", answered.text);
    assert_eq!(vendor.get(&base).await.json["status"], "in_instruction");
    // The replaced file needs no verdict any more; every current one is judged compliant.
    verdict(asked_id, "compliant", "")
        .await
        .assert_error(StatusCode::CONFLICT, "proof_superseded");
    let grant = format!("{ins}/grant");
    instructor
        .post(&grant, &json!({}))
        .await
        .assert_error(StatusCode::CONFLICT, "instruction_incomplete");
    let mut judged = 0;
    for p in proofs.iter().skip(1).chain(std::iter::once(&again.json)) {
        let r = verdict(p["id"].as_i64().unwrap(), "compliant", "").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        judged += 1;
    }
    assert_eq!(judged, deposited);

    // The decision: NRU, register, attestation.
    let granted = instructor.post(&grant, &json!({})).await;
    assert_eq!(granted.status, StatusCode::CREATED, "{}", granted.text);
    let nru = granted.json["nru"].as_str().unwrap().to_owned();
    assert!(nru.starts_with("SEGUR-DUIMS-2-"), "{nru}");
    assert!(
        granted.json["inherited"].as_u64().unwrap() > 0
            && granted.json["equivalent"].as_u64().unwrap() > 0
    );
    assert_eq!(vendor.get(&base).await.json["status"], "referenced");
    let mine = vendor.get(&format!("/api/v1/referencings/{nru}")).await;
    assert_eq!(mine.json["commercial_names"], json!(c.commercial_names));
    let pdf = vendor
        .get(&format!("/api/v1/referencings/{nru}/attestation"))
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.text.starts_with("%PDF"));
    assert_eq!(
        pdf.headers["x-content-sha256"].to_str().unwrap(),
        granted.json["attestation_sha256"].as_str().unwrap()
    );

    // Anyone verifies the attestation with the code printed on it.
    let code = app
        .db
        .find_grant(&Nru::parse(&nru).unwrap())
        .await
        .unwrap()
        .unwrap()
        .verification_code;
    let ok = public
        .get(&format!(
            "/api/v1/verification/{nru}?code={}",
            code.as_str()
        ))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(
        (
            ok.json["status"].as_str(),
            ok.json["issued_here"].as_bool(),
            ok.json["code_matches"].as_bool()
        ),
        (Some("valid"), Some(true), Some(true))
    );
    assert_eq!(ok.json["commercial_names"], json!(c.commercial_names));
    let wrong = public
        .get(&format!("/api/v1/verification/{nru}?code=AAAAAAAAAA"))
        .await;
    assert_eq!(wrong.json["code_matches"], false);
    let register = public.get("/api/v1/register?dispositif=DUI-MS").await;
    assert_eq!(register.json["items"][0]["nru"], nru.as_str());
    let history = instructor.get(&format!("{ins}/history")).await;
    assert_eq!(
        history.json.as_array().unwrap().last().unwrap()["action"],
        "candidature.grant"
    );
}
