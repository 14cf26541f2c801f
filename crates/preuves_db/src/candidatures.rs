//! Candidatures: the administrative step, submission with its frozen plan, late NRUs (R5) and
//! the lifecycle of `docs/rules.md`.
//!
//! A candidature is opened as a draft on a vague-2 dispositif and pinned to the REM version
//! current at that moment ([`StoredCandidature::rem_version`]); a later REM import never changes
//! it. While it is a draft, its administrative step can be edited (optimistic concurrency on
//! [`StoredCandidature::revision`]); the plan is live and computed by the engine from
//! [`StoredCandidature::to_domain`]. Submission computes the plan with the engine on the pinned
//! catalogue, freezes it as a [`PlanSnapshot`], computes whether the dossier is complete (every
//! expected proof of every requirement to deposit has a file) and records when it was
//! ([`StoredCandidature::complete_at`], for R5).
//!
//! Every change runs in one audited transaction; since audited transactions are serialised by
//! the audit chain's lock, a check followed by its update cannot interleave with another change:
//! of two concurrent submissions exactly one succeeds, the other gets
//! [`WorkflowConflict::AlreadySubmitted`].

use preuves_domain::{
    CandidatureStatus, DispositifKey, Nru, PlanSnapshot, Refusal, RequirementId, Siren, Wave,
    WorkflowConflict, check_holder, compute_plan, holder_after, missing_proofs,
};
use serde_json::json;
use sqlx::AnyConnection;

use crate::conflicts::Conflict;
use crate::error::Refused;
use crate::ids::{Actor, CandidatureId, OrganisationId, SolutionId};
use crate::solutions::json_text;
use crate::stored_candidatures::{
    AdministrativeStep, CandidatureRow, SELECT, StoredCandidature, honour_sha256, honour_size, load,
};
use crate::stored_proofs::{mark_no_longer_needed, proofs_of};
use crate::time::Timestamp;
use crate::{Db, DbError, Result};

/// The outcome of [`Db::record_late_nrus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LateNrusOutcome {
    /// Recorded, with the recomputed plan.
    Recorded {
        /// The candidature after the change.
        candidature: Box<StoredCandidature>,
        /// Requirements to deposit before, masked now.
        newly_masked: Vec<String>,
        /// Deposited proofs marked as no longer needed.
        proofs_no_longer_needed: u64,
    },
    /// The engine refused (R5 outside its conditions, R8, R1, ...): nothing was changed.
    Refused(Vec<Refusal>),
}

/// The name and main component of `organisation`'s solution `id` (NotFound otherwise).
async fn solution_of(
    conn: &mut AnyConnection,
    organisation: OrganisationId,
    id: SolutionId,
) -> Result<(String, String)> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT name, main_component FROM solutions WHERE id = $1 AND organisation_id = $2",
    )
    .bind(id.0)
    .bind(organisation.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.ok_or(DbError::NotFound)
}

