//! The administrator's API under `/api/v1/admin/`: organisations, user accounts, REM imports,
//! referencings recorded by hand and their status. Every endpoint needs the administrator
//! capability ([`crate::security::ApiAdmin`]: 403 for anyone else, and for a read-only token on
//! a write) and calls the same use cases as the administration pages
//! ([`crate::app::admin`]), so that both apply one validation and write one audit entry naming
//! the administrator. Each route is declared once ([`router`]), which documents it in the API's
//! document.

mod accounts;
mod referencings;
mod rem_imports;

use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::AppState;

/// The administrator's routes, each declared once with its documentation, merged into the API.
pub(super) fn router() -> OpenApiRouter<AppState> {
    // The REM file's size is enforced while it is read, against `WebConfig::max_rem_upload`.
    let streamed = axum::extract::DefaultBodyLimit::disable();
    OpenApiRouter::with_openapi(AdminDoc::openapi())
        .routes(routes!(
            accounts::organisations,
            accounts::create_organisation
        ))
        .routes(routes!(accounts::users, accounts::create_user))
        .routes(routes!(accounts::disable_user))
        .routes(routes!(accounts::enable_user))
        .routes(routes!(accounts::unlock_user))
        .routes(routes!(rem_imports::import).layer(streamed))
        .routes(routes!(rem_imports::confirm))
        .routes(routes!(rem_imports::report))
        .routes(routes!(referencings::record))
        .routes(routes!(referencings::set_status))
}

/// The administrator's tag of the API's document.
#[derive(OpenApi)]
#[openapi(tags(
    (name = "administration", description = "Organisations, comptes, imports de REM, référencements enregistrés à la main et leur statut (administrateurs)."),
))]
struct AdminDoc;
