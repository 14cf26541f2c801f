//! The candidature workflow of `docs/rules.md`, as pure rules: the statuses and which changes
//! the lifecycle allows, when proofs may be deposited, which acts instruction allows, who may act
//! on a candidature another instructor holds, and the instructors' verdicts.
//!
//! Every check returns a [`WorkflowConflict`] naming the rule that refused, so the database
//! calls these functions inside its transactions (the state it checks cannot change under it)
//! and the web layer turns each conflict into its French message with one exhaustive `match`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a candidature is in its lifecycle (`docs/rules.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidatureStatus {
    /// The administrative step is being edited; nothing is filed.
    Draft,
    /// Filed, waiting for instruction.
    Submitted,
    /// Under review by instructors.
    InInstruction,
    /// Instructors asked the vendor for complements.
    ComplementRequested,
    /// Granted: an NRU was issued.
    Referenced,
    /// Refused.
    Refused,
}

impl CandidatureStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 6] = [
        Self::Draft,
        Self::Submitted,
        Self::InInstruction,
        Self::ComplementRequested,
        Self::Referenced,
        Self::Refused,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::InInstruction => "in_instruction",
            Self::ComplementRequested => "complement_requested",
            Self::Referenced => "referenced",
            Self::Refused => "refused",
        }
    }

    /// Parses the stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "brouillon",
            Self::Submitted => "déposée",
            Self::InInstruction => "en instruction",
            Self::ComplementRequested => "complément demandé",
            Self::Referenced => "référencée",
            Self::Refused => "refusée",
        }
    }

    /// Whether the lifecycle allows going from `self` to `to` by a status change (submission
    /// and the answer to a complement request have their own acts).
    pub fn can_become(self, to: Self) -> bool {
        use CandidatureStatus::{
            ComplementRequested, InInstruction, Referenced, Refused, Submitted,
        };
        matches!(
            (self, to),
            (Submitted, InInstruction)
                | (InInstruction, ComplementRequested | Referenced | Refused)
                | (ComplementRequested, InInstruction)
        )
    }

    /// The check of a status change made by staff: the lifecycle must allow it, and granting
    /// (to referenced) is never a plain status change, since it issues an NRU.
    pub fn check_status_change(self, to: Self) -> Result<(), WorkflowConflict> {
        if self.can_become(to) && to != Self::Referenced {
            Ok(())
        } else {
            Err(WorkflowConflict::InvalidTransition)
        }
    }

    /// Whether the candidature has been filed and is not decided yet (R5 applies, it is in the
    /// instruction queue and may be assigned).
    pub fn is_under_review(self) -> bool {
        matches!(
            self,
            Self::Submitted | Self::InInstruction | Self::ComplementRequested
        )
    }

    /// Whether a decision was taken (referenced or refused): nothing changes any more.
    pub fn is_decided(self) -> bool {
        matches!(self, Self::Referenced | Self::Refused)
    }

    /// Whether the vendor may deposit proofs: while drafting, once submitted until an
    /// instructor takes it, and while complements are requested; never during instruction or
    /// after the decision.
    pub fn accepts_deposits(self) -> bool {
        matches!(
            self,
            Self::Draft | Self::Submitted | Self::ComplementRequested
        )
    }

    /// [`Self::accepts_deposits`] as a check.
    pub fn check_deposit(self) -> Result<(), WorkflowConflict> {
        if self.accepts_deposits() {
            Ok(())
        } else {
            Err(WorkflowConflict::DepositClosed)
        }
    }

    /// The check of an edit of the administrative step: only a draft's can change.
    pub fn check_step_edit(self) -> Result<(), WorkflowConflict> {
        if self == Self::Draft {
            Ok(())
        } else {
            Err(WorkflowConflict::NotDraft)
        }
    }

    /// The check of a submission: only a draft can be submitted (once).
    pub fn check_submission(self) -> Result<(), WorkflowConflict> {
        if self == Self::Draft {
            Ok(())
        } else {
            Err(WorkflowConflict::AlreadySubmitted)
        }
    }

    /// The check of late NRUs (R5): only on a candidature under review.
    pub fn check_late_nrus(self) -> Result<(), WorkflowConflict> {
        if self.is_under_review() {
            Ok(())
        } else {
            Err(WorkflowConflict::NotSubmitted)
        }
    }

    /// The check of an assignment to an instructor: only a candidature under review.
    pub fn check_assignment(self) -> Result<(), WorkflowConflict> {
        if self.is_under_review() {
            Ok(())
        } else {
            Err(WorkflowConflict::NotUnderReview)
        }
    }

    /// The check of an instruction act (verdict, complement request, decision): the
    /// candidature must be in instruction; a decided one says so.
    pub fn check_instruction_act(self) -> Result<(), WorkflowConflict> {
        match self {
            Self::InInstruction => Ok(()),
            Self::Referenced | Self::Refused => Err(WorkflowConflict::AlreadyDecided),
            Self::Draft | Self::Submitted | Self::ComplementRequested => {
                Err(WorkflowConflict::NotInInstruction)
            }
        }
    }

    /// The check of the vendor's answer to complements: only while they are requested.
    pub fn check_complement_answer(self) -> Result<(), WorkflowConflict> {
        if self == Self::ComplementRequested {
            Ok(())
        } else {
            Err(WorkflowConflict::NoOpenComplementRequest)
        }
    }
}

