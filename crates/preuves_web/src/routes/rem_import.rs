//! REM import by a catalogue administrator: the upload form, the import (a new REM version every
//! time, nothing stored when the file has errors) and the report of an imported version.
//!
//! The upload is `multipart/form-data` with the fields `csrf` (first: nothing else is read before
//! the token is checked), `dispositif` (a vague-2 code) and `fichier`. The file is read chunk by
//! chunk and refused as soon as it exceeds [`crate::WebConfig::max_rem_upload`]; parsing runs off
//! the async runtime. The importer's warnings are stored with the version, as JSON, so its report
//! page shows them later.

use askama::Template;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use preuves_db::{Actor, DispositifSummary, RemVersionId};
use preuves_domain::{DispositifCode, Wave};
use preuves_import::Issue;
use preuves_import::rem::{CONVERGENCE_COLUMNS, EXTRA_COLUMNS, REQUIRED_COLUMNS};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::AppError;
use crate::format::{fr_number, french_datetime, human_size, key_label, plural};
use crate::layout::{Chrome, render, render_with};
use crate::security::{AdminCap, RequestContext, check_csrf, redirect_with_flash};
use crate::views::links::dispositif_href;
use crate::views::{SelectOption, actor_label};

/// What the small form fields may weigh, in all (the token, the dispositif code, stray fields).
const SMALL_FIELDS: usize = 16 * 1024;

/// One issue of an import report, as the pages show it and as it is stored with a version.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct IssueRow {
    #[serde(default)]
    code: String,
    #[serde(default)]
    file: String,
    #[serde(default)]
    line: Option<usize>,
    #[serde(default)]
    column: Option<String>,
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    message: String,
}

impl IssueRow {
    fn line_label(&self) -> String {
        self.line.map_or_else(|| "—".to_owned(), |l| l.to_string())
    }

    fn column_label(&self) -> String {
        self.column.clone().unwrap_or_else(|| "—".to_owned())
    }

    fn ids_label(&self) -> String {
        if self.ids.is_empty() {
            "—".to_owned()
        } else {
            self.ids.join(", ")
        }
    }
}

