//! Candidatures: the administrative step, submission with its frozen plan, late NRUs (R5) and
//! the lifecycle of `docs/rules.md`.
//!
//! A candidature is opened as a draft on a vague-2 dispositif and pinned to the REM version
//! current at that moment ([`StoredCandidature::rem_version`]); a later REM import never changes
//! it. While it is a draft, its administrative step can be edited (optimistic concurrency on
//! [`StoredCandidature::revision`]); the plan is live and computed by the engine from
//! [`StoredCandidature::to_domain`]. Submission computes the plan with the engine on the pinned
//! catalogue, freezes it as a [`PlanSnapshot`], computes whether the dossier is complete (every
//! expected proof of every requirement to deposit has a file) and records when it was
//! ([`StoredCandidature::complete_at`], for R5).
//!
//! Every change runs in one audited transaction; since audited transactions are serialised by
//! the audit chain's lock, a check followed by its update cannot interleave with another change:
//! of two concurrent submissions exactly one succeeds, the other gets
//! [`conflicts::ALREADY_SUBMITTED`].

use std::fmt;

use preuves_domain::{
    AdditionalComponent, Candidature, DispositifCode, DispositifKey, IsoDate, LateEntry, Nru, Plan,
    Profile, Reason, Refusal, RemVersionLabel, RequirementId, Siren, Version, Wave, compute_plan,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::Actor;
use crate::catalogue::RemVersionId;
use crate::conflicts::{self, conflict, stale_revision};
use crate::organisations::OrganisationId;
use crate::proofs::{missing_proofs, proofs_of};
use crate::solutions::{SolutionId, json_text};
use crate::time::Timestamp;
use crate::users::UserId;
use crate::{Db, DbError, Result};

/// A candidature's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CandidatureId(pub i64);

impl fmt::Display for CandidatureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a candidature is in its lifecycle (`docs/rules.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidatureStatus {
    /// The administrative step is being edited; nothing is filed.
    Draft,
    /// Filed, waiting for instruction.
    Submitted,
    /// Under review by instructors.
    InInstruction,
    /// Instructors asked the vendor for complements.
    ComplementRequested,
    /// Granted: an NRU was issued.
    Referenced,
    /// Refused.
    Refused,
}

impl CandidatureStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 6] = [
        Self::Draft,
        Self::Submitted,
        Self::InInstruction,
        Self::ComplementRequested,
        Self::Referenced,
        Self::Refused,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::InInstruction => "in_instruction",
            Self::ComplementRequested => "complement_requested",
            Self::Referenced => "referenced",
            Self::Refused => "refused",
        }
    }

    /// Parses the stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "brouillon",
            Self::Submitted => "déposée",
            Self::InInstruction => "en instruction",
            Self::ComplementRequested => "complément demandé",
            Self::Referenced => "référencée",
            Self::Refused => "refusée",
        }
    }

    /// Whether the lifecycle allows going from `self` to `to` by a status change (submission
    /// has its own call, [`Db::submit_candidature`]).
    pub fn can_become(self, to: Self) -> bool {
        use CandidatureStatus::{
            ComplementRequested, InInstruction, Referenced, Refused, Submitted,
        };
        matches!(
            (self, to),
            (Submitted, InInstruction)
                | (InInstruction, ComplementRequested | Referenced | Refused)
                | (ComplementRequested, InInstruction)
        )
    }

    /// Whether the candidature has been filed and is not decided yet (R5 applies).
    pub fn is_under_review(self) -> bool {
        matches!(
            self,
            Self::Submitted | Self::InInstruction | Self::ComplementRequested
        )
    }
}

impl fmt::Display for CandidatureStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The uploaded sworn statement (*attestation sur l'honneur*, rule R6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HonourStatement {
    /// The blob key of the stored document.
    pub blob_key: String,
    /// The document's original file name.
    pub file_name: String,
    /// Its SHA-256 (64 lower-case hex digits), checked by backups and restores like a proof's;
    /// `None` for a statement recorded before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Its size in bytes (`None` like `sha256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// The administrative step of a candidature, as the vendor enters it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdministrativeStep {
    /// The solution (of the vendor's organisation).
    pub solution: SolutionId,
    /// Optional profiles chosen (`Général` always applies).
    pub optional_profiles: Vec<Profile>,
    /// The candidate version.
    pub version: Version,
    /// NRUs held (équivalence and héritage, classified by the engine).
    pub nrus: Vec<Nru>,
    /// Additional components, each attached to chapters.
    pub additional_components: Vec<AdditionalComponent>,
    /// Commercial names declared.
    pub commercial_names: Vec<String>,
    /// The sworn statement, once uploaded.
    pub honour_statement: Option<HonourStatement>,
}

/// Why a requirement of a frozen plan has its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotReason {
    /// The rule (`R2`, `R3`, `R7`).
    pub rule: String,
    /// The NRU cited (héritage, équivalence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nru: Option<String>,
    /// The source requirement (équivalence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_requirement: Option<String>,
    /// The source requirement's dispositif (équivalence), as `CODE vague N`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_dispositif: Option<String>,
    /// The additional component (R7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// The French explanation the engine gave.
    pub explanation: String,
}

