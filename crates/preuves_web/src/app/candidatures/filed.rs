//! What follows a candidature's administrative step: its submission (the plan, the step and
//! the REM version frozen), R5's NRUs obtained since, and the vendor's answer to a complement
//! request (`docs/rules.md`). Each takes one of the vendor's candidatures, read by
//! [`super::own`] (another organisation's is not found).

use preuves_db::{
    Actor, ComplementRequest, Conflict, LateNrusOutcome, StoredCandidature, WorkflowConflict,
};

use crate::AppState;
use crate::app::fields::{MAX_ITEMS, check, invalid, rejected};
use crate::app::step::{malformed_nrus, parse_nrus};
use crate::error::{AppError, ErrorItem};
use crate::format::fr_number;
use crate::security::VendorCap;

/// Longest answer to a complement request, in characters: the instruction dialogue's limit (a
/// message, not a document: files are deposited as proofs).
pub(crate) const MAX_ANSWER: usize = crate::app::MAX_TEXT;

/// A submission.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SubmitInput {
    /// The revision it is based on.
    pub(crate) revision: i64,
    /// Submit even though some expected proofs have no file yet.
    pub(crate) confirm_incomplete: bool,
}

/// Files one of the vendor's drafts: `candidature_already_submitted` once filed; 422 with the
/// engine's refusals, or with the warnings that block submission (R6's
/// `missing_honour_statement`), each naming its field; `dossier_incomplete` without the
/// confirmation; `stale_revision` if it changed since.
pub(crate) async fn submit(
    state: &AppState,
    vendor: &VendorCap,
    c: &StoredCandidature,
    input: SubmitInput,
) -> Result<StoredCandidature, AppError> {
    c.status.check_submission()?;
    // `preuves_db` runs the engine in the submission's transaction and freezes its plan; its
    // refusals come back typed (`Refused::Plan`, `Refused::SubmissionBlocked`), each naming
    // its field: the engine runs once.
    Ok(state
        .db
        .submit_candidature(
            vendor.organisation,
            c.id,
            input.revision,
            input.confirm_incomplete,
            &Actor::User(vendor.user.id),
        )
        .await?)
}

/// Whether a refused submission is only missing the confirmation of an incomplete dossier.
pub(crate) fn is_incomplete_dossier(e: &AppError) -> bool {
    crate::app::fields::is_conflict(e, WorkflowConflict::IncompleteDossier.code())
}

/// Whether a save was refused because the object changed since it was read.
pub(crate) fn is_stale(e: &AppError) -> bool {
    crate::app::fields::is_conflict(e, Conflict::StaleRevision.code())
}

/// NRUs obtained since submission (R5), as sent.
#[derive(Debug, Clone)]
pub(crate) struct LateNrusInput {
    /// The revision the change is based on.
    pub(crate) revision: i64,
    /// The NRUs, as items.
    pub(crate) nrus: Vec<String>,
}

/// What entering late NRUs changed.
pub(crate) struct LateNrus {
    /// The candidature after the change (its plan recomputed and frozen again).
    pub(crate) candidature: StoredCandidature,
    /// Requirements to deposit before, masked now.
    pub(crate) newly_masked: Vec<String>,
    /// Deposited files marked no longer needed (kept, no verdict needed).
    pub(crate) proofs_no_longer_needed: u64,
}

/// Records NRUs obtained since submission when R5 allows it: 422 on `nrus` when none is given
/// or one is malformed, or with the engine's refusals; the plan is recomputed and the proofs
/// of newly masked requirements are marked no longer needed.
pub(crate) async fn late_nrus(
    state: &AppState,
    vendor: &VendorCap,
    c: &StoredCandidature,
    input: &LateNrusInput,
) -> Result<LateNrus, AppError> {
    let (nrus, bad) = parse_nrus(&input.nrus);
    let mut errors = Vec::new();
    if !bad.is_empty() {
        errors.push(invalid("nrus", malformed_nrus(&bad)));
    } else if nrus.is_empty() {
        errors.push(invalid("nrus", "Saisissez le NRU obtenu depuis le dépôt."));
    } else if input.nrus.len() > MAX_ITEMS {
        errors.push(invalid("nrus", format!("{MAX_ITEMS} NRU au plus.")));
    }
    check(errors)?;
    let outcome = state
        .db
        .record_late_nrus(
            vendor.organisation,
            c.id,
            input.revision,
            &nrus,
            &Actor::User(vendor.user.id),
        )
        .await?;
    match outcome {
        LateNrusOutcome::Recorded {
            candidature,
            newly_masked,
            proofs_no_longer_needed,
        } => Ok(LateNrus {
            candidature: *candidature,
            newly_masked,
            proofs_no_longer_needed,
        }),
        LateNrusOutcome::Refused(refusals) => {
            Err(rejected(refusals.iter().map(ErrorItem::from).collect()))
        }
    }
}

/// Checks an answer to a complement request: not empty, at most [`MAX_ANSWER`] characters
/// (trimmed); the error names `message`.
pub(crate) fn check_answer(message: &str) -> Result<&str, ErrorItem> {
    let message = message.trim();
    if message.is_empty() {
        return Err(ErrorItem::field(
            "message_required",
            "message",
            format!(
                "Décrivez en quelques mots les compléments déposés ({} caractères au plus). Rien n'a été envoyé.",
                fr_number(MAX_ANSWER as u64)
            ),
        ));
    }
    if message.chars().count() > MAX_ANSWER {
        return Err(invalid(
            "message",
            format!(
                "La réponse compte {} caractères\u{a0}: {} au plus. Rien n'a été envoyé.",
                fr_number(message.chars().count() as u64),
                fr_number(MAX_ANSWER as u64)
            ),
        ));
    }
    Ok(message)
}

/// Answers the open complement request of one of the vendor's candidatures (after depositing
/// the new files): it goes back to its instructor. 422 on `message` (see [`check_answer`]),
/// `no_open_complement_request` when none is open.
pub(crate) async fn answer_complements(
    state: &AppState,
    vendor: &VendorCap,
    c: &StoredCandidature,
    message: &str,
) -> Result<ComplementRequest, AppError> {
    let message = check_answer(message).map_err(|e| rejected(vec![e]))?;
    Ok(state
        .db
        .answer_complements(
            vendor.organisation,
            c.id,
            message,
            &Actor::User(vendor.user.id),
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_required_and_limited_to_4000_characters() {
        assert_eq!(check_answer("  Voici.  "), Ok("Voici."));
        assert_eq!(check_answer(" \n ").unwrap_err().code, "message_required");
        let at_limit = "é".repeat(MAX_ANSWER);
        assert!(check_answer(&at_limit).is_ok());
        let over = "é".repeat(MAX_ANSWER + 1);
        let e = check_answer(&over).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("invalid_field", Some("message"))
        );
        assert!(e.message.contains("4\u{202f}001"), "{}", e.message);
    }
}
