//! Files of a candidature: the list of deposited files, the streaming deposit of a proof, the
//! download of one, and the sworn statement (R6). When a candidature takes a file and which
//! proof it may bring are rules of [`crate::app::deposits`]; the streaming is
//! [`crate::deposit`]'s.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use preuves_db::Actor;
use serde::Deserialize;
use utoipa::IntoParams;

use super::super::{
    ApiQuery, Authenticated, ErrorBody, Paging, VendorRead, VendorWrite, check_fields, invalid,
    json, page_of,
};
use super::candidature_dto;
use super::dto::{CandidatureDto, ProofDto};
use crate::AppState;
use crate::app::candidatures::own;
use crate::app::deposits;
use crate::deposit::{self, ProofSlot};
use crate::error::AppError;
use crate::paths::candidature_id;
use crate::security::ApiVendor;

page_of!(ProofPage, ProofDto, "A page of deposited files.");

/// `GET /api/v1/candidatures/{id}/proofs`.
#[utoipa::path(
    get,
    path = "/api/v1/candidatures/{id}/proofs",
    operation_id = "candidatures_proofs",
    tag = "candidatures",
    summary = "Les fichiers déposés, dans l'ordre de dépôt, avec leurs verdicts",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature"), super::super::PageParams),
    responses(
        (status = 200, description = "Une page de fichiers", body = ProofPage),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        Authenticated,
        VendorRead,
    )
)]
pub(crate) async fn proofs(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<super::super::PageParams>,
) -> Result<Response, AppError> {
    let paging = Paging::of(p.page, p.size)?;
    let all = state
        .db
        .list_proofs_for(vendor.organisation, candidature_id(&id)?)
        .await?;
    let (items, total) = paging.slice(all, |p| ProofDto::of(&p));
    json(StatusCode::OK, &ProofPage::new(paging, items, total))
}

/// Which expected proof a deposited file brings.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DepositParams {
    /// The requirement id (`INS/va1.01`), to deposit in the plan.
    #[param(required = true)]
    requirement: Option<String>,
    /// The scenario's position in the requirement, from 0 (see the plan's `expected`).
    #[param(required = true)]
    scenario: Option<i64>,
    /// The proof's position in the scenario, from 0.
    #[param(required = true)]
    proof: Option<i64>,
    /// The file's name; its extension must agree with its content.
    #[param(required = true)]
    file_name: Option<String>,
}

/// `POST /api/v1/candidatures/{id}/proofs`.
#[utoipa::path(
    post,
    path = "/api/v1/candidatures/{id}/proofs",
    operation_id = "candidatures_deposit",
    tag = "candidatures",
    summary = "Dépose un fichier de preuve (corps brut, envoi en flux)",
    description = "Le corps de la requête est le fichier lui-même, lu en flux : la mémoire reste \
        bornée quelle que soit sa taille. Son type est décidé sur son contenu (PDF, PNG, JPEG, \
        MP4, MOV, WebM, ZIP, texte) et doit s'accorder avec l'extension du nom ; sa taille est \
        bornée. Le fichier n'est enregistré (avec son SHA-256) qu'une fois reçu en entier.",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature"), DepositParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "Le fichier"),
    responses(
        (status = 201, description = "Le fichier enregistré", body = ProofDto),
        (status = 400, description = "Envoi interrompu ou illisible", body = ErrorBody),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 409, description = "Dépôt fermé (`candidature_deposit_closed`) ou plan incalculable", body = ErrorBody),
        (status = 413, description = "Fichier trop volumineux (`file_too_large`)", body = ErrorBody),
        (status = 415, description = "Type de fichier refusé (`file_type_refused`)", body = ErrorBody),
        (status = 422, description = "Preuve non attendue (`proof_not_expected`), fichier vide (`file_empty`) ou paramètre manquant", body = ErrorBody),
        Authenticated,
        VendorWrite,
    )
)]
pub(crate) async fn deposit(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DepositParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let c = own(&state, &vendor, &id).await?;
    deposits::check_open(&c)?;
    let mut errors = Vec::new();
    let requirement = q.requirement.as_deref().map(str::trim).unwrap_or_default();
    if requirement.is_empty() {
        errors.push(invalid(
            "requirement",
            "Indiquez l'exigence que ce fichier prouve.",
        ));
    }
    if q.scenario.is_none() {
        errors.push(invalid(
            "scenario",
            "Indiquez la position du scénario (à partir de 0).",
        ));
    }
    if q.proof.is_none() {
        errors.push(invalid(
            "proof",
            "Indiquez la position de la preuve (à partir de 0).",
        ));
    }
    let name = deposit::file_name_of(q.file_name.as_deref().unwrap_or_default());
    if name.is_empty() {
        errors.push(invalid("file_name", "Indiquez le nom du fichier."));
    }
    check_fields(errors)?;
    let (scenario, proof) = (q.scenario.unwrap_or_default(), q.proof.unwrap_or_default());
    deposit::check_announced(&state, &headers, 1)?;
    let plan = deposits::deposit_plan(&state, &c).await?;
    let requirement = deposits::expected_proof(&plan, requirement, scenario, proof)?;
    let stored = deposit::store_file(
        &state,
        &format!("proofs/{}", c.id),
        body.into_data_stream(),
        &name,
        &deposit::PROOF_KINDS,
    )
    .await?;
    let slot = ProofSlot {
        requirement,
        scenario_index: scenario,
        proof_index: proof,
    };
    let recorded = deposit::record(
        &state,
        vendor.organisation,
        &c,
        slot,
        stored,
        &name,
        &Actor::User(vendor.user.id),
    )
    .await?;
    json(StatusCode::CREATED, &ProofDto::of(&recorded))
}

