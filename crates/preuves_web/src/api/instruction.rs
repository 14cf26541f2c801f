//! Instruction, for ANS instructors: the queue (complete dossiers first, then by submission),
//! a candidature with its frozen plan, its files and complement requests, taking it into
//! instruction, verdicts per file, complement requests, refusal, grant (NRU, register entry and
//! attestation, all or nothing: [`crate::decision::grant`]), its assignment to another
//! instructor and its history. Drafts are the vendor's business: they answer 404 here, as in the
//! pages.
//!
//! Each handler only translates: the JSON body or query into an input of
//! [`crate::app::instruction`], which validates it and carries out the use case, and its result
//! into a DTO.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::{GrantRecord, HistoryEntry, QueueEntry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::candidatures::{
    CandidatureDto, ComplementItemDto, ComplementRequestDto, PlanDto, ProofDto, plan_dto,
};
use super::{ApiJson, ApiQuery, DispositifRef, ErrorBody, Paging, iso_instant, json, page_of};
use crate::AppState;
use crate::api::{Authenticated, InstructorRead, InstructorWrite, JsonBody};
use crate::app::instruction::{
    self as app, AssignInput, ComplementInput, ComplementItemInput, QueueInput, RefusalInput,
    VerdictInput,
};
use crate::error::AppError;
use crate::paths::{candidature_id, proof_id};
use crate::security::ApiInstructor;

/// A candidature of the queue.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct QueueEntryDto {
    /// The candidature.
    candidature: i64,
    /// The vendor organisation's id.
    organisation: i64,
    /// Its name.
    vendor: String,
    /// The target dispositif.
    dispositif: DispositifRef,
    /// Its name.
    dispositif_name: String,
    /// Its date 2 (ISO 8601 day).
    date2: Option<String>,
    /// `submitted`, `in_instruction` or `complement_requested`.
    status: String,
    /// The solution.
    solution: String,
    /// The candidate version.
    version: String,
    /// When it was submitted (ISO 8601).
    submitted_at: Option<String>,
    /// When its dossier became complete (ISO 8601).
    complete_at: Option<String>,
    /// The instructor holding it.
    assigned_to: Option<i64>,
    /// That instructor's name.
    assigned_name: Option<String>,
    /// Current files (one per expected proof deposited).
    current_proofs: u64,
    /// Current files without a verdict yet.
    proofs_awaiting_verdict: u64,
}

impl QueueEntryDto {
    fn of(e: &QueueEntry) -> Self {
        Self {
            candidature: e.candidature.0,
            organisation: e.organisation.0,
            vendor: e.vendor_name.clone(),
            dispositif: DispositifRef::of(&e.target),
            dispositif_name: e.dispositif_name.clone(),
            date2: e.date2.map(|d| d.to_string()),
            status: e.status.code().to_owned(),
            solution: e.solution_name.clone(),
            version: e.version.clone(),
            submitted_at: e.submitted_at.map(iso_instant),
            complete_at: e.complete_at.map(iso_instant),
            assigned_to: e.assigned_to.map(|u| u.0),
            assigned_name: e.assigned_name.clone(),
            current_proofs: e.current_proofs,
            proofs_awaiting_verdict: e.proofs_awaiting_verdict,
        }
    }
}

page_of!(QueuePage, QueueEntryDto, "A page of the instruction queue.");

/// Filters of the queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct QueueParams {
    /// Only this target dispositif's code (letters, digits, `-` and `_`).
    #[param(pattern = "^\\s*[A-Za-z0-9_-]*\\s*$")]
    dispositif: Option<String>,
    /// With `dispositif`: its wave (2 by default).
    #[param(minimum = 1, maximum = 2)]
    wave: Option<u8>,
    /// Only this status: `submitted`, `in_instruction` or `complement_requested`.
    #[param(pattern = "^\\s*(submitted|in_instruction|complement_requested)?\\s*$")]
    status: Option<String>,
    /// Only this vendor organisation's.
    #[param(minimum = 1)]
    organisation: Option<i64>,
    /// Only candidatures whose dispositif's date 2 has passed.
    date2_passed: Option<bool>,
    /// Only the candidatures the caller holds.
    mine: Option<bool>,
    /// The page, from 1 to 1,000,000.
    #[param(minimum = 1, maximum = 1000000, default = 1)]
    page: Option<u32>,
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    size: Option<u32>,
}

