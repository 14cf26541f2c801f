//! The public catalogue as its pages show it: the list of dispositifs, a dispositif's REM
//! versions, its counts per profile and chapter, the requirement search (filters, results, pages)
//! and, for one requirement, its scenarios, proofs and the requirements shared with it.

use std::collections::HashMap;

use preuves_db::{
    Db, DispositifSummary, Page, RemVersion, RemVersionId, RequirementHit, RequirementQuery,
};
use preuves_domain::{
    ChapterCode, DispositifCode, DispositifKey, Perimeter, Profile, Rem, Requirement, Wave,
};

use crate::error::AppError;
use crate::format::{excerpt, fr_number, french_datetime, key_label, plural};
use crate::layout::encode_query;
use crate::views::links::{dispositif_href, requirement_href};
use crate::views::{SelectOption, actor_label};

/// Requirements per page of search results.
const PER_PAGE: u32 = 50;
/// Characters of a requirement's text shown in a list.
const EXCERPT: usize = 160;

/// A text, or a dash when it is blank.
pub(crate) fn or_dash(text: &str) -> String {
    if text.trim().is_empty() {
        "—".to_owned()
    } else {
        text.to_owned()
    }
}

/// A link.
pub(crate) struct Link {
    pub(crate) label: String,
    pub(crate) href: String,
}

/// A dispositif in the catalogue's list.
pub(crate) struct ListRow {
    pub(crate) code: String,
    pub(crate) href: String,
    pub(crate) name: String,
    pub(crate) corridor: String,
    pub(crate) date2: String,
    pub(crate) predecessors: Vec<Link>,
    pub(crate) successors: Vec<Link>,
    pub(crate) profiles: String,
    pub(crate) rem: Option<String>,
}

/// The vague-2 dispositifs that name `code` among their predecessors.
pub(crate) fn successors(all: &[DispositifSummary], code: &DispositifCode) -> Vec<Link> {
    all.iter()
        .filter(|d| d.key.wave == Wave::Two && d.predecessors.contains(code))
        .map(|d| Link {
            label: key_label(&d.key),
            href: dispositif_href(&d.key),
        })
        .collect()
}

