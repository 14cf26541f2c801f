//! Referencings: the signed-in view (a vendor's own, every one for staff; another organisation's
//! is a 404), the attestation download, the public register and the public verification of an
//! attestation.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use preuves_db::{RegisterQuery, StoredReferencing, Verification};
use preuves_domain::{DispositifCode, Nru, Profile, ReferencingStatus, Wave};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiQuery, DispositifRef, ErrorBody, Paging, iso_instant, json, page_of};
use crate::AppState;
use crate::api::{Authenticated, Throttled};
use crate::error::{AppError, ErrorItem};
use crate::security::ApiCaller;

/// A referencing, as its vendor and staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReferencingDto {
    /// Its NRU.
    nru: String,
    /// The vendor organisation's id.
    organisation: i64,
    /// The vendor's name.
    vendor: String,
    /// The vendor's SIREN.
    siren: String,
    /// The dispositif.
    dispositif: DispositifRef,
    /// The profiles it holds (`Général` first).
    profiles: Vec<String>,
    /// The solution.
    solution: String,
    /// Its main component.
    main_component: String,
    /// The version referenced.
    version: String,
    /// Every commercial name on the attestation.
    commercial_names: Vec<String>,
    /// The day it was granted (ISO 8601).
    granted_on: String,
    /// `valid`, `suspended` or `withdrawn`.
    status: String,
    /// Why it is suspended or withdrawn.
    status_reason: Option<String>,
    /// When its status last changed (ISO 8601).
    status_changed_at: Option<String>,
}

fn profiles_of(r: &StoredReferencing) -> Vec<String> {
    std::iter::once(Profile::GENERAL.to_owned())
        .chain(
            r.profiles
                .iter()
                .filter(|p| !p.is_general())
                .map(ToString::to_string),
        )
        .collect()
}

impl ReferencingDto {
    /// What staff and the vendor see of a referencing.
    pub(crate) fn of(r: &StoredReferencing) -> Self {
        Self {
            nru: r.nru.to_string(),
            organisation: r.organisation.0,
            vendor: r.organisation_name.clone(),
            siren: r.siren.to_string(),
            dispositif: DispositifRef::of(&r.dispositif),
            profiles: profiles_of(r),
            solution: r.solution.clone(),
            main_component: r.main_component.clone(),
            version: r.version.to_string(),
            commercial_names: r.commercial_names.clone(),
            granted_on: r.granted_on.to_string(),
            status: r.status.code().to_owned(),
            status_reason: r.status_reason.clone(),
            status_changed_at: r.status_changed_at.map(iso_instant),
        }
    }
}

/// A referencing as the public register shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PublicReferencingDto {
    /// Its NRU.
    nru: String,
    /// The vendor's name.
    vendor: String,
    /// The vendor's SIREN.
    siren: String,
    /// The dispositif.
    dispositif: DispositifRef,
    /// The profiles it holds (`Général` first).
    profiles: Vec<String>,
    /// The solution.
    solution: String,
    /// The version referenced.
    version: String,
    /// Every commercial name on the attestation.
    commercial_names: Vec<String>,
    /// The day it was granted (ISO 8601).
    granted_on: String,
    /// `valid`, `suspended` or `withdrawn`.
    status: String,
}

impl PublicReferencingDto {
    fn of(r: &StoredReferencing) -> Self {
        Self {
            nru: r.nru.to_string(),
            vendor: r.organisation_name.clone(),
            siren: r.siren.to_string(),
            dispositif: DispositifRef::of(&r.dispositif),
            profiles: profiles_of(r),
            solution: r.solution.clone(),
            version: r.version.to_string(),
            commercial_names: r.commercial_names.clone(),
            granted_on: r.granted_on.to_string(),
            status: r.status.code().to_owned(),
        }
    }
}

page_of!(ReferencingPage, ReferencingDto, "A page of referencings.");
page_of!(
    RegisterPage,
    PublicReferencingDto,
    "A page of the public register."
);

/// Filters of the referencing lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReferencingFilters {
    /// Words or fragment of the NRU, the vendor's name, the solution or a commercial name
    /// (public register only), without regard to case or accents.
    q: Option<String>,
    /// Only this dispositif code (letters, digits, `-` and `_`).
    #[param(pattern = "^\\s*[A-Za-z0-9_-]*\\s*$")]
    dispositif: Option<String>,
    /// Only this wave (1 or 2).
    #[param(minimum = 1, maximum = 2)]
    wave: Option<u8>,
    /// Only this status: `valid`, `suspended` or `withdrawn`.
    #[param(value_type = Option<StatusFilter>, inline)]
    status: Option<String>,
    /// The page, from 1 to 1,000,000.
    #[param(minimum = 1, maximum = 1000000, default = 1)]
    page: Option<u32>,
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    size: Option<u32>,
}

