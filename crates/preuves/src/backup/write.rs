//! Writing a backup archive: the database snapshot and every recorded blob, each checked
//! against what the database recorded on the way (see the parent module for the format).

use super::*;

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
