//! The `preuves` command.
//!
//! - `serve` runs the platform (embedded SQLite by default, PostgreSQL with `--database-url`);
//!   `--demo` loads the demonstration catalogue and accounts.
//! - `migrate`, `create-user` and `import` administer a platform's database.
//! - `simulate` evaluates a scenario file (`docs/rules.md`) against a catalogue directory and
//!   prints the proof plan; `check-catalogue` loads a catalogue and reports what its import found;
//!   `rem diff` compares two REM files.
//!
//! - `audit verify` checks the audit trail's hash chain.
//! - `backup` and `restore` save a platform's data (embedded database and blobs) in one archive
//!   and put it back (`backup.rs`).
//!
//! Exit codes are part of the interface: 0 when the work was done (a simulation whose answer
//! holds refusals included), 2 when the input cannot be used, 1 for an unexpected failure, 3 when
//! `audit verify` finds the chain broken.

#![forbid(unsafe_code)]

mod admin;
mod archive;
mod backup;
mod cleanup;
mod demo;
mod demo_files;
mod rem_diff;
mod serve;
mod simulate;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Proof plans for the Ségur referencing, with proof equivalence and inheritance.
#[derive(Debug, Parser)]
#[command(name = "preuves", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the platform keeps its data.
#[derive(Debug, Clone, Args)]
pub(crate) struct Storage {
    /// The data folder (embedded database, proof files).
    #[arg(long, env = "PREUVES_DATA_DIR", default_value = "preuves-data")]
    data_dir: PathBuf,
    /// A PostgreSQL URL (`postgres://...`) to use instead of the embedded SQLite database.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the web platform.
    Serve(serve::ServeArgs),
    /// Creates or upgrades the database schema, then exits.
    Migrate {
        #[command(flatten)]
        storage: Storage,
    },
    /// Creates an account; the password is read from standard input (one line).
    CreateUser(admin::CreateUserArgs),
    /// Imports a REM file (CSV or XLSX) as a new version of a dispositif's REM.
    Import(admin::ImportArgs),
    /// Computes the proof plan of a scenario file (JSON of docs/rules.md) and prints it.
    Simulate {
        /// The catalogue.toml of a catalogue directory.
        #[arg(long, env = "PREUVES_CATALOGUE")]
        catalogue: PathBuf,
        /// The scenario file (JSON).
        #[arg(long)]
        scenario: PathBuf,
        /// `json` (the answer of docs/rules.md) or `text` (a table for a person).
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// The audit trail: `preuves audit verify` checks the whole hash chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Saves the embedded database (an online snapshot) and its proof files in one archive.
    Backup(backup::BackupArgs),
    /// Restores an archive written by `backup` into a data folder (servers stopped).
    Restore(backup::RestoreArgs),
    /// The demonstration data embedded in this binary: `preuves demo export DIR` writes its
    /// catalogue and scenarios to DIR.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// REM files: `preuves rem diff OLD NEW` compares two versions of a REM.
    Rem {
        #[command(subcommand)]
        command: RemCommand,
    },
    /// Loads a catalogue directory and prints its dispositifs and import warnings.
    CheckCatalogue {
        /// The catalogue.toml of a catalogue directory.
        #[arg(long, env = "PREUVES_CATALOGUE")]
        catalogue: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum RemCommand {
    /// Prints the requirements added, removed and changed (text, profile, chapter, socle id,
    /// proofs) between two REM files (CSV or XLSX).
    Diff {
        /// The version in force.
        old: PathBuf,
        /// The new version.
        new: PathBuf,
        /// `json` for programs or `text` for a person.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Checks every entry of the audit trail against its hash and the previous entry's; exits
    /// with 3 and names the first altered entry when the chain is broken.
    Verify {
        #[command(flatten)]
        storage: Storage,
    },
}

#[derive(Debug, Subcommand)]
enum DemoCommand {
    /// Writes `DIR/catalogue/` (catalogue.toml and its REMs) and `DIR/scenarios/` (the webinar's
    /// four cases); existing files are never overwritten.
    Export {
        /// The folder to write into (created if needed).
        dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Json,
    Text,
}

/// A failure with its exit code: 2 for unusable input, 1 otherwise.
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn input(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    pub(crate) fn unexpected(message: impl std::fmt::Display) -> Self {
        Self {
            code: 1,
            message: message.to_string(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate {
            catalogue,
            scenario,
            format,
        } => simulate::simulate(&catalogue, &scenario, format),
        Command::Demo {
            command: DemoCommand::Export { dir },
        } => demo_files::export(&dir),
        Command::Rem {
            command: RemCommand::Diff { old, new, format },
        } => rem_diff::diff(&old, &new, format),
        Command::CheckCatalogue { catalogue } => simulate::check_catalogue(&catalogue),
        Command::Serve(args) => run_async(serve::serve(args)),
        Command::Migrate { storage } => run_async(admin::migrate(storage)),
        Command::CreateUser(args) => run_async(admin::create_user(args)),
        Command::Import(args) => run_async(admin::import(args)),
        Command::Audit {
            command: AuditCommand::Verify { storage },
        } => run_async(admin::audit_verify(storage)),
        Command::Backup(args) => run_async(backup::backup(args)),
        Command::Restore(args) => run_async(backup::restore(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "{}", failure.message.trim_end());
            ExitCode::from(failure.code)
        }
    }
}

fn run_async(task: impl std::future::Future<Output = Result<(), Failure>>) -> Result<(), Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Failure::unexpected)?
        .block_on(task)
}

impl Storage {
    /// The database URL: the one given, or the embedded SQLite file in the data folder.
    pub(crate) fn database_url(&self) -> Result<String, Failure> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            Failure::input(format!(
                "{} : création du dossier de données impossible : {e}",
                self.data_dir.display()
            ))
        })?;
        Ok(preuves_db::Db::sqlite_url(
            &self.data_dir.join("preuves.sqlite3"),
        ))
    }

    /// Connects (and migrates).
    pub(crate) async fn connect(&self) -> Result<preuves_db::Db, Failure> {
        let url = self.database_url()?;
        preuves_db::Db::connect(&url)
            .await
            .map_err(|e| Failure::unexpected(format!("base de données inaccessible : {e}")))
    }
}
