//! Accounts as the administrators' pages show them: organisations with their user counts, user
//! accounts with their organisation, and the organisations and roles offered by the forms.

use std::collections::HashMap;

use preuves_db::{Organisation, OrganisationId, User};

use crate::app::admin::organisations::OrganisationSummary;
use crate::format::siren_display;

/// The roles an administrator may give, as `(code, label)`.
pub(crate) const ROLES: [(&str, &str); 3] = [
    ("vendor", "Éditeur (personnel d'une organisation)"),
    ("instructor", "Instructeur ANS"),
    ("admin", "Administrateur du catalogue et de la plateforme"),
];

/// An organisation in the list.
pub(crate) struct OrganisationRow {
    pub(crate) name: String,
    pub(crate) siren: String,
    pub(crate) users: usize,
}

/// The organisations as the list shows them.
pub(crate) fn organisation_rows(organisations: Vec<OrganisationSummary>) -> Vec<OrganisationRow> {
    organisations
        .into_iter()
        .map(|o| OrganisationRow {
            users: o.users,
            siren: siren_display(&o.organisation.siren),
            name: o.organisation.name,
        })
        .collect()
}

/// A user account in the list.
pub(crate) struct UserRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) role_label: &'static str,
    pub(crate) organisation: String,
    pub(crate) active: bool,
    /// The administrator looking (who may not disable their own account).
    pub(crate) is_self: bool,
}

/// The accounts as the list shows `admin` them, each with its organisation's name.
pub(crate) fn user_rows(
    admin: &User,
    organisations: &[Organisation],
    users: Vec<User>,
) -> Vec<UserRow> {
    let names: HashMap<OrganisationId, &str> = organisations
        .iter()
        .map(|o| (o.id, o.name.as_str()))
        .collect();
    users
        .into_iter()
        .map(|u| UserRow {
            id: u.id.0,
            active: u.is_active(),
            is_self: u.id == admin.id,
            organisation: u
                .organisation
                .and_then(|o| names.get(&o).map(|n| (*n).to_owned()))
                .unwrap_or_default(),
            role_label: u.role.label(),
            name: u.display_name,
            email: u.email,
        })
        .collect()
}

/// An organisation of a form's select.
pub(crate) struct OrganisationOption {
    pub(crate) id: String,
    pub(crate) label: String,
}

/// The organisations as options: name and SIREN.
pub(crate) fn organisation_options(organisations: &[Organisation]) -> Vec<OrganisationOption> {
    organisations
        .iter()
        .map(|o| OrganisationOption {
            id: o.id.0.to_string(),
            label: format!("{} (SIREN {})", o.name, siren_display(&o.siren)),
        })
        .collect()
}
