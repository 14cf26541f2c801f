//! The vendor's solutions: declared once, reused by every candidature. Updates name the revision
//! they are based on; a change made since is refused with 409 `stale_revision`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::Solution;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, ApiQuery, ErrorBody, PageParams, Paging, iso_instant, json, page_of};
use crate::AppState;
use crate::api::{Authenticated, JsonBody, VendorRead, VendorWrite};
use crate::app::solutions::{self, SolutionInput};
use crate::error::AppError;
use crate::paths::solution_id;
use crate::security::ApiVendor;

/// A solution of the vendor.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SolutionDto {
    /// Its id.
    id: i64,
    /// Its name.
    name: String,
    /// Its main component: "the same solution" means the same main component (R1).
    main_component: String,
    /// Its known versions.
    versions: Vec<String>,
    /// Its commercial names.
    commercial_names: Vec<String>,
    /// Its revision: an update names the revision it is based on.
    revision: i64,
    /// When it was declared (ISO 8601).
    created_at: String,
    /// When it last changed (ISO 8601).
    updated_at: String,
}

impl SolutionDto {
    fn of(s: &Solution) -> Self {
        Self {
            id: s.id.0,
            name: s.name.clone(),
            main_component: s.main_component.clone(),
            versions: s.versions.clone(),
            commercial_names: s.commercial_names.clone(),
            revision: s.revision,
            created_at: iso_instant(s.created_at),
            updated_at: iso_instant(s.updated_at),
        }
    }
}

page_of!(SolutionPage, SolutionDto, "A page of solutions.");

/// A version as written (`4.2`, `4.3.1`, `2024-R2`): segments separated by `.`, `-` or `_`,
/// none empty, no space inside; a blank one is dropped.
// Only its schema is used: the body keeps the text, read by `preuves_domain::Version::parse`.
#[derive(ToSchema)]
#[schema(
    pattern = "^\\s*([^\\s._-]+([._-][^\\s._-]+)*)?\\s*$",
    example = "4.3.1"
)]
#[expect(dead_code, reason = "only its schema is used")]
struct VersionText(String);

/// A commercial name, at most 200 characters once trimmed; a blank one is dropped.
// Only its schema is used: the body keeps the text.
#[derive(ToSchema)]
#[schema(max_length = 200)]
#[expect(dead_code, reason = "only its schema is used")]
pub(crate) struct CommercialName(String);

/// A solution as declared.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SolutionBody {
    /// Its name, 1 to 200 characters once trimmed.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    name: String,
    /// Its main component, 1 to 200 characters once trimmed.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    main_component: String,
    /// Its known versions (`4.2`, `4.3.1`...), at most 50 (blanks and repeats are dropped).
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<VersionText>)]
    versions: Vec<String>,
    /// Its commercial names, at most 50 of at most 200 characters each.
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<CommercialName>)]
    commercial_names: Vec<String>,
}

/// A solution's update, based on the revision it was read at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SolutionUpdate {
    /// The revision the change is based on (409 `stale_revision` if it changed since).
    #[schema(minimum = 0)]
    revision: i64,
    /// Its name, 1 to 200 characters once trimmed.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    name: String,
    /// Its main component, 1 to 200 characters once trimmed.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    main_component: String,
    /// Its known versions, at most 50 (blanks and repeats are dropped).
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<VersionText>)]
    versions: Vec<String>,
    /// Its commercial names, at most 50 of at most 200 characters each.
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<CommercialName>)]
    commercial_names: Vec<String>,
}

impl SolutionBody {
    fn input(self) -> SolutionInput {
        SolutionInput {
            name: self.name,
            main_component: self.main_component,
            versions: self.versions,
            commercial_names: self.commercial_names,
        }
    }
}

/// `GET /api/v1/solutions`.
#[utoipa::path(
    get,
    path = "/api/v1/solutions",
    operation_id = "solutions_list",
    tag = "solutions",
    summary = "Les solutions de l'organisation de l'éditeur",
    security(("jeton" = []), ("session" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "Une page de solutions", body = SolutionPage),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        Authenticated,
        VendorRead,
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Response, AppError> {
    let paging = Paging::of(p.page, p.size)?;
    let all = solutions::list(&state, &vendor).await?;
    let (items, total) = paging.slice(all, |s| SolutionDto::of(&s));
    json(StatusCode::OK, &SolutionPage::new(paging, items, total))
}

/// `POST /api/v1/solutions`.
#[utoipa::path(
    post,
    path = "/api/v1/solutions",
    operation_id = "solutions_create",
    tag = "solutions",
    summary = "Déclare une solution",
    security(("jeton" = []), ("session" = [])),
    request_body = SolutionBody,
    responses(
        (status = 201, description = "La solution déclarée", body = SolutionDto),
        (status = 422, description = "Champs invalides", body = ErrorBody),
        Authenticated,
        JsonBody,
        VendorWrite,
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    ApiJson(body): ApiJson<SolutionBody>,
) -> Result<Response, AppError> {
    let created = solutions::create(&state, &vendor, &body.input()).await?;
    json(StatusCode::CREATED, &SolutionDto::of(&created))
}

/// `GET /api/v1/solutions/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/solutions/{id}",
    operation_id = "solutions_show",
    tag = "solutions",
    summary = "Une solution",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Identifiant de la solution")),
    responses(
        (status = 200, description = "La solution", body = SolutionDto),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        Authenticated,
        VendorRead,
    )
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let s = solutions::find(&state, &vendor, solution_id(&id)?).await?;
    json(StatusCode::OK, &SolutionDto::of(&s))
}

/// `PUT /api/v1/solutions/{id}`.
#[utoipa::path(
    put,
    path = "/api/v1/solutions/{id}",
    operation_id = "solutions_update",
    tag = "solutions",
    summary = "Met à jour une solution, sur la base de la révision lue",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Identifiant de la solution")),
    request_body = SolutionUpdate,
    responses(
        (status = 200, description = "La solution à jour", body = SolutionDto),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps (`stale_revision`)", body = ErrorBody),
        (status = 422, description = "Champs invalides", body = ErrorBody),
        Authenticated,
        JsonBody,
        VendorWrite,
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SolutionUpdate>,
) -> Result<Response, AppError> {
    let input = SolutionBody {
        name: body.name,
        main_component: body.main_component,
        versions: body.versions,
        commercial_names: body.commercial_names,
    }
    .input();
    let updated =
        solutions::update(&state, &vendor, solution_id(&id)?, body.revision, &input).await?;
    json(StatusCode::OK, &SolutionDto::of(&updated))
}
