//! The blob-store cleanup `serve` runs at start: what a crash (or a kill) in the middle of an
//! upload or a grant can leave behind.
//!
//! - Staging files of uploads cut short (local folder only): [`BlobStore::remove_stale_uploads`].
//! - Blobs without a record: a proof stored whose recording never committed, an attestation
//!   whose grant failed, a sworn statement never saved (a replaced one is kept, as the page
//!   promises: the audit trail names it; see [`Db::referenced_blobs`]). Only the platform's own
//!   prefixes are looked at (`proofs/`, `attestations/`, `honour/`), and only blobs older than
//!   the grace period are removed, so that an upload another process is finishing (stored, not
//!   yet recorded) is left alone.
//!
//! The blob store is listed *before* the database is read, so a blob recorded in between is
//! seen as recorded. What is removed is logged, key by key, and summed up in one audit entry
//! (`blob.cleanup`). A failure is logged and does not stop the server: the cleanup runs again
//! at the next start.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use preuves_db::{Actor, Db};
use preuves_storage::BlobStore;
use serde_json::json;

/// The key prefixes of the blobs the platform writes.
pub(crate) const PREFIXES: [&str; 3] = ["proofs/", "attestations/", "honour/"];

/// How many removed keys the audit entry names (the count is always there).
const AUDITED_KEYS: usize = 100;

/// What the cleanup removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CleanupReport {
    /// Staging files of interrupted uploads.
    pub(crate) stale_uploads: usize,
    /// Blobs without a record, by key.
    pub(crate) orphans: Vec<String>,
    /// Their total size in bytes.
    pub(crate) orphan_bytes: u64,
}

/// Runs the cleanup, logging what it does; never fails (a failure is logged).
pub(crate) async fn at_start(db: &Db, blobs: &BlobStore, grace: Duration) -> CleanupReport {
    let mut report = CleanupReport::default();
    match blobs.remove_stale_uploads(grace).await {
        Ok(0) => {}
        Ok(n) => {
            report.stale_uploads = n;
            tracing::info!(removed = n, "stale partial uploads removed");
        }
        Err(e) => tracing::warn!(error = %e, "stale upload cleanup failed"),
    }
    if let Err(e) = remove_orphans(db, blobs, grace, &mut report).await {
        tracing::warn!(error = %e, "cleanup of blobs without a record failed");
    }
    if !report.orphans.is_empty() {
        tracing::info!(
            removed = report.orphans.len(),
            bytes = report.orphan_bytes,
            "blobs without a record removed"
        );
        let details = json!({
            "removed": report.orphans.len(),
            "bytes": report.orphan_bytes,
            "grace_seconds": grace.as_secs(),
            "keys": report.orphans.iter().take(AUDITED_KEYS).collect::<Vec<_>>(),
        });
        if let Err(e) = db
            .record_audit(&Actor::System, "blob.cleanup", "blob_store", "", details)
            .await
        {
            tracing::warn!(error = %e, "the blob cleanup could not be audited");
        }
    }
    report
}

async fn remove_orphans(
    db: &Db,
    blobs: &BlobStore,
    grace: Duration,
    report: &mut CleanupReport,
) -> Result<(), String> {
    // Listed first: a blob recorded after this listing is seen as recorded below.
    let mut listed = Vec::new();
    for prefix in PREFIXES {
        let key = preuves_storage::BlobKey::parse(prefix.trim_end_matches('/'))
            .map_err(|e| e.to_string())?;
        listed.extend(blobs.list(Some(&key)).await.map_err(|e| e.to_string())?);
    }
    let recorded: HashSet<String> = db
        .referenced_blobs()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|r| r.key)
        .collect();
    let cutoff = SystemTime::now()
        .checked_sub(grace)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    for blob in listed {
        if recorded.contains(blob.key.as_str()) || blob.last_modified > cutoff {
            continue;
        }
        match blobs.delete(&blob.key).await {
            Ok(()) => {
                tracing::info!(key = %blob.key, size = blob.size, "blob without a record removed");
                report.orphan_bytes += blob.size;
                report.orphans.push(blob.key.into_string());
            }
            Err(e) => {
                tracing::warn!(key = %blob.key, error = %e, "could not remove a blob without a record")
            }
        }
    }
    Ok(())
}
