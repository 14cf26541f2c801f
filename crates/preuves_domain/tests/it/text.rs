//! Snapshots of the plain-text rendering of answers.

use preuves_domain::compute_plan;
use preuves_domain::scenario::Answer;

use crate::fixtures::{candidature, catalogue, component, nru, profiles, register};

#[test]
fn text_rendering_of_a_plan() {
    let mut c = candidature();
    c.optional_profiles = profiles(&["PDE"]);
    c.nrus = vec![nru("REF-DPI-2-0001"), nru("REF-MS2-PDE-1-0001")];
    c.additional_components = vec![component("Module INS", &["INS"])];
    c.commercial_names = vec!["A".into(), "A Santé".into()];
    let cat = catalogue();
    let reg = register();
    let answer = Answer::new(&compute_plan(&cat, &reg, &c));
    insta::assert_snapshot!(preuves_domain::text::render(&answer));
}

#[test]
fn text_rendering_of_refusals() {
    let mut c = candidature();
    c.nrus = vec![nru("REF-DPI-2-0002"), nru("REF-NOPE-2-0001")];
    let cat = catalogue();
    let reg = register();
    let answer = Answer::new(&compute_plan(&cat, &reg, &c));
    insta::assert_snapshot!(preuves_domain::text::render(&answer));
}
