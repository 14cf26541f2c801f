//! Personal API tokens, managed by their owner in the pages (`/compte/jetons`): the list, the
//! creation form (name, scope, expiry) and revocation.
//!
//! A new token is a random 256-bit value shown **once**, on the page answering the creation
//! (never cached, never logged); the database keeps only its SHA-256 ([`TokenHash`]). Its expiry
//! is a day chosen by the owner, 90 days ahead by default and at most a year ahead; the token
//! works until the end of that day, Paris time.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use preuves_db::{Actor, ApiTokenId, NewApiToken, Timestamp, TokenHash, TokenScope};
use preuves_domain::{IsoDate, ParisTime};
use serde::Deserialize;

use crate::AppState;
use crate::error::AppError;
use crate::forms::FieldErrors;
use crate::layout::{Chrome, render_with};
use crate::security::{CsrfForm, RequestContext, SignedIn, random_token, redirect_with_flash};
use crate::views::tokens::{Created, TokenRow};

/// Default lifetime of a new token, in days.
const DEFAULT_DAYS: i32 = 90;
/// Longest lifetime of a token, in days.
const MAX_DAYS: i32 = 365;
/// Longest token name.
const MAX_NAME: usize = 100;
/// Most tokens one user may hold (revoked and expired ones included in the list, not here).
const MAX_ACTIVE: usize = 50;
/// The day `days` after `d`.
fn plus_days(d: IsoDate, days: i32) -> IsoDate {
    d.plus_days(days)
}

/// Today in Paris.
fn today(now: Timestamp) -> IsoDate {
    ParisTime::from_unix_millis(now.as_millis()).date
}

/// The instant a token expiring on `d` stops working: midnight in Paris at the end of that day.
fn end_of_day(d: IsoDate) -> Timestamp {
    Timestamp::from_millis(d.plus_days(1).paris_start_millis())
}

/// The creation form, as typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    nom: String,
    #[serde(default)]
    portee: String,
    #[serde(default)]
    expiration: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    chrome: Chrome,
    rows: Vec<TokenRow>,
    created: Option<Created>,
    form: TokenForm,
    errors: FieldErrors,
    min_date: String,
    max_date: String,
}

async fn page(
    state: &AppState,
    ctx: &RequestContext,
    user: &preuves_db::User,
    form: TokenForm,
    errors: FieldErrors,
    created: Option<Created>,
) -> Result<TokensPage, AppError> {
    let now = Timestamp::now();
    let tokens = state.db.list_api_tokens(user.id).await?;
    let title = if errors.is_empty() {
        "Jetons d'accès à l'API"
    } else {
        "Erreur\u{a0}: Jetons d'accès à l'API"
    };
    Ok(TokensPage {
        chrome: Chrome::new(ctx, title, "compte"),
        rows: tokens.iter().map(|t| TokenRow::of(t, now)).collect(),
        created,
        form,
        errors,
        min_date: plus_days(today(now), 1).to_string(),
        max_date: plus_days(today(now), MAX_DAYS).to_string(),
    })
}

