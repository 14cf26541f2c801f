//! The register of referencings: granted (or recorded from elsewhere) referencings, identified
//! by their NRU, held by an organisation on a dispositif, valid, suspended or withdrawn.
//!
//! [`Db::register_for`] and [`Db::referencings_by_nru`] give domain [`Referencing`] values, so
//! the proof-plan engine runs on stored data.

use preuves_domain::{
    DispositifKey, IsoDate, Nru, Profile, Referencing, ReferencingStatus, Siren, Version,
};
use serde::Serialize;
use serde_json::json;
use sqlx::AnyConnection;

use crate::ids::{Actor, OrganisationId, ReferencingId};
use crate::text::fold;
use crate::time::Timestamp;
use crate::{Db, DbError, Result};

/// What is needed to record a referencing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReferencing {
    /// Its number (unique).
    pub nru: Nru,
    /// The organisation holding it.
    pub organisation: OrganisationId,
    /// The dispositif it was granted on (must exist in the catalogue).
    pub dispositif: DispositifKey,
    /// The optional profiles held (`Général` is implied).
    pub profiles: Vec<Profile>,
    /// The solution's name.
    pub solution: String,
    /// The solution's main component.
    pub main_component: String,
    /// The version referenced.
    pub version: Version,
    /// The commercial names on the attestation.
    pub commercial_names: Vec<String>,
    /// The day it was granted.
    pub granted_on: IsoDate,
    /// Its status.
    pub status: ReferencingStatus,
    /// Why, when it is not valid.
    pub status_reason: Option<String>,
}

/// A referencing of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReferencing {
    /// Its row id.
    pub id: ReferencingId,
    /// Its number.
    pub nru: Nru,
    /// The organisation holding it.
    pub organisation: OrganisationId,
    /// That organisation's name.
    pub organisation_name: String,
    /// That organisation's SIREN.
    pub siren: Siren,
    /// The dispositif.
    pub dispositif: DispositifKey,
    /// Optional profiles held.
    pub profiles: Vec<Profile>,
    /// The solution's name.
    pub solution: String,
    /// The main component.
    pub main_component: String,
    /// The version referenced.
    pub version: Version,
    /// Commercial names.
    pub commercial_names: Vec<String>,
    /// The day it was granted.
    pub granted_on: IsoDate,
    /// Valid, suspended or withdrawn.
    pub status: ReferencingStatus,
    /// Why it is suspended or withdrawn (or was restored).
    pub status_reason: Option<String>,
    /// When the status last changed, if it did.
    pub status_changed_at: Option<Timestamp>,
    /// When it was recorded.
    pub created_at: Timestamp,
}

impl StoredReferencing {
    /// The engine's view of it.
    pub fn to_domain(&self) -> Referencing {
        Referencing {
            nru: self.nru.clone(),
            vendor: self.siren.clone(),
            dispositif: self.dispositif.clone(),
            profiles: self.profiles.clone(),
            solution: self.solution.clone(),
            main_component: self.main_component.clone(),
            version: self.version.clone(),
            status: self.status,
            // The REM version a referencing was granted on is not stored yet: it cites the
            // version in force, as before versions were recorded (docs/rules.md).
            rem_version: None,
            // R5 compares it with a late NRU's candidature's submission day.
            granted_on: Some(self.granted_on),
        }
    }
}

pub(crate) struct ReferencingRow {
    id: i64,
    nru: String,
    organisation_id: i64,
    organisation_name: String,
    siren: String,
    code: String,
    wave: i64,
    profiles: String,
    solution: String,
    main_component: String,
    version: String,
    commercial_names: String,
    granted_on: String,
    status: String,
    status_reason: Option<String>,
    status_changed_at: Option<i64>,
    created_at: i64,
}

crate::row::impl_from_row!(ReferencingRow {
    id,
    nru,
    organisation_id,
    organisation_name,
    siren,
    code,
    wave,
    profiles,
    solution,
    main_component,
    version,
    commercial_names,
    granted_on,
    status,
    status_reason,
    status_changed_at,
    created_at
});

