//! The JSON API under `/api/v1/`, and its OpenAPI description at `/api/openapi.json`.
//!
//! Everything a person can do in the pages can be done here, with the same rules: handlers take
//! an [`ApiCaller`] (a personal token sent as `Authorization: Bearer`, or the browser's session
//! with its CSRF token in `X-CSRF-Token` for writes), turn it into the same capabilities as the
//! pages ([`ApiCaller::vendor`], [`ApiCaller::instructor`], [`ApiCaller::read_scope`]), and call
//! the same `preuves_db` functions and services (`journey`, `decision`, the deposit streaming).
//! A vendor's token never reaches another organisation's data (404, like a missing object); a
//! read-only token gets 403 on every write. The catalogue, the public register, the verification
//! of an attestation and simulations need no authentication.
//!
//! Errors all have one shape, `{"errors":[{"code","message","field"?}]}` (written by
//! [`crate::layout::render_errors`]); rule refusals carry the engine's stable codes of
//! `docs/rules.md` and the field they concern. Lists are paginated (`page` from 1, `size` up to
//! [`MAX_PAGE_SIZE`]) and answer `{"items","page","size","total"}`; instants are ISO 8601 in UTC,
//! days ISO 8601 dates.
//!
//! The OpenAPI document is generated from the code: each handler carries `#[utoipa::path]`, each
//! body type derives `ToSchema`, and [`api`] declares each route once (`utoipa_axum::routes!`),
//! which both routes it and documents it: [`router`] and [`document`] cannot disagree.

mod admin;
mod candidatures;
mod catalogue;
mod instruction;
mod referencings;
mod simulations;
mod solutions;

pub(crate) use simulations::CatalogueGate;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use preuves_db::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{AppError, ErrorItem};
use crate::security::ApiCaller;

/// The largest page of any list (stated as `maximum = 200` on every `size` parameter).
pub(crate) const MAX_PAGE_SIZE: u32 = 200;
/// The last page number accepted (stated as `maximum = 1000000` on every `page` parameter): far
/// beyond any list of the platform, and within the 32-bit integers every client can hold.
pub(crate) const MAX_PAGE: u32 = 1_000_000;
/// The page size when none is asked.
const DEFAULT_PAGE_SIZE: u32 = 50;

/// The API's routes, merged into the platform's router (see [`crate::routes`]).
pub(crate) fn router() -> Router<AppState> {
    api().split_for_parts().0
}

/// The OpenAPI document of [`router`]: the same declarations, so that nothing is routed and not
/// documented, or documented and not routed.
pub(crate) fn document() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// Every route of the API, each declared once: `routes!` routes a handler at the path and
/// method of its `#[utoipa::path]` and adds that operation to the document.
fn api() -> OpenApiRouter<AppState> {
    // Proof files and sworn statements stream to the blob store; their size is enforced while
    // they are read, against `WebConfig::max_proof_upload`.
    let streamed = axum::extract::DefaultBodyLimit::disable;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi))
        .routes(routes!(me))
        .routes(routes!(catalogue::dispositifs))
        .routes(routes!(catalogue::dispositif))
        .routes(routes!(catalogue::rem_versions))
        .routes(routes!(catalogue::requirements))
        .merge(catch_all(routes!(catalogue::requirement)))
        .routes(routes!(solutions::list, solutions::create))
        .routes(routes!(solutions::show, solutions::update))
        .routes(routes!(referencings::list))
        .routes(routes!(referencings::show))
        .routes(routes!(referencings::attestation))
        .routes(routes!(referencings::register))
        .routes(routes!(referencings::verify))
        .routes(routes!(candidatures::list, candidatures::create))
        .routes(routes!(candidatures::show))
        .routes(routes!(candidatures::update_step))
        .routes(routes!(candidatures::plan))
        .routes(routes!(candidatures::proofs, candidatures::deposit).layer(streamed()))
        .routes(routes!(candidatures::proof_file))
        .routes(routes!(candidatures::honour_statement).layer(streamed()))
        .routes(routes!(candidatures::submit))
        .routes(routes!(candidatures::late_nrus))
        .routes(routes!(candidatures::complement_requests))
        .routes(routes!(candidatures::answer_complements))
        .routes(routes!(instruction::queue))
        .routes(routes!(instruction::show))
        .routes(routes!(instruction::take))
        .routes(routes!(instruction::assign))
        .routes(routes!(instruction::proof_file))
        .routes(routes!(instruction::verdict))
        .routes(routes!(instruction::request_complements))
        .routes(routes!(instruction::refuse))
        .routes(routes!(instruction::grant))
        .routes(routes!(instruction::history))
        .routes(routes!(simulations::simulate))
        .merge(admin::router())
}

