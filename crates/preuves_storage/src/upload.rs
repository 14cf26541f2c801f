//! Writes: streaming uploads with bounded memory, and small whole-buffer puts.
//!
//! [`BlobStore::put_stream_checked`] reads its input once and, on the way:
//! 1. hands the first [`SNIFF_LEN`] bytes to the caller's content check before anything is
//!    written (file types are checked on the content, not on the name);
//! 2. counts the size against the limit and computes the SHA-256;
//! 3. writes. An input that ends within the first part goes in one atomic `put`. A longer one
//!    goes through a multipart upload, one part in flight at a time, so an upload holds about
//!    one part plus one input chunk in memory whatever the file size.
//!
//! On the local backend both paths write a staging file renamed into place at the end; on S3
//! an object appears when its multipart upload completes. So a blob is visible only once
//! complete. Every failure (limit exceeded, check refused, input error, backend error) aborts
//! the upload, which deletes the staging file or the uploaded parts. If the upload future is
//! dropped (the client went away and the request was cancelled), a guard aborts it in the
//! background.

use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt::Display;

use bytes::Bytes;
use futures_util::stream::{Stream, StreamExt};
use object_store::path::Path as StorePath;
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};

use crate::store::{join_error, store_path};
use crate::{BlobKey, BlobStore, StorageError};

/// How many leading bytes the content check sees (fewer if the file is shorter).
pub const SNIFF_LEN: usize = 8 * 1024;

/// Chunks larger than this are hashed on the blocking pool rather than on the async runtime.
const INLINE_HASH_LIMIT: usize = 64 * 1024;

/// Limits applied to an upload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PutLimits {
    /// The largest accepted size in bytes; one byte more aborts the upload.
    pub max_size: u64,
}

impl PutLimits {
    /// The default size limit of a proof file: 500 MiB (issue 4).
    pub const DEFAULT_MAX_SIZE: u64 = 500 * 1024 * 1024;

    /// Limits with the given maximum size in bytes.
    pub fn max_size(max_size: u64) -> Self {
        Self { max_size }
    }

    /// No size limit.
    pub fn unlimited() -> Self {
        Self { max_size: u64::MAX }
    }
}

impl Default for PutLimits {
    fn default() -> Self {
        Self::max_size(Self::DEFAULT_MAX_SIZE)
    }
}

/// A blob fully stored: what the database records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    /// The key it is stored under.
    pub key: BlobKey,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, as 64 lower-case hex digits.
    pub sha256: String,
}

impl BlobStore {
    /// Stores a small blob held in memory (attestation PDFs), atomically.
    pub async fn put_bytes(
        &self,
        key: &BlobKey,
        bytes: impl Into<Bytes>,
    ) -> Result<StoredBlob, StorageError> {
        let bytes = bytes.into();
        let path = store_path(key)?;
        let mut hasher = Hasher::default();
        hasher.update(&bytes).await?;
        let size = bytes.len() as u64;
        self.store.put(&path, PutPayload::from(bytes)).await?;
        Ok(hasher.finish(key, size))
    }

    /// Streams `input` into a blob under `key`, with bounded memory; see the module
    /// documentation. Same as [`Self::put_stream_checked`] with a check that accepts anything.
    pub async fn put_stream<S, E>(
        &self,
        key: &BlobKey,
        input: S,
        limits: PutLimits,
    ) -> Result<StoredBlob, StorageError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Display,
    {
        self.put_stream_checked(key, input, limits, |_| Ok::<(), Infallible>(()))
            .await
    }

