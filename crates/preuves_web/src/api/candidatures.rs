//! The vendor's candidatures: open one, edit its administrative step (optimistic concurrency on
//! `revision`), read its plan (live for a draft, computed by the engine exactly as the pages
//! show it; frozen once submitted), deposit proof files by streaming upload, give the sworn
//! statement, submit, enter an NRU obtained since (R5), and answer complement requests.
//!
//! A step is stored as entered, like the pages do: its syntax is checked here (422 with the
//! field at fault), its rules by the engine, whose refusals the plan carries with their stable
//! codes. Submission is refused with the engine's refusals (422) while the plan cannot be
//! computed or a warning blocks it (R6).

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use preuves_db::{
    Actor, AdministrativeStep, CandidatureStatus, ComplementRequest, LateNrusOutcome, PlanSnapshot,
    Solution, SolutionId, StoredCandidature, StoredProof, missing_proofs,
};
use preuves_domain::{
    AdditionalComponent, Catalogue, ChapterCode, DispositifCode, DispositifKey, Nru, Profile,
    Refusal, RefusalCode, Requirement, Version, Wave,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    ApiJson, ApiQuery, DispositifRef, ErrorBody, ErrorEntry, Paging, check_fields, invalid,
    iso_instant, json, page_of,
};
use crate::AppState;
use crate::deposit::{self, ProofSlot};
use crate::error::{AppError, ErrorItem};
use crate::journey::{self, LivePlan};
use crate::paths::{candidature_id, proof_id};
use crate::security::{ApiVendor, VendorCap};

/// Most NRUs, components or commercial names one step may list (as in the pages).
const MAX_ITEMS: usize = 50;
/// Longest component or commercial name (as in the pages).
const MAX_TEXT: usize = 200;

// ---- shapes -------------------------------------------------------------------------------

/// An additional component and the chapters it is attached to (R7).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComponentDto {
    /// Its name.
    name: String,
    /// Chapter codes (`INS`...): every requirement of these chapters is to deposit.
    chapters: Vec<String>,
}

/// The sworn statement (R6) given.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct HonourStatementDto {
    /// The document's file name.
    file_name: String,
}

/// A candidature.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CandidatureDto {
    /// Its id.
    id: i64,
    /// The vendor organisation's id.
    organisation: i64,
    /// The target dispositif (vague 2).
    dispositif: DispositifRef,
    /// The id of the REM version it is pinned to (current when it was opened; never changes).
    rem_version: i64,
    /// That REM version's own label (`1`, `2026-03`...), the one to show.
    rem_version_label: String,
    /// `draft`, `submitted`, `in_instruction`, `complement_requested`, `referenced` or `refused`.
    status: String,
    /// The solution's id.
    solution: i64,
    /// The solution's name (frozen at submission).
    solution_name: String,
    /// Its main component (frozen at submission).
    main_component: String,
    /// The candidate version.
    version: String,
    /// Optional profiles chosen (`Général` always applies).
    optional_profiles: Vec<String>,
    /// NRUs entered at the administrative step.
    nrus: Vec<String>,
    /// NRUs entered after submission (R5).
    late_nrus: Vec<String>,
    /// Additional components (R7).
    additional_components: Vec<ComponentDto>,
    /// Commercial names (R6).
    commercial_names: Vec<String>,
    /// The sworn statement, once given.
    honour_statement: Option<HonourStatementDto>,
    /// Its revision: an edit names the revision it is based on.
    revision: i64,
    /// Why the status last changed.
    status_reason: Option<String>,
    /// When the status last changed (ISO 8601).
    status_changed_at: Option<String>,
    /// When it was opened (ISO 8601).
    created_at: String,
    /// When it last changed (ISO 8601).
    updated_at: String,
    /// When it was submitted (ISO 8601).
    submitted_at: Option<String>,
    /// When its dossier became complete (ISO 8601), for R5.
    complete_at: Option<String>,
}

impl CandidatureDto {
    pub(crate) fn of(c: &StoredCandidature) -> Self {
        Self {
            id: c.id.0,
            organisation: c.organisation.0,
            dispositif: DispositifRef::of(&c.target),
            rem_version: c.rem_version.0,
            rem_version_label: c.rem_version_label.to_string(),
            status: c.status.code().to_owned(),
            solution: c.step.solution.0,
            solution_name: c.solution_name.clone(),
            main_component: c.main_component.clone(),
            version: c.step.version.to_string(),
            optional_profiles: c
                .step
                .optional_profiles
                .iter()
                .map(ToString::to_string)
                .collect(),
            nrus: c.step.nrus.iter().map(ToString::to_string).collect(),
            late_nrus: c.late_nrus.iter().map(ToString::to_string).collect(),
            additional_components: c
                .step
                .additional_components
                .iter()
                .map(|a| ComponentDto {
                    name: a.name.clone(),
                    chapters: a.chapters.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            commercial_names: c.step.commercial_names.clone(),
            honour_statement: c
                .step
                .honour_statement
                .as_ref()
                .map(|h| HonourStatementDto {
                    file_name: h.file_name.clone(),
                }),
            revision: c.revision,
            status_reason: c.status_reason.clone(),
            status_changed_at: c.status_changed_at.map(iso_instant),
            created_at: iso_instant(c.created_at),
            updated_at: iso_instant(c.updated_at),
            submitted_at: c.submitted_at.map(iso_instant),
            complete_at: c.complete_at.map(iso_instant),
        }
    }
}

page_of!(CandidaturePage, CandidatureDto, "A page of candidatures.");

/// A deposited file.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProofDto {
    /// Its id.
    id: i64,
    /// The candidature.
    candidature: i64,
    /// The requirement it proves.
    requirement: String,
    /// The scenario's position in the requirement, from 0.
    scenario_index: i64,
    /// The proof's position in the scenario, from 0.
    proof_index: i64,
    /// The REM's scenario number, if any.
    scenario_ref: Option<String>,
    /// The REM's proof number, if any.
    proof_ref: Option<String>,
    /// The file's name.
    file_name: String,
    /// Its type, decided on its content.
    content_type: String,
    /// Its size in bytes.
    size: u64,
    /// Its SHA-256, hexadecimal.
    sha256: String,
    /// When it was deposited (ISO 8601).
    uploaded_at: String,
    /// Whether a verdict is needed: `false` once its requirement was masked since (R5).
    needed: bool,
    /// When it was marked no longer needed (ISO 8601).
    no_longer_needed_at: Option<String>,
    /// `compliant`, `not_compliant` or `complement_requested`, once judged.
    verdict: Option<String>,
    /// The instructor's comment.
    verdict_comment: Option<String>,
    /// When it was judged (ISO 8601).
    judged_at: Option<String>,
}

impl ProofDto {
    pub(crate) fn of(p: &StoredProof) -> Self {
        Self {
            id: p.id.0,
            candidature: p.candidature.0,
            requirement: p.requirement.to_string(),
            scenario_index: p.scenario_index,
            proof_index: p.proof_index,
            scenario_ref: p.scenario_ref.clone(),
            proof_ref: p.proof_ref.clone(),
            file_name: p.file_name.clone(),
            content_type: p.content_type.clone(),
            size: p.size,
            sha256: p.sha256.clone(),
            uploaded_at: iso_instant(p.uploaded_at),
            needed: p.is_needed(),
            no_longer_needed_at: p.no_longer_needed_at.map(iso_instant),
            verdict: p.verdict.clone(),
            verdict_comment: p.verdict_comment.clone(),
            judged_at: p.judged_at.map(iso_instant),
        }
    }
}

/// Why a requirement is masked (or to deposit for an additional component, R7).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReasonDto {
    /// `R2` (équivalence), `R3` (héritage) or `R7` (additional component).
    rule: String,
    /// The NRU cited (R2, R3).
    #[serde(skip_serializing_if = "Option::is_none")]
    nru: Option<String>,
    /// The common requirement of the équivalence dispositif (R2).
    #[serde(skip_serializing_if = "Option::is_none")]
    source_requirement: Option<String>,
    /// That requirement's dispositif, as `CODE vague N` (R2).
    #[serde(skip_serializing_if = "Option::is_none")]
    source_dispositif: Option<String>,
    /// The additional component (R7).
    #[serde(skip_serializing_if = "Option::is_none")]
    component: Option<String>,
    /// The engine's explanation, in French.
    explanation: String,
}

