//! Accounts administration: vendor organisations and user accounts (administrators only).
//!
//! Every form is validated whole; a refused one is shown again (422) with what was typed, except
//! passwords, and a French message next to each field at fault. Uniqueness (SIREN, e-mail) is
//! left to the database constraints, whose conflicts come back as field messages.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::{
    Actor, NewUser, Organisation, OrganisationId, Role, UniqueConstraint, User, UserId,
};
use preuves_domain::Siren;
use serde::Deserialize;

use crate::AppState;
use crate::app::{MAX_PASSWORD, MIN_PASSWORD};
use crate::error::AppError;
use crate::format::siren_display;
use crate::forms::{FieldErrors, sentence};
use crate::layout::{Chrome, render, render_with};
use crate::security::{AdminCap, CsrfForm, RequestContext, hash_password, redirect_with_flash};

/// Longest organisation or person name accepted.
const MAX_NAME: usize = 200;

/// The page title, marked when the form holds errors (screen readers read it first).
fn page_title(title: &str, errors: &FieldErrors) -> String {
    if errors.is_empty() {
        title.to_owned()
    } else {
        format!("Erreur\u{a0}: {title}")
    }
}

// ---- organisations --------------------------------------------------------------------------

struct OrganisationRow {
    name: String,
    siren: String,
    users: usize,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct OrganisationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    siren: String,
}

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
    form: OrganisationForm,
    errors: FieldErrors,
) -> Result<OrganisationsPage, AppError> {
    let organisations = state.db.list_organisations().await?;
    let mut counts: HashMap<OrganisationId, usize> = HashMap::new();
    for user in state.db.list_users(None).await? {
        if let Some(org) = user.organisation {
            *counts.entry(org).or_default() += 1;
        }
    }
    Ok(OrganisationsPage {
        chrome: Chrome::new(ctx, page_title("Organisations", &errors), "admin"),
        rows: organisations
            .into_iter()
            .map(|o| OrganisationRow {
                users: counts.get(&o.id).copied().unwrap_or(0),
                siren: siren_display(&o.siren),
                name: o.name,
            })
            .collect(),
        form,
        errors,
    })
}

pub(crate) async fn organisations(
    State(state): State<AppState>,
    ctx: RequestContext,
    _admin: AdminCap,
) -> Result<Response, AppError> {
    render(
        &organisations_page(
            &state,
            &ctx,
            OrganisationForm::default(),
            FieldErrors::new(),
        )
        .await?,
    )
}

/// Checks an organisation form: the name and the SIREN with its check digit.
fn validate_organisation(form: &OrganisationForm) -> Result<(String, Siren), FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = form.name.trim();
    if name.is_empty() {
        errors.add("name", "Saisissez le nom de l'organisation.");
    } else if name.chars().count() > MAX_NAME {
        errors.add(
            "name",
            format!("Le nom compte au plus {MAX_NAME} caractères."),
        );
    }
    let siren = match Siren::parse_checked(&form.siren) {
        Ok(s) => Some(s),
        Err(e) => {
            errors.add("siren", sentence(&e));
            None
        }
    };
    match siren {
        Some(siren) if errors.is_empty() => Ok((name.to_owned(), siren)),
        _ => Err(errors),
    }
}

