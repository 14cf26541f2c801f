//! A vendor's solutions: declared once (name, main component, versions, commercial names) and
//! reused by every candidature. One input and its validation for the page and the API; updates
//! name the revision they are based on (optimistic concurrency: `stale_revision` otherwise).

use preuves_db::{Actor, Solution, SolutionFields, SolutionId};

use super::fields::{MAX_ITEMS, MAX_NAME, clean_list, invalid, rejected};
use crate::AppState;
use crate::error::{AppError, ErrorItem};
use crate::forms::sentence;
use crate::security::VendorCap;

/// A solution as sent (lists as items; the page splits its textareas by line).
#[derive(Debug, Clone, Default)]
pub(crate) struct SolutionInput {
    /// Its name.
    pub(crate) name: String,
    /// Its main component (the identity R1 compares).
    pub(crate) main_component: String,
    /// Its known versions.
    pub(crate) versions: Vec<String>,
    /// Its commercial names.
    pub(crate) commercial_names: Vec<String>,
}

impl SolutionInput {
    /// The fields to store, or every field at fault (named by the API's JSON keys).
    pub(crate) fn validate(&self) -> Result<SolutionFields, Vec<ErrorItem>> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(invalid("name", "Saisissez le nom de la solution."));
        } else if name.chars().count() > MAX_NAME {
            errors.push(invalid(
                "name",
                format!("Le nom compte au plus {MAX_NAME} caractères."),
            ));
        }
        let main = self.main_component.trim();
        if main.is_empty() {
            errors.push(invalid(
                "main_component",
                "Saisissez le composant principal de la solution.",
            ));
        } else if main.chars().count() > MAX_NAME {
            errors.push(invalid(
                "main_component",
                format!("Le composant principal compte au plus {MAX_NAME} caractères."),
            ));
        }
        let versions = clean_list(&self.versions);
        if let Some(e) = versions
            .iter()
            .find_map(|v| preuves_domain::Version::parse(v).err())
        {
            errors.push(invalid("versions", sentence(&e)));
        } else if versions.len() > MAX_ITEMS {
            errors.push(invalid(
                "versions",
                format!("{MAX_ITEMS} versions au plus."),
            ));
        }
        let names = clean_list(&self.commercial_names);
        if names.len() > MAX_ITEMS {
            errors.push(invalid(
                "commercial_names",
                format!("{MAX_ITEMS} noms commerciaux au plus."),
            ));
        } else if names.iter().any(|n| n.chars().count() > MAX_NAME) {
            errors.push(invalid(
                "commercial_names",
                format!("Un nom commercial compte au plus {MAX_NAME} caractères."),
            ));
        }
        if errors.is_empty() {
            Ok(SolutionFields {
                name: name.to_owned(),
                main_component: main.to_owned(),
                versions,
                commercial_names: names,
            })
        } else {
            Err(errors)
        }
    }
}

/// The vendor's solutions.
pub(crate) async fn list(state: &AppState, vendor: &VendorCap) -> Result<Vec<Solution>, AppError> {
    Ok(state.db.list_solutions(vendor.organisation).await?)
}

/// One of the vendor's solutions (another organisation's is not found).
pub(crate) async fn find(
    state: &AppState,
    vendor: &VendorCap,
    id: SolutionId,
) -> Result<Solution, AppError> {
    Ok(state.db.find_solution_for(vendor.organisation, id).await?)
}

/// Declares a solution (422 with every field at fault).
pub(crate) async fn create(
    state: &AppState,
    vendor: &VendorCap,
    input: &SolutionInput,
) -> Result<Solution, AppError> {
    let fields = input.validate().map_err(rejected)?;
    Ok(state
        .db
        .create_solution(vendor.organisation, &fields, &Actor::User(vendor.user.id))
        .await?)
}

/// Updates one of the vendor's solutions based on `revision`: another organisation's is not
/// found before anything is judged; then 422 with every field at fault, or 409 if it changed.
pub(crate) async fn update(
    state: &AppState,
    vendor: &VendorCap,
    id: SolutionId,
    revision: i64,
    input: &SolutionInput,
) -> Result<Solution, AppError> {
    find(state, vendor, id).await?;
    let fields = input.validate().map_err(rejected)?;
    Ok(state
        .db
        .update_solution(
            vendor.organisation,
            id,
            revision,
            &fields,
            &Actor::User(vendor.user.id),
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_at_fault_is_named() {
        let input = SolutionInput {
            name: " ".to_owned(),
            main_component: "x".repeat(MAX_NAME + 1),
            versions: vec!["v 1".to_owned()],
            commercial_names: (0..=MAX_ITEMS).map(|i| format!("N{i}")).collect(),
        };
        let errors = input.validate().unwrap_err();
        let fields: Vec<&str> = errors.iter().filter_map(|e| e.field.as_deref()).collect();
        assert_eq!(
            fields,
            ["name", "main_component", "versions", "commercial_names"]
        );
        assert_eq!(errors[0].message, "Saisissez le nom de la solution.");
    }

    #[test]
    fn a_valid_solution_is_trimmed_and_deduplicated() {
        let input = SolutionInput {
            name: " Alpha ".to_owned(),
            main_component: "Alpha-core".to_owned(),
            versions: vec!["5.0".to_owned(), " 5.0".to_owned(), String::new()],
            commercial_names: vec!["A".to_owned(), "A".to_owned()],
        };
        let fields = input.validate().unwrap();
        assert_eq!(fields.name, "Alpha");
        assert_eq!(fields.versions, ["5.0"]);
        assert_eq!(fields.commercial_names, ["A"]);
    }
}