/// One proof a requirement to deposit expects, with the files deposited for it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ExpectedProofDto {
    /// The scenario's position in the requirement, from 0 (name it to deposit a file).
    scenario_index: i64,
    /// The proof's position in the scenario, from 0.
    proof_index: i64,
    /// The REM's scenario number, if any.
    scenario_ref: Option<String>,
    /// The REM's proof number, if any.
    proof_ref: Option<String>,
    /// What the proof must show.
    text: String,
    /// The ids of the files deposited for it, oldest first.
    deposited: Vec<i64>,
}

/// A requirement in scope and its status.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlanRequirementDto {
    /// The requirement id.
    id: String,
    /// `Vague 1` or `Vague 2`.
    perimeter: String,
    /// Its profile.
    profile: String,
    /// Its chapter code.
    chapter: String,
    /// `to_deposit`, `masked_heritage` or `masked_equivalence`.
    status: String,
    /// Why, for masked requirements and R7's; `null` for a plain "to deposit".
    reason: Option<ReasonDto>,
    /// The proofs expected (requirements to deposit only).
    expected: Vec<ExpectedProofDto>,
}

/// The counts of a plan.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlanSummaryDto {
    /// Requirements in scope.
    in_scope: u64,
    /// Requirements to deposit.
    to_deposit: u64,
    /// Requirements masked by héritage.
    masked_heritage: u64,
    /// Requirements masked by équivalence.
    masked_equivalence: u64,
    /// Proofs expected.
    proofs_to_deposit: u64,
    /// Proofs no longer asked thanks to héritage and équivalence.
    proofs_saved: u64,
}

/// A candidature's proof plan: live for a draft, frozen at submission (recomputed on a late NRU).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlanDto {
    /// The candidature.
    candidature: i64,
    /// The id of the REM version it is computed on.
    rem_version: i64,
    /// That REM version's own label, the one to show.
    rem_version_label: String,
    /// Whether this is the plan frozen at submission.
    frozen: bool,
    /// Whether the engine could compute it; if not, `errors` says why.
    computed: bool,
    /// The engine's refusals (stable codes of `docs/rules.md`, with the field concerned).
    errors: Vec<ErrorEntry>,
    /// Refusals that block submission only (`missing_honour_statement`).
    warnings: Vec<ErrorEntry>,
    /// The counts, when computed.
    summary: Option<PlanSummaryDto>,
    /// Expected proofs without a file yet.
    missing_proofs: u64,
    /// Whether every expected proof has a file.
    complete: bool,
    /// The requirements in scope, in REM order.
    requirements: Vec<PlanRequirementDto>,
}

fn entry_of(item: &ErrorItem) -> ErrorEntry {
    ErrorEntry {
        code: item.code.to_owned(),
        message: item.message.clone(),
        field: item.field.clone(),
    }
}

