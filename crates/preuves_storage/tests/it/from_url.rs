//! Building stores from the operator's configuration.

use preuves_storage::{BlobStore, StorageError};

use crate::support::key;

#[tokio::test]
async fn file_urls_and_paths_make_local_stores() {
    let data = tempfile::tempdir().unwrap();

    let default = BlobStore::from_url("", data.path()).unwrap();
    assert_eq!(
        default.local_root().unwrap(),
        data.path().join("blobs").canonicalize().unwrap()
    );

    let relative = BlobStore::from_url("files/blobs", data.path()).unwrap();
    assert!(data.path().join("files/blobs").is_dir());
    relative.put_bytes(&key("a/b"), &b"1"[..]).await.unwrap();
    assert!(data.path().join("files/blobs/a/b").is_file());

    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("new");
    let url = format!("file://{}", target.display());
    let from_file_url = BlobStore::from_url(&url, data.path()).unwrap();
    assert!(target.is_dir(), "the folder is created");
    from_file_url.put_bytes(&key("x"), &b"2"[..]).await.unwrap();
    assert!(target.join("x").is_file());

    let absolute = BlobStore::from_url(target.to_str().unwrap(), data.path()).unwrap();
    assert_eq!(&absolute.get_bytes(&key("x")).await.unwrap()[..], b"2");
}

#[tokio::test]
async fn memory_url_makes_a_memory_store() {
    let store = BlobStore::from_url("memory://", std::path::Path::new("/nonexistent")).unwrap();
    assert!(store.local_root().is_none());
    store.put_bytes(&key("m"), &b"3"[..]).await.unwrap();
    assert_eq!(store.head(&key("m")).await.unwrap(), Some(1));
}

#[test]
fn bad_urls_are_configuration_errors() {
    let data = std::path::Path::new("/tmp");
    for url in ["ftp://x", "memory://data", "s3://", "s3://b?nope=1"] {
        assert!(
            matches!(BlobStore::from_url(url, data), Err(StorageError::Config(_))),
            "{url}"
        );
    }
}

#[cfg(not(feature = "s3"))]
#[test]
fn without_the_s3_feature_s3_urls_explain_the_build() {
    let error =
        BlobStore::from_url("s3://bucket/prefix", std::path::Path::new("/tmp")).unwrap_err();
    assert!(
        error.to_string().contains("built without S3 support"),
        "{error}"
    );
}

#[cfg(feature = "s3")]
#[test]
fn with_the_s3_feature_s3_urls_build_a_store() {
    // Building does not connect; credentials may be absent until the first request.
    let store = BlobStore::from_url(
        "s3://preuves/prod?endpoint=http://127.0.0.1:9&region=eu-west-3",
        std::path::Path::new("/tmp"),
    )
    .unwrap();
    assert!(store.local_root().is_none());
    let debug = format!("{store:?}");
    assert!(
        debug.contains("s3://preuves/prod at http://127.0.0.1:9"),
        "{debug}"
    );
}
