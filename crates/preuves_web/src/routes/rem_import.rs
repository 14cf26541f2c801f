//! REM import pages of a catalogue administrator: the upload form, the import (a new REM version
//! every time, nothing stored when the file has errors; see [`crate::app::admin::rem_import`])
//! and the report of an imported version.
//!
//! The upload is `multipart/form-data` with the fields `csrf` (first: nothing else is read before
//! the token is checked), `dispositif` (a vague-2 code) and `fichier`. The file is read chunk by
//! chunk and refused as soon as it exceeds [`crate::WebConfig::max_rem_upload`] (see
//! [`crate::multipart`]).

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use preuves_db::{DispositifSummary, RemVersionId};
use preuves_domain::Wave;
use preuves_import::rem::{CONVERGENCE_COLUMNS, EXTRA_COLUMNS, REQUIRED_COLUMNS};
use serde::Deserialize;

use crate::AppState;
use crate::app::admin::rem_import::{self, ImportIssue, ImportOutcome, RemUpload};
use crate::error::AppError;
use crate::format::{fr_number, french_datetime, human_size, key_label, plural};
use crate::layout::{Chrome, render, render_with};
use crate::multipart::{announced_too_large, read_file_form};
use crate::security::{AdminCap, RequestContext, redirect_with_flash};
use crate::views::links::dispositif_href;
use crate::views::{SelectOption, actor_label};

/// One issue of an import report, as the pages show it.
#[derive(Debug, Clone)]
struct IssueRow {
    code: String,
    file: String,
    line: Option<usize>,
    column: Option<String>,
    ids: Vec<String>,
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

impl From<ImportIssue> for IssueRow {
    fn from(i: ImportIssue) -> Self {
        Self {
            code: i.code,
            file: i.file,
            line: i.line,
            column: i.column,
            ids: i.ids,
            message: i.message,
        }
    }
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

/// `POST /admin/import`: imports a REM file as a new version of a vague-2 dispositif. The
/// multipart form has the fields `csrf` (first: nothing else is read before the token is
/// checked), `dispositif` and `fichier`.
pub(crate) async fn upload(
    State(state): State<AppState>,
    admin: AdminCap,
    ctx: RequestContext,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let max = state.config.max_rem_upload;
    let dispositifs = state.db.list_dispositifs().await?;
    // A body announced larger than the file limit plus the small fields is refused unread.
    if announced_too_large(&headers, max) {
        let mut form = FormState::empty(String::new());
        form.file_error = Some(rem_import::too_large_message(&state));
        let page = import_page(&state, &ctx, &dispositifs, form);
        return render_with(StatusCode::PAYLOAD_TOO_LARGE, &page);
    }
    let multipart = multipart.map_err(|e| {
        AppError::BadRequest(format!(
            "Le formulaire d'import doit être envoyé en multipart/form-data ({e})."
        ))
    })?;
    let received = read_file_form(multipart, Some(&ctx), "fichier", max).await?;
    let chosen = received.field("dispositif").unwrap_or_default().to_owned();
    let mut form = FormState::empty(chosen.clone());
    if received.too_large {
        form.file_error = Some(rem_import::too_large_message(&state));
        let page = import_page(&state, &ctx, &dispositifs, form);
        return render_with(StatusCode::PAYLOAD_TOO_LARGE, &page);
    }
    let upload = RemUpload {
        dispositif: chosen,
        wave: None,
        label: None,
        file: received.file,
    };
    match rem_import::import(&state, &admin, upload).await {
        Ok(ImportOutcome::Imported(report)) => {
            let version = &report.version;
            Ok(redirect_with_flash(
                &format!("/admin/import/{}", version.id),
                &format!(
                    "Version {} du REM {} importée\u{a0}: {}.",
                    version.label,
                    key_label(&version.dispositif),
                    plural(
                        u64::try_from(version.requirement_count).unwrap_or(0),
                        "exigence",
                        "exigences"
                    )
                ),
                state.config.secure_cookies,
            ))
        }
        Ok(ImportOutcome::Refused(refused)) => {
            let n = u64::try_from(refused.errors.len()).unwrap_or(u64::MAX);
            form.file_error = Some(format!(
                "Le fichier «\u{a0}{}\u{a0}» a été refusé\u{a0}: {} (détail ci-dessous). Rien n'a été importé.",
                refused.file,
                plural(n, "erreur", "erreurs")
            ));
            form.refusal = Some(Refusal {
                file: refused.file,
                errors: refused.errors.into_iter().map(IssueRow::from).collect(),
                warnings: refused.warnings.into_iter().map(IssueRow::from).collect(),
            });
            let page = import_page(&state, &ctx, &dispositifs, form);
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(AppError::Rejected { errors, .. }) => {
            // The form has no wave or label input: only the dispositif and the file are asked.
            for e in errors {
                match e.field.as_deref() {
                    Some("file") => form.file_error = form.file_error.or(Some(e.message)),
                    _ => form.dispositif_error = form.dispositif_error.or(Some(e.message)),
                }
            }
            let page = import_page(&state, &ctx, &dispositifs, form);
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
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
    admin: AdminCap,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = RemVersionId(id.parse::<i64>().map_err(|_| AppError::NotFound)?);
    let report = rem_import::report(&state, &admin, id).await?;
    let version = report.version;
    let by = actor_label(&state.db, &version.imported_by, &mut Default::default()).await?;
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
        name: report.dispositif_name,
        dispositif_href: dispositif_href(&version.dispositif),
        version: version.label.to_string(),
        is_current: report.is_current,
        file: version.source_name.clone(),
        sha256: version.sha256.clone(),
        rows: fr_number(u64::try_from(version.row_count).unwrap_or(0)),
        requirements: fr_number(u64::try_from(version.requirement_count).unwrap_or(0)),
        by,
        when: french_datetime(version.imported_at),
        warnings: report
            .warnings
            .map(|w| w.into_iter().map(IssueRow::from).collect()),
        import_href: format!("/admin/import?dispositif={}", version.dispositif.code),
    })
}
