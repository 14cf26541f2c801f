//! The proof plan as the pages show it: the engine's plan (live or frozen, always as a
//! [`PlanSnapshot`]) joined with the requirement texts of the pinned REM and, for a stored
//! candidature, the files deposited for each expected proof.
//!
//! Nothing here decides a status: the snapshot is the engine's answer, this only groups it by
//! chapter, filters it and words it.

use std::collections::BTreeMap;

use preuves_db::{PlanSnapshot, RemVersionId, SnapshotEntry, StoredProof};
use preuves_domain::{Catalogue, DispositifCode, DispositifKey, Refusal, RequirementId, Wave};
use serde::Deserialize;

use crate::format::{fr_number, french_datetime, human_size};
use crate::views::links::requirement_href;

/// The plan's filters, from the query string.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct PlanFilters {
    /// A chapter code.
    #[serde(default)]
    pub(crate) chapitre: String,
    /// A profile.
    #[serde(default)]
    pub(crate) profil: String,
    /// `a_deposer`, `manquantes`, `masquees`, `heritage`, `equivalence`.
    #[serde(default)]
    pub(crate) statut: String,
}

/// One option of a filter select.
pub(crate) struct FilterOption {
    pub(crate) value: String,
    pub(crate) label: String,
}

/// The plan's counts.
pub(crate) struct SummaryView {
    pub(crate) in_scope: String,
    pub(crate) to_deposit: String,
    pub(crate) masked_heritage: String,
    pub(crate) masked_equivalence: String,
    pub(crate) proofs_to_deposit: String,
    pub(crate) proofs_saved: String,
    /// The raw counts (the page carries them as data attributes).
    pub(crate) counts: preuves_db::SnapshotSummary,
}

/// Why a requirement is masked or forced to deposit.
pub(crate) struct ReasonView {
    pub(crate) rule: String,
    /// The rule in the webinar's words, e.g. « Équivalence » (its platform label, `rule`,
    /// links to the rules page).
    pub(crate) rule_label: String,
    /// The explanation without that label.
    pub(crate) explanation: String,
    pub(crate) nru: Option<String>,
    pub(crate) source_requirement: Option<String>,
    pub(crate) source_href: Option<String>,
    pub(crate) source_dispositif: Option<String>,
    pub(crate) component: Option<String>,
}

/// A file deposited for an expected proof.
pub(crate) struct FileView {
    pub(crate) name: String,
    pub(crate) href: String,
    pub(crate) size: String,
    pub(crate) sha256: String,
    pub(crate) uploaded: String,
    pub(crate) no_longer_needed: bool,
    pub(crate) verdict: Option<String>,
}

/// An expected proof of a requirement to deposit.
pub(crate) struct ExpectedView {
    pub(crate) scenario_index: i64,
    pub(crate) proof_index: i64,
    pub(crate) label: String,
    pub(crate) scenario: String,
    pub(crate) text: String,
    pub(crate) files: Vec<FileView>,
    pub(crate) missing: bool,
}

/// One requirement of the plan.
pub(crate) struct RequirementView {
    pub(crate) id: String,
    pub(crate) anchor: String,
    pub(crate) href: String,
    pub(crate) profile: String,
    pub(crate) perimeter: &'static str,
    pub(crate) text: String,
    pub(crate) status_code: String,
    pub(crate) status_label: &'static str,
    pub(crate) reason: Option<ReasonView>,
    pub(crate) expected: Vec<ExpectedView>,
    pub(crate) missing: usize,
}

/// The requirements of one chapter.
pub(crate) struct ChapterGroup {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) rows: Vec<RequirementView>,
}

/// A refusal or warning of the engine, as shown next to the plan.
pub(crate) struct RefusalView {
    pub(crate) code: &'static str,
    pub(crate) rule: String,
    pub(crate) message: String,
}

impl RefusalView {
    pub(crate) fn of(r: &Refusal) -> Self {
        let rule = r.rule.map(|r| r.to_string()).unwrap_or_default();
        let (rule, message) = split_rule(&rule, &r.message);
        Self {
            code: r.code.as_str(),
            rule,
            message,
        }
    }
}

/// Splits an engine message into the rule it starts with ("R2 (équivalence)") and the rest.
/// The engine's messages name their rule first so that they read alone (command line, API);
/// a page shows the rule in bold beside the text instead of repeating it. A message that does
/// not start with `rule` is kept whole, beside `rule`.
pub(crate) fn split_rule(rule: &str, message: &str) -> (String, String) {
    if !rule.is_empty()
        && message.starts_with(rule)
        && let Some((head, rest)) = message.split_once(" : ")
    {
        return (head.to_owned(), rest.to_owned());
    }
    (rule.to_owned(), message.to_owned())
}

