//! The vendor's candidatures: open one, edit its administrative step (optimistic concurrency on
//! `revision`), read its plan (live for a draft, computed by the engine exactly as the pages
//! show it; frozen once submitted), deposit proof files by streaming upload, give the sworn
//! statement, submit, enter an NRU obtained since (R5), and answer complement requests.
//!
//! These handlers only translate: JSON into the application layer's inputs
//! ([`crate::app::step::StepInput`]...), its answers into DTOs ([`dto`]). A step is stored as
//! entered, like the pages do: its syntax is checked once in `app/` (422 with every field at
//! fault, named by its JSON key), its rules by the engine, whose refusals the plan carries with
//! their stable codes. Submission is refused with the engine's refusals (422) while the plan
//! cannot be computed or a warning blocks it (R6). An answer about one candidature carries the
//! warnings about the referencings it cites that were suspended or withdrawn since.

mod dto;
mod files;

pub(crate) use dto::{
    CandidatureDto, ComplementItemDto, ComplementRequestDto, PlanDto, ProofDto, plan_dto,
};
pub(crate) use files::*;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::CandidatureStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::solutions::CommercialName;
use super::{
    ApiJson, ApiQuery, Authenticated, ErrorBody, JsonBody, Paging, VendorRead, VendorWrite, json,
};
use crate::AppState;
use crate::app::candidatures::filed::{self, LateNrusInput, SubmitInput};
use crate::app::candidatures::{self as service, step};
use crate::app::step::{ComponentInput, StepInput, TargetInput};
use crate::error::{AppError, ErrorItem};
use crate::paths::candidature_id;
use crate::security::ApiVendor;
use dto::{CandidaturePage, ComponentDto};

// ---- the administrative step ----------------------------------------------------------------

/// An NRU as typed: letters, digits and `-`, at most 64 characters once trimmed; a blank one is
/// dropped.
// Only its schema is used: the body keeps the text, read by `preuves_domain::Nru::parse`.
#[derive(ToSchema)]
#[schema(
    pattern = "^\\s*([A-Za-z0-9-]{1,64})?\\s*$",
    example = "REF-DPI-2-0001"
)]
#[expect(dead_code, reason = "only its schema is used")]
struct NruText(String);

fn two() -> u8 {
    2
}

/// A candidature to open: its target and its administrative step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCandidatureBody {
    /// The target dispositif's code (a vague-2 dispositif with a published REM).
    dispositif: String,
    /// The target's wave: 2 (a vague-1 target is refused, `target_not_vague2`).
    #[serde(default = "two")]
    #[schema(minimum = 1, maximum = 2)]
    wave: u8,
    /// The solution's id (one of the vendor's).
    solution: i64,
    /// The candidate version (`4.3.1`): segments separated by `.`, `-` or `_`.
    #[schema(pattern = "^\\s*[^\\s._-]+([._-][^\\s._-]+)*\\s*$", example = "4.3")]
    version: String,
    /// Optional profiles chosen (`PA`, `PH`...).
    #[serde(default)]
    optional_profiles: Vec<String>,
    /// NRUs held (équivalence and héritage, classified by the engine).
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<NruText>)]
    nrus: Vec<String>,
    /// Additional components, each attached to chapters.
    #[serde(default)]
    #[schema(max_items = 50)]
    additional_components: Vec<ComponentDto>,
    /// Commercial names.
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<CommercialName>)]
    commercial_names: Vec<String>,
}

/// A draft's administrative step, based on the revision it was read at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepBody {
    /// The revision the change is based on (409 `stale_revision` if it changed since).
    #[schema(minimum = 0)]
    revision: i64,
    /// The solution's id.
    solution: i64,
    /// The candidate version (`4.3.1`): segments separated by `.`, `-` or `_`.
    #[schema(pattern = "^\\s*[^\\s._-]+([._-][^\\s._-]+)*\\s*$", example = "4.3")]
    version: String,
    /// Optional profiles chosen (`PA`, `PH`...).
    #[serde(default)]
    optional_profiles: Vec<String>,
    /// NRUs held.
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<NruText>)]
    nrus: Vec<String>,
    /// Additional components.
    #[serde(default)]
    #[schema(max_items = 50)]
    additional_components: Vec<ComponentDto>,
    /// Commercial names.
    #[serde(default)]
    #[schema(max_items = 50, value_type = Vec<CommercialName>)]
    commercial_names: Vec<String>,
}

