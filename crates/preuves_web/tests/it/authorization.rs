//! The authorization matrix: every route, for every role, with the status each must get, and a
//! check that no page shown to a vendor carries another organisation's data. A route added to
//! the router without a line here fails `every_route_is_in_the_matrix`.

use axum::http::StatusCode;
use preuves_db::{Actor, NewReferencing, Role};
use preuves_domain::{
    DispositifCode, DispositifKey, IsoDate, Nru, ReferencingStatus, Version, Wave,
};

use crate::support::{Client, TestApp};

/// What a role gets on a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 200.
    Ok,
    /// A redirect to the sign-in page.
    SignIn,
    /// A redirect elsewhere (sign-in page shown to a signed-in user).
    Redirect,
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 401 (the API's answer to a missing authentication).
    Unauthorized,
}

use Expect::{
    Forbidden as F, NotFound as N, Ok as O, Redirect as R, SignIn as S, Unauthorized as U,
};

const B_NAME: &str = "Bêta Santé Confidentiel";
const B_SIREN: &str = "552100554";
const B_NRU: &str = "REF-BETA-2-0002";
const B_EMAIL: &str = "vendeur-beta@example.fr";
const B_SOLUTION: &str = "Solution secrète Bêta";

struct World {
    app: TestApp,
    anonymous: Client,
    vendor: Client,
    instructor: Client,
    admin: Client,
    rem_version: i64,
    user_id: i64,
    /// Alpha's solution, draft, filed candidature and one proof of the draft.
    own: Journey,
    /// The same objects of Beta, another organisation.
    theirs: Journey,
}

/// A vendor's solution, a draft and a filed candidature, and a proof deposited on the draft.
struct Journey {
    solution: i64,
    draft: i64,
    filed: i64,
    proof: i64,
}

async fn journey(
    app: &TestApp,
    organisation: preuves_db::OrganisationId,
    solution: &str,
) -> Journey {
    use preuves_db::{AdministrativeStep, NewProof, SolutionFields};
    let db = &app.db;
    let s = db
        .create_solution(
            organisation,
            &SolutionFields {
                name: solution.to_owned(),
                main_component: format!("{solution}-core"),
                versions: vec!["5.0".to_owned()],
                commercial_names: vec![solution.to_owned()],
            },
            &Actor::System,
        )
        .await
        .unwrap();
    let target = DispositifKey {
        code: DispositifCode::parse("DUI-MS").unwrap(),
        wave: Wave::Two,
    };
    let step = AdministrativeStep {
        solution: s.id,
        optional_profiles: vec![],
        version: Version::parse("5.0").unwrap(),
        nrus: vec![],
        additional_components: vec![],
        commercial_names: vec![solution.to_owned()],
        honour_statement: None,
    };
    let draft = db
        .create_candidature(organisation, &target, &step, &Actor::System)
        .await
        .unwrap();
    let filed = db
        .create_candidature(organisation, &target, &step, &Actor::System)
        .await
        .unwrap();
    db.submit_candidature(organisation, filed.id, filed.revision, true, &Actor::System)
        .await
        .unwrap();
    let plan = db.candidature_plan(&draft).await.unwrap().unwrap();
    let entry = plan.entries.iter().find(|e| e.is_to_deposit()).unwrap();
    let key = preuves_storage::BlobKey::parse(format!("proofs/{}/matrix", draft.id)).unwrap();
    let blob = app
        .blobs
        .put_bytes(&key, &b"%PDF-1.4 matrix"[..])
        .await
        .unwrap();
    let proof = db
        .record_proof(
            organisation,
            draft.id,
            &NewProof {
                requirement: preuves_domain::RequirementId::parse(&entry.requirement).unwrap(),
                scenario_index: 0,
                proof_index: 0,
                blob_key: blob.key.into_string(),
                file_name: format!("{solution}.pdf"),
                content_type: "application/pdf".to_owned(),
                size: blob.size,
                sha256: blob.sha256,
            },
            &Actor::System,
        )
        .await
        .unwrap();
    Journey {
        solution: s.id.0,
        draft: draft.id.0,
        filed: filed.id.0,
        proof: proof.id.0,
    }
}

