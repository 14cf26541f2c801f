//! The application layer: the use cases of the platform, shared by its two front doors (the
//! pages in `routes/` and the JSON API in `api/`), which only translate their input and output.
//! Each rule is written here once (or in the domain crate); a front door never re-checks it.

pub(crate) mod admin;
pub(crate) mod candidatures;
pub(crate) mod deposits;
pub(crate) mod fields;
pub(crate) mod instruction;
pub(crate) mod referencings;
pub(crate) mod solutions;
pub(crate) mod step;
pub(crate) mod warnings;

use axum::http::StatusCode;

use crate::error::{AppError, ErrorItem};

/// Shortest password accepted.
pub(crate) const MIN_PASSWORD: usize = 12;
/// Longest password accepted (hashing cost grows with length).
pub(crate) const MAX_PASSWORD: usize = 1024;

/// Longest free text of the instruction dialogue (a verdict's comment, a complement request's
/// message and comments, a refusal's reason): enough to explain, short enough to read.
pub(crate) const MAX_TEXT: usize = 4000;

/// [`MAX_TEXT`] as the French messages write it (`4 000`).
pub(crate) fn max_text_label() -> String {
    crate::format::fr_number(MAX_TEXT as u64)
}

/// A field error (`invalid_field`) on `field`, the API's JSON field name.
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ErrorItem {
    ErrorItem::field("invalid_field", field, message)
}

/// The refusal of an input with its field errors (422), each keyed by the API's JSON field name.
pub(crate) fn rejected(errors: Vec<ErrorItem>) -> AppError {
    AppError::Rejected {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        errors,
    }
}
