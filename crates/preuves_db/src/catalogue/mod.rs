//! The catalogue: dispositifs, versioned REMs with their requirements, and the equivalence table.
//!
//! A REM import always creates a new version (1, 2, 3… per dispositif) and never rewrites an old
//! one, so a candidature can keep the version it was opened on ([`Db::load_catalogue_pinned`]).
//! The *current* REM of a dispositif is its latest version. Requirements are stored one row each,
//! in REM order, with their scenarios and proofs as JSON text, and a folded `search_text` for
//! case- and accent-insensitive search on both backends.
//!
//! Reading is here; writing (imports, equivalences) is in `import`, requirement search in
//! `search`.

use std::collections::{HashMap, HashSet};

use preuves_domain::{
    Catalogue, ChapterCode, Dispositif, DispositifCode, DispositifKey, EquivalencePair, IsoDate,
    Perimeter, Profile, ProofSpec, Rem, RemVersionLabel, Requirement, RequirementId, Scenario,
    SocleId, Wave,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;

use crate::ids::{Actor, DispositifId, RemVersionId};
use crate::text::hex;
use crate::text::{contains_pattern, fold};
use crate::time::Timestamp;
use crate::{Db, DbError, Result};
use sqlx::Any;

/// One imported version of a dispositif's REM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemVersion {
    /// Its id.
    pub id: RemVersionId,
    /// The dispositif.
    pub dispositif: DispositifKey,
    /// The version number: 1, 2, 3… per dispositif, in import order (internal: people see
    /// [`RemVersion::label`]).
    pub version: i64,
    /// The REM's own version label, unique per dispositif: what pages, the API and attestations
    /// show.
    pub label: RemVersionLabel,
    /// The imported file's name.
    pub source_name: String,
    /// The imported file's SHA-256, hexadecimal.
    pub sha256: String,
    /// Rows read from the file (requirement × scenario × proof).
    pub row_count: i64,
    /// Requirements stored.
    pub requirement_count: i64,
    /// When it was imported.
    pub imported_at: Timestamp,
    /// Who imported it ([`Actor`]'s text form).
    pub imported_by: String,
}

/// A dispositif with its current REM version, for catalogue pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispositifSummary {
    /// Its id.
    pub id: DispositifId,
    /// Code and wave.
    pub key: DispositifKey,
    /// French name.
    pub name: String,
    /// Corridor (HOP, MDV, MS, ...).
    pub corridor: String,
    /// Date 2, for a vague-2 dispositif.
    pub date2: Option<IsoDate>,
    /// R10: the first day a candidature may be opened (the guichet's opening), if set.
    pub opens_on: Option<IsoDate>,
    /// Vague-1 predecessors, for a vague-2 dispositif.
    pub predecessors: Vec<DispositifCode>,
    /// Optional profiles, for a vague-1 dispositif.
    pub wave1_profiles: Vec<Profile>,
    /// The latest REM version, if one was imported.
    pub current_rem: Option<RemVersion>,
}

/// A requirement as stored: in which REM version, at which position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRequirement {
    /// The REM version holding it.
    pub rem: RemVersion,
    /// Its position in REM order, from 0.
    pub ordinal: i64,
    /// The requirement with its scenarios and proofs.
    pub requirement: Requirement,
}

/// A requirement in a search result or a list of shared requirements (without scenarios).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementHit {
    /// The REM version holding it.
    pub rem_version: RemVersionId,
    /// Its dispositif.
    pub dispositif: DispositifKey,
    /// The REM version number.
    pub rem_version_number: i64,
    /// Position in REM order, from 0.
    pub ordinal: i64,
    /// Requirement id.
    pub id: RequirementId,
    /// Périmètre.
    pub perimeter: Perimeter,
    /// Chapter code.
    pub chapter_code: ChapterCode,
    /// Chapter label.
    pub chapter: String,
    /// Fonction.
    pub function: String,
    /// Exigence.
    pub text: String,
    /// Profile.
    pub profile: Profile,
    /// Socle id.
    pub socle_id: Option<SocleId>,
}

/// The largest page [`Db::search_requirements`] returns.
pub const MAX_PAGE: u32 = 500;

