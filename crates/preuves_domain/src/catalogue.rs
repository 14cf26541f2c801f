//! The catalogue: dispositifs, their REM versions (requirement lists) with scenarios and expected
//! proofs, their guichet calendar, and which requirements of two dispositifs are *common*.
//!
//! A [`Catalogue`] is built once (from files or the database) and then only read. Building it
//! checks its consistency and precomputes the indexes the engine needs, so that computing a plan
//! does no string hashing: every requirement knows the dense indexes of its profile and chapter in
//! its REM, and its *common keys* (one per socle id, one per equivalence-table pair), each key
//! mapping to the requirements of every REM version that carry it.
//!
//! A vague-2 dispositif holds the REM version in force and the older ones it keeps (oldest
//! first): a referencing granted on an older version reuses only what that version asked
//! (`docs/rules.md`, R2), and a candidature keeps the version it was filed on.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::date::IsoDate;
use crate::ids::{ChapterCode, DispositifCode, Profile, RemVersionLabel, RequirementId, SocleId};

/// A wave of the Ségur programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Wave {
    /// Vague 1.
    One,
    /// Vague 2.
    Two,
}

impl Wave {
    /// Parses `1` or `2`.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(Self::One),
            2 => Some(Self::Two),
            _ => None,
        }
    }

    /// The wave's number.
    pub fn number(self) -> u8 {
        match self {
            Self::One => 1,
            Self::Two => 2,
        }
    }
}

impl fmt::Display for Wave {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

impl Serialize for Wave {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

impl<'de> Deserialize<'de> for Wave {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        Self::from_number(n)
            .ok_or_else(|| serde::de::Error::custom(format!("vague {n} inconnue (1 ou 2 attendu)")))
    }
}

/// On a requirement of a vague-2 REM: carried over from vague 1, or new in vague 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Perimeter {
    /// `Vague 1`: may be masked by héritage.
    #[serde(rename = "Vague 1")]
    Wave1,
    /// `Vague 2`.
    #[serde(rename = "Vague 2")]
    Wave2,
}

impl Perimeter {
    /// Parses the REM's spelling, `Vague 1` or `Vague 2` (case and inner spaces are forgiven).
    pub fn parse(raw: &str) -> Option<Self> {
        let compact: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        match compact.as_str() {
            "vague1" => Some(Self::Wave1),
            "vague2" => Some(Self::Wave2),
            _ => None,
        }
    }

    /// The REM's spelling.
    pub fn label(self) -> &'static str {
        match self {
            Self::Wave1 => "Vague 1",
            Self::Wave2 => "Vague 2",
        }
    }
}

impl fmt::Display for Perimeter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One proof a scenario expects (`N° preuve`, `Preuve`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProofSpec {
    /// The proof number as written (`INS/va1.12.01.01`); may be absent in imperfect REMs.
    pub id: Option<String>,
    /// What the proof must show.
    pub text: String,
}

/// A conformity scenario of a requirement, with the proofs it expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scenario {
    /// The scenario number as written (`INS/va1.12.01`); may be absent in imperfect REMs.
    pub id: Option<String>,
    /// The scenario text.
    pub text: String,
    /// The proofs expected, in REM order.
    pub proofs: Vec<ProofSpec>,
}

/// A requirement (*exigence*) of a REM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// The requirement id, unique in its REM.
    pub id: RequirementId,
    /// `Vague 1` or `Vague 2`.
    pub perimeter: Perimeter,
    /// The chapter code, derived from the id.
    pub chapter_code: ChapterCode,
    /// The chapter label (`Chapitre`).
    pub chapter: String,
    /// `Fonction`.
    pub function: String,
    /// `Exigence`: the requirement text.
    pub text: String,
    /// `Commentaire`.
    pub comment: String,
    /// `Profil`.
    pub profile: Profile,
    /// `Profil historique` (the vague-1 profile, on vague-1 rows).
    pub historical_profile: String,
    /// `Criticité`.
    pub criticality: String,
    /// `Exigence socle`: the shared master requirement, if any.
    pub socle_id: Option<SocleId>,
    /// `ID vague 1`: the requirement's number in the vague-1 REM, on vague-1 rows.
    pub wave1_id: Option<String>,
    /// The conformity scenarios, in REM order.
    pub scenarios: Vec<Scenario>,
}

