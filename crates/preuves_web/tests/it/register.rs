//! Administration of organisations and accounts, and the register of referencings: forms that
//! re-display their input with a message next to the field at fault, who sees what, and the 404
//! that does not tell another organisation's NRU from a missing one.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use preuves_db::{Actor, NewReferencing, OrganisationId, Role};
use preuves_domain::{
    DispositifCode, DispositifKey, IsoDate, Nru, Profile, ReferencingStatus, Version, Wave,
};

use crate::support::{Client, PASSWORD, TestApp, TestResponse};

/// A valid SIREN (Luhn) for the first organisation, another for the second.
const SIREN_A: &str = "732829320";
const SIREN_B: &str = "552100554";

/// Records a referencing directly in the database.
async fn referencing(
    app: &TestApp,
    nru: &str,
    organisation: OrganisationId,
    code: &str,
    wave: Wave,
) {
    app.db
        .insert_referencing(
            &NewReferencing {
                nru: Nru::parse(nru).unwrap(),
                organisation,
                dispositif: DispositifKey {
                    code: DispositifCode::parse(code).unwrap(),
                    wave,
                },
                profiles: if code == "MS2-PDE" {
                    vec![Profile::parse("PDE").unwrap()]
                } else {
                    vec![]
                },
                solution: "A".to_owned(),
                main_component: "A-core".to_owned(),
                version: Version::parse("4.2").unwrap(),
                commercial_names: vec!["A".to_owned()],
                granted_on: IsoDate::parse("2026-01-15").unwrap(),
                status: ReferencingStatus::Valid,
                status_reason: None,
            },
            &Actor::System,
        )
        .await
        .unwrap();
}

/// An administrator's browser, having opened `page` (so its CSRF token is the session's).
async fn admin_on(app: &TestApp, page: &str) -> Client {
    let mut c = app.signed_in("admin@ans.fr", Role::Admin, None).await;
    let r = c.get(page).await;
    assert_eq!(r.status, StatusCode::OK, "{page}: {}", r.body);
    c
}

/// Asserts a 422 whose form marks `field` invalid, names it in a message and keeps `kept`.
fn assert_refused(r: &TestResponse, field: &str, message: &str, kept: &[&str]) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains(&format!("id=\"{field}-erreur\"")),
        "no message next to {field}: {}",
        r.body
    );
    let input = r
        .body
        .find(&format!("id=\"{field}\" name=\"{field}\""))
        .map(|i| &r.body[i..i + r.body[i..].find('>').unwrap()])
        .unwrap_or_else(|| panic!("no field {field}"));
    assert!(input.contains("aria-invalid=\"true\""), "{input}");
    assert!(input.contains(&format!("{field}-erreur")), "{input}");
    // Askama escapes apostrophes.
    let text = r.body.replace("&#39;", "'");
    assert!(
        text.contains(message),
        "expected « {message} » in {}",
        r.body
    );
    for k in kept {
        assert!(r.body.contains(k), "input « {k} » not re-displayed");
    }
    assert!(r.body.contains("<title>Erreur"), "title marks the error");
}

// ---- organisations ----------------------------------------------------------------------------

