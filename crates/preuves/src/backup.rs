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

/// `preuves backup FILE`.
pub(crate) async fn backup(args: BackupArgs) -> Result<(), Failure> {
    embedded_only(&args.storage, "backup")?;
    let data_dir = &args.storage.data_dir;
    if !data_dir.join(DATABASE_FILE).is_file() {
        return Err(Failure::input(format!(
            "{} : aucune base de données preuves dans ce dossier (fichier {DATABASE_FILE} absent).",
            data_dir.display()
        )));
    }
    if args.file.exists() {
        return Err(Failure::input(format!(
            "{} existe déjà : choisissez un autre nom (une sauvegarde n'en remplace jamais une autre).",
            args.file.display()
        )));
    }
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            Failure::input(format!(
                "{} : nom de fichier invalide.",
                args.file.display()
            ))
        })?;
    let folder = match args.file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        return Err(Failure::input(format!(
            "{} : ce dossier n'existe pas.",
            folder.display()
        )));
    }
    let pid = std::process::id();
    let snapshot = folder.join(format!(".{file_name}.db-{pid}"));
    let partial = folder.join(format!(".{file_name}.partial-{pid}"));
    let _cleanup = Cleanup(vec![
        snapshot.clone(),
        partial.clone(),
        folder.join(format!(".{file_name}.db-{pid}-wal")),
        folder.join(format!(".{file_name}.db-{pid}-shm")),
    ]);

    // 1. The snapshot, then what it records.
    let db = args.storage.connect().await?;
    db.snapshot_into(&snapshot)
        .await
        .map_err(|e| Failure::unexpected(format!("instantané de la base impossible : {e}")))?;
    let snap = Db::connect_without_migrating(&Db::sqlite_url(&snapshot))
        .await
        .map_err(|e| Failure::unexpected(format!("instantané illisible : {e}")))?;
    let chain = snap
        .verify_audit_chain()
        .await
        .map_err(|e| Failure::unexpected(format!("lecture du journal d'audit impossible : {e}")))?;
    let chain = match chain {
        Ok(summary) => summary,
        Err(broken) => {
            snap.close().await;
            return Err(Failure {
                code: 3,
                message: format!(
                    "Journal d'audit altéré (première entrée en défaut n° {}) : aucune sauvegarde \
                     n'a été écrite. Voir preuves audit verify.",
                    broken.entry_id
                ),
            });
        }
    };
    let mut references = snap.referenced_blobs().await.map_err(|e| {
        Failure::unexpected(format!("lecture des fichiers enregistrés impossible : {e}"))
    })?;
    let flushed = snap.checkpoint().await;
    snap.close().await;
    flushed.map_err(|e| Failure::unexpected(format!("instantané de la base impossible : {e}")))?;
    references.sort_by(|a, b| a.key.cmp(&b.key));
    references.dedup_by(|a, b| a.key == b.key);
    let (db_size, db_sha) = hash_file(&snapshot)?;

    // 2. The archive.
    let blobs = preuves_storage::BlobStore::from_url(&args.blob_url, data_dir)
        .map_err(|e| Failure::input(format!("stockage des fichiers inutilisable : {e}")))?;
    let out = File::create_new(&partial).map_err(io_failure(&partial, "création impossible"))?;
    let mut tar = TarWriter::new(HashingWriter::new(BufWriter::with_capacity(CHUNK, out)));
    let mtime = now_secs();
    let manifest = json!({
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created_at": preuves_db::Timestamp::now().as_millis(),
        "preuves_version": env!("CARGO_PKG_VERSION"),
        "database": { "file": DATABASE, "size": db_size, "sha256": db_sha },
        "audit": { "entries": chain.entries, "last_hash": chain.last_hash },
        "blobs": references.len(),
    });
    let write_err = io_failure(&partial, "écriture impossible");
    tar.entry(MANIFEST, manifest.to_string().as_bytes(), mtime)
        .map_err(&write_err)?;
    tar.start_entry(DATABASE, db_size, mtime)
        .map_err(&write_err)?;
    let mut input = File::open(&snapshot).map_err(io_failure(&snapshot, "lecture impossible"))?;
    let copied = std::io::copy(&mut input, &mut DataSink(&mut tar)).map_err(&write_err)?;
    if copied != db_size {
        return Err(Failure::unexpected(
            "l'instantané a changé pendant la copie",
        ));
    }
    tar.end_entry(db_size).map_err(&write_err)?;
    drop(input);

    let mut problems = Vec::new();
    let mut blob_bytes = 0u64;
    for reference in &references {
        match copy_blob(&blobs, reference, &mut tar, mtime).await? {
            Ok(size) => blob_bytes += size,
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        return Err(Failure::unexpected(format!(
            "Sauvegarde refusée : {} fichier(s) enregistré(s) manquent ou ne correspondent plus à \
             leur empreinte ; aucune sauvegarde n'a été écrite.\n  {}",
            problems.len(),
            problems.join("\n  ")
        )));
    }
    let hashing = tar.finish().map_err(&write_err)?;
    let (writer, archive_size, archive_sha) = hashing.finish();
    let out = writer.into_inner().map_err(|e| {
        Failure::unexpected(format!("{} : écriture impossible : {e}", partial.display()))
    })?;
    out.sync_all().map_err(&write_err)?;
    drop(out);
    std::fs::rename(&partial, &args.file).map_err(io_failure(&args.file, "écriture impossible"))?;
    if let Ok(dir) = File::open(&folder) {
        let _ = dir.sync_all();
    }

    db.record_audit(
        &Actor::System,
        "platform.backup",
        "backup",
        &file_name,
        json!({
            "sha256": archive_sha,
            "size": archive_size,
            "blobs": references.len(),
            "audit_entries": chain.entries,
            "audit_last_hash": chain.last_hash,
        }),
    )
    .await
    .map_err(|e| Failure::unexpected(format!("journal d'audit : {e}")))?;
    db.close().await;
    crate::simulate::print(&format!(
        "Sauvegarde écrite : {} ({archive_size} octets, SHA-256 {archive_sha}).\n\
         Base : {} entrée(s) d'audit vérifiée(s), empreinte finale {} ; fichiers : {} ({blob_bytes} octets).",
        args.file.display(),
        chain.entries,
        chain.last_hash,
        references.len(),
    ))
}

