//! Organisations and user accounts, for administrators.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::{Organisation, User, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{AdminRead, AdminWrite, Authenticated, JsonBody};
use crate::api::{ApiJson, ApiQuery, ErrorBody, PageParams, Paging, iso_instant, json, page_of};
use crate::app::admin::organisations::{self, OrganisationInput};
use crate::app::admin::users::{self, UserInput};
use crate::error::AppError;
use crate::security::ApiAdmin;

/// A vendor organisation.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OrganisationDto {
    /// Its id.
    id: i64,
    /// Its name.
    name: String,
    /// Its SIREN (9 digits).
    siren: String,
    /// How many accounts it has, active or not.
    users: u64,
    /// When it was created (ISO 8601).
    created_at: String,
}

impl OrganisationDto {
    fn of(o: &Organisation, users: usize) -> Self {
        Self {
            id: o.id.0,
            name: o.name.clone(),
            siren: o.siren.to_string(),
            users: u64::try_from(users).unwrap_or(u64::MAX),
            created_at: iso_instant(o.created_at),
        }
    }
}

page_of!(
    OrganisationPage,
    OrganisationDto,
    "A page of organisations."
);

/// A new organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrganisationBody {
    /// Its name (1 to 200 characters once trimmed).
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    name: String,
    /// Its SIREN: 9 digits with a valid check digit (Luhn), spaces allowed. Unique on the
    /// platform (422 `siren_taken`).
    #[schema(min_length = 9, pattern = "^[0-9 ]+$", example = "732829320")]
    siren: String,
}

/// `GET /api/v1/admin/organisations`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/organisations",
    operation_id = "admin_organisations_list",
    tag = "administration",
    summary = "Les organisations d'éditeurs, par nom, avec leur nombre de comptes",
    security(("jeton" = []), ("session" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "Une page d'organisations", body = OrganisationPage),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        Authenticated,
        AdminRead,
    )
)]
pub(crate) async fn organisations(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Response, AppError> {
    let paging = Paging::of(p.page, p.size)?;
    let all = organisations::list(&state, &admin).await?;
    let (items, total) = paging.slice(all, |o| OrganisationDto::of(&o.organisation, o.users));
    json(StatusCode::OK, &OrganisationPage::new(paging, items, total))
}

/// `POST /api/v1/admin/organisations`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/organisations",
    operation_id = "admin_organisations_create",
    tag = "administration",
    summary = "Crée une organisation d'éditeur",
    security(("jeton" = []), ("session" = [])),
    request_body = OrganisationBody,
    responses(
        (status = 201, description = "L'organisation créée", body = OrganisationDto),
        (status = 422, description = "Champs invalides, ou SIREN déjà enregistré (`siren_taken`)", body = ErrorBody),
        Authenticated,
        JsonBody,
        AdminWrite,
    )
)]
pub(crate) async fn create_organisation(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin<true>,
    ApiJson(body): ApiJson<OrganisationBody>,
) -> Result<Response, AppError> {
    let input = OrganisationInput {
        name: body.name,
        siren: body.siren,
    };
    let created = organisations::create(&state, &admin, &input).await?;
    json(StatusCode::CREATED, &OrganisationDto::of(&created, 0))
}

/// A role an administrator may give.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RoleCode {
    /// A vendor's staff (tied to its organisation).
    Vendor,
    /// An ANS instructor.
    Instructor,
    /// An administrator of the catalogue and the platform.
    Admin,
}

impl RoleCode {
    fn code(self) -> &'static str {
        match self {
            Self::Vendor => "vendor",
            Self::Instructor => "instructor",
            Self::Admin => "admin",
        }
    }
}

/// A user account.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserDto {
    /// Its id.
    id: i64,
    /// E-mail address.
    email: String,
    /// The name shown.
    display_name: String,
    /// `vendor`, `instructor` or `admin`.
    role: String,
    /// A vendor's organisation.
    organisation: Option<i64>,
    /// Whether it may sign in.
    active: bool,
    /// When it was created (ISO 8601).
    created_at: String,
    /// When it was disabled (ISO 8601), if it is.
    disabled_at: Option<String>,
}

impl UserDto {
    fn of(u: &User) -> Self {
        Self {
            id: u.id.0,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            role: u.role.code().to_owned(),
            organisation: u.organisation.map(|o| o.0),
            active: u.is_active(),
            created_at: iso_instant(u.created_at),
            disabled_at: u.disabled_at.map(iso_instant),
        }
    }
}

