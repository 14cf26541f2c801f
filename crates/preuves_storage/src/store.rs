//! [`BlobStore`]: construction, reads, deletion and listing.
//!
//! A `BlobStore` is an `Arc<dyn ObjectStore>` plus a little configuration, so it is cheap to
//! clone into every request handler. Writes live in `upload.rs`.
//!
//! The local backend is object_store's `LocalFileSystem` with fsync on (a blob recorded in the
//! database must survive a crash) and automatic removal of emptied folders. Its writes go to a
//! staging file `<key>#<n>` renamed into place when complete; listings never show staging files.

use std::fmt;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::stream::{BoxStream, Stream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path as StorePath;
use object_store::{GetResultPayload, ObjectStore, ObjectStoreExt};

use crate::location::BlobLocation;
use crate::{BlobKey, StorageError};

/// Part size of multipart uploads to the local folder and to memory. Small parts keep memory low
/// when many uploads run at once; local parts have no minimum size.
const LOCAL_PART_SIZE: usize = 1024 * 1024;

/// Part size of multipart uploads to S3, whose minimum part size is 5 MiB.
#[cfg(feature = "s3")]
const S3_PART_SIZE: usize = 5 * 1024 * 1024;

/// Size of the chunks read from a local file by [`BlobStore::get_stream`].
const READ_CHUNK: usize = 64 * 1024;

/// A handle on the blob store; clones share the same store.
#[derive(Clone)]
pub struct BlobStore {
    pub(crate) store: Arc<dyn ObjectStore>,
    /// The local folder, for the local backend only (staging-file cleanup).
    local_root: Option<Arc<Path>>,
    /// Where the blobs are, for logs (never with credentials).
    description: Arc<str>,
    /// Size of each part of a multipart upload, which bounds an upload's memory.
    pub(crate) part_size: usize,
}

impl fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStore")
            .field("location", &self.description)
            .field("part_size", &self.part_size)
            .finish()
    }
}

/// A listed blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobMeta {
    /// The blob's key.
    pub key: BlobKey,
    /// The blob's size in bytes.
    pub size: u64,
    /// When the blob was written.
    pub last_modified: SystemTime,
}

/// A blob being read: its size (for `Content-Length`), and its bytes as a stream of chunks, so
/// that a download holds only one chunk in memory at a time.
pub struct BlobStream {
    size: u64,
    stream: BoxStream<'static, Result<Bytes, StorageError>>,
}

impl BlobStream {
    /// The blob's total size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStream")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Stream for BlobStream {
    type Item = Result<Bytes, StorageError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.poll_next_unpin(cx)
    }
}

