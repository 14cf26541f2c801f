//! `backup` and `restore`: a platform's data (the embedded SQLite database and the proof files,
//! attestations and sworn statements of the blob store) in one archive file, and back.
//!
//! The archive is a plain tar file (see [`crate::archive`]; `tar tvf` lists it):
//!
//! 1. `preuves-backup.json`, the manifest: format and version, when, the database file's size
//!    and SHA-256, the audit chain's length and last hash, and how many blobs follow;
//! 2. `preuves.sqlite3`, a consistent snapshot of the live database (`VACUUM INTO`: the platform
//!    keeps running, writers are not blocked);
//! 3. `blobs/<key>`, every blob the snapshot records, and only those (a blob without a record is
//!    an upload in flight or debris, not data). Each proof and attestation is checked on the way
//!    against the SHA-256 (and size) the database recorded: a backup with a missing or altered
//!    file fails, naming it.
//!
//! The archive is written under a temporary name and renamed when complete, so a file with the
//! final name is always a whole backup.
//!
//! `restore` reads an archive into a data folder: it refuses while a server uses the folder
//! (`serve` holds a shared lock on `<data-dir>/preuves.lock`, restore needs it exclusively) and,
//! without `--force`, a folder that already holds a database or blobs. Everything is staged
//! beside its final place and checked before anything is replaced: the manifest, the database's
//! SHA-256, that it is a `preuves` database (migrated to this version's schema if older), that
//! its audit chain verifies, and that every blob it records is in the archive with its recorded
//! SHA-256. Then the database file is renamed into place (atomic) after the blob folder; with
//! `--force`, what was there is moved to `<data-dir>/restore-previous-<time>/`, not deleted.
//!
//! PostgreSQL platforms are backed up with `pg_dump` and the blob store's own tools: both
//! commands refuse a PostgreSQL URL with the steps to follow (`docs/operations.md`).
//!
//! Both commands write an audit entry (`platform.backup` in the live database, `platform.restore`
//! in the restored one).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use futures_util::StreamExt;
use preuves_db::{Actor, BlobReference, BlobUse, Db};
use preuves_storage::{BlobKey, BlobStore, Bytes, PutLimits};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::archive::{TarReader, TarWriter};
use crate::{Failure, Storage};

/// The manifest's entry name (always the first entry).
const MANIFEST: &str = "preuves-backup.json";
/// The database's entry name.
const DATABASE: &str = "preuves.sqlite3";
/// The folder of the blobs in the archive.
const BLOBS: &str = "blobs/";
/// The `format` of the manifest.
const FORMAT: &str = "preuves-backup";
/// The version of the archive's layout.
const FORMAT_VERSION: u64 = 1;
/// The file name of the embedded database in a data folder.
const DATABASE_FILE: &str = "preuves.sqlite3";
/// The lock file of a data folder.
const LOCK_FILE: &str = "preuves.lock";
/// Chunk size of copies.
const CHUNK: usize = 256 * 1024;

/// The steps for a PostgreSQL platform, printed when one is given.
const POSTGRES_STEPS: &str = "\
La sauvegarde intégrée ne concerne que la base SQLite embarquée. Pour une plateforme sur PostgreSQL :
  sauvegarde :
    1. pg_dump --format=custom --file=preuves.dump \"$DATABASE_URL\"
    2. ensuite, copiez le stockage des fichiers (le dossier de --blob-url ou le seau S3, par exemple
       avec rsync -a ou aws s3 sync) : les fichiers sont immuables, une copie faite après le pg_dump
       contient tous ceux qu'il enregistre ;
  restauration (serveurs arrêtés) :
    1. createdb preuves && pg_restore --no-owner --dbname=\"$DATABASE_URL\" preuves.dump
    2. remettez les fichiers en place, puis vérifiez : preuves audit verify --database-url \"$DATABASE_URL\".
Voir docs/operations.md.";

/// `preuves backup`.
#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    #[command(flatten)]
    storage: Storage,
    /// Where the proof files are (as for `serve`; default `<data-dir>/blobs`).
    #[arg(long, env = "PREUVES_BLOB_URL", default_value = "")]
    blob_url: String,
    /// The archive to write (a tar file); it must not exist.
    file: PathBuf,
}

/// `preuves restore`.
#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    #[command(flatten)]
    storage: Storage,
    /// Where the proof files go (as for `serve`; default `<data-dir>/blobs`).
    #[arg(long, env = "PREUVES_BLOB_URL", default_value = "")]
    blob_url: String,
    /// Replaces a data folder that already holds a database or files (what was there is kept
    /// in `<data-dir>/restore-previous-<time>/`).
    #[arg(long)]
    force: bool,
    /// The archive written by `preuves backup`.
    file: PathBuf,
}

