//! Sessions, CSRF, passwords and roles: the security of every request, in one place.
//!
//! - A session is a random 256-bit token in an HttpOnly, SameSite=Lax cookie (Secure unless the
//!   operator turns it off for plain-HTTP development); the database keeps only its SHA-256, so
//!   several server processes share sessions and a database leak yields no usable token. Signing
//!   in always creates a new session (no fixation); signing out deletes it. A session ends after
//!   [`SESSION_IDLE`] unused, and at its absolute lifetime however active. With secure cookies,
//!   every cookie name carries the `__Host-` prefix ([`cookie_name`]).
//! - CSRF: every form carries a token. For a signed-in user it is the session's own token; before
//!   sign-in it is a random value also set in a SameSite=Strict cookie (double submit). A POST whose
//!   token does not match is refused before its handler runs, and so is one whose `Origin` header
//!   names another site.
//! - Passwords are hashed with argon2id (the crate's defaults: 19 MiB, 2 passes) off the async
//!   runtime, at most half as many at once as there are cores: a storm of sign-ins (a deadline
//!   rush) queues instead of taking 19 MiB and a core each and starving every page.
//! - Roles are capabilities: a handler that takes [`AdminCap`] cannot run for anyone else, and a
//!   vendor's handlers get a [`VendorCap`] carrying the only organisation they may touch.
//! - Under `/api/`, a request may instead carry a personal API token (`Authorization: Bearer`):
//!   only its SHA-256 is looked up (one query), it must be unexpired, unrevoked and its user
//!   active; its use is recorded at most once a minute. Such a request ignores cookies, so it
//!   needs no CSRF token. A cookie-authenticated API request that changes something must send
//!   the session's CSRF token in the `X-CSRF-Token` header (and pass the `Origin` check), as a
//!   form would. [`ApiCaller`] is the API's capability: the user, and whether it may write.
//! - API requests are rate-limited in memory ([`RateLimiter`], a token bucket per API token,
//!   per signed-in user, or per client address for anonymous calls), answering 429 with
//!   `Retry-After` when the bucket is empty. Unknown tokens drain a bucket of their client, which
//!   a bearer request must find non-empty before its token is even looked up.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use preuves_db::{
    ApiTokenGrant, OrganisationId, Role, Session, Timestamp, TokenHash, TokenScope, User,
};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::AppError;

/// Name of the session cookie (see [`cookie_name`]).
pub const SESSION_COOKIE: &str = "preuves_session";
/// Name of the pre-sign-in CSRF cookie (see [`cookie_name`]).
pub const CSRF_COOKIE: &str = "preuves_csrf";
/// Name of the one-shot message cookie (see [`cookie_name`]).
pub const FLASH_COOKIE: &str = "preuves_flash";
/// Idle lifetime of a session.
pub const SESSION_IDLE: Duration = Duration::from_secs(8 * 3600);
/// Absolute lifetime of a session by default, however active it is (see
/// [`crate::WebConfig::session_max_lifetime`]).
pub const SESSION_MAX_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// How often a session's expiry is pushed back (not on every request, to spare writes).
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// The header carrying the session's CSRF token on cookie-authenticated API writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A random 256-bit token, hexadecimal.
pub fn random_token() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(format!("getrandom: {e}")))?;
    Ok(hex::encode(bytes))
}

/// The slots of concurrent argon2id computations: half the cores, at least one.
fn hashing_slots() -> Arc<tokio::sync::Semaphore> {
    static SLOTS: OnceLock<Arc<tokio::sync::Semaphore>> = OnceLock::new();
    SLOTS
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            Arc::new(tokio::sync::Semaphore::new((cores / 2).max(1)))
        })
        .clone()
}

/// Waits for a hashing slot. The permit moves into the blocking task, so the slot stays taken
/// until the computation ends even if the request that asked for it is gone.
async fn hashing_slot() -> Result<tokio::sync::OwnedSemaphorePermit, AppError> {
    hashing_slots()
        .acquire_owned()
        .await
        .map_err(AppError::internal)
}

/// Hashes a password with argon2id, off the async runtime.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    let slot = hashing_slot().await?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        argon2::Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(format!("argon2: {e}")))
    })
    .await
    .map_err(AppError::internal)?
}

