//! Maintenance reads and the online snapshot, for the operator's commands (`preuves backup`,
//! `preuves restore`) and the start-up cleanup of the blob store.
//!
//! - [`Db::referenced_blobs`]: every blob key the database records (deposited proofs, granted
//!   attestations, sworn statements, replaced ones included), with the size and SHA-256
//!   recorded beside when there are some; what is not in this list is not part of a platform's
//!   data.
//! - [`Db::snapshot_into`]: a consistent copy of a live SQLite database (`VACUUM INTO`), taken
//!   while the platform runs: it reads one snapshot and blocks no writer.
//! - [`Db::check_platform_schema`]: whether a database is a `preuves` one.
//! - [`Db::checkpoint`]: the SQLite file made self-contained before it is copied or moved.
//!
//! None of these changes platform state, so none writes an audit entry.

use std::path::Path;

use crate::{Backend, Db, DbError, Result};

/// What a blob of the store is, by the column that records its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlobUse {
    /// A deposited proof file (`proofs.blob_key`).
    Proof,
    /// A granted referencing's attestation PDF (`referencing_grants.attestation_blob_key`).
    Attestation,
    /// A candidature's sworn statement (`candidatures.honour_blob_key`), or one it replaced
    /// (named by the audit entries of the candidature's steps).
    HonourStatement,
}

impl BlobUse {
    /// A short name for logs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Proof => "proof",
            Self::Attestation => "attestation",
            Self::HonourStatement => "honour_statement",
        }
    }
}

/// A blob key the database records, with what it knows of the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobReference {
    /// The key in the blob store.
    pub key: String,
    /// What the blob is.
    pub used_as: BlobUse,
    /// Its recorded size in bytes (proofs; sworn statements recorded since it is kept).
    pub size: Option<u64>,
    /// Its recorded SHA-256, hexadecimal (proofs, attestations; sworn statements recorded
    /// since it is kept).
    pub sha256: Option<String>,
}

/// The `blob_key` of every `honour_statement` object in an audit entry's details, with the size
/// and SHA-256 recorded beside it (statements recorded since they are kept).
fn honour_keys(value: &serde_json::Value, keys: &mut Vec<(String, Option<u64>, Option<String>)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (name, inner) in map {
                if name == "honour_statement"
                    && let Some(key) = inner.get("blob_key").and_then(|k| k.as_str())
                {
                    keys.push((
                        key.to_owned(),
                        inner.get("size").and_then(serde_json::Value::as_u64),
                        inner
                            .get("sha256")
                            .and_then(|s| s.as_str())
                            .map(str::to_owned),
                    ));
                } else {
                    honour_keys(inner, keys);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| honour_keys(v, keys)),
        _ => {}
    }
}

impl Db {
    /// Every blob key recorded in the database, proofs first, then attestations, then sworn
    /// statements: the current ones of candidatures, then those replaced since, which the audit
    /// trail of the candidatures' steps still names (a key recorded twice may be listed twice).
    pub async fn referenced_blobs(&self) -> Result<Vec<BlobReference>> {
        let mut refs = Vec::new();
        let proofs: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT blob_key, size, sha256 FROM proofs ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        for (key, size, sha256) in proofs {
            refs.push(BlobReference {
                key,
                used_as: BlobUse::Proof,
                size: Some(u64::try_from(size).map_err(DbError::corrupt)?),
                sha256: Some(sha256),
            });
        }
        let attestations: Vec<(String, String)> = sqlx::query_as(
            "SELECT attestation_blob_key, attestation_sha256 FROM referencing_grants \
             ORDER BY referencing_id",
        )
        .fetch_all(&self.pool)
        .await?;
        for (key, sha256) in attestations {
            refs.push(BlobReference {
                key,
                used_as: BlobUse::Attestation,
                size: None,
                sha256: Some(sha256),
            });
        }
        let statements: Vec<(String, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT honour_blob_key, honour_size, honour_sha256 FROM candidatures \
             WHERE honour_blob_key IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut seen = std::collections::BTreeSet::new();
        for (key, size, sha256) in statements {
            seen.insert(key.clone());
            refs.push(BlobReference {
                key,
                used_as: BlobUse::HonourStatement,
                size: size
                    .map(u64::try_from)
                    .transpose()
                    .map_err(DbError::corrupt)?,
                sha256,
            });
        }
        // A replaced sworn statement is kept (the page says so): the audit entries of the
        // candidature's steps still name it.
        let audited: Vec<(String,)> = sqlx::query_as(
            "SELECT details FROM audit_log WHERE object_type = 'candidature' \
             AND details LIKE '%honour_statement%' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        for (details,) in audited {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&details) else {
                continue;
            };
            let mut keys = Vec::new();
            honour_keys(&value, &mut keys);
            for (key, size, sha256) in keys {
                if seen.insert(key.clone()) {
                    refs.push(BlobReference {
                        key,
                        used_as: BlobUse::HonourStatement,
                        size,
                        sha256,
                    });
                }
            }
        }
        Ok(refs)
    }

    /// Writes a consistent copy of this SQLite database to `path` (which must not exist) with
    /// `VACUUM INTO`, while other connections keep reading and writing. On PostgreSQL,
    /// [`DbError::Contract`]: use `pg_dump`.
    pub async fn snapshot_into(&self, path: &Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(DbError::Contract(
                "an online snapshot is for SQLite only; use pg_dump on PostgreSQL".to_owned(),
            ));
        }
        let target = path.to_str().ok_or_else(|| {
            DbError::Contract(format!("{}: the path is not valid UTF-8", path.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Moves the content of SQLite's write-ahead log into the database file and empties the log,
    /// so that the file alone holds every committed change (before it is copied or renamed).
    /// Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Checks that this database holds the `preuves` schema (its migrations table and the
    /// audit chain's head); [`DbError::Contract`] says what is missing.
    pub async fn check_platform_schema(&self) -> Result<()> {
        let migrations: std::result::Result<(i64,), _> =
            sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations")
                .fetch_one(&self.pool)
                .await;
        match migrations {
            Ok((n,)) if n > 0 => {}
            _ => {
                return Err(DbError::Contract(
                    "no preuves migration has run on this database".to_owned(),
                ));
            }
        }
        let head: std::result::Result<(i64,), _> =
            sqlx::query_as("SELECT last_id FROM audit_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await;
        if head.is_err() {
            return Err(DbError::Contract(
                "the database has no audit chain head".to_owned(),
            ));
        }
        Ok(())
    }
}