/// The plan as the API shows it, with the files deposited for each expected proof.
pub(crate) fn plan_dto(c: &StoredCandidature, live: &LivePlan, proofs: &[StoredProof]) -> PlanDto {
    let frozen = c.plan.is_some();
    let mut dto = PlanDto {
        candidature: c.id.0,
        rem_version: c.rem_version.0,
        rem_version_label: c.rem_version_label.to_string(),
        frozen,
        computed: false,
        errors: Vec::new(),
        warnings: live
            .warnings
            .iter()
            .map(|r| entry_of(&ErrorItem::from(r)))
            .collect(),
        summary: None,
        missing_proofs: 0,
        complete: false,
        requirements: Vec::new(),
    };
    let plan = match &live.outcome {
        Ok(plan) => plan,
        Err(refusals) => {
            dto.errors = refusals
                .iter()
                .map(|r| entry_of(&ErrorItem::from(r)))
                .collect();
            return dto;
        }
    };
    if frozen {
        dto.warnings = frozen_warnings(plan);
    }
    let requirements = requirements_of(&live.catalogue, &c.target);
    let mut deposited: HashMap<(&str, i64, i64), Vec<i64>> = HashMap::new();
    for p in proofs {
        deposited
            .entry((p.requirement.as_str(), p.scenario_index, p.proof_index))
            .or_default()
            .push(p.id.0);
    }
    let missing = missing_proofs(plan, proofs).len() as u64;
    let s = &plan.summary;
    dto.computed = true;
    dto.missing_proofs = missing;
    dto.complete = missing == 0;
    dto.summary = Some(PlanSummaryDto {
        in_scope: s.in_scope,
        to_deposit: s.to_deposit,
        masked_heritage: s.masked_heritage,
        masked_equivalence: s.masked_equivalence,
        proofs_to_deposit: s.proofs_to_deposit,
        proofs_saved: s.proofs_saved,
    });
    dto.requirements = plan
        .entries
        .iter()
        .map(|e| {
            let r = requirements.get(e.requirement.as_str());
            PlanRequirementDto {
                id: e.requirement.clone(),
                perimeter: r
                    .map(|r| r.perimeter.label().to_owned())
                    .unwrap_or_default(),
                profile: r.map(|r| r.profile.to_string()).unwrap_or_default(),
                chapter: r.map(|r| r.chapter_code.to_string()).unwrap_or_default(),
                status: e.status.clone(),
                reason: e.reason.as_ref().map(|x| ReasonDto {
                    rule: x.rule.clone(),
                    nru: x.nru.clone(),
                    source_requirement: x.source_requirement.clone(),
                    source_dispositif: x.source_dispositif.clone(),
                    component: x.component.clone(),
                    explanation: x.explanation.clone(),
                }),
                expected: e
                    .expected
                    .iter()
                    .map(|x| ExpectedProofDto {
                        scenario_index: x.scenario_index,
                        proof_index: x.proof_index,
                        scenario_ref: x.scenario_ref.clone(),
                        proof_ref: x.proof_ref.clone(),
                        text: x.text.clone(),
                        deposited: deposited
                            .get(&(e.requirement.as_str(), x.scenario_index, x.proof_index))
                            .cloned()
                            .unwrap_or_default(),
                    })
                    .collect(),
            }
        })
        .collect();
    dto
}

/// A frozen plan keeps only its warnings' codes.
fn frozen_warnings(plan: &PlanSnapshot) -> Vec<ErrorEntry> {
    plan.warnings
        .iter()
        .map(|code| ErrorEntry {
            code: code.clone(),
            message: RefusalCode::ALL
                .iter()
                .find(|c| c.as_str() == code)
                .map_or_else(String::new, |_| {
                    "Cet avertissement bloquait le dépôt de la candidature.".to_owned()
                }),
            field: None,
        })
        .collect()
}

/// The requirements of `target`'s REM in `catalogue`, by id.
fn requirements_of<'a>(
    catalogue: &'a Catalogue,
    target: &DispositifKey,
) -> HashMap<&'a str, &'a Requirement> {
    catalogue
        .dispositif(target)
        .and_then(|d| d.rem.as_ref())
        .map(|rem| {
            rem.requirements()
                .iter()
                .map(|r| (r.id.as_str(), r))
                .collect()
        })
        .unwrap_or_default()
}

/// A complement request and its answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ComplementRequestDto {
    /// Its id.
    id: i64,
    /// The candidature.
    candidature: i64,
    /// What the instructor asks.
    message: String,
    /// Per requirement, what is asked about it.
    items: Vec<ComplementItemDto>,
    /// When it was asked (ISO 8601).
    requested_at: String,
    /// Who asked (name).
    requested_by: Option<String>,
    /// The vendor's answer, once given.
    answer: Option<String>,
    /// When it was answered (ISO 8601).
    answered_at: Option<String>,
    /// Whether it still waits for an answer.
    open: bool,
}

/// One requirement of a complement request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComplementItemDto {
    /// The requirement (to deposit in the frozen plan).
    pub(crate) requirement: String,
    /// What is asked about it (may be empty).
    #[serde(default)]
    pub(crate) comment: String,
}

impl ComplementRequestDto {
    pub(crate) fn of(r: &ComplementRequest) -> Self {
        Self {
            id: r.id.0,
            candidature: r.candidature.0,
            message: r.message.clone(),
            items: r
                .items
                .iter()
                .map(|i| ComplementItemDto {
                    requirement: i.requirement.to_string(),
                    comment: i.comment.clone(),
                })
                .collect(),
            requested_at: iso_instant(r.requested_at),
            requested_by: r.requested_by_name.clone(),
            answer: r.answer.clone(),
            answered_at: r.answered_at.map(iso_instant),
            open: r.is_open(),
        }
    }
}

// ---- the administrative step ----------------------------------------------------------------

fn two() -> u8 {
    2
}

/// A candidature to open: its target and its administrative step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewCandidatureBody {
    /// The target dispositif's code (a vague-2 dispositif with a published REM).
    dispositif: String,
    /// The target's wave (2).
    #[serde(default = "two")]
    wave: u8,
    /// The solution's id (one of the vendor's).
    solution: i64,
    /// The candidate version.
    version: String,
    /// Optional profiles chosen.
    #[serde(default)]
    optional_profiles: Vec<String>,
    /// NRUs held (équivalence and héritage, classified by the engine).
    #[serde(default)]
    nrus: Vec<String>,
    /// Additional components, each attached to chapters.
    #[serde(default)]
    additional_components: Vec<ComponentDto>,
    /// Commercial names.
    #[serde(default)]
    commercial_names: Vec<String>,
}

/// A draft's administrative step, based on the revision it was read at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepBody {
    /// The revision the change is based on (409 `stale_revision` if it changed since).
    revision: i64,
    /// The solution's id.
    solution: i64,
    /// The candidate version.
    version: String,
    /// Optional profiles chosen.
    #[serde(default)]
    optional_profiles: Vec<String>,
    /// NRUs held.
    #[serde(default)]
    nrus: Vec<String>,
    /// Additional components.
    #[serde(default)]
    additional_components: Vec<ComponentDto>,
    /// Commercial names.
    #[serde(default)]
    commercial_names: Vec<String>,
}

/// The step's fields, as sent.
struct StepFields<'a> {
    solution: i64,
    version: &'a str,
    optional_profiles: &'a [String],
    nrus: &'a [String],
    additional_components: &'a [ComponentDto],
    commercial_names: &'a [String],
}

