//! The register of referencings, and the engine running on stored data.

use preuves_db::{Actor, DbError, UniqueConstraint};
use preuves_domain::{
    Candidature, Nru, Profile, ReferencingStatus, Siren, Status, Version, compute_plan,
};

use crate::fixtures::{VENDOR, key, new_referencing, rid, seed_catalogue, vendor};
use crate::helpers::for_each_backend;

#[tokio::test]
async fn referencings_are_recorded_listed_and_change_status() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        let org = vendor(&db).await;
        let other = db
            .create_organisation("Autre", &Siren::parse("552100554").unwrap(), &Actor::System)
            .await
            .unwrap();
        let mut pde = new_referencing("ref-ms1-1-0001", org.id, "MS1", 1);
        pde.profiles = vec![Profile::parse("PA").unwrap()];
        let stored = db.insert_referencing(&pde, &Actor::System).await.unwrap();
        assert_eq!(stored.nru.as_str(), "REF-MS1-1-0001");
        assert_eq!(stored.siren.as_str(), VENDOR);
        assert_eq!(stored.commercial_names, ["A", "A Santé"]);
        db.insert_referencing(
            &new_referencing("REF-DPI-2-0001", org.id, "DPI", 2),
            &Actor::System,
        )
        .await
        .unwrap();
        db.insert_referencing(
            &new_referencing("REF-DPI-2-0099", other.id, "DPI", 2),
            &Actor::System,
        )
        .await
        .unwrap();

        let dup = db
            .insert_referencing(
                &new_referencing("REF-DPI-2-0001", other.id, "DPI", 2),
                &Actor::System,
            )
            .await
            .unwrap_err();
        assert!(dup.is_conflict(UniqueConstraint::ReferencingNru), "{dup:?}");
        let unknown = db
            .insert_referencing(
                &new_referencing("REF-X-2-0001", org.id, "XYZ", 2),
                &Actor::System,
            )
            .await
            .unwrap_err();
        assert!(matches!(unknown, DbError::NotFound));

        assert_eq!(db.list_referencings(None).await.unwrap().len(), 3);
        let mine = db.list_referencings(Some(org.id)).await.unwrap();
        assert_eq!(
            mine.iter().map(|r| r.nru.as_str()).collect::<Vec<_>>(),
            ["REF-DPI-2-0001", "REF-MS1-1-0001"]
        );

        let nru = Nru::parse("REF-DPI-2-0001").unwrap();
        let suspended = db
            .set_referencing_status(
                &nru,
                ReferencingStatus::Suspended,
                Some("audit en cours"),
                &Actor::System,
            )
            .await
            .unwrap();
        assert_eq!(suspended.status, ReferencingStatus::Suspended);
        assert_eq!(suspended.status_reason.as_deref(), Some("audit en cours"));
        assert!(suspended.status_changed_at.is_some());
        let register = db.register_for(org.id).await.unwrap();
        let dpi = register.iter().find(|r| r.nru == nru).unwrap();
        assert_eq!(dpi.status, ReferencingStatus::Suspended);
        assert_eq!(dpi.version, Version::parse("4.2").unwrap());

        let missing = db
            .set_referencing_status(
                &Nru::parse("REF-NONE").unwrap(),
                ReferencingStatus::Withdrawn,
                None,
                &Actor::System,
            )
            .await
            .unwrap_err();
        assert!(matches!(missing, DbError::NotFound));
    })
    .await;
}

#[tokio::test]
async fn the_engine_runs_on_the_stored_catalogue_and_register() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        let org = vendor(&db).await;
        db.insert_referencing(
            &new_referencing("REF-DPI-2-0001", org.id, "DPI", 2),
            &Actor::System,
        )
        .await
        .unwrap();
        let catalogue = db.load_catalogue().await.unwrap();
        let nrus = vec![
            Nru::parse("REF-DPI-2-0001").unwrap(),
            Nru::parse("REF-UNKNOWN").unwrap(),
        ];
        let register = db.referencings_by_nru(&nrus).await.unwrap();
        assert_eq!(register.len(), 1);
        let candidature = Candidature {
            vendor: Siren::parse(VENDOR).unwrap(),
            target: key("DUI-MS", 2),
            optional_profiles: vec![],
            solution: "A".to_owned(),
            main_component: "A-core".to_owned(),
            version: Version::parse("4.3").unwrap(),
            nrus: nrus[..1].to_vec(),
            additional_components: vec![],
            commercial_names: vec!["A".to_owned()],
            honour_statement: false,
            late: None,
            rem_version: None,
            opened_on: None,
        };
        let plan = compute_plan(&catalogue, &register, &candidature).unwrap();
        let status_of = |id: &str| {
            plan.entries
                .iter()
                .find(|e| e.requirement.id == rid(id))
                .map(|e| e.status)
        };
        assert_eq!(status_of("INS.01"), Some(Status::MaskedEquivalence));
        assert_eq!(
            status_of("USA.01"),
            Some(Status::MaskedEquivalence),
            "equivalence table"
        );
        assert_eq!(status_of("PA.01"), None, "PA not chosen");
        assert_eq!(plan.summary.to_deposit, 0);
    })
    .await;
}