/// Copies one recorded blob into the archive, checking it on the way; the inner `Err` names a
/// missing or altered blob (the archive is then abandoned by the caller).
async fn copy_blob<W: Write>(
    blobs: &BlobStore,
    reference: &BlobReference,
    tar: &mut TarWriter<W>,
    mtime: u64,
) -> Result<Result<u64, String>, Failure> {
    let what = format!("{} {}", kind_fr(reference.used_as), reference.key);
    let Ok(key) = BlobKey::parse(reference.key.clone()) else {
        return Ok(Err(format!("{what} : clé invalide")));
    };
    let mut stream = match blobs.get_stream(&key).await {
        Ok(stream) => stream,
        Err(preuves_storage::StorageError::NotFound) => {
            return Ok(Err(format!("{what} : absent du stockage")));
        }
        Err(e) => {
            return Err(Failure::unexpected(format!(
                "{what} : lecture impossible : {e}"
            )));
        }
    };
    let size = stream.size();
    if let Some(recorded) = reference.size
        && recorded != size
    {
        return Ok(Err(format!(
            "{what} : {size} octets dans le stockage, {recorded} enregistrés"
        )));
    }
    let name = format!("{BLOBS}{}", reference.key);
    let write_err =
        |e: std::io::Error| Failure::unexpected(format!("écriture de l'archive impossible : {e}"));
    tar.start_entry(&name, size, mtime).map_err(write_err)?;
    let mut hasher = Sha256::new();
    let mut written = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| Failure::unexpected(format!("{what} : lecture impossible : {e}")))?;
        written += chunk.len() as u64;
        if written > size {
            break;
        }
        hasher.update(&chunk);
        tar.write_data(&chunk).map_err(write_err)?;
    }
    if written != size {
        return Err(Failure::unexpected(format!(
            "{what} : {written} octets lus au lieu de {size}"
        )));
    }
    tar.end_entry(size).map_err(write_err)?;
    let sha = hex::encode(hasher.finalize());
    if let Some(recorded) = &reference.sha256
        && *recorded != sha
    {
        return Ok(Err(format!(
            "{what} : son SHA-256 ({sha}) n'est plus celui enregistré ({recorded})"
        )));
    }
    Ok(Ok(size))
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

