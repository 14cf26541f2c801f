//! The vendor's journey as services the pages call: the catalogue cache the plan pages read,
//! and the live plan of an administrative step (saved or not), computed by the engine.
//!
//! The plan shown to a vendor is always `preuves_domain::compute_plan` on the catalogue the
//! candidature is pinned to, the register entries of the NRUs it cites and the step as entered;
//! nothing here decides a status. A submitted candidature shows its frozen plan instead
//! ([`preuves_db::StoredCandidature::plan`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use preuves_db::{
    AdministrativeStep, Db, OrganisationId, PlanSnapshot, RemVersionId, Solution, StoredCandidature,
};
use preuves_domain::{
    Candidature, Catalogue, DispositifKey, IsoDate, Nru, ParisTime, Refusal, RefusalCode, Siren,
    compute_plan,
};

use crate::error::AppError;

/// How many catalogues (one per pinned REM version) a process keeps.
const CACHE_CAPACITY: usize = 32;

/// The catalogues the engine runs on, cached per pinned REM version and invalidated by
/// [`Db::catalogue_revision`] (which also catches imports made by another process).
///
/// Loading a catalogue reads every REM from the database; the plan page is viewed far more
/// often than the catalogue changes, so it reads one revision number instead.
#[derive(Default)]
pub struct CatalogueCache {
    entries: Mutex<Entries>,
}

/// Per pinned REM version (or none), the catalogue revision it was loaded at and the catalogue.
type Entries = HashMap<Option<RemVersionId>, (i64, Arc<Catalogue>)>;

impl std::fmt::Debug for CatalogueCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogueCache").finish_non_exhaustive()
    }
}

impl CatalogueCache {
    /// The catalogue with `pinned`'s dispositif at that REM version (the latest versions
    /// everywhere when `None`).
    pub async fn get(
        &self,
        db: &Db,
        pinned: Option<RemVersionId>,
    ) -> Result<Arc<Catalogue>, AppError> {
        let revision = db.catalogue_revision().await?;
        if let Some((seen, catalogue)) = self.lock().get(&pinned)
            && *seen == revision
        {
            return Ok(Arc::clone(catalogue));
        }
        let pins: Vec<RemVersionId> = pinned.into_iter().collect();
        let catalogue = Arc::new(db.load_catalogue_pinned(&pins).await?);
        let mut entries = self.lock();
        if entries.len() >= CACHE_CAPACITY {
            entries.retain(|_, (seen, _)| *seen == revision);
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
        }
        entries.insert(pinned, (revision, Arc::clone(&catalogue)));
        Ok(catalogue)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock cannot leave the map inconsistent (single inserts).
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The engine's view of an administrative step of `solution`, for `vendor`, on `target`.
pub(crate) fn domain_candidature(
    vendor: &Siren,
    target: &DispositifKey,
    solution: &Solution,
    step: &AdministrativeStep,
) -> Candidature {
    Candidature {
        vendor: vendor.clone(),
        target: target.clone(),
        optional_profiles: step.optional_profiles.clone(),
        solution: solution.name.clone(),
        main_component: solution.main_component.clone(),
        version: step.version.clone(),
        nrus: step.nrus.clone(),
        additional_components: step.additional_components.clone(),
        commercial_names: step.commercial_names.clone(),
        honour_statement: step.honour_statement.is_some(),
        late: None,
        // The catalogue is pinned to the candidature's version, in force there. R10 is for
        // opening a candidature: the caller sets `opened_on` for one not opened yet.
        rem_version: None,
        opened_on: None,
    }
}

/// The live plan of an administrative step, for pages and API alike: a step not yet filed as a
/// candidature (`pinned` is `None`) is being opened, so it is judged on today's Paris date and a
/// guichet not open yet refuses it (R10); an existing candidature, pinned to its REM version, is
/// never judged on its guichet again.
pub(crate) async fn step_plan(
    db: &Db,
    cache: &CatalogueCache,
    pinned: Option<RemVersionId>,
    vendor: &Siren,
    target: &DispositifKey,
    solution: &Solution,
    step: &AdministrativeStep,
) -> Result<LivePlan, AppError> {
    let mut domain = domain_candidature(vendor, target, solution, step);
    if pinned.is_none() {
        domain.opened_on = Some(paris_today());
    }
    live_plan(db, cache, pinned, &domain).await
}

/// Today in Paris: the day R10 compares with a guichet's opening day.
fn paris_today() -> IsoDate {
    ParisTime::from_unix_millis(preuves_db::Timestamp::now().as_millis()).date
}

/// The engine's R10 refusals of a plan (`guichet_not_open`): a candidature cannot be opened.
pub(crate) fn guichet_refusals(live: &LivePlan) -> Vec<&Refusal> {
    live.outcome
        .as_ref()
        .err()
        .map_or_else(Vec::new, |refusals| {
            refusals
                .iter()
                .filter(|r| r.code == RefusalCode::GuichetNotOpen)
                .collect()
        })
}

/// A plan computed for a page: the catalogue it was computed on (the pages read requirement
/// texts from it) and the engine's answer, frozen in the same shape as a submitted plan so one
/// view renders both.
pub(crate) struct LivePlan {
    /// The catalogue the plan was computed on.
    pub(crate) catalogue: Arc<Catalogue>,
    /// The plan, or every refusal of the engine.
    pub(crate) outcome: Result<PlanSnapshot, Vec<Refusal>>,
    /// Warnings that do not block the plan but block submission (R6).
    pub(crate) warnings: Vec<Refusal>,
}

/// Runs the engine on `candidature` with the catalogue pinned at `pinned` (the current
/// catalogue when `None`, for a candidature not opened yet).
pub(crate) async fn live_plan(
    db: &Db,
    cache: &CatalogueCache,
    pinned: Option<RemVersionId>,
    candidature: &Candidature,
) -> Result<LivePlan, AppError> {
    let catalogue = cache.get(db, pinned).await?;
    let nrus: Vec<Nru> = candidature.all_nrus().cloned().collect();
    let register = db.referencings_by_nru(&nrus).await?;
    let (outcome, warnings) = match compute_plan(&catalogue, &register, candidature) {
        Ok(plan) => {
            let warnings = plan.warnings.clone();
            (Ok(PlanSnapshot::from_plan(&plan)), warnings)
        }
        Err(refusals) => (Err(refusals), Vec::new()),
    };
    Ok(LivePlan {
        catalogue,
        outcome,
        warnings,
    })
}

/// The SIREN of a vendor organisation.
pub(crate) async fn siren_of(db: &Db, organisation: OrganisationId) -> Result<Siren, AppError> {
    Ok(db
        .find_organisation(organisation)
        .await?
        .ok_or(AppError::NotFound)?
        .siren)
}

/// The plan of a stored candidature: live for a draft, frozen once submitted (with the
/// catalogue it is pinned to, for the requirement texts).
pub(crate) async fn candidature_plan(
    db: &Db,
    cache: &CatalogueCache,
    candidature: &StoredCandidature,
) -> Result<LivePlan, AppError> {
    if let Some(frozen) = &candidature.plan {
        return Ok(LivePlan {
            catalogue: cache.get(db, Some(candidature.rem_version)).await?,
            outcome: Ok(frozen.clone()),
            warnings: Vec::new(),
        });
    }
    let siren = siren_of(db, candidature.organisation).await?;
    live_plan(
        db,
        cache,
        Some(candidature.rem_version),
        &candidature.to_domain(&siren),
    )
    .await
}
