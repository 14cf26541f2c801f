//! Organisations and accounts.

use preuves_db::{Actor, DbError, NewUser, Refused, ResultExt, Role, UniqueConstraint};
use preuves_domain::Siren;

use crate::fixtures::vendor;
use crate::helpers::for_each_backend;

#[tokio::test]
async fn a_siren_is_registered_once() {
    for_each_backend(|db| async move {
        let org = vendor(&db).await;
        assert_eq!(org.siren.as_str(), "732829320");
        let again = db
            .create_organisation(
                "Copie",
                &Siren::parse("732 829 320").unwrap(),
                &Actor::System,
            )
            .await
            .unwrap_err();
        assert!(
            again.is_conflict(UniqueConstraint::OrganisationSiren),
            "{again:?}"
        );
        assert_eq!(
            db.find_organisation(org.id).await.unwrap(),
            Some(org.clone())
        );
        assert_eq!(
            db.find_organisation_by_siren(&org.siren).await.unwrap(),
            Some(org.clone())
        );
        assert_eq!(db.list_organisations().await.unwrap(), vec![org]);
    })
    .await;
}

#[tokio::test]
async fn e_mail_addresses_are_unique_without_regard_to_case() {
    for_each_backend(|db| async move {
        let org = vendor(&db).await;
        let alice = db
            .create_user(
                &NewUser {
                    email: " Alice@Example.org ",
                    display_name: "Alice",
                    role: Role::Vendor,
                    organisation: Some(org.id),
                    password_hash: "$argon2id$v=19$secret-hash",
                },
                &Actor::System,
            )
            .await
            .unwrap();
        assert_eq!(alice.email, "Alice@Example.org");
        assert!(alice.is_active());

        #[derive(Debug, PartialEq)]
        enum FormError {
            EmailTaken,
            Db(String),
        }
        impl From<DbError> for FormError {
            fn from(e: DbError) -> Self {
                Self::Db(e.to_string())
            }
        }
        let dup: Result<_, FormError> = db
            .create_user(
                &NewUser {
                    email: "alice@EXAMPLE.org",
                    display_name: "Autre",
                    role: Role::Instructor,
                    organisation: None,
                    password_hash: "h",
                },
                &Actor::System,
            )
            .await
            .on_constraint(UniqueConstraint::UserEmail, |_| FormError::EmailTaken);
        assert_eq!(dup.unwrap_err(), FormError::EmailTaken);

        let found = db.find_user_by_email("ALICE@example.ORG").await.unwrap();
        assert_eq!(found, Some(alice.clone()));
        let creds = db
            .find_credentials("alice@example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(creds.password_hash, "$argon2id$v=19$secret-hash");
        assert!(!format!("{creds:?}").contains("secret-hash"));
        assert_eq!(
            db.list_users(Some(org.id)).await.unwrap(),
            vec![alice.clone()]
        );
        assert_eq!(db.find_user(alice.id).await.unwrap(), Some(alice));
    })
    .await;
}

#[tokio::test]
async fn only_vendors_belong_to_an_organisation() {
    for_each_backend(|db| async move {
        let org = vendor(&db).await;
        for (role, organisation) in [(Role::Vendor, None), (Role::Admin, Some(org.id))] {
            let err = db
                .create_user(
                    &NewUser {
                        email: "x@example.org",
                        display_name: "X",
                        role,
                        organisation,
                        password_hash: "h",
                    },
                    &Actor::System,
                )
                .await
                .unwrap_err();
            assert!(
                matches!(err, DbError::Refused(Refused::VendorOrganisation)),
                "{err:?}"
            );
        }
        assert!(db.list_users(None).await.unwrap().is_empty());
    })
    .await;
}
