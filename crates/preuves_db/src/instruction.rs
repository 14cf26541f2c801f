//! Instruction (`docs/rules.md`): the instructors' queue, who holds a candidature, and
//! verdicts per deposited proof. Complement requests are in [`crate::complements`], decisions in
//! [`crate::decisions`], an object's history in [`crate::audit`].
//!
//! **Holding.** A candidature under review may be held by one instructor
//! ([`StoredCandidature::assigned_to`]): taking it into instruction assigns it to the acting
//! user when nobody holds it ([`Db::set_candidature_status`]), and so does the first instruction
//! act on an unheld candidature. Instruction acts (verdicts, complement requests, decisions) by
//! another user are refused with [`preuves_domain::WorkflowConflict::AssignedElsewhere`] until it is reassigned
//! with [`Db::assign_candidature`]. Instruction acts name a person: [`Actor::System`] is refused.
//!
//! **Which files need a verdict.** Deposits are never overwritten, so an expected proof may have
//! several files; the *current* one is the newest file still needed (not marked no longer
//! needed, R5). Each expected proof of the frozen plan's requirements to deposit needs a current
//! file judged compliant before the candidature can be granted
//! ([`preuves_domain::instruction_gaps`]); older files keep whatever verdict they had and need
//! none.

use preuves_domain::{
    CandidatureStatus, DispositifKey, IsoDate, Verdict, check_holder, check_verdict_target,
};
use serde::Serialize;
use serde_json::json;

use crate::error::Refused;
use crate::ids::{Actor, CandidatureId, OrganisationId, ProofId, UserId};
use crate::stored_candidatures::{self, StoredCandidature, hold_if_free};
use crate::stored_proofs::{self, StoredProof};
use crate::text::non_blank;
use crate::time::Timestamp;
use crate::{Db, DbError, Result};

/// Filters of the instruction queue (all optional, combined with AND).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueFilters {
    /// Only candidatures targeting this dispositif.
    pub dispositif: Option<DispositifKey>,
    /// Only this status (one of submitted, in instruction, complement requested).
    pub status: Option<CandidatureStatus>,
    /// Only this vendor organisation's.
    pub organisation: Option<OrganisationId>,
    /// Only candidatures whose target dispositif's date 2 is before this day ("date 2 passed").
    pub date2_before: Option<IsoDate>,
    /// Only candidatures held by this instructor.
    pub assigned_to: Option<UserId>,
}

/// One candidature of the instruction queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueEntry {
    /// The candidature.
    pub candidature: CandidatureId,
    /// The vendor organisation.
    pub organisation: OrganisationId,
    /// Its name.
    pub vendor_name: String,
    /// The target dispositif.
    pub target: DispositifKey,
    /// Its name.
    pub dispositif_name: String,
    /// Its date 2, if set.
    pub date2: Option<IsoDate>,
    /// Submitted, in instruction or complement requested.
    pub status: CandidatureStatus,
    /// The solution's name.
    pub solution_name: String,
    /// The candidate version.
    pub version: String,
    /// When it was submitted.
    pub submitted_at: Option<Timestamp>,
    /// When the dossier became complete, if it did.
    pub complete_at: Option<Timestamp>,
    /// The instructor holding it.
    pub assigned_to: Option<UserId>,
    /// That instructor's name.
    pub assigned_name: Option<String>,
    /// Current files (one per expected proof deposited).
    pub current_proofs: u64,
    /// Current files without a verdict yet.
    pub proofs_awaiting_verdict: u64,
}

struct QueueRow {
    id: i64,
    organisation_id: i64,
    vendor_name: String,
    code: String,
    wave: i64,
    dispositif_name: String,
    date2: Option<String>,
    status: String,
    solution_name: String,
    version: String,
    submitted_at: Option<i64>,
    complete_at: Option<i64>,
    assigned_to: Option<i64>,
    assigned_name: Option<String>,
    current_proofs: i64,
    awaiting: i64,
}

crate::row::impl_from_row!(QueueRow {
    id,
    organisation_id,
    vendor_name,
    code,
    wave,
    dispositif_name,
    date2,
    status,
    solution_name,
    version,
    submitted_at,
    complete_at,
    assigned_to,
    assigned_name,
    current_proofs,
    awaiting
});

/// A current file of candidature `c` (alias `p`): still needed, and no newer needed file answers
/// the same expected proof. The same rule as [`current_proofs`], for counting in SQL.
const CURRENT_PROOF: &str = "p.candidature_id = c.id AND p.no_longer_needed_at IS NULL \
     AND NOT EXISTS (SELECT 1 FROM proofs q WHERE q.candidature_id = p.candidature_id \
     AND q.requirement_code = p.requirement_code AND q.scenario_index = p.scenario_index \
     AND q.proof_index = p.proof_index AND q.no_longer_needed_at IS NULL AND q.id > p.id)";