impl Requirement {
    /// How many proofs this requirement's scenarios expect.
    pub fn proof_count(&self) -> usize {
        self.scenarios.iter().map(|s| s.proofs.len()).sum()
    }
}

/// A REM: the requirements of a vague-2 dispositif, in REM order, with dense indexes of their
/// profiles and chapters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rem {
    requirements: Vec<Requirement>,
    profiles: Vec<Profile>,
    chapters: Vec<ChapterCode>,
    profile_of: Vec<u16>,
    chapter_of: Vec<u16>,
}

impl Rem {
    /// Builds a REM from requirements in REM order. Ids must be unique.
    pub fn new(requirements: Vec<Requirement>) -> Result<Self, CatalogueError> {
        let mut seen = HashSet::with_capacity(requirements.len());
        let mut profiles: Vec<Profile> = vec![Profile::general()];
        let mut chapters: Vec<ChapterCode> = Vec::new();
        let mut profile_of = Vec::with_capacity(requirements.len());
        let mut chapter_of = Vec::with_capacity(requirements.len());
        for r in &requirements {
            if !seen.insert(&r.id) {
                return Err(CatalogueError::DuplicateRequirement { id: r.id.clone() });
            }
            profile_of.push(index_of(&mut profiles, &r.profile));
            chapter_of.push(index_of(&mut chapters, &r.chapter_code));
        }
        if profiles.len() > usize::from(u16::MAX) || chapters.len() > usize::from(u16::MAX) {
            return Err(CatalogueError::TooLarge);
        }
        Ok(Self {
            requirements,
            profiles,
            chapters,
            profile_of,
            chapter_of,
        })
    }

    /// The requirements, in REM order.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Finds a requirement by id.
    pub fn requirement(&self, id: &RequirementId) -> Option<&Requirement> {
        self.position(id).map(|i| &self.requirements[i])
    }

    /// The position of a requirement in REM order.
    pub fn position(&self, id: &RequirementId) -> Option<usize> {
        self.requirements.iter().position(|r| &r.id == id)
    }

    /// Every profile of the REM: `Général` first, then the optional ones in order of appearance.
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// The optional profiles (every profile but `Général`).
    pub fn optional_profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.iter().filter(|p| !p.is_general())
    }

    /// The chapter codes, in order of first appearance.
    pub fn chapters(&self) -> &[ChapterCode] {
        &self.chapters
    }

    /// The dense index of a profile in [`Rem::profiles`].
    pub fn profile_index(&self, profile: &Profile) -> Option<usize> {
        self.profiles.iter().position(|p| p == profile)
    }

    /// The dense index of a chapter in [`Rem::chapters`].
    pub fn chapter_index(&self, chapter: &ChapterCode) -> Option<usize> {
        self.chapters.iter().position(|c| c == chapter)
    }

    /// The dense profile index of the requirement at `position`.
    pub(crate) fn profile_of(&self, position: usize) -> usize {
        usize::from(self.profile_of[position])
    }

    /// The dense chapter index of the requirement at `position`.
    pub(crate) fn chapter_of(&self, position: usize) -> usize {
        usize::from(self.chapter_of[position])
    }

    /// How many proofs the whole REM expects.
    pub fn proof_count(&self) -> usize {
        self.requirements.iter().map(Requirement::proof_count).sum()
    }
}

fn index_of<T: PartialEq + Clone>(list: &mut Vec<T>, item: &T) -> u16 {
    let i = match list.iter().position(|x| x == item) {
        Some(i) => i,
        None => {
            list.push(item.clone());
            list.len() - 1
        }
    };
    // Saturates only past 65,535 distinct values, which `Rem::new` then refuses.
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// Names a dispositif: a code in a wave (`DPI` exists in wave 1 and in wave 2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DispositifKey {
    /// The code.
    pub code: DispositifCode,
    /// The wave.
    pub wave: Wave,
}

impl fmt::Display for DispositifKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} vague {}", self.code, self.wave)
    }
}

