//! Integration tests of the `preuves` command and of the engine on the shipped catalogues: the
//! webinar's four cases on the demonstration catalogue, every refusal code through scenario files,
//! the rules in time (REM versions, late NRUs, the guichet calendar), the command's exit codes and
//! messages, and the real draft REMs when `PREUVES_REAL_DATA` is set.

mod backup;
mod cli;
mod crash;
mod platform;
mod refusals;
mod rem_diff;
mod serve;
mod support;
mod versions;
mod webinar;