/// The vague-1 dispositifs `d` succeeds, as links.
pub(crate) fn predecessor_links(d: &DispositifSummary) -> Vec<Link> {
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

/// A dispositif as the catalogue's list shows it.
pub(crate) fn list_row(d: &DispositifSummary, all: &[DispositifSummary]) -> ListRow {
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

/// A REM version in a dispositif's table of versions.
pub(crate) struct VersionRow {
    pub(crate) label: String,
    pub(crate) file: String,
    pub(crate) rows: String,
    pub(crate) requirements: String,
    pub(crate) date: String,
    pub(crate) by: String,
    pub(crate) current: bool,
    pub(crate) report_href: String,
}

/// A profile or a chapter with its requirements counted per perimeter.
pub(crate) struct CountRow {
    pub(crate) code: String,
    pub(crate) label: String,
    pub(crate) wave1: u64,
    pub(crate) wave2: u64,
    pub(crate) total: u64,
    pub(crate) href: String,
}

/// A requirement found by the search.
pub(crate) struct HitView {
    pub(crate) href: String,
    pub(crate) id: String,
    pub(crate) perimeter: &'static str,
    pub(crate) chapter_code: String,
    pub(crate) chapter: String,
    pub(crate) profile: String,
    pub(crate) excerpt: String,
    pub(crate) socle: String,
}

/// The requirement search of a dispositif page: its form, its results and their pages.
pub(crate) struct SearchView {
    pub(crate) action: String,
    pub(crate) q: String,
    pub(crate) profiles: Vec<SelectOption>,
    pub(crate) chapters: Vec<SelectOption>,
    pub(crate) perimeters: Vec<SelectOption>,
    pub(crate) filtered: bool,
    pub(crate) hits: Vec<HitView>,
    pub(crate) summary: String,
    pub(crate) page: u32,
    pub(crate) pages: u32,
    pub(crate) previous: Option<String>,
    pub(crate) next: Option<String>,
}

/// The search filters, as read from the query string.
pub(crate) struct Filters {
    q: String,
    profile: String,
    chapter: String,
    perimeter: String,
    page: u32,
}

impl Filters {
    /// The filters among a query string's parameters (see `routes::catalogue`); a missing or
    /// unreadable page is the first.
    pub(crate) fn read(mut p: HashMap<String, String>) -> Self {
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

    /// The search these filters ask for in the current REM of `key`, at their page.
    pub(crate) fn query(&self, key: &DispositifKey) -> RequirementQuery {
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

/// A search result as the list shows it.
pub(crate) fn hit_view(hit: &RequirementHit) -> HitView {
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

/// The search form (filled with `filters`, its lists from the counts) and one page of results.
pub(crate) fn search_view(
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
pub(crate) fn counts(base: &str, requirements: &[Requirement]) -> (Vec<CountRow>, Vec<CountRow>) {
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

/// A dispositif's REM versions, newest first, with who imported each.
pub(crate) async fn version_rows(
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

/// A proof of a scenario.
pub(crate) struct ProofView {
    pub(crate) id: String,
    pub(crate) text: String,
}

/// A test scenario of a requirement, with its proofs.
pub(crate) struct ScenarioView {
    pub(crate) id: String,
    pub(crate) text: String,
    pub(crate) proofs: Vec<ProofView>,
}

/// A requirement of another dispositif shared with the one shown, and why.
pub(crate) struct SharedView {
    pub(crate) dispositif: String,
    pub(crate) dispositif_href: String,
    pub(crate) href: String,
    pub(crate) id: String,
    pub(crate) perimeter: &'static str,
    pub(crate) profile: String,
    pub(crate) excerpt: String,
    pub(crate) why: String,
}

/// The dispositifs of `wave`, as the catalogue's list shows them.
pub(crate) fn list_rows(all: &[DispositifSummary], wave: Wave) -> Vec<ListRow> {
    all.iter()
        .filter(|d| d.key.wave == wave)
        .map(|d| list_row(d, all))
        .collect()
}

/// A dispositif's vague-2 date, or that none is set.
pub(crate) fn date2_label(d: &DispositifSummary) -> String {
    d.date2
        .map_or_else(|| "non fixée".to_owned(), |x| x.to_french())
}

/// When a dispositif opens to candidatures.
pub(crate) fn opens_on_label(d: &DispositifSummary) -> String {
    d.opens_on.map_or_else(
        || "ouvert (pas de date d'ouverture)".to_owned(),
        |x| format!("le {}", x.to_french()),
    )
}

/// A dispositif's optional profiles: those of its current REM, else its vague-1 profiles.
pub(crate) fn optional_profiles_label(rem: Option<&Rem>, d: &DispositifSummary) -> String {
    let optional_profiles: Vec<String> = match rem {
        Some(rem) => rem.optional_profiles().map(ToString::to_string).collect(),
        None => d.wave1_profiles.iter().map(ToString::to_string).collect(),
    };
    if optional_profiles.is_empty() {
        "aucun".to_owned()
    } else {
        optional_profiles.join(", ")
    }
}

/// A requirement shared with `r` (of the dispositif shown), and why.
pub(crate) fn shared_view(hit: &RequirementHit, r: &Requirement) -> SharedView {
    SharedView {
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
    }
}

/// A requirement's test scenarios with their proofs.
pub(crate) fn scenario_views(r: &Requirement) -> Vec<ScenarioView> {
    r.scenarios
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
        .collect()
}

#[cfg(test)]
mod tests {
    use preuves_db::DispositifId;

    use super::*;

    fn summary(code: &str, wave: Wave, predecessors: &[&str]) -> DispositifSummary {
        DispositifSummary {
            id: DispositifId(1),
            key: DispositifKey {
                code: DispositifCode::parse(code).unwrap(),
                wave,
            },
            name: format!("Dispositif {code}"),
            corridor: "MS".to_owned(),
            date2: None,
            opens_on: None,
            predecessors: predecessors
                .iter()
                .map(|c| DispositifCode::parse(c).unwrap())
                .collect(),
            wave1_profiles: Vec::new(),
            current_rem: None,
        }
    }

    #[test]
    fn the_list_links_predecessors_and_successors_by_wave() {
        let all = [
            summary("DUI-MS", Wave::Two, &["MS1", "MS2-PDE"]),
            summary("MS1", Wave::One, &[]),
            summary("MS2-PDE", Wave::One, &[]),
        ];
        let wave2 = list_rows(&all, Wave::Two);
        assert_eq!(wave2.len(), 1);
        let hrefs: Vec<&str> = wave2[0]
            .predecessors
            .iter()
            .map(|l| l.href.as_str())
            .collect();
        assert_eq!(hrefs, ["/catalogue/MS1/1", "/catalogue/MS2-PDE/1"]);
        assert!(wave2[0].successors.is_empty());
        assert_eq!(wave2[0].date2, "—");
        assert_eq!(wave2[0].profiles, "—");
        assert_eq!(wave2[0].rem, None);
        let wave1 = list_rows(&all, Wave::One);
        assert_eq!(wave1.len(), 2);
        for row in &wave1 {
            let successors: Vec<&str> = row.successors.iter().map(|l| l.href.as_str()).collect();
            assert_eq!(successors, ["/catalogue/DUI-MS/2"], "{}", row.code);
        }
    }

    #[test]
    fn blank_texts_show_a_dash() {
        assert_eq!(or_dash("  \n"), "—");
        assert_eq!(or_dash("Identité"), "Identité");
    }
}
