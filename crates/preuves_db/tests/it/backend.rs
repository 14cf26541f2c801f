//! Connecting, migrating and the SQLite durability settings.

use preuves_db::{Backend, Db, DbError};
use sqlx::Row;

use crate::helpers::{TestDb, for_each_backend, is_sqlite};

#[tokio::test]
async fn migrations_create_every_table_and_run_twice_harmlessly() {
    for_each_backend(|db| async move {
        db.migrate().await.unwrap();
        for table in [
            "audit_head",
            "audit_log",
            "catalogue_revision",
            "organisations",
            "users",
            "sessions",
            "login_failures",
            "dispositifs",
            "rem_versions",
            "requirements",
            "equivalence_pairs",
            "referencings",
        ] {
            let n: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
                .fetch_one(db.pool())
                .await
                .unwrap_or_else(|e| panic!("{table}: {e}"))
                .get("n");
            let expected = i64::from(matches!(table, "audit_head" | "catalogue_revision"));
            assert_eq!(n, expected, "{table}");
        }
        db.ping().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn sqlite_connections_use_wal_full_sync_foreign_keys_and_busy_timeout() {
    let test_db = TestDb::sqlite().await;
    let db = test_db.db.clone();
    assert_eq!(db.backend(), Backend::Sqlite);
    // Several connections at once, so that more than one connection of the pool is checked.
    let mut conns = Vec::new();
    for _ in 0..3 {
        conns.push(db.pool().acquire().await.unwrap());
    }
    for conn in &mut conns {
        let mode: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(mode, "wal");
        let sync: i64 = sqlx::query("PRAGMA synchronous")
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(sync, 2, "synchronous=FULL");
        let fk: i64 = sqlx::query("PRAGMA foreign_keys")
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(fk, 1);
        let busy: i64 = sqlx::query("PRAGMA busy_timeout")
            .fetch_one(&mut **conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(busy, 5000);
    }
    drop(conns);
    test_db.cleanup().await;
}

#[tokio::test]
async fn foreign_keys_are_enforced_on_both_backends() {
    for_each_backend(|db| async move {
        let err = sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen) \
             VALUES ('x', 999, 'c', 0, 1, 0)",
        )
        .execute(db.pool())
        .await
        .map_err(DbError::from)
        .unwrap_err();
        assert!(matches!(err, DbError::Other(_)), "{err:?}");
        if is_sqlite(&db) {
            assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
        }
    })
    .await;
}

#[tokio::test]
async fn an_unsupported_url_is_refused_without_echoing_credentials() {
    let err = Db::connect("mysql://root:hunter2@localhost/db")
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Contract(_)));
    let text = err.to_string();
    assert!(text.contains("mysql"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert_eq!(
        Backend::from_url("postgresql://h/db"),
        Some(Backend::Postgres)
    );
    assert_eq!(Backend::from_url("sqlite://x.db"), Some(Backend::Sqlite));
}

#[tokio::test]
async fn a_sqlite_file_is_created_in_any_folder_name() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("données preuves #1 ?50%");
    std::fs::create_dir(&folder).unwrap();
    let file = folder.join("preuves.db");
    let db = Db::connect(&Db::sqlite_url(&file)).await.unwrap();
    db.ping().await.unwrap();
    db.close().await;
    assert!(file.exists());
}

/// Every `(table, column)` of the schema, sorted, excluding sqlx's own bookkeeping table.
async fn columns(db: &Db) -> Vec<(String, String)> {
    let sql = match db.backend() {
        Backend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\'"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) AS t, CAST(column_name AS TEXT) AS c \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%' ESCAPE '\\'"
        }
    };
    let mut cols: Vec<(String, String)> = sqlx::query_as(sql).fetch_all(db.pool()).await.unwrap();
    cols.sort();
    cols
}

#[tokio::test]
async fn both_migration_folders_create_the_same_tables_and_columns() {
    let sqlite = TestDb::sqlite().await;
    let sqlite_columns = columns(&sqlite.db).await;
    sqlite.cleanup().await;
    assert!(sqlite_columns.len() > 60, "{sqlite_columns:?}");
    let Some(admin) = std::env::var("PREUVES_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        return;
    };
    let pg = TestDb::postgres(&admin).await;
    let pg_columns = columns(&pg.db).await;
    pg.cleanup().await;
    assert_eq!(sqlite_columns, pg_columns);
}