/// A requirement search over the current REM of every dispositif.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementQuery {
    /// Words or id fragment, matched anywhere in the id, chapter, fonction, exigence,
    /// commentaire or socle id, without regard to case or accents.
    pub text: Option<String>,
    /// Only this dispositif.
    pub dispositif: Option<DispositifKey>,
    /// Only this profile.
    pub profile: Option<Profile>,
    /// Only this chapter.
    pub chapter: Option<ChapterCode>,
    /// Only this périmètre.
    pub perimeter: Option<Perimeter>,
    /// Page size (at most [`MAX_PAGE`]).
    pub limit: u32,
    /// Hits to skip.
    pub offset: u32,
}

impl Default for RequirementQuery {
    fn default() -> Self {
        Self {
            text: None,
            dispositif: None,
            profile: None,
            chapter: None,
            perimeter: None,
            limit: 50,
            offset: 0,
        }
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items match in all.
    pub total: u64,
    /// The page size asked.
    pub limit: u32,
    /// The items skipped.
    pub offset: u32,
}

/// What [`Db::import_catalogue`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CatalogueSeed {
    /// Dispositifs created or changed.
    pub dispositifs_changed: usize,
    /// REM versions created (REMs equal to the current version are not imported again).
    pub rem_versions: Vec<RemVersion>,
    /// Whether the equivalence table was replaced.
    pub equivalences_replaced: bool,
}

// ---- stored JSON shapes ---------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct StoredProof {
    id: Option<String>,
    text: String,
}

#[derive(Serialize, Deserialize)]
struct StoredScenario {
    id: Option<String>,
    text: String,
    proofs: Vec<StoredProof>,
}

fn scenarios_json(scenarios: &[Scenario]) -> Result<String> {
    let stored: Vec<StoredScenario> = scenarios
        .iter()
        .map(|s| StoredScenario {
            id: s.id.clone(),
            text: s.text.clone(),
            proofs: s
                .proofs
                .iter()
                .map(|p| StoredProof {
                    id: p.id.clone(),
                    text: p.text.clone(),
                })
                .collect(),
        })
        .collect();
    serde_json::to_string(&stored).map_err(|e| DbError::Contract(e.to_string()))
}

fn scenarios_from_json(raw: &str) -> Result<Vec<Scenario>> {
    let stored: Vec<StoredScenario> = serde_json::from_str(raw).map_err(DbError::corrupt)?;
    Ok(stored
        .into_iter()
        .map(|s| Scenario {
            id: s.id,
            text: s.text,
            proofs: s
                .proofs
                .into_iter()
                .map(|p| ProofSpec {
                    id: p.id,
                    text: p.text,
                })
                .collect(),
        })
        .collect())
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| DbError::Contract(e.to_string()))
}

fn parse_list<T>(
    raw: &str,
    parse: impl Fn(&str) -> Result<T, preuves_domain::IdError>,
) -> Result<Vec<T>> {
    let items: Vec<String> = serde_json::from_str(raw).map_err(DbError::corrupt)?;
    items
        .iter()
        .map(|s| parse(s).map_err(DbError::corrupt))
        .collect()
}

fn wave_of(n: i64) -> Result<Wave> {
    Wave::from_number(n).ok_or_else(|| DbError::corrupt(format!("unknown wave {n}")))
}

fn key_of(code: &str, wave: i64) -> Result<DispositifKey> {
    Ok(DispositifKey {
        code: DispositifCode::parse(code).map_err(DbError::corrupt)?,
        wave: wave_of(wave)?,
    })
}

/// The SHA-256 of a REM's canonical JSON form: identifies a REM imported from a catalogue
/// directory rather than from one file.
fn rem_digest(rem: &Rem) -> Result<String> {
    let json = to_json(&rem.requirements())?;
    Ok(hex(&Sha256::digest(json.as_bytes())))
}

/// The number of file rows a REM takes: one per requirement × scenario × proof.
fn rem_rows(rem: &Rem) -> i64 {
    let rows: usize = rem
        .requirements()
        .iter()
        .map(|r| {
            r.scenarios
                .iter()
                .map(|s| s.proofs.len().max(1))
                .sum::<usize>()
                .max(1)
        })
        .sum();
    i64::try_from(rows).unwrap_or(i64::MAX)
}

// ---- rows -------------------------------------------------------------------------------------

struct DispositifRow {
    id: i64,
    code: String,
    wave: i64,
    name: String,
    corridor: String,
    date2: Option<String>,
    opens_on: Option<String>,
    predecessors: String,
    wave1_profiles: String,
}

crate::row::impl_from_row!(DispositifRow {
    id,
    code,
    wave,
    name,
    corridor,
    date2,
    opens_on,
    predecessors,
    wave1_profiles
});

