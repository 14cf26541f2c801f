//! REM imports, for administrators, in two steps: the upload of a REM file returns its impact
//! analysis and imports nothing (the file is kept server-side for an hour); its confirmation,
//! naming the staging id and the file's SHA-256 the analysis gave, imports it as a new version
//! of the vague-2 dispositif's REM. Also the report of an imported version.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use preuves_db::RemVersionId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{AdminRead, AdminWrite, Authenticated, JsonBody};
use crate::api::{ApiJson, DispositifRef, ErrorBody, iso_instant, json};
use crate::app::admin::rem_impact::{DraftDelta, Impact};
use crate::app::admin::rem_import::{
    self, Confirmation, ImportIssue, ImportOutcome, ImportReport, Preview, PreviewOutcome,
    RefusedFile, RemUpload,
};
use crate::error::AppError;
use crate::multipart::{announced_too_large, read_file_form};
use crate::security::ApiAdmin;

/// The upload (`multipart/form-data`).
#[derive(Debug, ToSchema)]
#[expect(
    dead_code,
    reason = "only its schema is used: the handler reads the parts as they stream in"
)]
pub(crate) struct RemImportForm {
    /// The code of a vague-2 dispositif of the catalogue (`DUI-MS`...).
    dispositif: String,
    /// Its wave: only vague-2 dispositifs have a REM.
    #[schema(minimum = 2, maximum = 2)]
    wave: Option<u8>,
    /// The REM's own version label (`2026-03`), unique per dispositif (422 `label_taken`); the
    /// next number when absent.
    #[schema(min_length = 1, max_length = 64)]
    label: Option<String>,
    /// The REM file, `.csv` (UTF-8) or `.xlsx`, named with its extension.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// One issue found by the importer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImportIssueDto {
    /// The importer's stable code (`missing_optional_column`, `unknown_column`...).
    code: String,
    /// The file concerned.
    file: String,
    /// The line (CSV) or row (XLSX), from 1.
    line: Option<u64>,
    /// The column, by its header name.
    column: Option<String>,
    /// The requirement ids concerned.
    ids: Vec<String>,
    /// What is wrong and what to do, in French.
    message: String,
}

impl ImportIssueDto {
    fn of(i: ImportIssue) -> Self {
        Self {
            code: i.code,
            file: i.file,
            line: i.line.and_then(|l| u64::try_from(l).ok()),
            column: i.column,
            ids: i.ids,
            message: i.message,
        }
    }
}

/// An imported REM version and its report.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RemImportDto {
    /// The version's id.
    id: i64,
    /// The dispositif.
    dispositif: DispositifRef,
    /// Its name.
    dispositif_name: String,
    /// The REM's own version label.
    label: String,
    /// Whether it is the dispositif's current REM.
    current: bool,
    /// The imported file's name.
    source_name: String,
    /// The imported file's SHA-256, hexadecimal.
    sha256: String,
    /// Rows read from the file (requirement × scenario × proof).
    rows: i64,
    /// Requirements stored.
    requirements: i64,
    /// When it was imported (ISO 8601).
    imported_at: String,
    /// Who imported it: `user:<id>`, or `system` for the catalogue seed.
    imported_by: String,
    /// The importer's warnings; `null` for a version stored without a report (catalogue seed).
    warnings: Option<Vec<ImportIssueDto>>,
}

impl RemImportDto {
    fn of(r: ImportReport) -> Self {
        let v = r.version;
        Self {
            id: v.id.0,
            dispositif: DispositifRef::of(&v.dispositif),
            dispositif_name: r.dispositif_name,
            label: v.label.to_string(),
            current: r.is_current,
            source_name: v.source_name,
            sha256: v.sha256,
            rows: v.row_count,
            requirements: v.requirement_count,
            imported_at: iso_instant(v.imported_at),
            imported_by: v.imported_by,
            warnings: r
                .warnings
                .map(|w| w.into_iter().map(ImportIssueDto::of).collect()),
        }
    }
}

/// Where an analysed upload waits for its confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StagingDto {
    /// The staging id, to post back to `POST /api/v1/admin/rem-imports/confirm`.
    id: String,
    /// The file's SHA-256, hexadecimal, to post back with it.
    sha256: String,
    /// When the confirmation is no longer accepted (ISO 8601): upload the file again then.
    expires_at: String,
}

