//! The vendor's candidatures: the dashboard, the administrative step with its live plan
//! (what-if before anything is filed), submission, and R5's "NRU obtained since".
//!
//! The administrative step form posts its fields with an `action`: `apercu` recomputes the plan
//! from the values typed without saving anything (the page's script does it as the vendor
//! types, replacing only the plan), `enregistrer` saves the draft. Field syntax errors are
//! caught here; everything the rules decide comes from the engine, whose refusals are shown next
//! to the field they concern and in the plan section. A draft keeps the revision it was read at:
//! a save based on an older one is refused (optimistic concurrency), with the values typed kept
//! on the page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::{
    Actor, AdministrativeStep, CandidatureStatus, Conflict, DbError, DispositifSummary,
    LateNrusOutcome, OrganisationId, Solution, SolutionId, StoredCandidature, StoredProof,
    WorkflowConflict, missing_proofs,
};
use preuves_domain::{
    AdditionalComponent, ChapterCode, DispositifKey, Nru, Profile, Refusal, Version, Wave,
};
use serde::Deserialize;

use crate::AppState;
use crate::app::warnings::cited_warnings;
use crate::error::AppError;
use crate::format::{fr_number, french_datetime, key_label, plural};
use crate::forms::lines;
use crate::forms::{FieldErrors, sentence};
use crate::journey::{self, LivePlan};
use crate::layout::{Chrome, render, render_with};
use crate::paths::candidature_id;
use crate::plan_view::{self, DepositForms, PlanFilters, PlanInput, PlanView};
use crate::security::{CsrfForm, RequestContext, VendorCap, redirect_with_flash};
use crate::views::facts::{CandidatureFacts, date2_of};
use crate::views::requests::RequestView;

/// Most NRUs, components or commercial names one step may list.
const MAX_ITEMS: usize = 50;
/// Longest component or commercial name.
const MAX_TEXT: usize = 200;

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
            dispositif: key_value(&c.target),
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
                .map(Nru::to_string)
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

/// A dispositif as a form value: `DUI-MS-2`.
fn key_value(key: &DispositifKey) -> String {
    format!("{}-{}", key.code, key.wave.number())
}

fn parse_key(raw: &str) -> Option<DispositifKey> {
    let (code, wave) = raw.trim().rsplit_once('-')?;
    Some(DispositifKey {
        code: preuves_domain::DispositifCode::parse(code).ok()?,
        wave: Wave::from_number(wave.parse().ok()?)?,
    })
}

