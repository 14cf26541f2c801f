//! Sessions, CSRF, passwords and roles: the security of every request, in one place.
//!
//! - A session is a random 256-bit token in an HttpOnly, SameSite=Lax cookie (Secure unless the
//!   operator turns it off for plain-HTTP development); the database keeps only its SHA-256, so
//!   several server processes share sessions and a database leak yields no usable token. Signing
//!   in always creates a new session (no fixation); signing out deletes it.
//! - CSRF: every form carries a token. For a signed-in user it is the session's own token; before
//!   sign-in it is a random value also set in a SameSite=Strict cookie (double submit). A POST whose
//!   token does not match is refused before its handler runs, and so is one whose `Origin` header
//!   names another site.
//! - Passwords are hashed with argon2id (the crate's defaults: 19 MiB, 2 passes) off the async
//!   runtime.
//! - Roles are capabilities: a handler that takes [`AdminCap`] cannot run for anyone else, and a
//!   vendor's handlers get a [`VendorCap`] carrying the only organisation they may touch.

use std::net::SocketAddr;
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use preuves_db::{OrganisationId, Role, Session, Timestamp, TokenHash, User};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::AppError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "preuves_session";
/// Name of the pre-sign-in CSRF cookie.
pub const CSRF_COOKIE: &str = "preuves_csrf";
/// Name of the one-shot message cookie.
pub const FLASH_COOKIE: &str = "preuves_flash";
/// Idle lifetime of a session.
pub const SESSION_IDLE: Duration = Duration::from_secs(8 * 3600);
/// How often a session's expiry is pushed back (not on every request, to spare writes).
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// A random 256-bit token, hexadecimal.
pub fn random_token() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(format!("getrandom: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Hashes a password with argon2id, off the async runtime.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
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
    tokio::task::spawn_blocking(move || {
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
}

impl RequestContext {
    /// The signed-in user.
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

/// A `Set-Cookie` value with the platform's attributes.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<Duration>,
    secure: bool,
    same_site: &str,
) -> HeaderValue {
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
    // Everything the layer needs from the headers is read here, so the request is not copied.
    let headers = request.headers();
    let session_token = cookie(headers, SESSION_COOKIE)
        .filter(|t| t.len() == 64)
        .map(str::to_owned);
    let anonymous_csrf = cookie(headers, CSRF_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let flash = cookie(headers, FLASH_COOKIE)
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| String::from_utf8(b).ok());
    // A cross-site form post is refused whatever its token.
    if request.method() != Method::GET
        && request.method() != Method::HEAD
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

    let mut session = None;
    if let Some(raw) = session_token {
        let hash = TokenHash::of(&raw);
        if let Some(s) = state.db.find_valid_session(&hash, now).await? {
            if now.minus(TOUCH_EVERY) > s.last_seen {
                state
                    .db
                    .touch_session(&hash, now, now.plus(SESSION_IDLE))
                    .await?;
            }
            session = Some(s);
        }
    }

    let (csrf, new_csrf_cookie) = match (&session, anonymous_csrf) {
        (Some(s), _) => (s.csrf_token.clone(), None),
        (None, Some(t)) => (t, None),
        (None, None) => {
            let t = random_token()?;
            (t.clone(), Some(t))
        }
    };
    let had_flash = flash.is_some();
    let ctx = RequestContext {
        session,
        csrf,
        flash,
        client,
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
    let sets_flash = set
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(FLASH_COOKIE.as_bytes()));
    if had_flash && !sets_flash {
        set.append(header::SET_COOKIE, clear_cookie(FLASH_COOKIE, secure));
    }
    Ok(response)
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
            .map_err(|_| AppError::PayloadTooLarge)?;
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
