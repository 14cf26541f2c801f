//! The blob store of preuves: proof files deposited by vendors and the attestations the
//! platform issues.
//!
//! Blobs are immutable bytes under a random [`BlobKey`]; the database records the key with the
//! size and SHA-256 returned by [`BlobStore::put_stream`], after the blob is fully stored. The
//! store itself is [object_store]: a local folder by default ([`BlobStore::local`]), in memory
//! for tests ([`BlobStore::memory`]), or an S3-compatible bucket with the `s3` cargo feature
//! ([`BlobStore::from_url`] with `s3://…`).
//!
//! Guarantees that the upload pages rely on (issue 4):
//! - memory stays bounded whatever the file size: uploads stream through object_store's
//!   multipart upload, one part at a time;
//! - a blob is never half-visible: it appears under its key only once complete, and an upload
//!   that goes over its size limit, fails its content check or loses its input leaves nothing.

#![forbid(unsafe_code)]

mod error;
mod key;
mod location;
mod store;
mod upload;

pub use error::StorageError;
pub use key::{BlobKey, MAX_KEY_LEN};
pub use location::{BlobLocation, DEFAULT_LOCAL_FOLDER, S3Location};
pub use store::{BlobMeta, BlobStore, BlobStream};
pub use upload::{PutLimits, SNIFF_LEN, StoredBlob};

/// Re-exported so that callers can name the bytes type of streams without their own dependency.
pub use bytes::Bytes;
