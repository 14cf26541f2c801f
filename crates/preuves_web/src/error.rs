//! The one error type of the web layer and its mapping to HTTP, written once.
//!
//! Handlers return `Result<_, AppError>`; the status code, the French message and the stable code
//! are decided here. Pages get an HTML error page, paths under `/api/` get
//! `{"errors":[{"code","message"}]}`. A 500 never shows its cause: it is logged with the request
//! id, and the page only gives that id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use preuves_db::DbError;

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
    /// The request is malformed, with a French explanation.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The body is larger than allowed.
    #[error("payload too large")]
    PayloadTooLarge,
    /// The change conflicts with the current state, with a French explanation.
    #[error("conflict: {0}")]
    Conflict(String),
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
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::Csrf => StatusCode::FORBIDDEN,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code, for programs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::Csrf => "csrf_failed",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::BadRequest(_) => "bad_request",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Conflict(_) => "conflict",
            Self::Internal(_) => "internal",
        }
    }

    /// The French title shown to users.
    pub fn title(&self) -> &'static str {
        match self {
            Self::NotFound => "Page introuvable",
            Self::Unauthenticated => "Connexion requise",
            Self::Forbidden => "Accès refusé",
            Self::Csrf => "Formulaire expiré",
            Self::TooManyRequests { .. } => "Trop de tentatives",
            Self::BadRequest(_) => "Requête invalide",
            Self::PayloadTooLarge => "Fichier trop volumineux",
            Self::Conflict(_) => "Modification impossible",
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
            Self::Csrf => "Le formulaire a expiré ou ne provient pas de cette plateforme. Rechargez la page et recommencez.".to_owned(),
            Self::TooManyRequests { retry_after } => format!(
                "Trop de tentatives de connexion. Réessayez dans {} minute{}.",
                retry_after.div_ceil(60),
                if retry_after.div_ceil(60) > 1 { "s" } else { "" }
            ),
            Self::BadRequest(m) | Self::Conflict(m) => m.clone(),
            Self::PayloadTooLarge => "Le fichier envoyé dépasse la taille autorisée.".to_owned(),
            Self::Internal(_) => "Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez dans un instant.".to_owned(),
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Self::NotFound,
            other => Self::Internal(other.to_string()),
        }
    }
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
    pub(crate) code: &'static str,
    pub(crate) title: &'static str,
    pub(crate) message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(error = %cause, "request failed");
        }
        let marker = ErrorMarker {
            status: self.status(),
            code: self.code(),
            title: self.title(),
            message: self.message(),
        };
        let mut response = (marker.status, marker.message.clone()).into_response();
        if let Self::TooManyRequests { retry_after } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response.extensions_mut().insert(marker);
        response
    }
}
