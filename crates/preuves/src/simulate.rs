//! `simulate` and `check-catalogue`: the engine on files, no database.

use std::io::Write;
use std::path::Path;

use preuves_domain::scenario::ScenarioFile;
use preuves_import::catalogue::{LoadedCatalogue, load_catalogue};

use crate::{Failure, Format};

/// Loads a catalogue, turning every import error into one message naming files, lines and ids.
pub(crate) fn load(path: &Path) -> Result<LoadedCatalogue, Failure> {
    load_catalogue(path).map_err(|failure| {
        Failure::input(format!(
            "Catalogue inutilisable : {}\n{failure}",
            path.display()
        ))
    })
}

pub(crate) fn simulate(catalogue: &Path, scenario: &Path, format: Format) -> Result<(), Failure> {
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

pub(crate) fn check_catalogue(path: &Path) -> Result<(), Failure> {
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
        // REM versions and the guichet calendar, for vague-2 dispositifs (docs/rules.md).
        let mut versions = String::new();
        if d.rem.is_some() {
            versions.push_str(&format!(
                " ; REM en vigueur : version « {} »",
                d.rem_version
            ));
            if !d.older_rems.is_empty() {
                let older: Vec<String> = d
                    .older_rems
                    .iter()
                    .map(|o| format!("« {} »", o.version))
                    .collect();
                versions.push_str(&format!(
                    ", versions antérieures conservées : {}",
                    older.join(", ")
                ));
            }
            if let Some(opens_on) = d.opens_on {
                versions.push_str(&format!(
                    " ; guichet ouvert à partir du {}",
                    opens_on.to_french()
                ));
            }
        }
        out.push_str(&format!("{} — {}{rem}{versions}\n", d.key, d.name));
    }
    if !loaded.warnings.is_empty() {
        out.push_str(&format!("\n{} avertissement(s) :\n", loaded.warnings.len()));
        for w in &loaded.warnings {
            out.push_str(&format!("  {w}\n"));
        }
    }
    print(&out)
}

pub(crate) fn print(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", text.trim_end())
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure {
            code: 1,
            message: format!("écriture sur la sortie standard impossible : {e}"),
        })
}