/// A REM version older than the one in force, kept because referencings were granted on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OlderRem {
    /// Its label, unique among the dispositif's versions.
    pub version: RemVersionLabel,
    /// Its requirements.
    pub rem: Rem,
}

/// A dispositif: a scheme for one kind of software in one wave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispositif {
    /// Code and wave.
    pub key: DispositifKey,
    /// Its French name.
    pub name: String,
    /// The corridor (*couloir*: HOP, MDV, MS, ...).
    pub corridor: String,
    /// For a vague-2 dispositif, the vague-1 dispositifs héritage may come from.
    pub predecessors: Vec<DispositifCode>,
    /// For a vague-2 dispositif, the date by which a complete dossier must have been deposited.
    pub date2: Option<IsoDate>,
    /// For a vague-1 dispositif, the optional profiles a referencing of it may hold.
    pub wave1_profiles: Vec<Profile>,
    /// For a vague-2 dispositif, its REM version in force.
    pub rem: Option<Rem>,
    /// The label of the version in force ([`RemVersionLabel::initial`] when none was given;
    /// meaningless in vague 1).
    pub rem_version: RemVersionLabel,
    /// For a vague-2 dispositif, the older REM versions kept, oldest first (import order).
    pub older_rems: Vec<OlderRem>,
    /// For a vague-2 dispositif, the first day a candidature may be opened (R10); `None` means
    /// the guichet is open.
    pub opens_on: Option<IsoDate>,
}

impl Dispositif {
    /// Every REM version with its label, in import order: the older ones, then the one in force.
    pub fn rem_versions(&self) -> impl Iterator<Item = (&RemVersionLabel, &Rem)> {
        self.older_rems
            .iter()
            .map(|o| (&o.version, &o.rem))
            .chain(self.rem.iter().map(|rem| (&self.rem_version, rem)))
    }

    /// The REM version with this label, if the dispositif has it.
    pub fn rem_of_version(&self, label: &RemVersionLabel) -> Option<&Rem> {
        self.version_index(Some(label))
            .and_then(|vi| self.rem_at(vi))
    }

    /// The engine's index of a version: 0 for the one in force (also when `label` is `None`),
    /// `i + 1` for `older_rems[i]`.
    pub(crate) fn version_index(&self, label: Option<&RemVersionLabel>) -> Option<usize> {
        match label {
            None => Some(0),
            Some(l) if *l == self.rem_version => Some(0),
            Some(l) => self
                .older_rems
                .iter()
                .position(|o| o.version == *l)
                .map(|i| i + 1),
        }
    }

    /// The REM at an index of [`Dispositif::version_index`].
    pub(crate) fn rem_at(&self, vi: usize) -> Option<&Rem> {
        match vi {
            0 => self.rem.as_ref(),
            i => self.older_rems.get(i - 1).map(|o| &o.rem),
        }
    }

    /// The label at an index of [`Dispositif::version_index`].
    pub(crate) fn label_at(&self, vi: usize) -> &RemVersionLabel {
        match vi {
            0 => &self.rem_version,
            i => self
                .older_rems
                .get(i - 1)
                .map_or(&self.rem_version, |o| &o.version),
        }
    }