/// `GET /api/v1/candidatures/{id}/proofs/{proof}/file`.
#[utoipa::path(
    get,
    path = "/api/v1/candidatures/{id}/proofs/{proof}/file",
    operation_id = "candidatures_proof_file",
    tag = "candidatures",
    summary = "Le contenu d'un fichier déposé (toujours en téléchargement)",
    security(("jeton" = []), ("session" = [])),
    params(
        ("id" = i64, Path, description = "Identifiant de la candidature"),
        ("proof" = i64, Path, description = "Identifiant du fichier"),
    ),
    responses(
        (status = 200, description = "Le fichier", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "Inconnu, ou d'une autre organisation", body = ErrorBody),
        Authenticated,
        VendorRead,
    )
)]
pub(crate) async fn proof_file(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor,
    Path((id, proof)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let found = deposits::own_file(&state, &vendor, &id, &proof).await?;
    crate::attachment::proof(&state, &found).await
}

/// Which draft revision and file a sworn statement comes with.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HonourParams {
    /// The draft's revision the statement is added to (409 `stale_revision` if it changed).
    #[param(required = true)]
    revision: Option<i64>,
    /// The document's name (PDF, PNG or JPEG).
    #[param(required = true)]
    file_name: Option<String>,
}

/// `PUT /api/v1/candidatures/{id}/honour-statement`.
#[utoipa::path(
    put,
    path = "/api/v1/candidatures/{id}/honour-statement",
    operation_id = "candidatures_honour_statement",
    tag = "candidatures",
    summary = "Dépose l'attestation sur l'honneur d'un brouillon (règle R6 ; corps brut, envoi en flux)",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature"), HonourParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "Le document signé (PDF, PNG ou JPEG)"),
    responses(
        (status = 200, description = "Le brouillon à jour", body = CandidatureDto),
        (status = 400, description = "Envoi interrompu ou illisible", body = ErrorBody),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 409, description = "Déjà déposée (`candidature_not_draft`) ou modifiée entre-temps (`stale_revision`)", body = ErrorBody),
        (status = 413, description = "Fichier trop volumineux", body = ErrorBody),
        (status = 415, description = "Type de fichier refusé", body = ErrorBody),
        (status = 422, description = "Paramètre manquant ou fichier vide", body = ErrorBody),
        Authenticated,
        VendorWrite,
    )
)]
pub(crate) async fn honour_statement(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<HonourParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let c = own(&state, &vendor, &id).await?;
    deposits::check_honour_open(&c)?;
    let name = deposit::file_name_of(q.file_name.as_deref().unwrap_or_default());
    let mut errors = Vec::new();
    if q.revision.is_none() {
        errors.push(invalid("revision", "Indiquez la révision du brouillon."));
    }
    if name.is_empty() {
        errors.push(invalid("file_name", "Indiquez le nom du fichier."));
    }
    check_fields(errors)?;
    deposit::check_announced(&state, &headers, 1)?;
    let (blob, _) = deposit::store_file(
        &state,
        &format!("honour/{}", c.id),
        body.into_data_stream(),
        &name,
        &deposit::HONOUR_KINDS,
    )
    .await?;
    let saved = deposit::record_honour_statement(
        &state,
        vendor.organisation,
        &c,
        q.revision.unwrap_or_default(),
        &blob,
        &name,
        &Actor::User(vendor.user.id),
    )
    .await?;
    json(StatusCode::OK, &candidature_dto(&state, &saved).await?)
}
