//! Deposited proofs: one row per file, recorded only once its blob is fully stored (the caller
//! passes the stored blob's facts: key, size, SHA-256), in one transaction with its audit entry,
//! so a file is never half-visible.
//!
//! A deposit is never overwritten: a new file for the same expected proof is a new row. Each row
//! names the expected proof it answers by position in the requirement's scenarios of the
//! candidature's pinned REM version (checked on recording), with the REM's own numbers beside.
//! R5: proofs of requirements masked after submission are kept, marked no longer needed.
//! The verdict columns are filled by the instruction (a later step).

use std::fmt;

use preuves_domain::RequirementId;
use serde::Serialize;
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::Actor;
use crate::candidatures::{self, CandidatureId, CandidatureStatus, ExpectedProof, PlanSnapshot};
use crate::conflicts::{self, conflict};
use crate::organisations::OrganisationId;
use crate::time::Timestamp;
use crate::{Db, DbError, Result};

/// A deposited proof's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ProofId(pub i64);

impl fmt::Display for ProofId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

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
    /// Who deposited it ([`Actor`]'s text form).
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

/// An expected proof of a requirement to deposit that has no file yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingProof<'a> {
    /// The requirement id.
    pub requirement: &'a str,
    /// The expected proof.
    pub expected: &'a ExpectedProof,
}

/// The expected proofs of `plan`'s requirements to deposit that no needed file of `proofs`
/// answers, in plan order. Empty means the dossier is complete.
pub fn missing_proofs<'a>(plan: &'a PlanSnapshot, proofs: &[StoredProof]) -> Vec<MissingProof<'a>> {
    plan.entries
        .iter()
        .filter(|e| e.is_to_deposit())
        .flat_map(|e| {
            e.expected.iter().filter_map(move |x| {
                let answered = proofs.iter().any(|p| {
                    p.is_needed()
                        && p.requirement.as_str() == e.requirement
                        && p.scenario_index == x.scenario_index
                        && p.proof_index == x.proof_index
                });
                (!answered).then_some(MissingProof {
                    requirement: &e.requirement,
                    expected: x,
                })
            })
        })
        .collect()
}

