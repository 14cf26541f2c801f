//! The `preuves` command.
//!
//! `simulate` evaluates a scenario file (`DOMAIN.md` §7) against a catalogue directory and prints
//! the proof plan; `check-catalogue` loads a catalogue and reports what its import found. Exit
//! codes are part of the interface: 0 when the work was done (a simulation whose answer holds
//! refusals included), 2 when the input cannot be used, 1 for an unexpected failure.

#![forbid(unsafe_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use preuves_domain::scenario::ScenarioFile;
use preuves_import::catalogue::{LoadedCatalogue, load_catalogue};

/// Proof plans for the Ségur referencing, with proof equivalence and inheritance.
#[derive(Debug, Parser)]
#[command(name = "preuves", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Computes the proof plan of a scenario file (JSON of DOMAIN.md §7) and prints it.
    Simulate {
        /// The catalogue.toml of a catalogue directory.
        #[arg(long, env = "PREUVES_CATALOGUE")]
        catalogue: PathBuf,
        /// The scenario file (JSON).
        #[arg(long)]
        scenario: PathBuf,
        /// `json` (the answer of DOMAIN.md §7) or `text` (a table for a person).
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Loads a catalogue directory and prints its dispositifs and import warnings.
    CheckCatalogue {
        /// The catalogue.toml of a catalogue directory.
        #[arg(long, env = "PREUVES_CATALOGUE")]
        catalogue: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Text,
}

/// A failure with its exit code: 2 for unusable input, 1 otherwise.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn input(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
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
        } => simulate(&catalogue, &scenario, format),
        Command::CheckCatalogue { catalogue } => check_catalogue(&catalogue),
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

/// Loads a catalogue, turning every import error into one message naming files, lines and ids.
fn load(path: &Path) -> Result<LoadedCatalogue, Failure> {
    load_catalogue(path).map_err(|failure| {
        Failure::input(format!(
            "Catalogue inutilisable : {}\n{failure}",
            path.display()
        ))
    })
}

fn simulate(catalogue: &Path, scenario: &Path, format: Format) -> Result<(), Failure> {
    let text = std::fs::read_to_string(scenario).map_err(|e| {
        Failure::input(format!(
            "{} : lecture du scénario impossible : {e}",
            scenario.display()
        ))
    })?;
    let file = ScenarioFile::from_json(&text)
        .map_err(|e| Failure::input(format!("{}:{e}", scenario.display())))?;
    let loaded = load(catalogue)?;
    let answer = file.evaluate(&loaded.catalogue);
    let rendered = match format {
        Format::Json => answer.to_json_pretty(),
        Format::Text => preuves_domain::text::render(&answer),
    };
    print(&rendered)
}

fn check_catalogue(path: &Path) -> Result<(), Failure> {
    let loaded = load(path)?;
    let mut out = String::new();
    for d in loaded.catalogue.dispositifs() {
        let rem = d.rem.as_ref().map_or_else(String::new, |rem| {
            format!(
                " : {} exigences, {} preuves attendues, profils optionnels : {}",
                rem.requirements().len(),
                rem.proof_count(),
                rem.optional_profiles()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        out.push_str(&format!("{} — {}{rem}\n", d.key, d.name));
    }
    if !loaded.warnings.is_empty() {
        out.push_str(&format!("\n{} avertissement(s) :\n", loaded.warnings.len()));
        for w in &loaded.warnings {
            out.push_str(&format!("  {w}\n"));
        }
    }
    print(&out)
}

fn print(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", text.trim_end())
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure {
            code: 1,
            message: format!("écriture sur la sortie standard impossible : {e}"),
        })
}
