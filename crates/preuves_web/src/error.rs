//! The one error type of the web layer and its mapping to HTTP, written once.
//!
//! Handlers return `Result<_, AppError>`; the status code, the French message and the stable code
//! are decided here. Pages get an HTML error page, paths under `/api/` get
//! `{"errors":[{"code","message","field"?}]}` (several errors at once for [`AppError::Rejected`]:
//! every refusal of the engine, every field at fault). A 500 never shows its cause: it is logged
//! with the request id, and the page only gives that id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use preuves_db::{Conflict, DbError, Refused, RequiredText, UniqueConstraint, WorkflowConflict};
use preuves_domain::Refusal;

/// One error of a JSON answer: a stable code, a French message, and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorItem {
    /// The stable code (a refusal code of `docs/rules.md`, a conflict's name, `invalid_field`...).
    pub code: &'static str,
    /// What is wrong and what to do, in French.
    pub message: String,
    /// The request field at fault (its JSON key or path), if one is.
    pub field: Option<String>,
}

impl ErrorItem {
    /// An error on `field`.
    pub fn field(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: Some(field.into()),
        }
    }
}

impl From<&Refusal> for ErrorItem {
    /// An engine refusal with its stable code and the candidature field it concerns.
    fn from(r: &Refusal) -> Self {
        Self {
            code: r.code.as_str(),
            message: r.message.clone(),
            field: (!r.field.is_empty()).then(|| r.field.to_owned()),
        }
    }
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such object, or one the user may not see (the two are indistinguishable on purpose).
    #[error("not found")]
    NotFound,
    /// A page that needs a signed-in user.
    #[error("unauthenticated")]
    Unauthenticated,
    /// Signed in, but this role may not do this (only where the object's existence is no secret).
    #[error("forbidden")]
    Forbidden,
    /// The form's CSRF token is missing or wrong.
    #[error("csrf")]
    Csrf,
    /// Too many attempts; retry after this many seconds.
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds before a new attempt is considered.
        retry_after: u64,
    },
    /// Too many API requests from one token, user or client address; retry after this many
    /// seconds.
    #[error("rate limited")]
    RateLimited {
        /// Seconds before the next request is accepted.
        retry_after: u64,
    },
    /// The request is malformed, with a French explanation.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The body is larger than allowed.
    #[error("payload too large")]
    PayloadTooLarge,
    /// An API request with an `Authorization: Bearer` token that is unknown, expired or revoked.
    #[error("invalid token")]
    InvalidToken,
    /// A read-only API token used for a write.
    #[error("insufficient scope")]
    InsufficientScope,
    /// The request is refused for what it holds, with every error found at once (the engine's
    /// refusals, the fields at fault): its status (400, 422...) and the errors.
    #[error("rejected: {errors:?}")]
    Rejected {
        /// The HTTP status.
        status: StatusCode,
        /// The errors, in the order found.
        errors: Vec<ErrorItem>,
    },
    /// The change conflicts with the current state: a stable code and a French explanation.
    #[error("conflict {code}: {message}")]
    Conflict {
        /// The stable code ([`Conflict::code`], or `conflict`).
        code: &'static str,
        /// What happened and what to do, in French.
        message: String,
    },
    /// A request refused for what it holds (a file too large, of a refused type, empty...):
    /// its status, stable code and French explanation.
    #[error("refused {code}: {message}")]
    Refused {
        /// The HTTP status (413, 415, 422...).
        status: StatusCode,
        /// The stable code.
        code: &'static str,
        /// What is wrong and what to do, in French.
        message: String,
    },
    /// Anything unexpected: logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    /// An unexpected failure, with what to log.
    pub fn internal(what: impl std::fmt::Display) -> Self {
        Self::Internal(what.to_string())
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unauthenticated | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::Csrf | Self::InsufficientScope => StatusCode::FORBIDDEN,
            Self::Rejected { status, .. } => *status,
            Self::TooManyRequests { .. } | Self::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Refused { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code, for programs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::Rejected { errors, .. } => errors.first().map_or("invalid_request", |e| e.code),
            Self::Forbidden => "forbidden",
            Self::Csrf => "csrf_failed",
            Self::TooManyRequests { .. } | Self::RateLimited { .. } => "too_many_requests",
            Self::BadRequest(_) => "bad_request",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Conflict { code, .. } => code,
            Self::Refused { code, .. } => code,
            Self::Internal(_) => "internal",
        }
    }

    /// The French title shown to users.
    pub fn title(&self) -> &'static str {
        match self {
            Self::NotFound => "Page introuvable",
            Self::Unauthenticated | Self::InvalidToken => "Connexion requise",
            Self::Forbidden | Self::InsufficientScope => "Accès refusé",
            Self::Rejected { .. } => "Requête refusée",
            Self::Csrf => "Formulaire expiré",
            Self::TooManyRequests { .. } => "Trop de tentatives",
            Self::RateLimited { .. } => "Trop de requêtes",
            Self::BadRequest(_) => "Requête invalide",
            Self::PayloadTooLarge => "Fichier trop volumineux",
            Self::Conflict { .. } => "Modification impossible",
            Self::Refused { .. } => "Envoi refusé",
            Self::Internal(_) => "Erreur interne",
        }
    }

    /// The French explanation shown to users (never the internal cause).
    pub fn message(&self) -> String {
        match self {
            Self::NotFound => {
                "La page demandée n'existe pas, ou vous n'y avez pas accès.".to_owned()
            }
            Self::Unauthenticated => "Connectez-vous pour accéder à cette page.".to_owned(),
            Self::Forbidden => "Votre rôle ne permet pas cette action.".to_owned(),
            Self::InvalidToken => "Ce jeton d'accès est inconnu, expiré ou révoqué\u{a0}: créez-en un nouveau depuis la page «\u{a0}Jetons d'accès\u{a0}» de votre compte.".to_owned(),
            Self::InsufficientScope => "Ce jeton d'accès ne permet que la lecture\u{a0}: utilisez un jeton «\u{a0}lecture et écriture\u{a0}» pour cette action.".to_owned(),
            Self::Rejected { errors, .. } => errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            Self::Csrf => "Le formulaire a expiré ou ne provient pas de cette plateforme. Rechargez la page et recommencez.".to_owned(),
            Self::TooManyRequests { retry_after } => format!(
                "Trop de tentatives de connexion. Réessayez dans {} minute{}.",
                retry_after.div_ceil(60),
                if retry_after.div_ceil(60) > 1 { "s" } else { "" }
            ),
            Self::RateLimited { retry_after } => format!(
                "Trop de requêtes en peu de temps. Réessayez dans {retry_after}\u{a0}seconde{}.",
                if *retry_after > 1 { "s" } else { "" }
            ),
            Self::BadRequest(m)
            | Self::Conflict { message: m, .. }
            | Self::Refused { message: m, .. } => m.clone(),
            Self::PayloadTooLarge => "Le fichier envoyé dépasse la taille autorisée.".to_owned(),
            Self::Internal(_) => "Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez dans un instant.".to_owned(),
        }
    }
}

