//! A vendor's solutions: name, main component (rule R1 compares it), versions and commercial
//! names, per organisation.
//!
//! Every read that a vendor can reach is scoped to an organisation: another organisation's id
//! gives [`DbError::NotFound`], exactly like an id that does not exist, so nothing leaks. Updates
//! use optimistic concurrency: the caller names the [`Solution::revision`] it edited, and a
//! change made since gives [`DbError::Conflict`] on [`Conflict::StaleRevision`].

use serde::Serialize;
use serde_json::json;

use crate::conflicts::Conflict;
use crate::error::{Refused, RequiredText};
use crate::ids::{Actor, OrganisationId, SolutionId};
use crate::time::Timestamp;
use crate::{Db, DbError, Result};

/// What a vendor declares about a solution (creation and update).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SolutionFields {
    /// Its name.
    pub name: String,
    /// Its main software component.
    pub main_component: String,
    /// Its technical versions, as the vendor writes them.
    pub versions: Vec<String>,
    /// Its commercial names.
    pub commercial_names: Vec<String>,
}

/// A stored solution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Solution {
    /// Its id.
    pub id: SolutionId,
    /// The organisation that declared it.
    pub organisation: OrganisationId,
    /// Its name.
    pub name: String,
    /// Its main software component.
    pub main_component: String,
    /// Its technical versions.
    pub versions: Vec<String>,
    /// Its commercial names.
    pub commercial_names: Vec<String>,
    /// Bumped by every change; an update names the revision it was based on.
    pub revision: i64,
    /// When it was declared.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

struct SolutionRow {
    id: i64,
    organisation_id: i64,
    name: String,
    main_component: String,
    versions: String,
    commercial_names: String,
    revision: i64,
    created_at: i64,
    updated_at: i64,
}

crate::row::impl_from_row!(SolutionRow {
    id,
    organisation_id,
    name,
    main_component,
    versions,
    commercial_names,
    revision,
    created_at,
    updated_at
});

const COLUMNS: &str = "id, organisation_id, name, main_component, versions, commercial_names, \
     revision, created_at, updated_at";

impl TryFrom<SolutionRow> for Solution {
    type Error = DbError;
    fn try_from(r: SolutionRow) -> Result<Self> {
        Ok(Self {
            id: SolutionId(r.id),
            organisation: OrganisationId(r.organisation_id),
            name: r.name,
            main_component: r.main_component,
            versions: serde_json::from_str(&r.versions).map_err(DbError::corrupt)?,
            commercial_names: serde_json::from_str(&r.commercial_names)
                .map_err(DbError::corrupt)?,
            revision: r.revision,
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
        })
    }
}

/// Trims the fields and refuses an empty name or main component.
/// A name as stored: trimmed, without bidirectional controls.
fn plain(s: &str) -> String {
    crate::text::without_bidi_controls(s).trim().to_owned()
}

fn checked(fields: &SolutionFields) -> Result<SolutionFields> {
    let clean = |list: &[String]| -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(list.len());
        for s in list.iter().map(|s| plain(s)).filter(|s| !s.is_empty()) {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    };
    let fields = SolutionFields {
        name: plain(&fields.name),
        main_component: plain(&fields.main_component),
        versions: clean(&fields.versions),
        commercial_names: clean(&fields.commercial_names),
    };
    if fields.name.is_empty() {
        return Err(Refused::Blank(RequiredText::SolutionName).into());
    }
    if fields.main_component.is_empty() {
        return Err(Refused::Blank(RequiredText::MainComponent).into());
    }
    Ok(fields)
}

pub(crate) fn json_text<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| DbError::Contract(e.to_string()))
}