/// Checks the syntax of every field (the rules are the engine's), naming each field at fault
/// by its JSON key.
fn parse_step(
    f: &StepFields<'_>,
    solutions: &[Solution],
    honour: Option<preuves_db::HonourStatement>,
    errors: &mut Vec<ErrorItem>,
) -> Option<AdministrativeStep> {
    let solution = solutions.iter().find(|s| s.id == SolutionId(f.solution));
    if solution.is_none() {
        errors.push(invalid(
            "solution",
            "Cette solution n'est pas l'une de celles de votre organisation.",
        ));
    }
    let version = match Version::parse(f.version) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(invalid("version", crate::forms::sentence(&e)));
            None
        }
    };
    let mut profiles: Vec<Profile> = Vec::new();
    for raw in f.optional_profiles {
        match Profile::parse(raw) {
            Ok(p) if !profiles.contains(&p) && !p.is_general() => profiles.push(p),
            Ok(_) => {}
            Err(e) => errors.push(invalid("optional_profiles", crate::forms::sentence(&e))),
        }
    }
    let mut nrus: Vec<Nru> = Vec::new();
    for raw in f.nrus {
        match Nru::parse(raw.trim()) {
            Ok(n) if !nrus.contains(&n) => nrus.push(n),
            Ok(_) => {}
            Err(_) => errors.push(invalid(
                "nrus",
                format!(
                    "NRU mal formé «\u{a0}{raw}\u{a0}»\u{a0}: un NRU ne contient que des lettres, des chiffres et des tirets."
                ),
            )),
        }
    }
    if nrus.len() > MAX_ITEMS {
        errors.push(invalid("nrus", format!("{MAX_ITEMS} NRU au plus.")));
    }
    let mut components: Vec<AdditionalComponent> = Vec::new();
    for (i, c) in f.additional_components.iter().enumerate() {
        let field = "additional_components";
        let name = c.name.trim();
        if name.is_empty() || name.chars().count() > MAX_TEXT {
            errors.push(invalid(
                field,
                format!(
                    "Composant additionnel n°\u{a0}{}\u{a0}: son nom compte de 1 à {MAX_TEXT} caractères.",
                    i + 1
                ),
            ));
            continue;
        }
        let mut chapters: Vec<ChapterCode> = Vec::new();
        for raw in &c.chapters {
            match ChapterCode::parse(raw.trim()) {
                Ok(code) if !chapters.contains(&code) => chapters.push(code),
                Ok(_) => {}
                Err(e) => errors.push(invalid(
                    field,
                    format!("{name}\u{a0}: {}", crate::forms::sentence(&e)),
                )),
            }
        }
        if chapters.is_empty() {
            errors.push(invalid(
                field,
                format!(
                    "Le composant «\u{a0}{name}\u{a0}» doit être rattaché à au moins un chapitre (règle R7)."
                ),
            ));
        }
        components.push(AdditionalComponent {
            name: name.to_owned(),
            chapters,
        });
    }
    if components.len() > MAX_ITEMS {
        errors.push(invalid(
            "additional_components",
            format!("{MAX_ITEMS} composants au plus."),
        ));
    }
    let mut commercial_names: Vec<String> = Vec::new();
    for n in f
        .commercial_names
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
    {
        if !commercial_names.iter().any(|x| x == n) {
            commercial_names.push(n.to_owned());
        }
    }
    if commercial_names.len() > MAX_ITEMS
        || commercial_names
            .iter()
            .any(|n| n.chars().count() > MAX_TEXT)
    {
        errors.push(invalid(
            "commercial_names",
            format!(
                "{MAX_ITEMS} noms commerciaux au plus, de {MAX_TEXT} caractères au plus chacun."
            ),
        ));
    }
    match (solution, version) {
        (Some(s), Some(version)) if errors.is_empty() => Some(AdministrativeStep {
            solution: s.id,
            optional_profiles: profiles,
            version,
            nrus,
            additional_components: components,
            commercial_names,
            honour_statement: honour,
        }),
        _ => None,
    }
}

/// The target of a new candidature: a vague-2 dispositif with a published REM.
async fn target_of(
    state: &AppState,
    code: &str,
    wave: u8,
    errors: &mut Vec<ErrorItem>,
) -> Result<Option<DispositifKey>, AppError> {
    let Ok(code) = DispositifCode::parse(code.trim()) else {
        errors.push(ErrorItem::field(
            RefusalCode::UnknownDispositif.as_str(),
            "dispositif",
            "Ce code de dispositif est mal formé.",
        ));
        return Ok(None);
    };
    let Some(wave) = Wave::from_number(i64::from(wave)) else {
        errors.push(ErrorItem::field(
            "invalid_field",
            "wave",
            "La vague est 1 ou 2.",
        ));
        return Ok(None);
    };
    let key = DispositifKey { code, wave };
    let known = state.db.find_dispositif(&key).await?;
    match known {
        Some(_) if wave == Wave::One => errors.push(ErrorItem::field(
            RefusalCode::TargetNotVague2.as_str(),
            "wave",
            format!(
                "{} est un dispositif de vague\u{a0}1\u{a0}: une candidature vise un dispositif de vague\u{a0}2.",
                key.code
            ),
        )),
        Some(d) if d.current_rem.is_some() => return Ok(Some(key)),
        _ => errors.push(ErrorItem::field(
            RefusalCode::UnknownDispositif.as_str(),
            "dispositif",
            format!(
                "Aucun dispositif {} de vague\u{a0}{} dont le REM est publié.",
                key.code,
                key.wave.number()
            ),
        )),
    }
    Ok(None)
}

async fn own(
    state: &AppState,
    vendor: &VendorCap,
    id: &str,
) -> Result<StoredCandidature, AppError> {
    Ok(state
        .db
        .find_candidature_for(vendor.organisation, candidature_id(id)?)
        .await?)
}

// ---- handlers -------------------------------------------------------------------------------

/// Filters of the candidature list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CandidatureFilters {
    /// Only this status (`draft`, `submitted`, `in_instruction`, `complement_requested`,
    /// `referenced`, `refused`).
    status: Option<String>,
    /// The page, from 1.
    page: Option<u32>,
    /// Items per page, 1 to 200.
    size: Option<u32>,
}

