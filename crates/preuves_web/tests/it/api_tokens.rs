//! Personal API tokens: created in the pages and shown once, stored hashed, scoped (a read-only
//! token gets 403 on every write), expiring, revocable, their use recorded at most once a minute;
//! and a vendor's token never reaches another organisation's data.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use preuves_db::{Actor, NewApiToken, Role, Timestamp, TokenHash, TokenScope};
use serde_json::{Value, json};

use crate::api::{Api, draft, raw_token, solution, world};
use crate::support::TestApp;

/// The token shown on the page answering its creation.
fn shown_token(html: &str) -> Option<String> {
    let i = html.find("id=\"jeton\"")?;
    let rest = &html[i..];
    let v = rest.find("value=\"")? + "value=\"".len();
    Some(rest[v..v + 64].to_owned())
}

#[tokio::test]
async fn a_token_is_created_in_the_pages_shown_once_and_revoked() {
    let app = TestApp::new().await;
    let org = app.organisation("Alpha Logiciels", "732829320").await;
    let mut browser = app
        .signed_in("alpha@example.fr", Role::Vendor, Some(org))
        .await;
    let page = browser.get("/compte/jetons").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Créer un jeton"));
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    // Refused: no name, an expiry more than a year ahead.
    let r = browser
        .post(
            "/compte/jetons",
            &[
                ("nom", " "),
                ("portee", "read"),
                ("expiration", "2999-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("Le formulaire contient 2 erreurs"),
        "{}",
        r.body
    );
    assert!(
        app.db
            .list_api_tokens(
                app.db
                    .find_user_by_email("alpha@example.fr")
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            )
            .await
            .unwrap()
            .is_empty()
    );
    // The default expiry is 90 days ahead.
    let default = page.body.split("id=\"expiration\"").nth(1).unwrap();
    let value = &default[default.find("value=\"").unwrap() + 7..][..10];
    let r = browser
        .post(
            "/compte/jetons",
            &[
                ("nom", "Chaîne de qualification"),
                ("portee", "read_write"),
                ("expiration", value),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    let token = shown_token(&r.body).expect("the token is shown once");
    assert!(r.body.contains("il ne sera plus jamais affiché"));
    // Stored hashed only; not on the list page.
    let user = app
        .db
        .find_user_by_email("alpha@example.fr")
        .await
        .unwrap()
        .unwrap();
    let stored = app.db.list_api_tokens(user.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].scope, TokenScope::ReadWrite);
    let days = (stored[0].expires_at.as_millis() - Timestamp::now().as_millis()) / 86_400_000;
    assert!((89..=91).contains(&days), "{days}");
    assert!(
        app.db
            .find_valid_api_token(&TokenHash::of(&token), Timestamp::now())
            .await
            .unwrap()
            .is_some()
    );
    let again = browser.get("/compte/jetons").await;
    assert!(!again.body.contains(&token));
    assert!(again.body.contains("Chaîne de qualification"));
    for e in app.db.audit_entries(0, 10_000).await.unwrap() {
        assert!(!e.details.contains(&token) && !e.details.contains(TokenHash::of(&token).as_str()));
    }
    // It works, as the vendor, without any cookie.
    let api = Api::new(&app, Some(&token));
    let me = api.get("/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json["email"], "alpha@example.fr");
    let created = api
        .post(
            "/api/v1/solutions",
            &json!({"name": "Par jeton", "main_component": "x"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    // Revoked: refused at once.
    let r = browser
        .post(&format!("/compte/jetons/{}/revoquer", stored[0].id.0), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = browser.follow(&r).await;
    assert!(page.body.contains("est révoqué"), "{}", page.body);
    api.get("/api/v1/me")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    // Another user cannot revoke it (it is not theirs: 404).
    let mut other = app
        .signed_in("autre@example.fr", Role::Vendor, Some(org))
        .await;
    let r = other
        .post(&format!("/compte/jetons/{}/revoquer", stored[0].id.0), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Anonymous visitors sign in first.
    let r = app.client().get("/compte/jetons").await;
    assert!(r.location().starts_with("/connexion"), "{}", r.status);
}

#[tokio::test]
async fn an_expired_token_or_a_disabled_user_s_is_refused() {
    let app = TestApp::new().await;
    let user = app
        .user("ines@ans.example.fr", Role::Instructor, None)
        .await;
    let raw = raw_token("expiré");
    let now = Timestamp::now();
    let week = Duration::from_secs(7 * 86_400);
    app.db
        .create_api_token(
            &NewApiToken {
                user: user.id,
                name: "ancien",
                token_hash: &TokenHash::of(&raw),
                scope: TokenScope::ReadWrite,
                now: now.minus(week),
                expires_at: now.minus(Duration::from_secs(1)),
            },
            &Actor::System,
        )
        .await
        .unwrap();
    let r = Api::new(&app, Some(&raw))
        .get("/api/v1/instruction/queue")
        .await;
    r.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(
        r.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );

    let fresh = crate::api::token_for(&app, &user, TokenScope::Read).await;
    let api = Api::new(&app, Some(&fresh));
    assert_eq!(
        api.get("/api/v1/instruction/queue").await.status,
        StatusCode::OK
    );
    // Its use is recorded, at most once a minute.
    let first = app.db.list_api_tokens(user.id).await.unwrap()[0]
        .last_used_at
        .expect("used");
    assert_eq!(api.get("/api/v1/me").await.status, StatusCode::OK);
    assert_eq!(
        app.db.list_api_tokens(user.id).await.unwrap()[0].last_used_at,
        Some(first)
    );
    app.db
        .set_user_disabled(user.id, true, &Actor::System)
        .await
        .unwrap();
    api.get("/api/v1/me")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
}

/// Every write route of the API, with a concrete path on vendor A's objects and a body of the
/// shape the route reads.
fn writes(
    solution: i64,
    candidature: i64,
    proof: i64,
) -> Vec<(Method, &'static str, String, Value)> {
    let c = candidature;
    vec![
        (
            Method::POST,
            "/api/v1/solutions",
            "/api/v1/solutions".into(),
            json!({"name": "x", "main_component": "x"}),
        ),
        (
            Method::PUT,
            "/api/v1/solutions/{id}",
            format!("/api/v1/solutions/{solution}"),
            json!({"revision": 1, "name": "x", "main_component": "x"}),
        ),
        (
            Method::POST,
            "/api/v1/candidatures",
            "/api/v1/candidatures".into(),
            json!({"dispositif": "DUI-MS", "solution": solution, "version": "5.0"}),
        ),
        (
            Method::PUT,
            "/api/v1/candidatures/{id}/administrative-step",
            format!("/api/v1/candidatures/{c}/administrative-step"),
            json!({"revision": 1, "solution": solution, "version": "5.0"}),
        ),
        (
            Method::POST,
            "/api/v1/candidatures/{id}/proofs",
            format!(
                "/api/v1/candidatures/{c}/proofs?requirement=X&scenario=0&proof=0&file_name=a.pdf"
            ),
            json!("%PDF-1.4"),
        ),
        (
            Method::PUT,
            "/api/v1/candidatures/{id}/honour-statement",
            format!("/api/v1/candidatures/{c}/honour-statement?revision=1&file_name=a.pdf"),
            json!("%PDF-1.4"),
        ),
        (
            Method::POST,
            "/api/v1/candidatures/{id}/submission",
            format!("/api/v1/candidatures/{c}/submission"),
            json!({"revision": 1, "confirm_incomplete": true}),
        ),
        (
            Method::POST,
            "/api/v1/candidatures/{id}/late-nrus",
            format!("/api/v1/candidatures/{c}/late-nrus"),
            json!({"revision": 1, "nrus": ["REF-ALPHA-2-0001"]}),
        ),
        (
            Method::POST,
            "/api/v1/candidatures/{id}/complement-answer",
            format!("/api/v1/candidatures/{c}/complement-answer"),
            json!({"message": "x"}),
        ),
        (
            Method::POST,
            "/api/v1/instruction/candidatures/{id}/take",
            format!("/api/v1/instruction/candidatures/{c}/take"),
            json!({}),
        ),
        (
            Method::POST,
            "/api/v1/instruction/candidatures/{id}/assignment",
            format!("/api/v1/instruction/candidatures/{c}/assignment"),
            json!({"instructor": 1}),
        ),
        (
            Method::PUT,
            "/api/v1/instruction/candidatures/{id}/proofs/{proof}/verdict",
            format!("/api/v1/instruction/candidatures/{c}/proofs/{proof}/verdict"),
            json!({"verdict": "compliant"}),
        ),
        (
            Method::POST,
            "/api/v1/instruction/candidatures/{id}/complement-requests",
            format!("/api/v1/instruction/candidatures/{c}/complement-requests"),
            json!({"message": "x", "items": []}),
        ),
        (
            Method::POST,
            "/api/v1/instruction/candidatures/{id}/refusal",
            format!("/api/v1/instruction/candidatures/{c}/refusal"),
            json!({"reason": "x"}),
        ),
        (
            Method::POST,
            "/api/v1/instruction/candidatures/{id}/grant",
            format!("/api/v1/instruction/candidatures/{c}/grant"),
            json!({}),
        ),
    ]
}

/// The request body of a write: JSON, or the raw file of an upload.
fn body_of(v: &Value) -> (Option<&'static str>, Body) {
    match v {
        Value::String(raw) => (Some("application/octet-stream"), Body::from(raw.clone())),
        other => (Some("application/json"), Body::from(other.to_string())),
    }
}

#[tokio::test]
async fn a_read_only_token_writes_nothing_and_no_token_crosses_organisations() {
    let w = world().await;
    let s = solution(&w.vendor_a, "Alpha DUI").await;
    let c = draft(&w.vendor_a, s).await["id"].as_i64().unwrap();
    let up = w
        .vendor_a
        .bytes(Method::POST, &format!("/api/v1/candidatures/{c}/proofs?requirement=INS%2Fva1.01&scenario=0&proof=0&file_name=a.pdf"), b"%PDF-1.4")
        .await;
    let proof = up.json["id"].as_i64().unwrap_or(1);
    let before = w.app.db.audit_entries(0, 100_000).await.unwrap().len();
    let routes = writes(s, c, proof);
    // The list covers every write route of the router (simulations write nothing).
    let source = include_str!("../../src/api/mod.rs");
    let mut declared = 0;
    for chunk in source.split(".route(").skip(1) {
        // The route call only (the last one is followed by the rest of the file).
        let chunk = chunk.split("\n}").next().unwrap();
        let path = chunk
            .trim_start()
            .trim_start_matches('"')
            .split('"')
            .next()
            .unwrap();
        declared += 1;
        for (m, call) in [(Method::POST, "post("), (Method::PUT, "put(")] {
            let called = [" ", ".", "("]
                .iter()
                .any(|p| chunk.contains(&format!("{p}{call}")));
            if called && path != "/api/v1/simulations" {
                assert!(
                    routes.iter().any(|(rm, t, _, _)| *rm == m && *t == path),
                    "{m} {path} is missing from the write list"
                );
            }
        }
    }
    assert!(declared > 30, "parsed {declared} routes");
    for (method, template, path, body) in &routes {
        // A read-only token: 403, whatever the object.
        let (ct, b) = body_of(body);
        let r = w.vendor_a_read.send(method.clone(), path, ct, b).await;
        r.assert_error(StatusCode::FORBIDDEN, "insufficient_scope");
        // No token: 401.
        let (ct, b) = body_of(body);
        let r = w.anonymous.send(method.clone(), path, ct, b).await;
        r.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        // Another vendor: 404 on vendor A's objects, 403 on instructors' routes; never success.
        let (ct, b) = body_of(body);
        let r = w.vendor_b.send(method.clone(), path, ct, b).await;
        if template.starts_with("/api/v1/instruction") {
            r.assert_error(StatusCode::FORBIDDEN, "forbidden");
        } else if template.contains("{id}") {
            r.assert_error(StatusCode::NOT_FOUND, "not_found");
        }
    }
    let after = w.app.db.audit_entries(0, 100_000).await.unwrap();
    // Vendor B's two creations (a solution, a candidature with a bogus solution refused) aside,
    // nothing changed.
    let changes: Vec<&str> = after[before..].iter().map(|e| e.action.as_str()).collect();
    assert!(
        changes.iter().all(|a| *a == "solution.create"),
        "{changes:?}"
    );
    // The reads of vendor A's objects by vendor B: all 404.
    for path in [
        format!("/api/v1/solutions/{s}"),
        format!("/api/v1/candidatures/{c}"),
        format!("/api/v1/candidatures/{c}/plan"),
        format!("/api/v1/candidatures/{c}/proofs"),
        format!("/api/v1/candidatures/{c}/proofs/{proof}/file"),
        format!("/api/v1/candidatures/{c}/complement-requests"),
        "/api/v1/referencings/REF-ALPHA-2-0001".to_owned(),
    ] {
        w.vendor_b
            .get(&path)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        let ok = w.vendor_a_read.get(&path).await;
        assert_eq!(ok.status, StatusCode::OK, "{path}: {}", ok.text);
    }
}
