//! Login throttling: failed sign-ins recorded per e-mail address (lower-cased) and per client
//! address, counted over a window by the caller, which decides the limits.
//!
//! Not audited: failures are their own log, and writing the audit chain on every bad password
//! would let anyone grow it at will.

use crate::time::Timestamp;
use crate::users::email_key;
use crate::{Db, Result};

/// Failed sign-ins since an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailureCounts {
    /// For this e-mail address, from any client.
    pub by_email: u64,
    /// From this client address, for any e-mail address.
    pub by_address: u64,
}

impl Db {
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
