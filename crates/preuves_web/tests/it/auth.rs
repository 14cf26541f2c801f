//! Sign-in, sessions, CSRF, throttling, error pages and security headers.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use preuves_db::Role;
use preuves_web::WebConfig;

use crate::support::{PASSWORD, TestApp};

#[tokio::test]
async fn home_page_is_french_with_security_headers() {
    let app = TestApp::new().await;
    let r = app.client().get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("<html lang=\"fr\">"));
    assert!(r.body.contains("Déposez chaque preuve une seule fois"));
    for h in [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "x-request-id",
    ] {
        assert!(r.headers.contains_key(h), "{h}");
    }
}

#[tokio::test]
async fn unknown_route_gives_a_french_404_page_with_the_request_id() {
    let app = TestApp::new().await;
    let r = app.client().get("/pas/de/page/ici").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("Page introuvable"));
    let id = r.headers["x-request-id"].to_str().unwrap();
    assert!(r.body.contains(id));
}

#[tokio::test]
async fn api_errors_are_json() {
    let app = TestApp::new().await;
    let r = app.client().get("/api/v1/nothing-here").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(json["errors"][0]["code"], "not_found");
}

#[tokio::test]
async fn sign_in_sets_a_protected_session_cookie_and_redirects() {
    let app = TestApp::with_config(WebConfig::default()).await; // Secure cookies, as in production.
    app.user("admin@example.fr", Role::Admin, None).await;
    let mut c = app.client();
    let r = c.sign_in("admin@example.fr", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/");
    let cookie = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("__Host-preuves_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let home = c.get("/").await;
    assert!(home.body.contains("Bonjour admin"), "{}", home.body);
}

#[tokio::test]
async fn failed_sign_in_redisplays_the_form_with_the_email_and_a_message() {
    let app = TestApp::new().await;
    app.user("editeur@example.fr", Role::Admin, None).await;
    let mut c = app.client();
    let r = c
        .sign_in("editeur@example.fr", "mauvais mot de passe")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Adresse électronique ou mot de passe incorrect.")
    );
    assert!(r.body.contains("value=\"editeur@example.fr\""));
    assert!(r.body.contains("aria-invalid=\"true\""));
    assert!(!c.cookies.contains_key("preuves_session"));
    // An unknown account gets the very same answer.
    let unknown = c.sign_in("personne@example.fr", "x").await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown
            .body
            .contains("Adresse électronique ou mot de passe incorrect.")
    );
}

#[tokio::test]
async fn signing_in_again_replaces_the_session() {
    let app = TestApp::new().await;
    app.user("a@example.fr", Role::Instructor, None).await;
    let mut c = app.client();
    c.sign_in("a@example.fr", PASSWORD).await;
    let first = c.cookies["preuves_session"].clone();
    // Signing in while signed in redirects; sign in from a copy that still holds the old cookie.
    let mut stale = c.clone();
    c.post("/deconnexion", &[]).await;
    c.sign_in("a@example.fr", PASSWORD).await;
    assert_ne!(c.cookies["preuves_session"], first);
    let r = stale.get("/").await;
    assert!(!r.body.contains("Bonjour"), "the old session is gone");
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("b@example.fr", Role::Admin, None).await;
    let before = c.clone();
    let r = c.post("/deconnexion", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!c.cookies.contains_key("preuves_session"));
    let mut replay = before;
    assert!(
        !replay.get("/").await.body.contains("Bonjour"),
        "the token was deleted server-side"
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = TestApp::new().await;
    app.user("c@example.fr", Role::Admin, None).await;
    let mut c = app.client();
    c.get("/connexion").await;
    let r = c
        .post(
            "/connexion",
            &[
                ("csrf", "0".repeat(64).as_str()),
                ("email", "c@example.fr"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("Formulaire expiré"));
    assert!(!c.cookies.contains_key("preuves_session"));

    // A signed-in user's token is its session's, not the anonymous one.
    let mut signed = app.signed_in("d@example.fr", Role::Admin, None).await;
    let r = signed.post("/deconnexion", &[("csrf", "")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn cross_site_posts_are_refused_whatever_the_token() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("e@example.fr", Role::Admin, None).await;
    let csrf = c.csrf().await;
    let r = c
        .send(
            Request::post("/deconnexion")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::HOST, "preuves.example")
                .header(header::ORIGIN, "https://evil.example")
                .body(Body::from(format!("csrf={csrf}")))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(c.cookies.contains_key("preuves_session"), "still signed in");
}

#[tokio::test]
async fn repeated_failures_are_throttled_even_with_the_right_password() {
    let app = TestApp::new().await;
    app.user("f@example.fr", Role::Admin, None).await;
    let mut c = app.client();
    for _ in 0..5 {
        let r = c.sign_in("f@example.fr", "faux").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = c.sign_in("f@example.fr", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key(header::RETRY_AFTER));
    assert!(r.body.contains("Trop de tentatives"));
    // Another account is not throttled by these failures (per-address limit is higher).
    app.user("g@example.fr", Role::Admin, None).await;
    let r = c.sign_in("g@example.fr", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_in_never_redirects_off_site() {
    let app = TestApp::new().await;
    app.user("h@example.fr", Role::Admin, None).await;
    let mut c = app.client();
    c.get("/connexion").await;
    let r = c
        .post(
            "/connexion",
            &[
                ("email", "h@example.fr"),
                ("password", PASSWORD),
                ("suivant", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/");
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in() {
    let app = TestApp::new().await;
    let user = app.user("i@example.fr", Role::Admin, None).await;
    app.db
        .set_user_disabled(user.id, true, &preuves_db::Actor::System)
        .await
        .unwrap();
    let r = app.client().sign_in("i@example.fr", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn health_checks_the_database() {
    let app = TestApp::new().await;
    let mut c = app.client();
    let r = c.get("/health/ready").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("\"database\":\"ok\""));
    assert_eq!(c.get("/health/live").await.status, StatusCode::OK);
    app.db.close().await;
    let r = c.get("/health/ready").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn an_internal_error_shows_no_detail() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("j@example.fr", Role::Admin, None).await;
    app.db.close().await;
    let r = c.get("/").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.body.contains("Erreur interne"));
    assert!(r.body.contains("Référence de la requête"));
    assert!(!r.body.to_lowercase().contains("pool"), "{}", r.body);
}
