//! The plan of a filed candidature as it is stored ([`PlanSnapshot`], frozen at submission and
//! recomputed on a late NRU), and what the deposited files make of it: which expected proofs
//! have no file yet ([`missing_proofs`], whether the dossier is complete), which file is the
//! current one of each expected proof ([`current_proofs`]), and what stands in the way of a
//! grant ([`instruction_gaps`]).
//!
//! Deposited files belong to the platform (they carry its ids, dates and blob keys); the rules
//! here see them through [`DepositedFile`], so they stay pure and are tested here.

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use crate::plan::{Plan, Reason};
use crate::workflow::{Verdict, WorkflowConflict};

/// Why a requirement of a frozen plan has its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotReason {
    /// The rule (`R2`, `R3`, `R7`).
    pub rule: String,
    /// The NRU cited (héritage, équivalence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nru: Option<String>,
    /// The source requirement (équivalence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_requirement: Option<String>,
    /// The source requirement's dispositif (équivalence), as `CODE vague N`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_dispositif: Option<String>,
    /// The additional component (R7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// The French explanation the engine gave.
    pub explanation: String,
}

/// One proof a requirement to deposit expects: its position in the requirement's scenarios (from
/// 0) and the REM's own numbers when it has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedProof {
    /// The scenario's position in the requirement.
    pub scenario_index: i64,
    /// The proof's position in the scenario.
    pub proof_index: i64,
    /// The scenario number (`N° scénario`), if the REM has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_ref: Option<String>,
    /// The proof number (`N° preuve`), if the REM has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_ref: Option<String>,
    /// What the proof must show.
    pub text: String,
}

/// One requirement of a frozen plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotEntry {
    /// The requirement id.
    pub requirement: String,
    /// `to_deposit`, `masked_heritage` or `masked_equivalence`.
    pub status: String,
    /// Why, for masked and R7 requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<SnapshotReason>,
    /// The proofs expected (requirements to deposit only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected: Vec<ExpectedProof>,
}

impl SnapshotEntry {
    /// Whether proofs are asked for this requirement.
    pub fn is_to_deposit(&self) -> bool {
        self.status == "to_deposit"
    }
}

/// The counts of a frozen plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SnapshotSummary {
    /// Requirements in scope.
    pub in_scope: u64,
    /// Requirements to deposit.
    pub to_deposit: u64,
    /// Requirements masked by héritage.
    pub masked_heritage: u64,
    /// Requirements masked by équivalence.
    pub masked_equivalence: u64,
    /// Proofs expected.
    pub proofs_to_deposit: u64,
    /// Proofs saved by héritage and équivalence.
    pub proofs_saved: u64,
}

/// A plan as frozen at submission (and recomputed on a late NRU): owned, stored as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanSnapshot {
    /// The counts.
    pub summary: SnapshotSummary,
    /// The requirements in scope, in REM order.
    pub entries: Vec<SnapshotEntry>,
    /// The stable codes of the warnings that block submission (R6), if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn index(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PlanSnapshot {
    /// Freezes an engine plan.
    pub fn from_plan(plan: &Plan<'_>) -> Self {
        let entries = plan
            .entries
            .iter()
            .map(|e| {
                let reason = e.reason.as_ref().map(|r| {
                    let mut out = SnapshotReason {
                        rule: r.rule().to_string(),
                        nru: r.nru().map(|n| n.to_string()),
                        source_requirement: None,
                        source_dispositif: None,
                        component: None,
                        explanation: r.explain(),
                    };
                    match r {
                        Reason::AdditionalComponent { component } => {
                            out.component = Some((*component).to_owned());
                        }
                        Reason::Heritage { .. } => {}
                        Reason::Equivalence {
                            source_dispositif,
                            source,
                            ..
                        } => {
                            out.source_requirement = Some(source.id.to_string());
                            out.source_dispositif = Some(source_dispositif.key.to_string());
                        }
                    }
                    out
                });
                let expected = if e.status.is_masked() {
                    Vec::new()
                } else {
                    e.requirement
                        .scenarios
                        .iter()
                        .enumerate()
                        .flat_map(|(si, s)| {
                            s.proofs
                                .iter()
                                .enumerate()
                                .map(move |(pi, p)| ExpectedProof {
                                    scenario_index: index(si),
                                    proof_index: index(pi),
                                    scenario_ref: s.id.clone(),
                                    proof_ref: p.id.clone(),
                                    text: p.text.clone(),
                                })
                        })
                        .collect()
                };
                SnapshotEntry {
                    requirement: e.requirement.id.to_string(),
                    status: e.status.as_str().to_owned(),
                    reason,
                    expected,
                }
            })
            .collect();
        let s = &plan.summary;
        Self {
            summary: SnapshotSummary {
                in_scope: count(s.in_scope),
                to_deposit: count(s.to_deposit),
                masked_heritage: count(s.masked_heritage),
                masked_equivalence: count(s.masked_equivalence),
                proofs_to_deposit: count(s.proofs_to_deposit),
                proofs_saved: count(s.proofs_saved),
            },
            entries,
            warnings: plan
                .warnings
                .iter()
                .map(|w| w.code.as_str().to_owned())
                .collect(),
        }
    }

    /// The entry of requirement `id`, if in scope.
    pub fn entry(&self, id: &str) -> Option<&SnapshotEntry> {
        self.entries.iter().find(|e| e.requirement == id)
    }

    /// Whether this plan asks proofs for requirement `id` (in scope and to deposit).
    pub fn asks_proofs_for(&self, id: &str) -> bool {
        self.entry(id).is_some_and(SnapshotEntry::is_to_deposit)
    }

    /// The requirements to deposit in `before` that this plan masks (after a late NRU, R5), in
    /// this plan's order: their files are kept but need no verdict any more.
    pub fn newly_masked_since(&self, before: &Self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| !e.is_to_deposit())
            .filter(|e| before.asks_proofs_for(&e.requirement))
            .map(|e| e.requirement.clone())
            .collect()
    }
}