    /// The labels of every version, in import order, for messages.
    pub(crate) fn version_labels(&self) -> String {
        self.rem_versions()
            .map(|(l, _)| format!("« {l} »"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The optional profiles: those of the REM in vague 2, those declared in vague 1.
    pub fn optional_profiles(&self) -> Vec<&Profile> {
        match &self.rem {
            Some(rem) => rem.optional_profiles().collect(),
            None => self.wave1_profiles.iter().collect(),
        }
    }
}

/// A pair of requirements declared common by an imported equivalence table (in addition to
/// those sharing a socle id). Both sides are vague-2 dispositifs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquivalencePair {
    /// One side: dispositif code (vague 2) and requirement id.
    pub a: (DispositifCode, RequirementId),
    /// The other side.
    pub b: (DispositifCode, RequirementId),
}

/// Why a catalogue could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    /// Two dispositifs with the same code and wave.
    #[error("le dispositif {key} est déclaré deux fois")]
    DuplicateDispositif {
        /// The key declared twice.
        key: DispositifKey,
    },
    /// A vague-2 dispositif without a REM.
    #[error("le dispositif {key} n'a pas de REM (un dispositif de vague 2 en exige un)")]
    MissingRem {
        /// The dispositif.
        key: DispositifKey,
    },
    /// Two REM versions of one dispositif with the same label.
    #[error("le dispositif {key} a deux versions de REM nommées « {version} »")]
    DuplicateRemVersion {
        /// The dispositif.
        key: DispositifKey,
        /// The label given twice.
        version: RemVersionLabel,
    },
    /// A guichet calendar on a vague-1 dispositif.
    #[error(
        "le dispositif {key} est de vague 1 : il n'a pas de calendrier de guichet (« opens_on »)"
    )]
    OpensOnWave1 {
        /// The dispositif.
        key: DispositifKey,
    },
    /// A vague-1 dispositif with a REM.
    #[error(
        "le dispositif {key} est de vague 1 : il ne porte pas de REM (les exigences de vague 1 sont reprises dans les REM de vague 2)"
    )]
    RemOnWave1 {
        /// The dispositif.
        key: DispositifKey,
    },
    /// A predecessor that is not a vague-1 dispositif of the catalogue.
    #[error(
        "le prédécesseur « {predecessor} » de {key} n'est pas un dispositif de vague 1 du catalogue"
    )]
    UnknownPredecessor {
        /// The vague-2 dispositif.
        key: DispositifKey,
        /// The predecessor named.
        predecessor: DispositifCode,
    },
    /// Two requirements with one id in one REM.
    #[error("l'exigence {id} figure deux fois dans le REM")]
    DuplicateRequirement {
        /// The id.
        id: RequirementId,
    },
    /// An equivalence-table side that names no requirement of any REM version of the catalogue.
    #[error(
        "la table d'équivalence cite l'exigence {id} du dispositif {code}, introuvable en vague 2"
    )]
    UnknownEquivalenceRequirement {
        /// Dispositif code.
        code: DispositifCode,
        /// Requirement id.
        id: RequirementId,
    },
    /// More distinct profiles or chapters than the indexes hold.
    #[error("le REM compte plus de 65 535 profils ou chapitres distincts")]
    TooLarge,
}

/// Per-REM index: the common keys of each requirement and the requirements of each key.
#[derive(Debug, Clone, Default)]
pub(crate) struct RemIndex {
    /// `keys[offsets[i]..offsets[i + 1]]` are the common keys of requirement `i`.
    offsets: Vec<u32>,
    keys: Vec<u32>,
    /// `positions[key_offsets[k]..key_offsets[k + 1]]` are the positions (REM order) of this
    /// REM's requirements carrying key `k`: a dense table, so a lookup hashes nothing.
    key_offsets: Vec<u32>,
    positions: Vec<u32>,
}

