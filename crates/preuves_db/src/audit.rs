//! The audit trail: an append-only, hash-chained log of every state change, written in the same
//! transaction as the change it records.
//!
//! Entry `n` stores `prev_hash` (the hash of entry `n - 1`, or 64 zeros for the first) and
//! `hash = SHA-256(prev_hash "\n" canonical)`, where `canonical` is the JSON array
//! `[id, at, actor, action, object_type, object_id, details]`. Ids are contiguous from 1.
//!
//! Appends are serialised through the single `audit_head` row (last id and hash): an audited
//! transaction updates that row *first*, which takes the SQLite write lock (already held with
//! `BEGIN IMMEDIATE`) or a PostgreSQL row lock held until commit. Two writers therefore never read
//! the same last hash, so the chain cannot fork; taking this lock before anything else in the
//! transaction also rules out lock-order deadlocks. Triggers refuse `UPDATE` and `DELETE` on
//! `audit_log`; [`Db::verify_audit_chain`] detects what someone with the power to bypass them did.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Any, AnyConnection, Transaction};

use crate::ids::Actor;
use crate::text::hex;
use crate::time::Timestamp;
use crate::{Db, DbError, Result};

/// The `prev_hash` of the first entry.
const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How many entries [`Db::verify_audit_chain`] reads per query.
const VERIFY_PAGE: i64 = 1000;

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub id: i64,
    /// When, in unix milliseconds.
    pub at: i64,
    /// Who ([`Actor`]'s text form: `user:42` or `system`).
    pub actor: String,
    /// What was done (`referencing.status`, `rem.import`, ...).
    pub action: String,
    /// The kind of object changed (`referencing`, `user`, ...).
    pub object_type: String,
    /// The object's id or natural key (an NRU, a user id, ...).
    pub object_id: String,
    /// A JSON snapshot of what changed (never a secret).
    pub details: String,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

crate::row::impl_from_row!(AuditEntry {
    id,
    at,
    actor,
    action,
    object_type,
    object_id,
    details,
    prev_hash,
    hash
});

impl AuditEntry {
    /// The hash this entry should carry, given its content and `prev_hash`.
    pub fn expected_hash(&self) -> String {
        entry_hash(
            &self.prev_hash,
            self.id,
            self.at,
            &self.actor,
            &self.action,
            &self.object_type,
            &self.object_id,
            &self.details,
        )
    }
}

#[expect(clippy::too_many_arguments, reason = "the canonical fields, in order")]
fn entry_hash(
    prev_hash: &str,
    id: i64,
    at: i64,
    actor: &str,
    action: &str,
    object_type: &str,
    object_id: &str,
    details: &str,
) -> String {
    // Serialising a tuple of plain values cannot fail; an empty canonical form would still be
    // caught by verification, since it is recomputed the same way.
    let canonical =
        serde_json::to_string(&(id, at, actor, action, object_type, object_id, details))
            .unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    hex(&hasher.finalize())
}

/// How the chain is broken at [`AuditBreak::entry_id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditBreakKind {
    /// The entry's content no longer matches its hash: it was altered.
    HashMismatch,
    /// The entry's `prev_hash` is not the previous entry's hash: an entry before it was altered
    /// and re-hashed, or entries were inserted.
    PrevHashMismatch,
    /// The entry is missing (ids jump over it): it was deleted.
    Missing,
    /// The chain's head (last id and hash) does not match the last entry: entries were removed
    /// from the end, or the last one was replaced.
    HeadMismatch,
}

/// Where and how the audit chain is broken: the first entry at which verification fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at entry {entry_id}: {kind:?}")]
pub struct AuditBreak {
    /// The first entry that fails verification.
    pub entry_id: i64,
    /// Why it fails.
    pub kind: AuditBreakKind,
}

/// The result of a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSummary {
    /// Entries checked.
    pub entries: u64,
    /// The last entry's hash (the genesis value when the log is empty).
    pub last_hash: String,
}

/// A write transaction that can record audit entries; committing it commits both the change and
/// its entries. Dropping it without [`AuditedTx::commit`] rolls everything back.
pub(crate) struct AuditedTx {
    tx: Transaction<'static, Any>,
    last_id: i64,
    last_hash: String,
}

impl AuditedTx {
    /// The connection, to run the change's own statements on.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Appends an audit entry for a change made in this transaction.
    pub(crate) async fn record(
        &mut self,
        actor: &Actor,
        action: &str,
        object_type: &str,
        object_id: &str,
        details: serde_json::Value,
    ) -> Result<i64> {
        let id = self.last_id + 1;
        let at = Timestamp::now().as_millis();
        let actor = actor.to_string();
        let details = details.to_string();
        let hash = entry_hash(
            &self.last_hash,
            id,
            at,
            &actor,
            action,
            object_type,
            object_id,
            &details,
        );
        sqlx::query(
            "INSERT INTO audit_log \
             (id, at, actor, action, object_type, object_id, details, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id)
        .bind(at)
        .bind(&actor)
        .bind(action)
        .bind(object_type)
        .bind(object_id)
        .bind(&details)
        .bind(&self.last_hash)
        .bind(&hash)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query("UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE id = 1")
            .bind(id)
            .bind(&hash)
            .execute(&mut *self.tx)
            .await?;
        self.last_id = id;
        self.last_hash = hash;
        Ok(id)
    }

    /// Commits the change and its audit entries.
    pub(crate) async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// `users` joined on an actor column holding [`Actor`]'s text form (`user:42`).
pub(crate) fn actor_join(alias: &str, column: &str) -> String {
    format!("LEFT JOIN users {alias} ON {column} = 'user:' || CAST({alias}.id AS TEXT)")
}

/// One entry of an object's history, for people: who (with their name), when, what, and the
/// snapshot the audit entry kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// The audit entry's id (its position in the chain).
    pub id: i64,
    /// When.
    pub at: Timestamp,
    /// Who ([`Actor`]'s text form: `user:42` or `system`).
    pub actor: String,
    /// The user's display name, when the actor is a user.
    pub actor_name: Option<String>,
    /// What was done (`candidature.submit`, `proof.verdict`, ...).
    pub action: String,
    /// The snapshot of the change.
    pub details: serde_json::Value,
}

struct HistoryRow {
    id: i64,
    at: i64,
    actor: String,
    actor_name: Option<String>,
    action: String,
    details: String,
}

crate::row::impl_from_row!(HistoryRow {
    id,
    at,
    actor,
    actor_name,
    action,
    details
});

impl Db {
    /// Begins a write transaction holding the audit chain's lock (see the module header).
    pub(crate) async fn begin_audited(&self) -> Result<AuditedTx> {
        let mut tx = self.begin_write().await?;
        let (last_id, last_hash): (i64, String) = sqlx::query_as(
            "UPDATE audit_head SET last_id = last_id WHERE id = 1 RETURNING last_id, last_hash",
        )
        .fetch_one(&mut *tx)
        .await?;
        Ok(AuditedTx {
            tx,
            last_id,
            last_hash,
        })
    }