impl fmt::Display for CandidatureStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The holder rule: a person acting on a candidature held by another instructor is refused
/// until it is reassigned. `acting` is `None` for the platform itself (never refused), and an
/// unheld candidature accepts anyone.
pub fn check_holder<U: PartialEq>(
    holder: Option<U>,
    acting: Option<U>,
) -> Result<(), WorkflowConflict> {
    match (acting, holder) {
        (Some(user), Some(holder)) if holder != user => Err(WorkflowConflict::AssignedElsewhere),
        _ => Ok(()),
    }
}

/// Who holds a candidature after a status change from `from` to `to` by `acting`: taking a
/// submitted candidature into instruction gives it to the acting person when nobody holds it;
/// any other change keeps the holder.
pub fn holder_after<U>(
    from: CandidatureStatus,
    to: CandidatureStatus,
    acting: Option<U>,
    holder: Option<U>,
) -> Option<U> {
    match (from, to, acting, holder) {
        (CandidatureStatus::Submitted, CandidatureStatus::InInstruction, Some(user), None) => {
            Some(user)
        }
        (_, _, _, holder) => holder,
    }
}

/// A change the workflow refuses in the candidature's current state. Each has a stable
/// [`code`](Self::code), part of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum WorkflowConflict {
    /// The administrative step of a candidature that is no longer a draft cannot be edited (a
    /// replayed form after submission).
    #[error("the candidature is no longer a draft")]
    NotDraft,
    /// The candidature was already submitted (double submission, two tabs).
    #[error("the candidature was already submitted")]
    AlreadySubmitted,
    /// Submission of an incomplete dossier without the explicit confirmation.
    #[error("the dossier is incomplete")]
    IncompleteDossier,
    /// A status change that the lifecycle does not allow from the current status.
    #[error("the lifecycle does not allow this status change")]
    InvalidTransition,
    /// Late NRUs (R5) can only be entered on a submitted candidature still under review.
    #[error("the candidature is not under review")]
    NotSubmitted,
    /// No proof can be deposited on a candidature in this status (in instruction, or decided).
    #[error("deposits are closed")]
    DepositClosed,
    /// An instruction act (verdict, complement request, refusal, grant) on a candidature that
    /// is not in instruction: still submitted (take it into instruction first), waiting for the
    /// vendor's complements, or a draft.
    #[error("the candidature is not in instruction")]
    NotInInstruction,
    /// Another instructor holds the candidature: their instruction acts only, until it is
    /// reassigned.
    #[error("another instructor holds the candidature")]
    AssignedElsewhere,
    /// Only a candidature under review (submitted, in instruction, complement requested) can be
    /// assigned to an instructor.
    #[error("the candidature is not under review")]
    NotUnderReview,
    /// The candidature is already referenced or refused: a second decision (or any later
    /// instruction act) is refused.
    #[error("the candidature is already decided")]
    AlreadyDecided,
    /// A verdict on a file that needs none: marked no longer needed (R5), or deposited for a
    /// requirement the frozen plan does not ask proofs for.
    #[error("the proof is no longer needed")]
    ProofNoLongerNeeded,
    /// A verdict on a file replaced by a newer deposit for the same expected proof: the newest
    /// file is the one to judge (the older one is kept, with its verdict if it had one).
    #[error("a newer file answers the same expected proof")]
    ProofSuperseded,
    /// The vendor answers complements on a candidature with no open complement request.
    #[error("no complement request is open")]
    NoOpenComplementRequest,
    /// Granting while an expected proof of the frozen plan has no file, no verdict, or a
    /// verdict other than compliant (see [`crate::instruction_gaps`]).
    #[error("the instruction is not complete")]
    InstructionIncomplete,
}

