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
use preuves_db::{Actor, Solution, SolutionFields, SolutionId, StoredReferencing};
use serde::Deserialize;

use crate::AppState;
use crate::error::AppError;
use crate::format::key_label;
use crate::forms::FieldErrors;
use crate::forms::lines;
use crate::layout::{Chrome, encode_query, render, render_with};
use crate::security::{CsrfForm, RequestContext, VendorCap, redirect_with_flash};

/// Longest name accepted.
const MAX_TEXT: usize = 200;
/// Most versions or commercial names per solution.
const MAX_ITEMS: usize = 50;

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
}

fn validate(form: &SolutionForm) -> Result<SolutionFields, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = form.name.trim();
    if name.is_empty() {
        errors.add("name", "Saisissez le nom de la solution.");
    } else if name.chars().count() > MAX_TEXT {
        errors.add(
            "name",
            format!("Le nom compte au plus {MAX_TEXT} caractères."),
        );
    }
    let main = form.main_component.trim();
    if main.is_empty() {
        errors.add(
            "main_component",
            "Saisissez le composant principal de la solution.",
        );
    } else if main.chars().count() > MAX_TEXT {
        errors.add(
            "main_component",
            format!("Le composant principal compte au plus {MAX_TEXT} caractères."),
        );
    }
    let versions = lines(&form.versions);
    for v in &versions {
        if let Err(e) = preuves_domain::Version::parse(v) {
            errors.add("versions", crate::forms::sentence(&e));
            break;
        }
    }
    if versions.len() > MAX_ITEMS {
        errors.add("versions", format!("{MAX_ITEMS} versions au plus."));
    }
    let names = lines(&form.commercial_names);
    if names.len() > MAX_ITEMS {
        errors.add(
            "commercial_names",
            format!("{MAX_ITEMS} noms commerciaux au plus."),
        );
    }
    if names.iter().any(|n| n.chars().count() > MAX_TEXT) {
        errors.add(
            "commercial_names",
            format!("Un nom commercial compte au plus {MAX_TEXT} caractères."),
        );
    }
    if errors.is_empty() {
        Ok(SolutionFields {
            name: name.to_owned(),
            main_component: main.to_owned(),
            versions,
            commercial_names: names,
        })
    } else {
        Err(errors)
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
    let solutions = state.db.list_solutions(vendor.organisation).await?;
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
    let fields = match validate(&form) {
        Ok(f) => f,
        Err(errors) => {
            let page = list_page(&state, &ctx, &vendor, form, errors).await?;
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let created = state
        .db
        .create_solution(vendor.organisation, &fields, &Actor::User(vendor.user.id))
        .await?;
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

fn solution_id(raw: &str) -> Result<SolutionId, AppError> {
    raw.parse().map(SolutionId).map_err(|_| AppError::NotFound)
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
    let solution = state
        .db
        .find_solution_for(vendor.organisation, solution_id(&id)?)
        .await?;
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
    let solution = state
        .db
        .find_solution_for(vendor.organisation, solution_id(&id)?)
        .await?;
    let revision: i64 =
        form.revision.trim().parse().map_err(|_| {
            AppError::BadRequest("Le formulaire est incomplet (révision).".to_owned())
        })?;
    let fields = match validate(&form) {
        Ok(f) => f,
        Err(errors) => {
            let page = edit_page(&state, &ctx, &vendor, &solution, form, errors).await?;
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let updated = state
        .db
        .update_solution(
            vendor.organisation,
            solution.id,
            revision,
            &fields,
            &Actor::User(vendor.user.id),
        )
        .await?;
    Ok(redirect_with_flash(
        "/solutions",
        &format!(
            "La solution «\u{a0}{}\u{a0}» a été mise à jour.",
            updated.name
        ),
        state.config.secure_cookies,
    ))
}