/// The statuses of the queue, as SQL.
const UNDER_REVIEW: &str = "('submitted', 'in_instruction', 'complement_requested')";

impl TryFrom<QueueRow> for QueueEntry {
    type Error = DbError;
    fn try_from(r: QueueRow) -> Result<Self> {
        let count = |n: i64| u64::try_from(n).map_err(DbError::corrupt);
        Ok(Self {
            candidature: CandidatureId(r.id),
            organisation: OrganisationId(r.organisation_id),
            vendor_name: r.vendor_name,
            target: dispositif_key(&r.code, r.wave)?,
            dispositif_name: r.dispositif_name,
            date2: r
                .date2
                .as_deref()
                .map(IsoDate::parse)
                .transpose()
                .map_err(DbError::corrupt)?,
            status: CandidatureStatus::from_code(&r.status)
                .ok_or_else(|| DbError::corrupt(format!("unknown status `{}`", r.status)))?,
            solution_name: r.solution_name,
            version: r.version,
            submitted_at: r.submitted_at.map(Timestamp::from_millis),
            complete_at: r.complete_at.map(Timestamp::from_millis),
            assigned_to: r.assigned_to.map(UserId),
            assigned_name: r.assigned_name,
            current_proofs: count(r.current_proofs)?,
            proofs_awaiting_verdict: count(r.awaiting)?,
        })
    }
}

/// A dispositif key read from its stored code and wave.
fn dispositif_key(code: &str, wave: i64) -> Result<DispositifKey> {
    Ok(DispositifKey {
        code: preuves_domain::DispositifCode::parse(code).map_err(DbError::corrupt)?,
        wave: preuves_domain::Wave::from_number(wave)
            .ok_or_else(|| DbError::corrupt(format!("unknown wave {wave}")))?,
    })
}

/// The instructor acting: instruction acts name a person.
pub(crate) fn acting_user(actor: &Actor) -> Result<UserId> {
    match actor {
        Actor::User(u) => Ok(*u),
        Actor::System => Err(DbError::Contract(
            "an instruction act is done by a named instructor".to_owned(),
        )),
    }
}

/// The checks of every instruction act by `actor` on `c`: a named user, the candidature in
/// instruction ([`CandidatureStatus::check_instruction_act`]), not held by someone else
/// ([`check_holder`]). Returns the acting user.
pub(crate) fn check_instruction_act(c: &StoredCandidature, actor: &Actor) -> Result<UserId> {
    let user = acting_user(actor)?;
    c.status.check_instruction_act()?;
    check_holder(c.assigned_to, Some(user))?;
    Ok(user)
}

impl Db {
    /// The instruction queue: candidatures submitted, in instruction or waiting for
    /// complements, complete dossiers first (`complete_at` set), then by submission date,
    /// oldest first (the programme's rule), with their holder and how many current files await a
    /// verdict. A `status` filter outside those three gives [`Refused::QueueStatusNotUnderReview`].
    pub async fn list_instruction_queue(&self, filters: &QueueFilters) -> Result<Vec<QueueEntry>> {
        if filters.status.is_some_and(|s| !s.is_under_review()) {
            return Err(Refused::QueueStatusNotUnderReview.into());
        }
        let sql = format!(
            "SELECT c.id, c.organisation_id, o.name AS vendor_name, d.code, d.wave, \
             d.name AS dispositif_name, d.date2, c.status, c.solution_name, c.version, \
             c.submitted_at, c.complete_at, c.assigned_to, u.display_name AS assigned_name, \
             (SELECT COUNT(*) FROM proofs p WHERE {CURRENT_PROOF}) AS current_proofs, \
             (SELECT COUNT(*) FROM proofs p WHERE {CURRENT_PROOF} AND p.verdict IS NULL) \
             AS awaiting \
             FROM candidatures c \
             JOIN organisations o ON o.id = c.organisation_id \
             JOIN dispositifs d ON d.id = c.dispositif_id \
             LEFT JOIN users u ON u.id = c.assigned_to \
             WHERE c.status IN {UNDER_REVIEW} \
             AND ($1 = '' OR (d.code = $1 AND d.wave = $2)) \
             AND ($3 = '' OR c.status = $3) \
             AND ($4 < 0 OR c.organisation_id = $4) \
             AND ($5 = '' OR (d.date2 IS NOT NULL AND d.date2 < $5)) \
             AND ($6 < 0 OR c.assigned_to = $6) \
             ORDER BY CASE WHEN c.complete_at IS NULL THEN 1 ELSE 0 END, c.submitted_at, c.id"
        );
        let rows: Vec<QueueRow> = sqlx::query_as(&sql)
            .bind(filters.dispositif.as_ref().map_or("", |k| k.code.as_str()))
            .bind(
                filters
                    .dispositif
                    .as_ref()
                    .map_or(0, |k| i64::from(k.wave.number())),
            )
            .bind(filters.status.map_or("", CandidatureStatus::code))
            .bind(filters.organisation.map_or(-1, |o| o.0))
            .bind(
                filters
                    .date2_before
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            )
            .bind(filters.assigned_to.map_or(-1, |u| u.0))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(QueueEntry::try_from).collect()
    }