/// Checks a password against a stored hash, off the async runtime. With no stored hash (unknown
/// account), a dummy hash is checked anyway so that timing does not reveal which e-mails exist.
pub async fn verify_password(password: String, stored: Option<String>) -> Result<bool, AppError> {
    let slot = hashing_slot().await?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let argon2 = argon2::Argon2::default();
        match stored {
            Some(hash) => Ok(argon2
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()),
            None => {
                let _ = argon2.hash_password(password.as_bytes());
                Ok(false)
            }
        }
    })
    .await
    .map_err(AppError::internal)?
}

/// What the security layer learnt about a request, for handlers and templates.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The session, if a valid one came with the request.
    pub session: Option<Session>,
    /// The CSRF token forms must carry.
    pub csrf: String,
    /// The one-shot message left by the previous request, if any.
    pub flash: Option<String>,
    /// The client's address, for throttling.
    pub client: String,
    /// The API token of an `/api/` request authenticated by `Authorization: Bearer` (then
    /// `session` is `None`: cookies are ignored).
    pub token: Option<ApiTokenGrant>,
}

impl RequestContext {
    /// The signed-in user (pages: sessions only).
    pub fn user(&self) -> Option<&User> {
        self.session.as_ref().map(|s| &s.user)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| AppError::internal("security layer missing"))
    }
}

/// Reads one cookie from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The name a cookie is sent under: with secure cookies, the `__Host-` prefix, which browsers
/// accept only from HTTPS, with `Path=/` and no `Domain` (a sibling sub-domain or a plain-HTTP
/// page cannot set or shadow it); without (plain-HTTP development), the bare name.
pub fn cookie_name(name: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

/// A `Set-Cookie` value with the platform's attributes, under [`cookie_name`].
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<Duration>,
    secure: bool,
    same_site: &str,
) -> HeaderValue {
    let name = cookie_name(name, secure);
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(d) = max_age {
        c.push_str(&format!("; Max-Age={}", d.as_secs()));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// A `Set-Cookie` value that deletes a cookie.
pub fn clear_cookie(name: &str, secure: bool) -> HeaderValue {
    set_cookie(name, "", Some(Duration::ZERO), secure, "Lax")
}

/// Encodes a one-shot message for its cookie (hex keeps any French text cookie-safe).
pub fn flash_cookie(message: &str, secure: bool) -> HeaderValue {
    let text: String = message.chars().take(300).collect();
    set_cookie(FLASH_COOKIE, &hex::encode(text), None, secure, "Lax")
}

fn client_address(
    parts_ext: &axum::http::Extensions,
    headers: &HeaderMap,
    trust_proxy: bool,
) -> String {
    if trust_proxy
        && let Some(forwarded) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    {
        return forwarded.trim().to_owned();
    }
    parts_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "local".to_owned(), |c| c.0.ip().to_string())
}

/// The security middleware: loads the session, checks CSRF on unsafe methods, and sets the
/// cookies the response needs.
pub async fn security_layer(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let secure = state.config.secure_cookies;
    let now = Timestamp::now();
    let is_api = request.uri().path().starts_with("/api/");
    // Everything the layer needs from the headers is read here, so the request is not copied.
    let headers = request.headers();
    let bearer = if is_api { bearer_token(headers)? } else { None };
    let session_token = cookie(headers, &cookie_name(SESSION_COOKIE, secure))
        .filter(|t| t.len() == 64)
        .map(str::to_owned);
    let anonymous_csrf = cookie(headers, &cookie_name(CSRF_COOKIE, secure))
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let flash = cookie(headers, &cookie_name(FLASH_COOKIE, secure))
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let unsafe_method = request.method() != Method::GET && request.method() != Method::HEAD;
    // A cross-site form post is refused whatever its token. A bearer request carries no ambient
    // credential (no cookie is read), so where it comes from does not matter.
    if unsafe_method
        && bearer.is_none()
        && let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
    {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        if origin != "null" && origin_host != host {
            return Err(AppError::Csrf);
        }
    }
    let client = client_address(request.extensions(), headers, state.config.trust_proxy);
    let csrf_header = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    if let Some(raw) = bearer {
        return api_token_request(&state, request, next, &raw, client, now).await;
    }

    let mut session = None;
    if let Some(raw) = session_token {
        let hash = TokenHash::of(&raw);
        if let Some(s) = state.db.find_valid_session(&hash, now).await? {
            // However active, a session ends at its absolute lifetime: a stolen cookie does not
            // last forever.
            let end = s.created_at.plus(state.config.session_max_lifetime);
            if now < end {
                if now.minus(TOUCH_EVERY) > s.last_seen {
                    state
                        .db
                        .touch_session(&hash, now, now.plus(SESSION_IDLE).min(end))
                        .await?;
                }
                session = Some(s);
            }
        }
    }

    let (csrf, new_csrf_cookie) = match (&session, anonymous_csrf) {
        (Some(s), _) => (s.csrf_token.clone(), None),
        (None, Some(t)) => (t, None),
        // The API answers no form: no pre-sign-in token is needed there.
        (None, None) if is_api => (String::new(), None),
        (None, None) => {
            let t = random_token()?;
            (t.clone(), Some(t))
        }
    };
    if is_api {
        // A signed-in browser's API write must prove it comes from our pages, like a form.
        if unsafe_method && session.is_some() {
            let ctx = RequestContext {
                session: session.clone(),
                csrf: csrf.clone(),
                flash: None,
                client: client.clone(),
                token: None,
            };
            check_csrf(&ctx, csrf_header.as_deref().unwrap_or_default())?;
        }
        let key = match &session {
            Some(s) => format!("u:{}", s.user.id),
            None => format!("a:{client}"),
        };
        state.rate_limits.check(&key, &state.config)?;
    }
    // The API leaves the pages' one-shot message alone.
    let had_flash = flash.is_some() && !is_api;
    let ctx = RequestContext {
        session,
        csrf,
        flash: if is_api { None } else { flash },
        client,
        token: None,
    };
    request.extensions_mut().insert(ctx.clone());
    let mut response = next.run(request).await;
    // The error renderer, outside this layer, draws error pages with the user's navigation.
    response.extensions_mut().insert(ctx);
    let set = response.headers_mut();
    if let Some(t) = new_csrf_cookie {
        set.append(
            header::SET_COOKIE,
            set_cookie(CSRF_COOKIE, &t, None, secure, "Strict"),
        );
    }
    // The flash was shown by this response, unless this response sets a new one.
    let flash_prefix = format!("{}=", cookie_name(FLASH_COOKIE, secure));
    let sets_flash = set
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(flash_prefix.as_bytes()));
    if had_flash && !sets_flash {
        set.append(header::SET_COOKIE, clear_cookie(FLASH_COOKIE, secure));
    }
    Ok(response)
}