/// A deposited file, as the rules of this module see it: which expected proof it answers,
/// whether it still counts, and its verdict. The platform's stored proof implements it.
pub trait DepositedFile {
    /// The file's identifier; a greater one was deposited later.
    type Id: Copy + Ord + Hash;
    /// Its identifier.
    fn id(&self) -> Self::Id;
    /// The requirement it answers.
    fn requirement(&self) -> &str;
    /// The scenario's position in the requirement, from 0.
    fn scenario_index(&self) -> i64;
    /// The expected proof's position in the scenario, from 0.
    fn proof_index(&self) -> i64;
    /// Whether it still counts (not marked no longer needed, R5).
    fn is_needed(&self) -> bool;
    /// The stable code of its verdict, once judged.
    fn verdict_code(&self) -> Option<&str>;
}

/// A reference to a deposited file is one (lists of current files are lists of references).
impl<F: DepositedFile> DepositedFile for &F {
    type Id = F::Id;
    fn id(&self) -> Self::Id {
        (**self).id()
    }
    fn requirement(&self) -> &str {
        (**self).requirement()
    }
    fn scenario_index(&self) -> i64 {
        (**self).scenario_index()
    }
    fn proof_index(&self) -> i64 {
        (**self).proof_index()
    }
    fn is_needed(&self) -> bool {
        (**self).is_needed()
    }
    fn verdict_code(&self) -> Option<&str> {
        (**self).verdict_code()
    }
}

/// An expected proof of a requirement to deposit that has no file yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingProof<'a> {
    /// The requirement id.
    pub requirement: &'a str,
    /// The expected proof.
    pub expected: &'a ExpectedProof,
}

/// The expected proofs of `plan`'s requirements to deposit that no needed file of `files`
/// answers, in plan order. Empty means the dossier is complete.
pub fn missing_proofs<'a, F: DepositedFile>(
    plan: &'a PlanSnapshot,
    files: &[F],
) -> Vec<MissingProof<'a>> {
    plan.entries
        .iter()
        .filter(|e| e.is_to_deposit())
        .flat_map(|e| {
            e.expected.iter().filter_map(move |x| {
                let answered = files.iter().any(|p| {
                    p.is_needed()
                        && p.requirement() == e.requirement
                        && p.scenario_index() == x.scenario_index
                        && p.proof_index() == x.proof_index
                });
                (!answered).then_some(MissingProof {
                    requirement: &e.requirement,
                    expected: x,
                })
            })
        })
        .collect()
}

/// The current file of each expected proof: the newest file still needed, by (requirement,
/// scenario, proof) position. Older files and files no longer needed are left out.
pub fn current_proofs<F: DepositedFile>(files: &[F]) -> Vec<&F> {
    current_by_position(files).into_values().collect()
}

type Position<'a> = (&'a str, i64, i64);

fn position<F: DepositedFile>(file: &F) -> Position<'_> {
    (
        file.requirement(),
        file.scenario_index(),
        file.proof_index(),
    )
}

