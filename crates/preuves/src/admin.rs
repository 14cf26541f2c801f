//! `migrate`, `create-user`, `import` and `audit verify`: administration from the command line.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use preuves_db::{Actor, NewUser, Role};
use preuves_domain::{DispositifCode, DispositifKey, Siren, Wave};
use sha2::{Digest, Sha256};

use crate::{Failure, Storage};

pub(crate) async fn migrate(storage: Storage) -> Result<(), Failure> {
    let db = storage.connect().await?;
    db.close().await;
    crate::simulate::print(&format!("Schéma à jour ({}).", db.backend().name()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RoleArg {
    Vendor,
    Instructor,
    Admin,
}

#[derive(Debug, Args)]
pub(crate) struct CreateUserArgs {
    #[command(flatten)]
    storage: Storage,
    /// E-mail address (the sign-in name).
    #[arg(long)]
    email: String,
    /// Name shown in the pages.
    #[arg(long)]
    name: String,
    /// Role.
    #[arg(long, value_enum)]
    role: RoleArg,
    /// For a vendor: its organisation's SIREN (created with --organisation-name if new).
    #[arg(long)]
    siren: Option<String>,
    /// For a vendor whose organisation is new: its name.
    #[arg(long)]
    organisation_name: Option<String>,
}

pub(crate) async fn create_user(args: CreateUserArgs) -> Result<(), Failure> {
    // The password comes from standard input so that it never shows in the process list.
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| Failure::input(format!("lecture du mot de passe impossible : {e}")))?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    if password.chars().count() < 12 {
        return Err(Failure::input(
            "Le mot de passe (lu sur l'entrée standard) doit compter au moins 12 caractères.",
        ));
    }
    let role = match args.role {
        RoleArg::Vendor => Role::Vendor,
        RoleArg::Instructor => Role::Instructor,
        RoleArg::Admin => Role::Admin,
    };
    let db = args.storage.connect().await?;
    let organisation = match (role, &args.siren) {
        (Role::Vendor, Some(raw)) => {
            let siren = Siren::parse_checked(raw).map_err(|e| Failure::input(e.to_string()))?;
            match db
                .find_organisation_by_siren(&siren)
                .await
                .map_err(Failure::unexpected)?
            {
                Some(org) => Some(org.id),
                None => {
                    let name = args.organisation_name.as_deref().ok_or_else(|| {
                        Failure::input(format!(
                            "Aucune organisation n'a le SIREN {siren} : donnez son nom avec --organisation-name."
                        ))
                    })?;
                    Some(
                        db.create_organisation(name, &siren, &Actor::System)
                            .await
                            .map_err(Failure::unexpected)?
                            .id,
                    )
                }
            }
        }
        (Role::Vendor, None) => {
            return Err(Failure::input(
                "Un compte éditeur appartient à une organisation : donnez son SIREN avec --siren.",
            ));
        }
        (_, Some(_)) => {
            return Err(Failure::input(
                "Seul un compte éditeur appartient à une organisation (--siren).",
            ));
        }
        (_, None) => None,
    };
    let hash = preuves_web::security::hash_password(password)
        .await
        .map_err(Failure::unexpected)?;
    let user = db
        .create_user(
            &NewUser {
                email: &args.email,
                display_name: &args.name,
                role,
                organisation,
                password_hash: &hash,
            },
            &Actor::System,
        )
        .await
        .map_err(|e| {
            if e.is_conflict(preuves_db::UniqueConstraint::UserEmail) {
                Failure::input(format!("Un compte existe déjà pour {}.", args.email))
            } else {
                Failure::unexpected(e)
            }
        })?;
    crate::simulate::print(&format!(
        "Compte créé : {} ({}), n° {}.",
        user.email,
        user.role.label(),
        user.id.0
    ))
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    #[command(flatten)]
    storage: Storage,
    /// The dispositif's code (vague 2).
    #[arg(long)]
    dispositif: String,
    /// The REM file, CSV or XLSX.
    #[arg(long)]
    file: PathBuf,
}

pub(crate) async fn import(args: ImportArgs) -> Result<(), Failure> {
    let key = DispositifKey {
        code: DispositifCode::parse(&args.dispositif).map_err(|e| Failure::input(e.to_string()))?,
        wave: Wave::Two,
    };
    let bytes = std::fs::read(&args.file).map_err(|e| {
        Failure::input(format!(
            "{} : lecture impossible : {e}",
            args.file.display()
        ))
    })?;
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sha = hex::encode(Sha256::digest(&bytes));
    let parse_name = name.clone();
    let imported =
        tokio::task::spawn_blocking(move || preuves_import::import_rem_bytes(&parse_name, &bytes))
            .await
            .map_err(Failure::unexpected)?
            .map_err(|failure| {
                Failure::input(format!("REM refusé, rien n'a été importé :\n{failure}"))
            })?;
    let db = args.storage.connect().await?;
    // The same report shape as an import through the pages, so its page shows the warnings.
    let report = serde_json::json!({ "warnings": imported.warnings }).to_string();
    let version = db
        .import_rem_version_with_report(
            &key,
            &imported.rem,
            &name,
            &sha,
            i64::try_from(imported.rows).unwrap_or(i64::MAX),
            None,
            Some(&report),
            &Actor::System,
        )
        .await
        .map_err(|e| Failure::input(format!("import impossible : {e}")))?;
    let mut out = format!(
        "{key} : version {} du REM importée ({} exigences, {} lignes).\n",
        version.label, version.requirement_count, version.row_count
    );
    for w in &imported.warnings {
        out.push_str(&format!("  avertissement : {w}\n"));
    }
    crate::simulate::print(&out)
}

/// `preuves audit verify`: checks the whole chain; a broken one exits with 3, naming the first
/// entry that fails and why.
pub(crate) async fn audit_verify(storage: Storage) -> Result<(), Failure> {
    use preuves_db::AuditBreakKind;
    let db = storage.connect().await?;
    let verdict = db
        .verify_audit_chain()
        .await
        .map_err(|e| Failure::unexpected(format!("lecture du journal d'audit impossible : {e}")))?;
    db.close().await;
    match verdict {
        Ok(summary) => {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "Journal d'audit intègre : {} entrée(s) vérifiée(s), empreinte finale {}.",
                summary.entries, summary.last_hash
            )
            .map_err(Failure::unexpected)?;
            Ok(())
        }
        Err(broken) => {
            let why = match broken.kind {
                AuditBreakKind::HashMismatch => {
                    "son contenu ne correspond plus à son empreinte : elle a été modifiée"
                }
                AuditBreakKind::PrevHashMismatch => {
                    "elle ne suit plus l'entrée précédente : une entrée antérieure a été modifiée et ré-empreintée, ou des entrées ont été insérées"
                }
                AuditBreakKind::Missing => "elle manque : elle a été supprimée",
                AuditBreakKind::HeadMismatch => {
                    "la tête de chaîne ne correspond plus à la dernière entrée : des entrées finales ont été supprimées ou remplacées"
                }
            };
            Err(Failure {
                code: 3,
                message: format!(
                    "Journal d'audit altéré : première entrée en défaut n° {} — {why}.",
                    broken.entry_id
                ),
            })
        }
    }
}
