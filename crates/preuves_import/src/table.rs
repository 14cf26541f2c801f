//! Reading tabular files (CSV and XLSX) row by row, without building a copy of the table (an
//! XLSX sheet's non-empty cells are gathered first, sparse: only what the file holds).
//!
//! A reader finds the header (the first non-empty row), then hands every following row to a
//! [`RowSink`] with its 1-based line (CSV: the line where the record starts; XLSX: the
//! spreadsheet row number). Cells are handed over as read: trimming and the meaning of columns
//! are the sink's business. Header names are compared with [`normalize_header`].

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, DataRef, Reader, Xlsx, open_workbook_from_rs};
use csv::StringRecord;

use crate::issue::{Issue, IssueCode};

/// The cells of one row.
pub(crate) trait Cells {
    /// The cell at `index`, or `""` past the end.
    fn cell(&self, index: usize) -> &str;
    /// How many cells the row has.
    fn count(&self) -> usize;
}

impl Cells for StringRecord {
    fn cell(&self, index: usize) -> &str {
        self.get(index).unwrap_or("")
    }
    fn count(&self) -> usize {
        self.len()
    }
}

impl Cells for Vec<Cow<'_, str>> {
    fn cell(&self, index: usize) -> &str {
        self.get(index).map_or("", |c| c.as_ref())
    }
    fn count(&self) -> usize {
        self.len()
    }
}

/// Receives the header, then the data rows, of a table.
pub(crate) trait RowSink {
    /// The header row (the first row with a non-blank cell), at `line`.
    fn header(&mut self, line: usize, cells: &dyn Cells);
    /// A data row after the header, at `line` (rows whose every cell is blank are skipped).
    fn row(&mut self, line: usize, cells: &dyn Cells);
}

/// Whether every cell of the row is blank.
pub(crate) fn is_blank(cells: &dyn Cells) -> bool {
    (0..cells.count()).all(|i| cells.cell(i).trim().is_empty())
}

/// A header name made comparable: trimmed, lower-cased, inner whitespace collapsed to one space.
pub(crate) fn normalize_header(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for word in raw.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// A cell's text with line ends made `\n` (CSV from Windows, XLSX from Excel write `\r\n`)
/// and surrounding whitespace removed. Borrows unless there is a `\r` to replace.
pub(crate) fn clean(raw: &str) -> Cow<'_, str> {
    let trimmed = raw.trim();
    if trimmed.contains('\r') {
        Cow::Owned(trimmed.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(trimmed)
    }
}

/// The 1-based line of byte `offset` of `bytes`.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Turns the byte offsets where the `csv` crate starts reading records into line numbers.
///
/// The crate's own line count lags behind on `\r\n` line ends and blank lines (it records the
/// position before skipping the rest of the previous line end), so the lines are counted here:
/// offsets only grow, and each byte is looked at once.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The line of the record whose reading starts at byte `offset`: line ends and blank lines
    /// there are skipped, as the reader does.
    fn line_at(&mut self, offset: usize) -> usize {
        let mut start = offset.clamp(self.offset, self.bytes.len());
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        self.line += self.bytes[self.offset..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.offset = start;
        self.line
    }
}

/// Picks the CSV delimiter from the header line: whichever of `,`, `;` and tab occurs most often
/// outside quotes in the first non-blank line (`,` on a tie or when there is none).
pub(crate) fn detect_delimiter(text: &[u8]) -> u8 {
    let start = text
        .iter()
        .position(|&b| b != b'\n' && b != b'\r')
        .unwrap_or(text.len());
    let mut counts = [0usize; 3];
    let mut in_quotes = false;
    for &b in &text[start..] {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' | b'\r' if !in_quotes => break,
            b',' if !in_quotes => counts[0] += 1,
            b';' if !in_quotes => counts[1] += 1,
            b'\t' if !in_quotes => counts[2] += 1,
            _ => {}
        }
    }
    match counts {
        [c, s, t] if s > c && s >= t => b';',
        [c, s, t] if t > c && t > s => b'\t',
        _ => b',',
    }
}

