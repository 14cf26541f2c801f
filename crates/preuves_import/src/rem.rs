//! Importing a REM from the Convergence format, as CSV or XLSX.
//!
//! The file has one row per requirement × scenario × proof, with the 14 columns of the
//! Convergence template found by header name (any order; compared trimmed, case-insensitively,
//! inner whitespace collapsed), plus the optional `Exigence socle` and `ID vague 1`. Rows are
//! folded into [`Requirement`]s (in order of first appearance of each id), their [`Scenario`]s
//! (in order of first appearance per requirement) and [`ProofSpec`]s (in row order).
//!
//! Import is all or nothing: any error refuses the whole file, and every error of the file is
//! reported at once, located by file, line, column and requirement id. Warnings point at
//! imperfections the REM is loaded with anyway (the real REMs have many).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use preuves_domain::{
    Perimeter, Profile, ProofSpec, Rem, Requirement, RequirementId, Scenario, SocleId,
};

use crate::issue::{Issue, IssueCode, write_lines};
use crate::table::{Cells, RowSink, clean, normalize_header, read_csv, read_xlsx};

/// The 14 columns of the Convergence requirement template, in the template's order.
pub const CONVERGENCE_COLUMNS: [&str; 14] = [
    "Périmètre",
    "ID",
    "Chapitre",
    "Fonction",
    "Exigence",
    "Commentaire",
    "Profil",
    "N° scénario",
    "Scénario de conformité",
    "N° preuve",
    "Preuve",
    "Profil historique",
    "Criticité",
    "Ordre",
];

/// The optional columns added to the Convergence ones: the shared master requirement and the
/// requirement's number in the vague-1 REM.
pub const EXTRA_COLUMNS: [&str; 2] = ["Exigence socle", "ID vague 1"];

/// The columns without which a REM is refused.
pub const REQUIRED_COLUMNS: [&str; 5] = ["ID", "Périmètre", "Exigence", "Profil", "Chapitre"];

/// The sheet read in a workbook when present (the name used by the published vague-2 REMs);
/// otherwise the first sheet is read.
pub const REM_SHEET: &str = "Exigences REM vague 2";

/// A REM read successfully.
#[derive(Debug, Clone)]
pub struct RemImport {
    /// The requirements, folded and indexed.
    pub rem: Rem,
    /// What was loaded anyway but deserves a look, in file order.
    pub warnings: Vec<Issue>,
    /// How many data rows (non-blank rows after the header) the file holds.
    pub rows: usize,
}

/// A REM refused: every error found, and the warnings found along the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFailure {
    /// Every error, in file order; never empty.
    pub errors: Vec<Issue>,
    /// The warnings found as well.
    pub warnings: Vec<Issue>,
}

impl fmt::Display for ImportFailure {
    /// One error a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lines(f, &self.errors)
    }
}

impl std::error::Error for ImportFailure {}

impl ImportFailure {
    fn single(issue: Issue) -> Self {
        Self {
            errors: vec![issue],
            warnings: Vec::new(),
        }
    }
}

/// Imports a REM file, CSV or XLSX according to its extension (`.csv`, `.xlsx`, any case).
///
/// Issues name the file as `path` is written.
pub fn import_rem_file(path: &Path) -> Result<RemImport, ImportFailure> {
    let source = path.display().to_string();
    // Refuse an unknown format before reading anything.
    format_of(&source)?;
    let bytes = std::fs::read(path).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound {
            "fichier introuvable".to_owned()
        } else {
            format!("lecture impossible : {e}")
        };
        ImportFailure::single(Issue::new(IssueCode::UnreadableFile, &source, why))
    })?;
    import_rem_bytes(&source, &bytes)
}

/// Imports a REM from bytes, CSV or XLSX according to the extension of `source_name` (the name
/// of an uploaded file, say).
pub fn import_rem_bytes(source_name: &str, bytes: &[u8]) -> Result<RemImport, ImportFailure> {
    match format_of(source_name)? {
        Format::Csv => import_rem_csv(source_name, bytes),
        Format::Xlsx => import_rem_xlsx(source_name, bytes),
    }
}

