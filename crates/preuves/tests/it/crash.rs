//! Crash safety of the platform (issue 7, part 5): a real `preuves serve` is killed with SIGKILL
//! at random points while proofs are uploaded, sworn statements replaced and candidatures
//! submitted, then restarted on the same data folder; after each restart the invariants hold:
//!
//! - every recorded proof has its blob, with the recorded size and SHA-256, and exactly one
//!   `proof.deposit` audit entry (and every such entry its proof);
//! - no submission is half-recorded: a submitted candidature has its frozen plan, its
//!   `submitted_at` and one `candidature.submit` entry, a draft none of them;
//! - every sworn statement, current or replaced (the audit trail names it), has its blob;
//! - the audit chain verifies;
//! - after the start-up cleanup (grace period 0 here), no blob is left without a record and no
//!   partial upload remains.
//!
//! The random choices (what runs, file sizes, pacing, when to kill) come from a seeded generator:
//! `PREUVES_CRASH_SEED` replays a run, `PREUVES_CRASH_ROUNDS` (20 by default) runs more rounds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

use preuves_db::Db;
use sha2::{Digest, Sha256};

use crate::backup::walk;
use crate::platform::{
    Browser, DEMO_PASSWORD, Server, TestPostgres, VENDOR_EMAIL, deposit_slots, hidden, open_case_3,
    pdf, solution_a,
};

/// SplitMix64: small, seeded, good enough to pick test actions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The server's options in this test: the cleanup removes every blob without a record.
const SERVE_ARGS: [&str; 4] = ["--cleanup-grace-seconds", "0", "--max-upload-mib", "16"];

/// A candidature as checked: id, status, frozen plan, `submitted_at`, sworn statement's key.
type CandidatureRow = (i64, String, Option<String>, Option<i64>, Option<String>);

/// What the data folder holds, once checked.
#[derive(Debug, Default)]
struct Census {
    proofs: usize,
    drafts: usize,
    submitted: usize,
    cleaned_blobs: u64,
    audit_entries: u64,
}

/// Checks every invariant of the module header on the data folder of a server that has just
/// started (its cleanup done, no request in flight).
fn check_invariants(data: &Path, context: &str) -> Census {
    check_invariants_at(
        data,
        &Db::sqlite_url(&data.join("preuves.sqlite3")),
        context,
    )
}