/// The rule of a mask in the webinar's words.
fn rule_words(rule: &str) -> &str {
    match rule {
        "R2" => "Équivalence",
        "R3" => "Héritage de la vague 1",
        "R7" => "Composant additionnel",
        other => other,
    }
}

/// Splits a reason's explanation into the rule in the webinar's words and the rest. Plans frozen
/// before the wording changed start with the platform label (« R2 (équivalence) : … »): their
/// head is replaced by the same words, so every plan reads alike.
pub(crate) fn reason_words(rule: &str, explanation: &str) -> (String, String) {
    let words = rule_words(rule);
    if let Some((head, rest)) = explanation.split_once(" : ")
        && ((!rule.is_empty() && head.starts_with(rule)) || head == words)
    {
        return (words.to_owned(), rest.to_owned());
    }
    (words.to_owned(), explanation.to_owned())
}

/// The whole plan section of a page.
pub(crate) struct PlanView {
    /// Whether the engine gave a plan (otherwise only `refusals`).
    pub(crate) computed: bool,
    /// Whether it is the plan frozen at submission.
    pub(crate) frozen: bool,
    pub(crate) summary: Option<SummaryView>,
    pub(crate) groups: Vec<ChapterGroup>,
    pub(crate) shown: usize,
    pub(crate) total: usize,
    pub(crate) chapters: Vec<FilterOption>,
    pub(crate) profiles: Vec<FilterOption>,
    pub(crate) statuses: Vec<FilterOption>,
    pub(crate) filters: PlanFilters,
    pub(crate) refusals: Vec<RefusalView>,
    pub(crate) warnings: Vec<RefusalView>,
    /// Whether deposited files are shown (a stored candidature).
    pub(crate) with_files: bool,
    /// Expected proofs without a file.
    pub(crate) missing: usize,
}

impl PlanView {
    /// No plan: the step does not say enough yet.
    pub(crate) fn empty() -> Self {
        Self {
            computed: false,
            frozen: false,
            summary: None,
            groups: Vec::new(),
            shown: 0,
            total: 0,
            chapters: Vec::new(),
            profiles: Vec::new(),
            statuses: Vec::new(),
            filters: PlanFilters::default(),
            refusals: Vec::new(),
            warnings: Vec::new(),
            with_files: false,
            missing: 0,
        }
    }
}

/// The upload forms shown beside each expected proof (the deposit page).
pub(crate) struct DepositForms {
    /// Where the forms post.
    pub(crate) action: String,
    /// The file input's `accept` hint.
    pub(crate) accept: &'static str,
    /// The size limit, for the script's early check.
    pub(crate) max_bytes: u64,
    /// The size limit, in words.
    pub(crate) max_size: String,
}

/// What a plan view is built from.
pub(crate) struct PlanInput<'a> {
    pub(crate) catalogue: &'a Catalogue,
    pub(crate) target: &'a DispositifKey,
    pub(crate) rem_version: Option<RemVersionId>,
    pub(crate) outcome: &'a Result<PlanSnapshot, Vec<Refusal>>,
    pub(crate) warnings: &'a [Refusal],
    pub(crate) frozen: bool,
    /// The deposited files and the URL prefix of their downloads, for a stored candidature.
    pub(crate) proofs: Option<(&'a [StoredProof], String)>,
    pub(crate) filters: PlanFilters,
}

fn status_label(code: &str) -> &'static str {
    match code {
        "to_deposit" => "à déposer",
        "masked_heritage" => "masquée par héritage",
        "masked_equivalence" => "masquée par équivalence",
        _ => "statut inconnu",
    }
}

fn verdict_label(code: &str) -> String {
    match code {
        "compliant" => "conforme".to_owned(),
        "not_compliant" => "non conforme".to_owned(),
        "complement_requested" => "complément demandé".to_owned(),
        other => other.to_owned(),
    }
}

/// Reads back a snapshot's `CODE vague N`.
fn parse_dispositif_label(label: &str) -> Option<DispositifKey> {
    let (code, wave) = label.rsplit_once(" vague ")?;
    Some(DispositifKey {
        code: DispositifCode::parse(code).ok()?,
        wave: Wave::from_number(wave.trim().parse().ok()?)?,
    })
}

/// A requirement id usable as an HTML `id`.
pub(crate) fn anchor_of(id: &str) -> String {
    let mut out = String::from("exigence-");
    for c in id.chars() {
        out.push(if c.is_ascii_alphanumeric() { c } else { '-' });
    }
    out
}

fn matches_status(entry: &SnapshotEntry, missing: usize, filter: &str) -> bool {
    match filter {
        "a_deposer" => entry.is_to_deposit(),
        "manquantes" => entry.is_to_deposit() && missing > 0,
        "masquees" => !entry.is_to_deposit(),
        "heritage" => entry.status == "masked_heritage",
        "equivalence" => entry.status == "masked_equivalence",
        _ => true,
    }
}

