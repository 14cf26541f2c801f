//! The demonstration catalogue and scenarios, embedded in the binary by `build.rs`.
//!
//! `serve --demo` needs them wherever it is started from; `preuves demo export DIR` writes them
//! out so that someone with only the installed binary can read them, edit them and try
//! `preuves simulate` on them.

use std::path::{Path, PathBuf};

use crate::Failure;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));
}

/// The name of the catalogue file among the embedded catalogue files.
const CATALOGUE_TOML: &str = "catalogue.toml";

/// The embedded demonstration catalogue written to a fresh temporary folder, removed when this
/// value is dropped (the catalogue loader reads files, and the REMs are named by relative path).
pub(crate) struct UnpackedCatalogue {
    dir: PathBuf,
}

impl UnpackedCatalogue {
    /// Writes the embedded catalogue to a new folder of the system's temporary directory.
    pub(crate) fn new() -> Result<Self, Failure> {
        let dir = unique_temp_dir()?;
        let unpacked = Self { dir };
        write_all(&unpacked.dir, embedded::CATALOGUE)?;
        Ok(unpacked)
    }

    /// The `catalogue.toml` to load.
    pub(crate) fn toml_path(&self) -> PathBuf {
        self.dir.join(CATALOGUE_TOML)
    }
}

impl Drop for UnpackedCatalogue {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(folder = %self.dir.display(), error = %e, "demo catalogue folder not removed");
        }
    }
}

/// A folder that did not exist before, created for this process only.
fn unique_temp_dir() -> Result<PathBuf, Failure> {
    let base = std::env::temp_dir();
    let mut nonce = [0_u8; 8];
    getrandom::fill(&mut nonce)
        .map_err(|e| Failure::unexpected(format!("aléa indisponible : {e}")))?;
    let dir = base.join(format!(
        "preuves-demo-{}-{}",
        std::process::id(),
        hex::encode(nonce)
    ));
    // `create_dir` (not `_all`) fails if the folder exists: nobody else's folder is reused.
    std::fs::create_dir(&dir).map_err(|e| {
        Failure::unexpected(format!(
            "dossier temporaire {} impossible à créer : {e}",
            dir.display()
        ))
    })?;
    Ok(dir)
}

/// Writes `files` into `dir`, which exists.
fn write_all(dir: &Path, files: &[(&str, &[u8])]) -> Result<(), Failure> {
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| {
            Failure::unexpected(format!("écriture de {} impossible : {e}", path.display()))
        })?;
    }
    Ok(())
}

/// `preuves demo export DIR`: writes `DIR/catalogue/` and `DIR/scenarios/` (refusing to
/// overwrite a file that is already there) and prints what to run next.
pub(crate) fn export(dir: &Path) -> Result<(), Failure> {
    let mut written = Vec::new();
    for (sub, files) in [
        ("catalogue", embedded::CATALOGUE),
        ("scenarios", embedded::SCENARIOS),
    ] {
        let target = dir.join(sub);
        std::fs::create_dir_all(&target).map_err(|e| {
            Failure::input(format!(
                "dossier {} impossible à créer : {e}",
                target.display()
            ))
        })?;
        if let Some((name, _)) = files.iter().find(|(name, _)| target.join(name).exists()) {
            return Err(Failure::input(format!(
                "{} existe déjà : rien n'a été écrit par-dessus",
                target.join(name).display()
            )));
        }
        written.push((target, files));
    }
    for (target, files) in written {
        write_all(&target, files).map_err(|f| Failure::input(f.message))?;
    }
    let catalogue = dir.join("catalogue").join(CATALOGUE_TOML);
    let scenario = dir.join("scenarios").join("cas-3.json");
    crate::simulate::print(&format!(
        "Données de démonstration écrites dans {}.\nEssayez :\n  preuves simulate --catalogue {} --scenario {} --format text\n",
        dir.display(),
        catalogue.display(),
        scenario.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeds_the_demo_folders_whole() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demo");
        for (sub, files) in [
            ("catalogue", embedded::CATALOGUE),
            ("scenarios", embedded::SCENARIOS),
        ] {
            let mut on_disk: Vec<String> = std::fs::read_dir(root.join(sub))
                .expect("demo folder")
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            on_disk.sort();
            let embedded: Vec<&str> = files.iter().map(|(name, _)| *name).collect();
            assert_eq!(on_disk, embedded, "demo/{sub}");
        }
        assert!(
            embedded::CATALOGUE
                .iter()
                .any(|(name, _)| *name == CATALOGUE_TOML)
        );
    }

    #[test]
    fn unpacked_catalogue_is_removed_when_dropped() {
        let Ok(unpacked) = UnpackedCatalogue::new() else {
            panic!("the demo catalogue unpacks");
        };
        let toml = unpacked.toml_path();
        assert!(toml.is_file());
        let dir = toml.parent().expect("folder").to_path_buf();
        drop(unpacked);
        assert!(!dir.exists());
    }
}