/// `GET /api/v1/candidatures`.
#[utoipa::path(
    get,
    path = "/api/v1/candidatures",
    operation_id = "candidatures_list",
    tag = "candidatures",
    summary = "Les candidatures de l'organisation de l'éditeur, les plus récentes en premier",
    security(("jeton" = []), ("session" = [])),
    params(CandidatureFilters),
    responses(
        (status = 200, description = "Une page de candidatures", body = CandidaturePage),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        (status = 401, description = "Non authentifié", body = ErrorBody),
        (status = 403, description = "Réservé aux éditeurs", body = ErrorBody),
        (status = 429, description = "Trop de requêtes", body = ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor,
    ApiQuery(f): ApiQuery<CandidatureFilters>,
) -> Result<Response, AppError> {
    let paging = Paging::of(f.page, f.size)?;
    let status = match f.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            CandidatureStatus::from_code(s).ok_or_else(|| AppError::Rejected {
                status: StatusCode::BAD_REQUEST,
                errors: vec![ErrorItem::field(
                    "invalid_parameter",
                    "status",
                    "Statut inconnu.",
                )],
            })?,
        ),
    };
    let all = state
        .db
        .list_candidatures(Some(vendor.organisation), status)
        .await?;
    let (items, total) = paging.slice(all, |c| CandidatureDto::of(&c));
    json(StatusCode::OK, &CandidaturePage::new(paging, items, total))
}

/// `POST /api/v1/candidatures`.
#[utoipa::path(
    post,
    path = "/api/v1/candidatures",
    operation_id = "candidatures_create",
    tag = "candidatures",
    summary = "Ouvre une candidature (brouillon) avec son étape administrative",
    description = "L'étape est enregistrée telle que saisie ; le moteur la juge : ses refus éventuels \
        sont dans le plan (`GET .../plan`), avec leurs codes stables.",
    security(("jeton" = []), ("session" = [])),
    request_body = NewCandidatureBody,
    responses(
        (status = 201, description = "Le brouillon ouvert", body = CandidatureDto),
        (status = 400, description = "JSON mal formé", body = ErrorBody),
        (status = 401, description = "Non authentifié", body = ErrorBody),
        (status = 403, description = "Réservé aux éditeurs, ou jeton en lecture seule", body = ErrorBody),
        (status = 415, description = "Le corps n'est pas du JSON", body = ErrorBody),
        (status = 422, description = "Champs invalides (`unknown_dispositif`, `target_not_vague2`, `invalid_field`...), ou guichet du dispositif pas encore ouvert (`guichet_not_open`, règle R10)", body = ErrorBody),
        (status = 429, description = "Trop de requêtes", body = ErrorBody),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    ApiJson(body): ApiJson<NewCandidatureBody>,
) -> Result<Response, AppError> {
    let mut errors = Vec::new();
    let target = target_of(&state, &body.dispositif, body.wave, &mut errors).await?;
    let solutions = state.db.list_solutions(vendor.organisation).await?;
    let step = parse_step(
        &StepFields {
            solution: body.solution,
            version: &body.version,
            optional_profiles: &body.optional_profiles,
            nrus: &body.nrus,
            additional_components: &body.additional_components,
            commercial_names: &body.commercial_names,
        },
        &solutions,
        None,
        &mut errors,
    );
    check_fields(errors)?;
    let (Some(target), Some(step)) = (target, step) else {
        return Err(AppError::internal("a valid step did not parse"));
    };
    // R10: a candidature is opened today, only if the target's guichet is open.
    if let Some(solution) = solutions.iter().find(|s| s.id == step.solution) {
        let siren = journey::siren_of(&state.db, vendor.organisation).await?;
        let live = journey::step_plan(
            &state.db,
            &state.catalogues,
            None,
            &siren,
            &target,
            solution,
            &step,
        )
        .await?;
        let closed = journey::guichet_refusals(&live);
        if !closed.is_empty() {
            return Err(AppError::Rejected {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                errors: closed
                    .into_iter()
                    .map(|r| ErrorItem {
                        field: Some("dispositif".to_owned()),
                        ..ErrorItem::from(r)
                    })
                    .collect(),
            });
        }
    }
    let created = state
        .db
        .create_candidature(
            vendor.organisation,
            &target,
            &step,
            &Actor::User(vendor.user.id),
        )
        .await?;
    json(StatusCode::CREATED, &CandidatureDto::of(&created))
}

/// `GET /api/v1/candidatures/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/candidatures/{id}",
    operation_id = "candidatures_show",
    tag = "candidatures",
    summary = "Une candidature",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    responses(
        (status = 200, description = "La candidature", body = CandidatureDto),
        (status = 401, description = "Non authentifié", body = ErrorBody),
        (status = 403, description = "Réservé aux éditeurs", body = ErrorBody),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 429, description = "Trop de requêtes", body = ErrorBody),
    )
)]
pub(crate) async fn show(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let c = own(&state, &vendor, &id).await?;
    json(StatusCode::OK, &CandidatureDto::of(&c))
}

/// `PUT /api/v1/candidatures/{id}/administrative-step`.
#[utoipa::path(
    put,
    path = "/api/v1/candidatures/{id}/administrative-step",
    operation_id = "candidatures_update_step",
    tag = "candidatures",
    summary = "Remplace l'étape administrative d'un brouillon, sur la base de la révision lue",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    request_body = StepBody,
    responses(
        (status = 200, description = "Le brouillon à jour", body = CandidatureDto),
        (status = 400, description = "JSON mal formé", body = ErrorBody),
        (status = 401, description = "Non authentifié", body = ErrorBody),
        (status = 403, description = "Réservé aux éditeurs, ou jeton en lecture seule", body = ErrorBody),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps (`stale_revision`) ou déjà déposée (`candidature_not_draft`)", body = ErrorBody),
        (status = 415, description = "Le corps n'est pas du JSON", body = ErrorBody),
        (status = 422, description = "Champs invalides", body = ErrorBody),
        (status = 429, description = "Trop de requêtes", body = ErrorBody),
    )
)]
pub(crate) async fn update_step(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StepBody>,
) -> Result<Response, AppError> {
    let c = own(&state, &vendor, &id).await?;
    c.status.check_step_edit()?;
    let solutions = state.db.list_solutions(vendor.organisation).await?;
    let mut errors = Vec::new();
    let step = parse_step(
        &StepFields {
            solution: body.solution,
            version: &body.version,
            optional_profiles: &body.optional_profiles,
            nrus: &body.nrus,
            additional_components: &body.additional_components,
            commercial_names: &body.commercial_names,
        },
        &solutions,
        c.step.honour_statement.clone(),
        &mut errors,
    );
    check_fields(errors)?;
    let step = step.ok_or_else(|| AppError::internal("a valid step did not parse"))?;
    let saved = state
        .db
        .update_candidature_step(
            vendor.organisation,
            c.id,
            body.revision,
            &step,
            &Actor::User(vendor.user.id),
        )
        .await?;
    json(StatusCode::OK, &CandidatureDto::of(&saved))
}