/// The step's fields as the application layer takes them.
fn step_input(
    solution: i64,
    version: String,
    optional_profiles: Vec<String>,
    nrus: Vec<String>,
    additional_components: Vec<ComponentDto>,
    commercial_names: Vec<String>,
) -> StepInput {
    StepInput {
        solution: Some(solution),
        version,
        optional_profiles,
        nrus,
        additional_components: additional_components
            .into_iter()
            .map(|c| ComponentInput {
                name: c.name,
                chapters: c.chapters,
            })
            .collect(),
        commercial_names,
    }
}

// ---- handlers -------------------------------------------------------------------------------

/// The statuses the list can be filtered on (the query keeps the text, read by
/// `CandidatureStatus::from_code`; this type states the closed set in the document).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[expect(dead_code, reason = "only its schema is used")]
enum StatusFilter {
    Draft,
    Submitted,
    InInstruction,
    ComplementRequested,
    Referenced,
    Refused,
}

/// Filters of the candidature list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CandidatureFilters {
    /// Only this status (`draft`, `submitted`, `in_instruction`, `complement_requested`,
    /// `referenced`, `refused`).
    #[param(value_type = Option<StatusFilter>, inline)]
    status: Option<String>,
    /// The page, from 1 to 1,000,000.
    #[param(minimum = 1, maximum = 1000000, default = 1)]
    page: Option<u32>,
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    size: Option<u32>,
}

/// `GET /api/v1/candidatures`.
#[utoipa::path(
    get,
    path = "/api/v1/candidatures",
    operation_id = "candidatures_list",
    tag = "candidatures",
    summary = "Les candidatures de l'organisation de l'éditeur, les plus récentes en premier",
    security(("jeton" = []), ("session" = [])),
    params(CandidatureFilters),
    responses(
        (status = 200, description = "Une page de candidatures", body = CandidaturePage),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        Authenticated,
        VendorRead,
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor,
    ApiQuery(f): ApiQuery<CandidatureFilters>,
) -> Result<Response, AppError> {
    let paging = Paging::of(f.page, f.size)?;
    let status = match f.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            CandidatureStatus::from_code(s).ok_or_else(|| AppError::Rejected {
                status: StatusCode::BAD_REQUEST,
                errors: vec![ErrorItem::field(
                    "invalid_parameter",
                    "status",
                    "Statut inconnu.",
                )],
            })?,
        ),
    };
    let all = service::list(&state, &vendor, status).await?;
    let (items, total) = paging.slice(all, |c| CandidatureDto::of(&c));
    json(StatusCode::OK, &CandidaturePage::new(paging, items, total))
}

/// `POST /api/v1/candidatures`.
#[utoipa::path(
    post,
    path = "/api/v1/candidatures",
    operation_id = "candidatures_create",
    tag = "candidatures",
    summary = "Ouvre une candidature (brouillon) avec son étape administrative",
    description = "L'étape est enregistrée telle que saisie ; le moteur la juge : ses refus éventuels \
        sont dans le plan (`GET .../plan`), avec leurs codes stables.",
    security(("jeton" = []), ("session" = [])),
    request_body = NewCandidatureBody,
    responses(
        (status = 201, description = "Le brouillon ouvert", body = CandidatureDto),
        (status = 422, description = "Champs invalides (`unknown_dispositif`, `target_not_vague2`, `invalid_field`...), ou guichet du dispositif pas encore ouvert (`guichet_not_open`, règle R10)", body = ErrorBody),
        JsonBody,
        Authenticated,
        VendorWrite,
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    ApiJson(body): ApiJson<NewCandidatureBody>,
) -> Result<Response, AppError> {
    let target = TargetInput {
        dispositif: body.dispositif,
        wave: i64::from(body.wave),
    };
    let input = step_input(
        body.solution,
        body.version,
        body.optional_profiles,
        body.nrus,
        body.additional_components,
        body.commercial_names,
    );
    let evaluation = step::evaluate(&state, &vendor, None, &target, &input).await?;
    let saved = step::create(&state, &vendor, &evaluation).await?;
    json(
        StatusCode::CREATED,
        &candidature_dto(&state, &saved.candidature).await?,
    )
}

