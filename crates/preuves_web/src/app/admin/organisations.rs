//! Vendor organisations: the list with each one's number of accounts, and the creation of one
//! (its name and its SIREN with a valid check digit, unique on the platform).

use std::collections::HashMap;

use preuves_db::{Actor, Organisation, OrganisationId, UniqueConstraint};
use preuves_domain::Siren;

use super::{MAX_NAME, invalid, rejected};
use crate::AppState;
use crate::error::{AppError, ErrorItem};
use crate::format::siren_display;
use crate::forms::sentence;
use crate::security::AdminCap;

/// An organisation as typed: the fields `name` and `siren`.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrganisationInput {
    /// Its name.
    pub(crate) name: String,
    /// Its SIREN (spaces allowed).
    pub(crate) siren: String,
}

impl OrganisationInput {
    /// The name, trimmed, and the SIREN with its check digit; or every field at fault.
    pub(crate) fn validate(&self) -> Result<(String, Siren), Vec<ErrorItem>> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(invalid("name", "Saisissez le nom de l'organisation."));
        } else if name.chars().count() > MAX_NAME {
            errors.push(invalid(
                "name",
                format!("Le nom compte au plus {MAX_NAME} caractères."),
            ));
        }
        let siren = match Siren::parse_checked(&self.siren) {
            Ok(s) => Some(s),
            Err(e) => {
                errors.push(invalid("siren", sentence(&e)));
                None
            }
        };
        match siren {
            Some(siren) if errors.is_empty() => Ok((name.to_owned(), siren)),
            _ => Err(errors),
        }
    }
}

/// An organisation and how many accounts it has.
#[derive(Debug, Clone)]
pub(crate) struct OrganisationSummary {
    /// The organisation.
    pub(crate) organisation: Organisation,
    /// Its accounts, active or not.
    pub(crate) users: usize,
}

/// Every organisation, by name, with its number of accounts.
pub(crate) async fn list(
    state: &AppState,
    _admin: &AdminCap,
) -> Result<Vec<OrganisationSummary>, AppError> {
    let organisations = state.db.list_organisations().await?;
    let mut counts: HashMap<OrganisationId, usize> = HashMap::new();
    for user in state.db.list_users(None).await? {
        if let Some(org) = user.organisation {
            *counts.entry(org).or_default() += 1;
        }
    }
    Ok(organisations
        .into_iter()
        .map(|organisation| OrganisationSummary {
            users: counts.get(&organisation.id).copied().unwrap_or(0),
            organisation,
        })
        .collect())
}

/// Creates an organisation (audited). A refused input, or a SIREN already registered, is an
/// [`AppError::Rejected`] (422) with the fields at fault.
pub(crate) async fn create(
    state: &AppState,
    AdminCap(admin): &AdminCap,
    input: &OrganisationInput,
) -> Result<Organisation, AppError> {
    let (name, siren) = input.validate().map_err(rejected)?;
    match state
        .db
        .create_organisation(&name, &siren, &Actor::User(admin.id))
        .await
    {
        Ok(org) => Ok(org),
        Err(e) if e.is_conflict(UniqueConstraint::OrganisationSiren) => {
            Err(rejected(vec![ErrorItem::field(
                "siren_taken",
                "siren",
                format!(
                    "Une organisation portant le SIREN {} est déjà enregistrée.",
                    siren_display(&siren)
                ),
            )]))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_at_fault_is_reported_under_its_json_name() {
        let e = OrganisationInput {
            name: String::new(),
            siren: "12345".to_owned(),
        }
        .validate()
        .unwrap_err();
        let fields: Vec<_> = e.iter().filter_map(|e| e.field.as_deref()).collect();
        assert_eq!(fields, ["name", "siren"]);
        assert!(e[1].message.contains("9 chiffres"), "{}", e[1].message);
        let (name, siren) = OrganisationInput {
            name: "  Éditeur  ".to_owned(),
            siren: "732 829 320".to_owned(),
        }
        .validate()
        .unwrap();
        assert_eq!(name, "Éditeur");
        assert_eq!(siren.as_str(), "732829320");
    }

    #[test]
    fn sirens_read_in_groups_of_three() {
        assert_eq!(
            siren_display(&Siren::parse("732829320").unwrap()),
            "732\u{a0}829\u{a0}320"
        );
    }
}