/// A page that must never be kept by a cache (it may show a token).
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /compte/jetons`: the signed-in user's tokens and the creation form.
pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
) -> Result<Response, AppError> {
    let form = TokenForm {
        portee: TokenScope::Read.code().to_owned(),
        expiration: plus_days(today(Timestamp::now()), DEFAULT_DAYS).to_string(),
        ..TokenForm::default()
    };
    let page = page(&state, &ctx, &user, form, FieldErrors::new(), None).await?;
    Ok(no_store(render_with(StatusCode::OK, &page)?))
}

/// `POST /compte/jetons`: creates a token and shows it once.
pub(crate) async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, AppError> {
    let now = Timestamp::now();
    let mut errors = FieldErrors::new();
    let name = form.nom.trim().to_owned();
    if name.is_empty() {
        errors.add(
            "nom",
            "Donnez un nom à ce jeton (l'outil qui s'en servira, par exemple).",
        );
    } else if name.chars().count() > MAX_NAME {
        errors.add(
            "nom",
            format!("Le nom compte au plus {MAX_NAME} caractères."),
        );
    }
    let scope = TokenScope::from_code(form.portee.trim());
    if scope.is_none() {
        errors.add("portee", "Choisissez la portée du jeton.");
    }
    let first = plus_days(today(now), 1);
    let last = plus_days(today(now), MAX_DAYS);
    let expires = match IsoDate::parse(form.expiration.trim()) {
        Ok(d) if d >= first && d <= last => Some(d),
        Ok(_) => {
            errors.add(
                "expiration",
                format!(
                    "La date d'expiration va du {} au {} (un an au plus).",
                    first.to_french(),
                    last.to_french()
                ),
            );
            None
        }
        Err(_) => {
            errors.add("expiration", "Saisissez la date d'expiration (jj/mm/aaaa).");
            None
        }
    };
    let active = state
        .db
        .list_api_tokens(user.id)
        .await?
        .iter()
        .filter(|t| t.is_usable(now))
        .count();
    if active >= MAX_ACTIVE {
        errors.add(
            "nom",
            format!("Vous avez déjà {MAX_ACTIVE} jetons actifs\u{a0}: révoquez-en un d'abord."),
        );
    }
    let (Some(scope), Some(expires), true) = (scope, expires, errors.is_empty()) else {
        let page = page(&state, &ctx, &user, form, errors, None).await?;
        return Ok(no_store(render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page,
        )?));
    };
    let token = random_token()?;
    let created = state
        .db
        .create_api_token(
            &NewApiToken {
                user: user.id,
                name: &name,
                token_hash: &TokenHash::of(&token),
                scope,
                now,
                expires_at: end_of_day(expires),
            },
            &Actor::User(user.id),
        )
        .await?;
    let shown = Created {
        name: created.name.clone(),
        token,
        scope: scope.label(),
        expires: expires.to_french(),
    };
    let fresh = TokenForm {
        portee: TokenScope::Read.code().to_owned(),
        expiration: plus_days(today(now), DEFAULT_DAYS).to_string(),
        ..TokenForm::default()
    };
    let page = page(&state, &ctx, &user, fresh, FieldErrors::new(), Some(shown)).await?;
    Ok(no_store(render_with(StatusCode::CREATED, &page)?))
}

/// `POST /compte/jetons/{id}/revoquer`: revokes one of the user's tokens at once.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let id = id.parse().map(ApiTokenId).map_err(|_| AppError::NotFound)?;
    let revoked = state
        .db
        .revoke_api_token(user.id, id, Timestamp::now(), &Actor::User(user.id))
        .await?;
    Ok(redirect_with_flash(
        "/compte/jetons",
        &format!(
            "Le jeton «\u{a0}{}\u{a0}» est révoqué\u{a0}: il ne permet plus aucun accès.",
            revoked.name
        ),
        state.config.secure_cookies,
    ))
}

/// A form with only its CSRF token.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Empty {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_expires_at_paris_midnight_at_the_end_of_its_day() {
        let winter = IsoDate::parse("2027-01-14").unwrap();
        // 2027-01-14T23:00Z is midnight in Paris (CET).
        assert_eq!(end_of_day(winter).as_millis(), 1_799_967_600_000);
        let summer = IsoDate::parse("2027-07-14").unwrap();
        let end = end_of_day(summer);
        let local = ParisTime::from_unix_millis(end.as_millis());
        assert_eq!(
            (local.date.to_string().as_str(), local.hour, local.minute),
            ("2027-07-15", 0, 0)
        );
        let before = ParisTime::from_unix_millis(end.as_millis() - 1);
        assert_eq!(before.date, summer);
    }

    #[test]
    fn days_add_across_months_and_years() {
        let d = IsoDate::parse("2026-12-31").unwrap();
        assert_eq!(plus_days(d, 1).to_string(), "2027-01-01");
        assert_eq!(plus_days(d, 90).to_string(), "2027-03-31");
        assert_eq!(
            plus_days(IsoDate::parse("2028-02-28").unwrap(), 1).to_string(),
            "2028-02-29"
        );
    }
}
