//! The instructors' side: the queue, a candidature's instruction page (its frozen plan with the
//! masks and their sources, each current file with its verdict form, the complement requests,
//! the history), and the decision.
//!
//! Every act calls one `preuves_db` function, which checks the status and who holds the
//! candidature in the same transaction as the change: a verdict on another instructor's
//! candidature, a decision before every expected proof is judged compliant, or a second
//! decision is refused with its message and changes nothing.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::{
    Actor, CandidatureId, CandidatureStatus, GapKind, HistoryEntry, ProofId, QueueFilters,
    StoredCandidature, StoredProof, Verdict, current_proofs, instruction_gaps,
};
use preuves_domain::{IsoDate, ParisTime, RequirementId};
use serde::Deserialize;

use crate::AppState;
use crate::app::warnings::cited_warnings;
use crate::attachment::attachment;
use crate::error::AppError;
use crate::format::{french_datetime, human_size, key_label, plural};
use crate::forms::FieldErrors;
use crate::journey;
use crate::layout::{Chrome, encode_query, render, render_with};
use crate::paths::candidature_id;
use crate::plan_view::{self, PlanFilters, PlanInput, PlanView};
use crate::security::{CsrfForm, InstructorCap, RequestContext, redirect_with_flash};
use crate::views::facts::CandidatureFacts;
use crate::views::requests::RequestView;

/// Longest comment, message or reason accepted.
const MAX_TEXT: usize = 4000;

// ---- the queue ------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub(crate) struct QueueQuery {
    #[serde(default)]
    dispositif: String,
    #[serde(default)]
    statut: String,
    #[serde(default)]
    editeur: String,
    #[serde(default)]
    date2_passee: String,
    #[serde(default)]
    les_miennes: String,
}

struct QueueRow {
    id: i64,
    vendor: String,
    target: String,
    solution: String,
    status_code: &'static str,
    status_label: &'static str,
    submitted: String,
    complete: String,
    date2: String,
    date2_passed: bool,
    holder: String,
    awaiting: u64,
}

struct Choice {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "instruction_queue.html")]
struct QueuePage {
    chrome: Chrome,
    rows: Vec<QueueRow>,
    dispositifs: Vec<Choice>,
    vendors: Vec<Choice>,
    statuses: Vec<Choice>,
    q: QueueQuery,
}

fn today() -> IsoDate {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    ParisTime::from_unix_millis(now).date
}

fn parse_key(raw: &str) -> Option<preuves_domain::DispositifKey> {
    let (code, wave) = raw.trim().rsplit_once('-')?;
    Some(preuves_domain::DispositifKey {
        code: preuves_domain::DispositifCode::parse(code).ok()?,
        wave: preuves_domain::Wave::from_number(wave.parse().ok()?)?,
    })
}

/// `GET /instruction`: submitted candidatures, complete dossiers first, then by submission date.
pub(crate) async fn queue(
    State(state): State<AppState>,
    ctx: RequestContext,
    InstructorCap(user): InstructorCap,
    Query(q): Query<QueueQuery>,
) -> Result<Response, AppError> {
    let today = today();
    let filters = QueueFilters {
        dispositif: parse_key(&q.dispositif),
        status: CandidatureStatus::from_code(q.statut.trim()).filter(|s| s.is_under_review()),
        organisation: q
            .editeur
            .trim()
            .parse()
            .ok()
            .map(preuves_db::OrganisationId),
        date2_before: (!q.date2_passee.is_empty()).then_some(today),
        assigned_to: (!q.les_miennes.is_empty()).then_some(user.id),
    };
    let entries = state.db.list_instruction_queue(&filters).await?;
    let all = state
        .db
        .list_instruction_queue(&QueueFilters::default())
        .await?;
    let mut dispositifs: Vec<Choice> = Vec::new();
    let mut vendors: Vec<Choice> = Vec::new();
    for e in &all {
        let value = format!("{}-{}", e.target.code, e.target.wave.number());
        if !dispositifs.iter().any(|d| d.value == value) {
            dispositifs.push(Choice {
                value,
                label: key_label(&e.target),
            });
        }
        let value = e.organisation.0.to_string();
        if !vendors.iter().any(|v| v.value == value) {
            vendors.push(Choice {
                value,
                label: e.vendor_name.clone(),
            });
        }
    }
    let rows = entries
        .iter()
        .map(|e| QueueRow {
            id: e.candidature.0,
            vendor: e.vendor_name.clone(),
            target: key_label(&e.target),
            solution: format!("{} {}", e.solution_name, e.version),
            status_code: e.status.code(),
            status_label: e.status.label(),
            submitted: e.submitted_at.map(french_datetime).unwrap_or_default(),
            complete: e.complete_at.map_or_else(
                || "incomplet".to_owned(),
                |t| format!("complet le {}", french_datetime(t)),
            ),
            date2: e
                .date2
                .map_or_else(|| "non fixée".to_owned(), |d| d.to_french()),
            date2_passed: e.date2.is_some_and(|d| d < today),
            holder: e
                .assigned_name
                .clone()
                .unwrap_or_else(|| "personne".to_owned()),
            awaiting: e.proofs_awaiting_verdict,
        })
        .collect();
    render(&QueuePage {
        chrome: Chrome::new(&ctx, "File d'instruction", "instruction"),
        rows,
        dispositifs,
        vendors,
        statuses: [
            CandidatureStatus::Submitted,
            CandidatureStatus::InInstruction,
            CandidatureStatus::ComplementRequested,
        ]
        .iter()
        .map(|s| Choice {
            value: s.code().to_owned(),
            label: s.label().to_owned(),
        })
        .collect(),
        q,
    })
}

