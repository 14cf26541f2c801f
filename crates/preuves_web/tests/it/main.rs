//! Integration tests of the web platform through its real router.

mod api;
mod api_admin;
mod api_contract;
mod api_journey;
mod api_openapi;
mod api_simulations;
mod api_tokens;
mod auth;
mod authorization;
mod catalogue;
mod guide;
mod instruction;
mod instruction_doors;
mod journey;
mod page_modules;
mod register;
mod rem_impact;
mod security;
mod support;
mod vendor_doors;
