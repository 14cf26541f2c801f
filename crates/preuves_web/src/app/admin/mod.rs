//! The administrator's use cases: vendor organisations, user accounts, REM imports, referencings
//! recorded by hand and their suspension, withdrawal or restoration. Each takes the
//! [`crate::security::AdminCap`] (so it cannot run for anyone else), a transport-neutral input
//! validated once (every field at fault, keyed by the API's JSON field name), and calls one
//! audited `preuves_db` function naming the administrator as the actor.

pub(crate) mod organisations;
pub(crate) mod referencings;
pub(crate) mod rem_impact;
pub(crate) mod rem_import;
pub(crate) mod rem_staging;
pub(crate) mod users;

use axum::http::StatusCode;

use crate::error::{AppError, ErrorItem};

/// Longest organisation, person, solution or component name accepted.
pub(crate) const MAX_NAME: usize = 200;

/// A field error (`invalid_field`) on `field`.
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ErrorItem {
    ErrorItem::field("invalid_field", field, message)
}

/// The refusal of an input with its field errors (422).
pub(crate) fn rejected(errors: Vec<ErrorItem>) -> AppError {
    AppError::Rejected {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        errors,
    }
}
