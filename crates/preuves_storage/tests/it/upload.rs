//! Streaming uploads: hashes, limits, content checks, failures, atomic visibility and bounded
//! buffering.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use futures_util::Stream;
use futures_util::stream::StreamExt;
use preuves_storage::{BlobStore, Bytes, PutLimits, SNIFF_LEN, StorageError};

use crate::support::{
    channel_stream, eventually, failing_after, files_in, key, local_store, repeated,
};

const MIB: usize = 1024 * 1024;

/// SHA-256 of 5,000,000 bytes `a` (computed independently, with Python's hashlib).
const SHA256_5M_A: &str = "7f4a285193573e707fcb6398222c00f044745cd2930e41d28d30da87d6ca183f";
/// SHA-256 of 1,000,000 bytes `a` (a NIST test vector).
const SHA256_1M_A: &str = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
/// SHA-256 of nothing.
const SHA256_EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

pub(crate) async fn known_hashes(store: &BlobStore) {
    // Shorter than a part: stored with one put.
    let small = store
        .put_stream(
            &key("p/small"),
            repeated(b'a', 1_000_000, 1000),
            PutLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        (small.size, small.sha256.as_str()),
        (1_000_000, SHA256_1M_A)
    );

    // Several parts, in odd-sized chunks that straddle part boundaries.
    let large = store
        .put_stream(
            &key("p/large"),
            repeated(b'a', 5_000_000, 77_777),
            PutLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        (large.size, large.sha256.as_str()),
        (5_000_000, SHA256_5M_A)
    );
    assert_eq!(store.head(&key("p/large")).await.unwrap(), Some(5_000_000));
    let back = store.get_bytes(&key("p/large")).await.unwrap();
    assert!(back.len() == 5_000_000 && back.iter().all(|b| *b == b'a'));

    // A single huge chunk (hashed off the runtime).
    let one_chunk = store
        .put_stream(
            &key("p/one"),
            repeated(b'a', 5_000_000, 5_000_000),
            PutLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(one_chunk.sha256, SHA256_5M_A);

    let empty = store
        .put_stream(&key("p/empty"), repeated(b'a', 0, 1), PutLimits::default())
        .await
        .unwrap();
    assert_eq!((empty.size, empty.sha256.as_str()), (0, SHA256_EMPTY));
    assert_eq!(store.head(&key("p/empty")).await.unwrap(), Some(0));
}

#[tokio::test]
async fn sha256_and_size_are_correct_in_memory() {
    known_hashes(&BlobStore::memory()).await;
}

#[tokio::test]
async fn sha256_and_size_are_correct_on_disk() {
    let (_dir, store) = local_store();
    known_hashes(&store).await;
}

#[tokio::test]
async fn size_limit_aborts_and_leaves_nothing() {
    let (dir, store) = local_store();
    // Over the limit within the first part (nothing written yet) and after several parts
    // (multipart upload under way).
    for (limit, len) in [(100_000, 200_000), (3 * MIB, 10 * MIB)] {
        let result = store
            .put_stream(
                &key("proofs/too-big"),
                repeated(b'x', len, 64 * 1024),
                PutLimits::max_size(limit as u64),
            )
            .await;
        assert!(
            matches!(result, Err(StorageError::TooLarge { limit: l }) if l == limit as u64),
            "{result:?}"
        );
        assert!(store.list(None).await.unwrap().is_empty());
        assert_eq!(files_in(dir.path()), Vec::<std::path::PathBuf>::new());
    }
    // Exactly at the limit is accepted.
    let stored = store
        .put_stream(
            &key("proofs/just-fits"),
            repeated(b'x', 3 * MIB, 64 * 1024),
            PutLimits::max_size(3 * MIB as u64),
        )
        .await
        .unwrap();
    assert_eq!(stored.size, 3 * MIB as u64);
}

#[tokio::test]
async fn interrupted_input_leaves_nothing() {
    let (dir, store) = local_store();
    for len in [10_000, 5 * MIB] {
        let result = store
            .put_stream(
                &key("proofs/cut"),
                failing_after(len, 64 * 1024),
                PutLimits::default(),
            )
            .await;
        match result {
            Err(StorageError::Interrupted(message)) => {
                assert!(message.contains("connection reset"), "{message}");
            }
            other => panic!("expected Interrupted, got {other:?}"),
        }
        assert_eq!(store.head(&key("proofs/cut")).await.unwrap(), None);
        assert!(store.list(None).await.unwrap().is_empty());
        assert_eq!(files_in(dir.path()), Vec::<std::path::PathBuf>::new());
    }
    let memory = BlobStore::memory();
    let result = memory
        .put_stream(
            &key("proofs/cut"),
            failing_after(5 * MIB, 64 * 1024),
            PutLimits::default(),
        )
        .await;
    assert!(matches!(result, Err(StorageError::Interrupted(_))));
    assert!(memory.list(None).await.unwrap().is_empty());
}

/// Counts the chunks a consumer pulled, to show what was (not) read.
struct Counted<S> {
    inner: S,
    pulled: Arc<AtomicUsize>,
}

impl<S: Stream + Unpin> Stream for Counted<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let item = self.inner.poll_next_unpin(cx);
        if let Poll::Ready(Some(_)) = &item {
            self.pulled.fetch_add(1, Ordering::SeqCst);
        }
        item
    }
}