/// Routes an operation whose last path parameter takes the rest of the path (a requirement id
/// holds slashes: `INS/va1.01`). The document names the parameter `{id}`, as OpenAPI has no
/// catch-all; the router matches `{*id}`.
fn catch_all(
    (schemas, paths, method_router): UtoipaMethodRouter<AppState>,
) -> OpenApiRouter<AppState> {
    let mut router = Router::new();
    for path in paths.paths.keys() {
        let Some((head, last)) = path.rsplit_once("/{") else {
            continue;
        };
        router = router.route(&format!("{head}/{{*{last}"), method_router.clone());
    }
    let mut doc = utoipa::openapi::OpenApi::default();
    doc.paths = paths;
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
    OpenApiRouter::with_openapi(doc).merge(router.into())
}

// ---- the OpenAPI document -----------------------------------------------------------------

/// The OpenAPI description of the API, generated from the handlers and body types.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "preuves API",
        description = "API JSON de la plateforme de référencement Ségur (preuves) : catalogue, \
            solutions, candidatures, plan de preuves, dépôt de preuves, instruction, registre \
            public, vérification des attestations et simulation de plan.\n\n\
            Authentification : jeton personnel (`Authorization: Bearer <jeton>`, créé sur la \
            page « Jetons d'accès » du compte), ou session du navigateur avec l'en-tête \
            `X-CSRF-Token` pour les écritures. Erreurs : `{\"errors\":[{\"code\",\"message\",\
            \"field\"?}]}`. Listes paginées (`page`, `size` ≤ 200). Instants en ISO 8601 (UTC).",
        version = "1.0.0",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    components(schemas(ErrorBody, ErrorEntry)),
    modifiers(&SecurityAddon),
    tags(
        (name = "catalogue", description = "Dispositifs, versions de REM, exigences (public)."),
        (name = "compte", description = "Le compte appelant."),
        (name = "solutions", description = "Les solutions de l'éditeur."),
        (name = "référencements", description = "Référencements, registre public, vérification."),
        (name = "candidatures", description = "Candidatures de l'éditeur, plan, preuves, dépôt."),
        (name = "instruction", description = "Instruction par les instructeurs de l'ANS."),
        (name = "simulation", description = "Simulation d'un plan de preuves (public)."),
    )
)]
pub(crate) struct ApiDoc;

/// Declares the two ways to authenticate.
struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "jeton",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Jeton personnel (256 bits, hexadécimal) créé sur /compte/jetons, de \
                         portée « lecture » ou « lecture et écriture ».",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
                // The name a deployment uses (HTTPS); `--insecure-cookies` drops the prefix.
                utoipa::openapi::security::ApiKeyValue::with_description(
                    crate::security::cookie_name(crate::security::SESSION_COOKIE, true),
                    "Session du navigateur ; les écritures doivent envoyer son jeton CSRF dans \
                     l'en-tête X-CSRF-Token. Le cookie s'appelle `preuves_session`, sans le \
                     préfixe `__Host-`, sur un serveur lancé avec --insecure-cookies."
                        .to_owned(),
                ),
            )),
        );
    }
}

/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "api_openapi",
    tag = "catalogue",
    summary = "Cette description OpenAPI 3.1",
    responses(
        (status = 200, description = "Le document OpenAPI", content_type = "application/json", body = Object),
        Throttled,
    )
)]
async fn openapi() -> Response {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOCUMENT.get_or_init(|| document().to_pretty_json().unwrap_or_default());
    json_text(StatusCode::OK, body.clone())
}

// ---- shared shapes ------------------------------------------------------------------------

/// Every error answered under `/api/`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// The errors, at least one.
    pub(crate) errors: Vec<ErrorEntry>,
}

