//! Referencings recorded by an administrator: one obtained elsewhere (for example a vague-1
//! referencing a vendor already holds) entered by hand, and the suspension, withdrawal or
//! restoration of any referencing, with its reason. The candidatures citing a referencing that
//! is no longer valid keep their plan and show a warning (see [`crate::app::warnings`]).

use preuves_db::{
    Actor, DispositifSummary, NewReferencing, Organisation, OrganisationId, StoredReferencing,
    UniqueConstraint,
};
use preuves_domain::{DispositifKey, IsoDate, Nru, Profile, ReferencingStatus, Version, Wave};

use super::{MAX_NAME, invalid, rejected};
use crate::AppState;
use crate::error::{AppError, ErrorItem};
use crate::format::key_label;
use crate::forms::sentence;
use crate::security::AdminCap;

/// Longest status reason accepted.
pub(crate) const MAX_REASON: usize = 2000;

/// A dispositif of the catalogue with the optional profiles a referencing of it may hold.
#[derive(Debug, Clone)]
pub(crate) struct DispositifChoice {
    /// Code and wave.
    pub(crate) key: DispositifKey,
    /// Its name.
    pub(crate) name: String,
    /// Its optional profiles: a vague-2 one's from its current REM, a vague-1 one's as declared.
    pub(crate) profiles: Vec<Profile>,
    /// A vague-2 dispositif with no REM yet: its optional profiles are unknown.
    pub(crate) rem_missing: bool,
}

