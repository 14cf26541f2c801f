//! `serve --demo`: the demonstration catalogue, one vendor organisation holding the referencings
//! of the webinar's case 3, one instructor and one administrator. Loading is idempotent: what is
//! already there is left as it is.

use std::path::Path;

use preuves_db::{Actor, Db, NewReferencing, NewUser, Role};
use preuves_domain::{
    DispositifCode, DispositifKey, IsoDate, Nru, Profile, ReferencingStatus, Siren, Version, Wave,
};

use crate::Failure;

/// The password of the three demonstration accounts (printed at start-up; demo data only).
pub(crate) const PASSWORD: &str = "demo-preuves-2026";
/// The demonstration vendor's SIREN (valid check digit).
const VENDOR_SIREN: &str = "732829320";

/// The accounts created or found, as `(role label, e-mail)`.
pub(crate) struct DemoAccounts {
    pub(crate) accounts: Vec<(&'static str, &'static str)>,
}

fn demo_error(e: impl std::fmt::Display) -> Failure {
    Failure::unexpected(format!(
        "chargement des données de démonstration impossible : {e}"
    ))
}

/// Loads the demonstration data: the catalogue of `catalogue_path`, or the one embedded in the
/// binary when `None`.
pub(crate) async fn seed(db: &Db, catalogue_path: Option<&Path>) -> Result<DemoAccounts, Failure> {
    let loaded = match catalogue_path {
        Some(path) => crate::simulate::load(path)?,
        None => {
            let unpacked = crate::demo_files::UnpackedCatalogue::new()?;
            crate::simulate::load(&unpacked.toml_path())?
        }
    };
    let seeded = db
        .import_catalogue(
            &loaded.catalogue,
            &[],
            "catalogue de démonstration",
            &Actor::System,
        )
        .await
        .map_err(demo_error)?;
    if !seeded.rem_versions.is_empty() {
        tracing::info!(
            versions = seeded.rem_versions.len(),
            "demo catalogue imported"
        );
    }

    let siren = Siren::parse_checked(VENDOR_SIREN).map_err(demo_error)?;
    let organisation = match db
        .find_organisation_by_siren(&siren)
        .await
        .map_err(demo_error)?
    {
        Some(org) => org,
        None => db
            .create_organisation("Éditeur Démo SAS", &siren, &Actor::System)
            .await
            .map_err(demo_error)?,
    };

    let accounts = [
        (
            "éditeur",
            "editeur@demo.preuves.fr",
            "Camille Éditeur",
            Role::Vendor,
        ),
        (
            "instructeur",
            "instructeur@demo.preuves.fr",
            "Dominique Instructeur",
            Role::Instructor,
        ),
        (
            "administrateur",
            "admin@demo.preuves.fr",
            "Alex Administrateur",
            Role::Admin,
        ),
    ];
    let hash = preuves_web::security::hash_password(PASSWORD.to_owned())
        .await
        .map_err(demo_error)?;
    for (_, email, name, role) in accounts {
        if db
            .find_user_by_email(email)
            .await
            .map_err(demo_error)?
            .is_none()
        {
            db.create_user(
                &NewUser {
                    email,
                    display_name: name,
                    role,
                    organisation: (role == Role::Vendor).then_some(organisation.id),
                    password_hash: &hash,
                },
                &Actor::System,
            )
            .await
            .map_err(demo_error)?;
        }
    }

    // The referencings of the webinar's case 3: DPI vague 2 and MS2 PDE vague 1, solution A.
    let parse = |code: &str, wave| -> Result<DispositifKey, Failure> {
        Ok(DispositifKey {
            code: DispositifCode::parse(code).map_err(demo_error)?,
            wave,
        })
    };
    let referencings = [
        (
            "REF-DPI-2-0001",
            parse("DPI", Wave::Two)?,
            vec![],
            "4.2",
            "2026-01-15",
        ),
        (
            "REF-MS2-PDE-1-0001",
            parse("MS2-PDE", Wave::One)?,
            vec![Profile::parse("PDE").map_err(demo_error)?],
            "3.8",
            "2024-06-03",
        ),
    ];
    for (nru, dispositif, profiles, version, granted) in referencings {
        let nru = Nru::parse(nru).map_err(demo_error)?;
        if db
            .find_referencing(&nru)
            .await
            .map_err(demo_error)?
            .is_some()
        {
            continue;
        }
        db.insert_referencing(
            &NewReferencing {
                nru,
                organisation: organisation.id,
                dispositif,
                profiles,
                solution: "A".to_owned(),
                main_component: "A-core".to_owned(),
                version: Version::parse(version).map_err(demo_error)?,
                commercial_names: vec!["A".to_owned()],
                granted_on: IsoDate::parse(granted).map_err(demo_error)?,
                status: ReferencingStatus::Valid,
                status_reason: None,
            },
            &Actor::System,
        )
        .await
        .map_err(demo_error)?;
    }
    // Solution A, declared once, so the vendor can open the webinar's candidatures at once.
    if db
        .list_solutions(organisation.id)
        .await
        .map_err(demo_error)?
        .is_empty()
    {
        db.create_solution(
            organisation.id,
            &preuves_db::SolutionFields {
                name: "A".to_owned(),
                main_component: "A-core".to_owned(),
                versions: vec!["4.2".to_owned(), "4.3".to_owned()],
                commercial_names: vec!["A".to_owned(), "A Santé".to_owned(), "A Social".to_owned()],
            },
            &Actor::System,
        )
        .await
        .map_err(demo_error)?;
    }
    Ok(DemoAccounts {
        accounts: accounts
            .iter()
            .map(|(label, email, ..)| (*label, *email))
            .collect(),
    })
}
