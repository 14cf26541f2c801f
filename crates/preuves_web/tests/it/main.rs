//! Integration tests of the web platform through its real router.

mod auth;
mod authorization;
mod catalogue;
mod instruction;
mod journey;
mod register;
mod support;
