//! A deposited proof as stored, and how proofs are read and marked on a connection inside a
//! transaction. [`StoredProof`] is a [`DepositedFile`], so the domain's rules (missing proofs,
//! current files, gaps before a grant) apply to it directly.

use preuves_domain::{DepositedFile, RequirementId};
use serde::Serialize;
use sqlx::AnyConnection;

use crate::ids::{CandidatureId, ProofId};
use crate::time::Timestamp;
use crate::{DbError, Result};

/// A file to record as a proof, once its blob is fully stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProof {
    /// The requirement it proves (of the candidature's pinned REM).
    pub requirement: RequirementId,
    /// The scenario's position in the requirement, from 0.
    pub scenario_index: i64,
    /// The expected proof's position in the scenario, from 0.
    pub proof_index: i64,
    /// The stored blob's key.
    pub blob_key: String,
    /// The file's original name.
    pub file_name: String,
    /// Its content type, as checked on the content.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, 64 lower-case hexadecimal digits.
    pub sha256: String,
}

/// A deposited proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredProof {
    /// Its id.
    pub id: ProofId,
    /// The candidature.
    pub candidature: CandidatureId,
    /// The requirement it proves.
    pub requirement: RequirementId,
    /// The scenario's position in the requirement, from 0.
    pub scenario_index: i64,
    /// The expected proof's position in the scenario, from 0.
    pub proof_index: i64,
    /// The scenario number in the REM, if it has one.
    pub scenario_ref: Option<String>,
    /// The proof number in the REM, if it has one.
    pub proof_ref: Option<String>,
    /// The blob's key.
    pub blob_key: String,
    /// The original file name.
    pub file_name: String,
    /// The content type.
    pub content_type: String,
    /// The size in bytes.
    pub size: u64,
    /// The SHA-256, hexadecimal.
    pub sha256: String,
    /// When it was recorded.
    pub uploaded_at: Timestamp,
    /// Who deposited it ([`crate::Actor`]'s text form).
    pub uploaded_by: String,
    /// When its requirement became masked after submission (R5): kept, needs no verdict.
    pub no_longer_needed_at: Option<Timestamp>,
    /// The instructor's verdict code, once judged.
    pub verdict: Option<String>,
    /// The verdict's comment.
    pub verdict_comment: Option<String>,
    /// Who judged it.
    pub judged_by: Option<String>,
    /// When it was judged.
    pub judged_at: Option<Timestamp>,
}

impl StoredProof {
    /// Whether it still counts (not marked no longer needed, R5).
    pub fn is_needed(&self) -> bool {
        self.no_longer_needed_at.is_none()
    }
}

pub(crate) struct ProofRow {
    id: i64,
    candidature_id: i64,
    requirement_code: String,
    scenario_index: i64,
    proof_index: i64,
    scenario_ref: Option<String>,
    proof_ref: Option<String>,
    blob_key: String,
    file_name: String,
    content_type: String,
    size: i64,
    sha256: String,
    uploaded_at: i64,
    uploaded_by: String,
    no_longer_needed_at: Option<i64>,
    verdict: Option<String>,
    verdict_comment: Option<String>,
    judged_by: Option<String>,
    judged_at: Option<i64>,
}

crate::row::impl_from_row!(ProofRow {
    id,
    candidature_id,
    requirement_code,
    scenario_index,
    proof_index,
    scenario_ref,
    proof_ref,
    blob_key,
    file_name,
    content_type,
    size,
    sha256,
    uploaded_at,
    uploaded_by,
    no_longer_needed_at,
    verdict,
    verdict_comment,
    judged_by,
    judged_at
});

pub(crate) const COLUMNS: &str = "p.id, p.candidature_id, p.requirement_code, p.scenario_index, \
     p.proof_index, p.scenario_ref, p.proof_ref, p.blob_key, p.file_name, p.content_type, p.size, \
     p.sha256, p.uploaded_at, p.uploaded_by, p.no_longer_needed_at, p.verdict, \
     p.verdict_comment, p.judged_by, p.judged_at";

impl TryFrom<ProofRow> for StoredProof {
    type Error = DbError;
    fn try_from(r: ProofRow) -> Result<Self> {
        Ok(Self {
            id: ProofId(r.id),
            candidature: CandidatureId(r.candidature_id),
            requirement: RequirementId::parse(&r.requirement_code).map_err(DbError::corrupt)?,
            scenario_index: r.scenario_index,
            proof_index: r.proof_index,
            scenario_ref: r.scenario_ref,
            proof_ref: r.proof_ref,
            blob_key: r.blob_key,
            file_name: r.file_name,
            content_type: r.content_type,
            size: u64::try_from(r.size).map_err(DbError::corrupt)?,
            sha256: r.sha256,
            uploaded_at: Timestamp::from_millis(r.uploaded_at),
            uploaded_by: r.uploaded_by,
            no_longer_needed_at: r.no_longer_needed_at.map(Timestamp::from_millis),
            verdict: r.verdict,
            verdict_comment: r.verdict_comment,
            judged_by: r.judged_by,
            judged_at: r.judged_at.map(Timestamp::from_millis),
        })
    }
}

/// Every proof of a candidature, in deposit order, read on `conn`.
pub(crate) async fn proofs_of(
    conn: &mut AnyConnection,
    candidature: CandidatureId,
) -> Result<Vec<StoredProof>> {
    let rows: Vec<ProofRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM proofs p WHERE p.candidature_id = $1 ORDER BY p.id"
    ))
    .bind(candidature.0)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(StoredProof::try_from).collect()
}

/// The proof `id`, whatever its candidature, read on `conn` ([`DbError::NotFound`] if none).
pub(crate) async fn load_proof(conn: &mut AnyConnection, id: ProofId) -> Result<StoredProof> {
    let row: Option<ProofRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM proofs p WHERE p.id = $1"))
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await?;
    StoredProof::try_from(row.ok_or(DbError::NotFound)?)
}

/// Marks the needed proofs of `requirements` as no longer needed at `at`; returns how many.
pub(crate) async fn mark_no_longer_needed(
    conn: &mut AnyConnection,
    candidature: CandidatureId,
    requirements: &[RequirementId],
    at: i64,
) -> Result<u64> {
    let mut marked = 0;
    for r in requirements {
        marked += sqlx::query(
            "UPDATE proofs SET no_longer_needed_at = $1 WHERE candidature_id = $2 \
             AND requirement_code = $3 AND no_longer_needed_at IS NULL",
        )
        .bind(at)
        .bind(candidature.0)
        .bind(r.as_str())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(marked)
}

pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl DepositedFile for StoredProof {
    type Id = ProofId;

    fn id(&self) -> ProofId {
        self.id
    }

    fn requirement(&self) -> &str {
        self.requirement.as_str()
    }

    fn scenario_index(&self) -> i64 {
        self.scenario_index
    }

    fn proof_index(&self) -> i64 {
        self.proof_index
    }

    fn is_needed(&self) -> bool {
        StoredProof::is_needed(self)
    }

    fn verdict_code(&self) -> Option<&str> {
        self.verdict.as_deref()
    }
}
