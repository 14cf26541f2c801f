//! Accounts administration pages: vendor organisations and user accounts (administrators only),
//! over the use cases of [`crate::app::admin`].
//!
//! Every form is validated whole by its use case; a refused one is shown again (422) with what
//! was typed, except passwords, and a French message next to each field at fault.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::{Organisation, User, UserId};
use serde::Deserialize;

use crate::AppState;
use crate::app::MIN_PASSWORD;
use crate::app::admin::organisations::{self, OrganisationInput};
use crate::app::admin::users::{self, UserInput};
use crate::error::AppError;
use crate::format::siren_display;
use crate::forms::FieldErrors;
use crate::layout::{Chrome, render, render_with};
use crate::security::{AdminCap, CsrfForm, RequestContext, redirect_with_flash};
use crate::views::accounts::{
    OrganisationOption, OrganisationRow, ROLES, UserRow, organisation_options, organisation_rows,
    user_rows,
};

/// The page title, marked when the form holds errors (screen readers read it first).
fn page_title(title: &str, errors: &FieldErrors) -> String {
    if errors.is_empty() {
        title.to_owned()
    } else {
        format!("Erreur\u{a0}: {title}")
    }
}

// ---- organisations --------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OrganisationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    siren: String,
}

/// The form's inputs are named after the use case's fields.
const ORGANISATION_FIELDS: [(&str, &str); 2] = [("name", "name"), ("siren", "siren")];

#[derive(Template)]
#[template(path = "accounts_organisations.html")]
struct OrganisationsPage {
    chrome: Chrome,
    rows: Vec<OrganisationRow>,
    form: OrganisationForm,
    errors: FieldErrors,
}

async fn organisations_page(
    state: &AppState,
    ctx: &RequestContext,
    admin: &AdminCap,
    form: OrganisationForm,
    errors: FieldErrors,
) -> Result<OrganisationsPage, AppError> {
    Ok(OrganisationsPage {
        chrome: Chrome::new(ctx, page_title("Organisations", &errors), "admin"),
        rows: organisation_rows(organisations::list(state, admin).await?),
        form,
        errors,
    })
}

pub(crate) async fn organisations(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: AdminCap,
) -> Result<Response, AppError> {
    render(
        &organisations_page(
            &state,
            &ctx,
            &admin,
            OrganisationForm::default(),
            FieldErrors::new(),
        )
        .await?,
    )
}

