//! The administrator's use cases: vendor organisations, user accounts, REM imports, referencings
//! recorded by hand and their suspension, withdrawal or restoration. Each takes the
//! [`crate::security::AdminCap`] (so it cannot run for anyone else), a transport-neutral input
//! validated once (every field at fault, keyed by the API's JSON field name), and calls one
//! audited `preuves_db` function naming the administrator as the actor.

pub(crate) mod organisations;
pub(crate) mod referencings;
pub(crate) mod rem_impact;
pub(crate) mod rem_import;
pub(crate) mod rem_staging;
pub(crate) mod users;

pub(crate) use super::{invalid, rejected};

/// Longest organisation, person, solution or component name accepted.
pub(crate) const MAX_NAME: usize = 200;