/// One proof a requirement to deposit expects: its position in the requirement's scenarios (from
/// 0) and the REM's own numbers when it has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedProof {
    /// The scenario's position in the requirement.
    pub scenario_index: i64,
    /// The proof's position in the scenario.
    pub proof_index: i64,
    /// The scenario number (`N° scénario`), if the REM has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_ref: Option<String>,
    /// The proof number (`N° preuve`), if the REM has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_ref: Option<String>,
    /// What the proof must show.
    pub text: String,
}

/// One requirement of a frozen plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotEntry {
    /// The requirement id.
    pub requirement: String,
    /// `to_deposit`, `masked_heritage` or `masked_equivalence`.
    pub status: String,
    /// Why, for masked and R7 requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<SnapshotReason>,
    /// The proofs expected (requirements to deposit only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected: Vec<ExpectedProof>,
}

impl SnapshotEntry {
    /// Whether proofs are asked for this requirement.
    pub fn is_to_deposit(&self) -> bool {
        self.status == "to_deposit"
    }
}

/// The counts of a frozen plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SnapshotSummary {
    /// Requirements in scope.
    pub in_scope: u64,
    /// Requirements to deposit.
    pub to_deposit: u64,
    /// Requirements masked by héritage.
    pub masked_heritage: u64,
    /// Requirements masked by équivalence.
    pub masked_equivalence: u64,
    /// Proofs expected.
    pub proofs_to_deposit: u64,
    /// Proofs saved by héritage and équivalence.
    pub proofs_saved: u64,
}

/// A plan as frozen at submission (and recomputed on a late NRU): owned, stored as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanSnapshot {
    /// The counts.
    pub summary: SnapshotSummary,
    /// The requirements in scope, in REM order.
    pub entries: Vec<SnapshotEntry>,
    /// The stable codes of the warnings that block submission (R6), if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn index(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PlanSnapshot {
    /// Freezes an engine plan.
    pub fn from_plan(plan: &Plan<'_>) -> Self {
        let entries = plan
            .entries
            .iter()
            .map(|e| {
                let reason = e.reason.as_ref().map(|r| {
                    let mut out = SnapshotReason {
                        rule: r.rule().to_string(),
                        nru: r.nru().map(|n| n.to_string()),
                        source_requirement: None,
                        source_dispositif: None,
                        component: None,
                        explanation: r.explain(),
                    };
                    match r {
                        Reason::AdditionalComponent { component } => {
                            out.component = Some((*component).to_owned());
                        }
                        Reason::Heritage { .. } => {}
                        Reason::Equivalence {
                            source_dispositif,
                            source,
                            ..
                        } => {
                            out.source_requirement = Some(source.id.to_string());
                            out.source_dispositif = Some(source_dispositif.key.to_string());
                        }
                    }
                    out
                });
                let expected = if e.status.is_masked() {
                    Vec::new()
                } else {
                    e.requirement
                        .scenarios
                        .iter()
                        .enumerate()
                        .flat_map(|(si, s)| {
                            s.proofs
                                .iter()
                                .enumerate()
                                .map(move |(pi, p)| ExpectedProof {
                                    scenario_index: index(si),
                                    proof_index: index(pi),
                                    scenario_ref: s.id.clone(),
                                    proof_ref: p.id.clone(),
                                    text: p.text.clone(),
                                })
                        })
                        .collect()
                };
                SnapshotEntry {
                    requirement: e.requirement.id.to_string(),
                    status: e.status.as_str().to_owned(),
                    reason,
                    expected,
                }
            })
            .collect();
        let s = &plan.summary;
        Self {
            summary: SnapshotSummary {
                in_scope: count(s.in_scope),
                to_deposit: count(s.to_deposit),
                masked_heritage: count(s.masked_heritage),
                masked_equivalence: count(s.masked_equivalence),
                proofs_to_deposit: count(s.proofs_to_deposit),
                proofs_saved: count(s.proofs_saved),
            },
            entries,
            warnings: plan
                .warnings
                .iter()
                .map(|w| w.code.as_str().to_owned())
                .collect(),
        }
    }

    /// The entry of requirement `id`, if in scope.
    pub fn entry(&self, id: &str) -> Option<&SnapshotEntry> {
        self.entries.iter().find(|e| e.requirement == id)
    }
}