/// Reads a CSV file (UTF-8, with or without BOM; `,`, `;` or tab detected from the header).
///
/// Rows whose number of fields differs from the header's are not handed to the sink: they come
/// back as `malformed_row` errors. `Err` is an `unreadable_file` issue (not UTF-8, broken CSV).
/// A file without header hands nothing to the sink.
pub(crate) fn read_csv(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn RowSink,
) -> Result<Vec<Issue>, Box<Issue>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = line_of(bytes, e.valid_up_to());
        return Err(Box::new(Issue::new(
            IssueCode::UnreadableFile,
            source,
            format!(
                "le fichier n'est pas encodé en UTF-8 (premier caractère illisible ligne {line}) : \
                 enregistrez-le au format « CSV UTF-8 »"
            ),
        )
        .at_line(line)));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(detect_delimiter(bytes))
        .from_reader(bytes);
    let mut record = StringRecord::new();
    let mut header_fields: Option<usize> = None;
    let mut malformed = Vec::new();
    let mut lines = LineCounter::new(bytes);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = lines.line_at(e.position().map_or(bytes.len(), |p| to_usize(p.byte())));
                return Err(Box::new(
                    Issue::new(
                        IssueCode::UnreadableFile,
                        source,
                        format!("fichier CSV illisible : {e}"),
                    )
                    .at_line(line),
                ));
            }
        }
        let line = lines.line_at(record.position().map_or(0, |p| to_usize(p.byte())));
        if is_blank(&record) {
            continue;
        }
        match header_fields {
            None => {
                header_fields = Some(record.len());
                sink.header(line, &record);
            }
            Some(expected) if record.len() != expected => malformed.push(
                Issue::new(
                    IssueCode::MalformedRow,
                    source,
                    format!(
                        "la ligne compte {} champs alors que l'en-tête en compte {expected} \
                         (un guillemet mal fermé ou un séparateur en trop ?) : elle est ignorée",
                        record.len()
                    ),
                )
                .at_line(line),
            ),
            Some(_) => sink.row(line, &record),
        }
    }
    Ok(malformed)
}

/// The rows of a worksheet, the largest in Excel (and the most any REM can have).
const XLSX_MAX_ROWS: u32 = 1_048_576;

/// The columns of a worksheet, the most in Excel.
const XLSX_MAX_COLUMNS: u32 = 16_384;

/// A spreadsheet row: its non-empty cells, by column, counted from the sheet's first used
/// column. Only what the file holds is kept, so a far-away cell costs nothing.
struct SparseRow {
    cells: Vec<(u32, String)>,
}

impl Cells for SparseRow {
    fn cell(&self, index: usize) -> &str {
        let Ok(index) = u32::try_from(index) else {
            return "";
        };
        self.cells
            .binary_search_by_key(&index, |(c, _)| *c)
            .map_or("", |i| self.cells[i].1.as_str())
    }
    fn count(&self) -> usize {
        self.cells.last().map_or(0, |(c, _)| *c as usize + 1)
    }
}

/// Reads the sheet named `preferred_sheet` of an XLSX workbook (compared as headers are), or
/// its first sheet. `Err` is an `unreadable_file` issue (not a workbook, unreadable sheet, a
/// cell beyond the limits of a sheet).
///
/// The cells are read one by one and kept sparse: a workbook naming a far-away cell (the
/// spreadsheet library would allocate the whole rectangle up to it) is no more expensive than
/// its content. A panic of the spreadsheet library on a malformed file is caught and reported
/// as an unreadable file.
pub(crate) fn read_xlsx(
    source: &str,
    bytes: &[u8],
    preferred_sheet: &str,
    sink: &mut dyn RowSink,
) -> Result<(), Box<Issue>> {
    let unreadable = |why: String| Box::new(Issue::new(IssueCode::UnreadableFile, source, why));
    let cells = std::panic::catch_unwind(|| xlsx_cells(bytes, preferred_sheet))
        .map_err(|_| {
            unreadable(
                "le fichier n'est pas un classeur Excel (.xlsx) lisible : sa structure est \
                 invalide"
                    .to_owned(),
            )
        })?
        .map_err(unreadable)?;
    let Some(first_col) = cells.iter().map(|(_, c, _)| *c).min() else {
        return Ok(());
    };
    let mut seen_header = false;
    let mut cells = cells.into_iter().peekable();
    while let Some((row, col, text)) = cells.next() {
        let mut line = SparseRow {
            cells: vec![(col - first_col, text)],
        };
        while let Some((_, col, text)) = cells.next_if(|(r, _, _)| *r == row) {
            match line.cells.last_mut() {
                // A cell given twice: the last one wins, as in the spreadsheet library.
                Some(last) if last.0 == col - first_col => last.1 = text,
                _ => line.cells.push((col - first_col, text)),
            }
        }
        if is_blank(&line) {
            continue;
        }
        let line_number = row as usize + 1;
        if seen_header {
            sink.row(line_number, &line);
        } else {
            seen_header = true;
            sink.header(line_number, &line);
        }
    }
    Ok(())
}

