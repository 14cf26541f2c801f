//! The register of referencings: the list and detail pages for every signed-in user (staff see
//! all, a vendor its own organisation's only), and the administrators' form that records a
//! referencing obtained elsewhere (for example the vague-1 referencings a vendor already holds).
//!
//! Visibility is decided by [`ReadScope`], once: the list is queried with its filter, and a
//! referencing of another organisation is answered exactly like a missing one (404).

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use preuves_db::{
    Actor, DispositifSummary, NewReferencing, Organisation, OrganisationId, StoredReferencing,
    UniqueConstraint,
};
use preuves_domain::{
    DispositifCode, DispositifKey, IsoDate, Nru, Profile, ReferencingStatus, Version, Wave,
};
use serde::Deserialize;

use crate::AppState;
use crate::error::AppError;
use crate::format::key_label;
use crate::format::siren_display;
use crate::forms::{FieldErrors, sentence};
use crate::layout::{Chrome, encode_query, render, render_with};
use crate::security::{
    AdminCap, CsrfForm, ReadScope, RequestContext, SignedIn, redirect_with_flash,
};

/// Longest solution or component name accepted.
const MAX_TEXT: usize = 200;
/// Longest status reason accepted.
const MAX_REASON: usize = 2000;

const STATUSES: [ReferencingStatus; 3] = [
    ReferencingStatus::Valid,
    ReferencingStatus::Suspended,
    ReferencingStatus::Withdrawn,
];