/// The statuses a list can be filtered on (the query keeps the text, parsed with its own
/// message; this type states the closed set in the document).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[expect(dead_code, reason = "only its schema is used")]
enum StatusFilter {
    Valid,
    Suspended,
    Withdrawn,
}

struct Parsed {
    text: Option<String>,
    dispositif: Option<DispositifCode>,
    wave: Option<Wave>,
    status: Option<ReferencingStatus>,
    paging: Paging,
}

impl ReferencingFilters {
    fn parse(&self) -> Result<Parsed, AppError> {
        let paging = Paging::of(self.page, self.size)?;
        let mut errors = Vec::new();
        let blank = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let dispositif = blank(&self.dispositif).and_then(|d| match DispositifCode::parse(&d) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(ErrorItem::field(
                    "invalid_parameter",
                    "dispositif",
                    crate::forms::sentence(&e),
                ));
                None
            }
        });
        let wave = self.wave.and_then(|n| {
            let w = Wave::from_number(i64::from(n));
            if w.is_none() {
                errors.push(ErrorItem::field(
                    "invalid_parameter",
                    "wave",
                    "La vague est 1 ou 2.",
                ));
            }
            w
        });
        let status = blank(&self.status).and_then(|s| {
            let parsed = ReferencingStatus::from_code(&s);
            if parsed.is_none() {
                errors.push(ErrorItem::field(
                    "invalid_parameter",
                    "status",
                    "Le statut est `valid`, `suspended` ou `withdrawn`.",
                ));
            }
            parsed
        });
        if !errors.is_empty() {
            return Err(AppError::Rejected {
                status: StatusCode::BAD_REQUEST,
                errors,
            });
        }
        Ok(Parsed {
            text: blank(&self.q),
            dispositif,
            wave,
            status,
            paging,
        })
    }
}

/// `GET /api/v1/referencings`.
#[utoipa::path(
    get,
    path = "/api/v1/referencings",
    operation_id = "referencings_list",
    tag = "référencements",
    summary = "Les référencements de l'organisation de l'éditeur (tous pour le personnel de l'ANS)",
    security(("jeton" = []), ("session" = [])),
    params(ReferencingFilters),
    responses(
        (status = 200, description = "Une page de référencements", body = ReferencingPage),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        Authenticated,
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(f): ApiQuery<ReferencingFilters>,
) -> Result<Response, AppError> {
    let scope = caller.read_scope()?;
    let p = f.parse()?;
    let all: Vec<StoredReferencing> = state
        .db
        .list_referencings(scope.filter())
        .await?
        .into_iter()
        .filter(|r| {
            p.dispositif
                .as_ref()
                .is_none_or(|d| &r.dispositif.code == d)
        })
        .filter(|r| p.wave.is_none_or(|w| r.dispositif.wave == w))
        .filter(|r| p.status.is_none_or(|s| r.status == s))
        .filter(|r| {
            p.text.as_deref().is_none_or(|t| {
                let t = t.to_lowercase();
                r.nru.as_str().to_lowercase().contains(&t)
                    || r.solution.to_lowercase().contains(&t)
                    || r.organisation_name.to_lowercase().contains(&t)
                    || r.commercial_names
                        .iter()
                        .any(|n| n.to_lowercase().contains(&t))
            })
        })
        .collect();
    let (items, total) = p.paging.slice(all, |r| ReferencingDto::of(&r));
    json(
        StatusCode::OK,
        &ReferencingPage::new(p.paging, items, total),
    )
}

/// `GET /api/v1/referencings/{nru}`.
#[utoipa::path(
    get,
    path = "/api/v1/referencings/{nru}",
    operation_id = "referencings_show",
    tag = "référencements",
    summary = "Un référencement",
    security(("jeton" = []), ("session" = [])),
    params(("nru" = String, Path, description = "Le NRU")),
    responses(
        (status = 200, description = "Le référencement", body = ReferencingDto),
        (status = 404, description = "Inconnu, ou d'une autre organisation", body = ErrorBody),
        Authenticated,
    )
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(nru): Path<String>,
) -> Result<Response, AppError> {
    let found = crate::app::referencings::visible(&state, caller.read_scope()?, &nru).await?;
    json(StatusCode::OK, &ReferencingDto::of(&found))
}

/// `GET /api/v1/referencings/{nru}/attestation`.
#[utoipa::path(
    get,
    path = "/api/v1/referencings/{nru}/attestation",
    operation_id = "referencings_attestation",
    tag = "référencements",
    summary = "L'attestation de référencement (PDF) d'un référencement accordé sur la plateforme",
    security(("jeton" = []), ("session" = [])),
    params(("nru" = String, Path, description = "Le NRU")),
    responses(
        (status = 200, description = "Le PDF ; son SHA-256 dans l'en-tête X-Content-Sha256", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, description = "Inconnu, d'une autre organisation, ou enregistré d'ailleurs (sans attestation)", body = ErrorBody),
        Authenticated,
    )
)]
pub(crate) async fn attestation(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(nru): Path<String>,
) -> Result<Response, AppError> {
    let found = crate::app::referencings::visible(&state, caller.read_scope()?, &nru).await?;
    let grant = state
        .db
        .find_grant(&found.nru)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut response = crate::attachment::attachment(
        &state,
        &grant.attestation_blob_key,
        "application/pdf",
        &format!("attestation-{}.pdf", found.nru.as_str().to_lowercase()),
    )
    .await?;
    if let Ok(v) = HeaderValue::from_str(&grant.attestation_sha256) {
        response.headers_mut().insert("x-content-sha256", v);
    }
    Ok(response)
}