impl From<&Issue> for IssueRow {
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

/// The report stored with a REM version imported through the browser.
#[derive(Debug, Serialize, Deserialize)]
struct StoredReport {
    warnings: Vec<IssueRow>,
}

/// The errors of a refused file.
struct Refusal {
    file: String,
    errors: Vec<IssueRow>,
    warnings: Vec<IssueRow>,
}

#[derive(Template)]
#[template(path = "rem_import.html")]
struct ImportPage {
    chrome: Chrome,
    options: Vec<SelectOption>,
    dispositif_error: Option<String>,
    file_error: Option<String>,
    max_size: String,
    required: String,
    convergence: Vec<&'static str>,
    extra: Vec<&'static str>,
    refusal: Option<Refusal>,
    current: Vec<CurrentRem>,
}

struct CurrentRem {
    label: String,
    href: String,
    version: Option<(String, String)>,
}

/// The form, empty or re-displayed with the user's choice and the errors.
struct FormState {
    chosen: String,
    dispositif_error: Option<String>,
    file_error: Option<String>,
    refusal: Option<Refusal>,
}

impl FormState {
    fn empty(chosen: String) -> Self {
        Self {
            chosen,
            dispositif_error: None,
            file_error: None,
            refusal: None,
        }
    }
}

fn import_page(
    state: &AppState,
    ctx: &RequestContext,
    dispositifs: &[DispositifSummary],
    form: FormState,
) -> ImportPage {
    let wave2 = dispositifs.iter().filter(|d| d.key.wave == Wave::Two);
    ImportPage {
        chrome: Chrome::new(ctx, "Importer un REM", "admin"),
        options: wave2
            .clone()
            .map(|d| SelectOption {
                value: d.key.code.to_string(),
                label: format!("{} — {}", key_label(&d.key), d.name),
                selected: d.key.code.as_str() == form.chosen,
            })
            .collect(),
        dispositif_error: form.dispositif_error,
        file_error: form.file_error,
        max_size: human_size(u64::try_from(state.config.max_rem_upload).unwrap_or(u64::MAX)),
        required: REQUIRED_COLUMNS
            .iter()
            .map(|c| format!("«\u{a0}{c}\u{a0}»"))
            .collect::<Vec<_>>()
            .join(", "),
        convergence: CONVERGENCE_COLUMNS.to_vec(),
        extra: EXTRA_COLUMNS.to_vec(),
        refusal: form.refusal,
        current: wave2
            .map(|d| CurrentRem {
                label: format!("{} — {}", key_label(&d.key), d.name),
                href: dispositif_href(&d.key),
                version: d
                    .current_rem
                    .as_ref()
                    .map(|v| (v.label.to_string(), format!("/admin/import/{}", v.id))),
            })
            .collect(),
    }
}

#[derive(Deserialize)]
pub(crate) struct FormQuery {
    #[serde(default)]
    dispositif: String,
}

/// `GET /admin/import`: the upload form (`?dispositif=CODE` preselects a dispositif).
pub(crate) async fn form(
    State(state): State<AppState>,
    AdminCap(_): AdminCap,
    ctx: RequestContext,
    query: Result<Query<FormQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let chosen = query.map(|Query(q)| q.dispositif).unwrap_or_default();
    let dispositifs = state.db.list_dispositifs().await?;
    render(&import_page(
        &state,
        &ctx,
        &dispositifs,
        FormState::empty(chosen),
    ))
}

/// What the multipart body held.
struct Upload {
    dispositif: String,
    file: Option<(String, Vec<u8>)>,
    too_large: bool,
}

fn unreadable(e: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(format!(
        "L'envoi du formulaire est illisible ou a été interrompu ({e}). Recommencez."
    ))
}

/// Reads a small text field, counting its bytes against `budget`.
async fn small_text(field: &mut Field<'_>, budget: &mut usize) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
        if chunk.len() > *budget {
            return Err(AppError::BadRequest(
                "Un champ du formulaire est anormalement long.".to_owned(),
            ));
        }
        *budget -= chunk.len();
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map(|s| s.trim().to_owned())
        .map_err(|_| AppError::BadRequest("Un champ du formulaire n'est pas du texte.".to_owned()))
}

/// The file's own name, without any folder a browser may have sent.
fn file_name_of(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    // Control characters and bidirectional controls (a name that displays as another) go.
    base.chars()
        .filter(|&c| !c.is_control() && !preuves_db::text::is_bidi_control(c))
        .take(200)
        .collect()
}

/// Reads the upload, checking the CSRF token before anything else and the size while reading.
async fn read_upload(
    mut multipart: Multipart,
    ctx: &RequestContext,
    max: usize,
) -> Result<Upload, AppError> {
    let mut budget = SMALL_FIELDS;
    let mut checked = false;
    let mut upload = Upload {
        dispositif: String::new(),
        file: None,
        too_large: false,
    };
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        if !checked {
            if name != "csrf" {
                return Err(AppError::Csrf);
            }
            let token = small_text(&mut field, &mut budget).await?;
            check_csrf(ctx, &token)?;
            checked = true;
            continue;
        }
        match name.as_str() {
            "dispositif" => upload.dispositif = small_text(&mut field, &mut budget).await?,
            "fichier" => {
                let file_name = field.file_name().map(file_name_of).unwrap_or_default();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    if bytes.len() + chunk.len() > max {
                        // Stop reading here: the rest of the body is never buffered.
                        upload.too_large = true;
                        return Ok(upload);
                    }
                    bytes.extend_from_slice(&chunk);
                }
                upload.file = Some((file_name, bytes));
            }
            _ => {
                small_text(&mut field, &mut budget).await?;
            }
        }
    }
    if !checked {
        return Err(AppError::Csrf);
    }
    Ok(upload)
}

