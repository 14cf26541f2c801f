//! Integration tests of the engine on hand-built catalogues: the rules one by one, every refusal
//! code, the rules in time (REM versions, late NRUs, the guichet calendar), lifted masks, the
//! invariants as properties, and the text rendering as snapshots.

mod fixtures;
mod lift;
mod properties;
mod rules;
mod text;
mod versions;