/// A lock on a data folder: shared by the servers using it, exclusive for a restore. Released
/// when dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub(crate) struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    fn open(data_dir: &Path) -> Result<File, Failure> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            Failure::input(format!(
                "{} : création du dossier de données impossible : {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join(LOCK_FILE);
        File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Failure::input(format!("{} : ouverture impossible : {e}", path.display())))
    }

    /// The shared lock a server holds while it runs on the embedded database of `data_dir`.
    pub(crate) fn shared(data_dir: &Path) -> Result<Self, Failure> {
        let file = Self::open(data_dir)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Failure::input(format!(
                "{} : une restauration est en cours dans ce dossier de données ; relancez le \
                 serveur quand elle sera terminée.",
                data_dir.display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(Failure::unexpected(format!(
                "{} : verrouillage impossible : {e}",
                data_dir.display()
            ))),
        }
    }

    /// The exclusive lock of a restore: refused while a server runs on `data_dir`.
    fn exclusive(data_dir: &Path) -> Result<Self, Failure> {
        let file = Self::open(data_dir)?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Failure::input(format!(
                "{} : un serveur preuves utilise ce dossier de données : arrêtez-le avant de \
                 restaurer (rien n'a été modifié).",
                data_dir.display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(Failure::unexpected(format!(
                "{} : verrouillage impossible : {e}",
                data_dir.display()
            ))),
        }
    }
}

/// Refuses PostgreSQL (with the steps) and SQLite URLs other than the data folder's.
fn embedded_only(storage: &Storage, command: &str) -> Result<(), Failure> {
    match &storage.database_url {
        None => Ok(()),
        Some(url) if preuves_db::Backend::from_url(url) == Some(preuves_db::Backend::Postgres) => {
            Err(Failure::input(POSTGRES_STEPS))
        }
        Some(_) => Err(Failure::input(format!(
            "preuves {command} travaille sur la base embarquée d'un dossier de données : donnez \
             --data-dir plutôt que --database-url."
        ))),
    }
}

/// Removes a file or folder when dropped, unless disarmed.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(path)
            } else {
                std::fs::remove_file(path)
            };
        }
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn io_failure(path: &Path, what: &str) -> impl Fn(std::io::Error) -> Failure {
    let path = path.display().to_string();
    let what = what.to_owned();
    move |e| Failure::unexpected(format!("{path} : {what} : {e}"))
}

fn kind_fr(used_as: BlobUse) -> &'static str {
    match used_as {
        BlobUse::Proof => "preuve",
        BlobUse::Attestation => "attestation",
        BlobUse::HonourStatement => "attestation sur l'honneur",
    }
}

/// The size and SHA-256 of a file.
fn hash_file(path: &Path) -> Result<(u64, String), Failure> {
    let mut file = File::open(path).map_err(io_failure(path, "lecture impossible"))?;
    let mut hasher = HashingWriter::new(std::io::sink());
    std::io::copy(&mut file, &mut hasher).map_err(io_failure(path, "lecture impossible"))?;
    let (_, size, sha) = hasher.finish();
    Ok((size, sha))
}

/// Counts and hashes what goes through it.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    fn finish(self) -> (W, u64, String) {
        (self.inner, self.size, hex::encode(self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What the manifest says.
struct Manifest {
    created_at: i64,
    db_size: u64,
    db_sha: String,
    blobs: u64,
}

fn parse_manifest(bytes: &[u8], source: &Path) -> Result<Manifest, Failure> {
    let not_ours = || {
        Failure::input(format!(
            "{} n'est pas une sauvegarde preuves (manifeste {MANIFEST} illisible).",
            source.display()
        ))
    };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| not_ours())?;
    if value["format"] != FORMAT {
        return Err(not_ours());
    }
    let version = value["version"].as_u64().ok_or_else(not_ours)?;
    if version != FORMAT_VERSION {
        return Err(Failure::input(format!(
            "{} : sauvegarde au format {version}, que cette version de preuves ne sait pas lire \
             (format {FORMAT_VERSION}).",
            source.display()
        )));
    }
    Ok(Manifest {
        created_at: value["created_at"].as_i64().unwrap_or_default(),
        db_size: value["database"]["size"].as_u64().ok_or_else(not_ours)?,
        db_sha: value["database"]["sha256"]
            .as_str()
            .ok_or_else(not_ours)?
            .to_owned(),
        blobs: value["blobs"].as_u64().ok_or_else(not_ours)?,
    })
}

mod restore;
mod write;

pub(crate) use restore::restore;
pub(crate) use write::backup;
