//! What anyone may see without signing in: the public register of referenced solutions (page,
//! CSV for French spreadsheets, JSON) and the verification of an attestation (`/verifier`).
//! Also the attestation download for its vendor and staff.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use preuves_db::{MAX_REGISTER_PAGE, RegisterQuery, StoredReferencing};
use preuves_domain::{DispositifCode, IssuedNru, Nru, ReferencingStatus, Wave, looks_issued};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::AppError;
use crate::format::{fr_number, french_datetime};
use crate::forms::FieldErrors;
use crate::layout::{Chrome, encode_query, render, render_with};
use crate::security::{ReadScope, RequestContext, SignedIn};

/// Rows per page of the register page.
const PAGE_SIZE: u32 = 50;

#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct RegisterFilters {
    #[serde(default)]
    q: String,
    #[serde(default)]
    dispositif: String,
    #[serde(default)]
    vague: String,
    #[serde(default)]
    statut: String,
    #[serde(default)]
    page: String,
}

impl RegisterFilters {
    fn query(&self, page: u32, size: u32) -> RegisterQuery {
        RegisterQuery {
            text: Some(self.q.trim().to_owned()).filter(|t| !t.is_empty()),
            dispositif: DispositifCode::parse(self.dispositif.trim()).ok(),
            wave: self.vague.trim().parse().ok().and_then(Wave::from_number),
            status: ReferencingStatus::from_code(self.statut.trim()),
            page,
            size,
        }
    }

    /// The query string of these filters (for pagination and downloads).
    fn encoded(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("q", &self.q),
            ("dispositif", &self.dispositif),
            ("vague", &self.vague),
            ("statut", &self.statut),
        ] {
            if !v.trim().is_empty() {
                parts.push(format!("{k}={}", encode_query(v.trim())));
            }
        }
        parts.join("&")
    }
}

/// A referencing as the public sees it.
#[derive(Debug, Serialize)]
struct PublicRow {
    nru: String,
    vendor: String,
    siren: String,
    dispositif: String,
    wave: u8,
    profiles: Vec<String>,
    solution: String,
    version: String,
    commercial_names: Vec<String>,
    granted_on: String,
    status: &'static str,
    #[serde(skip)]
    status_label: &'static str,
    #[serde(skip)]
    granted_french: String,
    #[serde(skip)]
    verify_href: String,
}

impl PublicRow {
    fn of(r: &StoredReferencing) -> Self {
        let mut profiles = vec![preuves_domain::Profile::GENERAL.to_owned()];
        profiles.extend(
            r.profiles
                .iter()
                .filter(|p| !p.is_general())
                .map(ToString::to_string),
        );
        Self {
            nru: r.nru.to_string(),
            vendor: r.organisation_name.clone(),
            siren: r.siren.to_string(),
            dispositif: r.dispositif.code.to_string(),
            wave: r.dispositif.wave.number(),
            profiles,
            solution: r.solution.clone(),
            version: r.version.to_string(),
            commercial_names: r.commercial_names.clone(),
            granted_on: r.granted_on.to_string(),
            status: r.status.code(),
            status_label: r.status.label(),
            granted_french: r.granted_on.to_french(),
            verify_href: format!("/verifier/{}", encode_query(r.nru.as_str())),
        }
    }
}

struct Choice {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "public_register.html")]
struct RegisterPage {
    chrome: Chrome,
    rows: Vec<PublicRow>,
    total: String,
    page: u32,
    pages: u32,
    previous: Option<String>,
    next: Option<String>,
    download: String,
    filters: RegisterFilters,
    dispositifs: Vec<Choice>,
    statuses: Vec<Choice>,
}

