//! The vendor's use cases through both front doors: where the pages and the API used to apply
//! different rules (the drift of issue 14), each case is checked on the page and in the API,
//! which now call the same use case of the application layer.

use axum::http::StatusCode;
use preuves_db::{Actor, CandidatureId, CandidatureStatus, Role, TokenScope};
use preuves_domain::{ReferencingStatus, RequirementId};
use serde_json::json;

use crate::api::{Api, token_for};
use crate::journey::{Vendor, post_pairs, scenario, step_fields, vendor_for};
use crate::support::TestApp;

/// Webinar case 1 opened through the pages and filed (incomplete, confirmed), with an API
/// client of the same organisation.
async fn filed_case_1() -> (Vendor, CandidatureId, Api) {
    let file = scenario("cas-1.json");
    let mut v = vendor_for(&file, TestApp::new().await).await;
    let r = post_pairs(
        &mut v.client,
        "/candidatures/nouvelle",
        &step_fields(&file, &v.solution, "enregistrer"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let c = v
        .app
        .db
        .list_candidatures(Some(v.organisation), None)
        .await
        .unwrap()
        .remove(0);
    v.app
        .db
        .submit_candidature(v.organisation, c.id, c.revision, true, &Actor::System)
        .await
        .unwrap();
    let user = v
        .app
        .user("api@a.example.fr", Role::Vendor, Some(v.organisation))
        .await;
    let token = token_for(&v.app, &user, TokenScope::ReadWrite).await;
    let api = Api::new(&v.app, Some(&token));
    (v, c.id, api)
}

#[tokio::test]
async fn an_answer_to_a_complement_request_is_limited_to_4000_characters_on_both_doors() {
    let (mut v, id, api) = filed_case_1().await;
    let instructor = v
        .app
        .user("instructeur@example.fr", Role::Instructor, None)
        .await;
    let by = Actor::User(instructor.id);
    v.app
        .db
        .set_candidature_status(id, CandidatureStatus::InInstruction, None, &by)
        .await
        .unwrap();
    let stored = v.app.db.find_candidature(id).await.unwrap().unwrap();
    let asked = stored
        .plan
        .as_ref()
        .unwrap()
        .entries
        .iter()
        .find(|e| e.is_to_deposit())
        .unwrap()
        .requirement
        .clone();
    v.app
        .db
        .request_complements(
            id,
            &[(RequirementId::parse(&asked).unwrap(), String::new())],
            "Merci de compléter.",
            &by,
        )
        .await
        .unwrap();
    let too_long = "é".repeat(4001);

    // The page: refused with its explanation, nothing sent.
    let r = v
        .client
        .post(
            &format!("/candidatures/{id}/complements"),
            &[("message", too_long.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("4\u{202f}000 au plus"), "{}", r.body);
    // The API: the same refusal, on the same field.
    let path = format!("/api/v1/candidatures/{id}/complement-answer");
    let r = api.post(&path, &json!({ "message": too_long })).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(r.json["errors"][0]["field"], "message");
    assert!(
        r.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("4\u{202f}000 au plus")
    );
    let r = api.post(&path, &json!({ "message": "  " })).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "message_required");
    assert_eq!(
        v.app.db.find_candidature(id).await.unwrap().unwrap().status,
        CandidatureStatus::ComplementRequested,
        "nothing was sent"
    );
    // 4,000 characters are accepted.
    let r = api
        .post(&path, &json!({ "message": "é".repeat(4000) }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["open"], false);
}

#[tokio::test]
async fn a_suspended_cited_referencing_is_told_on_the_page_and_in_the_api() {
    let (mut v, id, api) = filed_case_1().await;
    let stored = v.app.db.find_candidature(id).await.unwrap().unwrap();
    let nru = stored.step.nrus[0].clone();
    let r = api.get(&format!("/api/v1/candidatures/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["warnings"], json!([]), "{}", r.text);
    v.app
        .db
        .set_referencing_status(
            &nru,
            ReferencingStatus::Suspended,
            Some("Anomalie de sécurité"),
            &Actor::System,
        )
        .await
        .unwrap();

    let page = v.client.get(&format!("/candidatures/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let expected =
        format!("Le référencement {nru} cité par cette candidature est désormais suspendu");
    assert!(page.body.contains(&expected), "{}", page.body);
    let r = api.get(&format!("/api/v1/candidatures/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let warnings = r.json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{}", r.text);
    let w = warnings[0].as_str().unwrap();
    assert!(w.contains(&expected), "{w}");
    assert!(w.contains("motif\u{a0}: Anomalie de sécurité"), "{w}");

    // The instructor's dossier tells it too, in the API as on the page.
    let instructor = v
        .app
        .user("instructrice@ans.example.fr", Role::Instructor, None)
        .await;
    let staff = Api::new(
        &v.app,
        Some(&token_for(&v.app, &instructor, TokenScope::Read).await),
    );
    let r = staff
        .get(&format!("/api/v1/instruction/candidatures/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let warnings = r.json["candidature"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{}", r.text);
    assert!(
        warnings[0].as_str().unwrap().contains(&expected),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_submission_without_the_sworn_statement_is_a_422_beside_its_field_on_both_doors() {
    // Case 3 declares three commercial names: R6 asks for the sworn statement.
    let (mut v, id, _) = crate::journey::case3_draft(TestApp::new().await).await;
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
            &[("revision", &revision), ("confirmer_incomplet", "oui")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(!r.body.contains("[missing_honour_statement]"), "{}", r.body);
    let beside = r.body.find("id=\"noms-erreur\"").expect("beside the names");
    assert!(
        r.body[beside..].contains("plusieurs noms commerciaux sont déclarés sans"),
        "{}",
        r.body
    );
    let user = v
        .app
        .user("api@a.example.fr", Role::Vendor, Some(v.organisation))
        .await;
    let api = Api::new(
        &v.app,
        Some(&token_for(&v.app, &user, TokenScope::ReadWrite).await),
    );
    let r = api
        .post(
            &format!("/api/v1/candidatures/{id}/submission"),
            &json!({"revision": revision.parse::<i64>().unwrap(), "confirm_incomplete": true}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "missing_honour_statement");
    assert_eq!(r.json["errors"][0]["field"], "honour_statement");
    assert_eq!(
        v.app.db.find_candidature(id).await.unwrap().unwrap().status,
        CandidatureStatus::Draft
    );
}