/// Imports a REM from the bytes of a CSV file: UTF-8 with or without BOM, `,` or `;` (or tab)
/// as detected on the header line, quoted fields possibly spanning lines.
pub fn import_rem_csv(source_name: &str, bytes: &[u8]) -> Result<RemImport, ImportFailure> {
    let mut folder = Folder::new(source_name);
    match read_csv(source_name, bytes, &mut folder) {
        Ok(malformed) => folder.errors.extend(malformed),
        Err(unreadable) => return Err(ImportFailure::single(*unreadable)),
    }
    folder.finish()
}

/// Imports a REM from the bytes of an XLSX workbook: the sheet [`REM_SHEET`] if present, else
/// the first sheet; the header is its first non-empty row.
pub fn import_rem_xlsx(source_name: &str, bytes: &[u8]) -> Result<RemImport, ImportFailure> {
    let mut folder = Folder::new(source_name);
    read_xlsx(source_name, bytes, REM_SHEET, &mut folder)
        .map_err(|unreadable| ImportFailure::single(*unreadable))?;
    folder.finish()
}

enum Format {
    Csv,
    Xlsx,
}

fn format_of(source: &str) -> Result<Format, ImportFailure> {
    let extension = Path::new(source)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => Ok(Format::Csv),
        Some("xlsx") => Ok(Format::Xlsx),
        other => {
            let hint = match other {
                Some("xls" | "ods" | "xlsm") => " : enregistrez le classeur au format .xlsx",
                _ => "",
            };
            Err(ImportFailure::single(Issue::new(
                IssueCode::UnsupportedFormat,
                source,
                format!("format non pris en charge : un REM est un fichier .csv ou .xlsx{hint}"),
            )))
        }
    }
}

/// A column the importer knows, in [`CONVERGENCE_COLUMNS`] then [`EXTRA_COLUMNS`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Perimeter,
    Id,
    Chapter,
    Function,
    Text,
    Comment,
    Profile,
    ScenarioNo,
    ScenarioText,
    ProofNo,
    ProofText,
    HistoricalProfile,
    Criticality,
    Order,
    Socle,
    Wave1Id,
}

const COLS: [Col; 16] = [
    Col::Perimeter,
    Col::Id,
    Col::Chapter,
    Col::Function,
    Col::Text,
    Col::Comment,
    Col::Profile,
    Col::ScenarioNo,
    Col::ScenarioText,
    Col::ProofNo,
    Col::ProofText,
    Col::HistoricalProfile,
    Col::Criticality,
    Col::Order,
    Col::Socle,
    Col::Wave1Id,
];

/// The descriptive columns that should agree between the rows of one requirement; when they do
/// not, the first row's value is kept and an `inconsistent_field` warning is given.
const DESCRIPTIVE: [Col; 6] = [
    Col::Chapter,
    Col::Function,
    Col::Comment,
    Col::HistoricalProfile,
    Col::Criticality,
    Col::Wave1Id,
];

impl Col {
    fn name(self) -> &'static str {
        let i = self as usize;
        if i < CONVERGENCE_COLUMNS.len() {
            CONVERGENCE_COLUMNS[i]
        } else {
            EXTRA_COLUMNS[i - CONVERGENCE_COLUMNS.len()]
        }
    }

    fn is_required(self) -> bool {
        REQUIRED_COLUMNS.contains(&self.name())
    }

    fn is_extra(self) -> bool {
        self as usize >= CONVERGENCE_COLUMNS.len()
    }
}

/// Whether `child` (a scenario or proof number) is `parent` followed by a separator and more.
fn extends(child: &str, parent: &str) -> bool {
    child
        .strip_prefix(parent)
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| !c.is_alphanumeric())
}

