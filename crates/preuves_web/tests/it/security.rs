//! The findings of the security review (issue 13), each through the real router, or the real
//! server for timeouts: odd values on every public path and query parameter, a handler's panic,
//! the redirect after sign-in, parallel sign-ins, the throttle per e-mail and client and its
//! unlock, HSTS and `__Host-` cookies, the sessions' absolute lifetime, changing one's password,
//! disabling an account with API tokens, bidirectional controls in names, the API's per-client
//! limit checked before the token look-up, and the server's connection bounds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use preuves_db::{Role, TokenScope};
use preuves_web::server::{ServerLimits, serve};
use preuves_web::{AppState, WebConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::api::{Api, raw_token, token_for};
use crate::support::{Client, PASSWORD, TestApp, TestResponse};

// ---- odd values and panics ----------------------------------------------------------------

/// Values an attacker tries: accented and multi-byte text (the `looks_issued` panic), invalid
/// UTF-8, control and bidirectional characters, path tricks, huge numbers, very long text.
fn odd_values() -> Vec<String> {
    vec![
        "ABCD%C3%A9".to_owned(),
        "SEGU%C3%A9-".to_owned(),
        "%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9".to_owned(),
        "%FF%FE%00".to_owned(),
        "%E2%80%AE%E2%81%A6x".to_owned(),
        "..%2F..%2Fetc%2Fpasswd".to_owned(),
        "%0D%0ASet-Cookie:%20x=1".to_owned(),
        "%25".to_owned(),
        "-1".to_owned(),
        "99999999999999999999999".to_owned(),
        "%3Cscript%3E%22%27".to_owned(),
        "A".repeat(8_000),
        "%C3%A9".repeat(2_000),
    ]
}

/// Every public page and API path, with the query parameters it reads.
const PUBLIC: &[(&str, &[&str])] = &[
    ("/", &[]),
    ("/connexion", &["suivant"]),
    ("/aide", &[]),
    ("/aide/{}", &[]),
    ("/aide/captures/{}", &[]),
    ("/registre", &["q", "dispositif", "vague", "statut", "page"]),
    (
        "/registre.csv",
        &["q", "dispositif", "vague", "statut", "page"],
    ),
    (
        "/registre.json",
        &["q", "dispositif", "vague", "statut", "page"],
    ),
    ("/verifier", &["nru", "code"]),
    ("/verifier/{}", &["code"]),
    ("/referencements/{}/attestation", &[]),
    (
        "/catalogue",
        &["q", "profil", "chapitre", "perimetre", "page"],
    ),
    ("/catalogue/{}/{}", &["q", "profil", "chapitre", "page"]),
    ("/catalogue/{}/{}/exigence", &["id", "version"]),
    ("/api/v1/verification/{}", &["code"]),
    (
        "/api/v1/register",
        &["q", "dispositif", "wave", "status", "page", "size"],
    ),
    ("/api/v1/dispositifs", &["wave", "page", "size"]),
    ("/api/v1/dispositifs/{}/{}", &["version"]),
    ("/api/v1/dispositifs/{}/{}/rem-versions", &["page", "size"]),
    (
        "/api/v1/dispositifs/{}/{}/requirements",
        &["q", "profile", "chapter", "perimeter", "page", "size"],
    ),
    ("/api/v1/dispositifs/{}/{}/requirements/{}", &["version"]),
    (
        "/api/v1/referencings",
        &["q", "dispositif", "wave", "status", "page", "size"],
    ),
    ("/api/v1/referencings/{}", &[]),
    ("/api/v1/referencings/{}/attestation", &[]),
];

/// Fills each `{}` of `template` with `value`.
fn fill(template: &str, value: &str) -> String {
    template.replace("{}", value)
}

/// Whether a path has segments to fill.
fn has_segments(template: &str) -> bool {
    template.contains("{}")
}

/// The issue's panic, and every odd value in every public path segment: a 4xx, never a 5xx or
/// a panic. Every query parameter: never a 5xx (free text may well find nothing, a 200).
#[tokio::test]
async fn odd_values_in_public_paths_and_queries_never_panic() {
    let app = TestApp::new().await;
    let mut c = app.client();
    for path in ["/verifier/ABCD%C3%A9", "/api/v1/verification/ABCD%C3%A9"] {
        let r = c.get(path).await;
        assert!(r.status.is_client_error(), "{path}: {}", r.status);
    }
    // The public form redirects an accented NRU to that page: it answers too.
    let r = c.get("/verifier?nru=ABCD%C3%A9").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let to = r.location().to_owned();
    assert!(c.get(&to).await.status.is_client_error(), "{to}");

    // Anonymous, and signed in as staff (who may see every path): odd path segments answer a
    // 4xx (or, anonymous on a signed-in page, the redirect to the sign-in form).
    let admin = app.signed_in("fuzz@example.fr", Role::Admin, None).await;
    let values = odd_values();
    for (mut c, staff) in [(c.clone(), false), (admin, true)] {
        for (template, params) in PUBLIC {
            if has_segments(template) {
                for value in &values {
                    let path = fill(template, value);
                    let r = c.get(&path).await;
                    let to_sign_in = !staff
                        && r.status == StatusCode::SEE_OTHER
                        && r.location().starts_with("/connexion");
                    assert!(
                        r.status.is_client_error() || to_sign_in,
                        "{path}: {} {}",
                        r.status,
                        r.body.chars().take(300).collect::<String>()
                    );
                }
            }
            let base = fill(template, "DPI");
            for param in *params {
                for value in &values {
                    let path = format!("{base}?{param}={value}");
                    let r = c.get(&path).await;
                    assert!(!r.status.is_server_error(), "{path}: {}", r.status);
                }
            }
        }
    }
    // A malformed query string as a whole.
    for (template, _) in PUBLIC {
        let path = format!("{}?%%%&=&&page=%FF", fill(template, "DPI"));
        let r = c.get(&path).await;
        assert!(!r.status.is_server_error(), "{path}: {}", r.status);
    }
}

async fn boom() -> &'static str {
    panic!("a handler bug")
}

