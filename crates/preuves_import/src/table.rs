//! Reading tabular files (CSV and XLSX) row by row, without building a copy of the table.
//!
//! A reader finds the header (the first non-empty row), then hands every following row to a
//! [`RowSink`] with its 1-based line (CSV: the line where the record starts; XLSX: the
//! spreadsheet row number). Cells are handed over as read: trimming and the meaning of columns
//! are the sink's business. Header names are compared with [`normalize_header`].

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
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

/// Reads the sheet named `preferred_sheet` of an XLSX workbook (compared as headers are), or
/// its first sheet. `Err` is an `unreadable_file` issue (not a workbook, unreadable sheet).
pub(crate) fn read_xlsx(
    source: &str,
    bytes: &[u8],
    preferred_sheet: &str,
    sink: &mut dyn RowSink,
) -> Result<(), Box<Issue>> {
    let unreadable = |why: String| Box::new(Issue::new(IssueCode::UnreadableFile, source, why));
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| {
        unreadable(format!(
            "le fichier n'est pas un classeur Excel (.xlsx) lisible : {e}"
        ))
    })?;
    let names = workbook.sheet_names();
    let wanted = normalize_header(preferred_sheet);
    let Some(sheet) = names
        .iter()
        .find(|n| normalize_header(n) == wanted)
        .or_else(|| names.first())
    else {
        return Ok(());
    };
    let range = workbook
        .worksheet_range(sheet)
        .map_err(|e| unreadable(format!("la feuille « {sheet} » est illisible : {e}")))?;
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    let mut cells: Vec<Cow<'_, str>> = Vec::new();
    let mut seen_header = false;
    for (i, row) in range.rows().enumerate() {
        cells.clear();
        cells.extend(row.iter().map(cell_text));
        if is_blank(&cells) {
            continue;
        }
        let line = first_row + i + 1;
        if seen_header {
            sink.row(line, &cells);
        } else {
            seen_header = true;
            sink.header(line, &cells);
        }
    }
    Ok(())
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
