//! Field errors of a form re-displayed after a failed submission.
//!
//! A handler validates its whole form, adds one French message per field at fault to a
//! [`FieldErrors`], and, if any, renders the form again (HTTP 422) with the user's input. The
//! template puts each message next to its field (`id="{field}-erreur"`, referenced by the field's
//! `aria-describedby`, with `aria-invalid="true"`) and lists them all at the top, in form order,
//! as links to the fields.

use preuves_domain::IdError;

use crate::error::ErrorItem;

/// The French messages of the fields at fault, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    /// No error yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` for `field` (the first message of a field is kept).
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if !self.has(field) {
            self.0.push((field, message.into()));
        }
    }

    /// The message for `field`, if it is at fault.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Whether `field` is at fault.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(f, _)| *f == field)
    }

    /// `"true"` when `field` is at fault, `"false"` otherwise (for `aria-invalid`).
    pub fn invalid(&self, field: &str) -> &'static str {
        if self.has(field) { "true" } else { "false" }
    }

    /// Whether the form is free of errors.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many fields are at fault.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `(field, message)` pairs, in the order found.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(f, m)| (*f, m.as_str()))
    }

    /// The field errors of the application layer (keyed by canonical field name, the API's JSON
    /// key) as this form's, through its `(canonical field, input name)` mapping. An error on a
    /// field the form does not have goes to the form's first input (when that input has no
    /// message of its own: one message per input).
    pub fn from_items(items: &[ErrorItem], mapping: &[(&str, &'static str)]) -> Self {
        let mut errors = Self::new();
        for item in items {
            let input = item
                .field
                .as_deref()
                .and_then(|f| mapping.iter().find(|(canonical, _)| *canonical == f))
                .or(mapping.first())
                .map(|(_, input)| *input);
            if let Some(input) = input {
                errors.add(input, item.message.clone());
            }
        }
        errors
    }

    /// The summary title: « Le formulaire contient 2 erreurs ».
    pub fn summary(&self) -> String {
        match self.0.len() {
            1 => "Le formulaire contient une erreur\u{a0}:".to_owned(),
            n => format!("Le formulaire contient {n} erreurs\u{a0}:"),
        }
    }
}

/// A parse error of the domain as a sentence: capital first letter, final full stop, French
/// spacing before the colon.
pub fn sentence(error: &IdError) -> String {
    capitalise(&error.to_string())
}

/// `text` with a capital first letter, a non-breaking space before « : », inside « », and a
/// final full stop.
pub fn capitalise(text: &str) -> String {
    let text = text
        .replace(" : ", "\u{a0}: ")
        .replace("« ", "«\u{a0}")
        .replace(" »", "\u{a0}»");
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The lines of a textarea, trimmed, without blanks or duplicates.
pub fn lines(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.iter().any(|o| o == line) {
            out.push(line.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_message_of_a_field_in_order() {
        let mut e = FieldErrors::new();
        assert!(e.is_empty());
        e.add("siren", "premier");
        e.add("name", "nom");
        e.add("siren", "second");
        assert_eq!(e.error("siren"), Some("premier"));
        assert_eq!(e.error("email"), None);
        assert_eq!(e.invalid("name"), "true");
        assert_eq!(e.invalid("email"), "false");
        assert_eq!(
            e.iter().map(|(f, _)| f).collect::<Vec<_>>(),
            ["siren", "name"]
        );
        assert_eq!(e.len(), 2);
        assert!(e.summary().contains("2 erreurs"));
    }

    #[test]
    fn application_errors_go_to_their_inputs() {
        let items = [
            ErrorItem::field("invalid_field", "status", "statut"),
            ErrorItem::field("reason_required", "reason", "motif"),
            ErrorItem::field("invalid_field", "elsewhere", "ailleurs"),
        ];
        let e = FieldErrors::from_items(&items, &[("status", "statut"), ("reason", "motif")]);
        assert_eq!(e.error("statut"), Some("statut"));
        assert_eq!(e.error("motif"), Some("motif"));
        assert_eq!(e.len(), 2, "the unmapped error joins the first input's");
    }

    #[test]
    fn domain_errors_become_sentences() {
        let err = preuves_domain::Siren::parse_checked("123456789").unwrap_err();
        assert_eq!(
            sentence(&err),
            "Le SIREN «\u{a0}123456789\u{a0}» est invalide\u{a0}: sa clé de contrôle (algorithme de Luhn) est fausse."
        );
        assert_eq!(capitalise("déjà fini."), "Déjà fini.");
    }
}
