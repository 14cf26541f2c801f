//! The register of referencings: the list and detail pages for every signed-in user (staff see
//! all, a vendor its own organisation's only), and the administrators' pages over
//! [`crate::app::admin::referencings`]: the form that records a referencing obtained elsewhere
//! (for example the vague-1 referencings a vendor already holds), and the suspension, withdrawal
//! or restoration of a referencing from its detail page.
//!
//! Visibility is decided by [`ReadScope`], once: the list is queried with its filter, and a
//! referencing of another organisation is answered exactly like a missing one (404).

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::{Organisation, User};
use preuves_domain::{DispositifKey, Nru, ReferencingStatus};
use serde::Deserialize;

use crate::AppState;
use crate::app::admin::referencings::{self, ReferencingInput, StatusInput, dispositif_choices};
use crate::error::AppError;
use crate::format::key_label;
use crate::forms::FieldErrors;
use crate::layout::{Chrome, encode_query, render, render_with};
use crate::security::{
    AdminCap, CsrfForm, ReadScope, RequestContext, SignedIn, redirect_with_flash,
};
use crate::views::accounts::{OrganisationOption, organisation_options};
use crate::views::register::{
    DispositifOption, FilterOption, RowView, dispositif_options, parse_key, status_options,
};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    dispositif: String,
    #[serde(default)]
    statut: String,
}

#[derive(Template)]
#[template(path = "register_list.html")]
struct RegisterPage {
    chrome: Chrome,
    staff: bool,
    is_admin: bool,
    rows: Vec<RowView>,
    total: usize,
    dispositifs: Vec<FilterOption>,
    statuses: Vec<FilterOption>,
    filters: Filters,
    filtered: bool,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Query(filters): Query<Filters>,
) -> Result<Response, AppError> {
    let scope = ReadScope::of(&user)?;
    let all = state.db.list_referencings(scope.filter()).await?;
    let dispositif = parse_key(&filters.dispositif);
    let status = ReferencingStatus::from_code(filters.statut.trim());
    let dispositifs: BTreeSet<&DispositifKey> = all.iter().map(|r| &r.dispositif).collect();
    let rows: Vec<RowView> = all
        .iter()
        .filter(|r| dispositif.as_ref().is_none_or(|d| &r.dispositif == d))
        .filter(|r| status.is_none_or(|s| r.status == s))
        .map(RowView::of)
        .collect();
    let staff = scope == ReadScope::All;
    let title = if staff {
        "Registre des référencements"
    } else {
        "Référencements de votre organisation"
    };
    render(&RegisterPage {
        chrome: Chrome::new(&ctx, title, "referencements"),
        staff,
        is_admin: user.role == preuves_db::Role::Admin,
        total: all.len(),
        filtered: dispositif.is_some() || status.is_some(),
        rows,
        dispositifs: dispositif_options(dispositifs),
        statuses: status_options(),
        filters,
    })
}

#[derive(Template)]
#[template(path = "register_detail.html")]
struct DetailPage {
    chrome: Chrome,
    r: RowView,
    commercial_names: Vec<String>,
    status_reason: Option<String>,
    status_changed: Option<String>,
    recorded: String,
    is_admin: bool,
    has_attestation: bool,
    /// Candidatures citing it (staff only): id, vendor, whether entered after submission.
    citing: Vec<(i64, String, bool)>,
    statuses: Vec<FilterOption>,
    /// The status form: the status chosen, the reason typed, and their errors.
    chosen_status: String,
    motif: String,
    errors: FieldErrors,
}

/// The status form of the detail page, as typed (empty: the current status is chosen).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StatusForm {
    #[serde(default)]
    statut: String,
    #[serde(default)]
    motif: String,
}

/// The status form's inputs, by the use case's field names.
const STATUS_FIELDS: [(&str, &str); 2] = [("status", "statut"), ("reason", "motif")];

/// The detail page of a referencing `user` may see, with the status form as typed.
async fn detail_page(
    state: &AppState,
    ctx: &RequestContext,
    user: &User,
    raw: &str,
    form: StatusForm,
    errors: FieldErrors,
) -> Result<DetailPage, AppError> {
    let scope = ReadScope::of(user)?;
    let found = crate::app::referencings::visible(state, scope, raw).await?;
    let staff = scope == ReadScope::All;
    let citing = if staff {
        state
            .db
            .candidatures_citing(&found.nru)
            .await?
            .into_iter()
            .map(|c| (c.candidature.id.0, c.vendor_name, c.late))
            .collect()
    } else {
        Vec::new()
    };
    let has_attestation = state.db.find_grant(&found.nru).await?.is_some();
    let title = if errors.is_empty() {
        format!("Référencement {}", found.nru)
    } else {
        format!("Erreur\u{a0}: Référencement {}", found.nru)
    };
    Ok(DetailPage {
        is_admin: user.role == preuves_db::Role::Admin,
        has_attestation,
        citing,
        statuses: status_options(),
        chrome: Chrome::new(ctx, title, "referencements"),
        chosen_status: if form.statut.is_empty() {
            found.status.code().to_owned()
        } else {
            form.statut
        },
        motif: form.motif,
        errors,
        r: RowView::of(&found),
        commercial_names: found.commercial_names.clone(),
        status_reason: found.status_reason.clone(),
        status_changed: found.status_changed_at.map(crate::format::french_datetime),
        recorded: crate::format::french_datetime(found.created_at),
    })
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    render(
        &detail_page(
            &state,
            &ctx,
            &user,
            &raw,
            StatusForm::default(),
            FieldErrors::new(),
        )
        .await?,
    )
}