#[tokio::test]
async fn refused_content_leaves_nothing_and_stops_reading() {
    let (dir, store) = local_store();
    let pulled = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(AtomicUsize::new(0));
    let input = Counted {
        inner: Box::pin(repeated(b'M', 50 * MIB, 4096)),
        pulled: Arc::clone(&pulled),
    };
    let seen_by_check = Arc::clone(&seen);
    let result = store
        .put_stream_checked(
            &key("proofs/exe"),
            input,
            PutLimits::default(),
            |head: &[u8]| {
                seen_by_check.store(head.len(), Ordering::SeqCst);
                if head.starts_with(b"%PDF-") {
                    Ok(())
                } else {
                    Err("not a PDF")
                }
            },
        )
        .await;
    assert!(
        matches!(&result, Err(StorageError::Rejected(m)) if m == "not a PDF"),
        "{result:?}"
    );
    assert_eq!(seen.load(Ordering::SeqCst), SNIFF_LEN);
    // Refused after the first 8 KiB: the 50 MiB input was not read to the end.
    assert_eq!(pulled.load(Ordering::SeqCst), SNIFF_LEN / 4096);
    assert!(store.list(None).await.unwrap().is_empty());
    assert_eq!(files_in(dir.path()), Vec::<std::path::PathBuf>::new());
}

#[tokio::test]
async fn content_check_sees_the_first_bytes_of_short_and_empty_inputs() {
    let store = BlobStore::memory();
    let pdf = Bytes::from_static(b"%PDF-1.7 tiny");
    let input =
        futures_util::stream::iter([Ok::<_, std::io::Error>(pdf.slice(..4)), Ok(pdf.slice(4..))]);
    let stored = store
        .put_stream_checked(
            &key("a/pdf"),
            input,
            PutLimits::default(),
            |head: &[u8]| {
                assert_eq!(head, b"%PDF-1.7 tiny");
                Ok::<(), String>(())
            },
        )
        .await
        .unwrap();
    assert_eq!(stored.size, 13);

    // An empty file reaches the check as an empty slice, so the caller can refuse it.
    let result = store
        .put_stream_checked(
            &key("a/empty"),
            repeated(0, 0, 1),
            PutLimits::default(),
            |head: &[u8]| {
                if head.is_empty() {
                    Err("empty file")
                } else {
                    Ok(())
                }
            },
        )
        .await;
    assert!(matches!(result, Err(StorageError::Rejected(_))));
    assert_eq!(store.head(&key("a/empty")).await.unwrap(), None);
}

#[tokio::test]
async fn an_unfinished_upload_is_invisible() {
    let (dir, store) = local_store();
    let k = key("proofs/2026/11/slow");
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let upload = tokio::spawn({
        let store = store.clone();
        let k = k.clone();
        async move {
            store
                .put_stream(&k, channel_stream(receiver), PutLimits::default())
                .await
        }
    });
    // More than one part: the multipart upload is under way, its staging file on disk.
    for _ in 0..3 {
        sender.send(Ok(Bytes::from(vec![7u8; MIB]))).await.unwrap();
    }
    let staging = dir.path().join("proofs/2026/11/slow#1");
    assert!(
        eventually(|| std::fs::metadata(&staging).is_ok_and(|m| m.len() >= MIB as u64)).await,
        "the upload should have started writing its staging file"
    );
    assert_eq!(store.head(&k).await.unwrap(), None);
    assert!(matches!(
        store.get_bytes(&k).await,
        Err(StorageError::NotFound)
    ));
    assert!(store.list(None).await.unwrap().is_empty());
    assert!(!dir.path().join("proofs/2026/11/slow").exists());

    sender.send(Ok(Bytes::from(vec![7u8; 1000]))).await.unwrap();
    drop(sender);
    let stored = upload.await.unwrap().unwrap();
    assert_eq!(stored.size, 3 * MIB as u64 + 1000);
    assert_eq!(store.head(&k).await.unwrap(), Some(stored.size));
    assert_eq!(
        files_in(dir.path()),
        [dir.path().join("proofs/2026/11/slow")]
    );
}