/// `GET /api/v1/candidatures/{id}/plan`.
#[utoipa::path(
    get,
    path = "/api/v1/candidatures/{id}/plan",
    operation_id = "candidatures_plan",
    tag = "candidatures",
    summary = "Le plan de preuves : calculé en direct par le moteur pour un brouillon, figé au dépôt ensuite",
    description = "Chaque exigence du périmètre a un statut (`to_deposit`, `masked_heritage`, \
        `masked_equivalence`) et sa raison (règle, NRU, exigence source, composant), comme dans \
        les pages et comme le moteur. Si le moteur refuse l'étape administrative, `computed` est \
        faux et `errors` donne ses refus avec leurs codes stables.",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    responses(
        (status = 200, description = "Le plan", body = PlanDto),
        (status = 401, description = "Non authentifié", body = ErrorBody),
        (status = 403, description = "Réservé aux éditeurs", body = ErrorBody),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 429, description = "Trop de requêtes", body = ErrorBody),
    )
)]
pub(crate) async fn plan(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let c = own(&state, &vendor, &id).await?;
    let live = journey::candidature_plan(&state.db, &state.catalogues, &c).await?;
    let proofs = state.db.list_proofs(c.id).await?;
    json(StatusCode::OK, &plan_dto(&c, &live, &proofs))
}

page_of!(ProofPage, ProofDto, "A page of deposited files.");

/// `GET /api/v1/candidatures/{id}/proofs`.
#[utoipa::path(
    get,
    path = "/api/v1/candidatures/{id}/proofs",
    operation_id = "candidatures_proofs",
    tag = "candidatures",
    summary = "Les fichiers déposés, dans l'ordre de dépôt, avec leurs verdicts",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature"), super::PageParams),
    responses(
        (status = 200, description = "Une page de fichiers", body = ProofPage),
        (status = 400, description = "Paramètre invalide", body = ErrorBody),
        (status = 401, description = "Non authentifié", body = ErrorBody),
        (status = 403, description = "Réservé aux éditeurs", body = ErrorBody),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 429, description = "Trop de requêtes", body = ErrorBody),
    )
)]
pub(crate) async fn proofs(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<super::PageParams>,
) -> Result<Response, AppError> {
    let paging = Paging::of(p.page, p.size)?;
    let all = state
        .db
        .list_proofs_for(vendor.organisation, candidature_id(&id)?)
        .await?;
    let (items, total) = paging.slice(all, |p| ProofDto::of(&p));
    json(StatusCode::OK, &ProofPage::new(paging, items, total))
}

/// Which expected proof a deposited file brings.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DepositParams {
    /// The requirement id (`INS/va1.01`), to deposit in the plan.
    #[param(required = true)]
    requirement: Option<String>,
    /// The scenario's position in the requirement, from 0 (see the plan's `expected`).
    #[param(required = true)]
    scenario: Option<i64>,
    /// The proof's position in the scenario, from 0.
    #[param(required = true)]
    proof: Option<i64>,
    /// The file's name; its extension must agree with its content.
    #[param(required = true)]
    file_name: Option<String>,
}

/// `POST /api/v1/candidatures/{id}/proofs`.
#[utoipa::path(
    post,
    path = "/api/v1/candidatures/{id}/proofs",
    operation_id = "candidatures_deposit",
    tag = "candidatures",
    summary = "Dépose un fichier de preuve (corps brut, envoi en flux)",
    description = "Le corps de la requête est le fichier lui-même, lu en flux : la mémoire reste \
        bornée quelle que soit sa taille. Son type est décidé sur son contenu (PDF, PNG, JPEG, \
        MP4, MOV, WebM, ZIP, texte) et doit s'accorder avec l'extension du nom ; sa taille est \
        bornée. Le fichier n'est enregistré (avec son SHA-256) qu'une fois reçu en entier.",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature"), DepositParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "Le fichier"),
    responses(
        (status = 201, description = "Le fichier enregistré", body = ProofDto),
        (status = 400, description = "Envoi interrompu ou illisible", body = ErrorBody),
        (status = 401, description = "Non authentifié", body = ErrorBody),
        (status = 403, description = "Réservé aux éditeurs, ou jeton en lecture seule", body = ErrorBody),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 409, description = "Dépôt fermé (`candidature_deposit_closed`) ou plan incalculable", body = ErrorBody),
        (status = 413, description = "Fichier trop volumineux (`file_too_large`)", body = ErrorBody),
        (status = 415, description = "Type de fichier refusé (`file_type_refused`)", body = ErrorBody),
        (status = 422, description = "Preuve non attendue (`proof_not_expected`), fichier vide (`file_empty`) ou paramètre manquant", body = ErrorBody),
        (status = 429, description = "Trop de requêtes", body = ErrorBody),
    )
)]
pub(crate) async fn deposit(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DepositParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let c = own(&state, &vendor, &id).await?;
    deposit::can_deposit(&c)?;
    let mut errors = Vec::new();
    let requirement = q.requirement.as_deref().map(str::trim).unwrap_or_default();
    if requirement.is_empty() {
        errors.push(invalid(
            "requirement",
            "Indiquez l'exigence que ce fichier prouve.",
        ));
    }
    if q.scenario.is_none() {
        errors.push(invalid(
            "scenario",
            "Indiquez la position du scénario (à partir de 0).",
        ));
    }
    if q.proof.is_none() {
        errors.push(invalid(
            "proof",
            "Indiquez la position de la preuve (à partir de 0).",
        ));
    }
    let name = deposit::file_name_of(q.file_name.as_deref().unwrap_or_default());
    if name.is_empty() {
        errors.push(invalid("file_name", "Indiquez le nom du fichier."));
    }
    check_fields(errors)?;
    let (scenario, proof) = (q.scenario.unwrap_or_default(), q.proof.unwrap_or_default());
    deposit::check_announced(&state, &headers, 1)?;
    let live = journey::candidature_plan(&state.db, &state.catalogues, &c).await?;
    let plan = deposit::plan_for_deposit(&live.outcome)?;
    let requirement = deposit::expected_proof(plan, requirement, scenario, proof)?;
    let stored = deposit::store_file(
        &state,
        &format!("proofs/{}", c.id),
        body.into_data_stream(),
        &name,
        &deposit::PROOF_KINDS,
    )
    .await?;
    let slot = ProofSlot {
        requirement,
        scenario_index: scenario,
        proof_index: proof,
    };
    let recorded = deposit::record(
        &state,
        vendor.organisation,
        &c,
        slot,
        stored,
        &name,
        &Actor::User(vendor.user.id),
    )
    .await?;
    json(StatusCode::CREATED, &ProofDto::of(&recorded))
}

