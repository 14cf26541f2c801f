//! A vendor's solutions: declared once (name, main component, versions, commercial names) and
//! reused by every candidature; each shows the referencings the organisation holds for it.
//!
//! A referencing belongs to a solution when it names the same main component (the identity R1
//! compares) or the same solution name. Updates use optimistic concurrency: the form carries the
//! revision it was read at, and a change made since is refused with an explanation.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::{Solution, StoredReferencing};
use serde::Deserialize;

use crate::AppState;
use crate::app::fields::{field_errors, to_form};
use crate::app::solutions::{self, SolutionInput};
use crate::error::AppError;
use crate::format::key_label;
use crate::forms::FieldErrors;
use crate::forms::lines;
use crate::layout::{Chrome, encode_query, render, render_with};
use crate::paths::solution_id;
use crate::security::{CsrfForm, RequestContext, VendorCap, redirect_with_flash};

/// The solution form, as typed.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SolutionForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    main_component: String,
    #[serde(default)]
    versions: String,
    #[serde(default)]
    commercial_names: String,
    #[serde(default)]
    revision: String,
}

impl SolutionForm {
    fn of(s: &Solution) -> Self {
        Self {
            name: s.name.clone(),
            main_component: s.main_component.clone(),
            versions: s.versions.join("\n"),
            commercial_names: s.commercial_names.join("\n"),
            revision: s.revision.to_string(),
        }
    }

    /// The transport-neutral input (lists one item a line).
    fn input(&self) -> SolutionInput {
        SolutionInput {
            name: self.name.clone(),
            main_component: self.main_component.clone(),
            versions: lines(&self.versions),
            commercial_names: lines(&self.commercial_names),
        }
    }
}

/// The form's input of each canonical field (the form names its inputs like the API's keys).
fn input_of(field: &str) -> &'static str {
    match field {
        "main_component" => "main_component",
        "versions" => "versions",
        "commercial_names" => "commercial_names",
        _ => "name",
    }
}

/// A referencing held for a solution.
struct HeldView {
    nru: String,
    href: String,
    dispositif: String,
    version: String,
    status: String,
    valid: bool,
}

struct SolutionView {
    id: i64,
    name: String,
    main_component: String,
    versions: String,
    commercial_names: String,
    held: Vec<HeldView>,
}

fn held_for(solution: &Solution, referencings: &[StoredReferencing]) -> Vec<HeldView> {
    referencings
        .iter()
        .filter(|r| {
            r.main_component
                .eq_ignore_ascii_case(&solution.main_component)
                || r.solution.eq_ignore_ascii_case(&solution.name)
        })
        .map(|r| HeldView {
            nru: r.nru.to_string(),
            href: format!("/referencements/{}", encode_query(r.nru.as_str())),
            dispositif: key_label(&r.dispositif),
            version: r.version.to_string(),
            status: r.status.label().to_owned(),
            valid: r.status == preuves_domain::ReferencingStatus::Valid,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "solutions.html")]
struct ListPage {
    chrome: Chrome,
    solutions: Vec<SolutionView>,
    form: SolutionForm,
    errors: FieldErrors,
}

async fn list_page(
    state: &AppState,
    ctx: &RequestContext,
    vendor: &VendorCap,
    form: SolutionForm,
    errors: FieldErrors,
) -> Result<ListPage, AppError> {
    let solutions = solutions::list(state, vendor).await?;
    let referencings = state
        .db
        .list_referencings(Some(vendor.organisation))
        .await?;
    let title = if errors.is_empty() {
        "Vos solutions"
    } else {
        "Erreur\u{a0}: Vos solutions"
    };
    Ok(ListPage {
        chrome: Chrome::new(ctx, title, "solutions"),
        solutions: solutions
            .iter()
            .map(|s| SolutionView {
                id: s.id.0,
                name: s.name.clone(),
                main_component: s.main_component.clone(),
                versions: s.versions.join(", "),
                commercial_names: s.commercial_names.join(", "),
                held: held_for(s, &referencings),
            })
            .collect(),
        form,
        errors,
    })
}

/// `GET /solutions`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
) -> Result<Response, AppError> {
    render(
        &list_page(
            &state,
            &ctx,
            &vendor,
            SolutionForm::default(),
            FieldErrors::new(),
        )
        .await?,
    )
}

/// `POST /solutions`: declares a solution.
pub(crate) async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    CsrfForm(form): CsrfForm<SolutionForm>,
) -> Result<Response, AppError> {
    let created = match solutions::create(&state, &vendor, &form.input()).await {
        Ok(created) => created,
        Err(e) => {
            let errors = to_form(&field_errors(e)?, input_of, "name");
            let page = list_page(&state, &ctx, &vendor, form, errors).await?;
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    Ok(redirect_with_flash(
        "/solutions",
        &format!("La solution «\u{a0}{}\u{a0}» a été déclarée.", created.name),
        state.config.secure_cookies,
    ))
}

#[derive(Template)]
#[template(path = "solution_edit.html")]
struct EditPage {
    chrome: Chrome,
    id: i64,
    name: String,
    held: Vec<HeldView>,
    form: SolutionForm,
    errors: FieldErrors,
}

async fn edit_page(
    state: &AppState,
    ctx: &RequestContext,
    vendor: &VendorCap,
    solution: &Solution,
    form: SolutionForm,
    errors: FieldErrors,
) -> Result<EditPage, AppError> {
    let referencings = state
        .db
        .list_referencings(Some(vendor.organisation))
        .await?;
    Ok(EditPage {
        chrome: Chrome::new(ctx, format!("Solution {}", solution.name), "solutions"),
        id: solution.id.0,
        name: solution.name.clone(),
        held: held_for(solution, &referencings),
        form,
        errors,
    })
}

/// `GET /solutions/{id}`.
pub(crate) async fn edit(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let solution = solutions::find(&state, &vendor, solution_id(&id)?).await?;
    let form = SolutionForm::of(&solution);
    render(&edit_page(&state, &ctx, &vendor, &solution, form, FieldErrors::new()).await?)
}

/// `POST /solutions/{id}`: updates a solution, based on the revision the form was read at.
pub(crate) async fn update(
    State(state): State<AppState>,
    ctx: RequestContext,
    vendor: VendorCap,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SolutionForm>,
) -> Result<Response, AppError> {
    let solution = solutions::find(&state, &vendor, solution_id(&id)?).await?;
    let revision: i64 =
        form.revision.trim().parse().map_err(|_| {
            AppError::BadRequest("Le formulaire est incomplet (révision).".to_owned())
        })?;
    let updated =
        match solutions::update(&state, &vendor, solution.id, revision, &form.input()).await {
            Ok(updated) => updated,
            Err(e) => {
                let errors = to_form(&field_errors(e)?, input_of, "name");
                let page = edit_page(&state, &ctx, &vendor, &solution, form, errors).await?;
                return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
            }
        };
    Ok(redirect_with_flash(
        "/solutions",
        &format!(
            "La solution «\u{a0}{}\u{a0}» a été mise à jour.",
            updated.name
        ),
        state.config.secure_cookies,
    ))
}
