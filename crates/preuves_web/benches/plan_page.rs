//! Server-side time of the vendor's plan pages (issue 4: median under 5 ms).
//!
//! The webinar's case 3: a draft DUI-MS vague-2 candidature of solution A, version 4.3, profile
//! PDE, citing REF-DPI-2-0001 (DPI vague 2) and REF-MS2-PDE-1-0001 (MS2-PDE vague 1), with the
//! additional component "Module INS" on chapter INS and the names A / A Santé / A Social. The
//! real router runs over a temporary SQLite database holding the demo catalogue; each iteration
//! sends one request through `tower::ServiceExt::oneshot` with a signed-in vendor's session
//! cookie and reads the whole body: session lookup, plan computation and rendering included,
//! the network excluded (see `scripts/load/plan-page.sh` for the whole server).
//!
//! `cargo bench -p preuves_web --bench plan_page`

use std::hint::black_box;
use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use criterion::{Criterion, criterion_group, criterion_main};
use preuves_db::{
    Actor, AdministrativeStep, Db, NewReferencing, NewSession, NewUser, Role, SolutionFields,
    Timestamp, TokenHash,
};
use preuves_domain::{
    AdditionalComponent, ChapterCode, DispositifCode, DispositifKey, IsoDate, Nru, Profile,
    ReferencingStatus, Siren, Version, Wave,
};
use preuves_web::security::SESSION_COOKIE;
use preuves_web::{AppState, WebConfig};
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// The demonstration vendor's SIREN (as `serve --demo`).
const SIREN: &str = "732829320";

/// The platform with the case-3 draft, and what a signed-in vendor sends.
struct Fixture {
    router: Router,
    /// `preuves_session=<token>`.
    cookie: String,
    /// The draft's id.
    candidature: i64,
    /// Keeps the database file alive.
    _dir: tempfile::TempDir,
}

fn key(code: &str, wave: Wave) -> DispositifKey {
    DispositifKey {
        code: DispositifCode::parse(code).expect("dispositif code"),
        wave,
    }
}