async fn referencing(app: &TestApp, nru: &str, organisation: preuves_db::OrganisationId) {
    app.db
        .insert_referencing(
            &NewReferencing {
                nru: Nru::parse(nru).unwrap(),
                organisation,
                dispositif: DispositifKey {
                    code: DispositifCode::parse("DPI").unwrap(),
                    wave: Wave::Two,
                },
                profiles: vec![],
                solution: format!("Solution {nru}"),
                main_component: "core".to_owned(),
                version: Version::parse("1.0").unwrap(),
                commercial_names: vec![format!("Nom {nru}")],
                granted_on: IsoDate::parse("2026-01-15").unwrap(),
                status: ReferencingStatus::Valid,
                status_reason: None,
            },
            &Actor::System,
        )
        .await
        .unwrap();
}

async fn world() -> World {
    let app = TestApp::new().await;
    let a = app.organisation("Alpha Logiciels", "732829320").await;
    let b = app.organisation(B_NAME, B_SIREN).await;
    referencing(&app, "REF-ALPHA-2-0001", a).await;
    referencing(&app, B_NRU, b).await;
    let beta = app.user(B_EMAIL, Role::Vendor, Some(b)).await;
    let own = journey(&app, a, "Solution Alpha").await;
    let theirs = journey(&app, b, B_SOLUTION).await;
    let vendor = app
        .signed_in("vendeur-alpha@example.fr", Role::Vendor, Some(a))
        .await;
    let instructor = app
        .signed_in("instructeur@example.fr", Role::Instructor, None)
        .await;
    let admin = app.signed_in("admin@example.fr", Role::Admin, None).await;
    let rem_version = app
        .db
        .list_dispositifs()
        .await
        .unwrap()
        .into_iter()
        .find_map(|d| d.current_rem)
        .expect("a REM version")
        .id
        .0;
    World {
        anonymous: app.client(),
        app,
        vendor,
        instructor,
        admin,
        rem_version,
        user_id: beta.id.0,
        own,
        theirs,
    }
}

