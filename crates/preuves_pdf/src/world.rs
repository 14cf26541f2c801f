//! The minimal typst [`World`]: one main source (our template), one data file (the attestation as
//! JSON), fonts embedded in the binary, a fixed "today"; no file system, no network, no packages.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic, Warned};
use typst::foundations::{Bytes, Datetime, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, Timestamp};

use crate::PdfError;
use crate::view::IsoDate;

/// The template, compiled into the binary.
const TEMPLATE: &str = include_str!("../templates/attestation.typ");
/// Where the template lives in the virtual file system.
const TEMPLATE_PATH: &str = "/attestation.typ";
/// Where the template finds the data (`json("/data.json")`).
const DATA_PATH: &str = "/data.json";

/// How many renders a memoised typesetting result survives without being used again: keeps what
/// every attestation shares (the template, shaping of the fixed labels) and bounds the memory of a
/// long-running server.
const CACHE_MAX_AGE: usize = 3;

/// What every render shares, built once per process on first use: the standard library, the
/// parsed fonts and their book, the parsed template.
struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    template: Source,
    data_id: FileId,
}

static SHARED: LazyLock<Shared> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    let book = FontBook::from_fonts(&fonts);
    let id = |path| RootedPath::new(VirtualRoot::Project, virtual_path(path)).intern();
    Shared {
        library: LazyHash::new(Library::default()),
        book: LazyHash::new(book),
        fonts,
        template: Source::new(id(TEMPLATE_PATH), TEMPLATE.to_owned()),
        data_id: id(DATA_PATH),
    }
});

fn virtual_path(path: &str) -> VirtualPath {
    match VirtualPath::new(path) {
        Ok(path) => path,
        Err(err) => unreachable!("constant virtual path {path:?} is invalid: {err:?}"),
    }
}

/// One render: the shared parts and this attestation's data.
struct AttestationWorld {
    shared: &'static Shared,
    data: Bytes,
    today: Datetime,
}

impl World for AttestationWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.shared.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.shared.book
    }

    fn main(&self) -> FileId {
        self.shared.template.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.shared.template.id() {
            Ok(self.shared.template.clone())
        } else {
            Err(not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.shared.data_id {
            Ok(self.data.clone())
        } else if id == self.shared.template.id() {
            Ok(Bytes::from_string(self.shared.template.clone()))
        } else {
            Err(not_found(id))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.shared.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_with_slash().into())
}

fn datetime(date: IsoDate) -> Datetime {
    match Datetime::from_ymd(i32::from(date.year), date.month, date.day) {
        Some(datetime) => datetime,
        None => unreachable!("IsoDate::parse only accepts real calendar days: {date:?}"),
    }
}

/// Typesets the template over `data`; returns the document and the warnings.
fn typeset(data: Vec<u8>, date: IsoDate) -> Result<(PagedDocument, Vec<String>), PdfError> {
    let world = AttestationWorld {
        shared: &SHARED,
        data: Bytes::new(data),
        today: datetime(date),
    };
    let Warned { output, warnings } = typst::compile::<PagedDocument>(&world);
    let warnings = warnings.iter().map(|w| describe(&world, w)).collect();
    match output {
        Ok(document) => Ok((document, warnings)),
        Err(errors) => Err(PdfError::Typeset(
            errors
                .iter()
                .map(|e| describe(&world, e))
                .collect::<Vec<_>>()
                .join("; "),
        )),
    }
}

/// A diagnostic as one line: its message, where it is in the template, its hints.
fn describe(world: &AttestationWorld, diagnostic: &SourceDiagnostic) -> String {
    let mut text = diagnostic.message.to_string();
    let template = &world.shared.template;
    if let Some(range) = world.range(diagnostic.span)
        && diagnostic.span.id() == Some(template.id())
        && let Some((line, column)) = template.lines().byte_to_line_column(range.start)
    {
        text.push_str(&format!(
            " (template line {}, column {})",
            line + 1,
            column + 1
        ));
    }
    for hint in &diagnostic.hints {
        text.push_str(&format!("; hint: {}", hint.v));
    }
    text
}

/// Typesets and exports the attestation.
pub(crate) fn render(data: Vec<u8>, date: IsoDate, nru: &str) -> Result<Vec<u8>, PdfError> {
    let result = typeset(data, date).and_then(|(document, _warnings)| {
        let options = PdfOptions {
            // A stable identifier: the same attestation keeps the same PDF identifier.
            ident: Smart::Custom(format!("preuves attestation {nru}")),
            creator: Smart::Custom(Some("preuves".to_owned())),
            timestamp: Some(Timestamp::new_utc(datetime(date))),
            ..PdfOptions::default()
        };
        typst_pdf::pdf(&document, &options).map_err(|errors| {
            PdfError::Export(
                errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })
    });
    typst::comemo::evict(CACHE_MAX_AGE);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template compiles without a warning (an unknown font, a missing glyph, ...).
    #[test]
    fn template_compiles_without_warnings() {
        let a = crate::Attestation {
            nru: "NRU-2026-000123".into(),
            verification_code: "7KQ4-MZ2P".into(),
            verification_url: "https://preuves.example.fr/verifier/NRU-2026-000123".into(),
            decided_on: "2026-11-01".into(),
            vendor_name: "Éditions « Santé » & Cie".into(),
            vendor_siren: "123456789".into(),
            solution: "Dossier usager".into(),
            main_component: "du-core".into(),
            version: "4.2.1".into(),
            commercial_names: vec!["DU".into(), "DU Pro".into()],
            dispositif_code: "DUI-MS-VA2".into(),
            dispositif_label: "DUI médico-social".into(),
            wave: 2,
            profiles: vec!["Général".into(), "PA".into()],
            rem_version: "1.0".into(),
            manifest: vec![
                crate::ManifestEntry {
                    requirement: "INS.01".into(),
                    chapter: "INS".into(),
                    origin: crate::Origin::AdditionalComponent {
                        component: "Module INS".into(),
                    },
                },
                crate::ManifestEntry {
                    requirement: "DMP.02".into(),
                    chapter: "DMP".into(),
                    origin: crate::Origin::Equivalent {
                        nru: "NRU-2025-000001".into(),
                        source_requirement: "DPI.DMP.02".into(),
                        source_dispositif: "DPI-VA2".into(),
                    },
                },
            ],
        };
        let date = IsoDate::parse(&a.decided_on).unwrap();
        let (document, warnings) = typeset(crate::view::to_json(&a, date).unwrap(), date).unwrap();
        assert_eq!(warnings, Vec::<String>::new());
        assert!(
            document.pages().len() >= 2,
            "the manifest is an annex on its own page"
        );
    }

    #[test]
    fn reads_no_other_file() {
        let world = AttestationWorld {
            shared: &SHARED,
            data: Bytes::new(b"{}".to_vec()),
            today: datetime(IsoDate {
                year: 2026,
                month: 1,
                day: 1,
            }),
        };
        let other = RootedPath::new(VirtualRoot::Project, virtual_path("/etc/passwd")).intern();
        assert!(world.file(other).is_err());
        assert!(world.source(other).is_err());
    }
}
