//! The schema migrations of both backends, embedded in the binary.
//!
//! Written out here rather than with `sqlx::migrate!` so that the build needs no procedural macro
//! (see `row.rs`). Each migration keeps the version and description the file name gives and the
//! checksum sqlx computes from its text, so databases migrated by earlier builds see no change.
//! A new migration is one file in each folder and one line in the list below.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use crate::Backend;

/// `(version, description, SQL)` of one migration file.
type Embedded = (i64, &'static str, &'static str);

macro_rules! migration {
    ($backend:literal, $version:literal, $name:literal) => {
        (
            $version,
            $name,
            include_str!(concat!(
                "../migrations/",
                $backend,
                "/",
                $version,
                "_",
                $name,
                ".sql"
            )),
        )
    };
}

/// Both backends' lists from one list of `(version, name)`: every migration exists for both, so
/// a new one is one line here (and one file in each folder; a test checks the folders).
macro_rules! migrations {
    ($(($version:literal, $name:literal)),* $(,)?) => {
        const SQLITE: &[Embedded] = &[$(migration!("sqlite", $version, $name)),*];
        const POSTGRES: &[Embedded] = &[$(migration!("postgres", $version, $name)),*];
    };
}

migrations![
    (20261126000001, "initial"),
    (20261126000002, "candidatures"),
    (20261126000003, "instruction"),
    (20261126000004, "api_tokens"),
    (20261203000001, "honour_sha256"),
    (20261203000002, "login_attempts"),
    (20261203000003, "rem_version_labels"),
    (20261203000004, "guichet_opens_on"),
];

/// The embedded migrations of one backend, as a source sqlx's [`Migrator`] resolves.
#[derive(Debug, Clone, Copy)]
struct EmbeddedSource(&'static [Embedded]);

impl MigrationSource<'static> for EmbeddedSource {
    fn resolve(self) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send>> {
        let migrations = self
            .0
            .iter()
            .map(|&(version, name, sql)| {
                // sqlx's own file source turns `api_tokens` into the description `api tokens`.
                let description = Cow::Owned(name.replace('_', " "));
                Migration::new(
                    version,
                    description,
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect();
        Box::pin(std::future::ready(Ok(migrations)))
    }
}

/// The migrator of `backend`, with its migrations in version order.
pub(crate) async fn migrator(backend: Backend) -> Result<Migrator, sqlx::migrate::MigrateError> {
    let source = match backend {
        Backend::Sqlite => EmbeddedSource(SQLITE),
        Backend::Postgres => EmbeddedSource(POSTGRES),
    };
    Migrator::new(source).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every migration file of both folders is listed, in version order, and nothing else.
    #[test]
    fn lists_every_migration_file_in_order() {
        for (folder, list) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(folder);
            let mut files: Vec<String> = std::fs::read_dir(&dir)
                .expect("migrations folder")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            files.sort();
            let listed: Vec<String> = list
                .iter()
                .map(|(v, name, _)| format!("{v}_{name}.sql"))
                .collect();
            assert_eq!(
                files, listed,
                "{folder}: migrations/ and migrations.rs disagree"
            );
        }
    }

    /// The embedded migrations are exactly what sqlx's own reading of the folders gives
    /// (versions, descriptions, SQL and checksums), so databases migrated by builds that used
    /// `sqlx::migrate!` see no change.
    #[tokio::test]
    async fn match_what_sqlx_reads_from_the_folders() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let folder = match backend {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            };
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(folder);
            let from_files = Migrator::new(dir).await.expect("sqlx reads the folder");
            let embedded = migrator(backend).await.expect("embedded");
            let key = |m: &Migration| {
                (
                    m.version,
                    m.description.to_string(),
                    m.sql.to_string(),
                    m.checksum.to_vec(),
                )
            };
            let a: Vec<_> = from_files.iter().map(key).collect();
            let b: Vec<_> = embedded.iter().map(key).collect();
            assert_eq!(a, b, "{folder}");
        }
    }
}
