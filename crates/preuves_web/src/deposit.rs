//! Depositing a file on a candidature, shared by the pages (multipart form) and the API (raw
//! body): the stream goes to the blob store with bounded memory, its first bytes are checked
//! against the allow-list ([`crate::filetype`]) before anything is written, its size against
//! [`crate::WebConfig::max_proof_upload`] while it is read; only a complete blob is recorded (in
//! one audited transaction by `preuves_db`), and a blob whose recording fails is deleted. An
//! interrupted upload leaves neither a record nor a blob.

use std::time::SystemTime;

use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use futures_util::Stream;
use preuves_db::{
    Actor, HonourStatement, NewProof, OrganisationId, PlanSnapshot, StoredCandidature, StoredProof,
};
use preuves_domain::RequirementId;
use preuves_storage::{BlobKey, PutLimits, StorageError, StoredBlob};

use crate::AppState;
use crate::error::AppError;
use crate::filetype::{self, FileKind};
use crate::format::human_size;

/// What a proof file may be.
pub(crate) const PROOF_KINDS: [FileKind; 8] = [
    FileKind::Pdf,
    FileKind::Png,
    FileKind::Jpeg,
    FileKind::Mp4,
    FileKind::QuickTime,
    FileKind::WebM,
    FileKind::Zip,
    FileKind::Text,
];

/// What a sworn statement (R6) may be.
pub(crate) const HONOUR_KINDS: [FileKind; 3] = [FileKind::Pdf, FileKind::Png, FileKind::Jpeg];

/// An upload cut short or unreadable: nothing was recorded.
pub(crate) fn unreadable(e: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(format!(
        "L'envoi a été interrompu ou est illisible ({e}). Aucun fichier n'a été enregistré\u{a0}: recommencez."
    ))
}

/// The file's own name, without any folder a browser may have sent.
pub(crate) fn file_name_of(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    // Control characters and bidirectional controls (a name that displays as another) go.
    base.chars()
        .filter(|&c| !c.is_control() && !preuves_db::text::is_bidi_control(c))
        .take(200)
        .collect()
}

/// Streams one file into a new blob under `prefix`, checking its type on its first bytes.
pub(crate) async fn store_file<S, E>(
    state: &AppState,
    prefix: &str,
    input: S,
    name: &str,
    allowed: &[FileKind],
) -> Result<(StoredBlob, FileKind), AppError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    let prefix = BlobKey::parse(prefix).map_err(AppError::internal)?;
    let key = BlobKey::new_random_dated(&prefix, SystemTime::now());
    let limit = state.config.max_proof_upload;
    let mut kind: Option<FileKind> = None;
    let check = |head: &[u8]| -> Result<(), filetype::Refused> {
        let k = filetype::check(name, head)?;
        if !allowed.contains(&k) {
            return Err(filetype::Refused::Unknown);
        }
        kind = Some(k);
        Ok(())
    };
    let stored = state
        .blobs
        .put_stream_checked(&key, input, PutLimits::max_size(limit), check)
        .await;
    match stored {
        Ok(blob) => Ok((
            blob,
            kind.ok_or_else(|| AppError::internal("type not checked"))?,
        )),
        Err(StorageError::TooLarge { .. }) => Err(AppError::Refused {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "file_too_large",
            message: format!(
                "Le fichier «\u{a0}{name}\u{a0}» dépasse la taille maximale autorisée ({}). Il n'a pas été enregistré.",
                human_size(limit)
            ),
        }),
        Err(StorageError::Rejected(why)) => Err(AppError::Refused {
            status: if why == filetype::Refused::Empty.to_string() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            },
            code: if why == filetype::Refused::Empty.to_string() {
                "file_empty"
            } else {
                "file_type_refused"
            },
            message: format!("«\u{a0}{name}\u{a0}»\u{a0}: {why} Il n'a pas été enregistré."),
        }),
        Err(StorageError::Interrupted(e)) => Err(unreadable(e)),
        Err(e) => Err(AppError::internal(e)),
    }
}

/// Refuses a body announced larger than `files` files at the limit plus some form fields,
/// before reading it.
pub(crate) fn check_announced(
    state: &AppState,
    headers: &HeaderMap,
    files: u64,
) -> Result<(), AppError> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let max = state.config.max_proof_upload;
    if announced.is_some_and(|n| n > max.saturating_mul(files).saturating_add(64 * 1024)) {
        return Err(AppError::Refused {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "file_too_large",
            message: format!(
                "L'envoi dépasse la taille maximale autorisée ({} par fichier). Rien n'a été enregistré.",
                human_size(max)
            ),
        });
    }
    Ok(())
}