/// The token of an `Authorization: Bearer` header: `None` without the header, an
/// [`AppError::InvalidToken`] for another scheme or a token that cannot be one of ours.
fn bearer_token(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AppError::InvalidToken)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(AppError::InvalidToken)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer")
        || token.len() != 64
        || !token.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(AppError::InvalidToken);
    }
    Ok(Some(token.to_ascii_lowercase()))
}

/// An API request authenticated by a bearer token: rate-limited per token (and, while the token
/// is not valid, per client address), cookies ignored.
async fn api_token_request(
    state: &AppState,
    mut request: Request,
    next: Next,
    raw: &str,
    client: String,
    now: Timestamp,
) -> Result<Response, AppError> {
    let hash = TokenHash::of(raw);
    // The client's bucket of unknown tokens, apart from its anonymous calls.
    let guesses_key = format!("g:{client}");
    // Both checked before any query, so a flood costs no database work: the token's bucket, and
    // the client's bucket of unknown tokens (a client that used it up guessing gets no further
    // query). A valid token's requests are not charged to its client.
    state.rate_limits.peek(&guesses_key, &state.config)?;
    state
        .rate_limits
        .check(&format!("t:{}", hash.as_str()), &state.config)?;
    let Some(grant) = state.db.find_valid_api_token(&hash, now).await? else {
        // Guessing tokens is hopeless (256 bits), but each guess costs a query: limit them.
        state.rate_limits.check(&guesses_key, &state.config)?;
        return Err(AppError::InvalidToken);
    };
    if grant
        .token
        .last_used_at
        .is_none_or(|seen| now.minus(TOUCH_EVERY) > seen)
    {
        state.db.touch_api_token(grant.token.id, now).await?;
    }
    let ctx = RequestContext {
        session: None,
        csrf: String::new(),
        flash: None,
        client,
        token: Some(grant),
    };
    request.extensions_mut().insert(ctx.clone());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(ctx);
    Ok(response)
}

