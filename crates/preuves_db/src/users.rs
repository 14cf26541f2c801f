//! User accounts: vendor staff (attached to an organisation), instructors and administrators.
//!
//! E-mail addresses are unique without regard to case: the lower-cased, trimmed address is kept
//! in `email_key` under a unique constraint, the address as typed in `email`. Password hashes are
//! computed by the caller (argon2id) and only stored here; they never appear in `Debug` output or
//! in the audit trail.

use std::fmt;

use serde::Serialize;
use serde_json::json;

use crate::error::Refused;
use crate::ids::{Actor, OrganisationId, UserId};
use crate::time::Timestamp;
use crate::{Db, DbError, Result};

/// What a user may do on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Vendor staff: files candidatures for its organisation.
    Vendor,
    /// ANS instructor: reviews candidatures and decides.
    Instructor,
    /// Catalogue and platform administrator.
    Admin,
}

impl Role {
    /// The stable code stored in the database (`vendor`, `instructor`, `admin`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Vendor => "vendor",
            Self::Instructor => "instructor",
            Self::Admin => "admin",
        }
    }

    /// Parses the stable code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "vendor" => Some(Self::Vendor),
            "instructor" => Some(Self::Instructor),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    /// The French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Vendor => "éditeur",
            Self::Instructor => "instructeur",
            Self::Admin => "administrateur",
        }
    }
}

/// The key under which an e-mail address is unique: trimmed and lower-cased.
pub(crate) fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// What is needed to create an account.
pub struct NewUser<'a> {
    /// E-mail address (unique without regard to case).
    pub email: &'a str,
    /// Name shown in the interface.
    pub display_name: &'a str,
    /// Role.
    pub role: Role,
    /// The organisation, for a vendor (required), `None` otherwise (required).
    pub organisation: Option<OrganisationId>,
    /// The argon2id hash (PHC string) of the password.
    pub password_hash: &'a str,
}

impl fmt::Debug for NewUser<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("organisation", &self.organisation)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

/// An account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// E-mail address as typed at creation.
    pub email: String,
    /// Name shown in the interface.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// The organisation of a vendor.
    pub organisation: Option<OrganisationId>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was disabled, if it is.
    pub disabled_at: Option<Timestamp>,
}

impl User {
    /// Whether the account may sign in.
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }
}

/// An account with its password hash, for the login check only.
#[derive(Clone)]
pub struct UserCredentials {
    /// The account.
    pub user: User,
    /// The stored argon2id hash.
    pub password_hash: String,
}

impl fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCredentials")
            .field("user", &self.user)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

pub(crate) struct UserRow {
    pub(crate) id: i64,
    pub(crate) email: String,
    pub(crate) display_name: String,
    pub(crate) role: String,
    pub(crate) organisation_id: Option<i64>,
    pub(crate) created_at: i64,
    pub(crate) disabled_at: Option<i64>,
}

crate::row::impl_from_row!(UserRow {
    id,
    email,
    display_name,
    role,
    organisation_id,
    created_at,
    disabled_at
});

impl TryFrom<UserRow> for User {
    type Error = DbError;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(Self {
            id: UserId(r.id),
            email: r.email,
            display_name: r.display_name,
            role: Role::from_code(&r.role)
                .ok_or_else(|| DbError::corrupt(format!("unknown role `{}`", r.role)))?,
            organisation: r.organisation_id.map(OrganisationId),
            created_at: Timestamp::from_millis(r.created_at),
            disabled_at: r.disabled_at.map(Timestamp::from_millis),
        })
    }
}

struct CredentialsRow {
    user: UserRow,
    password_hash: String,
}

crate::row::impl_from_row!(CredentialsRow { password_hash } flatten { user });

/// The user columns, for queries that join users (sessions) to alias them.
pub(crate) const USER_COLUMNS: &str =
    "id, email, display_name, role, organisation_id, created_at, disabled_at";

