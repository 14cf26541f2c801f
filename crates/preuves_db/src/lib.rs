//! Persistence for `preuves`: one API over SQLite (embedded, the default) and PostgreSQL.
//!
//! [`Db`] wraps an `sqlx` [`AnyPool`]; every query is runtime-checked SQL written once, in the
//! subset both backends accept (`$1` placeholders, `RETURNING`, `ON CONFLICT`). The schema lives
//! twice, in `migrations/sqlite` and `migrations/postgres`, embedded at build time and run by
//! [`Db::migrate`] (also run by [`Db::connect`]). Portable storage choices: times are unix
//! milliseconds ([`Timestamp`]), calendar days ISO text, lists JSON text, flags nullable
//! timestamps (the `Any` driver maps no date, JSON or boolean column the same way on both).
//!
//! Repositories are methods on [`Db`], one module per resource. The shared identifiers are in
//! [`ids`] and the rows read inside transactions in `stored_*`, below the repositories, so no two
//! modules import each other (a test checks it); the workflow rules are the domain crate's
//! ([`preuves_domain::workflow`]), called inside the transactions. Every mutating call that changes
//! platform state takes an [`Actor`] and writes its [`audit`] entry in the same transaction as the
//! change, so a change without its entry (or the reverse) cannot be committed.
//!
//! SQLite is opened for crash safety: WAL journal, `synchronous=FULL` (a committed transaction
//! survives a kill -9 or a power cut), foreign keys on, and a busy timeout so concurrent writers
//! wait instead of failing. These are set on every new connection, since the `Any` driver only
//! reads the URL.

#![forbid(unsafe_code)]

pub mod api_tokens;
pub mod audit;
pub mod candidatures;
pub mod catalogue;
pub mod complements;
pub mod conflicts;
pub mod decisions;
mod error;
pub mod ids;
pub mod instruction;
pub mod maintenance;
mod migrations;
#[cfg(test)]
mod module_graph;
pub mod organisations;
pub mod proofs;
pub mod referencings;
pub mod register_public;
pub mod rem_impact;
mod row;
pub mod sessions;
pub mod solutions;
pub mod stored_candidatures;
pub mod stored_proofs;
pub mod text;
pub mod throttle;
mod time;
pub mod users;

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, Transaction};

pub use api_tokens::{ApiToken, ApiTokenGrant, NewApiToken, TokenScope};
pub use audit::{AuditBreak, AuditBreakKind, AuditEntry, ChainSummary, HistoryEntry};
pub use candidatures::LateNrusOutcome;
pub use catalogue::{
    CatalogueSeed, DispositifSummary, Page, RemVersion, RequirementHit, RequirementQuery,
    StoredRequirement,
};
pub use complements::{ComplementItem, ComplementRequest};
pub use conflicts::{Conflict, UniqueConstraint};
pub use decisions::{
    GrantDraft, GrantRecord, Manifest, ManifestBasis, ManifestCounts, ManifestEntry,
};
pub use error::{DbError, Refused, RequiredText, ResultExt};
pub use ids::{
    Actor, ApiTokenId, CandidatureId, ComplementRequestId, DispositifId, OrganisationId, ProofId,
    ReferencingId, RemVersionId, SolutionId, TokenHash, UserId,
};
pub use instruction::{QueueEntry, QueueFilters};
pub use maintenance::{BlobReference, BlobUse};
pub use organisations::Organisation;
// The workflow model is the domain's; it is re-exported so callers name it with the rows.
pub use preuves_domain::{
    CandidatureStatus, ExpectedProof, GapKind, MissingProof, PlanSnapshot, SnapshotEntry,
    SnapshotReason, SnapshotSummary, Verdict, WorkflowConflict, current_proofs, instruction_gaps,
    missing_proofs,
};
pub use referencings::{NewReferencing, StoredReferencing};
pub use register_public::{CitingCandidature, MAX_REGISTER_PAGE, RegisterQuery, Verification};
pub use rem_impact::PinnedCandidature;
pub use sessions::{NewSession, Session};
pub use solutions::{Solution, SolutionFields};
pub use stored_candidatures::{AdministrativeStep, HonourStatement, StoredCandidature};
pub use stored_proofs::{NewProof, StoredProof};
pub use throttle::{LoginAttempt, LoginFailureCounts, LoginLimits};
pub use time::Timestamp;
pub use users::{NewUser, Role, User, UserCredentials};

/// An expected proof of a candidature's frozen plan that is not proven yet.
pub type InstructionGap = preuves_domain::InstructionGap<ProofId>;

/// Results of this crate.
pub type Result<T, E = DbError> = std::result::Result<T, E>;

/// How long a SQLite writer waits for the write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The database engine behind a [`Db`], chosen by the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite, embedded (`sqlite://path?mode=rwc`).
    Sqlite,
    /// PostgreSQL (`postgres://...` or `postgresql://...`).
    Postgres,
}

impl Backend {
    /// The backend a database URL names, if it is one we support.
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase())?;
        match scheme.as_str() {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }

    /// A short name for logs and health pages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// The database: a connection pool and the backend it talks to. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl std::fmt::Debug for Db {
    // The URL may hold a password: it is deliberately not kept, so it cannot be printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Connects to `url` (SQLite file created if missing when the URL says `mode=rwc`) and runs
    /// the pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let db = Self::connect_without_migrating(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Connects without running migrations (for `preuves migrate`-style tooling and checks).
    pub async fn connect_without_migrating(url: &str) -> Result<Self> {
        let backend = Backend::from_url(url).ok_or_else(|| {
            // Only the scheme is named: the rest of the URL may carry credentials.
            let scheme = url.split_once(':').map_or("", |(s, _)| s);
            DbError::Contract(format!(
                "unsupported database URL scheme `{scheme}` (expected sqlite: or postgres:)"
            ))
        })?;
        install_default_drivers();
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        let options = match backend {
            Backend::Sqlite => options.max_connections(8).after_connect(|conn, _meta| {
                Box::pin(async move {
                    // Order matters: WAL first, then the durability level that applies to it.
                    let busy = SQLITE_BUSY_TIMEOUT.as_millis();
                    conn.execute(format!("PRAGMA busy_timeout = {busy}").as_str())
                        .await?;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options.max_connections(16),
        };
        let pool = options.connect(url).await?;
        Ok(Self { pool, backend })
    }

    /// The URL of a SQLite database file at `path`, created on first connection. The path is
    /// made absolute (a relative one would be read as a URL host) and the characters that URLs
    /// reserve are percent-encoded, so any folder name works.
    pub fn sqlite_url(path: &Path) -> String {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut encoded = String::new();
        for c in absolute.to_string_lossy().chars() {
            if c.is_control()
                || matches!(c, ' ' | '"' | '#' | '%' | '<' | '>' | '?' | '`' | '{' | '}')
            {
                let mut buf = [0_u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    encoded.push_str(&format!("%{b:02X}"));
                }
            } else {
                encoded.push(c);
            }
        }
        format!("sqlite://{encoded}?mode=rwc")
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The underlying pool, for health checks and tests; repositories should be preferred.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs the embedded migrations of this backend that have not run yet.
    pub async fn migrate(&self) -> Result<()> {
        migrations::migrator(self.backend)
            .await?
            .run(&self.pool)
            .await?;
        Ok(())
    }

    /// Checks the database answers (readiness probe).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection of the pool (waits for those in use to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a deferred transaction that read first could not later upgrade to a writer
    /// when another writer committed in between, and would fail instead of waiting.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }
}
