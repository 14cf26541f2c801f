//! Personal API tokens: created by a signed-in user, sent as `Authorization: Bearer <token>`.
//!
//! Like a session, a token is a random 256-bit value the caller generates and shows once; the
//! database keeps only its SHA-256 ([`TokenHash`]), so a leaked table yields no usable token. A
//! token has a name (for its owner's list), a [`TokenScope`], an expiry, and can be revoked; it
//! stops working when its user is disabled. Creation and revocation are audited (never with the
//! token or its hash); a use only moves `last_used_at`, at most as often as the caller decides.

use std::fmt;

use serde_json::json;

use crate::error::{Refused, RequiredText};
use crate::ids::TokenHash;
use crate::ids::{Actor, ApiTokenId, UserId};
use crate::time::Timestamp;
use crate::users::{User, UserRow};
use crate::{Db, DbError, Result};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenScope {
    /// Read only: every write is refused.
    Read,
    /// Read, and write what the user may write in the pages.
    ReadWrite,
}

impl TokenScope {
    /// The stable code (`read`, `read_write`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadWrite => "read_write",
        }
    }

    /// Parses the stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Read, Self::ReadWrite]
            .into_iter()
            .find(|s| s.code() == code)
    }

    /// The French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Read => "lecture",
            Self::ReadWrite => "lecture et écriture",
        }
    }

    /// Whether writes are allowed.
    pub fn can_write(self) -> bool {
        self == Self::ReadWrite
    }
}

/// What is needed to create a token.
pub struct NewApiToken<'a> {
    /// Its owner.
    pub user: UserId,
    /// Its name, as the owner typed it.
    pub name: &'a str,
    /// The hash of the token shown to the owner.
    pub token_hash: &'a TokenHash,
    /// What it may do.
    pub scope: TokenScope,
    /// Now.
    pub now: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
}

impl fmt::Debug for NewApiToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiToken")
            .field("user", &self.user)
            .field("name", &self.name)
            .field("token_hash", &self.token_hash)
            .field("scope", &self.scope)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A stored token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Its id.
    pub id: ApiTokenId,
    /// Its owner.
    pub user: UserId,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// When it was last used (to the minute).
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    /// Whether it still works at `now` (its user's state aside).
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// A valid token and its (active) user, as found for a request.
#[derive(Debug, Clone)]
pub struct ApiTokenGrant {
    /// The token.
    pub token: ApiToken,
    /// Its user.
    pub user: User,
}

