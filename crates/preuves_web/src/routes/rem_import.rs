//! REM import pages of a catalogue administrator: the upload form, the impact analysis of the
//! uploaded file (nothing imported yet), its confirmation (a new REM version every time, nothing
//! stored when the file has errors; see [`crate::app::admin::rem_import`]) and the report of an
//! imported version.
//!
//! The upload is `multipart/form-data` with the fields `csrf` (first: nothing else is read before
//! the token is checked), `dispositif` (a vague-2 code) and `fichier`. The file is read chunk by
//! chunk and refused as soon as it exceeds [`crate::WebConfig::max_rem_upload`] (see
//! [`crate::multipart`]). The analysis page's button posts back only the staging id and the
//! file's SHA-256: the file itself stays on the server.

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
use crate::app::admin::rem_impact::{DraftDelta, Impact};
use crate::app::admin::rem_import::{
    self, Confirmation, ImportIssue, ImportOutcome, Preview, PreviewOutcome, RemUpload,
};
use crate::error::AppError;
use crate::format::{fr_number, french_datetime, human_size, key_label, plural};
use crate::layout::{Chrome, render, render_with};
use crate::multipart::{announced_too_large, read_file_form};
use crate::security::{AdminCap, CsrfForm, RequestContext, redirect_with_flash};
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
    label: String,
    label_error: Option<String>,
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
    label: String,
    label_error: Option<String>,
    file_error: Option<String>,
    refusal: Option<Refusal>,
}

