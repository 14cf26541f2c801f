//! The catalogue: dispositifs, REM versions, search, shared requirements.

use preuves_db::{Actor, DbError, Refused, RequirementQuery, UniqueConstraint};
use preuves_domain::{
    Catalogue, ChapterCode, IsoDate, Perimeter, Profile, Rem, RemVersionLabel, Wave,
};

use crate::fixtures::{
    catalogue, dispositifs, dui_requirements, equivalences, key, req, rid, seed_catalogue,
};
use crate::helpers::for_each_backend;

#[tokio::test]
async fn a_loaded_catalogue_equals_the_one_stored() {
    for_each_backend(|db| async move {
        let seed = db
            .import_catalogue(&catalogue(), &equivalences(), "demo", &Actor::System)
            .await
            .unwrap();
        assert_eq!(seed.dispositifs_changed, 4);
        assert_eq!(seed.rem_versions.len(), 2);
        assert!(seed.equivalences_replaced);

        let stored = catalogue();
        let loaded = db.load_catalogue().await.unwrap();
        assert_eq!(loaded.dispositifs(), stored.dispositifs());
        // The equivalence table made it too: DUI-MS USA.01 is shared with DPI HOP.01.
        let shared: Vec<_> = loaded
            .shared_with(&key("DUI-MS", 2), &rid("USA.01"))
            .into_iter()
            .map(|(d, r)| (d.key.clone(), r.id.clone()))
            .collect();
        assert_eq!(shared, vec![(key("DPI", 2), rid("HOP.01"))]);

        // Importing the same catalogue again changes nothing.
        let again = db
            .import_catalogue(&catalogue(), &equivalences(), "demo", &Actor::System)
            .await
            .unwrap();
        assert_eq!(again, preuves_db::CatalogueSeed::default());
        let revision = db.catalogue_revision().await.unwrap();
        db.import_catalogue(&catalogue(), &equivalences(), "demo", &Actor::System)
            .await
            .unwrap();
        assert_eq!(
            db.catalogue_revision().await.unwrap(),
            revision,
            "no change, no bump"
        );
        assert_eq!(db.list_rem_versions(&key("DPI", 2)).await.unwrap().len(), 1);
    })
    .await;
}

/// The fixtures' catalogue with the DUI-MS guichet opening on `day` (R10).
fn opening_on(day: Option<IsoDate>) -> Catalogue {
    let mut all = dispositifs();
    for d in &mut all {
        if d.key == key("DUI-MS", 2) {
            d.opens_on = day;
        }
    }
    Catalogue::new(all, &equivalences()).unwrap()
}

#[tokio::test]
async fn the_guichet_opening_day_is_stored_loaded_and_moved() {
    for_each_backend(|db| async move {
        let dui = key("DUI-MS", 2);
        let day = IsoDate::parse("2026-06-03").unwrap();
        db.import_catalogue(
            &opening_on(Some(day)),
            &equivalences(),
            "demo",
            &Actor::System,
        )
        .await
        .unwrap();
        assert_eq!(
            db.find_dispositif(&dui).await.unwrap().unwrap().opens_on,
            Some(day)
        );
        let loaded = db.load_catalogue().await.unwrap();
        assert_eq!(loaded.dispositif(&dui).unwrap().opens_on, Some(day));
        assert_eq!(loaded.dispositif(&key("DPI", 2)).unwrap().opens_on, None);

        // The same calendar changes nothing; a moved day updates that dispositif alone, audited.
        let revision = db.catalogue_revision().await.unwrap();
        assert_eq!(
            db.upsert_dispositifs(&opening_on(Some(day)), &Actor::System)
                .await
                .unwrap(),
            0
        );
        assert_eq!(db.catalogue_revision().await.unwrap(), revision);
        let later = IsoDate::parse("2027-01-04").unwrap();
        assert_eq!(
            db.upsert_dispositifs(&opening_on(Some(later)), &Actor::System)
                .await
                .unwrap(),
            1
        );
        assert!(db.catalogue_revision().await.unwrap() > revision);
        assert_eq!(
            db.load_catalogue()
                .await
                .unwrap()
                .dispositif(&dui)
                .unwrap()
                .opens_on,
            Some(later)
        );
        let id = db.find_dispositif(&dui).await.unwrap().unwrap().id;
        let history = db
            .audit_entries_for("dispositif", &id.0.to_string())
            .await
            .unwrap();
        let last = history.last().unwrap();
        assert_eq!(last.action, "dispositif.update");
        let details: serde_json::Value = serde_json::from_str(&last.details).unwrap();
        assert_eq!(details["opens_on"], "2027-01-04");
        // Removed: open again.
        db.upsert_dispositifs(&opening_on(None), &Actor::System)
            .await
            .unwrap();
        assert_eq!(
            db.find_dispositif(&dui).await.unwrap().unwrap().opens_on,
            None
        );
    })
    .await;
}

