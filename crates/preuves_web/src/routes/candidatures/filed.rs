//! A candidature after its administrative step, as pages: its submission, R5's NRU obtained
//! since submission, and the vendor's answer to a complement request. The rules (what blocks a
//! submission, R5's conditions, the answer's limit) are [`crate::app::candidatures::filed`]'s.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::step::{draft_page, items};
use crate::AppState;
use crate::app::candidatures::filed::{self, LateNrusInput, SubmitInput, is_incomplete_dossier};
use crate::app::candidatures::{self as service};
use crate::app::fields::{field_errors, to_form};
use crate::error::AppError;
use crate::format::plural;
use crate::forms::FieldErrors;
use crate::layout::{Chrome, render, render_with};
use crate::plan_view::PlanFilters;
use crate::security::{CsrfForm, RequestContext, VendorCap, redirect_with_flash};
use crate::views::facts::{CandidatureFacts, date2_of};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SubmitForm {
    #[serde(default)]
    revision: String,
    #[serde(default)]
    confirmer_incomplet: String,
}

/// The revision a form was read at (a form without it was not sent by its page).
fn revision_of(raw: &str) -> Result<i64, AppError> {
    raw.trim()
        .parse()
        .map_err(|_| AppError::BadRequest("Le formulaire est incomplet (révision).".to_owned()))
}

/// `POST /candidatures/{id}/deposer`: files the candidature (complete, or incomplete with the
/// explicit confirmation); the plan, the step and the REM version are frozen. What blocks it
/// (the engine's refusals, R6's sworn statement) is shown beside its field on the draft's page
/// (422).
pub(crate) async fn submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SubmitForm>,
) -> Result<Response, AppError> {
    let c = service::own(&state, &vendor, &id).await?;
    let input = SubmitInput {
        revision: revision_of(&form.revision)?,
        confirm_incomplete: !form.confirmer_incomplet.trim().is_empty(),
    };
    match filed::submit(&state, &vendor, &c, input).await {
        Ok(c) => {
            let message = if c.complete_at.is_some() {
                format!(
                    "La candidature n°\u{a0}{} a été déposée avec un dossier complet. Son plan et son étape administrative sont désormais figés.",
                    c.id
                )
            } else {
                format!(
                    "La candidature n°\u{a0}{} a été déposée avec un dossier incomplet, comme vous l'avez confirmé. Déposez les preuves manquantes au plus tôt.",
                    c.id
                )
            };
            Ok(redirect_with_flash(
                &format!("/candidatures/{}", c.id),
                &message,
                state.config.secure_cookies,
            ))
        }
        Err(e) if is_incomplete_dossier(&e) => Ok(redirect_with_flash(
            &format!("/candidatures/{}/preuves#depot", c.id),
            "Le dossier est incomplet et n'a pas été déposé\u{a0}: déposez les preuves manquantes, ou cochez la case de confirmation pour le déposer incomplet.",
            state.config.secure_cookies,
        )),
        Err(e) => {
            let errors = field_errors(e)?;
            let live = service::plan(&state, &c).await?;
            let page = draft_page(
                &state,
                &ctx,
                &vendor,
                &c,
                &live,
                &errors,
                PlanFilters::default(),
            )
            .await?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

// ---- R5: an NRU obtained since submission ---------------------------------------------------

#[derive(Template)]
#[template(path = "candidature_late_nru.html")]
struct LateNruPage {
    chrome: Chrome,
    c: CandidatureFacts,
    nrus: String,
    revision: i64,
    errors: FieldErrors,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct LateNruForm {
    #[serde(default)]
    nrus: String,
    #[serde(default)]
    revision: String,
}

/// `GET /candidatures/{id}/nru-obtenu`: reopens the NRU field only (R5).
pub(crate) async fn late_nru_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let c = service::own_for_late_nrus(&state, &vendor, &id).await?;
    render(&LateNruPage {
        chrome: Chrome::new(&ctx, "Saisir un NRU obtenu depuis le dépôt", "candidatures"),
        revision: c.revision,
        c: CandidatureFacts::of(&c, date2_of(&state, &c.target).await?),
        nrus: String::new(),
        errors: FieldErrors::new(),
    })
}

/// `POST /candidatures/{id}/nru-obtenu`: records NRUs obtained since submission when R5 allows
/// it, recomputes the plan and marks the proofs of newly masked requirements no longer needed.
pub(crate) async fn late_nru(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<LateNruForm>,
) -> Result<Response, AppError> {
    let c = service::own(&state, &vendor, &id).await?;
    let input = LateNrusInput {
        revision: revision_of(&form.revision)?,
        nrus: items(&form.nrus),
    };
    let done = match filed::late_nrus(&state, &vendor, &c, &input).await {
        Ok(done) => done,
        Err(e) => {
            // Every refusal concerns the one field of the form.
            let errors = to_form(&field_errors(e)?, |_| "nrus", "nrus");
            let page = LateNruPage {
                chrome: Chrome::new(
                    &ctx,
                    "Erreur\u{a0}: Saisir un NRU obtenu depuis le dépôt",
                    "candidatures",
                ),
                revision: c.revision,
                c: CandidatureFacts::of(&c, date2_of(&state, &c.target).await?),
                nrus: form.nrus,
                errors,
            };
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let (masked, kept) = (done.newly_masked.len(), done.proofs_no_longer_needed);
    Ok(redirect_with_flash(
        &format!("/candidatures/{}", done.candidature.id),
        &format!(
            "NRU enregistré et plan recalculé\u{a0}: {} désormais {} par équivalence, {} «\u{a0}plus nécessaire{}\u{a0}» (conservée{}, sans verdict).",
            plural(masked as u64, "exigence", "exigences"),
            if masked > 1 { "masquées" } else { "masquée" },
            plural(kept, "preuve déposée marquée", "preuves déposées marquées"),
            if kept > 1 { "s" } else { "" },
            if kept > 1 { "s" } else { "" },
        ),
        state.config.secure_cookies,
    ))
}

// ---- complements ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AnswerForm {
    #[serde(default)]
    message: String,
}

/// `POST /candidatures/{id}/complements`: the vendor answers the open complement request (after
/// depositing the new files); the candidature goes back to its instructor. An empty or too
/// long answer is refused (422) with its explanation, nothing sent.
pub(crate) async fn answer_complements(
    State(state): State<AppState>,
    vendor: VendorCap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> Result<Response, AppError> {
    let c = service::own(&state, &vendor, &id).await?;
    filed::answer_complements(&state, &vendor, &c, &form.message).await?;
    Ok(redirect_with_flash(
        &format!("/candidatures/{}", c.id),
        "Réponse envoyée\u{a0}: la candidature retourne en instruction.",
        state.config.secure_cookies,
    ))
}