/// One error.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorEntry {
    /// The stable code: a refusal code of `docs/rules.md` (`unknown_nru`, `version_lower`...), a
    /// state conflict (`stale_revision`, `candidature_not_draft`...), or a protocol error
    /// (`unauthenticated`, `invalid_token`, `insufficient_scope`, `forbidden`, `not_found`,
    /// `invalid_body`, `invalid_parameter`, `too_many_requests`...).
    pub(crate) code: String,
    /// What is wrong and what to do, in French.
    pub(crate) message: String,
    /// The request field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) field: Option<String>,
}

/// The answers every operation may give: too many requests.
#[derive(utoipa::IntoResponses)]
#[expect(
    dead_code,
    reason = "a documented answer set; the errors are AppError's"
)]
pub(crate) enum Throttled {
    /// The caller's rate limit is reached (`too_many_requests`).
    #[response(status = 429, description = "Trop de requêtes")]
    TooManyRequests(ErrorBody),
}

/// The answers of every operation that needs a caller: no or a bad token, too many requests.
#[derive(utoipa::IntoResponses)]
#[expect(
    dead_code,
    reason = "a documented answer set; the errors are AppError's"
)]
pub(crate) enum Authenticated {
    /// No token, or an unknown, expired or revoked one.
    #[response(status = 401, description = "Non authentifié")]
    Unauthenticated(ErrorBody),
    /// The caller's rate limit is reached.
    #[response(status = 429, description = "Trop de requêtes")]
    TooManyRequests(ErrorBody),
}

/// The answers of every operation that reads a JSON body from a caller, besides
/// [`Authenticated`]'s: a body that is not JSON, or not well formed.
#[derive(utoipa::IntoResponses)]
#[expect(
    dead_code,
    reason = "a documented answer set; the errors are AppError's"
)]
pub(crate) enum JsonBody {
    /// Not well-formed JSON (`malformed_json`, with line and column).
    #[response(status = 400, description = "JSON mal formé")]
    Malformed(ErrorBody),
    /// No `Content-Type: application/json` (`unsupported_media_type`).
    #[response(status = 415, description = "Le corps n'est pas du JSON")]
    NotJson(ErrorBody),
}

/// The refusal of an administrator's read to anyone else.
#[derive(utoipa::IntoResponses)]
#[expect(
    dead_code,
    reason = "a documented answer set; the errors are AppError's"
)]
pub(crate) enum AdminRead {
    /// The caller is not an administrator (`forbidden`).
    #[response(status = 403, description = "Réservé aux administrateurs")]
    Forbidden(ErrorBody),
}

/// The refusal of an administrator's write to anyone else, or to a read-only token.
#[derive(utoipa::IntoResponses)]
#[expect(
    dead_code,
    reason = "a documented answer set; the errors are AppError's"
)]
pub(crate) enum AdminWrite {
    /// Not an administrator (`forbidden`), or a read-only token (`insufficient_scope`).
    #[response(
        status = 403,
        description = "Réservé aux administrateurs, ou jeton en lecture seule"
    )]
    Forbidden(ErrorBody),
}

/// The refusal of a vendor's read to anyone else.
#[derive(utoipa::IntoResponses)]
#[expect(
    dead_code,
    reason = "a documented answer set; the errors are AppError's"
)]
pub(crate) enum VendorRead {
    /// The caller is not a vendor (`forbidden`).
    #[response(status = 403, description = "Réservé aux éditeurs")]
    Forbidden(ErrorBody),
}

/// The refusal of a vendor's write to anyone else, or to a read-only token.
#[derive(utoipa::IntoResponses)]
#[expect(
    dead_code,
    reason = "a documented answer set; the errors are AppError's"
)]
pub(crate) enum VendorWrite {
    /// Not a vendor (`forbidden`), or a read-only token (`insufficient_scope`).
    #[response(
        status = 403,
        description = "Réservé aux éditeurs, ou jeton en lecture seule"
    )]
    Forbidden(ErrorBody),
}

/// The refusal of an instructor's read to anyone else.
#[derive(utoipa::IntoResponses)]
#[expect(
    dead_code,
    reason = "a documented answer set; the errors are AppError's"
)]
pub(crate) enum InstructorRead {
    /// The caller is not an instructor (`forbidden`).
    #[response(status = 403, description = "Réservé aux instructeurs")]
    Forbidden(ErrorBody),
}