/// A stored candidature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredCandidature {
    /// Its id.
    pub id: CandidatureId,
    /// The vendor's organisation.
    pub organisation: OrganisationId,
    /// The target dispositif (vague 2).
    pub target: DispositifKey,
    /// The REM version current when it was opened; never changes.
    pub rem_version: RemVersionId,
    /// That REM version's own label (what pages and the API show, never the id).
    pub rem_version_label: RemVersionLabel,
    /// Where it is in its lifecycle.
    pub status: CandidatureStatus,
    /// The solution's name, copied at each edit of the draft (frozen by submission).
    pub solution_name: String,
    /// The solution's main component, copied likewise.
    pub main_component: String,
    /// The administrative step.
    pub step: AdministrativeStep,
    /// NRUs entered after submission (R5).
    pub late_nrus: Vec<Nru>,
    /// The plan frozen at submission (recomputed on a late NRU); `None` for a draft.
    pub plan: Option<PlanSnapshot>,
    /// Why the status last changed, as the staff member wrote it.
    pub status_reason: Option<String>,
    /// When the status last changed (submission included).
    pub status_changed_at: Option<Timestamp>,
    /// Bumped by every change; an edit names the revision it was based on.
    pub revision: i64,
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// When it was submitted.
    pub submitted_at: Option<Timestamp>,
    /// When the dossier became complete (every expected proof deposited), for R5.
    pub complete_at: Option<Timestamp>,
    /// The instructor holding it during instruction (see [`Db::assign_candidature`]); instruction
    /// acts by another user are refused with [`conflicts::ASSIGNED_ELSEWHERE`].
    pub assigned_to: Option<UserId>,
}

impl StoredCandidature {
    /// The engine's view of it, for `vendor` (the organisation's SIREN).
    pub fn to_domain(&self, vendor: &Siren) -> Candidature {
        Candidature {
            vendor: vendor.clone(),
            target: self.target.clone(),
            optional_profiles: self.step.optional_profiles.clone(),
            solution: self.solution_name.clone(),
            main_component: self.main_component.clone(),
            version: self.step.version.clone(),
            nrus: self.step.nrus.clone(),
            additional_components: self.step.additional_components.clone(),
            commercial_names: self.step.commercial_names.clone(),
            honour_statement: self.step.honour_statement.is_some(),
            // The catalogue is loaded pinned to the candidature's version (in force there), and
            // R10 is for opening a candidature, not for one already opened.
            rem_version: None,
            opened_on: None,
            late: (!self.late_nrus.is_empty()).then(|| LateEntry {
                complete_on: self.complete_at.map(paris_day),
                // R5's "obtained since": a late NRU's referencing must be granted strictly
                // after the submission day (Paris).
                submitted_on: self.submitted_at.map(paris_day),
                nrus: self.late_nrus.clone(),
            }),
        }
    }
}

/// The outcome of [`Db::record_late_nrus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LateNrusOutcome {
    /// Recorded, with the recomputed plan.
    Recorded {
        /// The candidature after the change.
        candidature: Box<StoredCandidature>,
        /// Requirements to deposit before, masked now.
        newly_masked: Vec<String>,
        /// Deposited proofs marked as no longer needed.
        proofs_no_longer_needed: u64,
    },
    /// The engine refused (R5 outside its conditions, R8, R1, ...): nothing was changed.
    Refused(Vec<Refusal>),
}

/// The calendar day in Paris (CET/CEST) of an instant: date 2 is a French calendar day.
pub(crate) fn paris_day(at: Timestamp) -> IsoDate {
    preuves_domain::ParisTime::from_unix_millis(at.as_millis()).date
}

pub(crate) struct CandidatureRow {
    id: i64,
    organisation_id: i64,
    solution_id: i64,
    code: String,
    wave: i64,
    rem_version_id: i64,
    rem_version_label: String,
    status: String,
    solution_name: String,
    main_component: String,
    optional_profiles: String,
    version: String,
    nrus: String,
    additional_components: String,
    commercial_names: String,
    honour_blob_key: Option<String>,
    honour_file_name: Option<String>,
    honour_sha256: Option<String>,
    honour_size: Option<i64>,
    late_nrus: String,
    plan_snapshot: Option<String>,
    status_reason: Option<String>,
    status_changed_at: Option<i64>,
    revision: i64,
    created_at: i64,
    updated_at: i64,
    submitted_at: Option<i64>,
    complete_at: Option<i64>,
    assigned_to: Option<i64>,
}

crate::row::impl_from_row!(CandidatureRow {
    id,
    organisation_id,
    solution_id,
    code,
    wave,
    rem_version_id,
    rem_version_label,
    status,
    solution_name,
    main_component,
    optional_profiles,
    version,
    nrus,
    additional_components,
    commercial_names,
    honour_blob_key,
    honour_file_name,
    honour_sha256,
    honour_size,
    late_nrus,
    plan_snapshot,
    status_reason,
    status_changed_at,
    revision,
    created_at,
    updated_at,
    submitted_at,
    complete_at,
    assigned_to
});

