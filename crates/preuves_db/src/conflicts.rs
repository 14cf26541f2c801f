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
/// A status change that the lifecycle (`DOMAIN.md` §6) does not allow from the current status.
pub const INVALID_TRANSITION: &str = "candidature_invalid_transition";
/// Late NRUs (R5) can only be entered on a submitted candidature still under review.
pub const NOT_SUBMITTED: &str = "candidature_not_submitted";
/// No proof can be deposited on a candidature in this status (in instruction, or decided).
pub const DEPOSIT_CLOSED: &str = "candidature_deposit_closed";
/// One proof row per stored blob (a blob key is never recorded twice).
pub const PROOF_BLOB_KEY: &str = "proofs_blob_key_key";

pub(crate) fn conflict(name: &str) -> DbError {
    DbError::Conflict {
        constraint: name.to_owned(),
    }
}

pub(crate) fn stale_revision() -> DbError {
    conflict(STALE_REVISION)
}