/// The refusal of an instructor's write to anyone else, or to a read-only token.
#[derive(utoipa::IntoResponses)]
#[expect(
    dead_code,
    reason = "a documented answer set; the errors are AppError's"
)]
pub(crate) enum InstructorWrite {
    /// Not an instructor (`forbidden`), or a read-only token (`insufficient_scope`).
    #[response(
        status = 403,
        description = "Réservé aux instructeurs, ou jeton en lecture seule"
    )]
    Forbidden(ErrorBody),
}

/// A dispositif named by code and wave.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct DispositifRef {
    /// Its code (`DPI`, `DUI-MS`, `MS2-PDE`...).
    pub(crate) code: String,
    /// Its wave, 1 or 2.
    pub(crate) wave: u8,
}

impl DispositifRef {
    pub(crate) fn of(key: &preuves_domain::DispositifKey) -> Self {
        Self {
            code: key.code.to_string(),
            wave: key.wave.number(),
        }
    }
}

/// Page and size of a list.
#[derive(Debug, Clone, Copy, serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageParams {
    /// The page, from 1 to 1,000,000.
    #[param(minimum = 1, maximum = 1000000, default = 1)]
    pub(crate) page: Option<u32>,
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub(crate) size: Option<u32>,
}

/// A valid page request: page from 1, size from 1 to [`MAX_PAGE_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Paging {
    pub(crate) page: u32,
    pub(crate) size: u32,
}

impl Paging {
    pub(crate) fn of(page: Option<u32>, size: Option<u32>) -> Result<Self, AppError> {
        let page = page.unwrap_or(1);
        let size = size.unwrap_or(DEFAULT_PAGE_SIZE);
        let mut errors = Vec::new();
        if page == 0 || page > MAX_PAGE {
            errors.push(ErrorItem::field(
                "invalid_parameter",
                "page",
                format!("Les pages sont numérotées de 1 à {MAX_PAGE}."),
            ));
        }
        if size == 0 || size > MAX_PAGE_SIZE {
            errors.push(ErrorItem::field(
                "invalid_parameter",
                "size",
                format!("La taille d'une page va de 1 à {MAX_PAGE_SIZE}."),
            ));
        }
        if errors.is_empty() {
            Ok(Self { page, size })
        } else {
            Err(AppError::Rejected {
                status: StatusCode::BAD_REQUEST,
                errors,
            })
        }
    }

    /// The rows to skip.
    pub(crate) fn offset(self) -> usize {
        (self.page as usize - 1).saturating_mul(self.size as usize)
    }

    /// This page of a list held whole in memory, with the total.
    pub(crate) fn slice<T, U>(self, all: Vec<T>, map: impl Fn(T) -> U) -> (Vec<U>, u64) {
        let total = all.len() as u64;
        let items = all
            .into_iter()
            .skip(self.offset())
            .take(self.size as usize)
            .map(map)
            .collect();
        (items, total)
    }
}

/// Declares a page of `$item`s, with its schema.
macro_rules! page_of {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub(crate) struct $name {
            /// The items of this page.
            pub(crate) items: Vec<$item>,
            /// The page, from 1.
            pub(crate) page: u32,
            /// The page size asked.
            pub(crate) size: u32,
            /// How many items match, on every page.
            pub(crate) total: u64,
        }

        impl $name {
            pub(crate) fn new(paging: $crate::api::Paging, items: Vec<$item>, total: u64) -> Self {
                Self {
                    items,
                    page: paging.page,
                    size: paging.size,
                    total,
                }
            }
        }
    };
}
pub(crate) use page_of;

/// An instant in ISO 8601, UTC, to the millisecond: `2026-11-26T13:03:00.000Z`.
pub(crate) fn iso_instant(at: Timestamp) -> String {
    let ms = at.as_millis();
    // Beyond jiff's range (years -9999 to 9999), the nearest instant it holds.
    let instant = jiff::Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    });
    format!("{instant:.3}")
}

/// A JSON body already serialised.
pub(crate) fn json_text(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A JSON answer with its status.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response, AppError> {
    let body = serde_json::to_string(value).map_err(AppError::internal)?;
    Ok(json_text(status, body))
}

// ---- extractors ---------------------------------------------------------------------------

/// A JSON body, refused in the API's error shape: 415 without `Content-Type: application/json`,
/// 400 when it is not JSON (with line and column), 422 when a field is wrong (with its path).
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json")
                    || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !is_json {
            return Err(AppError::Refused {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_media_type",
                message:
                    "Le corps de la requête doit être du JSON (Content-Type: application/json)."
                        .to_owned(),
            });
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::PayloadTooLarge)?;
        parse_json(&bytes).map(Self)
    }
}

