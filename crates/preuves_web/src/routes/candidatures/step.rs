//! The administrative step of a candidature, as a page: the form with its live plan (what-if
//! before anything is filed), opened as a candidature or saved on a draft.
//!
//! The form posts its fields with an `action`: `apercu` recomputes the plan from the values
//! typed without saving anything (the page's script does it as the vendor types, replacing only
//! the plan), `enregistrer` saves the draft. The form is parsed into the application layer's
//! [`StepInput`] (its textareas split into items); its one validation and the engine's refusals
//! come back named by canonical fields, shown here next to the form's inputs ([`input_of`]). A
//! draft keeps the revision it was read at: a save based on an older one is refused
//! (optimistic concurrency), with the values typed kept on the page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::{DispositifSummary, Solution, StoredCandidature, StoredProof};
use preuves_domain::{ChapterCode, DispositifKey};
use serde::Deserialize;

use crate::AppState;
use crate::app::candidatures::filed::is_stale;
use crate::app::candidatures::step::{self, Evaluation};
use crate::app::candidatures::{self as service};
use crate::app::fields::{add_to_form, field_errors, to_form};
use crate::app::step::{ComponentInput, StepInput, TargetInput, choice_of};
use crate::error::{AppError, ErrorItem};
use crate::format::{key_label, plural};
use crate::forms::{FieldErrors, lines};
use crate::journey::LivePlan;
use crate::layout::{Chrome, render, render_with};
use crate::plan_view::{self, DepositForms, PlanFilters, PlanInput, PlanView};
use crate::security::{CsrfForm, RequestContext, VendorCap, redirect_with_flash};

// ---- the administrative step form ----------------------------------------------------------

/// One additional component row, as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct ComponentRow {
    pub(crate) name: String,
    pub(crate) chapters: String,
}

/// The administrative step as typed (and re-displayed).
#[derive(Debug, Clone, Default)]
pub(crate) struct StepForm {
    pub(crate) dispositif: String,
    pub(crate) solution: String,
    pub(crate) version: String,
    pub(crate) profiles: Vec<String>,
    pub(crate) nrus: String,
    pub(crate) components: Vec<ComponentRow>,
    pub(crate) commercial_names: String,
    pub(crate) revision: String,
    pub(crate) action: String,
}

