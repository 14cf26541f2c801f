//! The public catalogue: the dispositifs, their REM versions, profiles and chapters, the
//! requirement search, and for one requirement its scenarios, its proofs and the other
//! dispositifs that share it. REMs are public documents: no sign-in is needed.
//!
//! Requirement ids contain `/` (`INS/va1.01`), so a requirement is named by a query parameter:
//! `/catalogue/DUI-MS/2/exigence?id=INS%2Fva1.01`, with `&version=<id>` for an older REM version.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use preuves_db::RemVersionId;
use preuves_domain::{RequirementId, Wave};

use crate::AppState;
use crate::error::AppError;
use crate::format::{french_datetime, key_label};
use crate::layout::{Chrome, render};
use crate::paths::parse_key;
use crate::security::RequestContext;
use crate::views::catalogue::{
    CountRow, Filters, Link, ListRow, ScenarioView, SearchView, SharedView, VersionRow, counts,
    date2_label, list_rows, opens_on_label, optional_profiles_label, or_dash, predecessor_links,
    scenario_views, search_view, shared_view, successors, version_rows,
};
use crate::views::links::{dispositif_href, requirement_href};

/// A query string's parameters; the first value of a repeated name wins, and an unreadable
/// query reads as empty (filters are a convenience, never a reason to fail).
fn query_params(raw: Option<&str>) -> HashMap<String, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default();
    let mut params = HashMap::new();
    for (k, v) in pairs {
        params.entry(k).or_insert(v);
    }
    params
}

#[derive(Template)]
#[template(path = "catalogue_list.html")]
struct ListPage {
    chrome: Chrome,
    wave2: Vec<ListRow>,
    wave1: Vec<ListRow>,
}

/// `GET /catalogue`: every dispositif, vague 2 first.
pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
) -> Result<Response, AppError> {
    let all = state.db.list_dispositifs().await?;
    render(&ListPage {
        chrome: Chrome::new(&ctx, "Catalogue des dispositifs", "catalogue"),
        wave2: list_rows(&all, Wave::Two),
        wave1: list_rows(&all, Wave::One),
    })
}

#[derive(Template)]
#[template(path = "catalogue_dispositif.html")]
struct DispositifPage {
    chrome: Chrome,
    label: String,
    name: String,
    corridor: String,
    is_wave2: bool,
    date2: String,
    opens_on: String,
    predecessors: Vec<Link>,
    successors: Vec<Link>,
    optional_profiles: String,
    versions: Vec<VersionRow>,
    profiles: Vec<CountRow>,
    chapters: Vec<CountRow>,
    search: Option<SearchView>,
    import_href: String,
}