    /// Assigns a candidature under review to `instructor` (an active instructor account,
    /// [`Refused::NotAnActiveInstructor`] otherwise), whoever held it: this is how a candidature is handed
    /// over or unlocked. A draft or decided candidature gives [`preuves_domain::WorkflowConflict::NotUnderReview`];
    /// an unknown one [`DbError::NotFound`]. The audit entry keeps the previous holder.
    pub async fn assign_candidature(
        &self,
        id: CandidatureId,
        instructor: UserId,
        actor: &Actor,
    ) -> Result<StoredCandidature> {
        let mut tx = self.begin_audited().await?;
        let before = stored_candidatures::load(tx.conn(), id, None).await?;
        before.status.check_assignment()?;
        let account: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT role, disabled_at FROM users WHERE id = $1")
                .bind(instructor.0)
                .fetch_optional(tx.conn())
                .await?;
        if !matches!(&account, Some((role, None)) if role == "instructor") {
            return Err(Refused::NotAnActiveInstructor(instructor.0).into());
        }
        sqlx::query("UPDATE candidatures SET assigned_to = $1 WHERE id = $2")
            .bind(instructor.0)
            .bind(id.0)
            .execute(tx.conn())
            .await?;
        tx.record(
            actor,
            "candidature.assign",
            "candidature",
            &id.to_string(),
            json!({ "from": before.assigned_to, "to": instructor }),
        )
        .await?;
        let stored = stored_candidatures::load(tx.conn(), id, None).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Records `actor`'s verdict on a deposited proof, with a comment (required unless
    /// compliant: [`Refused::VerdictNeedsComment`]). A verdict may be changed while the candidature is in
    /// instruction; each change is audited with the previous verdict. Refused with
    /// [`preuves_domain::WorkflowConflict::NotInInstruction`] or [`preuves_domain::WorkflowConflict::AlreadyDecided`] (status),
    /// [`preuves_domain::WorkflowConflict::AssignedElsewhere`] (another instructor holds it; an unheld candidature
    /// becomes held by the actor), [`preuves_domain::WorkflowConflict::ProofNoLongerNeeded`] (R5, or not asked by the
    /// plan), [`preuves_domain::WorkflowConflict::ProofSuperseded`] (a newer file answers the same expected proof).
    /// An unknown proof gives [`DbError::NotFound`].
    pub async fn record_verdict(
        &self,
        proof: ProofId,
        verdict: Verdict,
        comment: Option<&str>,
        actor: &Actor,
    ) -> Result<StoredProof> {
        let user = acting_user(actor)?;
        let comment = non_blank(comment);
        if verdict.needs_comment() && comment.is_none() {
            return Err(Refused::VerdictNeedsComment(verdict).into());
        }
        let mut tx = self.begin_audited().await?;
        let before = stored_proofs::load_proof(tx.conn(), proof).await?;
        let c = stored_candidatures::load(tx.conn(), before.candidature, None).await?;
        check_instruction_act(&c, actor)?;
        let all = stored_proofs::proofs_of(tx.conn(), c.id).await?;
        check_verdict_target(c.plan.as_ref(), &before, &all)?;
        let held = hold_if_free(tx.conn(), &c, user).await?;
        let now = Timestamp::now().as_millis();
        sqlx::query(
            "UPDATE proofs SET verdict = $1, verdict_comment = $2, judged_by = $3, \
             judged_at = $4 WHERE id = $5",
        )
        .bind(verdict.code())
        .bind(comment.as_deref())
        .bind(actor.to_string())
        .bind(now)
        .bind(proof.0)
        .execute(tx.conn())
        .await?;
        tx.record(
            actor,
            "proof.verdict",
            "candidature",
            &c.id.to_string(),
            json!({
                "proof": proof,
                "requirement": before.requirement,
                "scenario_index": before.scenario_index,
                "proof_index": before.proof_index,
                "file_name": before.file_name,
                "sha256": before.sha256,
                "before": {
                    "verdict": before.verdict,
                    "comment": before.verdict_comment,
                    "judged_by": before.judged_by,
                },
                "verdict": verdict,
                "comment": comment,
                "now_held_by": held.then_some(user),
            }),
        )
        .await?;
        let stored = stored_proofs::load_proof(tx.conn(), proof).await?;
        tx.commit().await?;
        Ok(stored)
    }
}
