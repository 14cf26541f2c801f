//! Field errors of transport-neutral inputs: one validation in `app/`, two renderings. The API
//! answers them as `{"errors":[{code,message,field}]}` (422); the pages map each canonical field
//! (the API's JSON key) to their own input name and show the message beside it.

use axum::http::StatusCode;

pub(crate) use super::{invalid, rejected};
use crate::error::{AppError, ErrorItem};
use crate::forms::FieldErrors;

/// Most items one list field may hold (NRUs, components, versions, commercial names).
pub(crate) const MAX_ITEMS: usize = 50;
/// Longest name accepted (solution, main component, additional component, commercial name).
pub(crate) const MAX_NAME: usize = 200;

/// Refuses an input with its field errors, or lets it go on.
pub(crate) fn check(errors: Vec<ErrorItem>) -> Result<(), AppError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(rejected(errors))
    }
}

/// The field errors of a use case refused for what its input holds (422), for a page to show
/// beside its fields; any other error is given back.
pub(crate) fn field_errors(e: AppError) -> Result<Vec<ErrorItem>, AppError> {
    match e {
        AppError::Rejected { status, errors } if status == StatusCode::UNPROCESSABLE_ENTITY => {
            Ok(errors)
        }
        other => Err(other),
    }
}

/// The errors as a form shows them: each canonical field renamed by `input_of` to the form's
/// input name (a field error without a field goes to `fallback`).
pub(crate) fn to_form(
    errors: &[ErrorItem],
    input_of: fn(&str) -> &'static str,
    fallback: &'static str,
) -> FieldErrors {
    let mut out = FieldErrors::new();
    add_to_form(&mut out, errors, input_of, fallback);
    out
}

/// Adds `errors` to a form's errors (see [`to_form`]).
pub(crate) fn add_to_form(
    out: &mut FieldErrors,
    errors: &[ErrorItem],
    input_of: fn(&str) -> &'static str,
    fallback: &'static str,
) {
    for e in errors {
        let input = e.field.as_deref().map_or(fallback, input_of);
        out.add(input, e.message.clone());
    }
}

/// Trimmed, without blanks or duplicates, in the order given.
pub(crate) fn clean_list<S: AsRef<str>>(items: &[S]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items
        .iter()
        .map(|i| i.as_ref().trim())
        .filter(|i| !i.is_empty())
    {
        if !out.iter().any(|o| o == i) {
            out.push(i.to_owned());
        }
    }
    out
}

/// Whether `e` is the state conflict `code` (a conflict the page answers in its own way, such as
/// a stale revision keeping what was typed).
pub(crate) fn is_conflict(e: &AppError, code: &str) -> bool {
    matches!(e, AppError::Conflict { code: c, .. } if *c == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_trimmed_without_blanks_or_duplicates() {
        assert_eq!(clean_list(&[" a ", "", "b", "a", "  "]), ["a", "b"]);
    }

    #[test]
    fn form_errors_use_the_form_s_input_names() {
        let errors = vec![
            invalid("optional_profiles", "profil"),
            ErrorItem {
                code: "x",
                message: "sans champ".to_owned(),
                field: None,
            },
        ];
        let form = to_form(
            &errors,
            |f| {
                if f == "optional_profiles" {
                    "profils"
                } else {
                    "autre"
                }
            },
            "nrus",
        );
        assert_eq!(form.error("profils"), Some("profil"));
        assert_eq!(form.error("nrus"), Some("sans champ"));
    }

    #[test]
    fn only_a_422_gives_field_errors() {
        assert_eq!(
            field_errors(rejected(vec![invalid("name", "m")]))
                .unwrap()
                .len(),
            1
        );
        assert!(field_errors(AppError::NotFound).is_err());
    }
}