/// A panic in a handler answers a 500 page with the request id (JSON under `/api/`), not an
/// empty reply.
#[tokio::test]
async fn a_panicking_handler_answers_a_500_with_the_request_id() {
    let app = TestApp::new().await;
    let routes = axum::Router::new()
        .route("/boum", axum::routing::get(boom))
        .route("/api/v1/boum", axum::routing::get(boom));
    let state = AppState::new(
        app.db.clone(),
        WebConfig {
            secure_cookies: false,
            ..WebConfig::default()
        },
    );
    let router = preuves_web::with_middleware(routes, state);
    let mut c = Client::over(router);

    let r = c.get("/boum").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    let id = r.headers["x-request-id"].to_str().unwrap().to_owned();
    assert!(r.body.contains("<html lang=\"fr\">"), "{}", r.body);
    assert!(r.body.contains("Erreur interne"), "{}", r.body);
    assert!(r.body.contains(&id), "the request id {id} on the page");
    assert!(!r.body.contains("a handler bug"), "no detail shown");

    let r = c.get("/api/v1/boum").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    let json: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(json["errors"][0]["code"], "internal");
    assert!(!r.body.contains("a handler bug"));
}

// ---- the redirect after sign-in -----------------------------------------------------------

/// `suivant` is followed only when it is a path of this site; anything else goes home, and no
/// value gives a 500.
#[tokio::test]
async fn sign_in_follows_only_same_origin_paths() {
    let app = TestApp::new().await;
    let mut c = app.signed_in("k@example.fr", Role::Admin, None).await;
    let cases: &[(&str, &str)] = &[
        // The issue's: a tab that URL parsers drop turns `/\t/evil` into `//evil`.
        ("%2F%09%2Fevil.example%2Fstolen", "/"),
        ("%2F%0D%0ALocation:%20https://evil.example", "/"),
        ("%2F%0A%2Fevil.example", "/"),
        ("//evil.example/", "/"),
        ("/%5Cevil.example", "/"),
        ("%5C%5Cevil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("/%E2%80%AE", "/%E2%80%AE"),
        (
            "/candidatures/3?onglet=preuves",
            "/candidatures/3?onglet=preuves",
        ),
        ("/a%20b", "/a%20b"),
        ("/../../admin", "/admin"),
        ("/aide%23section", "/aide#section"),
        ("", "/"),
    ];
    for (raw, expected) in cases {
        // Signed in: `/connexion` sends straight on.
        let r = c.get(&format!("/connexion?suivant={raw}")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{raw}: {}", r.body);
        assert_eq!(r.location(), *expected, "{raw}");
    }
    // At sign-in, through the form.
    app.user("l@example.fr", Role::Admin, None).await;
    for (raw, expected) in cases {
        let next = percent_decode(raw);
        let mut anonymous = app.client();
        anonymous.get("/connexion").await;
        let r = anonymous
            .post(
                "/connexion",
                &[
                    ("email", "l@example.fr"),
                    ("password", PASSWORD),
                    ("suivant", next.as_str()),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{raw}: {}", r.body);
        assert_eq!(r.location(), *expected, "{raw}");
    }
}

/// Decodes `%XX` sequences (test values are ASCII apart from them).
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

// ---- sign-in throttling -------------------------------------------------------------------

/// Signs in through the form as if from `ip`.
async fn sign_in_from(c: &mut Client, ip: [u8; 4], email: &str, password: &str) -> TestResponse {
    let csrf = c.csrf().await;
    let body = serde_urlencoded::to_string([
        ("csrf", csrf.as_str()),
        ("email", email),
        ("password", password),
        ("suivant", "/"),
    ])
    .unwrap();
    let mut request = Request::post("/connexion")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40_000))));
    c.send(request).await
}