fn status_options(with_files: bool) -> Vec<FilterOption> {
    let mut out = vec![
        ("a_deposer", "À déposer"),
        ("masquees", "Masquées (héritage ou équivalence)"),
        ("heritage", "Masquées par héritage"),
        ("equivalence", "Masquées par équivalence"),
    ];
    if with_files {
        out.insert(1, ("manquantes", "Avec des preuves manquantes"));
    }
    out.into_iter()
        .map(|(v, l)| FilterOption {
            value: v.to_owned(),
            label: l.to_owned(),
        })
        .collect()
}

/// Builds the plan section.
pub(crate) fn build(input: PlanInput<'_>) -> PlanView {
    let with_files = input.proofs.is_some();
    let refusals: Vec<RefusalView> = match input.outcome {
        Err(r) => r.iter().map(RefusalView::of).collect(),
        Ok(_) => Vec::new(),
    };
    let warnings = input.warnings.iter().map(RefusalView::of).collect();
    let mut view = PlanView {
        computed: input.outcome.is_ok(),
        frozen: input.frozen,
        summary: None,
        groups: Vec::new(),
        shown: 0,
        total: 0,
        chapters: Vec::new(),
        profiles: Vec::new(),
        statuses: status_options(with_files),
        filters: input.filters.clone(),
        refusals,
        warnings,
        with_files,
        missing: 0,
    };
    let Ok(plan) = input.outcome else {
        return view;
    };
    let rem = input
        .catalogue
        .dispositif(input.target)
        .and_then(|d| d.rem.as_ref());
    let s = &plan.summary;
    view.summary = Some(SummaryView {
        in_scope: fr_number(s.in_scope),
        to_deposit: fr_number(s.to_deposit),
        masked_heritage: fr_number(s.masked_heritage),
        masked_equivalence: fr_number(s.masked_equivalence),
        proofs_to_deposit: fr_number(s.proofs_to_deposit),
        proofs_saved: fr_number(s.proofs_saved),
        counts: *s,
    });
    view.total = plan.entries.len();

    let mut chapters: BTreeMap<String, String> = BTreeMap::new();
    let mut profiles: Vec<String> = Vec::new();
    let mut groups: Vec<ChapterGroup> = Vec::new();
    for entry in &plan.entries {
        let id = RequirementId::parse(&entry.requirement).ok();
        let requirement = id
            .as_ref()
            .and_then(|id| rem.and_then(|r| r.requirement(id)));
        let chapter_code = requirement.map_or_else(String::new, |r| r.chapter_code.to_string());
        let chapter_name = requirement.map_or_else(String::new, |r| r.chapter.clone());
        let profile = requirement.map_or_else(String::new, |r| r.profile.to_string());
        chapters
            .entry(chapter_code.clone())
            .or_insert_with(|| chapter_name.clone());
        if !profiles.contains(&profile) {
            profiles.push(profile.clone());
        }

        let expected: Vec<ExpectedView> = entry
            .expected
            .iter()
            .map(|x| {
                let files: Vec<FileView> = input
                    .proofs
                    .as_ref()
                    .map(|(proofs, prefix)| {
                        proofs
                            .iter()
                            .filter(|p| {
                                p.requirement.as_str() == entry.requirement
                                    && p.scenario_index == x.scenario_index
                                    && p.proof_index == x.proof_index
                            })
                            .map(|p| FileView {
                                name: p.file_name.clone(),
                                href: format!("{prefix}/{}", p.id),
                                size: human_size(p.size),
                                sha256: p.sha256.clone(),
                                uploaded: french_datetime(p.uploaded_at),
                                no_longer_needed: !p.is_needed(),
                                verdict: p.verdict.as_deref().map(verdict_label),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let missing = with_files && !files.iter().any(|f| !f.no_longer_needed);
                let scenario = requirement
                    .and_then(|r| {
                        usize::try_from(x.scenario_index)
                            .ok()
                            .and_then(|i| r.scenarios.get(i))
                    })
                    .map(|s| s.text.clone())
                    .unwrap_or_default();
                let label = match (&x.scenario_ref, &x.proof_ref) {
                    (_, Some(p)) => format!("Preuve {p}"),
                    (Some(s), None) => format!("Scénario {s}, preuve {}", x.proof_index + 1),
                    (None, None) => format!(
                        "Scénario {}, preuve {}",
                        x.scenario_index + 1,
                        x.proof_index + 1
                    ),
                };
                ExpectedView {
                    scenario_index: x.scenario_index,
                    proof_index: x.proof_index,
                    label,
                    scenario,
                    text: x.text.clone(),
                    files,
                    missing,
                }
            })
            .collect();
        let missing = expected.iter().filter(|x| x.missing).count();
        view.missing += missing;

        let keep = (input.filters.chapitre.is_empty() || input.filters.chapitre == chapter_code)
            && (input.filters.profil.is_empty() || input.filters.profil == profile)
            && matches_status(entry, missing, &input.filters.statut);
        if !keep {
            continue;
        }
        view.shown += 1;
        let reason = entry.reason.as_ref().map(|r| {
            let source_key = r
                .source_dispositif
                .as_deref()
                .and_then(parse_dispositif_label);
            let (rule_label, explanation) = reason_words(&r.rule, &r.explanation);
            ReasonView {
                rule: r.rule.clone(),
                rule_label,
                explanation,
                nru: r.nru.clone(),
                source_href: match (&source_key, &r.source_requirement) {
                    (Some(k), Some(req)) => RequirementId::parse(req)
                        .ok()
                        .map(|id| requirement_href(k, &id, None)),
                    _ => None,
                },
                source_requirement: r.source_requirement.clone(),
                source_dispositif: source_key
                    .as_ref()
                    .map(crate::format::key_label)
                    .or_else(|| r.source_dispositif.clone()),
                component: r.component.clone(),
            }
        });
        let row = RequirementView {
            anchor: anchor_of(&entry.requirement),
            href: id
                .as_ref()
                .map(|id| requirement_href(input.target, id, input.rem_version))
                .unwrap_or_default(),
            id: entry.requirement.clone(),
            profile,
            perimeter: requirement.map_or("", |r| r.perimeter.label()),
            text: requirement.map_or_else(String::new, |r| r.text.clone()),
            status_code: entry.status.clone(),
            status_label: status_label(&entry.status),
            reason,
            expected,
            missing,
        };
        match groups.last_mut() {
            Some(g) if g.code == chapter_code => g.rows.push(row),
            _ => groups.push(ChapterGroup {
                code: chapter_code,
                name: chapter_name,
                rows: vec![row],
            }),
        }
    }
    view.groups = groups;
    view.chapters = chapters
        .into_iter()
        .map(|(code, name)| FilterOption {
            label: if name.is_empty() {
                code.clone()
            } else {
                format!("{code} — {name}")
            },
            value: code,
        })
        .collect();
    view.profiles = profiles
        .into_iter()
        .map(|p| FilterOption {
            value: p.clone(),
            label: p,
        })
        .collect();
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_dispositif_labels_read_back() {
        let key = parse_dispositif_label("MS2-PDE vague 1").unwrap();
        assert_eq!(key.code.as_str(), "MS2-PDE");
        assert_eq!(key.wave, Wave::One);
        assert!(parse_dispositif_label("DPI").is_none());
    }

    #[test]
    fn reasons_read_in_the_webinar_words_whatever_their_age() {
        let words = |rule, message| reason_words(rule, message);
        let expected = (
            "Équivalence".to_owned(),
            "exigence commune avec DMP/va1.01.".to_owned(),
        );
        assert_eq!(
            words("R2", "R2 (équivalence) : exigence commune avec DMP/va1.01."),
            expected
        );
        assert_eq!(
            words("R2", "Équivalence : exigence commune avec DMP/va1.01."),
            expected
        );
        assert_eq!(
            words("R3", "Héritage de la vague 1 : exigence de vague 1."),
            (
                "Héritage de la vague 1".to_owned(),
                "exigence de vague 1.".to_owned()
            )
        );
        assert_eq!(
            words("R7", "R7 : le composant additionnel « X » est rattaché."),
            (
                "Composant additionnel".to_owned(),
                "le composant additionnel « X » est rattaché.".to_owned()
            )
        );
        assert_eq!(
            words("R9", "texte : libre"),
            ("R9".to_owned(), "texte : libre".to_owned())
        );
    }

    #[test]
    fn the_rule_is_shown_once() {
        let split = |rule, message| split_rule(rule, message);
        assert_eq!(
            split("R2", "R2 (équivalence) : exigence commune avec DMP/va1.01."),
            (
                "R2 (équivalence)".to_owned(),
                "exigence commune avec DMP/va1.01.".to_owned()
            )
        );
        assert_eq!(
            split(
                "R8",
                "R8 : le NRU X ne correspond à aucun référencement connu."
            ),
            (
                "R8".to_owned(),
                "le NRU X ne correspond à aucun référencement connu.".to_owned()
            )
        );
        // A message not naming its rule first, or no rule: kept whole.
        assert_eq!(
            split("R4", "la version 1.0 : trop ancienne"),
            ("R4".to_owned(), "la version 1.0 : trop ancienne".to_owned())
        );
        assert_eq!(
            split("", "texte : suite"),
            (String::new(), "texte : suite".to_owned())
        );
    }

    #[test]
    fn anchors_are_html_ids() {
        assert_eq!(anchor_of("INS/va1.01"), "exigence-INS-va1-01");
    }
}
