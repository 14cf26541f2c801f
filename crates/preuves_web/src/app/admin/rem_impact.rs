//! The impact analysis of a new REM version, shown before the administrator confirms its import
//! (`docs/rules.md`, "REM versions"): the difference from the version in force
//! ([`preuves_domain::RemDiff`]) and its consequences.
//!
//! - The candidatures still open that are pinned to the version in force. A filed one keeps its
//!   version whatever is imported; a draft keeps it too unless its vendor moves it, so for each
//!   draft the analysis computes its plan with the engine under both versions (the live-plan
//!   machinery of [`crate::journey`]) and lists what would change.
//! - The valid referencings of other vague-2 dispositifs whose équivalence reuse into this one
//!   (the number of its requirements they could mask, [`preuves_domain::equivalence_reach`])
//!   shrinks or grows.
//!
//! Nothing here writes: the analysis is computed on a catalogue built in memory with the new
//! version in force ([`preuves_domain::Catalogue::with_rem_in_force`]).

use std::collections::HashMap;

use preuves_db::{CandidatureId, CandidatureStatus, RemVersion, StoredReferencing};
use preuves_domain::{
    Catalogue, CatalogueError, DispositifKey, Nru, Plan, ReferencingStatus, Rem, RemDiff,
    RemVersionLabel, RequirementId, Status, Wave, compute_plan, equivalence_reach,
};

use crate::AppState;
use crate::error::AppError;

/// Why the difference cannot be computed; the import stays possible.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NoImpact {
    /// The dispositif has no REM version yet.
    #[error(
        "Ce dispositif n'a pas encore de version du REM en vigueur\u{a0}: il n'y a rien à comparer."
    )]
    NoVersionInForce,
    /// The version in force could not be read back from the database.
    #[error(
        "La version en vigueur du REM n'a pas pu être relue\u{a0}: la différence et ses conséquences ne peuvent pas être calculées."
    )]
    Unreadable,
    /// The catalogue with the new version in force is inconsistent.
    #[error(
        "Le catalogue avec cette nouvelle version n'a pas pu être construit ({0})\u{a0}: la différence ne peut pas être calculée."
    )]
    Catalogue(#[from] CatalogueError),
}

impl NoImpact {
    /// The stable code the API gives.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::NoVersionInForce => "no_version_in_force",
            Self::Unreadable => "rem_in_force_unreadable",
            Self::Catalogue(_) => "inconsistent_catalogue",
        }
    }
}

/// The analysis.
#[derive(Debug, Clone)]
pub(crate) struct Impact {
    /// The version in force it was compared with.
    pub(crate) base: RemVersion,
    /// The difference from it.
    pub(crate) diff: RemDiff,
    /// The open candidatures pinned to the version in force, oldest first.
    pub(crate) candidatures: Vec<CandidatureImpact>,
    /// The referencings whose reuse into this dispositif changes, by NRU.
    pub(crate) reuse: Vec<ReuseChange>,
    /// How many valid referencings of other vague-2 dispositifs keep the same reuse.
    pub(crate) reuse_unchanged: usize,
}

/// An open candidature pinned to the version in force.
#[derive(Debug, Clone)]
pub(crate) struct CandidatureImpact {
    /// Its id.
    pub(crate) id: CandidatureId,
    /// Its vendor's name.
    pub(crate) vendor: String,
    /// Its solution.
    pub(crate) solution: String,
    /// Its status: only a draft may be moved to the new version.
    pub(crate) status: CandidatureStatus,
    /// For a draft, how its plan would change if moved; `None` for a filed one (it keeps its
    /// version).
    pub(crate) delta: Option<DraftDelta>,
}

impl CandidatureImpact {
    /// Whether it keeps the version in force whatever is imported: a filed candidature's
    /// version is frozen at submission; only a draft may move.
    pub(crate) fn keeps_its_version(&self) -> bool {
        self.status != CandidatureStatus::Draft
    }
}