/// Proofs may be deposited while the workflow accepts them
/// ([`CandidatureStatus::accepts_deposits`](preuves_db::CandidatureStatus::accepts_deposits)).
pub(crate) fn can_deposit(c: &StoredCandidature) -> Result<(), AppError> {
    Ok(c.status.check_deposit()?)
}

/// The requirement of an expected proof of `plan` (a requirement to deposit, at that scenario
/// and proof position), or 422 `proof_not_expected`.
pub(crate) fn expected_proof(
    plan: &PlanSnapshot,
    requirement: &str,
    scenario: i64,
    proof: i64,
) -> Result<RequirementId, AppError> {
    let expected = plan
        .entry(requirement)
        .filter(|e| e.is_to_deposit())
        .and_then(|e| {
            e.expected
                .iter()
                .find(|x| x.scenario_index == scenario && x.proof_index == proof)
        });
    if expected.is_none() {
        return Err(AppError::Refused {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "proof_not_expected",
            message: format!(
                "Le plan de cette candidature n'attend pas cette preuve pour l'exigence {requirement} (exigence masquée ou inconnue). Aucun fichier n'a été enregistré."
            ),
        });
    }
    RequirementId::parse(requirement).map_err(|e| AppError::BadRequest(e.to_string()))
}

/// The plan a deposit is checked against: a candidature whose plan the engine refuses takes no
/// proof.
pub(crate) fn plan_for_deposit(
    outcome: &Result<PlanSnapshot, Vec<preuves_domain::Refusal>>,
) -> Result<&PlanSnapshot, AppError> {
    outcome.as_ref().map_err(|_| {
        AppError::conflict(
            "Le plan de cette candidature ne peut pas être calculé (voir son étape administrative)\u{a0}: aucune preuve ne peut être déposée pour l'instant.",
        )
    })
}

/// Where an expected proof is: the requirement and the positions of its scenario and proof.
pub(crate) struct ProofSlot {
    pub(crate) requirement: RequirementId,
    pub(crate) scenario_index: i64,
    pub(crate) proof_index: i64,
}

/// Records a stored proof file on `c`; if recording fails, the blob is deleted.
pub(crate) async fn record(
    state: &AppState,
    organisation: OrganisationId,
    c: &StoredCandidature,
    slot: ProofSlot,
    stored: (StoredBlob, FileKind),
    name: &str,
    actor: &Actor,
) -> Result<StoredProof, AppError> {
    let (blob, kind) = stored;
    let new = NewProof {
        requirement: slot.requirement,
        scenario_index: slot.scenario_index,
        proof_index: slot.proof_index,
        blob_key: blob.key.as_str().to_owned(),
        file_name: name.to_owned(),
        content_type: kind.content_type().to_owned(),
        size: blob.size,
        sha256: blob.sha256.clone(),
    };
    match state.db.record_proof(organisation, c.id, &new, actor).await {
        Ok(p) => Ok(p),
        Err(e) => {
            discard(state, &blob).await;
            Err(e.into())
        }
    }
}

/// Records a stored sworn statement on the draft `c`, based on `revision`; if recording fails,
/// the blob is deleted.
pub(crate) async fn record_honour_statement(
    state: &AppState,
    organisation: OrganisationId,
    c: &StoredCandidature,
    revision: i64,
    blob: &StoredBlob,
    name: &str,
    actor: &Actor,
) -> Result<StoredCandidature, AppError> {
    let mut step = c.step.clone();
    step.honour_statement = Some(HonourStatement {
        blob_key: blob.key.as_str().to_owned(),
        file_name: name.to_owned(),
        sha256: Some(blob.sha256.clone()),
        size: Some(blob.size),
    });
    match state
        .db
        .update_candidature_step(organisation, c.id, revision, &step, actor)
        .await
    {
        Ok(saved) => Ok(saved),
        Err(e) => {
            discard(state, blob).await;
            Err(e.into())
        }
    }
}

/// Deletes a blob that will not be recorded.
async fn discard(state: &AppState, blob: &StoredBlob) {
    if let Err(d) = state.blobs.delete(&blob.key).await {
        tracing::warn!(error = %d, "could not delete an unrecorded blob");
    }
}

/// A sworn statement can only be added to a draft.
pub(crate) fn check_draft(c: &StoredCandidature) -> Result<(), AppError> {
    Ok(c.status.check_step_edit()?)
}