impl AppError {
    /// A conflict with the generic code.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            code: "conflict",
            message: message.into(),
        }
    }
}

/// The French explanation of a workflow conflict (the code is [`WorkflowConflict::code`]).
fn workflow_message(conflict: WorkflowConflict) -> &'static str {
    match conflict {
        WorkflowConflict::NotDraft => {
            "Cette candidature a déjà été déposée\u{a0}: son étape administrative est figée et \
             ne peut plus être modifiée. Rien n'a été changé."
        }
        WorkflowConflict::AlreadySubmitted => {
            "Cette candidature a déjà été déposée (peut-être depuis un autre onglet). \
             Rien n'a été changé."
        }
        WorkflowConflict::IncompleteDossier => {
            "Le dossier est incomplet\u{a0}: cochez la confirmation pour le déposer malgré \
             tout, ou déposez d'abord les preuves manquantes."
        }
        WorkflowConflict::InvalidTransition => {
            "Ce changement de statut n'est pas possible depuis le statut actuel de la \
             candidature."
        }
        WorkflowConflict::NotSubmitted => {
            "Un NRU obtenu depuis le dépôt ne peut être saisi que sur une candidature déposée \
             et pas encore décidée."
        }
        WorkflowConflict::DepositClosed => {
            "Le dépôt de preuves est fermé pour cette candidature (instruction en cours ou \
             décision prise). Le fichier n'a pas été enregistré."
        }
        WorkflowConflict::NotInInstruction => {
            "Cette action demande que la candidature soit en instruction. Rien n'a été changé."
        }
        WorkflowConflict::AssignedElsewhere => {
            "Un autre instructeur instruit cette candidature\u{a0}: demandez-lui de vous la \
             confier (ou réattribuez-la) avant d'agir. Rien n'a été changé."
        }
        WorkflowConflict::NotUnderReview => {
            "Seule une candidature déposée, en instruction ou en attente de compléments peut \
             être attribuée. Rien n'a été changé."
        }
        WorkflowConflict::AlreadyDecided => {
            "Une décision a déjà été prise sur cette candidature\u{a0}: elle ne peut plus \
             changer. Rien n'a été changé."
        }
        WorkflowConflict::ProofNoLongerNeeded => {
            "Cette preuve n'est plus nécessaire (exigence masquée depuis, règle R5)\u{a0}: elle \
             n'attend pas de verdict."
        }
        WorkflowConflict::ProofSuperseded => {
            "Un fichier plus récent a été déposé pour cette preuve\u{a0}: c'est lui qu'il faut \
             juger."
        }
        WorkflowConflict::NoOpenComplementRequest => {
            "Aucune demande de complément n'est ouverte sur cette candidature."
        }
        WorkflowConflict::InstructionIncomplete => {
            "L'instruction n'est pas terminée\u{a0}: chaque preuve attendue doit avoir un \
             fichier jugé conforme avant le référencement. Aucune décision n'a été prise."
        }
    }
}