/// The content of the current tar entry, as a `Write`.
struct DataSink<'a, W: Write>(&'a mut TarWriter<W>);

impl<W: Write> Write for DataSink<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_data(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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

/// Where the restored blobs are staged, and how they are put in place.
enum BlobTarget {
    /// A local folder: blobs are staged in a sibling folder renamed into place at the end.
    Local { root: PathBuf, staging: PathBuf },
    /// Another store (S3): blobs are written directly.
    Remote,
}

/// `preuves restore FILE`.
pub(crate) async fn restore(args: RestoreArgs) -> Result<(), Failure> {
    embedded_only(&args.storage, "restore")?;
    let data_dir = args.storage.data_dir.clone();
    let archive_file = File::open(&args.file).map_err(|e| {
        Failure::input(format!(
            "{} : lecture impossible : {e}",
            args.file.display()
        ))
    })?;
    let mut reader = TarReader::new(BufReader::with_capacity(CHUNK, archive_file));
    let not_ours = |e: std::io::Error| {
        Failure::input(format!(
            "{} n'est pas une sauvegarde preuves lisible : {e}",
            args.file.display()
        ))
    };
    let mut tar = reader.entries().map_err(not_ours)?;
    let manifest = match tar.next_entry().map_err(not_ours)? {
        Some(mut entry) if entry.name == MANIFEST => parse_manifest(
            &entry.read_to_vec(1024 * 1024).map_err(not_ours)?,
            &args.file,
        )?,
        _ => {
            return Err(Failure::input(format!(
                "{} n'est pas une sauvegarde preuves (pas de manifeste {MANIFEST} en tête).",
                args.file.display()
            )));
        }
    };

    // The folder: no server on it, and empty unless --force.
    let _lock = DataDirLock::exclusive(&data_dir)?;
    let database = data_dir.join(DATABASE_FILE);
    let blobs_now = BlobStore::from_url(&args.blob_url, &data_dir)
        .map_err(|e| Failure::input(format!("stockage des fichiers inutilisable : {e}")))?;
    let has_database = std::fs::metadata(&database).is_ok_and(|m| m.len() > 0);
    let has_blobs = !blobs_now
        .list(None)
        .await
        .map_err(|e| Failure::unexpected(format!("lecture du stockage impossible : {e}")))?
        .is_empty();
    if (has_database || has_blobs) && !args.force {
        return Err(Failure::input(format!(
            "{} : le dossier de données contient déjà {} : rien n'a été modifié. Restaurez dans un \
             dossier vide, ou ajoutez --force pour remplacer son contenu (l'ancien est alors \
             conservé dans {}/restore-previous-<date>/).",
            data_dir.display(),
            match (has_database, has_blobs) {
                (true, true) => "une base et des fichiers",
                (true, false) => "une base",
                _ => "des fichiers",
            },
            data_dir.display()
        )));
    }

    // Staging.
    let pid = std::process::id();
    let staged_db = data_dir.join(format!(".{DATABASE_FILE}.restore-{pid}"));
    let mut cleanup = Cleanup(vec![
        staged_db.clone(),
        data_dir.join(format!(".{DATABASE_FILE}.restore-{pid}-wal")),
        data_dir.join(format!(".{DATABASE_FILE}.restore-{pid}-shm")),
    ]);
    let (target, staging_store) = match blobs_now.local_root() {
        Some(root) => {
            let root = root.to_path_buf();
            let name = root
                .file_name()
                .map_or_else(|| "blobs".to_owned(), |n| n.to_string_lossy().into_owned());
            let staging = root
                .parent()
                .unwrap_or(&data_dir)
                .join(format!(".{name}.restore-{pid}"));
            cleanup.0.push(staging.clone());
            let store = BlobStore::local(&staging).map_err(|e| {
                Failure::unexpected(format!("préparation des fichiers impossible : {e}"))
            })?;
            (BlobTarget::Local { root, staging }, store)
        }
        None => (BlobTarget::Remote, blobs_now.clone()),
    };

    let mut db_seen = None;
    let mut restored: std::collections::HashMap<String, (u64, String)> =
        std::collections::HashMap::new();
    // Each name the archive may hold is mapped to a destination chosen here (the staged
    // database, a blob key of the staging store); any other name is refused.
    while let Some(mut entry) = tar.next_entry().map_err(not_ours)? {
        if entry.name == DATABASE && db_seen.is_none() {
            let out = File::create_new(&staged_db)
                .map_err(io_failure(&staged_db, "création impossible"))?;
            let mut writer = HashingWriter::new(BufWriter::with_capacity(CHUNK, out));
            let mut buf = vec![0; CHUNK];
            loop {
                let n = entry.read(&mut buf).map_err(not_ours)?;
                if n == 0 {
                    break;
                }
                writer
                    .write_all(&buf[..n])
                    .map_err(io_failure(&staged_db, "écriture impossible"))?;
            }
            let (out, size, sha) = writer.finish();
            let out = out
                .into_inner()
                .map_err(|e| Failure::unexpected(format!("écriture impossible : {e}")))?;
            out.sync_all()
                .map_err(io_failure(&staged_db, "écriture impossible"))?;
            db_seen = Some((size, sha));
        } else if let Some(key) = entry.name.strip_prefix(BLOBS) {
            let key = BlobKey::parse(key.to_owned()).map_err(|_| {
                Failure::input(format!(
                    "{} : entrée « {} » invalide dans l'archive.",
                    args.file.display(),
                    entry.name
                ))
            })?;
            let input = futures_util::stream::unfold(&mut entry, |entry| async move {
                let mut buf = vec![0; CHUNK];
                match entry.read(&mut buf) {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok(Bytes::from(buf)), entry))
                    }
                    Err(e) => Some((Err(e), entry)),
                }
            });
            let stored = staging_store
                .put_stream(&key, input, PutLimits::unlimited())
                .await
                .map_err(|e| match e {
                    // The archive's bytes ran out or could not be read.
                    preuves_storage::StorageError::Interrupted(why) => Failure::input(format!(
                        "{} n'est pas une sauvegarde preuves lisible : {why}",
                        args.file.display()
                    )),
                    other => Failure::unexpected(format!("fichier {key} : {other}")),
                })?;
            restored.insert(key.into_string(), (stored.size, stored.sha256));
        } else {
            return Err(Failure::input(format!(
                "{} : entrée « {} » inattendue dans une sauvegarde preuves.",
                args.file.display(),
                entry.name
            )));
        }
    }

    // Checks.
    let Some((db_size, db_sha)) = db_seen else {
        return Err(Failure::input(format!(
            "{} : la sauvegarde ne contient pas de base de données.",
            args.file.display()
        )));
    };
    if db_size != manifest.db_size || db_sha != manifest.db_sha {
        return Err(Failure::input(format!(
            "{} : la base de données de l'archive ne correspond pas à son manifeste (archive \
             altérée) : rien n'a été modifié.",
            args.file.display()
        )));
    }
    if restored.len() as u64 != manifest.blobs {
        return Err(Failure::input(format!(
            "{} : l'archive contient {} fichier(s), son manifeste en annonce {} : rien n'a été modifié.",
            args.file.display(),
            restored.len(),
            manifest.blobs
        )));
    }
    let staged = Db::connect_without_migrating(&Db::sqlite_url(&staged_db))
        .await
        .map_err(|e| Failure::input(format!("base de données de l'archive illisible : {e}")))?;
    let checked = check_staged(&staged, &restored, &args.file).await;
    let flushed = staged.checkpoint().await;
    staged.close().await;
    flushed.map_err(|e| Failure::unexpected(format!("base de données de l'archive : {e}")))?;
    let entries = checked?;

    // Swap: the blobs, then the database (one rename).
    let previous = data_dir.join(format!("restore-previous-{}", now_secs()));
    let keep = |from: &Path, to: &Path| -> Result<(), Failure> {
        std::fs::create_dir_all(to.parent().unwrap_or(to))
            .map_err(io_failure(to, "création impossible"))?;
        std::fs::rename(from, to).map_err(io_failure(from, "déplacement impossible"))
    };
    if let BlobTarget::Local { root, staging } = &target {
        // An empty folder (created by the checks above) is not worth keeping.
        let _ = std::fs::remove_dir(root);
        if root.exists() {
            let kept = previous.join("blobs");
            if keep(root, &kept).is_err() {
                // Another file system: keep it beside itself.
                let beside = root.with_extension(format!("previous-{}", now_secs()));
                std::fs::rename(root, &beside)
                    .map_err(io_failure(root, "déplacement impossible"))?;
            }
        }
        std::fs::rename(staging, root).map_err(io_failure(staging, "mise en place impossible"))?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = data_dir.join(format!("{DATABASE_FILE}{suffix}"));
        if file.exists() {
            keep(&file, &previous.join(format!("{DATABASE_FILE}{suffix}")))?;
        }
    }
    std::fs::rename(&staged_db, &database)
        .map_err(io_failure(&database, "mise en place impossible"))?;
    if let Ok(dir) = File::open(&data_dir) {
        let _ = dir.sync_all();
    }
    // Only the staged database's empty journal files, if any, are left to remove.
    cleanup
        .0
        .retain(|p| p.to_string_lossy().ends_with("-wal") || p.to_string_lossy().ends_with("-shm"));

    let db = args.storage.connect().await?;
    db.record_audit(
        &Actor::System,
        "platform.restore",
        "backup",
        &args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        json!({
            "backup_created_at": manifest.created_at,
            "database_sha256": manifest.db_sha,
            "blobs": restored.len(),
        }),
    )
    .await
    .map_err(|e| Failure::unexpected(format!("journal d'audit : {e}")))?;
    db.close().await;
    let mut message = format!(
        "Restauration terminée dans {} : {entries} entrée(s) d'audit vérifiée(s), {} fichier(s).",
        data_dir.display(),
        restored.len()
    );
    if previous.exists() {
        message.push_str(&format!(
            "\nL'ancien contenu est conservé dans {} : supprimez-le quand la plateforme restaurée \
             vous convient.",
            previous.display()
        ));
    }
    if matches!(target, BlobTarget::Remote) {
        message.push_str(
            "\nLes fichiers ont été écrits directement dans le stockage distant (les objets qui s'y \
             trouvaient déjà sont conservés).",
        );
    }
    crate::simulate::print(&message)
}

