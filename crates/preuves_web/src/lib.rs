//! The `preuves` web platform: French server-rendered pages (askama), JSON under `/api/`, on axum.
//!
//! [`router`] wires every route in one place. A request goes through, from the outside in: a
//! request id and a trace span, the error renderer (HTML page or JSON, see [`layout`]), the
//! security layer (session, CSRF, cookies, see [`security`]), then a thin handler that extracts its
//! inputs, calls one `preuves_db` function or service, and renders a template.

#![forbid(unsafe_code)]

mod api;
mod app;
mod attachment;
mod decision;
mod deposit;
pub mod error;
mod filetype;
mod format;
pub mod forms;
mod guide;
pub mod journey;
pub mod layout;
mod multipart;
mod paths;
mod plan_view;
mod routes;
pub mod security;
pub mod server;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::middleware::{from_fn, from_fn_with_state};
use preuves_db::Db;
use preuves_storage::BlobStore;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use error::AppError;

/// Settings of a running platform.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (off only for plain-HTTP development on another host than localhost).
    pub secure_cookies: bool,
    /// Take the client address from `X-Forwarded-For` (behind a trusted reverse proxy only).
    pub trust_proxy: bool,
    /// Failed sign-ins for one e-mail address from one client address before that client is
    /// throttled for that address (another client can still sign in to the account).
    pub max_failures_per_email: u64,
    /// Failed sign-ins from one client address before it is throttled.
    pub max_failures_per_client: u64,
    /// Failed sign-ins for one e-mail address from every client before the address is
    /// throttled for all (a guess spread over many clients); an administrator can unlock it.
    pub max_failures_per_email_all_clients: u64,
    /// How long a session lasts at most, however active (12 hours by default).
    pub session_max_lifetime: std::time::Duration,
    /// The throttling window.
    pub throttle_window: std::time::Duration,
    /// Largest REM file accepted for import.
    pub max_rem_upload: usize,
    /// Largest proof file accepted (500 MiB by default).
    pub max_proof_upload: u64,
    /// Requests a minute each API token, signed-in user or anonymous client address may make
    /// under `/api/` (a token bucket: bursts of up to that many); 0 turns the limit off. The
    /// default is 600, or the `PREUVES_API_RATE_LIMIT` environment variable (load tests).
    pub api_requests_per_minute: u32,
    /// The platform's public address, printed on attestations for their verification link
    /// (`https://preuves.example.fr`, no trailing slash).
    pub public_url: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: true,
            trust_proxy: false,
            max_failures_per_email: 5,
            max_failures_per_client: 30,
            max_failures_per_email_all_clients: 100,
            session_max_lifetime: security::SESSION_MAX_LIFETIME,
            throttle_window: std::time::Duration::from_secs(15 * 60),
            max_rem_upload: 32 * 1024 * 1024,
            max_proof_upload: preuves_storage::PutLimits::DEFAULT_MAX_SIZE,
            api_requests_per_minute: std::env::var("PREUVES_API_RATE_LIMIT")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(600),
            public_url: "http://127.0.0.1:8080".to_owned(),
        }
    }
}

impl WebConfig {
    /// The sign-in limits in force at `now`: a sign-in and the current password asked by a
    /// password change count against the same ones.
    pub(crate) fn login_limits(&self, now: preuves_db::Timestamp) -> preuves_db::LoginLimits {
        preuves_db::LoginLimits {
            since: now.minus(self.throttle_window),
            per_email_and_client: self.max_failures_per_email,
            per_client: self.max_failures_per_client,
            per_email: self.max_failures_per_email_all_clients,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Where proof files and attestations are stored.
    pub blobs: BlobStore,
    /// The settings.
    pub config: Arc<WebConfig>,
    /// The catalogues the plan pages compute on, kept between requests.
    pub catalogues: Arc<journey::CatalogueCache>,
    /// The API's rate limits (see [`WebConfig::api_requests_per_minute`]).
    pub rate_limits: Arc<security::RateLimiter>,
    /// The catalogue simulations run on, with their revision checks coalesced.
    pub(crate) simulation_catalogue: Arc<api::CatalogueGate>,
}

impl AppState {
    /// A state over a database with the given settings, storing files in memory (tests); see
    /// [`AppState::with_blobs`].
    pub fn new(db: Db, config: WebConfig) -> Self {
        Self {
            db,
            blobs: BlobStore::memory(),
            config: Arc::new(config),
            catalogues: Arc::new(journey::CatalogueCache::default()),
            rate_limits: Arc::new(security::RateLimiter::default()),
            simulation_catalogue: Arc::new(api::CatalogueGate::default()),
        }
    }

    /// The same state storing files in `blobs`.
    pub fn with_blobs(mut self, blobs: BlobStore) -> Self {
        self.blobs = blobs;
        self
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: pages, API and health checks, with their middleware.
pub fn router(state: AppState) -> Router {
    with_middleware(routes::routes(), state)
}

/// What `Strict-Transport-Security` asks of browsers: HTTPS only for a year. Sent unless cookies
/// are not `Secure` (plain-HTTP development), where it would be ignored or, on a shared host
/// name, harmful.
pub const HSTS: &str = "max-age=31536000";

/// The platform's middleware (request id, trace, error pages, security layer, headers) around
/// `routes`; [`router`] gives it the platform's routes (tests add their own).
pub fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    let secure = state.config.secure_cookies;
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
        let id = req
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        // The path only: query strings may carry search terms users consider private.
        tracing::info_span!("request", id, method = %req.method(), path = %req.uri().path())
    });
    routes
        .fallback(|| async { AppError::NotFound })
        .layer(from_fn_with_state(state.clone(), security::security_layer))
        // A panic in a handler (or the security layer) answers a 500 the error renderer draws
        // like any other, with the request id, instead of an empty reply.
        .layer(CatchPanicLayer::custom(layout::panic_response))
        .layer(from_fn(layout::render_errors))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            move |_: &axum::response::Response| secure.then(|| HeaderValue::from_static(HSTS)),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // Pages carry personal data: no shared cache keeps them (static assets set their own).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
            ),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(trace)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