/// An in-memory token bucket per key (an API token, a user, a client address): each key may make
/// [`crate::WebConfig::api_requests_per_minute`] requests a minute, in bursts of up to that many.
/// Per process: several processes behind a load balancer each apply the limit.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets kept before idle ones are dropped (a full bucket is the same as none).
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    /// Whether `key`'s bucket holds a request, without taking it; if not, how many seconds to
    /// wait (as [`RateLimiter::check`] would answer).
    pub fn peek(&self, key: &str, config: &crate::WebConfig) -> Result<(), AppError> {
        let per_minute = config.api_requests_per_minute;
        if per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(per_minute);
        let rate = capacity / 60.0;
        let buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(bucket) = buckets.get(key) else {
            return Ok(());
        };
        let refilled = (bucket.tokens
            + Instant::now().duration_since(bucket.at).as_secs_f64() * rate)
            .min(capacity);
        if refilled >= 1.0 {
            Ok(())
        } else {
            Err(AppError::RateLimited {
                retry_after: ((1.0 - refilled) / rate).ceil().max(1.0) as u64,
            })
        }
    }

    /// Takes one request from `key`'s bucket, or says how many seconds to wait.
    pub fn check(&self, key: &str, config: &crate::WebConfig) -> Result<(), AppError> {
        let per_minute = config.api_requests_per_minute;
        if per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(per_minute);
        let rate = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < capacity);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refilled =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(capacity);
        if refilled >= 1.0 {
            *bucket = Bucket {
                tokens: refilled - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket {
                tokens: refilled,
                at: now,
            };
            // Whole seconds, at least one: when the next request will be accepted.
            let wait = ((1.0 - refilled) / rate).ceil().max(1.0);
            Err(AppError::RateLimited {
                retry_after: wait as u64,
            })
        }
    }
}

/// A caller of the API: the user of a bearer token, or of the browser's session.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The user.
    pub user: User,
    /// What it may do: a token's scope; a signed-in browser may write (with its CSRF header).
    pub scope: TokenScope,
}

impl<S: Send + Sync> FromRequestParts<S> for ApiCaller {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let ctx = RequestContext::from_request_parts(parts, state).await?;
        if let Some(grant) = ctx.token {
            return Ok(Self {
                user: grant.user,
                scope: grant.token.scope,
            });
        }
        ctx.session
            .map(|s| Self {
                user: s.user,
                scope: TokenScope::ReadWrite,
            })
            .ok_or(AppError::Unauthenticated)
    }
}

impl ApiCaller {
    /// The caller, if it may write ([`AppError::InsufficientScope`] for a read-only token).
    pub fn writer(self) -> Result<Self, AppError> {
        if self.scope.can_write() {
            Ok(self)
        } else {
            Err(AppError::InsufficientScope)
        }
    }

    /// The vendor capability (403 for staff, like the pages).
    pub fn vendor(self) -> Result<VendorCap, AppError> {
        match (self.user.role, self.user.organisation) {
            (Role::Vendor, Some(organisation)) => Ok(VendorCap {
                user: self.user,
                organisation,
            }),
            _ => Err(AppError::Forbidden),
        }
    }

    /// The instructor capability (403 for anyone else).
    pub fn instructor(self) -> Result<InstructorCap, AppError> {
        if self.user.role == Role::Instructor {
            Ok(InstructorCap(self.user))
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The administrator capability (403 for anyone else).
    pub fn admin(self) -> Result<AdminCap, AppError> {
        if self.user.role == Role::Admin {
            Ok(AdminCap(self.user))
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// What the caller may read.
    pub fn read_scope(&self) -> Result<ReadScope, AppError> {
        ReadScope::of(&self.user)
    }
}

/// The vendor capability over the API (403 for staff); with `WRITE`, also a token that may
/// write (403 `insufficient_scope` for a read-only one). An extractor, so that it is checked
/// before the request's body is read.
#[derive(Debug, Clone)]
pub struct ApiVendor<const WRITE: bool = false>(pub VendorCap);

impl<S: Send + Sync, const WRITE: bool> FromRequestParts<S> for ApiVendor<WRITE> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let caller = ApiCaller::from_request_parts(parts, state).await?;
        let caller = if WRITE { caller.writer()? } else { caller };
        Ok(Self(caller.vendor()?))
    }
}

/// The instructor capability over the API (403 for anyone else); with `WRITE`, also a token
/// that may write.
#[derive(Debug, Clone)]
pub struct ApiInstructor<const WRITE: bool = false>(pub InstructorCap);

impl<S: Send + Sync, const WRITE: bool> FromRequestParts<S> for ApiInstructor<WRITE> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let caller = ApiCaller::from_request_parts(parts, state).await?;
        let caller = if WRITE { caller.writer()? } else { caller };
        Ok(Self(caller.instructor()?))
    }
}

/// The administrator capability over the API (403 for anyone else); with `WRITE`, also a token
/// that may write.
#[derive(Debug, Clone)]
pub struct ApiAdmin<const WRITE: bool = false>(pub AdminCap);