fn current_by_position<F: DepositedFile>(files: &[F]) -> HashMap<Position<'_>, &F> {
    let mut current: HashMap<Position<'_>, &F> = HashMap::new();
    for p in files.iter().filter(|p| p.is_needed()) {
        match current.get(&position(p)) {
            Some(q) if q.id() > p.id() => {}
            _ => {
                current.insert(position(p), p);
            }
        }
    }
    current
}

/// The check of a verdict on `file` of a candidature with frozen plan `plan` and deposited
/// files `files`: the file must still be needed and asked by the plan
/// ([`WorkflowConflict::ProofNoLongerNeeded`]), and be the current file of its expected proof
/// ([`WorkflowConflict::ProofSuperseded`]).
pub fn check_verdict_target<F: DepositedFile>(
    plan: Option<&PlanSnapshot>,
    file: &F,
    files: &[F],
) -> Result<(), WorkflowConflict> {
    let asked = plan.is_some_and(|plan| plan.asks_proofs_for(file.requirement()));
    if !file.is_needed() || !asked {
        return Err(WorkflowConflict::ProofNoLongerNeeded);
    }
    if current_by_position(files)
        .get(&position(file))
        .is_some_and(|current| current.id() != file.id())
    {
        return Err(WorkflowConflict::ProofSuperseded);
    }
    Ok(())
}

/// Why an expected proof stands in the way of a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// No file was deposited for it.
    Missing,
    /// Its current file has no verdict yet.
    AwaitingVerdict,
    /// Its current file was judged not compliant.
    NotCompliant,
    /// Its current file was judged insufficient (complement requested).
    ComplementRequested,
}

/// An expected proof of the frozen plan that is not proven yet; `Id` identifies files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstructionGap<Id> {
    /// The requirement.
    pub requirement: String,
    /// The scenario's position in the requirement.
    pub scenario_index: i64,
    /// The proof's position in the scenario.
    pub proof_index: i64,
    /// The current file, if any.
    pub proof: Option<Id>,
    /// What is wrong.
    pub kind: GapKind,
}

/// What stands in the way of granting: every expected proof of `plan`'s requirements to deposit
/// whose current file is missing, not judged, or judged other than compliant, in plan order.
/// Empty means the instruction is complete.
pub fn instruction_gaps<F: DepositedFile>(
    plan: &PlanSnapshot,
    files: &[F],
) -> Vec<InstructionGap<F::Id>> {
    let current = current_by_position(files);
    let mut gaps = Vec::new();
    for entry in plan.entries.iter().filter(|e| e.is_to_deposit()) {
        for x in &entry.expected {
            let file = current.get(&(entry.requirement.as_str(), x.scenario_index, x.proof_index));
            let kind = match file.map(|p| Verdict::of(*p)) {
                None => GapKind::Missing,
                Some(None) => GapKind::AwaitingVerdict,
                Some(Some(Verdict::Compliant)) => continue,
                Some(Some(Verdict::NotCompliant)) => GapKind::NotCompliant,
                Some(Some(Verdict::ComplementRequested)) => GapKind::ComplementRequested,
            };
            gaps.push(InstructionGap {
                requirement: entry.requirement.clone(),
                scenario_index: x.scenario_index,
                proof_index: x.proof_index,
                proof: file.map(|p| p.id()),
                kind,
            });
        }
    }
    gaps
}

