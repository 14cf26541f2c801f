//! Integration tests of `preuves_db`. Every persistence test runs on a fresh temp-file SQLite
//! database, and also on a fresh PostgreSQL database when `PREUVES_TEST_POSTGRES_URL` names an
//! administrative connection (see `helpers::for_each_backend`).

mod audit;
mod backend;
mod catalogue;
mod crash;
mod fixtures;
mod helpers;
mod instruction;
mod journey;
mod referencings;
mod rem_impact;
mod sessions;
mod users;