// ---- one candidature ------------------------------------------------------------------------

/// A current file and its verdict form.
struct FileToJudge {
    id: i64,
    requirement: String,
    anchor: String,
    label: String,
    name: String,
    href: String,
    size: String,
    sha256: String,
    uploaded: String,
    verdict: Option<&'static str>,
    verdict_code: &'static str,
    comment: String,
    judged: String,
}

struct GapView {
    requirement: String,
    what: String,
}

struct HistoryView {
    at: String,
    who: String,
    action: String,
}

fn action_label(action: &str) -> String {
    match action {
        "candidature.create" => "candidature ouverte".to_owned(),
        "candidature.update_step" => "étape administrative modifiée".to_owned(),
        "candidature.submit" => "candidature déposée".to_owned(),
        "candidature.status" => "statut changé".to_owned(),
        "candidature.assign" => "candidature attribuée".to_owned(),
        "candidature.late_nrus" => "NRU obtenu depuis le dépôt (R5)".to_owned(),
        "proof.deposit" => "preuve déposée".to_owned(),
        "proof.verdict" => "verdict sur une preuve".to_owned(),
        "candidature.complements_requested" => "compléments demandés".to_owned(),
        "candidature.complements_answered" => "compléments apportés".to_owned(),
        "candidature.refuse" => "candidature refusée".to_owned(),
        "candidature.grant" => "référencement accordé".to_owned(),
        other => other.to_owned(),
    }
}

#[derive(Template)]
#[template(path = "instruction_candidature.html")]
struct InstructionPage {
    chrome: Chrome,
    c: CandidatureFacts,
    vendor: String,
    holder: String,
    held_by_me: bool,
    in_instruction: bool,
    can_take: bool,
    decided: bool,
    files: Vec<FileToJudge>,
    gaps: Vec<GapView>,
    requests: Vec<RequestView>,
    history: Vec<HistoryView>,
    warnings: Vec<String>,
    plan: PlanView,
    deposit: Option<plan_view::DepositForms>,
    to_deposit: Vec<String>,
    nru: Option<String>,
    verdicts: Vec<(&'static str, &'static str)>,
    /// Active instructors the candidature may be handed to: id and name.
    instructors: Vec<(i64, String)>,
    errors: FieldErrors,
}