/// The check before a grant: no gap ([`WorkflowConflict::InstructionIncomplete`] otherwise).
pub fn check_instruction_complete<F: DepositedFile>(
    plan: &PlanSnapshot,
    files: &[F],
) -> Result<(), WorkflowConflict> {
    if instruction_gaps(plan, files).is_empty() {
        Ok(())
    } else {
        Err(WorkflowConflict::InstructionIncomplete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct File {
        id: u32,
        requirement: &'static str,
        scenario: i64,
        proof: i64,
        needed: bool,
        verdict: Option<&'static str>,
    }

    impl DepositedFile for File {
        type Id = u32;
        fn id(&self) -> u32 {
            self.id
        }
        fn requirement(&self) -> &str {
            self.requirement
        }
        fn scenario_index(&self) -> i64 {
            self.scenario
        }
        fn proof_index(&self) -> i64 {
            self.proof
        }
        fn is_needed(&self) -> bool {
            self.needed
        }
        fn verdict_code(&self) -> Option<&str> {
            self.verdict
        }
    }

    fn file(id: u32, requirement: &'static str, proof: i64, verdict: Option<&'static str>) -> File {
        File {
            id,
            requirement,
            scenario: 0,
            proof,
            needed: true,
            verdict,
        }
    }

    fn expected(proof: i64) -> ExpectedProof {
        ExpectedProof {
            scenario_index: 0,
            proof_index: proof,
            scenario_ref: None,
            proof_ref: None,
            text: format!("preuve {proof}"),
        }
    }

    /// EX-1 expects two proofs, EX-2 one, EX-3 is masked.
    fn plan() -> PlanSnapshot {
        let entry = |requirement: &str, status: &str, expected: Vec<ExpectedProof>| SnapshotEntry {
            requirement: requirement.to_owned(),
            status: status.to_owned(),
            reason: None,
            expected,
        };
        PlanSnapshot {
            summary: SnapshotSummary::default(),
            entries: vec![
                entry("EX-1", "to_deposit", vec![expected(0), expected(1)]),
                entry("EX-2", "to_deposit", vec![expected(0)]),
                entry("EX-3", "masked_heritage", Vec::new()),
            ],
            warnings: Vec::new(),
        }
    }

    #[test]
    fn missing_proofs_ignore_files_no_longer_needed() {
        let plan = plan();
        assert_eq!(missing_proofs::<File>(&plan, &[]).len(), 3);
        let mut old = file(1, "EX-1", 0, None);
        old.needed = false;
        let files = [old, file(2, "EX-2", 0, None)];
        let missing: Vec<_> = missing_proofs(&plan, &files)
            .iter()
            .map(|m| (m.requirement, m.expected.proof_index))
            .collect();
        assert_eq!(missing, [("EX-1", 0), ("EX-1", 1)]);
    }

    #[test]
    fn the_newest_needed_file_is_current_and_the_only_one_to_judge() {
        let plan = plan();
        let files = [
            file(1, "EX-1", 0, Some("not_compliant")),
            file(5, "EX-1", 0, None),
            file(3, "EX-3", 0, None),
        ];
        let mut current: Vec<u32> = current_proofs(&files).iter().map(|f| f.id).collect();
        current.sort_unstable();
        assert_eq!(current, [3, 5]);
        assert_eq!(check_verdict_target(Some(&plan), &files[1], &files), Ok(()));
        assert_eq!(
            check_verdict_target(Some(&plan), &files[0], &files),
            Err(WorkflowConflict::ProofSuperseded)
        );
        // EX-3 is masked by the plan: its file needs no verdict; nor does any file of a draft.
        assert_eq!(
            check_verdict_target(Some(&plan), &files[2], &files),
            Err(WorkflowConflict::ProofNoLongerNeeded)
        );
        assert_eq!(
            check_verdict_target(None, &files[1], &files),
            Err(WorkflowConflict::ProofNoLongerNeeded)
        );
    }

    #[test]
    fn gaps_name_each_expected_proof_not_judged_compliant() {
        let plan = plan();
        let files = [
            file(1, "EX-1", 0, Some("compliant")),
            file(2, "EX-1", 1, Some("complement_requested")),
        ];
        let gaps: Vec<_> = instruction_gaps(&plan, &files)
            .into_iter()
            .map(|g| (g.requirement, g.proof_index, g.proof, g.kind))
            .collect();
        assert_eq!(
            gaps,
            [
                ("EX-1".to_owned(), 1, Some(2), GapKind::ComplementRequested),
                ("EX-2".to_owned(), 0, None, GapKind::Missing),
            ]
        );
        assert_eq!(
            check_instruction_complete(&plan, &files),
            Err(WorkflowConflict::InstructionIncomplete)
        );
        let done = [
            file(1, "EX-1", 0, Some("compliant")),
            file(2, "EX-1", 1, Some("compliant")),
            file(4, "EX-2", 0, Some("compliant")),
        ];
        assert_eq!(check_instruction_complete(&plan, &done), Ok(()));
        let awaiting = [file(9, "EX-2", 0, None)];
        assert!(
            instruction_gaps(&plan, &awaiting)
                .iter()
                .any(|g| g.kind == GapKind::AwaitingVerdict && g.proof == Some(9))
        );
    }

    #[test]
    fn a_late_nru_masks_only_requirements_that_were_to_deposit() {
        let before = plan();
        let mut after = plan();
        after.entries[1].status = "masked_equivalence".to_owned();
        after.entries[1].expected.clear();
        assert_eq!(after.newly_masked_since(&before), ["EX-2"]);
        assert!(before.newly_masked_since(&before).is_empty());
        assert!(before.asks_proofs_for("EX-1"));
        assert!(!before.asks_proofs_for("EX-3"));
        assert!(!before.asks_proofs_for("EX-9"));
    }
}