/// The non-empty cells of the chosen sheet as `(row, column, text)`, 0-based, in row then
/// column order (the file's order among cells given twice); `Err` says why the file is
/// unreadable.
fn xlsx_cells(bytes: &[u8], preferred_sheet: &str) -> Result<Vec<(u32, u32, String)>, String> {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e| format!("le fichier n'est pas un classeur Excel (.xlsx) lisible : {e}"))?;
    let names = workbook.sheet_names();
    let wanted = normalize_header(preferred_sheet);
    let Some(sheet) = names
        .iter()
        .find(|n| normalize_header(n) == wanted)
        .or_else(|| names.first())
    else {
        return Ok(Vec::new());
    };
    let illegible = |e: calamine::XlsxError| format!("la feuille « {sheet} » est illisible : {e}");
    let mut reader = match workbook.worksheet_cells_reader(sheet) {
        Ok(reader) => reader,
        // A chart sheet, say: no cells.
        Err(calamine::XlsxError::NotAWorksheet(_)) => return Ok(Vec::new()),
        Err(e) => return Err(illegible(e)),
    };
    let mut cells = Vec::new();
    while let Some(cell) = reader.next_cell().map_err(illegible)? {
        if *cell.get_value() == DataRef::Empty {
            continue;
        }
        let (row, col) = cell.get_position();
        if row >= XLSX_MAX_ROWS || col >= XLSX_MAX_COLUMNS {
            return Err(format!(
                "la feuille « {sheet} » nomme une cellule au-delà des limites d'une feuille \
                 Excel ({XLSX_MAX_ROWS} lignes, {XLSX_MAX_COLUMNS} colonnes)"
            ));
        }
        let value: Data = cell.get_value().clone().into();
        cells.push((row, col, cell_text(&value).into_owned()));
    }
    // Stable: among cells given twice, the file's order is kept.
    cells.sort_by_key(|(row, col, _)| (*row, *col));
    Ok(cells)
}

/// A spreadsheet cell as text: integral numbers without `.0`, booleans as Excel writes them in
/// French (`VRAI`, `FAUX`).
pub(crate) fn cell_text(cell: &Data) -> Cow<'_, str> {
    match cell {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cow::Borrowed(s),
        Data::Empty => Cow::Borrowed(""),
        Data::Int(i) => Cow::Owned(i.to_string()),
        Data::Float(f) => Cow::Owned(float_text(*f)),
        Data::Bool(b) => Cow::Borrowed(if *b { "VRAI" } else { "FAUX" }),
        Data::DateTime(d) => Cow::Owned(d.to_string()),
        Data::Error(e) => Cow::Owned(e.to_string()),
    }
}

/// A float as a person typed it: `3` rather than `3.0`, `1.5` as is.
fn float_text(f: f64) -> String {
    // Rust prints integral floats without a fractional part (`3.0_f64` → `3`), and never in
    // exponent notation, which is what a cell holding `3` needs.
    let text = f.to_string();
    if text == "-0" { "0".to_owned() } else { text }
}