pub(crate) async fn create_organisation(
    State(state): State<AppState>,
    ctx: RequestContext,
    AdminCap(admin): AdminCap,
    CsrfForm(form): CsrfForm<OrganisationForm>,
) -> Result<Response, AppError> {
    let (name, siren) = match validate_organisation(&form) {
        Ok(valid) => valid,
        Err(errors) => {
            let page = organisations_page(&state, &ctx, form, errors).await?;
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    match state
        .db
        .create_organisation(&name, &siren, &Actor::User(admin.id))
        .await
    {
        Ok(org) => Ok(redirect_with_flash(
            "/admin/organisations",
            &format!(
                "L'organisation «\u{a0}{}\u{a0}» (SIREN {}) a été créée.",
                org.name,
                siren_display(&org.siren)
            ),
            state.config.secure_cookies,
        )),
        Err(e) if e.is_conflict(UniqueConstraint::OrganisationSiren) => {
            let mut errors = FieldErrors::new();
            errors.add(
                "siren",
                format!(
                    "Une organisation portant le SIREN {} est déjà enregistrée.",
                    siren_display(&siren)
                ),
            );
            let page = organisations_page(&state, &ctx, form, errors).await?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

// ---- users ----------------------------------------------------------------------------------

struct UserRow {
    id: i64,
    name: String,
    email: String,
    role_label: &'static str,
    organisation: String,
    active: bool,
    is_self: bool,
}

struct OrganisationOption {
    id: String,
    label: String,
}

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

/// The roles an administrator may give, as `(code, label)`.
const ROLES: [(&str, &str); 3] = [
    ("vendor", "Éditeur (personnel d'une organisation)"),
    ("instructor", "Instructeur ANS"),
    ("admin", "Administrateur du catalogue et de la plateforme"),
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
    admin: &User,
    form: UserForm,
    errors: FieldErrors,
) -> Result<UsersPage, AppError> {
    let organisations = state.db.list_organisations().await?;
    let users = state.db.list_users(None).await?;
    Ok(users_view(ctx, admin, &organisations, users, form, errors))
}

fn users_view(
    ctx: &RequestContext,
    admin: &User,
    organisations: &[Organisation],
    users: Vec<User>,
    form: UserForm,
    errors: FieldErrors,
) -> UsersPage {
    let names: HashMap<OrganisationId, &str> = organisations
        .iter()
        .map(|o| (o.id, o.name.as_str()))
        .collect();
    UsersPage {
        chrome: Chrome::new(ctx, page_title("Utilisateurs", &errors), "admin"),
        rows: users
            .into_iter()
            .map(|u| UserRow {
                id: u.id.0,
                active: u.is_active(),
                is_self: u.id == admin.id,
                organisation: u
                    .organisation
                    .and_then(|o| names.get(&o).map(|n| (*n).to_owned()))
                    .unwrap_or_default(),
                role_label: u.role.label(),
                name: u.display_name,
                email: u.email,
            })
            .collect(),
        organisations: organisations
            .iter()
            .map(|o| OrganisationOption {
                id: o.id.0.to_string(),
                label: format!("{} (SIREN {})", o.name, siren_display(&o.siren)),
            })
            .collect(),
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
    AdminCap(admin): AdminCap,
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

/// Whether `email` looks like an e-mail address: one `@`, something before, a dotted domain
/// after, no space.
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.len() <= 254
}

/// A checked user form (password still clear: it is hashed after validation).
struct ValidUser {
    email: String,
    display_name: String,
    role: Role,
    organisation: Option<OrganisationId>,
    password: String,
}

fn validate_user(
    form: &UserForm,
    organisations: &[Organisation],
) -> Result<ValidUser, FieldErrors> {
    let mut errors = FieldErrors::new();
    let email = form.email.trim();
    if email.is_empty() {
        errors.add("email", "Saisissez l'adresse électronique.");
    } else if !plausible_email(email) {
        errors.add(
            "email",
            "Cette adresse électronique n'est pas valide (exemple\u{a0}: prenom.nom@editeur.fr).",
        );
    }
    let display_name = form.display_name.trim();
    if display_name.is_empty() {
        errors.add("display_name", "Saisissez le nom affiché.");
    } else if display_name.chars().count() > MAX_NAME {
        errors.add(
            "display_name",
            format!("Le nom compte au plus {MAX_NAME} caractères."),
        );
    }
    let role = Role::from_code(form.role.trim());
    if role.is_none() {
        errors.add("role", "Choisissez un rôle.");
    }
    let organisation = match form.organisation.trim() {
        "" => None,
        raw => {
            let found = raw
                .parse::<i64>()
                .ok()
                .and_then(|id| organisations.iter().find(|o| o.id.0 == id));
            if found.is_none() {
                errors.add("organisation", "Choisissez une organisation de la liste.");
            }
            found.map(|o| o.id)
        }
    };
    match (role, form.organisation.trim().is_empty()) {
        (Some(Role::Vendor), true) => errors.add(
            "organisation",
            "Un compte éditeur doit être rattaché à son organisation.",
        ),
        (Some(r @ (Role::Instructor | Role::Admin)), false) => errors.add(
            "organisation",
            format!(
                "Un compte {} n'est rattaché à aucune organisation\u{a0}: choisissez «\u{a0}Aucune\u{a0}».",
                r.label()
            ),
        ),
        _ => {}
    }
    let length = form.password.chars().count();
    if length < MIN_PASSWORD {
        errors.add(
            "password",
            format!("Le mot de passe doit compter au moins {MIN_PASSWORD} caractères."),
        );
    } else if length > MAX_PASSWORD {
        errors.add(
            "password",
            format!("Le mot de passe compte au plus {MAX_PASSWORD} caractères."),
        );
    } else if form.password_confirmation != form.password {
        errors.add(
            "password_confirmation",
            "La confirmation ne correspond pas au mot de passe.",
        );
    }
    match role {
        Some(role) if errors.is_empty() => Ok(ValidUser {
            email: email.to_owned(),
            display_name: display_name.to_owned(),
            role,
            organisation,
            password: form.password.clone(),
        }),
        _ => Err(errors),
    }
}

pub(crate) async fn create_user(
    State(state): State<AppState>,
    ctx: RequestContext,
    AdminCap(admin): AdminCap,
    CsrfForm(form): CsrfForm<UserForm>,
) -> Result<Response, AppError> {
    let organisations = state.db.list_organisations().await?;
    let valid = match validate_user(&form, &organisations) {
        Ok(valid) => valid,
        Err(errors) => {
            let users = state.db.list_users(None).await?;
            let page = users_view(&ctx, &admin, &organisations, users, form, errors);
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let hash = hash_password(valid.password).await?;
    let created = state
        .db
        .create_user(
            &NewUser {
                email: &valid.email,
                display_name: &valid.display_name,
                role: valid.role,
                organisation: valid.organisation,
                password_hash: &hash,
            },
            &Actor::User(admin.id),
        )
        .await;
    match created {
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
        Err(e) if e.is_conflict(UniqueConstraint::UserEmail) => {
            let mut errors = FieldErrors::new();
            errors.add(
                "email",
                "Un compte utilise déjà cette adresse électronique.",
            );
            let users = state.db.list_users(None).await?;
            let page = users_view(&ctx, &admin, &organisations, users, form, errors);
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
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

pub(crate) async fn disable_user(
    State(state): State<AppState>,
    AdminCap(admin): AdminCap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let id = user_id(&id)?;
    if id == admin.id {
        return Err(AppError::conflict(
            "Vous ne pouvez pas désactiver votre propre compte\u{a0}: demandez-le à un autre administrateur.".to_owned(),
        ));
    }
    let user = state.db.find_user(id).await?.ok_or(AppError::NotFound)?;
    state
        .db
        .set_user_disabled(id, true, &Actor::User(admin.id))
        .await?;
    tracing::info!(user = id.0, "account disabled");
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
    AdminCap(admin): AdminCap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let id = user_id(&id)?;
    let user = state.db.find_user(id).await?.ok_or(AppError::NotFound)?;
    let forgotten = state.db.unlock_sign_in(id, &Actor::User(admin.id)).await?;
    tracing::info!(user = id.0, forgotten, "sign-in unlocked");
    Ok(redirect_with_flash(
        "/admin/utilisateurs",
        &format!(
            "La connexion de {} est débloquée\u{a0}: ses échecs de connexion récents sont oubliés.",
            user.display_name
        ),
        state.config.secure_cookies,
    ))
}

pub(crate) async fn enable_user(
    State(state): State<AppState>,
    AdminCap(admin): AdminCap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let id = user_id(&id)?;
    let user = state.db.find_user(id).await?.ok_or(AppError::NotFound)?;
    state
        .db
        .set_user_disabled(id, false, &Actor::User(admin.id))
        .await?;
    tracing::info!(user = id.0, "account enabled");
    Ok(redirect_with_flash(
        "/admin/utilisateurs",
        &format!("Le compte de {} est réactivé.", user.display_name),
        state.config.secure_cookies,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: i64) -> Organisation {
        Organisation {
            id: OrganisationId(id),
            name: "Éditeur".to_owned(),
            siren: Siren::parse("732829320").unwrap(),
            created_at: preuves_db::Timestamp::from_millis(0),
        }
    }

    fn form(role: &str, organisation: &str, password: &str, confirmation: &str) -> UserForm {
        UserForm {
            email: "a@b.fr".to_owned(),
            display_name: "A".to_owned(),
            role: role.to_owned(),
            organisation: organisation.to_owned(),
            password: password.to_owned(),
            password_confirmation: confirmation.to_owned(),
        }
    }

    const GOOD: &str = "douze-caracteres";

    #[test]
    fn vendors_need_an_organisation_and_others_none() {
        let orgs = [org(1)];
        assert!(validate_user(&form("vendor", "1", GOOD, GOOD), &orgs).is_ok());
        assert!(validate_user(&form("admin", "", GOOD, GOOD), &orgs).is_ok());
        let e = validate_user(&form("vendor", "", GOOD, GOOD), &orgs)
            .err()
            .unwrap();
        assert!(e.has("organisation"));
        let e = validate_user(&form("instructor", "1", GOOD, GOOD), &orgs)
            .err()
            .unwrap();
        assert!(e.has("organisation"));
        let e = validate_user(&form("vendor", "9", GOOD, GOOD), &orgs)
            .err()
            .unwrap();
        assert!(e.has("organisation"));
        let e = validate_user(&form("root", "", GOOD, GOOD), &orgs)
            .err()
            .unwrap();
        assert!(e.has("role"));
    }

    #[test]
    fn passwords_are_long_enough_and_confirmed() {
        let orgs = [org(1)];
        let e = validate_user(&form("admin", "", "court", "court"), &orgs)
            .err()
            .unwrap();
        assert!(e.has("password"));
        let e = validate_user(&form("admin", "", GOOD, "autre-chose-ici"), &orgs)
            .err()
            .unwrap();
        assert!(e.has("password_confirmation") && !e.has("password"));
    }

    #[test]
    fn emails_are_plausible() {
        assert!(plausible_email("prenom.nom@editeur.fr"));
        assert!(!plausible_email("prenom.nom"));
        assert!(!plausible_email("a@b"));
        assert!(!plausible_email("a b@c.fr"));
        assert!(!plausible_email("@c.fr"));
        assert!(!plausible_email("a@@c.fr"));
    }

    #[test]
    fn sirens_read_in_groups_of_three() {
        assert_eq!(
            siren_display(&Siren::parse("732829320").unwrap()),
            "732\u{a0}829\u{a0}320"
        );
    }
}