/// `(route template, concrete path, [anonymous, vendor, instructor, admin])` for every GET.
fn get_matrix(w: &World) -> Vec<(&'static str, String, [Expect; 4])> {
    let v = w.rem_version;
    let (o, t) = (&w.own, &w.theirs);
    vec![
        ("/solutions", "/solutions".into(), [S, O, F, F]),
        (
            "/solutions/{id}",
            format!("/solutions/{}", o.solution),
            [S, O, F, F],
        ),
        (
            "/solutions/{id}",
            format!("/solutions/{}", t.solution),
            [S, N, F, F],
        ),
        ("/candidatures", "/candidatures".into(), [S, O, F, F]),
        (
            "/candidatures/nouvelle",
            "/candidatures/nouvelle".into(),
            [S, O, F, F],
        ),
        (
            "/candidatures/{id}",
            format!("/candidatures/{}", o.draft),
            [S, O, F, F],
        ),
        (
            "/candidatures/{id}",
            format!("/candidatures/{}", o.filed),
            [S, O, F, F],
        ),
        (
            "/candidatures/{id}",
            format!("/candidatures/{}", t.draft),
            [S, N, F, F],
        ),
        (
            "/candidatures/{id}",
            "/candidatures/99999".into(),
            [S, N, F, F],
        ),
        (
            "/candidatures/{id}/preuves",
            format!("/candidatures/{}/preuves", o.draft),
            [S, O, F, F],
        ),
        (
            "/candidatures/{id}/preuves",
            format!("/candidatures/{}/preuves", t.filed),
            [S, N, F, F],
        ),
        (
            "/candidatures/{id}/nru-obtenu",
            format!("/candidatures/{}/nru-obtenu", o.filed),
            [S, O, F, F],
        ),
        (
            "/candidatures/{id}/nru-obtenu",
            format!("/candidatures/{}/nru-obtenu", t.filed),
            [S, N, F, F],
        ),
        (
            "/candidatures/{id}/preuves/{proof}",
            format!("/candidatures/{}/preuves/{}", o.draft, o.proof),
            [S, O, F, F],
        ),
        (
            "/candidatures/{id}/preuves/{proof}",
            format!("/candidatures/{}/preuves/{}", o.draft, t.proof),
            [S, N, F, F],
        ),
        (
            "/candidatures/{id}/preuves/{proof}",
            format!("/candidatures/{}/preuves/{}", t.draft, t.proof),
            [S, N, F, F],
        ),
        ("/instruction", "/instruction".into(), [S, F, O, F]),
        (
            "/instruction/{id}",
            format!("/instruction/{}", o.filed),
            [S, F, O, F],
        ),
        (
            "/instruction/{id}",
            format!("/instruction/{}", o.draft),
            [S, F, N, F],
        ),
        (
            "/instruction/{id}/preuves/{proof}",
            format!("/instruction/{}/preuves/{}", o.draft, o.proof),
            [S, F, N, F],
        ),
        ("/registre", "/registre".into(), [O, O, O, O]),
        ("/registre.csv", "/registre.csv".into(), [O, O, O, O]),
        ("/registre.json", "/registre.json".into(), [O, O, O, O]),
        ("/verifier", "/verifier".into(), [O, O, O, O]),
        (
            "/verifier/{nru}",
            "/verifier/REF-ALPHA-2-0001".into(),
            [O, O, O, O],
        ),
        (
            "/referencements/{nru}/attestation",
            "/referencements/REF-ALPHA-2-0001/attestation".into(),
            [S, N, N, N],
        ),
        ("/", "/".into(), [O, O, O, O]),
        ("/static/app.css", "/static/app.css".into(), [O, O, O, O]),
        ("/static/app.js", "/static/app.js".into(), [O, O, O, O]),
        ("/aide", "/aide".into(), [O, O, O, O]),
        ("/aide/{page}", "/aide/editeur".into(), [O, O, O, O]),
        ("/aide/{page}", "/aide/inconnue".into(), [N, N, N, N]),
        (
            "/aide/captures/{file}",
            "/aide/captures/inexistante.png".into(),
            [N, N, N, N],
        ),
        ("/connexion", "/connexion".into(), [O, R, R, R]),
        ("/health", "/health".into(), [O, O, O, O]),
        ("/health/live", "/health/live".into(), [O, O, O, O]),
        ("/health/ready", "/health/ready".into(), [O, O, O, O]),
        ("/admin", "/admin".into(), [S, F, F, O]),
        (
            "/admin/organisations",
            "/admin/organisations".into(),
            [S, F, F, O],
        ),
        (
            "/admin/utilisateurs",
            "/admin/utilisateurs".into(),
            [S, F, F, O],
        ),
        ("/referencements", "/referencements".into(), [S, O, O, O]),
        (
            "/referencements/{nru}",
            "/referencements/REF-ALPHA-2-0001".into(),
            [S, O, O, O],
        ),
        (
            "/referencements/{nru}",
            format!("/referencements/{B_NRU}"),
            [S, N, O, O],
        ),
        (
            "/referencements/{nru}",
            "/referencements/REF-NOPE-2-0009".into(),
            [S, N, N, N],
        ),
        (
            "/admin/referencements/nouveau",
            "/admin/referencements/nouveau".into(),
            [S, F, F, O],
        ),
        ("/catalogue", "/catalogue".into(), [O, O, O, O]),
        (
            "/catalogue/{code}/{wave}",
            "/catalogue/DUI-MS/2".into(),
            [O, O, O, O],
        ),
        (
            "/catalogue/{code}/{wave}",
            "/catalogue/DUI-MS/3".into(),
            [N, N, N, N],
        ),
        (
            "/catalogue/{code}/{wave}/exigence",
            "/catalogue/DUI-MS/2/exigence?id=INS%2Fva1.01".into(),
            [O, O, O, O],
        ),
        ("/admin/import", "/admin/import".into(), [S, F, F, O]),
        (
            "/admin/import/{id}",
            format!("/admin/import/{v}"),
            [S, F, F, O],
        ),
        ("/compte/jetons", "/compte/jetons".into(), [S, O, O, O]),
        (
            "/compte/mot-de-passe",
            "/compte/mot-de-passe".into(),
            [S, O, O, O],
        ),
    ]
}

