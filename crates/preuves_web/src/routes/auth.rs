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

/// The page to go to after sign-in: `next` if it is a path of this site, else the home page (no
/// open redirect). `next` is resolved as a URL against a fixed origin and accepted only if it
/// stays on that origin as an absolute path (`/...`, not `//host`); backslashes and control
/// characters, which browsers and URL parsers drop or reinterpret, are refused outright. What is
/// returned is the parsed URL's own serialisation: percent-encoded, fit for a `Location` header.
pub(crate) fn safe_next(next: &str) -> String {
    const ORIGIN: &str = "https://preuves.invalid/";
    let home = || "/".to_owned();
    if !next.starts_with('/')
        || next.starts_with("//")
        || next.chars().any(|c| c == '\\' || c.is_control())
    {
        return home();
    }
    let Ok(base) = url::Url::parse(ORIGIN) else {
        return home();
    };
    match base.join(next) {
        Ok(target)
            if target.origin() == base.origin()
                && target.path().starts_with('/')
                && !target.path().starts_with("//") =>
        {
            target[url::Position::BeforePath..].to_owned()
        }
        _ => home(),
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
    // The attempt is counted before the password is checked: parallel attempts cannot all pass
    // the limit before any of them is recorded.
    let limits = config.login_limits(now);
    let Some(attempt) = state
        .db
        .reserve_login_attempt(&email, &ctx.client, now, &limits)
        .await?
    else {
        tracing::warn!(client = %ctx.client, "sign-in throttled");
        return Err(AppError::TooManyRequests {
            retry_after: config.throttle_window.as_secs(),
        });
    };

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
        // The reserved attempt stays recorded: the failure.
        state.db.settle_login_failure(attempt).await?;
        let page = LoginPage {
            chrome: Chrome::new(&ctx, "Connexion", "connexion"),
            email,
            next: safe_next(&form.suivant),
            error: Some("Adresse électronique ou mot de passe incorrect.".to_owned()),
        };
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };

    state
        .db
        .release_login_attempt(attempt, &email, &ctx.client)
        .await?;
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
                expires_at: now.plus(SESSION_IDLE.min(config.session_max_lifetime)),
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
