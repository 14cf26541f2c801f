//! The attestation de référencement: the PDF the platform issues when a referencing is granted.
//!
//! The document is typeset in-process with [typst](https://typst.app) used as a library: our own
//! template (`templates/attestation.typ`, compiled into the binary), fonts embedded in the binary
//! (from the `typst-assets` crate), no file system, no network, no external service.
//!
//! It lists the vendor, the solution, its version, every commercial name (R6), the dispositif, the
//! wave and the profiles, the NRU and the date of the decision, shows the verification code and
//! the address of the public verification page, and ends with an annex, the *reuse manifest*: for
//! each requirement in scope, whether its proof was given in this referencing, inherited from a
//! vague-1 NRU (héritage), or equivalent through a vague-2 NRU (équivalence, with the source
//! requirement and its dispositif).
//!
//! # Safety of the data
//!
//! No string of an [`Attestation`] is ever spliced into typst markup: the data is serialised to
//! JSON and exposed to the template as a virtual file the template reads with `json(..)`, so every
//! value reaches the document as a string, shown verbatim (`#`, `$`, `*`, `[`, `\`, `<`, quotes
//! included).
//!
//! # Determinism
//!
//! The creation date written in the PDF is the decision date, and the document identifier is
//! derived from the NRU: rendering the same attestation twice gives the same bytes.
//!
//! ```no_run
//! use preuves_pdf::{Attestation, ManifestEntry, Origin, render_attestation};
//!
//! let attestation = Attestation {
//!     nru: "NRU-2026-000123".into(),
//!     verification_code: "7KQ4-MZ2P-XW9D".into(),
//!     verification_url: "https://preuves.example.fr/verifier/NRU-2026-000123".into(),
//!     decided_on: "2026-11-26".into(),
//!     vendor_name: "Éditions Médicales".into(),
//!     vendor_siren: "123456789".into(),
//!     solution: "Dossier usager".into(),
//!     main_component: "du-core".into(),
//!     version: "4.2.1".into(),
//!     commercial_names: vec!["Dossier usager".into(), "DU Pro".into()],
//!     dispositif_code: "DUI-MS-VA2".into(),
//!     dispositif_label: "DUI médico-social, vague 2".into(),
//!     wave: 2,
//!     profiles: vec!["Général".into(), "PA".into()],
//!     rem_version: "1.0".into(),
//!     manifest: vec![ManifestEntry {
//!         requirement: "INS.01".into(),
//!         chapter: "INS".into(),
//!         origin: Origin::Inherited { nru: "NRU-2023-000042".into() },
//!     }],
//! };
//! let pdf: Vec<u8> = render_attestation(&attestation)?;
//! assert!(pdf.starts_with(b"%PDF-"));
//! # Ok::<(), preuves_pdf::PdfError>(())
//! ```

#![forbid(unsafe_code)]

mod view;
mod world;

use serde::Serialize;

/// Everything the attestation de référencement shows.
///
/// Every string is shown verbatim (no markup is interpreted); control characters are shown as
/// spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attestation {
    /// The NRU, the unique number of the referencing.
    pub nru: String,
    /// The code printed on the attestation, to be checked on the public verification page.
    pub verification_code: String,
    /// The address of the public verification page (`/verifier/{NRU}`), printed and linked.
    pub verification_url: String,
    /// The date of the decision, ISO `YYYY-MM-DD`; shown in French ("26 novembre 2026") and used
    /// as the creation date of the PDF.
    pub decided_on: String,
    /// The vendor's company name.
    pub vendor_name: String,
    /// The vendor's SIREN (shown grouped by three digits when it is nine digits).
    pub vendor_siren: String,
    /// The solution's name.
    pub solution: String,
    /// The solution's main component ("same solution" means same main component).
    pub main_component: String,
    /// The exact (technical) version of the solution.
    pub version: String,
    /// Every commercial name the solution carries (R6: all appear on the single attestation).
    pub commercial_names: Vec<String>,
    /// The dispositif's code, e.g. `DUI-MS-VA2`.
    pub dispositif_code: String,
    /// The dispositif's label, e.g. "DUI médico-social".
    pub dispositif_label: String,
    /// The wave (*vague*): 1 or 2.
    pub wave: u8,
    /// The profiles referenced (`Général` and the optional ones).
    pub profiles: Vec<String>,
    /// The version of the REM the candidature was instructed on.
    pub rem_version: String,
    /// The reuse manifest: one entry per requirement in scope, in the order given.
    pub manifest: Vec<ManifestEntry>,
}

/// One row of the reuse manifest: a requirement in scope and where its proof comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestEntry {
    /// The requirement id, e.g. `INS.01`.
    pub requirement: String,
    /// The requirement's chapter code, e.g. `INS`.
    pub chapter: String,
    /// Where the proof of this requirement comes from.
    pub origin: Origin,
}

/// Where the proof of a requirement comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// Proven in this referencing (proofs deposited and found compliant).
    Proven,
    /// Proven in this referencing because an additional component is attached to the
    /// requirement's chapter (R7: neither héritage nor équivalence applies).
    AdditionalComponent {
        /// The additional component's name.
        component: String,
    },
    /// Masked by héritage (R3): proven in the vague-1 referencing `nru` of a predecessor.
    Inherited {
        /// The vague-1 NRU the proof is inherited from.
        nru: String,
    },
    /// Masked by équivalence (R2): common with `source_requirement` of `source_dispositif`,
    /// proven in the vague-2 referencing `nru`.
    Equivalent {
        /// The vague-2 NRU the équivalence goes through.
        nru: String,
        /// The common requirement of the source dispositif.
        source_requirement: String,
        /// The source dispositif's code.
        source_dispositif: String,
    },
}

/// Why an attestation could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// `decided_on` is not a valid ISO date `YYYY-MM-DD`.
    #[error("invalid decision date {0:?}: expected an ISO date YYYY-MM-DD")]
    InvalidDate(String),
    /// The data could not be serialised for the template.
    #[error("cannot serialise the attestation data: {0}")]
    Data(#[from] serde_json::Error),
    /// Typesetting failed (a defect of the template: every diagnostic is given).
    #[error("typesetting the attestation failed: {0}")]
    Typeset(String),
    /// Writing the PDF failed.
    #[error("writing the attestation PDF failed: {0}")]
    Export(String),
}

/// Renders the attestation de référencement as PDF bytes.
///
/// Fonts are parsed once per process, on first use; later calls only typeset. The output is
/// deterministic: the same attestation gives the same bytes.
///
/// This is CPU-bound work of tens of milliseconds (a 300-requirement manifest included): from
/// async code, call it through `tokio::task::spawn_blocking`. Calls from several threads at
/// once are safe.
///
/// # Errors
///
/// [`PdfError::InvalidDate`] when `decided_on` is not an ISO date; the other variants report a
/// defect of the template or of the typesetting library and should not happen.
pub fn render_attestation(a: &Attestation) -> Result<Vec<u8>, PdfError> {
    let date = view::IsoDate::parse(&a.decided_on)?;
    let data = view::to_json(a, date)?;
    world::render(data, date, &a.nru)
}