/// A status label with a capital: « Valide ».
fn status_title(status: ReferencingStatus) -> String {
    let label = status.label();
    let mut chars = label.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A dispositif as a form or filter value: `DPI-2`, `MS2-PDE-1` (the wave is after the last `-`).
fn key_value(key: &DispositifKey) -> String {
    format!("{}-{}", key.code, key.wave.number())
}

/// Reads a [`key_value`].
fn parse_key(raw: &str) -> Option<DispositifKey> {
    let (code, wave) = raw.trim().rsplit_once('-')?;
    Some(DispositifKey {
        code: DispositifCode::parse(code).ok()?,
        wave: Wave::from_number(wave.parse().ok()?)?,
    })
}

/// A referencing as the pages show it.
struct RowView {
    nru: String,
    nru_path: String,
    organisation: String,
    siren: String,
    dispositif: String,
    wave: u8,
    profiles: String,
    solution: String,
    main_component: String,
    version: String,
    granted_on: String,
    granted_iso: String,
    status_code: &'static str,
    status_label: String,
}

impl RowView {
    fn of(r: &StoredReferencing) -> Self {
        let profiles: Vec<&str> = std::iter::once(Profile::GENERAL)
            .chain(
                r.profiles
                    .iter()
                    .filter(|p| !p.is_general())
                    .map(Profile::as_str),
            )
            .collect();
        Self {
            nru: r.nru.to_string(),
            nru_path: encode_query(r.nru.as_str()),
            organisation: r.organisation_name.clone(),
            siren: siren_display(&r.siren),
            dispositif: r.dispositif.code.to_string(),
            wave: r.dispositif.wave.number(),
            profiles: profiles.join(", "),
            solution: r.solution.clone(),
            main_component: r.main_component.clone(),
            version: r.version.to_string(),
            granted_on: r.granted_on.to_french(),
            granted_iso: r.granted_on.to_string(),
            status_code: r.status.code(),
            status_label: status_title(r.status),
        }
    }
}

struct FilterOption {
    value: String,
    label: String,
}

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
        dispositifs: dispositifs
            .into_iter()
            .map(|k| FilterOption {
                value: key_value(k),
                label: key_label(k),
            })
            .collect(),
        statuses: STATUSES
            .iter()
            .map(|s| FilterOption {
                value: s.code().to_owned(),
                label: status_title(*s),
            })
            .collect(),
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
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, AppError> {
    let scope = ReadScope::of(&user)?;
    // An NRU that cannot exist, one that does not, and another organisation's: the same 404.
    let nru = Nru::parse(&raw).map_err(|_| AppError::NotFound)?;
    let found = state
        .db
        .find_referencing(&nru)
        .await?
        .ok_or(AppError::NotFound)?;
    scope.check(found.organisation)?;
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
    render(&DetailPage {
        is_admin: user.role == preuves_db::Role::Admin,
        has_attestation,
        citing,
        statuses: STATUSES
            .iter()
            .map(|s| FilterOption {
                value: s.code().to_owned(),
                label: status_title(*s),
            })
            .collect(),
        chrome: Chrome::new(
            &ctx,
            format!("Référencement {}", found.nru),
            "referencements",
        ),
        r: RowView::of(&found),
        commercial_names: found.commercial_names.clone(),
        status_reason: found.status_reason.clone(),
        status_changed: found.status_changed_at.map(crate::format::french_datetime),
        recorded: crate::format::french_datetime(found.created_at),
    })
}

// ---- recording a referencing (administrators) -----------------------------------------------

/// A dispositif of the select, with the optional profiles a referencing of it may hold.
struct DispositifOption {
    key: DispositifKey,
    value: String,
    label: String,
    profiles: Vec<Profile>,
    /// A vague-2 dispositif with no REM yet: its optional profiles are unknown.
    rem_missing: bool,
}

impl DispositifOption {
    fn profile_list(&self) -> String {
        if self.profiles.is_empty() {
            "aucun".to_owned()
        } else {
            self.profiles
                .iter()
                .map(Profile::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

struct OrganisationOption {
    id: String,
    label: String,
}

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

/// The dispositifs of the catalogue (both waves) with their optional profiles: a vague-2 one's
/// from its current REM, a vague-1 one's as declared.
async fn dispositif_options(state: &AppState) -> Result<Vec<DispositifOption>, AppError> {
    let summaries: Vec<DispositifSummary> = state.db.list_dispositifs().await?;
    let mut options = Vec::with_capacity(summaries.len());
    for s in summaries {
        let profiles: Vec<Profile> = match (s.key.wave, &s.current_rem) {
            (Wave::Two, Some(rem)) => state.db.rem_optional_profiles(rem.id).await?,
            (Wave::Two, None) => Vec::new(),
            (Wave::One, _) => s.wave1_profiles.clone(),
        };
        options.push(DispositifOption {
            rem_missing: s.key.wave == Wave::Two && s.current_rem.is_none(),
            value: key_value(&s.key),
            label: format!("{} — {}", key_label(&s.key), s.name),
            key: s.key,
            profiles,
        });
    }
    Ok(options)
}

fn new_page(
    ctx: &RequestContext,
    organisations: &[Organisation],
    dispositifs: Vec<DispositifOption>,
    form: ReferencingForm,
    errors: FieldErrors,
) -> NewPage {
    let title = if errors.is_empty() {
        "Enregistrer un référencement".to_owned()
    } else {
        "Erreur\u{a0}: Enregistrer un référencement".to_owned()
    };
    NewPage {
        chrome: Chrome::new(ctx, title, "admin"),
        organisations: organisations
            .iter()
            .map(|o| OrganisationOption {
                id: o.id.0.to_string(),
                label: format!("{} (SIREN {})", o.name, siren_display(&o.siren)),
            })
            .collect(),
        dispositifs,
        statuses: STATUSES
            .iter()
            .map(|s| FilterOption {
                value: s.code().to_owned(),
                label: status_title(*s),
            })
            .collect(),
        form,
        errors,
    }
}

pub(crate) async fn new_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    _admin: AdminCap,
) -> Result<Response, AppError> {
    let organisations = state.db.list_organisations().await?;
    let dispositifs = dispositif_options(&state).await?;
    let form = ReferencingForm {
        status: ReferencingStatus::Valid.code().to_owned(),
        ..ReferencingForm::default()
    };
    render(&new_page(
        &ctx,
        &organisations,
        dispositifs,
        form,
        FieldErrors::new(),
    ))
}

/// A required short text: trimmed, non-empty, at most [`MAX_TEXT`] characters.
fn required_text(
    errors: &mut FieldErrors,
    field: &'static str,
    raw: &str,
    missing: &str,
) -> String {
    let text = raw.trim();
    if text.is_empty() {
        errors.add(field, missing);
    } else if text.chars().count() > MAX_TEXT {
        errors.add(
            field,
            format!("Ce champ compte au plus {MAX_TEXT} caractères."),
        );
    }
    text.to_owned()
}

/// The optional profiles typed (comma- or semicolon-separated), checked against the
/// dispositif's; `Général` is implied and dropped, case is forgiven, duplicates are removed.
fn parse_profiles(raw: &str, option: &DispositifOption) -> Result<Vec<Profile>, String> {
    let mut held: Vec<Profile> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for item in raw
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if item.eq_ignore_ascii_case(Profile::GENERAL) || item.eq_ignore_ascii_case("general") {
            continue;
        }
        match option
            .profiles
            .iter()
            .find(|p| p.as_str().to_lowercase() == item.to_lowercase())
        {
            Some(p) if !held.contains(p) => held.push(p.clone()),
            Some(_) => {}
            None => unknown.push(format!("«\u{a0}{item}\u{a0}»")),
        }
    }
    if unknown.is_empty() {
        return Ok(held);
    }
    let which = if unknown.len() == 1 {
        format!(
            "Profil inconnu pour {}\u{a0}: {}.",
            key_label(&option.key),
            unknown[0]
        )
    } else {
        format!(
            "Profils inconnus pour {}\u{a0}: {}.",
            key_label(&option.key),
            unknown.join(", ")
        )
    };
    let allowed = if option.rem_missing {
        " Aucun REM n'est importé pour ce dispositif\u{a0}: ses profils optionnels ne sont pas connus.".to_owned()
    } else if option.profiles.is_empty() {
        " Ce dispositif n'a pas de profil optionnel.".to_owned()
    } else {
        format!(
            " Profils optionnels admis\u{a0}: {}.",
            option.profile_list()
        )
    };
    Err(format!("{which}{allowed}"))
}

fn validate_referencing(
    form: &ReferencingForm,
    organisations: &[Organisation],
    dispositifs: &[DispositifOption],
) -> Result<NewReferencing, FieldErrors> {
    let mut errors = FieldErrors::new();
    let nru = match Nru::parse(&form.nru) {
        Ok(n) => Some(n),
        Err(e) => {
            errors.add("nru", sentence(&e));
            None
        }
    };
    let organisation: Option<OrganisationId> = form
        .organisation
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|id| organisations.iter().find(|o| o.id.0 == id))
        .map(|o| o.id);
    if organisation.is_none() {
        errors.add(
            "organisation",
            "Choisissez l'organisation qui détient ce référencement.",
        );
    }
    let dispositif = dispositifs
        .iter()
        .find(|d| parse_key(&form.dispositif).is_some_and(|k| k == d.key));
    if dispositif.is_none() {
        errors.add("dispositif", "Choisissez un dispositif du catalogue.");
    }
    let profiles = match dispositif.map(|d| parse_profiles(&form.profiles, d)) {
        Some(Ok(p)) => p,
        Some(Err(message)) => {
            errors.add("profiles", message);
            Vec::new()
        }
        None => Vec::new(),
    };
    let solution = required_text(
        &mut errors,
        "solution",
        &form.solution,
        "Saisissez le nom de la solution.",
    );
    let main_component = required_text(
        &mut errors,
        "main_component",
        &form.main_component,
        "Saisissez le composant principal de la solution.",
    );
    let version = match Version::parse(&form.version) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.add("version", sentence(&e));
            None
        }
    };
    let mut commercial_names: Vec<String> = Vec::new();
    for name in form
        .commercial_names
        .lines()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if name.chars().count() > MAX_TEXT {
            errors.add(
                "commercial_names",
                format!("Un nom commercial compte au plus {MAX_TEXT} caractères."),
            );
        } else if !commercial_names.iter().any(|n| n == name) {
            commercial_names.push(name.to_owned());
        }
    }
    if commercial_names.is_empty() && !solution.is_empty() {
        commercial_names.push(solution.clone());
    }
    let granted_on = if form.granted_on.trim().is_empty() {
        errors.add("granted_on", "Saisissez la date d'octroi du référencement.");
        None
    } else {
        match IsoDate::parse(&form.granted_on) {
            Ok(d) => Some(d),
            Err(e) => {
                errors.add("granted_on", sentence(&e));
                None
            }
        }
    };
    let status = ReferencingStatus::from_code(form.status.trim());
    if status.is_none() {
        errors.add("status", "Choisissez le statut du référencement.");
    }
    let reason = form.status_reason.trim();
    let status_reason = match status {
        Some(ReferencingStatus::Valid) | None => None,
        Some(s) if reason.is_empty() => {
            errors.add(
                "status_reason",
                format!("Indiquez pourquoi le référencement est {}.", s.label()),
            );
            None
        }
        Some(_) if reason.chars().count() > MAX_REASON => {
            errors.add(
                "status_reason",
                format!("Le motif compte au plus {MAX_REASON} caractères."),
            );
            None
        }
        Some(_) => Some(reason.to_owned()),
    };
    match (nru, organisation, dispositif, version, granted_on, status) {
        (Some(nru), Some(organisation), Some(d), Some(version), Some(granted_on), Some(status))
            if errors.is_empty() =>
        {
            Ok(NewReferencing {
                nru,
                organisation,
                dispositif: d.key.clone(),
                profiles,
                solution,
                main_component,
                version,
                commercial_names,
                granted_on,
                status,
                status_reason,
            })
        }
        _ => Err(errors),
    }
}