impl Db {
    /// Creates an account. The e-mail address already in use (in any case) gives
    /// [`DbError::Conflict`] on [`crate::UniqueConstraint::UserEmail`]; a vendor without organisation
    /// or a non-vendor with one gives [`Refused::VendorOrganisation`].
    pub async fn create_user(&self, new: &NewUser<'_>, actor: &Actor) -> Result<User> {
        if (new.role == Role::Vendor) != new.organisation.is_some() {
            return Err(Refused::VendorOrganisation.into());
        }
        let mut tx = self.begin_audited().await?;
        let row: UserRow = sqlx::query_as(&format!(
            "INSERT INTO users \
             (email, email_key, display_name, role, organisation_id, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {USER_COLUMNS}"
        ))
        .bind(new.email.trim())
        .bind(email_key(new.email))
        .bind(crate::text::without_bidi_controls(new.display_name.trim()))
        .bind(new.role.code())
        .bind(new.organisation.map(|o| o.0))
        .bind(new.password_hash)
        .bind(Timestamp::now().as_millis())
        .fetch_one(tx.conn())
        .await?;
        let user = User::try_from(row)?;
        tx.record(
            actor,
            "user.create",
            "user",
            &user.id.to_string(),
            json!({
                "email": user.email,
                "display_name": user.display_name,
                "role": user.role.code(),
                "organisation": user.organisation,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// The account with this id.
    pub async fn find_user(&self, id: UserId) -> Result<Option<User>> {
        let row: Option<UserRow> =
            sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        row.map(User::try_from).transpose()
    }

    /// The account with this e-mail address (in any case).
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email_key = $1"
        ))
        .bind(email_key(email))
        .fetch_optional(&self.pool)
        .await?;
        row.map(User::try_from).transpose()
    }

    /// The account and its password hash, for the login check.
    pub async fn find_credentials(&self, email: &str) -> Result<Option<UserCredentials>> {
        let row: Option<CredentialsRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE email_key = $1"
        ))
        .bind(email_key(email))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(UserCredentials {
                user: User::try_from(r.user)?,
                password_hash: r.password_hash,
            })
        })
        .transpose()
    }

    /// Every account, or those of one organisation, by e-mail address.
    pub async fn list_users(&self, organisation: Option<OrganisationId>) -> Result<Vec<User>> {
        let rows: Vec<UserRow> =
            match organisation {
                Some(org) => sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE organisation_id = $1 ORDER BY email_key"
                ))
                .bind(org.0)
                .fetch_all(&self.pool)
                .await?,
                None => {
                    sqlx::query_as(&format!(
                        "SELECT {USER_COLUMNS} FROM users ORDER BY email_key"
                    ))
                    .fetch_all(&self.pool)
                    .await?
                }
            };
        rows.into_iter().map(User::try_from).collect()
    }

    /// Disables an account (signs it out everywhere and revokes its API tokens, so that
    /// re-enabling it revives none of them) or re-enables it.
    pub async fn set_user_disabled(&self, id: UserId, disabled: bool, actor: &Actor) -> Result<()> {
        let mut tx = self.begin_audited().await?;
        let now = Timestamp::now().as_millis();
        let at = disabled.then_some(now);
        let done = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id.0)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        let mut details = json!({});
        if disabled {
            let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id.0)
                .execute(tx.conn())
                .await?;
            let tokens = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id.0)
            .execute(tx.conn())
            .await?;
            details = json!({
                "sessions_closed": sessions.rows_affected(),
                "api_tokens_revoked": tokens.rows_affected(),
            });
        }
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        tx.record(actor, action, "user", &id.to_string(), details)
            .await?;
        tx.commit().await
    }

    /// Replaces an account's password hash and ends its sessions but `keep` (a password change
    /// must sign out whoever had the old one; the user changing it stays signed in). Returns how
    /// many sessions were closed.
    pub async fn set_password_hash(
        &self,
        id: UserId,
        password_hash: &str,
        keep: Option<&crate::ids::TokenHash>,
        actor: &Actor,
    ) -> Result<u64> {
        let mut tx = self.begin_audited().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.0)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        let closed = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(id.0)
            .bind(keep.map_or("", |k| k.as_str()))
            .execute(tx.conn())
            .await?
            .rows_affected();
        tx.record(
            actor,
            "user.password",
            "user",
            &id.to_string(),
            json!({ "sessions_closed": closed }),
        )
        .await?;
        tx.commit().await?;
        Ok(closed)
    }
}
