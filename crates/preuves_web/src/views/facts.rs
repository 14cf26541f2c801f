//! Facts about a stored candidature, as its pages show them (the vendor's and the instructor's).

use preuves_db::{CandidatureStatus, StoredCandidature};
use preuves_domain::{ChapterCode, DispositifKey, Nru, Profile};

use crate::AppState;
use crate::error::AppError;
use crate::format::{french_datetime, key_label};

/// Facts about a stored candidature shown on its pages.
pub(crate) struct CandidatureFacts {
    pub(crate) id: i64,
    pub(crate) target: String,
    pub(crate) solution: String,
    pub(crate) version: String,
    pub(crate) status_code: &'static str,
    pub(crate) status_label: &'static str,
    pub(crate) draft: bool,
    pub(crate) revision: i64,
    pub(crate) profiles: String,
    pub(crate) nrus: String,
    pub(crate) late_nrus: String,
    pub(crate) components: Vec<String>,
    pub(crate) commercial_names: Vec<String>,
    pub(crate) honour_file: Option<String>,
    pub(crate) submitted: Option<String>,
    pub(crate) complete_at: Option<String>,
    pub(crate) status_reason: Option<String>,
    pub(crate) can_deposit: bool,
    pub(crate) can_enter_late_nru: bool,
    pub(crate) date2: Option<String>,
}

impl CandidatureFacts {
    pub(crate) fn of(c: &StoredCandidature, date2: Option<String>) -> Self {
        Self {
            id: c.id.0,
            target: key_label(&c.target),
            solution: c.solution_name.clone(),
            version: c.step.version.to_string(),
            status_code: c.status.code(),
            status_label: c.status.label(),
            draft: c.status == CandidatureStatus::Draft,
            revision: c.revision,
            profiles: std::iter::once(Profile::GENERAL.to_owned())
                .chain(c.step.optional_profiles.iter().map(|p| p.to_string()))
                .collect::<Vec<_>>()
                .join(", "),
            nrus: c
                .step
                .nrus
                .iter()
                .map(Nru::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            late_nrus: c
                .late_nrus
                .iter()
                .map(Nru::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            components: c
                .step
                .additional_components
                .iter()
                .map(|a| {
                    format!(
                        "{} (chapitres {})",
                        a.name,
                        a.chapters
                            .iter()
                            .map(ChapterCode::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect(),
            commercial_names: c.step.commercial_names.clone(),
            honour_file: c
                .step
                .honour_statement
                .as_ref()
                .map(|h| h.file_name.clone()),
            submitted: c.submitted_at.map(french_datetime),
            complete_at: c.complete_at.map(french_datetime),
            status_reason: c.status_reason.clone(),
            can_deposit: c.status.accepts_deposits(),
            can_enter_late_nru: c.status.is_under_review(),
            date2,
        }
    }
}

pub(crate) async fn date2_of(
    state: &AppState,
    target: &DispositifKey,
) -> Result<Option<String>, AppError> {
    Ok(state
        .db
        .list_dispositifs()
        .await?
        .into_iter()
        .find(|d| &d.key == target)
        .and_then(|d| d.date2)
        .map(|d| d.to_french()))
}
