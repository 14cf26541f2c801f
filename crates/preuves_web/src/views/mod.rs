//! Presenters: what the pages show of the application's objects, shared by every page module
//! (a page module never imports another).

pub(crate) mod accounts;
pub(crate) mod catalogue;
pub(crate) mod facts;
pub(crate) mod instruction;
pub(crate) mod links;
pub(crate) mod public;
pub(crate) mod register;
pub(crate) mod requests;
pub(crate) mod tokens;

use std::collections::HashMap;

use preuves_db::{Db, UserId};

use crate::error::AppError;

/// An `<option>`.
pub(crate) struct SelectOption {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// Who imported a REM version, from the [`preuves_db::Actor`] text form kept with it.
pub(crate) async fn actor_label(
    db: &Db,
    actor: &str,
    cache: &mut HashMap<String, String>,
) -> Result<String, AppError> {
    if let Some(known) = cache.get(actor) {
        return Ok(known.clone());
    }
    let label = match actor.strip_prefix("user:").map(str::parse::<i64>) {
        Some(Ok(id)) => match db.find_user(UserId(id)).await? {
            Some(user) => user.display_name,
            None => format!("compte n°\u{a0}{id} (supprimé)"),
        },
        _ if actor == "system" => "la plateforme (chargement du catalogue)".to_owned(),
        _ => actor.to_owned(),
    };
    cache.insert(actor.to_owned(), label.clone());
    Ok(label)
}
