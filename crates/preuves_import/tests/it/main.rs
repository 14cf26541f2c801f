//! Integration tests on the real data: the six draft vague-2 REMs of February 2023, the
//! Convergence template and the real catalogue, read from `$PREUVES_REAL_DATA`; and the fuzz
//! tests of everything that reads untrusted files (`fuzz/`).

mod fuzz;
mod real;
