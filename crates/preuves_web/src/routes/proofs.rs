//! Proof files: the streaming deposit, the sworn statement's upload and the download of a file
//! by its own organisation.
//!
//! A deposit is `multipart/form-data` with `csrf` first (nothing else is read before it is
//! checked), then `exigence`, `scenario`, `preuve` (which expected proof), then one or more
//! `fichier` parts. Each file streams to the blob store ([`preuves_storage`]): memory stays
//! bounded whatever its size, its first bytes are checked against the allow-list
//! ([`crate::filetype`]) before anything is written, its size against
//! [`crate::WebConfig::max_proof_upload`] while it is read. Only once the blob is complete is the
//! file recorded (with its SHA-256 and size) in one audited transaction; if recording fails the
//! blob is deleted. An interrupted upload leaves neither a record nor a blob. The streaming and
//! its checks are [`crate::deposit`]'s, shared with the API; when a deposit is allowed and which
//! proof a file may bring, [`crate::app::deposits`]'.

use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use preuves_db::Actor;

use crate::AppState;
use crate::app::candidatures::own;
use crate::app::deposits;
use crate::deposit::{self, check_announced, file_name_of, store_file, unreadable};
use crate::error::AppError;
use crate::plan_view::anchor_of;
use crate::security::{RequestContext, VendorCap, check_csrf, redirect_with_flash};

/// What the small form fields may weigh, in all.
const SMALL_FIELDS: usize = 16 * 1024;

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

fn multipart_or_error(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Multipart, AppError> {
    multipart.map_err(|e| {
        AppError::BadRequest(format!(
            "Le formulaire de dépôt doit être envoyé en multipart/form-data ({e})."
        ))
    })
}

/// Reads the CSRF part, which must come first.
async fn first_csrf(multipart: &mut Multipart, ctx: &RequestContext) -> Result<usize, AppError> {
    let mut budget = SMALL_FIELDS;
    let Some(mut field) = multipart.next_field().await.map_err(unreadable)? else {
        return Err(AppError::Csrf);
    };
    if field.name() != Some("csrf") {
        return Err(AppError::Csrf);
    }
    let token = small_text(&mut field, &mut budget).await?;
    check_csrf(ctx, &token)?;
    Ok(budget)
}

/// `POST /candidatures/{id}/preuves`: deposits one or more files for one expected proof.
pub(crate) async fn upload(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let c = own(&state, &vendor, &id).await?;
    let mut multipart = multipart_or_error(multipart)?;
    let mut budget = first_csrf(&mut multipart, &ctx).await?;
    deposits::check_open(&c)?;
    check_announced(&state, &headers, 20)?;

    let plan = deposits::deposit_plan(&state, &c).await?;
    let mut requirement = String::new();
    let mut scenario = String::new();
    let mut proof = String::new();
    let mut recorded: Vec<String> = Vec::new();
    let actor = Actor::User(vendor.user.id);
    let prefix = format!("proofs/{}", c.id);
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or_default() {
            "exigence" => requirement = small_text(&mut field, &mut budget).await?,
            "scenario" => scenario = small_text(&mut field, &mut budget).await?,
            "preuve" => proof = small_text(&mut field, &mut budget).await?,
            "fichier" => {
                let name = field.file_name().map(file_name_of).unwrap_or_default();
                if name.is_empty() {
                    // An empty file input: the browser sends a part without a name.
                    small_text(&mut field, &mut budget).await.ok();
                    continue;
                }
                let (si, pi) = match (scenario.parse::<i64>(), proof.parse::<i64>()) {
                    (Ok(si), Ok(pi)) => (si, pi),
                    _ => {
                        return Err(AppError::BadRequest(
                            "Le formulaire ne dit pas quelle preuve ce fichier apporte.".to_owned(),
                        ));
                    }
                };
                let requirement_id = deposits::expected_proof(&plan, &requirement, si, pi)?;
                let stored =
                    store_file(&state, &prefix, field, &name, &deposit::PROOF_KINDS).await?;
                let slot = deposit::ProofSlot {
                    requirement: requirement_id,
                    scenario_index: si,
                    proof_index: pi,
                };
                deposit::record(&state, vendor.organisation, &c, slot, stored, &name, &actor)
                    .await?;
                recorded.push(name);
            }
            _ => {
                small_text(&mut field, &mut budget).await?;
            }
        }
    }
    if recorded.is_empty() {
        return Err(AppError::Refused {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "file_missing",
            message: "Choisissez au moins un fichier à déposer.".to_owned(),
        });
    }
    let message = if recorded.len() == 1 {
        format!(
            "Le fichier «\u{a0}{}\u{a0}» a été déposé pour l'exigence {requirement}.",
            recorded[0]
        )
    } else {
        format!(
            "{} fichiers ont été déposés pour l'exigence {requirement}\u{a0}: {}.",
            recorded.len(),
            recorded.join(", ")
        )
    };
    Ok(redirect_with_flash(
        &format!("/candidatures/{}/preuves#{}", c.id, anchor_of(&requirement)),
        &message,
        state.config.secure_cookies,
    ))
}

/// `POST /candidatures/{id}/attestation-honneur`: the sworn statement of a draft (R6).
pub(crate) async fn honour_statement(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let c = own(&state, &vendor, &id).await?;
    let mut multipart = multipart_or_error(multipart)?;
    let mut budget = first_csrf(&mut multipart, &ctx).await?;
    deposits::check_honour_open(&c)?;
    check_announced(&state, &headers, 20)?;
    let mut revision = String::new();
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or_default() {
            "revision" => revision = small_text(&mut field, &mut budget).await?,
            "fichier" => {
                let name = field.file_name().map(file_name_of).unwrap_or_default();
                if name.is_empty() {
                    break;
                }
                let revision: i64 = revision.parse().map_err(|_| {
                    AppError::BadRequest("Le formulaire est incomplet (révision).".to_owned())
                })?;
                let prefix = format!("honour/{}", c.id);
                let (blob, _) =
                    store_file(&state, &prefix, field, &name, &deposit::HONOUR_KINDS).await?;
                deposit::record_honour_statement(
                    &state,
                    vendor.organisation,
                    &c,
                    revision,
                    &blob,
                    &name,
                    &Actor::User(vendor.user.id),
                )
                .await?;
                return Ok(redirect_with_flash(
                    &format!("/candidatures/{}#noms", c.id),
                    &format!("L'attestation sur l'honneur «\u{a0}{name}\u{a0}» a été enregistrée."),
                    state.config.secure_cookies,
                ));
            }
            _ => {
                small_text(&mut field, &mut budget).await?;
            }
        }
    }
    Err(AppError::Refused {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "file_missing",
        message: "Choisissez le document de l'attestation sur l'honneur (PDF ou image).".to_owned(),
    })
}

/// `GET /candidatures/{id}/preuves/{proof}`: a deposited file, to its own organisation, always
/// as a download (never rendered inline).
pub(crate) async fn download(
    State(state): State<AppState>,
    vendor: VendorCap,
    Path((id, proof)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let found = deposits::own_file(&state, &vendor, &id, &proof).await?;
    crate::attachment::proof(&state, &found).await
}
