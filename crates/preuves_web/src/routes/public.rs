//! What anyone may see without signing in: the public register of referenced solutions (page,
//! CSV for French spreadsheets, JSON) and the verification of an attestation (`/verifier`).
//! Also the attestation download for its vendor and staff.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use preuves_db::{MAX_REGISTER_PAGE, RegisterQuery};
use preuves_domain::{DispositifCode, IssuedNru, Nru, ReferencingStatus, Wave, looks_issued};
use serde::Deserialize;

use crate::AppState;
use crate::error::AppError;
use crate::format::fr_number;
use crate::forms::FieldErrors;
use crate::layout::{Chrome, encode_query, render, render_with};
use crate::security::{ReadScope, RequestContext, SignedIn};
use crate::views::public::{
    Choice, PublicRow, VerifyOutcome, dispositif_choices, register_csv_text, status_choices,
    verify_outcome,
};

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
    let dispositifs = dispositif_choices(&state.db.list_dispositifs().await?);
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
        statuses: status_choices(),
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

/// `GET /registre.csv`: UTF-8 with a BOM and `;` separators (opens as is in a French
/// spreadsheet).
pub(crate) async fn register_csv(
    State(state): State<AppState>,
    Query(filters): Query<RegisterFilters>,
) -> Result<Response, AppError> {
    let rows = all_rows(&state, &filters).await?;
    let out = register_csv_text(&rows);
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
    let outcome = verify_outcome(&v);
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
