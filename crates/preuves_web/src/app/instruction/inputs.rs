//! What an instructor sends, whatever the front door: the queue's filters, a verdict, a
//! complement request, a refusal, an assignment. Each input has one validation, which returns
//! every field at fault as an [`ErrorItem`] keyed by the API's JSON field name; the API answers
//! them as they are (422), the pages show each beside its form field (see
//! [`crate::forms::FieldErrors::from_items`]).

use preuves_db::{CandidatureStatus, OrganisationId, Verdict};
use preuves_domain::{DispositifCode, DispositifKey, RequirementId, Wave};

use crate::app::{MAX_TEXT, invalid, max_text_label};
use crate::error::ErrorItem;

/// Whether `text` is longer than [`MAX_TEXT`] characters.
fn too_long(text: &str) -> bool {
    text.chars().count() > MAX_TEXT
}

// ---- the queue ------------------------------------------------------------------------------

/// The queue's filters as sent (each optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct QueueInput {
    /// A target dispositif's code.
    pub(crate) dispositif: Option<String>,
    /// With `dispositif`: its wave (2 when absent).
    pub(crate) wave: Option<u8>,
    /// A status code of the queue.
    pub(crate) status: Option<String>,
    /// A vendor organisation's id.
    pub(crate) organisation: Option<i64>,
    /// Only candidatures whose dispositif's date 2 has passed.
    pub(crate) date2_passed: bool,
    /// Only the candidatures the caller holds.
    pub(crate) mine: bool,
}

/// The queue's filters once read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct QueueChoice {
    /// Only this target dispositif.
    pub(crate) dispositif: Option<DispositifKey>,
    /// Only this status (one under review).
    pub(crate) status: Option<CandidatureStatus>,
    /// Only this vendor organisation's.
    pub(crate) organisation: Option<OrganisationId>,
    /// Only candidatures whose dispositif's date 2 has passed.
    pub(crate) date2_passed: bool,
    /// Only the candidatures the caller holds.
    pub(crate) mine: bool,
}

impl QueueInput {
    /// The filters read, and an error (`invalid_parameter`) for each one that is not
    /// understood, which is then left out of the filters: the API refuses the request (400), the
    /// page, whose form only offers valid choices, shows the queue without it.
    pub(crate) fn read(&self) -> (QueueChoice, Vec<ErrorItem>) {
        let mut errors = Vec::new();
        let dispositif = match self
            .dispositif
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            None => None,
            Some(code) => match (
                DispositifCode::parse(code),
                Wave::from_number(i64::from(self.wave.unwrap_or(2))),
            ) {
                (Ok(code), Some(wave)) => Some(DispositifKey { code, wave }),
                _ => {
                    errors.push(ErrorItem::field(
                        "invalid_parameter",
                        "dispositif",
                        "Dispositif mal formé (code, et vague 1 ou 2).",
                    ));
                    None
                }
            },
        };
        let status = match self
            .status
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => {
                let parsed = CandidatureStatus::from_code(s).filter(|s| s.is_under_review());
                if parsed.is_none() {
                    errors.push(ErrorItem::field(
                        "invalid_parameter",
                        "status",
                        "La file ne contient que des candidatures `submitted`, `in_instruction` ou `complement_requested`.",
                    ));
                }
                parsed
            }
        };
        let choice = QueueChoice {
            dispositif,
            status,
            organisation: self.organisation.map(OrganisationId),
            date2_passed: self.date2_passed,
            mine: self.mine,
        };
        (choice, errors)
    }
}

// ---- a verdict ------------------------------------------------------------------------------

/// A verdict on a deposited file, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct VerdictInput {
    /// The verdict's code (`compliant`, `not_compliant`, `complement_requested`).
    pub(crate) verdict: String,
    /// Why (required unless compliant).
    pub(crate) comment: String,
}

/// A verdict ready to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValidVerdict {
    /// The verdict.
    pub(crate) verdict: Verdict,
    /// The comment, trimmed; none when blank.
    pub(crate) comment: Option<String>,
}