/// `GET /api/v1/instruction/queue`.
#[utoipa::path(
    get,
    path = "/api/v1/instruction/queue",
    operation_id = "instruction_queue",
    tag = "instruction",
    summary = "La file d'instruction : dossiers complets d'abord, puis par date de dépôt",
    security(("jeton" = []), ("session" = [])),
    params(QueueParams),
    responses(
        (status = 200, description = "Une page de la file", body = QueuePage),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        Authenticated,
        InstructorRead,
    )
)]
pub(crate) async fn queue(
    State(state): State<AppState>,
    ApiInstructor(instructor): ApiInstructor,
    ApiQuery(q): ApiQuery<QueueParams>,
) -> Result<Response, AppError> {
    let paging = Paging::of(q.page, q.size)?;
    let (choice, errors) = QueueInput {
        dispositif: q.dispositif,
        wave: q.wave,
        status: q.status,
        organisation: q.organisation,
        date2_passed: q.date2_passed.unwrap_or(false),
        mine: q.mine.unwrap_or(false),
    }
    .read();
    if !errors.is_empty() {
        return Err(AppError::Rejected {
            status: StatusCode::BAD_REQUEST,
            errors,
        });
    }
    let entries = app::queue(&state, &instructor, &choice).await?;
    let (items, total) = paging.slice(entries, |e| QueueEntryDto::of(&e));
    json(StatusCode::OK, &QueuePage::new(paging, items, total))
}

/// A candidature as an instructor sees it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InstructionDto {
    /// The candidature.
    candidature: CandidatureDto,
    /// The vendor's name.
    vendor: String,
    /// The instructor holding it.
    assigned_to: Option<i64>,
    /// Its frozen plan, with the files deposited for each expected proof.
    plan: PlanDto,
    /// Every file deposited, in deposit order.
    proofs: Vec<ProofDto>,
    /// Its complement requests, oldest first.
    complement_requests: Vec<ComplementRequestDto>,
}

/// `GET /api/v1/instruction/candidatures/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/instruction/candidatures/{id}",
    operation_id = "instruction_show",
    tag = "instruction",
    summary = "Une candidature déposée : son plan figé, ses fichiers, ses demandes de compléments",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Identifiant de la candidature")),
    responses(
        (status = 200, description = "La candidature", body = InstructionDto),
        (status = 404, description = "Inconnue, ou encore brouillon", body = ErrorBody),
        Authenticated,
        InstructorRead,
    )
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    ApiInstructor(instructor): ApiInstructor,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let dossier = app::dossier(&state, &instructor, candidature_id(&id)?).await?;
    json(StatusCode::OK, &instruction_dto(&dossier))
}

fn instruction_dto(d: &app::Dossier) -> InstructionDto {
    let c = &d.candidature;
    InstructionDto {
        candidature: CandidatureDto::with_warnings(c, d.warnings.clone()),
        vendor: d.vendor.clone(),
        assigned_to: c.assigned_to.map(|u| u.0),
        plan: plan_dto(c, &d.plan, &d.proofs),
        proofs: d.proofs.iter().map(ProofDto::of).collect(),
        complement_requests: d.requests.iter().map(ComplementRequestDto::of).collect(),
    }
}

/// `POST /api/v1/instruction/candidatures/{id}/take`.
#[utoipa::path(
    post,
    path = "/api/v1/instruction/candidatures/{id}/take",
    operation_id = "instruction_take",
    tag = "instruction",
    summary = "Prend une candidature déposée en instruction (elle est alors attribuée à l'appelant), ou reprend une candidature attribuée à un autre instructeur",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Identifiant de la candidature")),
    responses(
        (status = 200, description = "La candidature", body = CandidatureDto),
        (status = 404, description = "Inconnue, ou encore brouillon", body = ErrorBody),
        (status = 409, description = "Déjà décidée (`candidature_not_under_review`)", body = ErrorBody),
        Authenticated,
        InstructorWrite,
    )
)]
pub(crate) async fn take(
    State(state): State<AppState>,
    ApiInstructor(instructor): ApiInstructor<true>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let taken = app::take(&state, &instructor, candidature_id(&id)?).await?;
    json(StatusCode::OK, &CandidatureDto::of(&taken.candidature))
}

