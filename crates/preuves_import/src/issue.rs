//! What an import found wrong: an [`Issue`] names the file, the line, the column and the
//! requirement ids concerned, with a French message for a catalogue administrator and a stable
//! [`IssueCode`] for programs (the API, the tests).
//!
//! The same type carries errors (nothing is loaded) and warnings (loaded anyway): which one it is
//! depends on the list it sits in, not on the issue.

use std::fmt;

use serde::{Serialize, Serializer};

/// The kind of an issue. [`IssueCode::as_str`] is a stable `snake_case` name, part of the
/// interface (API answers, tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IssueCode {
    // ----- Errors on a REM file.
    /// The file name ends neither in `.csv` nor in `.xlsx`.
    UnsupportedFormat,
    /// The file cannot be read: missing, not UTF-8, broken CSV, not a workbook.
    UnreadableFile,
    /// The file holds no header or no data row.
    EmptyFile,
    /// A required column (`ID`, `Périmètre`, `Exigence`, `Profil`, `Chapitre`) is absent.
    MissingColumn,
    /// A known column appears twice in the header.
    DuplicateColumn,
    /// A CSV row has not as many fields as the header (often a badly closed quote).
    MalformedRow,
    /// A data row without requirement id.
    EmptyId,
    /// A requirement id that cannot be parsed (inner space, no chapter code).
    InvalidId,
    /// A `Périmètre` that is neither `Vague 1` nor `Vague 2`.
    UnknownPerimeter,
    /// A data row without profile.
    EmptyProfile,
    /// An `Exigence socle` id that cannot be parsed.
    InvalidSocleId,
    /// Two rows give one requirement different texts, profiles, périmètres or socle ids.
    ConflictingDefinition,
    /// The REM could not be built (more than 65,535 profiles or chapters).
    InvalidRem,

    // ----- Warnings on a REM file.
    /// An optional Convergence column is absent: its values are taken as empty.
    MissingOptionalColumn,
    /// A column of the file is not a Convergence column: it is ignored.
    UnknownColumn,
    /// A row gives its requirement no scenario.
    NoScenario,
    /// A row gives a proof but no scenario: the proof is kept under a scenario without number.
    ProofWithoutScenario,
    /// A row gives a scenario but no proof.
    NoProof,
    /// A scenario number that does not start with its requirement id.
    ScenarioNumberMismatch,
    /// A proof number that does not start with its scenario number.
    ProofNumberMismatch,
    /// A proof given twice in one scenario (same number, or same number and text).
    DuplicateProof,
    /// One chapter code written two ways (`APCV` and `ApCV`, `VI-SO` and `VI_SO`).
    ChapterSpelling,
    /// A descriptive column (`Fonction`, `Commentaire`, ...) differs between the rows of one
    /// requirement, or a scenario's text between the rows of one scenario: the first is kept.
    InconsistentField,

    // ----- Catalogue (`catalogue.toml` and equivalence table).
    /// The TOML file is not valid or does not have the expected shape (unknown key, ...).
    InvalidToml,
    /// A file named by the catalogue (REM, equivalence table) does not exist.
    MissingFile,
    /// A vague-2 dispositif without `rem`.
    MissingRem,
    /// A key that does not belong to the dispositif's wave (`rem` in vague 1, `profiles` in
    /// vague 2, ...).
    MisplacedField,
    /// A vague-2 dispositif without `date2` (warning: rule R5 cannot apply to it).
    MissingDate2,
    /// Two dispositifs with one code and wave.
    DuplicateDispositif,
    /// Two REM versions of one dispositif with the same label.
    DuplicateRemVersion,
    /// A predecessor that is not a vague-1 dispositif of the catalogue.
    UnknownPredecessor,
    /// An equivalence-table row names a code that is no vague-2 dispositif of the catalogue.
    UnknownDispositif,
    /// An equivalence-table row names a requirement absent from the dispositif's REM.
    UnknownRequirement,
    /// An equivalence-table row pairs two requirements of one dispositif.
    InvalidPair,
    /// An equivalence-table pair given twice (warning).
    DuplicatePair,
    /// Any other inconsistency the domain refuses when building the catalogue.
    InvalidCatalogue,
}

impl IssueCode {
    /// Every code, in declaration order.
    pub const ALL: [Self; 36] = [
        Self::UnsupportedFormat,
        Self::UnreadableFile,
        Self::EmptyFile,
        Self::MissingColumn,
        Self::DuplicateColumn,
        Self::MalformedRow,
        Self::EmptyId,
        Self::InvalidId,
        Self::UnknownPerimeter,
        Self::EmptyProfile,
        Self::InvalidSocleId,
        Self::ConflictingDefinition,
        Self::InvalidRem,
        Self::MissingOptionalColumn,
        Self::UnknownColumn,
        Self::NoScenario,
        Self::ProofWithoutScenario,
        Self::NoProof,
        Self::ScenarioNumberMismatch,
        Self::ProofNumberMismatch,
        Self::DuplicateProof,
        Self::ChapterSpelling,
        Self::InconsistentField,
        Self::InvalidToml,
        Self::MissingFile,
        Self::MissingRem,
        Self::MisplacedField,
        Self::MissingDate2,
        Self::DuplicateDispositif,
        Self::DuplicateRemVersion,
        Self::UnknownPredecessor,
        Self::UnknownDispositif,
        Self::UnknownRequirement,
        Self::InvalidPair,
        Self::DuplicatePair,
        Self::InvalidCatalogue,
    ];