#[tokio::test]
async fn rem_versions_keep_their_own_label_unique_per_dispositif() {
    for_each_backend(|db| async move {
        // The catalogue's label is stored with the version it names.
        let dui = key("DUI-MS", 2);
        let label = RemVersionLabel::parse("2026-03").unwrap();
        let mut all = dispositifs();
        for d in &mut all {
            if d.key == dui {
                d.rem_version = label.clone();
            }
        }
        let labelled = Catalogue::new(all, &equivalences()).unwrap();
        db.import_catalogue(&labelled, &equivalences(), "demo", &Actor::System)
            .await
            .unwrap();
        let versions = db.list_rem_versions(&dui).await.unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!((versions[0].version, &versions[0].label), (1, &label));

        // Without a label, the import number; with one the dispositif has, a conflict and no
        // change.
        let rem = Rem::new(dui_requirements()).unwrap();
        let second = db
            .import_rem_version(&dui, &rem, "v2.csv", "ab", 1, &Actor::System)
            .await
            .unwrap();
        assert_eq!(second.label.as_str(), "2");
        let revision = db.catalogue_revision().await.unwrap();
        let err = db
            .import_rem_version_with_report(
                &dui,
                &rem,
                "v3.csv",
                "cd",
                1,
                Some(&label),
                None,
                &Actor::System,
            )
            .await
            .unwrap_err();
        assert!(
            err.is_conflict(UniqueConstraint::RemVersionLabel),
            "{err:?}"
        );
        assert_eq!(db.catalogue_revision().await.unwrap(), revision);
        assert_eq!(db.list_rem_versions(&dui).await.unwrap().len(), 2);
        // Another dispositif may use the same label.
        let dpi = db
            .import_rem_version_with_report(
                &key("DPI", 2),
                &rem,
                "dpi.csv",
                "ef",
                1,
                Some(&label),
                None,
                &Actor::System,
            )
            .await
            .unwrap();
        assert_eq!(dpi.label, label);
    })
    .await;
}

#[tokio::test]
async fn a_new_rem_version_keeps_the_old_and_becomes_current() {
    for_each_backend(|db| async move {
        assert_eq!(db.catalogue_revision().await.unwrap(), 0);
        seed_catalogue(&db).await;
        let seeded = db.catalogue_revision().await.unwrap();
        assert!(seeded > 0);
        let dui = key("DUI-MS", 2);
        let mut second = dui_requirements();
        second.push(req("PA.02", Perimeter::Wave2, "PA", None, 2));
        second[0].text = "Texte révisé".to_owned();
        let second = Rem::new(second).unwrap();
        let v2 = db
            .import_rem_version(
                &dui,
                &second,
                "REM-DUI-MS-v2.xlsx",
                "ab12",
                9,
                &Actor::System,
            )
            .await
            .unwrap();
        assert_eq!(v2.version, 2);
        assert_eq!(v2.requirement_count, 7);
        assert_eq!(v2.imported_by, "system");
        assert!(db.catalogue_revision().await.unwrap() > seeded);
        assert_eq!(db.rem_version_report(v2.id).await.unwrap(), None);

        // A third version keeps its import report; the second is not rewritten.
        let report = r#"{"warnings":[{"line":3,"message":"colonne absente"}]}"#;
        let v3 = db
            .import_rem_version_with_report(
                &dui,
                &second,
                "REM-DUI-MS-v3.csv",
                "cd34",
                9,
                None,
                Some(report),
                &Actor::System,
            )
            .await
            .unwrap();
        assert_eq!(v3.version, 3);
        // Without a label, a version is labelled by its import number.
        assert_eq!((v2.label.as_str(), v3.label.as_str()), ("2", "3"));
        assert_eq!(
            db.rem_version_report(v3.id).await.unwrap().as_deref(),
            Some(report)
        );
        assert_eq!(db.rem_version_report(v2.id).await.unwrap(), None);
        assert_eq!(
            db.rem_version_report(preuves_db::RemVersionId(9999))
                .await
                .unwrap(),
            None
        );
        assert_eq!(db.find_rem_version(v2.id).await.unwrap().unwrap(), v2);

        let versions = db.list_rem_versions(&dui).await.unwrap();
        assert_eq!(
            versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        let (_, first) = db.load_rem(versions[0].id).await.unwrap().unwrap();
        assert_eq!(first, Rem::new(dui_requirements()).unwrap());

        let current = db.load_catalogue().await.unwrap();
        assert_eq!(
            current.dispositif(&dui).unwrap().rem.as_ref(),
            Some(&second)
        );
        let pinned = db.load_catalogue_pinned(&[versions[0].id]).await.unwrap();
        assert_eq!(pinned.dispositif(&dui).unwrap().rem.as_ref(), Some(&first));

        let listed = db.list_dispositifs().await.unwrap();
        let dui_summary = listed.iter().find(|d| d.key == dui).unwrap();
        assert_eq!(dui_summary.current_rem.as_ref().unwrap().id, v3.id);
        let ms1 = listed.iter().find(|d| d.key == key("MS1", 1)).unwrap();
        assert!(ms1.current_rem.is_none());
        assert_eq!(ms1.wave1_profiles.len(), 3);
    })
    .await;
}

#[tokio::test]
async fn rems_go_only_to_known_vague_2_dispositifs() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        let rem = Rem::new(dui_requirements()).unwrap();
        let err = db
            .import_rem_version(&key("MS1", 1), &rem, "x.csv", "00", 1, &Actor::System)
            .await
            .unwrap_err();
        assert!(
            matches!(err, DbError::Refused(Refused::RemOnVague1(_))),
            "{err:?}"
        );
        let err = db
            .import_rem_version(&key("XYZ", 2), &rem, "x.csv", "00", 1, &Actor::System)
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::NotFound), "{err:?}");
        assert_eq!(db.list_rem_versions(&key("MS1", 1)).await.unwrap().len(), 0);
    })
    .await;
}