/// The issue's bypass: 50 simultaneous wrong passwords on one account. Each attempt is counted
/// before its password is checked, so only the limit's worth are checked; the right password
/// then finds the account throttled.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_are_counted_before_they_are_checked() {
    let app = TestApp::new().await;
    app.user("m@example.fr", Role::Admin, None).await;
    let mut clients = Vec::new();
    for _ in 0..50 {
        let mut c = app.client();
        c.csrf().await;
        clients.push(c);
    }
    let start = Arc::new(tokio::sync::Barrier::new(clients.len()));
    let mut tasks = Vec::new();
    for mut c in clients {
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            sign_in_from(
                &mut c,
                [10, 0, 0, 1],
                "m@example.fr",
                "mauvais mot de passe",
            )
            .await
            .status
        }));
    }
    let mut checked = 0;
    let mut throttled = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::UNPROCESSABLE_ENTITY => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(checked, 5, "only the limit's worth are checked");
    assert_eq!(throttled, 45);
    let r = sign_in_from(&mut app.client(), [10, 0, 0, 1], "m@example.fr", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

/// More people than the per-client limit signing in at once from one address (behind a proxy,
/// a deadline rush) are all let in: only settled failures count against a client.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_people_behind_one_address_sign_in_at_once() {
    let app = TestApp::new().await;
    let mut clients = Vec::new();
    for i in 0..32 {
        let email = format!("personne{i}@example.fr");
        app.user(&email, Role::Admin, None).await;
        let mut c = app.client();
        c.csrf().await;
        clients.push((c, email));
    }
    let start = Arc::new(tokio::sync::Barrier::new(clients.len()));
    let mut tasks = Vec::new();
    for (mut c, email) in clients {
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            sign_in_from(&mut c, [10, 0, 0, 2], &email, PASSWORD)
                .await
                .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::SEE_OTHER);
    }
}