#[tokio::test]
async fn a_cancelled_upload_leaves_nothing() {
    let (dir, store) = local_store();
    let k = key("proofs/cancelled");
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let upload = tokio::spawn({
        let store = store.clone();
        let k = k.clone();
        async move {
            store
                .put_stream(&k, channel_stream(receiver), PutLimits::default())
                .await
        }
    });
    for _ in 0..3 {
        sender.send(Ok(Bytes::from(vec![1u8; MIB]))).await.unwrap();
    }
    let staging = dir.path().join("proofs/cancelled#1");
    assert!(eventually(|| staging.exists()).await);
    // What happens to a request handler when the client disconnects: its future is dropped.
    upload.abort();
    assert!(upload.await.unwrap_err().is_cancelled());
    assert!(
        eventually(|| files_in(dir.path()).is_empty()).await,
        "left behind: {:?}",
        files_in(dir.path())
    );
    assert_eq!(store.head(&k).await.unwrap(), None);
}

/// Watches how far the input runs ahead of what reached the disk.
///
/// Every time the upload pulls a chunk, it measures `pulled - on_disk`, where `on_disk` is the
/// size of the upload's staging file: the bytes read from the input that the store has not
/// written yet, i.e. what the upload is holding in memory (its buffer and the part in flight).
struct Watched<S> {
    inner: S,
    staging: std::path::PathBuf,
    pulled: u64,
    max_ahead: Arc<AtomicUsize>,
    saw_staging: Arc<AtomicBool>,
}

impl<S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin> Stream for Watched<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        // A blocking stat in a test stream is fine: it is what we measure with.
        let on_disk = match std::fs::metadata(&self.staging) {
            Ok(meta) => {
                self.saw_staging.store(true, Ordering::SeqCst);
                meta.len()
            }
            Err(_) => 0,
        };
        let ahead = usize::try_from(self.pulled.saturating_sub(on_disk)).unwrap();
        self.max_ahead.fetch_max(ahead, Ordering::SeqCst);
        let item = self.inner.poll_next_unpin(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &item {
            self.pulled += chunk.len() as u64;
        }
        item
    }
}

#[tokio::test]
async fn an_upload_buffers_at_most_about_one_part() {
    let (dir, store) = local_store();
    let chunk = 64 * 1024;
    let len = 40 * MIB;
    let max_ahead = Arc::new(AtomicUsize::new(0));
    let saw_staging = Arc::new(AtomicBool::new(false));
    let input = Watched {
        inner: Box::pin(repeated(b'q', len, chunk)),
        staging: dir.path().join("proofs/watched#1"),
        pulled: 0,
        max_ahead: Arc::clone(&max_ahead),
        saw_staging: Arc::clone(&saw_staging),
    };
    let stored = store
        .put_stream(&key("proofs/watched"), input, PutLimits::unlimited())
        .await
        .unwrap();
    assert_eq!(stored.size, len as u64);
    assert!(
        saw_staging.load(Ordering::SeqCst),
        "a multipart upload was used"
    );
    let max_ahead = max_ahead.load(Ordering::SeqCst);
    eprintln!(
        "max bytes held ahead of the disk: {max_ahead} (part size {})",
        store.part_size()
    );
    // One part being written, plus what is left over from the chunk that filled it, plus the
    // chunk being pulled.
    let bound = store.part_size() + 2 * chunk;
    assert!(
        max_ahead <= bound,
        "held {max_ahead} bytes ahead of the disk, bound {bound}"
    );
    // And it does buffer a part, so the measure is not vacuous.
    assert!(max_ahead >= store.part_size() / 2, "{max_ahead}");
}