    /// Streams `input` into a blob under `key`, after `check` has accepted its first bytes.
    ///
    /// `check` receives the first [`SNIFF_LEN`] bytes (the whole input if shorter, an empty
    /// slice for an empty input) before anything is written; its error becomes
    /// [`StorageError::Rejected`]. Going over `limits.max_size` gives
    /// [`StorageError::TooLarge`], an input error [`StorageError::Interrupted`]; in every error
    /// case nothing is left under `key`.
    ///
    /// Keys are expected to be fresh ([`BlobKey::new_random`]): storing under an existing key
    /// replaces the blob.
    pub async fn put_stream_checked<S, E, C, CE>(
        &self,
        key: &BlobKey,
        input: S,
        limits: PutLimits,
        check: C,
    ) -> Result<StoredBlob, StorageError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Display,
        C: FnOnce(&[u8]) -> Result<(), CE>,
        CE: Display,
    {
        let path = store_path(key)?;
        let mut input = std::pin::pin!(input);
        let mut hasher = Hasher::default();
        let mut size = 0u64;
        let mut check = Some(check);

        // Phase 1: read up to one part. Nothing is written yet, so errors need no cleanup.
        let mut first = Vec::new();
        let mut first_len = 0usize;
        let mut ended = false;
        while first_len < self.part_size {
            let Some(chunk) = input.next().await else {
                ended = true;
                break;
            };
            let chunk = chunk.map_err(|e| StorageError::Interrupted(e.to_string()))?;
            if chunk.is_empty() {
                continue;
            }
            size = add_within(size, chunk.len(), limits)?;
            hasher.update(&chunk).await?;
            first_len += chunk.len();
            first.push(chunk);
            if first_len >= SNIFF_LEN {
                run_check(&mut check, &first)?;
            }
        }
        // A short input is checked once it has ended.
        run_check(&mut check, &first)?;

        if ended {
            // The whole input fits in one part: a single atomic put.
            self.store
                .put(&path, first.into_iter().collect::<PutPayload>())
                .await?;
            return Ok(hasher.finish(key, size));
        }

        // Phase 2: a multipart upload, one part in flight at a time.
        let mut upload = Upload::start(self, &path).await?;
        for chunk in first {
            upload.writer().put(chunk);
        }
        loop {
            let chunk = match input.next().await {
                None => break,
                Some(Ok(chunk)) => chunk,
                Some(Err(e)) => {
                    upload.abort().await;
                    return Err(StorageError::Interrupted(e.to_string()));
                }
            };
            if chunk.is_empty() {
                continue;
            }
            size = match add_within(size, chunk.len(), limits) {
                Ok(size) => size,
                Err(e) => {
                    upload.abort().await;
                    return Err(e);
                }
            };
            if let Err(e) = hasher.update(&chunk).await {
                upload.abort().await;
                return Err(e);
            }
            // Back pressure: wait for the part in flight before buffering more, which is what
            // bounds memory to about one part.
            if let Err(e) = upload.writer().wait_for_capacity(1).await {
                upload.abort().await;
                return Err(e.into());
            }
            upload.writer().put(chunk);
        }
        // `finish` aborts the upload itself when a part or the completion fails.
        upload.finish().await?;
        Ok(hasher.finish(key, size))
    }
}

/// Adds a chunk to the running size, refusing to go over the limit.
fn add_within(size: u64, chunk: usize, limits: PutLimits) -> Result<u64, StorageError> {
    let size = size.saturating_add(chunk as u64);
    if size > limits.max_size {
        Err(StorageError::TooLarge {
            limit: limits.max_size,
        })
    } else {
        Ok(size)
    }
}

/// Runs the content check once, on the first [`SNIFF_LEN`] bytes of `chunks`.
fn run_check<C, CE>(check: &mut Option<C>, chunks: &[Bytes]) -> Result<(), StorageError>
where
    C: FnOnce(&[u8]) -> Result<(), CE>,
    CE: Display,
{
    match check.take() {
        Some(check) => {
            check(&sniff_prefix(chunks)).map_err(|e| StorageError::Rejected(e.to_string()))
        }
        None => Ok(()),
    }
}

