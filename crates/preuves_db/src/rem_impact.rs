//! What the REM impact analysis reads before a new REM version is imported: the candidatures
//! still open (draft, submitted, in instruction, complement requested) that are pinned to a REM
//! version, with their vendor. A new version never moves them: filed ones keep their version,
//! and a draft is moved only by its vendor.

use preuves_domain::Siren;

use crate::ids::RemVersionId;
use crate::stored_candidatures::{self, CandidatureRow, StoredCandidature};
use crate::{Db, DbError, Result};

/// An open candidature pinned to a REM version, with its vendor.
#[derive(Debug, Clone)]
pub struct PinnedCandidature {
    /// The candidature.
    pub candidature: StoredCandidature,
    /// Its vendor organisation's name.
    pub vendor_name: String,
    /// Its vendor's SIREN (the engine's view of the candidature needs it).
    pub siren: Siren,
}

impl Db {
    /// The candidatures not decided yet (draft, submitted, in instruction, complement
    /// requested) pinned to the REM version `version`, oldest first.
    pub async fn open_candidatures_pinned_to(
        &self,
        version: RemVersionId,
    ) -> Result<Vec<PinnedCandidature>> {
        let rows: Vec<CandidatureRow> = sqlx::query_as(&format!(
            "{} WHERE c.rem_version_id = $1 AND c.status IN ('draft', 'submitted', \
             'in_instruction', 'complement_requested') ORDER BY c.id",
            stored_candidatures::SELECT
        ))
        .bind(version.0)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<PinnedCandidature> = Vec::with_capacity(rows.len());
        for row in rows {
            let candidature = StoredCandidature::try_from(row)?;
            let known = out
                .iter()
                .find(|o| o.candidature.organisation == candidature.organisation)
                .map(|o| (o.vendor_name.clone(), o.siren.clone()));
            let (vendor_name, siren) = match known {
                Some(k) => k,
                None => {
                    let org = self
                        .find_organisation(candidature.organisation)
                        .await?
                        .ok_or(DbError::NotFound)?;
                    (org.name, org.siren)
                }
            };
            out.push(PinnedCandidature {
                candidature,
                vendor_name,
                siren,
            });
        }
        Ok(out)
    }
}
