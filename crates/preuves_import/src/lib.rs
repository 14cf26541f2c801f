//! Reading the catalogue of `preuves` from files: REMs in the Convergence format (CSV or XLSX)
//! and the `catalogue.toml` that lists the dispositifs, their REMs and the equivalence table.
//!
//! Everything read is checked, and every problem is reported as an [`Issue`] naming the file,
//! the line, the column and the requirement ids concerned, with a French message for the
//! catalogue administrator. Errors refuse the whole input (nothing half-loaded); warnings
//! accompany what was loaded.

#![forbid(unsafe_code)]

pub mod catalogue;
pub mod issue;
pub mod rem;
mod table;

pub use catalogue::{CatalogueFailure, LoadedCatalogue, load_catalogue};
pub use issue::{Issue, IssueCode};
pub use rem::{
    ImportFailure, RemImport, import_rem_bytes, import_rem_csv, import_rem_file, import_rem_xlsx,
};