impl RemIndex {
    /// The common keys of the requirement at `pos`.
    pub(crate) fn keys_of(&self, pos: usize) -> &[u32] {
        match (self.offsets.get(pos), self.offsets.get(pos + 1)) {
            (Some(&a), Some(&b)) => &self.keys[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The positions (REM order) of the requirements carrying common key `key`.
    pub(crate) fn with_key(&self, key: u32) -> &[u32] {
        let k = key as usize;
        match (self.key_offsets.get(k), self.key_offsets.get(k + 1)) {
            (Some(&a), Some(&b)) => &self.positions[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// The whole catalogue, consistent and indexed.
#[derive(Debug, Clone)]
pub struct Catalogue {
    dispositifs: Vec<Dispositif>,
    /// Parallel to `dispositifs`: one index per REM version, at the positions of
    /// [`Dispositif::version_index`]; empty for vague-1 dispositifs.
    indexes: Vec<Vec<RemIndex>>,
    /// The equivalence table it was built with, kept so that [`Catalogue::with_rem_in_force`]
    /// can rebuild it around a new REM version.
    equivalences: Vec<EquivalencePair>,
}

impl Catalogue {
    /// Checks and indexes a catalogue.
    pub fn new(
        dispositifs: Vec<Dispositif>,
        equivalences: &[EquivalencePair],
    ) -> Result<Self, CatalogueError> {
        for (i, d) in dispositifs.iter().enumerate() {
            if dispositifs[..i].iter().any(|o| o.key == d.key) {
                return Err(CatalogueError::DuplicateDispositif { key: d.key.clone() });
            }
            match (d.key.wave, &d.rem) {
                (Wave::Two, None) => return Err(CatalogueError::MissingRem { key: d.key.clone() }),
                (Wave::One, Some(_)) => {
                    return Err(CatalogueError::RemOnWave1 { key: d.key.clone() });
                }
                (Wave::One, None) if !d.older_rems.is_empty() => {
                    return Err(CatalogueError::RemOnWave1 { key: d.key.clone() });
                }
                (Wave::One, None) if d.opens_on.is_some() => {
                    return Err(CatalogueError::OpensOnWave1 { key: d.key.clone() });
                }
                _ => {}
            }
            let labels: Vec<&RemVersionLabel> = d.rem_versions().map(|(l, _)| l).collect();
            for (j, label) in labels.iter().enumerate() {
                if labels[..j].contains(label) {
                    return Err(CatalogueError::DuplicateRemVersion {
                        key: d.key.clone(),
                        version: (*label).clone(),
                    });
                }
            }
            for p in &d.predecessors {
                let known = dispositifs
                    .iter()
                    .any(|o| o.key.wave == Wave::One && &o.key.code == p);
                if !known || d.key.wave != Wave::Two {
                    return Err(CatalogueError::UnknownPredecessor {
                        key: d.key.clone(),
                        predecessor: p.clone(),
                    });
                }
            }
        }

        // Common keys: one per distinct socle id (of any version), then one per equivalence pair.
        // `per_req_keys[dispositif][version][position]`, versions at `Dispositif::version_index`.
        let mut socle_keys: HashMap<&SocleId, u32> = HashMap::new();
        let mut per_req_keys: Vec<Vec<Vec<Vec<u32>>>> = dispositifs
            .iter()
            .map(|d| {
                (0..=d.older_rems.len())
                    .filter_map(|vi| d.rem_at(vi))
                    .map(|rem| {
                        rem.requirements()
                            .iter()
                            .map(|r| match &r.socle_id {
                                Some(s) => {
                                    let next = u32::try_from(socle_keys.len()).unwrap_or(u32::MAX);
                                    vec![*socle_keys.entry(s).or_insert(next)]
                                }
                                None => Vec::new(),
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let mut next_key = u32::try_from(socle_keys.len()).unwrap_or(u32::MAX);
        for pair in equivalences {
            // A pair's key goes to every version holding the id: two versions compared share it
            // only where both ids exist in them (`docs/rules.md`, R2).
            let mut place = |(code, id): &(DispositifCode, RequirementId)| {
                let found = dispositifs
                    .iter()
                    .position(|d| d.key.wave == Wave::Two && &d.key.code == code)
                    .map(|di| {
                        let mut placed = false;
                        for (vi, keys) in per_req_keys[di].iter_mut().enumerate() {
                            if let Some(pos) =
                                dispositifs[di].rem_at(vi).and_then(|r| r.position(id))
                            {
                                keys[pos].push(next_key);
                                placed = true;
                            }
                        }
                        placed
                    });
                if found == Some(true) {
                    Ok(())
                } else {
                    Err(CatalogueError::UnknownEquivalenceRequirement {
                        code: code.clone(),
                        id: id.clone(),
                    })
                }
            };
            place(&pair.a)?;
            place(&pair.b)?;
            next_key += 1;
        }

        let key_count = next_key as usize;
        let index = |reqs: Vec<Vec<u32>>| {
            let mut index = RemIndex::default();
            let mut by_key: Vec<Vec<u32>> =
                vec![Vec::new(); if reqs.is_empty() { 0 } else { key_count }];
            index.offsets.push(0);
            for (pos, mut keys) in reqs.into_iter().enumerate() {
                keys.sort_unstable();
                keys.dedup();
                for &k in &keys {
                    by_key[k as usize].push(u32::try_from(pos).unwrap_or(u32::MAX));
                }
                index.keys.extend(keys);
                index
                    .offsets
                    .push(u32::try_from(index.keys.len()).unwrap_or(u32::MAX));
            }
            index.key_offsets.push(0);
            for positions in by_key {
                index.positions.extend(positions);
                index
                    .key_offsets
                    .push(u32::try_from(index.positions.len()).unwrap_or(u32::MAX));
            }
            index
        };
        let indexes = per_req_keys
            .into_iter()
            .map(|versions| versions.into_iter().map(index).collect())
            .collect();
        Ok(Self {
            dispositifs,
            indexes,
            equivalences: equivalences.to_vec(),
        })
    }

    /// The same catalogue once `rem`, labelled `version`, is put in force for the vague-2
    /// dispositif `key`: the version in force until now joins the older ones (a referencing or a
    /// candidature citing it keeps it). What the REM impact analysis compares with the catalogue
    /// in force, before an import. Refused as [`Catalogue::new`] refuses (a label the dispositif
    /// already has, an equivalence pair no version holds any more...); an unknown or vague-1
    /// `key` is [`CatalogueError::MissingRem`].
    pub fn with_rem_in_force(
        &self,
        key: &DispositifKey,
        version: RemVersionLabel,
        rem: Rem,
    ) -> Result<Self, CatalogueError> {
        let mut dispositifs = self.dispositifs.clone();
        let d = dispositifs
            .iter_mut()
            .find(|d| &d.key == key && d.rem.is_some())
            .ok_or_else(|| CatalogueError::MissingRem { key: key.clone() })?;
        if let Some(previous) = d.rem.replace(rem) {
            let label = std::mem::replace(&mut d.rem_version, version);
            d.older_rems.push(OlderRem {
                version: label,
                rem: previous,
            });
        }
        Self::new(dispositifs, &self.equivalences)
    }

    /// Every dispositif, in catalogue order.
    pub fn dispositifs(&self) -> &[Dispositif] {
        &self.dispositifs
    }

    /// The dispositif with this code and wave.
    pub fn dispositif(&self, key: &DispositifKey) -> Option<&Dispositif> {
        self.position(key).map(|i| &self.dispositifs[i])
    }

    pub(crate) fn position(&self, key: &DispositifKey) -> Option<usize> {
        self.dispositifs.iter().position(|d| &d.key == key)
    }

    pub(crate) fn dispositif_at(&self, i: usize) -> &Dispositif {
        &self.dispositifs[i]
    }

    /// The index of REM version `vi` (see [`Dispositif::version_index`]) of dispositif `di`.
    pub(crate) fn rem_index(&self, di: usize, vi: usize) -> Option<&RemIndex> {
        self.indexes.get(di).and_then(|v| v.get(vi))
    }

    /// The requirements of other vague-2 dispositifs that are common with requirement `id` of
    /// `key`'s REM (same socle id or paired by the equivalence table), in catalogue then REM order;
    /// both sides are the versions in force.
    pub fn shared_with<'a>(
        &'a self,
        key: &DispositifKey,
        id: &RequirementId,
    ) -> Vec<(&'a Dispositif, &'a Requirement)> {
        let Some(di) = self.position(key) else {
            return Vec::new();
        };
        let Some(pos) = self.dispositifs[di]
            .rem
            .as_ref()
            .and_then(|r| r.position(id))
        else {
            return Vec::new();
        };
        let Some(index) = self.rem_index(di, 0) else {
            return Vec::new();
        };
        let keys = index.keys_of(pos);
        let mut out = Vec::new();
        for (oi, other) in self.dispositifs.iter().enumerate() {
            let (Some(rem), Some(other_index)) = (&other.rem, self.rem_index(oi, 0)) else {
                continue;
            };
            if oi == di {
                continue;
            }
            let mut positions: Vec<u32> = keys
                .iter()
                .flat_map(|&k| other_index.with_key(k).iter().copied())
                .collect();
            positions.sort_unstable();
            positions.dedup();
            out.extend(
                positions
                    .into_iter()
                    .map(|p| (other, &rem.requirements()[p as usize])),
            );
        }
        out
    }
}