pub(crate) async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    AdminCap(admin): AdminCap,
    CsrfForm(form): CsrfForm<ReferencingForm>,
) -> Result<Response, AppError> {
    let organisations = state.db.list_organisations().await?;
    let dispositifs = dispositif_options(&state).await?;
    let new = match validate_referencing(&form, &organisations, &dispositifs) {
        Ok(new) => new,
        Err(errors) => {
            let page = new_page(&ctx, &organisations, dispositifs, form, errors);
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    match state
        .db
        .insert_referencing(&new, &Actor::User(admin.id))
        .await
    {
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
        Err(e) if e.is_conflict(UniqueConstraint::ReferencingNru) => {
            let mut errors = FieldErrors::new();
            errors.add(
                "nru",
                format!("Le NRU {} est déjà enregistré dans le registre.", new.nru),
            );
            let page = new_page(&ctx, &organisations, dispositifs, form, errors);
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositif_values_round_trip_with_dashes_in_codes() {
        for (code, wave) in [
            ("DPI", Wave::Two),
            ("MS2-PDE", Wave::One),
            ("X-1", Wave::Two),
        ] {
            let key = DispositifKey {
                code: DispositifCode::parse(code).unwrap(),
                wave,
            };
            assert_eq!(parse_key(&key_value(&key)), Some(key));
        }
        assert_eq!(parse_key("DPI"), None);
        assert_eq!(parse_key("DPI-3"), None);
        assert_eq!(parse_key(""), None);
    }

    fn option(profiles: &[&str]) -> DispositifOption {
        let key = DispositifKey {
            code: DispositifCode::parse("DUI-MS").unwrap(),
            wave: Wave::Two,
        };
        DispositifOption {
            value: key_value(&key),
            label: String::new(),
            key,
            profiles: profiles
                .iter()
                .map(|p| Profile::parse(p).unwrap())
                .collect(),
            rem_missing: false,
        }
    }

    #[test]
    fn profiles_are_checked_against_the_dispositif() {
        let o = option(&["PA", "PH", "IE Usagers"]);
        let got = parse_profiles(" pa, Général ; IE usagers,PA ", &o).unwrap();
        assert_eq!(
            got.iter().map(Profile::as_str).collect::<Vec<_>>(),
            ["PA", "IE Usagers"]
        );
        assert!(parse_profiles("", &o).unwrap().is_empty());
        let err = parse_profiles("PA, XYZ", &o).unwrap_err();
        assert!(
            err.contains("XYZ") && err.contains("PA, PH, IE Usagers"),
            "{err}"
        );
    }
}
