//! Loading a catalogue directory: its `catalogue.toml`, the REMs it names and its optional
//! equivalence table, checked and built into a [`Catalogue`].
//!
//! ```toml
//! equivalences = "equivalences.csv"   # optional
//!
//! [[dispositif]]
//! code = "DPI"
//! wave = 1
//! name = "Dossier patient informatisé (vague 1)"
//! corridor = "HOP"
//! profiles = []                       # optional, vague 1 only
//!
//! [[dispositif]]
//! code = "DPI"
//! wave = 2
//! name = "Dossier patient informatisé"
//! corridor = "HOP"
//! rem = "REM-DPI-Va2.csv"             # CSV or XLSX, relative to the toml: the version in force
//! rem_version = "2"                   # its label (default "1")
//! opens_on = "2026-01-05"             # optional: the guichet's first day (R10)
//! predecessors = ["DPI"]              # vague-1 codes
//! date2 = "2026-12-15"
//! [[dispositif.older_rem]]            # optional, after its dispositif's keys; oldest first
//! version = "1"
//! file = "REM-DPI-Va2-v1.csv"
//! ```
//!
//! REM version labels are free text, unique per dispositif; the older versions are kept because
//! referencings were granted on them (`docs/rules.md`, R2).
//!
//! The equivalence table is a CSV with the header `Dispositif A,ID A,Dispositif B,ID B`; each
//! row pairs two requirements of two vague-2 dispositifs.
//!
//! Loading is all or nothing: every REM is imported, and every error of the toml, of every REM
//! and of the table is reported at once.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use preuves_domain::{
    Catalogue, CatalogueError, Dispositif, DispositifCode, DispositifKey, EquivalencePair, IsoDate,
    OlderRem, Profile, Rem, RemVersionLabel, RequirementId, Wave,
};
use serde::Deserialize;
use toml::Spanned;

use crate::issue::{Issue, IssueCode, write_lines};
use crate::rem::import_rem_file;
use crate::table::{Cells, RowSink, normalize_header, read_csv};

/// A catalogue loaded successfully.
#[derive(Debug, Clone)]
pub struct LoadedCatalogue {
    /// The catalogue, checked and indexed.
    pub catalogue: Catalogue,
    /// Every warning of the toml, the REMs and the equivalence table.
    pub warnings: Vec<Issue>,
    /// Each REM in force imported: its dispositif, its file, and its number of data rows.
    pub rems: Vec<(DispositifKey, PathBuf, usize)>,
    /// Each older REM version imported: its dispositif, its label, its file, and its number of
    /// data rows, in catalogue order, oldest first.
    pub older_rems: Vec<(DispositifKey, RemVersionLabel, PathBuf, usize)>,
}

/// A catalogue refused: every error found, and the warnings found along the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueFailure {
    /// Every error; never empty.
    pub errors: Vec<Issue>,
    /// The warnings found as well.
    pub warnings: Vec<Issue>,
}

impl fmt::Display for CatalogueFailure {
    /// One error a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lines(f, &self.errors)
    }
}

impl std::error::Error for CatalogueFailure {}