    /// Records an audit entry on its own, for events that change nothing else (an export, a
    /// sign-in refused for a disabled account, ...).
    pub async fn record_audit(
        &self,
        actor: &Actor,
        action: &str,
        object_type: &str,
        object_id: &str,
        details: serde_json::Value,
    ) -> Result<i64> {
        let mut tx = self.begin_audited().await?;
        let id = tx
            .record(actor, action, object_type, object_id, details)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The entries about one object, oldest first (a candidature's or referencing's history).
    pub async fn audit_entries_for(
        &self,
        object_type: &str,
        object_id: &str,
    ) -> Result<Vec<AuditEntry>> {
        Ok(sqlx::query_as(
            "SELECT id, at, actor, action, object_type, object_id, details, prev_hash, hash \
             FROM audit_log WHERE object_type = $1 AND object_id = $2 ORDER BY id",
        )
        .bind(object_type)
        .bind(object_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Up to `limit` entries with an id greater than `after`, oldest first.
    pub async fn audit_entries(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        Ok(sqlx::query_as(
            "SELECT id, at, actor, action, object_type, object_id, details, prev_hash, hash \
             FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Checks the whole chain, page by page: contiguous ids, each `prev_hash` equal to the
    /// previous entry's hash, each hash equal to its recomputation, and the head matching the
    /// last entry. The inner error names the first entry at which the chain fails.
    pub async fn verify_audit_chain(&self) -> Result<Result<ChainSummary, AuditBreak>> {
        let mut expected_prev = GENESIS_HASH.to_owned();
        let mut last_id = 0_i64;
        let mut count = 0_u64;
        loop {
            let page = self.audit_entries(last_id, VERIFY_PAGE).await?;
            let Some(last) = page.last() else { break };
            let next_after = last.id;
            for entry in page {
                let broken = |kind| {
                    Ok(Err(AuditBreak {
                        entry_id: entry.id,
                        kind,
                    }))
                };
                if entry.id != last_id + 1 {
                    return Ok(Err(AuditBreak {
                        entry_id: last_id + 1,
                        kind: AuditBreakKind::Missing,
                    }));
                }
                if entry.prev_hash != expected_prev {
                    return broken(AuditBreakKind::PrevHashMismatch);
                }
                if entry.expected_hash() != entry.hash {
                    return broken(AuditBreakKind::HashMismatch);
                }
                last_id = entry.id;
                count += 1;
                expected_prev = entry.hash;
            }
            debug_assert_eq!(last_id, next_after);
        }
        let (head_id, head_hash): (i64, String) =
            sqlx::query_as("SELECT last_id, last_hash FROM audit_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        if head_id != last_id || head_hash != expected_prev {
            // Entries cut from the end: the first missing one; a replaced last entry: itself.
            let entry_id = if head_id == last_id {
                last_id
            } else {
                head_id.min(last_id) + 1
            };
            return Ok(Err(AuditBreak {
                entry_id,
                kind: AuditBreakKind::HeadMismatch,
            }));
        }
        Ok(Ok(ChainSummary {
            entries: count,
            last_hash: expected_prev,
        }))
    }
}

impl Db {
    /// The history of one object (`"candidature"` and its id, `"referencing"` and its NRU, ...)
    /// from the audit trail, oldest first, with the acting users' names: a candidature's
    /// creation, edits, submission, deposits, verdicts, complements, assignment and decision.
    pub async fn audit_history(
        &self,
        object_type: &str,
        object_id: &str,
    ) -> Result<Vec<HistoryEntry>> {
        let rows: Vec<HistoryRow> = sqlx::query_as(&format!(
            "SELECT a.id, a.at, a.actor, u.display_name AS actor_name, a.action, a.details \
             FROM audit_log a {} WHERE a.object_type = $1 AND a.object_id = $2 ORDER BY a.id",
            actor_join("u", "a.actor")
        ))
        .bind(object_type)
        .bind(object_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(HistoryEntry {
                    id: r.id,
                    at: Timestamp::from_millis(r.at),
                    actor: r.actor,
                    actor_name: r.actor_name,
                    action: r.action,
                    details: serde_json::from_str(&r.details).map_err(DbError::corrupt)?,
                })
            })
            .collect()
    }
}