impl VerdictInput {
    /// The verdict, or every field at fault (`verdict`, `comment`): an unknown verdict, a
    /// comment over [`MAX_TEXT`] characters, or no comment on a verdict other than compliant
    /// (the vendor must learn what to fix).
    pub(crate) fn validate(&self) -> Result<ValidVerdict, Vec<ErrorItem>> {
        let mut errors = Vec::new();
        let verdict = Verdict::from_code(self.verdict.trim());
        if verdict.is_none() {
            // Each verdict in words with its code, for a person and for a program alike.
            let mut choices: Vec<String> = Verdict::ALL
                .iter()
                .map(|v| format!("{} ({})", v.label(), v.code()))
                .collect();
            let last = choices.pop().unwrap_or_default();
            errors.push(invalid(
                "verdict",
                format!(
                    "Choisissez un verdict\u{a0}: {} ou {last}.",
                    choices.join(", ")
                ),
            ));
        }
        let comment = self.comment.trim();
        if too_long(comment) {
            errors.push(invalid(
                "comment",
                format!(
                    "Le commentaire compte au plus {}\u{a0}caractères.",
                    max_text_label()
                ),
            ));
        }
        if verdict.is_some_and(|v| v != Verdict::Compliant) && comment.is_empty() {
            errors.push(invalid(
                "comment",
                "Expliquez ce qui manque ou ne va pas\u{a0}: le commentaire est obligatoire sauf pour un verdict conforme.",
            ));
        }
        match verdict {
            Some(verdict) if errors.is_empty() => Ok(ValidVerdict {
                verdict,
                comment: (!comment.is_empty()).then(|| comment.to_owned()),
            }),
            _ => Err(errors),
        }
    }
}

// ---- a complement request -------------------------------------------------------------------

/// A requirement a complement request concerns, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ComplementItemInput {
    /// The requirement's id (one to deposit in the frozen plan).
    pub(crate) requirement: String,
    /// What is expected for it (may be empty).
    pub(crate) comment: String,
}

/// A complement request, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ComplementInput {
    /// The message to the vendor.
    pub(crate) message: String,
    /// The requirements concerned, with a comment each.
    pub(crate) items: Vec<ComplementItemInput>,
}

/// A complement request ready to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValidComplements {
    /// The message, trimmed.
    pub(crate) message: String,
    /// The requirements and their comments, trimmed.
    pub(crate) items: Vec<(RequirementId, String)>,
}

impl ComplementInput {
    /// The request, or every field at fault (`message`, `items`): a message empty or over
    /// [`MAX_TEXT`] characters, no requirement, a requirement id that does not parse, a comment
    /// over [`MAX_TEXT`] characters. Whether each requirement is one of the plan's is checked
    /// when the request is recorded.
    pub(crate) fn validate(&self) -> Result<ValidComplements, Vec<ErrorItem>> {
        let mut errors = Vec::new();
        let message = self.message.trim();
        if message.is_empty() {
            errors.push(invalid(
                "message",
                "Écrivez le message adressé à l'éditeur.",
            ));
        } else if too_long(message) {
            errors.push(invalid(
                "message",
                format!(
                    "Le message compte au plus {}\u{a0}caractères.",
                    max_text_label()
                ),
            ));
        }
        if self.items.is_empty() {
            errors.push(invalid(
                "items",
                "Choisissez au moins une exigence concernée.",
            ));
        }
        let mut items = Vec::new();
        for item in &self.items {
            let comment = item.comment.trim();
            match RequirementId::parse(item.requirement.trim()) {
                Ok(r) if too_long(comment) => errors.push(invalid(
                    "items",
                    format!(
                        "Le commentaire sur l'exigence {r} compte au plus {}\u{a0}caractères.",
                        max_text_label()
                    ),
                )),
                Ok(r) => items.push((r, comment.to_owned())),
                Err(_) => errors.push(invalid(
                    "items",
                    format!("Exigence inconnue\u{a0}: {}.", item.requirement.trim()),
                )),
            }
        }
        if errors.is_empty() {
            Ok(ValidComplements {
                message: message.to_owned(),
                items,
            })
        } else {
            Err(errors)
        }
    }
}

// ---- a refusal ------------------------------------------------------------------------------

/// A refusal, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RefusalInput {
    /// Why the candidature is refused (shown to the vendor).
    pub(crate) reason: String,
}

impl RefusalInput {
    /// The reason, trimmed, or the field at fault (`reason`): empty, or over [`MAX_TEXT`]
    /// characters (the vendor reads why).
    pub(crate) fn validate(&self) -> Result<String, Vec<ErrorItem>> {
        let reason = self.reason.trim();
        if reason.is_empty() || too_long(reason) {
            Err(vec![invalid(
                "reason",
                format!(
                    "Motivez le refus ({}\u{a0}caractères au plus).",
                    max_text_label()
                ),
            )])
        } else {
            Ok(reason.to_owned())
        }
    }
}

// ---- an assignment --------------------------------------------------------------------------

/// An assignment to another instructor, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AssignInput {
    /// The user id of the instructor to hand the candidature to; none when no choice was made
    /// (or it does not read as an id).
    pub(crate) instructor: Option<i64>,
}

impl AssignInput {
    /// The instructor's id, or the field at fault (`instructor`). Whether that account is an
    /// active instructor is checked against the accounts by [`super::assign`].
    pub(crate) fn validate(&self) -> Result<preuves_db::UserId, Vec<ErrorItem>> {
        self.instructor
            .map(preuves_db::UserId)
            .ok_or_else(|| vec![invalid("instructor", "Choisissez un instructeur.")])
    }
}
