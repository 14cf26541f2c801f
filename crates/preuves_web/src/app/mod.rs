//! The application layer: the use cases of the platform, shared by its two front doors (the
//! pages in `routes/` and the JSON API in `api/`), which only translate their input and output.
//! Each rule is written here once (or in the domain crate); a front door never re-checks it.

pub(crate) mod admin;
pub(crate) mod warnings;

/// Shortest password accepted.
pub(crate) const MIN_PASSWORD: usize = 12;
/// Longest password accepted (hashing cost grows with length).
pub(crate) const MAX_PASSWORD: usize = 1024;