/// `GET /api/v1/register`.
#[utoipa::path(
    get,
    path = "/api/v1/register",
    operation_id = "referencings_register",
    tag = "référencements",
    summary = "Le registre public des référencements, les plus récents en premier",
    params(ReferencingFilters),
    responses(
        (status = 200, description = "Une page du registre", body = RegisterPage),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        Throttled,
    )
)]
pub(crate) async fn register(
    State(state): State<AppState>,
    ApiQuery(f): ApiQuery<ReferencingFilters>,
) -> Result<Response, AppError> {
    let p = f.parse()?;
    let page = state
        .db
        .public_register(&RegisterQuery {
            text: p.text,
            dispositif: p.dispositif,
            wave: p.wave,
            status: p.status,
            page: p.paging.page,
            size: p.paging.size,
        })
        .await?;
    let items = page.items.iter().map(PublicReferencingDto::of).collect();
    json(
        StatusCode::OK,
        &RegisterPage::new(p.paging, items, page.total),
    )
}

/// What the public may know of a referencing, to check an attestation.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VerificationDto {
    /// The NRU.
    nru: String,
    /// `valid`, `suspended` or `withdrawn`.
    status: String,
    /// Why it is suspended or withdrawn.
    status_reason: Option<String>,
    /// When its status last changed (ISO 8601).
    status_changed_at: Option<String>,
    /// The dispositif.
    dispositif: DispositifRef,
    /// The vendor's name.
    vendor: String,
    /// The vendor's SIREN.
    siren: String,
    /// The solution.
    solution: String,
    /// The version referenced.
    version: String,
    /// Every name on the attestation.
    commercial_names: Vec<String>,
    /// The day it was granted (ISO 8601).
    granted_on: String,
    /// Whether this platform granted it (and printed a verification code on its attestation).
    issued_here: bool,
    /// Whether the code given matches the attestation's; `null` when no code was given or the
    /// referencing has none.
    code_matches: Option<bool>,
}

impl VerificationDto {
    fn of(v: Verification) -> Self {
        Self {
            nru: v.nru.to_string(),
            status: v.status.code().to_owned(),
            status_reason: v.status_reason,
            status_changed_at: v.status_changed_at.map(iso_instant),
            dispositif: DispositifRef::of(&v.dispositif),
            vendor: v.vendor,
            siren: v.siren.to_string(),
            solution: v.solution,
            version: v.version.to_string(),
            commercial_names: v.commercial_names,
            granted_on: v.granted_on.to_string(),
            issued_here: v.issued_here,
            code_matches: v.code_matches,
        }
    }
}

/// The code printed on the attestation.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CodeParam {
    /// The verification code printed on the attestation (10 characters).
    code: Option<String>,
}

/// `GET /api/v1/verification/{nru}`.
#[utoipa::path(
    get,
    path = "/api/v1/verification/{nru}",
    operation_id = "referencings_verify",
    tag = "référencements",
    summary = "Vérifie une attestation : le référencement, son statut, et si le code imprimé correspond",
    params(("nru" = String, Path, description = "Le NRU imprimé sur l'attestation"), CodeParam),
    responses(
        (status = 200, description = "Le référencement", body = VerificationDto),
        (status = 404, description = "Aucun référencement sous ce NRU", body = ErrorBody),
        (status = 422, description = "NRU de la plateforme mal saisi (clé de contrôle fausse)", body = ErrorBody),
        Throttled,
    )
)]
pub(crate) async fn verify(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    ApiQuery(c): ApiQuery<CodeParam>,
) -> Result<Response, AppError> {
    let raw = raw.trim().to_ascii_uppercase();
    // A platform NRU with a wrong check character is a typing error, worth saying so.
    if preuves_domain::looks_issued(&raw)
        && let Err(e) = preuves_domain::IssuedNru::parse(&raw)
    {
        return Err(AppError::Rejected {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors: vec![ErrorItem::field(
                "nru_mistyped",
                "nru",
                format!("Ce NRU est mal saisi\u{a0}: {e}."),
            )],
        });
    }
    let nru = Nru::parse(&raw).map_err(|_| AppError::NotFound)?;
    let found = state
        .db
        .verify_referencing(&nru, c.code.as_deref())
        .await?
        .ok_or(AppError::NotFound)?;
    json(StatusCode::OK, &VerificationDto::of(found))
}
