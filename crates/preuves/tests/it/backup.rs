//! `preuves backup` and `preuves restore`: a round trip through a real server (data written
//! through the pages, backed up while the server runs, restored into a fresh folder, served
//! again), and the refusals (a folder in use or not empty, a damaged or foreign archive, a
//! PostgreSQL URL).

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::platform::{
    Browser, DEMO_PASSWORD, Server, VENDOR_EMAIL, deposit_slots, hidden, open_case_3, pdf,
    solution_a,
};
use crate::support::preuves;

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temporary path")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Opens the webinar's case 3, joins a sworn statement and deposits two proofs; returns the
/// candidature id and the deposited files (name, SHA-256).
fn create_data(browser: &Browser) -> (String, Vec<(String, String)>) {
    let id = open_case_3(browser, &solution_a(browser)).expect("candidature opened");
    let page = browser
        .get(&format!("/candidatures/{id}"))
        .expect("step page");
    let revision = hidden(&page.body, "revision").expect("revision");
    let r = browser
        .upload(
            &format!("/candidatures/{id}/attestation-honneur"),
            &[("revision", &revision)],
            "attestation.pdf",
            &pdf(20_000, 1),
            Duration::ZERO,
        )
        .expect("sworn statement");
    assert_eq!(r.status, 303, "{}\n{}", r.head, r.body);
    let page = browser
        .get(&format!("/candidatures/{id}/preuves"))
        .expect("deposit page");
    let slots = deposit_slots(&page.body);
    assert!(
        slots.len() >= 2,
        "expected proofs to deposit: {}",
        page.body
    );
    let mut files = Vec::new();
    for (i, (requirement, scenario, proof)) in slots.iter().take(2).enumerate() {
        let name = format!("preuve-{i}.pdf");
        let content = pdf(300_000 + i * 1000, 10 + i as u64);
        let r = browser
            .upload(
                &format!("/candidatures/{id}/preuves"),
                &[
                    ("exigence", requirement),
                    ("scenario", scenario),
                    ("preuve", proof),
                ],
                &name,
                &content,
                Duration::ZERO,
            )
            .expect("deposit");
        assert_eq!(r.status, 303, "{}\n{}", r.head, r.body);
        files.push((name, hex::encode(Sha256::digest(&content))));
    }
    (id, files)
}

/// The download links of a deposit page, by file name.
fn downloads(page: &str) -> Vec<(String, String)> {
    page.split("<a href=\"")
        .skip(1)
        .filter_map(|a| {
            let (href, rest) = a.split_once('"')?;
            let name = rest.split_once('>')?.1.split('<').next()?;
            href.contains("/preuves/")
                .then(|| (name.to_owned(), href.to_owned()))
        })
        .collect()
}