/// Splits a list typed with line breaks, commas, semicolons or spaces.
fn items(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// What the form parses to, before the engine judges it.
struct ParsedStep {
    target: Option<DispositifKey>,
    solution: Option<Solution>,
    step: Option<AdministrativeStep>,
}

/// Checks the syntax of every field; the rules are the engine's.
fn parse_step(
    form: &StepForm,
    solutions: &[Solution],
    targets: &[DispositifSummary],
    fixed_target: Option<&DispositifKey>,
    honour: Option<preuves_db::HonourStatement>,
    errors: &mut FieldErrors,
) -> ParsedStep {
    let target = match fixed_target {
        Some(t) => Some(t.clone()),
        None => {
            let key = parse_key(&form.dispositif).filter(|k| targets.iter().any(|t| &t.key == k));
            if key.is_none() {
                errors.add(
                    "dispositif",
                    "Choisissez le dispositif visé (un dispositif de vague\u{a0}2 dont le REM est publié).",
                );
            }
            key
        }
    };
    let solution = form
        .solution
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|id| solutions.iter().find(|s| s.id == SolutionId(id)))
        .cloned();
    if solution.is_none() {
        errors.add("solution", "Choisissez la solution candidate.");
    }
    let version = if form.version.trim().is_empty() {
        errors.add("version", "Saisissez la version candidate.");
        None
    } else {
        match Version::parse(&form.version) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.add("version", sentence(&e));
                None
            }
        }
    };
    let mut profiles: Vec<Profile> = Vec::new();
    for raw in &form.profiles {
        match Profile::parse(raw) {
            Ok(p) if !profiles.contains(&p) && !p.is_general() => profiles.push(p),
            Ok(_) => {}
            Err(e) => errors.add("profils", sentence(&e)),
        }
    }
    let mut nrus: Vec<Nru> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    for raw in items(&form.nrus) {
        match Nru::parse(raw) {
            Ok(n) if !nrus.contains(&n) => nrus.push(n),
            Ok(_) => {}
            Err(_) => bad.push(format!("«\u{a0}{raw}\u{a0}»")),
        }
    }
    if !bad.is_empty() {
        errors.add(
            "nrus",
            format!(
                "{} {}\u{a0}: un NRU ne contient que des lettres, des chiffres et des tirets.",
                if bad.len() > 1 {
                    "NRU mal formés"
                } else {
                    "NRU mal formé"
                },
                bad.join(", ")
            ),
        );
    } else if nrus.len() > MAX_ITEMS {
        errors.add("nrus", format!("{MAX_ITEMS} NRU au plus."));
    }
    let mut components: Vec<AdditionalComponent> = Vec::new();
    for (i, row) in form.components.iter().enumerate() {
        let name = row.name.trim();
        let field = "composants";
        if name.is_empty() {
            errors.add(
                field,
                format!(
                    "Composant additionnel n°\u{a0}{}\u{a0}: saisissez son nom.",
                    i + 1
                ),
            );
            continue;
        }
        if name.chars().count() > MAX_TEXT {
            errors.add(
                field,
                format!("Le nom d'un composant compte au plus {MAX_TEXT} caractères."),
            );
            continue;
        }
        let mut chapters: Vec<ChapterCode> = Vec::new();
        for raw in items(&row.chapters) {
            match ChapterCode::parse(raw) {
                Ok(c) if !chapters.contains(&c) => chapters.push(c),
                Ok(_) => {}
                Err(e) => errors.add(field, format!("{name}\u{a0}: {}", sentence(&e))),
            }
        }
        if chapters.is_empty() {
            errors.add(
                field,
                format!(
                    "Le composant «\u{a0}{name}\u{a0}» doit être rattaché à au moins un chapitre (règle R7)."
                ),
            );
        }
        components.push(AdditionalComponent {
            name: name.to_owned(),
            chapters,
        });
    }
    if components.len() > MAX_ITEMS {
        errors.add("composants", format!("{MAX_ITEMS} composants au plus."));
    }
    let commercial_names = lines(&form.commercial_names);
    if commercial_names.len() > MAX_ITEMS
        || commercial_names
            .iter()
            .any(|n| n.chars().count() > MAX_TEXT)
    {
        errors.add(
            "noms",
            format!(
                "{MAX_ITEMS} noms commerciaux au plus, de {MAX_TEXT} caractères au plus chacun."
            ),
        );
    }
    let step = match (&solution, version) {
        (Some(s), Some(version)) if errors.is_empty() => Some(AdministrativeStep {
            solution: s.id,
            optional_profiles: profiles,
            version,
            nrus,
            additional_components: components,
            commercial_names,
            honour_statement: honour,
        }),
        _ => None,
    };
    ParsedStep {
        target,
        solution,
        step,
    }
}

/// The form field an engine refusal concerns.
fn field_of(refusal: &Refusal) -> &'static str {
    match refusal.field {
        "dispositif" | "wave" | "on" => "dispositif",
        "optional_profiles" => "profils",
        "additional_components" => "composants",
        "commercial_names" | "honour_statement" => "noms",
        "version" => "version",
        _ => "nrus",
    }
}

