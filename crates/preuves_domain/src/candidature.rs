//! Referencings a vendor holds and the candidature it files: the engine's inputs besides the
//! catalogue.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::catalogue::DispositifKey;
use crate::date::IsoDate;
use crate::ids::{ChapterCode, Nru, Profile, RemVersionLabel, Siren};
use crate::version::Version;

/// Whether a referencing can still be used (rule R8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferencingStatus {
    /// In force.
    Valid,
    /// Suspended by an administrator.
    Suspended,
    /// Withdrawn by an administrator.
    Withdrawn,
}

impl ReferencingStatus {
    /// The French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Valid => "valide",
            Self::Suspended => "suspendu",
            Self::Withdrawn => "retiré",
        }
    }

    /// The stable code (`valid`, `suspended`, `withdrawn`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Suspended => "suspended",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// Parses the stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "valid" => Some(Self::Valid),
            "suspended" => Some(Self::Suspended),
            "withdrawn" => Some(Self::Withdrawn),
            _ => None,
        }
    }
}

impl fmt::Display for ReferencingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A granted referencing, identified by its NRU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referencing {
    /// Its number.
    pub nru: Nru,
    /// The vendor that holds it.
    pub vendor: Siren,
    /// The dispositif (code and wave) it was granted on.
    pub dispositif: DispositifKey,
    /// The profiles it holds (`Général` is always held, listed or not).
    pub profiles: Vec<Profile>,
    /// The solution's name.
    pub solution: String,
    /// The solution's main component (rule R1 compares it).
    pub main_component: String,
    /// The version referenced (rule R4 compares it).
    pub version: Version,
    /// Valid, suspended or withdrawn (rule R8).
    pub status: ReferencingStatus,
    /// The label of the REM version it was granted on (rule R2 reuses only what that version
    /// asked); `None` cites the version in force. Ignored in vague 1, which has no REM here.
    pub rem_version: Option<RemVersionLabel>,
    /// The day it was granted, when known (rule R5: a late NRU must be obtained after the
    /// candidature's submission).
    pub granted_on: Option<IsoDate>,
}

impl Referencing {
    /// Whether it holds `profile` (`Général` always counts).
    pub fn holds(&self, profile: &Profile) -> bool {
        profile.is_general() || self.profiles.contains(profile)
    }
}

/// Whether two main components name the same solution (rule R1): equal once trimmed, whatever
/// the case, so that `A-core` typed as ` a-core` is still the same solution.
pub fn same_main_component(a: &str, b: &str) -> bool {
    a.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .eq(b.trim().chars().flat_map(char::to_lowercase))
}

/// An additional component of the candidate solution, attached to chapters (rule R7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdditionalComponent {
    /// Its name.
    pub name: String,
    /// The chapters it is attached to.
    pub chapters: Vec<ChapterCode>,
}

/// NRUs entered after submission (rule R5), with what R5 needs to allow them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LateEntry {
    /// The day the dossier became complete (every proof asked deposited), if it did.
    pub complete_on: Option<IsoDate>,
    /// The day (in Paris) the candidature was submitted, when known: a late NRU must have been
    /// granted strictly after it. `None` skips that check (a simulation without the date).
    pub submitted_on: Option<IsoDate>,
    /// The NRUs entered after submission; only a vague-2 équivalence NRU may be.
    pub nrus: Vec<Nru>,
}

/// A candidature's administrative step: what the engine needs to compute its proof plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidature {
    /// The vendor filing it.
    pub vendor: Siren,
    /// The target dispositif (must be a vague-2 one).
    pub target: DispositifKey,
    /// Optional profiles chosen (`Général` always applies).
    pub optional_profiles: Vec<Profile>,
    /// The solution's name.
    pub solution: String,
    /// The solution's main component.
    pub main_component: String,
    /// The candidate version.
    pub version: Version,
    /// NRUs entered at the administrative step (équivalence and héritage, classified by the engine).
    pub nrus: Vec<Nru>,
    /// Additional components, each attached to chapters.
    pub additional_components: Vec<AdditionalComponent>,
    /// Commercial names declared.
    pub commercial_names: Vec<String>,
    /// Whether the sworn statement covering several commercial names was given (rule R6).
    pub honour_statement: bool,
    /// NRUs entered after submission, if any (rule R5).
    pub late: Option<LateEntry>,
    /// The label of the REM version the candidature is pinned to; `None` is the version in
    /// force.
    pub rem_version: Option<RemVersionLabel>,
    /// The day (in Paris) the candidature is being opened, for rule R10 (the target's guichet
    /// must be open); `None` skips the check (a simulation without `on`, or a candidature
    /// already opened).
    pub opened_on: Option<IsoDate>,
}

impl Candidature {
    /// Every NRU the candidature uses: those of the administrative step, then those entered late.
    pub fn all_nrus(&self) -> impl Iterator<Item = &Nru> {
        self.nrus
            .iter()
            .chain(self.late.iter().flat_map(|l| l.nrus.iter()))
    }

    /// Whether more than one name is declared for the solution (its own name counts), which
    /// requires the sworn statement (rule R6).
    pub fn has_extra_names(&self) -> bool {
        let mut names: Vec<&str> = self
            .commercial_names
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .collect();
        names.push(self.solution.trim());
        names.sort_unstable();
        names.dedup();
        names.len() > 1
    }
}

#[cfg(test)]
mod tests {
    use super::same_main_component;

    #[test]
    fn main_components_compare_trimmed_and_case_insensitively() {
        assert!(same_main_component("A-core", " a-CORE "));
        assert!(same_main_component("Édition", "édition"));
        assert!(!same_main_component("A-core", "B-core"));
        assert!(!same_main_component("A-core", "A-core 2"));
    }
}
