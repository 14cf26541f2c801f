//! The error of the persistence layer, and the one place where backend errors are mapped:
//! unique violations of a known constraint become [`DbError::Conflict`] with the same
//! [`UniqueConstraint`] on both backends (PostgreSQL gives the constraint name; SQLite only
//! `table.column`, translated in [`crate::conflicts`]); any other database error keeps its
//! source in [`DbError::Other`].

use preuves_domain::{CatalogueError, WorkflowConflict};

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
    /// The request cannot be stored as asked (for example a REM on a vague-1 dispositif).
    #[error("invalid request: {0}")]
    Invalid(String),
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
