//! The same checks against a real S3-compatible server, when one is given.
//!
//! Opt-in: set `PREUVES_TEST_S3_URL` to a bucket URL such as
//! `s3://preuves-test?endpoint=http://127.0.0.1:5123&region=us-east-1` (with `AWS_ACCESS_KEY_ID`
//! and `AWS_SECRET_ACCESS_KEY` set, any values for moto or a local MinIO) and run
//! `cargo test -p preuves_storage --features s3`. Each test works under its own random prefix.

use preuves_storage::{BlobKey, BlobLocation, BlobStore, Bytes, PutLimits, StorageError};

use crate::support::{channel_stream, failing_after, key, repeated};

const MIB: usize = 1024 * 1024;

fn s3_store() -> Option<BlobStore> {
    let Ok(url) = std::env::var("PREUVES_TEST_S3_URL") else {
        eprintln!("PREUVES_TEST_S3_URL is not set: skipping the S3 test");
        return None;
    };
    let BlobLocation::S3(mut location) =
        BlobLocation::parse(&url, std::path::Path::new("/nonexistent")).unwrap()
    else {
        panic!("PREUVES_TEST_S3_URL must be an s3:// URL");
    };
    let run = BlobKey::new_random(&key("test-runs"));
    location.prefix = Some(run.into_string());
    Some(BlobStore::s3(&location).unwrap())
}

#[tokio::test]
async fn s3_round_trip() {
    let Some(store) = s3_store() else { return };
    crate::reads::round_trip(&store).await;
}

#[tokio::test]
async fn s3_hashes_and_multipart_uploads() {
    let Some(store) = s3_store() else { return };
    crate::upload::known_hashes(&store).await;
    // Several 5 MiB parts.
    let stored = store
        .put_stream(
            &key("p/multi"),
            repeated(b'm', 12 * MIB + 7, 64 * 1024),
            PutLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        store.head(&key("p/multi")).await.unwrap(),
        Some(stored.size)
    );
}

#[tokio::test]
async fn s3_failed_uploads_leave_nothing() {
    let Some(store) = s3_store() else { return };
    let result = store
        .put_stream(
            &key("p/cut"),
            failing_after(7 * MIB, 64 * 1024),
            PutLimits::default(),
        )
        .await;
    assert!(
        matches!(result, Err(StorageError::Interrupted(_))),
        "{result:?}"
    );
    let result = store
        .put_stream(
            &key("p/big"),
            repeated(b'x', 12 * MIB, 64 * 1024),
            PutLimits::max_size(8 * MIB as u64),
        )
        .await;
    assert!(
        matches!(result, Err(StorageError::TooLarge { .. })),
        "{result:?}"
    );
    assert!(store.list(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn s3_unfinished_upload_is_invisible() {
    let Some(store) = s3_store() else { return };
    let k = key("p/slow");
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    let upload = tokio::spawn({
        let store = store.clone();
        let k = k.clone();
        async move {
            store
                .put_stream(&k, channel_stream(receiver), PutLimits::default())
                .await
        }
    });
    // Two parts' worth: the multipart upload has started and sent a part.
    for _ in 0..11 {
        sender.send(Ok(Bytes::from(vec![3u8; MIB]))).await.unwrap();
    }
    assert_eq!(store.head(&k).await.unwrap(), None);
    assert!(store.list(None).await.unwrap().is_empty());
    drop(sender);
    let stored = upload.await.unwrap().unwrap();
    assert_eq!(store.head(&k).await.unwrap(), Some(stored.size));
}