/// Puts the engine's refusals next to their fields.
fn refusals_to_fields(refusals: &[Refusal], errors: &mut FieldErrors) {
    for r in refusals {
        errors.add(field_of(r), r.message.clone());
    }
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
struct StepPage {
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

async fn vague2_targets(state: &AppState) -> Result<Vec<DispositifSummary>, AppError> {
    Ok(state
        .db
        .list_dispositifs()
        .await?
        .into_iter()
        .filter(|d| d.key.wave == Wave::Two && d.current_rem.is_some())
        .collect())
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
                value: key_value(&t.key),
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

fn plan_of(
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

/// A step form judged: its syntax here, its rules by the engine.
struct Evaluated {
    target: Option<DispositifKey>,
    step: Option<AdministrativeStep>,
    /// The engine's plan (or refusals) when the step parsed; otherwise the catalogue only, for
    /// the profile and chapter hints, with no plan.
    live: Option<LivePlan>,
    errors: FieldErrors,
    solutions: Vec<Solution>,
    targets: Vec<DispositifSummary>,
}

async fn evaluate(
    state: &AppState,
    vendor: &VendorCap,
    candidature: Option<&StoredCandidature>,
    form: &StepForm,
) -> Result<Evaluated, AppError> {
    let solutions = state.db.list_solutions(vendor.organisation).await?;
    let targets = vague2_targets(state).await?;
    let mut errors = FieldErrors::new();
    let honour = candidature.and_then(|c| c.step.honour_statement.clone());
    let parsed = parse_step(
        form,
        &solutions,
        &targets,
        candidature.map(|c| &c.target),
        honour,
        &mut errors,
    );
    let pinned = candidature.map(|c| c.rem_version);
    let live = match (&parsed.target, &parsed.solution, &parsed.step) {
        (Some(target), Some(solution), Some(step)) => {
            let siren = journey::siren_of(&state.db, vendor.organisation).await?;
            let live = journey::step_plan(
                &state.db,
                &state.catalogues,
                pinned,
                &siren,
                target,
                solution,
                step,
            )
            .await?;
            if let Err(refusals) = &live.outcome {
                refusals_to_fields(refusals, &mut errors);
            }
            Some(live)
        }
        (Some(_), _, _) => Some(LivePlan {
            catalogue: state.catalogues.get(&state.db, pinned).await?,
            outcome: Err(Vec::new()),
            warnings: Vec::new(),
        }),
        _ => None,
    };
    Ok(Evaluated {
        target: parsed.target,
        step: parsed.step,
        live,
        errors,
        solutions,
        targets,
    })
}

impl Evaluated {
    /// The plan section (not computed when the step did not parse).
    fn plan(
        &self,
        candidature: Option<&StoredCandidature>,
        proofs: Option<(&[StoredProof], String)>,
        filters: PlanFilters,
    ) -> PlanView {
        match (&self.live, &self.target) {
            (Some(live), Some(target)) => {
                let mut plan = plan_of(live, target, candidature, proofs, filters);
                if self.step.is_none() {
                    plan.computed = false;
                }
                plan
            }
            _ => PlanView::empty(),
        }
    }

    fn context<'a>(&self, candidature: Option<&'a StoredCandidature>) -> StepContext<'a> {
        StepContext {
            candidature,
            target: self.target.clone(),
            solutions: self.solutions.clone(),
            targets: self.targets.clone(),
        }
    }
}

/// `GET /candidatures/nouvelle`: the administrative step of a candidature to open, with the
/// plan of its first values.
pub(crate) async fn new_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let solutions = state.db.list_solutions(vendor.organisation).await?;
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
        form.dispositif = vague2_targets(&state)
            .await?
            .first()
            .map(|t| key_value(&t.key))
            .unwrap_or_default();
    }
    let evaluated = evaluate(&state, &vendor, None, &form).await?;
    let plan = evaluated.plan(None, None, PlanFilters::default());
    // A fresh form shows the plan of its defaults, not errors on fields not filled yet.
    let errors = if evaluated.step.is_some() {
        evaluated.errors.clone()
    } else {
        FieldErrors::new()
    };
    let sc = evaluated.context(None);
    render(&step_page(
        &ctx,
        &sc,
        form,
        errors,
        false,
        plan,
        evaluated.live.as_ref(),
    ))
}