impl<S: Send + Sync, const WRITE: bool> FromRequestParts<S> for ApiAdmin<WRITE> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let caller = ApiCaller::from_request_parts(parts, state).await?;
        let caller = if WRITE { caller.writer()? } else { caller };
        Ok(Self(caller.admin()?))
    }
}

/// Checks a submitted CSRF token (constant time).
pub fn check_csrf(ctx: &RequestContext, submitted: &str) -> Result<(), AppError> {
    let a = ctx.csrf.as_bytes();
    let b = submitted.as_bytes();
    let same = a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
    if same && !a.is_empty() {
        Ok(())
    } else {
        Err(AppError::Csrf)
    }
}

/// A URL-encoded form whose `csrf` field has been checked.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for CsrfForm<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let ctx = req
            .extensions()
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| AppError::internal("security layer missing"))?;
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge
                } else {
                    // Cut short, or stalled past the server's body timeout.
                    AppError::BadRequest(
                        "Le formulaire n'a pas été reçu en entier\u{a0}; envoyez-le de nouveau."
                            .to_owned(),
                    )
                }
            })?;
        let field: CsrfField = serde_urlencoded_from(&bytes)?;
        check_csrf(&ctx, &field.csrf)?;
        Ok(Self(serde_urlencoded_from(&bytes)?))
    }
}

fn serde_urlencoded_from<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    serde_urlencoded::from_bytes(bytes)
        .map_err(|e| AppError::BadRequest(format!("Formulaire illisible : {e}")))
}

/// A signed-in user (any role).
#[derive(Debug, Clone)]
pub struct SignedIn(pub User);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let ctx = RequestContext::from_request_parts(parts, state).await?;
        ctx.session
            .map(|s| Self(s.user))
            .ok_or(AppError::Unauthenticated)
    }
}

/// The capability of a catalogue administrator.
#[derive(Debug, Clone)]
pub struct AdminCap(pub User);

impl<S: Send + Sync> FromRequestParts<S> for AdminCap {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let SignedIn(user) = SignedIn::from_request_parts(parts, state).await?;
        if user.role == Role::Admin {
            Ok(Self(user))
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// The capability of an ANS instructor.
#[derive(Debug, Clone)]
pub struct InstructorCap(pub User);

impl<S: Send + Sync> FromRequestParts<S> for InstructorCap {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let SignedIn(user) = SignedIn::from_request_parts(parts, state).await?;
        if user.role == Role::Instructor {
            Ok(Self(user))
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// The capability of a vendor user: the one organisation whose data it may touch.
#[derive(Debug, Clone)]
pub struct VendorCap {
    /// The user.
    pub user: User,
    /// Its organisation.
    pub organisation: OrganisationId,
}

impl<S: Send + Sync> FromRequestParts<S> for VendorCap {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let SignedIn(user) = SignedIn::from_request_parts(parts, state).await?;
        match (user.role, user.organisation) {
            (Role::Vendor, Some(organisation)) => Ok(Self { user, organisation }),
            _ => Err(AppError::Forbidden),
        }
    }
}

/// Who may read an organisation's data: staff see all, a vendor only its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadScope {
    /// Administrators and instructors.
    All,
    /// A vendor's own organisation.
    Organisation(OrganisationId),
}

impl ReadScope {
    /// The scope of a user.
    pub fn of(user: &User) -> Result<Self, AppError> {
        match (user.role, user.organisation) {
            (Role::Admin | Role::Instructor, _) => Ok(Self::All),
            (Role::Vendor, Some(org)) => Ok(Self::Organisation(org)),
            (Role::Vendor, None) => Err(AppError::Forbidden),
        }
    }

    /// Whether an object of `organisation` is visible; an invisible one is answered as missing.
    pub fn check(self, organisation: OrganisationId) -> Result<(), AppError> {
        match self {
            Self::All => Ok(()),
            Self::Organisation(own) if own == organisation => Ok(()),
            Self::Organisation(_) => Err(AppError::NotFound),
        }
    }

    /// The organisation filter for list queries.
    pub fn filter(self) -> Option<OrganisationId> {
        match self {
            Self::All => None,
            Self::Organisation(o) => Some(o),
        }
    }
}

/// Redirects with a one-shot message (Post/Redirect/Get).
pub fn redirect_with_flash(to: &str, message: &str, secure: bool) -> Response {
    let mut r = axum::response::Redirect::to(to).into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, flash_cookie(message, secure));
    r
}