/// A requirement kept by the new version with a different content.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChangedRequirementDto {
    /// The requirement id.
    id: String,
    /// What changed: `text`, `profile`, `chapter`, `socle`, `proofs`, `other`.
    fields: Vec<String>,
    /// The socle id before, when it changed (empty: none).
    socle_before: Option<String>,
    /// The socle id after, when it changed (empty: none).
    socle_after: Option<String>,
    /// The profile before, when it changed.
    profile_before: Option<String>,
    /// The profile after, when it changed.
    profile_after: Option<String>,
}

/// The difference from the version in force.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RemDiffDto {
    /// Requirements of the version in force.
    old_count: usize,
    /// Requirements of the new version.
    new_count: usize,
    /// Requirements identical in both.
    unchanged: usize,
    /// Requirement ids only in the new version.
    added: Vec<String>,
    /// Requirement ids only in the version in force.
    removed: Vec<String>,
    /// Requirements in both with a different content.
    changed: Vec<ChangedRequirementDto>,
}

/// How a draft's plan would change if its vendor moved it to the new version.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlanDeltaDto {
    /// Requirements to deposit under the version in force.
    to_deposit_before: usize,
    /// Requirements to deposit under the new version.
    to_deposit_after: usize,
    /// Requirements masked (héritage or équivalence) under the version in force.
    masked_before: usize,
    /// Requirements masked under the new version.
    masked_after: usize,
    /// Masked now, to deposit under the new version.
    become_to_deposit: Vec<String>,
    /// To deposit now, masked under the new version.
    become_masked: Vec<String>,
    /// New requirements in the plan that would be to deposit.
    appear_to_deposit: Vec<String>,
    /// New requirements in the plan that would be masked.
    appear_masked: Vec<String>,
    /// Requirements that would leave the plan.
    disappear: Vec<String>,
}

/// An open candidature pinned to the version in force.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PinnedCandidatureDto {
    /// Its id.
    id: i64,
    /// Its vendor.
    vendor: String,
    /// Its solution.
    solution: String,
    /// Its status (`draft`, `submitted`, `in_instruction`, `complement_requested`).
    status: String,
    /// Whether it keeps the version in force whatever is imported: true for a filed one; a
    /// draft keeps it too unless its vendor moves it.
    filed: bool,
    /// For a draft whose plan the engine computes under both versions, the change.
    plan_delta: Option<PlanDeltaDto>,
    /// For a draft the engine refuses under one of the versions, its refusals.
    refusals: Vec<String>,
}

/// A referencing of another dispositif whose équivalence reuse into this one changes.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReuseChangeDto {
    /// Its NRU.
    nru: String,
    /// Its dispositif.
    dispositif: DispositifRef,
    /// Its holder.
    vendor: String,
    /// Its solution.
    solution: String,
    /// Requirements of this dispositif it may mask by équivalence under the version in force.
    common_before: usize,
    /// The same under the new version.
    common_after: usize,
}

/// The impact of the new version.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImpactDto {
    /// The id of the version in force it was compared with.
    base_id: i64,
    /// Its label.
    base_label: String,
    /// The difference.
    diff: RemDiffDto,
    /// The open candidatures pinned to the version in force, oldest first.
    candidatures: Vec<PinnedCandidatureDto>,
    /// The referencings whose reuse into this dispositif shrinks or grows, by NRU.
    referencings: Vec<ReuseChangeDto>,
    /// How many valid referencings of other vague-2 dispositifs keep the same reuse.
    referencings_unchanged: usize,
}

/// Why there is no impact analysis (the import stays possible).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NoImpactDto {
    /// `no_version_in_force`, `rem_in_force_unreadable` or `inconsistent_catalogue`.
    code: String,
    /// In French.
    message: String,
}

/// An upload analysed and kept until confirmed: nothing is imported yet.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RemImportPreviewDto {
    /// Where it waits for its confirmation.
    staging: StagingDto,
    /// The dispositif.
    dispositif: DispositifRef,
    /// Its name.
    dispositif_name: String,
    /// The label the version will have (the one given, or the next number).
    label: String,
    /// The file's name.
    source_name: String,
    /// Rows read.
    rows: usize,
    /// Requirements read.
    requirements: usize,
    /// The importer's warnings.
    warnings: Vec<ImportIssueDto>,
    /// The impact analysis; `null` when it cannot be computed (see `impact_unavailable`).
    impact: Option<ImpactDto>,
    /// Why there is no impact analysis, when there is none.
    impact_unavailable: Option<NoImpactDto>,
}

fn ids<'a>(ids: impl IntoIterator<Item = &'a preuves_domain::RequirementId>) -> Vec<String> {
    ids.into_iter().map(ToString::to_string).collect()
}

