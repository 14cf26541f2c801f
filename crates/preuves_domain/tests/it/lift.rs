//! Frozen plans: lifting the masks of a referencing suspended after submission, the R5
//! recomputation that keeps lifts and frozen warnings, and the lifted reason's JSON shape.

use preuves_domain::{
    FrozenPlan, FrozenReason, LateEntry, Lift, LiftError, RequirementId, Status, compute_plan,
};

use crate::fixtures::{candidature, catalogue, component, date, nru, profiles, register};

/// The webinar's case 3 on the mini catalogue (héritage from MS2 PDE, équivalence with DPI, an
/// INS component), with two names and no sworn statement (an R6 warning), frozen.
fn frozen_case_3() -> FrozenPlan {
    let mut c = candidature();
    c.optional_profiles = profiles(&["PDE"]);
    c.nrus = vec![nru("REF-MS2-PDE-1-0001"), nru("REF-DPI-2-0001")];
    c.additional_components = vec![component("Module INS", &["INS"])];
    c.commercial_names = vec!["A".into(), "A Santé".into()];
    let cat = catalogue();
    let reg = register();
    FrozenPlan::freeze(&compute_plan(&cat, &reg, &c).unwrap())
}

fn lift(n: &str) -> Lift {
    Lift {
        nru: nru(n),
        lifted_by: "Claire Instructrice".to_owned(),
        lifted_on: date("2027-02-01"),
    }
}

fn statuses(plan: &FrozenPlan) -> Vec<(String, Status, bool)> {
    plan.entries
        .iter()
        .map(|e| {
            (
                e.id.to_string(),
                e.status,
                matches!(e.reason, Some(FrozenReason::Lifted(_))),
            )
        })
        .collect()
}

#[test]
fn lifting_an_nru_turns_every_mask_through_it_to_deposit() {
    let frozen = frozen_case_3();
    let before = frozen.summary();
    assert_eq!((before.masked_heritage, before.masked_equivalence), (2, 1));
    let out = frozen.lift(&lift("REF-MS2-PDE-1-0001")).unwrap();
    let ids = ["USA/va1.01", "PDE/va1.01"].map(|s| RequirementId::parse(s).unwrap());
    assert_eq!(out.lifted, ids);
    let after = out.plan.summary();
    assert_eq!(after.masked_heritage, 0);
    assert_eq!(after.masked_equivalence, 1);
    assert_eq!(after.to_deposit, before.to_deposit + 2);
    // USA/va1.01 expects 1 proof, PDE/va1.01 2.
    assert_eq!(after.proofs_to_deposit, before.proofs_to_deposit + 3);
    assert_eq!(after.proofs_saved, before.proofs_saved - 3);
    // Nothing else changed, warnings included.
    assert_eq!(out.plan.warnings, frozen.warnings);
    for (old, new) in frozen.entries.iter().zip(&out.plan.entries) {
        if !out.lifted.contains(&old.id) {
            assert_eq!(old, new);
        }
    }
    // A lift is final: lifting again finds nothing.
    assert_eq!(
        out.plan.lift(&lift("REF-MS2-PDE-1-0001")),
        Err(LiftError::NothingMasked {
            nru: nru("REF-MS2-PDE-1-0001")
        })
    );
    // An NRU that masks nothing, and a lift naming nobody, are refused.
    assert!(matches!(
        frozen.lift(&lift("REF-MS1-1-0001")),
        Err(LiftError::NothingMasked { .. })
    ));
    let mut anonymous = lift("REF-DPI-2-0001");
    anonymous.lifted_by = "  ".to_owned();
    assert_eq!(frozen.lift(&anonymous), Err(LiftError::Anonymous));
}

#[test]
fn the_lifted_reason_has_its_documented_json_shape() {
    let out = frozen_case_3().lift(&lift("REF-DPI-2-0001")).unwrap();
    assert_eq!(out.lifted.len(), 1);
    let entry = out
        .plan
        .entries
        .iter()
        .find(|e| e.id.as_str() == "DMP.01")
        .unwrap();
    assert_eq!(entry.status, Status::ToDeposit);
    let json = serde_json::to_value(entry.reason.as_ref().unwrap()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "rule": "R2", "nru": "REF-DPI-2-0001", "source_requirement": "DMP.01",
            "lifted": true, "lifted_by": "Claire Instructrice", "lifted_on": "2027-02-01"
        })
    );
    // A frozen plan reads back as written, lifted reasons included.
    let text = serde_json::to_string(&out.plan).unwrap();
    let back: FrozenPlan = serde_json::from_str(&text).unwrap();
    assert_eq!(back, out.plan);
    // An héritage mask lifted has no source requirement.
    let out = frozen_case_3().lift(&lift("REF-MS2-PDE-1-0001")).unwrap();
    let json = serde_json::to_value(&out.plan.entries[4].reason).unwrap();
    assert_eq!(json["rule"], "R3");
    assert!(json.get("source_requirement").is_none(), "{json}");
}

#[test]
fn the_r5_recomputation_keeps_lifted_masks_and_frozen_warnings() {
    // Filed with héritage only; the héritage masks are lifted; then a DPI NRU obtained since is
    // entered late.
    let mut c = candidature();
    c.optional_profiles = profiles(&["PDE"]);
    c.nrus = vec![nru("REF-MS2-PDE-1-0001")];
    c.commercial_names = vec!["A".into(), "A Santé".into()];
    let cat = catalogue();
    let reg = register();
    let frozen = FrozenPlan::freeze(&compute_plan(&cat, &reg, &c).unwrap());
    assert_eq!(frozen.warnings.len(), 1);
    let lifted = frozen.lift(&lift("REF-MS2-PDE-1-0001")).unwrap().plan;

    c.honour_statement = true;
    c.late = Some(LateEntry {
        complete_on: Some(date("2027-01-15")),
        submitted_on: None,
        nrus: vec![nru("REF-DPI-2-0001")],
    });
    let recomputed = compute_plan(&cat, &reg, &c).unwrap();
    assert!(recomputed.warnings.is_empty());
    let after = lifted.recompute(&recomputed);
    // The frozen warnings stay as they were.
    assert_eq!(after.warnings, frozen.warnings);
    assert_eq!(
        statuses(&after),
        vec![
            // INS/va1.01 was lifted (héritage): it stays to deposit, though DPI shares it.
            ("INS/va1.01".to_owned(), Status::ToDeposit, true),
            ("INS.01".to_owned(), Status::MaskedEquivalence, false),
            ("DMP.01".to_owned(), Status::MaskedEquivalence, false),
            ("SSI.01".to_owned(), Status::ToDeposit, false),
            ("USA/va1.01".to_owned(), Status::ToDeposit, true),
            ("USA.01".to_owned(), Status::ToDeposit, false),
            ("PDE/va1.01".to_owned(), Status::ToDeposit, true),
            ("PDE.01".to_owned(), Status::ToDeposit, false),
        ]
    );
}
