//! Sign-in and sign-out, with throttling of repeated failures.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use preuves_db::{Actor, NewSession, Timestamp, TokenHash};
use serde::Deserialize;

use crate::AppState;
use crate::error::AppError;
use crate::layout::{Chrome, render, render_with};
use crate::security::{
    CsrfForm, RequestContext, SESSION_COOKIE, SESSION_IDLE, clear_cookie, random_token, set_cookie,
};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    suivant: String,
}

/// Only a local path may follow sign-in (no open redirect).
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

pub(crate) async fn show(
    ctx: RequestContext,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    if ctx.session.is_some() {
        return Ok(Redirect::to(&safe_next(&q.suivant)).into_response());
    }
    render(&LoginPage {
        chrome: Chrome::new(&ctx, "Connexion", "connexion"),
        email: String::new(),
        next: safe_next(&q.suivant),
        error: None,
    })
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    suivant: String,
}

pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ctx: RequestContext,
    CsrfForm(form): CsrfForm<SignInForm>,
) -> Result<Response, AppError> {
    let email = form.email.trim().to_owned();
    let now = Timestamp::now();
    let config = &state.config;
    let counts = state
        .db
        .count_login_failures(&email, &ctx.client, now.minus(config.throttle_window))
        .await?;
    if counts.by_email >= config.max_failures_per_email
        || counts.by_address >= config.max_failures_per_client
    {
        tracing::warn!(client = %ctx.client, "sign-in throttled");
        return Err(AppError::TooManyRequests {
            retry_after: config.throttle_window.as_secs(),
        });
    }

    let credentials = if email.is_empty() {
        None
    } else {
        state.db.find_credentials(&email).await?
    };
    let active = credentials.as_ref().is_some_and(|c| c.user.is_active());
    let ok = crate::security::verify_password(
        form.password,
        credentials.as_ref().map(|c| c.password_hash.clone()),
    )
    .await?;
    let Some(user) = credentials.filter(|_| ok && active).map(|c| c.user) else {
        state
            .db
            .record_login_failure(&email, &ctx.client, now)
            .await?;
        let page = LoginPage {
            chrome: Chrome::new(&ctx, "Connexion", "connexion"),
            email,
            next: safe_next(&form.suivant),
            error: Some("Adresse électronique ou mot de passe incorrect.".to_owned()),
        };
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };

    state.db.clear_login_failures(&email).await?;
    // A new session at every sign-in: a token known before sign-in is worthless after it.
    if let Some(old) = ctx.session.as_ref() {
        state
            .db
            .delete_session(&old.token_hash, &Actor::User(old.user.id))
            .await?;
    }
    let token = random_token()?;
    let csrf = random_token()?;
    state
        .db
        .create_session(
            &NewSession {
                token_hash: &TokenHash::of(&token),
                user: user.id,
                csrf_token: &csrf,
                now,
                expires_at: now.plus(SESSION_IDLE),
            },
            &Actor::User(user.id),
        )
        .await?;
    tracing::info!(user = user.id.0, "signed in");
    let mut response = Redirect::to(&safe_next(&form.suivant)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &token, None, config.secure_cookies, "Lax"),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct Empty {}

pub(crate) async fn sign_out(
    State(state): State<AppState>,
    ctx: RequestContext,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    if let Some(session) = &ctx.session {
        state
            .db
            .delete_session(&session.token_hash, &Actor::User(session.user.id))
            .await?;
    }
    let mut response = crate::security::redirect_with_flash(
        "/",
        "Vous êtes déconnecté.",
        state.config.secure_cookies,
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        clear_cookie(SESSION_COOKIE, state.config.secure_cookies),
    );
    Ok(response)
}
