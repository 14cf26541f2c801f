//! Reading one referencing: who may see it. Staff see every referencing with its details; a
//! vendor only its own organisation's; an NRU that cannot exist, one that does not, and another
//! organisation's answer the same 404. Used by the register page and the API.

use preuves_db::StoredReferencing;
use preuves_domain::Nru;

use crate::AppState;
use crate::error::AppError;
use crate::security::ReadScope;

/// The referencing named by `raw` (as typed in a path), if `scope` may see it.
pub(crate) async fn visible(
    state: &AppState,
    scope: ReadScope,
    raw: &str,
) -> Result<StoredReferencing, AppError> {
    let nru = Nru::parse(raw).map_err(|_| AppError::NotFound)?;
    let found = state
        .db
        .find_referencing(&nru)
        .await?
        .ok_or(AppError::NotFound)?;
    scope.check(found.organisation)?;
    Ok(found)
}