/// Every POST route, with a concrete path; only an administrator may use them, apart from the
/// sign-in and sign-out forms (tested elsewhere).
fn post_routes(w: &World) -> Vec<(&'static str, String)> {
    let u = w.user_id;
    vec![
        ("/admin/organisations", "/admin/organisations".into()),
        ("/admin/utilisateurs", "/admin/utilisateurs".into()),
        (
            "/admin/utilisateurs/{id}/desactiver",
            format!("/admin/utilisateurs/{u}/desactiver"),
        ),
        (
            "/admin/utilisateurs/{id}/reactiver",
            format!("/admin/utilisateurs/{u}/reactiver"),
        ),
        (
            "/admin/utilisateurs/{id}/debloquer",
            format!("/admin/utilisateurs/{u}/debloquer"),
        ),
        ("/admin/referencements", "/admin/referencements".into()),
        ("/admin/import", "/admin/import".into()),
        ("/admin/import/confirmer", "/admin/import/confirmer".into()),
        (
            "/admin/referencements/{nru}/statut",
            format!("/admin/referencements/{B_NRU}/statut"),
        ),
    ]
}

fn check(expect: Expect, status: StatusCode, location: &str, what: &str) {
    let ok = match expect {
        Expect::Ok => status == StatusCode::OK,
        Expect::SignIn => status.is_redirection() && location.starts_with("/connexion"),
        Expect::Redirect => status.is_redirection() && !location.starts_with("/connexion"),
        Expect::Forbidden => status == StatusCode::FORBIDDEN,
        Expect::NotFound => status == StatusCode::NOT_FOUND,
        Expect::Unauthorized => status == StatusCode::UNAUTHORIZED,
    };
    assert!(
        ok,
        "{what}: expected {expect:?}, got {status} (location {location:?})"
    );
}

