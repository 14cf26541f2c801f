//! The storage layer's one error type.
//!
//! The web layer maps it to responses in one place: `NotFound` to 404, `TooLarge`, `Rejected`
//! and `Interrupted` to the user's fault (a French message next to the upload field), and
//! `Backend` and `Config` to a logged 500 or a start-up failure.

/// Everything a blob store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No blob under that key.
    #[error("blob not found")]
    NotFound,
    /// The upload went over its size limit; nothing was kept.
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: u64,
    },
    /// The caller's content check refused the first bytes; nothing was written.
    #[error("content refused: {0}")]
    Rejected(String),
    /// The input stream failed (client gone, body error); nothing was kept.
    #[error("upload interrupted: {0}")]
    Interrupted(String),
    /// A key, or a key prefix, that breaks the key rules (see [`crate::BlobKey`]).
    #[error("invalid blob key {0}")]
    InvalidKey(String),
    /// A blob store URL or folder that cannot be used.
    #[error("blob store configuration: {0}")]
    Config(String),
    /// Any other failure of the underlying object store.
    #[error("blob store backend error: {0}")]
    Backend(#[source] object_store::Error),
}

/// Written by hand rather than with `#[from]` so that a missing object is always reported as
/// [`StorageError::NotFound`], whichever call site used `?`.
impl From<object_store::Error> for StorageError {
    fn from(error: object_store::Error) -> Self {
        match error {
            object_store::Error::NotFound { .. } => StorageError::NotFound,
            other => StorageError::Backend(other),
        }
    }
}