/// `GET /registre`: the public register, searchable and paginated.
pub(crate) async fn register(
    State(state): State<AppState>,
    ctx: RequestContext,
    Query(filters): Query<RegisterFilters>,
) -> Result<Response, AppError> {
    let page: u32 = filters.page.trim().parse().unwrap_or(1).max(1);
    let found = state
        .db
        .public_register(&filters.query(page, PAGE_SIZE))
        .await?;
    let pages = u32::try_from(found.total.div_ceil(u64::from(PAGE_SIZE)))
        .unwrap_or(u32::MAX)
        .max(1);
    let base = filters.encoded();
    let link = |p: u32| {
        if base.is_empty() {
            format!("/registre?page={p}")
        } else {
            format!("/registre?{base}&page={p}")
        }
    };
    let mut dispositifs: Vec<Choice> = Vec::new();
    for d in state.db.list_dispositifs().await? {
        let value = d.key.code.to_string();
        if !dispositifs.iter().any(|c| c.value == value) {
            dispositifs.push(Choice {
                label: format!("{} — {}", value, d.name),
                value,
            });
        }
    }
    render(&RegisterPage {
        chrome: Chrome::new(
            &ctx,
            "Registre public des solutions référencées",
            "registre",
        ),
        rows: found.items.iter().map(PublicRow::of).collect(),
        total: fr_number(found.total),
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        page,
        pages,
        download: base,
        filters,
        dispositifs,
        statuses: [
            ReferencingStatus::Valid,
            ReferencingStatus::Suspended,
            ReferencingStatus::Withdrawn,
        ]
        .iter()
        .map(|s| Choice {
            value: s.code().to_owned(),
            label: s.label().to_owned(),
        })
        .collect(),
    })
}

/// Every row matching the filters, page by page.
async fn all_rows(state: &AppState, filters: &RegisterFilters) -> Result<Vec<PublicRow>, AppError> {
    let mut rows = Vec::new();
    let mut page = 1;
    loop {
        let found = state
            .db
            .public_register(&filters.query(page, MAX_REGISTER_PAGE))
            .await?;
        let n = found.items.len();
        rows.extend(found.items.iter().map(PublicRow::of));
        if n < MAX_REGISTER_PAGE as usize || rows.len() as u64 >= found.total {
            return Ok(rows);
        }
        page += 1;
    }
}