/// The warning for a scenario or proof number that does not extend its parent's number
/// (`parent_is_scenario`: a proof under a numbered scenario; otherwise the requirement id).
fn mismatch_message(kind: &str, number: &str, parent_is_scenario: bool, parent: &str) -> String {
    let (to, by) = if parent_is_scenario {
        ("au numéro de son scénario", "le numéro de son scénario")
    } else {
        (
            "à l'identifiant de son exigence",
            "l'identifiant de son exigence",
        )
    };
    if number == parent {
        format!("le numéro de {kind} « {number} » est identique {to} : « {parent}.NN » attendu")
    } else {
        format!(
            "le numéro de {kind} « {number} » ne commence pas par {by}, {parent} : \
             « {parent}.NN » attendu"
        )
    }
}

/// The raw chapter prefix of an id (before the first `/` or `.`), as written.
fn raw_chapter(id: &str) -> &str {
    &id[..id.find(['/', '.']).unwrap_or(id.len())]
}

/// The defining cells of a row, parsed.
struct Parsed {
    id: RequirementId,
    perimeter: Perimeter,
    profile: Profile,
    socle_id: Option<SocleId>,
}

/// Folds rows into requirements, collecting issues.
struct Folder<'s> {
    source: &'s str,
    /// Index of each known column in the file, by [`Col`].
    columns: [Option<usize>; 16],
    header_line: Option<usize>,
    /// Whether rows can be read (the header has every required column, once).
    usable: bool,
    rows: usize,
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
    requirements: Vec<Requirement>,
    /// Parallel to `requirements`: the line of the first row.
    first_lines: Vec<usize>,
    /// Parallel to `requirements`: which `DESCRIPTIVE` columns were already warned about.
    warned_fields: Vec<u8>,
    by_id: HashMap<String, usize>,
    /// Chapter prefix normalised (upper case, `_` as `-`) → first spelling and its line.
    spellings: HashMap<String, (String, usize)>,
    warned_spellings: HashSet<String>,
}

impl<'s> Folder<'s> {
    fn new(source: &'s str) -> Self {
        Self {
            source,
            columns: [None; 16],
            header_line: None,
            usable: false,
            rows: 0,
            errors: Vec::new(),
            warnings: Vec::new(),
            requirements: Vec::new(),
            first_lines: Vec::new(),
            warned_fields: Vec::new(),
            by_id: HashMap::new(),
            spellings: HashMap::new(),
            warned_spellings: HashSet::new(),
        }
    }

    fn issue(&self, code: IssueCode, line: usize, message: impl Into<String>) -> Issue {
        Issue::new(code, self.source, message).at_line(line)
    }