impl FormState {
    fn empty(chosen: String) -> Self {
        Self {
            chosen,
            dispositif_error: None,
            label: String::new(),
            label_error: None,
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
        label: form.label,
        label_error: form.label_error,
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
    let label = received.field("libelle").unwrap_or_default().to_owned();
    let mut form = FormState::empty(chosen.clone());
    form.label.clone_from(&label);
    if received.too_large {
        form.file_error = Some(rem_import::too_large_message(&state));
        let page = import_page(&state, &ctx, &dispositifs, form);
        return render_with(StatusCode::PAYLOAD_TOO_LARGE, &page);
    }
    let upload = RemUpload {
        dispositif: chosen,
        wave: None,
        // Left empty, the platform gives the first integer label the dispositif does not use.
        label: (!label.trim().is_empty()).then_some(label),
        file: received.file,
    };
    match rem_import::preview(&state, &admin, upload).await {
        Ok(PreviewOutcome::Analysed(preview)) => render(&preview_page(&ctx, *preview)),
        Ok(PreviewOutcome::Refused(refused)) => {
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
            // The form has no wave input: the dispositif's wave is 2.
            for e in errors {
                match e.field.as_deref() {
                    Some("file") => form.file_error = form.file_error.or(Some(e.message)),
                    Some("label") => form.label_error = form.label_error.or(Some(e.message)),
                    _ => form.dispositif_error = form.dispositif_error.or(Some(e.message)),
                }
            }
            let page = import_page(&state, &ctx, &dispositifs, form);
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

/// The confirmation form of the analysis page.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ConfirmForm {
    #[serde(default)]
    staging: String,
    #[serde(default)]
    sha256: String,
}

/// `POST /admin/import/confirmer`: imports the analysed file kept on the server (fields `csrf`,
/// `staging`, `sha256`), then shows its report. A staging unknown, expired or made stale by
/// another import shows the upload form again with the reason.
pub(crate) async fn confirm(
    State(state): State<AppState>,
    admin: AdminCap,
    ctx: RequestContext,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, AppError> {
    let confirmation = Confirmation {
        staging: form.staging,
        sha256: form.sha256,
    };
    let outcome = rem_import::confirm(&state, &admin, confirmation).await;
    let dispositifs = state.db.list_dispositifs().await?;
    let mut form = FormState::empty(String::new());
    match outcome {
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
            form.file_error = Some(format!(
                "Le fichier «\u{a0}{}\u{a0}» a été refusé. Rien n'a été importé.",
                refused.file
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
            // The staging, its SHA-256 or the label: in every case the file is to upload again.
            form.file_error = errors.into_iter().next().map(|e| e.message);
            let page = import_page(&state, &ctx, &dispositifs, form);
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

/// A requirement changed by the new version, as the analysis page lists it.
struct ChangedRow {
    id: String,
    what: String,
    detail: String,
}

/// A draft's plan under both versions.
struct DeltaView {
    to_deposit: String,
    masked: String,
    unchanged: bool,
    become_to_deposit: String,
    become_masked: String,
    appear_to_deposit: String,
    appear_masked: String,
    disappear: String,
}

/// An open candidature pinned to the version in force.
struct CandidatureRow {
    id: i64,
    vendor: String,
    solution: String,
    status: String,
    filed: bool,
    delta: Option<DeltaView>,
    refusals: Vec<String>,
}

/// A referencing whose reuse changes.
struct ReuseRow {
    nru: String,
    dispositif: String,
    vendor: String,
    solution: String,
    before: usize,
    after: usize,
}

impl ReuseRow {
    fn trend(&self) -> &'static str {
        if self.after < self.before {
            "réduite"
        } else {
            "élargie"
        }
    }
}

struct ImpactView {
    base_label: String,
    old_count: usize,
    new_count: usize,
    unchanged: usize,
    added: Vec<String>,
    removed: Vec<String>,
    changed: Vec<ChangedRow>,
    socle_changed: usize,
    candidatures: Vec<CandidatureRow>,
    reuse: Vec<ReuseRow>,
    reuse_unchanged: usize,
}

#[derive(Template)]
#[template(path = "rem_import_preview.html")]
struct PreviewPage {
    chrome: Chrome,
    label: String,
    name: String,
    dispositif_href: String,
    version: String,
    file: String,
    sha256: String,
    staging: String,
    expires: String,
    rows: String,
    requirements: String,
    warnings: Vec<IssueRow>,
    impact: Option<ImpactView>,
    no_impact: Option<String>,
    import_href: String,
}

/// Ids as one comma-separated text, or a dash.
fn id_list<'a>(ids: impl IntoIterator<Item = &'a preuves_domain::RequirementId>) -> String {
    let ids: Vec<String> = ids.into_iter().map(ToString::to_string).collect();
    if ids.is_empty() {
        "—".to_owned()
    } else {
        ids.join(", ")
    }
}

fn impact_view(i: Impact) -> ImpactView {
    use preuves_domain::ChangedField;
    let d = &i.diff;
    ImpactView {
        base_label: i.base.label.to_string(),
        old_count: d.old_count,
        new_count: d.new_count,
        unchanged: d.unchanged,
        added: d.added.iter().map(ToString::to_string).collect(),
        removed: d.removed.iter().map(ToString::to_string).collect(),
        socle_changed: d.count_changed(ChangedField::Socle),
        changed: d
            .changed
            .iter()
            .map(|c| {
                let mut detail = Vec::new();
                if let (Some(b), Some(a)) = (&c.socle_before, &c.socle_after) {
                    let show = |s: &str| {
                        if s.is_empty() {
                            "aucune".to_owned()
                        } else {
                            s.to_owned()
                        }
                    };
                    detail.push(format!("exigence socle\u{a0}: {} → {}", show(b), show(a)));
                }
                if let (Some(b), Some(a)) = (&c.profile_before, &c.profile_after) {
                    detail.push(format!("profil\u{a0}: {b} → {a}"));
                }
                ChangedRow {
                    id: c.id.to_string(),
                    what: c
                        .fields
                        .iter()
                        .map(|f| f.label())
                        .collect::<Vec<_>>()
                        .join(", "),
                    detail: if detail.is_empty() {
                        "—".to_owned()
                    } else {
                        detail.join("\u{a0}; ")
                    },
                }
            })
            .collect(),
        candidatures: i
            .candidatures
            .into_iter()
            .map(|c| {
                let filed = c.keeps_its_version();
                let (delta, refusals) = match c.delta {
                    Some(DraftDelta::Computed(p)) => (
                        Some(DeltaView {
                            to_deposit: format!("{} → {}", p.to_deposit.0, p.to_deposit.1),
                            masked: format!("{} → {}", p.masked.0, p.masked.1),
                            unchanged: p.is_empty(),
                            become_to_deposit: id_list(&p.become_to_deposit),
                            become_masked: id_list(&p.become_masked),
                            appear_to_deposit: id_list(p.appear_to_deposit()),
                            appear_masked: id_list(p.appear_masked()),
                            disappear: id_list(p.disappeared()),
                        }),
                        Vec::new(),
                    ),
                    Some(DraftDelta::Refused(r)) => (None, r),
                    None => (None, Vec::new()),
                };
                CandidatureRow {
                    id: c.id.0,
                    filed,
                    vendor: c.vendor,
                    solution: c.solution,
                    status: c.status.label().to_owned(),
                    delta,
                    refusals,
                }
            })
            .collect(),
        reuse: i
            .reuse
            .into_iter()
            .map(|r| ReuseRow {
                nru: r.nru.to_string(),
                dispositif: key_label(&r.dispositif),
                vendor: r.vendor,
                solution: r.solution,
                before: r.before,
                after: r.after,
            })
            .collect(),
        reuse_unchanged: i.reuse_unchanged,
    }
}

fn preview_page(ctx: &RequestContext, p: Preview) -> PreviewPage {
    let label = key_label(&p.dispositif);
    let (impact, no_impact) = match p.impact {
        Ok(i) => (Some(impact_view(i)), None),
        Err(e) => (None, Some(e.to_string())),
    };
    PreviewPage {
        chrome: Chrome::new(
            ctx,
            format!("Analyse d'impact du REM {label} — version {}", p.label),
            "admin",
        ),
        name: p.dispositif_name,
        dispositif_href: dispositif_href(&p.dispositif),
        import_href: format!("/admin/import?dispositif={}", p.dispositif.code),
        label,
        version: p.label.to_string(),
        file: p.file,
        sha256: p.sha256,
        staging: p.staging,
        expires: french_datetime(p.expires_at),
        rows: fr_number(u64::try_from(p.rows).unwrap_or(u64::MAX)),
        requirements: fr_number(u64::try_from(p.requirements).unwrap_or(u64::MAX)),
        warnings: p.warnings.into_iter().map(IssueRow::from).collect(),
        impact,
        no_impact,
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
