//! Decisions on a candidature in instruction: refusal, or grant, which issues the NRU, records
//! the referencing in the register with its manifest and attestation, and ends the candidature.
//!
//! # The two-phase grant
//!
//! The attestation PDF must say exactly what the decision records, and the PDF is rendered and
//! stored outside the database. So:
//!
//! 1. [`Db::prepare_grant`] checks the grant is possible now and returns a [`GrantDraft`]:
//!    everything the attestation shows, including the NRU that will be issued and the day.
//!    Nothing is written.
//! 2. The caller renders the attestation from the draft, stores the blob (key, SHA-256) and
//!    draws a [`VerificationCode`] from a random source.
//! 3. [`Db::grant_candidature`] recomputes the draft inside one audited transaction and refuses
//!    with [`Conflict::GrantDraftStale`] if anything differs (the candidature changed, a
//!    verdict changed, another grant took the NRU's sequence number, the day changed, ...);
//!    otherwise it bumps the sequence, records the referencing, its grant row and the status,
//!    and writes the audit entries, all or nothing. On any error nothing is recorded: the caller
//!    deletes its blob, then prepares again (stale) or reports.
//!
//! The sequence number of an NRU is counted per dispositif part, wave and year in the
//! `nru_sequences` table, read and bumped under the audit chain's lock that every audited
//! transaction takes first, so two grants never get the same number on either backend; a
//! number whose NRU already stands in the register (recorded from elsewhere) is skipped.

use preuves_domain::{
    CandidatureStatus, DispositifKey, IsoDate, IssuedNru, Nru, PlanSnapshot, Profile,
    ReferencingStatus, RequirementId, Siren, VerificationCode, Version, check_instruction_complete,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::conflicts::Conflict;
use crate::error::{Refused, RequiredText};
use crate::ids::{Actor, CandidatureId, OrganisationId, ReferencingId, RemVersionId};
use crate::instruction::{acting_user, check_instruction_act};
use crate::referencings::{self, NewReferencing};
use crate::stored_candidatures::{self, StoredCandidature, hold_if_free, paris_day, set_status};
use crate::stored_proofs::{is_sha256_hex, proofs_of};
use crate::time::Timestamp;
use crate::{Db, DbError, Result};

/// Why a requirement in scope is satisfied by a granted referencing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum ManifestBasis {
    /// Proofs deposited with this candidature and judged compliant.
    Proven,
    /// Proven here because an additional component is attached to its chapter (R7).
    ProvenForComponent {
        /// The additional component.
        component: String,
    },
    /// Masked by héritage (R3) from a vague-1 referencing.
    Inherited {
        /// That referencing's NRU.
        nru: String,
    },
    /// Masked by équivalence (R2) with a requirement of a vague-2 referencing.
    Equivalent {
        /// That referencing's NRU.
        nru: String,
        /// The common requirement of its dispositif.
        source_requirement: String,
        /// Its dispositif, as `CODE vague N`.
        source_dispositif: String,
    },
}

impl ManifestBasis {
    /// A French sentence for the attestation and the pages.
    pub fn label(&self) -> String {
        match self {
            Self::Proven => "prouvée dans ce dossier".to_owned(),
            Self::ProvenForComponent { component } => {
                format!("prouvée dans ce dossier (composant additionnel « {component} »)")
            }
            Self::Inherited { nru } => format!("héritée du référencement {nru}"),
            Self::Equivalent {
                nru,
                source_requirement,
                source_dispositif,
            } => format!(
                "équivalente à l'exigence {source_requirement} ({source_dispositif}) du \
                 référencement {nru}"
            ),
        }
    }
}

/// One requirement in scope of a granted referencing and why it is satisfied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The requirement id.
    pub requirement: String,
    /// Its chapter code (the id's prefix: `INS`, `DMP`, ...).
    pub chapter: String,
    /// Why it is satisfied.
    #[serde(flatten)]
    pub basis: ManifestBasis,
}

