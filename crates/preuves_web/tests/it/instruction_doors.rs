//! The instructor's two front doors translate the same use cases (whose rules are tested once,
//! in `app::instruction`): handing a candidature to another instructor through the page
//! (`POST /instruction/{id}/attribuer`) and the API
//! (`POST /api/v1/instruction/candidatures/{id}/assignment`), with success, the refusals with
//! their codes beside the field, and who may not call; the queue's filters as the page's form
//! names them; a refused input shown beside its field on the page and keyed by its JSON field
//! in the API.

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

/// Signs in a browser as an account of the world.
async fn browser(w: &World, email: &str) -> crate::support::Client {
    let mut client = w.app.client();
    let r = client.sign_in(email, crate::support::PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    client
}

#[tokio::test]
async fn the_page_reads_the_queue_filters_as_its_form_names_them() {
    let w = world().await;
    let id = taken(&w).await;
    let mut holder = browser(&w, "instructeur@example.fr").await;
    w.app
        .user("autre@ans.example.fr", Role::Instructor, None)
        .await;
    let mut other = browser(&w, "autre@ans.example.fr").await;
    let row = format!("href=\"/instruction/{id}\"");
    let organisation = format!("/instruction?editeur={}", w.a.0);
    let elsewhere = format!("/instruction?editeur={}", w.b.0);
    for (by_holder, path, shown) in [
        (true, "/instruction", true),
        (true, "/instruction?dispositif=DUI-MS-2", true),
        (true, "/instruction?dispositif=DPI-2", false),
        (true, "/instruction?statut=in_instruction", true),
        (true, "/instruction?statut=submitted", false),
        (true, organisation.as_str(), true),
        (true, elsewhere.as_str(), false),
        (true, "/instruction?les_miennes=1", true),
        (false, "/instruction?les_miennes=1", false),
        // Filters the form never sends are left out, not an error page.
        (true, "/instruction?statut=draft&dispositif=DUI-MS-7", true),
        (true, "/instruction?dispositif=DUI-MS&editeur=abc", true),
    ] {
        let client = if by_holder { &mut holder } else { &mut other };
        let r = client.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        assert_eq!(r.body.contains(&row), shown, "{path}");
    }
    // The API refuses what the page leaves out.
    w.instructor
        .get("/api/v1/instruction/queue?dispositif=DUI-MS&wave=7")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
}

#[tokio::test]
async fn a_refused_input_is_shown_beside_its_field_and_keyed_by_its_json_field() {
    let w = world().await;
    let id = taken(&w).await;
    let mut page = browser(&w, "instructeur@example.fr").await;
    let before = w.app.db.audit_entries(0, 100_000).await.unwrap().len();
    let long = "é".repeat(4001);

    let r = page
        .post(&format!("/instruction/{id}/refuser"), &[("motif", "  ")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("<p class=\"field-error\">Motivez le refus"),
        "{}",
        r.body
    );
    let api = w
        .instructor
        .post(
            &format!("/api/v1/instruction/candidatures/{id}/refusal"),
            &json!({"reason": long}),
        )
        .await;
    api.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(api.json["errors"][0]["field"], "reason");

    // A complement request: the same limits through both doors, every field at once.
    let r = page
        .post(
            &format!("/instruction/{id}/complements"),
            &[
                ("exigence", "INS/va1.01"),
                ("commentaire:INS/va1.01", long.as_str()),
                ("message", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("<p class=\"field-error\">Écrivez le message"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Le formulaire contient 2 erreurs"),
        "{}",
        r.body
    );
    let api = w
        .instructor
        .post(
            &format!("/api/v1/instruction/candidatures/{id}/complement-requests"),
            &json!({"message": "", "items": [{"requirement": "INS/va1.01", "comment": long}]}),
        )
        .await;
    api.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let fields: Vec<&str> = api.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["message", "items"]);
    assert_eq!(
        w.app.db.audit_entries(0, 100_000).await.unwrap().len(),
        before,
        "nothing refused changed anything"
    );
}
