//! The proof-plan engine: rules R1–R10 (this platform's labels, stated in `docs/rules.md`) as one
//! pure function, [`compute_plan`].
//!
//! It first checks the candidature against the catalogue and the register of referencings and
//! gathers *every* refusal at once (so a form can show them all next to their fields), in a fixed
//! order: target, guichet (R10), the candidature's REM version, profiles, chapters, NRUs (sorted),
//! late NRUs. An unknown REM version of the candidature stops there: its scope is unknown. Only a
//! candidature without refusal gets a plan, computed on its pinned REM version, which gives each
//! requirement of the scope exactly one status with, when it is not a plain "to deposit", its
//! reason:
//!
//! 1. R7: the requirement's chapter has an additional component → to deposit, citing the component;
//! 2. R3 (héritage): périmètre `Vague 1` and a vague-1 NRU of a predecessor holds its profile →
//!    masked, citing the NRU;
//! 3. R2 (équivalence): common with a requirement of the REM version the équivalence referencing
//!    was granted on, in a profile that referencing holds → masked, citing the NRU and the source
//!    requirement;
//! 4. otherwise to deposit.
//!
//! This order is R9's precedence. Where several NRUs or sources could be cited, the choice does
//! not depend on the order the vendor typed the NRUs in: héritage cites the NRU of the first
//! predecessor in catalogue order, équivalence the first source requirement in REM order.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;

use serde::{Deserialize, Serialize};

use crate::candidature::{
    Candidature, LateEntry, Referencing, ReferencingStatus, same_main_component,
};
use crate::catalogue::{Catalogue, Dispositif, DispositifKey, Perimeter, Rem, Requirement, Wave};
use crate::ids::{Nru, RemVersionLabel};

/// Where the engine looks NRUs up: the register of granted referencings.
pub trait Register {
    /// The referencing with this NRU, if any.
    fn find(&self, nru: &Nru) -> Option<&Referencing>;
}

impl Register for [Referencing] {
    fn find(&self, nru: &Nru) -> Option<&Referencing> {
        self.iter().find(|r| &r.nru == nru)
    }
}

impl Register for Vec<Referencing> {
    fn find(&self, nru: &Nru) -> Option<&Referencing> {
        self.as_slice().find(nru)
    }
}

impl<S: BuildHasher> Register for HashMap<Nru, Referencing, S> {
    fn find(&self, nru: &Nru) -> Option<&Referencing> {
        self.get(nru)
    }
}

