//! Handing a candidature to another instructor, through both front doors: the page
//! (`POST /instruction/{id}/attribuer`) and the API
//! (`POST /api/v1/instruction/candidatures/{id}/assignment`). The rule (an active instructor
//! only) is tested once in `app::instruction`; here, that each door translates it: success,
//! the refusals with their codes beside the field, and who may not call.

use axum::http::StatusCode;
use preuves_db::{Role, TokenScope};
use serde_json::json;

use crate::api::{Api, World, draft, solution, token_for, world};

/// A filed DUI-MS candidature of vendor A, taken into instruction by the world's instructor.
async fn taken(w: &World) -> i64 {
    let s = solution(&w.vendor_a, "Alpha DUI").await;
    let c = draft(&w.vendor_a, s).await;
    let id = c["id"].as_i64().unwrap();
    let r = w
        .vendor_a
        .post(
            &format!("/api/v1/candidatures/{id}/submission"),
            &json!({"revision": c["revision"], "confirm_incomplete": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = w
        .instructor
        .post(
            &format!("/api/v1/instruction/candidatures/{id}/take"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    id
}

async fn user_id(w: &World, email: &str) -> i64 {
    w.app
        .db
        .find_user_by_email(email)
        .await
        .unwrap()
        .unwrap()
        .id
        .0
}

#[tokio::test]
async fn the_api_hands_a_candidature_to_an_active_instructor_only() {
    let w = world().await;
    let id = taken(&w).await;
    let other = w
        .app
        .user("autre@ans.example.fr", Role::Instructor, None)
        .await;
    let other_api = Api::new(
        &w.app,
        Some(&token_for(&w.app, &other, TokenScope::ReadWrite).await),
    );
    let path = format!("/api/v1/instruction/candidatures/{id}/assignment");
    let before = w.app.db.audit_entries(0, 100_000).await.unwrap().len();

    // Refused: a vendor, an administrator, an unknown account, a malformed body.
    for (who, code) in [
        ("alpha@example.fr", "not_an_instructor"),
        ("admin@example.fr", "not_an_instructor"),
    ] {
        let r = w
            .instructor
            .post(&path, &json!({"instructor": user_id(&w, who).await}))
            .await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, code);
        assert_eq!(r.json["errors"][0]["field"], "instructor", "{}", r.text);
    }
    let r = w
        .instructor
        .post(&path, &json!({"instructor": 987_654}))
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unknown_instructor");
    assert_eq!(r.json["errors"][0]["field"], "instructor");
    w.instructor
        .post(&path, &json!({"instructeur": other.id.0}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    // Only instructors: a vendor's token is forbidden here, as is an administrator's.
    for api in [&w.vendor_a, &w.vendor_b, &w.admin] {
        api.post(&path, &json!({"instructor": other.id.0}))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    // A draft is missing.
    let s = solution(&w.vendor_a, "Alpha bis").await;
    let d = draft(&w.vendor_a, s).await["id"].as_i64().unwrap();
    w.instructor
        .post(
            &format!("/api/v1/instruction/candidatures/{d}/assignment"),
            &json!({"instructor": other.id.0}),
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        w.app.db.audit_entries(0, 100_000).await.unwrap().len(),
        before + 2,
        "only the second solution and draft were recorded"
    );

    // Handed over: the other instructor holds it, and may hand it back.
    let r = w
        .instructor
        .post(&path, &json!({"instructor": other.id.0}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["id"], id);
    let shown = w
        .instructor
        .get(&format!("/api/v1/instruction/candidatures/{id}"))
        .await;
    assert_eq!(shown.json["assigned_to"], other.id.0);
    let back = user_id(&w, "instructeur@example.fr").await;
    let r = other_api.post(&path, &json!({"instructor": back})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let history = w
        .instructor
        .get(&format!("/api/v1/instruction/candidatures/{id}/history"))
        .await;
    let assigns = history
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "candidature.assign")
        .count();
    assert_eq!(assigns, 2);
    // Decided: no longer assignable.
    let r = w
        .instructor
        .post(
            &format!("/api/v1/instruction/candidatures/{id}/refusal"),
            &json!({"reason": "Dossier vide."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    w.instructor
        .post(&path, &json!({"instructor": other.id.0}))
        .await
        .assert_error(StatusCode::CONFLICT, "candidature_not_under_review");
}

#[tokio::test]
async fn the_page_hands_a_candidature_over_and_shows_a_refusal_beside_the_field() {
    let w = world().await;
    let id = taken(&w).await;
    let mut first = w.app.client();
    let r = first
        .sign_in("instructeur@example.fr", crate::support::PASSWORD)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let other = w
        .app
        .user("autre@ans.example.fr", Role::Instructor, None)
        .await;
    let path = format!("/instruction/{id}/attribuer");
    let before = w.app.db.audit_entries(0, 100_000).await.unwrap().len();

    let vendor = user_id(&w, "alpha@example.fr").await.to_string();
    let r = first.post(&path, &[("instructeur", vendor.as_str())]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("id=\"instructeur-erreur\"") && r.body.contains("instructeur actif"),
        "{}",
        r.body
    );
    assert!(r.body.contains("aria-invalid=\"true\""), "{}", r.body);
    for bad in ["987654", "", "quelqu'un"] {
        let r = first.post(&path, &[("instructeur", bad)]).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad:?}: {}",
            r.body
        );
        assert!(r.body.contains("id=\"instructeur-erreur\""), "{}", r.body);
    }
    assert_eq!(
        w.app.db.audit_entries(0, 100_000).await.unwrap().len(),
        before,
        "no refused assignment changed anything"
    );

    let to = other.id.0.to_string();
    let r = first.post(&path, &[("instructeur", to.as_str())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let shown = first.follow(&r).await;
    assert!(
        shown.body.contains("attribuée à autre"),
        "the flash names the new holder: {}",
        shown.body
    );
    let held = w
        .app
        .db
        .find_candidature(preuves_db::CandidatureId(id))
        .await
        .unwrap()
        .unwrap()
        .assigned_to;
    assert_eq!(held, Some(other.id));

    // A vendor's browser may not.
    let mut vendor_page = w.app.client();
    vendor_page
        .sign_in("alpha@example.fr", crate::support::PASSWORD)
        .await;
    let r = vendor_page
        .post(&path, &[("instructeur", to.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
}