/// `GET /catalogue/{code}/{wave}`: a dispositif, its REM versions, profiles, chapters, and the
/// search in its current REM.
pub(crate) async fn dispositif(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((code, wave)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let key = parse_key(&code, &wave)?;
    let db = &state.db;
    let all = db.list_dispositifs().await?;
    let d = all
        .iter()
        .find(|d| d.key == key)
        .ok_or(AppError::NotFound)?;
    let base = dispositif_href(&key);
    let versions = db.list_rem_versions(&key).await?;
    let current = d.current_rem.as_ref().map(|v| v.id);
    let rem = match current {
        Some(id) => db.load_rem(id).await?.map(|(_, rem)| rem),
        None => None,
    };
    let requirements = rem.as_ref().map_or(&[][..], |r| r.requirements());
    let (profiles, chapters) = counts(&base, requirements);
    let search = if rem.is_some() {
        let filters = Filters::read(query_params(raw.as_deref()));
        let page = db.search_requirements(&filters.query(&key)).await?;
        Some(search_view(&base, &filters, &profiles, &chapters, &page))
    } else {
        None
    };
    render(&DispositifPage {
        chrome: Chrome::new(
            &ctx,
            format!("{} — {}", key_label(&key), d.name),
            "catalogue",
        ),
        label: key_label(&key),
        name: d.name.clone(),
        corridor: d.corridor.clone(),
        is_wave2: key.wave == Wave::Two,
        date2: date2_label(d),
        opens_on: opens_on_label(d),
        predecessors: predecessor_links(d),
        successors: successors(&all, &key.code),
        optional_profiles: optional_profiles_label(rem.as_ref(), d),
        versions: version_rows(db, &versions, current).await?,
        profiles,
        chapters,
        search,
        import_href: format!("/admin/import?dispositif={}", key.code),
    })
}

#[derive(Template)]
#[template(path = "catalogue_requirement.html")]
struct RequirementPage {
    chrome: Chrome,
    dispositif_label: String,
    dispositif_name: String,
    dispositif_href: String,
    id: String,
    perimeter: &'static str,
    chapter_code: String,
    chapter: String,
    function: String,
    text: String,
    comment: String,
    profile: String,
    historical_profile: String,
    criticality: String,
    socle: String,
    wave1_id: String,
    version: String,
    version_date: String,
    is_current: bool,
    current_href: String,
    scenarios: Vec<ScenarioView>,
    proof_count: usize,
    shared: Vec<SharedView>,
}

/// `GET /catalogue/{code}/{wave}/exigence?id=…[&version=…]`: one requirement.
pub(crate) async fn requirement(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((code, wave)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let key = parse_key(&code, &wave)?;
    let params = query_params(raw.as_deref());
    let id = params
        .get("id")
        .and_then(|id| RequirementId::parse(id).ok())
        .ok_or(AppError::NotFound)?;
    let db = &state.db;
    let d = db.find_dispositif(&key).await?.ok_or(AppError::NotFound)?;
    let stored = match params.get("version").filter(|v| !v.is_empty()) {
        Some(v) => {
            let v = v.parse::<i64>().map_err(|_| AppError::NotFound)?;
            db.find_requirement(RemVersionId(v), &id).await?
        }
        None => db.find_current_requirement(&key, &id).await?,
    }
    .filter(|s| s.rem.dispositif == key)
    .ok_or(AppError::NotFound)?;
    let shared = db.shared_requirements(&key, &id).await?;
    let r = &stored.requirement;
    let is_current = d.current_rem.as_ref().map(|v| v.id) == Some(stored.rem.id);
    let shared = shared.iter().map(|hit| shared_view(hit, r)).collect();
    render(&RequirementPage {
        chrome: Chrome::new(
            &ctx,
            format!("Exigence {} — {}", r.id, key_label(&key)),
            "catalogue",
        ),
        dispositif_label: key_label(&key),
        dispositif_name: d.name.clone(),
        dispositif_href: dispositif_href(&key),
        id: r.id.to_string(),
        perimeter: r.perimeter.label(),
        chapter_code: r.chapter_code.to_string(),
        chapter: or_dash(&r.chapter),
        function: or_dash(&r.function),
        text: r.text.clone(),
        comment: or_dash(&r.comment),
        profile: r.profile.to_string(),
        historical_profile: or_dash(&r.historical_profile),
        criticality: or_dash(&r.criticality),
        socle: r
            .socle_id
            .as_ref()
            .map_or_else(|| "—".to_owned(), ToString::to_string),
        wave1_id: or_dash(r.wave1_id.as_deref().unwrap_or_default()),
        version: stored.rem.label.to_string(),
        version_date: french_datetime(stored.rem.imported_at),
        is_current,
        current_href: requirement_href(&key, &r.id, None),
        scenarios: scenario_views(r),
        proof_count: r.proof_count(),
        shared,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_waves_1_and_2_name_a_dispositif() {
        assert!(parse_key("DPI", "2").is_ok());
        assert!(parse_key("DPI", "3").is_err());
        assert!(parse_key("DPI", "02").is_err());
        assert!(parse_key("D PI", "1").is_err());
    }
}
