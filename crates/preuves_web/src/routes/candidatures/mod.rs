//! The vendor's candidatures as pages: the dashboard, a stored candidature (a draft's
//! administrative step with its live plan, or a filed candidature with its frozen plan), its
//! proofs page; the step form is [`step`]'s, submission, R5's late NRUs and the answers to
//! complement requests [`filed`]'s. Every rule is the application layer's
//! ([`crate::app::candidatures`]); these handlers only read forms and render pages.

mod filed;
mod step;

pub(crate) use filed::{answer_complements, late_nru, late_nru_form, submit};
pub(crate) use step::{create, new_form, save};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use preuves_db::{CandidatureStatus, StoredCandidature, missing_proofs};

use crate::AppState;
use crate::app::candidatures::{self as service};
use crate::error::AppError;
use crate::format::{fr_number, french_datetime, key_label, plural};
use crate::layout::{Chrome, render};
use crate::plan_view::{DepositForms, PlanFilters, PlanView};
use crate::security::{RequestContext, VendorCap};
use crate::views::facts::{CandidatureFacts, date2_of};
use crate::views::requests::RequestView;
use step::{draft_page, plan_of};

// ---- a stored candidature -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "candidature_show.html")]
struct ShowPage {
    chrome: Chrome,
    c: CandidatureFacts,
    plan: PlanView,
    deposit: Option<DepositForms>,
    complete: bool,
    requests: Vec<RequestView>,
    open_request: bool,
    warnings: Vec<String>,
    nru: Option<String>,
}

/// `GET /candidatures/{id}`: a draft's administrative step with its live plan, or a filed
/// candidature with its frozen plan.
pub(crate) async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    Path(id): Path<String>,
    Query(filters): Query<PlanFilters>,
) -> Result<Response, AppError> {
    let c = service::own(&state, &vendor, &id).await?;
    let live = service::plan(&state, &c).await?;
    if c.status == CandidatureStatus::Draft {
        return render(&draft_page(&state, &ctx, &vendor, &c, &live, &[], filters).await?);
    }
    let proofs = state.db.list_proofs(c.id).await?;
    let prefix = format!("/candidatures/{}/preuves", c.id);
    let plan = plan_of(&live, &c.target, Some(&c), Some((&proofs, prefix)), filters);
    let complete = plan.computed && plan.missing == 0;
    let requests = state
        .db
        .list_complement_requests_for(vendor.organisation, c.id)
        .await?;
    render(&ShowPage {
        chrome: Chrome::new(
            &ctx,
            format!("Candidature n°\u{a0}{}", c.id),
            "candidatures",
        ),
        c: CandidatureFacts::of(&c, date2_of(&state, &c.target).await?),
        plan,
        deposit: None,
        complete,
        open_request: c.status == CandidatureStatus::ComplementRequested
            && requests.iter().any(|r| r.is_open()),
        requests: requests.iter().map(RequestView::of).collect(),
        warnings: service::warnings(&state, &c).await?,
        nru: state
            .db
            .find_grant_of_candidature(c.id)
            .await?
            .map(|g| g.nru.to_string()),
    })
}

// ---- deposit and submission -----------------------------------------------------------------

#[derive(Template)]
#[template(path = "candidature_proofs.html")]
struct ProofsPage {
    chrome: Chrome,
    c: CandidatureFacts,
    plan: PlanView,
    deposit: Option<DepositForms>,
    complete: bool,
    max_size: String,
    accepted: &'static str,
    missing_label: String,
}

/// `GET /candidatures/{id}/preuves`: the expected proofs, what is deposited, what is missing,
/// the upload forms and the submission.
pub(crate) async fn proofs_page(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    Path(id): Path<String>,
    Query(mut filters): Query<PlanFilters>,
) -> Result<Response, AppError> {
    let c = service::own(&state, &vendor, &id).await?;
    let live = service::plan(&state, &c).await?;
    let proofs = state.db.list_proofs(c.id).await?;
    if filters.statut.is_empty() {
        filters.statut = "a_deposer".to_owned();
    }
    let prefix = format!("/candidatures/{}/preuves", c.id);
    let plan = plan_of(&live, &c.target, Some(&c), Some((&proofs, prefix)), filters);
    let complete = plan.computed && plan.missing == 0;
    let facts = CandidatureFacts::of(&c, date2_of(&state, &c.target).await?);
    let max = state.config.max_proof_upload;
    let deposit = (facts.can_deposit && plan.computed).then(|| DepositForms {
        action: format!("/candidatures/{}/preuves", c.id),
        accept: crate::filetype::ACCEPT_ATTRIBUTE,
        max_bytes: max,
        max_size: crate::format::human_size(max),
    });
    render(&ProofsPage {
        chrome: Chrome::new(
            &ctx,
            format!("Preuves de la candidature n°\u{a0}{}", c.id),
            "candidatures",
        ),
        c: facts,
        missing_label: plural(
            plan.missing as u64,
            "preuve manquante",
            "preuves manquantes",
        ),
        plan,
        deposit,
        complete,
        max_size: crate::format::human_size(max),
        accepted: crate::filetype::ACCEPTED_LABEL,
    })
}
// ---- the dashboard --------------------------------------------------------------------------