/// Checks the staged database: a `preuves` one (migrated to this version if older), whose audit
/// chain verifies and whose every recorded blob was restored with its recorded size and SHA-256.
/// Returns the number of audit entries.
async fn check_staged(
    db: &Db,
    restored: &std::collections::HashMap<String, (u64, String)>,
    source: &Path,
) -> Result<u64, Failure> {
    db.check_platform_schema().await.map_err(|e| {
        Failure::input(format!(
            "{} : la base de l'archive n'est pas une base preuves ({e}) : rien n'a été modifié.",
            source.display()
        ))
    })?;
    db.migrate().await.map_err(|e| {
        Failure::input(format!(
            "{} : la base de l'archive ne peut pas être mise au schéma de cette version de preuves \
             (sauvegarde d'une version plus récente ?) : {e}. Rien n'a été modifié.",
            source.display()
        ))
    })?;
    let chain = db
        .verify_audit_chain()
        .await
        .map_err(|e| Failure::unexpected(format!("lecture du journal d'audit impossible : {e}")))?;
    let summary = chain.map_err(|broken| Failure {
        code: 3,
        message: format!(
            "{} : le journal d'audit de la sauvegarde est altéré (première entrée en défaut n° {}) : \
             rien n'a été modifié.",
            source.display(),
            broken.entry_id
        ),
    })?;
    let references = db.referenced_blobs().await.map_err(|e| {
        Failure::unexpected(format!("lecture des fichiers enregistrés impossible : {e}"))
    })?;
    let mut problems = Vec::new();
    for r in &references {
        let what = format!("{} {}", kind_fr(r.used_as), r.key);
        match restored.get(&r.key) {
            None => problems.push(format!("{what} : absent de l'archive")),
            Some((size, sha)) => {
                if r.size.is_some_and(|s| s != *size) || r.sha256.as_ref().is_some_and(|s| s != sha)
                {
                    problems.push(format!("{what} : altéré dans l'archive"));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(Failure::input(format!(
            "{} : {} fichier(s) enregistré(s) manquent ou sont altérés dans l'archive : rien n'a \
             été modifié.\n  {}",
            source.display(),
            problems.len(),
            problems.join("\n  ")
        )));
    }
    Ok(summary.entries)
}
