//! The administrator's API under `/api/v1/admin/`: organisations, user accounts, REM imports,
//! referencings recorded by hand and their status. Every endpoint needs the administrator
//! capability ([`crate::security::ApiAdmin`]: 403 for anyone else, and for a read-only token on
//! a write) and calls the same use cases as the administration pages
//! ([`crate::app::admin`]), so that both apply one validation and write one audit entry naming
//! the administrator. Its OpenAPI paths are gathered in [`AdminDoc`], merged into the API's
//! document.

mod accounts;
mod referencings;
mod rem_imports;

use axum::Router;
use axum::routing::{get, post, put};
use utoipa::OpenApi;

use crate::AppState;

/// The administrator's routes, merged into the API's router.
pub(super) fn router() -> Router<AppState> {
    // The REM file's size is enforced while it is read, against `WebConfig::max_rem_upload`.
    let streamed = axum::extract::DefaultBodyLimit::disable();
    Router::new()
        .route(
            "/api/v1/admin/organisations",
            get(accounts::organisations).post(accounts::create_organisation),
        )
        .route(
            "/api/v1/admin/users",
            get(accounts::users).post(accounts::create_user),
        )
        .route(
            "/api/v1/admin/users/{id}/disable",
            post(accounts::disable_user),
        )
        .route(
            "/api/v1/admin/users/{id}/enable",
            post(accounts::enable_user),
        )
        .route(
            "/api/v1/admin/users/{id}/unlock",
            post(accounts::unlock_user),
        )
        .route(
            "/api/v1/admin/rem-imports",
            post(rem_imports::import).layer(streamed),
        )
        .route(
            "/api/v1/admin/rem-imports/confirm",
            post(rem_imports::confirm),
        )
        .route("/api/v1/admin/rem-imports/{id}", get(rem_imports::report))
        .route("/api/v1/admin/referencings", post(referencings::record))
        .route(
            "/api/v1/admin/referencings/{nru}/status",
            put(referencings::set_status),
        )
}

/// The OpenAPI paths of the administrator's API.
#[derive(OpenApi)]
#[openapi(
    paths(
        accounts::organisations,
        accounts::create_organisation,
        accounts::users,
        accounts::create_user,
        accounts::disable_user,
        accounts::enable_user,
        accounts::unlock_user,
        rem_imports::import,
        rem_imports::confirm,
        rem_imports::report,
        referencings::record,
        referencings::set_status,
    ),
    tags(
        (name = "administration", description = "Organisations, comptes, imports de REM, référencements enregistrés à la main et leur statut (administrateurs)."),
    )
)]
pub(super) struct AdminDoc;
