//! The addresses of the public pages that other pages link to.

use preuves_db::RemVersionId;
use preuves_domain::{DispositifKey, RequirementId};

use crate::layout::encode_query;

/// The page of a dispositif.
pub(crate) fn dispositif_href(key: &DispositifKey) -> String {
    format!("/catalogue/{}/{}", key.code, key.wave.number())
}

/// The page of a requirement, of the current REM or of one version.
pub(crate) fn requirement_href(
    key: &DispositifKey,
    id: &RequirementId,
    version: Option<RemVersionId>,
) -> String {
    let mut href = format!(
        "{}/exigence?id={}",
        dispositif_href(key),
        encode_query(id.as_str())
    );
    if let Some(v) = version {
        href.push_str(&format!("&version={v}"));
    }
    href
}
