//! Instruction (`docs/rules.md`): the instructors' queue, who holds a candidature, verdicts per
//! deposited proof, complement requests and their answers, and a candidature's history.
//!
//! **Holding.** A candidature under review may be held by one instructor
//! ([`StoredCandidature::assigned_to`]): taking it into instruction assigns it to the acting
//! user when nobody holds it ([`Db::set_candidature_status`]), and so does the first instruction
//! act on an unheld candidature. Instruction acts (verdicts, complement requests, decisions) by
//! another user are refused with [`conflicts::ASSIGNED_ELSEWHERE`] until it is reassigned with
//! [`Db::assign_candidature`]. Instruction acts name a person: [`Actor::System`] is refused.
//!
//! **Which files need a verdict.** Deposits are never overwritten, so an expected proof may have
//! several files; the *current* one is the newest file still needed (not marked no longer
//! needed, R5). Each expected proof of the frozen plan's requirements to deposit needs a current
//! file judged compliant before the candidature can be granted ([`instruction_gaps`]); older
//! files keep whatever verdict they had and need none.
//!
//! **Complements.** A request moves the candidature from in instruction to complement
//! requested and is kept forever in `complement_requests`; the vendor deposits files
//! (allowed in that status) and answers, which records the answer on the open request and moves
//! the candidature back to **in instruction**, not to submitted: it stays with the instructor
//! who asked, whose verdicts still stand, and resumes where it stopped instead of queueing again.

use std::collections::HashMap;
use std::fmt;

use preuves_domain::{DispositifKey, IsoDate, RequirementId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::Actor;
use crate::candidatures::{
    self, CandidatureId, CandidatureStatus, PlanSnapshot, StoredCandidature,
};
use crate::conflicts::{self, conflict};
use crate::organisations::OrganisationId;
use crate::proofs::{self, ProofId, StoredProof};
use crate::time::Timestamp;
use crate::users::UserId;
use crate::{Db, DbError, Result};

/// An instructor's verdict on a deposited proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// « conforme ».
    Compliant,
    /// « non conforme ».
    NotCompliant,
    /// « complément demandé »: the file does not suffice yet.
    ComplementRequested,
}

impl Verdict {
    /// Every verdict.
    pub const ALL: [Self; 3] = [
        Self::Compliant,
        Self::NotCompliant,
        Self::ComplementRequested,
    ];

    /// The stable code stored in `proofs.verdict`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Compliant => "compliant",
            Self::NotCompliant => "not_compliant",
            Self::ComplementRequested => "complement_requested",
        }
    }

    /// Parses the stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == code)
    }

    /// The French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Compliant => "conforme",
            Self::NotCompliant => "non conforme",
            Self::ComplementRequested => "complément demandé",
        }
    }

    /// The verdict a stored proof carries, if it was judged.
    pub fn of(proof: &StoredProof) -> Option<Self> {
        proof.verdict.as_deref().and_then(Self::from_code)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why an expected proof stands in the way of a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// No file was deposited for it.
    Missing,
    /// Its current file has no verdict yet.
    AwaitingVerdict,
    /// Its current file was judged not compliant.
    NotCompliant,
    /// Its current file was judged insufficient (complement requested).
    ComplementRequested,
}

/// An expected proof of the frozen plan that is not proven yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstructionGap {
    /// The requirement.
    pub requirement: String,
    /// The scenario's position in the requirement.
    pub scenario_index: i64,
    /// The proof's position in the scenario.
    pub proof_index: i64,
    /// The current file, if any.
    pub proof: Option<ProofId>,
    /// What is wrong.
    pub kind: GapKind,
}

/// The current file of each expected proof: the newest file still needed, by (requirement,
/// scenario, proof) position. Older files and files no longer needed are left out.
pub fn current_proofs(proofs: &[StoredProof]) -> Vec<&StoredProof> {
    current_by_position(proofs).into_values().collect()
}

type Position<'a> = (&'a str, i64, i64);

fn current_by_position(proofs: &[StoredProof]) -> HashMap<Position<'_>, &StoredProof> {
    let mut current: HashMap<Position<'_>, &StoredProof> = HashMap::new();
    for p in proofs.iter().filter(|p| p.is_needed()) {
        let position = (p.requirement.as_str(), p.scenario_index, p.proof_index);
        match current.get(&position) {
            Some(q) if q.id > p.id => {}
            _ => {
                current.insert(position, p);
            }
        }
    }
    current
}

