//! Every route of the platform, wired in one place.

mod accounts;
mod admin;
mod auth;
mod candidatures;
pub(crate) mod catalogue;
mod guide;
mod health;
mod home;
pub(crate) mod instruction;
mod password;
mod proofs;
mod public;
mod register;
mod rem_import;
mod solutions;
mod tokens;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

/// The routes, without middleware (see [`crate::router`]).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        // The JSON API under /api/ and its OpenAPI document (see crate::api).
        .merge(crate::api::router())
        // Personal API tokens, managed by their owner.
        .route("/compte/jetons", get(tokens::list).post(tokens::create))
        .route("/compte/jetons/{id}/revoquer", post(tokens::revoke))
        .route(
            "/compte/mot-de-passe",
            get(password::form).post(password::change),
        )
        .route("/", get(home::show))
        .route("/static/app.css", get(home::stylesheet))
        .route("/static/app.js", get(home::script))
        // The user guide (docs/guide/) and its screenshots, public.
        .route("/aide", get(guide::index))
        .route("/aide/{page}", get(guide::page))
        .route("/aide/captures/{file}", get(guide::capture))
        .route("/connexion", get(auth::show).post(auth::sign_in))
        .route("/deconnexion", post(auth::sign_out))
        .route("/health", get(health::ready))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/admin", get(admin::index))
        .route(
            "/admin/organisations",
            get(accounts::organisations).post(accounts::create_organisation),
        )
        .route(
            "/admin/utilisateurs",
            get(accounts::users).post(accounts::create_user),
        )
        .route(
            "/admin/utilisateurs/{id}/desactiver",
            post(accounts::disable_user),
        )
        .route(
            "/admin/utilisateurs/{id}/reactiver",
            post(accounts::enable_user),
        )
        .route(
            "/admin/utilisateurs/{id}/debloquer",
            post(accounts::unlock_user),
        )
        .route("/referencements", get(register::list))
        .route("/referencements/{nru}", get(register::detail))
        .route("/admin/referencements/nouveau", get(register::new_form))
        .route("/admin/referencements", post(register::create))
        .route("/catalogue", get(catalogue::list))
        .route("/catalogue/{code}/{wave}", get(catalogue::dispositif))
        .route(
            "/catalogue/{code}/{wave}/exigence",
            get(catalogue::requirement),
        )
        // The upload's size is enforced while reading it, against `WebConfig::max_rem_upload`.
        .route(
            "/admin/import",
            get(rem_import::form)
                .post(rem_import::upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/admin/import/confirmer", post(rem_import::confirm))
        .route("/admin/import/{id}", get(rem_import::report))
        .route("/solutions", get(solutions::list).post(solutions::create))
        .route(
            "/solutions/{id}",
            get(solutions::edit).post(solutions::update),
        )
        .route("/candidatures", get(candidatures::dashboard))
        .route(
            "/candidatures/nouvelle",
            get(candidatures::new_form).post(candidatures::create),
        )
        .route(
            "/candidatures/{id}",
            get(candidatures::show).post(candidatures::save),
        )
        .route("/candidatures/{id}/deposer", post(candidatures::submit))
        .route(
            "/candidatures/{id}/nru-obtenu",
            get(candidatures::late_nru_form).post(candidatures::late_nru),
        )
        // Proof files stream to the blob store; their size is enforced while reading them,
        // against `WebConfig::max_proof_upload`.
        .route(
            "/candidatures/{id}/preuves",
            get(candidatures::proofs_page)
                .post(proofs::upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/candidatures/{id}/attestation-honneur",
            post(proofs::honour_statement).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/candidatures/{id}/preuves/{proof}", get(proofs::download))
        .route(
            "/candidatures/{id}/complements",
            post(candidatures::answer_complements),
        )
        .route("/instruction", get(instruction::queue))
        .route("/instruction/{id}", get(instruction::show))
        .route("/instruction/{id}/prendre", post(instruction::take))
        .route("/instruction/{id}/attribuer", post(instruction::assign))
        .route(
            "/instruction/{id}/preuves/{proof}",
            get(instruction::download),
        )
        .route(
            "/instruction/{id}/preuves/{proof}/verdict",
            post(instruction::verdict),
        )
        .route(
            "/instruction/{id}/complements",
            post(instruction::request_complements),
        )
        .route("/instruction/{id}/refuser", post(instruction::refuse))
        .route("/instruction/{id}/referencer", post(instruction::grant))
        .route("/registre", get(public::register))
        .route("/registre.csv", get(public::register_csv))
        .route("/registre.json", get(public::register_json))
        .route("/verifier", get(public::verify_form))
        .route("/verifier/{nru}", get(public::verify))
        .route(
            "/referencements/{nru}/attestation",
            get(public::attestation),
        )
        .route(
            "/admin/referencements/{nru}/statut",
            post(register::set_status),
        )
}