/// `POST /admin/import`: imports a REM file as a new version of a vague-2 dispositif.
pub(crate) async fn upload(
    State(state): State<AppState>,
    AdminCap(admin): AdminCap,
    ctx: RequestContext,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let max = state.config.max_rem_upload;
    let too_large = |state: &AppState| {
        format!(
            "Le fichier dépasse la taille maximale autorisée ({}). Rien n'a été importé.",
            human_size(u64::try_from(state.config.max_rem_upload).unwrap_or(u64::MAX))
        )
    };
    let dispositifs = state.db.list_dispositifs().await?;
    // A body announced larger than the file limit plus the small fields is refused unread.
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > max.saturating_add(SMALL_FIELDS + 4096)) {
        let mut form = FormState::empty(String::new());
        form.file_error = Some(too_large(&state));
        let page = import_page(&state, &ctx, &dispositifs, form);
        return render_with(StatusCode::PAYLOAD_TOO_LARGE, &page);
    }
    let multipart = multipart.map_err(|e| {
        AppError::BadRequest(format!(
            "Le formulaire d'import doit être envoyé en multipart/form-data ({e})."
        ))
    })?;
    let upload = read_upload(multipart, &ctx, max).await?;

    let mut form = FormState::empty(upload.dispositif.clone());
    if upload.too_large {
        form.file_error = Some(too_large(&state));
        let page = import_page(&state, &ctx, &dispositifs, form);
        return render_with(StatusCode::PAYLOAD_TOO_LARGE, &page);
    }
    let target = DispositifCode::parse(&upload.dispositif)
        .ok()
        .and_then(|code| {
            dispositifs
                .iter()
                .find(|d| d.key.wave == Wave::Two && d.key.code == code)
        })
        .map(|d| d.key.clone());
    if target.is_none() {
        form.dispositif_error =
            Some("Choisissez le dispositif de vague\u{a0}2 dont vous importez le REM.".to_owned());
    }
    let file = upload.file.filter(|(name, _)| !name.is_empty());
    if file.is_none() {
        form.file_error = Some("Choisissez le fichier du REM (.csv ou .xlsx).".to_owned());
    }
    let (Some(key), Some((file_name, bytes))) = (target, file) else {
        let page = import_page(&state, &ctx, &dispositifs, form);
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };

    let parse_name = file_name.clone();
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
            let n = u64::try_from(failure.errors.len()).unwrap_or(u64::MAX);
            form.file_error = Some(format!(
                "Le fichier «\u{a0}{file_name}\u{a0}» a été refusé\u{a0}: {} (détail ci-dessous). Rien n'a été importé.",
                plural(n, "erreur", "erreurs")
            ));
            form.refusal = Some(Refusal {
                file: file_name,
                errors: failure.errors.iter().map(IssueRow::from).collect(),
                warnings: failure.warnings.iter().map(IssueRow::from).collect(),
            });
            let page = import_page(&state, &ctx, &dispositifs, form);
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };

    let report = serde_json::to_string(&StoredReport {
        warnings: imported.warnings.iter().map(IssueRow::from).collect(),
    })
    .map_err(AppError::internal)?;
    let version = state
        .db
        .import_rem_version_with_report(
            &key,
            &imported.rem,
            &file_name,
            &sha256,
            i64::try_from(imported.rows).unwrap_or(i64::MAX),
            None,
            Some(&report),
            &Actor::User(admin.id),
        )
        .await?;
    tracing::info!(
        user = admin.id.0,
        dispositif = %key,
        version = version.version,
        requirements = version.requirement_count,
        "REM imported"
    );
    Ok(redirect_with_flash(
        &format!("/admin/import/{}", version.id),
        &format!(
            "Version {} du REM {} importée\u{a0}: {}.",
            version.label,
            key_label(&key),
            plural(
                u64::try_from(version.requirement_count).unwrap_or(0),
                "exigence",
                "exigences"
            )
        ),
        state.config.secure_cookies,
    ))
}

#[derive(Template)]
#[template(path = "rem_import_report.html")]
struct ReportPage {
    chrome: Chrome,
    label: String,
    name: String,
    dispositif_href: String,
    version: String,
    is_current: bool,
    file: String,
    sha256: String,
    rows: String,
    requirements: String,
    by: String,
    when: String,
    warnings: Option<Vec<IssueRow>>,
    import_href: String,
}

/// `GET /admin/import/{id}`: the report of one imported REM version.
pub(crate) async fn report(
    State(state): State<AppState>,
    AdminCap(_): AdminCap,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = RemVersionId(id.parse::<i64>().map_err(|_| AppError::NotFound)?);
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
    let by = actor_label(db, &version.imported_by, &mut Default::default()).await?;
    render(&ReportPage {
        chrome: Chrome::new(
            &ctx,
            format!(
                "Import du REM {} — version {}",
                key_label(&version.dispositif),
                version.label
            ),
            "admin",
        ),
        label: key_label(&version.dispositif),
        name: d.name.clone(),
        dispositif_href: dispositif_href(&version.dispositif),
        version: version.label.to_string(),
        is_current: d.current_rem.as_ref().map(|v| v.id) == Some(id),
        file: version.source_name.clone(),
        sha256: version.sha256.clone(),
        rows: fr_number(u64::try_from(version.row_count).unwrap_or(0)),
        requirements: fr_number(u64::try_from(version.requirement_count).unwrap_or(0)),
        by,
        when: french_datetime(version.imported_at),
        warnings,
        import_href: format!("/admin/import?dispositif={}", version.dispositif.code),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_french() {
        assert_eq!(human_size(32 * 1024 * 1024), "32\u{a0}Mo");
        assert_eq!(human_size(3 * 1024 * 1024 / 2), "1,5\u{a0}Mo");
        assert_eq!(human_size(4096), "4\u{a0}Ko");
        assert_eq!(human_size(900), "900\u{a0}octets");
    }

    #[test]
    fn only_the_file_name_is_kept() {
        assert_eq!(file_name_of("C:\\Users\\a\\REM.csv"), "REM.csv");
        assert_eq!(file_name_of("dir/REM v2.xlsx"), "REM v2.xlsx");
        assert_eq!(file_name_of(""), "");
    }
}
