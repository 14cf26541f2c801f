//! What the REM impact analysis reads: the open candidatures pinned to a REM version, with their
//! vendor; decided ones and those pinned to another version are left out.

use preuves_db::{
    Actor, AdministrativeStep, CandidatureStatus, Db, Organisation, RemVersionId, SolutionFields,
    StoredCandidature,
};
use preuves_domain::{Siren, Version};

use crate::fixtures::{catalogue, dui_requirements, key, seed_catalogue, vendor};
use crate::helpers::for_each_backend;

async fn draft(db: &Db, org: &Organisation) -> StoredCandidature {
    let solution = db
        .create_solution(
            org.id,
            &SolutionFields {
                name: "A".to_owned(),
                main_component: "A-core".to_owned(),
                versions: vec!["4.3".to_owned()],
                commercial_names: vec![],
            },
            &Actor::System,
        )
        .await
        .unwrap();
    let step = AdministrativeStep {
        solution: solution.id,
        optional_profiles: vec![],
        version: Version::parse("4.3").unwrap(),
        nrus: vec![],
        additional_components: vec![],
        commercial_names: vec![],
        honour_statement: None,
    };
    db.create_candidature(org.id, &key("DUI-MS", 2), &step, &Actor::System)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_open_candidatures_pinned_to_a_version_are_listed_with_their_vendor() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        let org = vendor(&db).await;
        let other = db
            .create_organisation(
                "Autre Éditeur",
                &Siren::parse("552100554").unwrap(),
                &Actor::System,
            )
            .await
            .unwrap();
        let d1 = draft(&db, &org).await;
        let filed = draft(&db, &org).await;
        db.submit_candidature(org.id, filed.id, filed.revision, true, &Actor::System)
            .await
            .unwrap();
        let theirs = draft(&db, &other).await;
        let v1: RemVersionId = d1.rem_version;

        // A new version: candidatures opened from now on are pinned to it.
        let rem = catalogue()
            .dispositif(&key("DUI-MS", 2))
            .unwrap()
            .rem
            .clone()
            .unwrap();
        assert_eq!(rem.requirements().len(), dui_requirements().len());
        let v2 = db
            .import_rem_version(
                &key("DUI-MS", 2),
                &rem,
                "v2.csv",
                &"0".repeat(64),
                6,
                &Actor::System,
            )
            .await
            .unwrap();
        let later = draft(&db, &org).await;
        assert_eq!(later.rem_version, v2.id);

        let pinned = db.open_candidatures_pinned_to(v1).await.unwrap();
        let found: Vec<(i64, CandidatureStatus, &str, &str)> = pinned
            .iter()
            .map(|p| {
                (
                    p.candidature.id.0,
                    p.candidature.status,
                    p.vendor_name.as_str(),
                    p.siren.as_str(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    d1.id.0,
                    CandidatureStatus::Draft,
                    "Éditeur A",
                    crate::fixtures::VENDOR
                ),
                (
                    filed.id.0,
                    CandidatureStatus::Submitted,
                    "Éditeur A",
                    crate::fixtures::VENDOR
                ),
                (
                    theirs.id.0,
                    CandidatureStatus::Draft,
                    "Autre Éditeur",
                    "552100554"
                ),
            ]
        );
        let on_v2 = db.open_candidatures_pinned_to(v2.id).await.unwrap();
        assert_eq!(on_v2.len(), 1);
        assert_eq!(on_v2[0].candidature.id, later.id);
    })
    .await;
}