/// A draft's plan under both versions.
#[derive(Debug, Clone)]
pub(crate) enum DraftDelta {
    /// Both plans computed.
    Computed(PlanDelta),
    /// The engine refuses the draft under one of the versions: its messages (the old plan's
    /// refusals first).
    Refused(Vec<String>),
}

/// How a draft's plan changes from the version in force to the new one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PlanDelta {
    /// Requirements to deposit, before and after.
    pub(crate) to_deposit: (usize, usize),
    /// Requirements masked (héritage or équivalence), before and after.
    pub(crate) masked: (usize, usize),
    /// Masked before, to deposit after.
    pub(crate) become_to_deposit: Vec<RequirementId>,
    /// To deposit before, masked after.
    pub(crate) become_masked: Vec<RequirementId>,
    /// Only in the new plan, with whether each is to deposit.
    pub(crate) appear: Vec<(RequirementId, bool)>,
    /// Only in the old plan, with whether each was to deposit.
    pub(crate) disappear: Vec<(RequirementId, bool)>,
}

impl PlanDelta {
    /// Whether moving the draft changes nothing in its plan.
    pub(crate) fn is_empty(&self) -> bool {
        self.become_to_deposit.is_empty()
            && self.become_masked.is_empty()
            && self.appear.is_empty()
            && self.disappear.is_empty()
    }

    /// The requirements only in the new plan that are to deposit.
    pub(crate) fn appear_to_deposit(&self) -> impl Iterator<Item = &RequirementId> {
        self.appear.iter().filter(|(_, d)| *d).map(|(id, _)| id)
    }

    /// The requirements only in the new plan that are masked.
    pub(crate) fn appear_masked(&self) -> impl Iterator<Item = &RequirementId> {
        self.appear.iter().filter(|(_, d)| !*d).map(|(id, _)| id)
    }

    /// The requirements only in the old plan.
    pub(crate) fn disappeared(&self) -> impl Iterator<Item = &RequirementId> {
        self.disappear.iter().map(|(id, _)| id)
    }

    fn between(old: &Plan<'_>, new: &Plan<'_>) -> Self {
        let to_deposit = |p: &Plan<'_>| p.summary.to_deposit;
        let masked = |p: &Plan<'_>| p.summary.masked_heritage + p.summary.masked_equivalence;
        let before: HashMap<&RequirementId, Status> = old
            .entries
            .iter()
            .map(|e| (&e.requirement.id, e.status))
            .collect();
        let mut delta = Self {
            to_deposit: (to_deposit(old), to_deposit(new)),
            masked: (masked(old), masked(new)),
            ..Self::default()
        };
        for e in &new.entries {
            let after_masked = e.status.is_masked();
            match before.get(&e.requirement.id) {
                None => delta.appear.push((e.requirement.id.clone(), !after_masked)),
                Some(s) if s.is_masked() && !after_masked => {
                    delta.become_to_deposit.push(e.requirement.id.clone());
                }
                Some(s) if !s.is_masked() && after_masked => {
                    delta.become_masked.push(e.requirement.id.clone());
                }
                Some(_) => {}
            }
        }
        for e in &old.entries {
            if !new
                .entries
                .iter()
                .any(|n| n.requirement.id == e.requirement.id)
            {
                delta
                    .disappear
                    .push((e.requirement.id.clone(), !e.status.is_masked()));
            }
        }
        delta
    }
}

/// A referencing of another dispositif whose équivalence reuse into this one changes.
#[derive(Debug, Clone)]
pub(crate) struct ReuseChange {
    /// Its NRU.
    pub(crate) nru: Nru,
    /// Its dispositif.
    pub(crate) dispositif: DispositifKey,
    /// Its holder's name.
    pub(crate) vendor: String,
    /// Its solution.
    pub(crate) solution: String,
    /// Requirements of this dispositif it could mask under the version in force.
    pub(crate) before: usize,
    /// The same under the new version.
    pub(crate) after: usize,
}

