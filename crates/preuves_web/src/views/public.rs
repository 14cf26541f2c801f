//! The public register and the verification of an attestation as anyone sees them: a
//! referencing's public row (page, CSV, JSON), the filters' options and the verification outcome.

use preuves_db::{DispositifSummary, StoredReferencing, Verification};
use preuves_domain::ReferencingStatus;
use serde::Serialize;

use crate::format::french_datetime;
use crate::layout::encode_query;

/// A referencing as the public sees it.
#[derive(Debug, Serialize)]
pub(crate) struct PublicRow {
    pub(crate) nru: String,
    pub(crate) vendor: String,
    pub(crate) siren: String,
    pub(crate) dispositif: String,
    pub(crate) wave: u8,
    pub(crate) profiles: Vec<String>,
    pub(crate) solution: String,
    pub(crate) version: String,
    pub(crate) commercial_names: Vec<String>,
    pub(crate) granted_on: String,
    pub(crate) status: &'static str,
    #[serde(skip)]
    pub(crate) status_label: &'static str,
    #[serde(skip)]
    pub(crate) granted_french: String,
    #[serde(skip)]
    pub(crate) verify_href: String,
}

impl PublicRow {
    /// The public row of a stored referencing (the general profile first).
    pub(crate) fn of(r: &StoredReferencing) -> Self {
        let mut profiles = vec![preuves_domain::Profile::GENERAL.to_owned()];
        profiles.extend(
            r.profiles
                .iter()
                .filter(|p| !p.is_general())
                .map(ToString::to_string),
        );
        Self {
            nru: r.nru.to_string(),
            vendor: r.organisation_name.clone(),
            siren: r.siren.to_string(),
            dispositif: r.dispositif.code.to_string(),
            wave: r.dispositif.wave.number(),
            profiles,
            solution: r.solution.clone(),
            version: r.version.to_string(),
            commercial_names: r.commercial_names.clone(),
            granted_on: r.granted_on.to_string(),
            status: r.status.code(),
            status_label: r.status.label(),
            granted_french: r.granted_on.to_french(),
            verify_href: format!("/verifier/{}", encode_query(r.nru.as_str())),
        }
    }
}

/// An option of the register's filters.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
}

/// The register's dispositif filter: one option per code (both waves), named after the first
/// dispositif of that code.
pub(crate) fn dispositif_choices(all: &[DispositifSummary]) -> Vec<Choice> {
    let mut dispositifs: Vec<Choice> = Vec::new();
    for d in all {
        let value = d.key.code.to_string();
        if !dispositifs.iter().any(|c| c.value == value) {
            dispositifs.push(Choice {
                label: format!("{} — {}", value, d.name),
                value,
            });
        }
    }
    dispositifs
}

/// The register's status filter.
pub(crate) fn status_choices() -> Vec<Choice> {
    [
        ReferencingStatus::Valid,
        ReferencingStatus::Suspended,
        ReferencingStatus::Withdrawn,
    ]
    .iter()
    .map(|s| Choice {
        value: s.code().to_owned(),
        label: s.label().to_owned(),
    })
    .collect()
}

/// One CSV field: quoted when it holds the separator, a quote or a line break; a leading
/// `=`, `+`, `-` or `@` is neutralised so a spreadsheet never runs it as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The register as CSV: UTF-8 with a BOM, `;` separators and CRLF line ends (opens as is in
/// a French spreadsheet).
pub(crate) fn register_csv_text(rows: &[PublicRow]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str("NRU;Éditeur;SIREN;Dispositif;Vague;Profils;Solution;Version;Noms commerciaux;Date d'octroi;Statut\r\n");
    for r in rows {
        let fields = [
            r.nru.clone(),
            r.vendor.clone(),
            r.siren.clone(),
            r.dispositif.clone(),
            r.wave.to_string(),
            r.profiles.join(", "),
            r.solution.clone(),
            r.version.clone(),
            r.commercial_names.join(", "),
            r.granted_on.clone(),
            r.status_label.to_owned(),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(";"),
        );
        out.push_str("\r\n");
    }
    out
}

/// What the verification page says of a referencing found.
pub(crate) struct VerifyOutcome {
    pub(crate) status_code: &'static str,
    pub(crate) headline: String,
    pub(crate) vendor: String,
    pub(crate) siren: String,
    pub(crate) dispositif: String,
    pub(crate) solution: String,
    pub(crate) version: String,
    pub(crate) names: String,
    pub(crate) granted: String,
    pub(crate) reason: Option<String>,
    pub(crate) changed: Option<String>,
    pub(crate) code_note: Option<(bool, String)>,
}

/// What the verification page says of the referencing found.
pub(crate) fn verify_outcome(v: &Verification) -> VerifyOutcome {
    let headline = match v.status {
        ReferencingStatus::Valid => format!("Référencement {} valide", v.nru),
        ReferencingStatus::Suspended => format!("Référencement {} suspendu", v.nru),
        ReferencingStatus::Withdrawn => format!("Référencement {} retiré", v.nru),
    };
    let code_note = v.code_matches.map(|ok| {
        if ok {
            (true, "Le code de vérification correspond à celui de l'attestation émise.".to_owned())
        } else {
            (
                false,
                "Le code de vérification ne correspond pas à celui de l'attestation émise\u{a0}: ce document n'est pas l'attestation délivrée pour ce NRU.".to_owned(),
            )
        }
    });
    VerifyOutcome {
        status_code: v.status.code(),
        headline,
        vendor: v.vendor.clone(),
        siren: crate::format::siren_display(&v.siren),
        dispositif: crate::format::key_label(&v.dispositif),
        solution: v.solution.clone(),
        version: v.version.to_string(),
        names: v.commercial_names.join(", "),
        granted: v.granted_on.to_french(),
        reason: v.status_reason.clone(),
        changed: v.status_changed_at.map(french_datetime),
        code_note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("plain text"), "plain text");
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("-2;x"), "\"'-2;x\"");
    }
}
