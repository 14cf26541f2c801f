//! The public catalogue: dispositifs, their REM versions, the requirement search of a current
//! REM, and one requirement with its scenarios, proofs and the requirements it shares with other
//! dispositifs. REMs are public documents: no authentication is needed.
//!
//! Requirement ids contain `/` (`INS/va1.01`): the last path segment takes the rest of the path,
//! so the id may be sent as is or percent-encoded (`INS%2Fva1.01`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::{DispositifSummary, RemVersion, RemVersionId, RequirementHit, RequirementQuery};
use preuves_domain::{ChapterCode, DispositifKey, Perimeter, Profile, RequirementId, Wave};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    ApiQuery, DispositifRef, ErrorBody, PageParams, Paging, invalid, iso_instant, json, page_of,
};
use crate::AppState;
use crate::api::Throttled;
use crate::error::{AppError, ErrorItem};
use crate::paths::parse_key;

/// A REM version.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RemVersionDto {
    /// Its id (a candidature names the version it is pinned to).
    id: i64,
    /// Its dispositif.
    dispositif: DispositifRef,
    /// Its number for the dispositif, from 1, in import order (internal: people see `label`).
    version: i64,
    /// The REM's own version label, unique per dispositif.
    label: String,
    /// The imported file's name.
    source_name: String,
    /// Rows of the file.
    row_count: i64,
    /// Requirements.
    requirement_count: i64,
    /// When it was imported (ISO 8601).
    imported_at: String,
}

impl RemVersionDto {
    fn of(v: &RemVersion) -> Self {
        Self {
            id: v.id.0,
            dispositif: DispositifRef::of(&v.dispositif),
            version: v.version,
            label: v.label.to_string(),
            source_name: v.source_name.clone(),
            row_count: v.row_count,
            requirement_count: v.requirement_count,
            imported_at: iso_instant(v.imported_at),
        }
    }
}

/// A dispositif.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DispositifDto {
    /// Its code.
    code: String,
    /// Its wave, 1 or 2.
    wave: u8,
    /// French name.
    name: String,
    /// Corridor (HOP, MDV, MS...).
    corridor: String,
    /// Date 2 (ISO 8601 day), for a vague-2 dispositif: by when a complete dossier must be
    /// deposited for rule R5.
    date2: Option<String>,
    /// R10: the first day (ISO 8601) a candidature to it may be opened, for a vague-2 dispositif
    /// whose guichet has an opening date; absent = open.
    opens_on: Option<String>,
    /// The vague-1 dispositifs héritage may come from (vague 2 only).
    predecessors: Vec<String>,
    /// The profiles of a vague-1 dispositif.
    wave1_profiles: Vec<String>,
    /// The current REM version, if one was imported.
    current_rem: Option<RemVersionDto>,
}

impl DispositifDto {
    fn of(d: &DispositifSummary) -> Self {
        Self {
            code: d.key.code.to_string(),
            wave: d.key.wave.number(),
            name: d.name.clone(),
            corridor: d.corridor.clone(),
            date2: d.date2.map(|x| x.to_string()),
            opens_on: d.opens_on.map(|x| x.to_string()),
            predecessors: d.predecessors.iter().map(ToString::to_string).collect(),
            wave1_profiles: d.wave1_profiles.iter().map(ToString::to_string).collect(),
            current_rem: d.current_rem.as_ref().map(RemVersionDto::of),
        }
    }
}

/// A dispositif with what its current REM offers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DispositifDetail {
    /// The dispositif.
    #[serde(flatten)]
    dispositif: DispositifDto,
    /// The optional profiles of its current REM (`Général` always applies).
    optional_profiles: Vec<String>,
}

page_of!(DispositifPage, DispositifDto, "A page of dispositifs.");
page_of!(RemVersionPage, RemVersionDto, "A page of REM versions.");
page_of!(
    RequirementPage,
    RequirementHitDto,
    "A page of requirements."
);

/// Filters of the dispositif list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DispositifFilters {
    /// Only this wave (1 or 2).
    #[param(minimum = 1, maximum = 2)]
    wave: Option<u8>,
    /// The page, from 1 to 1,000,000.
    #[param(minimum = 1, maximum = 1000000, default = 1)]
    page: Option<u32>,
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    size: Option<u32>,
}

