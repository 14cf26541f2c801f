//! REM import: a file (CSV or XLSX) becomes a new version of a vague-2 dispositif's REM, every
//! time (earlier versions never change); nothing is stored when the file has errors. It is done
//! in two steps: the upload ([`preview`]) reads the file, keeps it server-side and returns its
//! impact analysis ([`super::rem_impact`]) without importing anything; the administrator's
//! confirmation ([`confirm`]) imports that same file. Parsing and hashing run off the async
//! runtime. The importer's warnings are stored with the version, as JSON, so that its report can
//! be read later.

use bytes::Bytes;
use preuves_db::{Actor, DispositifSummary, RemVersion, RemVersionId, Timestamp, UniqueConstraint};
use preuves_domain::{DispositifCode, DispositifKey, RemVersionLabel, Wave};
use preuves_import::{ImportFailure, Issue, RemImport};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::rem_impact::{Impact, NoImpact, analyse, default_label};
use super::rem_staging::{self, StagedUpload};
use super::{invalid, rejected};
use crate::AppState;
use crate::error::{AppError, ErrorItem};
use crate::format::human_size;
use crate::forms::sentence;
use crate::multipart::ReceivedFile;
use crate::security::AdminCap;

/// One issue of an import report, as both front doors show it and as it is stored with a
/// version (the JSON keys are part of the stored format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ImportIssue {
    /// The importer's stable code (`missing_column`, `duplicate_id`...).
    #[serde(default)]
    pub(crate) code: String,
    /// The file concerned.
    #[serde(default)]
    pub(crate) file: String,
    /// The line (CSV) or row (XLSX), from 1.
    #[serde(default)]
    pub(crate) line: Option<usize>,
    /// The column, by its header name.
    #[serde(default)]
    pub(crate) column: Option<String>,
    /// The requirement ids concerned.
    #[serde(default)]
    pub(crate) ids: Vec<String>,
    /// What is wrong and what to do, in French.
    #[serde(default)]
    pub(crate) message: String,
}

impl From<&Issue> for ImportIssue {
    fn from(i: &Issue) -> Self {
        Self {
            code: i.code.as_str().to_owned(),
            file: i.file.clone(),
            line: i.line,
            column: i.column.clone(),
            ids: i.ids.clone(),
            message: i.message.clone(),
        }
    }
}

/// The report stored with a REM version imported through the platform.
#[derive(Debug, Serialize, Deserialize)]
struct StoredReport {
    warnings: Vec<ImportIssue>,
}

/// An upload as received: the fields `dispositif` (a vague-2 code), `wave` (2 when given),
/// `label` (the REM's own version label; the next number when blank) and `file`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RemUpload {
    /// The dispositif's code.
    pub(crate) dispositif: String,
    /// Its wave, when the client states it.
    pub(crate) wave: Option<String>,
    /// The version label, when given.
    pub(crate) label: Option<String>,
    /// The file.
    pub(crate) file: Option<ReceivedFile>,
}

/// A checked upload.
struct ValidUpload {
    key: DispositifKey,
    label: Option<RemVersionLabel>,
    file: ReceivedFile,
}

impl RemUpload {
    /// The dispositif (a vague-2 one of the catalogue), the label and the file; or every field
    /// at fault.
    fn validate(self, dispositifs: &[DispositifSummary]) -> Result<ValidUpload, Vec<ErrorItem>> {
        let mut errors = Vec::new();
        let key = DispositifCode::parse(&self.dispositif)
            .ok()
            .and_then(|code| {
                dispositifs
                    .iter()
                    .find(|d| d.key.wave == Wave::Two && d.key.code == code)
            })
            .map(|d| d.key.clone());
        if key.is_none() {
            errors.push(invalid(
                "dispositif",
                "Choisissez le dispositif de vague\u{a0}2 dont vous importez le REM.",
            ));
        }
        if let Some(wave) = self.wave.as_deref().map(str::trim)
            && !wave.is_empty()
            && wave != "2"
        {
            errors.push(invalid(
                "wave",
                "Seuls les dispositifs de vague\u{a0}2 ont un REM\u{a0}: la vague est 2.",
            ));
        }
        let label = match self.label.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => match RemVersionLabel::parse(raw) {
                Ok(l) => Some(l),
                Err(e) => {
                    errors.push(invalid("label", sentence(&e)));
                    None
                }
            },
        };
        let file = self.file.filter(|f| !f.name.is_empty());
        if file.is_none() {
            errors.push(invalid(
                "file",
                "Choisissez le fichier du REM (.csv ou .xlsx).",
            ));
        }
        match (key, file) {
            (Some(key), Some(file)) if errors.is_empty() => Ok(ValidUpload { key, label, file }),
            _ => Err(errors),
        }
    }
}