/// `POST /admin/referencements/{nru}/statut`: suspends, withdraws or restores a referencing,
/// with a reason; the candidatures citing it are listed on its page with a warning. A refused
/// form is shown again on the detail page (422), its messages next to its fields.
pub(crate) async fn set_status(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: AdminCap,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Response, AppError> {
    let nru = Nru::parse(&raw).map_err(|_| AppError::NotFound)?;
    let input = StatusInput {
        status: form.statut.clone(),
        reason: form.motif.clone(),
    };
    match referencings::set_status(&state, &admin, &nru, &input).await {
        Ok(changed) => Ok(redirect_with_flash(
            &format!("/referencements/{}", encode_query(nru.as_str())),
            &format!(
                "Le référencement {nru} est désormais {}. Candidatures en cours qui le citent (elles affichent un avertissement, leur plan n'est pas modifié)\u{a0}: {}.",
                changed.referencing.status.label(),
                changed.citing,
            ),
            state.config.secure_cookies,
        )),
        Err(AppError::Rejected { errors, .. }) => {
            let errors = FieldErrors::from_items(&errors, &STATUS_FIELDS);
            let page = detail_page(&state, &ctx, &admin.0, &raw, form, errors).await?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

// ---- recording a referencing (administrators) -----------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReferencingForm {
    #[serde(default)]
    nru: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    dispositif: String,
    #[serde(default)]
    profiles: String,
    #[serde(default)]
    solution: String,
    #[serde(default)]
    main_component: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    commercial_names: String,
    #[serde(default)]
    granted_on: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    status_reason: String,
}

/// The form's inputs are named after the use case's fields.
const REFERENCING_FIELDS: [(&str, &str); 11] = [
    ("nru", "nru"),
    ("organisation", "organisation"),
    ("dispositif", "dispositif"),
    ("profiles", "profiles"),
    ("solution", "solution"),
    ("main_component", "main_component"),
    ("version", "version"),
    ("commercial_names", "commercial_names"),
    ("granted_on", "granted_on"),
    ("status", "status"),
    ("status_reason", "status_reason"),
];

/// The optional profiles typed in one input, comma-, semicolon- or line-separated.
fn split_profiles(raw: &str) -> Vec<String> {
    raw.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl ReferencingForm {
    /// The use case's input: the dispositif read from its [`crate::views::register::key_value`], the lists split.
    fn input(&self) -> ReferencingInput {
        ReferencingInput {
            nru: self.nru.clone(),
            organisation: self.organisation.clone(),
            dispositif: parse_key(&self.dispositif),
            profiles: split_profiles(&self.profiles),
            solution: self.solution.clone(),
            main_component: self.main_component.clone(),
            version: self.version.clone(),
            commercial_names: self.commercial_names.lines().map(str::to_owned).collect(),
            granted_on: self.granted_on.clone(),
            status: self.status.clone(),
            status_reason: self.status_reason.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "register_new.html")]
struct NewPage {
    chrome: Chrome,
    organisations: Vec<OrganisationOption>,
    dispositifs: Vec<DispositifOption>,
    statuses: Vec<FilterOption>,
    form: ReferencingForm,
    errors: FieldErrors,
}

async fn new_page(
    state: &AppState,
    ctx: &RequestContext,
    form: ReferencingForm,
    errors: FieldErrors,
) -> Result<NewPage, AppError> {
    let organisations: Vec<Organisation> = state.db.list_organisations().await?;
    let dispositifs = dispositif_choices(state).await?;
    let title = if errors.is_empty() {
        "Enregistrer un référencement".to_owned()
    } else {
        "Erreur\u{a0}: Enregistrer un référencement".to_owned()
    };
    Ok(NewPage {
        chrome: Chrome::new(ctx, title, "admin"),
        organisations: organisation_options(&organisations),
        dispositifs: dispositifs.into_iter().map(DispositifOption::of).collect(),
        statuses: status_options(),
        form,
        errors,
    })
}

pub(crate) async fn new_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    _admin: AdminCap,
) -> Result<Response, AppError> {
    let form = ReferencingForm {
        status: ReferencingStatus::Valid.code().to_owned(),
        ..ReferencingForm::default()
    };
    render(&new_page(&state, &ctx, form, FieldErrors::new()).await?)
}

pub(crate) async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: AdminCap,
    CsrfForm(form): CsrfForm<ReferencingForm>,
) -> Result<Response, AppError> {
    match referencings::record(&state, &admin, &form.input()).await {
        Ok(stored) => Ok(redirect_with_flash(
            &format!("/referencements/{}", encode_query(stored.nru.as_str())),
            &format!(
                "Le référencement {} ({}, {}) a été enregistré.",
                stored.nru,
                key_label(&stored.dispositif),
                stored.organisation_name
            ),
            state.config.secure_cookies,
        )),
        Err(AppError::Rejected { errors, .. }) => {
            let errors = FieldErrors::from_items(&errors, &REFERENCING_FIELDS);
            let page = new_page(&state, &ctx, form, errors).await?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_typed_in_one_input_are_split() {
        assert_eq!(
            split_profiles(" pa, Général ; IE usagers,PA "),
            ["pa", "Général", "IE usagers", "PA"]
        );
        assert_eq!(split_profiles("PA\nPH"), ["PA", "PH"]);
        assert!(split_profiles(" , ;").is_empty());
    }
}