/// `GET /api/v1/dispositifs`.
#[utoipa::path(
    get,
    path = "/api/v1/dispositifs",
    operation_id = "catalogue_dispositifs",
    tag = "catalogue",
    summary = "Les dispositifs (vague 2 puis vague 1)",
    params(DispositifFilters),
    responses(
        (status = 200, description = "Une page de dispositifs", body = DispositifPage),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        Throttled,
    )
)]
pub(crate) async fn dispositifs(
    State(state): State<AppState>,
    ApiQuery(f): ApiQuery<DispositifFilters>,
) -> Result<Response, AppError> {
    let paging = Paging::of(f.page, f.size)?;
    let wave = match f.wave {
        None => None,
        Some(n) => Some(Wave::from_number(i64::from(n)).ok_or_else(bad_wave)?),
    };
    let mut all: Vec<DispositifSummary> = state
        .db
        .list_dispositifs()
        .await?
        .into_iter()
        .filter(|d| wave.is_none_or(|w| d.key.wave == w))
        .collect();
    // Vague 2 first, as on the catalogue page.
    all.sort_by_key(|d| std::cmp::Reverse(d.key.wave.number()));
    let (items, total) = paging.slice(all, |d| DispositifDto::of(&d));
    json(StatusCode::OK, &DispositifPage::new(paging, items, total))
}

fn bad_wave() -> AppError {
    AppError::Rejected {
        status: StatusCode::BAD_REQUEST,
        errors: vec![ErrorItem::field(
            "invalid_parameter",
            "wave",
            "La vague est 1 ou 2.",
        )],
    }
}

async fn find_dispositif(
    state: &AppState,
    code: &str,
    wave: &str,
) -> Result<(DispositifKey, DispositifSummary), AppError> {
    let key = parse_key(code, wave)?;
    let d = state
        .db
        .find_dispositif(&key)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((key, d))
}

/// `GET /api/v1/dispositifs/{code}/{wave}`.
#[utoipa::path(
    get,
    path = "/api/v1/dispositifs/{code}/{wave}",
    operation_id = "catalogue_dispositif",
    tag = "catalogue",
    summary = "Un dispositif",
    params(
        ("code" = String, Path, description = "Code du dispositif (DPI, DUI-MS, MS2-PDE...)"),
        ("wave" = u8, Path, minimum = 1, maximum = 2, description = "Vague, 1 ou 2"),
    ),
    responses(
        (status = 200, description = "Le dispositif", body = DispositifDetail),
        (status = 404, description = "Dispositif inconnu", body = ErrorBody),
        Throttled,
    )
)]
pub(crate) async fn dispositif(
    State(state): State<AppState>,
    Path((code, wave)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (_, d) = find_dispositif(&state, &code, &wave).await?;
    let optional_profiles = match &d.current_rem {
        Some(rem) => state
            .db
            .rem_optional_profiles(rem.id)
            .await?
            .iter()
            .map(ToString::to_string)
            .collect(),
        None => Vec::new(),
    };
    json(
        StatusCode::OK,
        &DispositifDetail {
            dispositif: DispositifDto::of(&d),
            optional_profiles,
        },
    )
}

/// `GET /api/v1/dispositifs/{code}/{wave}/rem-versions`.
#[utoipa::path(
    get,
    path = "/api/v1/dispositifs/{code}/{wave}/rem-versions",
    operation_id = "catalogue_rem_versions",
    tag = "catalogue",
    summary = "Les versions du REM d'un dispositif, la plus récente en premier",
    params(
        ("code" = String, Path, description = "Code du dispositif"),
        ("wave" = u8, Path, minimum = 1, maximum = 2, description = "Vague, 1 ou 2"),
        PageParams,
    ),
    responses(
        (status = 200, description = "Une page de versions", body = RemVersionPage),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        (status = 404, description = "Dispositif inconnu", body = ErrorBody),
        Throttled,
    )
)]
pub(crate) async fn rem_versions(
    State(state): State<AppState>,
    Path((code, wave)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Response, AppError> {
    let paging = Paging::of(p.page, p.size)?;
    let (key, _) = find_dispositif(&state, &code, &wave).await?;
    let mut versions = state.db.list_rem_versions(&key).await?;
    versions.reverse();
    let (items, total) = paging.slice(versions, |v| RemVersionDto::of(&v));
    json(StatusCode::OK, &RemVersionPage::new(paging, items, total))
}

/// A requirement in a list (without its scenarios).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RequirementHitDto {
    /// The REM version holding it.
    rem_version: i64,
    /// Its dispositif.
    dispositif: DispositifRef,
    /// Its position in REM order, from 0.
    ordinal: i64,
    /// The requirement id (`INS/va1.01`).
    id: String,
    /// `Vague 1` or `Vague 2`.
    perimeter: String,
    /// The chapter code (`INS`, `DMP`...).
    chapter_code: String,
    /// The chapter's name.
    chapter: String,
    /// The function.
    function: String,
    /// The requirement's text.
    text: String,
    /// Its profile (`Général`, `PA`...).
    profile: String,
    /// The shared master requirement (`SC.` id), if any.
    socle_id: Option<String>,
}

impl RequirementHitDto {
    pub(crate) fn of(h: &RequirementHit) -> Self {
        Self {
            rem_version: h.rem_version.0,
            dispositif: DispositifRef::of(&h.dispositif),
            ordinal: h.ordinal,
            id: h.id.to_string(),
            perimeter: h.perimeter.label().to_owned(),
            chapter_code: h.chapter_code.to_string(),
            chapter: h.chapter.clone(),
            function: h.function.clone(),
            text: h.text.clone(),
            profile: h.profile.to_string(),
            socle_id: h.socle_id.as_ref().map(ToString::to_string),
        }
    }
}

/// The périmètres a search can be filtered on (the query keeps the text, parsed with its own
/// message; this type states the closed set in the document).
#[derive(ToSchema)]
#[expect(dead_code, reason = "only its schema is used")]
enum PerimeterFilter {
    #[schema(rename = "Vague 1")]
    Wave1,
    #[schema(rename = "Vague 2")]
    Wave2,
}

/// Filters of the requirement search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RequirementFilters {
    /// Words or fragment, anywhere in the id, the text, the chapter or the function, without
    /// regard to case or accents.
    q: Option<String>,
    /// Only this profile (`Général`, `PA`...).
    profile: Option<String>,
    /// Only this chapter code (`INS`...).
    chapter: Option<String>,
    /// Only this périmètre: `Vague 1` or `Vague 2`.
    #[param(value_type = Option<PerimeterFilter>, inline)]
    perimeter: Option<String>,
    /// The page, from 1 to 1,000,000.
    #[param(minimum = 1, maximum = 1000000, default = 1)]
    page: Option<u32>,
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    size: Option<u32>,
}

