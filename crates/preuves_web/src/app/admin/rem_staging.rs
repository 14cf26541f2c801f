//! An uploaded REM file kept server-side between its impact analysis and the administrator's
//! confirmation, so that what is imported is exactly what was analysed and never a file posted
//! back by the browser.
//!
//! The file is stored in the blob store under `rem-staging/u{admin}/{id}` with its description
//! (`{id}.json`: dispositif, label, file name, SHA-256, when, and the version in force it was
//! compared with). The page and the API post back the id and the SHA-256; a staging is found only
//! under the administrator's own prefix, for [`STAGING_TTL`] after the upload, and only if the
//! SHA-256 posted and the one of the stored bytes both match. It is removed once imported, and
//! every staging older than [`STAGING_TTL`] is swept away at the next upload or confirmation.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use preuves_db::{Timestamp, UserId};
use preuves_domain::DispositifKey;
use preuves_storage::{BlobKey, BlobStore, StorageError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AppError, ErrorItem};

/// How long an analysed upload waits for its confirmation.
pub(crate) const STAGING_TTL: Duration = Duration::from_secs(60 * 60);

/// The key prefix of staged uploads (outside the prefixes `preuves cleanup` compares with the
/// database).
const PREFIX: &str = "rem-staging";

/// What is kept with a staged file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StagedUpload {
    /// The dispositif whose REM it is.
    pub(crate) dispositif: DispositifKey,
    /// The label asked for, as typed (checked again on import).
    pub(crate) label: Option<String>,
    /// The file's name.
    pub(crate) file_name: String,
    /// The file's SHA-256, hexadecimal.
    pub(crate) sha256: String,
    /// When it was uploaded (unix milliseconds).
    pub(crate) staged_at: i64,
    /// The id of the REM version in force it was compared with, if any.
    pub(crate) base_version: Option<i64>,
}

impl StagedUpload {
    /// When its confirmation is no longer accepted.
    pub(crate) fn expires_at(&self) -> Timestamp {
        let ttl = i64::try_from(STAGING_TTL.as_millis()).unwrap_or(i64::MAX);
        Timestamp::from_millis(self.staged_at.saturating_add(ttl))
    }
}

/// Why a staged upload cannot be confirmed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StagingError {
    /// No such staging for this administrator, or the SHA-256 posted is not the file's.
    #[error("unknown staging")]
    Unknown,
    /// Older than [`STAGING_TTL`]: removed.
    #[error("staging expired")]
    Expired,
    /// The blob store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<StagingError> for AppError {
    fn from(e: StagingError) -> Self {
        let (code, message) = match e {
            StagingError::Unknown => (
                "unknown_staging",
                "Cet import analysé est introuvable (déjà importé, ou lancé par un autre administrateur)\u{a0}: importez à nouveau le fichier.",
            ),
            StagingError::Expired => (
                "staging_expired",
                "L'analyse de ce fichier a expiré (une heure)\u{a0}: importez à nouveau le fichier.",
            ),
            StagingError::Storage(e) => return AppError::internal(e),
        };
        super::rejected(vec![ErrorItem::field(code, "staging", message)])
    }
}

fn admin_prefix(admin: UserId) -> String {
    format!("{PREFIX}/u{}", admin.0)
}

fn keys(admin: UserId, id: &str) -> Result<(BlobKey, BlobKey), StagingError> {
    // A staging id is 32 lower-case hex digits; anything else names no staging.
    if id.len() != 32 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(StagingError::Unknown);
    }
    let prefix = admin_prefix(admin);
    Ok((
        BlobKey::parse(format!("{prefix}/{id}"))?,
        BlobKey::parse(format!("{prefix}/{id}.json"))?,
    ))
}

/// Keeps `bytes` for `admin` with their description; returns the staging id.
pub(crate) async fn stage(
    blobs: &BlobStore,
    admin: UserId,
    meta: &StagedUpload,
    bytes: Vec<u8>,
) -> Result<String, StagingError> {
    sweep(blobs).await;
    let prefix = BlobKey::parse(admin_prefix(admin))?;
    let file = BlobKey::new_random(&prefix);
    let id = file
        .as_str()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let (_, meta_key) = keys(admin, &id)?;
    let json = serde_json::to_vec(meta).map_err(|e| StorageError::Rejected(e.to_string()))?;
    blobs.put_bytes(&file, bytes).await?;
    blobs.put_bytes(&meta_key, json).await?;
    Ok(id)
}