impl WorkflowConflict {
    /// Every conflict.
    pub const ALL: [Self; 14] = [
        Self::NotDraft,
        Self::AlreadySubmitted,
        Self::IncompleteDossier,
        Self::InvalidTransition,
        Self::NotSubmitted,
        Self::DepositClosed,
        Self::NotInInstruction,
        Self::AssignedElsewhere,
        Self::NotUnderReview,
        Self::AlreadyDecided,
        Self::ProofNoLongerNeeded,
        Self::ProofSuperseded,
        Self::NoOpenComplementRequest,
        Self::InstructionIncomplete,
    ];

    /// The stable code, part of the API.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotDraft => "candidature_not_draft",
            Self::AlreadySubmitted => "candidature_already_submitted",
            Self::IncompleteDossier => "dossier_incomplete",
            Self::InvalidTransition => "candidature_invalid_transition",
            Self::NotSubmitted => "candidature_not_submitted",
            Self::DepositClosed => "candidature_deposit_closed",
            Self::NotInInstruction => "candidature_not_in_instruction",
            Self::AssignedElsewhere => "candidature_assigned_elsewhere",
            Self::NotUnderReview => "candidature_not_under_review",
            Self::AlreadyDecided => "candidature_already_decided",
            Self::ProofNoLongerNeeded => "proof_no_longer_needed",
            Self::ProofSuperseded => "proof_superseded",
            Self::NoOpenComplementRequest => "no_open_complement_request",
            Self::InstructionIncomplete => "instruction_incomplete",
        }
    }
}

/// An instructor's verdict on a deposited proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// « conforme ».
    Compliant,
    /// « non conforme ».
    NotCompliant,
    /// « complément demandé »: the file does not suffice yet.
    ComplementRequested,
}

impl Verdict {
    /// Every verdict.
    pub const ALL: [Self; 3] = [
        Self::Compliant,
        Self::NotCompliant,
        Self::ComplementRequested,
    ];

