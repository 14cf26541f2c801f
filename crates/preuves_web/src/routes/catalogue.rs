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
use preuves_db::{
    Db, DispositifSummary, Page, RemVersion, RemVersionId, RequirementHit, RequirementQuery,
};
use preuves_domain::{
    ChapterCode, DispositifCode, DispositifKey, Perimeter, Profile, Requirement, RequirementId,
    Wave,
};

use crate::AppState;
use crate::error::AppError;
use crate::format::{excerpt, fr_number, french_datetime, key_label, plural};
use crate::layout::{Chrome, encode_query, render};
use crate::paths::parse_key;
use crate::security::RequestContext;
use crate::views::links::{dispositif_href, requirement_href};
use crate::views::{SelectOption, actor_label};

/// Requirements per page of search results.
const PER_PAGE: u32 = 50;
/// Characters of a requirement's text shown in a list.
const EXCERPT: usize = 160;

// ---- shared helpers (also used by the REM import pages) ------------------------------------

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

fn or_dash(text: &str) -> String {
    if text.trim().is_empty() {
        "—".to_owned()
    } else {
        text.to_owned()
    }
}

// ---- views ----------------------------------------------------------------------------------

/// A link.
pub(crate) struct Link {
    pub(crate) label: String,
    pub(crate) href: String,
}

struct ListRow {
    code: String,
    href: String,
    name: String,
    corridor: String,
    date2: String,
    predecessors: Vec<Link>,
    successors: Vec<Link>,
    profiles: String,
    rem: Option<String>,
}

#[derive(Template)]
#[template(path = "catalogue_list.html")]
struct ListPage {
    chrome: Chrome,
    wave2: Vec<ListRow>,
    wave1: Vec<ListRow>,
}

/// The vague-2 dispositifs that name `code` among their predecessors.
fn successors(all: &[DispositifSummary], code: &DispositifCode) -> Vec<Link> {
    all.iter()
        .filter(|d| d.key.wave == Wave::Two && d.predecessors.contains(code))
        .map(|d| Link {
            label: key_label(&d.key),
            href: dispositif_href(&d.key),
        })
        .collect()
}

fn predecessor_links(d: &DispositifSummary) -> Vec<Link> {
    d.predecessors
        .iter()
        .map(|code| {
            let key = DispositifKey {
                code: code.clone(),
                wave: Wave::One,
            };
            Link {
                label: key_label(&key),
                href: dispositif_href(&key),
            }
        })
        .collect()
}

fn list_row(d: &DispositifSummary, all: &[DispositifSummary]) -> ListRow {
    ListRow {
        code: d.key.code.to_string(),
        href: dispositif_href(&d.key),
        name: d.name.clone(),
        corridor: d.corridor.clone(),
        date2: d.date2.map_or_else(|| "—".to_owned(), |x| x.to_french()),
        predecessors: predecessor_links(d),
        successors: successors(all, &d.key.code),
        profiles: if d.wave1_profiles.is_empty() {
            "—".to_owned()
        } else {
            d.wave1_profiles
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        },
        rem: d.current_rem.as_ref().map(|v| {
            format!(
                "version\u{a0}{} — {}",
                v.label,
                plural(
                    u64::try_from(v.requirement_count).unwrap_or(0),
                    "exigence",
                    "exigences"
                )
            )
        }),
    }
}

/// `GET /catalogue`: every dispositif, vague 2 first.
pub(crate) async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
) -> Result<Response, AppError> {
    let all = state.db.list_dispositifs().await?;
    let rows = |wave: Wave| {
        all.iter()
            .filter(|d| d.key.wave == wave)
            .map(|d| list_row(d, &all))
            .collect()
    };
    render(&ListPage {
        chrome: Chrome::new(&ctx, "Catalogue des dispositifs", "catalogue"),
        wave2: rows(Wave::Two),
        wave1: rows(Wave::One),
    })
}

struct VersionRow {
    label: String,
    file: String,
    rows: String,
    requirements: String,
    date: String,
    by: String,
    current: bool,
    report_href: String,
}

struct CountRow {
    code: String,
    label: String,
    wave1: u64,
    wave2: u64,
    total: u64,
    href: String,
}

struct HitView {
    href: String,
    id: String,
    perimeter: &'static str,
    chapter_code: String,
    chapter: String,
    profile: String,
    excerpt: String,
    socle: String,
}