const DISPOSITIF_COLUMNS: &str =
    "id, code, wave, name, corridor, date2, opens_on, predecessors, wave1_profiles";

impl DispositifRow {
    fn summary(self, current_rem: Option<RemVersion>) -> Result<DispositifSummary> {
        Ok(DispositifSummary {
            id: DispositifId(self.id),
            key: key_of(&self.code, self.wave)?,
            name: self.name,
            corridor: self.corridor,
            date2: self
                .date2
                .as_deref()
                .map(IsoDate::parse)
                .transpose()
                .map_err(DbError::corrupt)?,
            opens_on: self
                .opens_on
                .as_deref()
                .map(IsoDate::parse)
                .transpose()
                .map_err(DbError::corrupt)?,
            predecessors: parse_list(&self.predecessors, DispositifCode::parse)?,
            wave1_profiles: parse_list(&self.wave1_profiles, Profile::parse)?,
            current_rem,
        })
    }
}

struct RemVersionRow {
    id: i64,
    dispositif_id: i64,
    code: String,
    wave: i64,
    version: i64,
    label: String,
    source_name: String,
    sha256: String,
    row_count: i64,
    requirement_count: i64,
    imported_at: i64,
    imported_by: String,
}

crate::row::impl_from_row!(RemVersionRow {
    id,
    dispositif_id,
    code,
    wave,
    version,
    label,
    source_name,
    sha256,
    row_count,
    requirement_count,
    imported_at,
    imported_by
});

const REM_VERSION_SELECT: &str = "SELECT v.id, v.dispositif_id, d.code, d.wave, v.version, \
     v.label, v.source_name, v.sha256, v.row_count, v.requirement_count, v.imported_at, v.imported_by \
     FROM rem_versions v JOIN dispositifs d ON d.id = v.dispositif_id";

/// Keeps, in a query on `rem_versions v`, only each dispositif's latest version.
const LATEST_ONLY: &str = "v.version = \
     (SELECT MAX(v2.version) FROM rem_versions v2 WHERE v2.dispositif_id = v.dispositif_id)";

impl TryFrom<RemVersionRow> for RemVersion {
    type Error = DbError;
    fn try_from(r: RemVersionRow) -> Result<Self> {
        Ok(Self {
            id: RemVersionId(r.id),
            dispositif: key_of(&r.code, r.wave)?,
            version: r.version,
            label: RemVersionLabel::parse(&r.label).map_err(DbError::corrupt)?,
            source_name: r.source_name,
            sha256: r.sha256,
            row_count: r.row_count,
            requirement_count: r.requirement_count,
            imported_at: Timestamp::from_millis(r.imported_at),
            imported_by: r.imported_by,
        })
    }
}

struct RequirementRow {
    ordinal: i64,
    requirement_code: String,
    perimeter: String,
    chapter_code: String,
    chapter_label: String,
    function_label: String,
    requirement_text: String,
    comment_text: String,
    profile: String,
    historical_profile: String,
    criticality: String,
    socle_id: Option<String>,
    wave1_id: Option<String>,
    scenarios: String,
}

crate::row::impl_from_row!(RequirementRow {
    ordinal,
    requirement_code,
    perimeter,
    chapter_code,
    chapter_label,
    function_label,
    requirement_text,
    comment_text,
    profile,
    historical_profile,
    criticality,
    socle_id,
    wave1_id,
    scenarios
});

const REQUIREMENT_COLUMNS: &str = "ordinal, requirement_code, perimeter, chapter_code, \
     chapter_label, function_label, requirement_text, comment_text, profile, historical_profile, \
     criticality, socle_id, wave1_id, scenarios";

fn perimeter_of(raw: &str) -> Result<Perimeter> {
    Perimeter::parse(raw).ok_or_else(|| DbError::corrupt(format!("unknown perimeter `{raw}`")))
}

impl TryFrom<RequirementRow> for Requirement {
    type Error = DbError;
    fn try_from(r: RequirementRow) -> Result<Self> {
        Ok(Self {
            id: RequirementId::parse(&r.requirement_code).map_err(DbError::corrupt)?,
            perimeter: perimeter_of(&r.perimeter)?,
            chapter_code: ChapterCode::parse(&r.chapter_code).map_err(DbError::corrupt)?,
            chapter: r.chapter_label,
            function: r.function_label,
            text: r.requirement_text,
            comment: r.comment_text,
            profile: Profile::parse(&r.profile).map_err(DbError::corrupt)?,
            historical_profile: r.historical_profile,
            criticality: r.criticality,
            socle_id: r
                .socle_id
                .as_deref()
                .map(SocleId::parse)
                .transpose()
                .map_err(DbError::corrupt)?,
            wave1_id: r.wave1_id,
            scenarios: scenarios_from_json(&r.scenarios)?,
        })
    }
}