    /// The trimmed cell of a known column (`""` when the file has no such column).
    fn get<'c>(&self, cells: &'c dyn Cells, col: Col) -> &'c str {
        self.columns[col as usize].map_or("", |i| cells.cell(i).trim())
    }

    fn finish(mut self) -> Result<RemImport, ImportFailure> {
        match self.header_line {
            None => self.errors.push(Issue::new(
                IssueCode::EmptyFile,
                self.source,
                "le fichier est vide : ni en-tête ni ligne de données",
            )),
            Some(line) if self.rows == 0 => self.errors.push(self.issue(
                IssueCode::EmptyFile,
                line,
                "aucune ligne de données après l'en-tête",
            )),
            Some(_) => {}
        }
        if !self.errors.is_empty() {
            self.errors.sort_by_key(|i| i.line);
            return Err(ImportFailure {
                errors: self.errors,
                warnings: self.warnings,
            });
        }
        match Rem::new(self.requirements) {
            Ok(rem) => Ok(RemImport {
                rem,
                warnings: self.warnings,
                rows: self.rows,
            }),
            Err(e) => Err(ImportFailure {
                errors: vec![Issue::new(
                    IssueCode::InvalidRem,
                    self.source,
                    e.to_string(),
                )],
                warnings: self.warnings,
            }),
        }
    }

    /// Checks one row's defining cells; on success, the parsed values.
    fn parse_row(&mut self, line: usize, cells: &dyn Cells) -> Option<Parsed> {
        let raw_id = self.get(cells, Col::Id);
        let with_id = |issue: Issue, col: Col| {
            let issue = issue.in_column(col.name());
            if raw_id.is_empty() {
                issue
            } else {
                issue.about(raw_id)
            }
        };
        let mut errors = Vec::new();

        let id = if raw_id.is_empty() {
            errors.push(with_id(
                self.issue(
                    IssueCode::EmptyId,
                    line,
                    "l'identifiant d'exigence est vide alors que la ligne n'est pas vide",
                ),
                Col::Id,
            ));
            None
        } else {
            match RequirementId::parse(raw_id) {
                Ok(id) if id.chapter_code().as_str().is_empty() => {
                    errors.push(with_id(
                        self.issue(
                            IssueCode::InvalidId,
                            line,
                            format!(
                                "l'identifiant d'exigence « {raw_id} » est invalide : \
                                 il ne commence pas par un code de chapitre (INS, DMP, …)"
                            ),
                        ),
                        Col::Id,
                    ));
                    None
                }
                Ok(id) => Some(id),
                Err(e) => {
                    errors.push(with_id(
                        self.issue(IssueCode::InvalidId, line, e.to_string()),
                        Col::Id,
                    ));
                    None
                }
            }
        };

        let raw_perimeter = self.get(cells, Col::Perimeter);
        let perimeter = Perimeter::parse(raw_perimeter);
        if perimeter.is_none() {
            let message = if raw_perimeter.is_empty() {
                "le périmètre est vide : « Vague 1 » ou « Vague 2 » attendu".to_owned()
            } else {
                format!(
                    "périmètre « {raw_perimeter} » inconnu : « Vague 1 » ou « Vague 2 » attendu"
                )
            };
            errors.push(with_id(
                self.issue(IssueCode::UnknownPerimeter, line, message),
                Col::Perimeter,
            ));
        }

        let profile = Profile::parse(self.get(cells, Col::Profile)).ok();
        if profile.is_none() {
            errors.push(with_id(
                self.issue(
                    IssueCode::EmptyProfile,
                    line,
                    "le profil est vide : « Général » ou le nom d'un profil optionnel attendu",
                ),
                Col::Profile,
            ));
        }

        let raw_socle = self.get(cells, Col::Socle);
        let socle = if raw_socle.is_empty() {
            Some(None)
        } else {
            match SocleId::parse(raw_socle) {
                Ok(s) => Some(Some(s)),
                Err(e) => {
                    errors.push(with_id(
                        self.issue(IssueCode::InvalidSocleId, line, e.to_string()),
                        Col::Socle,
                    ));
                    None
                }
            }
        };

        if errors.is_empty() {
            Some(Parsed {
                id: id?,
                perimeter: perimeter?,
                profile: profile?,
                socle_id: socle?,
            })
        } else {
            self.errors.extend(errors);
            None
        }
    }

    /// A new requirement from its first row.
    fn create(&mut self, line: usize, cells: &dyn Cells, parsed: Parsed) -> usize {
        let Parsed {
            id,
            perimeter,
            profile,
            socle_id,
        } = parsed;
        self.check_spelling(line, id.as_str());
        let text = |col| clean(self.get(cells, col)).into_owned();
        let wave1_id = text(Col::Wave1Id);
        let requirement = Requirement {
            chapter_code: id.chapter_code(),
            perimeter,
            chapter: text(Col::Chapter),
            function: text(Col::Function),
            text: text(Col::Text),
            comment: text(Col::Comment),
            profile,
            historical_profile: text(Col::HistoricalProfile),
            criticality: text(Col::Criticality),
            socle_id,
            wave1_id: (!wave1_id.is_empty()).then_some(wave1_id),
            scenarios: Vec::new(),
            id,
        };
        let index = self.requirements.len();
        self.by_id.insert(requirement.id.as_str().to_owned(), index);
        self.requirements.push(requirement);
        self.first_lines.push(line);
        self.warned_fields.push(0);
        index
    }

    /// Warns once per spelling when a chapter prefix is written two ways.
    fn check_spelling(&mut self, line: usize, id: &str) {
        let raw = raw_chapter(id);
        let key = raw.to_uppercase().replace('_', "-");
        match self.spellings.get(&key) {
            None => {
                self.spellings.insert(key, (raw.to_owned(), line));
            }
            Some((first, first_line)) if first != raw => {
                if !self.warned_spellings.insert(raw.to_owned()) {
                    return;
                }
                let message = if first.to_uppercase() == raw.to_uppercase() {
                    format!(
                        "le code de chapitre « {raw} » est aussi écrit « {first} » (ligne \
                         {first_line}) : les deux désignent le chapitre {} ; harmonisez l'écriture",
                        raw.to_uppercase()
                    )
                } else {
                    format!(
                        "le code de chapitre « {raw} » ne diffère de « {first} » (ligne \
                         {first_line}) que par « - » ou « _ » : ils sont traités comme deux \
                         chapitres distincts ; harmonisez l'écriture s'il s'agit du même chapitre"
                    )
                };
                let issue = self
                    .issue(IssueCode::ChapterSpelling, line, message)
                    .in_column(Col::Id.name())
                    .about(id);
                self.warnings.push(issue);
            }
            Some(_) => {}
        }
    }

    /// Compares a later row of requirement `index` with its first row: defining cells must agree
    /// (else errors, and `false`), descriptive ones should (else warnings).
    fn check_same(
        &mut self,
        index: usize,
        line: usize,
        cells: &dyn Cells,
        parsed: &Parsed,
    ) -> bool {
        let perimeter = parsed.perimeter;
        let profile = &parsed.profile;
        let socle_id = parsed.socle_id.as_ref();
        let first_line = self.first_lines[index];
        let text = clean(self.get(cells, Col::Text));
        let r = &self.requirements[index];
        let id = r.id.as_str();
        let mut conflicts: Vec<(Col, String)> = Vec::new();
        if r.text != text {
            conflicts.push((
                Col::Text,
                format!(
                    "l'exigence {id} a ici un autre texte qu'à la ligne {first_line} : \
                     toutes les lignes d'une exigence doivent porter le même texte"
                ),
            ));
        }
        if r.profile != *profile {
            conflicts.push((
                Col::Profile,
                format!(
                    "l'exigence {id} a le profil « {profile} » ici mais « {} » à la ligne \
                     {first_line}",
                    r.profile
                ),
            ));
        }
        if r.perimeter != perimeter {
            conflicts.push((
                Col::Perimeter,
                format!(
                    "l'exigence {id} a le périmètre « {perimeter} » ici mais « {} » à la ligne \
                     {first_line}",
                    r.perimeter
                ),
            ));
        }
        if r.socle_id.as_ref() != socle_id {
            let show =
                |s: Option<&SocleId>| s.map_or_else(|| "(vide)".to_owned(), |s| format!("« {s} »"));
            conflicts.push((
                Col::Socle,
                format!(
                    "l'exigence {id} a l'exigence socle {} ici mais {} à la ligne {first_line}",
                    show(socle_id),
                    show(r.socle_id.as_ref())
                ),
            ));
        }
        if !conflicts.is_empty() {
            for (col, message) in conflicts {
                let issue = self
                    .issue(IssueCode::ConflictingDefinition, line, message)
                    .in_column(col.name())
                    .about(id);
                self.errors.push(issue);
            }
            return false;
        }

        for (bit, col) in DESCRIPTIVE.into_iter().enumerate() {
            let flag = 1u8 << bit;
            if self.warned_fields[index] & flag != 0 {
                continue;
            }
            let kept: &str = match col {
                Col::Chapter => &r.chapter,
                Col::Function => &r.function,
                Col::Comment => &r.comment,
                Col::HistoricalProfile => &r.historical_profile,
                Col::Criticality => &r.criticality,
                _ => r.wave1_id.as_deref().unwrap_or(""),
            };
            if kept != clean(self.get(cells, col)) {
                self.warned_fields[index] |= flag;
                let issue = self
                    .issue(
                        IssueCode::InconsistentField,
                        line,
                        format!(
                            "l'exigence {id} n'a pas ici la même valeur qu'à la ligne \
                             {first_line} : celle de la ligne {first_line} est gardée"
                        ),
                    )
                    .in_column(col.name())
                    .about(id);
                self.warnings.push(issue);
            }
        }
        true
    }

    /// Adds the row's scenario and proof to requirement `index`.
    fn add_scenario(&mut self, index: usize, line: usize, cells: &dyn Cells) {
        let scenario_no = self.get(cells, Col::ScenarioNo);
        let scenario_text = clean(self.get(cells, Col::ScenarioText));
        let proof_no = self.get(cells, Col::ProofNo);
        let proof_text = clean(self.get(cells, Col::ProofText));
        let source = self.source;
        let Requirement { id, scenarios, .. } = &mut self.requirements[index];
        let id = id.as_str();
        let mut warnings = Vec::new();
        let warn = |code, col: Col, message: String| {
            Issue::new(code, source, message)
                .at_line(line)
                .in_column(col.name())
                .about(id)
        };

        let no_scenario = scenario_no.is_empty() && scenario_text.is_empty();
        let no_proof = proof_no.is_empty() && proof_text.is_empty();
        if no_scenario {
            if no_proof {
                let issue = warn(
                    IssueCode::NoScenario,
                    Col::ScenarioNo,
                    format!("la ligne ne donne aucun scénario de conformité à l'exigence {id}"),
                );
                self.warnings.push(issue);
                return;
            }
            warnings.push(warn(
                IssueCode::ProofWithoutScenario,
                Col::ScenarioNo,
                format!(
                    "la ligne donne une preuve à l'exigence {id} sans scénario : la preuve est \
                     rangée sous un scénario sans numéro"
                ),
            ));
        }

        let found = if scenario_no.is_empty() {
            scenarios
                .iter()
                .position(|s| s.id.is_none() && s.text == scenario_text)
        } else {
            scenarios
                .iter()
                .position(|s| s.id.as_deref() == Some(scenario_no))
        };
        let si = match found {
            Some(si) => {
                if scenarios[si].text != scenario_text {
                    warnings.push(warn(
                        IssueCode::InconsistentField,
                        Col::ScenarioText,
                        format!(
                            "le scénario {scenario_no} n'a pas ici le même texte que sur sa \
                             première ligne : le premier texte est gardé"
                        ),
                    ));
                }
                si
            }
            None => {
                if !scenario_no.is_empty() && !extends(scenario_no, id) {
                    warnings.push(warn(
                        IssueCode::ScenarioNumberMismatch,
                        Col::ScenarioNo,
                        mismatch_message("scénario", scenario_no, false, id),
                    ));
                }
                scenarios.push(Scenario {
                    id: (!scenario_no.is_empty()).then(|| scenario_no.to_owned()),
                    text: scenario_text.into_owned(),
                    proofs: Vec::new(),
                });
                scenarios.len() - 1
            }
        };
        let scenario = &mut scenarios[si];

        if no_proof {
            warnings.push(warn(
                IssueCode::NoProof,
                Col::ProofNo,
                format!("la ligne donne un scénario à l'exigence {id} sans preuve attendue"),
            ));
        } else {
            let (parent, under_scenario) = match scenario.id.as_deref() {
                Some(no) => (no, true),
                None => (id, false),
            };
            if !proof_no.is_empty() && !extends(proof_no, parent) {
                warnings.push(warn(
                    IssueCode::ProofNumberMismatch,
                    Col::ProofNo,
                    mismatch_message("preuve", proof_no, under_scenario, parent),
                ));
            }
            let proof_id = (!proof_no.is_empty()).then_some(proof_no);
            let same_number = scenario
                .proofs
                .iter()
                .find(|p| proof_id.is_some() && p.id.as_deref() == proof_id);
            let identical = scenario
                .proofs
                .iter()
                .any(|p| p.id.as_deref() == proof_id && p.text == proof_text);
            if identical {
                warnings.push(warn(
                    IssueCode::DuplicateProof,
                    Col::ProofNo,
                    format!(
                        "cette preuve figure déjà, identique, dans le scénario {} : \
                         la répétition est ignorée",
                        scenario.id.as_deref().unwrap_or("sans numéro")
                    ),
                ));
            } else {
                if same_number.is_some() {
                    warnings.push(warn(
                        IssueCode::DuplicateProof,
                        Col::ProofNo,
                        format!(
                            "le numéro de preuve « {proof_no} » est déjà utilisé dans ce \
                             scénario pour une autre preuve : les deux preuves sont gardées"
                        ),
                    ));
                }
                scenario.proofs.push(ProofSpec {
                    id: proof_id.map(str::to_owned),
                    text: proof_text.into_owned(),
                });
            }
        }
        self.warnings.extend(warnings);
    }
}

