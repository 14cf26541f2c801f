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
//! blob is deleted. An interrupted upload leaves neither a record nor a blob.

use std::time::SystemTime;

use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use preuves_db::{
    Actor, CandidatureStatus, DbError, HonourStatement, NewProof, ProofId, StoredCandidature,
    conflicts,
};
use preuves_domain::RequirementId;
use preuves_storage::{BlobKey, PutLimits, StorageError, StoredBlob};

use crate::AppState;
use crate::error::AppError;
use crate::filetype::{self, FileKind};
use crate::format::human_size;
use crate::journey;
use crate::plan_view::anchor_of;
use crate::routes::candidatures::candidature_id;
use crate::security::{RequestContext, VendorCap, check_csrf, redirect_with_flash};

/// What the small form fields may weigh, in all.
const SMALL_FIELDS: usize = 16 * 1024;

fn unreadable(e: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(format!(
        "L'envoi a été interrompu ou est illisible ({e}). Aucun fichier n'a été enregistré\u{a0}: recommencez."
    ))
}

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

/// The file's own name, without any folder a browser may have sent.
fn file_name_of(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    base.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Streams one file part into a new blob, checking its type on its first bytes.
async fn store_file(
    state: &AppState,
    prefix: &str,
    field: Field<'_>,
    name: &str,
    allowed: &[FileKind],
) -> Result<(StoredBlob, FileKind), AppError> {
    let prefix = BlobKey::parse(prefix).map_err(AppError::internal)?;
    let key = BlobKey::new_random_dated(&prefix, SystemTime::now());
    let limit = state.config.max_proof_upload;
    let mut kind: Option<FileKind> = None;
    let check = |head: &[u8]| -> Result<(), filetype::Refused> {
        let k = filetype::check(name, head)?;
        if !allowed.contains(&k) {
            return Err(filetype::Refused::Unknown);
        }
        kind = Some(k);
        Ok(())
    };
    let stored = state
        .blobs
        .put_stream_checked(&key, field, PutLimits::max_size(limit), check)
        .await;
    match stored {
        Ok(blob) => Ok((
            blob,
            kind.ok_or_else(|| AppError::internal("type not checked"))?,
        )),
        Err(StorageError::TooLarge { .. }) => Err(AppError::Refused {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "file_too_large",
            message: format!(
                "Le fichier «\u{a0}{name}\u{a0}» dépasse la taille maximale autorisée ({}). Il n'a pas été enregistré.",
                human_size(limit)
            ),
        }),
        Err(StorageError::Rejected(why)) => Err(AppError::Refused {
            status: if why == filetype::Refused::Empty.to_string() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            },
            code: if why == filetype::Refused::Empty.to_string() {
                "file_empty"
            } else {
                "file_type_refused"
            },
            message: format!("«\u{a0}{name}\u{a0}»\u{a0}: {why} Il n'a pas été enregistré."),
        }),
        Err(StorageError::Interrupted(e)) => Err(unreadable(e)),
        Err(e) => Err(AppError::internal(e)),
    }
}