/// `GET /api/v1/candidatures/{id}/proofs/{proof}/file`.
#[utoipa::path(
    get,
    path = "/api/v1/candidatures/{id}/proofs/{proof}/file",
    operation_id = "candidatures_proof_file",
    tag = "candidatures",
    summary = "Le contenu d'un fichier déposé (toujours en téléchargement)",
    security(("jeton" = []), ("session" = [])),
    params(
        ("id" = i64, Path, description = "Identifiant de la candidature"),
        ("proof" = i64, Path, description = "Identifiant du fichier"),
    ),
    responses(
        (status = 200, description = "Le fichier", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, description = "Non authentifié", body = ErrorBody),
        (status = 403, description = "Réservé aux éditeurs", body = ErrorBody),
        (status = 404, description = "Inconnu, ou d'une autre organisation", body = ErrorBody),
        (status = 429, description = "Trop de requêtes", body = ErrorBody),
    )
)]
pub(crate) async fn proof_file(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor,
    Path((id, proof)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let candidature = candidature_id(&id)?;
    let found = state
        .db
        .find_proof_for(vendor.organisation, proof_id(&proof)?)
        .await?;
    if found.candidature != candidature {
        return Err(AppError::NotFound);
    }
    crate::attachment::attachment(
        &state,
        &found.blob_key,
        &found.content_type,
        &found.file_name,
    )
    .await
}

/// Which draft revision and file a sworn statement comes with.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HonourParams {
    /// The draft's revision the statement is added to (409 `stale_revision` if it changed).
    #[param(required = true)]
    revision: Option<i64>,
    /// The document's name (PDF, PNG or JPEG).
    #[param(required = true)]
    file_name: Option<String>,
}

/// `PUT /api/v1/candidatures/{id}/honour-statement`.
#[utoipa::path(
    put,
    path = "/api/v1/candidatures/{id}/honour-statement",
    operation_id = "candidatures_honour_statement",
    tag = "candidatures",
    summary = "Dépose l'attestation sur l'honneur d'un brouillon (règle R6 ; corps brut, envoi en flux)",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature"), HonourParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "Le document signé (PDF, PNG ou JPEG)"),
    responses(
        (status = 200, description = "Le brouillon à jour", body = CandidatureDto),
        (status = 400, description = "Envoi interrompu ou illisible", body = ErrorBody),
        (status = 401, description = "Non authentifié", body = ErrorBody),
        (status = 403, description = "Réservé aux éditeurs, ou jeton en lecture seule", body = ErrorBody),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 409, description = "Déjà déposée (`candidature_not_draft`) ou modifiée entre-temps (`stale_revision`)", body = ErrorBody),
        (status = 413, description = "Fichier trop volumineux", body = ErrorBody),
        (status = 415, description = "Type de fichier refusé", body = ErrorBody),
        (status = 422, description = "Paramètre manquant ou fichier vide", body = ErrorBody),
        (status = 429, description = "Trop de requêtes", body = ErrorBody),
    )
)]
pub(crate) async fn honour_statement(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<HonourParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let c = own(&state, &vendor, &id).await?;
    deposit::check_draft(&c)?;
    let name = deposit::file_name_of(q.file_name.as_deref().unwrap_or_default());
    let mut errors = Vec::new();
    if q.revision.is_none() {
        errors.push(invalid("revision", "Indiquez la révision du brouillon."));
    }
    if name.is_empty() {
        errors.push(invalid("file_name", "Indiquez le nom du fichier."));
    }
    check_fields(errors)?;
    deposit::check_announced(&state, &headers, 1)?;
    let (blob, _) = deposit::store_file(
        &state,
        &format!("honour/{}", c.id),
        body.into_data_stream(),
        &name,
        &deposit::HONOUR_KINDS,
    )
    .await?;
    let saved = deposit::record_honour_statement(
        &state,
        vendor.organisation,
        &c,
        q.revision.unwrap_or_default(),
        &blob,
        &name,
        &Actor::User(vendor.user.id),
    )
    .await?;
    json(StatusCode::OK, &CandidatureDto::of(&saved))
}

/// A submission.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmitBody {
    /// The revision the submission is based on.
    revision: i64,
    /// Submit even though some expected proofs have no file yet.
    #[serde(default)]
    confirm_incomplete: bool,
}

/// `POST /api/v1/candidatures/{id}/submission`.
#[utoipa::path(
    post,
    path = "/api/v1/candidatures/{id}/submission",
    operation_id = "candidatures_submit",
    tag = "candidatures",
    summary = "Dépose la candidature : le plan, l'étape administrative et la version du REM sont figés",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    request_body = SubmitBody,
    responses(
        (status = 200, description = "La candidature déposée", body = CandidatureDto),
        (status = 400, description = "JSON mal formé", body = ErrorBody),
        (status = 401, description = "Non authentifié", body = ErrorBody),
        (status = 403, description = "Réservé aux éditeurs, ou jeton en lecture seule", body = ErrorBody),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 409, description = "Déjà déposée, modifiée entre-temps, ou dossier incomplet sans confirmation (`dossier_incomplete`)", body = ErrorBody),
        (status = 415, description = "Le corps n'est pas du JSON", body = ErrorBody),
        (status = 422, description = "Refus du moteur (codes de docs/rules.md, dont `missing_honour_statement`)", body = ErrorBody),
        (status = 429, description = "Trop de requêtes", body = ErrorBody),
    )
)]
pub(crate) async fn submit(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubmitBody>,
) -> Result<Response, AppError> {
    let c = own(&state, &vendor, &id).await?;
    c.status.check_submission()?;
    // The engine's refusals and blocking warnings, with their stable codes.
    let live = journey::candidature_plan(&state.db, &state.catalogues, &c).await?;
    let blocking: Vec<&Refusal> = match &live.outcome {
        Err(refusals) => refusals.iter().collect(),
        Ok(_) => live.warnings.iter().collect(),
    };
    if !blocking.is_empty() {
        return Err(AppError::Rejected {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors: blocking.into_iter().map(ErrorItem::from).collect(),
        });
    }
    let submitted = state
        .db
        .submit_candidature(
            vendor.organisation,
            c.id,
            body.revision,
            body.confirm_incomplete,
            &Actor::User(vendor.user.id),
        )
        .await?;
    json(StatusCode::OK, &CandidatureDto::of(&submitted))
}

