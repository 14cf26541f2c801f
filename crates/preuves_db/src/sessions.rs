//! Sign-in sessions, kept in the database so that several server processes share them.
//!
//! The browser holds a random token; the database holds only its SHA-256 ([`TokenHash`]), so a
//! leaked table does not let anyone sign in. Each session carries its CSRF token. Times are given
//! by the caller (`now`), which keeps expiry rules in one place and testable.

use std::fmt;

use serde_json::json;

use crate::ids::{Actor, TokenHash, UserId};
use crate::time::Timestamp;
use crate::users::{User, UserRow};
use crate::{Db, DbError, Result};

/// What is needed to open a session.
pub struct NewSession<'a> {
    /// The hash of the token given to the browser.
    pub token_hash: &'a TokenHash,
    /// The signed-in user.
    pub user: UserId,
    /// The session's CSRF token (the forms' hidden field).
    pub csrf_token: &'a str,
    /// Now.
    pub now: Timestamp,
    /// When the session ends unless touched.
    pub expires_at: Timestamp,
}

impl fmt::Debug for NewSession<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("token_hash", &self.token_hash)
            .field("user", &self.user)
            .field("csrf_token", &"<redacted>")
            .field("now", &self.now)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A valid session and its user.
#[derive(Clone)]
pub struct Session {
    /// The token's hash.
    pub token_hash: TokenHash,
    /// The signed-in user (active: sessions of disabled accounts are not returned).
    pub user: User,
    /// The CSRF token forms must echo.
    pub csrf_token: String,
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it ends unless touched.
    pub expires_at: Timestamp,
    /// When it was last used.
    pub last_seen: Timestamp,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("token_hash", &self.token_hash)
            .field("user", &self.user)
            .field("csrf_token", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("last_seen", &self.last_seen)
            .finish()
    }
}

struct SessionRow {
    token_hash: String,
    csrf_token: String,
    session_created_at: i64,
    expires_at: i64,
    last_seen: i64,
    user: UserRow,
}

crate::row::impl_from_row!(SessionRow { token_hash, csrf_token, session_created_at, expires_at, last_seen } flatten { user });

impl Db {
    /// Opens a session (at sign-in). The caller generates the token, gives it to the browser and
    /// passes its hash; the audit entry names the user, never the token.
    pub async fn create_session(&self, new: &NewSession<'_>, actor: &Actor) -> Result<()> {
        let mut tx = self.begin_audited().await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen) \
             VALUES ($1, $2, $3, $4, $5, $4)",
        )
        .bind(new.token_hash.as_str())
        .bind(new.user.0)
        .bind(new.csrf_token)
        .bind(new.now.as_millis())
        .bind(new.expires_at.as_millis())
        .execute(tx.conn())
        .await?;
        tx.record(
            actor,
            "session.create",
            "user",
            &new.user.to_string(),
            json!({ "expires_at": new.expires_at }),
        )
        .await?;
        tx.commit().await
    }

    /// The session with this token hash if it has not expired at `now` and its user is active.
    pub async fn find_valid_session(
        &self,
        token_hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<Session>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.token_hash, s.csrf_token, s.created_at AS session_created_at, \
                    s.expires_at, s.last_seen, \
                    u.id, u.email, u.display_name, u.role, u.organisation_id, u.created_at, \
                    u.disabled_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
        )
        .bind(token_hash.as_str())
        .bind(now.as_millis())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Session {
                token_hash: TokenHash::from_stored(r.token_hash),
                user: User::try_from(r.user)?,
                csrf_token: r.csrf_token,
                created_at: Timestamp::from_millis(r.session_created_at),
                expires_at: Timestamp::from_millis(r.expires_at),
                last_seen: Timestamp::from_millis(r.last_seen),
            })
        })
        .transpose()
    }

    /// Records a use of the session at `now` and moves its end to `expires_at` (sliding expiry).
    /// Not audited: it happens on every request and changes no platform state.
    pub async fn touch_session(
        &self,
        token_hash: &TokenHash,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE sessions SET last_seen = $1, expires_at = $2 WHERE token_hash = $3",
        )
        .bind(now.as_millis())
        .bind(expires_at.as_millis())
        .bind(token_hash.as_str())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// Ends one session (sign-out). Ending a session that no longer exists is not an error.
    pub async fn delete_session(&self, token_hash: &TokenHash, actor: &Actor) -> Result<()> {
        let mut tx = self.begin_audited().await?;
        let user: Option<(i64,)> =
            sqlx::query_as("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id")
                .bind(token_hash.as_str())
                .fetch_optional(tx.conn())
                .await?;
        if let Some((user,)) = user {
            tx.record(
                actor,
                "session.delete",
                "user",
                &user.to_string(),
                json!({}),
            )
            .await?;
        }
        tx.commit().await
    }

    /// Ends every session of a user (sign out everywhere); returns how many there were.
    pub async fn delete_sessions_of(&self, user: UserId, actor: &Actor) -> Result<u64> {
        let mut tx = self.begin_audited().await?;
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.0)
            .execute(tx.conn())
            .await?;
        tx.record(
            actor,
            "session.delete_all",
            "user",
            &user.to_string(),
            json!({ "sessions": done.rows_affected() }),
        )
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Deletes the sessions expired at `now` (housekeeping, not audited); returns how many.
    pub async fn purge_expired_sessions(&self, now: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.as_millis())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