    /// The stable `snake_case` name of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnsupportedFormat => "unsupported_format",
            Self::UnreadableFile => "unreadable_file",
            Self::EmptyFile => "empty_file",
            Self::MissingColumn => "missing_column",
            Self::DuplicateColumn => "duplicate_column",
            Self::MalformedRow => "malformed_row",
            Self::EmptyId => "empty_id",
            Self::InvalidId => "invalid_id",
            Self::UnknownPerimeter => "unknown_perimeter",
            Self::EmptyProfile => "empty_profile",
            Self::InvalidSocleId => "invalid_socle_id",
            Self::ConflictingDefinition => "conflicting_definition",
            Self::InvalidRem => "invalid_rem",
            Self::MissingOptionalColumn => "missing_optional_column",
            Self::UnknownColumn => "unknown_column",
            Self::NoScenario => "no_scenario",
            Self::ProofWithoutScenario => "proof_without_scenario",
            Self::NoProof => "no_proof",
            Self::ScenarioNumberMismatch => "scenario_number_mismatch",
            Self::ProofNumberMismatch => "proof_number_mismatch",
            Self::DuplicateProof => "duplicate_proof",
            Self::ChapterSpelling => "chapter_spelling",
            Self::InconsistentField => "inconsistent_field",
            Self::InvalidToml => "invalid_toml",
            Self::MissingFile => "missing_file",
            Self::MissingRem => "missing_rem",
            Self::MisplacedField => "misplaced_field",
            Self::MissingDate2 => "missing_date2",
            Self::DuplicateDispositif => "duplicate_dispositif",
            Self::DuplicateRemVersion => "duplicate_rem_version",
            Self::UnknownPredecessor => "unknown_predecessor",
            Self::UnknownDispositif => "unknown_dispositif",
            Self::UnknownRequirement => "unknown_requirement",
            Self::InvalidPair => "invalid_pair",
            Self::DuplicatePair => "duplicate_pair",
            Self::InvalidCatalogue => "invalid_catalogue",
        }
    }
}

impl fmt::Display for IssueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for IssueCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One thing an import found wrong, located as precisely as the file allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// What kind of issue.
    pub code: IssueCode,
    /// The file concerned, as named to the importer.
    pub file: String,
    /// The 1-based line of the file (CSV, TOML) or row of the spreadsheet (XLSX); for a CSV
    /// record spanning several lines, the line where it starts.
    pub line: Option<usize>,
    /// The column concerned, by its header name (`Périmètre`, `ID`, ...).
    pub column: Option<String>,
    /// In a text file such as `catalogue.toml`, the 1-based character position in the line.
    pub position: Option<usize>,
    /// The requirement ids concerned.
    pub ids: Vec<String>,
    /// What is wrong and what to do, in French, for a catalogue administrator.
    pub message: String,
}

impl Issue {
    /// An issue on a whole file, with no line, column or id yet.
    pub fn new(code: IssueCode, file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            file: file.into(),
            line: None,
            column: None,
            position: None,
            ids: Vec::new(),
            message: message.into(),
        }
    }

    /// The same issue at a line.
    #[must_use]
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// The same issue at a character position of its line.
    #[must_use]
    pub fn at_position(mut self, position: usize) -> Self {
        self.position = Some(position);
        self
    }

    /// The same issue on a column, named by its header.
    #[must_use]
    pub fn in_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }

    /// The same issue about a requirement id.
    #[must_use]
    pub fn about(mut self, id: impl Into<String>) -> Self {
        self.ids.push(id.into());
        self
    }
}

impl fmt::Display for Issue {
    /// `REM-X.csv:12: colonne « Périmètre » : <message> [code]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(position) = self.position {
                write!(f, ":{position}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(column) = &self.column {
            write!(f, "colonne « {column} » : ")?;
        }
        write!(f, "{} [{}]", self.message, self.code)
    }
}

/// Writes one issue a line, for the `Display` of a failure.
pub(crate) fn write_lines(f: &mut fmt::Formatter<'_>, issues: &[Issue]) -> fmt::Result {
    for (i, issue) in issues.iter().enumerate() {
        if i > 0 {
            f.write_str("\n")?;
        }
        write!(f, "{issue}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn display_names_file_line_column_and_code() {
        let issue = Issue::new(
            IssueCode::UnknownPerimeter,
            "REM-X.csv",
            "périmètre « Vague 3 » inconnu",
        )
        .at_line(12)
        .in_column("Périmètre")
        .about("INS.01");
        assert_eq!(
            issue.to_string(),
            "REM-X.csv:12: colonne « Périmètre » : périmètre « Vague 3 » inconnu [unknown_perimeter]"
        );
        let bare = Issue::new(IssueCode::EmptyFile, "a.csv", "vide");
        assert_eq!(bare.to_string(), "a.csv: vide [empty_file]");
        let toml = Issue::new(IssueCode::InvalidToml, "c.toml", "x")
            .at_line(3)
            .at_position(7);
        assert_eq!(toml.to_string(), "c.toml:3:7: x [invalid_toml]");
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let names: HashSet<&str> = IssueCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), IssueCode::ALL.len());
        for name in names {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()),
                "{name}"
            );
        }
    }

    #[test]
    fn issue_serializes_for_the_api() {
        let issue = Issue::new(IssueCode::EmptyId, "a.csv", "identifiant vide")
            .at_line(2)
            .in_column("ID");
        let json = serde_json::to_value(&issue).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "empty_id", "file": "a.csv", "line": 2, "column": "ID",
                "position": null, "ids": [], "message": "identifiant vide"
            })
        );
    }
}