/// An assignment to another instructor.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignmentBody {
    /// The user id of the active instructor to hand the candidature to.
    #[schema(minimum = 1)]
    instructor: i64,
}

/// `POST /api/v1/instruction/candidatures/{id}/assignment`.
#[utoipa::path(
    post,
    path = "/api/v1/instruction/candidatures/{id}/assignment",
    operation_id = "instruction_assign",
    tag = "instruction",
    summary = "Attribue une candidature déposée à un autre instructeur (actif), qui seul peut alors agir dessus",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Identifiant de la candidature")),
    request_body = AssignmentBody,
    responses(
        (status = 200, description = "La candidature, attribuée", body = CandidatureDto),
        (status = 404, description = "Inconnue, ou encore brouillon", body = ErrorBody),
        (status = 409, description = "Déjà décidée (`candidature_not_under_review`)", body = ErrorBody),
        (status = 422, description = "Compte inconnu (`unknown_instructor`), ou qui n'est pas un instructeur actif (`not_an_instructor`)", body = ErrorBody),
        Authenticated,
        JsonBody,
        InstructorWrite,
    )
)]
pub(crate) async fn assign(
    State(state): State<AppState>,
    ApiInstructor(instructor): ApiInstructor<true>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssignmentBody>,
) -> Result<Response, AppError> {
    let input = AssignInput {
        instructor: Some(body.instructor),
    };
    let assigned = app::assign(&state, &instructor, candidature_id(&id)?, &input).await?;
    json(StatusCode::OK, &CandidatureDto::of(&assigned.candidature))
}

/// `GET /api/v1/instruction/candidatures/{id}/proofs/{proof}/file`.
#[utoipa::path(
    get,
    path = "/api/v1/instruction/candidatures/{id}/proofs/{proof}/file",
    operation_id = "instruction_proof_file",
    tag = "instruction",
    summary = "Le contenu d'un fichier déposé (toujours en téléchargement)",
    security(("jeton" = []), ("session" = [])),
    params(
        ("id" = i64, Path, minimum = 1, description = "Identifiant de la candidature"),
        ("proof" = i64, Path, minimum = 1, description = "Identifiant du fichier"),
    ),
    responses(
        (status = 200, description = "Le fichier", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "Inconnu", body = ErrorBody),
        Authenticated,
        InstructorRead,
    )
)]
pub(crate) async fn proof_file(
    State(state): State<AppState>,
    ApiInstructor(instructor): ApiInstructor,
    Path((id, proof)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (_, found) =
        app::proof(&state, &instructor, candidature_id(&id)?, proof_id(&proof)?).await?;
    crate::attachment::proof(&state, &found).await
}

/// A verdict on a deposited file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerdictBody {
    /// `compliant`, `not_compliant` or `complement_requested`.
    #[schema(pattern = "^\\s*(compliant|not_compliant|complement_requested)\\s*$")]
    verdict: String,
    /// Why (required unless compliant), at most 4,000 characters once trimmed.
    #[serde(default)]
    #[schema(max_length = 4000)]
    comment: String,
}