/// The staged upload `id` of `admin` and its bytes, if `sha256` is its SHA-256 and it has not
/// expired (an expired one is removed).
pub(crate) async fn open(
    blobs: &BlobStore,
    admin: UserId,
    id: &str,
    sha256: &str,
) -> Result<(StagedUpload, Bytes), StagingError> {
    sweep(blobs).await;
    let (file, meta_key) = keys(admin, id.trim())?;
    let raw = match blobs.get_bytes(&meta_key).await {
        Ok(raw) => raw,
        Err(StorageError::NotFound) => return Err(StagingError::Unknown),
        Err(e) => return Err(e.into()),
    };
    let meta: StagedUpload = serde_json::from_slice(&raw).map_err(|_| StagingError::Unknown)?;
    if meta.expires_at() <= Timestamp::now() {
        discard(blobs, admin, id).await;
        return Err(StagingError::Expired);
    }
    if !meta.sha256.eq_ignore_ascii_case(sha256.trim()) {
        return Err(StagingError::Unknown);
    }
    let bytes = match blobs.get_bytes(&file).await {
        Ok(bytes) => bytes,
        Err(StorageError::NotFound) => return Err(StagingError::Unknown),
        Err(e) => return Err(e.into()),
    };
    let digest = bytes.clone();
    let actual = tokio::task::spawn_blocking(move || hex::encode(Sha256::digest(&digest)))
        .await
        .map_err(|e| StorageError::Interrupted(e.to_string()))?;
    if actual != meta.sha256 {
        return Err(StagingError::Unknown);
    }
    Ok((meta, bytes))
}

/// Removes a staged upload (best effort: a failure is logged, and the sweep retries later).
pub(crate) async fn discard(blobs: &BlobStore, admin: UserId, id: &str) {
    let Ok((file, meta)) = keys(admin, id.trim()) else {
        return;
    };
    for key in [meta, file] {
        if let Err(e) = blobs.delete(&key).await {
            tracing::warn!(key = %key, error = %e, "staged REM upload not removed");
        }
    }
}

/// Removes every staged upload older than [`STAGING_TTL`] (best effort).
async fn sweep(blobs: &BlobStore) {
    let Ok(prefix) = BlobKey::parse(PREFIX) else {
        return;
    };
    let cutoff = SystemTime::now()
        .checked_sub(STAGING_TTL)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    match blobs.list(Some(&prefix)).await {
        Ok(listed) => {
            for blob in listed.into_iter().filter(|b| b.last_modified < cutoff) {
                if let Err(e) = blobs.delete(&blob.key).await {
                    tracing::warn!(key = %blob.key, error = %e, "expired REM upload not removed");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "staged REM uploads not listed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(staged_at: i64) -> StagedUpload {
        StagedUpload {
            dispositif: DispositifKey {
                code: preuves_domain::DispositifCode::parse("DUI-MS").unwrap(),
                wave: preuves_domain::Wave::Two,
            },
            label: None,
            file_name: "REM.csv".to_owned(),
            sha256: hex::encode(Sha256::digest(b"rem")),
            staged_at,
            base_version: Some(1),
        }
    }

    #[tokio::test]
    async fn a_staging_is_found_only_by_its_admin_with_its_sha_and_in_time() {
        let blobs = BlobStore::memory();
        let admin = UserId(7);
        let now = Timestamp::now().as_millis();
        let m = meta(now);
        let id = stage(&blobs, admin, &m, b"rem".to_vec()).await.unwrap();
        assert!(matches!(
            open(&blobs, UserId(8), &id, &m.sha256).await,
            Err(StagingError::Unknown)
        ));
        assert!(matches!(
            open(&blobs, admin, &id, &"0".repeat(64)).await,
            Err(StagingError::Unknown)
        ));
        assert!(matches!(
            open(&blobs, admin, "../x", &m.sha256).await,
            Err(StagingError::Unknown)
        ));
        let (found, bytes) = open(&blobs, admin, &id, &m.sha256).await.unwrap();
        assert_eq!(found, m);
        assert_eq!(&bytes[..], b"rem");
        discard(&blobs, admin, &id).await;
        assert!(matches!(
            open(&blobs, admin, &id, &m.sha256).await,
            Err(StagingError::Unknown)
        ));

        // Staged more than an hour ago: expired, and removed.
        let old = meta(now - 2 * 3_600_000);
        let id = stage(&blobs, admin, &old, b"rem".to_vec()).await.unwrap();
        assert!(matches!(
            open(&blobs, admin, &id, &old.sha256).await,
            Err(StagingError::Expired)
        ));
        assert!(blobs.list(None).await.unwrap().is_empty());
    }
}