impl Db {
    /// Opens a draft candidature of `organisation` on the vague-2 dispositif `target`, pinned to
    /// its current REM version. An unknown organisation, solution (or another organisation's),
    /// dispositif or a dispositif without REM gives [`DbError::NotFound`]; a vague-1 target
    /// [`Refused::TargetNotVague2`]. The step is stored as entered: the engine judges it.
    pub async fn create_candidature(
        &self,
        organisation: OrganisationId,
        target: &DispositifKey,
        step: &AdministrativeStep,
        actor: &Actor,
    ) -> Result<StoredCandidature> {
        if target.wave != Wave::Two {
            return Err(Refused::TargetNotVague2(target.clone()).into());
        }
        let mut tx = self.begin_audited().await?;
        let pinned: Option<(i64, i64)> = sqlx::query_as(
            "SELECT v.id, d.id FROM rem_versions v JOIN dispositifs d ON d.id = v.dispositif_id \
             WHERE d.code = $1 AND d.wave = $2 ORDER BY v.version DESC LIMIT 1",
        )
        .bind(target.code.as_str())
        .bind(i64::from(target.wave.number()))
        .fetch_optional(tx.conn())
        .await?;
        let (rem_version, dispositif) = pinned.ok_or(DbError::NotFound)?;
        let (solution_name, main_component) =
            solution_of(tx.conn(), organisation, step.solution).await?;
        let now = Timestamp::now().as_millis();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO candidatures (organisation_id, solution_id, dispositif_id, \
             rem_version_id, status, solution_name, main_component, optional_profiles, version, \
             nrus, additional_components, commercial_names, honour_blob_key, honour_file_name, \
             honour_sha256, honour_size, late_nrus, revision, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             '[]', 1, $16, $16) RETURNING id",
        )
        .bind(organisation.0)
        .bind(step.solution.0)
        .bind(dispositif)
        .bind(rem_version)
        .bind(&solution_name)
        .bind(&main_component)
        .bind(json_text(&step.optional_profiles)?)
        .bind(step.version.as_str())
        .bind(json_text(&step.nrus)?)
        .bind(json_text(&crate::text::components_without_bidi_controls(
            &step.additional_components,
        ))?)
        .bind(json_text(&crate::text::names_without_bidi_controls(
            &step.commercial_names,
        ))?)
        .bind(step.honour_statement.as_ref().map(|h| h.blob_key.as_str()))
        .bind(step.honour_statement.as_ref().map(|h| h.file_name.as_str()))
        .bind(honour_sha256(step))
        .bind(honour_size(step)?)
        .bind(now)
        .fetch_one(tx.conn())
        .await?;
        tx.record(
            actor,
            "candidature.create",
            "candidature",
            &id.to_string(),
            json!({
                "organisation": organisation,
                "target": { "code": target.code, "wave": target.wave },
                "rem_version": rem_version,
                "step": step,
            }),
        )
        .await?;
        let stored = load(tx.conn(), CandidatureId(id), None).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Replaces the administrative step of a draft of `organisation`, based on
    /// `expected_revision`. Another organisation's candidature gives [`DbError::NotFound`]; one
    /// no longer a draft [`DbError::Conflict`] on [`WorkflowConflict::NotDraft`]; one changed since
    /// on [`Conflict::StaleRevision`]. A refused edit changes nothing.
    pub async fn update_candidature_step(
        &self,
        organisation: OrganisationId,
        id: CandidatureId,
        expected_revision: i64,
        step: &AdministrativeStep,
        actor: &Actor,
    ) -> Result<StoredCandidature> {
        let mut tx = self.begin_audited().await?;
        let before = load(tx.conn(), id, Some(organisation)).await?;
        before.status.check_step_edit()?;
        if before.revision != expected_revision {
            return Err(Conflict::StaleRevision.into());
        }
        let (solution_name, main_component) =
            solution_of(tx.conn(), organisation, step.solution).await?;
        let done = sqlx::query(
            "UPDATE candidatures SET solution_id = $1, solution_name = $2, main_component = $3, \
             optional_profiles = $4, version = $5, nrus = $6, additional_components = $7, \
             commercial_names = $8, honour_blob_key = $9, honour_file_name = $10, \
             honour_sha256 = $11, honour_size = $12, revision = revision + 1, updated_at = $13 \
             WHERE id = $14 AND revision = $15 AND status = 'draft'",
        )
        .bind(step.solution.0)
        .bind(&solution_name)
        .bind(&main_component)
        .bind(json_text(&step.optional_profiles)?)
        .bind(step.version.as_str())
        .bind(json_text(&step.nrus)?)
        .bind(json_text(&crate::text::components_without_bidi_controls(
            &step.additional_components,
        ))?)
        .bind(json_text(&crate::text::names_without_bidi_controls(
            &step.commercial_names,
        ))?)
        .bind(step.honour_statement.as_ref().map(|h| h.blob_key.as_str()))
        .bind(step.honour_statement.as_ref().map(|h| h.file_name.as_str()))
        .bind(honour_sha256(step))
        .bind(honour_size(step)?)
        .bind(Timestamp::now().as_millis())
        .bind(id.0)
        .bind(expected_revision)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Err(Conflict::StaleRevision.into());
        }
        tx.record(
            actor,
            "candidature.update_step",
            "candidature",
            &id.to_string(),
            json!({ "revision": expected_revision + 1, "before": before.step, "after": step }),
        )
        .await?;
        let stored = load(tx.conn(), id, None).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// A candidature of `organisation`: [`DbError::NotFound`] when it does not exist or is
    /// another organisation's.
    pub async fn find_candidature_for(
        &self,
        organisation: OrganisationId,
        id: CandidatureId,
    ) -> Result<StoredCandidature> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, id, Some(organisation)).await
    }

    /// Any candidature, for staff (instructors, administrators).
    pub async fn find_candidature(&self, id: CandidatureId) -> Result<Option<StoredCandidature>> {
        let mut conn = self.pool.acquire().await?;
        match load(&mut conn, id, None).await {
            Ok(c) => Ok(Some(c)),
            Err(DbError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The candidatures of `organisation` (every one when `None`, for staff), optionally of one
    /// status only, newest first.
    pub async fn list_candidatures(
        &self,
        organisation: Option<OrganisationId>,
        status: Option<CandidatureStatus>,
    ) -> Result<Vec<StoredCandidature>> {
        let sql = format!(
            "{SELECT} WHERE ($1 < 0 OR c.organisation_id = $1) AND ($2 = '' OR c.status = $2) \
             ORDER BY c.id DESC"
        );
        let rows: Vec<CandidatureRow> = sqlx::query_as(&sql)
            .bind(organisation.map_or(-1, |o| o.0))
            .bind(status.map_or("", CandidatureStatus::code))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(StoredCandidature::try_from).collect()
    }

    /// The engine's plan for a stored candidature, on its pinned REM version and the current
    /// register, frozen as a [`PlanSnapshot`]; the inner error is the engine's refusals.
    pub async fn candidature_plan(
        &self,
        candidature: &StoredCandidature,
    ) -> Result<Result<PlanSnapshot, Vec<Refusal>>> {
        Ok(self
            .live_plan(candidature)
            .await?
            .map(|(snapshot, _)| snapshot))
    }

    /// [`Db::candidature_plan`] with the engine's warnings (R6) as refusals.
    async fn live_plan(
        &self,
        candidature: &StoredCandidature,
    ) -> Result<Result<(PlanSnapshot, Vec<Refusal>), Vec<Refusal>>> {
        let (siren,): (String,) = sqlx::query_as("SELECT siren FROM organisations WHERE id = $1")
            .bind(candidature.organisation.0)
            .fetch_one(&self.pool)
            .await?;
        let siren = Siren::parse(&siren).map_err(DbError::corrupt)?;
        let domain = candidature.to_domain(&siren);
        let catalogue = self
            .load_catalogue_pinned(&[candidature.rem_version])
            .await?;
        let nrus: Vec<Nru> = domain.all_nrus().cloned().collect();
        let register = self.referencings_by_nru(&nrus).await?;
        Ok(compute_plan(&catalogue, &register, &domain)
            .map(|p| (PlanSnapshot::from_plan(&p), p.warnings.clone())))
    }

    /// Submits a draft of `organisation` based on `expected_revision`: computes and freezes
    /// its plan, checks the dossier is complete (or that `confirm_incomplete` says the vendor
    /// knowingly submits it incomplete: [`WorkflowConflict::IncompleteDossier`] otherwise), and records
    /// `submitted_at` and, when complete, `complete_at`. A candidature already submitted gives
    /// [`WorkflowConflict::AlreadySubmitted`]; one changed since [`Conflict::StaleRevision`]; one
    /// the engine refuses [`Refused::Plan`], one with a warning that blocks submission (R6)
    /// [`Refused::SubmissionBlocked`], each with the engine's refusals.
    pub async fn submit_candidature(
        &self,
        organisation: OrganisationId,
        id: CandidatureId,
        expected_revision: i64,
        confirm_incomplete: bool,
        actor: &Actor,
    ) -> Result<StoredCandidature> {
        let seen = self.find_candidature_for(organisation, id).await?;
        seen.status.check_submission()?;
        let snapshot = match self.live_plan(&seen).await? {
            Ok((_, warnings)) if !warnings.is_empty() => {
                return Err(Refused::SubmissionBlocked(warnings).into());
            }
            Ok((snapshot, _)) => snapshot,
            Err(refusals) => return Err(Refused::Plan(refusals).into()),
        };
        let mut tx = self.begin_audited().await?;
        let now_c = load(tx.conn(), id, Some(organisation)).await?;
        now_c.status.check_submission()?;
        if now_c.revision != expected_revision || now_c.revision != seen.revision {
            return Err(Conflict::StaleRevision.into());
        }
        let proofs = proofs_of(tx.conn(), id).await?;
        let missing = missing_proofs(&snapshot, &proofs).len();
        if missing > 0 && !confirm_incomplete {
            return Err(WorkflowConflict::IncompleteDossier.into());
        }
        let now = Timestamp::now().as_millis();
        // Files deposited on the draft for requirements the frozen plan masks (an NRU entered
        // after the upload) are kept but need no verdict, like R5's.
        let mut not_asked: Vec<RequirementId> = proofs
            .iter()
            .filter(|p| p.is_needed())
            .filter(|p| !snapshot.asks_proofs_for(p.requirement.as_str()))
            .map(|p| p.requirement.clone())
            .collect();
        not_asked.sort();
        not_asked.dedup();
        let no_longer_needed = mark_no_longer_needed(tx.conn(), id, &not_asked, now).await?;
        let done = sqlx::query(
            "UPDATE candidatures SET status = 'submitted', plan_snapshot = $1, submitted_at = $2, \
             complete_at = $3, status_changed_at = $2, updated_at = $2, revision = revision + 1 \
             WHERE id = $4 AND status = 'draft' AND revision = $5",
        )
        .bind(json_text(&snapshot)?)
        .bind(now)
        .bind((missing == 0).then_some(now))
        .bind(id.0)
        .bind(expected_revision)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Err(WorkflowConflict::AlreadySubmitted.into());
        }
        tx.record(
            actor,
            "candidature.submit",
            "candidature",
            &id.to_string(),
            json!({
                "from": CandidatureStatus::Draft, "to": CandidatureStatus::Submitted,
                "rem_version": now_c.rem_version,
                "summary": snapshot.summary,
                "missing_proofs": missing,
                "complete": missing == 0,
                "proofs_no_longer_needed": no_longer_needed,
            }),
        )
        .await?;
        let stored = load(tx.conn(), id, None).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// R5: records NRUs obtained since submission on a candidature of `organisation` under
    /// review, based on `expected_revision`. The engine recomputes the plan on the pinned REM
    /// with every NRU (it checks R5's conditions itself: an équivalence NRU, a dossier complete
    /// by date 2); when it refuses, nothing changes. Otherwise the new plan is frozen and the
    /// proofs deposited for the requirements it masks are marked no longer needed (kept).
    pub async fn record_late_nrus(
        &self,
        organisation: OrganisationId,
        id: CandidatureId,
        expected_revision: i64,
        nrus: &[Nru],
        actor: &Actor,
    ) -> Result<LateNrusOutcome> {
        let mut seen = self.find_candidature_for(organisation, id).await?;
        seen.status.check_late_nrus()?;
        if seen.revision != expected_revision {
            return Err(Conflict::StaleRevision.into());
        }
        for nru in nrus {
            if !seen.late_nrus.contains(nru) && !seen.step.nrus.contains(nru) {
                seen.late_nrus.push(nru.clone());
            }
        }
        let snapshot = match self.candidature_plan(&seen).await? {
            Ok(s) => s,
            Err(refusals) => return Ok(LateNrusOutcome::Refused(refusals)),
        };
        let newly_masked = snapshot.newly_masked_since(&seen.plan.clone().unwrap_or_default());

        let mut tx = self.begin_audited().await?;
        let current = load(tx.conn(), id, Some(organisation)).await?;
        if current.revision != expected_revision {
            return Err(Conflict::StaleRevision.into());
        }
        let now = Timestamp::now().as_millis();
        sqlx::query(
            "UPDATE candidatures SET late_nrus = $1, plan_snapshot = $2, updated_at = $3, \
             revision = revision + 1 WHERE id = $4",
        )
        .bind(json_text(&seen.late_nrus)?)
        .bind(json_text(&snapshot)?)
        .bind(now)
        .bind(id.0)
        .execute(tx.conn())
        .await?;
        let ids: Vec<RequirementId> = newly_masked
            .iter()
            .map(|r| RequirementId::parse(r).map_err(DbError::corrupt))
            .collect::<Result<_>>()?;
        let marked = mark_no_longer_needed(tx.conn(), id, &ids, now).await?;
        tx.record(
            actor,
            "candidature.late_nrus",
            "candidature",
            &id.to_string(),
            json!({
                "nrus": nrus,
                "late_nrus": seen.late_nrus,
                "newly_masked": newly_masked,
                "proofs_no_longer_needed": marked,
                "summary": snapshot.summary,
            }),
        )
        .await?;
        let candidature = load(tx.conn(), id, None).await?;
        tx.commit().await?;
        Ok(LateNrusOutcome::Recorded {
            candidature: Box::new(candidature),
            newly_masked,
            proofs_no_longer_needed: marked,
        })
    }

    /// Moves a candidature along its lifecycle (staff: instruction, complement request,
    /// decision), naming why. A move the lifecycle does not allow gives [`DbError::Conflict`]
    /// on [`WorkflowConflict::InvalidTransition`]; the audit entry keeps who, from, to and why.
    ///
    /// Granting is not a status change: it issues an NRU ([`Db::prepare_grant`],
    /// [`Db::grant_candidature`]), so `to` = referenced is refused with
    /// [`WorkflowConflict::InvalidTransition`]. Taking a submitted candidature into instruction
    /// assigns it to the acting user when nobody holds it; a user acting on a candidature
    /// another instructor holds is refused with [`WorkflowConflict::AssignedElsewhere`].
    pub async fn set_candidature_status(
        &self,
        id: CandidatureId,
        to: CandidatureStatus,
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<StoredCandidature> {
        let mut tx = self.begin_audited().await?;
        let before = load(tx.conn(), id, None).await?;
        before.status.check_status_change(to)?;
        check_holder(before.assigned_to, actor.user())?;
        let assigned_to = holder_after(before.status, to, actor.user(), before.assigned_to);
        let now = Timestamp::now().as_millis();
        sqlx::query(
            "UPDATE candidatures SET status = $1, status_reason = $2, status_changed_at = $3, \
             updated_at = $3, revision = revision + 1, assigned_to = $4 \
             WHERE id = $5 AND status = $6",
        )
        .bind(to.code())
        .bind(reason)
        .bind(now)
        .bind(assigned_to.map(|u| u.0))
        .bind(id.0)
        .bind(before.status.code())
        .execute(tx.conn())
        .await?;
        let mut details = json!({ "from": before.status, "to": to, "reason": reason });
        if assigned_to != before.assigned_to {
            details["assigned_to"] = json!(assigned_to);
        }
        tx.record(
            actor,
            "candidature.status",
            "candidature",
            &id.to_string(),
            details,
        )
        .await?;
        let stored = load(tx.conn(), id, None).await?;
        tx.commit().await?;
        Ok(stored)
    }
}
