//! The scenario file (what-if simulation) and its answer, as `docs/rules.md` describes them.
//!
//! The command line (`preuves simulate`) and the API read the same [`ScenarioFile`] and print the
//! same [`Answer`], so a vendor can check a plan before filing. Unknown keys are refused, so that a
//! typo (`optional_profile`) is an error rather than a silently different plan.
//!
//! Besides its required keys, a candidature may carry `late_nrus` (NRUs entered after submission),
//! `complete_on` (the day its dossier became complete) and `submitted_on` (its submission day), so
//! that rule R5 can be simulated; `rem_version` (the REM version it is pinned to, default the one
//! in force); and `on` (the day it is opened, for R10's guichet calendar, which is checked only
//! when given). A referencing may carry `rem_version` (the version it was granted on, default the
//! one in force) and `granted_on`. The answer also carries `warnings`: refusals that do not
//! prevent the plan but block submission (`missing_honour_statement`). With errors, `summary` is
//! `null` and `requirements` is empty.
//!
//! A candidature cites at most [`MAX_SCENARIO_NRUS`] NRUs (`nrus`, and as many `late_nrus`): a
//! real one cites a handful, and a file citing thousands would make the answer grow with their
//! square (each R2 refusal lists every équivalence NRU).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::candidature::{
    AdditionalComponent, Candidature, LateEntry, Referencing, ReferencingStatus,
};
use crate::catalogue::{Catalogue, DispositifKey, Perimeter, Wave};
use crate::date::IsoDate;
use crate::ids::{
    ChapterCode, DispositifCode, Nru, Profile, RemVersionLabel, RequirementId, Siren,
};
use crate::plan::{Plan, Reason, Refusal, RefusalCode, Rule, Status, Summary, compute_plan};
use crate::version::Version;

/// The most NRUs a scenario's candidature may cite in `nrus`, and in `late_nrus`.
pub const MAX_SCENARIO_NRUS: usize = 100;

/// A list of NRUs of at most [`MAX_SCENARIO_NRUS`].
fn bounded_nrus<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Nru>, D::Error> {
    let nrus = Vec::<Nru>::deserialize(d)?;
    if nrus.len() > MAX_SCENARIO_NRUS {
        return Err(serde::de::Error::custom(format!(
            "une candidature cite au plus {MAX_SCENARIO_NRUS} NRU (ici {})",
            nrus.len()
        )));
    }
    Ok(nrus)
}

/// A scenario: the referencings known and the candidature to evaluate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// The register of referencings the candidature's NRUs are looked up in.
    #[serde(default)]
    pub referencings: Vec<ScenarioReferencing>,
    /// The candidature.
    pub candidature: ScenarioCandidature,
}

/// A referencing of the scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioReferencing {
    /// Its NRU.
    pub nru: Nru,
    /// The vendor's SIREN.
    pub vendor: Siren,
    /// The dispositif code.
    pub dispositif: DispositifCode,
    /// The wave.
    pub wave: Wave,
    /// The profiles it holds.
    #[serde(default)]
    pub profiles: Vec<Profile>,
    /// The solution's name.
    pub solution: String,
    /// The main component.
    pub main_component: String,
    /// The version referenced.
    pub version: Version,
    /// `valid` (default), `suspended` or `withdrawn`.
    #[serde(default = "valid")]
    pub status: ReferencingStatus,
    /// The REM version it was granted on (default: the version in force).
    #[serde(default)]
    pub rem_version: Option<RemVersionLabel>,
    /// The day it was granted (R5 compares it with the candidature's `submitted_on`).
    #[serde(default)]
    pub granted_on: Option<IsoDate>,
}

fn valid() -> ReferencingStatus {
    ReferencingStatus::Valid
}

fn wave_two() -> Wave {
    Wave::Two
}