/// The database, the two referencings of `serve --demo`, a vendor, its session and the draft.
async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::connect(&Db::sqlite_url(&dir.path().join("bench.sqlite3")))
        .await
        .expect("database");
    let catalogue_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/catalogue/catalogue.toml");
    let loaded =
        preuves_import::catalogue::load_catalogue(&catalogue_path).expect("demo catalogue");
    db.import_catalogue(&loaded.catalogue, &[], "demo", &Actor::System)
        .await
        .expect("catalogue import");

    let organisation = db
        .create_organisation(
            "Éditeur Démo SAS",
            &Siren::parse_checked(SIREN).expect("siren"),
            &Actor::System,
        )
        .await
        .expect("organisation")
        .id;
    let referencings = [
        (
            "REF-DPI-2-0001",
            key("DPI", Wave::Two),
            vec![],
            "4.2",
            "2026-01-15",
        ),
        (
            "REF-MS2-PDE-1-0001",
            key("MS2-PDE", Wave::One),
            vec![Profile::parse("PDE").expect("profile")],
            "3.8",
            "2024-06-03",
        ),
    ];
    for (nru, dispositif, profiles, version, granted) in referencings {
        db.insert_referencing(
            &NewReferencing {
                nru: Nru::parse(nru).expect("nru"),
                organisation,
                dispositif,
                profiles,
                solution: "A".to_owned(),
                main_component: "A-core".to_owned(),
                version: Version::parse(version).expect("version"),
                commercial_names: vec!["A".to_owned()],
                granted_on: IsoDate::parse(granted).expect("date"),
                status: ReferencingStatus::Valid,
                status_reason: None,
            },
            &Actor::System,
        )
        .await
        .expect("referencing");
    }

    // The session is a row, as sign-in creates it: the cookie holds the raw token, the database
    // its hash. The account never signs in with a password, so no argon2 hash is needed.
    let user = db
        .create_user(
            &NewUser {
                email: "editeur@bench.preuves.fr",
                display_name: "Éditeur du banc",
                role: Role::Vendor,
                organisation: Some(organisation),
                password_hash: "not-a-password-hash",
            },
            &Actor::System,
        )
        .await
        .expect("user");
    let token = preuves_web::security::random_token().expect("token");
    let csrf = preuves_web::security::random_token().expect("csrf token");
    let now = Timestamp::now();
    db.create_session(
        &NewSession {
            token_hash: &TokenHash::of(&token),
            user: user.id,
            csrf_token: &csrf,
            now,
            // Long enough for any run; the layer only touches it once a minute.
            expires_at: now.plus(std::time::Duration::from_secs(24 * 3600)),
        },
        &Actor::System,
    )
    .await
    .expect("session");

    let solution = db
        .create_solution(
            organisation,
            &SolutionFields {
                name: "A".to_owned(),
                main_component: "A-core".to_owned(),
                versions: vec!["4.2".to_owned(), "4.3".to_owned()],
                commercial_names: vec!["A".to_owned(), "A Santé".to_owned(), "A Social".to_owned()],
            },
            &Actor::System,
        )
        .await
        .expect("solution");
    let step = AdministrativeStep {
        solution: solution.id,
        optional_profiles: vec![Profile::parse("PDE").expect("profile")],
        version: Version::parse("4.3").expect("version"),
        nrus: ["REF-DPI-2-0001", "REF-MS2-PDE-1-0001"]
            .iter()
            .map(|n| Nru::parse(n).expect("nru"))
            .collect(),
        additional_components: vec![AdditionalComponent {
            name: "Module INS".to_owned(),
            chapters: vec![ChapterCode::parse("INS").expect("chapter")],
        }],
        commercial_names: vec!["A".to_owned(), "A Santé".to_owned(), "A Social".to_owned()],
        honour_statement: None,
    };
    let draft = db
        .create_candidature(
            organisation,
            &key("DUI-MS", Wave::Two),
            &step,
            &Actor::System,
        )
        .await
        .expect("candidature");

    let router = preuves_web::router(AppState::new(
        db,
        WebConfig {
            secure_cookies: false,
            ..WebConfig::default()
        },
    ));
    Fixture {
        router,
        cookie: format!("{SESSION_COOKIE}={token}"),
        candidature: draft.id.0,
        _dir: dir,
    }
}

/// `GET path` with the session cookie; the status and the whole body.
async fn get(router: &Router, cookie: &str, path: &str) -> (StatusCode, axum::body::Bytes) {
    let request = Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, body)
}

/// Checks once that `path` answers 200 with `needle` in its page.
fn check(rt: &Runtime, f: &Fixture, path: &str, needle: &str) {
    let (status, body) = rt.block_on(get(&f.router, &f.cookie, path));
    let html = String::from_utf8_lossy(&body);
    assert_eq!(status, StatusCode::OK, "GET {path}: {html}");
    assert!(
        html.contains(needle),
        "GET {path}: `{needle}` not in the page:\n{html}"
    );
}

fn plan_page(c: &mut Criterion) {
    // Two workers, like the 2-core machine the targets are set on.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let f = rt.block_on(fixture());
    let plan = format!("/candidatures/{}", f.candidature);
    let proofs = format!("/candidatures/{}/preuves", f.candidature);
    // The case-3 plan (77 requirements in scope) and the deposit forms.
    check(&rt, &f, &plan, "data-in-scope=\"77\"");
    check(&rt, &f, &proofs, "name=\"exigence\"");

    let mut group = c.benchmark_group("plan_page");
    group.bench_function("candidature_case3", |b| {
        b.iter(|| black_box(rt.block_on(get(&f.router, &f.cookie, black_box(&plan)))));
    });
    group.bench_function("candidature_case3_preuves", |b| {
        b.iter(|| black_box(rt.block_on(get(&f.router, &f.cookie, black_box(&proofs)))));
    });
    group.finish();
}

criterion_group!(benches, plan_page);
criterion_main!(benches);