impl StepForm {
    /// Reads the posted pairs (repeated keys: `profil`, `composant_nom`, `composant_chapitres`).
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        let mut names: Vec<String> = Vec::new();
        let mut chapters: Vec<String> = Vec::new();
        for (key, value) in pairs {
            match key.as_str() {
                "dispositif" => form.dispositif = value,
                "solution" => form.solution = value,
                "version" => form.version = value,
                "profil" => form.profiles.push(value),
                "nrus" => form.nrus = value,
                "composant_nom" => names.push(value),
                "composant_chapitres" => chapters.push(value),
                "noms" => form.commercial_names = value,
                "revision" => form.revision = value,
                "action" => form.action = value,
                _ => {}
            }
        }
        let rows = names.len().max(chapters.len());
        for i in 0..rows {
            let row = ComponentRow {
                name: names.get(i).cloned().unwrap_or_default(),
                chapters: chapters.get(i).cloned().unwrap_or_default(),
            };
            if !row.name.trim().is_empty() || !row.chapters.trim().is_empty() {
                form.components.push(row);
            }
        }
        form
    }

    /// The form showing a stored step.
    fn of(c: &StoredCandidature) -> Self {
        Self {
            dispositif: choice_of(&c.target),
            solution: c.step.solution.0.to_string(),
            version: c.step.version.to_string(),
            profiles: c
                .step
                .optional_profiles
                .iter()
                .map(|p| p.to_string())
                .collect(),
            nrus: c
                .step
                .nrus
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            components: c
                .step
                .additional_components
                .iter()
                .map(|a| ComponentRow {
                    name: a.name.clone(),
                    chapters: a
                        .chapters
                        .iter()
                        .map(ChapterCode::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect(),
            commercial_names: c.step.commercial_names.join("\n"),
            revision: c.revision.to_string(),
            action: String::new(),
        }
    }

    /// What the form holds, for the application layer: its target and its step (textareas
    /// split into items, the solution's id when it is a number).
    fn input(&self) -> (TargetInput, StepInput) {
        let step = StepInput {
            solution: self.solution.trim().parse().ok(),
            version: self.version.clone(),
            optional_profiles: self.profiles.clone(),
            nrus: items(&self.nrus),
            additional_components: self
                .components
                .iter()
                .map(|row| ComponentInput {
                    name: row.name.clone(),
                    chapters: items(&row.chapters),
                })
                .collect(),
            commercial_names: lines(&self.commercial_names),
        };
        (TargetInput::from_choice(&self.dispositif), step)
    }

    fn has_profile(&self, profile: &str) -> bool {
        self.profiles.iter().any(|p| p == profile)
    }

    /// The rows shown: the typed ones and one empty row to add another.
    fn component_rows(&self) -> Vec<ComponentRow> {
        let mut rows = self.components.clone();
        rows.push(ComponentRow::default());
        rows
    }
}

/// Splits a list typed with line breaks, commas, semicolons or spaces.
pub(super) fn items(raw: &str) -> Vec<String> {
    raw.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The form's input showing the error of each canonical field (the API's JSON key).
pub(super) fn input_of(field: &str) -> &'static str {
    match field {
        "dispositif" | "wave" | "on" => "dispositif",
        "solution" => "solution",
        "version" => "version",
        "optional_profiles" => "profils",
        "additional_components" => "composants",
        "commercial_names" | "honour_statement" => "noms",
        "revision" => "revision",
        _ => "nrus",
    }
}

/// The errors of a step beside the form's inputs.
fn form_errors(errors: &[ErrorItem]) -> FieldErrors {
    to_form(errors, input_of, "nrus")
}

// ---- pages ----------------------------------------------------------------------------------

struct Choice {
    value: String,
    label: String,
}

struct ProfileOption {
    value: String,
    checked: bool,
}

struct ChapterHint {
    code: String,
    name: String,
}

#[derive(Template)]
#[template(path = "candidature_step.html")]
pub(super) struct StepPage {
    chrome: Chrome,
    /// `None` for a candidature not opened yet.
    id: Option<i64>,
    action: String,
    target_label: Option<String>,
    targets: Vec<Choice>,
    solutions: Vec<Choice>,
    versions: Vec<String>,
    profiles: Vec<ProfileOption>,
    chapters: Vec<ChapterHint>,
    form: StepForm,
    rows: Vec<ComponentRow>,
    errors: FieldErrors,
    preview: bool,
    honour_file: Option<String>,
    names_need_honour: bool,
    plan: PlanView,
    deposit: Option<DepositForms>,
    rem_label: String,
}

/// What a step page needs besides the form.
struct StepContext<'a> {
    candidature: Option<&'a StoredCandidature>,
    target: Option<DispositifKey>,
    solutions: Vec<Solution>,
    targets: Vec<DispositifSummary>,
}