impl Db {
    /// Declares a solution of `organisation` (revision 1). An unknown organisation gives
    /// [`DbError::NotFound`]; an empty name or main component [`Refused::Blank`].
    pub async fn create_solution(
        &self,
        organisation: OrganisationId,
        fields: &SolutionFields,
        actor: &Actor,
    ) -> Result<Solution> {
        let fields = checked(fields)?;
        let mut tx = self.begin_audited().await?;
        let org: Option<(i64,)> = sqlx::query_as("SELECT id FROM organisations WHERE id = $1")
            .bind(organisation.0)
            .fetch_optional(tx.conn())
            .await?;
        org.ok_or(DbError::NotFound)?;
        let now = Timestamp::now().as_millis();
        let row: SolutionRow = sqlx::query_as(&format!(
            "INSERT INTO solutions (organisation_id, name, main_component, versions, \
             commercial_names, revision, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $6) RETURNING {COLUMNS}"
        ))
        .bind(organisation.0)
        .bind(&fields.name)
        .bind(&fields.main_component)
        .bind(json_text(&fields.versions)?)
        .bind(json_text(&fields.commercial_names)?)
        .bind(now)
        .fetch_one(tx.conn())
        .await?;
        let solution = Solution::try_from(row)?;
        tx.record(
            actor,
            "solution.create",
            "solution",
            &solution.id.to_string(),
            json!({ "organisation": organisation, "fields": fields }),
        )
        .await?;
        tx.commit().await?;
        Ok(solution)
    }

    /// Updates a solution of `organisation`, based on `expected_revision`. Another
    /// organisation's solution gives [`DbError::NotFound`]; a solution changed since gives
    /// [`DbError::Conflict`] on [`Conflict::StaleRevision`] and changes nothing.
    pub async fn update_solution(
        &self,
        organisation: OrganisationId,
        id: SolutionId,
        expected_revision: i64,
        fields: &SolutionFields,
        actor: &Actor,
    ) -> Result<Solution> {
        let fields = checked(fields)?;
        let mut tx = self.begin_audited().await?;
        let row: Option<SolutionRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM solutions WHERE id = $1 AND organisation_id = $2"
        ))
        .bind(id.0)
        .bind(organisation.0)
        .fetch_optional(tx.conn())
        .await?;
        let before = Solution::try_from(row.ok_or(DbError::NotFound)?)?;
        if before.revision != expected_revision {
            return Err(Conflict::StaleRevision.into());
        }
        let now = Timestamp::now().as_millis();
        let row: Option<SolutionRow> = sqlx::query_as(&format!(
            "UPDATE solutions SET name = $1, main_component = $2, versions = $3, \
             commercial_names = $4, revision = revision + 1, updated_at = $5 \
             WHERE id = $6 AND organisation_id = $7 AND revision = $8 RETURNING {COLUMNS}"
        ))
        .bind(&fields.name)
        .bind(&fields.main_component)
        .bind(json_text(&fields.versions)?)
        .bind(json_text(&fields.commercial_names)?)
        .bind(now)
        .bind(id.0)
        .bind(organisation.0)
        .bind(expected_revision)
        .fetch_optional(tx.conn())
        .await?;
        let solution = Solution::try_from(row.ok_or(Conflict::StaleRevision)?)?;
        tx.record(
            actor,
            "solution.update",
            "solution",
            &id.to_string(),
            json!({
                "organisation": organisation,
                "revision": solution.revision,
                "before": {
                    "name": before.name, "main_component": before.main_component,
                    "versions": before.versions, "commercial_names": before.commercial_names,
                },
                "after": fields,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(solution)
    }

    /// The solutions of `organisation`, by name then id.
    pub async fn list_solutions(&self, organisation: OrganisationId) -> Result<Vec<Solution>> {
        let rows: Vec<SolutionRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM solutions WHERE organisation_id = $1 ORDER BY name, id"
        ))
        .bind(organisation.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Solution::try_from).collect()
    }

    /// A solution of `organisation`: [`DbError::NotFound`] when it does not exist or belongs to
    /// another organisation.
    pub async fn find_solution_for(
        &self,
        organisation: OrganisationId,
        id: SolutionId,
    ) -> Result<Solution> {
        let row: Option<SolutionRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM solutions WHERE id = $1 AND organisation_id = $2"
        ))
        .bind(id.0)
        .bind(organisation.0)
        .fetch_optional(&self.pool)
        .await?;
        Solution::try_from(row.ok_or(DbError::NotFound)?)
    }
}
