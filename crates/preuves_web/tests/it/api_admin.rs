//! The administrator's API (`/api/v1/admin/...`) through the real router: organisations, user
//! accounts, REM imports, referencings recorded by hand and their status. Each endpoint: its
//! success, a refused input with the field at fault, 403 for a vendor's or an instructor's
//! token, 403 `insufficient_scope` for a read-only token on a write, and the audit entry naming
//! the administrator. The rules themselves are tested once, in `app::admin`.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use preuves_db::{Role, TokenScope, User};
use preuves_web::WebConfig;
use serde_json::{Value, json};

use crate::api::{Api, ApiResponse, token_for};
use crate::catalogue::small_rem;
use crate::support::TestApp;

const SIREN_A: &str = "732829320";
const SIREN_B: &str = "552100554";

/// An administrator and its read-write API client.
pub(crate) async fn admin(app: &TestApp) -> (User, Api) {
    let user = app.user("admin@ans.example.fr", Role::Admin, None).await;
    let token = token_for(app, &user, TokenScope::ReadWrite).await;
    (user, Api::new(app, Some(&token)))
}

/// The fields named by an error answer.
fn fields(r: &ApiResponse) -> Vec<String> {
    r.json["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str().map(str::to_owned))
        .collect()
}

/// Asserts that the last audit entry on `object` is `action`, by `admin`.
async fn assert_audited(app: &TestApp, object: (&str, &str), action: &str, admin: &User) {
    let entries = app.db.audit_entries_for(object.0, object.1).await.unwrap();
    let last = entries
        .last()
        .unwrap_or_else(|| panic!("no audit entry on {object:?}"));
    assert_eq!(last.action, action);
    assert_eq!(last.actor, format!("user:{}", admin.id.0));
    assert!(app.db.verify_audit_chain().await.unwrap().is_ok());
}

const BOUNDARY: &str = "----preuves-api-admin-boundary";

/// A `multipart/form-data` body: small fields, then the file part `file` when given.
pub(crate) fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, content)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub(crate) async fn upload(api: &Api, body: Vec<u8>) -> ApiResponse {
    api.send(
        Method::POST,
        "/api/v1/admin/rem-imports",
        Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
        Body::from(body),
    )
    .await
}

/// Confirms an analysed upload (the response of `POST /api/v1/admin/rem-imports`).
pub(crate) async fn confirm(api: &Api, preview: &Value) -> ApiResponse {
    api.post(
        "/api/v1/admin/rem-imports/confirm",
        &json!({
            "staging": preview["staging"]["id"],
            "sha256": preview["staging"]["sha256"],
        }),
    )
    .await
}

/// A referencing of MS1 (vague 1) held by `organisation`.
fn referencing(organisation: i64) -> Value {
    json!({
        "nru": "REF-MS1-1-0007",
        "organisation": organisation,
        "dispositif": {"code": "MS1", "wave": 1},
        "profiles": ["pa", "PH"],
        "solution": "Solution B",
        "main_component": "B-core",
        "version": "3.8.1",
        "commercial_names": ["B", "B Social"],
        "granted_on": "2024-06-03"
    })
}

// ---- organisations and users ------------------------------------------------------------------

