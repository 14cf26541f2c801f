//! Invariants of the engine on random catalogues, registers and candidatures (proptest).

use std::collections::BTreeSet;

use preuves_domain::scenario::Answer;
use preuves_domain::{
    Candidature, Catalogue, ChapterCode, Dispositif, DispositifCode, Nru, OlderRem, Perimeter,
    Profile, Referencing, Rem, RemVersionLabel, Status, Version, compute_plan,
};
use proptest::prelude::*;

use crate::fixtures::{key, referencing, req};

const TARGET_PROFILES: [&str; 4] = ["Général", "X", "Y", "Z"];
const SOURCE_PROFILES: [&str; 3] = ["Général", "X", "W"];
const CHAPTERS: [&str; 4] = ["INS", "DMP", "MSS", "SSI"];

/// `(perimeter is vague 1, profile index, chapter index, socle index or none)`.
type ReqSpec = (bool, usize, usize, Option<u8>);

fn req_specs(max: usize, profiles: usize) -> impl Strategy<Value = Vec<ReqSpec>> {
    proptest::collection::vec(
        (
            any::<bool>(),
            0..profiles,
            0..CHAPTERS.len(),
            proptest::option::of(0u8..12),
        ),
        0..max,
    )
}

fn rem(specs: &[ReqSpec], profiles: &[&str]) -> Rem {
    let requirements = specs
        .iter()
        .enumerate()
        .map(|(i, &(v1, p, ch, socle))| {
            let id = format!("{}.{i:02}", CHAPTERS[ch]);
            let socle = socle.map(|s| format!("SC.{s}"));
            let perimeter = if v1 {
                Perimeter::Wave1
            } else {
                Perimeter::Wave2
            };
            req(&id, perimeter, profiles[p], socle.as_deref(), 1 + i % 3)
        })
        .collect();
    Rem::new(requirements).unwrap()
}

fn dispositif(code: &str, wave: u8, predecessors: &[&str], rem: Option<Rem>) -> Dispositif {
    Dispositif {
        key: key(code, wave),
        name: code.to_owned(),
        corridor: "T".to_owned(),
        predecessors: predecessors
            .iter()
            .map(|p| DispositifCode::parse(p).unwrap())
            .collect(),
        date2: None,
        wave1_profiles: vec![],
        rem,
        rem_version: RemVersionLabel::initial(),
        older_rems: vec![],
        opens_on: None,
    }
}

#[derive(Debug, Clone)]
struct World {
    catalogue: Catalogue,
    register: Vec<Referencing>,
    candidature: Candidature,
    /// NRUs of the register the candidature does not use yet.
    unused: Vec<Nru>,
}

fn pick<'a>(all: &[&'a str], mask: u8) -> Vec<&'a str> {
    all.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, p)| *p)
        .collect()
}

fn world() -> impl Strategy<Value = World> {
    (
        req_specs(30, TARGET_PROFILES.len()),
        req_specs(30, SOURCE_PROFILES.len()),
        (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
        ),
    )
        .prop_filter("a target needs requirements", |(t, _, _)| !t.is_empty())
        .prop_map(
            |(target_specs, source_specs, (h1, q, chosen, chapters, used))| {
                let target_rem = rem(&target_specs, &TARGET_PROFILES);
                let source_rem = rem(&source_specs, &SOURCE_PROFILES);
                let optional: Vec<Profile> = target_rem
                    .optional_profiles()
                    .enumerate()
                    .filter(|(i, _)| chosen & (1 << i) != 0)
                    .map(|(_, p)| p.clone())
                    .collect();
                let component_chapters: Vec<ChapterCode> = target_rem
                    .chapters()
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| chapters & (1 << i) != 0 && chapters & 0x80 != 0)
                    .map(|(_, c)| c.clone())
                    .collect();
                let catalogue = Catalogue::new(
                    vec![
                        dispositif("P1", 1, &[], None),
                        dispositif("P2", 1, &[], None),
                        dispositif("T", 2, &["P1", "P2"], Some(target_rem)),
                        dispositif("E", 2, &[], Some(source_rem)),
                    ],
                    &[],
                )
                .unwrap();
                let register = vec![
                    referencing("H-1", "P1", 1, &pick(&["X", "Y"], h1), "1.0"),
                    referencing("H-2", "P2", 1, &["Z"], "1.0"),
                    referencing("Q-2", "E", 2, &pick(&SOURCE_PROFILES, q), "2.0"),
                ];
                let all: Vec<Nru> = register.iter().map(|r| r.nru.clone()).collect();
                let (nrus, unused): (Vec<Nru>, Vec<Nru>) = all
                    .into_iter()
                    .enumerate()
                    .partition(|(i, _)| used & (1 << i) != 0)
                    .into_iter_pair();
                let mut candidature = crate::fixtures::candidature();
                candidature.target = key("T", 2);
                candidature.optional_profiles = optional;
                candidature.nrus = nrus;
                candidature.version = Version::parse("3.0").unwrap();
                if !component_chapters.is_empty() {
                    candidature.additional_components =
                        vec![crate::fixtures::component("Composant", &[])];
                    candidature.additional_components[0].chapters = component_chapters;
                }
                World {
                    catalogue,
                    register,
                    candidature,
                    unused,
                }
            },
        )
}