/// A `u64` position from the `csv` crate as a `usize` (saturating; files are far smaller).
fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        header: Option<(usize, Vec<String>)>,
        rows: Vec<(usize, Vec<String>)>,
    }

    fn owned(cells: &dyn Cells) -> Vec<String> {
        (0..cells.count())
            .map(|i| cells.cell(i).to_owned())
            .collect()
    }

    impl RowSink for Collect {
        fn header(&mut self, line: usize, cells: &dyn Cells) {
            self.header = Some((line, owned(cells)));
        }
        fn row(&mut self, line: usize, cells: &dyn Cells) {
            self.rows.push((line, owned(cells)));
        }
    }

    #[test]
    fn headers_are_compared_trimmed_case_insensitive_and_collapsed() {
        assert_eq!(normalize_header("  N°   Scénario \t"), "n° scénario");
        assert_eq!(normalize_header("PÉRIMÈTRE"), "périmètre");
        assert_eq!(normalize_header("N°\u{a0}scénario"), "n° scénario");
        assert_eq!(normalize_header(""), "");
    }

    #[test]
    fn delimiter_is_detected_from_the_header_line() {
        assert_eq!(detect_delimiter(b"a,b,c\n1;2;3;4;5\n"), b',');
        assert_eq!(detect_delimiter(b"a;b;c\n1,2,3,4,5\n"), b';');
        assert_eq!(detect_delimiter(b"\"a;x\",b,c\n"), b',');
        assert_eq!(detect_delimiter(b"\"a,x,y\";b\n"), b';');
        assert_eq!(detect_delimiter(b"\r\n\r\na\tb\tc\r\n"), b'\t');
        assert_eq!(detect_delimiter(b"single\n"), b',');
        assert_eq!(detect_delimiter(b""), b',');
    }

    #[test]
    fn csv_with_bom_semicolons_and_multiline_fields() {
        let text = "\u{feff}ID;Texte\r\n\r\nA.01;\"deux\r\nlignes\"\r\nA.02;x\r\n";
        let mut sink = Collect::default();
        let malformed = read_csv("t.csv", text.as_bytes(), &mut sink).unwrap();
        assert!(malformed.is_empty());
        assert_eq!(sink.header, Some((1, vec!["ID".into(), "Texte".into()])));
        assert_eq!(
            sink.rows,
            vec![
                (3, vec!["A.01".into(), "deux\r\nlignes".into()]),
                (5, vec!["A.02".into(), "x".into()]),
            ]
        );
        assert_eq!(clean(&sink.rows[0].1[1]), "deux\nlignes");
    }

    #[test]
    fn csv_rows_with_another_field_count_are_reported() {
        let text = "a,b\n1,2\n1,2,3\n,\n4\n";
        let mut sink = Collect::default();
        let malformed = read_csv("t.csv", text.as_bytes(), &mut sink).unwrap();
        assert_eq!(sink.rows.len(), 1, "the blank row is skipped");
        let lines: Vec<_> = malformed.iter().map(|i| i.line).collect();
        assert_eq!(lines, vec![Some(3), Some(5)]);
        assert!(malformed.iter().all(|i| i.code == IssueCode::MalformedRow));
    }

    #[test]
    fn non_utf8_csv_is_unreadable_with_its_line() {
        let bytes = b"a,b\n1,2\n\xE9t\xE9,3\n";
        let mut sink = Collect::default();
        let err = read_csv("t.csv", bytes, &mut sink).unwrap_err();
        assert_eq!(err.code, IssueCode::UnreadableFile);
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("UTF-8"));
    }

    #[test]
    fn garbage_is_not_a_workbook() {
        let mut sink = Collect::default();
        let err = read_xlsx("t.xlsx", b"PK\x03\x04 nope", "x", &mut sink).unwrap_err();
        assert_eq!(err.code, IssueCode::UnreadableFile);
        let err = read_xlsx("t.xlsx", b"", "x", &mut sink).unwrap_err();
        assert_eq!(err.code, IssueCode::UnreadableFile);
    }

    #[test]
    fn numbers_are_written_as_typed() {
        assert_eq!(cell_text(&Data::Float(3.0)), "3");
        assert_eq!(cell_text(&Data::Float(12.5)), "12.5");
        assert_eq!(cell_text(&Data::Float(-0.0)), "0");
        assert_eq!(cell_text(&Data::Float(1e16)), "10000000000000000");
        assert_eq!(cell_text(&Data::Int(7)), "7");
        assert_eq!(cell_text(&Data::Bool(true)), "VRAI");
        assert_eq!(cell_text(&Data::Empty), "");
    }
}