/// The header of an equivalence table.
pub const EQUIVALENCE_COLUMNS: [&str; 4] = ["Dispositif A", "ID A", "Dispositif B", "ID B"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueToml {
    #[serde(default)]
    dispositif: Vec<Spanned<DispositifToml>>,
    equivalences: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DispositifToml {
    code: DispositifCode,
    wave: Wave,
    name: String,
    corridor: String,
    rem: Option<Spanned<String>>,
    predecessors: Option<Spanned<Vec<DispositifCode>>>,
    date2: Option<Spanned<IsoDate>>,
    profiles: Option<Spanned<Vec<Profile>>>,
    rem_version: Option<Spanned<RemVersionLabel>>,
    opens_on: Option<Spanned<IsoDate>>,
    #[serde(default)]
    older_rem: Vec<Spanned<OlderRemToml>>,
}

/// A `[[dispositif.older_rem]]` table: an older REM version kept beside the one in force.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OlderRemToml {
    version: Spanned<RemVersionLabel>,
    file: Spanned<String>,
}

/// Loads `catalogue.toml` and everything it names (paths relative to the toml's folder).
pub fn load_catalogue(toml_path: &Path) -> Result<LoadedCatalogue, CatalogueFailure> {
    let source = toml_path.display().to_string();
    let fail = |issue: Issue| CatalogueFailure {
        errors: vec![issue],
        warnings: Vec::new(),
    };
    let text = std::fs::read_to_string(toml_path).map_err(|e| {
        fail(match e.kind() {
            std::io::ErrorKind::NotFound => {
                Issue::new(IssueCode::MissingFile, &source, "fichier introuvable")
            }
            _ => Issue::new(
                IssueCode::UnreadableFile,
                &source,
                format!("lecture impossible : {e}"),
            ),
        })
    })?;
    let parsed: CatalogueToml = toml::from_str(&text).map_err(|e| {
        let mut issue = Issue::new(
            IssueCode::InvalidToml,
            &source,
            french_toml_message(e.message()),
        );
        if let Some(span) = e.span() {
            let (line, position) = line_and_position(&text, span.start);
            issue = issue.at_line(line).at_position(position);
        }
        fail(issue)
    })?;
    let base = toml_path.parent().unwrap_or_else(|| Path::new(""));
    Loader {
        source,
        text: &text,
        base,
        errors: Vec::new(),
        warnings: Vec::new(),
    }
    .load(parsed)
}

/// The 1-based line and character position of byte `offset` of `text`.
fn line_and_position(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = 1 + before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, 1 + before[line_start..].chars().count())
}

/// The message of a TOML or serde error, in French for the usual cases.
fn french_toml_message(message: &str) -> String {
    let message = message.trim();
    let quoted = |rest: &str| -> Option<(String, String)> {
        let rest = rest.strip_prefix('`')?;
        let end = rest.find('`')?;
        Some((rest[..end].to_owned(), rest[end + 1..].to_owned()))
    };
    if let Some((key, rest)) = message.strip_prefix("unknown field ").and_then(quoted) {
        let allowed: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
        return if allowed.is_empty() {
            format!("clé inconnue « {key} »")
        } else {
            format!(
                "clé inconnue « {key} » (clés admises : {})",
                allowed.join(", ")
            )
        };
    }
    if let Some((key, _)) = message.strip_prefix("missing field ").and_then(quoted) {
        return format!("clé obligatoire « {key} » absente");
    }
    format!("catalogue invalide : {message}")
}

struct Loader<'a> {
    source: String,
    text: &'a str,
    base: &'a Path,
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
}