/// `PUT /api/v1/instruction/candidatures/{id}/proofs/{proof}/verdict`.
#[utoipa::path(
    put,
    path = "/api/v1/instruction/candidatures/{id}/proofs/{proof}/verdict",
    operation_id = "instruction_verdict",
    tag = "instruction",
    summary = "Donne (ou change) le verdict d'un fichier déposé",
    security(("jeton" = []), ("session" = [])),
    params(
        ("id" = i64, Path, minimum = 1, description = "Identifiant de la candidature"),
        ("proof" = i64, Path, minimum = 1, description = "Identifiant du fichier"),
    ),
    request_body = VerdictBody,
    responses(
        (status = 200, description = "Le fichier jugé", body = ProofDto),
        (status = 404, description = "Inconnu", body = ErrorBody),
        (status = 409, description = "Pas en instruction, attribuée à un autre instructeur, fichier remplacé ou plus nécessaire", body = ErrorBody),
        (status = 422, description = "Verdict inconnu ou commentaire manquant", body = ErrorBody),
        Authenticated,
        JsonBody,
        InstructorWrite,
    )
)]
pub(crate) async fn verdict(
    State(state): State<AppState>,
    ApiInstructor(instructor): ApiInstructor<true>,
    Path((id, proof)): Path<(String, String)>,
    ApiJson(body): ApiJson<VerdictBody>,
) -> Result<Response, AppError> {
    let input = VerdictInput {
        verdict: body.verdict,
        comment: body.comment,
    };
    let judged = app::verdict(
        &state,
        &instructor,
        candidature_id(&id)?,
        proof_id(&proof)?,
        &input,
    )
    .await?;
    json(StatusCode::OK, &ProofDto::of(&judged))
}

/// A complement request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComplementsBody {
    /// The message to the vendor, 1 to 4,000 characters once trimmed.
    #[schema(min_length = 1, max_length = 4000, pattern = "\\S")]
    message: String,
    /// The requirements concerned (to deposit in the frozen plan), each with a comment.
    #[schema(min_items = 1)]
    items: Vec<ComplementItemDto>,
}

/// `POST /api/v1/instruction/candidatures/{id}/complement-requests`.
#[utoipa::path(
    post,
    path = "/api/v1/instruction/candidatures/{id}/complement-requests",
    operation_id = "instruction_request_complements",
    tag = "instruction",
    summary = "Demande des compléments à l'éditeur : la candidature attend sa réponse",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Identifiant de la candidature")),
    request_body = ComplementsBody,
    responses(
        (status = 201, description = "La demande", body = ComplementRequestDto),
        (status = 400, description = "JSON mal formé, ou exigence hors du plan", body = ErrorBody),
        (status = 404, description = "Inconnue, ou encore brouillon", body = ErrorBody),
        (status = 409, description = "Pas en instruction, ou attribuée à un autre instructeur", body = ErrorBody),
        (status = 415, description = "Le corps n'est pas du JSON", body = ErrorBody),
        (status = 422, description = "Message ou exigences manquants", body = ErrorBody),
        Authenticated,
        InstructorWrite,
    )
)]
pub(crate) async fn request_complements(
    State(state): State<AppState>,
    ApiInstructor(instructor): ApiInstructor<true>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ComplementsBody>,
) -> Result<Response, AppError> {
    let input = ComplementInput {
        message: body.message,
        items: body
            .items
            .into_iter()
            .map(|i| ComplementItemInput {
                requirement: i.requirement,
                comment: i.comment,
            })
            .collect(),
    };
    let request =
        app::request_complements(&state, &instructor, candidature_id(&id)?, &input).await?;
    json(StatusCode::CREATED, &ComplementRequestDto::of(&request))
}

/// A refusal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefusalBody {
    /// Why the candidature is refused (shown to the vendor), 1 to 4,000 characters once trimmed.
    #[schema(min_length = 1, max_length = 4000, pattern = "\\S")]
    reason: String,
}

/// `POST /api/v1/instruction/candidatures/{id}/refusal`.
#[utoipa::path(
    post,
    path = "/api/v1/instruction/candidatures/{id}/refusal",
    operation_id = "instruction_refuse",
    tag = "instruction",
    summary = "Refuse la candidature, avec son motif",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Identifiant de la candidature")),
    request_body = RefusalBody,
    responses(
        (status = 200, description = "La candidature refusée", body = CandidatureDto),
        (status = 404, description = "Inconnue, ou encore brouillon", body = ErrorBody),
        (status = 409, description = "Déjà décidée, pas en instruction, ou attribuée à un autre instructeur", body = ErrorBody),
        (status = 422, description = "Motif manquant", body = ErrorBody),
        Authenticated,
        JsonBody,
        InstructorWrite,
    )
)]
pub(crate) async fn refuse(
    State(state): State<AppState>,
    ApiInstructor(instructor): ApiInstructor<true>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RefusalBody>,
) -> Result<Response, AppError> {
    let input = RefusalInput {
        reason: body.reason,
    };
    let refused = app::refuse(&state, &instructor, candidature_id(&id)?, &input).await?;
    json(StatusCode::OK, &CandidatureDto::of(&refused))
}

