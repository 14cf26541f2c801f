//! REM import: a file (CSV or XLSX) becomes a new version of a vague-2 dispositif's REM, every
//! time (earlier versions never change); nothing is stored when the file has errors. Parsing
//! and hashing run off the async runtime. The importer's warnings are stored with the version,
//! as JSON, so that its report can be read later.

use preuves_db::{Actor, DispositifSummary, RemVersion, RemVersionId, UniqueConstraint};
use preuves_domain::{DispositifCode, DispositifKey, RemVersionLabel, Wave};
use preuves_import::Issue;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

/// Imports an upload as a new REM version (audited). A refused input, or a label the
/// dispositif already has, is an [`AppError::Rejected`] (422) with the fields at fault; a file
/// with errors is [`ImportOutcome::Refused`].
pub(crate) async fn import(
    state: &AppState,
    cap: &AdminCap,
    upload: RemUpload,
) -> Result<ImportOutcome, AppError> {
    let admin = &cap.0;
    let dispositifs = state.db.list_dispositifs().await?;
    let ValidUpload { key, label, file } = upload.validate(&dispositifs).map_err(rejected)?;
    let ReceivedFile { name, bytes } = file;
    let parse_name = name.clone();
    let (sha256, parsed) = tokio::task::spawn_blocking(move || {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        (
            sha256,
            preuves_import::import_rem_bytes(&parse_name, &bytes),
        )
    })
    .await
    .map_err(AppError::internal)?;
    let imported = match parsed {
        Ok(imported) => imported,
        Err(failure) => {
            return Ok(ImportOutcome::Refused(RefusedFile {
                file: name,
                errors: failure.errors.iter().map(ImportIssue::from).collect(),
                warnings: failure.warnings.iter().map(ImportIssue::from).collect(),
            }));
        }
    };
    let stored_report = serde_json::to_string(&StoredReport {
        warnings: imported.warnings.iter().map(ImportIssue::from).collect(),
    })
    .map_err(AppError::internal)?;
    let stored = state
        .db
        .import_rem_version_with_report(
            &key,
            &imported.rem,
            &name,
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
            return Err(rejected(vec![ErrorItem::field(
                "label_taken",
                "label",
                format!(
                    "Le REM de ce dispositif a déjà une version «\u{a0}{}\u{a0}»\u{a0}: choisissez un autre libellé.",
                    label.as_ref().map_or("", |l| l.as_str())
                ),
            )]));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(
        user = admin.id.0,
        dispositif = %key,
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