async fn instruction_page(
    state: &AppState,
    ctx: &RequestContext,
    user: &preuves_db::User,
    c: &StoredCandidature,
    filters: PlanFilters,
    errors: FieldErrors,
) -> Result<InstructionPage, AppError> {
    let live = journey::candidature_plan(&state.db, &state.catalogues, c).await?;
    let proofs: Vec<StoredProof> = state.db.list_proofs(c.id).await?;
    let prefix = format!("/instruction/{}/preuves", c.id);
    let plan = plan_view::build(PlanInput {
        catalogue: &live.catalogue,
        target: &c.target,
        rem_version: Some(c.rem_version),
        outcome: &live.outcome,
        warnings: &live.warnings,
        frozen: c.plan.is_some(),
        proofs: Some((&proofs, prefix.clone())),
        filters,
    });
    let current = current_proofs(&proofs);
    let mut files: Vec<FileToJudge> = current
        .iter()
        .map(|p| {
            let verdict = Verdict::of(p);
            FileToJudge {
                id: p.id.0,
                requirement: p.requirement.to_string(),
                anchor: plan_view::anchor_of(p.requirement.as_str()),
                label: match (&p.scenario_ref, &p.proof_ref) {
                    (_, Some(r)) => format!("preuve {r}"),
                    _ => format!(
                        "scénario {}, preuve {}",
                        p.scenario_index + 1,
                        p.proof_index + 1
                    ),
                },
                name: p.file_name.clone(),
                href: format!("{prefix}/{}", p.id),
                size: human_size(p.size),
                sha256: p.sha256.clone(),
                uploaded: french_datetime(p.uploaded_at),
                verdict: verdict.map(Verdict::label),
                verdict_code: verdict.map_or("", Verdict::code),
                comment: p.verdict_comment.clone().unwrap_or_default(),
                judged: p.judged_at.map(french_datetime).unwrap_or_default(),
            }
        })
        .collect();
    files.sort_by(|a, b| {
        a.requirement
            .cmp(&b.requirement)
            .then(a.label.cmp(&b.label))
    });
    let gaps = c
        .plan
        .as_ref()
        .map(|p| instruction_gaps(p, &proofs))
        .unwrap_or_default()
        .into_iter()
        .map(|g| GapView {
            what: match g.kind {
                GapKind::Missing => "aucun fichier déposé",
                GapKind::AwaitingVerdict => "fichier en attente de verdict",
                GapKind::NotCompliant => "fichier jugé non conforme",
                GapKind::ComplementRequested => "complément demandé",
            }
            .to_owned()
                + &format!(
                    " (scénario {}, preuve {})",
                    g.scenario_index + 1,
                    g.proof_index + 1
                ),
            requirement: g.requirement,
        })
        .collect();
    let requests = state.db.list_complement_requests(c.id).await?;
    let history = state
        .db
        .audit_history("candidature", &c.id.to_string())
        .await?
        .iter()
        .map(|h: &HistoryEntry| HistoryView {
            at: french_datetime(h.at),
            who: h.actor_name.clone().unwrap_or_else(|| h.actor.clone()),
            action: action_label(&h.action),
        })
        .collect();
    let vendor = state
        .db
        .find_organisation(c.organisation)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let holder_name = match c.assigned_to {
        Some(id) if id == user.id => Some("vous".to_owned()),
        Some(id) => state.db.find_user(id).await?.map(|u| u.display_name),
        None => None,
    };
    let grant = state.db.find_grant_of_candidature(c.id).await?;
    let to_deposit = c
        .plan
        .as_ref()
        .map(|p| {
            p.entries
                .iter()
                .filter(|e| e.is_to_deposit())
                .map(|e| e.requirement.clone())
                .collect()
        })
        .unwrap_or_default();
    Ok(InstructionPage {
        chrome: Chrome::new(
            ctx,
            format!("Instruction de la candidature n°\u{a0}{}", c.id),
            "instruction",
        ),
        c: CandidatureFacts::of(c, None),
        vendor,
        holder: holder_name.unwrap_or_else(|| "personne".to_owned()),
        held_by_me: c.assigned_to == Some(user.id),
        in_instruction: c.status == CandidatureStatus::InInstruction,
        can_take: c.status == CandidatureStatus::Submitted,
        decided: matches!(
            c.status,
            CandidatureStatus::Referenced | CandidatureStatus::Refused
        ),
        files,
        gaps,
        requests: requests.iter().map(RequestView::of).collect(),
        history,
        warnings: cited_warnings(state, c).await?,
        plan,
        deposit: None,
        to_deposit,
        nru: grant.map(|g| g.nru.to_string()),
        verdicts: Verdict::ALL.iter().map(|v| (v.code(), v.label())).collect(),
        instructors: state
            .db
            .list_users(None)
            .await?
            .into_iter()
            .filter(|u| u.role == preuves_db::Role::Instructor && u.disabled_at.is_none())
            .map(|u| (u.id.0, u.display_name))
            .collect(),
        errors,
    })
}

async fn load(state: &AppState, raw: &str) -> Result<StoredCandidature, AppError> {
    let c = state
        .db
        .find_candidature(candidature_id(raw)?)
        .await?
        .ok_or(AppError::NotFound)?;
    // Drafts are the vendor's business: nothing is filed yet.
    if c.status == CandidatureStatus::Draft {
        return Err(AppError::NotFound);
    }
    Ok(c)
}