/// NRUs obtained since submission (R5).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LateNrusBody {
    /// The revision the change is based on.
    revision: i64,
    /// The NRUs obtained since (a vague-2 équivalence NRU).
    nrus: Vec<String>,
}

/// What entering a late NRU changed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LateNrusDto {
    /// The candidature after the change (its plan recomputed and frozen again).
    candidature: CandidatureDto,
    /// Requirements to deposit before, masked now.
    newly_masked: Vec<String>,
    /// Deposited files marked no longer needed (kept, no verdict needed).
    proofs_no_longer_needed: u64,
}

/// `POST /api/v1/candidatures/{id}/late-nrus`.
#[utoipa::path(
    post,
    path = "/api/v1/candidatures/{id}/late-nrus",
    operation_id = "candidatures_late_nrus",
    tag = "candidatures",
    summary = "Saisit un NRU de vague 2 obtenu depuis le dépôt (règle R5) et recalcule le plan",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    request_body = LateNrusBody,
    responses(
        (status = 200, description = "NRU enregistré, plan recalculé", body = LateNrusDto),
        (status = 400, description = "JSON mal formé", body = ErrorBody),
        (status = 401, description = "Non authentifié", body = ErrorBody),
        (status = 403, description = "Réservé aux éditeurs, ou jeton en lecture seule", body = ErrorBody),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 409, description = "Candidature non déposée ou décidée (`candidature_not_submitted`), ou modifiée entre-temps", body = ErrorBody),
        (status = 415, description = "Le corps n'est pas du JSON", body = ErrorBody),
        (status = 422, description = "Refus du moteur (`late_nru_not_allowed`, `unknown_nru`...) ou NRU mal formé", body = ErrorBody),
        (status = 429, description = "Trop de requêtes", body = ErrorBody),
    )
)]
pub(crate) async fn late_nrus(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LateNrusBody>,
) -> Result<Response, AppError> {
    let c = own(&state, &vendor, &id).await?;
    let mut errors = Vec::new();
    let mut nrus: Vec<Nru> = Vec::new();
    for raw in &body.nrus {
        match Nru::parse(raw.trim()) {
            Ok(n) if !nrus.contains(&n) => nrus.push(n),
            Ok(_) => {}
            Err(e) => errors.push(invalid("nrus", crate::forms::sentence(&e))),
        }
    }
    if nrus.is_empty() && errors.is_empty() {
        errors.push(invalid("nrus", "Saisissez le NRU obtenu depuis le dépôt."));
    }
    check_fields(errors)?;
    let outcome = state
        .db
        .record_late_nrus(
            vendor.organisation,
            c.id,
            body.revision,
            &nrus,
            &Actor::User(vendor.user.id),
        )
        .await?;
    match outcome {
        LateNrusOutcome::Recorded {
            candidature,
            newly_masked,
            proofs_no_longer_needed,
        } => json(
            StatusCode::OK,
            &LateNrusDto {
                candidature: CandidatureDto::of(&candidature),
                newly_masked,
                proofs_no_longer_needed,
            },
        ),
        LateNrusOutcome::Refused(refusals) => Err(AppError::Rejected {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors: refusals.iter().map(ErrorItem::from).collect(),
        }),
    }
}

/// `GET /api/v1/candidatures/{id}/complement-requests`.
#[utoipa::path(
    get,
    path = "/api/v1/candidatures/{id}/complement-requests",
    operation_id = "candidatures_complement_requests",
    tag = "candidatures",
    summary = "Les demandes de compléments des instructeurs et leurs réponses, les plus anciennes en premier",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    responses(
        (status = 200, description = "Les demandes", body = Vec<ComplementRequestDto>),
        (status = 401, description = "Non authentifié", body = ErrorBody),
        (status = 403, description = "Réservé aux éditeurs", body = ErrorBody),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 429, description = "Trop de requêtes", body = ErrorBody),
    )
)]
pub(crate) async fn complement_requests(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let requests = state
        .db
        .list_complement_requests_for(vendor.organisation, candidature_id(&id)?)
        .await?;
    let items: Vec<ComplementRequestDto> = requests.iter().map(ComplementRequestDto::of).collect();
    json(StatusCode::OK, &items)
}

/// An answer to the open complement request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswerBody {
    /// The vendor's answer (the files are deposited beforehand).
    message: String,
}

/// `POST /api/v1/candidatures/{id}/complement-answer`.
#[utoipa::path(
    post,
    path = "/api/v1/candidatures/{id}/complement-answer",
    operation_id = "candidatures_answer_complements",
    tag = "candidatures",
    summary = "Répond à la demande de compléments ouverte : la candidature revient en instruction",
    security(("jeton" = []), ("session" = [])),
    params(("id" = i64, Path, description = "Identifiant de la candidature")),
    request_body = AnswerBody,
    responses(
        (status = 200, description = "La demande, avec la réponse", body = ComplementRequestDto),
        (status = 400, description = "JSON mal formé ou message vide", body = ErrorBody),
        (status = 401, description = "Non authentifié", body = ErrorBody),
        (status = 403, description = "Réservé aux éditeurs, ou jeton en lecture seule", body = ErrorBody),
        (status = 404, description = "Inconnue, ou d'une autre organisation", body = ErrorBody),
        (status = 409, description = "Aucune demande ouverte (`no_open_complement_request`)", body = ErrorBody),
        (status = 415, description = "Le corps n'est pas du JSON", body = ErrorBody),
        (status = 429, description = "Trop de requêtes", body = ErrorBody),
    )
)]
pub(crate) async fn answer_complements(
    State(state): State<AppState>,
    ApiVendor(vendor): ApiVendor<true>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> Result<Response, AppError> {
    let answered = state
        .db
        .answer_complements(
            vendor.organisation,
            candidature_id(&id)?,
            &body.message,
            &Actor::User(vendor.user.id),
        )
        .await?;
    json(StatusCode::OK, &ComplementRequestDto::of(&answered))
}
