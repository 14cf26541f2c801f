//! Test databases: a temp-file SQLite always, and a per-test PostgreSQL database created through
//! the administrative URL in `PREUVES_TEST_POSTGRES_URL` (dropped at the end, even on failure).

use std::future::Future;
use std::io::Write as _;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use preuves_db::{Backend, Db};
use sqlx::{Connection, Executor};

const POSTGRES_VAR: &str = "PREUVES_TEST_POSTGRES_URL";

static SKIP_NOTICE: Once = Once::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh, migrated database that cleans up after itself.
pub(crate) struct TestDb {
    pub(crate) db: Db,
    cleanup: Cleanup,
}

enum Cleanup {
    /// The temp folder holding the SQLite file, deleted on drop.
    Sqlite(tempfile::TempDir),
    /// The database to drop through the admin URL.
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A new SQLite file in a new temp folder (the file does not exist before connecting).
    pub(crate) async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = Db::sqlite_url(&dir.path().join("preuves.db"));
        let db = Db::connect(&url).await.expect("connect sqlite");
        Self {
            db,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A new PostgreSQL database created through `admin_url`.
    pub(crate) async fn postgres(admin_url: &str) -> Self {
        sqlx::any::install_default_drivers();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "preuves_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            nanos
        );
        let mut admin = sqlx::AnyConnection::connect(admin_url)
            .await
            .expect("connect to the PostgreSQL admin URL");
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        admin.close().await.expect("close admin connection");
        let db = Db::connect(&database_url(admin_url, &name))
            .await
            .expect("connect postgres");
        Self {
            db,
            cleanup: Cleanup::Postgres {
                admin_url: admin_url.to_owned(),
                name,
            },
        }
    }

    /// Closes the pool and removes the database.
    pub(crate) async fn cleanup(self) {
        self.db.close().await;
        match self.cleanup {
            Cleanup::Sqlite(dir) => drop(dir),
            Cleanup::Postgres { admin_url, name } => {
                let mut admin = sqlx::AnyConnection::connect(&admin_url)
                    .await
                    .expect("connect to the PostgreSQL admin URL");
                admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .expect("drop test database");
                admin.close().await.expect("close admin connection");
            }
        }
    }
}

/// `admin_url` with its database name replaced by `name`.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// The PostgreSQL admin URL, or `None` after saying once that PostgreSQL tests are skipped.
fn postgres_admin_url() -> Option<String> {
    match std::env::var(POSTGRES_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            SKIP_NOTICE.call_once(|| {
                // Written to the real stderr, not the test harness's captured output.
                let _ = writeln!(
                    std::io::stderr(),
                    "preuves_db: {POSTGRES_VAR} is not set: PostgreSQL tests are skipped (SQLite only)."
                );
            });
            None
        }
    }
}

/// Runs `test` on a fresh SQLite database, then on a fresh PostgreSQL one when configured. A
/// panic in the test still drops the database, then fails the test naming the backend.
pub(crate) async fn for_each_backend<F, Fut>(test: F)
where
    F: Fn(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_on(TestDb::sqlite().await, &test).await;
    if let Some(admin) = postgres_admin_url() {
        run_on(TestDb::postgres(&admin).await, &test).await;
    }
}

async fn run_on<F, Fut>(test_db: TestDb, test: &F)
where
    F: Fn(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let backend = test_db.db.backend();
    let outcome = tokio::spawn(test(test_db.db.clone())).await;
    test_db.cleanup().await;
    if let Err(e) = outcome {
        let _ = writeln!(std::io::stderr(), "test failed on {}", backend.name());
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("test task on {backend:?} did not finish: {e}"),
        }
    }
}

/// Whether this is the SQLite backend.
pub(crate) fn is_sqlite(db: &Db) -> bool {
    db.backend() == Backend::Sqlite
}

#[test]
fn database_url_replaces_only_the_database_name() {
    assert_eq!(
        database_url("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        database_url("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        database_url("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
}
