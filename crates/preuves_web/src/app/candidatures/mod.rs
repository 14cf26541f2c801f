//! The vendor's use cases on candidatures, for the pages and the API alike: reading one's own
//! candidatures and their plan ([`plan`] is where a stored candidature's plan is computed, with
//! the catalogue cache), the administrative step ([`step`]: preview, open, save) and what
//! follows its filing ([`filed`]: submission, R5's late NRUs, answers to complement requests).
//!
//! Another organisation's candidature is not found (404), never forbidden: its existence is no
//! one else's business.

pub(crate) mod filed;
pub(crate) mod step;
#[cfg(test)]
mod tests;

use preuves_db::{CandidatureId, CandidatureStatus, DispositifSummary, StoredCandidature};
use preuves_domain::Wave;

use crate::AppState;
use crate::error::AppError;
use crate::journey::{self, LivePlan};
use crate::paths::candidature_id;
use crate::security::VendorCap;

/// One of the vendor's candidatures, by its path id (another organisation's is not found).
pub(crate) async fn own(
    state: &AppState,
    vendor: &VendorCap,
    id: &str,
) -> Result<StoredCandidature, AppError> {
    own_by_id(state, vendor, candidature_id(id)?).await
}

/// One of the vendor's candidatures (another organisation's is not found).
pub(crate) async fn own_by_id(
    state: &AppState,
    vendor: &VendorCap,
    id: CandidatureId,
) -> Result<StoredCandidature, AppError> {
    Ok(state
        .db
        .find_candidature_for(vendor.organisation, id)
        .await?)
}

/// One of the vendor's drafts: a candidature filed since keeps its step frozen
/// (`candidature_not_draft`, nothing changes — a form replayed after submission).
pub(crate) async fn own_draft(
    state: &AppState,
    vendor: &VendorCap,
    id: &str,
) -> Result<StoredCandidature, AppError> {
    let c = own(state, vendor, id).await?;
    c.status.check_step_edit()?;
    Ok(c)
}

/// The vendor's candidatures, most recent first, of one status or all.
pub(crate) async fn list(
    state: &AppState,
    vendor: &VendorCap,
    status: Option<CandidatureStatus>,
) -> Result<Vec<StoredCandidature>, AppError> {
    Ok(state
        .db
        .list_candidatures(Some(vendor.organisation), status)
        .await?)
}

/// The plan of a stored candidature: live for a draft (the engine on its pinned REM version,
/// with the catalogue cache), frozen once filed. Every use case on a stored candidature reads
/// its plan here.
pub(crate) async fn plan(state: &AppState, c: &StoredCandidature) -> Result<LivePlan, AppError> {
    journey::candidature_plan(&state.db, &state.catalogues, c).await
}

/// The warnings about the referencings `c` cites that were suspended or withdrawn since (the
/// plan is not changed silently: the vendor is told, on the pages and in the API).
pub(crate) async fn warnings(
    state: &AppState,
    c: &StoredCandidature,
) -> Result<Vec<String>, AppError> {
    super::warnings::cited_warnings(state, c).await
}

/// The dispositifs a candidature may be opened on: vague 2, with a published REM.
pub(crate) async fn open_targets(state: &AppState) -> Result<Vec<DispositifSummary>, AppError> {
    Ok(state
        .db
        .list_dispositifs()
        .await?
        .into_iter()
        .filter(|d| d.key.wave == Wave::Two && d.current_rem.is_some())
        .collect())
}

/// One of the vendor's candidatures that accepts late NRUs (`candidature_not_submitted`
/// otherwise).
pub(crate) async fn own_for_late_nrus(
    state: &AppState,
    vendor: &VendorCap,
    id: &str,
) -> Result<StoredCandidature, AppError> {
    let c = own(state, vendor, id).await?;
    c.status.check_late_nrus()?;
    Ok(c)
}
