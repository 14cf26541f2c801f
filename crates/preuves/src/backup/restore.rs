//! Restoring a backup archive into a data folder: staged, checked, then moved into place (see
//! the parent module for the order and the checks).

use super::*;

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
