//! The REM importer on hostile CSV and XLSX bytes.

use preuves_import::rem::CONVERGENCE_COLUMNS;
use preuves_import::{import_rem_bytes, import_rem_csv, import_rem_xlsx};
use proptest::prelude::*;
use proptest::sample::Index;

use super::xlsx::{self, Parts};
use super::{Input, Outcome, fuzz, input, real_data_files, repo_file};

/// Tokens of the Convergence format.
const REM_TOKENS: &[&[u8]] = &[
    b"P\xC3\xA9rim\xC3\xA8tre",
    b"ID",
    b"Chapitre",
    b"Exigence",
    b"Profil",
    b"N\xC2\xB0 sc\xC3\xA9nario",
    b"N\xC2\xB0 preuve",
    b"Preuve",
    b"Exigence socle",
    b"ID vague 1",
    b"Ordre",
    b"Vague 3",
    b"INS/va1.01.01",
    b"INS/va1.01.01.01",
    b"SC.INS.01",
    b"IE Usagers",
    b"PDE",
    b" ",
    b",,,,,,,,,,,,,,,",
    b";;;;;;;;;;;;;;;",
    b"\"a\"\"b\"",
];

/// Tokens of spreadsheet XML.
const XLSX_TOKENS: &[&[u8]] = &[
    b"<row r=\"1048577\">",
    b"<c r=\"XFD1048576\" t=\"s\"><v>0</v></c>",
    b"<c r=\"A1\" t=\"s\"><v>4294967296</v></c>",
    b"<c r=\"ZZZZ99999999\"><v>1</v></c>",
    b"<c r=\"A1\" t=\"inlineStr\"><is><t>x</t></is></c>",
    b"<c r=\"A1\" t=\"b\"><v>1</v></c>",
    b"<c r=\"A1\" t=\"e\"><v>#N/A</v></c>",
    b"<c r=\"A1\" t=\"d\"><v>2026-13-45T25:61:61</v></c>",
    b"<c r=\"A1\" s=\"99999\"><v>1e308</v></c>",
    b"<dimension ref=\"A1:XFD1048576\"/>",
    b"<mergeCell ref=\"A1:XFD1048576\"/>",
    b"<sheetData>",
    b"</sheetData>",
    b"</row>",
    b"</c>",
    b"<v>",
    b"</v>",
    b"<si><t>",
    b"</t></si>",
    b"<r><t>x</t></r>",
    b"<rPh><t>x</t></rPh>",
    b"xml:space=\"preserve\"",
    b"&#13;",
    b"&#xD800;",
    b"&lt;",
    b"&unknown;",
    b"<sheet name=\"\" sheetId=\"0\" r:id=\"rId9\"/>",
    b"<sheet name=\"Exigences REM vague 2\" sheetId=\"2\" r:id=\"rId1\"/>",
    b"Target=\"../../../../etc/passwd\"",
    b"Target=\"/xl/worksheets/sheet1.xml\"",
    b"<?xml version=\"1.1\" encoding=\"UTF-16\"?>",
];

fn csv_seeds() -> Vec<Vec<u8>> {
    let mut seeds = vec![
        repo_file("demo/catalogue/REM-DUI-MS-Va2-demo.csv"),
        repo_file("demo/catalogue/REM-DPI-Va2-demo.csv"),
        // A small REM, so that mutations are dense relative to its size.
        format!(
            "{}\nVague 2,INS.01,INS,F,Le système DOIT.,,Général,INS.01.01,S,INS.01.01.01,P,,,1\n",
            CONVERGENCE_COLUMNS.join(",")
        )
        .into_bytes(),
        format!(
            "\u{feff}{}\r\nVague 1;A.01;A;F;\"T\r\nsur deux lignes\";;PDE;;;;;;;\r\n",
            CONVERGENCE_COLUMNS.join(";")
        )
        .into_bytes(),
    ];
    seeds.extend(real_data_files("csv"));
    seeds
}

fn run_csv(bytes: &[u8]) -> Outcome {
    // Through the extension dispatch as well as directly, and the messages must print.
    let direct = import_rem_csv("fuzz.csv", bytes);
    let dispatched = import_rem_bytes("FUZZ.CSV", bytes);
    assert_eq!(direct.is_ok(), dispatched.is_ok());
    match direct {
        Ok(import) => {
            for w in &import.warnings {
                let _ = w.to_string();
            }
            Outcome::Accepted
        }
        Err(failure) => {
            assert!(!failure.errors.is_empty(), "a refusal names its errors");
            let _ = failure.to_string();
            Outcome::Refused
        }
    }
}

fn run_xlsx(bytes: &[u8]) -> Outcome {
    match import_rem_xlsx("fuzz.xlsx", bytes) {
        Ok(import) => {
            for w in &import.warnings {
                let _ = w.to_string();
            }
            Outcome::Accepted
        }
        Err(failure) => {
            assert!(!failure.errors.is_empty(), "a refusal names its errors");
            let _ = failure.to_string();
            Outcome::Refused
        }
    }
}

#[test]
fn fuzz_rem_csv() {
    let seeds = csv_seeds();
    fuzz(
        "rem_csv",
        input(),
        |i: &Input| i.bytes(&seeds, REM_TOKENS),
        run_csv,
    );
}