struct DashboardRow {
    id: i64,
    target: String,
    solution: String,
    version: String,
    status_code: &'static str,
    status_label: &'static str,
    missing_label: String,
    next_step: String,
    next_href: String,
    date2: String,
    saved: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "candidatures.html")]
struct DashboardPage {
    chrome: Chrome,
    rows: Vec<DashboardRow>,
    saved_total: String,
    drafts: usize,
    under_review: usize,
    referenced: usize,
    has_solutions: bool,
}

/// What to do next on a candidature, and where.
fn next_step(c: &StoredCandidature, computed: bool, missing: usize) -> (String, String) {
    let page = format!("/candidatures/{}", c.id);
    let proofs = format!("/candidatures/{}/preuves", c.id);
    match c.status {
        CandidatureStatus::Draft if !computed => (
            "Corriger l'étape administrative (le plan ne peut pas être calculé)".to_owned(),
            page,
        ),
        CandidatureStatus::Draft if missing > 0 => (
            format!(
                "Déposer {}",
                plural(missing as u64, "preuve manquante", "preuves manquantes")
            ),
            proofs,
        ),
        CandidatureStatus::Draft => (
            "Déposer la candidature (dossier complet)".to_owned(),
            proofs,
        ),
        CandidatureStatus::Submitted if missing > 0 => (
            format!(
                "Compléter le dossier\u{a0}: {}",
                plural(missing as u64, "preuve manquante", "preuves manquantes")
            ),
            proofs,
        ),
        CandidatureStatus::Submitted => ("Attendre l'instruction".to_owned(), page),
        CandidatureStatus::InInstruction => ("Instruction en cours".to_owned(), page),
        CandidatureStatus::ComplementRequested => {
            ("Répondre à la demande de complément".to_owned(), proofs)
        }
        CandidatureStatus::Referenced => ("Référencée\u{a0}: rien à faire".to_owned(), page),
        CandidatureStatus::Refused => ("Refusée\u{a0}: voir le motif".to_owned(), page),
    }
}

/// `GET /candidatures`: the vendor's dashboard.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
) -> Result<Response, AppError> {
    let candidatures = service::list(&state, &vendor, None).await?;
    let dispositifs = state.db.list_dispositifs().await?;
    let has_solutions = !crate::app::solutions::list(&state, &vendor)
        .await?
        .is_empty();
    let mut rows = Vec::with_capacity(candidatures.len());
    let mut saved_total = 0u64;
    for c in &candidatures {
        let live = service::plan(&state, c).await?;
        let proofs = state.db.list_proofs(c.id).await?;
        let (computed, missing, saved) = match &live.outcome {
            Ok(plan) => (
                true,
                missing_proofs(plan, &proofs).len(),
                plan.summary.proofs_saved,
            ),
            Err(_) => (false, 0, 0),
        };
        saved_total += saved;
        let (next, href) = next_step(c, computed, missing);
        rows.push(DashboardRow {
            id: c.id.0,
            target: key_label(&c.target),
            solution: c.solution_name.clone(),
            version: c.step.version.to_string(),
            status_code: c.status.code(),
            status_label: c.status.label(),
            missing_label: if !computed {
                "—".to_owned()
            } else if missing == 0 {
                "aucune (dossier complet)".to_owned()
            } else {
                fr_number(missing as u64)
            },
            next_step: next,
            next_href: href,
            date2: dispositifs
                .iter()
                .find(|d| d.key == c.target)
                .and_then(|d| d.date2)
                .map_or_else(|| "non fixée".to_owned(), |d| d.to_french()),
            saved: fr_number(saved),
            updated: french_datetime(c.updated_at),
        });
    }
    render(&DashboardPage {
        chrome: Chrome::new(&ctx, "Vos candidatures", "candidatures"),
        drafts: candidatures
            .iter()
            .filter(|c| c.status == CandidatureStatus::Draft)
            .count(),
        under_review: candidatures
            .iter()
            .filter(|c| c.status.is_under_review())
            .count(),
        referenced: candidatures
            .iter()
            .filter(|c| c.status == CandidatureStatus::Referenced)
            .count(),
        saved_total: plural(saved_total, "preuve", "preuves"),
        rows,
        has_solutions,
    })
}