impl Loader<'_> {
    /// An issue of the toml at byte `offset`.
    fn at(&self, code: IssueCode, offset: usize, message: impl Into<String>) -> Issue {
        let (line, position) = line_and_position(self.text, offset);
        Issue::new(code, &self.source, message)
            .at_line(line)
            .at_position(position)
    }

    fn error(&mut self, code: IssueCode, offset: usize, message: impl Into<String>) {
        let issue = self.at(code, offset, message);
        self.errors.push(issue);
    }

    fn load(mut self, parsed: CatalogueToml) -> Result<LoadedCatalogue, CatalogueFailure> {
        let entries = parsed.dispositif;
        let wave1: HashSet<&DispositifCode> = entries
            .iter()
            .filter(|d| d.get_ref().wave == Wave::One)
            .map(|d| &d.get_ref().code)
            .collect();

        let mut dispositifs = Vec::with_capacity(entries.len());
        let mut rems = Vec::new();
        let mut older_rems = Vec::new();
        let mut seen: HashSet<DispositifKey> = HashSet::new();
        for entry in &entries {
            let offset = entry.span().start;
            let d = entry.get_ref();
            let key = DispositifKey {
                code: d.code.clone(),
                wave: d.wave,
            };
            if !seen.insert(key.clone()) {
                self.error(
                    IssueCode::DuplicateDispositif,
                    offset,
                    format!("le dispositif {key} est déclaré deux fois"),
                );
            }
            let predecessors = d
                .predecessors
                .as_ref()
                .map_or_else(Vec::new, |p| p.get_ref().clone());
            let profiles = d
                .profiles
                .as_ref()
                .map_or_else(Vec::new, |p| p.get_ref().clone());
            let (rem, older) = match d.wave {
                Wave::One => {
                    self.check_wave1(d, &key);
                    (None, Vec::new())
                }
                Wave::Two => {
                    self.check_wave2(d, &key, offset, &wave1);
                    let rem = d.rem.as_ref().and_then(|file| {
                        let (rem, path, rows) = self.import_rem(file, &key, None)?;
                        rems.push((key.clone(), path, rows));
                        Some(rem)
                    });
                    (rem, self.import_older_rems(d, &key, &mut older_rems))
                }
            };
            dispositifs.push(Dispositif {
                key,
                name: d.name.trim().to_owned(),
                corridor: d.corridor.trim().to_owned(),
                predecessors: if d.wave == Wave::Two {
                    predecessors
                } else {
                    Vec::new()
                },
                date2: d.date2.as_ref().map(|s| *s.get_ref()),
                wave1_profiles: if d.wave == Wave::One {
                    profiles
                } else {
                    Vec::new()
                },
                rem,
                rem_version: d
                    .rem_version
                    .as_ref()
                    .map_or_else(RemVersionLabel::initial, |v| v.get_ref().clone()),
                older_rems: older,
                opens_on: d.opens_on.as_ref().map(|s| *s.get_ref()),
            });
        }

        let pairs = match &parsed.equivalences {
            Some(file) => self.equivalences(file, &dispositifs),
            None => Vec::new(),
        };

        if !self.errors.is_empty() {
            return Err(CatalogueFailure {
                errors: self.errors,
                warnings: self.warnings,
            });
        }
        match Catalogue::new(dispositifs, &pairs) {
            Ok(catalogue) => Ok(LoadedCatalogue {
                catalogue,
                warnings: self.warnings,
                rems,
                older_rems,
            }),
            Err(e) => {
                let code = match &e {
                    CatalogueError::DuplicateDispositif { .. } => IssueCode::DuplicateDispositif,
                    CatalogueError::MissingRem { .. } => IssueCode::MissingRem,
                    CatalogueError::RemOnWave1 { .. } => IssueCode::MisplacedField,
                    CatalogueError::UnknownPredecessor { .. } => IssueCode::UnknownPredecessor,
                    CatalogueError::UnknownEquivalenceRequirement { .. } => {
                        IssueCode::UnknownRequirement
                    }
                    CatalogueError::DuplicateRemVersion { .. } => IssueCode::DuplicateRemVersion,
                    CatalogueError::OpensOnWave1 { .. } => IssueCode::MisplacedField,
                    _ => IssueCode::InvalidCatalogue,
                };
                Err(CatalogueFailure {
                    errors: vec![Issue::new(code, &self.source, e.to_string())],
                    warnings: self.warnings,
                })
            }
        }
    }

    fn check_wave1(&mut self, d: &DispositifToml, key: &DispositifKey) {
        if let Some(rem) = &d.rem {
            self.error(
                IssueCode::MisplacedField,
                rem.span().start,
                format!(
                    "le dispositif {key} est de vague 1 : il ne porte pas de REM (les exigences \
                     de vague 1 sont reprises dans les REM de vague 2)"
                ),
            );
        }
        if let Some(p) = d.predecessors.as_ref().filter(|p| !p.get_ref().is_empty()) {
            self.error(
                IssueCode::MisplacedField,
                p.span().start,
                format!(
                    "le dispositif {key} est de vague 1 : « predecessors » ne se déclare qu'en \
                     vague 2"
                ),
            );
        }
        let wave2_only = [
            ("date2", d.date2.as_ref().map(Spanned::span)),
            ("rem_version", d.rem_version.as_ref().map(Spanned::span)),
            ("opens_on", d.opens_on.as_ref().map(Spanned::span)),
            ("older_rem", d.older_rem.first().map(Spanned::span)),
        ];
        for (name, span) in wave2_only {
            if let Some(span) = span {
                self.error(
                    IssueCode::MisplacedField,
                    span.start,
                    format!(
                        "le dispositif {key} est de vague 1 : « {name} » ne se déclare qu'en \
                         vague 2"
                    ),
                );
            }
        }
    }

    fn check_wave2(
        &mut self,
        d: &DispositifToml,
        key: &DispositifKey,
        offset: usize,
        wave1: &HashSet<&DispositifCode>,
    ) {
        if let Some(p) = d.profiles.as_ref().filter(|p| !p.get_ref().is_empty()) {
            self.error(
                IssueCode::MisplacedField,
                p.span().start,
                format!(
                    "le dispositif {key} est de vague 2 : ses profils viennent de son REM, \
                     « profiles » ne se déclare qu'en vague 1"
                ),
            );
        }
        if d.rem.is_none() {
            self.error(
                IssueCode::MissingRem,
                offset,
                format!(
                    "le dispositif {key} n'a pas de REM : ajoutez la clé « rem » (fichier CSV ou \
                     XLSX)"
                ),
            );
        }
        if d.date2.is_none() {
            let issue = self.at(
                IssueCode::MissingDate2,
                offset,
                format!(
                    "le dispositif {key} n'a pas de « date2 » : la saisie tardive d'un NRU \
                     d'équivalence (règle R5) y sera toujours refusée"
                ),
            );
            self.warnings.push(issue);
        }
        if let Some(p) = &d.predecessors {
            for code in p.get_ref() {
                if !wave1.contains(code) {
                    self.error(
                        IssueCode::UnknownPredecessor,
                        p.span().start,
                        format!(
                            "le prédécesseur « {code} » de {key} n'est pas un dispositif de \
                             vague 1 du catalogue"
                        ),
                    );
                }
            }
        }
    }

    /// Imports the older REM versions of a vague-2 dispositif, oldest first, refusing a label
    /// given twice (the version in force's included).
    fn import_older_rems(
        &mut self,
        d: &DispositifToml,
        key: &DispositifKey,
        imported: &mut Vec<(DispositifKey, RemVersionLabel, PathBuf, usize)>,
    ) -> Vec<OlderRem> {
        let in_force = d
            .rem_version
            .as_ref()
            .map_or_else(RemVersionLabel::initial, |v| v.get_ref().clone());
        let mut labels = vec![in_force];
        let mut older = Vec::new();
        for entry in &d.older_rem {
            let o = entry.get_ref();
            let version = o.version.get_ref();
            if labels.contains(version) {
                self.error(
                    IssueCode::DuplicateRemVersion,
                    o.version.span().start,
                    format!(
                        "le dispositif {key} a déjà une version de REM nommée « {version} » : \
                         chaque version porte un libellé qui lui est propre"
                    ),
                );
                continue;
            }
            labels.push(version.clone());
            if let Some((rem, path, rows)) = self.import_rem(&o.file, key, Some(version)) {
                imported.push((key.clone(), version.clone(), path, rows));
                older.push(OlderRem {
                    version: version.clone(),
                    rem,
                });
            }
        }
        older
    }

    /// Imports one REM file of a vague-2 dispositif (the version in force, or the older
    /// `version`), keeping its issues; returns it with its path and number of data rows.
    fn import_rem(
        &mut self,
        file: &Spanned<String>,
        key: &DispositifKey,
        version: Option<&RemVersionLabel>,
    ) -> Option<(Rem, PathBuf, usize)> {
        let path = self.base.join(file.get_ref());
        if !path.is_file() {
            let which = version.map_or_else(String::new, |v| format!(" (version « {v} »)"));
            self.error(
                IssueCode::MissingFile,
                file.span().start,
                format!(
                    "le REM de {key}{which}, « {} », est introuvable ({})",
                    file.get_ref(),
                    path.display()
                ),
            );
            return None;
        }
        match import_rem_file(&path) {
            Ok(import) => {
                self.warnings.extend(import.warnings);
                Some((import.rem, path, import.rows))
            }
            Err(failure) => {
                self.errors.extend(failure.errors);
                self.warnings.extend(failure.warnings);
                None
            }
        }
    }

    /// Reads and checks the equivalence table against the dispositifs read so far.
    fn equivalences(
        &mut self,
        file: &Spanned<String>,
        dispositifs: &[Dispositif],
    ) -> Vec<EquivalencePair> {
        let path = self.base.join(file.get_ref());
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                let message = if e.kind() == std::io::ErrorKind::NotFound {
                    format!(
                        "la table d'équivalence « {} » est introuvable ({})",
                        file.get_ref(),
                        path.display()
                    )
                } else {
                    format!(
                        "la table d'équivalence « {} » est illisible : {e}",
                        file.get_ref()
                    )
                };
                self.error(IssueCode::MissingFile, file.span().start, message);
                return Vec::new();
            }
        };
        let table_source = path.display().to_string();
        let mut sink = EquivalenceSink::new(&table_source, dispositifs);
        match read_csv(&table_source, &bytes, &mut sink) {
            Ok(malformed) => sink.errors.extend(malformed),
            Err(unreadable) => sink.errors.push(*unreadable),
        }
        if sink.header_line.is_none() && sink.errors.is_empty() {
            sink.errors.push(Issue::new(
                IssueCode::EmptyFile,
                &table_source,
                "la table d'équivalence est vide : l'en-tête « Dispositif A,ID A,Dispositif B,ID B » \
                 est attendu",
            ));
        }
        self.errors.append(&mut sink.errors);
        self.warnings.append(&mut sink.warnings);
        sink.pairs
    }
}