/// The French explanation of a unique constraint a request can run into, or `None` for those
/// only a bug can violate (a session token or an audit position drawn twice, a catalogue
/// written twice by the import): those stay internal errors, logged, as they always were.
fn unique_message(constraint: UniqueConstraint) -> Option<&'static str> {
    match constraint {
        UniqueConstraint::ProofBlobKey => {
            Some("Ce fichier a déjà été enregistré. Rien n'a été changé.")
        }
        UniqueConstraint::OrganisationSiren => {
            Some("Une organisation est déjà enregistrée avec ce SIREN. Rien n'a été changé.")
        }
        UniqueConstraint::UserEmail => {
            Some("Un compte existe déjà avec cette adresse électronique. Rien n'a été changé.")
        }
        UniqueConstraint::ReferencingNru => {
            Some("Ce NRU figure déjà au registre. Rien n'a été changé.")
        }
        UniqueConstraint::DispositifCodeWave
        | UniqueConstraint::RemVersion
        | UniqueConstraint::RemVersionLabel
        | UniqueConstraint::RequirementCode
        | UniqueConstraint::RequirementOrdinal
        | UniqueConstraint::EquivalencePair
        | UniqueConstraint::SessionToken
        | UniqueConstraint::AuditEntry => None,
    }
}

impl From<Conflict> for AppError {
    /// Every conflict of the database, with its stable code and French message: an exhaustive
    /// match, so a new conflict cannot reach users without its text.
    fn from(conflict: Conflict) -> Self {
        let message = match conflict {
            Conflict::StaleRevision => {
                "Cet objet a été modifié entre-temps (dans un autre onglet ou par un collègue). \
                 Votre enregistrement a été refusé pour ne pas écraser cette modification\u{a0}: \
                 rechargez la page, vérifiez la version actuelle et refaites votre changement."
            }
            Conflict::GrantDraftStale => {
                "La candidature a changé pendant la préparation de la décision. Aucune décision \
                 n'a été prise\u{a0}: rechargez la page et recommencez."
            }
            Conflict::Workflow(w) => workflow_message(w),
            Conflict::Unique(u) => match unique_message(u) {
                Some(message) => message,
                None => return Self::Internal(format!("unexpected conflict: {conflict}")),
            },
        };
        Self::Conflict {
            code: conflict.code(),
            message: message.to_owned(),
        }
    }
}