fn step_page(
    ctx: &RequestContext,
    sc: &StepContext<'_>,
    form: StepForm,
    errors: FieldErrors,
    preview: bool,
    plan: PlanView,
    live: Option<&LivePlan>,
) -> StepPage {
    let target = sc.target.clone();
    let rem = live.and_then(|l| {
        target
            .as_ref()
            .and_then(|t| l.catalogue.dispositif(t))
            .and_then(|d| d.rem.as_ref())
    });
    let chosen_solution = form
        .solution
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|id| sc.solutions.iter().find(|s| s.id.0 == id));
    let title = match (sc.candidature, errors.is_empty()) {
        (Some(c), true) => format!("Candidature n°\u{a0}{}", c.id),
        (Some(c), false) => format!("Erreur\u{a0}: Candidature n°\u{a0}{}", c.id),
        (None, true) => "Nouvelle candidature".to_owned(),
        (None, false) => "Erreur\u{a0}: Nouvelle candidature".to_owned(),
    };
    let names_need_honour = lines(&form.commercial_names).len() > 1;
    StepPage {
        chrome: Chrome::new(ctx, title, "candidatures"),
        id: sc.candidature.map(|c| c.id.0),
        action: sc.candidature.map_or_else(
            || "/candidatures/nouvelle".to_owned(),
            |c| format!("/candidatures/{}", c.id),
        ),
        target_label: sc.candidature.map(|c| key_label(&c.target)),
        targets: sc
            .targets
            .iter()
            .map(|t| Choice {
                value: choice_of(&t.key),
                label: format!("{} — {}", key_label(&t.key), t.name),
            })
            .collect(),
        solutions: sc
            .solutions
            .iter()
            .map(|s| Choice {
                value: s.id.0.to_string(),
                label: format!(
                    "{} (composant principal\u{a0}: {})",
                    s.name, s.main_component
                ),
            })
            .collect(),
        versions: chosen_solution.map_or_else(Vec::new, |s| s.versions.clone()),
        profiles: rem
            .map(|r| {
                r.optional_profiles()
                    .map(|p| ProfileOption {
                        value: p.to_string(),
                        checked: form.has_profile(p.as_str()),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        chapters: rem
            .map(|r| {
                let mut seen: Vec<ChapterHint> = Vec::new();
                for req in r.requirements() {
                    if !seen.iter().any(|c| c.code == req.chapter_code.as_str()) {
                        seen.push(ChapterHint {
                            code: req.chapter_code.to_string(),
                            name: req.chapter.clone(),
                        });
                    }
                }
                seen
            })
            .unwrap_or_default(),
        rows: form.component_rows(),
        honour_file: sc
            .candidature
            .and_then(|c| c.step.honour_statement.as_ref())
            .map(|h| h.file_name.clone()),
        names_need_honour,
        rem_label: sc
            .candidature
            .map(|c| {
                format!(
                    "version {} du REM (figée à l'ouverture)",
                    c.rem_version_label
                )
            })
            .unwrap_or_else(|| "version en vigueur du REM".to_owned()),
        form,
        errors,
        preview,
        plan,
        deposit: None,
    }
}

pub(super) fn plan_of(
    live: &LivePlan,
    target: &DispositifKey,
    candidature: Option<&StoredCandidature>,
    proofs: Option<(&[StoredProof], String)>,
    filters: PlanFilters,
) -> PlanView {
    plan_view::build(PlanInput {
        catalogue: &live.catalogue,
        target,
        rem_version: candidature.map(|c| c.rem_version),
        outcome: &live.outcome,
        warnings: &live.warnings,
        frozen: candidature.is_some_and(|c| c.plan.is_some()),
        proofs,
        filters,
    })
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NewQuery {
    #[serde(default)]
    solution: String,
    #[serde(default)]
    dispositif: String,
}

/// The plan section of an evaluated step (not computed when the step did not parse).
fn evaluated_plan(evaluation: &Evaluation) -> PlanView {
    match (&evaluation.live, &evaluation.checked.target) {
        (Some(live), Some(target)) => {
            let mut plan = plan_of(live, target, None, None, PlanFilters::default());
            if evaluation.checked.step.is_none() {
                plan.computed = false;
            }
            plan
        }
        _ => PlanView::empty(),
    }
}

/// The page of an evaluated step, with `errors` beside their fields.
async fn evaluated_page(
    state: &AppState,
    ctx: &RequestContext,
    draft: Option<&StoredCandidature>,
    evaluation: &Evaluation,
    form: StepForm,
    errors: FieldErrors,
    preview: bool,
) -> Result<StepPage, AppError> {
    let sc = StepContext {
        candidature: draft,
        target: evaluation.checked.target.clone(),
        solutions: evaluation.checked.solutions.clone(),
        targets: service::open_targets(state).await?,
    };
    let plan = evaluated_plan(evaluation);
    Ok(step_page(
        ctx,
        &sc,
        form,
        errors,
        preview,
        plan,
        evaluation.live.as_ref(),
    ))
}

/// `GET /candidatures/nouvelle`: the administrative step of a candidature to open, with the
/// plan of its first values.
pub(crate) async fn new_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let solutions = crate::app::solutions::list(&state, &vendor).await?;
    let solution = q
        .solution
        .parse::<i64>()
        .ok()
        .and_then(|id| solutions.iter().find(|s| s.id.0 == id))
        .or(solutions.first());
    let mut form = StepForm {
        dispositif: q.dispositif.clone(),
        solution: solution.map(|s| s.id.0.to_string()).unwrap_or_default(),
        version: solution
            .and_then(|s| s.versions.last().cloned())
            .unwrap_or_default(),
        commercial_names: solution
            .map(|s| s.commercial_names.join("\n"))
            .unwrap_or_default(),
        ..StepForm::default()
    };
    if form.dispositif.is_empty() {
        form.dispositif = service::open_targets(&state)
            .await?
            .first()
            .map(|t| choice_of(&t.key))
            .unwrap_or_default();
    }
    let (target, input) = form.input();
    let evaluation = step::evaluate(&state, &vendor, None, &target, &input).await?;
    // A fresh form shows the plan of its defaults, not errors on fields not filled yet.
    let errors = if evaluation.checked.step.is_some() {
        form_errors(&evaluation.errors())
    } else {
        FieldErrors::new()
    };
    let page = evaluated_page(&state, &ctx, None, &evaluation, form, errors, false).await?;
    render(&page)
}

/// Runs a posted step: judge it, then preview or save. Shared by the new and the draft forms.
async fn handle_step(
    state: &AppState,
    ctx: &RequestContext,
    vendor: &VendorCap,
    draft: Option<&StoredCandidature>,
    form: StepForm,
) -> Result<Response, AppError> {
    let (target, input) = form.input();
    let evaluation = step::evaluate(state, vendor, draft, &target, &input).await?;
    let mut errors = form_errors(&evaluation.errors());
    if form.action != "enregistrer" || evaluation.checked.step.is_none() {
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let page = evaluated_page(state, ctx, draft, &evaluation, form, errors, true).await?;
        return render_with(status, &page);
    }
    let saved = match draft {
        None => step::create(state, vendor, &evaluation).await,
        Some(c) => {
            let revision: i64 = form.revision.trim().parse().map_err(|_| {
                AppError::BadRequest("Le formulaire est incomplet (révision).".to_owned())
            })?;
            step::save(state, vendor, c, revision, &evaluation.checked)
                .await
                .map(|candidature| step::Saved {
                    candidature,
                    refusals: evaluation.refusals().len(),
                })
        }
    };
    let status = match saved {
        Ok(saved) => {
            let id = saved.candidature.id;
            let message = if saved.refusals == 0 {
                format!("Brouillon n°\u{a0}{id} enregistré. Le plan ci-dessous est à jour.")
            } else {
                format!(
                    "Brouillon n°\u{a0}{id} enregistré, mais le plan ne peut pas être calculé\u{a0}: {} à corriger avant le dépôt.",
                    plural(saved.refusals as u64, "refus", "refus")
                )
            };
            return Ok(redirect_with_flash(
                &format!("/candidatures/{id}"),
                &message,
                state.config.secure_cookies,
            ));
        }
        // Keep what was typed on the page, with the explanation: nothing was saved.
        Err(e) if is_stale(&e) => {
            errors.add("revision", e.message());
            StatusCode::CONFLICT
        }
        Err(e) => {
            // R10 (nothing is opened before the guichet opens) and the fields at fault: the
            // reasons are beside their fields.
            add_to_form(&mut errors, &field_errors(e)?, input_of, "nrus");
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    let page = evaluated_page(state, ctx, draft, &evaluation, form, errors, true).await?;
    render_with(status, &page)
}

/// `POST /candidatures/nouvelle`: preview or open a candidature.
pub(crate) async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    handle_step(&state, &ctx, &vendor, None, StepForm::from_pairs(pairs)).await
}

/// `POST /candidatures/{id}`: preview or save a draft's administrative step (a candidature
/// filed since is refused: nothing may change).
pub(crate) async fn save(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let c = service::own_draft(&state, &vendor, &id).await?;
    handle_step(&state, &ctx, &vendor, Some(&c), StepForm::from_pairs(pairs)).await
}

/// The page of a stored draft: its step with its live plan and the files deposited; the
/// engine's refusals of its step, and `errors` (canonical fields), beside the form's inputs.
pub(super) async fn draft_page(
    state: &AppState,
    ctx: &RequestContext,
    vendor: &VendorCap,
    c: &StoredCandidature,
    live: &LivePlan,
    errors: &[ErrorItem],
    filters: PlanFilters,
) -> Result<StepPage, AppError> {
    let proofs = state.db.list_proofs(c.id).await?;
    let prefix = format!("/candidatures/{}/preuves", c.id);
    let mut shown = to_form(errors, input_of, "nrus");
    if let Err(refusals) = &live.outcome {
        let items: Vec<ErrorItem> = refusals.iter().map(ErrorItem::from).collect();
        add_to_form(&mut shown, &items, input_of, "nrus");
    }
    let plan = plan_of(live, &c.target, Some(c), Some((&proofs, prefix)), filters);
    let sc = StepContext {
        candidature: Some(c),
        target: Some(c.target.clone()),
        solutions: crate::app::solutions::list(state, vendor).await?,
        targets: Vec::new(),
    };
    Ok(step_page(
        ctx,
        &sc,
        StepForm::of(c),
        shown,
        false,
        plan,
        Some(live),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_are_read_in_order() {
        let pairs = [
            ("solution", "3"),
            ("profil", "PA"),
            ("profil", "PH"),
            ("composant_nom", "Module INS"),
            ("composant_chapitres", "INS, ANN"),
            ("composant_nom", ""),
            ("composant_chapitres", ""),
            ("nrus", "REF-1\nREF-2"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec();
        let form = StepForm::from_pairs(pairs);
        assert_eq!(form.profiles, ["PA", "PH"]);
        assert_eq!(form.components.len(), 1);
        assert_eq!(form.components[0].chapters, "INS, ANN");
        assert_eq!(items(&form.nrus), ["REF-1", "REF-2"]);
        let (_, input) = form.input();
        assert_eq!(input.solution, Some(3));
        assert_eq!(input.additional_components[0].chapters, ["INS", "ANN"]);
    }
}
