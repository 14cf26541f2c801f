//! Crash safety on SQLite: a process killed with SIGKILL in the middle of writing loses none of
//! the transactions it reported committed, and leaves no half-written one (the audit chain, which
//! every transaction extends, still verifies).
//!
//! The test re-runs this test binary as the writer child, selecting `crash_child_writer`, which
//! does nothing unless the child variable is set.

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Command, Stdio};

use preuves_db::{Actor, Db};
use preuves_domain::Siren;

const CHILD_VAR: &str = "PREUVES_DB_CRASH_CHILD_URL";
const COMMITS_BEFORE_KILL: usize = 40;

fn siren(i: u32) -> Siren {
    Siren::parse(&format!("{:09}", 200_000_000 + i)).unwrap()
}

/// The child side: writes organisations forever, reporting each one after its commit.
#[tokio::test]
async fn crash_child_writer() {
    let Ok(url) = std::env::var(CHILD_VAR) else {
        return;
    };
    let db = Db::connect(&url).await.unwrap();
    let mut out = std::io::stdout();
    for i in 0.. {
        let org = db
            .create_organisation("Crash", &siren(i), &Actor::System)
            .await
            .unwrap();
        writeln!(out, "committed {}", org.siren).unwrap();
        out.flush().unwrap();
    }
}

#[tokio::test]
async fn a_killed_writer_loses_no_committed_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let url = Db::sqlite_url(&dir.path().join("crash.db"));
    Db::connect(&url).await.unwrap().close().await;

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash::crash_child_writer", "--nocapture"])
        .env(CHILD_VAR, &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut committed = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(siren) = line.strip_prefix("committed ") {
            committed.push(siren.to_owned());
            if committed.len() == COMMITS_BEFORE_KILL {
                break;
            }
        }
    }
    // SIGKILL while the child is writing its next transactions.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        committed.len(),
        COMMITS_BEFORE_KILL,
        "the child stopped early"
    );

    let db = Db::connect(&url).await.unwrap();
    for siren in &committed {
        let found = db
            .find_organisation_by_siren(&Siren::parse(siren).unwrap())
            .await
            .unwrap();
        assert!(found.is_some(), "committed organisation {siren} lost");
    }
    let chain = db.verify_audit_chain().await.unwrap().unwrap();
    let organisations = db.list_organisations().await.unwrap().len();
    assert_eq!(
        chain.entries, organisations as u64,
        "one entry per stored change"
    );
    db.close().await;
}