/// What stands in the way of granting: every expected proof of `plan`'s requirements to deposit
/// whose current file is missing, not judged, or judged other than compliant, in plan order.
/// Empty means the instruction is complete.
pub fn instruction_gaps(plan: &PlanSnapshot, proofs: &[StoredProof]) -> Vec<InstructionGap> {
    let current = current_by_position(proofs);
    let mut gaps = Vec::new();
    for entry in plan.entries.iter().filter(|e| e.is_to_deposit()) {
        for x in &entry.expected {
            let file = current.get(&(entry.requirement.as_str(), x.scenario_index, x.proof_index));
            let kind = match file.map(|p| Verdict::of(p)) {
                None => GapKind::Missing,
                Some(None) => GapKind::AwaitingVerdict,
                Some(Some(Verdict::Compliant)) => continue,
                Some(Some(Verdict::NotCompliant)) => GapKind::NotCompliant,
                Some(Some(Verdict::ComplementRequested)) => GapKind::ComplementRequested,
            };
            gaps.push(InstructionGap {
                requirement: entry.requirement.clone(),
                scenario_index: x.scenario_index,
                proof_index: x.proof_index,
                proof: file.map(|p| p.id),
                kind,
            });
        }
    }
    gaps
}

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

/// One item of a complement request: a requirement and what is asked about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplementItem {
    /// The requirement (to deposit in the frozen plan).
    pub requirement: RequirementId,
    /// What the instructor asks about it (may be empty: the message says it all).
    pub comment: String,
}

/// A complement request's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ComplementRequestId(pub i64);

/// A complement request and, once given, the vendor's answer; kept forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplementRequest {
    /// Its id.
    pub id: ComplementRequestId,
    /// The candidature.
    pub candidature: CandidatureId,
    /// The instructor's message.
    pub message: String,
    /// The requirements concerned, with a comment each.
    pub items: Vec<ComplementItem>,
    /// When it was asked.
    pub requested_at: Timestamp,
    /// Who asked ([`Actor`]'s text form).
    pub requested_by: String,
    /// That user's display name.
    pub requested_by_name: Option<String>,
    /// The vendor's answer, once given.
    pub answer: Option<String>,
    /// When it was answered.
    pub answered_at: Option<Timestamp>,
    /// Who answered ([`Actor`]'s text form).
    pub answered_by: Option<String>,
    /// That user's display name.
    pub answered_by_name: Option<String>,
}

impl ComplementRequest {
    /// Whether the vendor has not answered yet.
    pub fn is_open(&self) -> bool {
        self.answered_at.is_none()
    }
}

struct ComplementRow {
    id: i64,
    candidature_id: i64,
    message: String,
    items: String,
    requested_at: i64,
    requested_by: String,
    requested_by_name: Option<String>,
    answer: Option<String>,
    answered_at: Option<i64>,
    answered_by: Option<String>,
    answered_by_name: Option<String>,
}

crate::row::impl_from_row!(ComplementRow {
    id,
    candidature_id,
    message,
    items,
    requested_at,
    requested_by,
    requested_by_name,
    answer,
    answered_at,
    answered_by,
    answered_by_name
});

/// `users` joined on an actor column holding [`Actor`]'s text form (`user:42`).
fn actor_join(alias: &str, column: &str) -> String {
    format!("LEFT JOIN users {alias} ON {column} = 'user:' || CAST({alias}.id AS TEXT)")
}

fn complement_select() -> String {
    format!(
        "SELECT r.id, r.candidature_id, r.message, r.items, r.requested_at, r.requested_by, \
         ru.display_name AS requested_by_name, r.answer, r.answered_at, r.answered_by, \
         au.display_name AS answered_by_name FROM complement_requests r {} {}",
        actor_join("ru", "r.requested_by"),
        actor_join("au", "r.answered_by")
    )
}

impl TryFrom<ComplementRow> for ComplementRequest {
    type Error = DbError;
    fn try_from(r: ComplementRow) -> Result<Self> {
        Ok(Self {
            id: ComplementRequestId(r.id),
            candidature: CandidatureId(r.candidature_id),
            message: r.message,
            items: serde_json::from_str(&r.items).map_err(DbError::corrupt)?,
            requested_at: Timestamp::from_millis(r.requested_at),
            requested_by: r.requested_by,
            requested_by_name: r.requested_by_name,
            answer: r.answer,
            answered_at: r.answered_at.map(Timestamp::from_millis),
            answered_by: r.answered_by,
            answered_by_name: r.answered_by_name,
        })
    }
}

