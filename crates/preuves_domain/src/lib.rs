//! The domain of `preuves`: what a catalogue, a referencing and a candidature are, and the
//! proof-plan engine that says, for every requirement of a candidature's scope, whether a proof
//! must be deposited or why it is masked (rules R1–R10, this platform's labels, stated in
//! `docs/rules.md`); and the frozen plan of a filed candidature, whose masks an instructor may
//! lift; and the candidature workflow (statuses, transitions, verdicts, what stands in the way
//! of a grant) as pure rules.
//!
//! This crate is pure: no I/O, no async, no database. Everything here is a function of its
//! arguments, which is what lets the engine be tested with tables, properties and snapshots, and
//! lets the command line, the API and the pages give the very same answer.

#![forbid(unsafe_code)]

pub mod candidature;
pub mod catalogue;
pub mod date;
pub mod frozen;
pub mod ids;
pub mod issued_nru;
pub mod plan;
pub mod rem_diff;
pub mod scenario;
pub mod snapshot;
pub mod text;
pub mod version;
pub mod workflow;

pub use candidature::{
    AdditionalComponent, Candidature, LateEntry, Referencing, ReferencingStatus,
    same_main_component,
};
pub use catalogue::{
    Catalogue, CatalogueError, Dispositif, DispositifKey, EquivalencePair, OlderRem, Perimeter,
    ProofSpec, Rem, Requirement, Scenario, Wave,
};
pub use date::{IsoDate, ParisTime};
pub use frozen::{FrozenEntry, FrozenPlan, FrozenReason, Lift, LiftError, LiftOutcome, LiftedMask};
pub use ids::{
    ChapterCode, DispositifCode, IdError, Nru, Profile, RemVersionLabel, RequirementId, Siren,
    SocleId,
};
pub use issued_nru::{
    IssuedNru, IssuedNruError, VerificationCode, VerificationCodeError, looks_issued,
};
pub use plan::{
    Plan, PlanEntry, Reason, Refusal, RefusalCode, Register, Rule, Status, Summary, compute_plan,
    equivalence_reach,
};
pub use rem_diff::{ChangedField, ChangedRequirement, RemDiff};
pub use snapshot::{
    DepositedFile, ExpectedProof, GapKind, InstructionGap, MissingProof, PlanSnapshot,
    SnapshotEntry, SnapshotReason, SnapshotSummary, check_instruction_complete,
    check_verdict_target, current_proofs, instruction_gaps, missing_proofs,
};
pub use version::Version;
pub use workflow::{CandidatureStatus, Verdict, WorkflowConflict, check_holder, holder_after};
