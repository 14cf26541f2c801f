//! Helpers shared by the tests: input streams and folder inspection.

use std::path::{Path, PathBuf};

use futures_util::stream::{self, Stream};
use preuves_storage::{BlobKey, BlobStore, Bytes};

/// A fresh local store in a temporary folder (kept alive by the returned guard).
pub(crate) fn local_store() -> (tempfile::TempDir, BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::local(dir.path()).unwrap();
    (dir, store)
}

pub(crate) fn key(text: &str) -> BlobKey {
    BlobKey::parse(text).unwrap()
}

/// `len` bytes of `byte`, in chunks of `chunk` bytes, as an infallible stream.
pub(crate) fn repeated(
    byte: u8,
    len: usize,
    chunk: usize,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let full = Bytes::from(vec![byte; chunk]);
    let count = len / chunk;
    let rest = len % chunk;
    let mut chunks: Vec<Bytes> = (0..count).map(|_| full.clone()).collect();
    if rest > 0 {
        chunks.push(full.slice(..rest));
    }
    stream::iter(chunks.into_iter().map(Ok))
}

/// `len` bytes in chunks, followed by an input error (a client that went away).
pub(crate) fn failing_after(
    len: usize,
    chunk: usize,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    use futures_util::StreamExt;
    repeated(b'x', len, chunk).chain(stream::once(async {
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        ))
    }))
}

/// Every file under `dir`, recursively (staging files included).
pub(crate) fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                folders.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    files
}

/// Waits (up to 5 s) until `condition` holds, polling every 10 ms.
pub(crate) async fn eventually(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if condition() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    condition()
}

/// A stream fed by a channel, so a test can pause an upload half-way.
pub(crate) fn channel_stream(
    receiver: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
}
