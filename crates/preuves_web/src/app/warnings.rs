//! Warnings about the referencings a candidature cites (rules.md, "lifecycle"): a cited
//! referencing suspended or withdrawn since does not change the plan silently; the instructor and
//! the vendor are told, on the pages and in the API.

use preuves_db::StoredCandidature;

use crate::AppState;
use crate::error::AppError;

/// A warning for each NRU the candidature cites that is no longer valid (no silent change of
/// its plan: the plan stays as computed, the instructor and the vendor are told).
pub(crate) async fn cited_warnings(
    state: &AppState,
    c: &StoredCandidature,
) -> Result<Vec<String>, AppError> {
    let mut out = Vec::new();
    for nru in c.step.nrus.iter().chain(c.late_nrus.iter()) {
        if let Some(r) = state.db.find_referencing(nru).await?
            && r.status != preuves_domain::ReferencingStatus::Valid
        {
            out.push(format!(
                "Le référencement {nru} cité par cette candidature est désormais {}{}. Le plan n'a pas été modifié\u{a0}: les exigences qu'il masque restent masquées tant que l'instruction n'en décide pas autrement.",
                r.status.label(),
                r.status_reason
                    .as_deref()
                    .map(|m| format!(" (motif\u{a0}: {m})"))
                    .unwrap_or_default()
            ));
        }
    }
    Ok(out)
}
