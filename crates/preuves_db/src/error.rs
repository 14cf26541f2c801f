//! The error of the persistence layer, and the one place where backend errors are mapped:
//! unique violations become [`DbError::Conflict`] naming the constraint the same way on both
//! backends (PostgreSQL gives the constraint name; SQLite only `table.column`, translated here).

use preuves_domain::CatalogueError;

/// The stable names of the unique constraints callers may want to react to (the PostgreSQL
/// constraint names; SQLite violations are translated to the same names).
pub mod constraints {
    /// One organisation per SIREN.
    pub const ORGANISATION_SIREN: &str = "organisations_siren_key";
    /// One account per e-mail address, case-insensitively.
    pub const USER_EMAIL: &str = "users_email_key";
    /// One dispositif per code and wave.
    pub const DISPOSITIF_CODE_WAVE: &str = "dispositifs_code_wave_key";
    /// One REM version number per dispositif.
    pub const REM_VERSION: &str = "rem_versions_dispositif_version_key";
    /// One REM version label per dispositif.
    pub const REM_VERSION_LABEL: &str = "rem_versions_dispositif_label_key";
    /// One requirement id per REM version.
    pub const REQUIREMENT_CODE: &str = "requirements_version_code_key";
    /// One position per REM version.
    pub const REQUIREMENT_ORDINAL: &str = "requirements_version_ordinal_key";
    /// One row per equivalence pair.
    pub const EQUIVALENCE_PAIR: &str = "equivalence_pairs_key";
    /// One referencing per NRU.
    pub const REFERENCING_NRU: &str = "referencings_nru_key";
    /// One session per token.
    pub const SESSION_TOKEN: &str = "sessions_pkey";
    /// One audit entry per position in the chain.
    pub const AUDIT_ENTRY: &str = "audit_log_pkey";
}

/// SQLite names a unique violation by its columns (`UNIQUE constraint failed: users.email_key`);
/// this table gives the constraint name for each column list.
const SQLITE_UNIQUE_COLUMNS: &[(&str, &str)] = &[
    ("organisations.siren", constraints::ORGANISATION_SIREN),
    ("users.email_key", constraints::USER_EMAIL),
    (
        "dispositifs.code, dispositifs.wave",
        constraints::DISPOSITIF_CODE_WAVE,
    ),
    (
        "rem_versions.dispositif_id, rem_versions.version",
        constraints::REM_VERSION,
    ),
    (
        "rem_versions.dispositif_id, rem_versions.label",
        constraints::REM_VERSION_LABEL,
    ),
    (
        "requirements.rem_version_id, requirements.requirement_code",
        constraints::REQUIREMENT_CODE,
    ),
    (
        "requirements.rem_version_id, requirements.ordinal",
        constraints::REQUIREMENT_ORDINAL,
    ),
    (
        "equivalence_pairs.a_dispositif, equivalence_pairs.a_requirement, equivalence_pairs.b_dispositif, equivalence_pairs.b_requirement",
        constraints::EQUIVALENCE_PAIR,
    ),
    ("referencings.nru", constraints::REFERENCING_NRU),
    ("sessions.token_hash", constraints::SESSION_TOKEN),
    ("audit_log.id", constraints::AUDIT_ENTRY),
];

/// What can go wrong in the persistence layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The object asked for, or one the change depends on, does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness constraint refused the change (see [`constraints`] for the names).
    #[error("conflict on unique constraint {constraint}")]
    Conflict {
        /// The constraint's name, the same on both backends.
        constraint: String,
    },
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
    Other(sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            let constraint = match db.constraint() {
                Some(name) => name.to_owned(),
                None => sqlite_constraint(db.message()),
            };
            return Self::Conflict { constraint };
        }
        if matches!(e, sqlx::Error::RowNotFound) {
            return Self::NotFound;
        }
        Self::Other(e)
    }
}

/// The constraint name of a SQLite unique-violation message, or the column list when unknown.
fn sqlite_constraint(message: &str) -> String {
    let columns = message
        .split_once("constraint failed:")
        .map_or(message, |(_, cols)| cols)
        .trim();
    SQLITE_UNIQUE_COLUMNS
        .iter()
        .find(|(cols, _)| *cols == columns)
        .map_or_else(|| columns.to_owned(), |(_, name)| (*name).to_owned())
}

impl DbError {
    /// Whether this is a conflict on `constraint`.
    pub fn is_conflict_on(&self, constraint: &str) -> bool {
        matches!(self, Self::Conflict { constraint: c } if c == constraint)
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }
}

/// Maps one named unique violation to the caller's own error, in one call at the call site.
pub trait ResultExt<T> {
    /// If `self` failed on unique constraint `constraint`, `map` gives the error to return;
    /// any other error is converted with `From<DbError>`.
    fn on_constraint<E: From<DbError>>(
        self,
        constraint: &str,
        map: impl FnOnce(DbError) -> E,
    ) -> Result<T, E>;
}

impl<T> ResultExt<T> for Result<T, DbError> {
    fn on_constraint<E: From<DbError>>(
        self,
        constraint: &str,
        map: impl FnOnce(DbError) -> E,
    ) -> Result<T, E> {
        self.map_err(|e| {
            if e.is_conflict_on(constraint) {
                map(e)
            } else {
                E::from(e)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_map_to_constraint_names() {
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: dispositifs.code, dispositifs.wave"),
            constraints::DISPOSITIF_CODE_WAVE
        );
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: users.email_key"),
            constraints::USER_EMAIL
        );
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: other.x"),
            "other.x"
        );
    }
}