/// A file refused by the importer: nothing was stored.
#[derive(Debug, Clone)]
pub(crate) struct RefusedFile {
    /// The file's name.
    pub(crate) file: String,
    /// Every error, in file order (never empty).
    pub(crate) errors: Vec<ImportIssue>,
    /// The warnings found as well.
    pub(crate) warnings: Vec<ImportIssue>,
}

impl RefusedFile {
    /// The errors as the API's error items, on the field `file`.
    pub(crate) fn error_items(&self) -> Vec<ErrorItem> {
        self.errors
            .iter()
            .map(|e| {
                let place = match (e.line, &e.column) {
                    (Some(l), Some(c)) => format!(" (ligne {l}, colonne «\u{a0}{c}\u{a0}»)"),
                    (Some(l), None) => format!(" (ligne {l})"),
                    (None, Some(c)) => format!(" (colonne «\u{a0}{c}\u{a0}»)"),
                    (None, None) => String::new(),
                };
                ErrorItem::field(
                    issue_code(&e.code),
                    "file",
                    format!("{}{place}\u{a0}: {}", e.file, e.message),
                )
            })
            .collect()
    }
}

/// The importer's stable code as a static string (`invalid_file` for one it does not know).
fn issue_code(code: &str) -> &'static str {
    preuves_import::IssueCode::ALL
        .iter()
        .map(|c| c.as_str())
        .find(|c| *c == code)
        .unwrap_or("invalid_file")
}

/// What an import came to.
#[derive(Debug)]
pub(crate) enum ImportOutcome {
    /// A new version, and its report.
    Imported(ImportReport),
    /// The file has errors: nothing was stored.
    Refused(RefusedFile),
}

/// What an upload came to: its impact analysis, nothing imported yet.
#[derive(Debug)]
pub(crate) enum PreviewOutcome {
    /// The file is valid and kept until confirmed.
    Analysed(Box<Preview>),
    /// The file has errors: nothing was kept.
    Refused(RefusedFile),
}

/// A valid upload waiting for its confirmation, and its impact analysis.
#[derive(Debug)]
pub(crate) struct Preview {
    /// The staging id to post back to confirm.
    pub(crate) staging: String,
    /// The file's SHA-256 (hexadecimal), posted back with the id.
    pub(crate) sha256: String,
    /// When the confirmation is no longer accepted.
    pub(crate) expires_at: Timestamp,
    /// The dispositif.
    pub(crate) dispositif: DispositifKey,
    /// Its name.
    pub(crate) dispositif_name: String,
    /// The label the version will have (the one given, or the next number).
    pub(crate) label: RemVersionLabel,
    /// The file's name.
    pub(crate) file: String,
    /// Rows read.
    pub(crate) rows: usize,
    /// Requirements read.
    pub(crate) requirements: usize,
    /// The importer's warnings.
    pub(crate) warnings: Vec<ImportIssue>,
    /// The impact analysis, or why there is none (the import stays possible).
    pub(crate) impact: Result<Impact, NoImpact>,
}

/// The confirmation of an analysed upload: the staging id and the SHA-256 the analysis gave.
#[derive(Debug, Clone, Default)]
pub(crate) struct Confirmation {
    /// The staging id.
    pub(crate) staging: String,
    /// The file's SHA-256, hexadecimal.
    pub(crate) sha256: String,
}

