//! `preuves rem diff OLD NEW`: the difference between two REM files (CSV or XLSX), as the
//! administrator's import page shows it before a new version is put in force (rules.md, "REM
//! versions"), in JSON for programs or as text for a person.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use preuves_domain::{ChangedField, RemDiff};

use crate::{Failure, Format};

/// Reads both files and prints their difference to standard output.
pub(crate) fn diff(old: &Path, new: &Path, format: Format) -> Result<(), Failure> {
    let old_rem = read(old)?;
    let new_rem = read(new)?;
    let d = RemDiff::between(&old_rem, &new_rem);
    let out = match format {
        Format::Json => serde_json::to_string_pretty(&d).map_err(Failure::unexpected)? + "\n",
        Format::Text => text(&d, old, new),
    };
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .map_err(Failure::unexpected)
}

fn read(path: &Path) -> Result<preuves_domain::Rem, Failure> {
    preuves_import::import_rem_file(path)
        .map(|i| i.rem)
        .map_err(|e| Failure::input(format!("{} : REM illisible :\n{e}", path.display())))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n}\u{a0}{}", if n > 1 { many } else { one })
}

/// The difference as text: a summary line, then one line per requirement.
fn text(d: &RemDiff, old: &Path, new: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} ({}) → {} ({})",
        old.display(),
        plural(d.old_count, "exigence", "exigences"),
        new.display(),
        plural(d.new_count, "exigence", "exigences"),
    );
    if d.is_empty() {
        s.push_str("Aucune différence.\n");
        return s;
    }
    let _ = writeln!(
        s,
        "{}, {}, {}, {}.",
        plural(d.added.len(), "ajoutée", "ajoutées"),
        plural(d.removed.len(), "supprimée", "supprimées"),
        plural(d.changed.len(), "modifiée", "modifiées"),
        plural(d.unchanged, "inchangée", "inchangées"),
    );
    for id in &d.added {
        let _ = writeln!(s, "+ {id}");
    }
    for id in &d.removed {
        let _ = writeln!(s, "- {id}");
    }
    for c in &d.changed {
        let fields: Vec<String> = c
            .fields
            .iter()
            .map(|f| match f {
                ChangedField::Socle => format!(
                    "{} ({} → {})",
                    f.label(),
                    or_none(c.socle_before.as_deref()),
                    or_none(c.socle_after.as_deref())
                ),
                ChangedField::Profile => format!(
                    "{} ({} → {})",
                    f.label(),
                    or_none(c.profile_before.as_deref()),
                    or_none(c.profile_after.as_deref())
                ),
                _ => f.label().to_owned(),
            })
            .collect();
        let _ = writeln!(s, "~ {}\u{a0}: {}", c.id, fields.join(", "));
    }
    s
}

fn or_none(v: Option<&str>) -> &str {
    match v {
        Some(v) if !v.is_empty() => v,
        _ => "aucune",
    }
}