pub(crate) const SELECT: &str = "SELECT f.id, f.nru, f.organisation_id, o.name AS organisation_name, o.siren, \
     d.code, d.wave, f.profiles, f.solution, f.main_component, f.version, f.commercial_names, \
     f.granted_on, f.status, f.status_reason, f.status_changed_at, f.created_at \
     FROM referencings f \
     JOIN organisations o ON o.id = f.organisation_id \
     JOIN dispositifs d ON d.id = f.dispositif_id";

impl TryFrom<ReferencingRow> for StoredReferencing {
    type Error = DbError;
    fn try_from(r: ReferencingRow) -> Result<Self> {
        let profiles: Vec<String> = serde_json::from_str(&r.profiles).map_err(DbError::corrupt)?;
        Ok(Self {
            id: ReferencingId(r.id),
            nru: Nru::parse(&r.nru).map_err(DbError::corrupt)?,
            organisation: OrganisationId(r.organisation_id),
            organisation_name: r.organisation_name,
            siren: Siren::parse(&r.siren).map_err(DbError::corrupt)?,
            dispositif: DispositifKey {
                code: preuves_domain::DispositifCode::parse(&r.code).map_err(DbError::corrupt)?,
                wave: preuves_domain::Wave::from_number(r.wave)
                    .ok_or_else(|| DbError::corrupt(format!("unknown wave {}", r.wave)))?,
            },
            profiles: profiles
                .iter()
                .map(|p| Profile::parse(p).map_err(DbError::corrupt))
                .collect::<Result<_>>()?,
            solution: r.solution,
            main_component: r.main_component,
            version: Version::parse(&r.version).map_err(DbError::corrupt)?,
            commercial_names: serde_json::from_str(&r.commercial_names)
                .map_err(DbError::corrupt)?,
            granted_on: IsoDate::parse(&r.granted_on).map_err(DbError::corrupt)?,
            status: ReferencingStatus::from_code(&r.status)
                .ok_or_else(|| DbError::corrupt(format!("unknown status `{}`", r.status)))?,
            status_reason: r.status_reason,
            status_changed_at: r.status_changed_at.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(r.created_at),
        })
    }
}

fn json_text<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| DbError::Contract(e.to_string()))
}

/// The folded text the public register searches: NRU, vendor name, solution and commercial
/// names, separated so that a query cannot match across two of them.
pub(crate) fn search_text(nru: &Nru, vendor: &str, solution: &str, names: &[String]) -> String {
    let mut parts = vec![nru.as_str(), vendor, solution];
    parts.extend(names.iter().map(String::as_str));
    fold(&parts.join(" | "))
}

