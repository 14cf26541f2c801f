//! The instructor's use cases, shared by the instruction pages and the instruction API: the
//! queue, a filed candidature (drafts are the vendor's business: 404), taking it into
//! instruction, handing it to another instructor, a verdict on a file, a complement request, the
//! refusal, the grant, the history and a deposited file.
//!
//! Each use case takes the instructor capability, so that only an instructor reaches it, and a
//! transport-neutral input validated once ([`inputs`]); each act is one `preuves_db` call, which
//! checks the status and who holds the candidature in the same transaction as the change and
//! its audit entry.

mod inputs;
#[cfg(test)]
mod tests;

pub(crate) use inputs::{
    AssignInput, ComplementInput, ComplementItemInput, QueueChoice, QueueInput, RefusalInput,
    VerdictInput,
};

use preuves_db::{
    Actor, CandidatureId, CandidatureStatus, ComplementRequest, GrantRecord, HistoryEntry, ProofId,
    QueueEntry, QueueFilters, Role, StoredCandidature, StoredProof, User,
};
use preuves_domain::{IsoDate, ParisTime};

use crate::AppState;
use crate::app::rejected;
use crate::error::{AppError, ErrorItem};
use crate::journey::LivePlan;
use crate::security::InstructorCap;

/// Today in Paris: the queue's « date 2 passed » filter, and its mark on the page.
pub(crate) fn today() -> IsoDate {
    ParisTime::from_unix_millis(preuves_db::Timestamp::now().as_millis()).date
}

/// The audit trail's name for the acting instructor.
fn actor(cap: &InstructorCap) -> Actor {
    Actor::User(cap.0.id)
}

/// The instruction queue, complete dossiers first, then by submission date, filtered by
/// `choice` (`mine`: those `cap` holds).
pub(crate) async fn queue(
    state: &AppState,
    cap: &InstructorCap,
    choice: &QueueChoice,
) -> Result<Vec<QueueEntry>, AppError> {
    let filters = QueueFilters {
        dispositif: choice.dispositif.clone(),
        status: choice.status,
        organisation: choice.organisation,
        date2_before: choice.date2_passed.then(today),
        assigned_to: choice.mine.then_some(cap.0.id),
    };
    Ok(state.db.list_instruction_queue(&filters).await?)
}