/// A value bound to a dynamically built query.
enum Bind {
    Text(String),
    Int(i64),
}

fn bind_all<'q, O>(
    mut q: QueryAs<'q, Any, O, AnyArguments<'q>>,
    binds: &'q [Bind],
) -> QueryAs<'q, Any, O, AnyArguments<'q>> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.as_str()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    q
}

/// Marks the catalogue as changed, in the transaction making the change.
async fn bump_revision(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("UPDATE catalogue_revision SET revision = revision + 1 WHERE id = 1")
        .execute(conn)
        .await?;
    Ok(())
}

/// The dispositif with this key, on a transaction's connection.
async fn dispositif_row(conn: &mut AnyConnection, key: &DispositifKey) -> Result<DispositifRow> {
    sqlx::query_as(&format!(
        "SELECT {DISPOSITIF_COLUMNS} FROM dispositifs WHERE code = $1 AND wave = $2"
    ))
    .bind(key.code.as_str())
    .bind(i64::from(key.wave.number()))
    .fetch_optional(conn)
    .await?
    .ok_or(DbError::NotFound)
}

impl Db {
    /// A number that grows with every catalogue change (dispositif, REM import, equivalence
    /// table): a process caching [`Db::load_catalogue`]'s result reloads it when this differs,
    /// which also picks up imports made through another process.
    pub async fn catalogue_revision(&self) -> Result<i64> {
        let (revision,): (i64,) =
            sqlx::query_as("SELECT revision FROM catalogue_revision WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(revision)
    }

    /// The equivalence table, in the order it was stored.
    pub async fn list_equivalences(&self) -> Result<Vec<EquivalencePair>> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT a_dispositif, a_requirement, b_dispositif, b_requirement \
             FROM equivalence_pairs ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(ad, ar, bd, br)| {
                let side = |d: &str, r: &str| -> Result<(DispositifCode, RequirementId)> {
                    Ok((
                        DispositifCode::parse(d).map_err(DbError::corrupt)?,
                        RequirementId::parse(r).map_err(DbError::corrupt)?,
                    ))
                };
                Ok(EquivalencePair {
                    a: side(&ad, &ar)?,
                    b: side(&bd, &br)?,
                })
            })
            .collect()
    }

    /// Every dispositif (catalogue order: as first stored) with its current REM version.
    pub async fn list_dispositifs(&self) -> Result<Vec<DispositifSummary>> {
        let rows: Vec<DispositifRow> = sqlx::query_as(&format!(
            "SELECT {DISPOSITIF_COLUMNS} FROM dispositifs ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut current = self.latest_rem_versions().await?;
        rows.into_iter()
            .map(|r| {
                let rem = current.remove(&r.id);
                r.summary(rem)
            })
            .collect()
    }

    /// The dispositif with this key, with its current REM version.
    pub async fn find_dispositif(&self, key: &DispositifKey) -> Result<Option<DispositifSummary>> {
        Ok(self
            .list_dispositifs()
            .await?
            .into_iter()
            .find(|d| &d.key == key))
    }

    /// The latest REM version of each dispositif that has one, by dispositif id.
    async fn latest_rem_versions(&self) -> Result<HashMap<i64, RemVersion>> {
        let rows: Vec<RemVersionRow> =
            sqlx::query_as(&format!("{REM_VERSION_SELECT} WHERE {LATEST_ONLY}"))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|r| Ok((r.dispositif_id, RemVersion::try_from(r)?)))
            .collect()
    }

    /// Every REM version of a dispositif, oldest first.
    pub async fn list_rem_versions(&self, key: &DispositifKey) -> Result<Vec<RemVersion>> {
        let rows: Vec<RemVersionRow> = sqlx::query_as(&format!(
            "{REM_VERSION_SELECT} WHERE d.code = $1 AND d.wave = $2 ORDER BY v.version"
        ))
        .bind(key.code.as_str())
        .bind(i64::from(key.wave.number()))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(RemVersion::try_from).collect()
    }

    /// One REM version's description.
    pub async fn find_rem_version(&self, id: RemVersionId) -> Result<Option<RemVersion>> {
        let row: Option<RemVersionRow> =
            sqlx::query_as(&format!("{REM_VERSION_SELECT} WHERE v.id = $1"))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        row.map(RemVersion::try_from).transpose()
    }

    /// The import report kept with a REM version: `Ok(None)` when the version does not exist or
    /// was stored without one (catalogue seed, [`Db::import_rem_version`]).
    pub async fn rem_version_report(&self, id: RemVersionId) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT report FROM rem_versions WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(report,)| report))
    }

    /// One REM version, with its requirements rebuilt as a domain [`Rem`].
    pub async fn load_rem(&self, id: RemVersionId) -> Result<Option<(RemVersion, Rem)>> {
        let Some(version) = self.find_rem_version(id).await? else {
            return Ok(None);
        };
        let rows: Vec<RequirementRow> = sqlx::query_as(&format!(
            "SELECT {REQUIREMENT_COLUMNS} FROM requirements WHERE rem_version_id = $1 ORDER BY ordinal"
        ))
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        let requirements = rows
            .into_iter()
            .map(Requirement::try_from)
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((version, Rem::new(requirements)?)))
    }

    /// The catalogue the engine runs on: every dispositif, each vague-2 one with its latest REM
    /// version, and the equivalence table. See [`Db::load_catalogue_pinned`].
    pub async fn load_catalogue(&self) -> Result<Catalogue> {
        self.load_catalogue_pinned(&[]).await
    }

    /// Like [`Db::load_catalogue`], but the dispositifs of the `pinned` REM versions get those
    /// versions instead of their latest (a candidature keeps the version it was opened on).
    ///
    /// A vague-2 dispositif with no REM imported yet is left out (it cannot be targeted), and so
    /// are the equivalence pairs naming a requirement absent from the REMs loaded (the table was
    /// written for other versions): one incomplete dispositif must not stop the platform.
    pub async fn load_catalogue_pinned(&self, pinned: &[RemVersionId]) -> Result<Catalogue> {
        let rows: Vec<DispositifRow> = sqlx::query_as(&format!(
            "SELECT {DISPOSITIF_COLUMNS} FROM dispositifs ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut chosen: HashMap<i64, RemVersionId> = self
            .latest_rem_versions()
            .await?
            .into_iter()
            .map(|(d, v)| (d, v.id))
            .collect();
        for &pin in pinned {
            let row: Option<(i64,)> =
                sqlx::query_as("SELECT dispositif_id FROM rem_versions WHERE id = $1")
                    .bind(pin.0)
                    .fetch_optional(&self.pool)
                    .await?;
            let (dispositif,) = row.ok_or(DbError::NotFound)?;
            chosen.insert(dispositif, pin);
        }
        let mut dispositifs = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            let summary = row.summary(None)?;
            let (rem, rem_version) = match (summary.key.wave, chosen.get(&id)) {
                (Wave::One, _) => (None, RemVersionLabel::initial()),
                (Wave::Two, None) => continue,
                (Wave::Two, Some(&v)) => match self.load_rem(v).await? {
                    Some((version, rem)) => (Some(rem), version.label),
                    None => continue,
                },
            };
            dispositifs.push(Dispositif {
                key: summary.key,
                name: summary.name,
                corridor: summary.corridor,
                predecessors: summary.predecessors,
                date2: summary.date2,
                wave1_profiles: summary.wave1_profiles,
                rem,
                // Older versions are not given to the engine yet: referencings cite the version
                // in force, as before versions were recorded (docs/rules.md).
                rem_version,
                older_rems: Vec::new(),
                opens_on: summary.opens_on,
            });
        }
        let present: HashSet<(&DispositifCode, &RequirementId)> = dispositifs
            .iter()
            .filter(|d| d.key.wave == Wave::Two)
            .flat_map(|d| {
                d.rem
                    .iter()
                    .flat_map(|rem| rem.requirements().iter().map(|r| (&d.key.code, &r.id)))
            })
            .collect();
        let pairs: Vec<EquivalencePair> = self
            .list_equivalences()
            .await?
            .into_iter()
            .filter(|p| present.contains(&(&p.a.0, &p.a.1)) && present.contains(&(&p.b.0, &p.b.1)))
            .collect();
        Ok(Catalogue::new(dispositifs, &pairs)?)
    }
}

mod import;
mod search;
