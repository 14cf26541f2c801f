//! The audit trail: written with each change, hash-chained, tamper-evident, fork-free.

use preuves_db::{Actor, AuditBreakKind, Db, UniqueConstraint, UserId};
use preuves_domain::Siren;
use sqlx::Row;

use crate::fixtures::{seed_catalogue, vendor};
use crate::helpers::{for_each_backend, is_sqlite};

async fn audit_rows(db: &Db) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM audit_log")
        .fetch_one(db.pool())
        .await
        .unwrap()
        .get("n")
}

/// A valid-looking SIREN for the `i`-th test organisation.
fn siren(i: u32) -> Siren {
    Siren::parse(&format!("{:09}", 100_000_000 + i)).unwrap()
}

async fn drop_append_only_triggers(db: &Db) {
    for trigger in ["audit_log_no_update", "audit_log_no_delete"] {
        let sql = if is_sqlite(db) {
            format!("DROP TRIGGER {trigger}")
        } else {
            format!("DROP TRIGGER {trigger} ON audit_log")
        };
        sqlx::query(&sql).execute(db.pool()).await.unwrap();
    }
}

#[tokio::test]
async fn each_change_writes_its_entry_naming_the_actor() {
    for_each_backend(|db| async move {
        let org = vendor(&db).await;
        let entries = db
            .audit_entries_for("organisation", &org.id.to_string())
            .await
            .unwrap();
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(
            (e.id, e.actor.as_str(), e.action.as_str()),
            (1, "system", "organisation.create")
        );
        let details: serde_json::Value = serde_json::from_str(&e.details).unwrap();
        assert_eq!(details["siren"], "732829320");
        assert_eq!(e.prev_hash, "0".repeat(64));
        assert_eq!(e.hash, e.expected_hash());

        db.record_audit(
            &Actor::User(UserId(7)),
            "register.export",
            "register",
            "csv",
            serde_json::json!({}),
        )
        .await
        .unwrap();
        let all = db.audit_entries(0, 10).await.unwrap();
        assert_eq!(all[1].actor, "user:7");
        assert_eq!(all[1].prev_hash, all[0].hash);
    })
    .await;
}

#[tokio::test]
async fn a_failed_change_leaves_no_audit_entry() {
    for_each_backend(|db| async move {
        vendor(&db).await;
        let before = audit_rows(&db).await;
        // Fails on the unique SIREN after the transaction began.
        assert!(vendor_again(&db).await.is_err());
        assert_eq!(audit_rows(&db).await, before);
        assert!(db.verify_audit_chain().await.unwrap().is_ok());
    })
    .await;
}

async fn vendor_again(db: &Db) -> preuves_db::Result<preuves_db::Organisation> {
    db.create_organisation("Copie", &Siren::parse("732829320").unwrap(), &Actor::System)
        .await
}

#[tokio::test]
async fn a_change_whose_entry_cannot_be_written_is_not_committed() {
    for_each_backend(|db| async move {
        vendor(&db).await;
        // Occupy the next entry's id, so that writing the next entry fails.
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor, action, object_type, object_id, details, prev_hash, hash) \
             VALUES (2, 0, 'x', 'x', 'x', 'x', '{}', 'x', 'x')",
        )
        .execute(db.pool())
        .await
        .unwrap();
        let err = db
            .create_organisation("Sans trace", &siren(1), &Actor::System)
            .await
            .unwrap_err();
        assert!(err.is_conflict(UniqueConstraint::AuditEntry), "{err:?}");
        assert!(db.find_organisation_by_siren(&siren(1)).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn the_chain_verifies_and_names_an_entry_updated_behind_its_back() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        vendor(&db).await;
        let summary = db.verify_audit_chain().await.unwrap().unwrap();
        assert!(summary.entries >= 5, "{summary:?}");

        // The append-only triggers refuse an UPDATE...
        let refused = sqlx::query("UPDATE audit_log SET actor = 'user:666' WHERE id = 3")
            .execute(db.pool())
            .await;
        assert!(refused.is_err());
        // ...so a tamperer drops them first; verification still names the entry.
        drop_append_only_triggers(&db).await;
        sqlx::query("UPDATE audit_log SET actor = 'user:666' WHERE id = 3")
            .execute(db.pool())
            .await
            .unwrap();
        let broken = db.verify_audit_chain().await.unwrap().unwrap_err();
        assert_eq!(broken.entry_id, 3);
        assert_eq!(broken.kind, AuditBreakKind::HashMismatch);
    })
    .await;
}

#[tokio::test]
async fn deleted_or_truncated_entries_are_detected() {
    for_each_backend(|db| async move {
        for i in 0..4 {
            db.create_organisation("O", &siren(i), &Actor::System)
                .await
                .unwrap();
        }
        drop_append_only_triggers(&db).await;
        sqlx::query("DELETE FROM audit_log WHERE id = 4")
            .execute(db.pool())
            .await
            .unwrap();
        let broken = db.verify_audit_chain().await.unwrap().unwrap_err();
        assert_eq!(
            (broken.entry_id, broken.kind),
            (4, AuditBreakKind::HeadMismatch)
        );
        sqlx::query("DELETE FROM audit_log WHERE id = 2")
            .execute(db.pool())
            .await
            .unwrap();
        let broken = db.verify_audit_chain().await.unwrap().unwrap_err();
        assert_eq!((broken.entry_id, broken.kind), (2, AuditBreakKind::Missing));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_keep_a_single_chain() {
    for_each_backend(|db| async move {
        let mut tasks = Vec::new();
        for t in 0..6_u32 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..8_u32 {
                    db.create_organisation("O", &siren(t * 100 + i), &Actor::System)
                        .await
                        .unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let summary = db.verify_audit_chain().await.unwrap().unwrap();
        assert_eq!(summary.entries, 48);
        let entries = db.audit_entries(0, 100).await.unwrap();
        assert_eq!(entries.len(), 48);
        for (i, pair) in entries.windows(2).enumerate() {
            assert_eq!(
                pair[1].prev_hash,
                pair[0].hash,
                "fork after entry {}",
                i + 1
            );
        }
    })
    .await;
}
