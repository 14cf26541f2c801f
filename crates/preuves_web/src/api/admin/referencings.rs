//! Referencings, for administrators: recording one obtained elsewhere, and suspending,
//! withdrawing or restoring one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_domain::{DispositifCode, DispositifKey, Nru, Wave};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::referencings::ReferencingDto;
use crate::api::{AdminWrite, Authenticated, JsonBody};
use crate::api::{ApiJson, ErrorBody, json};
use crate::app::admin::referencings::{self, ReferencingInput, StatusInput};
use crate::error::AppError;
use crate::security::ApiAdmin;

/// A referencing's status.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StatusChoice {
    /// Valid.
    #[default]
    Valid,
    /// Suspended (a reason is required).
    Suspended,
    /// Withdrawn (a reason is required).
    Withdrawn,
}

impl StatusChoice {
    fn code(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Suspended => "suspended",
            Self::Withdrawn => "withdrawn",
        }
    }
}

/// A dispositif named by code and wave.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DispositifKeyBody {
    /// Its code (`DPI`, `DUI-MS`, `MS2-PDE`...).
    code: String,
    /// Its wave, 1 or 2.
    #[schema(minimum = 1, maximum = 2)]
    wave: u8,
}

impl DispositifKeyBody {
    /// The key, when it can be one (whether the catalogue has it is the use case's question).
    fn key(&self) -> Option<DispositifKey> {
        Some(DispositifKey {
            code: DispositifCode::parse(&self.code).ok()?,
            wave: Wave::from_number(i64::from(self.wave))?,
        })
    }
}

/// A referencing obtained elsewhere (for example a vague-1 referencing a vendor already holds).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReferencingBody {
    /// Its NRU, not yet in the register (422 `nru_taken`).
    #[schema(min_length = 1, max_length = 64, pattern = "^\\s*[A-Za-z0-9-]+\\s*$")]
    nru: String,
    /// The id of the organisation holding it.
    #[schema(minimum = 1)]
    organisation: i64,
    /// The dispositif, one of the catalogue.
    dispositif: DispositifKeyBody,
    /// The optional profiles held, among the dispositif's (`Général` is implied).
    #[serde(default)]
    profiles: Vec<String>,
    /// The solution's name (1 to 200 characters once trimmed).
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    solution: String,
    /// Its main component (1 to 200 characters once trimmed).
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    main_component: String,
    /// The version referenced (`4.2`, `4.3.1`...).
    #[schema(min_length = 1, max_length = 100)]
    version: String,
    /// The commercial names on the attestation, 200 characters at most each (the solution's
    /// name when none).
    #[serde(default)]
    commercial_names: Vec<String>,
    /// The day it was granted (ISO 8601).
    #[schema(format = Date, example = "2026-01-15")]
    granted_on: String,
    /// Its status (`valid` when absent).
    #[serde(default)]
    status: StatusChoice,
    /// Why it is suspended or withdrawn (required then, 2,000 characters at most).
    #[serde(default)]
    #[schema(max_length = 2000)]
    status_reason: Option<String>,
}

/// `POST /api/v1/admin/referencings`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/referencings",
    operation_id = "admin_referencings_create",
    tag = "administration",
    summary = "Enregistre un référencement obtenu ailleurs (par exemple de vague 1)",
    security(("jeton" = []), ("session" = [])),
    request_body = ReferencingBody,
    responses(
        (status = 201, description = "Le référencement enregistré", body = ReferencingDto),
        (status = 422, description = "Champs invalides (`invalid_field`, `reason_required`), ou NRU déjà enregistré (`nru_taken`)", body = ErrorBody),
        Authenticated,
        JsonBody,
        AdminWrite,
    )
)]
pub(crate) async fn record(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin<true>,
    ApiJson(body): ApiJson<ReferencingBody>,
) -> Result<Response, AppError> {
    let input = ReferencingInput {
        nru: body.nru,
        organisation: body.organisation.to_string(),
        dispositif: body.dispositif.key(),
        profiles: body.profiles,
        solution: body.solution,
        main_component: body.main_component,
        version: body.version,
        commercial_names: body.commercial_names,
        granted_on: body.granted_on,
        status: body.status.code().to_owned(),
        status_reason: body.status_reason.unwrap_or_default(),
    };
    let stored = referencings::record(&state, &admin, &input).await?;
    json(StatusCode::CREATED, &ReferencingDto::of(&stored))
}

/// A change of status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    /// The new status.
    status: StatusChoice,
    /// Why (required to suspend or withdraw: 422 `reason_required`; 2,000 characters at most).
    #[serde(default)]
    #[schema(max_length = 2000)]
    reason: Option<String>,
}

/// A referencing whose status changed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StatusChangedDto {
    /// The referencing, as it is now.
    referencing: ReferencingDto,
    /// How many candidatures cite it: they show a warning, their plan is not modified.
    citing_candidatures: u64,
}

/// `PUT /api/v1/admin/referencings/{nru}/status`.
#[utoipa::path(
    put,
    path = "/api/v1/admin/referencings/{nru}/status",
    operation_id = "admin_referencings_status",
    tag = "administration",
    summary = "Suspend, retire ou rétablit un référencement, avec son motif",
    security(("jeton" = []), ("session" = [])),
    params(("nru" = String, Path, description = "Le NRU")),
    request_body = StatusBody,
    responses(
        (status = 200, description = "Le référencement et le nombre de candidatures qui le citent", body = StatusChangedDto),
        (status = 404, description = "Référencement inconnu", body = ErrorBody),
        (status = 422, description = "Motif manquant (`reason_required`) ou trop long", body = ErrorBody),
        Authenticated,
        JsonBody,
        AdminWrite,
    )
)]
pub(crate) async fn set_status(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin<true>,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Response, AppError> {
    let nru = Nru::parse(&raw).map_err(|_| AppError::NotFound)?;
    let input = StatusInput {
        status: body.status.code().to_owned(),
        reason: body.reason.unwrap_or_default(),
    };
    let changed = referencings::set_status(&state, &admin, &nru, &input).await?;
    json(
        StatusCode::OK,
        &StatusChangedDto {
            referencing: ReferencingDto::of(&changed.referencing),
            citing_candidatures: u64::try_from(changed.citing).unwrap_or(u64::MAX),
        },
    )
}