/// Refuses a body announced larger than one file at the limit plus the form fields, unread.
fn check_announced(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let max = state.config.max_proof_upload;
    if announced.is_some_and(|n| n > max.saturating_mul(20).saturating_add(64 * 1024)) {
        return Err(AppError::Refused {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "file_too_large",
            message: format!(
                "L'envoi dépasse la taille maximale autorisée ({} par fichier). Rien n'a été enregistré.",
                human_size(max)
            ),
        });
    }
    Ok(())
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

fn can_deposit(c: &StoredCandidature) -> Result<(), AppError> {
    if matches!(
        c.status,
        CandidatureStatus::Draft
            | CandidatureStatus::Submitted
            | CandidatureStatus::ComplementRequested
    ) {
        Ok(())
    } else {
        Err(AppError::from(DbError::Conflict {
            constraint: conflicts::DEPOSIT_CLOSED.to_owned(),
        }))
    }
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
    let c = state
        .db
        .find_candidature_for(vendor.organisation, candidature_id(&id)?)
        .await?;
    let mut multipart = multipart_or_error(multipart)?;
    let mut budget = first_csrf(&mut multipart, &ctx).await?;
    can_deposit(&c)?;
    check_announced(&state, &headers)?;

    let live = journey::candidature_plan(&state.db, &state.catalogues, &c).await?;
    let plan = live.outcome.as_ref().map_err(|_| {
        AppError::conflict(
            "Le plan de cette candidature ne peut pas être calculé (voir son étape administrative)\u{a0}: aucune preuve ne peut être déposée pour l'instant.",
        )
    })?;
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
                let expected = plan
                    .entry(&requirement)
                    .filter(|e| e.is_to_deposit())
                    .and_then(|e| {
                        e.expected
                            .iter()
                            .find(|x| x.scenario_index == si && x.proof_index == pi)
                    });
                if expected.is_none() {
                    return Err(AppError::Refused {
                        status: StatusCode::UNPROCESSABLE_ENTITY,
                        code: "proof_not_expected",
                        message: format!(
                            "Le plan de cette candidature n'attend pas cette preuve pour l'exigence {requirement} (exigence masquée ou inconnue). Aucun fichier n'a été enregistré."
                        ),
                    });
                }
                let requirement_id = RequirementId::parse(&requirement)
                    .map_err(|e| AppError::BadRequest(e.to_string()))?;
                let allowed = [
                    FileKind::Pdf,
                    FileKind::Png,
                    FileKind::Jpeg,
                    FileKind::Mp4,
                    FileKind::QuickTime,
                    FileKind::WebM,
                    FileKind::Zip,
                    FileKind::Text,
                ];
                let (blob, kind) = store_file(&state, &prefix, field, &name, &allowed).await?;
                let new = NewProof {
                    requirement: requirement_id,
                    scenario_index: si,
                    proof_index: pi,
                    blob_key: blob.key.as_str().to_owned(),
                    file_name: name.clone(),
                    content_type: kind.content_type().to_owned(),
                    size: blob.size,
                    sha256: blob.sha256.clone(),
                };
                match state
                    .db
                    .record_proof(vendor.organisation, c.id, &new, &actor)
                    .await
                {
                    Ok(_) => recorded.push(name),
                    Err(e) => {
                        // Recording failed: the stored blob must not stay behind.
                        if let Err(d) = state.blobs.delete(&blob.key).await {
                            tracing::warn!(error = %d, "could not delete an unrecorded blob");
                        }
                        return Err(e.into());
                    }
                }
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
    let c = state
        .db
        .find_candidature_for(vendor.organisation, candidature_id(&id)?)
        .await?;
    let mut multipart = multipart_or_error(multipart)?;
    let mut budget = first_csrf(&mut multipart, &ctx).await?;
    if c.status != CandidatureStatus::Draft {
        return Err(AppError::from(DbError::Conflict {
            constraint: conflicts::NOT_DRAFT.to_owned(),
        }));
    }
    check_announced(&state, &headers)?;
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
                let allowed = [FileKind::Pdf, FileKind::Png, FileKind::Jpeg];
                let (blob, _) = store_file(&state, &prefix, field, &name, &allowed).await?;
                let mut step = c.step.clone();
                step.honour_statement = Some(HonourStatement {
                    blob_key: blob.key.as_str().to_owned(),
                    file_name: name.clone(),
                });
                let saved = state
                    .db
                    .update_candidature_step(
                        vendor.organisation,
                        c.id,
                        revision,
                        &step,
                        &Actor::User(vendor.user.id),
                    )
                    .await;
                if let Err(e) = saved {
                    if let Err(d) = state.blobs.delete(&blob.key).await {
                        tracing::warn!(error = %d, "could not delete an unrecorded blob");
                    }
                    return Err(e.into());
                }
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
    let candidature = candidature_id(&id)?;
    let proof_id = proof.parse().map(ProofId).map_err(|_| AppError::NotFound)?;
    let found = state
        .db
        .find_proof_for(vendor.organisation, proof_id)
        .await?;
    if found.candidature != candidature {
        return Err(AppError::NotFound);
    }
    crate::routes::instruction::attachment(
        &state,
        &found.blob_key,
        &found.content_type,
        &found.file_name,
    )
    .await
}
