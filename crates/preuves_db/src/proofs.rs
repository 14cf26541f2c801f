//! Deposited proofs: one row per file, recorded only once its blob is fully stored (the caller
//! passes the stored blob's facts: key, size, SHA-256), in one transaction with its audit entry,
//! so a file is never half-visible.
//!
//! A deposit is never overwritten: a new file for the same expected proof is a new row. Each row
//! names the expected proof it answers by position in the requirement's scenarios of the
//! candidature's pinned REM version (checked on recording), with the REM's own numbers beside.
//! R5: proofs of requirements masked after submission are kept, marked no longer needed.
//! The verdict columns are filled by the instruction (a later step).

use preuves_domain::{RequirementId, missing_proofs};
use serde_json::json;

use crate::error::Refused;
use crate::ids::{Actor, CandidatureId, OrganisationId, ProofId};
use crate::stored_candidatures;
use crate::stored_proofs::{
    COLUMNS, NewProof, ProofRow, StoredProof, is_sha256_hex, load_proof, mark_no_longer_needed,
    proofs_of,
};
use crate::time::Timestamp;
use crate::{Db, DbError, Result};

impl Db {
    /// Records a deposited file on a candidature of `organisation`, after its blob was fully
    /// stored, in one transaction with its audit entry. The requirement and positions must
    /// exist in the pinned REM ([`Refused::UnknownRequirement`], [`Refused::UnknownProof`] otherwise); another organisation's
    /// candidature gives [`DbError::NotFound`]; a candidature in instruction or decided
    /// [`DbError::Conflict`] on [`preuves_domain::WorkflowConflict::DepositClosed`]; a blob key already recorded on
    /// [`crate::UniqueConstraint::ProofBlobKey`]. On a submitted candidature whose dossier this completes,
    /// `complete_at` is recorded (R5).
    pub async fn record_proof(
        &self,
        organisation: OrganisationId,
        candidature: CandidatureId,
        new: &NewProof,
        actor: &Actor,
    ) -> Result<StoredProof> {
        if !is_sha256_hex(&new.sha256) {
            return Err(DbError::Contract(
                "the SHA-256 must be 64 lower-case hexadecimal digits".to_owned(),
            ));
        }
        let size = i64::try_from(new.size)
            .map_err(|_| DbError::Contract("file too large to record".to_owned()))?;
        let seen = self.find_candidature_for(organisation, candidature).await?;
        let requirement = self
            .find_requirement(seen.rem_version, &new.requirement)
            .await?
            .ok_or_else(|| DbError::from(Refused::UnknownRequirement(new.requirement.to_string())))?
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
                DbError::from(Refused::UnknownProof {
                    requirement: new.requirement.to_string(),
                    scenario: new.scenario_index,
                    proof: new.proof_index,
                })
            })?;

        let mut tx = self.begin_audited().await?;
        let current = stored_candidatures::load(tx.conn(), candidature, Some(organisation)).await?;
        current.status.check_deposit()?;
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
        .map_err(DbError::from)?;
        let stored = StoredProof::try_from(row)?;
        let mut completed = false;
        if current.status != preuves_domain::CandidatureStatus::Draft
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
        stored_candidatures::load(&mut conn, candidature, Some(organisation)).await?;
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
        stored_candidatures::load(tx.conn(), candidature, None).await?;
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
