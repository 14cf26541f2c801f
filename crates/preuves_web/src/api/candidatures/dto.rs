//! The shapes of the vendor's candidature answers (shared with the instruction answers): a
//! candidature, its plan, its files, its complement requests.

use std::collections::HashMap;

use preuves_db::{ComplementRequest, PlanSnapshot, StoredCandidature, StoredProof, missing_proofs};
use preuves_domain::{Catalogue, DispositifKey, RefusalCode, Requirement};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::{DispositifRef, ErrorEntry, iso_instant, page_of};
use crate::error::ErrorItem;
use crate::journey::LivePlan;

/// An additional component and the chapters it is attached to (R7).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ComponentDto {
    /// Its name, 1 to 200 characters once trimmed.
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub(crate) name: String,
    /// Chapter codes (`INS`...): every requirement of these chapters is to deposit (R7: at
    /// least one).
    #[schema(min_items = 1)]
    pub(crate) chapters: Vec<String>,
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
    /// Warnings, in French, about the referencings it cites that were suspended or withdrawn
    /// since it cited them: its plan is not changed silently (what they mask stays masked until
    /// the instruction decides otherwise). Given on the answers about one candidature (the vendor's
    /// and the instructor's dossier); empty in lists and in the answers to an act.
    warnings: Vec<String>,
}

impl CandidatureDto {
    /// The candidature with its cited-referencing `warnings`.
    pub(crate) fn with_warnings(c: &StoredCandidature, warnings: Vec<String>) -> Self {
        Self {
            warnings,
            ..Self::of(c)
        }
    }

    /// The candidature, without computing its warnings (lists, instruction answers).
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
            warnings: Vec::new(),
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