impl ImpactDto {
    fn of(i: Impact) -> Self {
        let d = i.diff;
        Self {
            base_id: i.base.id.0,
            base_label: i.base.label.to_string(),
            diff: RemDiffDto {
                old_count: d.old_count,
                new_count: d.new_count,
                unchanged: d.unchanged,
                added: ids(&d.added),
                removed: ids(&d.removed),
                changed: d
                    .changed
                    .into_iter()
                    .map(|c| ChangedRequirementDto {
                        id: c.id.to_string(),
                        fields: c
                            .fields
                            .iter()
                            .map(|f| {
                                serde_json::to_value(f)
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_owned))
                                    .unwrap_or_default()
                            })
                            .collect(),
                        socle_before: c.socle_before,
                        socle_after: c.socle_after,
                        profile_before: c.profile_before,
                        profile_after: c.profile_after,
                    })
                    .collect(),
            },
            candidatures: i
                .candidatures
                .into_iter()
                .map(|c| {
                    let filed = c.keeps_its_version();
                    let (plan_delta, refusals) = match c.delta {
                        Some(DraftDelta::Computed(p)) => (
                            Some(PlanDeltaDto {
                                to_deposit_before: p.to_deposit.0,
                                to_deposit_after: p.to_deposit.1,
                                masked_before: p.masked.0,
                                masked_after: p.masked.1,
                                become_to_deposit: ids(&p.become_to_deposit),
                                become_masked: ids(&p.become_masked),
                                appear_to_deposit: ids(p.appear_to_deposit()),
                                appear_masked: ids(p.appear_masked()),
                                disappear: ids(p.disappeared()),
                            }),
                            Vec::new(),
                        ),
                        Some(DraftDelta::Refused(r)) => (None, r),
                        None => (None, Vec::new()),
                    };
                    PinnedCandidatureDto {
                        id: c.id.0,
                        filed,
                        vendor: c.vendor,
                        solution: c.solution,
                        status: c.status.code().to_owned(),
                        plan_delta,
                        refusals,
                    }
                })
                .collect(),
            referencings: i
                .reuse
                .into_iter()
                .map(|r| ReuseChangeDto {
                    nru: r.nru.to_string(),
                    dispositif: DispositifRef::of(&r.dispositif),
                    vendor: r.vendor,
                    solution: r.solution,
                    common_before: r.before,
                    common_after: r.after,
                })
                .collect(),
            referencings_unchanged: i.reuse_unchanged,
        }
    }
}

impl RemImportPreviewDto {
    fn of(p: Preview) -> Self {
        let (impact, impact_unavailable) = match p.impact {
            Ok(i) => (Some(ImpactDto::of(i)), None),
            Err(e) => (
                None,
                Some(NoImpactDto {
                    code: e.code().to_owned(),
                    message: e.to_string(),
                }),
            ),
        };
        Self {
            staging: StagingDto {
                id: p.staging,
                sha256: p.sha256,
                expires_at: iso_instant(p.expires_at),
            },
            dispositif: DispositifRef::of(&p.dispositif),
            dispositif_name: p.dispositif_name,
            label: p.label.to_string(),
            source_name: p.file,
            rows: p.rows,
            requirements: p.requirements,
            warnings: p.warnings.into_iter().map(ImportIssueDto::of).collect(),
            impact,
            impact_unavailable,
        }
    }
}

/// A refused file as the API's 422.
fn refused(refused: &RefusedFile) -> AppError {
    AppError::Rejected {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        errors: refused.error_items(),
    }
}