async fn load_complement(
    conn: &mut AnyConnection,
    id: ComplementRequestId,
) -> Result<ComplementRequest> {
    let row: ComplementRow = sqlx::query_as(&format!("{} WHERE r.id = $1", complement_select()))
        .bind(id.0)
        .fetch_one(&mut *conn)
        .await?;
    ComplementRequest::try_from(row)
}

async fn complements_of(
    conn: &mut AnyConnection,
    candidature: CandidatureId,
) -> Result<Vec<ComplementRequest>> {
    let rows: Vec<ComplementRow> = sqlx::query_as(&format!(
        "{} WHERE r.candidature_id = $1 ORDER BY r.id",
        complement_select()
    ))
    .bind(candidature.0)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(ComplementRequest::try_from).collect()
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

/// The instructor acting: instruction acts name a person.
pub(crate) fn acting_user(actor: &Actor) -> Result<UserId> {
    match actor {
        Actor::User(u) => Ok(*u),
        Actor::System => Err(DbError::Invalid(
            "un acte d'instruction doit être fait par un instructeur nommé".to_owned(),
        )),
    }
}

/// Refuses a user acting on a candidature another instructor holds.
pub(crate) fn check_holder(c: &StoredCandidature, actor: &Actor) -> Result<()> {
    match (actor, c.assigned_to) {
        (Actor::User(u), Some(holder)) if holder != *u => {
            Err(conflict(conflicts::ASSIGNED_ELSEWHERE))
        }
        _ => Ok(()),
    }
}

/// Checks `c` is in instruction (a decided one gives [`conflicts::ALREADY_DECIDED`]).
pub(crate) fn check_in_instruction(c: &StoredCandidature) -> Result<()> {
    match c.status {
        CandidatureStatus::InInstruction => Ok(()),
        CandidatureStatus::Referenced | CandidatureStatus::Refused => {
            Err(conflict(conflicts::ALREADY_DECIDED))
        }
        _ => Err(conflict(conflicts::NOT_IN_INSTRUCTION)),
    }
}

/// The checks of every instruction act by `actor` on `c`: a named user, the candidature in
/// instruction, not held by someone else. Returns the acting user.
pub(crate) fn check_instruction_act(c: &StoredCandidature, actor: &Actor) -> Result<UserId> {
    let user = acting_user(actor)?;
    check_in_instruction(c)?;
    check_holder(c, actor)?;
    Ok(user)
}

/// Makes `user` the holder of `c` if nobody holds it; returns whether it did.
pub(crate) async fn hold_if_free(
    conn: &mut AnyConnection,
    c: &StoredCandidature,
    user: UserId,
) -> Result<bool> {
    if c.assigned_to.is_some() {
        return Ok(false);
    }
    sqlx::query("UPDATE candidatures SET assigned_to = $1 WHERE id = $2 AND assigned_to IS NULL")
        .bind(user.0)
        .bind(c.id.0)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// A trimmed text, or `None` when empty.
pub(crate) fn non_blank(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

impl Db {
    /// The instruction queue: candidatures submitted, in instruction or waiting for
    /// complements, complete dossiers first (`complete_at` set), then by submission date,
    /// oldest first (the programme's rule), with their holder and how many current files await a
    /// verdict. A `status` filter outside those three gives [`DbError::Invalid`].
    pub async fn list_instruction_queue(&self, filters: &QueueFilters) -> Result<Vec<QueueEntry>> {
        if filters.status.is_some_and(|s| !s.is_under_review()) {
            return Err(DbError::Invalid(
                "la file d'instruction ne contient que des candidatures déposées, en instruction \
                 ou en attente de compléments"
                    .to_owned(),
            ));
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
    /// [`DbError::Invalid`] otherwise), whoever held it: this is how a candidature is handed
    /// over or unlocked. A draft or decided candidature gives [`conflicts::NOT_UNDER_REVIEW`];
    /// an unknown one [`DbError::NotFound`]. The audit entry keeps the previous holder.
    pub async fn assign_candidature(
        &self,
        id: CandidatureId,
        instructor: UserId,
        actor: &Actor,
    ) -> Result<StoredCandidature> {
        let mut tx = self.begin_audited().await?;
        let before = candidatures::load(tx.conn(), id, None).await?;
        if !before.status.is_under_review() {
            return Err(conflict(conflicts::NOT_UNDER_REVIEW));
        }
        let account: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT role, disabled_at FROM users WHERE id = $1")
                .bind(instructor.0)
                .fetch_optional(tx.conn())
                .await?;
        if !matches!(&account, Some((role, None)) if role == "instructor") {
            return Err(DbError::Invalid(format!(
                "le compte {} n'est pas un compte d'instructeur actif",
                instructor.0
            )));
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
        let stored = candidatures::load(tx.conn(), id, None).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Records `actor`'s verdict on a deposited proof, with a comment (required unless
    /// compliant: [`DbError::Invalid`]). A verdict may be changed while the candidature is in
    /// instruction; each change is audited with the previous verdict. Refused with
    /// [`conflicts::NOT_IN_INSTRUCTION`] or [`conflicts::ALREADY_DECIDED`] (status),
    /// [`conflicts::ASSIGNED_ELSEWHERE`] (another instructor holds it; an unheld candidature
    /// becomes held by the actor), [`conflicts::PROOF_NO_LONGER_NEEDED`] (R5, or not asked by the
    /// plan), [`conflicts::PROOF_SUPERSEDED`] (a newer file answers the same expected proof).
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
        if verdict != Verdict::Compliant && comment.is_none() {
            return Err(DbError::Invalid(format!(
                "un verdict « {} » doit être motivé par un commentaire",
                verdict.label()
            )));
        }
        let mut tx = self.begin_audited().await?;
        let before = proofs::load_proof(tx.conn(), proof).await?;
        let c = candidatures::load(tx.conn(), before.candidature, None).await?;
        check_instruction_act(&c, actor)?;
        let asked = c.plan.as_ref().is_some_and(|plan| {
            plan.entry(before.requirement.as_str())
                .is_some_and(candidatures::SnapshotEntry::is_to_deposit)
        });
        if !before.is_needed() || !asked {
            return Err(conflict(conflicts::PROOF_NO_LONGER_NEEDED));
        }
        let all = proofs::proofs_of(tx.conn(), c.id).await?;
        let position = (
            before.requirement.as_str(),
            before.scenario_index,
            before.proof_index,
        );
        if current_by_position(&all)
            .get(&position)
            .is_some_and(|current| current.id != before.id)
        {
            return Err(conflict(conflicts::PROOF_SUPERSEDED));
        }
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
        let stored = proofs::load_proof(tx.conn(), proof).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Asks the vendor for complements: the candidature (in instruction, held by the actor or
    /// by nobody) becomes complement requested, and the request (message, and per requirement
    /// a comment) is kept forever. The message is required and each requirement must be to
    /// deposit in the frozen plan ([`DbError::Invalid`]); status and holder refusals as for
    /// [`Db::record_verdict`].
    pub async fn request_complements(
        &self,
        id: CandidatureId,
        items: &[(RequirementId, String)],
        message: &str,
        actor: &Actor,
    ) -> Result<ComplementRequest> {
        let user = acting_user(actor)?;
        let message = non_blank(Some(message)).ok_or_else(|| {
            DbError::Invalid("la demande de compléments doit avoir un message".to_owned())
        })?;
        let items: Vec<ComplementItem> = items
            .iter()
            .map(|(requirement, comment)| ComplementItem {
                requirement: requirement.clone(),
                comment: comment.trim().to_owned(),
            })
            .collect();
        let mut tx = self.begin_audited().await?;
        let c = candidatures::load(tx.conn(), id, None).await?;
        check_instruction_act(&c, actor)?;
        let plan = c.plan.clone().unwrap_or_default();
        if let Some(item) = items.iter().find(|i| {
            !plan
                .entry(i.requirement.as_str())
                .is_some_and(candidatures::SnapshotEntry::is_to_deposit)
        }) {
            return Err(DbError::Invalid(format!(
                "l'exigence {} n'est pas à prouver dans le plan de cette candidature",
                item.requirement
            )));
        }
        let held = hold_if_free(tx.conn(), &c, user).await?;
        let now = Timestamp::now().as_millis();
        let (request,): (i64,) = sqlx::query_as(
            "INSERT INTO complement_requests (candidature_id, message, items, requested_at, \
             requested_by) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(id.0)
        .bind(&message)
        .bind(serde_json::to_string(&items).map_err(DbError::corrupt)?)
        .bind(now)
        .bind(actor.to_string())
        .fetch_one(tx.conn())
        .await?;
        set_status(
            tx.conn(),
            &c,
            CandidatureStatus::ComplementRequested,
            &message,
            now,
        )
        .await?;
        tx.record(
            actor,
            "candidature.complements_requested",
            "candidature",
            &id.to_string(),
            json!({
                "request": request,
                "from": c.status,
                "to": CandidatureStatus::ComplementRequested,
                "message": message,
                "items": items,
                "now_held_by": held.then_some(user),
            }),
        )
        .await?;
        let stored = load_complement(tx.conn(), ComplementRequestId(request)).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// The vendor's answer to the open complement request of a candidature of `organisation`
    /// (another organisation's gives [`DbError::NotFound`]): records the message on the request
    /// and moves the candidature back to in instruction (see the module header for why not to
    /// submitted). The message is required ([`DbError::Invalid`]); a candidature not waiting for
    /// complements gives [`conflicts::NO_OPEN_COMPLEMENT_REQUEST`].
    pub async fn answer_complements(
        &self,
        organisation: OrganisationId,
        id: CandidatureId,
        message: &str,
        actor: &Actor,
    ) -> Result<ComplementRequest> {
        let message = non_blank(Some(message)).ok_or_else(|| {
            DbError::Invalid("la réponse aux compléments doit avoir un message".to_owned())
        })?;
        let mut tx = self.begin_audited().await?;
        let c = candidatures::load(tx.conn(), id, Some(organisation)).await?;
        if c.status != CandidatureStatus::ComplementRequested {
            return Err(conflict(conflicts::NO_OPEN_COMPLEMENT_REQUEST));
        }
        let open: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM complement_requests WHERE candidature_id = $1 \
             AND answered_at IS NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(id.0)
        .fetch_optional(tx.conn())
        .await?;
        let (request,) = open.ok_or_else(|| conflict(conflicts::NO_OPEN_COMPLEMENT_REQUEST))?;
        let now = Timestamp::now().as_millis();
        sqlx::query(
            "UPDATE complement_requests SET answer = $1, answered_at = $2, answered_by = $3 \
             WHERE id = $4",
        )
        .bind(&message)
        .bind(now)
        .bind(actor.to_string())
        .bind(request)
        .execute(tx.conn())
        .await?;
        set_status(
            tx.conn(),
            &c,
            CandidatureStatus::InInstruction,
            &message,
            now,
        )
        .await?;
        tx.record(
            actor,
            "candidature.complements_answered",
            "candidature",
            &id.to_string(),
            json!({
                "request": request,
                "from": c.status,
                "to": CandidatureStatus::InInstruction,
                "message": message,
            }),
        )
        .await?;
        let stored = load_complement(tx.conn(), ComplementRequestId(request)).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Every complement request of a candidature with its answer, oldest first (staff).
    pub async fn list_complement_requests(
        &self,
        id: CandidatureId,
    ) -> Result<Vec<ComplementRequest>> {
        let mut conn = self.pool.acquire().await?;
        complements_of(&mut conn, id).await
    }

    /// Every complement request of a candidature of `organisation`, oldest first:
    /// [`DbError::NotFound`] when the candidature is another organisation's.
    pub async fn list_complement_requests_for(
        &self,
        organisation: OrganisationId,
        id: CandidatureId,
    ) -> Result<Vec<ComplementRequest>> {
        let mut conn = self.pool.acquire().await?;
        candidatures::load(&mut conn, id, Some(organisation)).await?;
        complements_of(&mut conn, id).await
    }

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

/// Moves `c` from its current status to `to` with `reason`, bumping its revision.
pub(crate) async fn set_status(
    conn: &mut AnyConnection,
    c: &StoredCandidature,
    to: CandidatureStatus,
    reason: &str,
    now: i64,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE candidatures SET status = $1, status_reason = $2, status_changed_at = $3, \
         updated_at = $3, revision = revision + 1 WHERE id = $4 AND status = $5",
    )
    .bind(to.code())
    .bind(reason)
    .bind(now)
    .bind(c.id.0)
    .bind(c.status.code())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Err(conflict(conflicts::INVALID_TRANSITION));
    }
    Ok(())
}