/// Reads equivalence-table rows, checking them against the catalogue's vague-2 REMs.
struct EquivalenceSink<'a> {
    source: &'a str,
    dispositifs: &'a [Dispositif],
    columns: [Option<usize>; 4],
    header_line: Option<usize>,
    usable: bool,
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
    pairs: Vec<EquivalencePair>,
    seen: HashSet<[(DispositifCode, RequirementId); 2]>,
}

impl<'a> EquivalenceSink<'a> {
    fn new(source: &'a str, dispositifs: &'a [Dispositif]) -> Self {
        Self {
            source,
            dispositifs,
            columns: [None; 4],
            header_line: None,
            usable: false,
            errors: Vec::new(),
            warnings: Vec::new(),
            pairs: Vec::new(),
            seen: HashSet::new(),
        }
    }

    /// Parses and checks one side of a pair (columns `code_col`, `id_col`); errors are pushed.
    fn side(
        &mut self,
        line: usize,
        cells: &dyn Cells,
        code_col: usize,
        id_col: usize,
    ) -> Option<(DispositifCode, RequirementId)> {
        let get = |c: usize| self.columns[c].map_or("", |i| cells.cell(i).trim());
        let (raw_code, raw_id) = (get(code_col), get(id_col));
        let issue = |code, col: usize, message: String| {
            let issue = Issue::new(code, self.source, message)
                .at_line(line)
                .in_column(EQUIVALENCE_COLUMNS[col]);
            if raw_id.is_empty() {
                issue
            } else {
                issue.about(raw_id)
            }
        };
        let id = match RequirementId::parse(raw_id) {
            Ok(id) => Some(id),
            Err(e) => {
                let code = if raw_id.is_empty() {
                    IssueCode::EmptyId
                } else {
                    IssueCode::InvalidId
                };
                self.errors.push(issue(code, id_col, e.to_string()));
                None
            }
        };
        let dispositif = match DispositifCode::parse(raw_code) {
            Ok(code) => {
                let found = self
                    .dispositifs
                    .iter()
                    .find(|d| d.key.wave == Wave::Two && d.key.code == code);
                if found.is_none() {
                    self.errors.push(issue(
                        IssueCode::UnknownDispositif,
                        code_col,
                        format!("« {code} » n'est pas un dispositif de vague 2 du catalogue"),
                    ));
                }
                found
            }
            Err(e) => {
                self.errors
                    .push(issue(IssueCode::UnknownDispositif, code_col, e.to_string()));
                None
            }
        };
        let (dispositif, id) = (dispositif?, id?);
        // A REM that failed to import has its own errors: its ids are not checked here. A pair
        // may name an id of any version kept (it counts only where both ids exist in the two
        // versions compared).
        if dispositif.rem.is_some()
            && !dispositif
                .rem_versions()
                .any(|(_, rem)| rem.position(&id).is_some())
        {
            self.errors.push(issue(
                IssueCode::UnknownRequirement,
                id_col,
                format!(
                    "l'exigence {id} ne figure dans aucune version du REM de {}",
                    dispositif.key
                ),
            ));
            return None;
        }
        Some((dispositif.key.code.clone(), id))
    }
}

