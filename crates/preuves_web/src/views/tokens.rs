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

#[cfg(test)]
mod tests {
    use preuves_db::{ApiTokenId, TokenScope, UserId};
    use preuves_domain::IsoDate;

    use super::*;

    /// 2027-01-14T23:00Z: midnight in Paris (CET) at the end of 14 January 2027.
    const END_OF_JAN_14: i64 = 1_799_967_600_000;

    fn token(revoked: bool) -> ApiToken {
        ApiToken {
            id: ApiTokenId(7),
            user: UserId(1),
            name: "CI".to_owned(),
            scope: TokenScope::Read,
            created_at: Timestamp::from_millis(END_OF_JAN_14 - 30 * 86_400_000),
            expires_at: Timestamp::from_millis(END_OF_JAN_14),
            last_used_at: None,
            revoked_at: revoked.then(|| Timestamp::from_millis(END_OF_JAN_14 - 86_400_000)),
        }
    }

    #[test]
    fn a_token_row_tells_active_expired_and_revoked_and_shows_its_last_day() {
        let before = Timestamp::from_millis(END_OF_JAN_14 - 1);
        let after = Timestamp::from_millis(END_OF_JAN_14);
        let active = TokenRow::of(&token(false), before);
        assert_eq!((active.state_code, active.state_label), ("valid", "actif"));
        assert!(active.active);
        // The token works until the end of the 14th: the list shows the 14th, not the 15th.
        assert_eq!(
            active.expires,
            IsoDate::parse("2027-01-14").unwrap().to_french()
        );
        assert_eq!(active.last_used, "jamais");
        let expired = TokenRow::of(&token(false), after);
        assert_eq!(
            (expired.state_code, expired.state_label),
            ("suspended", "expiré")
        );
        assert!(!expired.active);
        let revoked = TokenRow::of(&token(true), before);
        assert_eq!(
            (revoked.state_code, revoked.state_label),
            ("withdrawn", "révoqué")
        );
        assert!(!revoked.active);
    }
}