/// `GET /api/v1/candidatures/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/candidatures/{id}",
    operation_id = "candidatures_show",
    tag = "candidatures",
    summary = "Une candidature",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    responses(
        (status = 200, description = "La candidature", body = CandidatureDto),
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
    let c = service::own(&state, &vendor, &id).await?;
    json(StatusCode::OK, &candidature_dto(&state, &c).await?)
}

/// `PUT /api/v1/candidatures/{id}/administrative-step`.
#[utoipa::path(
    put,
    path = "/api/v1/candidatures/{id}/administrative-step",
    operation_id = "candidatures_update_step",
    tag = "candidatures",
    summary = "Remplace l'étape administrative d'un brouillon, sur la base de la révision lue",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    request_body = StepBody,
    responses(
        (status = 200, description = "Le brouillon à jour", body = CandidatureDto),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps (`stale_revision`) ou déjà déposée (`candidature_not_draft`)", body = ErrorBody),
        (status = 422, description = "Champs invalides", body = ErrorBody),
        JsonBody,
        Authenticated,
        VendorWrite,
    )
)]
pub(crate) async fn update_step(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StepBody>,
) -> Result<Response, AppError> {
    let c = service::own_draft(&state, &vendor, &id).await?;
    let input = step_input(
        body.solution,
        body.version,
        body.optional_profiles,
        body.nrus,
        body.additional_components,
        body.commercial_names,
    );
    let checked = step::check(&state, &vendor, Some(&c), &TargetInput::default(), &input).await?;
    let saved = step::save(&state, &vendor, &c, body.revision, &checked).await?;
    json(StatusCode::OK, &candidature_dto(&state, &saved).await?)
}

/// `GET /api/v1/candidatures/{id}/plan`.
#[utoipa::path(
    get,
    path = "/api/v1/candidatures/{id}/plan",
    operation_id = "candidatures_plan",
    tag = "candidatures",
    summary = "Le plan de preuves : calculé en direct par le moteur pour un brouillon, figé au dépôt ensuite",
    description = "Chaque exigence du périmètre a un statut (`to_deposit`, `masked_heritage`, \
        `masked_equivalence`) et sa raison (règle, NRU, exigence source, composant), comme dans \
        les pages et comme le moteur. Si le moteur refuse l'étape administrative, `computed` est \
        faux et `errors` donne ses refus avec leurs codes stables.",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    responses(
        (status = 200, description = "Le plan", body = PlanDto),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        Authenticated,
        VendorRead,
    )
)]
pub(crate) async fn plan(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let c = service::own(&state, &vendor, &id).await?;
    let live = service::plan(&state, &c).await?;
    let proofs = state.db.list_proofs(c.id).await?;
    json(StatusCode::OK, &plan_dto(&c, &live, &proofs))
}

/// A submission.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmitBody {
    /// The revision the submission is based on.
    #[schema(minimum = 0)]
    revision: i64,
    /// Submit even though some expected proofs have no file yet.
    #[serde(default)]
    confirm_incomplete: bool,
}

/// `POST /api/v1/candidatures/{id}/submission`.
#[utoipa::path(
    post,
    path = "/api/v1/candidatures/{id}/submission",
    operation_id = "candidatures_submit",
    tag = "candidatures",
    summary = "Dépose la candidature : le plan, l'étape administrative et la version du REM sont figés",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    request_body = SubmitBody,
    responses(
        (status = 200, description = "La candidature déposée", body = CandidatureDto),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 409, description = "Déjà déposée, modifiée entre-temps, ou dossier incomplet sans confirmation (`dossier_incomplete`)", body = ErrorBody),
        (status = 422, description = "Refus du moteur (codes de docs/rules.md, dont `missing_honour_statement`)", body = ErrorBody),
        JsonBody,
        Authenticated,
        VendorWrite,
    )
)]
pub(crate) async fn submit(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubmitBody>,
) -> Result<Response, AppError> {
    let input = SubmitInput {
        revision: body.revision,
        confirm_incomplete: body.confirm_incomplete,
    };
    let c = service::own(&state, &vendor, &id).await?;
    let submitted = filed::submit(&state, &vendor, &c, input).await?;
    json(StatusCode::OK, &candidature_dto(&state, &submitted).await?)
}

/// NRUs obtained since submission (R5).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LateNrusBody {
    /// The revision the change is based on.
    #[schema(minimum = 0)]
    revision: i64,
    /// The NRUs obtained since (a vague-2 équivalence NRU).
    #[schema(min_items = 1, max_items = 50, value_type = Vec<NruText>)]
    nrus: Vec<String>,
}