struct ProofRow {
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

const COLUMNS: &str = "p.id, p.candidature_id, p.requirement_code, p.scenario_index, \
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

impl Db {
    /// Records a deposited file on a candidature of `organisation`, after its blob was fully
    /// stored, in one transaction with its audit entry. The requirement and positions must
    /// exist in the pinned REM ([`DbError::Invalid`] otherwise); another organisation's
    /// candidature gives [`DbError::NotFound`]; a candidature in instruction or decided
    /// [`DbError::Conflict`] on [`conflicts::DEPOSIT_CLOSED`]; a blob key already recorded on
    /// [`conflicts::PROOF_BLOB_KEY`]. On a submitted candidature whose dossier this completes,
    /// `complete_at` is recorded (R5).
    pub async fn record_proof(
        &self,
        organisation: OrganisationId,
        candidature: CandidatureId,
        new: &NewProof,
        actor: &Actor,
    ) -> Result<StoredProof> {
        if !is_sha256_hex(&new.sha256) {
            return Err(DbError::Invalid(
                "the SHA-256 must be 64 lower-case hexadecimal digits".to_owned(),
            ));
        }
        let size = i64::try_from(new.size)
            .map_err(|_| DbError::Invalid("file too large to record".to_owned()))?;
        let seen = self.find_candidature_for(organisation, candidature).await?;
        let requirement = self
            .find_requirement(seen.rem_version, &new.requirement)
            .await?
            .ok_or_else(|| {
                DbError::Invalid(format!(
                    "l'exigence {} n'existe pas dans la version du REM de la candidature",
                    new.requirement
                ))
            })?
            .requirement;
        let (scenario, proof) = usize::try_from(new.scenario_index)
            .ok()
            .and_then(|si| requirement.scenarios.get(si))
            .and_then(|s| {
                usize::try_from(new.proof_index)
                    .ok()
                    .and_then(|pi| s.proofs.get(pi))
                    .map(|p| (s, p))
            })
            .ok_or_else(|| {
                DbError::Invalid(format!(
                    "l'exigence {} n'attend pas de preuve n° {}.{}",
                    new.requirement, new.scenario_index, new.proof_index
                ))
            })?;

        let mut tx = self.begin_audited().await?;
        let current = candidatures::load(tx.conn(), candidature, Some(organisation)).await?;
        if !matches!(
            current.status,
            CandidatureStatus::Draft
                | CandidatureStatus::Submitted
                | CandidatureStatus::ComplementRequested
        ) {
            return Err(conflict(conflicts::DEPOSIT_CLOSED));
        }
        let now = Timestamp::now().as_millis();
        let uploaded_by = actor.to_string();
        let row: ProofRow = sqlx::query_as(&format!(
            "INSERT INTO proofs (candidature_id, requirement_code, scenario_index, proof_index, \
             scenario_ref, proof_ref, blob_key, file_name, content_type, size, sha256, \
             uploaded_at, uploaded_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING {}",
            COLUMNS.replace("p.", "")
        ))
        .bind(candidature.0)
        .bind(new.requirement.as_str())
        .bind(new.scenario_index)
        .bind(new.proof_index)
        .bind(scenario.id.as_deref())
        .bind(proof.id.as_deref())
        .bind(&new.blob_key)
        .bind(crate::text::without_bidi_controls(&new.file_name))
        .bind(&new.content_type)
        .bind(size)
        .bind(&new.sha256)
        .bind(now)
        .bind(&uploaded_by)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| match DbError::from(e) {
            DbError::Conflict { constraint } if constraint == "proofs.blob_key" => {
                conflict(conflicts::PROOF_BLOB_KEY)
            }
            other => other,
        })?;
        let stored = StoredProof::try_from(row)?;
        let mut completed = false;
        if current.status != CandidatureStatus::Draft
            && current.complete_at.is_none()
            && let Some(plan) = &current.plan
        {
            let proofs = proofs_of(tx.conn(), candidature).await?;
            if missing_proofs(plan, &proofs).is_empty() {
                sqlx::query(
                    "UPDATE candidatures SET complete_at = $1 WHERE id = $2 AND complete_at IS NULL",
                )
                .bind(now)
                .bind(candidature.0)
                .execute(tx.conn())
                .await?;
                completed = true;
            }
        }
        tx.record(
            actor,
            "proof.deposit",
            "candidature",
            &candidature.to_string(),
            json!({
                "proof": stored.id,
                "requirement": new.requirement,
                "scenario_index": new.scenario_index,
                "proof_index": new.proof_index,
                "blob_key": new.blob_key,
                "file_name": new.file_name,
                "content_type": new.content_type,
                "size": new.size,
                "sha256": new.sha256,
                "dossier_complete": completed,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Every proof of a candidature, in deposit order (staff).
    pub async fn list_proofs(&self, candidature: CandidatureId) -> Result<Vec<StoredProof>> {
        let mut conn = self.pool.acquire().await?;
        proofs_of(&mut conn, candidature).await
    }

    /// Every proof of a candidature of `organisation`: [`DbError::NotFound`] when the
    /// candidature is another organisation's.
    pub async fn list_proofs_for(
        &self,
        organisation: OrganisationId,
        candidature: CandidatureId,
    ) -> Result<Vec<StoredProof>> {
        let mut conn = self.pool.acquire().await?;
        candidatures::load(&mut conn, candidature, Some(organisation)).await?;
        proofs_of(&mut conn, candidature).await
    }

    /// Any proof, for staff (instructors judging it).
    pub async fn find_proof(&self, id: ProofId) -> Result<Option<StoredProof>> {
        let mut conn = self.pool.acquire().await?;
        match load_proof(&mut conn, id).await {
            Ok(p) => Ok(Some(p)),
            Err(DbError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A proof of a candidature of `organisation`: [`DbError::NotFound`] when it does not exist
    /// or is another organisation's.
    pub async fn find_proof_for(
        &self,
        organisation: OrganisationId,
        id: ProofId,
    ) -> Result<StoredProof> {
        let row: Option<ProofRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM proofs p JOIN candidatures c ON c.id = p.candidature_id \
             WHERE p.id = $1 AND c.organisation_id = $2"
        ))
        .bind(id.0)
        .bind(organisation.0)
        .fetch_optional(&self.pool)
        .await?;
        StoredProof::try_from(row.ok_or(DbError::NotFound)?)
    }

    /// Marks the proofs deposited for `requirements` as no longer needed (R5: kept, not
    /// deleted), in one transaction with its audit entry; returns how many were marked.
    /// [`Db::record_late_nrus`] does this itself for the requirements it masks.
    pub async fn mark_proofs_no_longer_needed(
        &self,
        candidature: CandidatureId,
        requirements: &[RequirementId],
        actor: &Actor,
    ) -> Result<u64> {
        let mut tx = self.begin_audited().await?;
        candidatures::load(tx.conn(), candidature, None).await?;
        let now = Timestamp::now().as_millis();
        let marked = mark_no_longer_needed(tx.conn(), candidature, requirements, now).await?;
        tx.record(
            actor,
            "proof.no_longer_needed",
            "candidature",
            &candidature.to_string(),
            json!({ "requirements": requirements, "marked": marked }),
        )
        .await?;
        tx.commit().await?;
        Ok(marked)
    }
}
