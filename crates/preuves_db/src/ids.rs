//! The identifiers every repository shares: row ids, who acts ([`Actor`]) and a session's
//! token hash ([`TokenHash`]). They are the
//! bottom of the crate's module graph (they import no other module), so repositories can name
//! each other's rows without importing each other.

use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::text::hex;

/// Declares a row id: a transparent `i64` newtype, printed as the number.
macro_rules! row_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    )*};
}

row_id! {
    /// A user's id.
    UserId;
    /// An organisation's id.
    OrganisationId;
    /// A solution's row id.
    SolutionId;
    /// A dispositif's id.
    DispositifId;
    /// A REM version's id (global, unlike its per-dispositif number
    /// [`crate::RemVersion::version`]).
    RemVersionId;
    /// A referencing's row id.
    ReferencingId;
    /// A candidature's row id.
    CandidatureId;
    /// A deposited proof's row id.
    ProofId;
    /// A complement request's row id.
    ComplementRequestId;
    /// An API token's row id.
    ApiTokenId;
}

/// Who makes a change: a signed-in user, or the platform itself (seeding, maintenance, CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A user account.
    User(UserId),
    /// The platform, acting on an operator's command or on its own.
    System,
}

impl Actor {
    /// The acting user, `None` for the platform.
    pub fn user(self) -> Option<UserId> {
        match self {
            Self::User(u) => Some(u),
            Self::System => None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{}", id.0),
            Self::System => f.write_str("system"),
        }
    }
}

/// The SHA-256 (hexadecimal) of a session token: what identifies a session in the database.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// Hashes a raw session token (as read from the cookie).
    pub fn of(raw_token: &str) -> Self {
        Self(hex(&Sha256::digest(raw_token.as_bytes())))
    }

    /// A hash read back from the database.
    pub(crate) fn from_stored(hash: String) -> Self {
        Self(hash)
    }

    /// The hash as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    // Only a prefix: enough to correlate log lines, not to look a session up.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", self.0.get(..8).unwrap_or(""))
    }
}