impl RowSink for Folder<'_> {
    fn header(&mut self, line: usize, cells: &dyn Cells) {
        self.header_line = Some(line);
        let known: Vec<String> = COLS.iter().map(|c| normalize_header(c.name())).collect();
        let mut usable = true;
        for i in 0..cells.count() {
            let raw = cells.cell(i).trim();
            let name = normalize_header(raw);
            if name.is_empty() {
                continue;
            }
            match known.iter().position(|k| *k == name) {
                Some(c) if self.columns[c].is_some() => {
                    usable = false;
                    let issue = self
                        .issue(
                            IssueCode::DuplicateColumn,
                            line,
                            format!(
                                "la colonne « {} » figure deux fois dans l'en-tête",
                                COLS[c].name()
                            ),
                        )
                        .in_column(COLS[c].name());
                    self.errors.push(issue);
                }
                Some(c) => self.columns[c] = Some(i),
                None => {
                    let issue = self
                        .issue(
                            IssueCode::UnknownColumn,
                            line,
                            "cette colonne n'est pas une colonne du format Convergence : \
                             elle est ignorée",
                        )
                        .in_column(raw);
                    self.warnings.push(issue);
                }
            }
        }
        for col in COLS {
            if self.columns[col as usize].is_some() || col.is_extra() {
                continue;
            }
            if col.is_required() {
                usable = false;
                let issue = self
                    .issue(
                        IssueCode::MissingColumn,
                        line,
                        format!(
                            "la colonne obligatoire « {} » est absente de l'en-tête",
                            col.name()
                        ),
                    )
                    .in_column(col.name());
                self.errors.push(issue);
            } else {
                let issue = self
                    .issue(
                        IssueCode::MissingOptionalColumn,
                        line,
                        format!(
                            "la colonne « {} » est absente de l'en-tête : ses valeurs sont \
                             prises vides",
                            col.name()
                        ),
                    )
                    .in_column(col.name());
                self.warnings.push(issue);
            }
        }
        self.usable = usable;
    }

    fn row(&mut self, line: usize, cells: &dyn Cells) {
        let blank = self
            .columns
            .iter()
            .flatten()
            .all(|&i| cells.cell(i).trim().is_empty());
        if blank {
            return;
        }
        self.rows += 1;
        if !self.usable {
            return;
        }
        let Some(parsed) = self.parse_row(line, cells) else {
            return;
        };
        let index = match self.by_id.get(parsed.id.as_str()) {
            Some(&index) => {
                if !self.check_same(index, line, cells, &parsed) {
                    return;
                }
                index
            }
            None => self.create(line, cells, parsed),
        };
        self.add_scenario(index, line, cells);
    }
}

#[cfg(test)]
mod tests;