struct SearchView {
    action: String,
    q: String,
    profiles: Vec<SelectOption>,
    chapters: Vec<SelectOption>,
    perimeters: Vec<SelectOption>,
    filtered: bool,
    hits: Vec<HitView>,
    summary: String,
    page: u32,
    pages: u32,
    previous: Option<String>,
    next: Option<String>,
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

/// The search filters, as read from the query string.
struct Filters {
    q: String,
    profile: String,
    chapter: String,
    perimeter: String,
    page: u32,
}

impl Filters {
    fn read(raw: Option<&str>) -> Self {
        let mut p = query_params(raw);
        let mut take = |k: &str| p.remove(k).unwrap_or_default().trim().to_owned();
        let q = take("q");
        let profile = take("profil");
        let chapter = take("chapitre");
        let perimeter = take("perimetre");
        let page = take("page")
            .parse::<u32>()
            .unwrap_or(1)
            .clamp(1, u32::MAX / PER_PAGE);
        Self {
            q,
            profile,
            chapter,
            perimeter,
            page,
        }
    }

    fn perimeter(&self) -> Option<Perimeter> {
        Perimeter::parse(&self.perimeter)
    }

    /// The dispositif page's URL with these filters at `page`.
    fn href(&self, base: &str, page: u32) -> String {
        let mut parts = Vec::new();
        for (name, value) in [
            ("q", self.q.as_str()),
            ("profil", self.profile.as_str()),
            ("chapitre", self.chapter.as_str()),
            ("perimetre", self.perimeter.as_str()),
        ] {
            if !value.is_empty() {
                parts.push(format!("{name}={}", encode_query(value)));
            }
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() {
            format!("{base}#resultats")
        } else {
            format!("{base}?{}#resultats", parts.join("&"))
        }
    }

    fn query(&self, key: &DispositifKey) -> RequirementQuery {
        RequirementQuery {
            text: Some(self.q.clone()).filter(|q| !q.is_empty()),
            dispositif: Some(key.clone()),
            profile: Profile::parse(&self.profile).ok(),
            chapter: ChapterCode::parse(&self.chapter).ok(),
            perimeter: self.perimeter(),
            limit: PER_PAGE,
            offset: (self.page - 1) * PER_PAGE,
        }
    }
}

fn hit_view(hit: &RequirementHit) -> HitView {
    HitView {
        href: requirement_href(&hit.dispositif, &hit.id, None),
        id: hit.id.to_string(),
        perimeter: hit.perimeter.label(),
        chapter_code: hit.chapter_code.to_string(),
        chapter: hit.chapter.clone(),
        profile: hit.profile.to_string(),
        excerpt: excerpt(&hit.text, EXCERPT),
        socle: hit
            .socle_id
            .as_ref()
            .map_or_else(|| "—".to_owned(), ToString::to_string),
    }
}

fn search_view(
    base: &str,
    filters: &Filters,
    profiles: &[CountRow],
    chapters: &[CountRow],
    page: &Page<RequirementHit>,
) -> SearchView {
    let pages = u32::try_from(page.total.div_ceil(u64::from(PER_PAGE)))
        .unwrap_or(u32::MAX)
        .max(1);
    let options = |rows: &[CountRow], chosen: &str| {
        rows.iter()
            .map(|r| SelectOption {
                value: r.code.clone(),
                label: if r.label.is_empty() || r.label == r.code {
                    r.code.clone()
                } else {
                    format!("{} — {}", r.code, r.label)
                },
                selected: r.code.eq_ignore_ascii_case(chosen),
            })
            .collect()
    };
    let chosen_perimeter = filters.perimeter();
    let shown = u64::try_from(page.items.len()).unwrap_or(0);
    let summary = if page.total == 0 {
        "Aucune exigence ne correspond à la recherche.".to_owned()
    } else if shown == 0 {
        format!(
            "{} — aucune sur la page\u{a0}{}.",
            plural(page.total, "exigence trouvée", "exigences trouvées"),
            filters.page
        )
    } else {
        let first = u64::from(page.offset) + 1;
        format!(
            "{} — {} à {} affichées (page\u{a0}{} sur {}).",
            plural(page.total, "exigence trouvée", "exigences trouvées"),
            fr_number(first),
            fr_number(first + shown - 1),
            filters.page,
            pages
        )
    };
    SearchView {
        action: base.to_owned(),
        q: filters.q.clone(),
        profiles: options(profiles, &filters.profile),
        chapters: options(chapters, &filters.chapter),
        perimeters: [Perimeter::Wave1, Perimeter::Wave2]
            .into_iter()
            .map(|p| SelectOption {
                value: p.label().to_owned(),
                label: p.label().to_owned(),
                selected: chosen_perimeter == Some(p),
            })
            .collect(),
        filtered: !(filters.q.is_empty()
            && filters.profile.is_empty()
            && filters.chapter.is_empty()
            && filters.perimeter.is_empty()),
        hits: page.items.iter().map(hit_view).collect(),
        summary,
        page: filters.page,
        pages,
        previous: (filters.page > 1).then(|| filters.href(base, filters.page.min(pages + 1) - 1)),
        next: (filters.page < pages).then(|| filters.href(base, filters.page + 1)),
    }
}

/// Counts of requirements per profile and per chapter, in REM order.
fn counts(base: &str, requirements: &[Requirement]) -> (Vec<CountRow>, Vec<CountRow>) {
    let mut profiles: Vec<CountRow> = Vec::new();
    let mut chapters: Vec<CountRow> = Vec::new();
    for r in requirements {
        let profile = r.profile.to_string();
        let chapter = r.chapter_code.to_string();
        let bump = |rows: &mut Vec<CountRow>, code: &str, label: &str, param: &str| {
            let i = match rows.iter().position(|x| x.code == code) {
                Some(i) => i,
                None => {
                    rows.push(CountRow {
                        code: code.to_owned(),
                        label: label.to_owned(),
                        wave1: 0,
                        wave2: 0,
                        total: 0,
                        href: format!("{base}?{param}={}#resultats", encode_query(code)),
                    });
                    rows.len() - 1
                }
            };
            let row = &mut rows[i];
            match r.perimeter {
                Perimeter::Wave1 => row.wave1 += 1,
                Perimeter::Wave2 => row.wave2 += 1,
            }
            row.total += 1;
        };
        bump(&mut profiles, &profile, "", "profil");
        bump(&mut chapters, &chapter, &r.chapter, "chapitre");
    }
    // `Général` first, as everywhere else.
    profiles.sort_by_key(|p| p.code != Profile::GENERAL);
    (profiles, chapters)
}

async fn version_rows(
    db: &Db,
    versions: &[RemVersion],
    current: Option<RemVersionId>,
) -> Result<Vec<VersionRow>, AppError> {
    let mut names = HashMap::new();
    let mut rows = Vec::with_capacity(versions.len());
    // Newest first: the current version heads the table.
    for v in versions.iter().rev() {
        rows.push(VersionRow {
            label: v.label.to_string(),
            file: v.source_name.clone(),
            rows: fr_number(u64::try_from(v.row_count).unwrap_or(0)),
            requirements: fr_number(u64::try_from(v.requirement_count).unwrap_or(0)),
            date: french_datetime(v.imported_at),
            by: actor_label(db, &v.imported_by, &mut names).await?,
            current: Some(v.id) == current,
            report_href: format!("/admin/import/{}", v.id),
        });
    }
    Ok(rows)
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
        let filters = Filters::read(raw.as_deref());
        let page = db.search_requirements(&filters.query(&key)).await?;
        Some(search_view(&base, &filters, &profiles, &chapters, &page))
    } else {
        None
    };
    let optional_profiles: Vec<String> = match &rem {
        Some(rem) => rem.optional_profiles().map(ToString::to_string).collect(),
        None => d.wave1_profiles.iter().map(ToString::to_string).collect(),
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
        date2: d
            .date2
            .map_or_else(|| "non fixée".to_owned(), |x| x.to_french()),
        opens_on: d.opens_on.map_or_else(
            || "ouvert (pas de date d'ouverture)".to_owned(),
            |x| format!("le {}", x.to_french()),
        ),
        predecessors: predecessor_links(d),
        successors: successors(&all, &key.code),
        optional_profiles: if optional_profiles.is_empty() {
            "aucun".to_owned()
        } else {
            optional_profiles.join(", ")
        },
        versions: version_rows(db, &versions, current).await?,
        profiles,
        chapters,
        search,
        import_href: format!("/admin/import?dispositif={}", key.code),
    })
}

