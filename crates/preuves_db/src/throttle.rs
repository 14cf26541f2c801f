//! Login throttling: failed sign-ins recorded per e-mail address (lower-cased) and per client
//! address, counted over a window against limits the caller decides.
//!
//! A sign-in first *reserves* its attempt ([`Db::reserve_login_attempt`]): in one statement,
//! under the write lock, the limits are checked and the attempt is recorded, pending. Only then
//! is the password checked: a success releases the reservation ([`Db::release_login_attempt`]),
//! a failure settles it ([`Db::settle_login_failure`]). The limits per e-mail address count
//! pending attempts too, so parallel attempts on one account cannot all pass the check before
//! any of them is counted; the limit per client counts settled failures only, so that many
//! people signing in at once behind one address (a proxy, a deadline rush) are not refused.
//!
//! The limits are per e-mail address *and* client (someone guessing one account's password), per
//! client (someone trying many accounts) and per e-mail address from every client (a distributed
//! guess); the first is the tightest, so that a third party cannot lock an account out from
//! another address. An administrator can forget an account's failures at once
//! ([`Db::unlock_sign_in`], audited).
//!
//! Failures themselves are not audited: they are their own log, and writing the audit chain on
//! every bad password would let anyone grow it at will.

use serde_json::json;

use crate::ids::{Actor, UserId};
use crate::time::Timestamp;
use crate::users::email_key;
use crate::{Backend, Db, DbError, Result};

/// Failed sign-ins since an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailureCounts {
    /// For this e-mail address, from any client.
    pub by_email: u64,
    /// From this client address, for any e-mail address.
    pub by_address: u64,
}

/// The limits a sign-in attempt is reserved against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Only failures after this instant count (the start of the window).
    pub since: Timestamp,
    /// Failures for one e-mail address from one client.
    pub per_email_and_client: u64,
    /// Settled failures from one client, for any e-mail address.
    pub per_client: u64,
    /// Failures for one e-mail address, from every client.
    pub per_email: u64,
}

/// A reserved sign-in attempt: counted as a failure until [`Db::release_login_attempt`], and
/// against its client too once [`Db::settle_login_failure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a successful sign-in releases its attempt"]
pub struct LoginAttempt(i64);

fn limit(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Db {
    /// Reserves a sign-in attempt for `email` from `client_addr` at `now`: records it as a
    /// failure and returns it, or `None` (nothing recorded) when one of `limits` is reached.
    /// Atomic: the counts and the insertion are one statement under the write lock (on
    /// PostgreSQL, the table is locked against other reservations for the transaction).
    pub async fn reserve_login_attempt(
        &self,
        email: &str,
        client_addr: &str,
        now: Timestamp,
        limits: &LoginLimits,
    ) -> Result<Option<LoginAttempt>> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            // SHARE ROW EXCLUSIVE conflicts with itself: reservations queue, readers do not.
            sqlx::query("LOCK TABLE login_failures IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        let id: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO login_failures (email_key, client_addr, at, pending) \
             SELECT $1, $2, $3, 1 WHERE \
             (SELECT COUNT(*) FROM login_failures \
                WHERE email_key = $1 AND client_addr = $2 AND at > $4) < $5 \
             AND (SELECT COUNT(*) FROM login_failures \
                WHERE client_addr = $2 AND at > $4 AND pending = 0) < $6 \
             AND (SELECT COUNT(*) FROM login_failures WHERE email_key = $1 AND at > $4) < $7 \
             RETURNING id",
        )
        .bind(email_key(email))
        .bind(client_addr)
        .bind(now.as_millis())
        .bind(limits.since.as_millis())
        .bind(limit(limits.per_email_and_client))
        .bind(limit(limits.per_client))
        .bind(limit(limits.per_email))
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id.map(|(id,)| LoginAttempt(id)))
    }

    /// Settles a reserved attempt as a failure (a wrong password): it now counts against the
    /// client too.
    pub async fn settle_login_failure(&self, attempt: LoginAttempt) -> Result<()> {
        sqlx::query("UPDATE login_failures SET pending = 0 WHERE id = $1")
            .bind(attempt.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Releases a reserved attempt after a successful sign-in, with the earlier failures of the
    /// same e-mail address from the same client. Failures from other clients are kept: signing
    /// in does not reset the counters of an address guessing this account's password.
    pub async fn release_login_attempt(
        &self,
        attempt: LoginAttempt,
        email: &str,
        client_addr: &str,
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM login_failures WHERE id = $1 OR (email_key = $2 AND client_addr = $3)",
        )
        .bind(attempt.0)
        .bind(email_key(email))
        .bind(client_addr)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Lets an account sign in again at once: forgets every failure recorded for its e-mail
    /// address, from any client (audited, `user.unlock`). Returns how many were forgotten.
    pub async fn unlock_sign_in(&self, user: UserId, actor: &Actor) -> Result<u64> {
        let mut tx = self.begin_audited().await?;
        let key: Option<(String,)> = sqlx::query_as("SELECT email_key FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_optional(tx.conn())
            .await?;
        let (key,) = key.ok_or(DbError::NotFound)?;
        let done = sqlx::query("DELETE FROM login_failures WHERE email_key = $1")
            .bind(&key)
            .execute(tx.conn())
            .await?;
        tx.record(
            actor,
            "user.unlock",
            "user",
            &user.to_string(),
            json!({ "failures_forgotten": done.rows_affected() }),
        )
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Records a failed sign-in for `email` from `client_addr` at `at`.
    pub async fn record_login_failure(
        &self,
        email: &str,
        client_addr: &str,
        at: Timestamp,
    ) -> Result<()> {
        sqlx::query("INSERT INTO login_failures (email_key, client_addr, at) VALUES ($1, $2, $3)")
            .bind(email_key(email))
            .bind(client_addr)
            .bind(at.as_millis())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Counts the failures after `since` for `email` and for `client_addr`.
    pub async fn count_login_failures(
        &self,
        email: &str,
        client_addr: &str,
        since: Timestamp,
    ) -> Result<LoginFailureCounts> {
        let (by_email,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM login_failures WHERE email_key = $1 AND at > $2")
                .bind(email_key(email))
                .bind(since.as_millis())
                .fetch_one(&self.pool)
                .await?;
        let (by_address,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM login_failures WHERE client_addr = $1 AND at > $2",
        )
        .bind(client_addr)
        .bind(since.as_millis())
        .fetch_one(&self.pool)
        .await?;
        Ok(LoginFailureCounts {
            by_email: u64::try_from(by_email).unwrap_or(0),
            by_address: u64::try_from(by_address).unwrap_or(0),
        })
    }

    /// Forgets the failures of `email` (after a successful sign-in). The client address's
    /// failures are kept, so that signing in to one's own account does not reset the counter of
    /// an address that is guessing other accounts' passwords.
    pub async fn clear_login_failures(&self, email: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE email_key = $1")
            .bind(email_key(email))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes failures older than `before` (housekeeping); returns how many.
    pub async fn purge_login_failures(&self, before: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(before.as_millis())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
