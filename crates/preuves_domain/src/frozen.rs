//! Frozen plans: the plan of a filed candidature as an owned, serialisable value, and the two
//! changes it may undergo after submission without being recomputed from scratch (`docs/rules.md`):
//!
//! - **lifting masks** (R8): when a cited referencing is suspended or withdrawn after submission,
//!   the frozen plan keeps its masks (with a warning) until an instructor lifts them; every
//!   requirement masked through that NRU then becomes to deposit, with a reason saying the mask
//!   was lifted, by whom and when. A lift is final for the candidature.
//! - **the R5 recomputation**: a late équivalence NRU gives a new plan, but the masks already
//!   lifted stay lifted and the frozen warnings stay as they were.
//!
//! Both are pure functions of the frozen plan; recording them (audit, complement request) is the
//! platform's business.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::catalogue::Perimeter;
use crate::date::IsoDate;
use crate::ids::{ChapterCode, Nru, Profile, RemVersionLabel, RequirementId};
use crate::plan::{Plan, Rule, Status, Summary};
use crate::scenario::{AnswerError, AnswerReason};

/// The reason of a mask lifted by an instructor: the mask it replaces (rule R2 or R3, the NRU,
/// the source requirement for R2), who lifted it and on which day.
///
/// Serialised as `{"rule", "nru", "source_requirement"?, "lifted": true, "lifted_by",
/// "lifted_on"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiftedMask {
    /// The rule of the mask lifted: [`Rule::R2`] or [`Rule::R3`].
    pub rule: Rule,
    /// The referencing whose masks were lifted.
    pub nru: Nru,
    /// For an équivalence mask, the source requirement it cited.
    pub source_requirement: Option<RequirementId>,
    /// Who lifted it.
    pub lifted_by: String,
    /// The day (in Paris) it was lifted.
    pub lifted_on: IsoDate,
}

/// The wire shape of [`LiftedMask`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LiftedWire {
    rule: Rule,
    nru: Nru,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source_requirement: Option<RequirementId>,
    lifted: bool,
    lifted_by: String,
    lifted_on: IsoDate,
}

impl Serialize for LiftedMask {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        LiftedWire {
            rule: self.rule,
            nru: self.nru.clone(),
            source_requirement: self.source_requirement.clone(),
            lifted: true,
            lifted_by: self.lifted_by.clone(),
            lifted_on: self.lifted_on,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for LiftedMask {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = LiftedWire::deserialize(d)?;
        if !wire.lifted {
            return Err(serde::de::Error::custom(
                "un masque levé porte « lifted »: true",
            ));
        }
        if !matches!(wire.rule, Rule::R2 | Rule::R3) {
            return Err(serde::de::Error::custom(format!(
                "seul un masque R2 ou R3 peut être levé (ici {})",
                wire.rule
            )));
        }
        Ok(Self {
            rule: wire.rule,
            nru: wire.nru,
            source_requirement: wire.source_requirement,
            lifted_by: wire.lifted_by,
            lifted_on: wire.lifted_on,
        })
    }
}

/// The reason of a frozen plan's requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FrozenReason {
    /// A mask lifted by an instructor: the requirement is to deposit.
    Lifted(LiftedMask),
    /// The engine's reason (R2, R3 masks, R7).
    Computed(AnswerReason),
}

impl FrozenReason {
    /// The NRU the requirement is masked through, if it is masked by a reason that cites one.
    fn masking_nru(&self) -> Option<&Nru> {
        match self {
            Self::Computed(r) if matches!(r.rule, Rule::R2 | Rule::R3) => r.nru.as_ref(),
            _ => None,
        }
    }
}

/// One requirement of a frozen plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrozenEntry {
    /// The requirement id.
    pub id: RequirementId,
    /// `Vague 1` or `Vague 2`.
    pub perimeter: Perimeter,
    /// The profile.
    pub profile: Profile,
    /// The chapter code.
    pub chapter: ChapterCode,
    /// The status.
    pub status: Status,
    /// The reason, or `null` for a plain "to deposit".
    pub reason: Option<FrozenReason>,
    /// How many proofs the requirement expects (for the counts).
    pub proofs: usize,
}

/// A plan frozen at submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrozenPlan {
    /// The REM version it was computed on.
    pub rem_version: RemVersionLabel,
    /// The requirements in scope, in REM order.
    pub entries: Vec<FrozenEntry>,
    /// The warnings at submission (R6), kept as they were.
    pub warnings: Vec<AnswerError>,
}

/// An instructor's lift of the masks of one referencing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lift {
    /// The referencing whose masks are lifted.
    pub nru: Nru,
    /// Who lifts them.
    pub lifted_by: String,
    /// The day (in Paris).
    pub lifted_on: IsoDate,
}

/// Why a lift cannot apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiftError {
    /// No requirement of the plan is masked through that NRU (never cited, or already lifted).
    #[error("aucune exigence de ce plan n'est masquée par le référencement {nru} : rien à lever")]
    NothingMasked {
        /// The NRU given.
        nru: Nru,
    },
    /// The lift names nobody.
    #[error("la levée des masques doit nommer la personne qui la décide")]
    Anonymous,
}