pub(crate) const SELECT: &str = "SELECT c.id, c.organisation_id, c.solution_id, d.code, d.wave, \
     c.rem_version_id, rv.label AS rem_version_label, c.status, c.solution_name, c.main_component, c.optional_profiles, \
     c.version, c.nrus, c.additional_components, c.commercial_names, c.honour_blob_key, \
     c.honour_file_name, c.honour_sha256, c.honour_size, c.late_nrus, c.plan_snapshot, c.status_reason, c.status_changed_at, \
     c.revision, c.created_at, c.updated_at, c.submitted_at, c.complete_at, c.assigned_to \
     FROM candidatures c JOIN dispositifs d ON d.id = c.dispositif_id \
     JOIN rem_versions rv ON rv.id = c.rem_version_id";

/// The recorded SHA-256 of a step's sworn statement.
fn honour_sha256(step: &AdministrativeStep) -> Option<&str> {
    step.honour_statement.as_ref()?.sha256.as_deref()
}

/// The recorded size of a step's sworn statement, as stored.
fn honour_size(step: &AdministrativeStep) -> Result<Option<i64>> {
    step.honour_statement
        .as_ref()
        .and_then(|h| h.size)
        .map(i64::try_from)
        .transpose()
        .map_err(|_| DbError::Invalid("the sworn statement is too large".to_owned()))
}

fn from_json<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(DbError::corrupt)
}

impl TryFrom<CandidatureRow> for StoredCandidature {
    type Error = DbError;
    fn try_from(r: CandidatureRow) -> Result<Self> {
        let honour_statement = match (r.honour_blob_key, r.honour_file_name) {
            (Some(blob_key), file_name) => Some(HonourStatement {
                blob_key,
                file_name: file_name.unwrap_or_default(),
                sha256: r.honour_sha256,
                size: r
                    .honour_size
                    .map(u64::try_from)
                    .transpose()
                    .map_err(DbError::corrupt)?,
            }),
            (None, _) => None,
        };
        Ok(Self {
            id: CandidatureId(r.id),
            organisation: OrganisationId(r.organisation_id),
            target: DispositifKey {
                code: DispositifCode::parse(&r.code).map_err(DbError::corrupt)?,
                wave: Wave::from_number(r.wave)
                    .ok_or_else(|| DbError::corrupt(format!("unknown wave {}", r.wave)))?,
            },
            rem_version: RemVersionId(r.rem_version_id),
            rem_version_label: RemVersionLabel::parse(&r.rem_version_label)
                .map_err(DbError::corrupt)?,
            status: CandidatureStatus::from_code(&r.status)
                .ok_or_else(|| DbError::corrupt(format!("unknown status `{}`", r.status)))?,
            solution_name: r.solution_name,
            main_component: r.main_component,
            step: AdministrativeStep {
                solution: SolutionId(r.solution_id),
                optional_profiles: from_json(&r.optional_profiles)?,
                version: Version::parse(&r.version).map_err(DbError::corrupt)?,
                nrus: from_json(&r.nrus)?,
                additional_components: from_json(&r.additional_components)?,
                commercial_names: from_json(&r.commercial_names)?,
                honour_statement,
            },
            late_nrus: from_json(&r.late_nrus)?,
            plan: r.plan_snapshot.as_deref().map(from_json).transpose()?,
            status_reason: r.status_reason,
            status_changed_at: r.status_changed_at.map(Timestamp::from_millis),
            revision: r.revision,
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
            submitted_at: r.submitted_at.map(Timestamp::from_millis),
            complete_at: r.complete_at.map(Timestamp::from_millis),
            assigned_to: r.assigned_to.map(UserId),
        })
    }
}

/// The candidature `id`, of `organisation` when given, read on `conn`.
pub(crate) async fn load(
    conn: &mut AnyConnection,
    id: CandidatureId,
    organisation: Option<OrganisationId>,
) -> Result<StoredCandidature> {
    let row: Option<CandidatureRow> = match organisation {
        Some(org) => {
            sqlx::query_as(&format!(
                "{SELECT} WHERE c.id = $1 AND c.organisation_id = $2"
            ))
            .bind(id.0)
            .bind(org.0)
            .fetch_optional(&mut *conn)
            .await?
        }
        None => {
            sqlx::query_as(&format!("{SELECT} WHERE c.id = $1"))
                .bind(id.0)
                .fetch_optional(&mut *conn)
                .await?
        }
    };
    StoredCandidature::try_from(row.ok_or(DbError::NotFound)?)
}