/// Splits enumerated pairs into two vectors of values.
trait IntoIterPair {
    fn into_iter_pair(self) -> (Vec<Nru>, Vec<Nru>);
}

impl IntoIterPair for (Vec<(usize, Nru)>, Vec<(usize, Nru)>) {
    fn into_iter_pair(self) -> (Vec<Nru>, Vec<Nru>) {
        (
            self.0.into_iter().map(|(_, n)| n).collect(),
            self.1.into_iter().map(|(_, n)| n).collect(),
        )
    }
}

fn to_deposit(w: &World, c: &Candidature) -> BTreeSet<String> {
    let plan = compute_plan(&w.catalogue, &w.register, c).expect("a valid world is never refused");
    plan.entries
        .iter()
        .filter(|e| e.status == Status::ToDeposit)
        .map(|e| e.requirement.id.to_string())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn adding_a_valid_nru_never_adds_a_requirement_to_deposit(w in world()) {
        let before = to_deposit(&w, &w.candidature);
        for extra in &w.unused {
            let mut c = w.candidature.clone();
            c.nrus.push(extra.clone());
            let after = to_deposit(&w, &c);
            prop_assert!(after.is_subset(&before), "adding {extra} added {:?}", after.difference(&before).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_masked_requirement_always_cites_an_nru_the_candidature_entered(w in world()) {
        let plan = compute_plan(&w.catalogue, &w.register, &w.candidature).unwrap();
        for e in &plan.entries {
            if e.status.is_masked() {
                let nru = e.reason.as_ref().and_then(|r| r.nru()).expect("a masked requirement has a reason with an NRU");
                prop_assert!(w.candidature.nrus.contains(nru));
            }
        }
    }

    #[test]
    fn a_chapter_with_an_additional_component_is_never_masked(w in world()) {
        let plan = compute_plan(&w.catalogue, &w.register, &w.candidature).unwrap();
        let chapters: BTreeSet<&ChapterCode> = w.candidature.additional_components.iter().flat_map(|c| &c.chapters).collect();
        for e in &plan.entries {
            if chapters.contains(&e.requirement.chapter_code) {
                prop_assert_eq!(e.status, Status::ToDeposit);
                prop_assert!(e.reason.is_some());
            }
        }
    }

    #[test]
    fn the_plan_does_not_depend_on_the_order_of_the_nrus(w in world(), rotate in 0usize..3) {
        let first = Answer::new(&compute_plan(&w.catalogue, &w.register, &w.candidature));
        let mut c = w.candidature.clone();
        c.nrus.reverse();
        let len = c.nrus.len().max(1);
        c.nrus.rotate_left(rotate % len);
        let second = Answer::new(&compute_plan(&w.catalogue, &w.register, &c));
        prop_assert_eq!(first, second);
    }

    #[test]
    fn adding_an_older_rem_version_never_changes_a_plan_citing_the_version_in_force(
        w in world(),
        older_target in req_specs(20, TARGET_PROFILES.len()),
        older_source in req_specs(20, SOURCE_PROFILES.len()),
        name_in_force in any::<bool>(),
    ) {
        let mut c = w.candidature.clone();
        let mut register = w.register.clone();
        if name_in_force {
            // Naming the version in force is the same as naming none.
            c.rem_version = Some(RemVersionLabel::initial());
            for r in &mut register {
                r.rem_version = Some(RemVersionLabel::initial());
            }
        }
        let before = Answer::new(&compute_plan(&w.catalogue, &register, &c));
        let older = |specs: &[ReqSpec], profiles: &[&str]| OlderRem {
            version: RemVersionLabel::parse("0").unwrap(),
            rem: rem(specs, profiles),
        };
        let dispositifs = w
            .catalogue
            .dispositifs()
            .iter()
            .cloned()
            .map(|mut d| {
                match d.key.code.as_str() {
                    "T" => d.older_rems.push(older(&older_target, &TARGET_PROFILES)),
                    "E" => d.older_rems.push(older(&older_source, &SOURCE_PROFILES)),
                    _ => {}
                }
                d
            })
            .collect();
        let catalogue = Catalogue::new(dispositifs, &[]).unwrap();
        let after = Answer::new(&compute_plan(&catalogue, &register, &c));
        prop_assert_eq!(before, after);
    }

    #[test]
    fn the_scope_is_exactly_general_and_the_chosen_profiles_in_rem_order(w in world()) {
        let plan = compute_plan(&w.catalogue, &w.register, &w.candidature).unwrap();
        let rem = plan.target.rem.as_ref().unwrap();
        let expected: Vec<&str> = rem
            .requirements()
            .iter()
            .filter(|r| r.profile.is_general() || w.candidature.optional_profiles.contains(&r.profile))
            .map(|r| r.id.as_str())
            .collect();
        let got: Vec<&str> = plan.entries.iter().map(|e| e.requirement.id.as_str()).collect();
        prop_assert_eq!(got, expected);
        let s = plan.summary;
        prop_assert_eq!(s.in_scope, s.to_deposit + s.masked_heritage + s.masked_equivalence);
    }
}
