//! Peak memory of a 300 MiB streamed upload to a local folder.
//!
//! This test runs alone in its own binary because it reads the whole process's memory figures
//! from `/proc/self/status` (Linux only). It compares the resident memory before the upload
//! (`VmRSS`) with the process's peak after it (`VmHWM`): the difference bounds how much more
//! memory the upload ever used, runtime threads and allocator slack included. The input is
//! generated on the fly: every 64 KiB chunk is a fresh allocation (copied from one of 16
//! patterns), as a network body's chunks are, so buffered chunks really cost memory.

#![cfg(target_os = "linux")]

use std::time::Instant;

use futures_util::stream;
use preuves_storage::{BlobKey, BlobStore, Bytes, PutLimits};
use sha2::{Digest, Sha256};

const MIB: u64 = 1024 * 1024;

/// A field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_300_mib_upload_stays_within_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::local(dir.path()).unwrap();
    let key = BlobKey::parse("proofs/huge").unwrap();

    let chunk = 64 * 1024;
    let chunks: Vec<Bytes> = (0..16u8)
        .map(|i| Bytes::from(vec![i.wrapping_mul(37); chunk]))
        .collect();
    let total = 300 * MIB;
    let count = usize::try_from(total).unwrap() / chunk;
    let mut expected = Sha256::new();
    for i in 0..count {
        expected.update(&chunks[i % 16]);
    }
    let expected = hex::encode(expected.finalize());
    let input =
        stream::iter((0..count).map(move |i| Ok::<_, std::io::Error>(chunks[i % 16].clone())));

    let rss_before = status_bytes("VmRSS:");
    let started = Instant::now();
    let stored = store
        .put_stream(&key, input, PutLimits::unlimited())
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let peak_after = status_bytes("VmHWM:");

    assert_eq!(stored.size, total);
    assert_eq!(stored.sha256, expected);
    assert_eq!(store.head(&key).await.unwrap(), Some(total));

    let growth = peak_after.saturating_sub(rss_before);
    eprintln!(
        "300 MiB upload in {elapsed:.2?}; RSS before {} KiB, peak after {} KiB, growth {} KiB \
         (part size {} KiB)",
        rss_before / 1024,
        peak_after / 1024,
        growth / 1024,
        store.part_size() / 1024
    );
    assert!(
        growth < 16 * MIB,
        "peak memory grew by {} MiB during a 300 MiB upload",
        growth / MIB
    );

    // Control: the instrument does see memory that is really used. Touch 32 MiB and check
    // that the peak moves by about that much.
    let before_control = status_bytes("VmRSS:");
    let control = std::hint::black_box(vec![1u8; 32 * MIB as usize]);
    let control_growth = status_bytes("VmHWM:").saturating_sub(before_control);
    drop(control);
    eprintln!(
        "control: 32 MiB allocation moved the peak by {} KiB",
        control_growth / 1024
    );
    assert!(control_growth >= 30 * MIB, "{control_growth}");
}