impl BlobStore {
    /// A store in the local folder `dir`, created if missing.
    ///
    /// Meant for start-up: it creates the folder with blocking file-system calls.
    pub fn local(dir: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StorageError::Config(format!("cannot create the folder {}: {e}", dir.display()))
        })?;
        let root = std::fs::canonicalize(dir).map_err(|e| {
            StorageError::Config(format!("cannot open the folder {}: {e}", dir.display()))
        })?;
        let store = LocalFileSystem::new_with_prefix(&root)?
            .with_fsync(true)
            .with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(store),
            description: Arc::from(format!("folder {}", root.display())),
            local_root: Some(Arc::from(root)),
            part_size: LOCAL_PART_SIZE,
        })
    }

    /// An empty in-memory store (tests, demos).
    pub fn memory() -> Self {
        Self {
            store: Arc::new(InMemory::new()),
            local_root: None,
            description: Arc::from("memory"),
            part_size: LOCAL_PART_SIZE,
        }
    }

    /// A store from the operator's configuration: see [`BlobLocation::parse`] for the accepted
    /// forms (`file:///…`, a path, `memory://`, `s3://…`); relative paths are taken inside
    /// `data_dir`, and an empty string means `data_dir/blobs`.
    ///
    /// Meant for start-up: a local store creates its folder with blocking calls.
    pub fn from_url(url: &str, data_dir: &Path) -> Result<Self, StorageError> {
        Self::from_location(&BlobLocation::parse(url, data_dir)?)
    }

    /// A store for an already parsed location.
    pub fn from_location(location: &BlobLocation) -> Result<Self, StorageError> {
        match location {
            BlobLocation::Local(dir) => Self::local(dir),
            BlobLocation::Memory => Ok(Self::memory()),
            #[cfg(feature = "s3")]
            BlobLocation::S3(s3) => Self::s3(s3),
            #[cfg(not(feature = "s3"))]
            BlobLocation::S3(_) => Err(StorageError::Config(
                "this binary was built without S3 support: rebuild with the `s3` cargo feature \
                 (cargo build --release --features s3), or use a local folder"
                    .into(),
            )),
        }
    }

    /// A store in an S3-compatible bucket. Credentials and defaults come from the standard AWS
    /// environment variables; the location's fields override them.
    #[cfg(feature = "s3")]
    pub fn s3(location: &crate::S3Location) -> Result<Self, StorageError> {
        use object_store::aws::AmazonS3Builder;
        use object_store::prefix::PrefixStore;

        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&location.bucket);
        if let Some(endpoint) = &location.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(region) = &location.region {
            builder = builder.with_region(region);
        }
        if location.allow_http {
            builder = builder.with_allow_http(true);
        }
        let s3 = builder
            .build()
            .map_err(|e| StorageError::Config(format!("S3 configuration: {e}")))?;
        let store: Arc<dyn ObjectStore> = match &location.prefix {
            Some(prefix) => Arc::new(PrefixStore::new(s3, prefix.as_str())),
            None => Arc::new(s3),
        };
        let description = format!(
            "s3://{}/{} at {}",
            location.bucket,
            location.prefix.as_deref().unwrap_or_default(),
            location.endpoint.as_deref().unwrap_or("AWS")
        );
        Ok(Self {
            store,
            local_root: None,
            description: Arc::from(description),
            part_size: S3_PART_SIZE,
        })
    }

    /// The underlying object store, for what this API does not cover (backups, copies).
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The folder of a local store; `None` for other backends.
    pub fn local_root(&self) -> Option<&Path> {
        self.local_root.as_deref()
    }

    /// The part size of multipart uploads: an upload holds at most about this much in memory
    /// (plus one input chunk).
    pub fn part_size(&self) -> usize {
        self.part_size
    }

    /// Opens a blob for streaming, with its size.
    pub async fn get_stream(&self, key: &BlobKey) -> Result<BlobStream, StorageError> {
        let result = self.store.get(&store_path(key)?).await?;
        let size = result.meta.size;
        let stream = match result.payload {
            // object_store reads local files in 8 KiB chunks, one blocking task each; larger
            // chunks make big downloads much cheaper.
            GetResultPayload::File(file, _) => file_stream(file, result.range),
            GetResultPayload::Stream(stream) => stream.map_err(StorageError::from).boxed(),
        };
        Ok(BlobStream { size, stream })
    }

    /// Reads a whole blob into memory: for small blobs only (attestations).
    pub async fn get_bytes(&self, key: &BlobKey) -> Result<Bytes, StorageError> {
        Ok(self.store.get(&store_path(key)?).await?.bytes().await?)
    }

    /// The size of a blob, or `None` if there is none under that key.
    pub async fn head(&self, key: &BlobKey) -> Result<Option<u64>, StorageError> {
        match self.store.head(&store_path(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a blob; deleting a missing blob succeeds (so retries are harmless).
    pub async fn delete(&self, key: &BlobKey) -> Result<(), StorageError> {
        match self.store.delete(&store_path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every blob under `prefix` (whole segments: `proofs` matches `proofs/x`, not
    /// `proofsx/y`), or in the whole store when `None`, in no particular order.
    ///
    /// Objects whose names are not valid keys were not written by us and are skipped. Uploads
    /// still in progress are never listed.
    pub async fn list(&self, prefix: Option<&BlobKey>) -> Result<Vec<BlobMeta>, StorageError> {
        let prefix = prefix.map(store_path).transpose()?;
        let mut listing = self.store.list(prefix.as_ref());
        let mut blobs = Vec::new();
        while let Some(meta) = listing.try_next().await? {
            match BlobKey::parse(meta.location.as_ref()) {
                Ok(key) => blobs.push(BlobMeta {
                    key,
                    size: meta.size,
                    last_modified: SystemTime::from(meta.last_modified),
                }),
                Err(_) => {
                    tracing::debug!(object = %meta.location, "skipping an object that is not a blob key");
                }
            }
        }
        Ok(blobs)
    }

    /// Removes the staging files of local uploads that were cut short by a crash (a clean
    /// failure removes its own) and are older than `older_than`; returns how many were removed.
    ///
    /// Meant for the start-up cleanup. Keep `older_than` above the longest plausible upload when
    /// other processes share the folder. Other backends return 0: on S3, unfinished multipart
    /// uploads are invisible and are removed by the bucket's `AbortIncompleteMultipartUpload`
    /// lifecycle rule.
    pub async fn remove_stale_uploads(&self, older_than: Duration) -> Result<usize, StorageError> {
        let Some(root) = self.local_root.clone() else {
            return Ok(0);
        };
        let cutoff = SystemTime::now()
            .checked_sub(older_than)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        tokio::task::spawn_blocking(move || remove_staging_files(&root, cutoff))
            .await
            .map_err(join_error)?
            .map_err(io_error)
    }
}

/// The object_store path of a key. Keys only use characters that object_store keeps as they
/// are, so the path's text is the key's text.
pub(crate) fn store_path(key: &BlobKey) -> Result<StorePath, StorageError> {
    StorePath::parse(key.as_str()).map_err(|e| StorageError::InvalidKey(format!("{key}: {e}")))
}

/// Streams `range` of an open file in [`READ_CHUNK`] pieces, each read on the blocking pool.
fn file_stream(
    file: std::fs::File,
    range: Range<u64>,
) -> BoxStream<'static, Result<Bytes, StorageError>> {
    let state = (file, range.start, range.end);
    futures_util::stream::try_unfold(state, |(mut file, position, end)| async move {
        if position >= end {
            return Ok(None);
        }
        let want = usize::try_from(end - position).map_or(READ_CHUNK, |n| n.min(READ_CHUNK));
        let (file, buffer) = tokio::task::spawn_blocking(move || {
            use std::io::{Seek, SeekFrom};
            file.seek(SeekFrom::Start(position))?;
            let mut buffer = vec![0; want];
            file.read_exact(&mut buffer)?;
            Ok::<_, std::io::Error>((file, buffer))
        })
        .await
        .map_err(join_error)?
        .map_err(io_error)?;
        let next = position + buffer.len() as u64;
        Ok(Some((Bytes::from(buffer), (file, next, end))))
    })
    .boxed()
}

/// Walks `root` and removes the staging files (`name#digits`) last modified before `cutoff`.
fn remove_staging_files(root: &Path, cutoff: SystemTime) -> std::io::Result<usize> {
    let mut removed = 0;
    let mut folders: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            let file_type = entry.file_type()?;
            if file_type.is_dir() {
                folders.push(entry.path());
            } else if file_type.is_file()
                && is_staging_name(&entry.file_name().to_string_lossy())
                && entry.metadata()?.modified()? < cutoff
            {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    // Finished or aborted meanwhile.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(removed)
}

/// Whether a file name is one of `LocalFileSystem`'s staging files: `<name>#<digits>`.
pub(crate) fn is_staging_name(name: &str) -> bool {
    name.rsplit_once('#')
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn io_error(e: std::io::Error) -> StorageError {
    StorageError::Backend(object_store::Error::Generic {
        store: "LocalFileSystem",
        source: Box::new(e),
    })
}

pub(crate) fn join_error(e: tokio::task::JoinError) -> StorageError {
    StorageError::Backend(object_store::Error::JoinError { source: e })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names() {
        assert!(is_staging_name("abc#1"));
        assert!(is_staging_name("abc#12"));
        assert!(!is_staging_name("abc"));
        assert!(!is_staging_name("abc#"));
        assert!(!is_staging_name("abc#1x"));
    }

    #[test]
    fn without_s3_support_s3_urls_say_so() {
        if cfg!(feature = "s3") {
            return;
        }
        let error = BlobStore::from_url("s3://bucket", Path::new("/tmp")).unwrap_err();
        let StorageError::Config(message) = error else {
            panic!("expected a configuration error, got {error:?}");
        };
        assert!(message.contains("without S3 support"), "{message}");
    }
}