/// What a granted referencing covers: every requirement in scope, in REM order, from the plan
/// frozen at submission (recomputed on a late NRU, R5), kept with the decision (R9).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// The requirements.
    pub entries: Vec<ManifestEntry>,
}

/// How many requirements of a [`Manifest`] are satisfied each way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ManifestCounts {
    /// Proven here (R7 included).
    pub proven: u64,
    /// Inherited (R3).
    pub inherited: u64,
    /// Equivalent (R2).
    pub equivalent: u64,
}

impl Manifest {
    /// The manifest of a frozen plan; [`DbError::Corrupt`] if a masked entry lacks its reason.
    pub fn from_plan(plan: &PlanSnapshot) -> Result<Self> {
        let entries = plan
            .entries
            .iter()
            .map(|e| {
                let reason = e.reason.as_ref();
                let missing = || {
                    DbError::corrupt(format!(
                        "the frozen plan has no reason for {} ({})",
                        e.requirement, e.status
                    ))
                };
                let nru = || reason.and_then(|r| r.nru.clone()).ok_or_else(missing);
                let basis = match e.status.as_str() {
                    "to_deposit" => match reason.and_then(|r| r.component.clone()) {
                        Some(component) => ManifestBasis::ProvenForComponent { component },
                        None => ManifestBasis::Proven,
                    },
                    "masked_heritage" => ManifestBasis::Inherited { nru: nru()? },
                    "masked_equivalence" => ManifestBasis::Equivalent {
                        nru: nru()?,
                        source_requirement: reason
                            .and_then(|r| r.source_requirement.clone())
                            .ok_or_else(missing)?,
                        source_dispositif: reason
                            .and_then(|r| r.source_dispositif.clone())
                            .ok_or_else(missing)?,
                    },
                    _ => return Err(missing()),
                };
                let id = RequirementId::parse(&e.requirement).map_err(DbError::corrupt)?;
                Ok(ManifestEntry {
                    requirement: e.requirement.clone(),
                    chapter: id.chapter_code().to_string(),
                    basis,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { entries })
    }

    /// The counts per basis.
    pub fn counts(&self) -> ManifestCounts {
        let mut counts = ManifestCounts::default();
        for e in &self.entries {
            match e.basis {
                ManifestBasis::Proven | ManifestBasis::ProvenForComponent { .. } => {
                    counts.proven += 1;
                }
                ManifestBasis::Inherited { .. } => counts.inherited += 1,
                ManifestBasis::Equivalent { .. } => counts.equivalent += 1,
            }
        }
        counts
    }
}

/// Everything the attestation of a grant shows, computed by [`Db::prepare_grant`] and checked
/// again by [`Db::grant_candidature`] (see the module header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantDraft {
    /// The candidature granted.
    pub candidature: CandidatureId,
    /// Its revision when the draft was made.
    pub revision: i64,
    /// The NRU that will be issued.
    pub nru: IssuedNru,
    /// The vendor organisation.
    pub organisation: OrganisationId,
    /// Its name.
    pub vendor_name: String,
    /// Its SIREN.
    pub siren: Siren,
    /// The solution's name.
    pub solution: String,
    /// Its main component.
    pub main_component: String,
    /// The version referenced.
    pub version: Version,
    /// Every name of the solution for the attestation (R6): its own name first, then the
    /// commercial names declared, without repeats.
    pub commercial_names: Vec<String>,
    /// The dispositif.
    pub dispositif: DispositifKey,
    /// Its name.
    pub dispositif_name: String,
    /// The optional profiles granted (`Général` always is: see [`GrantDraft::profiles`]).
    pub optional_profiles: Vec<Profile>,
    /// The REM version the candidature was instructed on.
    pub rem_version: RemVersionId,
    /// Its own label (what the attestation prints).
    pub rem_version_label: String,
    /// Requirement by requirement, what the referencing covers and how.
    pub manifest: Manifest,
    /// The day of the grant, in Paris.
    pub granted_on: IsoDate,
}

impl GrantDraft {
    /// Every profile granted, `Général` first.
    pub fn profiles(&self) -> Vec<Profile> {
        let mut all = vec![Profile::general()];
        all.extend(
            self.optional_profiles
                .iter()
                .filter(|p| !p.is_general())
                .cloned(),
        );
        all
    }

    /// The REM version in French, for the attestation (`REM DPI vague 2, version 3`).
    pub fn rem_label(&self) -> String {
        format!(
            "REM {} vague {}, version {}",
            self.dispositif.code, self.dispositif.wave, self.rem_version_label
        )
    }
}

/// What the platform keeps about a referencing it granted, besides its register row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantRecord {
    /// The register row.
    pub referencing: ReferencingId,
    /// The NRU issued.
    pub nru: Nru,
    /// The vendor organisation.
    pub organisation: OrganisationId,
    /// The candidature it came from.
    pub candidature: CandidatureId,
    /// The REM version it was instructed on.
    pub rem_version: RemVersionId,
    /// What it covers.
    pub manifest: Manifest,
    /// The attestation's blob key.
    pub attestation_blob_key: String,
    /// The attestation's SHA-256, hexadecimal.
    pub attestation_sha256: String,
    /// The code printed on the attestation.
    #[serde(skip)]
    pub verification_code: VerificationCode,
    /// When it was granted.
    pub granted_at: Timestamp,
    /// Who granted it ([`Actor`]'s text form).
    pub granted_by: String,
}

struct GrantRow {
    referencing_id: i64,
    nru: String,
    organisation_id: i64,
    candidature_id: i64,
    rem_version_id: i64,
    manifest: String,
    attestation_blob_key: String,
    attestation_sha256: String,
    verification_code: String,
    granted_at: i64,
    granted_by: String,
}

crate::row::impl_from_row!(GrantRow {
    referencing_id,
    nru,
    organisation_id,
    candidature_id,
    rem_version_id,
    manifest,
    attestation_blob_key,
    attestation_sha256,
    verification_code,
    granted_at,
    granted_by
});

const GRANT_SELECT: &str = "SELECT g.referencing_id, f.nru, f.organisation_id, g.candidature_id, \
     g.rem_version_id, g.manifest, g.attestation_blob_key, g.attestation_sha256, \
     g.verification_code, g.granted_at, g.granted_by \
     FROM referencing_grants g JOIN referencings f ON f.id = g.referencing_id";

impl TryFrom<GrantRow> for GrantRecord {
    type Error = DbError;
    fn try_from(r: GrantRow) -> Result<Self> {
        Ok(Self {
            referencing: ReferencingId(r.referencing_id),
            nru: Nru::parse(&r.nru).map_err(DbError::corrupt)?,
            organisation: OrganisationId(r.organisation_id),
            candidature: CandidatureId(r.candidature_id),
            rem_version: RemVersionId(r.rem_version_id),
            manifest: serde_json::from_str(&r.manifest).map_err(DbError::corrupt)?,
            attestation_blob_key: r.attestation_blob_key,
            attestation_sha256: r.attestation_sha256,
            verification_code: VerificationCode::parse(&r.verification_code)
                .map_err(DbError::corrupt)?,
            granted_at: Timestamp::from_millis(r.granted_at),
            granted_by: r.granted_by,
        })
    }
}

/// The calendar year of a day.
fn year_of(day: IsoDate) -> Result<u16> {
    day.to_string()[..4].parse().map_err(DbError::corrupt)
}

/// The next NRU of `dispositif` in `year`: one past the last number issued, skipping numbers
/// whose NRU the register already holds.
async fn next_nru(
    conn: &mut AnyConnection,
    dispositif: &DispositifKey,
    year: u16,
) -> Result<IssuedNru> {
    let invalid = |e: preuves_domain::IssuedNruError| DbError::Contract(e.to_string());
    let part = IssuedNru::dispositif_part(&dispositif.code).map_err(invalid)?;
    let last: Option<(i64,)> = sqlx::query_as(
        "SELECT last_sequence FROM nru_sequences \
         WHERE dispositif_part = $1 AND wave = $2 AND year = $3",
    )
    .bind(&part)
    .bind(i64::from(dispositif.wave.number()))
    .bind(i64::from(year))
    .fetch_optional(&mut *conn)
    .await?;
    let mut sequence = last.map_or(0, |(n,)| n) + 1;
    loop {
        let number = u32::try_from(sequence).map_err(DbError::corrupt)?;
        let nru =
            IssuedNru::new(&dispositif.code, dispositif.wave, year, number).map_err(invalid)?;
        let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM referencings WHERE nru = $1")
            .bind(nru.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        if taken.is_none() {
            return Ok(nru);
        }
        sequence += 1;
    }
}

/// The draft of granting candidature `id` by `actor` now, read on `conn`, after every check:
/// in instruction, held by the actor or nobody, every expected proof judged compliant.
async fn draft_for(
    conn: &mut AnyConnection,
    id: CandidatureId,
    actor: &Actor,
) -> Result<(GrantDraft, StoredCandidature)> {
    let c = stored_candidatures::load(conn, id, None).await?;
    check_instruction_act(&c, actor)?;
    let plan = c
        .plan
        .as_ref()
        .ok_or_else(|| DbError::corrupt(format!("candidature {id} in instruction has no plan")))?;
    let proofs = proofs_of(conn, id).await?;
    check_instruction_complete(plan, &proofs)?;
    let (vendor_name, siren): (String, String) =
        sqlx::query_as("SELECT name, siren FROM organisations WHERE id = $1")
            .bind(c.organisation.0)
            .fetch_one(&mut *conn)
            .await?;
    let (dispositif_name,): (String,) =
        sqlx::query_as("SELECT name FROM dispositifs WHERE code = $1 AND wave = $2")
            .bind(c.target.code.as_str())
            .bind(i64::from(c.target.wave.number()))
            .fetch_one(&mut *conn)
            .await?;
    let (rem_version_label,): (String,) =
        sqlx::query_as("SELECT label FROM rem_versions WHERE id = $1")
            .bind(c.rem_version.0)
            .fetch_one(&mut *conn)
            .await?;
    let granted_on = paris_day(Timestamp::now());
    let nru = next_nru(conn, &c.target, year_of(granted_on)?).await?;
    let mut commercial_names: Vec<String> = Vec::new();
    for name in std::iter::once(&c.solution_name).chain(&c.step.commercial_names) {
        let name = name.trim();
        if !name.is_empty() && !commercial_names.iter().any(|n| n == name) {
            commercial_names.push(name.to_owned());
        }
    }
    let draft = GrantDraft {
        candidature: id,
        revision: c.revision,
        nru,
        organisation: c.organisation,
        vendor_name,
        siren: Siren::parse(&siren).map_err(DbError::corrupt)?,
        solution: c.solution_name.clone(),
        main_component: c.main_component.clone(),
        version: c.step.version.clone(),
        commercial_names,
        dispositif: c.target.clone(),
        dispositif_name,
        optional_profiles: c.step.optional_profiles.clone(),
        rem_version: c.rem_version,
        rem_version_label,
        manifest: Manifest::from_plan(plan)?,
        granted_on,
    };
    Ok((draft, c))
}

impl Db {
    /// Refuses a candidature in instruction, with the reason (required, [`Refused::Blank`]).
    /// Refused with [`preuves_domain::WorkflowConflict::AlreadyDecided`] (second decision),
    /// [`preuves_domain::WorkflowConflict::NotInInstruction`], [`preuves_domain::WorkflowConflict::AssignedElsewhere`]; an unknown
    /// candidature gives [`DbError::NotFound`].
    pub async fn refuse_candidature(
        &self,
        id: CandidatureId,
        reason: &str,
        actor: &Actor,
    ) -> Result<StoredCandidature> {
        let reason = crate::text::non_blank(Some(reason))
            .ok_or(Refused::Blank(RequiredText::RefusalReason))?;
        let mut tx = self.begin_audited().await?;
        let c = stored_candidatures::load(tx.conn(), id, None).await?;
        let user = check_instruction_act(&c, actor)?;
        let held = hold_if_free(tx.conn(), &c, user).await?;
        let now = Timestamp::now().as_millis();
        set_status(tx.conn(), &c, CandidatureStatus::Refused, &reason, now).await?;
        tx.record(
            actor,
            "candidature.refuse",
            "candidature",
            &id.to_string(),
            json!({
                "from": c.status,
                "to": CandidatureStatus::Refused,
                "reason": reason,
                "now_held_by": held.then_some(user),
            }),
        )
        .await?;
        let stored = stored_candidatures::load(tx.conn(), id, None).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Phase 1 of a grant (see the module header): checks that `actor` may grant candidature
    /// `id` now and returns what the attestation shows, the NRU to be issued included; writes
    /// nothing. Refused with [`preuves_domain::WorkflowConflict::InstructionIncomplete`] (an expected proof without
    /// a compliant current file: see [`preuves_domain::instruction_gaps`]),
    /// [`preuves_domain::WorkflowConflict::AlreadyDecided`], [`preuves_domain::WorkflowConflict::NotInInstruction`],
    /// [`preuves_domain::WorkflowConflict::AssignedElsewhere`]; [`DbError::NotFound`] for an unknown candidature.
    pub async fn prepare_grant(&self, id: CandidatureId, actor: &Actor) -> Result<GrantDraft> {
        let mut conn = self.pool.acquire().await?;
        Ok(draft_for(&mut conn, id, actor).await?.0)
    }

    /// Phase 2 of a grant (see the module header): in one audited transaction, checks that
    /// nothing changed since `draft` ([`Conflict::GrantDraftStale`] otherwise, and every
    /// refusal of [`Db::prepare_grant`]), issues its NRU, records the referencing (valid,
    /// granted on the draft's day) with its grant row (candidature, REM version, manifest,
    /// attestation blob key and SHA-256, verification code), and marks the candidature
    /// referenced. The referencing is at once in the register, usable as an équivalence or
    /// héritage NRU by later candidatures. A SHA-256 that is not 64 lower-case hexadecimal
    /// digits, an empty blob key or a draft of another candidature give [`DbError::Contract`].
    pub async fn grant_candidature(
        &self,
        id: CandidatureId,
        draft: &GrantDraft,
        attestation_blob_key: &str,
        attestation_sha256: &str,
        verification_code: &VerificationCode,
        actor: &Actor,
    ) -> Result<GrantRecord> {
        if draft.candidature != id {
            return Err(DbError::Contract(format!(
                "this grant draft is candidature {}'s, not {id}'s",
                draft.candidature
            )));
        }
        if attestation_blob_key.trim().is_empty() || !is_sha256_hex(attestation_sha256) {
            return Err(DbError::Contract(
                "the attestation needs its blob key and SHA-256 (64 lower-case hexadecimal \
                 digits)"
                    .to_owned(),
            ));
        }
        let mut tx = self.begin_audited().await?;
        let (now_draft, c) = draft_for(tx.conn(), id, actor).await?;
        if now_draft != *draft {
            return Err(Conflict::GrantDraftStale.into());
        }
        let user = acting_user(actor)?;
        let held = hold_if_free(tx.conn(), &c, user).await?;
        sqlx::query(
            "INSERT INTO nru_sequences (dispositif_part, wave, year, last_sequence) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (dispositif_part, wave, year) \
             DO UPDATE SET last_sequence = excluded.last_sequence",
        )
        .bind(draft.nru.dispositif())
        .bind(i64::from(draft.nru.wave().number()))
        .bind(i64::from(draft.nru.year()))
        .bind(i64::from(draft.nru.sequence()))
        .execute(tx.conn())
        .await?;
        let new = NewReferencing {
            nru: draft.nru.to_nru(),
            organisation: draft.organisation,
            dispositif: draft.dispositif.clone(),
            profiles: draft.optional_profiles.clone(),
            solution: draft.solution.clone(),
            main_component: draft.main_component.clone(),
            version: draft.version.clone(),
            commercial_names: draft.commercial_names.clone(),
            granted_on: draft.granted_on,
            status: ReferencingStatus::Valid,
            status_reason: None,
        };
        let referencing = referencings::insert_row(tx.conn(), &new).await?;
        let now = Timestamp::now().as_millis();
        sqlx::query(
            "INSERT INTO referencing_grants (referencing_id, candidature_id, rem_version_id, \
             manifest, attestation_blob_key, attestation_sha256, verification_code, granted_at, \
             granted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(referencing)
        .bind(id.0)
        .bind(draft.rem_version.0)
        .bind(serde_json::to_string(&draft.manifest).map_err(DbError::corrupt)?)
        .bind(attestation_blob_key)
        .bind(attestation_sha256)
        .bind(verification_code.as_str())
        .bind(now)
        .bind(actor.to_string())
        .execute(tx.conn())
        .await?;
        let reason = format!("référencée sous le NRU {}", draft.nru);
        set_status(tx.conn(), &c, CandidatureStatus::Referenced, &reason, now).await?;
        // The verification code is left out of the trail: it proves a paper attestation.
        tx.record(
            actor,
            "referencing.create",
            "referencing",
            draft.nru.as_str(),
            json!({
                "id": referencing,
                "candidature": id,
                "organisation": draft.organisation,
                "dispositif": { "code": draft.dispositif.code, "wave": draft.dispositif.wave },
                "profiles": draft.optional_profiles,
                "solution": draft.solution,
                "main_component": draft.main_component,
                "version": draft.version.as_str(),
                "commercial_names": draft.commercial_names,
                "granted_on": draft.granted_on,
                "status": ReferencingStatus::Valid,
                "rem_version": draft.rem_version,
            }),
        )
        .await?;
        tx.record(
            actor,
            "candidature.grant",
            "candidature",
            &id.to_string(),
            json!({
                "from": c.status,
                "to": CandidatureStatus::Referenced,
                "nru": draft.nru,
                "referencing": referencing,
                "granted_on": draft.granted_on,
                "rem_version": draft.rem_version,
                "manifest": draft.manifest.counts(),
                "attestation": {
                    "blob_key": attestation_blob_key,
                    "sha256": attestation_sha256,
                },
                "now_held_by": held.then_some(user),
            }),
        )
        .await?;
        let row: GrantRow = sqlx::query_as(&format!("{GRANT_SELECT} WHERE g.referencing_id = $1"))
            .bind(referencing)
            .fetch_one(tx.conn())
            .await?;
        tx.commit().await?;
        GrantRecord::try_from(row)
    }

    /// The grant of the referencing `nru`, if this platform granted it (one recorded from
    /// elsewhere has none).
    pub async fn find_grant(&self, nru: &Nru) -> Result<Option<GrantRecord>> {
        let row: Option<GrantRow> = sqlx::query_as(&format!("{GRANT_SELECT} WHERE f.nru = $1"))
            .bind(nru.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(GrantRecord::try_from).transpose()
    }

    /// The grant a candidature led to, if it was granted.
    pub async fn find_grant_of_candidature(
        &self,
        id: CandidatureId,
    ) -> Result<Option<GrantRecord>> {
        let row: Option<GrantRow> =
            sqlx::query_as(&format!("{GRANT_SELECT} WHERE g.candidature_id = $1"))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        row.map(GrantRecord::try_from).transpose()
    }
}