pub(crate) async fn create_organisation(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: AdminCap,
    CsrfForm(form): CsrfForm<OrganisationForm>,
) -> Result<Response, AppError> {
    let input = OrganisationInput {
        name: form.name.clone(),
        siren: form.siren.clone(),
    };
    match organisations::create(&state, &admin, &input).await {
        Ok(org) => Ok(redirect_with_flash(
            "/admin/organisations",
            &format!(
                "L'organisation «\u{a0}{}\u{a0}» (SIREN {}) a été créée.",
                org.name,
                siren_display(&org.siren)
            ),
            state.config.secure_cookies,
        )),
        Err(AppError::Rejected { errors, .. }) => {
            let errors = FieldErrors::from_items(&errors, &ORGANISATION_FIELDS);
            let page = organisations_page(&state, &ctx, &admin, form, errors).await?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

// ---- users ----------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub(crate) struct UserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

/// The form's inputs are named after the use case's fields.
const USER_FIELDS: [(&str, &str); 6] = [
    ("email", "email"),
    ("display_name", "display_name"),
    ("role", "role"),
    ("organisation", "organisation"),
    ("password", "password"),
    ("password_confirmation", "password_confirmation"),
];

#[derive(Template)]
#[template(path = "accounts_users.html")]
struct UsersPage {
    chrome: Chrome,
    rows: Vec<UserRow>,
    organisations: Vec<OrganisationOption>,
    roles: [(&'static str, &'static str); 3],
    form: UserForm,
    errors: FieldErrors,
    min_password: usize,
}

async fn users_page(
    state: &AppState,
    ctx: &RequestContext,
    admin: &AdminCap,
    form: UserForm,
    errors: FieldErrors,
) -> Result<UsersPage, AppError> {
    let organisations = state.db.list_organisations().await?;
    let users = users::list(state, admin).await?;
    Ok(users_view(
        ctx,
        &admin.0,
        &organisations,
        users,
        form,
        errors,
    ))
}

fn users_view(
    ctx: &RequestContext,
    admin: &User,
    organisations: &[Organisation],
    users: Vec<User>,
    form: UserForm,
    errors: FieldErrors,
) -> UsersPage {
    UsersPage {
        chrome: Chrome::new(ctx, page_title("Utilisateurs", &errors), "admin"),
        rows: user_rows(admin, organisations, users),
        organisations: organisation_options(organisations),
        roles: ROLES,
        form: UserForm {
            // A password is never sent back to the browser.
            password: String::new(),
            password_confirmation: String::new(),
            ..form
        },
        errors,
        min_password: MIN_PASSWORD,
    }
}

pub(crate) async fn users(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: AdminCap,
) -> Result<Response, AppError> {
    render(
        &users_page(
            &state,
            &ctx,
            &admin,
            UserForm::default(),
            FieldErrors::new(),
        )
        .await?,
    )
}

pub(crate) async fn create_user(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: AdminCap,
    CsrfForm(form): CsrfForm<UserForm>,
) -> Result<Response, AppError> {
    let input = UserInput {
        email: form.email.clone(),
        display_name: form.display_name.clone(),
        role: form.role.clone(),
        organisation: form.organisation.clone(),
        password: form.password.clone(),
        password_confirmation: Some(form.password_confirmation.clone()),
    };
    match users::create(&state, &admin, &input).await {
        Ok(user) => Ok(redirect_with_flash(
            "/admin/utilisateurs",
            &format!(
                "Le compte {} de {} ({}) a été créé.",
                user.role.label(),
                user.display_name,
                user.email
            ),
            state.config.secure_cookies,
        )),
        Err(AppError::Rejected { errors, .. }) => {
            let errors = FieldErrors::from_items(&errors, &USER_FIELDS);
            let page = users_page(&state, &ctx, &admin, form, errors).await?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Empty {}

/// A user id from the path; anything else is a missing user.
fn user_id(raw: &str) -> Result<UserId, AppError> {
    raw.parse::<i64>()
        .map(UserId)
        .map_err(|_| AppError::NotFound)
}

/// `POST /admin/utilisateurs/{id}/desactiver`: disables an account.
pub(crate) async fn disable_user(
    State(state): State<AppState>,
    admin: AdminCap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let user = users::disable(&state, &admin, user_id(&id)?).await?;
    Ok(redirect_with_flash(
        "/admin/utilisateurs",
        &format!(
            "Le compte de {} est désactivé\u{a0}; ses sessions ont été fermées.",
            user.display_name
        ),
        state.config.secure_cookies,
    ))
}

/// `POST /admin/utilisateurs/{id}/debloquer`: forgets the account's failed sign-ins, so that it
/// can sign in at once (audited).
pub(crate) async fn unlock_user(
    State(state): State<AppState>,
    admin: AdminCap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let (user, _) = users::unlock(&state, &admin, user_id(&id)?).await?;
    Ok(redirect_with_flash(
        "/admin/utilisateurs",
        &format!(
            "La connexion de {} est débloquée\u{a0}: ses échecs de connexion récents sont oubliés.",
            user.display_name
        ),
        state.config.secure_cookies,
    ))
}

/// `POST /admin/utilisateurs/{id}/reactiver`: re-enables an account.
pub(crate) async fn enable_user(
    State(state): State<AppState>,
    admin: AdminCap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let user = users::enable(&state, &admin, user_id(&id)?).await?;
    Ok(redirect_with_flash(
        "/admin/utilisateurs",
        &format!("Le compte de {} est réactivé.", user.display_name),
        state.config.secure_cookies,
    ))
}