/// `POST /api/v1/admin/rem-imports`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/rem-imports",
    operation_id = "admin_rem_imports_create",
    tag = "administration",
    summary = "Analyse un fichier de REM avant son import comme nouvelle version du REM d'un dispositif de vague 2",
    description = "Rien n'est importé : la réponse donne l'analyse d'impact de la nouvelle version \
        (différence avec la version en vigueur, candidatures ouvertes sur celle-ci et évolution du \
        plan de chaque brouillon, référencements d'autres dispositifs dont la réutilisation par \
        équivalence change) et l'identifiant sous lequel le fichier est conservé une heure. \
        L'import se fait ensuite par `POST /api/v1/admin/rem-imports/confirm`. Si l'analyse ne \
        peut pas être calculée (aucune version en vigueur, version en vigueur illisible), \
        `impact` est nul, `impact_unavailable` dit pourquoi, et l'import reste possible. \
        Rien n'est conservé si le fichier contient des erreurs : la réponse 422 en donne une \
        par erreur (code de l'importeur, champ `file`, ligne et colonne dans le message).",
    security(("jeton" = []), ("session" = [])),
    request_body(content = RemImportForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "L'analyse d'impact ; rien n'est importé", body = RemImportPreviewDto),
        (status = 400, description = "Envoi illisible ou interrompu", body = ErrorBody),
        (status = 413, description = "Fichier trop volumineux (`file_too_large`)", body = ErrorBody),
        (status = 415, description = "Le corps n'est pas en multipart/form-data", body = ErrorBody),
        (status = 422, description = "Champs invalides, libellé déjà pris (`label_taken`), ou fichier refusé par l'importeur", body = ErrorBody),
        Authenticated,
        AdminWrite,
    )
)]
pub(crate) async fn import(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin<true>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let max = state.config.max_rem_upload;
    let too_large = |state: &AppState| AppError::Refused {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "file_too_large",
        message: rem_import::too_large_message(state),
    };
    if announced_too_large(&headers, max) {
        return Err(too_large(&state));
    }
    let multipart = multipart.map_err(|e| AppError::Refused {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "unsupported_media_type",
        message: format!("Le corps de la requête doit être en multipart/form-data ({e})."),
    })?;
    let received = read_file_form(multipart, None, "file", max).await?;
    if received.too_large {
        return Err(too_large(&state));
    }
    let upload = RemUpload {
        dispositif: received.field("dispositif").unwrap_or_default().to_owned(),
        wave: received.field("wave").map(str::to_owned),
        label: received.field("label").map(str::to_owned),
        file: received.file,
    };
    match rem_import::preview(&state, &admin, upload).await? {
        PreviewOutcome::Analysed(preview) => {
            json(StatusCode::OK, &RemImportPreviewDto::of(*preview))
        }
        PreviewOutcome::Refused(r) => Err(refused(&r)),
    }
}

/// The confirmation of an analysed upload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemImportConfirmBody {
    /// The staging id the analysis gave (`staging.id`).
    #[serde(default)]
    staging: String,
    /// The file's SHA-256 the analysis gave (`staging.sha256`).
    #[serde(default)]
    sha256: String,
}

/// `POST /api/v1/admin/rem-imports/confirm`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/rem-imports/confirm",
    operation_id = "admin_rem_imports_confirm",
    tag = "administration",
    summary = "Importe un fichier de REM analysé comme nouvelle version du REM de son dispositif",
    description = "Importe exactement le fichier analysé par `POST /api/v1/admin/rem-imports`, \
        conservé côté serveur : l'identifiant et l'empreinte SHA-256 donnés par l'analyse \
        doivent correspondre, l'analyse doit dater de moins d'une heure et avoir été faite par \
        le même administrateur. Une autre version importée depuis l'analyse la rend caduque \
        (`stale_analysis`). L'import est une transaction auditée ; le fichier conservé est \
        ensuite supprimé.",
    security(("jeton" = []), ("session" = [])),
    request_body = RemImportConfirmBody,
    responses(
        (status = 201, description = "La version importée et son rapport", body = RemImportDto),
        (status = 422, description = "Champs invalides, analyse inconnue (`unknown_staging`), expirée (`staging_expired`) ou caduque (`stale_analysis`), libellé déjà pris (`label_taken`)", body = ErrorBody),
        JsonBody,
        Authenticated,
        AdminWrite,
    )
)]
pub(crate) async fn confirm(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin<true>,
    ApiJson(body): ApiJson<RemImportConfirmBody>,
) -> Result<Response, AppError> {
    let confirmation = Confirmation {
        staging: body.staging,
        sha256: body.sha256,
    };
    match rem_import::confirm(&state, &admin, confirmation).await? {
        ImportOutcome::Imported(report) => json(StatusCode::CREATED, &RemImportDto::of(report)),
        ImportOutcome::Refused(r) => Err(refused(&r)),
    }
}

/// `GET /api/v1/admin/rem-imports/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/rem-imports/{id}",
    operation_id = "admin_rem_imports_show",
    tag = "administration",
    summary = "Le rapport d'import d'une version de REM",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Identifiant de la version de REM")),
    responses(
        (status = 200, description = "La version et son rapport", body = RemImportDto),
        (status = 404, description = "Version inconnue", body = ErrorBody),
        Authenticated,
        AdminRead,
    )
)]
pub(crate) async fn report(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = RemVersionId(id.parse::<i64>().map_err(|_| AppError::NotFound)?);
    let report = rem_import::report(&state, &admin, id).await?;
    json(StatusCode::OK, &RemImportDto::of(report))
}