/// Runs a posted step: parse, engine, then preview or save. Shared by the new and the draft
/// forms.
async fn handle_step(
    state: &AppState,
    ctx: &RequestContext,
    vendor: &VendorCap,
    candidature: Option<&StoredCandidature>,
    form: StepForm,
) -> Result<Response, AppError> {
    let mut evaluated = evaluate(state, vendor, candidature, &form).await?;
    let sc = evaluated.context(candidature);
    let plan = evaluated.plan(None, None, PlanFilters::default());
    let (Some(target), Some(step)) = (evaluated.target.clone(), evaluated.step.clone()) else {
        let errors = std::mem::take(&mut evaluated.errors);
        let page = step_page(ctx, &sc, form, errors, true, plan, evaluated.live.as_ref());
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    if form.action != "enregistrer" {
        let errors = std::mem::take(&mut evaluated.errors);
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let page = step_page(ctx, &sc, form, errors, true, plan, evaluated.live.as_ref());
        return render_with(status, &page);
    }

    if candidature.is_none()
        && evaluated
            .live
            .as_ref()
            .is_some_and(|l| !journey::guichet_refusals(l).is_empty())
    {
        // R10: nothing is opened before the guichet opens; the reason is beside the field.
        let errors = std::mem::take(&mut evaluated.errors);
        let page = step_page(ctx, &sc, form, errors, true, plan, evaluated.live.as_ref());
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let actor = Actor::User(vendor.user.id);
    let saved = match candidature {
        None => {
            state
                .db
                .create_candidature(vendor.organisation, &target, &step, &actor)
                .await
        }
        Some(c) => {
            let revision: i64 = form.revision.trim().parse().map_err(|_| {
                AppError::BadRequest("Le formulaire est incomplet (révision).".to_owned())
            })?;
            state
                .db
                .update_candidature_step(vendor.organisation, c.id, revision, &step, &actor)
                .await
        }
    };
    match saved {
        Ok(c) => {
            let refused = evaluated
                .live
                .as_ref()
                .map_or(0, |l| l.outcome.as_ref().err().map_or(0, Vec::len));
            let message = if refused == 0 {
                format!(
                    "Brouillon n°\u{a0}{} enregistré. Le plan ci-dessous est à jour.",
                    c.id
                )
            } else {
                format!(
                    "Brouillon n°\u{a0}{} enregistré, mais le plan ne peut pas être calculé\u{a0}: {} à corriger avant le dépôt.",
                    c.id,
                    plural(refused as u64, "refus", "refus")
                )
            };
            Ok(redirect_with_flash(
                &format!("/candidatures/{}", c.id),
                &message,
                state.config.secure_cookies,
            ))
        }
        Err(DbError::Conflict(Conflict::StaleRevision)) => {
            // Keep what was typed on the page, with the explanation: nothing was saved.
            let mut errors = std::mem::take(&mut evaluated.errors);
            errors.add("revision", stale_message());
            let page = step_page(ctx, &sc, form, errors, true, plan, evaluated.live.as_ref());
            render_with(StatusCode::CONFLICT, &page)
        }
        Err(e) => Err(e.into()),
    }
}

/// The explanation of a refused save based on an old revision.
fn stale_message() -> String {
    AppError::from(Conflict::StaleRevision).message()
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

/// `POST /candidatures/{id}`: preview or save a draft's administrative step.
pub(crate) async fn save(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let c = state
        .db
        .find_candidature_for(vendor.organisation, candidature_id(&id)?)
        .await?;
    // A form replayed after submission: nothing may change.
    c.status.check_step_edit()?;
    handle_step(&state, &ctx, &vendor, Some(&c), StepForm::from_pairs(pairs)).await
}

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
    let c = state
        .db
        .find_candidature_for(vendor.organisation, candidature_id(&id)?)
        .await?;
    let live = journey::candidature_plan(&state.db, &state.catalogues, &c).await?;
    let proofs = state.db.list_proofs(c.id).await?;
    let prefix = format!("/candidatures/{}/preuves", c.id);
    if c.status == CandidatureStatus::Draft {
        let solutions = state.db.list_solutions(vendor.organisation).await?;
        let mut errors = FieldErrors::new();
        if let Err(refusals) = &live.outcome {
            refusals_to_fields(refusals, &mut errors);
        }
        let plan = plan_of(&live, &c.target, Some(&c), Some((&proofs, prefix)), filters);
        let sc = StepContext {
            candidature: Some(&c),
            target: Some(c.target.clone()),
            solutions,
            targets: Vec::new(),
        };
        let page = step_page(
            &ctx,
            &sc,
            StepForm::of(&c),
            errors,
            false,
            plan,
            Some(&live),
        );
        return render(&page);
    }
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
        warnings: cited_warnings(&state, &c).await?,
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
    let c = state
        .db
        .find_candidature_for(vendor.organisation, candidature_id(&id)?)
        .await?;
    let live = journey::candidature_plan(&state.db, &state.catalogues, &c).await?;
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

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SubmitForm {
    #[serde(default)]
    revision: String,
    #[serde(default)]
    confirmer_incomplet: String,
}

/// `POST /candidatures/{id}/deposer`: files the candidature (complete, or incomplete with the
/// explicit confirmation); the plan, the step and the REM version are frozen.
pub(crate) async fn submit(
    State(state): State<AppState>,
    vendor: VendorCap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SubmitForm>,
) -> Result<Response, AppError> {
    let id = candidature_id(&id)?;
    let revision: i64 =
        form.revision.trim().parse().map_err(|_| {
            AppError::BadRequest("Le formulaire est incomplet (révision).".to_owned())
        })?;
    let confirm = !form.confirmer_incomplet.trim().is_empty();
    let submitted = state
        .db
        .submit_candidature(
            vendor.organisation,
            id,
            revision,
            confirm,
            &Actor::User(vendor.user.id),
        )
        .await;
    match submitted {
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
        Err(e) if e.is_conflict(WorkflowConflict::IncompleteDossier) => Ok(redirect_with_flash(
            &format!("/candidatures/{id}/preuves#depot"),
            "Le dossier est incomplet et n'a pas été déposé\u{a0}: déposez les preuves manquantes, ou cochez la case de confirmation pour le déposer incomplet.",
            state.config.secure_cookies,
        )),
        Err(e) => Err(e.into()),
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
    let c = state
        .db
        .find_candidature_for(vendor.organisation, candidature_id(&id)?)
        .await?;
    c.status.check_late_nrus()?;
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
    let c = state
        .db
        .find_candidature_for(vendor.organisation, candidature_id(&id)?)
        .await?;
    let mut errors = FieldErrors::new();
    let mut nrus: Vec<Nru> = Vec::new();
    for raw in items(&form.nrus) {
        match Nru::parse(raw) {
            Ok(n) if !nrus.contains(&n) => nrus.push(n),
            Ok(_) => {}
            Err(e) => errors.add("nrus", sentence(&e)),
        }
    }
    if nrus.is_empty() && errors.is_empty() {
        errors.add("nrus", "Saisissez le NRU obtenu depuis le dépôt.");
    }
    let revision: i64 =
        form.revision.trim().parse().map_err(|_| {
            AppError::BadRequest("Le formulaire est incomplet (révision).".to_owned())
        })?;
    let refuse =
        |state: &AppState, c: &StoredCandidature, errors: FieldErrors, form: LateNruForm| {
            let state = state.clone();
            let c = c.clone();
            let ctx = ctx.clone();
            async move {
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
                render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
        };
    if !errors.is_empty() {
        return refuse(&state, &c, errors, form).await;
    }
    let outcome = state
        .db
        .record_late_nrus(
            vendor.organisation,
            c.id,
            revision,
            &nrus,
            &Actor::User(vendor.user.id),
        )
        .await?;
    match outcome {
        LateNrusOutcome::Recorded {
            candidature,
            newly_masked,
            proofs_no_longer_needed,
        } => Ok(redirect_with_flash(
            &format!("/candidatures/{}", candidature.id),
            &format!(
                "NRU enregistré et plan recalculé\u{a0}: {} désormais {} par équivalence, {} «\u{a0}plus nécessaire{}\u{a0}» (conservée{}, sans verdict).",
                plural(newly_masked.len() as u64, "exigence", "exigences"),
                if newly_masked.len() > 1 {
                    "masquées"
                } else {
                    "masquée"
                },
                plural(
                    proofs_no_longer_needed,
                    "preuve déposée marquée",
                    "preuves déposées marquées"
                ),
                if proofs_no_longer_needed > 1 { "s" } else { "" },
                if proofs_no_longer_needed > 1 { "s" } else { "" },
            ),
            state.config.secure_cookies,
        )),
        LateNrusOutcome::Refused(refusals) => {
            for r in &refusals {
                errors.add("nrus", r.message.clone());
            }
            refuse(&state, &c, errors, form).await
        }
    }
}

// ---- complements ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AnswerForm {
    #[serde(default)]
    message: String,
}

/// `POST /candidatures/{id}/complements`: the vendor answers the open complement request (after
/// depositing the new files); the candidature goes back to its instructor.
pub(crate) async fn answer_complements(
    State(state): State<AppState>,
    vendor: VendorCap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> Result<Response, AppError> {
    let c = state
        .db
        .find_candidature_for(vendor.organisation, candidature_id(&id)?)
        .await?;
    let message = form.message.trim();
    if message.is_empty() || message.chars().count() > 4000 {
        return Err(AppError::Refused {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "message_required",
            message: "Décrivez en quelques mots les compléments déposés (4 000 caractères au plus). Rien n'a été envoyé.".to_owned(),
        });
    }
    state
        .db
        .answer_complements(
            vendor.organisation,
            c.id,
            message,
            &Actor::User(vendor.user.id),
        )
        .await?;
    Ok(redirect_with_flash(
        &format!("/candidatures/{}", c.id),
        "Réponse envoyée\u{a0}: la candidature retourne en instruction.",
        state.config.secure_cookies,
    ))
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
    dashboard_for(&state, &ctx, vendor.organisation).await
}

async fn dashboard_for(
    state: &AppState,
    ctx: &RequestContext,
    organisation: OrganisationId,
) -> Result<Response, AppError> {
    let candidatures = state.db.list_candidatures(Some(organisation), None).await?;
    let dispositifs = state.db.list_dispositifs().await?;
    let has_solutions = !state.db.list_solutions(organisation).await?.is_empty();
    let mut rows = Vec::with_capacity(candidatures.len());
    let mut saved_total = 0u64;
    for c in &candidatures {
        let live = journey::candidature_plan(&state.db, &state.catalogues, c).await?;
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
        chrome: Chrome::new(ctx, "Vos candidatures", "candidatures"),
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
        assert_eq!(items(&form.nrus).collect::<Vec<_>>(), ["REF-1", "REF-2"]);
    }
}
