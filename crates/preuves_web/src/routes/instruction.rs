//! The instructors' side: the queue, a candidature's instruction page (its frozen plan with the
//! masks and their sources, each current file with its verdict form, the complement requests,
//! the history), and the decision.
//!
//! Each handler only translates: the form into an input of [`crate::app::instruction`], which
//! validates it and carries out the act (one `preuves_db` call checking the status and who holds
//! the candidature in the same transaction as the change), and the result into a redirection
//! with a message, or the page again with each field error beside its field (422). A verdict on
//! another instructor's candidature, a decision before every expected proof is judged
//! compliant, or a second decision is refused with its message and changes nothing.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::{CandidatureId, CandidatureStatus, Verdict};
use serde::Deserialize;

use crate::AppState;
use crate::app::instruction::{
    self as app, AssignInput, ComplementInput, ComplementItemInput, QueueInput, RefusalInput,
    VerdictInput,
};
use crate::error::AppError;
use crate::format::plural;
use crate::forms::FieldErrors;
use crate::layout::{Chrome, encode_query, render, render_with};
use crate::paths::{candidature_id, proof_id};
use crate::plan_view::{self, PlanFilters, PlanInput, PlanView};
use crate::security::{CsrfForm, InstructorCap, RequestContext, redirect_with_flash};
use crate::views::facts::CandidatureFacts;
use crate::views::instruction::{
    self as views, Choice, FileToJudge, GapView, HistoryView, QueueRow,
};
use crate::views::requests::RequestView;

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

impl QueueQuery {
    /// The filters as the application reads them. The form names a dispositif `CODE-wave`; a
    /// filter that is not understood (only a hand-made address has one) is left out.
    fn input(&self) -> QueueInput {
        let dispositif = self.dispositif.trim();
        let (code, wave) = match dispositif.rsplit_once('-') {
            // A wave that does not read is no wave at all (0), refused like any bad filter.
            Some((code, wave)) => (code, Some(wave.parse().unwrap_or(0))),
            None => (dispositif, Some(0)),
        };
        QueueInput {
            dispositif: (!code.is_empty()).then(|| code.to_owned()),
            wave,
            status: Some(self.statut.clone()),
            organisation: self.editeur.trim().parse().ok(),
            date2_passed: !self.date2_passee.is_empty(),
            mine: !self.les_miennes.is_empty(),
        }
    }
}

/// `GET /instruction`: submitted candidatures, complete dossiers first, then by submission date.
pub(crate) async fn queue(
    State(state): State<AppState>,
    ctx: RequestContext,
    user: InstructorCap,
    Query(q): Query<QueueQuery>,
) -> Result<Response, AppError> {
    let today = app::today();
    // The form offers only valid choices: a filter it does not understand comes from a
    // hand-made address, and the queue is shown without it rather than an error page.
    let (choice, _left_out) = q.input().read();
    let entries = app::queue(&state, &user, &choice).await?;
    let all = app::queue(&state, &user, &Default::default()).await?;
    let (dispositifs, vendors) = views::queue_choices(&all);
    let rows = entries.iter().map(|e| QueueRow::of(e, today)).collect();
    render(&QueuePage {
        chrome: Chrome::new(&ctx, "File d'instruction", "instruction"),
        rows,
        dispositifs,
        vendors,
        statuses: views::status_choices(),
        q,
    })
}

// ---- one candidature ------------------------------------------------------------------------

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

/// The instruction page of filed candidature `id`, as `cap` sees it.
async fn instruction_page(
    state: &AppState,
    ctx: &RequestContext,
    cap: &InstructorCap,
    id: CandidatureId,
    filters: PlanFilters,
    errors: FieldErrors,
) -> Result<InstructionPage, AppError> {
    let app::Dossier {
        candidature,
        vendor,
        plan: live,
        proofs,
        requests,
        warnings,
    } = app::dossier(state, cap, id).await?;
    let (c, user) = (&candidature, &cap.0);
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
    let files = views::files_to_judge(&proofs, &prefix);
    let gaps = views::gaps(c, &proofs);
    let history = views::history(
        &state
            .db
            .audit_history("candidature", &c.id.to_string())
            .await?,
    );
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
        decided: c.status.is_decided(),
        files,
        gaps,
        requests: requests.iter().map(RequestView::of).collect(),
        history,
        warnings,
        plan,
        deposit: None,
        to_deposit,
        nru: grant.map(|g| g.nru.to_string()),
        verdicts: Verdict::ALL.iter().map(|v| (v.code(), v.label())).collect(),
        instructors: app::instructors(state)
            .await?
            .into_iter()
            .map(|u| (u.id.0, u.display_name))
            .collect(),
        errors,
    })
}