/// Failures from one client do not lock the account for another; an administrator can unlock
/// an account at once (audited).
#[tokio::test]
async fn a_third_party_cannot_lock_an_account_out_and_an_admin_can_unlock_it() {
    let app = TestApp::new().await;
    let org = app.organisation("Gamma", "732829320").await;
    let victim = app.user("o@example.fr", Role::Vendor, Some(org)).await;
    let attacker = [203, 0, 113, 7];
    let mut a = app.client();
    for _ in 0..5 {
        let r = sign_in_from(&mut a, attacker, "o@example.fr", "devine").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = sign_in_from(&mut a, attacker, "o@example.fr", PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the attacker is held"
    );
    // The owner, elsewhere, signs in.
    let r = sign_in_from(&mut app.client(), [192, 0, 2, 1], "o@example.fr", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // An administrator unlocks the account: the attacker's client may try again.
    let mut admin = app.signed_in("admin@example.fr", Role::Admin, None).await;
    let page = admin.get("/admin/utilisateurs").await;
    let action = format!("/admin/utilisateurs/{}/debloquer", victim.id.0);
    assert!(page.body.contains(&action), "{}", page.body);
    assert!(page.body.contains("Débloquer la connexion"));
    let r = admin.post(&action, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = admin.follow(&r).await;
    assert!(page.body.contains("est débloquée"), "{}", page.body);
    let audit = app
        .db
        .audit_entries_for("user", &victim.id.0.to_string())
        .await
        .unwrap();
    assert!(audit.iter().any(|e| e.action == "user.unlock"));
    let r = sign_in_from(&mut a, attacker, "o@example.fr", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Without the CSRF token, no unlock.
    let r = admin.post(&action, &[("csrf", "faux")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

// ---- cookies, HSTS, sessions --------------------------------------------------------------

/// With secure cookies: HSTS on every answer and `__Host-` cookie names; under
/// `--insecure-cookies`, neither.
#[tokio::test]
async fn hsts_and_host_prefixed_cookies_unless_insecure() {
    let app = TestApp::with_config(WebConfig::default()).await;
    app.user("p@example.fr", Role::Admin, None).await;
    let mut c = app.client();
    let r = c.get("/connexion").await;
    assert_eq!(
        r.headers[header::STRICT_TRANSPORT_SECURITY],
        preuves_web::HSTS
    );
    let set: Vec<&str> = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        set.iter().all(|c| c.starts_with("__Host-preuves_csrf=")
            && c.contains("Secure")
            && c.contains("Path=/")
            && !c.contains("Domain")),
        "{set:?}"
    );
    let r = c.sign_in("p@example.fr", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("__Host-preuves_session=")),
    );
    assert!(c.get("/").await.body.contains("Bonjour p"));
    // A cookie without the prefix is not a session.
    let session = c.cookies["__Host-preuves_session"].clone();
    let r = app
        .client()
        .send(
            Request::get("/")
                .header(header::COOKIE, format!("preuves_session={session}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(!r.body.contains("Bonjour p"));
    let r = c.get("/api/v1/dispositifs").await;
    assert!(r.headers.contains_key(header::STRICT_TRANSPORT_SECURITY));

    let insecure = TestApp::new().await;
    let r = insecure.client().get("/connexion").await;
    assert!(!r.headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    assert!(
        r.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .starts_with("preuves_csrf=")
    );
}

/// However active, a session ends at its absolute lifetime.
#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime() {
    let app = TestApp::with_config(WebConfig {
        secure_cookies: false,
        session_max_lifetime: Duration::from_secs(2),
        ..WebConfig::default()
    })
    .await;
    let mut c = app.signed_in("q@example.fr", Role::Admin, None).await;
    assert!(c.get("/").await.body.contains("Bonjour q"));
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(c.get("/").await.body.contains("Bonjour q"), "still active");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(!c.get("/").await.body.contains("Bonjour q"), "ended");
}

// ---- changing one's password --------------------------------------------------------------

#[tokio::test]
async fn users_change_their_own_password_and_other_sessions_close() {
    let app = TestApp::new().await;
    let user = app.user("r@example.fr", Role::Admin, None).await;
    let mut here = app.client();
    assert_eq!(
        here.sign_in("r@example.fr", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let mut elsewhere = app.client();
    assert_eq!(
        elsewhere.sign_in("r@example.fr", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let page = here.get("/compte/mot-de-passe").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Changer de mot de passe"));
    assert!(page.body.contains("Mot de passe actuel"));
    // Anonymous: to the sign-in form.
    let r = app.client().get("/compte/mot-de-passe").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    let new = "un nouveau mot de passe solide";
    // The wrong current password, a short one, a confirmation that differs: refused.
    let r = here
        .post(
            "/compte/mot-de-passe",
            &[
                ("current", "pas le bon"),
                ("password", new),
                ("password_confirmation", new),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Le mot de passe actuel est incorrect."));
    let r = here
        .post(
            "/compte/mot-de-passe",
            &[
                ("current", PASSWORD),
                ("password", "court"),
                ("password_confirmation", "court"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("au moins 12 caractères"));
    let r = here
        .post(
            "/compte/mot-de-passe",
            &[
                ("current", PASSWORD),
                ("password", new),
                ("password_confirmation", "autre chose encore"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Without the CSRF token: refused.
    let r = here
        .post(
            "/compte/mot-de-passe",
            &[
                ("csrf", "faux"),
                ("current", PASSWORD),
                ("password", new),
                ("password_confirmation", new),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = here
        .post(
            "/compte/mot-de-passe",
            &[
                ("current", PASSWORD),
                ("password", new),
                ("password_confirmation", new),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = here.follow(&r).await;
    assert!(page.body.contains("Votre mot de passe a été changé"));
    assert!(page.body.contains("Bonjour r"), "this session stays");
    assert!(
        !elsewhere.get("/").await.body.contains("Bonjour r"),
        "the other session is closed"
    );
    let entries = app
        .db
        .audit_entries_for("user", &user.id.0.to_string())
        .await
        .unwrap();
    let change = entries
        .iter()
        .find(|e| e.action == "user.password")
        .expect("audited");
    assert!(
        change.details.contains("\"sessions_closed\":1"),
        "{change:?}"
    );
    assert!(!change.details.contains(new));
    let stored = app
        .db
        .find_credentials("r@example.fr")
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(stored.starts_with("$argon2id$"));
    assert_eq!(
        app.client().sign_in("r@example.fr", PASSWORD).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.client().sign_in("r@example.fr", new).await.status,
        StatusCode::SEE_OTHER
    );
}

// ---- API tokens ---------------------------------------------------------------------------

/// Disabling an account revokes its API tokens, in the same audited change: re-enabling it
/// revives none.
#[tokio::test]
async fn disabling_an_account_revokes_its_api_tokens() {
    let app = TestApp::new().await;
    let org = app.organisation("Delta", "732829320").await;
    let user = app.user("s@example.fr", Role::Vendor, Some(org)).await;
    let token = token_for(&app, &user, TokenScope::Read).await;
    let api = Api::new(&app, Some(&token));
    assert_eq!(api.get("/api/v1/me").await.status, StatusCode::OK);
    let mut admin = app.signed_in("admin2@example.fr", Role::Admin, None).await;
    admin.get("/admin/utilisateurs").await;
    let r = admin
        .post(
            &format!("/admin/utilisateurs/{}/desactiver", user.id.0),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(api.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let r = admin
        .post(&format!("/admin/utilisateurs/{}/reactiver", user.id.0), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        api.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED,
        "re-enabling revives no token"
    );
    let tokens = app.db.list_api_tokens(user.id).await.unwrap();
    assert!(tokens.iter().all(|t| t.revoked_at.is_some()));
    let entries = app
        .db
        .audit_entries_for("user", &user.id.0.to_string())
        .await
        .unwrap();
    let disable = entries
        .iter()
        .find(|e| e.action == "user.disable")
        .expect("audited");
    assert!(
        disable.details.contains("\"api_tokens_revoked\":1"),
        "{disable:?}"
    );
}

/// A client that used up its limit guessing tokens gets 429 before any token is looked up: the
/// database is not even asked (here, it is closed).
#[tokio::test]
async fn unknown_tokens_are_limited_before_the_look_up() {
    let app = TestApp::with_config(WebConfig {
        secure_cookies: false,
        api_requests_per_minute: 3,
        ..WebConfig::default()
    })
    .await;
    for i in 0..3 {
        let api = Api::new(&app, Some(&raw_token(&format!("devine {i}"))));
        assert_eq!(api.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    }
    app.db.close().await;
    let api = Api::new(&app, Some(&raw_token("devine encore")));
    let r = api.get("/api/v1/me").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert!(r.headers.contains_key(header::RETRY_AFTER));
}

// ---- bidirectional controls ---------------------------------------------------------------

/// Bidirectional controls are stripped from free-text names and uploaded file names, so that
/// nothing displays as something else.
#[tokio::test]
async fn bidirectional_controls_are_stripped_from_names() {
    let app = TestApp::new().await;
    let mut admin = app.signed_in("admin3@example.fr", Role::Admin, None).await;
    admin.get("/admin/organisations").await;
    let r = admin
        .post(
            "/admin/organisations",
            &[
                ("name", "Epsilon\u{202e}lif\u{2066}"),
                ("siren", "732829320"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let orgs = app.db.list_organisations().await.unwrap();
    let org = orgs.iter().find(|o| o.name.starts_with("Epsilon")).unwrap();
    assert_eq!(org.name, "Epsilonlif");

    let mut vendor = app
        .signed_in("t@example.fr", Role::Vendor, Some(org.id))
        .await;
    let r = vendor
        .post(
            "/solutions",
            &[
                ("name", "Dossier\u{202e}fdp.exe"),
                ("main_component", "Noyau\u{2067}"),
                ("versions", "1.0"),
                ("commercial_names", "Nom\u{202a}1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let solution = &app.db.list_solutions(org.id).await.unwrap()[0];
    assert_eq!(solution.name, "Dossierfdp.exe");
    assert_eq!(solution.main_component, "Noyau");
    assert_eq!(solution.commercial_names, vec!["Nom1".to_owned()]);
}

// ---- the server's connection bounds -------------------------------------------------------

/// A real server (TCP, the platform's router) with these limits.
async fn server(limits: ServerLimits) -> (TestApp, SocketAddr) {
    let app = TestApp::new().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve(
        listener,
        app.router.clone(),
        limits,
        std::future::pending(),
    ));
    (app, address)
}

/// Reads until the server closes the connection, for at most `within`: what it sent, or `None`
/// if it was still open then.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut received = Vec::new();
    let outcome = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    outcome
        .ok()
        .map(|()| String::from_utf8_lossy(&received).into_owned())
}

fn quick() -> ServerLimits {
    ServerLimits {
        header_timeout: Duration::from_secs(1),
        body_idle_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        max_connections: 64,
    }
}

/// A connection that sends nothing, or its headers too slowly, is closed at the header timeout.
#[tokio::test]
async fn silent_and_slow_header_connections_are_closed() {
    let (_app, address) = server(quick()).await;
    let started = Instant::now();
    let mut silent = TcpStream::connect(address).await.unwrap();
    let mut slow = TcpStream::connect(address).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if slow.write_all(b"X-A: b\r\n").await.is_err() {
                break;
            }
        }
        slow
    });
    assert!(
        read_until_closed(&mut silent, Duration::from_secs(5))
            .await
            .is_some(),
        "the silent connection is closed"
    );
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    let mut slow = trickle.await.unwrap();
    let answer = read_until_closed(&mut slow, Duration::from_secs(3)).await;
    let answer = answer.expect("the slow connection is closed");
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(6));
}

/// A body that stops arriving is cut off at the body timeout.
#[tokio::test]
async fn a_stalled_body_is_cut_off() {
    let (_app, address) = server(ServerLimits {
        header_timeout: Duration::from_secs(5),
        ..quick()
    })
    .await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            b"POST /connexion HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncsrf=abc",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let answer = read_until_closed(&mut stream, Duration::from_secs(4))
        .await
        .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(started.elapsed() >= Duration::from_millis(900));
}

/// A kept-alive connection waiting for its next request is closed after the header timeout.
#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let (_app, address) = server(quick()).await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(4))
        .await
        .expect("closed after its idle time");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Beyond the connection limit, a new connection waits until one ends.
#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let (_app, address) = server(ServerLimits {
        header_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        max_connections: 2,
        ..quick()
    })
    .await;
    let first = TcpStream::connect(address).await.unwrap();
    let _second = TcpStream::connect(address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(address).await.unwrap();
    third
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    assert!(
        read_until_closed(&mut third, Duration::from_millis(700))
            .await
            .is_none(),
        "not served while two connections are open"
    );
    drop(first);
    let answer = read_until_closed(&mut third, Duration::from_secs(3))
        .await
        .expect("served once a slot is free");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