/// `GET /api/v1/dispositifs/{code}/{wave}/requirements`.
#[utoipa::path(
    get,
    path = "/api/v1/dispositifs/{code}/{wave}/requirements",
    operation_id = "catalogue_requirements",
    tag = "catalogue",
    summary = "Recherche dans les exigences du REM en vigueur d'un dispositif, dans l'ordre du REM",
    params(
        ("code" = String, Path, description = "Code du dispositif"),
        ("wave" = u8, Path, minimum = 1, maximum = 2, description = "Vague, 1 ou 2"),
        RequirementFilters,
    ),
    responses(
        (status = 200, description = "Une page d'exigences", body = RequirementPage),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        (status = 404, description = "Dispositif inconnu", body = ErrorBody),
        Throttled,
    )
)]
pub(crate) async fn requirements(
    State(state): State<AppState>,
    Path((code, wave)): Path<(String, String)>,
    ApiQuery(f): ApiQuery<RequirementFilters>,
) -> Result<Response, AppError> {
    let paging = Paging::of(f.page, f.size)?;
    let (key, _) = find_dispositif(&state, &code, &wave).await?;
    let mut errors = Vec::new();
    let blank = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let profile = match blank(&f.profile) {
        None => None,
        Some(p) => match Profile::parse(&p) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(invalid("profile", crate::forms::sentence(&e)));
                None
            }
        },
    };
    let chapter = match blank(&f.chapter) {
        None => None,
        Some(c) => match ChapterCode::parse(&c) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(invalid("chapter", crate::forms::sentence(&e)));
                None
            }
        },
    };
    let perimeter = match blank(&f.perimeter) {
        None => None,
        Some(p) => {
            let parsed = Perimeter::parse(&p);
            if parsed.is_none() {
                errors.push(invalid(
                    "perimeter",
                    "Le périmètre est «\u{a0}Vague 1\u{a0}» ou «\u{a0}Vague 2\u{a0}».",
                ));
            }
            parsed
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Rejected {
            status: StatusCode::BAD_REQUEST,
            errors,
        });
    }
    let page = state
        .db
        .search_requirements(&RequirementQuery {
            text: blank(&f.q),
            dispositif: Some(key),
            profile,
            chapter,
            perimeter,
            limit: paging.size,
            offset: u32::try_from(paging.offset()).unwrap_or(u32::MAX),
        })
        .await?;
    let items = page.items.iter().map(RequirementHitDto::of).collect();
    json(
        StatusCode::OK,
        &RequirementPage::new(paging, items, page.total),
    )
}

/// A proof a scenario expects.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProofSpecDto {
    /// The REM's proof number (`N° preuve`), if it has one.
    id: Option<String>,
    /// What the proof must show.
    text: String,
}

/// A conformity scenario.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScenarioDto {
    /// The REM's scenario number (`N° scénario`), if it has one.
    id: Option<String>,
    /// The scenario.
    text: String,
    /// The proofs it expects, in order (a deposit names them by position from 0).
    proofs: Vec<ProofSpecDto>,
}

/// A requirement shared with another dispositif.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SharedRequirementDto {
    /// The requirement of the other dispositif.
    #[serde(flatten)]
    requirement: RequirementHitDto,
    /// Why they are common: `socle` (same `Exigence socle`) or `equivalence_table`.
    why: String,
}