/// A lift applied: the new frozen plan and the requirements that became to deposit (for the
/// complement request), in REM order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiftOutcome {
    /// The plan after the lift.
    pub plan: FrozenPlan,
    /// The requirements whose mask was lifted.
    pub lifted: Vec<RequirementId>,
}

impl FrozenPlan {
    /// Freezes an engine plan.
    pub fn freeze(plan: &Plan<'_>) -> Self {
        Self {
            rem_version: plan.rem_version.clone(),
            entries: plan
                .entries
                .iter()
                .map(|e| FrozenEntry {
                    id: e.requirement.id.clone(),
                    perimeter: e.requirement.perimeter,
                    profile: e.requirement.profile.clone(),
                    chapter: e.requirement.chapter_code.clone(),
                    status: e.status,
                    reason: e
                        .reason
                        .as_ref()
                        .map(|r| FrozenReason::Computed(AnswerReason::from(r))),
                    proofs: e.requirement.proof_count(),
                })
                .collect(),
            warnings: plan.warnings.iter().map(AnswerError::from).collect(),
        }
    }

    /// The counts, lifted masks counting as to deposit.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for e in &self.entries {
            s.in_scope += 1;
            match e.status {
                Status::ToDeposit => {
                    s.to_deposit += 1;
                    s.proofs_to_deposit += e.proofs;
                }
                Status::MaskedHeritage => {
                    s.masked_heritage += 1;
                    s.proofs_saved += e.proofs;
                }
                Status::MaskedEquivalence => {
                    s.masked_equivalence += 1;
                    s.proofs_saved += e.proofs;
                }
            }
        }
        s
    }

    /// The NRUs whose masks were lifted, each with who lifted them and when (the first lifted
    /// entry tells).
    pub fn lifts(&self) -> Vec<Lift> {
        let mut out: Vec<Lift> = Vec::new();
        for e in &self.entries {
            if let Some(FrozenReason::Lifted(m)) = &e.reason
                && !out.iter().any(|l| l.nru == m.nru)
            {
                out.push(Lift {
                    nru: m.nru.clone(),
                    lifted_by: m.lifted_by.clone(),
                    lifted_on: m.lifted_on,
                });
            }
        }
        out
    }

    /// Lifts every mask through `lift.nru`: each such requirement becomes to deposit with a
    /// [`LiftedMask`] reason. Nothing else changes (warnings included).
    pub fn lift(&self, lift: &Lift) -> Result<LiftOutcome, LiftError> {
        if lift.lifted_by.trim().is_empty() {
            return Err(LiftError::Anonymous);
        }
        let mut plan = self.clone();
        let lifted = lift_entries(&mut plan.entries, lift);
        if lifted.is_empty() {
            return Err(LiftError::NothingMasked {
                nru: lift.nru.clone(),
            });
        }
        Ok(LiftOutcome { plan, lifted })
    }

    /// The R5 recomputation: `recomputed` is the engine's plan with the late NRU; the result
    /// takes its statuses, except that the masks lifted here stay lifted (a lift is final, so a
    /// requirement the new plan masks through a lifted NRU is lifted too) and the warnings are
    /// this plan's.
    pub fn recompute(&self, recomputed: &Plan<'_>) -> Self {
        let mut plan = Self::freeze(recomputed);
        plan.warnings.clone_from(&self.warnings);
        let kept: HashMap<&RequirementId, &FrozenEntry> = self
            .entries
            .iter()
            .filter(|e| matches!(e.reason, Some(FrozenReason::Lifted(_))))
            .map(|e| (&e.id, e))
            .collect();
        for e in &mut plan.entries {
            if let Some(old) = kept.get(&e.id) {
                e.status = old.status;
                e.reason.clone_from(&old.reason);
            }
        }
        for lift in self.lifts() {
            lift_entries(&mut plan.entries, &lift);
        }
        plan
    }
}

/// Turns every entry masked through `lift.nru` into a lifted one; returns their ids.
fn lift_entries(entries: &mut [FrozenEntry], lift: &Lift) -> Vec<RequirementId> {
    let mut lifted = Vec::new();
    for e in entries.iter_mut() {
        let Some(FrozenReason::Computed(reason)) = &e.reason else {
            continue;
        };
        if !e.status.is_masked()
            || e.reason.as_ref().and_then(FrozenReason::masking_nru) != Some(&lift.nru)
        {
            continue;
        }
        let mask = LiftedMask {
            rule: reason.rule,
            nru: lift.nru.clone(),
            source_requirement: reason.source_requirement.clone(),
            lifted_by: lift.lifted_by.trim().to_owned(),
            lifted_on: lift.lifted_on,
        };
        e.status = Status::ToDeposit;
        e.reason = Some(FrozenReason::Lifted(mask));
        lifted.push(e.id.clone());
    }
    lifted
}