/// The candidature of the scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioCandidature {
    /// The vendor's SIREN.
    pub vendor: Siren,
    /// The target dispositif code.
    pub dispositif: DispositifCode,
    /// The target's wave (2 by default; 1 is refused with `target_not_vague2`).
    #[serde(default = "wave_two")]
    pub wave: Wave,
    /// Optional profiles chosen.
    #[serde(default)]
    pub optional_profiles: Vec<Profile>,
    /// The solution's name.
    pub solution: String,
    /// The main component.
    pub main_component: String,
    /// The candidate version.
    pub version: Version,
    /// NRUs entered at the administrative step (at most [`MAX_SCENARIO_NRUS`]).
    #[serde(default, deserialize_with = "bounded_nrus")]
    pub nrus: Vec<Nru>,
    /// Additional components.
    #[serde(default)]
    pub additional_components: Vec<AdditionalComponent>,
    /// Commercial names.
    #[serde(default)]
    pub commercial_names: Vec<String>,
    /// Whether the sworn statement is given.
    #[serde(default)]
    pub honour_statement: bool,
    /// NRUs entered after submission (R5; at most [`MAX_SCENARIO_NRUS`]).
    #[serde(default, deserialize_with = "bounded_nrus")]
    pub late_nrus: Vec<Nru>,
    /// The day the dossier became complete (R5).
    #[serde(default)]
    pub complete_on: Option<IsoDate>,
    /// The day the candidature was submitted (R5: a late NRU must be granted after it).
    #[serde(default)]
    pub submitted_on: Option<IsoDate>,
    /// The REM version the candidature is pinned to (default: the version in force).
    #[serde(default)]
    pub rem_version: Option<RemVersionLabel>,
    /// The day the candidature is opened, for R10 (checked only when given).
    #[serde(default)]
    pub on: Option<IsoDate>,
}

/// Why a scenario file could not be read: where, and what, in French.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {}{message}", if path.is_empty() { String::new() } else { format!("{path} : ") })]
pub struct ScenarioError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The key path of the value at fault (`candidature.vendor`), empty at the top.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl ScenarioFile {
    /// Parses a scenario from JSON text, naming the line, column and key path of any error.
    pub fn from_json(text: &str) -> Result<Self, ScenarioError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            // serde_json appends " at line L column C" to its messages: we report them apart.
            let raw = inner.to_string();
            let message = raw
                .rfind(" at line ")
                .map_or(raw.as_str(), |i| &raw[..i])
                .to_owned();
            let message = match inner.classify() {
                serde_json::error::Category::Syntax => format!("JSON mal formé : {message}"),
                serde_json::error::Category::Eof => {
                    "le fichier s'arrête avant la fin du JSON".to_owned()
                }
                serde_json::error::Category::Io | serde_json::error::Category::Data => message,
            };
            ScenarioError {
                line: inner.line(),
                column: inner.column(),
                path: if path == "." { String::new() } else { path },
                message,
            }
        })
    }

    /// The register and candidature as domain values.
    pub fn to_domain(&self) -> (Vec<Referencing>, Candidature) {
        let referencings = self
            .referencings
            .iter()
            .map(|r| Referencing {
                nru: r.nru.clone(),
                vendor: r.vendor.clone(),
                dispositif: DispositifKey {
                    code: r.dispositif.clone(),
                    wave: r.wave,
                },
                profiles: r.profiles.clone(),
                solution: r.solution.clone(),
                main_component: r.main_component.clone(),
                version: r.version.clone(),
                status: r.status,
                rem_version: r.rem_version.clone(),
                granted_on: r.granted_on,
            })
            .collect();
        let c = &self.candidature;
        let late = (!c.late_nrus.is_empty() || c.complete_on.is_some()).then(|| LateEntry {
            complete_on: c.complete_on,
            submitted_on: c.submitted_on,
            nrus: c.late_nrus.clone(),
        });
        let candidature = Candidature {
            vendor: c.vendor.clone(),
            target: DispositifKey {
                code: c.dispositif.clone(),
                wave: c.wave,
            },
            optional_profiles: c.optional_profiles.clone(),
            solution: c.solution.clone(),
            main_component: c.main_component.clone(),
            version: c.version.clone(),
            nrus: c.nrus.clone(),
            additional_components: c.additional_components.clone(),
            commercial_names: c.commercial_names.clone(),
            honour_statement: c.honour_statement,
            late,
            rem_version: c.rem_version.clone(),
            opened_on: c.on,
        };
        (referencings, candidature)
    }

    /// Evaluates the scenario against a catalogue.
    pub fn evaluate(&self, catalogue: &Catalogue) -> Answer {
        let (referencings, candidature) = self.to_domain();
        // Indexed by NRU, so that a file with many referencings and NRUs costs linear time
        // (a slice is searched front to back for each NRU); the first of duplicates wins, as
        // in a slice.
        let mut register: HashMap<Nru, Referencing> = HashMap::with_capacity(referencings.len());
        for r in referencings {
            register.entry(r.nru.clone()).or_insert(r);
        }
        Answer::new(&compute_plan(catalogue, &register, &candidature))
    }
}