/// A requirement with its scenarios and proofs.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RequirementDto {
    /// Its dispositif.
    dispositif: DispositifRef,
    /// The REM version holding it.
    rem_version: RemVersionDto,
    /// Whether that version is the dispositif's current one.
    is_current: bool,
    /// Its position in REM order, from 0.
    ordinal: i64,
    /// The requirement id.
    id: String,
    /// `Vague 1` or `Vague 2`.
    perimeter: String,
    /// The chapter code.
    chapter_code: String,
    /// The chapter's name.
    chapter: String,
    /// The function.
    function: String,
    /// The requirement's text.
    text: String,
    /// The REM's comment.
    comment: String,
    /// Its profile.
    profile: String,
    /// The REM's historical profile.
    historical_profile: String,
    /// The REM's criticality.
    criticality: String,
    /// The shared master requirement (`SC.` id), if any.
    socle_id: Option<String>,
    /// Its vague-1 id, if any.
    wave1_id: Option<String>,
    /// Its conformity scenarios, in order.
    scenarios: Vec<ScenarioDto>,
    /// The requirements of the other dispositifs' current REMs that are common with it (rule
    /// R2's équivalence).
    shared_with: Vec<SharedRequirementDto>,
}

/// Which REM version to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct VersionParam {
    /// A REM version id (the current version when absent).
    #[param(minimum = 1)]
    version: Option<i64>,
}

/// `GET /api/v1/dispositifs/{code}/{wave}/requirements/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/dispositifs/{code}/{wave}/requirements/{id}",
    operation_id = "catalogue_requirement",
    tag = "catalogue",
    summary = "Une exigence, ses scénarios, ses preuves et les exigences communes d'autres dispositifs",
    params(
        ("code" = String, Path, description = "Code du dispositif"),
        ("wave" = u8, Path, minimum = 1, maximum = 2, description = "Vague, 1 ou 2"),
        ("id" = String, Path, description = "Identifiant de l'exigence (`INS/va1.01`), tel quel ou encodé (`INS%2Fva1.01`)"),
        VersionParam,
    ),
    responses(
        (status = 200, description = "L'exigence", body = RequirementDto),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        (status = 404, description = "Dispositif, version ou exigence inconnus", body = ErrorBody),
        Throttled,
    )
)]
pub(crate) async fn requirement(
    State(state): State<AppState>,
    Path((code, wave, id)): Path<(String, String, String)>,
    ApiQuery(v): ApiQuery<VersionParam>,
) -> Result<Response, AppError> {
    let (key, d) = find_dispositif(&state, &code, &wave).await?;
    let id = RequirementId::parse(id.trim_start_matches('/')).map_err(|_| AppError::NotFound)?;
    let db = &state.db;
    let stored = match v.version {
        Some(version) => db.find_requirement(RemVersionId(version), &id).await?,
        None => db.find_current_requirement(&key, &id).await?,
    }
    .filter(|s| s.rem.dispositif == key)
    .ok_or(AppError::NotFound)?;
    let shared = db.shared_requirements(&key, &id).await?;
    let r = &stored.requirement;
    let text = |s: &str| s.to_owned();
    json(
        StatusCode::OK,
        &RequirementDto {
            dispositif: DispositifRef::of(&key),
            is_current: d.current_rem.as_ref().map(|c| c.id) == Some(stored.rem.id),
            rem_version: RemVersionDto::of(&stored.rem),
            ordinal: stored.ordinal,
            id: r.id.to_string(),
            perimeter: r.perimeter.label().to_owned(),
            chapter_code: r.chapter_code.to_string(),
            chapter: text(&r.chapter),
            function: text(&r.function),
            text: text(&r.text),
            comment: text(&r.comment),
            profile: r.profile.to_string(),
            historical_profile: text(&r.historical_profile),
            criticality: text(&r.criticality),
            socle_id: r.socle_id.as_ref().map(ToString::to_string),
            wave1_id: r.wave1_id.clone(),
            scenarios: r
                .scenarios
                .iter()
                .map(|s| ScenarioDto {
                    id: s.id.clone(),
                    text: s.text.clone(),
                    proofs: s
                        .proofs
                        .iter()
                        .map(|p| ProofSpecDto {
                            id: p.id.clone(),
                            text: p.text.clone(),
                        })
                        .collect(),
                })
                .collect(),
            shared_with: shared
                .iter()
                .map(|hit| SharedRequirementDto {
                    why: match (&hit.socle_id, &r.socle_id) {
                        (Some(a), Some(b)) if a == b => "socle".to_owned(),
                        _ => "equivalence_table".to_owned(),
                    },
                    requirement: RequirementHitDto::of(hit),
                })
                .collect(),
        },
    )
}
