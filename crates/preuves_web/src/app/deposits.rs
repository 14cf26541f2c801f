//! The rules of a deposit, for the pages (multipart form) and the API (raw body) alike: when a
//! candidature takes proof files or a sworn statement, and which expected proof a file may
//! bring. The streaming itself (type on the first bytes, size while reading, a blob recorded
//! only once complete) is [`crate::deposit`]'s.

use axum::http::StatusCode;
use preuves_db::{PlanSnapshot, StoredCandidature, StoredProof};
use preuves_domain::RequirementId;

use super::candidatures::plan;
use crate::AppState;
use crate::error::AppError;
use crate::paths::{candidature_id, proof_id};
use crate::security::VendorCap;

/// Refuses a deposit on a candidature that takes no file (`candidature_deposit_closed`, the
/// workflow's rule [`CandidatureStatus::accepts_deposits`](preuves_db::CandidatureStatus::accepts_deposits)).
pub(crate) fn check_open(c: &StoredCandidature) -> Result<(), AppError> {
    Ok(c.status.check_deposit()?)
}

/// Refuses a sworn statement on a candidature filed already (`candidature_not_draft`): it is
/// part of the administrative step, frozen at submission.
pub(crate) fn check_honour_open(c: &StoredCandidature) -> Result<(), AppError> {
    Ok(c.status.check_step_edit()?)
}

/// The plan deposits are checked against: a candidature whose plan the engine refuses takes no
/// proof (409).
pub(crate) async fn deposit_plan(
    state: &AppState,
    c: &StoredCandidature,
) -> Result<PlanSnapshot, AppError> {
    plan(state, c).await?.outcome.map_err(|_| {
        AppError::conflict(
            "Le plan de cette candidature ne peut pas être calculé (voir son étape administrative)\u{a0}: aucune preuve ne peut être déposée pour l'instant.",
        )
    })
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

/// A file deposited on one of the vendor's candidatures, by the path's candidature and file ids
/// (another organisation's file, or one of another candidature, is not found).
pub(crate) async fn own_file(
    state: &AppState,
    vendor: &VendorCap,
    candidature: &str,
    proof: &str,
) -> Result<StoredProof, AppError> {
    let candidature = candidature_id(candidature)?;
    let found = state
        .db
        .find_proof_for(vendor.organisation, proof_id(proof)?)
        .await?;
    if found.candidature != candidature {
        return Err(AppError::NotFound);
    }
    Ok(found)
}