/// Reads a JSON body: syntax errors are 400 (`malformed_json`), wrong values 422
/// (`invalid_body`), each with its place.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let raw = inner.to_string();
        let what = raw.rfind(" at line ").map_or(raw.as_str(), |i| &raw[..i]);
        let place = format!("ligne {}, colonne {}", inner.line(), inner.column());
        let (status, code, message) = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => (
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("JSON mal formé ({place})\u{a0}: {what}."),
            ),
            _ => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!("Valeur refusée ({place})\u{a0}: {what}."),
            ),
        };
        AppError::Rejected {
            status,
            errors: vec![ErrorItem {
                code,
                message,
                field: (path != "." && !path.is_empty()).then_some(path),
            }],
        }
    })
}

/// Query parameters, refused in the API's error shape (400 `invalid_parameter`).
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let raw = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(raw)
            .map(Self)
            .map_err(|e| AppError::Rejected {
                status: StatusCode::BAD_REQUEST,
                errors: vec![ErrorItem {
                    code: "invalid_parameter",
                    message: format!("Paramètre de requête illisible\u{a0}: {e}."),
                    field: None,
                }],
            })
    }
}

/// Field errors are the application layer's: one `invalid_field` constructor, one 422.
pub(crate) use crate::app::fields::{check as check_fields, invalid};

// ---- the caller ---------------------------------------------------------------------------

/// Who is calling.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Me {
    /// The user's id.
    id: i64,
    /// E-mail address.
    email: String,
    /// Display name.
    name: String,
    /// `vendor`, `instructor` or `admin`.
    role: String,
    /// The vendor organisation, for a vendor.
    organisation: Option<i64>,
    /// How the request was authenticated: `token` or `session`.
    authenticated_by: String,
    /// `read` or `read_write`.
    scope: String,
}

/// `GET /api/v1/me`: who the token (or session) is.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "api_me",
    tag = "compte",
    summary = "L'utilisateur appelant et la portée de son jeton",
    security(("jeton" = []), ("session" = [])),
    responses(
        (status = 200, description = "L'appelant", body = Me),
        Authenticated,
    )
)]
async fn me(ctx: crate::security::RequestContext, caller: ApiCaller) -> Result<Response, AppError> {
    let u = &caller.user;
    json(
        StatusCode::OK,
        &Me {
            id: u.id.0,
            email: u.email.clone(),
            name: u.display_name.clone(),
            role: u.role.code().to_owned(),
            organisation: u.organisation.map(|o| o.0),
            authenticated_by: if ctx.token.is_some() {
                "token".to_owned()
            } else {
                "session".to_owned()
            },
            scope: caller.scope.code().to_owned(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_iso_8601_in_utc() {
        assert_eq!(
            iso_instant(Timestamp::from_millis(0)),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            iso_instant(Timestamp::from_millis(1_795_698_180_123)),
            "2026-11-26T13:03:00.123Z"
        );
        // A leap day.
        assert_eq!(
            iso_instant(Timestamp::from_millis(951_782_400_000)),
            "2000-02-29T00:00:00.000Z"
        );
        // Before the epoch, and beyond the representable years.
        assert_eq!(
            iso_instant(Timestamp::from_millis(-1)),
            "1969-12-31T23:59:59.999Z"
        );
        assert!(iso_instant(Timestamp::from_millis(i64::MAX)).starts_with("9999-12-"));
    }

    #[test]
    fn pages_are_bounded() {
        assert_eq!(
            Paging::of(None, None).unwrap(),
            Paging { page: 1, size: 50 }
        );
        assert!(Paging::of(Some(0), None).is_err());
        assert!(Paging::of(None, Some(201)).is_err());
        assert!(Paging::of(Some(MAX_PAGE), Some(MAX_PAGE_SIZE)).is_ok());
        assert!(Paging::of(Some(MAX_PAGE + 1), None).is_err());
        let p = Paging::of(Some(2), Some(2)).unwrap();
        assert_eq!(p.slice(vec![1, 2, 3, 4, 5], |x| x), (vec![3, 4], 5));
    }
}
