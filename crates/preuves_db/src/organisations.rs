//! Vendor organisations (*éditeurs*), identified by their SIREN.

use preuves_domain::Siren;
use serde::Serialize;
use serde_json::json;

use crate::ids::{Actor, OrganisationId};
use crate::time::Timestamp;
use crate::{Db, DbError, Result};

/// A vendor company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    /// Its id.
    pub id: OrganisationId,
    /// Its name.
    pub name: String,
    /// Its SIREN (check digit validated by the caller at creation).
    pub siren: Siren,
    /// When it was created.
    pub created_at: Timestamp,
}

struct OrganisationRow {
    id: i64,
    name: String,
    siren: String,
    created_at: i64,
}

crate::row::impl_from_row!(OrganisationRow {
    id,
    name,
    siren,
    created_at
});

impl TryFrom<OrganisationRow> for Organisation {
    type Error = DbError;
    fn try_from(r: OrganisationRow) -> Result<Self> {
        Ok(Self {
            id: OrganisationId(r.id),
            name: r.name,
            siren: Siren::parse(&r.siren).map_err(DbError::corrupt)?,
            created_at: Timestamp::from_millis(r.created_at),
        })
    }
}

const COLUMNS: &str = "id, name, siren, created_at";

impl Db {
    /// Creates an organisation. A SIREN already registered gives
    /// [`DbError::Conflict`] on [`crate::UniqueConstraint::OrganisationSiren`].
    pub async fn create_organisation(
        &self,
        name: &str,
        siren: &Siren,
        actor: &Actor,
    ) -> Result<Organisation> {
        let name = crate::text::without_bidi_controls(name.trim());
        let name = name.as_str();
        let mut tx = self.begin_audited().await?;
        let row: OrganisationRow = sqlx::query_as(&format!(
            "INSERT INTO organisations (name, siren, created_at) VALUES ($1, $2, $3) \
             RETURNING {COLUMNS}"
        ))
        .bind(name)
        .bind(siren.as_str())
        .bind(Timestamp::now().as_millis())
        .fetch_one(tx.conn())
        .await?;
        let org = Organisation::try_from(row)?;
        tx.record(
            actor,
            "organisation.create",
            "organisation",
            &org.id.to_string(),
            json!({ "name": org.name, "siren": org.siren }),
        )
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    /// The organisation with this id.
    pub async fn find_organisation(&self, id: OrganisationId) -> Result<Option<Organisation>> {
        let row: Option<OrganisationRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM organisations WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Organisation::try_from).transpose()
    }

    /// The organisation with this SIREN.
    pub async fn find_organisation_by_siren(&self, siren: &Siren) -> Result<Option<Organisation>> {
        let row: Option<OrganisationRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM organisations WHERE siren = $1"
        ))
        .bind(siren.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(Organisation::try_from).transpose()
    }

    /// Every organisation, by name.
    pub async fn list_organisations(&self) -> Result<Vec<Organisation>> {
        let rows: Vec<OrganisationRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM organisations ORDER BY name, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Organisation::try_from).collect()
    }
}
