//! Server-side time of the public register page with 5,000 referencings (issue 5: under
//! 20 ms).
//!
//! The real router runs over a temporary SQLite database holding the demo catalogue and 5,000
//! referencings of 50 vendors; each iteration sends one anonymous request through
//! `tower::ServiceExt::oneshot` and reads the whole body: the first page (50 rows and the
//! total), a search by vendor name (case and accents ignored), and a filtered page further on.
//!
//! `cargo bench -p preuves_web --bench register_page`

use std::hint::black_box;
use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use criterion::{Criterion, criterion_group, criterion_main};
use preuves_db::{Actor, Db, NewReferencing};
use preuves_domain::{
    DispositifCode, DispositifKey, IsoDate, Nru, ReferencingStatus, Siren, Version, Wave,
};
use preuves_web::{AppState, WebConfig};
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// How many referencings the register holds.
const REFERENCINGS: usize = 5_000;
/// How many vendors hold them.
const VENDORS: usize = 50;

/// A valid SIREN (Luhn) for vendor `i`: eight digits and the check digit.
fn siren(i: usize) -> Siren {
    let body = format!("{:08}", 10_000_000 + i * 7);
    for check in 0..10 {
        if let Ok(s) = Siren::parse_checked(&format!("{body}{check}")) {
            return s;
        }
    }
    unreachable!("one check digit fits")
}

async fn fixture(dir: &Path) -> Router {
    let db = Db::connect(&Db::sqlite_url(&dir.join("bench.sqlite3")))
        .await
        .expect("database");
    let catalogue_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo/catalogue/catalogue.toml");
    let loaded =
        preuves_import::catalogue::load_catalogue(&catalogue_path).expect("demo catalogue");
    db.import_catalogue(&loaded.catalogue, &[], "demo", &Actor::System)
        .await
        .expect("catalogue import");
    let mut organisations = Vec::with_capacity(VENDORS);
    for i in 0..VENDORS {
        organisations.push(
            db.create_organisation(&format!("Éditeur Numéro {i}"), &siren(i), &Actor::System)
                .await
                .expect("organisation")
                .id,
        );
    }
    let dispositifs = [
        ("DPI", Wave::Two),
        ("DUI-MS", Wave::Two),
        ("DPI", Wave::One),
    ];
    for i in 0..REFERENCINGS {
        let (code, wave) = dispositifs[i % dispositifs.len()];
        db.insert_referencing(
            &NewReferencing {
                nru: Nru::parse(&format!("REF-{}-{}-{i:05}", code, wave.number())).expect("nru"),
                organisation: organisations[i % VENDORS],
                dispositif: DispositifKey {
                    code: DispositifCode::parse(code).expect("code"),
                    wave,
                },
                profiles: vec![],
                solution: format!("Solution {}", i % 300),
                main_component: format!("core-{}", i % 300),
                version: Version::parse("1.0").expect("version"),
                commercial_names: vec![format!("Nom commercial {i}")],
                granted_on: IsoDate::parse(&format!("2025-{:02}-{:02}", 1 + i % 12, 1 + i % 28))
                    .expect("date"),
                status: if i % 17 == 0 {
                    ReferencingStatus::Suspended
                } else {
                    ReferencingStatus::Valid
                },
                status_reason: (i % 17 == 0).then(|| "motif".to_owned()),
            },
            &Actor::System,
        )
        .await
        .expect("referencing");
    }
    preuves_web::router(AppState::new(
        db,
        WebConfig {
            secure_cookies: false,
            ..WebConfig::default()
        },
    ))
}

async fn get(router: &Router, path: &str) -> usize {
    let response = router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body")
        .len()
}

fn bench(c: &mut Criterion) {
    let runtime = Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let router = runtime.block_on(fixture(dir.path()));
    let first = runtime.block_on(async {
        let page = router
            .clone()
            .oneshot(
                Request::get("/registre")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("infallible");
        let bytes = axum::body::to_bytes(page.into_body(), usize::MAX)
            .await
            .expect("body");
        String::from_utf8_lossy(&bytes).into_owned()
    });
    assert!(
        first.contains("5\u{202f}000 référencement"),
        "the register holds 5,000 rows"
    );
    let mut group = c.benchmark_group("register_page");
    for (name, path) in [
        ("first_page", "/registre"),
        ("search_vendor", "/registre?q=editeur+numero+7"),
        (
            "filtered_page_10",
            "/registre?dispositif=DPI&vague=2&statut=valid&page=10",
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(runtime.block_on(get(&router, path))));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