impl From<WorkflowConflict> for AppError {
    fn from(conflict: WorkflowConflict) -> Self {
        Conflict::Workflow(conflict).into()
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Self::NotFound,
            DbError::Conflict(conflict) => conflict.into(),
            DbError::Refused(refused) => refused.into(),
            other => Self::Internal(error_chain(&other)),
        }
    }
}

impl From<Refused> for AppError {
    /// The engine's refusals are 422 with each refusal's code and field; the other refusals
    /// 400 with their own code and French text (the application layer validates user input
    /// before it reaches the database, so these are seldom seen).
    fn from(refused: Refused) -> Self {
        let (code, message) = match refused {
            Refused::Plan(refusals) | Refused::SubmissionBlocked(refusals) => {
                return crate::app::rejected(refusals.iter().map(ErrorItem::from).collect());
            }
            Refused::TargetNotVague2(key) => (
                "target_not_vague2",
                format!("{key} n'est pas un dispositif de vague 2."),
            ),
            Refused::RemOnVague1(key) => (
                "rem_on_vague1",
                format!("{key} est un dispositif de vague 1 : il n'a pas de REM."),
            ),
            Refused::Blank(text) => ("blank_field", blank_message(text).to_owned()),
            Refused::NotToDeposit(requirement) => (
                "requirement_not_to_deposit",
                format!(
                    "L'exigence {requirement} n'est pas à prouver dans le plan de cette candidature."
                ),
            ),
            Refused::UnknownRequirement(requirement) => (
                "unknown_requirement",
                format!(
                    "L'exigence {requirement} n'existe pas dans la version du REM de la candidature."
                ),
            ),
            Refused::UnknownProof {
                requirement,
                scenario,
                proof,
            } => (
                "unknown_proof",
                format!("L'exigence {requirement} n'attend pas de preuve n° {scenario}.{proof}."),
            ),
            Refused::NotAnActiveInstructor(id) => (
                "not_an_instructor",
                format!("Le compte {id} n'est pas un compte d'instructeur actif."),
            ),
            Refused::VerdictNeedsComment(verdict) => (
                "comment_required",
                format!(
                    "Un verdict « {} » doit être motivé par un commentaire.",
                    verdict.label()
                ),
            ),
            Refused::QueueStatusNotUnderReview => (
                "invalid_parameter",
                "La file d'instruction ne contient que des candidatures déposées, en instruction \
                 ou en attente de compléments."
                    .to_owned(),
            ),
            Refused::TokenExpiryPast => (
                "invalid_expiry",
                "La date d'expiration d'un jeton doit être dans le futur.".to_owned(),
            ),
            Refused::VendorOrganisation => (
                "invalid_organisation",
                "Un compte d'éditeur est rattaché à une organisation, et seul un compte \
                 d'éditeur l'est."
                    .to_owned(),
            ),
        };
        Self::Refused {
            status: StatusCode::BAD_REQUEST,
            code,
            message,
        }
    }
}

