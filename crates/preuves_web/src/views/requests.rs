//! A complement request as the pages show it (to the instructor and to the vendor alike).

use preuves_db::ComplementRequest;

use crate::format::french_datetime;

/// A complement request as the pages show it (instructor and vendor alike).
pub(crate) struct RequestView {
    pub(crate) message: String,
    pub(crate) items: Vec<(String, String)>,
    pub(crate) requested: String,
    pub(crate) by: String,
    pub(crate) answer: Option<String>,
    pub(crate) answered: String,
}

impl RequestView {
    pub(crate) fn of(r: &ComplementRequest) -> Self {
        Self {
            message: r.message.clone(),
            items: r
                .items
                .iter()
                .map(|i| (i.requirement.to_string(), i.comment.clone()))
                .collect(),
            requested: french_datetime(r.requested_at),
            by: r
                .requested_by_name
                .clone()
                .unwrap_or_else(|| r.requested_by.clone()),
            answer: r.answer.clone(),
            answered: r.answered_at.map(french_datetime).unwrap_or_default(),
        }
    }
}