/// One CSV field: quoted when it holds the separator, a quote or a line break; a leading
/// `=`, `+`, `-` or `@` is neutralised so a spreadsheet never runs it as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// `GET /registre.csv`: UTF-8 with a BOM and `;` separators (opens as is in a French
/// spreadsheet).
pub(crate) async fn register_csv(
    State(state): State<AppState>,
    Query(filters): Query<RegisterFilters>,
) -> Result<Response, AppError> {
    let rows = all_rows(&state, &filters).await?;
    let mut out = String::from("\u{feff}");
    out.push_str("NRU;Éditeur;SIREN;Dispositif;Vague;Profils;Solution;Version;Noms commerciaux;Date d'octroi;Statut\r\n");
    for r in &rows {
        let fields = [
            r.nru.clone(),
            r.vendor.clone(),
            r.siren.clone(),
            r.dispositif.clone(),
            r.wave.to_string(),
            r.profiles.join(", "),
            r.solution.clone(),
            r.version.clone(),
            r.commercial_names.join(", "),
            r.granted_on.clone(),
            r.status_label.to_owned(),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(";"),
        );
        out.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"registre-referencements.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

/// `GET /registre.json`.
pub(crate) async fn register_json(
    State(state): State<AppState>,
    Query(filters): Query<RegisterFilters>,
) -> Result<Response, AppError> {
    let rows = all_rows(&state, &filters).await?;
    let body = serde_json::json!({ "total": rows.len(), "referencements": rows });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}

// ---- verification ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub(crate) struct VerifyQuery {
    #[serde(default)]
    nru: String,
    #[serde(default)]
    code: String,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    chrome: Chrome,
    nru: String,
    code: String,
    outcome: Option<VerifyOutcome>,
    errors: FieldErrors,
}

struct VerifyOutcome {
    status_code: &'static str,
    headline: String,
    vendor: String,
    siren: String,
    dispositif: String,
    solution: String,
    version: String,
    names: String,
    granted: String,
    reason: Option<String>,
    changed: Option<String>,
    code_note: Option<(bool, String)>,
}

/// `GET /verifier`: the verification form (`?nru=` goes to the NRU's page).
pub(crate) async fn verify_form(
    ctx: RequestContext,
    Query(q): Query<VerifyQuery>,
) -> Result<Response, AppError> {
    let nru = q.nru.trim();
    if !nru.is_empty() {
        let mut to = format!("/verifier/{}", encode_query(&nru.to_ascii_uppercase()));
        if !q.code.trim().is_empty() {
            to.push_str(&format!("?code={}", encode_query(q.code.trim())));
        }
        return Ok(Redirect::to(&to).into_response());
    }
    render(&VerifyPage {
        chrome: Chrome::new(&ctx, "Vérifier une attestation", "verifier"),
        nru: String::new(),
        code: String::new(),
        outcome: None,
        errors: FieldErrors::new(),
    })
}

/// `GET /verifier/{nru}?code=`: whether that referencing is valid, suspended or withdrawn, and
/// whether the attestation's code matches.
pub(crate) async fn verify(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(raw): Path<String>,
    Query(q): Query<VerifyQuery>,
) -> Result<Response, AppError> {
    let typed = raw.trim().to_ascii_uppercase();
    let code = q.code.trim().to_owned();
    let page = |outcome: Option<VerifyOutcome>, errors: FieldErrors| VerifyPage {
        chrome: Chrome::new(&ctx, format!("Vérification de {typed}"), "verifier"),
        nru: typed.clone(),
        code: code.clone(),
        outcome,
        errors,
    };
    // A platform NRU whose check character does not match was mistyped (or forged).
    if looks_issued(&typed) && IssuedNru::parse(&typed).is_err() {
        let mut errors = FieldErrors::new();
        errors.add(
            "nru",
            format!("Le NRU {typed} est mal saisi\u{a0}: son caractère de contrôle ne correspond pas. Vérifiez chaque caractère sur l'attestation."),
        );
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page(None, errors));
    }
    let found = match Nru::parse(&typed) {
        Ok(nru) => {
            state
                .db
                .verify_referencing(&nru, (!code.is_empty()).then_some(code.as_str()))
                .await?
        }
        Err(_) => None,
    };
    let Some(v) = found else {
        let mut errors = FieldErrors::new();
        errors.add(
            "nru",
            format!("Aucun référencement ne porte le NRU {typed} dans le registre."),
        );
        return render_with(StatusCode::NOT_FOUND, &page(None, errors));
    };
    let headline = match v.status {
        ReferencingStatus::Valid => format!("Référencement {} valide", v.nru),
        ReferencingStatus::Suspended => format!("Référencement {} suspendu", v.nru),
        ReferencingStatus::Withdrawn => format!("Référencement {} retiré", v.nru),
    };
    let code_note = v.code_matches.map(|ok| {
        if ok {
            (true, "Le code de vérification correspond à celui de l'attestation émise.".to_owned())
        } else {
            (
                false,
                "Le code de vérification ne correspond pas à celui de l'attestation émise\u{a0}: ce document n'est pas l'attestation délivrée pour ce NRU.".to_owned(),
            )
        }
    });
    let outcome = VerifyOutcome {
        status_code: v.status.code(),
        headline,
        vendor: v.vendor.clone(),
        siren: crate::format::siren_display(&v.siren),
        dispositif: crate::format::key_label(&v.dispositif),
        solution: v.solution.clone(),
        version: v.version.to_string(),
        names: v.commercial_names.join(", "),
        granted: v.granted_on.to_french(),
        reason: v.status_reason.clone(),
        changed: v.status_changed_at.map(french_datetime),
        code_note,
    };
    render(&page(Some(outcome), FieldErrors::new()))
}

// ---- attestation and status (signed in) ------------------------------------------------------

/// `GET /referencements/{nru}/attestation`: the attestation PDF, to its vendor and to staff.
pub(crate) async fn attestation(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    let scope = ReadScope::of(&user)?;
    let nru = Nru::parse(&raw).map_err(|_| AppError::NotFound)?;
    let grant = state.db.find_grant(&nru).await?.ok_or(AppError::NotFound)?;
    scope.check(grant.organisation)?;
    let mut response = crate::attachment::attachment(
        &state,
        &grant.attestation_blob_key,
        "application/pdf",
        &format!("attestation-{}.pdf", nru.as_str().to_lowercase()),
    )
    .await?;
    if let Ok(v) = HeaderValue::from_str(&grant.attestation_sha256) {
        response.headers_mut().insert("x-content-sha256", v);
    }
    Ok(response)
}