/// A filed candidature. A draft is the vendor's business (nothing is filed yet): it is as
/// missing as an unknown one. Any instructor may read any filed candidature: the capability is
/// asked for, not looked into.
pub(crate) async fn candidature(
    state: &AppState,
    _instructor: &InstructorCap,
    id: CandidatureId,
) -> Result<StoredCandidature, AppError> {
    let c = state
        .db
        .find_candidature(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if c.status == CandidatureStatus::Draft {
        return Err(AppError::NotFound);
    }
    Ok(c)
}

/// A filed candidature with what an instructor reads of it.
pub(crate) struct Dossier {
    /// The candidature.
    pub(crate) candidature: StoredCandidature,
    /// The vendor organisation's name.
    pub(crate) vendor: String,
    /// Its plan (the frozen one, on the catalogue of its REM version).
    pub(crate) plan: LivePlan,
    /// Every file deposited, in deposit order.
    pub(crate) proofs: Vec<StoredProof>,
    /// Its complement requests, oldest first.
    pub(crate) requests: Vec<ComplementRequest>,
    /// The warnings about the referencings it cites that were suspended or withdrawn since.
    pub(crate) warnings: Vec<String>,
}

/// Filed candidature `id` with its plan, files and complement requests (a draft is missing).
pub(crate) async fn dossier(
    state: &AppState,
    cap: &InstructorCap,
    id: CandidatureId,
) -> Result<Dossier, AppError> {
    let c = candidature(state, cap, id).await?;
    let plan = crate::app::candidatures::plan(state, &c).await?;
    let warnings = crate::app::warnings::cited_warnings(state, &c).await?;
    let proofs = state.db.list_proofs(c.id).await?;
    let requests = state.db.list_complement_requests(c.id).await?;
    let vendor = state
        .db
        .find_organisation(c.organisation)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    Ok(Dossier {
        candidature: c,
        vendor,
        plan,
        proofs,
        requests,
        warnings,
    })
}

/// A file deposited for filed candidature `id` (another candidature's is missing).
pub(crate) async fn proof(
    state: &AppState,
    cap: &InstructorCap,
    id: CandidatureId,
    proof: ProofId,
) -> Result<(StoredCandidature, StoredProof), AppError> {
    let c = candidature(state, cap, id).await?;
    let found = state
        .db
        .find_proof(proof)
        .await?
        .ok_or(AppError::NotFound)?;
    if found.candidature != c.id {
        return Err(AppError::NotFound);
    }
    Ok((c, found))
}

/// What taking a candidature did.
#[derive(Debug)]
pub(crate) struct Taken {
    /// The candidature, now held by the caller.
    pub(crate) candidature: StoredCandidature,
    /// Whether it was submitted and is now in instruction (otherwise it was taken over from
    /// another instructor, or from nobody).
    pub(crate) started: bool,
}

/// Takes a submitted candidature into instruction (it is then held by the caller), or takes
/// over one under review held by someone else.
pub(crate) async fn take(
    state: &AppState,
    cap: &InstructorCap,
    id: CandidatureId,
) -> Result<Taken, AppError> {
    let c = candidature(state, cap, id).await?;
    let started = c.status == CandidatureStatus::Submitted;
    let candidature = if started {
        state
            .db
            .set_candidature_status(c.id, CandidatureStatus::InInstruction, None, &actor(cap))
            .await?
    } else {
        state
            .db
            .assign_candidature(c.id, cap.0.id, &actor(cap))
            .await?
    };
    Ok(Taken {
        candidature,
        started,
    })
}

/// The active instructors, to whom a candidature may be handed.
pub(crate) async fn instructors(state: &AppState) -> Result<Vec<User>, AppError> {
    Ok(state
        .db
        .list_users(None)
        .await?
        .into_iter()
        .filter(is_active_instructor)
        .collect())
}

fn is_active_instructor(u: &User) -> bool {
    u.role == Role::Instructor && u.disabled_at.is_none()
}

/// What handing a candidature over did.
#[derive(Debug)]
pub(crate) struct Assigned {
    /// The candidature, now held by `instructor`.
    pub(crate) candidature: StoredCandidature,
    /// The instructor who holds it.
    pub(crate) instructor: User,
}

/// Hands filed candidature `id` to another instructor, who must be an active instructor: an
/// unknown account is refused with `unknown_instructor`, another role or a disabled account
/// with `not_an_instructor` (422 on `instructor`). A candidature already decided is a conflict
/// (`candidature_not_under_review`).
pub(crate) async fn assign(
    state: &AppState,
    cap: &InstructorCap,
    id: CandidatureId,
    input: &AssignInput,
) -> Result<Assigned, AppError> {
    let c = candidature(state, cap, id).await?;
    let to = input.validate().map_err(rejected)?;
    let Some(instructor) = state.db.find_user(to).await? else {
        return Err(rejected(vec![ErrorItem::field(
            "unknown_instructor",
            "instructor",
            format!("Aucun compte n°\u{a0}{to} n'existe."),
        )]));
    };
    if !is_active_instructor(&instructor) {
        return Err(rejected(vec![ErrorItem::field(
            "not_an_instructor",
            "instructor",
            format!(
                "{} n'est pas un instructeur actif\u{a0}: une candidature ne peut être attribuée qu'à un instructeur dont le compte est actif.",
                instructor.display_name
            ),
        )]));
    }
    let candidature = state
        .db
        .assign_candidature(c.id, instructor.id, &actor(cap))
        .await?;
    Ok(Assigned {
        candidature,
        instructor,
    })
}

/// Records (or changes) the verdict on file `proof` of candidature `id`; the input is
/// validated before anything is read of the file.
pub(crate) async fn verdict(
    state: &AppState,
    cap: &InstructorCap,
    id: CandidatureId,
    proof_id: ProofId,
    input: &VerdictInput,
) -> Result<StoredProof, AppError> {
    let (_, found) = proof(state, cap, id, proof_id).await?;
    let valid = input.validate().map_err(rejected)?;
    Ok(state
        .db
        .record_verdict(
            found.id,
            valid.verdict,
            valid.comment.as_deref(),
            &actor(cap),
        )
        .await?)
}

/// Asks the vendor for complements on some requirements of candidature `id`.
pub(crate) async fn request_complements(
    state: &AppState,
    cap: &InstructorCap,
    id: CandidatureId,
    input: &ComplementInput,
) -> Result<ComplementRequest, AppError> {
    let c = candidature(state, cap, id).await?;
    let valid = input.validate().map_err(rejected)?;
    Ok(state
        .db
        .request_complements(c.id, &valid.items, &valid.message, &actor(cap))
        .await?)
}

/// Refuses candidature `id`, with the reason the vendor will read.
pub(crate) async fn refuse(
    state: &AppState,
    cap: &InstructorCap,
    id: CandidatureId,
    input: &RefusalInput,
) -> Result<StoredCandidature, AppError> {
    let c = candidature(state, cap, id).await?;
    let reason = input.validate().map_err(rejected)?;
    Ok(state
        .db
        .refuse_candidature(c.id, &reason, &actor(cap))
        .await?)
}

/// Grants the referencing of candidature `id`: NRU, register entry and attestation, all or
/// nothing ([`crate::decision::grant`]).
pub(crate) async fn grant(
    state: &AppState,
    cap: &InstructorCap,
    id: CandidatureId,
) -> Result<GrantRecord, AppError> {
    let c = candidature(state, cap, id).await?;
    crate::decision::grant(state, &cap.0, c.id).await
}

/// The history of candidature `id` (who, when, what), oldest first.
pub(crate) async fn history(
    state: &AppState,
    cap: &InstructorCap,
    id: CandidatureId,
) -> Result<Vec<HistoryEntry>, AppError> {
    let c = candidature(state, cap, id).await?;
    Ok(state
        .db
        .audit_history("candidature", &c.id.to_string())
        .await?)
}
