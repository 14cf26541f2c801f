//! The stable names of the state conflicts of the vendor's journey, carried by
//! [`DbError::Conflict`] like the unique constraints of [`crate::constraints`], so a caller
//! reacts to both the same way ([`DbError::is_conflict_on`], [`crate::ResultExt`]) and maps each
//! to its French message.

use crate::DbError;

/// The object changed since the revision the caller based its change on (optimistic
/// concurrency: the second of two concurrent saves is refused, nothing is changed).
pub const STALE_REVISION: &str = "stale_revision";
/// The administrative step of a candidature that is no longer a draft cannot be edited (a
/// replayed form after submission).
pub const NOT_DRAFT: &str = "candidature_not_draft";
/// The candidature was already submitted (double submission, two tabs).
pub const ALREADY_SUBMITTED: &str = "candidature_already_submitted";
/// Submission of an incomplete dossier without the explicit confirmation.
pub const INCOMPLETE_DOSSIER: &str = "dossier_incomplete";
/// A status change that the lifecycle (`docs/rules.md`) does not allow from the current status.
pub const INVALID_TRANSITION: &str = "candidature_invalid_transition";
/// Late NRUs (R5) can only be entered on a submitted candidature still under review.
pub const NOT_SUBMITTED: &str = "candidature_not_submitted";
/// No proof can be deposited on a candidature in this status (in instruction, or decided).
pub const DEPOSIT_CLOSED: &str = "candidature_deposit_closed";
/// One proof row per stored blob (a blob key is never recorded twice).
pub const PROOF_BLOB_KEY: &str = "proofs_blob_key_key";
/// An instruction act (verdict, complement request, refusal, grant) on a candidature that is
/// not in instruction: still submitted (take it into instruction first), waiting for the
/// vendor's complements, or a draft.
pub const NOT_IN_INSTRUCTION: &str = "candidature_not_in_instruction";
/// Another instructor holds the candidature: their instruction acts only, until it is
/// reassigned ([`crate::Db::assign_candidature`]).
pub const ASSIGNED_ELSEWHERE: &str = "candidature_assigned_elsewhere";
/// Only a candidature under review (submitted, in instruction, complement requested) can be
/// assigned to an instructor.
pub const NOT_UNDER_REVIEW: &str = "candidature_not_under_review";
/// The candidature is already referenced or refused: a second decision (or any later
/// instruction act) is refused.
pub const ALREADY_DECIDED: &str = "candidature_already_decided";
/// A verdict on a file that needs none: marked no longer needed (R5), or deposited for a
/// requirement the frozen plan does not ask proofs for.
pub const PROOF_NO_LONGER_NEEDED: &str = "proof_no_longer_needed";
/// A verdict on a file replaced by a newer deposit for the same expected proof: the newest file
/// is the one to judge (the older one is kept, with its verdict if it had one).
pub const PROOF_SUPERSEDED: &str = "proof_superseded";
/// The vendor answers complements on a candidature with no open complement request.
pub const NO_OPEN_COMPLEMENT_REQUEST: &str = "no_open_complement_request";
/// Granting while an expected proof of the frozen plan has no file, no verdict, or a verdict
/// other than compliant (see [`crate::instruction_gaps`]).
pub const INSTRUCTION_INCOMPLETE: &str = "instruction_incomplete";
/// The grant no longer matches its draft ([`crate::Db::prepare_grant`]): the candidature, the
/// register or the NRU sequence changed in between (another grant took the NRU, the day
/// changed, ...). Nothing was recorded: delete the rendered attestation, prepare again.
pub const GRANT_DRAFT_STALE: &str = "grant_draft_stale";

pub(crate) fn conflict(name: &str) -> DbError {
    DbError::Conflict {
        constraint: name.to_owned(),
    }
}

pub(crate) fn stale_revision() -> DbError {
    conflict(STALE_REVISION)
}