/// Inserts the register row of `new` on `conn` (no audit entry: the caller's transaction writes
/// it) and returns its id. An unknown organisation or dispositif gives [`DbError::NotFound`].
pub(crate) async fn insert_row(conn: &mut AnyConnection, new: &NewReferencing) -> Result<i64> {
    let dispositif: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM dispositifs WHERE code = $1 AND wave = $2")
            .bind(new.dispositif.code.as_str())
            .bind(i64::from(new.dispositif.wave.number()))
            .fetch_optional(&mut *conn)
            .await?;
    let (dispositif,) = dispositif.ok_or(DbError::NotFound)?;
    let organisation: Option<(String,)> =
        sqlx::query_as("SELECT name FROM organisations WHERE id = $1")
            .bind(new.organisation.0)
            .fetch_optional(&mut *conn)
            .await?;
    let (vendor,) = organisation.ok_or(DbError::NotFound)?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO referencings (nru, organisation_id, dispositif_id, profiles, solution, \
         main_component, version, commercial_names, granted_on, status, status_reason, \
         created_at, search_text) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(new.nru.as_str())
    .bind(new.organisation.0)
    .bind(dispositif)
    .bind(json_text(&new.profiles)?)
    .bind(crate::text::without_bidi_controls(&new.solution))
    .bind(&new.main_component)
    .bind(new.version.as_str())
    .bind(json_text(&crate::text::names_without_bidi_controls(
        &new.commercial_names,
    ))?)
    .bind(new.granted_on.to_string())
    .bind(new.status.code())
    .bind(new.status_reason.as_deref())
    .bind(Timestamp::now().as_millis())
    .bind(search_text(
        &new.nru,
        &vendor,
        &new.solution,
        &new.commercial_names,
    ))
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

impl Db {
    /// Records a referencing. An NRU already recorded gives [`DbError::Conflict`] on
    /// [`crate::UniqueConstraint::ReferencingNru`]; an unknown organisation or dispositif gives
    /// [`DbError::NotFound`].
    pub async fn insert_referencing(
        &self,
        new: &NewReferencing,
        actor: &Actor,
    ) -> Result<StoredReferencing> {
        let mut tx = self.begin_audited().await?;
        let id = insert_row(tx.conn(), new).await?;
        tx.record(
            actor,
            "referencing.create",
            "referencing",
            new.nru.as_str(),
            json!({
                "id": id,
                "organisation": new.organisation,
                "dispositif": { "code": new.dispositif.code, "wave": new.dispositif.wave },
                "profiles": new.profiles,
                "solution": new.solution,
                "main_component": new.main_component,
                "version": new.version.as_str(),
                "commercial_names": new.commercial_names,
                "granted_on": new.granted_on,
                "status": new.status,
                "status_reason": new.status_reason,
            }),
        )
        .await?;
        tx.commit().await?;
        self.find_referencing(&new.nru)
            .await?
            .ok_or(DbError::NotFound)
    }

    /// The whole register, or one organisation's referencings, by NRU.
    pub async fn list_referencings(
        &self,
        organisation: Option<OrganisationId>,
    ) -> Result<Vec<StoredReferencing>> {
        let rows: Vec<ReferencingRow> = match organisation {
            Some(org) => {
                sqlx::query_as(&format!(
                    "{SELECT} WHERE f.organisation_id = $1 ORDER BY f.nru"
                ))
                .bind(org.0)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(&format!("{SELECT} ORDER BY f.nru"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.into_iter().map(StoredReferencing::try_from).collect()
    }

    /// The referencing with this NRU.
    pub async fn find_referencing(&self, nru: &Nru) -> Result<Option<StoredReferencing>> {
        let row: Option<ReferencingRow> = sqlx::query_as(&format!("{SELECT} WHERE f.nru = $1"))
            .bind(nru.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(StoredReferencing::try_from).transpose()
    }

    /// Suspends, withdraws or restores a referencing, with the reason; the audit entry keeps the
    /// previous and new status.
    pub async fn set_referencing_status(
        &self,
        nru: &Nru,
        status: ReferencingStatus,
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<StoredReferencing> {
        let mut tx = self.begin_audited().await?;
        let previous: Option<(String,)> =
            sqlx::query_as("SELECT status FROM referencings WHERE nru = $1")
                .bind(nru.as_str())
                .fetch_optional(tx.conn())
                .await?;
        let (previous,) = previous.ok_or(DbError::NotFound)?;
        sqlx::query(
            "UPDATE referencings SET status = $1, status_reason = $2, status_changed_at = $3 \
             WHERE nru = $4",
        )
        .bind(status.code())
        .bind(reason)
        .bind(Timestamp::now().as_millis())
        .bind(nru.as_str())
        .execute(tx.conn())
        .await?;
        tx.record(
            actor,
            "referencing.status",
            "referencing",
            nru.as_str(),
            json!({ "from": previous, "to": status, "reason": reason }),
        )
        .await?;
        tx.commit().await?;
        self.find_referencing(nru).await?.ok_or(DbError::NotFound)
    }

    /// An organisation's referencings, as the engine sees them.
    pub async fn register_for(&self, organisation: OrganisationId) -> Result<Vec<Referencing>> {
        Ok(self
            .list_referencings(Some(organisation))
            .await?
            .iter()
            .map(StoredReferencing::to_domain)
            .collect())
    }

    /// The referencings with these NRUs, whoever holds them, as the engine sees them: what a
    /// candidature's plan needs (the engine itself refuses another vendor's NRU, rule R8).
    /// Unknown NRUs are simply absent.
    pub async fn referencings_by_nru(&self, nrus: &[Nru]) -> Result<Vec<Referencing>> {
        let mut out = Vec::with_capacity(nrus.len());
        for nru in nrus {
            if let Some(r) = self.find_referencing(nru).await?
                && !out.iter().any(|o: &Referencing| o.nru == r.nru)
            {
                out.push(r.to_domain());
            }
        }
        Ok(out)
    }
}