/// The first [`SNIFF_LEN`] bytes of `chunks`, copied only when they span several chunks.
fn sniff_prefix(chunks: &[Bytes]) -> Cow<'_, [u8]> {
    match chunks.first() {
        None => Cow::Borrowed(&[]),
        Some(first) if first.len() >= SNIFF_LEN || chunks.len() == 1 => {
            Cow::Borrowed(&first[..first.len().min(SNIFF_LEN)])
        }
        Some(_) => {
            let mut prefix = Vec::with_capacity(SNIFF_LEN);
            for chunk in chunks {
                let take = (SNIFF_LEN - prefix.len()).min(chunk.len());
                prefix.extend_from_slice(&chunk[..take]);
                if prefix.len() == SNIFF_LEN {
                    break;
                }
            }
            Cow::Owned(prefix)
        }
    }
}

/// SHA-256 over the input, off the async runtime for large chunks.
#[derive(Default)]
struct Hasher(Sha256);

impl Hasher {
    async fn update(&mut self, chunk: &Bytes) -> Result<(), StorageError> {
        if chunk.len() <= INLINE_HASH_LIMIT {
            self.0.update(chunk);
            return Ok(());
        }
        let mut hasher = std::mem::take(&mut self.0);
        let chunk = chunk.clone(); // cheap: reference-counted
        self.0 = tokio::task::spawn_blocking(move || {
            hasher.update(&chunk);
            hasher
        })
        .await
        .map_err(join_error)?;
        Ok(())
    }

    fn finish(self, key: &BlobKey, size: u64) -> StoredBlob {
        StoredBlob {
            key: key.clone(),
            size,
            sha256: hex::encode(self.0.finalize()),
        }
    }
}

/// A multipart upload in progress, aborted if dropped before it finishes.
struct Upload(Option<WriteMultipart>);

impl Upload {
    async fn start(store: &BlobStore, path: &StorePath) -> Result<Self, StorageError> {
        let upload = store.store.put_multipart(path).await?;
        Ok(Self(Some(WriteMultipart::new_with_chunk_size(
            upload,
            store.part_size,
        ))))
    }

    fn writer(&mut self) -> &mut WriteMultipart {
        // Only `abort` and `finish` empty the option, and both consume `self`.
        self.0
            .as_mut()
            .expect("multipart upload used after it ended")
    }

    /// Aborts the upload, deleting what was written. A failure to clean up is logged, not
    /// returned: the caller reports the error that caused the abort.
    async fn abort(mut self) {
        if let Some(writer) = self.0.take()
            && let Err(e) = writer.abort().await
        {
            tracing::warn!(error = %e, "could not abort a multipart upload");
        }
    }

    async fn finish(mut self) -> Result<(), StorageError> {
        match self.0.take() {
            Some(writer) => {
                writer.finish().await?;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // Reached with a writer only when the upload future was cancelled mid-way. The local
        // backend also deletes its staging file when dropped, but S3 needs an explicit abort.
        if let Some(writer) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                if let Err(e) = writer.abort().await {
                    tracing::warn!(error = %e, "could not abort a cancelled multipart upload");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_prefix_spans_chunks() {
        let chunks = [Bytes::from(vec![1u8; 5000]), Bytes::from(vec![2u8; 5000])];
        let prefix = sniff_prefix(&chunks);
        assert_eq!(prefix.len(), SNIFF_LEN);
        assert_eq!(prefix[4999], 1);
        assert_eq!(prefix[5000], 2);
    }

    #[test]
    fn sniff_prefix_of_short_and_empty_inputs() {
        assert!(sniff_prefix(&[]).is_empty());
        assert_eq!(&*sniff_prefix(&[Bytes::from_static(b"%PDF")]), b"%PDF");
        let big = [Bytes::from(vec![0u8; 3 * SNIFF_LEN])];
        assert!(matches!(sniff_prefix(&big), Cow::Borrowed(p) if p.len() == SNIFF_LEN));
    }

    #[test]
    fn size_limit_is_inclusive() {
        let limits = PutLimits::max_size(10);
        assert_eq!(add_within(5, 5, limits).unwrap(), 10);
        assert!(matches!(
            add_within(5, 6, limits),
            Err(StorageError::TooLarge { limit: 10 })
        ));
    }
}
