//! The error of the persistence layer, and the one place where backend errors are mapped:
//! unique violations of a known constraint become [`DbError::Conflict`] with the same
//! [`UniqueConstraint`] on both backends (PostgreSQL gives the constraint name; SQLite only
//! `table.column`, translated in [`crate::conflicts`]); any other database error keeps its
//! source in [`DbError::Other`].
//!
//! What a caller gave that cannot be stored is data too: [`Refused`] names each case (the
//! engine's refusals among them), so that the front doors word it once; [`DbError::Contract`]
//! is for a caller that broke this API's contract (a bug, or an operator's command-line
//! argument), never for a user's input.

use preuves_domain::{CatalogueError, DispositifKey, Refusal, Verdict, WorkflowConflict};

use crate::conflicts::{Conflict, UniqueConstraint};

/// What can go wrong in the persistence layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The object asked for, or one the change depends on, does not exist.
    #[error("not found")]
    NotFound,
    /// The change conflicts with the current state: a workflow rule, a concurrent change, or a
    /// known unique constraint.
    #[error("conflict: {0}")]
    Conflict(#[from] Conflict),
    /// The act is refused for what it was given (see [`Refused`]).
    #[error("refused: {0}")]
    Refused(#[from] Refused),
    /// The caller broke this API's contract (a malformed SHA-256, a grant draft of another
    /// candidature, a database URL of an unknown scheme...): not a user's input, which is
    /// validated before it reaches this layer or refused with [`Refused`].
    #[error("contract broken: {0}")]
    Contract(String),
    /// Stored data no longer parses into the domain types (edited by hand, or a bug).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The stored catalogue is inconsistent.
    #[error("stored catalogue is inconsistent: {0}")]
    Catalogue(#[from] CatalogueError),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            let known = match db.constraint() {
                Some(name) => UniqueConstraint::from_postgres(name),
                None => UniqueConstraint::from_sqlite_message(db.message()),
            };
            // An unknown unique violation is a bug, not a state callers react to: it stays an
            // internal error with its source.
            if let Some(constraint) = known {
                return Self::Conflict(Conflict::Unique(constraint));
            }
        }
        if matches!(e, sqlx::Error::RowNotFound) {
            return Self::NotFound;
        }
        Self::Other(e)
    }
}

impl From<WorkflowConflict> for DbError {
    fn from(c: WorkflowConflict) -> Self {
        Self::Conflict(Conflict::Workflow(c))
    }
}

impl From<UniqueConstraint> for DbError {
    fn from(c: UniqueConstraint) -> Self {
        Self::Conflict(Conflict::Unique(c))
    }
}

impl DbError {
    /// Whether this is the conflict `conflict` (a [`Conflict`], a [`WorkflowConflict`] or a
    /// [`UniqueConstraint`]).
    pub fn is_conflict(&self, conflict: impl Into<Conflict>) -> bool {
        matches!(self, Self::Conflict(c) if *c == conflict.into())
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }
}

/// A text an act requires, refused when blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequiredText {
    /// A solution's name.
    SolutionName,
    /// A solution's main component.
    MainComponent,
    /// The message of a complement request.
    ComplementMessage,
    /// The vendor's answer to a complement request.
    ComplementAnswer,
    /// The reason of a refusal.
    RefusalReason,
    /// An API token's name.
    TokenName,
}

/// Why an act is refused for what it was given. English `Display` for logs; the French
/// wording and the stable codes belong to the front doors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The engine refuses the candidature: its refusals, in the order gathered.
    #[error("the plan engine refuses the candidature ({})", codes(.0))]
    Plan(Vec<Refusal>),
    /// Warnings that block a submission only (R6's `missing_honour_statement`).
    #[error("the submission is blocked ({})", codes(.0))]
    SubmissionBlocked(Vec<Refusal>),
    /// A candidature must target a vague-2 dispositif.
    #[error("{0} is not a vague-2 dispositif")]
    TargetNotVague2(DispositifKey),
    /// A REM is imported onto a vague-1 dispositif, which has none.
    #[error("{0} is a vague-1 dispositif: it has no REM")]
    RemOnVague1(DispositifKey),
    /// A required text is blank.
    #[error("{0:?} is blank")]
    Blank(RequiredText),
    /// A complement request names a requirement the frozen plan asks no proof for.
    #[error("requirement {0} is not to deposit in this candidature's plan")]
    NotToDeposit(String),
    /// A deposit names a requirement absent from the candidature's REM version.
    #[error("requirement {0} is not in the candidature's REM version")]
    UnknownRequirement(String),
    /// A deposit names a proof the requirement does not expect.
    #[error("requirement {requirement} expects no proof {scenario}.{proof}")]
    UnknownProof {
        /// The requirement.
        requirement: String,
        /// The scenario's position.
        scenario: i64,
        /// The proof's position.
        proof: i64,
    },
    /// A candidature is assigned to an account that is not an active instructor's.
    #[error("account {0} is not an active instructor's")]
    NotAnActiveInstructor(i64),
    /// This verdict needs a comment.
    #[error("a {} verdict needs a comment", .0.code())]
    VerdictNeedsComment(Verdict),
    /// The instruction queue holds candidatures under review only.
    #[error("the instruction queue holds candidatures under review only")]
    QueueStatusNotUnderReview,
    /// An API token's expiry is not in the future.
    #[error("an API token must expire in the future")]
    TokenExpiryPast,
    /// A vendor account needs an organisation, and only a vendor account has one.
    #[error("a vendor account needs an organisation, and only a vendor account has one")]
    VendorOrganisation,
}

fn codes(refusals: &[Refusal]) -> String {
    refusals
        .iter()
        .map(|r| r.code.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Maps one named unique violation to the caller's own error, in one call at the call site.
pub trait ResultExt<T> {
    /// If `self` failed with the conflict `conflict` (typically a [`UniqueConstraint`]), `map`
    /// gives the error to return; any other error is converted with `From<DbError>`.
    fn on_constraint<E: From<DbError>>(
        self,
        conflict: impl Into<Conflict>,
        map: impl FnOnce(DbError) -> E,
    ) -> Result<T, E>;
}

impl<T> ResultExt<T> for Result<T, DbError> {
    fn on_constraint<E: From<DbError>>(
        self,
        conflict: impl Into<Conflict>,
        map: impl FnOnce(DbError) -> E,
    ) -> Result<T, E> {
        let conflict = conflict.into();
        self.map_err(|e| {
            if e.is_conflict(conflict) {
                map(e)
            } else {
                E::from(e)
            }
        })
    }
}