/// What a blank required text is, in French.
fn blank_message(text: RequiredText) -> &'static str {
    match text {
        RequiredText::SolutionName => "Une solution doit avoir un nom.",
        RequiredText::MainComponent => "Une solution doit avoir un composant principal.",
        RequiredText::ComplementMessage => "La demande de compléments doit avoir un message.",
        RequiredText::ComplementAnswer => "La réponse aux compléments doit avoir un message.",
        RequiredText::RefusalReason => "Le refus doit être motivé.",
        RequiredText::TokenName => "Un jeton doit avoir un nom.",
    }
}

/// An error and its sources, for the log line of a 500.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        // `thiserror` messages often repeat their source (`database error: {0}`).
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(format!("template: {e}"))
    }
}

/// Marks a response as an error to be rendered by [`crate::layout::render_errors`], which knows
/// the request (its path decides HTML or JSON, and its id goes on the page).
#[derive(Debug, Clone)]
pub(crate) struct ErrorMarker {
    pub(crate) status: StatusCode,
    pub(crate) title: &'static str,
    pub(crate) message: String,
    /// The errors of a JSON answer (one, or every error of [`AppError::Rejected`]).
    pub(crate) items: Vec<ErrorItem>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(error = %cause, "request failed");
        }
        let items = match &self {
            Self::Rejected { errors, .. } if !errors.is_empty() => errors.clone(),
            _ => vec![ErrorItem {
                code: self.code(),
                message: self.message(),
                field: None,
            }],
        };
        let marker = ErrorMarker {
            status: self.status(),
            title: self.title(),
            message: self.message(),
            items,
        };
        let mut response = (marker.status, marker.message.clone()).into_response();
        // API clients learn how to authenticate (RFC 6750); pages redirect to the sign-in form.
        match self {
            Self::Unauthenticated => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"preuves\""),
                );
            }
            Self::InvalidToken => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"preuves\", error=\"invalid_token\""),
                );
            }
            Self::InsufficientScope => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer realm=\"preuves\", error=\"insufficient_scope\", scope=\"read_write\"",
                    ),
                );
            }
            _ => {}
        }
        if let Self::TooManyRequests { retry_after } | Self::RateLimited { retry_after } = &self
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response.extensions_mut().insert(marker);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// French typography: a no-break space before « : », never a plain one.
    fn well_typeset(message: &str) -> bool {
        !message.contains(" :") && !message.contains(" ;")
    }

    #[test]
    fn every_workflow_conflict_is_a_409_with_its_code_and_french_text() {
        for w in WorkflowConflict::ALL {
            let e = AppError::from(DbError::from(w));
            assert_eq!(e.status(), StatusCode::CONFLICT, "{w:?}");
            assert_eq!(e.code(), w.code());
            let message = e.message();
            assert!(
                !message.is_empty() && well_typeset(&message),
                "{w:?}: {message}"
            );
        }
        let stale = AppError::from(Conflict::StaleRevision);
        assert_eq!(
            (stale.status(), stale.code()),
            (StatusCode::CONFLICT, "stale_revision")
        );
        assert!(stale.message().contains("modifié entre-temps"));
        let grant = AppError::from(DbError::Conflict(Conflict::GrantDraftStale));
        assert_eq!(grant.code(), "grant_draft_stale");
        assert!(well_typeset(&grant.message()));
    }

    #[test]
    fn unique_conflicts_a_request_can_meet_are_409_the_others_internal() {
        for u in UniqueConstraint::ALL {
            let e = AppError::from(DbError::from(u));
            let expected = match u {
                UniqueConstraint::ProofBlobKey
                | UniqueConstraint::OrganisationSiren
                | UniqueConstraint::UserEmail
                | UniqueConstraint::ReferencingNru => StatusCode::CONFLICT,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            assert_eq!(e.status(), expected, "{u:?}");
            if expected == StatusCode::CONFLICT {
                assert_eq!(e.code(), u.code());
                assert!(well_typeset(&e.message()), "{u:?}");
            }
        }
    }
}