#[tokio::test]
async fn an_administrator_creates_and_lists_organisations() {
    let app = TestApp::new().await;
    let (admin_user, api) = admin(&app).await;

    let r = api
        .post(
            "/api/v1/admin/organisations",
            &json!({"name": "Éditeur Alpha", "siren": "732 829 320"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["siren"], SIREN_A);
    assert_eq!(r.json["users"], 0);
    let id = r.json["id"].as_i64().unwrap();
    assert_audited(
        &app,
        ("organisation", &id.to_string()),
        "organisation.create",
        &admin_user,
    )
    .await;
    app.user(
        "a@alpha.fr",
        Role::Vendor,
        Some(preuves_db::OrganisationId(id)),
    )
    .await;

    let r = api.get("/api/v1/admin/organisations?size=1").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["total"], 1);
    assert_eq!(r.json["items"][0]["name"], "Éditeur Alpha");
    assert_eq!(r.json["items"][0]["users"], 1);
    api.get("/api/v1/admin/organisations?size=0")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");

    // Every field at fault, under its JSON name; nothing created.
    let r = api
        .post(
            "/api/v1/admin/organisations",
            &json!({"name": " ", "siren": "123456789"}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(fields(&r), ["name", "siren"]);
    // A SIREN already registered.
    let r = api
        .post(
            "/api/v1/admin/organisations",
            &json!({"name": "Second", "siren": SIREN_A}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "siren_taken");
    assert_eq!(fields(&r), ["siren"]);
    assert_eq!(app.db.list_organisations().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_administrator_manages_user_accounts() {
    let app = TestApp::new().await;
    let (admin_user, api) = admin(&app).await;
    let org = app.organisation("Éditeur Alpha", SIREN_A).await;

    let r = api
        .post(
            "/api/v1/admin/users",
            &json!({
                "email": "marie@alpha.fr",
                "display_name": "Marie",
                "role": "vendor",
                "organisation": org.0,
                "password": "douze-caracteres"
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["role"], "vendor");
    assert_eq!(r.json["organisation"], org.0);
    assert_eq!(r.json["active"], true);
    let id = r.json["id"].as_i64().unwrap();
    assert_audited(&app, ("user", &id.to_string()), "user.create", &admin_user).await;
    // The new account signs in with its password.
    let mut browser = app.client();
    let signed = browser.sign_in("marie@alpha.fr", "douze-caracteres").await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);

    // A vendor without organisation, a short password, a bad address: every field at fault.
    let r = api
        .post(
            "/api/v1/admin/users",
            &json!({
                "email": "pas-une-adresse",
                "display_name": "X",
                "role": "vendor",
                "password": "court"
            }),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(fields(&r), ["email", "organisation", "password"]);
    // An unknown role is refused by the document's enumeration.
    let r = api
        .post(
            "/api/v1/admin/users",
            &json!({"email": "x@y.fr", "display_name": "X", "role": "root", "password": "douze-caracteres"}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(fields(&r), ["role"]);
    // An address already in use.
    let r = api
        .post(
            "/api/v1/admin/users",
            &json!({"email": "MARIE@alpha.fr", "display_name": "Autre", "role": "admin", "password": "douze-caracteres"}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "email_taken");
    assert_eq!(fields(&r), ["email"]);

    let r = api.get("/api/v1/admin/users").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["total"], 2);

    let r = api
        .post(&format!("/api/v1/admin/users/{id}/disable"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["active"], false);
    assert!(r.json["disabled_at"].is_string());
    assert_audited(&app, ("user", &id.to_string()), "user.disable", &admin_user).await;
    let r = api
        .post(&format!("/api/v1/admin/users/{id}/enable"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["active"], true);
    assert_audited(&app, ("user", &id.to_string()), "user.enable", &admin_user).await;
    let r = api
        .post(&format!("/api/v1/admin/users/{id}/unlock"), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["user"]["id"], id);
    assert_eq!(r.json["failures_forgotten"], 0);
    assert_audited(&app, ("user", &id.to_string()), "user.unlock", &admin_user).await;

    // Never one's own account; an unknown account is a 404.
    api.post(
        &format!("/api/v1/admin/users/{}/disable", admin_user.id.0),
        &json!({}),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "own_account");
    assert!(
        app.db
            .find_user(admin_user.id)
            .await
            .unwrap()
            .unwrap()
            .is_active()
    );
    for action in ["disable", "enable", "unlock"] {
        api.post(&format!("/api/v1/admin/users/999999/{action}"), &json!({}))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        api.post(&format!("/api/v1/admin/users/abc/{action}"), &json!({}))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
}

// ---- referencings -----------------------------------------------------------------------------

#[tokio::test]
async fn an_administrator_records_a_referencing_and_changes_its_status() {
    let app = TestApp::new().await;
    let (admin_user, api) = admin(&app).await;
    let org = app.organisation("Éditeur Alpha", SIREN_A).await;

    let r = api
        .post("/api/v1/admin/referencings", &referencing(org.0))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["nru"], "REF-MS1-1-0007");
    assert_eq!(r.json["profiles"], json!(["Général", "PA", "PH"]));
    assert_eq!(r.json["status"], "valid");
    assert_audited(
        &app,
        ("referencing", "REF-MS1-1-0007"),
        "referencing.create",
        &admin_user,
    )
    .await;

    // The NRU taken; then every field at fault at once.
    let r = api
        .post("/api/v1/admin/referencings", &referencing(org.0))
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "nru_taken");
    assert_eq!(fields(&r), ["nru"]);
    let mut bad = referencing(999_999);
    bad["nru"] = json!("REF-MS1-1-0008");
    bad["profiles"] = json!(["XYZ"]);
    bad["version"] = json!("");
    bad["granted_on"] = json!("03/06/2024");
    bad["status"] = json!("suspended");
    let r = api.post("/api/v1/admin/referencings", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(
        fields(&r),
        [
            "organisation",
            "profiles",
            "version",
            "granted_on",
            "status_reason"
        ]
    );
    assert!(r.codes().contains(&"reason_required".to_owned()));

    // Suspension: a reason is required; then the status changes, audited.
    let path = "/api/v1/admin/referencings/REF-MS1-1-0007/status";
    let r = api.put(path, &json!({"status": "suspended"})).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "reason_required");
    assert_eq!(fields(&r), ["reason"]);
    let r = api
        .put(
            path,
            &json!({"status": "suspended", "reason": "Anomalie de sécurité"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["referencing"]["status"], "suspended");
    assert_eq!(
        r.json["referencing"]["status_reason"],
        "Anomalie de sécurité"
    );
    assert_eq!(r.json["citing_candidatures"], 0);
    assert_audited(
        &app,
        ("referencing", "REF-MS1-1-0007"),
        "referencing.status",
        &admin_user,
    )
    .await;
    let r = api.put(path, &json!({"status": "valid"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["referencing"]["status"], "valid");
    // An unknown status is refused by the enumeration; an unknown NRU is a 404.
    api.put(path, &json!({"status": "gone"}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    api.put(
        "/api/v1/admin/referencings/REF-MS1-1-0099/status",
        &json!({"status": "withdrawn", "reason": "x"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
}

// ---- REM imports ------------------------------------------------------------------------------

#[tokio::test]
async fn an_administrator_imports_a_rem_and_reads_its_report() {
    let app = TestApp::new().await;
    let (admin_user, api) = admin(&app).await;
    let file = small_rem();

    let r = upload(
        &api,
        multipart(
            &[
                ("dispositif", "DUI-MS"),
                ("wave", "2"),
                ("label", "2026-03"),
            ],
            Some(("REM-DUI-MS.csv", file.as_bytes())),
        ),
    )
    .await;
    // The upload analyses and imports nothing; the confirmation imports.
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["label"], "2026-03");
    assert_eq!(r.json["impact"]["base_label"], "1");
    let r = confirm(&api, &r.json).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["label"], "2026-03");
    assert_eq!(r.json["dispositif"], json!({"code": "DUI-MS", "wave": 2}));
    assert_eq!(r.json["requirements"], 2);
    assert_eq!(r.json["current"], true);
    assert_eq!(r.json["imported_by"], format!("user:{}", admin_user.id.0));
    assert_eq!(r.json["warnings"][0]["code"], "no_proof");
    assert_eq!(r.json["warnings"][0]["line"], 3);
    let id = r.json["id"].as_i64().unwrap();
    assert_audited(
        &app,
        ("rem_version", &id.to_string()),
        "rem.import",
        &admin_user,
    )
    .await;

    let report = api.get(&format!("/api/v1/admin/rem-imports/{id}")).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert_eq!(report.json, r.json);
    api.get("/api/v1/admin/rem-imports/99999")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    // The label again: refused, nothing stored.
    let r = upload(
        &api,
        multipart(
            &[("dispositif", "DUI-MS"), ("label", "2026-03")],
            Some(("REM-DUI-MS.csv", file.as_bytes())),
        ),
    )
    .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "label_taken");
    assert_eq!(fields(&r), ["label"]);
    // No dispositif, a vague 1, no file: every field at fault.
    let r = upload(
        &api,
        multipart(&[("dispositif", "MS1"), ("wave", "1")], None),
    )
    .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(fields(&r), ["dispositif", "wave", "file"]);
    // A file with errors: one error each, with the importer's code, on `file`.
    let r = upload(
        &api,
        multipart(
            &[("dispositif", "DUI-MS")],
            Some(("REM.csv", b"ID,Exigence\r\nX,Y\r\n")),
        ),
    )
    .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "missing_column");
    assert!(fields(&r).iter().all(|f| f == "file"), "{}", r.text);
    assert_eq!(
        app.db
            .list_rem_versions(&preuves_domain::DispositifKey {
                code: preuves_domain::DispositifCode::parse("DUI-MS").unwrap(),
                wave: preuves_domain::Wave::Two,
            })
            .await
            .unwrap()
            .len(),
        2,
        "the seeded version and the one imported"
    );
    // Not multipart.
    api.post("/api/v1/admin/rem-imports", &json!({}))
        .await
        .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

#[tokio::test]
async fn a_rem_file_over_the_limit_is_refused() {
    let app = TestApp::with_config(WebConfig {
        secure_cookies: false,
        max_rem_upload: 1024,
        ..WebConfig::default()
    })
    .await;
    let (_, api) = admin(&app).await;
    let big = vec![b'x'; 4096];
    let r = upload(
        &api,
        multipart(&[("dispositif", "DUI-MS")], Some(("REM.csv", &big))),
    )
    .await;
    r.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "file_too_large");
}

// ---- who may call -----------------------------------------------------------------------------

#[tokio::test]
async fn only_administrators_reach_the_administration_api() {
    let app = TestApp::new().await;
    let org = app.organisation("Éditeur Alpha", SIREN_A).await;
    let (admin_user, _) = admin(&app).await;
    let vendor = app.user("v@alpha.fr", Role::Vendor, Some(org)).await;
    let instructor = app.user("i@ans.fr", Role::Instructor, None).await;
    let target = vendor.id.0;
    let reads = [
        "/api/v1/admin/organisations".to_owned(),
        "/api/v1/admin/users".to_owned(),
        "/api/v1/admin/rem-imports/1".to_owned(),
    ];
    let writes: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            "/api/v1/admin/organisations".to_owned(),
            json!({"name": "Beta", "siren": SIREN_B}),
        ),
        (
            Method::POST,
            "/api/v1/admin/users".to_owned(),
            json!({"email": "n@ans.fr", "display_name": "N", "role": "admin", "password": "douze-caracteres"}),
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{target}/disable"),
            json!({}),
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{target}/enable"),
            json!({}),
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{target}/unlock"),
            json!({}),
        ),
        (
            Method::POST,
            "/api/v1/admin/rem-imports".to_owned(),
            json!({}),
        ),
        (
            Method::POST,
            "/api/v1/admin/rem-imports/confirm".to_owned(),
            json!({"staging": "0".repeat(32), "sha256": "0".repeat(64)}),
        ),
        (
            Method::POST,
            "/api/v1/admin/referencings".to_owned(),
            referencing(org.0),
        ),
        (
            Method::PUT,
            "/api/v1/admin/referencings/REF-MS1-1-0007/status".to_owned(),
            json!({"status": "valid"}),
        ),
    ];
    let send = |api: Api, method: Method, path: String, body: Value| async move {
        api.send(
            method,
            &path,
            Some("application/json"),
            Body::from(body.to_string()),
        )
        .await
    };
    for (user, scope) in [
        (&vendor, TokenScope::ReadWrite),
        (&instructor, TokenScope::ReadWrite),
    ] {
        let api = Api::new(&app, Some(&token_for(&app, user, scope).await));
        for path in &reads {
            api.get(path)
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        for (method, path, body) in &writes {
            send(api.clone(), method.clone(), path.clone(), body.clone())
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
    }
    // An administrator's read-only token reads, and writes nothing.
    let read_only = Api::new(
        &app,
        Some(&token_for(&app, &admin_user, TokenScope::Read).await),
    );
    let r = read_only.get("/api/v1/admin/organisations").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for (method, path, body) in &writes {
        send(
            read_only.clone(),
            method.clone(),
            path.clone(),
            body.clone(),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "insufficient_scope");
    }
    // Without a token: 401.
    Api::new(&app, None)
        .get("/api/v1/admin/users")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    // Nothing was changed.
    assert_eq!(app.db.list_organisations().await.unwrap().len(), 1);
    assert!(
        app.db
            .find_user(vendor.id)
            .await
            .unwrap()
            .unwrap()
            .is_active()
    );
}