/// A referencing granted.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GrantDto {
    /// The NRU issued.
    nru: String,
    /// The candidature.
    candidature: i64,
    /// The REM version it was instructed on.
    rem_version: i64,
    /// The attestation's SHA-256 (download it from `/api/v1/referencings/{nru}/attestation`).
    attestation_sha256: String,
    /// When it was granted (ISO 8601).
    granted_at: String,
    /// How many requirements are proven here, inherited (R3) and equivalent (R2).
    proven: u64,
    /// Requirements inherited (R3).
    inherited: u64,
    /// Requirements equivalent (R2).
    equivalent: u64,
}

impl GrantDto {
    fn of(g: &GrantRecord) -> Self {
        let counts = g.manifest.counts();
        Self {
            nru: g.nru.to_string(),
            candidature: g.candidature.0,
            rem_version: g.rem_version.0,
            attestation_sha256: g.attestation_sha256.clone(),
            granted_at: iso_instant(g.granted_at),
            proven: counts.proven,
            inherited: counts.inherited,
            equivalent: counts.equivalent,
        }
    }
}

/// `POST /api/v1/instruction/candidatures/{id}/grant`.
#[utoipa::path(
    post,
    path = "/api/v1/instruction/candidatures/{id}/grant",
    operation_id = "instruction_grant",
    tag = "instruction",
    summary = "Accorde le référencement : NRU, inscription au registre et attestation, tout ou rien",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Identifiant de la candidature")),
    responses(
        (status = 201, description = "Le référencement accordé", body = GrantDto),
        (status = 404, description = "Inconnue, ou encore brouillon", body = ErrorBody),
        (status = 409, description = "Instruction incomplète (`instruction_incomplete`), déjà décidée, pas en instruction, ou attribuée à un autre instructeur", body = ErrorBody),
        Authenticated,
        InstructorWrite,
    )
)]
pub(crate) async fn grant(
    State(state): State<AppState>,
    ApiInstructor(instructor): ApiInstructor<true>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let record = app::grant(&state, &instructor, candidature_id(&id)?).await?;
    json(StatusCode::CREATED, &GrantDto::of(&record))
}

/// One event of a candidature's history.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HistoryEntryDto {
    /// Its position in the audit trail.
    id: i64,
    /// When (ISO 8601).
    at: String,
    /// Who, as the trail names them (`user:42`, `system`).
    actor: String,
    /// Their name, for a user.
    actor_name: Option<String>,
    /// What was done (`candidature.submit`, `proof.verdict`...).
    action: String,
    /// What changed, as the trail keeps it.
    #[schema(value_type = Object)]
    details: serde_json::Value,
}

impl HistoryEntryDto {
    fn of(h: &HistoryEntry) -> Self {
        Self {
            id: h.id,
            at: iso_instant(h.at),
            actor: h.actor.clone(),
            actor_name: h.actor_name.clone(),
            action: h.action.clone(),
            details: h.details.clone(),
        }
    }
}

/// `GET /api/v1/instruction/candidatures/{id}/history`.
#[utoipa::path(
    get,
    path = "/api/v1/instruction/candidatures/{id}/history",
    operation_id = "instruction_history",
    tag = "instruction",
    summary = "L'historique d'une candidature (qui, quand, quoi), du plus ancien au plus récent",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Identifiant de la candidature")),
    responses(
        (status = 200, description = "L'historique", body = Vec<HistoryEntryDto>),
        (status = 404, description = "Inconnue, ou encore brouillon", body = ErrorBody),
        Authenticated,
        InstructorRead,
    )
)]
pub(crate) async fn history(
    State(state): State<AppState>,
    ApiInstructor(instructor): ApiInstructor,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let entries = app::history(&state, &instructor, candidature_id(&id)?).await?;
    let items: Vec<HistoryEntryDto> = entries.iter().map(HistoryEntryDto::of).collect();
    json(StatusCode::OK, &items)
}