/// [`check_invariants`] with the database at `url`.
fn check_invariants_at(data: &Path, url: &str, context: &str) -> Census {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let db = Db::connect_without_migrating(url).await.unwrap();
        let mut census = Census::default();
        let blobs = data.join("blobs");

        // Proofs and their blobs.
        let proofs: Vec<(i64, String, i64, String)> =
            sqlx::query_as("SELECT id, blob_key, size, sha256 FROM proofs ORDER BY id")
                .fetch_all(db.pool())
                .await
                .unwrap();
        let mut recorded: BTreeSet<String> = BTreeSet::new();
        for (id, key, size, sha) in &proofs {
            let bytes = std::fs::read(blobs.join(key))
                .unwrap_or_else(|e| panic!("{context}: proof {id}: blob {key} missing: {e}"));
            assert_eq!(bytes.len() as i64, *size, "{context}: proof {id}: size");
            assert_eq!(
                &hex::encode(Sha256::digest(&bytes)),
                sha,
                "{context}: proof {id}: SHA-256"
            );
            recorded.insert(key.clone());
        }
        census.proofs = proofs.len();
        let deposits: Vec<(String,)> = sqlx::query_as(
            "SELECT details FROM audit_log WHERE action = 'proof.deposit' ORDER BY id",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        let mut audited: Vec<i64> = deposits
            .iter()
            .map(|(d,)| {
                serde_json::from_str::<serde_json::Value>(d).unwrap()["proof"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        audited.sort_unstable();
        let ids: Vec<i64> = proofs.iter().map(|p| p.0).collect();
        assert_eq!(audited, ids, "{context}: one proof.deposit entry per proof");

        // Candidatures: whole submissions only.
        let rows: Vec<CandidatureRow> =
            sqlx::query_as(
                "SELECT id, status, plan_snapshot, submitted_at, honour_blob_key \
                 FROM candidatures ORDER BY id",
            )
            .fetch_all(db.pool())
            .await
            .unwrap();
        let submits: Vec<(String,)> = sqlx::query_as(
            "SELECT object_id FROM audit_log WHERE action = 'candidature.submit'",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        let mut submit_entries: BTreeMap<String, usize> = BTreeMap::new();
        for (object,) in submits {
            *submit_entries.entry(object).or_default() += 1;
        }
        for (id, status, plan, submitted_at, honour) in &rows {
            let entries = submit_entries.get(&id.to_string()).copied().unwrap_or(0);
            match status.as_str() {
                "draft" => {
                    assert!(
                        plan.is_none() && submitted_at.is_none() && entries == 0,
                        "{context}: draft {id} half-submitted: plan {}, submitted_at {submitted_at:?}, {entries} entries",
                        plan.is_some()
                    );
                    census.drafts += 1;
                }
                "submitted" => {
                    let plan = plan
                        .as_deref()
                        .unwrap_or_else(|| panic!("{context}: submitted {id} without its plan"));
                    serde_json::from_str::<serde_json::Value>(plan)
                        .unwrap_or_else(|e| panic!("{context}: submitted {id}: plan: {e}"));
                    assert!(submitted_at.is_some(), "{context}: {id} without submitted_at");
                    assert_eq!(entries, 1, "{context}: {id}: candidature.submit entries");
                    census.submitted += 1;
                }
                other => panic!("{context}: candidature {id} in status {other}"),
            }
            if let Some(key) = honour {
                assert!(
                    blobs.join(key).is_file(),
                    "{context}: sworn statement {key} of {id} missing"
                );
                recorded.insert(key.clone());
            }
        }
        // Replaced sworn statements are kept: the audit trail of the steps names them.
        let steps: Vec<(String,)> = sqlx::query_as(
            "SELECT details FROM audit_log WHERE action IN \
             ('candidature.create', 'candidature.update_step')",
        )
        .fetch_all(db.pool())
        .await
        .unwrap();
        for (details,) in steps {
            let v: serde_json::Value = serde_json::from_str(&details).unwrap();
            for step in [&v["step"], &v["before"], &v["after"]] {
                if let Some(key) = step["honour_statement"]["blob_key"].as_str() {
                    assert!(
                        blobs.join(key).is_file(),
                        "{context}: sworn statement {key}, named by the audit trail, missing"
                    );
                    recorded.insert(key.to_owned());
                }
            }
        }
        let attestations: Vec<(String,)> =
            sqlx::query_as("SELECT attestation_blob_key FROM referencing_grants")
                .fetch_all(db.pool())
                .await
                .unwrap();
        recorded.extend(attestations.into_iter().map(|(k,)| k));

        // The audit chain.
        let summary = db
            .verify_audit_chain()
            .await
            .unwrap()
            .unwrap_or_else(|broken| panic!("{context}: audit chain broken: {broken}"));
        census.audit_entries = summary.entries;
        let cleanups: Vec<(String,)> =
            sqlx::query_as("SELECT details FROM audit_log WHERE action = 'blob.cleanup'")
                .fetch_all(db.pool())
                .await
                .unwrap();
        census.cleaned_blobs = cleanups
            .iter()
            .map(|(d,)| {
                serde_json::from_str::<serde_json::Value>(d).unwrap()["removed"]
                    .as_u64()
                    .unwrap_or(0)
            })
            .sum();
        db.close().await;

        // After the start-up cleanup: nothing without a record, no partial upload.
        for file in walk(&blobs) {
            let key = file
                .strip_prefix(&blobs)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            assert!(
                recorded.contains(&key),
                "{context}: {key} is left in the blob store without a record"
            );
        }
        census
    })
}

/// The debris [`plant_debris`] leaves.
const DEBRIS: [&str; 3] = [
    "proofs/999/2026/11/0123456789abcdef0123456789abcdef",
    "proofs/999/2026/11/fedcba9876543210fedcba9876543210#7",
    "honour/999/2026/11/00112233445566778899aabbccddeeff",
];

/// Writes a blob without a record, a partial upload and an unused sworn statement.
fn plant_debris(data: &Path) {
    for key in DEBRIS {
        let path = data.join("blobs").join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"%PDF-1.7\ndebris").unwrap();
    }
}

/// Debris younger than the grace period is left alone (it may be an upload another process is
/// finishing); with a grace period of 0 it is removed, logged and audited.
#[test]
fn the_start_up_cleanup_honours_its_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(Server::start(&data, &[]));
    plant_debris(&data);
    drop(Server::start(&data, &[]));
    for key in DEBRIS {
        assert!(
            data.join("blobs").join(key).is_file(),
            "{key} kept within the grace period"
        );
    }
    drop(Server::start(&data, &["--cleanup-grace-seconds", "0"]));
    for key in DEBRIS {
        assert!(!data.join("blobs").join(key).exists(), "{key} removed");
    }
    let census = check_invariants(&data, "after the cleanup");
    assert_eq!(
        census.cleaned_blobs, 2,
        "the two blobs, not the partial upload, are audited"
    );
}

/// On PostgreSQL, the cleanup keeps every recorded blob (proofs, sworn statements) and removes
/// the debris.
#[test]
fn the_start_up_cleanup_on_postgres() {
    let Some(pg) = TestPostgres::create("cleanup") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let on_pg = ["--database-url", pg.url.as_str()];
    let server = Server::start(&data, &on_pg);
    let browser = Browser::sign_in(server.port, VENDOR_EMAIL, DEMO_PASSWORD);
    let id = open_case_3(&browser, &solution_a(&browser)).unwrap();
    let page = browser.get(&format!("/candidatures/{id}")).unwrap();
    let revision = hidden(&page.body, "revision").unwrap();
    let r = browser
        .upload(
            &format!("/candidatures/{id}/attestation-honneur"),
            &[("revision", &revision)],
            "attestation.pdf",
            &pdf(10_000, 3),
            Duration::ZERO,
        )
        .unwrap();
    assert_eq!(r.status, 303, "{}", r.body);
    let page = browser.get(&format!("/candidatures/{id}/preuves")).unwrap();
    let (requirement, scenario, proof) = deposit_slots(&page.body).remove(0);
    let r = browser
        .upload(
            &format!("/candidatures/{id}/preuves"),
            &[
                ("exigence", &requirement),
                ("scenario", &scenario),
                ("preuve", &proof),
            ],
            "preuve.pdf",
            &pdf(100_000, 4),
            Duration::ZERO,
        )
        .unwrap();
    assert_eq!(r.status, 303, "{}", r.body);
    drop(server);
    plant_debris(&data);
    let mut args = on_pg.to_vec();
    args.extend(["--cleanup-grace-seconds", "0"]);
    drop(Server::start(&data, &args));
    let census = check_invariants_at(&data, &pg.url, "on PostgreSQL");
    assert_eq!(census.proofs, 1);
    assert_eq!(census.cleaned_blobs, 2);
}

/// One operation run during a round, and what it is.
struct Op {
    what: &'static str,
    handle: JoinHandle<Option<u16>>,
}

#[test]
fn killed_servers_lose_nothing_and_leave_nothing() {
    let seed = env_u64("PREUVES_CRASH_SEED", 20_261_126);
    let rounds = env_u64("PREUVES_CRASH_ROUNDS", 20);
    eprintln!(
        "crash test: seed {seed}, {rounds} rounds (PREUVES_CRASH_SEED, PREUVES_CRASH_ROUNDS)"
    );
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start(&data, &SERVE_ARGS);
    let signed_in = Browser::sign_in(server.port, VENDOR_EMAIL, DEMO_PASSWORD);
    let solution = solution_a(&signed_in);
    let mut draft: Option<String> = None;
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();

    for round in 0..=rounds {
        let last = round == rounds;
        let browser = signed_in.on(server.port);
        // A draft with its sworn statement (set up without interruption).
        let id = match draft.clone() {
            Some(id) => id,
            None => {
                let id = open_case_3(&browser, &solution).expect("candidature opened");
                let page = browser.get(&format!("/candidatures/{id}")).unwrap();
                let revision = hidden(&page.body, "revision").expect("revision");
                let r = browser
                    .upload(
                        &format!("/candidatures/{id}/attestation-honneur"),
                        &[("revision", &revision)],
                        "attestation.pdf",
                        &pdf(50_000, rng.next()),
                        Duration::ZERO,
                    )
                    .unwrap();
                assert_eq!(r.status, 303, "{}\n{}", r.head, r.body);
                draft = Some(id.clone());
                id
            }
        };
        let page = browser.get(&format!("/candidatures/{id}/preuves")).unwrap();
        let slots = deposit_slots(&page.body);
        assert!(!slots.is_empty(), "nothing to deposit on {id}");
        let revision = hidden(&page.body, "revision").expect("revision of the deposit page");

        // The round's operations, in parallel.
        let mut ops: Vec<Op> = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let (requirement, scenario, proof) =
                slots[rng.below(slots.len() as u64) as usize].clone();
            let size = (1 + rng.below(4)) as usize * 1024 * 1024 + rng.below(65_536) as usize;
            let content = pdf(size, rng.next());
            let pause = Duration::from_millis(1 + rng.below(6));
            let b = browser.clone();
            let path = format!("/candidatures/{id}/preuves");
            ops.push(Op {
                what: "upload",
                handle: std::thread::spawn(move || {
                    b.upload(
                        &path,
                        &[
                            ("exigence", &requirement),
                            ("scenario", &scenario),
                            ("preuve", &proof),
                        ],
                        "preuve.pdf",
                        &content,
                        pause,
                    )
                    .ok()
                    .map(|r| r.status)
                }),
            });
        }
        if rng.below(4) == 0 {
            let b = browser.clone();
            let content = pdf(200_000 + rng.below(2_000_000) as usize, rng.next());
            let (path, rev) = (
                format!("/candidatures/{id}/attestation-honneur"),
                revision.clone(),
            );
            ops.push(Op {
                what: "sworn statement",
                handle: std::thread::spawn(move || {
                    b.upload(
                        &path,
                        &[("revision", &rev)],
                        "attestation-2.pdf",
                        &content,
                        Duration::from_millis(1),
                    )
                    .ok()
                    .map(|r| r.status)
                }),
            });
        }
        if last || rng.below(3) == 0 {
            let b = browser.clone();
            let wait = Duration::from_millis(rng.below(250));
            let path = format!("/candidatures/{id}/deposer");
            ops.push(Op {
                what: "submission",
                handle: std::thread::spawn(move || {
                    std::thread::sleep(wait);
                    b.post_form(
                        &path,
                        &[("revision", &revision), ("confirmer_incomplet", "oui")],
                    )
                    .ok()
                    .map(|r| r.status)
                }),
            });
        }
        // The last round is not interrupted: the platform still works after all the kills.
        if !last {
            std::thread::sleep(Duration::from_millis(rng.below(400)));
            server.kill();
        }
        for op in ops {
            let outcome = match op.handle.join().expect("client thread") {
                Some(status) => format!("{} → {status}", op.what),
                None => format!("{} → cut by the kill", op.what),
            };
            *outcomes.entry(outcome).or_default() += 1;
        }
        if last {
            server.kill();
        }
        if round == 0 {
            // Debris of the kind a kill leaves, for certain: a stored blob whose record never
            // committed, and a partial upload.
            plant_debris(&data);
        }
        server = Server::start(&data, &SERVE_ARGS);
        let census = check_invariants(&data, &format!("seed {seed}, after round {round}"));
        if census.drafts == 0 {
            draft = None;
        }
        if round == rounds {
            eprintln!("crash test: {outcomes:?}");
            eprintln!("crash test: final state {census:?}");
            assert!(census.proofs > 0, "some proofs were recorded");
            assert!(census.submitted > 0, "some candidatures were submitted");
        }
    }
    drop(server);
    let verify =
        crate::support::preuves(&["audit", "verify", "--data-dir", data.to_str().unwrap()]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}