#[tokio::test]
async fn requirements_are_searched_without_regard_to_case_or_accents() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        let all = db
            .search_requirements(&RequirementQuery::default())
            .await
            .unwrap();
        assert_eq!(all.total, 10);

        // Accents and case forgiven; the text says « Élève ».
        let hits = db
            .search_requirements(&RequirementQuery {
                text: Some("ELEVE".into()),
                limit: 3,
                offset: 0,
                ..RequirementQuery::default()
            })
            .await
            .unwrap();
        assert_eq!((hits.total, hits.items.len()), (10, 3));
        let page2 = db
            .search_requirements(&RequirementQuery {
                text: Some("élève".into()),
                limit: 3,
                offset: 9,
                ..RequirementQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(page2.items.len(), 1);
        assert_eq!(page2.items[0].id, rid("PA.01"));

        // By id fragment, within one dispositif.
        let hits = db
            .search_requirements(&RequirementQuery {
                text: Some("ins/VA1".into()),
                dispositif: Some(key("DUI-MS", 2)),
                ..RequirementQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(hits.items.len(), 1);
        assert_eq!(hits.items[0].id, rid("INS/va1.01"));
        assert_eq!(hits.items[0].dispositif, key("DUI-MS", 2));

        // LIKE wildcards typed by the user match literally.
        let none = db
            .search_requirements(&RequirementQuery {
                text: Some("%".into()),
                ..RequirementQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(none.total, 0);

        let pa = db
            .search_requirements(&RequirementQuery {
                profile: Some(Profile::parse("PA").unwrap()),
                chapter: Some(ChapterCode::parse("pa").unwrap()),
                ..RequirementQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(pa.total, 2);

        // By périmètre, alone and with a dispositif.
        let wave1 = db
            .search_requirements(&RequirementQuery {
                perimeter: Some(Perimeter::Wave1),
                ..RequirementQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(wave1.total, 3);
        assert!(wave1.items.iter().all(|h| h.perimeter == Perimeter::Wave1));
        let dui_wave2 = db
            .search_requirements(&RequirementQuery {
                perimeter: Some(Perimeter::Wave2),
                dispositif: Some(key("DUI-MS", 2)),
                ..RequirementQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(dui_wave2.total, 4);
    })
    .await;
}

#[tokio::test]
async fn a_requirement_shows_the_other_dispositifs_sharing_it() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        let dui = key("DUI-MS", 2);
        let detail = db
            .find_current_requirement(&dui, &rid("DMP.01"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(detail.ordinal, 2);
        assert_eq!(detail.requirement.scenarios[0].proofs.len(), 3);
        assert_eq!(detail.rem.dispositif, dui);

        let by_socle = db.shared_requirements(&dui, &rid("DMP.01")).await.unwrap();
        assert_eq!(by_socle.len(), 1);
        assert_eq!(
            (by_socle[0].dispositif.clone(), by_socle[0].id.clone()),
            (key("DPI", 2), rid("DMP.01"))
        );
        assert_eq!(by_socle[0].dispositif.wave, Wave::Two);

        let by_pair = db
            .shared_requirements(&key("DPI", 2), &rid("HOP.01"))
            .await
            .unwrap();
        assert_eq!(by_pair.len(), 1);
        assert_eq!(by_pair[0].id, rid("USA.01"));

        assert!(
            db.shared_requirements(&dui, &rid("PA.01"))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            db.find_current_requirement(&dui, &rid("NOPE.01"))
                .await
                .unwrap()
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn a_rem_s_optional_profiles_come_in_rem_order_without_general() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        let dui = key("DUI-MS", 2);
        let current = db
            .find_dispositif(&dui)
            .await
            .unwrap()
            .and_then(|d| d.current_rem)
            .unwrap();
        let expected: Vec<Profile> = Rem::new(dui_requirements())
            .unwrap()
            .optional_profiles()
            .cloned()
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(
            db.rem_optional_profiles(current.id).await.unwrap(),
            expected
        );
    })
    .await;
}
