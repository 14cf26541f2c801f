//! The typed conflicts of the persistence layer, carried by [`DbError::Conflict`]: the state
//! conflicts of the candidature workflow ([`WorkflowConflict`], decided by the domain's rules),
//! the optimistic-concurrency conflicts, and the unique constraints callers may react to. Each
//! has a stable [`Conflict::code`], part of the API; callers match on the enum, never on text.
//!
//! [`DbError::Conflict`]: crate::DbError::Conflict

use preuves_domain::WorkflowConflict;

/// A change refused because of the current state of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Conflict {
    /// The object changed since the revision the caller based its change on (optimistic
    /// concurrency: the second of two concurrent saves is refused, nothing is changed).
    #[error("the object changed since the revision the change was based on")]
    StaleRevision,
    /// The grant no longer matches its draft ([`crate::Db::prepare_grant`]): the candidature,
    /// the register or the NRU sequence changed in between (another grant took the NRU, the day
    /// changed, ...). Nothing was recorded: delete the rendered attestation, prepare again.
    #[error("the grant no longer matches its draft")]
    GrantDraftStale,
    /// The candidature workflow refuses the change in the current status.
    #[error(transparent)]
    Workflow(#[from] WorkflowConflict),
    /// A uniqueness constraint refused the change.
    #[error("conflict on unique constraint {}", .0.code())]
    Unique(UniqueConstraint),
}

impl From<UniqueConstraint> for Conflict {
    fn from(c: UniqueConstraint) -> Self {
        Self::Unique(c)
    }
}

impl Conflict {
    /// The stable code (the workflow conflict's code, or the constraint's name).
    pub fn code(self) -> &'static str {
        match self {
            Self::StaleRevision => "stale_revision",
            Self::GrantDraftStale => "grant_draft_stale",
            Self::Workflow(w) => w.code(),
            Self::Unique(u) => u.code(),
        }
    }
}

/// The unique constraints callers may react to. Both backends name them the same way:
/// PostgreSQL gives the constraint name, SQLite only `table.column` (translated here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UniqueConstraint {
    /// One organisation per SIREN.
    OrganisationSiren,
    /// One account per e-mail address, case-insensitively.
    UserEmail,
    /// One dispositif per code and wave.
    DispositifCodeWave,
    /// One REM version number per dispositif.
    RemVersion,
    /// One REM version label per dispositif.
    RemVersionLabel,
    /// One requirement id per REM version.
    RequirementCode,
    /// One position per REM version.
    RequirementOrdinal,
    /// One row per equivalence pair.
    EquivalencePair,
    /// One referencing per NRU.
    ReferencingNru,
    /// One session per token.
    SessionToken,
    /// One audit entry per position in the chain.
    AuditEntry,
    /// One proof row per stored blob (a blob key is never recorded twice).
    ProofBlobKey,
}

impl UniqueConstraint {
    /// Every constraint.
    pub const ALL: [Self; 12] = [
        Self::OrganisationSiren,
        Self::UserEmail,
        Self::DispositifCodeWave,
        Self::RemVersion,
        Self::RemVersionLabel,
        Self::RequirementCode,
        Self::RequirementOrdinal,
        Self::EquivalencePair,
        Self::ReferencingNru,
        Self::SessionToken,
        Self::AuditEntry,
        Self::ProofBlobKey,
    ];

    /// The constraint's name in the PostgreSQL schema, its stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::OrganisationSiren => "organisations_siren_key",
            Self::UserEmail => "users_email_key",
            Self::DispositifCodeWave => "dispositifs_code_wave_key",
            Self::RemVersion => "rem_versions_dispositif_version_key",
            Self::RemVersionLabel => "rem_versions_dispositif_label_key",
            Self::RequirementCode => "requirements_version_code_key",
            Self::RequirementOrdinal => "requirements_version_ordinal_key",
            Self::EquivalencePair => "equivalence_pairs_key",
            Self::ReferencingNru => "referencings_nru_key",
            Self::SessionToken => "sessions_pkey",
            Self::AuditEntry => "audit_log_pkey",
            Self::ProofBlobKey => "proofs_blob_key_key",
        }
    }

    /// The columns SQLite names in its message for this constraint.
    fn sqlite_columns(self) -> &'static str {
        match self {
            Self::OrganisationSiren => "organisations.siren",
            Self::UserEmail => "users.email_key",
            Self::DispositifCodeWave => "dispositifs.code, dispositifs.wave",
            Self::RemVersion => "rem_versions.dispositif_id, rem_versions.version",
            Self::RemVersionLabel => "rem_versions.dispositif_id, rem_versions.label",
            Self::RequirementCode => "requirements.rem_version_id, requirements.requirement_code",
            Self::RequirementOrdinal => "requirements.rem_version_id, requirements.ordinal",
            Self::EquivalencePair => {
                "equivalence_pairs.a_dispositif, equivalence_pairs.a_requirement, \
                 equivalence_pairs.b_dispositif, equivalence_pairs.b_requirement"
            }
            Self::ReferencingNru => "referencings.nru",
            Self::SessionToken => "sessions.token_hash",
            Self::AuditEntry => "audit_log.id",
            Self::ProofBlobKey => "proofs.blob_key",
        }
    }

    /// The constraint PostgreSQL names `name`, if it is one of these.
    pub(crate) fn from_postgres(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == name)
    }

    /// The constraint of a SQLite unique-violation message
    /// (`UNIQUE constraint failed: users.email_key`), if it is one of these.
    pub(crate) fn from_sqlite_message(message: &str) -> Option<Self> {
        let columns = message
            .split_once("constraint failed:")
            .map_or(message, |(_, cols)| cols)
            .trim();
        Self::ALL
            .into_iter()
            .find(|c| c.sqlite_columns() == columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_map_to_constraints() {
        assert_eq!(
            UniqueConstraint::from_sqlite_message(
                "UNIQUE constraint failed: dispositifs.code, dispositifs.wave"
            ),
            Some(UniqueConstraint::DispositifCodeWave)
        );
        assert_eq!(
            UniqueConstraint::from_sqlite_message("UNIQUE constraint failed: users.email_key"),
            Some(UniqueConstraint::UserEmail)
        );
        assert_eq!(
            UniqueConstraint::from_sqlite_message(
                "UNIQUE constraint failed: equivalence_pairs.a_dispositif, \
                 equivalence_pairs.a_requirement, equivalence_pairs.b_dispositif, \
                 equivalence_pairs.b_requirement"
            ),
            Some(UniqueConstraint::EquivalencePair)
        );
        assert_eq!(
            UniqueConstraint::from_sqlite_message("UNIQUE constraint failed: other.x"),
            None
        );
    }

    #[test]
    fn codes_are_stable_and_distinct() {
        for c in UniqueConstraint::ALL {
            assert_eq!(UniqueConstraint::from_postgres(c.code()), Some(c));
            assert_eq!(Conflict::Unique(c).code(), c.code());
        }
        assert_eq!(UniqueConstraint::from_postgres("nru_sequences_pkey"), None);
        let mut codes: Vec<&str> = UniqueConstraint::ALL.iter().map(|c| c.code()).collect();
        codes.extend(WorkflowConflict::ALL.iter().map(|c| c.code()));
        codes.extend([
            Conflict::StaleRevision.code(),
            Conflict::GrantDraftStale.code(),
        ]);
        let n = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), n);
        assert_eq!(Conflict::StaleRevision.code(), "stale_revision");
        assert_eq!(
            Conflict::from(WorkflowConflict::NotDraft).code(),
            "candidature_not_draft"
        );
    }
}