/// What entering a late NRU changed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LateNrusDto {
    /// The candidature after the change (its plan recomputed and frozen again).
    candidature: CandidatureDto,
    /// Requirements to deposit before, masked now.
    newly_masked: Vec<String>,
    /// Deposited files marked no longer needed (kept, no verdict needed).
    proofs_no_longer_needed: u64,
}

/// `POST /api/v1/candidatures/{id}/late-nrus`.
#[utoipa::path(
    post,
    path = "/api/v1/candidatures/{id}/late-nrus",
    operation_id = "candidatures_late_nrus",
    tag = "candidatures",
    summary = "Saisit un NRU de vague 2 obtenu depuis le dépôt (règle R5) et recalcule le plan",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    request_body = LateNrusBody,
    responses(
        (status = 200, description = "NRU enregistré, plan recalculé", body = LateNrusDto),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 409, description = "Candidature non déposée ou décidée (`candidature_not_submitted`), ou modifiée entre-temps", body = ErrorBody),
        (status = 422, description = "Refus du moteur (`late_nru_not_allowed`, `unknown_nru`...) ou NRU mal formé", body = ErrorBody),
        JsonBody,
        Authenticated,
        VendorWrite,
    )
)]
pub(crate) async fn late_nrus(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LateNrusBody>,
) -> Result<Response, AppError> {
    let c = service::own(&state, &vendor, &id).await?;
    let input = LateNrusInput {
        revision: body.revision,
        nrus: body.nrus,
    };
    let done = filed::late_nrus(&state, &vendor, &c, &input).await?;
    json(
        StatusCode::OK,
        &LateNrusDto {
            candidature: candidature_dto(&state, &done.candidature).await?,
            newly_masked: done.newly_masked,
            proofs_no_longer_needed: done.proofs_no_longer_needed,
        },
    )
}

/// `GET /api/v1/candidatures/{id}/complement-requests`.
#[utoipa::path(
    get,
    path = "/api/v1/candidatures/{id}/complement-requests",
    operation_id = "candidatures_complement_requests",
    tag = "candidatures",
    summary = "Les demandes de compléments des instructeurs et leurs réponses, les plus anciennes en premier",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    responses(
        (status = 200, description = "Les demandes", body = Vec<ComplementRequestDto>),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        Authenticated,
        VendorRead,
    )
)]
pub(crate) async fn complement_requests(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let requests = state
        .db
        .list_complement_requests_for(vendor.organisation, candidature_id(&id)?)
        .await?;
    let items: Vec<ComplementRequestDto> = requests.iter().map(ComplementRequestDto::of).collect();
    json(StatusCode::OK, &items)
}

/// An answer to the open complement request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswerBody {
    /// The vendor's answer (the files are deposited beforehand), 1 to 4,000 characters once
    /// trimmed.
    #[schema(min_length = 1, max_length = 4000)]
    message: String,
}

/// `POST /api/v1/candidatures/{id}/complement-answer`.
#[utoipa::path(
    post,
    path = "/api/v1/candidatures/{id}/complement-answer",
    operation_id = "candidatures_answer_complements",
    tag = "candidatures",
    summary = "Répond à la demande de compléments ouverte : la candidature revient en instruction",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    request_body = AnswerBody,
    responses(
        (status = 200, description = "La demande, avec la réponse", body = ComplementRequestDto),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 409, description = "Aucune demande ouverte (`no_open_complement_request`)", body = ErrorBody),
        (status = 422, description = "Message vide (`message_required`) ou de plus de 4 000 caractères (`invalid_field`)", body = ErrorBody),
        JsonBody,
        Authenticated,
        VendorWrite,
    )
)]
pub(crate) async fn answer_complements(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<Response, AppError> {
    let c = service::own(&state, &vendor, &id).await?;
    let answered = filed::answer_complements(&state, &vendor, &c, &body.message).await?;
    json(StatusCode::OK, &ComplementRequestDto::of(&answered))
}

/// One candidature as the vendor reads it: with the warnings about the referencings it cites.
async fn candidature_dto(
    state: &AppState,
    c: &preuves_db::StoredCandidature,
) -> Result<CandidatureDto, AppError> {
    Ok(CandidatureDto::with_warnings(
        c,
        service::warnings(state, c).await?,
    ))
}