#[tokio::test]
async fn an_administrator_creates_an_organisation() {
    let app = TestApp::new().await;
    let mut c = admin_on(&app, "/admin/organisations").await;
    let r = c
        .post(
            "/admin/organisations",
            &[("name", "Éditeur Alpha"), ("siren", "732 829 320")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/admin/organisations");
    let page = c.get("/admin/organisations").await;
    assert!(page.body.contains("a été créée"), "flash shown");
    assert!(page.body.contains("Éditeur Alpha"));
    assert!(page.body.contains("732\u{a0}829\u{a0}320"));
    assert!(
        page.body
            .contains("<caption>Organisations enregistrées (1)</caption>")
    );
}

#[tokio::test]
async fn a_siren_with_a_wrong_check_digit_is_refused_next_to_its_field() {
    let app = TestApp::new().await;
    let mut c = admin_on(&app, "/admin/organisations").await;
    let r = c
        .post(
            "/admin/organisations",
            &[("name", "Éditeur Beta"), ("siren", "123456789")],
        )
        .await;
    assert_refused(
        &r,
        "siren",
        "clé de contrôle",
        &["value=\"Éditeur Beta\"", "value=\"123456789\""],
    );
    let r = c
        .post("/admin/organisations", &[("name", ""), ("siren", "12345")])
        .await;
    assert_refused(&r, "siren", "9 chiffres", &["value=\"12345\""]);
    assert!(r.body.contains("id=\"name-erreur\""));
    assert!(app.db.list_organisations().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_duplicate_siren_is_refused_next_to_its_field() {
    let app = TestApp::new().await;
    app.organisation("Premier", SIREN_A).await;
    let mut c = admin_on(&app, "/admin/organisations").await;
    let r = c
        .post(
            "/admin/organisations",
            &[("name", "Second"), ("siren", SIREN_A)],
        )
        .await;
    assert_refused(&r, "siren", "déjà enregistrée", &["value=\"Second\""]);
    assert_eq!(app.db.list_organisations().await.unwrap().len(), 1);
}

// ---- users ------------------------------------------------------------------------------------

#[tokio::test]
async fn an_administrator_creates_a_vendor_account_that_can_sign_in() {
    let app = TestApp::new().await;
    let org = app.organisation("Éditeur Alpha", SIREN_A).await;
    let mut c = admin_on(&app, "/admin/utilisateurs").await;
    let org_id = org.0.to_string();
    let r = c
        .post(
            "/admin/utilisateurs",
            &[
                ("email", "Camille@Alpha.fr"),
                ("display_name", "Camille Alpha"),
                ("role", "vendor"),
                ("organisation", &org_id),
                ("password", "un-mot-de-passe-solide"),
                ("password_confirmation", "un-mot-de-passe-solide"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/admin/utilisateurs");
    let page = c.get("/admin/utilisateurs").await;
    assert!(page.body.contains("a été créé"));
    assert!(page.body.contains("Camille Alpha"));
    assert!(page.body.contains("Éditeur Alpha"));
    let user = app
        .db
        .find_user_by_email("camille@alpha.fr")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.role, Role::Vendor);
    assert_eq!(user.organisation, Some(org));

    let mut vendor = app.client();
    let r = vendor
        .sign_in("camille@alpha.fr", "un-mot-de-passe-solide")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test]
async fn account_forms_are_re_displayed_with_field_messages() {
    let app = TestApp::new().await;
    let org = app.organisation("Éditeur Alpha", SIREN_A).await;
    let org_id = org.0.to_string();
    let mut c = admin_on(&app, "/admin/utilisateurs").await;
    let base = |role: &'static str,
                organisation: &str,
                password: &'static str,
                confirmation: &'static str| {
        vec![
            ("email", "dominique@ans.fr".to_owned()),
            ("display_name", "Dominique Instructeur".to_owned()),
            ("role", role.to_owned()),
            ("organisation", organisation.to_owned()),
            ("password", password.to_owned()),
            ("password_confirmation", confirmation.to_owned()),
        ]
    };
    let post = async |c: &mut Client, fields: Vec<(&str, String)>| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        c.post("/admin/utilisateurs", &fields).await
    };

    // Too short a password: everything but the password comes back.
    let r = post(&mut c, base("instructor", "", "court", "court")).await;
    assert_refused(
        &r,
        "password",
        "au moins 12 caractères",
        &[
            "value=\"dominique@ans.fr\"",
            "value=\"Dominique Instructeur\"",
            "<option value=\"instructor\" selected>",
        ],
    );
    assert!(!r.body.contains("court\""), "a password is never sent back");

    // Confirmation differs.
    let r = post(
        &mut c,
        base("instructor", "", "douze-caracteres", "autre-mot-de-passe"),
    )
    .await;
    assert_refused(
        &r,
        "password_confirmation",
        "ne correspond pas",
        &["value=\"dominique@ans.fr\""],
    );

    // A vendor without organisation.
    let r = post(
        &mut c,
        base("vendor", "", "douze-caracteres", "douze-caracteres"),
    )
    .await;
    assert_refused(
        &r,
        "organisation",
        "doit être rattaché",
        &["<option value=\"vendor\" selected>"],
    );

    // An instructor with one.
    let r = post(
        &mut c,
        base(
            "instructor",
            &org_id,
            "douze-caracteres",
            "douze-caracteres",
        ),
    )
    .await;
    assert_refused(
        &r,
        "organisation",
        "n'est rattaché à aucune organisation",
        &[&format!("<option value=\"{org_id}\" selected>")],
    );

    // No role, bad e-mail.
    let mut fields = base("", "", "douze-caracteres", "douze-caracteres");
    fields[0].1 = "pas-une-adresse".to_owned();
    let r = post(&mut c, fields).await;
    assert_refused(
        &r,
        "role",
        "Choisissez un rôle",
        &["value=\"pas-une-adresse\""],
    );
    assert!(r.body.contains("id=\"email-erreur\""));

    // A duplicate e-mail, in another case.
    app.user("dominique@ans.fr", Role::Instructor, None).await;
    let mut fields = base("admin", "", "douze-caracteres", "douze-caracteres");
    fields[0].1 = "Dominique@ANS.fr".to_owned();
    let r = post(&mut c, fields).await;
    assert_refused(
        &r,
        "email",
        "Un compte utilise déjà cette adresse",
        &["value=\"Dominique@ANS.fr\""],
    );
    assert_eq!(app.db.list_users(None).await.unwrap().len(), 2);
}

#[tokio::test]
async fn disabling_a_user_ends_its_sessions_and_reenabling_lets_it_back() {
    let app = TestApp::new().await;
    let org = app.organisation("Éditeur Alpha", SIREN_A).await;
    let mut vendor = app
        .signed_in("camille@alpha.fr", Role::Vendor, Some(org))
        .await;
    assert_eq!(vendor.get("/referencements").await.status, StatusCode::OK);
    let id = app
        .db
        .find_user_by_email("camille@alpha.fr")
        .await
        .unwrap()
        .unwrap()
        .id
        .0;

    let mut admin = admin_on(&app, "/admin/utilisateurs").await;
    let r = admin
        .post(&format!("/admin/utilisateurs/{id}/desactiver"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = admin.get("/admin/utilisateurs").await;
    assert!(page.body.contains("est désactivé"));
    assert!(
        page.body
            .contains(&format!("/admin/utilisateurs/{id}/reactiver"))
    );

    // The vendor's next request is anonymous.
    let r = vendor.get("/referencements").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/connexion"), "{}", r.location());
    let r = vendor.sign_in("camille@alpha.fr", PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a disabled account cannot sign in"
    );

    let r = admin
        .post(&format!("/admin/utilisateurs/{id}/reactiver"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = vendor.sign_in("camille@alpha.fr", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // Unknown or malformed ids are missing users.
    admin.get("/admin/utilisateurs").await;
    assert_eq!(
        admin
            .post("/admin/utilisateurs/999999/desactiver", &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin
            .post("/admin/utilisateurs/abc/desactiver", &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

// ---- the register -----------------------------------------------------------------------------

/// Two organisations, each with referencings, and a vendor of the first.
async fn two_vendors(app: &TestApp) -> (OrganisationId, OrganisationId) {
    let a = app.organisation("Éditeur Alpha", SIREN_A).await;
    let b = app.organisation("Éditeur Beta", SIREN_B).await;
    referencing(app, "REF-DPI-2-0001", a, "DPI", Wave::Two).await;
    referencing(app, "REF-MS2-PDE-1-0001", a, "MS2-PDE", Wave::One).await;
    referencing(app, "REF-DPI-2-0099", b, "DPI", Wave::Two).await;
    (a, b)
}

#[tokio::test]
async fn a_vendor_sees_only_its_own_referencings_and_staff_see_all() {
    let app = TestApp::new().await;
    let (a, _) = two_vendors(&app).await;
    let mut vendor = app
        .signed_in("camille@alpha.fr", Role::Vendor, Some(a))
        .await;
    let r = vendor.get("/referencements").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("REF-DPI-2-0001"));
    assert!(r.body.contains("REF-MS2-PDE-1-0001"));
    assert!(
        !r.body.contains("REF-DPI-2-0099"),
        "another organisation's NRU leaked"
    );
    assert!(!r.body.contains("Éditeur Beta"));
    assert!(r.body.contains("<caption>"));
    assert!(r.body.contains("class=\"tag valid\""));
    assert!(r.body.contains("Général, PDE"));

    // Filters by dispositif and status.
    let r = vendor
        .get("/referencements?dispositif=MS2-PDE-1&statut=valid")
        .await;
    assert!(r.body.contains("REF-MS2-PDE-1-0001"));
    assert!(!r.body.contains(">REF-DPI-2-0001<"));
    assert!(r.body.contains("<option value=\"MS2-PDE-1\" selected>"));
    let r = vendor.get("/referencements?statut=withdrawn").await;
    assert!(r.body.contains("Aucun référencement ne correspond"));

    let mut instructor = app
        .signed_in("dominique@ans.fr", Role::Instructor, None)
        .await;
    let r = instructor.get("/referencements").await;
    for nru in ["REF-DPI-2-0001", "REF-MS2-PDE-1-0001", "REF-DPI-2-0099"] {
        assert!(r.body.contains(nru), "{nru}");
    }
    assert!(r.body.contains("Éditeur Beta"));
    let r = instructor.get("/referencements?dispositif=DPI-2").await;
    assert!(r.body.contains("REF-DPI-2-0099") && !r.body.contains(">REF-MS2-PDE-1-0001<"));
}

#[tokio::test]
async fn another_organisations_nru_answers_exactly_like_a_missing_one() {
    let app = TestApp::new().await;
    let (a, _) = two_vendors(&app).await;
    let mut vendor = app
        .signed_in("camille@alpha.fr", Role::Vendor, Some(a))
        .await;

    let r = vendor.get("/referencements/REF-DPI-2-0001").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("A-core"));
    let r = vendor.get("/referencements/ref-dpi-2-0001").await;
    assert_eq!(r.status, StatusCode::OK, "NRUs are case-insensitive");

    let same_id = async |c: &mut Client, path: &str| {
        c.send(
            Request::get(path)
                .header("x-request-id", "identique")
                .body(Body::empty())
                .unwrap(),
        )
        .await
    };
    let other = same_id(&mut vendor, "/referencements/REF-DPI-2-0099").await;
    let missing = same_id(&mut vendor, "/referencements/REF-DPI-2-0042").await;
    let invalid = same_id(&mut vendor, "/referencements/pas%20un%20NRU").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(invalid.status, StatusCode::NOT_FOUND);
    assert_eq!(other.body, missing.body);
    assert_eq!(other.body, invalid.body);
    assert!(!other.body.contains("REF-DPI-2-0099"));

    // Staff read it.
    let mut instructor = app
        .signed_in("dominique@ans.fr", Role::Instructor, None)
        .await;
    assert_eq!(
        instructor
            .get("/referencements/REF-DPI-2-0099")
            .await
            .status,
        StatusCode::OK
    );
}

// ---- recording a referencing ------------------------------------------------------------------

fn referencing_form<'a>(org: &'a str, overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("nru", "REF-MS1-1-0007"),
        ("organisation", org),
        ("dispositif", "MS1-1"),
        ("profiles", "pa, PH"),
        ("solution", "Solution B"),
        ("main_component", "B-core"),
        ("version", "3.8.1"),
        ("commercial_names", "B\r\nB Social\r\n"),
        ("granted_on", "2024-06-03"),
        ("status", "valid"),
        ("status_reason", ""),
    ];
    for (k, v) in overrides {
        fields.iter_mut().find(|(f, _)| f == k).expect("a field").1 = v;
    }
    fields
}

#[tokio::test]
async fn an_administrator_records_a_referencing_obtained_elsewhere() {
    let app = TestApp::new().await;
    let org = app.organisation("Éditeur Alpha", SIREN_A).await;
    let org_id = org.0.to_string();
    let mut c = admin_on(&app, "/admin/referencements/nouveau").await;
    let page = c.get("/admin/referencements/nouveau").await;
    assert!(
        page.body.contains("<option value=\"DUI-MS-2\""),
        "vague-2 dispositifs listed"
    );
    assert!(
        page.body.contains("<option value=\"MS2-PDE-1\""),
        "vague-1 dispositifs listed"
    );
    assert!(page.body.contains("PA, PH, DOM"), "profiles hinted");

    let r = c
        .post("/admin/referencements", &referencing_form(&org_id, &[]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/referencements/REF-MS1-1-0007");
    let stored = app
        .db
        .find_referencing(&Nru::parse("REF-MS1-1-0007").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored
            .profiles
            .iter()
            .map(Profile::as_str)
            .collect::<Vec<_>>(),
        ["PA", "PH"]
    );
    assert_eq!(stored.commercial_names, ["B", "B Social"]);
    assert_eq!(stored.organisation, org);
    let detail = c.get("/referencements/REF-MS1-1-0007").await;
    assert!(detail.body.contains("a été enregistré"), "flash");
    assert!(detail.body.contains("B Social"));
    assert!(detail.body.contains("03/06/2024"));

    // A vague-2 one, suspended, with its reason.
    let r = c
        .post(
            "/admin/referencements",
            &referencing_form(
                &org_id,
                &[
                    ("nru", "REF-DUI-MS-2-0001"),
                    ("dispositif", "DUI-MS-2"),
                    ("profiles", "PDE"),
                    ("status", "suspended"),
                    ("status_reason", "Contrôle en cours"),
                ],
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let detail = c.get("/referencements/REF-DUI-MS-2-0001").await;
    assert!(detail.body.contains("Contrôle en cours"));
    assert!(detail.body.contains("class=\"tag suspended\""));
}

#[tokio::test]
async fn referencing_forms_are_re_displayed_with_field_messages() {
    let app = TestApp::new().await;
    let org = app.organisation("Éditeur Alpha", SIREN_A).await;
    let org_id = org.0.to_string();
    referencing(&app, "REF-DPI-2-0001", org, "DPI", Wave::Two).await;
    let mut c = admin_on(&app, "/admin/referencements/nouveau").await;

    let r = c
        .post(
            "/admin/referencements",
            &referencing_form(&org_id, &[("nru", "REF-DPI-2-0001")]),
        )
        .await;
    assert_refused(
        &r,
        "nru",
        "déjà enregistré",
        &["value=\"REF-DPI-2-0001\"", "value=\"B-core\"", "B Social"],
    );

    let r = c
        .post(
            "/admin/referencements",
            &referencing_form(&org_id, &[("profiles", "PA, XYZ")]),
        )
        .await;
    assert_refused(
        &r,
        "profiles",
        "Profil inconnu pour MS1 vague",
        &["value=\"PA, XYZ\"", "<option value=\"MS1-1\" selected>"],
    );
    assert!(
        r.body.contains("PA, PH, DOM"),
        "the allowed profiles are named"
    );

    let r = c
        .post(
            "/admin/referencements",
            &referencing_form(&org_id, &[("version", "4..2")]),
        )
        .await;
    assert_refused(&r, "version", "segment vide", &["value=\"4..2\""]);

    let r = c
        .post(
            "/admin/referencements",
            &referencing_form(&org_id, &[("granted_on", "2026-02-30")]),
        )
        .await;
    assert_refused(
        &r,
        "granted_on",
        "ce jour n'existe pas",
        &["value=\"2026-02-30\""],
    );

    let r = c
        .post(
            "/admin/referencements",
            &referencing_form(&org_id, &[("status", "withdrawn")]),
        )
        .await;
    assert_refused(
        &r,
        "status_reason",
        "Indiquez pourquoi",
        &["<option value=\"withdrawn\" selected>"],
    );

    let r = c
        .post(
            "/admin/referencements",
            &referencing_form(
                "",
                &[
                    ("nru", "REF DPI"),
                    ("dispositif", "NOPE-2"),
                    ("solution", " "),
                ],
            ),
        )
        .await;
    assert_refused(
        &r,
        "nru",
        "Le NRU «\u{a0}REF DPI\u{a0}» est invalide",
        &["value=\"REF DPI\""],
    );
    for field in ["organisation", "dispositif", "solution"] {
        assert!(
            r.body.contains(&format!("id=\"{field}-erreur\"")),
            "{field}"
        );
    }
    assert_eq!(app.db.list_referencings(None).await.unwrap().len(), 1);
}

// ---- authorisation ----------------------------------------------------------------------------

#[tokio::test]
async fn non_administrators_get_403_on_administration_pages() {
    let app = TestApp::new().await;
    let org = app.organisation("Éditeur Alpha", SIREN_A).await;
    let vendor = app
        .signed_in("camille@alpha.fr", Role::Vendor, Some(org))
        .await;
    let instructor = app
        .signed_in("dominique@ans.fr", Role::Instructor, None)
        .await;
    for mut c in [vendor, instructor] {
        c.get("/referencements").await; // the session's CSRF token
        for page in [
            "/admin",
            "/admin/organisations",
            "/admin/utilisateurs",
            "/admin/referencements/nouveau",
        ] {
            let r = c.get(page).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{page}");
            assert!(r.body.contains("Accès refusé"));
        }
        for path in [
            "/admin/organisations",
            "/admin/utilisateurs",
            "/admin/referencements",
            "/admin/utilisateurs/1/desactiver",
        ] {
            let r = c.post(path, &[("name", "X"), ("siren", SIREN_B)]).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {path}");
        }
    }
    assert_eq!(app.db.list_organisations().await.unwrap().len(), 1);
}

#[tokio::test]
async fn anonymous_users_are_sent_to_sign_in() {
    let app = TestApp::new().await;
    let mut c = app.client();
    for page in [
        "/admin",
        "/admin/organisations",
        "/admin/utilisateurs",
        "/referencements",
        "/referencements/REF-DPI-2-0001",
        "/admin/referencements/nouveau",
    ] {
        let r = c.get(page).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
        assert!(
            r.location().starts_with("/connexion?suivant=/"),
            "{page}: {}",
            r.location()
        );
    }
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused() {
    let app = TestApp::new().await;
    let mut c = admin_on(&app, "/admin/organisations").await;
    let r = c
        .send(
            Request::post("/admin/organisations")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("name=X&siren={SIREN_A}")))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = c
        .post(
            "/admin/organisations",
            &[("name", "X"), ("siren", SIREN_A), ("csrf", "0000")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.db.list_organisations().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_administration_index_links_every_page() {
    let app = TestApp::new().await;
    let mut c = admin_on(&app, "/admin").await;
    let r = c.get("/admin").await;
    for link in [
        "/admin/import",
        "/admin/organisations",
        "/admin/utilisateurs",
        "/referencements",
        "/admin/referencements/nouveau",
    ] {
        assert!(r.body.contains(&format!("href=\"{link}\"")), "{link}");
    }
    assert!(r.body.contains("aria-current=\"page\">Administration"));
}

#[tokio::test]
async fn a_status_change_without_reason_is_refused_next_to_its_field() {
    let app = TestApp::new().await;
    let org = app.organisation("Éditeur Alpha", SIREN_A).await;
    referencing(&app, "REF-DPI-2-0042", org, "DPI", Wave::Two).await;
    let mut c = admin_on(&app, "/referencements/REF-DPI-2-0042").await;
    let r = c
        .post(
            "/admin/referencements/REF-DPI-2-0042/statut",
            &[("statut", "withdrawn"), ("motif", "  ")],
        )
        .await;
    assert_refused(
        &r,
        "motif",
        "Indiquez pourquoi le référencement est retiré.",
        &["<option value=\"withdrawn\" selected>"],
    );
    // Nothing changed; the same form with a reason withdraws it.
    let stored = app
        .db
        .find_referencing(&Nru::parse("REF-DPI-2-0042").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ReferencingStatus::Valid);
    let r = c
        .post(
            "/admin/referencements/REF-DPI-2-0042/statut",
            &[
                ("statut", "withdrawn"),
                ("motif", "Fin de commercialisation"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let detail = c.follow(&r).await;
    assert!(detail.body.contains("est désormais retiré"), "flash");
    assert!(detail.body.contains("Fin de commercialisation"));
    let entries = app
        .db
        .audit_entries_for("referencing", "REF-DPI-2-0042")
        .await
        .unwrap();
    assert_eq!(entries.last().unwrap().action, "referencing.status");
}