    /// The stable code stored with the proof.
    pub fn code(self) -> &'static str {
        match self {
            Self::Compliant => "compliant",
            Self::NotCompliant => "not_compliant",
            Self::ComplementRequested => "complement_requested",
        }
    }

    /// Parses the stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == code)
    }

    /// The French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Compliant => "conforme",
            Self::NotCompliant => "non conforme",
            Self::ComplementRequested => "complément demandé",
        }
    }

    /// Whether a comment must say why (every verdict but compliant).
    pub fn needs_comment(self) -> bool {
        self != Self::Compliant
    }

    /// The verdict a deposited file carries, if it was judged.
    pub fn of(file: &impl crate::snapshot::DepositedFile) -> Option<Self> {
        file.verdict_code().and_then(Self::from_code)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::CandidatureStatus::{
        ComplementRequested, Draft, InInstruction, Referenced, Refused, Submitted,
    };
    use super::*;

    #[test]
    fn status_and_verdict_codes_round_trip() {
        for s in CandidatureStatus::ALL {
            assert_eq!(CandidatureStatus::from_code(s.code()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.code()));
        }
        for v in Verdict::ALL {
            assert_eq!(Verdict::from_code(v.code()), Some(v));
        }
        assert_eq!(CandidatureStatus::from_code("granted"), None);
        let mut codes: Vec<_> = WorkflowConflict::ALL.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), WorkflowConflict::ALL.len());
    }

    /// Moved from `preuves_db`, with its assertions.
    #[test]
    fn status_codes_round_trip_and_the_lifecycle_holds() {
        for s in CandidatureStatus::ALL {
            assert_eq!(CandidatureStatus::from_code(s.code()), Some(s));
        }
        assert!(Submitted.can_become(InInstruction));
        assert!(ComplementRequested.can_become(InInstruction));
        assert!(!Draft.can_become(Submitted));
        assert!(!Referenced.can_become(InInstruction));
    }

    /// The whole lifecycle as a table: every (from, to) pair a status change may attempt, with
    /// the answer `docs/rules.md` gives. A pair missing here is refused.
    #[test]
    fn status_changes_follow_the_lifecycle_table() {
        let allowed = [
            (Submitted, InInstruction),
            (InInstruction, ComplementRequested),
            (InInstruction, Refused),
            (ComplementRequested, InInstruction),
        ];
        for from in CandidatureStatus::ALL {
            for to in CandidatureStatus::ALL {
                let expected = allowed.contains(&(from, to));
                assert_eq!(
                    from.check_status_change(to).is_ok(),
                    expected,
                    "{from:?} -> {to:?}"
                );
                if !expected {
                    assert_eq!(
                        from.check_status_change(to),
                        Err(WorkflowConflict::InvalidTransition)
                    );
                }
            }
        }
        // Granting is in the lifecycle but never a plain status change.
        assert!(InInstruction.can_become(Referenced));
        assert!(InInstruction.check_status_change(Referenced).is_err());
        // Submission has its own act: a draft becomes nothing by a status change.
        assert!(!Draft.can_become(Submitted));
    }

    /// Each act's check against every status: the table of which status accepts which act,
    /// and the conflict the others get.
    #[test]
    fn acts_are_allowed_in_their_statuses_only() {
        type Check = fn(CandidatureStatus) -> Result<(), WorkflowConflict>;
        let acts: [(&str, Check, &[CandidatureStatus], WorkflowConflict); 6] = [
            (
                "deposit",
                CandidatureStatus::check_deposit,
                &[Draft, Submitted, ComplementRequested],
                WorkflowConflict::DepositClosed,
            ),
            (
                "edit step",
                CandidatureStatus::check_step_edit,
                &[Draft],
                WorkflowConflict::NotDraft,
            ),
            (
                "submit",
                CandidatureStatus::check_submission,
                &[Draft],
                WorkflowConflict::AlreadySubmitted,
            ),
            (
                "late NRUs",
                CandidatureStatus::check_late_nrus,
                &[Submitted, InInstruction, ComplementRequested],
                WorkflowConflict::NotSubmitted,
            ),
            (
                "assign",
                CandidatureStatus::check_assignment,
                &[Submitted, InInstruction, ComplementRequested],
                WorkflowConflict::NotUnderReview,
            ),
            (
                "answer complements",
                CandidatureStatus::check_complement_answer,
                &[ComplementRequested],
                WorkflowConflict::NoOpenComplementRequest,
            ),
        ];
        for (name, check, accepting, refusal) in acts {
            for s in CandidatureStatus::ALL {
                let expected = if accepting.contains(&s) {
                    Ok(())
                } else {
                    Err(refusal)
                };
                assert_eq!(check(s), expected, "{name} on {s:?}");
            }
        }
        for s in CandidatureStatus::ALL {
            assert_eq!(s.accepts_deposits(), s.check_deposit().is_ok());
            let expected = match s {
                InInstruction => Ok(()),
                Referenced | Refused => Err(WorkflowConflict::AlreadyDecided),
                _ => Err(WorkflowConflict::NotInInstruction),
            };
            assert_eq!(s.check_instruction_act(), expected, "{s:?}");
            assert_eq!(s.is_decided(), matches!(s, Referenced | Refused));
        }
    }

    #[test]
    fn only_the_holder_or_anyone_on_an_unheld_candidature_may_act() {
        assert_eq!(check_holder(Some(1), Some(1)), Ok(()));
        assert_eq!(
            check_holder(Some(1), Some(2)),
            Err(WorkflowConflict::AssignedElsewhere)
        );
        assert_eq!(check_holder(None, Some(2)), Ok(()));
        // The platform itself is never refused.
        assert_eq!(check_holder(Some(1), None::<i32>), Ok(()));
    }

    #[test]
    fn taking_into_instruction_holds_an_unheld_candidature() {
        assert_eq!(
            holder_after(Submitted, InInstruction, Some(7), None),
            Some(7)
        );
        assert_eq!(
            holder_after(Submitted, InInstruction, Some(7), Some(3)),
            Some(3)
        );
        assert_eq!(
            holder_after(Submitted, InInstruction, None, None),
            None::<i32>
        );
        assert_eq!(
            holder_after(InInstruction, ComplementRequested, Some(7), None),
            None
        );
        assert_eq!(
            holder_after(ComplementRequested, InInstruction, Some(7), None),
            None
        );
    }

    #[test]
    fn every_verdict_but_compliant_needs_a_comment() {
        assert!(!Verdict::Compliant.needs_comment());
        assert!(Verdict::NotCompliant.needs_comment());
        assert!(Verdict::ComplementRequested.needs_comment());
    }
}