/// The workbooks built from the CSV seeds (the demo REMs and the small ones).
fn workbook_seeds() -> Vec<Parts> {
    csv_seeds()
        .iter()
        .take(4)
        .map(|csv| xlsx::workbook_parts(&xlsx::csv_rows(csv)))
        .collect()
}

/// A workbook input: the seed workbook, the part to mutate (the sheet and the shared strings
/// most often) and the mutation input; or mutations of the finished archive's bytes.
#[derive(Debug, Clone)]
enum WorkbookInput {
    /// A part mutated before zipping.
    Part(Index, usize, Input),
    /// The zipped bytes mutated.
    Archive(Index, Input),
}

fn workbook_input() -> impl Strategy<Value = WorkbookInput> {
    let part = prop_oneof![
        4 => Just(xlsx::SHEET),
        3 => Just(xlsx::SHARED_STRINGS),
        1 => 0..6usize,
    ];
    prop_oneof![
        4 => (any::<Index>(), part, input()).prop_map(|(s, p, i)| WorkbookInput::Part(s, p, i)),
        1 => (any::<Index>(), input()).prop_map(|(s, i)| WorkbookInput::Archive(s, i)),
    ]
}

#[test]
fn fuzz_rem_xlsx() {
    let workbooks = workbook_seeds();
    let mut archives: Vec<Vec<u8>> = workbooks.iter().map(xlsx::zip).collect();
    archives.extend(real_data_files("xlsx"));
    let build = |w: &WorkbookInput| match w {
        WorkbookInput::Part(seed, part, input) => {
            let mut parts = workbooks[seed.index(workbooks.len())].clone();
            let seeds = [parts[*part].1.clone()];
            parts[*part].1 = input.bytes(&seeds, XLSX_TOKENS);
            xlsx::zip(&parts)
        }
        WorkbookInput::Archive(seed, input) => {
            let seeds = [archives[seed.index(archives.len())].clone()];
            input.bytes(&seeds, XLSX_TOKENS)
        }
    };
    fuzz("rem_xlsx", workbook_input(), build, run_xlsx);
}

/// The workbook writer of these tests is faithful: the demo REM reads the same from its CSV and
/// from the workbook built from it (so mutations of the workbook start from a valid REM).
#[test]
fn seed_workbooks_import_like_their_csv() {
    for (csv, parts) in csv_seeds().iter().zip(workbook_seeds()) {
        let from_csv = import_rem_csv("seed.csv", csv).expect("the CSV seed imports");
        let from_xlsx =
            import_rem_xlsx("seed.xlsx", &xlsx::zip(&parts)).expect("the workbook seed imports");
        assert_eq!(from_csv.rem.requirements(), from_xlsx.rem.requirements());
        assert_eq!(from_csv.rows, from_xlsx.rows);
    }
}

/// The small REM seed as a workbook whose sheet gets `extra` just before `</sheetData>`.
fn workbook_with(extra: &str) -> Vec<u8> {
    let mut parts = workbook_seeds().swap_remove(2);
    let sheet = String::from_utf8(parts[xlsx::SHEET].1.clone()).expect("UTF-8 sheet");
    parts[xlsx::SHEET].1 = sheet
        .replace("</sheetData>", &format!("{extra}</sheetData>"))
        .into_bytes();
    xlsx::zip(&parts)
}

/// Found by fuzzing: a cell far away (the last cell of a sheet) made the spreadsheet library
/// allocate the whole rectangle up to it (17 billion cells), which aborts the process.
#[test]
fn a_cell_at_the_end_of_the_sheet_is_cheap() {
    let start = std::time::Instant::now();
    for cell in [
        "<row r=\"1048576\"><c r=\"XFD1048576\"><v>1</v></c></row>",
        "<row r=\"1048576\"><c r=\"XFD1048576\" t=\"inlineStr\"><is><t>x</t></is></c></row>",
        "<row r=\"5\"><c r=\"XFD5\"><v>1</v></c></row><row r=\"6\"><c r=\"XFD6\"><v>1</v></c></row>",
    ] {
        let _ = run_xlsx(&workbook_with(cell));
    }
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

/// Found by fuzzing: cell and row numbers beyond 32 bits overflowed in the spreadsheet library
/// (a panic in debug builds, a wrapped position in release ones); beyond the limits of a sheet,
/// the file is refused.
#[test]
fn cell_references_beyond_the_sheet_are_refused() {
    for cell in [
        "<row><c r=\"A99999999999\"><v>1</v></c></row>",
        "<row><c r=\"ZZZZZZZZZZ1\"><v>1</v></c></row>",
        "<row r=\"99999999999\"><c><v>1</v></c></row>",
        "<row r=\"4294967295\"><c><v>1</v></c></row><row><c><v>1</v></c></row>",
        "<row><c r=\"ZZZZ1\"><v>1</v></c></row>",
        "<row r=\"1048577\"><c r=\"A1048577\"><v>1</v></c></row>",
    ] {
        let result = import_rem_xlsx("far.xlsx", &workbook_with(cell));
        let failure = result.expect_err(cell);
        assert!(
            failure.errors[0].message.contains("classeur")
                || failure.errors[0].message.contains("feuille"),
            "{cell}: {failure}"
        );
    }
}