/// A refusal as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerError {
    /// The stable code.
    pub code: RefusalCode,
    /// The French message.
    pub message: String,
    /// The NRU concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nru: Option<Nru>,
    /// The rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<Rule>,
}

impl From<&Refusal> for AnswerError {
    fn from(r: &Refusal) -> Self {
        Self {
            code: r.code,
            message: r.message.clone(),
            nru: r.nru.clone(),
            rule: r.rule,
        }
    }
}

/// A requirement's reason as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerReason {
    /// `R2`, `R3` or `R7`.
    pub rule: Rule,
    /// The NRU cited (R2, R3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nru: Option<Nru>,
    /// The common requirement of the équivalence dispositif (R2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_requirement: Option<RequirementId>,
    /// The additional component (R7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
}

impl From<&Reason<'_>> for AnswerReason {
    fn from(reason: &Reason<'_>) -> Self {
        Self {
            rule: reason.rule(),
            nru: reason.nru().cloned(),
            source_requirement: match reason {
                Reason::Equivalence { source, .. } => Some(source.id.clone()),
                _ => None,
            },
            component: match reason {
                Reason::AdditionalComponent { component } => Some((*component).to_owned()),
                _ => None,
            },
        }
    }
}

/// A requirement of the plan as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerRequirement {
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
    pub reason: Option<AnswerReason>,
}

/// The answer to a scenario (`docs/rules.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// Refusals preventing the plan.
    pub errors: Vec<AnswerError>,
    /// Refusals that block submission only.
    pub warnings: Vec<AnswerError>,
    /// The counts, or `null` with errors.
    pub summary: Option<Summary>,
    /// The requirements in scope, in REM order; empty with errors.
    pub requirements: Vec<AnswerRequirement>,
}

impl Answer {
    /// The answer for a plan or its refusals.
    pub fn new(result: &Result<Plan<'_>, Vec<Refusal>>) -> Self {
        match result {
            Ok(plan) => Self {
                errors: Vec::new(),
                warnings: plan.warnings.iter().map(AnswerError::from).collect(),
                summary: Some(plan.summary),
                requirements: plan
                    .entries
                    .iter()
                    .map(|e| AnswerRequirement {
                        id: e.requirement.id.clone(),
                        perimeter: e.requirement.perimeter,
                        profile: e.requirement.profile.clone(),
                        chapter: e.requirement.chapter_code.clone(),
                        status: e.status,
                        reason: e.reason.as_ref().map(AnswerReason::from),
                    })
                    .collect(),
            },
            Err(refusals) => Self {
                errors: refusals.iter().map(AnswerError::from).collect(),
                warnings: Vec::new(),
                summary: None,
                requirements: Vec::new(),
            },
        }
    }

    /// The answer as pretty-printed JSON.
    pub fn to_json_pretty(&self) -> String {
        // Serialising plain structs of strings and numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}
