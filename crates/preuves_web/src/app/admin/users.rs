//! User accounts: the list, the creation of an account (a vendor's tied to its organisation,
//! staff to none; the password hashed off the async runtime), and an account's disabling,
//! re-enabling and sign-in unlocking. An administrator never disables their own account.

use preuves_db::{
    Actor, NewUser, Organisation, OrganisationId, Role, UniqueConstraint, User, UserId,
};

use super::{MAX_NAME, invalid, rejected};
use crate::AppState;
use crate::app::{MAX_PASSWORD, MIN_PASSWORD};
use crate::error::{AppError, ErrorItem};
use crate::security::{AdminCap, hash_password};

/// An account as typed: the fields `email`, `display_name`, `role`, `organisation`, `password`
/// and `password_confirmation`.
#[derive(Debug, Clone, Default)]
pub(crate) struct UserInput {
    /// Its e-mail address.
    pub(crate) email: String,
    /// The name shown.
    pub(crate) display_name: String,
    /// `vendor`, `instructor` or `admin`.
    pub(crate) role: String,
    /// The id of a vendor's organisation as typed; blank for staff.
    pub(crate) organisation: String,
    /// The initial password.
    pub(crate) password: String,
    /// Its confirmation, when the form asks for one (a program sends none).
    pub(crate) password_confirmation: Option<String>,
}

/// A checked account (password still clear: it is hashed after validation).
struct ValidUser {
    email: String,
    display_name: String,
    role: Role,
    organisation: Option<OrganisationId>,
    password: String,
}

/// Whether `email` looks like an e-mail address: one `@`, something before, a dotted domain
/// after, no space.
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.len() <= 254
}

impl UserInput {
    /// The account to create, or every field at fault.
    fn validate(&self, organisations: &[Organisation]) -> Result<ValidUser, Vec<ErrorItem>> {
        let mut errors = Vec::new();
        let email = self.email.trim();
        if email.is_empty() {
            errors.push(invalid("email", "Saisissez l'adresse électronique."));
        } else if !plausible_email(email) {
            errors.push(invalid(
                "email",
                "Cette adresse électronique n'est pas valide (exemple\u{a0}: prenom.nom@editeur.fr).",
            ));
        }
        let display_name = self.display_name.trim();
        if display_name.is_empty() {
            errors.push(invalid("display_name", "Saisissez le nom affiché."));
        } else if display_name.chars().count() > MAX_NAME {
            errors.push(invalid(
                "display_name",
                format!("Le nom compte au plus {MAX_NAME} caractères."),
            ));
        }
        let role = Role::from_code(self.role.trim());
        if role.is_none() {
            errors.push(invalid("role", "Choisissez un rôle."));
        }
        let raw_organisation = self.organisation.trim();
        let organisation = match raw_organisation {
            "" => None,
            raw => {
                let found = raw
                    .parse::<i64>()
                    .ok()
                    .and_then(|id| organisations.iter().find(|o| o.id.0 == id));
                if found.is_none() {
                    errors.push(invalid(
                        "organisation",
                        "Choisissez une organisation de la liste.",
                    ));
                }
                found.map(|o| o.id)
            }
        };
        let organisation_error = match (role, raw_organisation.is_empty()) {
            (Some(Role::Vendor), true) => {
                Some("Un compte éditeur doit être rattaché à son organisation.".to_owned())
            }
            (Some(r @ (Role::Instructor | Role::Admin)), false) => Some(format!(
                "Un compte {} n'est rattaché à aucune organisation\u{a0}: choisissez «\u{a0}Aucune\u{a0}».",
                r.label()
            )),
            _ => None,
        };
        // One message per field: an unknown organisation is said first.
        if let Some(message) = organisation_error
            && !errors
                .iter()
                .any(|e| e.field.as_deref() == Some("organisation"))
        {
            errors.push(invalid("organisation", message));
        }
        let length = self.password.chars().count();
        if length < MIN_PASSWORD {
            errors.push(invalid(
                "password",
                format!("Le mot de passe doit compter au moins {MIN_PASSWORD} caractères."),
            ));
        } else if length > MAX_PASSWORD {
            errors.push(invalid(
                "password",
                format!("Le mot de passe compte au plus {MAX_PASSWORD} caractères."),
            ));
        } else if self
            .password_confirmation
            .as_ref()
            .is_some_and(|c| *c != self.password)
        {
            errors.push(invalid(
                "password_confirmation",
                "La confirmation ne correspond pas au mot de passe.",
            ));
        }
        match role {
            Some(role) if errors.is_empty() => Ok(ValidUser {
                email: email.to_owned(),
                display_name: display_name.to_owned(),
                role,
                organisation,
                password: self.password.clone(),
            }),
            _ => Err(errors),
        }
    }
}

/// Every account, by e-mail address.
pub(crate) async fn list(state: &AppState, _admin: &AdminCap) -> Result<Vec<User>, AppError> {
    Ok(state.db.list_users(None).await?)
}