/// The name and main component of `organisation`'s solution `id` (NotFound otherwise).
async fn solution_of(
    conn: &mut AnyConnection,
    organisation: OrganisationId,
    id: SolutionId,
) -> Result<(String, String)> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT name, main_component FROM solutions WHERE id = $1 AND organisation_id = $2",
    )
    .bind(id.0)
    .bind(organisation.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.ok_or(DbError::NotFound)
}

/// Refusals as one French text, for [`DbError::Invalid`].
fn refusal_text(refusals: &[Refusal]) -> String {
    refusals
        .iter()
        .map(|r| format!("[{}] {}", r.code, r.message))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Db {
    /// Opens a draft candidature of `organisation` on the vague-2 dispositif `target`, pinned to
    /// its current REM version. An unknown organisation, solution (or another organisation's),
    /// dispositif or a dispositif without REM gives [`DbError::NotFound`]; a vague-1 target
    /// [`DbError::Invalid`]. The step is stored as entered: the engine judges it.
    pub async fn create_candidature(
        &self,
        organisation: OrganisationId,
        target: &DispositifKey,
        step: &AdministrativeStep,
        actor: &Actor,
    ) -> Result<StoredCandidature> {
        if target.wave != Wave::Two {
            return Err(DbError::Invalid(format!(
                "{target} n'est pas un dispositif de vague 2"
            )));
        }
        let mut tx = self.begin_audited().await?;
        let pinned: Option<(i64, i64)> = sqlx::query_as(
            "SELECT v.id, d.id FROM rem_versions v JOIN dispositifs d ON d.id = v.dispositif_id \
             WHERE d.code = $1 AND d.wave = $2 ORDER BY v.version DESC LIMIT 1",
        )
        .bind(target.code.as_str())
        .bind(i64::from(target.wave.number()))
        .fetch_optional(tx.conn())
        .await?;
        let (rem_version, dispositif) = pinned.ok_or(DbError::NotFound)?;
        let (solution_name, main_component) =
            solution_of(tx.conn(), organisation, step.solution).await?;
        let now = Timestamp::now().as_millis();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO candidatures (organisation_id, solution_id, dispositif_id, \
             rem_version_id, status, solution_name, main_component, optional_profiles, version, \
             nrus, additional_components, commercial_names, honour_blob_key, honour_file_name, \
             honour_sha256, honour_size, late_nrus, revision, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             '[]', 1, $16, $16) RETURNING id",
        )
        .bind(organisation.0)
        .bind(step.solution.0)
        .bind(dispositif)
        .bind(rem_version)
        .bind(&solution_name)
        .bind(&main_component)
        .bind(json_text(&step.optional_profiles)?)
        .bind(step.version.as_str())
        .bind(json_text(&step.nrus)?)
        .bind(json_text(&crate::text::components_without_bidi_controls(
            &step.additional_components,
        ))?)
        .bind(json_text(&crate::text::names_without_bidi_controls(
            &step.commercial_names,
        ))?)
        .bind(step.honour_statement.as_ref().map(|h| h.blob_key.as_str()))
        .bind(step.honour_statement.as_ref().map(|h| h.file_name.as_str()))
        .bind(honour_sha256(step))
        .bind(honour_size(step)?)
        .bind(now)
        .fetch_one(tx.conn())
        .await?;
        tx.record(
            actor,
            "candidature.create",
            "candidature",
            &id.to_string(),
            json!({
                "organisation": organisation,
                "target": { "code": target.code, "wave": target.wave },
                "rem_version": rem_version,
                "step": step,
            }),
        )
        .await?;
        let stored = load(tx.conn(), CandidatureId(id), None).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Replaces the administrative step of a draft of `organisation`, based on
    /// `expected_revision`. Another organisation's candidature gives [`DbError::NotFound`]; one
    /// no longer a draft [`DbError::Conflict`] on [`conflicts::NOT_DRAFT`]; one changed since
    /// on [`conflicts::STALE_REVISION`]. A refused edit changes nothing.
    pub async fn update_candidature_step(
        &self,
        organisation: OrganisationId,
        id: CandidatureId,
        expected_revision: i64,
        step: &AdministrativeStep,
        actor: &Actor,
    ) -> Result<StoredCandidature> {
        let mut tx = self.begin_audited().await?;
        let before = load(tx.conn(), id, Some(organisation)).await?;
        if before.status != CandidatureStatus::Draft {
            return Err(conflict(conflicts::NOT_DRAFT));
        }
        if before.revision != expected_revision {
            return Err(stale_revision());
        }
        let (solution_name, main_component) =
            solution_of(tx.conn(), organisation, step.solution).await?;
        let done = sqlx::query(
            "UPDATE candidatures SET solution_id = $1, solution_name = $2, main_component = $3, \
             optional_profiles = $4, version = $5, nrus = $6, additional_components = $7, \
             commercial_names = $8, honour_blob_key = $9, honour_file_name = $10, \
             honour_sha256 = $11, honour_size = $12, revision = revision + 1, updated_at = $13 \
             WHERE id = $14 AND revision = $15 AND status = 'draft'",
        )
        .bind(step.solution.0)
        .bind(&solution_name)
        .bind(&main_component)
        .bind(json_text(&step.optional_profiles)?)
        .bind(step.version.as_str())
        .bind(json_text(&step.nrus)?)
        .bind(json_text(&crate::text::components_without_bidi_controls(
            &step.additional_components,
        ))?)
        .bind(json_text(&crate::text::names_without_bidi_controls(
            &step.commercial_names,
        ))?)
        .bind(step.honour_statement.as_ref().map(|h| h.blob_key.as_str()))
        .bind(step.honour_statement.as_ref().map(|h| h.file_name.as_str()))
        .bind(honour_sha256(step))
        .bind(honour_size(step)?)
        .bind(Timestamp::now().as_millis())
        .bind(id.0)
        .bind(expected_revision)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Err(stale_revision());
        }
        tx.record(
            actor,
            "candidature.update_step",
            "candidature",
            &id.to_string(),
            json!({ "revision": expected_revision + 1, "before": before.step, "after": step }),
        )
        .await?;
        let stored = load(tx.conn(), id, None).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// A candidature of `organisation`: [`DbError::NotFound`] when it does not exist or is
    /// another organisation's.
    pub async fn find_candidature_for(
        &self,
        organisation: OrganisationId,
        id: CandidatureId,
    ) -> Result<StoredCandidature> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, id, Some(organisation)).await
    }

    /// Any candidature, for staff (instructors, administrators).
    pub async fn find_candidature(&self, id: CandidatureId) -> Result<Option<StoredCandidature>> {
        let mut conn = self.pool.acquire().await?;
        match load(&mut conn, id, None).await {
            Ok(c) => Ok(Some(c)),
            Err(DbError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The candidatures of `organisation` (every one when `None`, for staff), optionally of one
    /// status only, newest first.
    pub async fn list_candidatures(
        &self,
        organisation: Option<OrganisationId>,
        status: Option<CandidatureStatus>,
    ) -> Result<Vec<StoredCandidature>> {
        let sql = format!(
            "{SELECT} WHERE ($1 < 0 OR c.organisation_id = $1) AND ($2 = '' OR c.status = $2) \
             ORDER BY c.id DESC"
        );
        let rows: Vec<CandidatureRow> = sqlx::query_as(&sql)
            .bind(organisation.map_or(-1, |o| o.0))
            .bind(status.map_or("", CandidatureStatus::code))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(StoredCandidature::try_from).collect()
    }

    /// The engine's plan for a stored candidature, on its pinned REM version and the current
    /// register, frozen as a [`PlanSnapshot`]; the inner error is the engine's refusals.
    pub async fn candidature_plan(
        &self,
        candidature: &StoredCandidature,
    ) -> Result<Result<PlanSnapshot, Vec<Refusal>>> {
        let (siren,): (String,) = sqlx::query_as("SELECT siren FROM organisations WHERE id = $1")
            .bind(candidature.organisation.0)
            .fetch_one(&self.pool)
            .await?;
        let siren = Siren::parse(&siren).map_err(DbError::corrupt)?;
        let domain = candidature.to_domain(&siren);
        let catalogue = self
            .load_catalogue_pinned(&[candidature.rem_version])
            .await?;
        let nrus: Vec<Nru> = domain.all_nrus().cloned().collect();
        let register = self.referencings_by_nru(&nrus).await?;
        Ok(compute_plan(&catalogue, &register, &domain).map(|p| PlanSnapshot::from_plan(&p)))
    }

    /// Submits a draft of `organisation` based on `expected_revision`: computes and freezes
    /// its plan, checks the dossier is complete (or that `confirm_incomplete` says the vendor
    /// knowingly submits it incomplete: [`conflicts::INCOMPLETE_DOSSIER`] otherwise), and records
    /// `submitted_at` and, when complete, `complete_at`. A candidature already submitted gives
    /// [`conflicts::ALREADY_SUBMITTED`]; one changed since [`conflicts::STALE_REVISION`]; one
    /// the engine refuses (or with a blocking warning, R6) [`DbError::Invalid`] with the
    /// refusals' codes and messages.
    pub async fn submit_candidature(
        &self,
        organisation: OrganisationId,
        id: CandidatureId,
        expected_revision: i64,
        confirm_incomplete: bool,
        actor: &Actor,
    ) -> Result<StoredCandidature> {
        let seen = self.find_candidature_for(organisation, id).await?;
        if seen.status != CandidatureStatus::Draft {
            return Err(conflict(conflicts::ALREADY_SUBMITTED));
        }
        let snapshot = match self.candidature_plan(&seen).await? {
            Ok(s) => s,
            Err(refusals) => return Err(DbError::Invalid(refusal_text(&refusals))),
        };
        if !snapshot.warnings.is_empty() {
            return Err(DbError::Invalid(format!(
                "[{}] la candidature ne peut pas être déposée en l'état",
                snapshot.warnings.join(", ")
            )));
        }
        let mut tx = self.begin_audited().await?;
        let now_c = load(tx.conn(), id, Some(organisation)).await?;
        if now_c.status != CandidatureStatus::Draft {
            return Err(conflict(conflicts::ALREADY_SUBMITTED));
        }
        if now_c.revision != expected_revision || now_c.revision != seen.revision {
            return Err(stale_revision());
        }
        let proofs = proofs_of(tx.conn(), id).await?;
        let missing = missing_proofs(&snapshot, &proofs).len();
        if missing > 0 && !confirm_incomplete {
            return Err(conflict(conflicts::INCOMPLETE_DOSSIER));
        }
        let now = Timestamp::now().as_millis();
        // Files deposited on the draft for requirements the frozen plan masks (an NRU entered
        // after the upload) are kept but need no verdict, like R5's.
        let mut not_asked: Vec<RequirementId> = proofs
            .iter()
            .filter(|p| p.is_needed())
            .filter(|p| {
                !snapshot
                    .entry(p.requirement.as_str())
                    .is_some_and(SnapshotEntry::is_to_deposit)
            })
            .map(|p| p.requirement.clone())
            .collect();
        not_asked.sort();
        not_asked.dedup();
        let no_longer_needed =
            crate::proofs::mark_no_longer_needed(tx.conn(), id, &not_asked, now).await?;
        let done = sqlx::query(
            "UPDATE candidatures SET status = 'submitted', plan_snapshot = $1, submitted_at = $2, \
             complete_at = $3, status_changed_at = $2, updated_at = $2, revision = revision + 1 \
             WHERE id = $4 AND status = 'draft' AND revision = $5",
        )
        .bind(json_text(&snapshot)?)
        .bind(now)
        .bind((missing == 0).then_some(now))
        .bind(id.0)
        .bind(expected_revision)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Err(conflict(conflicts::ALREADY_SUBMITTED));
        }
        tx.record(
            actor,
            "candidature.submit",
            "candidature",
            &id.to_string(),
            json!({
                "from": CandidatureStatus::Draft, "to": CandidatureStatus::Submitted,
                "rem_version": now_c.rem_version,
                "summary": snapshot.summary,
                "missing_proofs": missing,
                "complete": missing == 0,
                "proofs_no_longer_needed": no_longer_needed,
            }),
        )
        .await?;
        let stored = load(tx.conn(), id, None).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// R5: records NRUs obtained since submission on a candidature of `organisation` under
    /// review, based on `expected_revision`. The engine recomputes the plan on the pinned REM
    /// with every NRU (it checks R5's conditions itself: an équivalence NRU, a dossier complete
    /// by date 2); when it refuses, nothing changes. Otherwise the new plan is frozen and the
    /// proofs deposited for the requirements it masks are marked no longer needed (kept).
    pub async fn record_late_nrus(
        &self,
        organisation: OrganisationId,
        id: CandidatureId,
        expected_revision: i64,
        nrus: &[Nru],
        actor: &Actor,
    ) -> Result<LateNrusOutcome> {
        let mut seen = self.find_candidature_for(organisation, id).await?;
        if !seen.status.is_under_review() {
            return Err(conflict(conflicts::NOT_SUBMITTED));
        }
        if seen.revision != expected_revision {
            return Err(stale_revision());
        }
        for nru in nrus {
            if !seen.late_nrus.contains(nru) && !seen.step.nrus.contains(nru) {
                seen.late_nrus.push(nru.clone());
            }
        }
        let snapshot = match self.candidature_plan(&seen).await? {
            Ok(s) => s,
            Err(refusals) => return Ok(LateNrusOutcome::Refused(refusals)),
        };
        let old = seen.plan.clone().unwrap_or_default();
        let newly_masked: Vec<String> = snapshot
            .entries
            .iter()
            .filter(|e| !e.is_to_deposit())
            .filter(|e| {
                old.entry(&e.requirement)
                    .is_some_and(SnapshotEntry::is_to_deposit)
            })
            .map(|e| e.requirement.clone())
            .collect();

        let mut tx = self.begin_audited().await?;
        let current = load(tx.conn(), id, Some(organisation)).await?;
        if current.revision != expected_revision {
            return Err(stale_revision());
        }
        let now = Timestamp::now().as_millis();
        sqlx::query(
            "UPDATE candidatures SET late_nrus = $1, plan_snapshot = $2, updated_at = $3, \
             revision = revision + 1 WHERE id = $4",
        )
        .bind(json_text(&seen.late_nrus)?)
        .bind(json_text(&snapshot)?)
        .bind(now)
        .bind(id.0)
        .execute(tx.conn())
        .await?;
        let ids: Vec<RequirementId> = newly_masked
            .iter()
            .map(|r| RequirementId::parse(r).map_err(DbError::corrupt))
            .collect::<Result<_>>()?;
        let marked = crate::proofs::mark_no_longer_needed(tx.conn(), id, &ids, now).await?;
        tx.record(
            actor,
            "candidature.late_nrus",
            "candidature",
            &id.to_string(),
            json!({
                "nrus": nrus,
                "late_nrus": seen.late_nrus,
                "newly_masked": newly_masked,
                "proofs_no_longer_needed": marked,
                "summary": snapshot.summary,
            }),
        )
        .await?;
        let candidature = load(tx.conn(), id, None).await?;
        tx.commit().await?;
        Ok(LateNrusOutcome::Recorded {
            candidature: Box::new(candidature),
            newly_masked,
            proofs_no_longer_needed: marked,
        })
    }

    /// Moves a candidature along its lifecycle (staff: instruction, complement request,
    /// decision), naming why. A move the lifecycle does not allow gives [`DbError::Conflict`]
    /// on [`conflicts::INVALID_TRANSITION`]; the audit entry keeps who, from, to and why.
    ///
    /// Granting is not a status change: it issues an NRU ([`Db::prepare_grant`],
    /// [`Db::grant_candidature`]), so `to` = referenced is refused with
    /// [`conflicts::INVALID_TRANSITION`]. Taking a submitted candidature into instruction
    /// assigns it to the acting user when nobody holds it; a user acting on a candidature
    /// another instructor holds is refused with [`conflicts::ASSIGNED_ELSEWHERE`].
    pub async fn set_candidature_status(
        &self,
        id: CandidatureId,
        to: CandidatureStatus,
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<StoredCandidature> {
        let mut tx = self.begin_audited().await?;
        let before = load(tx.conn(), id, None).await?;
        if !before.status.can_become(to) || to == CandidatureStatus::Referenced {
            return Err(conflict(conflicts::INVALID_TRANSITION));
        }
        crate::instruction::check_holder(&before, actor)?;
        let assigned_to = match (before.status, to, actor, before.assigned_to) {
            (
                CandidatureStatus::Submitted,
                CandidatureStatus::InInstruction,
                Actor::User(u),
                None,
            ) => Some(*u),
            _ => before.assigned_to,
        };
        let now = Timestamp::now().as_millis();
        sqlx::query(
            "UPDATE candidatures SET status = $1, status_reason = $2, status_changed_at = $3, \
             updated_at = $3, revision = revision + 1, assigned_to = $4 \
             WHERE id = $5 AND status = $6",
        )
        .bind(to.code())
        .bind(reason)
        .bind(now)
        .bind(assigned_to.map(|u| u.0))
        .bind(id.0)
        .bind(before.status.code())
        .execute(tx.conn())
        .await?;
        let mut details = json!({ "from": before.status, "to": to, "reason": reason });
        if assigned_to != before.assigned_to {
            details["assigned_to"] = json!(assigned_to);
        }
        tx.record(
            actor,
            "candidature.status",
            "candidature",
            &id.to_string(),
            details,
        )
        .await?;
        let stored = load(tx.conn(), id, None).await?;
        tx.commit().await?;
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_days_follow_summer_time() {
        // 2027-03-31T22:30Z is 1 April 00:30 in Paris (CEST).
        let t = Timestamp::from_millis(1_806_532_200_000);
        assert_eq!(paris_day(t), IsoDate::parse("2027-04-01").unwrap());
        // 2027-01-14T22:30Z is 23:30 in Paris (CET).
        let t = Timestamp::from_millis(1_799_965_800_000);
        assert_eq!(paris_day(t), IsoDate::parse("2027-01-14").unwrap());
    }

    #[test]
    fn status_codes_round_trip_and_the_lifecycle_holds() {
        for s in CandidatureStatus::ALL {
            assert_eq!(CandidatureStatus::from_code(s.code()), Some(s));
        }
        use CandidatureStatus::*;
        assert!(Submitted.can_become(InInstruction));
        assert!(ComplementRequested.can_become(InInstruction));
        assert!(!Draft.can_become(Submitted));
        assert!(!Referenced.can_become(InInstruction));
    }
}
