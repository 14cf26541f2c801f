//! REM imports, for administrators: the upload of a REM file (a new version of a vague-2
//! dispositif's REM) and the report of an imported version.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use preuves_db::RemVersionId;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{AdminRead, AdminWrite, Authenticated};
use crate::api::{DispositifRef, ErrorBody, iso_instant, json};
use crate::app::admin::rem_import::{self, ImportIssue, ImportOutcome, ImportReport, RemUpload};
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

/// `POST /api/v1/admin/rem-imports`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/rem-imports",
    operation_id = "admin_rem_imports_create",
    tag = "administration",
    summary = "Importe un fichier de REM comme nouvelle version du REM d'un dispositif de vague 2",
    description = "Rien n'est enregistré si le fichier contient des erreurs : la réponse 422 en \
        donne une par erreur (code de l'importeur, champ `file`, ligne et colonne dans le message).",
    security(("jeton" = []), ("session" = [])),
    request_body(content = RemImportForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "La version importée et son rapport", body = RemImportDto),
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
    match rem_import::import(&state, &admin, upload).await? {
        ImportOutcome::Imported(report) => json(StatusCode::CREATED, &RemImportDto::of(report)),
        ImportOutcome::Refused(refused) => Err(AppError::Rejected {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors: refused.error_items(),
        }),
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