/// Creates an account (audited). A refused input, or an e-mail address already in use, is an
/// [`AppError::Rejected`] (422) with the fields at fault.
pub(crate) async fn create(
    state: &AppState,
    AdminCap(admin): &AdminCap,
    input: &UserInput,
) -> Result<User, AppError> {
    let organisations = state.db.list_organisations().await?;
    let valid = input.validate(&organisations).map_err(rejected)?;
    let hash = hash_password(valid.password).await?;
    let created = state
        .db
        .create_user(
            &NewUser {
                email: &valid.email,
                display_name: &valid.display_name,
                role: valid.role,
                organisation: valid.organisation,
                password_hash: &hash,
            },
            &Actor::User(admin.id),
        )
        .await;
    match created {
        Ok(user) => Ok(user),
        Err(e) if e.is_conflict(UniqueConstraint::UserEmail) => {
            Err(rejected(vec![ErrorItem::field(
                "email_taken",
                "email",
                "Un compte utilise déjà cette adresse électronique.",
            )]))
        }
        Err(e) => Err(e.into()),
    }
}

/// The account with this id (404 when there is none).
async fn existing(state: &AppState, id: UserId) -> Result<User, AppError> {
    state.db.find_user(id).await?.ok_or(AppError::NotFound)
}

/// Disables an account: its sessions close and its API tokens are revoked (audited). An
/// administrator's own account is refused (409 `own_account`): another administrator does it.
pub(crate) async fn disable(
    state: &AppState,
    AdminCap(admin): &AdminCap,
    id: UserId,
) -> Result<User, AppError> {
    if id == admin.id {
        return Err(AppError::Conflict {
            code: "own_account",
            message: "Vous ne pouvez pas désactiver votre propre compte\u{a0}: demandez-le à un autre administrateur.".to_owned(),
        });
    }
    existing(state, id).await?;
    state
        .db
        .set_user_disabled(id, true, &Actor::User(admin.id))
        .await?;
    tracing::info!(user = id.0, "account disabled");
    existing(state, id).await
}

/// Re-enables an account (audited).
pub(crate) async fn enable(
    state: &AppState,
    AdminCap(admin): &AdminCap,
    id: UserId,
) -> Result<User, AppError> {
    existing(state, id).await?;
    state
        .db
        .set_user_disabled(id, false, &Actor::User(admin.id))
        .await?;
    tracing::info!(user = id.0, "account enabled");
    existing(state, id).await
}

/// Forgets an account's failed sign-ins, so that it can sign in at once (audited); answers the
/// account and how many failures were forgotten.
pub(crate) async fn unlock(
    state: &AppState,
    AdminCap(admin): &AdminCap,
    id: UserId,
) -> Result<(User, u64), AppError> {
    let user = existing(state, id).await?;
    let forgotten = state.db.unlock_sign_in(id, &Actor::User(admin.id)).await?;
    tracing::info!(user = id.0, forgotten, "sign-in unlocked");
    Ok((user, forgotten))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: i64) -> Organisation {
        Organisation {
            id: OrganisationId(id),
            name: "Éditeur".to_owned(),
            siren: preuves_domain::Siren::parse("732829320").unwrap(),
            created_at: preuves_db::Timestamp::from_millis(0),
        }
    }

    fn input(role: &str, organisation: &str, password: &str, confirmation: &str) -> UserInput {
        UserInput {
            email: "a@b.fr".to_owned(),
            display_name: "A".to_owned(),
            role: role.to_owned(),
            organisation: organisation.to_owned(),
            password: password.to_owned(),
            password_confirmation: Some(confirmation.to_owned()),
        }
    }

    fn has(errors: &[ErrorItem], field: &str) -> bool {
        errors.iter().any(|e| e.field.as_deref() == Some(field))
    }

    const GOOD: &str = "douze-caracteres";

    #[test]
    fn vendors_need_an_organisation_and_others_none() {
        let orgs = [org(1)];
        assert!(input("vendor", "1", GOOD, GOOD).validate(&orgs).is_ok());
        assert!(input("admin", "", GOOD, GOOD).validate(&orgs).is_ok());
        let e = input("vendor", "", GOOD, GOOD)
            .validate(&orgs)
            .err()
            .unwrap();
        assert!(has(&e, "organisation"));
        let e = input("instructor", "1", GOOD, GOOD)
            .validate(&orgs)
            .err()
            .unwrap();
        assert!(has(&e, "organisation"));
        let e = input("vendor", "9", GOOD, GOOD)
            .validate(&orgs)
            .err()
            .unwrap();
        assert!(has(&e, "organisation"));
        let e = input("root", "", GOOD, GOOD).validate(&orgs).err().unwrap();
        assert!(has(&e, "role"));
    }

    #[test]
    fn passwords_are_long_enough_and_confirmed() {
        let orgs = [org(1)];
        let e = input("admin", "", "court", "court")
            .validate(&orgs)
            .err()
            .unwrap();
        assert!(has(&e, "password"));
        let e = input("admin", "", GOOD, "autre-chose-ici")
            .validate(&orgs)
            .err()
            .unwrap();
        assert!(has(&e, "password_confirmation") && !has(&e, "password"));
        // A program sends no confirmation: none is checked.
        let mut no_confirmation = input("admin", "", GOOD, GOOD);
        no_confirmation.password_confirmation = None;
        assert!(no_confirmation.validate(&orgs).is_ok());
    }

    #[test]
    fn emails_are_plausible() {
        assert!(plausible_email("prenom.nom@editeur.fr"));
        assert!(!plausible_email("prenom.nom"));
        assert!(!plausible_email("a@b"));
        assert!(!plausible_email("a b@c.fr"));
        assert!(!plausible_email("@c.fr"));
        assert!(!plausible_email("a@@c.fr"));
    }
}
