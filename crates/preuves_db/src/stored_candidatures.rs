//! A candidature as stored, and how it is read and moved on a connection inside a transaction:
//! the row, its decoding into [`StoredCandidature`], `load`, the status update `set_status` and
//! the holder update `hold_if_free`. The rules deciding whether a change is allowed are the
//! domain's ([`preuves_domain::workflow`]); the repositories call them between `load` and these
//! updates, inside one audited transaction.

use preuves_domain::{
    AdditionalComponent, Candidature, CandidatureStatus, DispositifCode, DispositifKey, IsoDate,
    LateEntry, Nru, PlanSnapshot, Profile, RemVersionLabel, Siren, Version, Wave, WorkflowConflict,
};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::ids::{CandidatureId, OrganisationId, RemVersionId, SolutionId, UserId};
use crate::time::Timestamp;
use crate::{DbError, Result};

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
    /// The instructor holding it during instruction (see [`crate::Db::assign_candidature`]); instruction
    /// acts by another user are refused with [`WorkflowConflict::AssignedElsewhere`].
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
pub(crate) fn honour_sha256(step: &AdministrativeStep) -> Option<&str> {
    step.honour_statement.as_ref()?.sha256.as_deref()
}

/// The recorded size of a step's sworn statement, as stored.
pub(crate) fn honour_size(step: &AdministrativeStep) -> Result<Option<i64>> {
    step.honour_statement
        .as_ref()
        .and_then(|h| h.size)
        .map(i64::try_from)
        .transpose()
        .map_err(|_| DbError::Contract("the sworn statement is too large".to_owned()))
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

/// Makes `user` the holder of `c` if nobody holds it; returns whether it did.
pub(crate) async fn hold_if_free(
    conn: &mut AnyConnection,
    c: &StoredCandidature,
    user: UserId,
) -> Result<bool> {
    if c.assigned_to.is_some() {
        return Ok(false);
    }
    sqlx::query("UPDATE candidatures SET assigned_to = $1 WHERE id = $2 AND assigned_to IS NULL")
        .bind(user.0)
        .bind(c.id.0)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Moves `c` from its current status to `to` with `reason`, bumping its revision.
pub(crate) async fn set_status(
    conn: &mut AnyConnection,
    c: &StoredCandidature,
    to: CandidatureStatus,
    reason: &str,
    now: i64,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE candidatures SET status = $1, status_reason = $2, status_changed_at = $3, \
         updated_at = $3, revision = revision + 1 WHERE id = $4 AND status = $5",
    )
    .bind(to.code())
    .bind(reason)
    .bind(now)
    .bind(c.id.0)
    .bind(c.status.code())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Err(WorkflowConflict::InvalidTransition.into());
    }
    Ok(())
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
}
