//! `/compte/mot-de-passe`: a signed-in user changes their own password.
//!
//! The current password is asked (a session left open on a shared computer is not enough to
//! take the account over) and checked like a sign-in, against the same throttle; the new one is
//! hashed with argon2id, and in one audited transaction it replaces the old one while every other
//! session of the account is closed (whoever had the old password is signed out). The session
//! that changed it stays open.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::{Actor, Timestamp};
use serde::Deserialize;

use crate::AppState;
use crate::app::{MAX_PASSWORD, MIN_PASSWORD};
use crate::error::AppError;
use crate::forms::FieldErrors;
use crate::layout::{Chrome, render, render_with};
use crate::security::{
    CsrfForm, RequestContext, hash_password, redirect_with_flash, verify_password,
};

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    chrome: Chrome,
    errors: FieldErrors,
    min_password: usize,
}

/// `GET /compte/mot-de-passe`.
pub(crate) async fn form(ctx: RequestContext) -> Result<Response, AppError> {
    if ctx.session.is_none() {
        return Err(AppError::Unauthenticated);
    }
    render(&PasswordPage {
        chrome: Chrome::new(&ctx, "Changer de mot de passe", "compte"),
        errors: FieldErrors::new(),
        min_password: MIN_PASSWORD,
    })
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

/// `POST /compte/mot-de-passe`.
pub(crate) async fn change(
    State(state): State<AppState>,
    ctx: RequestContext,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, AppError> {
    let session = ctx.session.clone().ok_or(AppError::Unauthenticated)?;
    let user = &session.user;
    let mut errors = FieldErrors::new();
    let length = form.password.chars().count();
    if length < MIN_PASSWORD {
        errors.add(
            "password",
            format!("Le nouveau mot de passe doit compter au moins {MIN_PASSWORD} caractères."),
        );
    } else if length > MAX_PASSWORD {
        errors.add(
            "password",
            format!("Le nouveau mot de passe compte au plus {MAX_PASSWORD} caractères."),
        );
    } else if form.password_confirmation != form.password {
        errors.add(
            "password_confirmation",
            "La confirmation ne correspond pas au nouveau mot de passe.",
        );
    } else if form.password == form.current {
        errors.add(
            "password",
            "Le nouveau mot de passe doit être différent de l'actuel.",
        );
    }

    // The current password is checked like a sign-in: throttled, the attempt counted first.
    let now = Timestamp::now();
    let config = &state.config;
    let limits = config.login_limits(now);
    let Some(attempt) = state
        .db
        .reserve_login_attempt(&user.email, &ctx.client, now, &limits)
        .await?
    else {
        return Err(AppError::TooManyRequests {
            retry_after: config.throttle_window.as_secs(),
        });
    };
    let stored = state
        .db
        .find_credentials(&user.email)
        .await?
        .map(|c| c.password_hash);
    if !verify_password(form.current, stored).await? {
        state.db.settle_login_failure(attempt).await?;
        errors.add("current", "Le mot de passe actuel est incorrect.");
    } else {
        state
            .db
            .release_login_attempt(attempt, &user.email, &ctx.client)
            .await?;
    }
    if !errors.is_empty() {
        return render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &PasswordPage {
                chrome: Chrome::new(&ctx, "Changer de mot de passe", "compte"),
                errors,
                min_password: MIN_PASSWORD,
            },
        );
    }

    let hash = hash_password(form.password).await?;
    let closed = state
        .db
        .set_password_hash(
            user.id,
            &hash,
            Some(&session.token_hash),
            &Actor::User(user.id),
        )
        .await?;
    tracing::info!(user = user.id.0, closed, "password changed");
    Ok(redirect_with_flash(
        "/",
        "Votre mot de passe a été changé\u{a0}; vos autres sessions ont été fermées.",
        config.secure_cookies,
    ))
}
