//! Integration tests of the engine on hand-built catalogues: the rules one by one, every refusal
//! code, the invariants as properties, and the text rendering as snapshots.

mod fixtures;
mod properties;
mod rules;
mod text;