#[test]
fn backup_while_serving_then_restore_into_a_fresh_folder() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let archive = dir.path().join("sauvegarde.tar");
    let server = Server::start(&source, &[]);
    let browser = Browser::sign_in(server.port, VENDOR_EMAIL, DEMO_PASSWORD);
    let (id, files) = create_data(&browser);

    // Backed up while the server runs.
    let out = preuves(&["backup", "--data-dir", path(&source), path(&archive)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Sauvegarde écrite"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("fichiers : 3"), "{}", stdout(&out));
    // A second backup never replaces the first.
    let again = preuves(&["backup", "--data-dir", path(&source), path(&archive)]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).contains("existe déjà"), "{}", stderr(&again));

    // The server keeps working, and the folder it uses cannot be restored into.
    let page = browser.get("/candidatures").expect("dashboard");
    assert_eq!(page.status, 200);
    let busy = preuves(&[
        "restore",
        "--force",
        "--data-dir",
        path(&source),
        path(&archive),
    ]);
    assert_eq!(busy.status.code(), Some(2), "{}", stderr(&busy));
    assert!(
        stderr(&busy).contains("un serveur preuves utilise ce dossier"),
        "{}",
        stderr(&busy)
    );
    drop(server);

    // Restored into a fresh folder.
    let restored = dir.path().join("restored");
    let out = preuves(&["restore", "--data-dir", path(&restored), path(&archive)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Restauration terminée"),
        "{}",
        stdout(&out)
    );
    assert!(
        !stdout(&out).contains("restore-previous"),
        "{}",
        stdout(&out)
    );
    let verify = preuves(&["audit", "verify", "--data-dir", path(&restored)]);
    assert!(verify.status.success(), "{}", stderr(&verify));

    // Served again: the same session, the candidature and its files, byte for byte.
    let server = Server::start(&restored, &[]);
    let again = browser.on(server.port);
    let page = again
        .get(&format!("/candidatures/{id}/preuves"))
        .expect("deposit page");
    assert_eq!(page.status, 200, "{}", page.head);
    let links = downloads(&page.body);
    for (name, sha) in &files {
        let (_, href) = links
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} is listed: {links:?}"));
        let file = again.get(href).expect("download");
        assert_eq!(file.status, 200, "{}", file.head);
        assert_eq!(&hex::encode(Sha256::digest(&file.bytes)), sha, "{name}");
    }
    let step = again
        .get(&format!("/candidatures/{id}"))
        .expect("step page");
    assert!(
        step.body.contains("attestation.pdf"),
        "the sworn statement is there"
    );
    drop(server);

    // A folder that is not empty needs --force; what was there is kept aside.
    let out = preuves(&["restore", "--data-dir", path(&restored), path(&archive)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    let out = preuves(&[
        "restore",
        "--force",
        "--data-dir",
        path(&restored),
        path(&archive),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("restore-previous-"),
        "{}",
        stdout(&out)
    );
    let kept: Vec<_> = std::fs::read_dir(&restored)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("restore-previous-")
        })
        .collect();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].path().join("preuves.sqlite3").is_file());
    assert!(kept[0].path().join("blobs").is_dir());
    let verify = preuves(&["audit", "verify", "--data-dir", path(&restored)]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

#[test]
fn damaged_or_foreign_archives_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let archive = dir.path().join("b.tar");
    let server = Server::start(&source, &[]);
    let browser = Browser::sign_in(server.port, VENDOR_EMAIL, DEMO_PASSWORD);
    create_data(&browser);
    drop(server);
    let out = preuves(&["backup", "--data-dir", path(&source), path(&archive)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&archive).unwrap();

    // A byte of a proof file changed (its tar header still valid): refused, nothing written.
    let mut damaged = bytes.clone();
    let marker = b"%PDF-1.7\n";
    let at = damaged
        .windows(marker.len())
        .rposition(|w| w == marker)
        .expect("a file in the archive")
        + 100;
    damaged[at] ^= 0x55;
    let damaged_path = dir.path().join("damaged.tar");
    std::fs::write(&damaged_path, &damaged).unwrap();
    let target = dir.path().join("t1");
    let out = preuves(&["restore", "--data-dir", path(&target), path(&damaged_path)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("altéré"), "{}", stderr(&out));
    assert!(!target.join("preuves.sqlite3").exists());
    let left: Vec<_> = walk(&target)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "preuves.lock"))
        .collect();
    assert!(left.is_empty(), "nothing left behind: {left:?}");

    // Cut short.
    let cut = dir.path().join("cut.tar");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = preuves(&[
        "restore",
        "--data-dir",
        path(&dir.path().join("t2")),
        path(&cut),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // Not a backup at all.
    let foreign = dir.path().join("foreign.tar");
    std::fs::write(&foreign, b"hello, this is not an archive").unwrap();
    let out = preuves(&[
        "restore",
        "--data-dir",
        path(&dir.path().join("t3")),
        path(&foreign),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("n'est pas une sauvegarde preuves"),
        "{}",
        stderr(&out)
    );

    // PostgreSQL: the steps, not a half-done backup.
    let out = preuves(&[
        "backup",
        "--database-url",
        "postgres://user@localhost/preuves",
        path(&dir.path().join("pg.tar")),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("pg_dump"), "{}", stderr(&out));
    assert!(!dir.path().join("pg.tar").exists());

    // No database to back up.
    let out = preuves(&[
        "backup",
        "--data-dir",
        path(&dir.path().join("empty")),
        path(&dir.path().join("e.tar")),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// A sworn statement's SHA-256 is recorded like a proof's: altered in an archive, the restore
/// refuses it; altered in the data folder, the backup refuses it.
#[test]
fn a_tampered_sworn_statement_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let archive = dir.path().join("b.tar");
    let server = Server::start(&source, &[]);
    let browser = Browser::sign_in(server.port, VENDOR_EMAIL, DEMO_PASSWORD);
    create_data(&browser);
    drop(server);
    let out = preuves(&["backup", "--data-dir", path(&source), path(&archive)]);
    assert!(out.status.success(), "{}", stderr(&out));

    // In the archive: one byte of the statement (the 20 000-byte PDF of `create_data`).
    let mut bytes = std::fs::read(&archive).unwrap();
    let statement = pdf(20_000, 1);
    let at = bytes
        .windows(64)
        .position(|w| w == &statement[..64])
        .expect("the sworn statement in the archive")
        + 5_000;
    bytes[at] ^= 0x55;
    let damaged = dir.path().join("damaged.tar");
    std::fs::write(&damaged, &bytes).unwrap();
    let target = dir.path().join("t1");
    let out = preuves(&["restore", "--data-dir", path(&target), path(&damaged)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("attestation sur l'honneur") && stderr(&out).contains("altéré"),
        "{}",
        stderr(&out)
    );
    assert!(!target.join("preuves.sqlite3").exists());

    // In the data folder: the backup names it.
    let stored = walk(&source.join("blobs/honour"))
        .into_iter()
        .next()
        .expect("the sworn statement's blob");
    let mut content = std::fs::read(&stored).unwrap();
    content[5_000] ^= 0x55;
    std::fs::write(&stored, &content).unwrap();
    let out = preuves(&[
        "backup",
        "--data-dir",
        path(&source),
        path(&dir.path().join("b2.tar")),
    ]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("attestation sur l'honneur") && stderr(&out).contains("SHA-256"),
        "{}",
        stderr(&out)
    );
}

/// An archive is a list of regular files whose names restore maps to places of its own: a link,
/// or a name leading out of the data folder, makes the restore fail before anything is written.
#[test]
fn links_and_names_leading_elsewhere_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let archive = dir.path().join("b.tar");
    drop(Server::start(&source, &[]));
    let out = preuves(&["backup", "--data-dir", path(&source), path(&archive)]);
    assert!(out.status.success(), "{}", stderr(&out));

    // The genuine manifest and database, then one crafted entry.
    let with_extra = |extra: tar::Header, content: &[u8]| -> Vec<u8> {
        let mut genuine = tar::Archive::new(std::fs::File::open(&archive).unwrap());
        let mut out = tar::Builder::new(Vec::new());
        for entry in genuine.entries().unwrap() {
            let mut entry = entry.unwrap();
            let header = entry.header().clone();
            out.append(&header, &mut entry).unwrap();
        }
        out.append(&extra, content).unwrap();
        out.into_inner().unwrap()
    };
    let regular = |size: usize| {
        let mut h = tar::Header::new_ustar();
        h.set_path("blobs/proofs/placeholder").unwrap();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(size as u64);
        h
    };
    let mut symlink = regular(0);
    symlink.set_entry_type(tar::EntryType::Symlink);
    symlink.set_link_name("/etc/passwd").unwrap();
    symlink.set_cksum();
    let mut hard_link = regular(0);
    hard_link.set_entry_type(tar::EntryType::Link);
    hard_link.set_link_name("preuves.sqlite3").unwrap();
    hard_link.set_cksum();
    // `tar` itself refuses to write such names: they are put in the header's name field as is.
    let escaping = |name: &str| {
        let mut h = regular(4);
        let field = &mut h.as_old_mut().name;
        field.fill(0);
        field[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        h
    };
    let absolute = dir.path().join("evil");
    let cases = [
        ("symlink", with_extra(symlink, b"")),
        ("hard-link", with_extra(hard_link, b"")),
        ("parent", with_extra(escaping("../../evil"), b"evil")),
        (
            "blobs-parent",
            with_extra(escaping("blobs/../../evil"), b"evil"),
        ),
        ("absolute", with_extra(escaping(path(&absolute)), b"evil")),
    ];
    for (name, bytes) in cases {
        let crafted = dir.path().join(format!("{name}.tar"));
        std::fs::write(&crafted, bytes).unwrap();
        let target = dir.path().join("restored").join(name);
        let out = preuves(&["restore", "--data-dir", path(&target), path(&crafted)]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("n'est pas une sauvegarde preuves lisible"),
            "{name}: {}",
            stderr(&out)
        );
        assert!(!target.join("preuves.sqlite3").exists(), "{name}");
        let left: Vec<_> = walk(&target)
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n != "preuves.lock"))
            .collect();
        assert!(left.is_empty(), "{name}: nothing left behind: {left:?}");
    }
    let evil: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "evil"))
        .collect();
    assert!(evil.is_empty(), "nothing written outside: {evil:?}");

    // The control: the genuine archive plus a well-named but unrecorded file is read to the
    // end (then refused for the count the manifest announces, not for its form).
    let control = dir.path().join("control.tar");
    let mut extra = regular(4);
    extra.set_cksum();
    std::fs::write(&control, with_extra(extra, b"fine")).unwrap();
    let target = dir.path().join("restored").join("control");
    let out = preuves(&["restore", "--data-dir", path(&target), path(&control)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("son manifeste en annonce"),
        "{}",
        stderr(&out)
    );
}

/// A blob recorded in the database but missing from the store makes the backup fail, naming it.
#[test]
fn a_backup_with_a_missing_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let server = Server::start(&source, &[]);
    let browser = Browser::sign_in(server.port, VENDOR_EMAIL, DEMO_PASSWORD);
    create_data(&browser);
    drop(server);
    let proofs = source.join("blobs/proofs");
    let victim = walk(&proofs).into_iter().next().expect("a proof blob");
    std::fs::remove_file(&victim).unwrap();
    let archive = dir.path().join("b.tar");
    let out = preuves(&["backup", "--data-dir", path(&source), path(&archive)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("absent du stockage"),
        "{}",
        stderr(&out)
    );
    assert!(!archive.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files removed: {leftovers:?}"
    );
}

/// Every file under `dir`.
pub(crate) fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