struct ProofView {
    id: String,
    text: String,
}

struct ScenarioView {
    id: String,
    text: String,
    proofs: Vec<ProofView>,
}

struct SharedView {
    dispositif: String,
    dispositif_href: String,
    href: String,
    id: String,
    perimeter: &'static str,
    profile: String,
    excerpt: String,
    why: String,
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
    let shared = shared
        .iter()
        .map(|hit| SharedView {
            dispositif: key_label(&hit.dispositif),
            dispositif_href: dispositif_href(&hit.dispositif),
            href: requirement_href(&hit.dispositif, &hit.id, None),
            id: hit.id.to_string(),
            perimeter: hit.perimeter.label(),
            profile: hit.profile.to_string(),
            excerpt: excerpt(&hit.text, EXCERPT),
            why: match (&hit.socle_id, &r.socle_id) {
                (Some(a), Some(b)) if a == b => {
                    format!("même exigence socle {a}")
                }
                _ => "table d'équivalence".to_owned(),
            },
        })
        .collect();
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
        scenarios: r
            .scenarios
            .iter()
            .map(|s| ScenarioView {
                id: s.id.clone().unwrap_or_else(|| "sans numéro".to_owned()),
                text: or_dash(&s.text),
                proofs: s
                    .proofs
                    .iter()
                    .map(|p| ProofView {
                        id: p.id.clone().unwrap_or_else(|| "sans numéro".to_owned()),
                        text: or_dash(&p.text),
                    })
                    .collect(),
            })
            .collect(),
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