impl RowSink for EquivalenceSink<'_> {
    fn header(&mut self, line: usize, cells: &dyn Cells) {
        self.header_line = Some(line);
        let known = EQUIVALENCE_COLUMNS.map(normalize_header);
        for i in 0..cells.count() {
            let raw = cells.cell(i).trim();
            let name = normalize_header(raw);
            if name.is_empty() {
                continue;
            }
            match known.iter().position(|k| *k == name) {
                Some(c) if self.columns[c].is_none() => self.columns[c] = Some(i),
                Some(c) => self.errors.push(
                    Issue::new(
                        IssueCode::DuplicateColumn,
                        self.source,
                        "cette colonne figure deux fois dans l'en-tête",
                    )
                    .at_line(line)
                    .in_column(EQUIVALENCE_COLUMNS[c]),
                ),
                None => self.warnings.push(
                    Issue::new(
                        IssueCode::UnknownColumn,
                        self.source,
                        "cette colonne n'appartient pas à une table d'équivalence : elle est \
                         ignorée",
                    )
                    .at_line(line)
                    .in_column(raw),
                ),
            }
        }
        for (c, name) in EQUIVALENCE_COLUMNS.iter().enumerate() {
            if self.columns[c].is_none() {
                self.errors.push(
                    Issue::new(
                        IssueCode::MissingColumn,
                        self.source,
                        format!("la colonne obligatoire « {name} » est absente de l'en-tête"),
                    )
                    .at_line(line)
                    .in_column(*name),
                );
            }
        }
        self.usable = self.errors.is_empty();
    }

    fn row(&mut self, line: usize, cells: &dyn Cells) {
        if !self.usable
            || self
                .columns
                .iter()
                .flatten()
                .all(|&i| cells.cell(i).trim().is_empty())
        {
            return;
        }
        let a = self.side(line, cells, 0, 1);
        let b = self.side(line, cells, 2, 3);
        let (Some(a), Some(b)) = (a, b) else { return };
        if a.0 == b.0 {
            self.errors.push(
                Issue::new(
                    IssueCode::InvalidPair,
                    self.source,
                    format!(
                        "la ligne apparie deux exigences du même dispositif {} : une équivalence \
                         relie deux dispositifs différents",
                        a.0
                    ),
                )
                .at_line(line)
                .in_column(EQUIVALENCE_COLUMNS[2])
                .about(a.1.as_str())
                .about(b.1.as_str()),
            );
            return;
        }
        let key = if a <= b {
            [a.clone(), b.clone()]
        } else {
            [b.clone(), a.clone()]
        };
        if !self.seen.insert(key) {
            self.warnings.push(
                Issue::new(
                    IssueCode::DuplicatePair,
                    self.source,
                    format!(
                        "la paire {} {} – {} {} figure déjà dans la table : la répétition est \
                         ignorée",
                        a.0, a.1, b.0, b.1
                    ),
                )
                .at_line(line)
                .about(a.1.as_str())
                .about(b.1.as_str()),
            );
            return;
        }
        self.pairs.push(EquivalencePair { a, b });
    }
}

#[cfg(test)]
mod tests;