/// The instruction page of candidature `id` again, with the field errors of a refused form
/// under its input names (`names`: the application's field, the form's input), 422; any other
/// error goes on.
async fn refused_form(
    state: &AppState,
    ctx: &RequestContext,
    cap: &InstructorCap,
    id: CandidatureId,
    error: AppError,
    names: &[(&str, &'static str)],
) -> Result<Response, AppError> {
    let AppError::Rejected { status, errors } = error else {
        return Err(error);
    };
    if status != StatusCode::UNPROCESSABLE_ENTITY {
        return Err(AppError::Rejected { status, errors });
    }
    let errors = FieldErrors::from_items(&errors, names);
    let page = instruction_page(state, ctx, cap, id, PlanFilters::default(), errors).await?;
    render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// `GET /instruction/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    cap: InstructorCap,
    Path(id): Path<String>,
    Query(filters): Query<PlanFilters>,
) -> Result<Response, AppError> {
    let id = candidature_id(&id)?;
    render(&instruction_page(&state, &ctx, &cap, id, filters, FieldErrors::new()).await?)
}

fn back(c: CandidatureId, anchor: &str) -> String {
    format!("/instruction/{c}{anchor}")
}

/// `POST /instruction/{id}/prendre`: takes a submitted candidature into instruction (it is then
/// held by the acting instructor), or takes over one held by someone else.
pub(crate) async fn take(
    State(state): State<AppState>,
    cap: InstructorCap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let taken = app::take(&state, &cap, candidature_id(&id)?).await?;
    let message = if taken.started {
        "La candidature est en instruction et vous est attribuée."
    } else {
        "La candidature vous est désormais attribuée."
    };
    Ok(redirect_with_flash(
        &back(taken.candidature.id, ""),
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
    ctx: RequestContext,
    cap: InstructorCap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> Result<Response, AppError> {
    let id = candidature_id(&id)?;
    let input = AssignInput {
        instructor: form.instructeur.trim().parse().ok(),
    };
    match app::assign(&state, &cap, id, &input).await {
        Ok(assigned) => Ok(redirect_with_flash(
            &back(id, ""),
            &format!(
                "La candidature est désormais attribuée à {}.",
                assigned.instructor.display_name
            ),
            state.config.secure_cookies,
        )),
        Err(e) => refused_form(&state, &ctx, &cap, id, e, &[("instructor", "instructeur")]).await,
    }
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
    cap: InstructorCap,
    Path((id, proof)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<VerdictForm>,
) -> Result<Response, AppError> {
    let id = candidature_id(&id)?;
    let input = VerdictInput {
        verdict: form.verdict,
        comment: form.commentaire,
    };
    let judged = match app::verdict(&state, &cap, id, proof_id(&proof)?, &input).await {
        Ok(judged) => judged,
        Err(e) => {
            let names = [("verdict", "verdict"), ("comment", "commentaire")];
            return refused_form(&state, &ctx, &cap, id, e, &names).await;
        }
    };
    Ok(redirect_with_flash(
        &back(id, &format!("#fichier-{}", judged.id)),
        &format!(
            "Verdict «\u{a0}{}\u{a0}» enregistré pour {} ({}).",
            Verdict::of(&judged).map_or("", Verdict::label),
            judged.file_name,
            judged.requirement
        ),
        state.config.secure_cookies,
    ))
}

/// The complement request form's fields: the message, the requirements ticked (`exigence`), and
/// a comment per requirement (`commentaire:{requirement}`), in the application's terms.
fn complement_input(pairs: Vec<(String, String)>) -> ComplementInput {
    let mut message = String::new();
    let mut chosen: Vec<String> = Vec::new();
    let mut comments: Vec<(String, String)> = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "message" => message = v,
            "exigence" => chosen.push(v),
            _ => {
                if let Some(req) = k.strip_prefix("commentaire:") {
                    comments.push((req.to_owned(), v));
                }
            }
        }
    }
    let items = chosen
        .into_iter()
        .map(|requirement| ComplementItemInput {
            comment: comments
                .iter()
                .find(|(k, _)| *k == requirement)
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            requirement,
        })
        .collect();
    ComplementInput { message, items }
}

/// `POST /instruction/{id}/complements`: asks the vendor for complements on some requirements.
pub(crate) async fn request_complements(
    State(state): State<AppState>,
    ctx: RequestContext,
    cap: InstructorCap,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let id = candidature_id(&id)?;
    let input = complement_input(pairs);
    let request = match app::request_complements(&state, &cap, id, &input).await {
        Ok(request) => request,
        Err(e) => {
            let names = [("message", "message"), ("items", "exigence")];
            return refused_form(&state, &ctx, &cap, id, e, &names).await;
        }
    };
    Ok(redirect_with_flash(
        &back(id, "#complements"),
        &format!(
            "Demande de complément envoyée à l'éditeur ({}).",
            plural(request.items.len() as u64, "exigence", "exigences")
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
    cap: InstructorCap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RefuseForm>,
) -> Result<Response, AppError> {
    let id = candidature_id(&id)?;
    let input = RefusalInput { reason: form.motif };
    if let Err(e) = app::refuse(&state, &cap, id, &input).await {
        return refused_form(&state, &ctx, &cap, id, e, &[("reason", "motif")]).await;
    }
    Ok(redirect_with_flash(
        &back(id, ""),
        "La candidature a été refusée. L'éditeur voit le motif sur sa candidature.",
        state.config.secure_cookies,
    ))
}

/// `POST /instruction/{id}/referencer`: grants the referencing: NRU, register entry and
/// attestation, all or nothing.
pub(crate) async fn grant(
    State(state): State<AppState>,
    cap: InstructorCap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let record = app::grant(&state, &cap, candidature_id(&id)?).await?;
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
    cap: InstructorCap,
    Path((id, proof)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (_, found) = app::proof(&state, &cap, candidature_id(&id)?, proof_id(&proof)?).await?;
    crate::attachment::proof(&state, &found).await
}