struct TokenRow {
    token_id: i64,
    user_id: i64,
    name: String,
    scope: String,
    token_created_at: i64,
    expires_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

crate::row::impl_from_row!(TokenRow {
    token_id,
    user_id,
    name,
    scope,
    token_created_at,
    expires_at,
    last_used_at,
    revoked_at
});

impl TryFrom<TokenRow> for ApiToken {
    type Error = DbError;
    fn try_from(r: TokenRow) -> Result<Self> {
        Ok(Self {
            id: ApiTokenId(r.token_id),
            user: UserId(r.user_id),
            name: r.name,
            scope: TokenScope::from_code(&r.scope)
                .ok_or_else(|| DbError::corrupt(format!("unknown token scope `{}`", r.scope)))?,
            created_at: Timestamp::from_millis(r.token_created_at),
            expires_at: Timestamp::from_millis(r.expires_at),
            last_used_at: r.last_used_at.map(Timestamp::from_millis),
            revoked_at: r.revoked_at.map(Timestamp::from_millis),
        })
    }
}

struct GrantRow {
    token: TokenRow,
    user: UserRow,
}

crate::row::impl_from_row!(GrantRow { } flatten { token, user });

/// The token columns, aliased apart from the user columns they are joined with.
const TOKEN_COLUMNS: &str = "t.id AS token_id, t.user_id, t.name, t.scope, \
     t.created_at AS token_created_at, t.expires_at, t.last_used_at, t.revoked_at";

impl Db {
    /// Creates a token for `new.user`. The caller generates the token, shows it once and passes
    /// its hash; the audit entry names the token's id, name, scope and expiry, never the token.
    /// An empty name or an expiry not after `now` gives [`Refused::Blank`] or [`Refused::TokenExpiryPast`].
    pub async fn create_api_token(&self, new: &NewApiToken<'_>, actor: &Actor) -> Result<ApiToken> {
        let name = new.name.trim();
        if name.is_empty() {
            return Err(Refused::Blank(RequiredText::TokenName).into());
        }
        if new.expires_at <= new.now {
            return Err(Refused::TokenExpiryPast.into());
        }
        let mut tx = self.begin_audited().await?;
        let row: TokenRow = sqlx::query_as(
            "INSERT INTO api_tokens (user_id, name, token_hash, scope, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id AS token_id, user_id, name, scope, \
             created_at AS token_created_at, expires_at, last_used_at, revoked_at",
        )
        .bind(new.user.0)
        .bind(crate::text::without_bidi_controls(name))
        .bind(new.token_hash.as_str())
        .bind(new.scope.code())
        .bind(new.now.as_millis())
        .bind(new.expires_at.as_millis())
        .fetch_one(tx.conn())
        .await?;
        let token = ApiToken::try_from(row)?;
        tx.record(
            actor,
            "api_token.create",
            "user",
            &new.user.to_string(),
            json!({
                "token": token.id.0,
                "name": token.name,
                "scope": token.scope.code(),
                "expires_at": token.expires_at,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The tokens of `user`, newest first (revoked and expired ones included, for the list).
    pub async fn list_api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>> {
        let rows: Vec<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.id DESC"
        ))
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ApiToken::try_from).collect()
    }

    /// The token with this hash if it is not revoked, not expired at `now`, and its user is
    /// active; one query.
    pub async fn find_valid_api_token(
        &self,
        token_hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<ApiTokenGrant>> {
        let row: Option<GrantRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS}, u.id, u.email, u.display_name, u.role, u.organisation_id, \
             u.created_at, u.disabled_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 \
             AND u.disabled_at IS NULL"
        ))
        .bind(token_hash.as_str())
        .bind(now.as_millis())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(ApiTokenGrant {
                token: ApiToken::try_from(r.token)?,
                user: User::try_from(r.user)?,
            })
        })
        .transpose()
    }

    /// Records a use of a token at `now`. Not audited: it changes no platform state, and the
    /// caller does it at most once a minute per token.
    pub async fn touch_api_token(&self, id: ApiTokenId, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now.as_millis())
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Revokes a token of `user` at `now`. Another user's token, or an unknown one, gives
    /// [`DbError::NotFound`]; revoking a revoked token changes nothing and is not an error.
    pub async fn revoke_api_token(
        &self,
        user: UserId,
        id: ApiTokenId,
        now: Timestamp,
        actor: &Actor,
    ) -> Result<ApiToken> {
        let mut tx = self.begin_audited().await?;
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.id = $1 AND t.user_id = $2"
        ))
        .bind(id.0)
        .bind(user.0)
        .fetch_optional(tx.conn())
        .await?;
        let before = ApiToken::try_from(row.ok_or(DbError::NotFound)?)?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(now.as_millis())
            .bind(id.0)
            .execute(tx.conn())
            .await?;
        tx.record(
            actor,
            "api_token.revoke",
            "user",
            &user.to_string(),
            json!({ "token": id.0, "name": before.name }),
        )
        .await?;
        tx.commit().await?;
        Ok(ApiToken {
            revoked_at: Some(now),
            ..before
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::users::{NewUser, Role};

    const DAY: Duration = Duration::from_secs(24 * 3600);

    async fn check_backend(db: Db) {
        let user = db
            .create_user(
                &NewUser {
                    email: "jetons@example.fr",
                    display_name: "Jeanne",
                    role: Role::Instructor,
                    organisation: None,
                    password_hash: "h",
                },
                &Actor::System,
            )
            .await
            .unwrap();
        let t0 = Timestamp::from_millis(1_800_000_000_000);
        let hash = TokenHash::of("raw-api-token");
        let new = NewApiToken {
            user: user.id,
            name: "  CI  ",
            token_hash: &hash,
            scope: TokenScope::Read,
            now: t0,
            expires_at: t0.plus(DAY),
        };
        let created = db
            .create_api_token(&new, &Actor::User(user.id))
            .await
            .unwrap();
        assert_eq!(created.name, "CI");
        assert_eq!(created.scope, TokenScope::Read);
        assert!(created.last_used_at.is_none());
        let found = db
            .find_valid_api_token(&hash, t0.plus(Duration::from_secs(1)))
            .await
            .unwrap()
            .expect("a valid token");
        assert_eq!(found.token, created);
        assert_eq!(found.user.id, user.id);
        assert!(
            db.find_valid_api_token(&TokenHash::of("other"), t0)
                .await
                .unwrap()
                .is_none()
        );
        // Expiry is enforced by the query.
        assert!(
            db.find_valid_api_token(&hash, t0.plus(DAY))
                .await
                .unwrap()
                .is_none()
        );
        db.touch_api_token(created.id, t0.plus(Duration::from_secs(5)))
            .await
            .unwrap();
        let listed = db.list_api_tokens(user.id).await.unwrap();
        assert_eq!(
            listed[0].last_used_at,
            Some(t0.plus(Duration::from_secs(5)))
        );
        // Only its owner revokes it; then it no longer works.
        let other = UserId(user.id.0 + 1000);
        assert!(matches!(
            db.revoke_api_token(other, created.id, t0, &Actor::System)
                .await,
            Err(DbError::NotFound)
        ));
        let revoked = db
            .revoke_api_token(user.id, created.id, t0, &Actor::User(user.id))
            .await
            .unwrap();
        assert_eq!(revoked.revoked_at, Some(t0));
        assert!(!revoked.is_usable(t0));
        assert!(db.find_valid_api_token(&hash, t0).await.unwrap().is_none());
        // Disabled users' tokens stop working.
        let hash2 = TokenHash::of("second-token");
        db.create_api_token(
            &NewApiToken {
                token_hash: &hash2,
                scope: TokenScope::ReadWrite,
                ..new
            },
            &Actor::System,
        )
        .await
        .unwrap();
        assert!(db.find_valid_api_token(&hash2, t0).await.unwrap().is_some());
        db.set_user_disabled(user.id, true, &Actor::System)
            .await
            .unwrap();
        assert!(db.find_valid_api_token(&hash2, t0).await.unwrap().is_none());
        // Neither the token nor its hash reaches the audit trail.
        for e in db.audit_entries(0, 1000).await.unwrap() {
            assert!(!e.details.contains(hash.as_str()) && !e.details.contains("raw-api-token"));
        }
        assert!(
            db.create_api_token(&NewApiToken { name: " ", ..new }, &Actor::System)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn tokens_round_trip_expire_and_are_revoked_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&Db::sqlite_url(&dir.path().join("t.db")))
            .await
            .unwrap();
        check_backend(db).await;
    }

    #[tokio::test]
    async fn tokens_round_trip_expire_and_are_revoked_on_postgres() {
        use sqlx::{Connection, Executor};
        let Ok(admin_url) = std::env::var("PREUVES_TEST_POSTGRES_URL") else {
            return;
        };
        sqlx::any::install_default_drivers();
        let name = format!("preuves_tokens_{}", std::process::id());
        let mut admin = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
        admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await
            .unwrap();
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let db = Db::connect(&format!("{base}/{name}")).await.unwrap();
        check_backend(db.clone()).await;
        db.close().await;
        admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await
            .unwrap();
    }
}
