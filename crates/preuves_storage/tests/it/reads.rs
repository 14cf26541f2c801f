//! Round trips on both backends: put, head, get (whole and streamed), list, delete.

use std::time::{Duration, SystemTime};

use futures_util::TryStreamExt;
use preuves_storage::{BlobKey, BlobStore, PutLimits, StorageError};

use crate::support::{files_in, key, local_store, repeated};

pub(crate) async fn round_trip(store: &BlobStore) {
    let k = key("attestations/2026/11/abc.pdf");
    let stored = store.put_bytes(&k, &b"abc"[..]).await.unwrap();
    assert_eq!(stored.key, k);
    assert_eq!(stored.size, 3);
    // The NIST test vector for "abc".
    assert_eq!(
        stored.sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );

    assert_eq!(store.head(&k).await.unwrap(), Some(3));
    assert_eq!(&store.get_bytes(&k).await.unwrap()[..], b"abc");
    let stream = store.get_stream(&k).await.unwrap();
    assert_eq!(stream.size(), 3);
    let chunks: Vec<_> = stream.try_collect().await.unwrap();
    assert_eq!(chunks.concat(), b"abc");

    let listed = store.list(None).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key, k);
    assert_eq!(listed[0].size, 3);
    let age = SystemTime::now()
        .duration_since(listed[0].last_modified)
        .unwrap_or_default();
    assert!(age < Duration::from_secs(60), "{age:?}");

    store.delete(&k).await.unwrap();
    // Deleting again is not an error.
    store.delete(&k).await.unwrap();
    assert_eq!(store.head(&k).await.unwrap(), None);
    assert!(matches!(
        store.get_bytes(&k).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(
        store.get_stream(&k).await,
        Err(StorageError::NotFound)
    ));
    assert!(store.list(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn memory_round_trip() {
    round_trip(&BlobStore::memory()).await;
}

#[tokio::test]
async fn local_round_trip() {
    let (dir, store) = local_store();
    round_trip(&store).await;
    // Emptied folders are removed with the last blob.
    assert!(files_in(dir.path()).is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn local_blobs_are_plain_files_under_their_key() {
    let (dir, store) = local_store();
    let k = key("proofs/2026/11/f1");
    store.put_bytes(&k, &b"content"[..]).await.unwrap();
    let on_disk = std::fs::read(dir.path().join("proofs/2026/11/f1")).unwrap();
    assert_eq!(on_disk, b"content");
    assert_eq!(
        store.local_root().unwrap(),
        dir.path().canonicalize().unwrap()
    );
}

/// Streams a large blob back and checks every byte; `chunked` when the backend reads in chunks
/// (the memory store hands back the one buffer it already holds).
async fn streamed_read(store: &BlobStore, chunked: bool) {
    let k = key("proofs/big");
    let len = 3 * 1024 * 1024 + 123;
    store
        .put_stream(&k, repeated(b'z', len, 100_000), PutLimits::unlimited())
        .await
        .unwrap();
    let stream = store.get_stream(&k).await.unwrap();
    assert_eq!(stream.size(), len as u64);
    let chunks: Vec<_> = stream.try_collect().await.unwrap();
    if chunked {
        assert!(chunks.len() > 1, "the read is streamed in chunks");
        assert!(chunks.iter().all(|c| c.len() <= 64 * 1024));
    }
    let total: usize = chunks.iter().map(|c| c.len()).sum();
    assert_eq!(total, len);
    assert!(chunks.iter().all(|c| c.iter().all(|b| *b == b'z')));
}

#[tokio::test]
async fn streamed_reads() {
    streamed_read(&BlobStore::memory(), false).await;
    let (_dir, store) = local_store();
    streamed_read(&store, true).await;
}

#[tokio::test]
async fn list_by_prefix_matches_whole_segments() {
    let store = BlobStore::memory();
    for k in ["proofs/a", "proofs/2026/b", "proofsx/c", "attestations/d"] {
        store.put_bytes(&key(k), &b"x"[..]).await.unwrap();
    }
    let mut listed: Vec<String> = store
        .list(Some(&key("proofs")))
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.key.into_string())
        .collect();
    listed.sort();
    assert_eq!(listed, ["proofs/2026/b", "proofs/a"]);
    assert_eq!(store.list(None).await.unwrap().len(), 4);
}

#[tokio::test]
async fn list_skips_files_that_are_not_blob_keys() {
    let (dir, store) = local_store();
    store.put_bytes(&key("proofs/a"), &b"x"[..]).await.unwrap();
    std::fs::write(dir.path().join("README.TXT"), b"not ours").unwrap();
    let listed = store.list(None).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key, key("proofs/a"));
}

#[tokio::test]
async fn stale_staging_files_are_removed_and_blobs_kept() {
    let (dir, store) = local_store();
    store.put_bytes(&key("proofs/a"), &b"x"[..]).await.unwrap();
    // What a crash in the middle of an upload leaves behind.
    std::fs::write(dir.path().join("proofs/b#1"), b"partial").unwrap();
    assert_eq!(
        store
            .remove_stale_uploads(Duration::from_secs(3600))
            .await
            .unwrap(),
        0,
        "a recent staging file may be an upload in progress"
    );
    assert_eq!(store.remove_stale_uploads(Duration::ZERO).await.unwrap(), 1);
    let files = files_in(dir.path());
    assert_eq!(files, [dir.path().join("proofs/a")]);
    assert_eq!(
        BlobStore::memory()
            .remove_stale_uploads(Duration::ZERO)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn keys_must_follow_the_rules() {
    for bad in [
        "/etc/passwd",
        "../x",
        "a/../../b",
        "Proofs/A",
        "a b",
        "x#1",
        "",
    ] {
        assert!(
            matches!(BlobKey::parse(bad), Err(StorageError::InvalidKey(_))),
            "{bad:?}"
        );
    }
    let random = BlobKey::new_random_dated(&key("proofs"), SystemTime::now());
    assert_eq!(random.as_str().split('/').count(), 4, "{random}");
}