/// A rule, by this platform's label (R1–R10 are not ANS's numbering; `docs/rules.md` states each
/// in the webinar's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Rule {
    /// Reuse (équivalence or héritage) is for the same solution: an identical main component.
    R1,
    /// Équivalence: vague 2 to vague 2, common requirements of the version the source was
    /// granted on, one NRU.
    R2,
    /// Héritage: vague 1 to vague 2 of the same dispositif.
    R3,
    /// The candidate version is at least every entered referencing's version.
    R4,
    /// An équivalence NRU obtained since submission, entered late.
    R5,
    /// Several commercial names need the sworn statement.
    R6,
    /// An additional component makes its chapters to deposit.
    R7,
    /// Every NRU exists, is the vendor's own and is valid.
    R8,
    /// The target's guichet must be open.
    R10,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The stable refusal codes (`docs/rules.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// More than one vague-2 NRU (R2).
    TooManyEquivalenceNrus,
    /// A vague-2 NRU of the target dispositif itself (R2).
    EquivalenceSameDispositif,
    /// A vague-1 NRU of a dispositif that is not a predecessor of the target (R3).
    HeritageWrongDispositif,
    /// Two vague-1 NRUs of the same predecessor (R3).
    HeritageDuplicatePredecessor,
    /// A dispositif the catalogue does not know.
    UnknownDispositif,
    /// An NRU the register does not know (R8).
    UnknownNru,
    /// An NRU of another vendor (R8).
    NruOtherVendor,
    /// A suspended or withdrawn referencing (R8).
    NruNotValid,
    /// Équivalence or héritage with a different main component (R1).
    MainComponentMismatch,
    /// A candidate version lower than an entered referencing's (R4).
    VersionLower,
    /// An optional profile the target's REM does not have.
    UnknownProfile,
    /// An additional component attached to a chapter the target's REM does not have (R7).
    UnknownChapter,
    /// The target is not a vague-2 dispositif.
    TargetNotVague2,
    /// An NRU entered after submission outside R5's conditions.
    LateNruNotAllowed,
    /// Several commercial names without the sworn statement (R6; blocks submission only).
    MissingHonourStatement,
    /// A candidature opened before the target's guichet opens (R10).
    GuichetNotOpen,
    /// A REM version the catalogue does not have: the candidature's own, or the one a cited
    /// referencing was granted on (R2).
    UnknownRemVersion,
}

impl RefusalCode {
    /// The stable code, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooManyEquivalenceNrus => "too_many_equivalence_nrus",
            Self::EquivalenceSameDispositif => "equivalence_same_dispositif",
            Self::HeritageWrongDispositif => "heritage_wrong_dispositif",
            Self::HeritageDuplicatePredecessor => "heritage_duplicate_predecessor",
            Self::UnknownDispositif => "unknown_dispositif",
            Self::UnknownNru => "unknown_nru",
            Self::NruOtherVendor => "nru_other_vendor",
            Self::NruNotValid => "nru_not_valid",
            Self::MainComponentMismatch => "main_component_mismatch",
            Self::VersionLower => "version_lower",
            Self::UnknownProfile => "unknown_profile",
            Self::UnknownChapter => "unknown_chapter",
            Self::TargetNotVague2 => "target_not_vague2",
            Self::LateNruNotAllowed => "late_nru_not_allowed",
            Self::MissingHonourStatement => "missing_honour_statement",
            Self::GuichetNotOpen => "guichet_not_open",
            Self::UnknownRemVersion => "unknown_rem_version",
        }
    }

    /// Every code, for documentation and exhaustive tests.
    pub const ALL: [RefusalCode; 17] = [
        Self::TooManyEquivalenceNrus,
        Self::EquivalenceSameDispositif,
        Self::HeritageWrongDispositif,
        Self::HeritageDuplicatePredecessor,
        Self::UnknownDispositif,
        Self::UnknownNru,
        Self::NruOtherVendor,
        Self::NruNotValid,
        Self::MainComponentMismatch,
        Self::VersionLower,
        Self::UnknownProfile,
        Self::UnknownChapter,
        Self::TargetNotVague2,
        Self::LateNruNotAllowed,
        Self::MissingHonourStatement,
        Self::GuichetNotOpen,
        Self::UnknownRemVersion,
    ];
}

impl fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: a stable code, the rule, the NRU concerned, the field at fault, and a French message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The stable code.
    pub code: RefusalCode,
    /// The rule, when one applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<Rule>,
    /// The NRU concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nru: Option<Nru>,
    /// The candidature field at fault (the scenario file's key), for forms.
    #[serde(skip)]
    pub field: &'static str,
    /// What is wrong, in French, naming the rule and the NRU.
    pub message: String,
}

impl Refusal {
    fn new(code: RefusalCode, rule: Option<Rule>, field: &'static str, message: String) -> Self {
        Self {
            code,
            rule,
            nru: None,
            field,
            message,
        }
    }

    fn with_nru(mut self, nru: &Nru) -> Self {
        self.nru = Some(nru.clone());
        self
    }
}

/// A requirement's status in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A proof must be deposited.
    ToDeposit,
    /// Masked by héritage (R3).
    MaskedHeritage,
    /// Masked by équivalence (R2).
    MaskedEquivalence,
}

impl Status {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ToDeposit => "to_deposit",
            Self::MaskedHeritage => "masked_heritage",
            Self::MaskedEquivalence => "masked_equivalence",
        }
    }

    /// The French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::ToDeposit => "à déposer",
            Self::MaskedHeritage => "masquée (héritage)",
            Self::MaskedEquivalence => "masquée (équivalence)",
        }
    }

    /// Whether no proof is asked.
    pub fn is_masked(self) -> bool {
        !matches!(self, Self::ToDeposit)
    }
}

/// Why a requirement has its status, when it is not a plain "to deposit".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason<'a> {
    /// R7: to deposit because this additional component is attached to the chapter.
    AdditionalComponent {
        /// The component's name.
        component: &'a str,
    },
    /// R3: masked by this vague-1 referencing.
    Heritage {
        /// The referencing cited.
        referencing: &'a Referencing,
    },
    /// R2: masked by this vague-2 referencing, through this common requirement.
    Equivalence {
        /// The referencing cited.
        referencing: &'a Referencing,
        /// The referencing's dispositif.
        source_dispositif: &'a Dispositif,
        /// The label of the REM version the referencing was granted on.
        source_version: &'a RemVersionLabel,
        /// The common requirement of that REM version.
        source: &'a Requirement,
    },
}

impl Reason<'_> {
    /// The rule applied.
    pub fn rule(&self) -> Rule {
        match self {
            Self::AdditionalComponent { .. } => Rule::R7,
            Self::Heritage { .. } => Rule::R3,
            Self::Equivalence { .. } => Rule::R2,
        }
    }

    /// The NRU cited, if any.
    pub fn nru(&self) -> Option<&Nru> {
        match self {
            Self::AdditionalComponent { .. } => None,
            Self::Heritage { referencing } | Self::Equivalence { referencing, .. } => {
                Some(&referencing.nru)
            }
        }
    }

    /// A French sentence for vendors and instructors, in the webinar's words (the rule's
    /// platform label is carried apart, by [`Self::rule`]).
    pub fn explain(&self) -> String {
        match self {
            Self::AdditionalComponent { component } => format!(
                "Composant additionnel : le composant « {component} » est rattaché à ce chapitre ; toutes ses exigences sont à prouver, quels que soient l'héritage et l'équivalence."
            ),
            Self::Heritage { referencing } => format!(
                "Héritage de la vague 1 : exigence de vague 1 déjà prouvée dans le référencement {} ({}, version {}).",
                referencing.nru, referencing.dispositif, referencing.version
            ),
            Self::Equivalence {
                referencing,
                source_dispositif,
                source_version,
                source,
            } => format!(
                "Équivalence : exigence commune avec l'exigence {} du dispositif {}{}, déjà prouvée dans le référencement {} (version {}).",
                source.id,
                source_dispositif.key,
                // Named only when it is not the version in force, so that the usual sentence
                // stays short.
                if **source_version == source_dispositif.rem_version {
                    String::new()
                } else {
                    format!(" (version « {source_version} » de son REM)")
                },
                referencing.nru,
                referencing.version
            ),
        }
    }
}

/// One requirement of the scope, with its status and reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanEntry<'a> {
    /// The requirement (of the target's REM).
    pub requirement: &'a Requirement,
    /// Its status.
    pub status: Status,
    /// Its reason, for masked requirements and R7 ones.
    pub reason: Option<Reason<'a>>,
}

/// Counts of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    /// Requirements in scope.
    pub in_scope: usize,
    /// Requirements to deposit.
    pub to_deposit: usize,
    /// Requirements masked by héritage.
    pub masked_heritage: usize,
    /// Requirements masked by équivalence.
    pub masked_equivalence: usize,
    /// Proofs expected by the requirements to deposit.
    #[serde(skip)]
    pub proofs_to_deposit: usize,
    /// Proofs no longer asked thanks to héritage and équivalence.
    #[serde(skip)]
    pub proofs_saved: usize,
}

/// The proof plan of a candidature.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The target dispositif.
    pub target: &'a Dispositif,
    /// The REM version the plan was computed on: the candidature's pinned one.
    pub rem: &'a Rem,
    /// Its label.
    pub rem_version: &'a RemVersionLabel,
    /// The requirements in scope, in REM order.
    pub entries: Vec<PlanEntry<'a>>,
    /// The counts.
    pub summary: Summary,
    /// The héritage referencings used, in predecessor order.
    pub heritage: Vec<&'a Referencing>,
    /// The équivalence referencing used, if any.
    pub equivalence: Option<&'a Referencing>,
    /// Refusals that do not prevent the plan but block submission (R6).
    pub warnings: Vec<Refusal>,
}

/// Computes the proof plan of `candidature`, or every refusal that prevents it.
pub fn compute_plan<'a, R: Register + ?Sized>(
    catalogue: &'a Catalogue,
    register: &'a R,
    candidature: &'a Candidature,
) -> Result<Plan<'a>, Vec<Refusal>> {
    let mut refusals = Vec::new();
    let target = match check_target(catalogue, candidature, &mut refusals) {
        TargetCheck::Stop => return Err(refusals),
        TargetCheck::Unknown => None,
        TargetCheck::Found(target) => Some(target),
    };
    let (heritage, equivalence) = classify_nrus(
        catalogue,
        register,
        candidature,
        target.as_ref(),
        &mut refusals,
    );
    if let Some(late) = &candidature.late {
        check_late_nrus(register, late, target.as_ref(), &mut refusals);
    }
    let Some(target) = target else {
        return Err(refusals);
    };
    if !refusals.is_empty() {
        return Err(refusals);
    }
    let mut warnings = Vec::new();
    if candidature.has_extra_names() && !candidature.honour_statement {
        warnings.push(Refusal::new(
            RefusalCode::MissingHonourStatement,
            Some(Rule::R6),
            "honour_statement",
            "R6 : plusieurs noms commerciaux sont déclarés sans l'attestation sur l'honneur indiquant qu'il s'agit de la même solution ; la candidature ne pourra pas être déposée sans elle.".to_owned(),
        ));
    }
    Ok(build_plan(
        catalogue,
        candidature,
        &target,
        heritage,
        equivalence,
        warnings,
    ))
}

/// The target dispositif and the REM version the candidature is pinned to.
struct Target<'a> {
    /// Its position in the catalogue.
    index: usize,
    dispositif: &'a Dispositif,
    /// The pinned version's index (see `Dispositif::version_index`), its REM and its label.
    version: usize,
    rem: &'a Rem,
    label: &'a RemVersionLabel,
}

/// What the target's checks found.
enum TargetCheck<'a> {
    /// No usable target: the NRUs are still checked.
    Unknown,
    /// The candidature's REM version is unknown: nothing else is checked.
    Stop,
    /// A vague-2 target with its pinned version.
    Found(Target<'a>),
}

/// Checks the target, its guichet (R10), the candidature's REM version, its optional profiles
/// and the components' chapters, in that order.
fn check_target<'a>(
    catalogue: &'a Catalogue,
    c: &Candidature,
    refusals: &mut Vec<Refusal>,
) -> TargetCheck<'a> {
    let Some(ti) = catalogue.position(&c.target) else {
        refusals.push(Refusal::new(
            RefusalCode::UnknownDispositif,
            None,
            "dispositif",
            format!(
                "Le dispositif cible {} n'existe pas dans le catalogue.",
                c.target
            ),
        ));
        return TargetCheck::Unknown;
    };
    let target = catalogue.dispositif_at(ti);
    if target.rem.is_none() || target.key.wave != Wave::Two {
        refusals.push(Refusal::new(
            RefusalCode::TargetNotVague2,
            None,
            "wave",
            format!(
                "Le dispositif cible {} est un dispositif de vague 1 : une candidature vise un dispositif de vague 2.",
                c.target
            ),
        ));
        return TargetCheck::Unknown;
    }
    if let (Some(opens_on), Some(on)) = (target.opens_on, c.opened_on)
        && on < opens_on
    {
        refusals.push(Refusal::new(
            RefusalCode::GuichetNotOpen,
            Some(Rule::R10),
            "on",
            format!(
                "R10 : le guichet du dispositif {} n'ouvre que le {} ; une candidature ne peut pas y être ouverte le {}.",
                target.key,
                opens_on.to_french(),
                on.to_french()
            ),
        ));
    }
    let Some((version, rem)) = target
        .version_index(c.rem_version.as_ref())
        .and_then(|vi| Some((vi, target.rem_at(vi)?)))
    else {
        refusals.push(Refusal::new(
            RefusalCode::UnknownRemVersion,
            None,
            "rem_version",
            format!(
                "La version « {} » du REM du dispositif {} n'existe pas dans le catalogue (versions connues : {}).",
                c.rem_version.as_ref().map_or("", |v| v.as_str()),
                target.key,
                target.version_labels()
            ),
        ));
        return TargetCheck::Stop;
    };
    for p in &c.optional_profiles {
        if rem.profile_index(p).is_none() {
            let known: Vec<&str> = rem.optional_profiles().map(|p| p.as_str()).collect();
            refusals.push(Refusal::new(
                RefusalCode::UnknownProfile,
                None,
                "optional_profiles",
                format!(
                    "Le profil « {p} » n'existe pas dans le REM du dispositif {} (profils optionnels : {}).",
                    target.key.code,
                    if known.is_empty() { "aucun".to_owned() } else { known.join(", ") }
                ),
            ));
        }
    }
    for component in &c.additional_components {
        for chapter in &component.chapters {
            if rem.chapter_index(chapter).is_none() {
                refusals.push(Refusal::new(
                    RefusalCode::UnknownChapter,
                    Some(Rule::R7),
                    "additional_components",
                    format!(
                        "R7 : le composant additionnel « {} » est rattaché au chapitre « {chapter} », qui n'existe pas dans le REM du dispositif {}.",
                        component.name, target.key.code
                    ),
                ));
            }
        }
    }
    TargetCheck::Found(Target {
        index: ti,
        dispositif: target,
        version,
        rem,
        label: target.label_at(version),
    })
}

/// An équivalence referencing with the index of the REM version it was granted on (`None` when
/// the catalogue does not have that version: refused).
type EquivalenceSource<'a> = (&'a Referencing, Option<usize>);

/// Checks every NRU (R1, R2, R3, R4, R8) and sorts the usable ones into héritage (in predecessor
/// order) and équivalence.
fn classify_nrus<'a, R: Register + ?Sized>(
    catalogue: &'a Catalogue,
    register: &'a R,
    c: &Candidature,
    target: Option<&Target<'a>>,
    refusals: &mut Vec<Refusal>,
) -> (Vec<&'a Referencing>, Vec<EquivalenceSource<'a>>) {
    let mut nrus: Vec<&Nru> = c.all_nrus().collect();
    nrus.sort_unstable();
    nrus.dedup();

    let mut heritage: Vec<(usize, &Referencing)> = Vec::new();
    let mut equivalence: Vec<EquivalenceSource<'a>> = Vec::new();
    for nru in nrus {
        let Some(r) = usable_referencing(catalogue, register, c, nru, refusals) else {
            continue;
        };
        let Some(target) = target.map(|t| t.dispositif) else {
            continue;
        };
        match r.dispositif.wave {
            Wave::Two if r.dispositif.code == target.key.code => refusals.push(
                Refusal::new(
                    RefusalCode::EquivalenceSameDispositif,
                    Some(Rule::R2),
                    "nrus",
                    format!(
                        "R2 : le NRU {nru} est un référencement du dispositif cible {} lui-même ; ce n'est pas une équivalence mais un renouvellement.",
                        target.key
                    ),
                )
                .with_nru(nru),
            ),
            Wave::Two => {
                if !same_main_component(&r.main_component, &c.main_component) {
                    refusals.push(
                        Refusal::new(
                            RefusalCode::MainComponentMismatch,
                            Some(Rule::R1),
                            "main_component",
                            format!(
                                "R1 : l'équivalence exige un composant principal identique ; celui de la candidature (« {} ») diffère de celui du référencement {nru} (« {} »).",
                                c.main_component, r.main_component
                            ),
                        )
                        .with_nru(nru),
                    );
                }
                equivalence.push((r, granted_version(catalogue, r, refusals)));
            }
            Wave::One => {
                if !same_main_component(&r.main_component, &c.main_component) {
                    refusals.push(
                        Refusal::new(
                            RefusalCode::MainComponentMismatch,
                            Some(Rule::R1),
                            "main_component",
                            format!(
                                "R1 : l'héritage vaut pour la même solution, donc un composant principal identique ; celui de la candidature (« {} ») diffère de celui du référencement {nru} (« {} »).",
                                c.main_component, r.main_component
                            ),
                        )
                        .with_nru(nru),
                    );
                }
                classify_heritage(target, r, nru, &mut heritage, refusals);
            }
        }
    }
    if equivalence.len() > 1 {
        let listed = equivalence
            .iter()
            .map(|(r, _)| r.nru.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        for (r, _) in &equivalence {
            refusals.push(
                Refusal::new(
                    RefusalCode::TooManyEquivalenceNrus,
                    Some(Rule::R2),
                    "nrus",
                    format!(
                        "R2 : un seul NRU de vague 2 est admis par candidature pour l'équivalence ; la candidature en compte {} ({listed}).",
                        equivalence.len()
                    ),
                )
                .with_nru(&r.nru),
            );
        }
    }
    heritage.sort_by_key(|(order, _)| *order);
    (heritage.into_iter().map(|(_, r)| r).collect(), equivalence)
}

/// R3: a vague-1 NRU must be of one of the target's predecessors, one per predecessor; a usable
/// one joins `heritage` with its predecessor's order.
fn classify_heritage<'a>(
    target: &Dispositif,
    r: &'a Referencing,
    nru: &Nru,
    heritage: &mut Vec<(usize, &'a Referencing)>,
    refusals: &mut Vec<Refusal>,
) {
    match target
    .predecessors
    .iter()
    .position(|p| p == &r.dispositif.code)
{
    None => refusals.push(
        Refusal::new(
            RefusalCode::HeritageWrongDispositif,
            Some(Rule::R3),
            "nrus",
            format!(
                "R3 : le NRU {nru} est un référencement de {}, qui n'est pas un prédécesseur de {} ; l'héritage se fait de la vague 1 à la vague 2 du même dispositif{}.",
                r.dispositif,
                target.key,
                if target.predecessors.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({})",
                        target
                            .predecessors
                            .iter()
                            .map(|p| p.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ),
        )
        .with_nru(nru),
    ),
    Some(order) => {
        if let Some((_, first)) = heritage.iter().find(|(o, _)| *o == order) {
            refusals.push(
                Refusal::new(
                    RefusalCode::HeritageDuplicatePredecessor,
                    Some(Rule::R3),
                    "nrus",
                    format!(
                        "R3 : un seul NRU par dispositif prédécesseur ; les NRU {} et {nru} sont tous deux des référencements de {}.",
                        first.nru, r.dispositif
                    ),
                )
                .with_nru(nru),
            );
        } else {
            heritage.push((order, r));
        }
    }
}
}

/// R2: the index of the REM version an équivalence referencing was granted on, or a refusal
/// naming it when the catalogue does not have that version.
fn granted_version(
    catalogue: &Catalogue,
    r: &Referencing,
    refusals: &mut Vec<Refusal>,
) -> Option<usize> {
    let source = catalogue.dispositif(&r.dispositif)?;
    let found = source.version_index(r.rem_version.as_ref());
    if found.is_none() {
        refusals.push(
            Refusal::new(
                RefusalCode::UnknownRemVersion,
                Some(Rule::R2),
                "nrus",
                format!(
                    "R2 : le référencement {} a été accordé sur la version « {} » du REM de {}, absente du catalogue (versions connues : {}) ; les exigences communes ne peuvent pas être calculées.",
                    r.nru,
                    r.rem_version.as_ref().map_or("", |v| v.as_str()),
                    source.key,
                    source.version_labels()
                ),
            )
            .with_nru(&r.nru),
        );
    }
    found
}

/// R8 (exists, same vendor, valid), a known dispositif, then R4. Returns the referencing if it
/// can be classified.
fn usable_referencing<'a, R: Register + ?Sized>(
    catalogue: &Catalogue,
    register: &'a R,
    c: &Candidature,
    nru: &Nru,
    refusals: &mut Vec<Refusal>,
) -> Option<&'a Referencing> {
    let Some(r) = register.find(nru) else {
        refusals.push(
            Refusal::new(
                RefusalCode::UnknownNru,
                Some(Rule::R8),
                "nrus",
                format!("R8 : le NRU {nru} ne correspond à aucun référencement connu."),
            )
            .with_nru(nru),
        );
        return None;
    };
    if r.vendor != c.vendor {
        // Says nothing of the other vendor's referencing beyond that it is not this vendor's.
        refusals.push(
            Refusal::new(
                RefusalCode::NruOtherVendor,
                Some(Rule::R8),
                "nrus",
                format!("R8 : le NRU {nru} n'est pas un référencement de votre organisation."),
            )
            .with_nru(nru),
        );
        return None;
    }
    let mut usable = true;
    if r.status != ReferencingStatus::Valid {
        refusals.push(
            Refusal::new(
                RefusalCode::NruNotValid,
                Some(Rule::R8),
                "nrus",
                format!(
                    "R8 : le référencement {nru} est {} ; seul un référencement valide peut être utilisé.",
                    r.status.label()
                ),
            )
            .with_nru(nru),
        );
        usable = false;
    }
    if catalogue.position(&r.dispositif).is_none() {
        refusals.push(
            Refusal::new(
                RefusalCode::UnknownDispositif,
                None,
                "nrus",
                format!(
                    "Le référencement {nru} porte sur le dispositif {}, absent du catalogue.",
                    r.dispositif
                ),
            )
            .with_nru(nru),
        );
        usable = false;
    }
    if c.version < r.version {
        refusals.push(
            Refusal::new(
                RefusalCode::VersionLower,
                Some(Rule::R4),
                "version",
                format!(
                    "R4 : la version candidate {} est inférieure à la version {} du référencement {nru} ; elle doit lui être égale ou supérieure.",
                    c.version, r.version
                ),
            )
            .with_nru(nru),
        );
    }
    usable.then_some(r)
}

/// R5: an NRU entered after submission must be an équivalence NRU obtained since (granted
/// strictly after the submission day, when both days are known), and the dossier must have been
/// complete by the target's date 2.
fn check_late_nrus<R: Register + ?Sized>(
    register: &R,
    late: &LateEntry,
    target: Option<&Target<'_>>,
    refusals: &mut Vec<Refusal>,
) {
    let date2 = target.and_then(|t| t.dispositif.date2);
    for nru in &late.nrus {
        let found = register.find(nru);
        let granted_on = found.and_then(|r| r.granted_on);
        let why = if found.map(|r| r.dispositif.wave) == Some(Wave::One) {
            Some("seul un NRU de vague 2 (équivalence) peut être renseigné après le dépôt ; l'héritage se déclare à l'étape administrative initiale".to_owned())
        } else if let (Some(granted), Some(submitted)) = (granted_on, late.submitted_on)
            && granted <= submitted
        {
            Some(format!(
                "ce référencement a été accordé le {}, avant ou le jour même du dépôt du {} ; seul un référencement obtenu entre temps peut être ajouté, les autres se déclarent à l'étape administrative",
                granted.to_french(),
                submitted.to_french()
            ))
        } else {
            match (late.complete_on, date2) {
                (_, None) => Some("le dispositif cible n'a pas de date 2".to_owned()),
                (None, Some(d2)) => Some(format!(
                    "aucun dossier complet n'a été déposé (date 2 : {})",
                    d2.to_french()
                )),
                (Some(done), Some(d2)) if done > d2 => Some(format!(
                    "le dossier n'a été complet que le {}, après la date 2 du {}",
                    done.to_french(),
                    d2.to_french()
                )),
                _ => None,
            }
        };
        if let Some(why) = why {
            refusals.push(
                Refusal::new(
                    RefusalCode::LateNruNotAllowed,
                    Some(Rule::R5),
                    "late_nrus",
                    format!("R5 : le NRU {nru} ne peut pas être ajouté après le dépôt : {why}."),
                )
                .with_nru(nru),
            );
        }
    }
}

/// How many requirements of `target`'s REM in force (every profile) the vague-2 referencing
/// `source` could mask by équivalence (R2): those common with a requirement of the REM version
/// it was granted on, in a profile it holds. The same matching as the plan's, without a
/// candidature: what the REM impact analysis compares before and after a new version is put in
/// force. `None` when `source` is not a vague-2 referencing of another dispositif of the
/// catalogue, or the version it was granted on is unknown.
pub fn equivalence_reach(
    catalogue: &Catalogue,
    target: &DispositifKey,
    source: &Referencing,
) -> Option<usize> {
    if source.dispositif.wave != Wave::Two || &source.dispositif == target {
        return None;
    }
    let ti = catalogue.position(target)?;
    let rem = catalogue.dispositif_at(ti).rem.as_ref()?;
    let target_index = catalogue.rem_index(ti, 0)?;
    let si = catalogue.position(&source.dispositif)?;
    let d = catalogue.dispositif_at(si);
    let vi = d.version_index(source.rem_version.as_ref())?;
    let srem = d.rem_at(vi)?;
    let sindex = catalogue.rem_index(si, vi)?;
    let held: Vec<bool> = srem.profiles().iter().map(|p| source.holds(p)).collect();
    Some(
        (0..rem.requirements().len())
            .filter(|&pos| {
                target_index.keys_of(pos).iter().any(|&k| {
                    sindex
                        .with_key(k)
                        .iter()
                        .any(|&sp| held[srem.profile_of(sp as usize)])
                })
            })
            .count(),
    )
}

fn build_plan<'a>(
    catalogue: &'a Catalogue,
    c: &'a Candidature,
    target: &Target<'a>,
    heritage: Vec<&'a Referencing>,
    equivalence: Vec<EquivalenceSource<'a>>,
    warnings: Vec<Refusal>,
) -> Plan<'a> {
    let rem = target.rem;
    let target_index = catalogue.rem_index(target.index, target.version);
    let profiles = rem.profiles();

    // Scope: Général (index 0) and the chosen profiles.
    let mut in_scope = vec![false; profiles.len()];
    in_scope[0] = true;
    for p in &c.optional_profiles {
        if let Some(i) = rem.profile_index(p) {
            in_scope[i] = true;
        }
    }

    // R7: the first component attached to each chapter.
    let mut component_of: Vec<Option<&'a str>> = vec![None; rem.chapters().len()];
    for component in &c.additional_components {
        for chapter in &component.chapters {
            if let Some(i) = rem.chapter_index(chapter) {
                component_of[i].get_or_insert(component.name.as_str());
            }
        }
    }

    // R3: for each profile, the first héritage referencing (predecessor order) holding it.
    let heritage_of: Vec<Option<&'a Referencing>> = profiles
        .iter()
        .map(|p| heritage.iter().copied().find(|r| r.holds(p)))
        .collect();

    // R2: the équivalence dispositif, the REM version its referencing was granted on, and the
    // profiles of that version the referencing holds.
    let equivalence = equivalence.into_iter().next();
    let source = equivalence.and_then(|(r, vi)| {
        let vi = vi?;
        let ei = catalogue.position(&r.dispositif)?;
        let d = catalogue.dispositif_at(ei);
        let rem = d.rem_at(vi)?;
        let index = catalogue.rem_index(ei, vi)?;
        let held: Vec<bool> = rem.profiles().iter().map(|p| r.holds(p)).collect();
        Some((r, d, d.label_at(vi), rem, index, held))
    });
    let equivalence = equivalence.map(|(r, _)| r);

    let mut entries = Vec::with_capacity(rem.requirements().len());
    let mut summary = Summary::default();
    for (pos, requirement) in rem.requirements().iter().enumerate() {
        let profile = rem.profile_of(pos);
        if !in_scope[profile] {
            continue;
        }
        let (status, reason) = if let Some(component) = component_of[rem.chapter_of(pos)] {
            (
                Status::ToDeposit,
                Some(Reason::AdditionalComponent { component }),
            )
        } else if let (Perimeter::Wave1, Some(referencing)) =
            (requirement.perimeter, heritage_of[profile])
        {
            (
                Status::MaskedHeritage,
                Some(Reason::Heritage { referencing }),
            )
        } else if let Some(found) = source
            .as_ref()
            .and_then(|(r, d, label, srem, sindex, held)| {
                target_index?
                    .keys_of(pos)
                    .iter()
                    .filter_map(|&k| {
                        sindex
                            .with_key(k)
                            .iter()
                            .copied()
                            .find(|&sp| held[srem.profile_of(sp as usize)])
                    })
                    .min()
                    .map(|sp| Reason::Equivalence {
                        referencing: r,
                        source_dispositif: d,
                        source_version: label,
                        source: &srem.requirements()[sp as usize],
                    })
            })
        {
            (Status::MaskedEquivalence, Some(found))
        } else {
            (Status::ToDeposit, None)
        };
        summary.in_scope += 1;
        let proofs = requirement.proof_count();
        match status {
            Status::ToDeposit => {
                summary.to_deposit += 1;
                summary.proofs_to_deposit += proofs;
            }
            Status::MaskedHeritage => {
                summary.masked_heritage += 1;
                summary.proofs_saved += proofs;
            }
            Status::MaskedEquivalence => {
                summary.masked_equivalence += 1;
                summary.proofs_saved += proofs;
            }
        }
        entries.push(PlanEntry {
            requirement,
            status,
            reason,
        });
    }
    Plan {
        target: target.dispositif,
        rem,
        rem_version: target.label,
        entries,
        summary,
        heritage,
        equivalence,
        warnings,
    }
}
