//! The register of referencings as the signed-in pages show it: a referencing's row, the filter
//! and form options (statuses, dispositifs), and the dispositif value the forms
//! and filters carry.

use preuves_db::StoredReferencing;
use preuves_domain::{DispositifCode, DispositifKey, Profile, ReferencingStatus, Wave};

use crate::app::admin::referencings::DispositifChoice;
use crate::format::{key_label, siren_display};
use crate::layout::encode_query;

/// The statuses a referencing may have, in the order the lists show them.
const STATUSES: [ReferencingStatus; 3] = [
    ReferencingStatus::Valid,
    ReferencingStatus::Suspended,
    ReferencingStatus::Withdrawn,
];

/// A status label with a capital: « Valide ».
fn status_title(status: ReferencingStatus) -> String {
    let label = status.label();
    let mut chars = label.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A dispositif as a form or filter value: `DPI-2`, `MS2-PDE-1` (the wave is after the last `-`).
pub(crate) fn key_value(key: &DispositifKey) -> String {
    format!("{}-{}", key.code, key.wave.number())
}

/// Reads a [`key_value`].
pub(crate) fn parse_key(raw: &str) -> Option<DispositifKey> {
    let (code, wave) = raw.trim().rsplit_once('-')?;
    Some(DispositifKey {
        code: DispositifCode::parse(code).ok()?,
        wave: Wave::from_number(wave.parse().ok()?)?,
    })
}

/// A referencing as the pages show it.
pub(crate) struct RowView {
    pub(crate) nru: String,
    pub(crate) nru_path: String,
    pub(crate) organisation: String,
    pub(crate) siren: String,
    pub(crate) dispositif: String,
    pub(crate) wave: u8,
    pub(crate) profiles: String,
    pub(crate) solution: String,
    pub(crate) main_component: String,
    pub(crate) version: String,
    pub(crate) granted_on: String,
    pub(crate) granted_iso: String,
    pub(crate) status_code: &'static str,
    pub(crate) status_label: String,
}

impl RowView {
    /// The row of a stored referencing (the general profile first).
    pub(crate) fn of(r: &StoredReferencing) -> Self {
        let profiles: Vec<&str> = std::iter::once(Profile::GENERAL)
            .chain(
                r.profiles
                    .iter()
                    .filter(|p| !p.is_general())
                    .map(Profile::as_str),
            )
            .collect();
        Self {
            nru: r.nru.to_string(),
            nru_path: encode_query(r.nru.as_str()),
            organisation: r.organisation_name.clone(),
            siren: siren_display(&r.siren),
            dispositif: r.dispositif.code.to_string(),
            wave: r.dispositif.wave.number(),
            profiles: profiles.join(", "),
            solution: r.solution.clone(),
            main_component: r.main_component.clone(),
            version: r.version.to_string(),
            granted_on: r.granted_on.to_french(),
            granted_iso: r.granted_on.to_string(),
            status_code: r.status.code(),
            status_label: status_title(r.status),
        }
    }
}

/// An option of a filter or a form's select.
pub(crate) struct FilterOption {
    pub(crate) value: String,
    pub(crate) label: String,
}

/// The statuses as options, labelled with a capital.
pub(crate) fn status_options() -> Vec<FilterOption> {
    STATUSES
        .iter()
        .map(|s| FilterOption {
            value: s.code().to_owned(),
            label: status_title(*s),
        })
        .collect()
}

/// The dispositifs as options of the list's filter.
pub(crate) fn dispositif_options<'a>(
    keys: impl IntoIterator<Item = &'a DispositifKey>,
) -> Vec<FilterOption> {
    keys.into_iter()
        .map(|k| FilterOption {
            value: key_value(k),
            label: key_label(k),
        })
        .collect()
}

/// A dispositif of the select: its value (see [`key_value`]), label and optional profiles.
pub(crate) struct DispositifOption {
    pub(crate) value: String,
    pub(crate) label: String,
    choice: DispositifChoice,
}

impl DispositifOption {
    /// The option of a dispositif the administrator may record a referencing on.
    pub(crate) fn of(choice: DispositifChoice) -> Self {
        Self {
            value: key_value(&choice.key),
            label: format!("{} — {}", key_label(&choice.key), choice.name),
            choice,
        }
    }

    /// Its optional profiles, as the form lists them.
    pub(crate) fn profile_list(&self) -> String {
        self.choice.profile_list()
    }

    /// Whether it has no REM yet (its profiles are unknown).
    pub(crate) fn rem_missing(&self) -> bool {
        self.choice.rem_missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositif_values_round_trip_with_dashes_in_codes() {
        for (code, wave) in [
            ("DPI", Wave::Two),
            ("MS2-PDE", Wave::One),
            ("X-1", Wave::Two),
        ] {
            let key = DispositifKey {
                code: DispositifCode::parse(code).unwrap(),
                wave,
            };
            assert_eq!(parse_key(&key_value(&key)), Some(key));
        }
        assert_eq!(parse_key("DPI"), None);
        assert_eq!(parse_key("DPI-3"), None);
        assert_eq!(parse_key(""), None);
    }
}
