//! The rules of a deposit, for the pages (multipart form) and the API (raw body) alike: when a
//! candidature takes proof files or a sworn statement, and which expected proof a file may
//! bring. The streaming itself (type on the first bytes, size while reading, a blob recorded
//! only once complete) is [`crate::deposit`]'s.

use axum::http::StatusCode;
use preuves_db::{CandidatureStatus, PlanSnapshot, StoredCandidature, StoredProof, conflicts};
use preuves_domain::RequirementId;

use super::candidatures::{conflict, plan};
use crate::AppState;
use crate::error::AppError;
use crate::paths::{candidature_id, proof_id};
use crate::security::VendorCap;

/// Whether a candidature in `status` takes proof files: a draft, a filed candidature not yet
/// taken into instruction, or one waiting for complements.
pub(crate) fn accepts_deposits(status: CandidatureStatus) -> bool {
    matches!(
        status,
        CandidatureStatus::Draft
            | CandidatureStatus::Submitted
            | CandidatureStatus::ComplementRequested
    )
}

/// Refuses a deposit on a candidature that takes no file (`candidature_deposit_closed`).
pub(crate) fn check_open(c: &StoredCandidature) -> Result<(), AppError> {
    if accepts_deposits(c.status) {
        Ok(())
    } else {
        Err(conflict(conflicts::DEPOSIT_CLOSED))
    }
}

/// Refuses a sworn statement on a candidature filed already (`candidature_not_draft`): it is
/// part of the administrative step, frozen at submission.
pub(crate) fn check_honour_open(c: &StoredCandidature) -> Result<(), AppError> {
    if c.status == CandidatureStatus::Draft {
        Ok(())
    } else {
        Err(conflict(conflicts::NOT_DRAFT))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deposits_are_open_in_draft_submitted_and_complement_requested_only() {
        let open: Vec<CandidatureStatus> = CandidatureStatus::ALL
            .into_iter()
            .filter(|s| accepts_deposits(*s))
            .collect();
        assert_eq!(
            open,
            [
                CandidatureStatus::Draft,
                CandidatureStatus::Submitted,
                CandidatureStatus::ComplementRequested
            ]
        );
    }
}
