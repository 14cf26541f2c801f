//! Integration tests of the web platform through its real router.

mod auth;
mod authorization;
mod catalogue;
mod register;
mod support;