#[tokio::test]
async fn every_role_gets_what_it_may_on_every_page_and_nothing_of_another_organisation() {
    let mut w = world().await;
    for (_, path, expected) in get_matrix(&w) {
        // The public register and verification show every organisation's referencings: that
        // is their purpose.
        let public = path.starts_with("/registre") || path.starts_with("/verifier");
        for (i, role) in ["anonyme", "éditeur", "instructeur", "administrateur"]
            .into_iter()
            .enumerate()
        {
            let client = match i {
                0 => &mut w.anonymous,
                1 => &mut w.vendor,
                2 => &mut w.instructor,
                _ => &mut w.admin,
            };
            let r = client.get(&path).await;
            check(
                expected[i],
                r.status,
                r.location(),
                &format!("GET {path} as {role}"),
            );
            if i == 1 && !public {
                for secret in [B_NAME, B_SIREN, B_NRU, B_EMAIL, B_SOLUTION] {
                    assert!(
                        !r.body.contains(secret),
                        "GET {path} shows the vendor {secret}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn another_organisation_s_referencing_looks_exactly_missing() {
    let w = world().await;
    let get = |path: &str| {
        let req = axum::http::Request::get(path)
            .header("x-request-id", "fixed-id")
            .body(axum::body::Body::empty())
            .unwrap();
        let mut c = w.vendor.clone();
        async move { c.send(req).await }
    };
    let theirs = get(&format!("/referencements/{B_NRU}")).await;
    let missing = get("/referencements/REF-NOPE-2-0009").await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(theirs.status, missing.status);
    assert_eq!(theirs.body, missing.body);
}

#[tokio::test]
async fn only_administrators_may_post_to_admin_routes() {
    let mut w = world().await;
    let before = w.app.db.audit_entries(0, 10_000).await.unwrap().len();
    for (_, path) in post_routes(&w) {
        for (role, client) in [
            ("éditeur", &mut w.vendor),
            ("instructeur", &mut w.instructor),
        ] {
            let r = client
                .post(&path, &[("nom", "x"), ("siren", "732829320")])
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {path} as {role}");
        }
        let r = w.anonymous.post(&path, &[("nom", "x")]).await;
        assert!(
            r.status == StatusCode::FORBIDDEN
                || (r.status.is_redirection() && r.location().starts_with("/connexion")),
            "POST {path} anonymously: {}",
            r.status
        );
    }
    let after = w.app.db.audit_entries(0, 10_000).await.unwrap().len();
    assert_eq!(before, after, "no refused request changed anything");
}

#[test]
fn every_route_is_in_the_matrix() {
    let source = include_str!("../../src/routes/mod.rs");
    let declared: Vec<&str> = source
        .split(".route(")
        .skip(1)
        .filter_map(|s| s.trim_start().strip_prefix('"'))
        .filter_map(|s| s.split('"').next())
        .collect();
    assert!(declared.len() >= 20, "parsed {declared:?}");
    let mut known: Vec<&str> = vec!["/connexion", "/deconnexion"];
    // The matrices' route templates, without building a world.
    let gets = [
        "/",
        "/static/app.css",
        "/static/app.js",
        "/aide",
        "/aide/{page}",
        "/aide/captures/{file}",
        "/health",
        "/health/live",
        "/health/ready",
        "/admin",
        "/admin/organisations",
        "/admin/utilisateurs",
        "/referencements",
        "/referencements/{nru}",
        "/admin/referencements/nouveau",
        "/catalogue",
        "/catalogue/{code}/{wave}",
        "/catalogue/{code}/{wave}/exigence",
        "/admin/import",
        "/admin/import/{id}",
        "/solutions",
        "/solutions/{id}",
        "/candidatures",
        "/candidatures/nouvelle",
        "/candidatures/{id}",
        "/candidatures/{id}/preuves",
        "/candidatures/{id}/nru-obtenu",
        "/candidatures/{id}/preuves/{proof}",
        "/instruction",
        "/instruction/{id}",
        "/instruction/{id}/preuves/{proof}",
        "/registre",
        "/registre.csv",
        "/registre.json",
        "/verifier",
        "/verifier/{nru}",
        "/referencements/{nru}/attestation",
        "/compte/jetons",
        "/compte/mot-de-passe",
    ];
    // A user's own tokens (another user's token is a 404: tested in `api_tokens`) and password
    // (tested in `security`).
    let account_posts = [
        "/compte/jetons",
        "/compte/jetons/{id}/revoquer",
        "/compte/mot-de-passe",
    ];
    known.extend(account_posts);
    let posts = [
        "/admin/organisations",
        "/admin/utilisateurs",
        "/admin/utilisateurs/{id}/desactiver",
        "/admin/utilisateurs/{id}/reactiver",
        "/admin/utilisateurs/{id}/debloquer",
        "/admin/referencements",
        "/admin/import",
        "/admin/import/confirmer",
    ];
    let vendor_posts = [
        "/solutions",
        "/solutions/{id}",
        "/candidatures/nouvelle",
        "/candidatures/{id}",
        "/candidatures/{id}/deposer",
        "/candidatures/{id}/nru-obtenu",
        "/candidatures/{id}/preuves",
        "/candidatures/{id}/attestation-honneur",
        "/candidatures/{id}/complements",
        "/instruction/{id}/prendre",
        "/instruction/{id}/attribuer",
        "/instruction/{id}/preuves/{proof}/verdict",
        "/instruction/{id}/complements",
        "/instruction/{id}/refuser",
        "/instruction/{id}/referencer",
        "/admin/referencements/{nru}/statut",
    ];
    known.extend(gets);
    known.extend(vendor_posts);
    known.extend(posts);
    for route in declared {
        assert!(
            known.contains(&route),
            "route {route} is missing from the authorization matrix"
        );
    }
}

/// Every vendor POST route on another organisation's objects (404, nothing changed) and by staff
/// (403) or anonymously (sign-in), with a valid CSRF token each time.
#[tokio::test]
async fn vendor_routes_refuse_staff_and_other_organisations() {
    let mut w = world().await;
    let t = &w.theirs;
    let theirs = [
        format!("/solutions/{}", t.solution),
        format!("/candidatures/{}", t.draft),
        format!("/candidatures/{}/deposer", t.draft),
        format!("/candidatures/{}/nru-obtenu", t.filed),
        format!("/candidatures/{}/preuves", t.draft),
        format!("/candidatures/{}/attestation-honneur", t.draft),
        format!("/candidatures/{}/complements", t.filed),
    ];
    let fields = [
        ("name", "x"),
        ("main_component", "x"),
        ("revision", "1"),
        ("nrus", "REF-ALPHA-2-0001"),
        ("action", "enregistrer"),
        ("confirmer_incomplet", "oui"),
    ];
    let before = w.app.db.audit_entries(0, 100_000).await.unwrap().len();
    for path in &theirs {
        let r = w.vendor.post(path, &fields).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "POST {path} as the other vendor"
        );
        if !(path.ends_with("/preuves") || path.ends_with("/attestation-honneur")) {
            continue;
        }
        let r = w
            .vendor
            .upload(
                path,
                &[
                    ("revision", "1"),
                    ("exigence", "X"),
                    ("scenario", "0"),
                    ("preuve", "0"),
                ],
                "a.pdf",
                b"%PDF-1.4",
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "upload to {path} as the other vendor"
        );
    }
    let mut all = theirs.to_vec();
    all.extend(["/solutions".to_owned(), "/candidatures/nouvelle".to_owned()]);
    for path in &all {
        for (role, client) in [
            ("instructeur", &mut w.instructor),
            ("administrateur", &mut w.admin),
        ] {
            let r = client.post(path, &fields).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {path} as {role}");
        }
        let r = w.anonymous.post(path, &fields).await;
        assert!(
            r.status == StatusCode::FORBIDDEN
                || (r.status.is_redirection() && r.location().starts_with("/connexion")),
            "POST {path} anonymously: {}",
            r.status
        );
    }
    let after = w.app.db.audit_entries(0, 100_000).await.unwrap().len();
    assert_eq!(before, after, "no refused request changed anything");
}

/// The instruction routes: only instructors act; vendors and administrators get 403, anonymous
/// users the sign-in page; an instructor acting on a draft (nothing filed) gets 404.
#[tokio::test]
async fn only_instructors_may_instruct() {
    let mut w = world().await;
    let o = &w.own;
    let paths = [
        format!("/instruction/{}/prendre", o.filed),
        format!("/instruction/{}/attribuer", o.filed),
        format!("/instruction/{}/preuves/{}/verdict", o.filed, o.proof),
        format!("/instruction/{}/complements", o.filed),
        format!("/instruction/{}/refuser", o.filed),
        format!("/instruction/{}/referencer", o.filed),
    ];
    let fields = [("verdict", "compliant"), ("motif", "x"), ("message", "x")];
    let before = w.app.db.audit_entries(0, 100_000).await.unwrap().len();
    for path in &paths {
        for (role, client) in [("éditeur", &mut w.vendor), ("administrateur", &mut w.admin)] {
            let r = client.post(path, &fields).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "POST {path} as {role}");
        }
        let r = w.anonymous.post(path, &fields).await;
        assert!(
            r.status == StatusCode::FORBIDDEN
                || (r.status.is_redirection() && r.location().starts_with("/connexion")),
            "POST {path} anonymously: {}",
            r.status
        );
        let draft = path.replace(&format!("/{}/", o.filed), &format!("/{}/", o.draft));
        let r = w.instructor.post(&draft, &fields).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "POST {draft} on a draft");
    }
    assert_eq!(
        before,
        w.app.db.audit_entries(0, 100_000).await.unwrap().len()
    );
}

// ---- the JSON API -------------------------------------------------------------------------

/// `(route template as routed, concrete path, [anonymous, vendor, instructor, admin])` for every
/// GET route of the API, with bearer tokens of the world's users.
fn api_get_matrix(w: &World) -> Vec<(&'static str, String, [Expect; 4])> {
    let (o, t) = (&w.own, &w.theirs);
    let c = "/api/v1/candidatures";
    let i = "/api/v1/instruction/candidatures";
    vec![
        (
            "/api/openapi.json",
            "/api/openapi.json".into(),
            [O, O, O, O],
        ),
        ("/api/v1/me", "/api/v1/me".into(), [U, O, O, O]),
        (
            "/api/v1/dispositifs",
            "/api/v1/dispositifs".into(),
            [O, O, O, O],
        ),
        (
            "/api/v1/dispositifs/{code}/{wave}",
            "/api/v1/dispositifs/DUI-MS/2".into(),
            [O, O, O, O],
        ),
        (
            "/api/v1/dispositifs/{code}/{wave}",
            "/api/v1/dispositifs/DUI-MS/3".into(),
            [N, N, N, N],
        ),
        (
            "/api/v1/dispositifs/{code}/{wave}/rem-versions",
            "/api/v1/dispositifs/DUI-MS/2/rem-versions".into(),
            [O, O, O, O],
        ),
        (
            "/api/v1/dispositifs/{code}/{wave}/requirements",
            "/api/v1/dispositifs/DUI-MS/2/requirements".into(),
            [O, O, O, O],
        ),
        (
            "/api/v1/dispositifs/{code}/{wave}/requirements/{*id}",
            "/api/v1/dispositifs/DUI-MS/2/requirements/INS/va1.01".into(),
            [O, O, O, O],
        ),
        (
            "/api/v1/solutions",
            "/api/v1/solutions".into(),
            [U, O, F, F],
        ),
        (
            "/api/v1/solutions/{id}",
            format!("/api/v1/solutions/{}", o.solution),
            [U, O, F, F],
        ),
        (
            "/api/v1/solutions/{id}",
            format!("/api/v1/solutions/{}", t.solution),
            [U, N, F, F],
        ),
        (
            "/api/v1/referencings",
            "/api/v1/referencings".into(),
            [U, O, O, O],
        ),
        (
            "/api/v1/referencings/{nru}",
            "/api/v1/referencings/REF-ALPHA-2-0001".into(),
            [U, O, O, O],
        ),
        (
            "/api/v1/referencings/{nru}",
            format!("/api/v1/referencings/{B_NRU}"),
            [U, N, O, O],
        ),
        // Recorded from elsewhere: no attestation (a granted one is fetched in `api_journey`).
        (
            "/api/v1/referencings/{nru}/attestation",
            "/api/v1/referencings/REF-ALPHA-2-0001/attestation".into(),
            [U, N, N, N],
        ),
        (
            "/api/v1/referencings/{nru}/attestation",
            format!("/api/v1/referencings/{B_NRU}/attestation"),
            [U, N, N, N],
        ),
        ("/api/v1/register", "/api/v1/register".into(), [O, O, O, O]),
        (
            "/api/v1/verification/{nru}",
            format!("/api/v1/verification/{B_NRU}"),
            [O, O, O, O],
        ),
        ("/api/v1/candidatures", c.into(), [U, O, F, F]),
        (
            "/api/v1/candidatures/{id}",
            format!("{c}/{}", o.draft),
            [U, O, F, F],
        ),
        (
            "/api/v1/candidatures/{id}",
            format!("{c}/{}", t.draft),
            [U, N, F, F],
        ),
        (
            "/api/v1/candidatures/{id}",
            format!("{c}/99999"),
            [U, N, F, F],
        ),
        (
            "/api/v1/candidatures/{id}/plan",
            format!("{c}/{}/plan", o.filed),
            [U, O, F, F],
        ),
        (
            "/api/v1/candidatures/{id}/plan",
            format!("{c}/{}/plan", t.filed),
            [U, N, F, F],
        ),
        (
            "/api/v1/candidatures/{id}/proofs",
            format!("{c}/{}/proofs", o.draft),
            [U, O, F, F],
        ),
        (
            "/api/v1/candidatures/{id}/proofs",
            format!("{c}/{}/proofs", t.draft),
            [U, N, F, F],
        ),
        (
            "/api/v1/candidatures/{id}/proofs/{proof}/file",
            format!("{c}/{}/proofs/{}/file", o.draft, o.proof),
            [U, O, F, F],
        ),
        (
            "/api/v1/candidatures/{id}/proofs/{proof}/file",
            format!("{c}/{}/proofs/{}/file", o.draft, t.proof),
            [U, N, F, F],
        ),
        (
            "/api/v1/candidatures/{id}/proofs/{proof}/file",
            format!("{c}/{}/proofs/{}/file", t.draft, t.proof),
            [U, N, F, F],
        ),
        (
            "/api/v1/candidatures/{id}/complement-requests",
            format!("{c}/{}/complement-requests", o.filed),
            [U, O, F, F],
        ),
        (
            "/api/v1/candidatures/{id}/complement-requests",
            format!("{c}/{}/complement-requests", t.filed),
            [U, N, F, F],
        ),
        (
            "/api/v1/instruction/queue",
            "/api/v1/instruction/queue".into(),
            [U, F, O, F],
        ),
        (
            "/api/v1/instruction/candidatures/{id}",
            format!("{i}/{}", t.filed),
            [U, F, O, F],
        ),
        (
            "/api/v1/instruction/candidatures/{id}",
            format!("{i}/{}", t.draft),
            [U, F, N, F],
        ),
        (
            "/api/v1/instruction/candidatures/{id}/proofs/{proof}/file",
            format!("{i}/{}/proofs/{}/file", t.draft, t.proof),
            [U, F, N, F],
        ),
        (
            "/api/v1/instruction/candidatures/{id}/history",
            format!("{i}/{}/history", o.filed),
            [U, F, O, F],
        ),
    ]
}

/// The API's write routes as routed (their checks, role by role and scope by scope, are in
/// `api_tokens::a_read_only_token_writes_nothing_and_no_token_crosses_organisations`; the public
/// simulation is in `api_simulations`).
const API_WRITES: [(&str, &str); 16] = [
    ("post", "/api/v1/solutions"),
    ("put", "/api/v1/solutions/{id}"),
    ("post", "/api/v1/candidatures"),
    ("put", "/api/v1/candidatures/{id}/administrative-step"),
    ("post", "/api/v1/candidatures/{id}/proofs"),
    ("put", "/api/v1/candidatures/{id}/honour-statement"),
    ("post", "/api/v1/candidatures/{id}/submission"),
    ("post", "/api/v1/candidatures/{id}/late-nrus"),
    ("post", "/api/v1/candidatures/{id}/complement-answer"),
    ("post", "/api/v1/instruction/candidatures/{id}/take"),
    ("post", "/api/v1/instruction/candidatures/{id}/assignment"),
    (
        "put",
        "/api/v1/instruction/candidatures/{id}/proofs/{proof}/verdict",
    ),
    (
        "post",
        "/api/v1/instruction/candidatures/{id}/complement-requests",
    ),
    ("post", "/api/v1/instruction/candidatures/{id}/refusal"),
    ("post", "/api/v1/instruction/candidatures/{id}/grant"),
    ("post", "/api/v1/simulations"),
];

#[test]
fn every_api_route_is_in_the_matrix() {
    let gets: Vec<&str> = {
        // The matrix's templates, without building a world.
        let src = include_str!("authorization.rs");
        let start = src.find("fn api_get_matrix").unwrap();
        let end = src.find("const API_WRITES").unwrap();
        src[start..end]
            .split("\"/api/")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .collect()
    };
    // The router's routes, as the document states them (one declaration each).
    let declared = crate::api::documented_routes();
    for (method, path) in &declared {
        let known = if method == "get" {
            gets.iter().any(|g| format!("/api/{g}") == *path)
        } else {
            API_WRITES.contains(&(method.as_str(), path.as_str()))
        };
        assert!(
            known,
            "{method} {path} is missing from the API's authorization matrix"
        );
    }
    assert!(declared.len() > 30, "parsed {} routes", declared.len());
}

#[tokio::test]
async fn every_role_gets_what_it_may_on_every_api_route_and_nothing_of_another_organisation() {
    use preuves_db::TokenScope;
    let w = world().await;
    let mut apis = vec![crate::api::Api::new(&w.app, None)];
    for email in [
        "vendeur-alpha@example.fr",
        "instructeur@example.fr",
        "admin@example.fr",
    ] {
        let user = w.app.db.find_user_by_email(email).await.unwrap().unwrap();
        let token = crate::api::token_for(&w.app, &user, TokenScope::Read).await;
        apis.push(crate::api::Api::new(&w.app, Some(&token)));
    }
    for (template, path, expected) in api_get_matrix(&w) {
        let public = template.starts_with("/api/v1/register")
            || template.starts_with("/api/v1/verification");
        for (i, role) in ["anonyme", "éditeur", "instructeur", "administrateur"]
            .into_iter()
            .enumerate()
        {
            let r = apis[i].get(&path).await;
            check(expected[i], r.status, "", &format!("GET {path} as {role}"));
            if i == 1 && !public {
                for secret in [B_NAME, B_SIREN, B_NRU, B_EMAIL, B_SOLUTION] {
                    assert!(
                        !r.text.contains(secret),
                        "GET {path} shows the vendor {secret}"
                    );
                }
            }
        }
    }
}
