//! Integration tests of the blob store, as one test binary.
//!
//! The peak-memory test is elsewhere (`tests/memory.rs`): it measures the whole process, so it
//! runs alone in its own binary.

mod support;

mod from_url;
mod reads;
#[cfg(feature = "s3")]
mod s3;
mod upload;