impl DispositifChoice {
    /// The optional profiles, comma-separated (« aucun » when there is none).
    pub(crate) fn profile_list(&self) -> String {
        if self.profiles.is_empty() {
            "aucun".to_owned()
        } else {
            self.profiles
                .iter()
                .map(Profile::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

/// The dispositifs of the catalogue (both waves) with their optional profiles.
pub(crate) async fn dispositif_choices(
    state: &AppState,
) -> Result<Vec<DispositifChoice>, AppError> {
    let summaries: Vec<DispositifSummary> = state.db.list_dispositifs().await?;
    let mut choices = Vec::with_capacity(summaries.len());
    for s in summaries {
        let profiles: Vec<Profile> = match (s.key.wave, &s.current_rem) {
            (Wave::Two, Some(rem)) => state.db.rem_optional_profiles(rem.id).await?,
            (Wave::Two, None) => Vec::new(),
            (Wave::One, _) => s.wave1_profiles.clone(),
        };
        choices.push(DispositifChoice {
            rem_missing: s.key.wave == Wave::Two && s.current_rem.is_none(),
            key: s.key,
            name: s.name,
            profiles,
        });
    }
    Ok(choices)
}

/// The optional profiles given, checked against the dispositif's; `Général` is implied and
/// dropped, case is forgiven, duplicates are removed.
pub(crate) fn parse_profiles(
    items: &[String],
    choice: &DispositifChoice,
) -> Result<Vec<Profile>, String> {
    let mut held: Vec<Profile> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if item.eq_ignore_ascii_case(Profile::GENERAL) || item.eq_ignore_ascii_case("general") {
            continue;
        }
        match choice
            .profiles
            .iter()
            .find(|p| p.as_str().to_lowercase() == item.to_lowercase())
        {
            Some(p) if !held.contains(p) => held.push(p.clone()),
            Some(_) => {}
            None => unknown.push(format!("«\u{a0}{item}\u{a0}»")),
        }
    }
    if unknown.is_empty() {
        return Ok(held);
    }
    let which = if unknown.len() == 1 {
        format!(
            "Profil inconnu pour {}\u{a0}: {}.",
            key_label(&choice.key),
            unknown[0]
        )
    } else {
        format!(
            "Profils inconnus pour {}\u{a0}: {}.",
            key_label(&choice.key),
            unknown.join(", ")
        )
    };
    let allowed = if choice.rem_missing {
        " Aucun REM n'est importé pour ce dispositif\u{a0}: ses profils optionnels ne sont pas connus.".to_owned()
    } else if choice.profiles.is_empty() {
        " Ce dispositif n'a pas de profil optionnel.".to_owned()
    } else {
        format!(
            " Profils optionnels admis\u{a0}: {}.",
            choice.profile_list()
        )
    };
    Err(format!("{which}{allowed}"))
}

/// The reason that goes with a status: none for a valid referencing; required, at most
/// [`MAX_REASON`] characters, for a suspended or withdrawn one. An error names `field`.
fn reason_for(
    status: ReferencingStatus,
    raw: &str,
    field: &str,
) -> Result<Option<String>, ErrorItem> {
    let reason = raw.trim();
    match status {
        ReferencingStatus::Valid => Ok(None),
        s if reason.is_empty() => Err(ErrorItem::field(
            "reason_required",
            field,
            format!("Indiquez pourquoi le référencement est {}.", s.label()),
        )),
        _ if reason.chars().count() > MAX_REASON => Err(invalid(
            field,
            format!("Le motif compte au plus {MAX_REASON} caractères."),
        )),
        _ => Ok(Some(reason.to_owned())),
    }
}

/// A referencing as typed: the fields `nru`, `organisation`, `dispositif`, `profiles`,
/// `solution`, `main_component`, `version`, `commercial_names`, `granted_on`, `status` and
/// `status_reason`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReferencingInput {
    /// Its NRU.
    pub(crate) nru: String,
    /// The id of the organisation holding it, as typed.
    pub(crate) organisation: String,
    /// The dispositif, when one readable was given.
    pub(crate) dispositif: Option<DispositifKey>,
    /// The optional profiles held.
    pub(crate) profiles: Vec<String>,
    /// The solution's name.
    pub(crate) solution: String,
    /// Its main component.
    pub(crate) main_component: String,
    /// The version referenced.
    pub(crate) version: String,
    /// The commercial names (the solution's name when none).
    pub(crate) commercial_names: Vec<String>,
    /// The day it was granted (ISO 8601).
    pub(crate) granted_on: String,
    /// `valid`, `suspended` or `withdrawn`.
    pub(crate) status: String,
    /// Why it is suspended or withdrawn.
    pub(crate) status_reason: String,
}

/// A required short text: trimmed, non-empty, at most [`MAX_NAME`] characters.
fn required_text(errors: &mut Vec<ErrorItem>, field: &str, raw: &str, missing: &str) -> String {
    let text = raw.trim();
    if text.is_empty() {
        errors.push(invalid(field, missing));
    } else if text.chars().count() > MAX_NAME {
        errors.push(invalid(
            field,
            format!("Ce champ compte au plus {MAX_NAME} caractères."),
        ));
    }
    text.to_owned()
}

impl ReferencingInput {
    /// The referencing to record, or every field at fault.
    pub(crate) fn validate(
        &self,
        organisations: &[Organisation],
        dispositifs: &[DispositifChoice],
    ) -> Result<NewReferencing, Vec<ErrorItem>> {
        let mut errors = Vec::new();
        let nru = match Nru::parse(&self.nru) {
            Ok(n) => Some(n),
            Err(e) => {
                errors.push(invalid("nru", sentence(&e)));
                None
            }
        };
        let organisation: Option<OrganisationId> = self
            .organisation
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|id| organisations.iter().find(|o| o.id.0 == id))
            .map(|o| o.id);
        if organisation.is_none() {
            errors.push(invalid(
                "organisation",
                "Choisissez l'organisation qui détient ce référencement.",
            ));
        }
        let dispositif = dispositifs
            .iter()
            .find(|d| self.dispositif.as_ref() == Some(&d.key));
        if dispositif.is_none() {
            errors.push(invalid(
                "dispositif",
                "Choisissez un dispositif du catalogue.",
            ));
        }
        let profiles = match dispositif.map(|d| parse_profiles(&self.profiles, d)) {
            Some(Ok(p)) => p,
            Some(Err(message)) => {
                errors.push(invalid("profiles", message));
                Vec::new()
            }
            None => Vec::new(),
        };
        let solution = required_text(
            &mut errors,
            "solution",
            &self.solution,
            "Saisissez le nom de la solution.",
        );
        let main_component = required_text(
            &mut errors,
            "main_component",
            &self.main_component,
            "Saisissez le composant principal de la solution.",
        );
        let version = match Version::parse(&self.version) {
            Ok(v) => Some(v),
            Err(e) => {
                errors.push(invalid("version", sentence(&e)));
                None
            }
        };
        let mut commercial_names: Vec<String> = Vec::new();
        let mut name_too_long = false;
        for name in self
            .commercial_names
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            if name.chars().count() > MAX_NAME {
                name_too_long = true;
            } else if !commercial_names.iter().any(|n| n == name) {
                commercial_names.push(name.to_owned());
            }
        }
        if name_too_long {
            errors.push(invalid(
                "commercial_names",
                format!("Un nom commercial compte au plus {MAX_NAME} caractères."),
            ));
        }
        if commercial_names.is_empty() && !solution.is_empty() {
            commercial_names.push(solution.clone());
        }
        let granted_on = if self.granted_on.trim().is_empty() {
            errors.push(invalid(
                "granted_on",
                "Saisissez la date d'octroi du référencement.",
            ));
            None
        } else {
            match IsoDate::parse(&self.granted_on) {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.push(invalid("granted_on", sentence(&e)));
                    None
                }
            }
        };
        let status = ReferencingStatus::from_code(self.status.trim());
        let status_reason = match status {
            None => {
                errors.push(invalid("status", "Choisissez le statut du référencement."));
                None
            }
            Some(s) => match reason_for(s, &self.status_reason, "status_reason") {
                Ok(r) => r,
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        match (nru, organisation, dispositif, version, granted_on, status) {
            (
                Some(nru),
                Some(organisation),
                Some(d),
                Some(version),
                Some(granted_on),
                Some(status),
            ) if errors.is_empty() => Ok(NewReferencing {
                nru,
                organisation,
                dispositif: d.key.clone(),
                profiles,
                solution,
                main_component,
                version,
                commercial_names,
                granted_on,
                status,
                status_reason,
            }),
            _ => Err(errors),
        }
    }
}

/// Records a referencing obtained elsewhere (audited). A refused input, or an NRU already in
/// the register, is an [`AppError::Rejected`] (422) with the fields at fault.
pub(crate) async fn record(
    state: &AppState,
    AdminCap(admin): &AdminCap,
    input: &ReferencingInput,
) -> Result<StoredReferencing, AppError> {
    let organisations = state.db.list_organisations().await?;
    let dispositifs = dispositif_choices(state).await?;
    let new = input
        .validate(&organisations, &dispositifs)
        .map_err(rejected)?;
    match state
        .db
        .insert_referencing(&new, &Actor::User(admin.id))
        .await
    {
        Ok(stored) => Ok(stored),
        Err(e) if e.is_conflict(UniqueConstraint::ReferencingNru) => {
            Err(rejected(vec![ErrorItem::field(
                "nru_taken",
                "nru",
                format!("Le NRU {} est déjà enregistré dans le registre.", new.nru),
            )]))
        }
        Err(e) => Err(e.into()),
    }
}

/// A change of status as typed: the fields `status` and `reason`.
#[derive(Debug, Clone, Default)]
pub(crate) struct StatusInput {
    /// `valid`, `suspended` or `withdrawn`.
    pub(crate) status: String,
    /// Why (required to suspend or withdraw).
    pub(crate) reason: String,
}

impl StatusInput {
    /// The new status and its reason, or every field at fault.
    pub(crate) fn validate(&self) -> Result<(ReferencingStatus, Option<String>), Vec<ErrorItem>> {
        let Some(status) = ReferencingStatus::from_code(self.status.trim()) else {
            return Err(vec![invalid("status", "Choisissez un statut.")]);
        };
        reason_for(status, &self.reason, "reason")
            .map(|reason| (status, reason))
            .map_err(|e| vec![e])
    }
}

/// A referencing whose status changed, and how many candidatures cite it (they show a warning;
/// their plan is not modified).
#[derive(Debug, Clone)]
pub(crate) struct StatusChanged {
    /// The referencing, as it is now.
    pub(crate) referencing: StoredReferencing,
    /// The candidatures citing it.
    pub(crate) citing: usize,
}

/// Suspends, withdraws or restores a referencing, with its reason (audited). An unknown NRU is
/// a 404 before the input is judged; a refused input is an [`AppError::Rejected`] (422).
pub(crate) async fn set_status(
    state: &AppState,
    AdminCap(admin): &AdminCap,
    nru: &Nru,
    input: &StatusInput,
) -> Result<StatusChanged, AppError> {
    state
        .db
        .find_referencing(nru)
        .await?
        .ok_or(AppError::NotFound)?;
    let (status, reason) = input.validate().map_err(rejected)?;
    let referencing = state
        .db
        .set_referencing_status(nru, status, reason.as_deref(), &Actor::User(admin.id))
        .await?;
    let citing = state.db.candidatures_citing(nru).await?.len();
    Ok(StatusChanged {
        referencing,
        citing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use preuves_domain::DispositifCode;

    fn choice(profiles: &[&str]) -> DispositifChoice {
        DispositifChoice {
            key: DispositifKey {
                code: DispositifCode::parse("DUI-MS").unwrap(),
                wave: Wave::Two,
            },
            name: String::new(),
            profiles: profiles
                .iter()
                .map(|p| Profile::parse(p).unwrap())
                .collect(),
            rem_missing: false,
        }
    }

    fn items(raw: &[&str]) -> Vec<String> {
        raw.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn profiles_are_checked_against_the_dispositif() {
        let o = choice(&["PA", "PH", "IE Usagers"]);
        let got = parse_profiles(&items(&[" pa", " Général ", " IE usagers", "PA "]), &o).unwrap();
        assert_eq!(
            got.iter().map(Profile::as_str).collect::<Vec<_>>(),
            ["PA", "IE Usagers"]
        );
        assert!(parse_profiles(&[], &o).unwrap().is_empty());
        let err = parse_profiles(&items(&["PA", "XYZ"]), &o).unwrap_err();
        assert!(
            err.contains("XYZ") && err.contains("PA, PH, IE Usagers"),
            "{err}"
        );
    }

    #[test]
    fn every_field_at_fault_is_reported_under_its_json_name() {
        let e = ReferencingInput {
            status: "suspended".to_owned(),
            ..ReferencingInput::default()
        }
        .validate(&[], &[choice(&[])])
        .unwrap_err();
        let fields: Vec<_> = e.iter().filter_map(|e| e.field.as_deref()).collect();
        assert_eq!(
            fields,
            [
                "nru",
                "organisation",
                "dispositif",
                "solution",
                "main_component",
                "version",
                "granted_on",
                "status_reason"
            ]
        );
        assert_eq!(e.last().map(|e| e.code), Some("reason_required"));
    }

    #[test]
    fn a_status_change_needs_a_known_status_and_a_reason_unless_valid() {
        let input = |status: &str, reason: &str| StatusInput {
            status: status.to_owned(),
            reason: reason.to_owned(),
        };
        assert_eq!(
            input("valid", "  ").validate().unwrap(),
            (ReferencingStatus::Valid, None)
        );
        assert_eq!(
            input("suspended", " Anomalie ").validate().unwrap(),
            (ReferencingStatus::Suspended, Some("Anomalie".to_owned()))
        );
        let e = input("withdrawn", "").validate().unwrap_err();
        assert_eq!(
            (e[0].code, e[0].field.as_deref()),
            ("reason_required", Some("reason"))
        );
        let e = input("gone", "x").validate().unwrap_err();
        assert_eq!(e[0].field.as_deref(), Some("status"));
        let e = input("suspended", &"x".repeat(MAX_REASON + 1))
            .validate()
            .unwrap_err();
        assert_eq!(e[0].field.as_deref(), Some("reason"));
    }
}