impl Confirmation {
    /// Both fields present and well formed, or every field at fault.
    fn validate(&self) -> Result<(), Vec<ErrorItem>> {
        let mut errors = Vec::new();
        if self.staging.trim().is_empty() {
            errors.push(invalid(
                "staging",
                "Indiquez l'identifiant de l'import analysé (champ «\u{a0}staging\u{a0}»).",
            ));
        }
        let sha = self.sha256.trim();
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            errors.push(invalid(
                "sha256",
                "Indiquez l'empreinte SHA-256 du fichier analysé (64\u{a0}chiffres hexadécimaux).",
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// An imported REM version and its report.
#[derive(Debug, Clone)]
pub(crate) struct ImportReport {
    /// The version.
    pub(crate) version: RemVersion,
    /// The dispositif's name.
    pub(crate) dispositif_name: String,
    /// Whether it is the dispositif's current REM.
    pub(crate) is_current: bool,
    /// The importer's warnings; `None` for a version stored without a report (catalogue seed).
    pub(crate) warnings: Option<Vec<ImportIssue>>,
}

/// The refusal of a file over [`crate::WebConfig::max_rem_upload`].
pub(crate) fn too_large_message(state: &AppState) -> String {
    format!(
        "Le fichier dépasse la taille maximale autorisée ({}). Rien n'a été importé.",
        human_size(u64::try_from(state.config.max_rem_upload).unwrap_or(u64::MAX))
    )
}

/// The refusal of a label the dispositif already has.
fn label_taken(label: &str) -> AppError {
    rejected(vec![ErrorItem::field(
        "label_taken",
        "label",
        format!(
            "Le REM de ce dispositif a déjà une version «\u{a0}{label}\u{a0}»\u{a0}: choisissez un autre libellé."
        ),
    )])
}

/// The file read by the importer, off the async runtime: its SHA-256 and what the importer made
/// of it.
async fn parse(
    name: &str,
    bytes: Bytes,
) -> Result<(String, Result<RemImport, ImportFailure>), AppError> {
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        (
            hex::encode(Sha256::digest(&bytes)),
            preuves_import::import_rem_bytes(&name, &bytes),
        )
    })
    .await
    .map_err(AppError::internal)
}

fn refused(file: String, failure: &ImportFailure) -> RefusedFile {
    RefusedFile {
        file,
        errors: failure.errors.iter().map(ImportIssue::from).collect(),
        warnings: failure.warnings.iter().map(ImportIssue::from).collect(),
    }
}

/// Reads an upload and analyses its impact, importing nothing: the file is kept server-side
/// (see [`super::rem_staging`]) until [`confirm`]. A refused input, or a label the dispositif
/// already has, is an [`AppError::Rejected`] (422) with the fields at fault; a file with errors
/// is [`PreviewOutcome::Refused`].
pub(crate) async fn preview(
    state: &AppState,
    cap: &AdminCap,
    upload: RemUpload,
) -> Result<PreviewOutcome, AppError> {
    let admin = &cap.0;
    let dispositifs = state.db.list_dispositifs().await?;
    let ValidUpload { key, label, file } = upload.validate(&dispositifs).map_err(rejected)?;
    let ReceivedFile { name, bytes } = file;
    let bytes = Bytes::from(bytes);
    let (sha256, parsed) = parse(&name, bytes.clone()).await?;
    let imported = match parsed {
        Ok(imported) => imported,
        Err(failure) => return Ok(PreviewOutcome::Refused(refused(name, &failure))),
    };
    let versions = state.db.list_rem_versions(&key).await?;
    let label_given = label.is_some();
    let label = match label {
        Some(l) if versions.iter().any(|v| v.label == l) => {
            return Err(label_taken(l.as_str()));
        }
        Some(l) => l,
        None => {
            default_label(&versions).ok_or_else(|| AppError::internal("no version label left"))?
        }
    };
    let impact = analyse(state, &key, &label, &imported.rem).await?;
    let meta = StagedUpload {
        dispositif: key.clone(),
        label: label_given.then(|| label.to_string()),
        file_name: name.clone(),
        sha256: sha256.clone(),
        staged_at: Timestamp::now().as_millis(),
        base_version: impact.as_ref().ok().map(|i| i.base.id.0),
    };
    let staging = rem_staging::stage(&state.blobs, admin.id, &meta, bytes.to_vec())
        .await
        .map_err(AppError::internal)?;
    let dispositif_name = dispositifs
        .iter()
        .find(|d| d.key == key)
        .map(|d| d.name.clone())
        .unwrap_or_default();
    tracing::info!(
        user = admin.id.0,
        dispositif = %key,
        staging = %staging,
        "REM upload analysed"
    );
    Ok(PreviewOutcome::Analysed(Box::new(Preview {
        staging,
        sha256,
        expires_at: meta.expires_at(),
        dispositif: key,
        dispositif_name,
        label,
        file: name,
        rows: imported.rows,
        requirements: imported.rem.requirements().len(),
        warnings: imported.warnings.iter().map(ImportIssue::from).collect(),
        impact,
    })))
}

/// Imports an analysed upload as a new REM version (one audited transaction), then removes it
/// from the staging area. A staging unknown, expired or another administrator's is refused
/// ([`rem_staging::StagingError`]); so is one analysed against a version no longer in force
/// (`stale_analysis`: its analysis no longer tells the truth).
pub(crate) async fn confirm(
    state: &AppState,
    cap: &AdminCap,
    confirmation: Confirmation,
) -> Result<ImportOutcome, AppError> {
    let admin = &cap.0;
    confirmation.validate().map_err(rejected)?;
    let staging = confirmation.staging.trim();
    let (meta, bytes) =
        rem_staging::open(&state.blobs, admin.id, staging, &confirmation.sha256).await?;
    let in_force = state
        .db
        .find_dispositif(&meta.dispositif)
        .await?
        .and_then(|d| d.current_rem)
        .map(|v| v.id.0);
    if meta.base_version.is_some() && in_force != meta.base_version {
        rem_staging::discard(&state.blobs, admin.id, staging).await;
        return Err(rejected(vec![ErrorItem::field(
            "stale_analysis",
            "staging",
            "Une autre version de ce REM a été importée depuis l'analyse\u{a0}: importez à nouveau le fichier pour voir son impact.",
        )]));
    }
    let label = meta
        .label
        .as_deref()
        .map(RemVersionLabel::parse)
        .transpose()
        .map_err(AppError::internal)?;
    let (sha256, parsed) = parse(&meta.file_name, bytes).await?;
    let imported = match parsed {
        Ok(imported) => imported,
        Err(failure) => return Ok(ImportOutcome::Refused(refused(meta.file_name, &failure))),
    };
    let stored_report = serde_json::to_string(&StoredReport {
        warnings: imported.warnings.iter().map(ImportIssue::from).collect(),
    })
    .map_err(AppError::internal)?;
    let stored = state
        .db
        .import_rem_version_with_report(
            &meta.dispositif,
            &imported.rem,
            &meta.file_name,
            &sha256,
            i64::try_from(imported.rows).unwrap_or(i64::MAX),
            label.as_ref(),
            Some(&stored_report),
            &Actor::User(admin.id),
        )
        .await;
    let version = match stored {
        Ok(v) => v,
        Err(e) if e.is_conflict(UniqueConstraint::RemVersionLabel) => {
            return Err(label_taken(label.as_ref().map_or("", |l| l.as_str())));
        }
        Err(e) => return Err(e.into()),
    };
    rem_staging::discard(&state.blobs, admin.id, staging).await;
    tracing::info!(
        user = admin.id.0,
        dispositif = %meta.dispositif,
        version = version.version,
        requirements = version.requirement_count,
        "REM imported"
    );
    report(state, cap, version.id)
        .await
        .map(ImportOutcome::Imported)
}

/// The report of one imported REM version (404 when there is none).
pub(crate) async fn report(
    state: &AppState,
    _admin: &AdminCap,
    id: RemVersionId,
) -> Result<ImportReport, AppError> {
    let db = &state.db;
    let version = db.find_rem_version(id).await?.ok_or(AppError::NotFound)?;
    let d = db
        .find_dispositif(&version.dispositif)
        .await?
        .ok_or(AppError::NotFound)?;
    let warnings = match db.rem_version_report(id).await? {
        Some(raw) => Some(
            serde_json::from_str::<StoredReport>(&raw)
                .map_err(|e| AppError::internal(format!("stored import report {id}: {e}")))?
                .warnings,
        ),
        None => None,
    };
    Ok(ImportReport {
        is_current: d.current_rem.as_ref().map(|v| v.id) == Some(id),
        dispositif_name: d.name,
        version,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: &[ErrorItem]) -> Vec<&str> {
        errors.iter().filter_map(|e| e.field.as_deref()).collect()
    }

    #[test]
    fn every_field_at_fault_is_reported_under_its_json_name() {
        let e = RemUpload {
            dispositif: "NOPE".to_owned(),
            wave: Some("1".to_owned()),
            label: Some("a\u{7}".to_owned()),
            file: None,
        }
        .validate(&[])
        .err()
        .unwrap();
        assert_eq!(fields(&e), ["dispositif", "wave", "label", "file"]);
    }

    #[test]
    fn a_file_without_a_name_is_no_file() {
        let e = RemUpload {
            file: Some(ReceivedFile {
                name: String::new(),
                bytes: b"x".to_vec(),
            }),
            ..RemUpload::default()
        }
        .validate(&[])
        .err()
        .unwrap();
        assert!(fields(&e).contains(&"file"));
    }

    #[test]
    fn a_confirmation_needs_a_staging_id_and_a_sha256() {
        let e = Confirmation::default().validate().err().unwrap();
        assert_eq!(fields(&e), ["staging", "sha256"]);
        let ok = Confirmation {
            staging: "a".repeat(32),
            sha256: "0".repeat(64),
        };
        assert!(ok.validate().is_ok());
    }

    #[test]
    fn importer_codes_stay_stable() {
        assert_eq!(issue_code("missing_column"), "missing_column");
        assert_eq!(issue_code("not-a-code"), "invalid_file");
    }

    #[test]
    fn sizes_read_in_french() {
        assert_eq!(human_size(32 * 1024 * 1024), "32\u{a0}Mo");
        assert_eq!(human_size(3 * 1024 * 1024 / 2), "1,5\u{a0}Mo");
        assert_eq!(human_size(4096), "4\u{a0}Ko");
        assert_eq!(human_size(900), "900\u{a0}octets");
    }
}
