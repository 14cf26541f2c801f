//! The rules that live in time and identity, one table each: R1 for every NRU entered, R2 against
//! the REM version the source referencing was granted on, the candidature's pinned version, R5's
//! "obtenu entre temps", R10's guichet calendar, and the order in which refusals are gathered.

use preuves_domain::{
    Candidature, DispositifCode, EquivalencePair, LateEntry, Reason, RefusalCode, RequirementId,
    Rule, Status, compute_plan,
};

use crate::fixtures::{
    candidature, catalogue, catalogue_with, component, date, label, nru, profiles, register,
};

/// The codes and NRUs of the refusals.
type Refused = Vec<(RefusalCode, Option<String>)>;

/// The refusals, or `None` with the plan accepted.
fn refusals(c: &Candidature) -> Option<Refused> {
    compute_plan(&catalogue(), &register(), c).err().map(|rs| {
        rs.into_iter()
            .map(|r| (r.code, r.nru.map(|n| n.to_string())))
            .collect()
    })
}

/// `(requirement, source requirement)` of the plan's entries masked by équivalence.
fn equivalence_masks(c: &Candidature) -> Vec<(String, String)> {
    let cat = catalogue();
    let reg = register();
    let plan = compute_plan(&cat, &reg, c).unwrap_or_else(|e| panic!("refused: {e:#?}"));
    plan.entries
        .iter()
        .filter_map(|e| match &e.reason {
            Some(Reason::Equivalence { source, .. }) => {
                assert_eq!(e.status, Status::MaskedEquivalence);
                Some((e.requirement.id.to_string(), source.id.to_string()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn r1_applies_to_every_nru_entered_heritage_included() {
    let mismatch = |n: &str| {
        Some(vec![(
            RefusalCode::MainComponentMismatch,
            Some(n.to_owned()),
        )])
    };
    // (NRUs, candidate main component, expected refusals)
    let table: Vec<(&[&str], &str, Option<Refused>)> = vec![
        // Équivalence with another solution: refused, as before.
        (&["REF-DPI-2-0003"], "A-core", mismatch("REF-DPI-2-0003")),
        // Héritage from a vague-1 referencing of another solution: refused too.
        (&["REF-MS1-1-0002"], "A-core", mismatch("REF-MS1-1-0002")),
        // The same solution's vague-1 referencing: accepted.
        (&["REF-MS1-1-0001"], "A-core", None),
        // Identity is trimmed and case-insensitive.
        (&["REF-MS1-1-0001", "REF-DPI-2-0001"], "  a-CORE ", None),
        // A vague-1 referencing of another solution is refused even beside a good one.
        (
            &["REF-DPI-2-0001", "REF-MS1-1-0002"],
            "A-core",
            mismatch("REF-MS1-1-0002"),
        ),
    ];
    for (nrus, main_component, expected) in table {
        let mut c = candidature();
        c.optional_profiles = profiles(&["PA"]);
        c.nrus = nrus.iter().map(|n| nru(n)).collect();
        c.main_component = main_component.to_owned();
        assert_eq!(refusals(&c), expected, "{nrus:?} {main_component}");
    }
    // The message says why, in the webinar's terms.
    let mut c = candidature();
    c.nrus = vec![nru("REF-MS1-1-0002")];
    let r = &compute_plan(&catalogue(), &register(), &c).unwrap_err()[0];
    assert_eq!(r.rule, Some(Rule::R1));
    assert!(r.message.contains("héritage"), "{}", r.message);
    assert!(r.message.contains("B-core"), "{}", r.message);
}

#[test]
fn r2_masks_only_what_the_granted_version_shared() {
    let with = |n: &str| {
        let mut c = candidature();
        c.nrus = vec![nru(n)];
        equivalence_masks(&c)
    };
    let m = |id: &str, source: &str| (id.to_owned(), source.to_owned());
    // Granted on the version in force (named or not): INS, DMP and the IAM requirement.
    let in_force = vec![
        m("INS/va1.01", "INS/va1.01"),
        m("INS.01", "INS.01"),
        m("DMP.01", "DMP.01"),
        m("SSI.01", "SSI/IAM.01"),
    ];
    assert_eq!(with("REF-DPI-2-0011"), in_force);
    assert_eq!(with("REF-DPI-2-0004"), in_force);
    // Granted on version 1, which had no DMP.01: only what version 1 asked is reused.
    assert_eq!(
        with("REF-DPI-2-0010"),
        vec![
            m("INS/va1.01", "INS/va1.01"),
            m("INS.01", "INS.01"),
            m("SSI.01", "SSI/IAM.01"),
        ]
    );
    // The reason names the version the source was granted on.
    let mut c = candidature();
    c.nrus = vec![nru("REF-DPI-2-0010")];
    let cat = catalogue();
    let reg = register();
    let plan = compute_plan(&cat, &reg, &c).unwrap();
    let versions: Vec<&str> = plan
        .entries
        .iter()
        .filter_map(|e| match &e.reason {
            Some(Reason::Equivalence { source_version, .. }) => Some(source_version.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(versions, vec!["1", "1", "1"]);
    let explained = plan.entries[0].reason.as_ref().unwrap().explain();
    assert!(
        explained.contains("(version « 1 » de son REM)"),
        "{explained}"
    );
    c.nrus = vec![nru("REF-DPI-2-0011")];
    let plan = compute_plan(&cat, &reg, &c).unwrap();
    let explained = plan.entries[0].reason.as_ref().unwrap().explain();
    assert!(!explained.contains("de son REM"), "{explained}");
}

#[test]
fn r2_counts_a_table_pair_only_where_both_ids_exist_in_the_versions_compared() {
    let key = |code: &str, id: &str| {
        (
            DispositifCode::parse(code).unwrap(),
            RequirementId::parse(id).unwrap(),
        )
    };
    // HOP.01 exists in DPI version 2 only; PDS/va1.01 only in DUI-MS version 2026.
    let pairs = [
        EquivalencePair {
            a: key("DUI-MS", "USA/va1.01"),
            b: key("DPI", "HOP.01"),
        },
        EquivalencePair {
            a: key("DUI-MS", "USA.01"),
            b: key("DPI", "INS.01"),
        },
    ];
    let cat = catalogue_with(&pairs);
    let reg = register();
    let masked = |n: &str, version: Option<&str>| {
        let mut c = candidature();
        c.nrus = vec![nru(n)];
        c.rem_version = version.map(label);
        let plan = compute_plan(&cat, &reg, &c).unwrap_or_else(|e| panic!("{e:#?}"));
        plan.entries
            .iter()
            .filter(|e| e.status == Status::MaskedEquivalence)
            .map(|e| e.requirement.id.to_string())
            .collect::<Vec<_>>()
    };
    // Both versions in force: both pairs count.
    assert_eq!(
        masked("REF-DPI-2-0011", None),
        [
            "INS/va1.01",
            "INS.01",
            "DMP.01",
            "SSI.01",
            "USA/va1.01",
            "USA.01"
        ]
    );
    // DPI version 1 has no HOP.01: that pair does not count; INS.01 is there.
    assert_eq!(
        masked("REF-DPI-2-0010", None),
        ["INS/va1.01", "INS.01", "SSI.01", "USA.01"]
    );
    // DUI-MS version 2025 has no USA.01 (and no SSI.01): only the HOP.01 pair remains.
    assert_eq!(
        masked("REF-DPI-2-0011", Some("2025")),
        ["INS/va1.01", "INS.01", "DMP.01", "USA/va1.01"]
    );
}

#[test]
fn the_candidature_s_scope_is_its_pinned_version() {
    let mut c = candidature();
    c.optional_profiles = profiles(&["PA"]);
    c.rem_version = Some(label("2025"));
    let cat = catalogue();
    let reg = register();
    let plan = compute_plan(&cat, &reg, &c).unwrap();
    assert_eq!(plan.rem_version.as_str(), "2025");
    let ids: Vec<&str> = plan
        .entries
        .iter()
        .map(|e| e.requirement.id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["INS/va1.01", "INS.01", "DMP.01", "USA/va1.01", "PA/va1.01"]
    );
    // The version in force, named or not, is the same plan.
    c.rem_version = Some(label("2026"));
    let named = compute_plan(&cat, &reg, &c).unwrap().entries.len();
    c.rem_version = None;
    assert_eq!(compute_plan(&cat, &reg, &c).unwrap().entries.len(), named);
    // Profiles and chapters are checked against the pinned version.
    c.rem_version = Some(label("2025"));
    c.optional_profiles = profiles(&["PDS"]);
    c.additional_components = vec![component("Module SSI", &["SSI"])];
    assert_eq!(
        refusals(&c),
        Some(vec![
            (RefusalCode::UnknownProfile, None),
            (RefusalCode::UnknownChapter, None),
        ])
    );
}

#[test]
fn unknown_rem_versions_are_refused() {
    // The candidature's own: refused, and nothing after it is checked (its scope is unknown).
    let mut c = candidature();
    c.rem_version = Some(label("2030"));
    c.optional_profiles = profiles(&["XX"]);
    c.nrus = vec![nru("REF-NOPE-2-0001")];
    let rs = compute_plan(&catalogue(), &register(), &c).unwrap_err();
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].code, RefusalCode::UnknownRemVersion);
    assert_eq!(rs[0].nru, None);
    assert!(rs[0].message.contains("« 2030 »"), "{}", rs[0].message);
    assert!(
        rs[0].message.contains("« 2025 », « 2026 »"),
        "{}",
        rs[0].message
    );
    // A cited referencing's: refused with its NRU.
    let mut c = candidature();
    c.nrus = vec![nru("REF-DPI-2-0012")];
    let rs = compute_plan(&catalogue(), &register(), &c).unwrap_err();
    assert_eq!(
        rs.iter()
            .map(|r| (r.code, r.rule, r.nru.as_ref().map(|n| n.as_str())))
            .collect::<Vec<_>>(),
        vec![(
            RefusalCode::UnknownRemVersion,
            Some(Rule::R2),
            Some("REF-DPI-2-0012")
        )]
    );
    assert!(rs[0].message.contains("« 0.9 »"), "{}", rs[0].message);
    // A vague-1 referencing's version is ignored (vague 1 has no REM here).
    let mut reg = register();
    let ms1 = reg
        .iter_mut()
        .find(|r| r.nru.as_str() == "REF-MS1-1-0001")
        .unwrap();
    ms1.rem_version = Some(label("42"));
    let mut c = candidature();
    c.optional_profiles = profiles(&["PA"]);
    c.nrus = vec![nru("REF-MS1-1-0001")];
    assert!(compute_plan(&catalogue(), &reg, &c).is_ok());
}

#[test]
fn r5_a_late_nru_must_have_been_obtained_after_submission() {
    let late = |granted: Option<&str>, submitted: Option<&str>| {
        let mut reg = register();
        let dpi = reg
            .iter_mut()
            .find(|r| r.nru.as_str() == "REF-DPI-2-0001")
            .unwrap();
        dpi.granted_on = granted.map(date);
        let mut c = candidature();
        c.late = Some(LateEntry {
            complete_on: Some(date("2027-01-15")),
            submitted_on: submitted.map(date),
            nrus: vec![nru("REF-DPI-2-0001")],
        });
        compute_plan(&catalogue(), &reg, &c)
            .err()
            .map(|rs| rs.into_iter().map(|r| r.code).collect::<Vec<_>>())
    };
    let refused = Some(vec![RefusalCode::LateNruNotAllowed]);
    // (granted on, submitted on, expected)
    let table = [
        (Some("2027-02-01"), Some("2027-01-10"), None),
        (Some("2027-01-11"), Some("2027-01-10"), None),
        (Some("2027-01-10"), Some("2027-01-10"), refused.clone()),
        (Some("2026-11-30"), Some("2027-01-10"), refused.clone()),
        // Either day missing: the check is skipped.
        (None, Some("2027-01-10"), None),
        (Some("2026-11-30"), None, None),
        (None, None, None),
    ];
    for (granted, submitted, expected) in table {
        assert_eq!(
            late(granted, submitted),
            expected,
            "{granted:?} {submitted:?}"
        );
    }
    // The message says "obtenu entre temps" and gives both days.
    let mut reg = register();
    reg[0].granted_on = Some(date("2026-11-30"));
    let mut c = candidature();
    c.late = Some(LateEntry {
        complete_on: Some(date("2027-01-15")),
        submitted_on: Some(date("2027-01-10")),
        nrus: vec![nru("REF-DPI-2-0001")],
    });
    let r = &compute_plan(&catalogue(), &reg, &c).unwrap_err()[0];
    assert_eq!(r.rule, Some(Rule::R5));
    assert!(
        r.message.contains("entre temps")
            && r.message.contains("30/11/2026")
            && r.message.contains("10/01/2027"),
        "{}",
        r.message
    );
}

#[test]
fn r10_a_candidature_opens_only_once_the_guichet_is_open() {
    // The DUI-MS guichet opens on 2026-06-03.
    let table = [
        (
            Some("2026-06-02"),
            Some(vec![(RefusalCode::GuichetNotOpen, None)]),
        ),
        (Some("2026-06-03"), None),
        (Some("2026-06-04"), None),
        (None, None),
    ];
    for (on, expected) in table {
        let mut c = candidature();
        c.opened_on = on.map(date);
        assert_eq!(refusals(&c), expected, "{on:?}");
    }
    let mut c = candidature();
    c.opened_on = Some(date("2026-01-01"));
    let r = &compute_plan(&catalogue(), &register(), &c).unwrap_err()[0];
    assert_eq!(r.rule, Some(Rule::R10));
    assert!(
        r.message.contains("03/06/2026") && r.message.contains("01/01/2026"),
        "{}",
        r.message
    );
    // A dispositif without calendar is always open.
    let mut c = candidature();
    c.target = crate::fixtures::key("DPI", 2);
    c.opened_on = Some(date("2000-01-01"));
    assert_eq!(refusals(&c), None);
}

#[test]
fn refusals_are_gathered_in_a_fixed_order() {
    let mut c = candidature();
    c.opened_on = Some(date("2026-05-01"));
    c.optional_profiles = profiles(&["XX"]);
    c.additional_components = vec![component("M", &["ZZZ"])];
    c.nrus = vec![nru("REF-NOPE-2-0001"), nru("REF-DPI-2-0002")];
    c.late = Some(LateEntry {
        complete_on: None,
        submitted_on: None,
        nrus: vec![nru("REF-DPI-2-0001")],
    });
    use RefusalCode as C;
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        refusals(&c),
        Some(vec![
            (C::GuichetNotOpen, None),
            (C::UnknownProfile, None),
            (C::UnknownChapter, None),
            (C::NruNotValid, some("REF-DPI-2-0002")),
            (C::UnknownNru, some("REF-NOPE-2-0001")),
            (C::LateNruNotAllowed, some("REF-DPI-2-0001")),
        ])
    );
    // An unknown version of the candidature comes after the guichet and stops everything.
    c.rem_version = Some(label("2030"));
    assert_eq!(
        refusals(&c),
        Some(vec![
            (C::GuichetNotOpen, None),
            (C::UnknownRemVersion, None)
        ])
    );
    // An unknown target comes first; the NRUs are still checked.
    c.target = crate::fixtures::key("XYZ", 2);
    assert_eq!(
        refusals(&c),
        Some(vec![
            (C::UnknownDispositif, None),
            (C::NruNotValid, some("REF-DPI-2-0002")),
            (C::UnknownNru, some("REF-NOPE-2-0001")),
            (C::LateNruNotAllowed, some("REF-DPI-2-0001")),
        ])
    );
}

#[test]
fn a_catalogue_refuses_inconsistent_versions_and_calendars() {
    use preuves_domain::{Catalogue, CatalogueError, OlderRem, Rem};

    let base = catalogue();
    let with = |change: &dyn Fn(&mut Vec<preuves_domain::Dispositif>)| {
        let mut dispositifs = base.dispositifs().to_vec();
        change(&mut dispositifs);
        Catalogue::new(dispositifs, &[]).err()
    };
    // Two versions of DPI labelled "2" (the one in force included).
    let duplicate = with(&|ds| {
        let dpi = ds
            .iter_mut()
            .find(|d| d.key == crate::fixtures::key("DPI", 2))
            .unwrap();
        let rem = dpi.rem.clone().unwrap();
        dpi.older_rems.push(OlderRem {
            version: label("2"),
            rem,
        });
    });
    assert!(
        matches!(&duplicate, Some(CatalogueError::DuplicateRemVersion { version, .. }) if version.as_str() == "2"),
        "{duplicate:?}"
    );
    // A guichet calendar or an older REM on a vague-1 dispositif.
    let calendar = with(&|ds| ds[0].opens_on = Some(date("2026-01-01")));
    assert!(
        matches!(calendar, Some(CatalogueError::OpensOnWave1 { .. })),
        "{calendar:?}"
    );
    let older = with(&|ds| {
        ds[0].older_rems.push(OlderRem {
            version: label("1"),
            rem: Rem::new(vec![]).unwrap(),
        })
    });
    assert!(
        matches!(older, Some(CatalogueError::RemOnWave1 { .. })),
        "{older:?}"
    );
    // An equivalence pair naming a requirement of no version at all.
    let key = |code: &str, id: &str| {
        (
            DispositifCode::parse(code).unwrap(),
            RequirementId::parse(id).unwrap(),
        )
    };
    let unknown = Catalogue::new(
        base.dispositifs().to_vec(),
        &[EquivalencePair {
            a: key("DUI-MS", "USA.01"),
            b: key("DPI", "NOWHERE.01"),
        }],
    )
    .err();
    assert!(
        matches!(
            unknown,
            Some(CatalogueError::UnknownEquivalenceRequirement { .. })
        ),
        "{unknown:?}"
    );
}
