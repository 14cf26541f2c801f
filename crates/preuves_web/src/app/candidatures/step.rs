//! The administrative step: judged (syntax here, rules by the engine), previewed, opened as a
//! candidature or saved on a draft (optimistic concurrency on its revision).
//!
//! A step is stored as entered even when the engine refuses it (the refusals are in its plan,
//! and block submission); only a field that does not parse or is out of its limits refuses the
//! save, and a guichet not open yet refuses the opening (R10).

use preuves_db::{Actor, AdministrativeStep, Solution, StoredCandidature};
use preuves_domain::{DispositifKey, Refusal};

use crate::AppState;
use crate::app::fields::rejected;
use crate::app::step::{StepInput, TargetInput, validate_target};
use crate::error::{AppError, ErrorItem};
use crate::journey::{self, LivePlan};
use crate::security::VendorCap;

/// A step judged on its syntax, for a candidature to open or a draft.
#[derive(Clone)]
pub(crate) struct CheckedStep {
    /// The target: the draft's, or the one chosen when it is valid.
    pub(crate) target: Option<DispositifKey>,
    /// The vendor's solution chosen, if it is one.
    pub(crate) solution: Option<Solution>,
    /// The step, when every field is right.
    pub(crate) step: Option<AdministrativeStep>,
    /// Every field at fault (target included), named by the API's JSON keys.
    pub(crate) invalid: Vec<ErrorItem>,
    /// The vendor's solutions (the page lists them).
    pub(crate) solutions: Vec<Solution>,
}

/// Checks a step's fields: on `draft` (its target and sworn statement kept), or for a
/// candidature to open on `target`.
pub(crate) async fn check(
    state: &AppState,
    vendor: &VendorCap,
    draft: Option<&StoredCandidature>,
    target: &TargetInput,
    input: &StepInput,
) -> Result<CheckedStep, AppError> {
    let mut invalid = Vec::new();
    let target = match draft {
        Some(c) => Some(c.target.clone()),
        None => match validate_target(state, target).await? {
            Ok(key) => Some(key),
            Err(errors) => {
                invalid.extend(errors);
                None
            }
        },
    };
    let solutions = state.db.list_solutions(vendor.organisation).await?;
    let honour = draft.and_then(|c| c.step.honour_statement.clone());
    let checked = input.check(&solutions, honour);
    invalid.extend(checked.errors);
    Ok(CheckedStep {
        target,
        solution: checked.solution,
        step: checked.step,
        invalid,
        solutions,
    })
}

/// A step judged whole: its fields, then the engine's plan.
pub(crate) struct Evaluation {
    /// The fields judged.
    pub(crate) checked: CheckedStep,
    /// The engine's plan (or refusals) when the step parsed; the catalogue alone (no plan, no
    /// refusal) when only the target is known, for the profile and chapter hints.
    pub(crate) live: Option<LivePlan>,
}

impl Evaluation {
    /// The engine's refusals of the step (none when it did not run).
    pub(crate) fn refusals(&self) -> &[Refusal] {
        self.live
            .as_ref()
            .and_then(|l| l.outcome.as_ref().err())
            .map_or(&[], Vec::as_slice)
    }

    /// Every error: the fields at fault, then the engine's refusals (with their codes and the
    /// field each concerns).
    pub(crate) fn errors(&self) -> Vec<ErrorItem> {
        let mut out = self.checked.invalid.clone();
        out.extend(self.refusals().iter().map(ErrorItem::from));
        out
    }
}

/// Judges a step and previews its plan, saving nothing: a step not filed yet is judged on
/// today's date (R10); a draft's on its pinned REM version.
pub(crate) async fn evaluate(
    state: &AppState,
    vendor: &VendorCap,
    draft: Option<&StoredCandidature>,
    target: &TargetInput,
    input: &StepInput,
) -> Result<Evaluation, AppError> {
    let checked = check(state, vendor, draft, target, input).await?;
    let pinned = draft.map(|c| c.rem_version);
    let live = match (&checked.target, &checked.solution, &checked.step) {
        (Some(target), Some(solution), Some(step)) => {
            let siren = journey::siren_of(&state.db, vendor.organisation).await?;
            Some(
                journey::step_plan(
                    &state.db,
                    &state.catalogues,
                    pinned,
                    &siren,
                    target,
                    solution,
                    step,
                )
                .await?,
            )
        }
        (Some(_), _, _) => Some(LivePlan {
            catalogue: state.catalogues.get(&state.db, pinned).await?,
            outcome: Err(Vec::new()),
            warnings: Vec::new(),
        }),
        _ => None,
    };
    Ok(Evaluation { checked, live })
}

/// A step saved, and how many refusals of the engine its plan has (to be corrected before
/// submission).
pub(crate) struct Saved {
    /// The candidature as stored.
    pub(crate) candidature: StoredCandidature,
    /// The engine's refusals of its step.
    pub(crate) refusals: usize,
}

/// Opens a candidature with an evaluated step: 422 with every field at fault, or with R10's
/// refusal (on `dispositif`) while the target's guichet is not open.
pub(crate) async fn create(
    state: &AppState,
    vendor: &VendorCap,
    evaluation: &Evaluation,
) -> Result<Saved, AppError> {
    let checked = &evaluation.checked;
    if !checked.invalid.is_empty() {
        return Err(rejected(checked.invalid.clone()));
    }
    let (Some(target), Some(step)) = (&checked.target, &checked.step) else {
        return Err(AppError::internal("a valid step did not parse"));
    };
    let closed: Vec<ErrorItem> = evaluation
        .live
        .as_ref()
        .map(journey::guichet_refusals)
        .unwrap_or_default()
        .into_iter()
        .map(|r| ErrorItem {
            field: Some("dispositif".to_owned()),
            ..ErrorItem::from(r)
        })
        .collect();
    if !closed.is_empty() {
        return Err(rejected(closed));
    }
    let candidature = state
        .db
        .create_candidature(
            vendor.organisation,
            target,
            step,
            &Actor::User(vendor.user.id),
        )
        .await?;
    Ok(Saved {
        candidature,
        refusals: evaluation.refusals().len(),
    })
}

/// Saves a draft's checked step based on `revision`: 422 with every field at fault,
/// `candidature_not_draft` once filed (read by [`super::own_draft`], checked again in the
/// transaction), `stale_revision` if it changed since (nothing saved).
pub(crate) async fn save(
    state: &AppState,
    vendor: &VendorCap,
    draft: &StoredCandidature,
    revision: i64,
    checked: &CheckedStep,
) -> Result<StoredCandidature, AppError> {
    if !checked.invalid.is_empty() {
        return Err(rejected(checked.invalid.clone()));
    }
    let step = checked
        .step
        .as_ref()
        .ok_or_else(|| AppError::internal("a valid step did not parse"))?;
    Ok(state
        .db
        .update_candidature_step(
            vendor.organisation,
            draft.id,
            revision,
            step,
            &Actor::User(vendor.user.id),
        )
        .await?)
}