/// `GET /instruction/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    InstructorCap(user): InstructorCap,
    Path(id): Path<String>,
    Query(filters): Query<PlanFilters>,
) -> Result<Response, AppError> {
    let c = load(&state, &id).await?;
    render(&instruction_page(&state, &ctx, &user, &c, filters, FieldErrors::new()).await?)
}

fn back(c: CandidatureId, anchor: &str) -> String {
    format!("/instruction/{c}{anchor}")
}

/// `POST /instruction/{id}/prendre`: takes a submitted candidature into instruction (it is then
/// held by the acting instructor), or takes over one held by someone else.
pub(crate) async fn take(
    State(state): State<AppState>,
    InstructorCap(user): InstructorCap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let c = load(&state, &id).await?;
    let actor = Actor::User(user.id);
    let message = if c.status == CandidatureStatus::Submitted {
        state
            .db
            .set_candidature_status(c.id, CandidatureStatus::InInstruction, None, &actor)
            .await?;
        "La candidature est en instruction et vous est attribuée."
    } else {
        state.db.assign_candidature(c.id, user.id, &actor).await?;
        "La candidature vous est désormais attribuée."
    };
    Ok(redirect_with_flash(
        &back(c.id, ""),
        message,
        state.config.secure_cookies,
    ))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AssignForm {
    #[serde(default)]
    instructeur: String,
}

/// `POST /instruction/{id}/attribuer`: hands the candidature to another instructor.
pub(crate) async fn assign(
    State(state): State<AppState>,
    InstructorCap(user): InstructorCap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> Result<Response, AppError> {
    let c = load(&state, &id).await?;
    let to = form
        .instructeur
        .trim()
        .parse::<i64>()
        .map(preuves_db::UserId)
        .map_err(|_| AppError::BadRequest("Choisissez un instructeur.".to_owned()))?;
    let target = state
        .db
        .find_user(to)
        .await?
        .ok_or_else(|| AppError::BadRequest("Cet instructeur n'existe pas.".to_owned()))?;
    state
        .db
        .assign_candidature(c.id, to, &Actor::User(user.id))
        .await?;
    Ok(redirect_with_flash(
        &back(c.id, ""),
        &format!(
            "La candidature est désormais attribuée à {}.",
            target.display_name
        ),
        state.config.secure_cookies,
    ))
}

/// An empty form (only the CSRF token).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Empty {}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct VerdictForm {
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    commentaire: String,
}

/// `POST /instruction/{id}/preuves/{proof}/verdict`.
pub(crate) async fn verdict(
    State(state): State<AppState>,
    ctx: RequestContext,
    InstructorCap(user): InstructorCap,
    Path((id, proof)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<VerdictForm>,
) -> Result<Response, AppError> {
    let c = load(&state, &id).await?;
    let proof_id = proof.parse().map(ProofId).map_err(|_| AppError::NotFound)?;
    let found = state
        .db
        .find_proof(proof_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if found.candidature != c.id {
        return Err(AppError::NotFound);
    }
    let mut errors = FieldErrors::new();
    let verdict = Verdict::from_code(form.verdict.trim());
    if verdict.is_none() {
        errors.add("verdict", "Choisissez un verdict.");
    }
    let comment = form.commentaire.trim();
    if comment.chars().count() > MAX_TEXT {
        errors.add(
            "commentaire",
            format!("Le commentaire compte au plus {MAX_TEXT} caractères."),
        );
    }
    if verdict.is_some_and(|v| v != Verdict::Compliant) && comment.is_empty() {
        errors.add(
            "commentaire",
            "Expliquez ce qui manque ou ne va pas\u{a0}: le commentaire est obligatoire sauf pour un verdict conforme.",
        );
    }
    let Some(verdict) = verdict.filter(|_| errors.is_empty()) else {
        let page =
            instruction_page(&state, &ctx, &user, &c, PlanFilters::default(), errors).await?;
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    state
        .db
        .record_verdict(
            proof_id,
            verdict,
            (!comment.is_empty()).then_some(comment),
            &Actor::User(user.id),
        )
        .await?;
    Ok(redirect_with_flash(
        &back(c.id, &format!("#fichier-{}", proof_id)),
        &format!(
            "Verdict «\u{a0}{}\u{a0}» enregistré pour {} ({}).",
            verdict.label(),
            found.file_name,
            found.requirement
        ),
        state.config.secure_cookies,
    ))
}

/// `POST /instruction/{id}/complements`: asks the vendor for complements on some requirements.
pub(crate) async fn request_complements(
    State(state): State<AppState>,
    ctx: RequestContext,
    InstructorCap(user): InstructorCap,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let c = load(&state, &id).await?;
    let mut message = String::new();
    let mut chosen: Vec<String> = Vec::new();
    let mut comments: Vec<(String, String)> = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "message" => message = v.trim().to_owned(),
            "exigence" => chosen.push(v),
            _ => {
                if let Some(req) = k.strip_prefix("commentaire:") {
                    comments.push((req.to_owned(), v.trim().to_owned()));
                }
            }
        }
    }
    let mut errors = FieldErrors::new();
    if message.is_empty() {
        errors.add("message", "Écrivez le message adressé à l'éditeur.");
    } else if message.chars().count() > MAX_TEXT {
        errors.add(
            "message",
            format!("Le message compte au plus {MAX_TEXT} caractères."),
        );
    }
    if chosen.is_empty() {
        errors.add("exigence", "Cochez au moins une exigence concernée.");
    }
    let mut items: Vec<(RequirementId, String)> = Vec::new();
    for raw in &chosen {
        match RequirementId::parse(raw) {
            Ok(r) => {
                let comment = comments
                    .iter()
                    .find(|(k, _)| k == raw)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                items.push((r, comment));
            }
            Err(_) => errors.add("exigence", format!("Exigence inconnue\u{a0}: {raw}.")),
        }
    }
    if !errors.is_empty() {
        let page =
            instruction_page(&state, &ctx, &user, &c, PlanFilters::default(), errors).await?;
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    state
        .db
        .request_complements(c.id, &items, &message, &Actor::User(user.id))
        .await?;
    Ok(redirect_with_flash(
        &back(c.id, "#complements"),
        &format!(
            "Demande de complément envoyée à l'éditeur ({}).",
            plural(items.len() as u64, "exigence", "exigences")
        ),
        state.config.secure_cookies,
    ))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RefuseForm {
    #[serde(default)]
    motif: String,
}

/// `POST /instruction/{id}/refuser`: refuses the candidature, with a reason.
pub(crate) async fn refuse(
    State(state): State<AppState>,
    ctx: RequestContext,
    InstructorCap(user): InstructorCap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RefuseForm>,
) -> Result<Response, AppError> {
    let c = load(&state, &id).await?;
    let reason = form.motif.trim();
    if reason.is_empty() || reason.chars().count() > MAX_TEXT {
        let mut errors = FieldErrors::new();
        errors.add("motif", "Motivez le refus (4 000 caractères au plus).");
        let page =
            instruction_page(&state, &ctx, &user, &c, PlanFilters::default(), errors).await?;
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    state
        .db
        .refuse_candidature(c.id, reason, &Actor::User(user.id))
        .await?;
    Ok(redirect_with_flash(
        &back(c.id, ""),
        "La candidature a été refusée. L'éditeur voit le motif sur sa candidature.",
        state.config.secure_cookies,
    ))
}

/// `POST /instruction/{id}/referencer`: grants the referencing: NRU, register entry and
/// attestation, all or nothing.
pub(crate) async fn grant(
    State(state): State<AppState>,
    InstructorCap(user): InstructorCap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let c = load(&state, &id).await?;
    let record = crate::decision::grant(&state, &user, c.id).await?;
    Ok(redirect_with_flash(
        &format!("/referencements/{}", encode_query(record.nru.as_str())),
        &format!(
            "Référencement accordé\u{a0}: NRU {}. L'attestation de référencement a été produite.",
            record.nru
        ),
        state.config.secure_cookies,
    ))
}

/// `GET /instruction/{id}/preuves/{proof}`: a deposited file, as a download only.
pub(crate) async fn download(
    State(state): State<AppState>,
    InstructorCap(_): InstructorCap,
    Path((id, proof)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let c = load(&state, &id).await?;
    let proof_id = proof.parse().map(ProofId).map_err(|_| AppError::NotFound)?;
    let found = state
        .db
        .find_proof(proof_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if found.candidature != c.id {
        return Err(AppError::NotFound);
    }
    attachment(
        &state,
        &found.blob_key,
        &found.content_type,
        &found.file_name,
    )
    .await
}