/// Analyses putting `rem`, labelled `label`, in force for `key`. The outer error is a fault of
/// the platform; the inner one says why there is no analysis (the import stays possible).
pub(crate) async fn analyse(
    state: &AppState,
    key: &DispositifKey,
    label: &RemVersionLabel,
    rem: &Rem,
) -> Result<Result<Impact, NoImpact>, AppError> {
    let db = &state.db;
    let Some(base) = db.find_dispositif(key).await?.and_then(|d| d.current_rem) else {
        return Ok(Err(NoImpact::NoVersionInForce));
    };
    let current = match state.catalogues.get(db, None).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(dispositif = %key, error = %e, "REM in force unreadable: no impact analysis");
            return Ok(Err(NoImpact::Unreadable));
        }
    };
    let Some(old_rem) = current.dispositif(key).and_then(|d| d.rem.as_ref()) else {
        return Ok(Err(NoImpact::NoVersionInForce));
    };
    let diff = RemDiff::between(old_rem, rem);
    let next = match current.with_rem_in_force(key, label.clone(), rem.clone()) {
        Ok(next) => next,
        Err(e) => return Ok(Err(e.into())),
    };

    let mut candidatures = Vec::new();
    for pinned in db.open_candidatures_pinned_to(base.id).await? {
        let c = pinned.candidature;
        let delta = if c.status == CandidatureStatus::Draft {
            let domain = c.to_domain(&pinned.siren);
            let nrus: Vec<Nru> = domain.all_nrus().cloned().collect();
            let register = db.referencings_by_nru(&nrus).await?;
            Some(
                match (
                    compute_plan(&current, &register, &domain),
                    compute_plan(&next, &register, &domain),
                ) {
                    (Ok(old), Ok(new)) => DraftDelta::Computed(PlanDelta::between(&old, &new)),
                    (old, new) => DraftDelta::Refused(
                        old.err()
                            .into_iter()
                            .chain(new.err())
                            .flatten()
                            .map(|r| r.message)
                            .collect(),
                    ),
                },
            )
        } else {
            None
        };
        candidatures.push(CandidatureImpact {
            id: c.id,
            vendor: pinned.vendor_name,
            solution: c.solution_name,
            status: c.status,
            delta,
        });
    }

    let (reuse, reuse_unchanged) =
        reuse_changes(&current, &next, key, db.list_referencings(None).await?);
    Ok(Ok(Impact {
        base,
        diff,
        candidatures,
        reuse,
        reuse_unchanged,
    }))
}

/// The valid vague-2 referencings of other dispositifs whose reach into `key` differs between
/// the two catalogues, and how many keep it.
fn reuse_changes(
    current: &Catalogue,
    next: &Catalogue,
    key: &DispositifKey,
    register: Vec<StoredReferencing>,
) -> (Vec<ReuseChange>, usize) {
    let mut changes = Vec::new();
    let mut unchanged = 0;
    for r in register {
        if r.status != ReferencingStatus::Valid
            || r.dispositif.wave != Wave::Two
            || &r.dispositif == key
        {
            continue;
        }
        let domain = r.to_domain();
        let before = equivalence_reach(current, key, &domain);
        let after = equivalence_reach(next, key, &domain);
        match (before, after) {
            (Some(before), Some(after)) if before != after => changes.push(ReuseChange {
                nru: r.nru,
                dispositif: r.dispositif,
                vendor: r.organisation_name,
                solution: r.solution,
                before,
                after,
            }),
            (Some(_), Some(_)) => unchanged += 1,
            _ => {}
        }
    }
    (changes, unchanged)
}

/// The label the import gives a version imported without one: the first integer from its
/// import number up that the dispositif does not use yet (as `preuves_db` does).
pub(crate) fn default_label(versions: &[RemVersion]) -> Option<RemVersionLabel> {
    let mut n = versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
    while versions.iter().any(|v| v.label.as_str() == n.to_string()) {
        n += 1;
    }
    RemVersionLabel::parse(&n.to_string()).ok()
}