page_of!(UserPage, UserDto, "A page of user accounts.");

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserBody {
    /// E-mail address, unique on the platform (422 `email_taken`).
    #[schema(format = Email, min_length = 5, max_length = 254, example = "prenom.nom@editeur.fr")]
    email: String,
    /// The name shown (1 to 200 characters once trimmed).
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    display_name: String,
    /// The role.
    role: RoleCode,
    /// A vendor's organisation (required for a vendor, absent for staff).
    #[serde(default)]
    #[schema(minimum = 1)]
    organisation: Option<i64>,
    /// The initial password, 12 to 1,024 characters.
    #[schema(min_length = 12, max_length = 1024)]
    password: String,
}

/// `GET /api/v1/admin/users`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    operation_id = "admin_users_list",
    tag = "administration",
    summary = "Les comptes, par adresse électronique",
    security(("jeton" = []), ("session" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "Une page de comptes", body = UserPage),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        Authenticated,
        AdminRead,
    )
)]
pub(crate) async fn users(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Response, AppError> {
    let paging = Paging::of(p.page, p.size)?;
    let all = users::list(&state, &admin).await?;
    let (items, total) = paging.slice(all, |u| UserDto::of(&u));
    json(StatusCode::OK, &UserPage::new(paging, items, total))
}

/// `POST /api/v1/admin/users`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    operation_id = "admin_users_create",
    tag = "administration",
    summary = "Crée un compte (un compte éditeur est rattaché à son organisation)",
    security(("jeton" = []), ("session" = [])),
    request_body = UserBody,
    responses(
        (status = 201, description = "Le compte créé", body = UserDto),
        (status = 422, description = "Champs invalides, ou adresse déjà utilisée (`email_taken`)", body = ErrorBody),
        Authenticated,
        JsonBody,
        AdminWrite,
    )
)]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin<true>,
    ApiJson(body): ApiJson<UserBody>,
) -> Result<Response, AppError> {
    let input = UserInput {
        email: body.email,
        display_name: body.display_name,
        role: body.role.code().to_owned(),
        organisation: body.organisation.map(|o| o.to_string()).unwrap_or_default(),
        password: body.password,
        password_confirmation: None,
    };
    let created = users::create(&state, &admin, &input).await?;
    json(StatusCode::CREATED, &UserDto::of(&created))
}

/// A user id from the path; anything else is a missing user.
fn user_id(raw: &str) -> Result<UserId, AppError> {
    raw.parse::<i64>()
        .map(UserId)
        .map_err(|_| AppError::NotFound)
}

/// `POST /api/v1/admin/users/{id}/disable`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/disable",
    operation_id = "admin_users_disable",
    tag = "administration",
    summary = "Désactive un compte : ses sessions sont fermées, ses jetons révoqués",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Identifiant du compte")),
    responses(
        (status = 200, description = "Le compte désactivé", body = UserDto),
        (status = 404, description = "Compte inconnu", body = ErrorBody),
        (status = 409, description = "Son propre compte (`own_account`)", body = ErrorBody),
        Authenticated,
        AdminWrite,
    )
)]
pub(crate) async fn disable_user(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin<true>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let user = users::disable(&state, &admin, user_id(&id)?).await?;
    json(StatusCode::OK, &UserDto::of(&user))
}

/// `POST /api/v1/admin/users/{id}/enable`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/enable",
    operation_id = "admin_users_enable",
    tag = "administration",
    summary = "Réactive un compte",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Identifiant du compte")),
    responses(
        (status = 200, description = "Le compte réactivé", body = UserDto),
        (status = 404, description = "Compte inconnu", body = ErrorBody),
        Authenticated,
        AdminWrite,
    )
)]
pub(crate) async fn enable_user(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin<true>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let user = users::enable(&state, &admin, user_id(&id)?).await?;
    json(StatusCode::OK, &UserDto::of(&user))
}

/// A sign-in unlocked.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnlockDto {
    /// The account.
    user: UserDto,
    /// How many recent failed sign-ins were forgotten.
    failures_forgotten: u64,
}

/// `POST /api/v1/admin/users/{id}/unlock`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/unlock",
    operation_id = "admin_users_unlock",
    tag = "administration",
    summary = "Débloque la connexion d'un compte : ses échecs de connexion récents sont oubliés",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Identifiant du compte")),
    responses(
        (status = 200, description = "La connexion débloquée", body = UnlockDto),
        (status = 404, description = "Compte inconnu", body = ErrorBody),
        Authenticated,
        AdminWrite,
    )
)]
pub(crate) async fn unlock_user(
    State(state): State<AppState>,
    ApiAdmin(admin): ApiAdmin<true>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (user, forgotten) = users::unlock(&state, &admin, user_id(&id)?).await?;
    json(
        StatusCode::OK,
        &UnlockDto {
            user: UserDto::of(&user),
            failures_forgotten: forgotten,
        },
    )
}
