//! API tokens as their owner's page shows them: the list (state, scope, dates) and the token
//! just created, shown once.

use preuves_db::{ApiToken, Timestamp};
use preuves_domain::ParisTime;

use crate::format::french_datetime;

/// A token in the list.
pub(crate) struct TokenRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) scope: &'static str,
    pub(crate) created: String,
    pub(crate) expires: String,
    pub(crate) last_used: String,
    pub(crate) state_code: &'static str,
    pub(crate) state_label: &'static str,
    pub(crate) active: bool,
}

impl TokenRow {
    /// A token as the list shows it at `now`: active, expired or revoked.
    pub(crate) fn of(t: &ApiToken, now: Timestamp) -> Self {
        let (state_code, state_label) = match (t.revoked_at, t.expires_at > now) {
            (Some(_), _) => ("withdrawn", "révoqué"),
            (None, false) => ("suspended", "expiré"),
            (None, true) => ("valid", "actif"),
        };
        Self {
            id: t.id.0,
            name: t.name.clone(),
            scope: t.scope.label(),
            created: french_datetime(t.created_at),
            // The last instant it works is the end of its day: show that day.
            expires: ParisTime::from_unix_millis(t.expires_at.as_millis() - 1)
                .date
                .to_french(),
            last_used: t
                .last_used_at
                .map_or_else(|| "jamais".to_owned(), french_datetime),
            state_code,
            state_label,
            active: t.is_usable(now),
        }
    }
}

/// A token just created, shown once.
pub(crate) struct Created {
    pub(crate) name: String,
    pub(crate) token: String,
    pub(crate) scope: &'static str,
    pub(crate) expires: String,
}
