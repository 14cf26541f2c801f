//! The difference between two versions of a REM (rules.md, "REM versions"): the requirements
//! added, removed, and changed in what decides a plan or a reuse (text, profile, chapter, socle
//! id, expected proofs). The administrator's import page and `preuves rem diff` both show it
//! before a new version is put in force.
//!
//! Requirements are matched by id. A change of wording in the comment, the function or the
//! criticality is reported as `other` rather than ignored, so that the list of changed
//! requirements is exact; only the five fields above change plans.

use serde::Serialize;

use crate::catalogue::{Rem, Requirement};
use crate::ids::RequirementId;

/// What changed in one requirement kept by the new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangedField {
    /// The requirement's text (`Exigence`).
    Text,
    /// Its profile (`Profil`): who must meet it.
    Profile,
    /// Its chapter (`Chapitre`, or the chapter code derived from the id).
    Chapter,
    /// Its socle id (`Exigence socle`): what équivalence matches across dispositifs.
    Socle,
    /// Its scenarios or the proofs they expect.
    Proofs,
    /// Anything else (comment, function, criticality, perimeter, vague-1 id).
    Other,
}

impl ChangedField {
    /// Whether a change of this field can change a plan or a reuse (all but [`Self::Other`]).
    pub fn affects_plans(self) -> bool {
        !matches!(self, Self::Other)
    }

    /// The French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Text => "texte",
            Self::Profile => "profil",
            Self::Chapter => "chapitre",
            Self::Socle => "exigence socle",
            Self::Proofs => "scénarios ou preuves",
            Self::Other => "autre libellé",
        }
    }
}

/// One requirement present in both versions with different content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedRequirement {
    /// The requirement id.
    pub id: RequirementId,
    /// What changed, in the order of [`ChangedField`].
    pub fields: Vec<ChangedField>,
    /// The socle id before, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socle_before: Option<String>,
    /// The socle id after, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socle_after: Option<String>,
    /// The profile before, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_before: Option<String>,
    /// The profile after, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_after: Option<String>,
}

/// The difference between an old and a new REM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemDiff {
    /// How many requirements the old version has.
    pub old_count: usize,
    /// How many requirements the new version has.
    pub new_count: usize,
    /// Requirements only in the new version, in its order.
    pub added: Vec<RequirementId>,
    /// Requirements only in the old version, in its order.
    pub removed: Vec<RequirementId>,
    /// Requirements in both with a different content, in the new version's order.
    pub changed: Vec<ChangedRequirement>,
    /// How many requirements are the same in both.
    pub unchanged: usize,
}

impl RemDiff {
    /// Compares `old` with `new`, matching requirements by id.
    pub fn between(old: &Rem, new: &Rem) -> Self {
        let mut added = Vec::new();
        let mut changed = Vec::new();
        let mut unchanged = 0;
        for n in new.requirements() {
            match old.requirement(&n.id) {
                None => added.push(n.id.clone()),
                Some(o) => {
                    let fields = changed_fields(o, n);
                    if fields.is_empty() {
                        unchanged += 1;
                    } else {
                        let socle = fields.contains(&ChangedField::Socle);
                        let profile = fields.contains(&ChangedField::Profile);
                        changed.push(ChangedRequirement {
                            id: n.id.clone(),
                            socle_before: socle.then(|| socle_text(o)),
                            socle_after: socle.then(|| socle_text(n)),
                            profile_before: profile.then(|| o.profile.to_string()),
                            profile_after: profile.then(|| n.profile.to_string()),
                            fields,
                        });
                    }
                }
            }
        }
        let removed = old
            .requirements()
            .iter()
            .filter(|o| new.requirement(&o.id).is_none())
            .map(|o| o.id.clone())
            .collect();
        Self {
            old_count: old.requirements().len(),
            new_count: new.requirements().len(),
            added,
            removed,
            changed,
            unchanged,
        }
    }

    /// Whether the two versions have the same requirements with the same content.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// How many changed requirements have `field` changed.
    pub fn count_changed(&self, field: ChangedField) -> usize {
        self.changed
            .iter()
            .filter(|c| c.fields.contains(&field))
            .count()
    }
}

fn socle_text(r: &Requirement) -> String {
    r.socle_id
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// The fields that differ between two versions of one requirement.
fn changed_fields(o: &Requirement, n: &Requirement) -> Vec<ChangedField> {
    let mut out = Vec::new();
    if o.text != n.text {
        out.push(ChangedField::Text);
    }
    if o.profile != n.profile {
        out.push(ChangedField::Profile);
    }
    if o.chapter_code != n.chapter_code || o.chapter != n.chapter {
        out.push(ChangedField::Chapter);
    }
    if o.socle_id != n.socle_id {
        out.push(ChangedField::Socle);
    }
    if o.scenarios != n.scenarios {
        out.push(ChangedField::Proofs);
    }
    if o.comment != n.comment
        || o.function != n.function
        || o.criticality != n.criticality
        || o.perimeter != n.perimeter
        || o.historical_profile != n.historical_profile
        || o.wave1_id != n.wave1_id
    {
        out.push(ChangedField::Other);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Perimeter, ProofSpec, Scenario};
    use crate::ids::{Profile, SocleId};

    fn req(id: &str, text: &str, socle: Option<&str>) -> Requirement {
        let id = RequirementId::parse(id).unwrap();
        Requirement {
            chapter_code: id.chapter_code(),
            id,
            perimeter: Perimeter::Wave2,
            chapter: "Chapitre".to_owned(),
            function: "Fonction".to_owned(),
            text: text.to_owned(),
            comment: String::new(),
            profile: Profile::general(),
            historical_profile: String::new(),
            criticality: String::new(),
            socle_id: socle.map(|s| SocleId::parse(s).unwrap()),
            wave1_id: None,
            scenarios: vec![Scenario {
                id: None,
                text: "Scénario".to_owned(),
                proofs: vec![ProofSpec {
                    id: None,
                    text: "Preuve".to_owned(),
                }],
            }],
        }
    }

    fn rem(reqs: Vec<Requirement>) -> Rem {
        Rem::new(reqs).unwrap()
    }

    #[test]
    fn identical_versions_have_no_difference() {
        let a = rem(vec![req("INS/va2.01", "Texte", Some("SC.INS/va2.01"))]);
        let d = RemDiff::between(&a, &a);
        assert!(d.is_empty());
        assert_eq!(d.unchanged, 1);
    }

    #[test]
    fn added_removed_and_changed_are_told_apart() {
        let old = rem(vec![
            req("INS/va2.01", "Texte", Some("SC.INS/va2.01")),
            req("INS/va2.02", "Texte", None),
            req("INS/va2.03", "Texte", None),
        ]);
        let mut socle = req("INS/va2.01", "Texte", Some("SC.INS/va2.09"));
        socle.comment = "nouveau commentaire".to_owned();
        let new = rem(vec![
            socle,
            req("INS/va2.03", "Texte modifié", None),
            req("INS/va2.04", "Texte", None),
        ]);
        let d = RemDiff::between(&old, &new);
        assert_eq!(d.added, [RequirementId::parse("INS/va2.04").unwrap()]);
        assert_eq!(d.removed, [RequirementId::parse("INS/va2.02").unwrap()]);
        assert_eq!(d.changed.len(), 2);
        assert_eq!(
            d.changed[0].fields,
            [ChangedField::Socle, ChangedField::Other]
        );
        assert_eq!(d.changed[0].socle_before.as_deref(), Some("SC.INS/va2.01"));
        assert_eq!(d.changed[0].socle_after.as_deref(), Some("SC.INS/va2.09"));
        assert_eq!(d.changed[1].fields, [ChangedField::Text]);
        assert_eq!(d.unchanged, 0);
        assert_eq!((d.old_count, d.new_count), (3, 3));
        assert_eq!(d.count_changed(ChangedField::Socle), 1);
        assert!(ChangedField::Socle.affects_plans());
        assert!(!ChangedField::Other.affects_plans());
    }

    fn dispositif(code: &str, rem: Rem) -> crate::catalogue::Dispositif {
        crate::catalogue::Dispositif {
            key: key(code),
            name: code.to_owned(),
            corridor: "MS".to_owned(),
            predecessors: Vec::new(),
            date2: None,
            wave1_profiles: Vec::new(),
            rem: Some(rem),
            rem_version: crate::ids::RemVersionLabel::initial(),
            older_rems: Vec::new(),
            opens_on: None,
        }
    }

    fn key(code: &str) -> crate::catalogue::DispositifKey {
        crate::catalogue::DispositifKey {
            code: crate::ids::DispositifCode::parse(code).unwrap(),
            wave: crate::catalogue::Wave::Two,
        }
    }

    #[test]
    fn a_new_version_in_force_changes_the_equivalence_reach_of_other_referencings() {
        use crate::candidature::{Referencing, ReferencingStatus};
        use crate::catalogue::Catalogue;
        use crate::ids::{Nru, RemVersionLabel, Siren};

        let source = rem(vec![
            req("INS/va2.01", "Texte", Some("SC.INS/va2.01")),
            req("INS/va2.02", "Texte", Some("SC.INS/va2.02")),
        ]);
        let target = rem(vec![
            req("INS/va2.01", "Texte", Some("SC.INS/va2.01")),
            req("INS/va2.02", "Texte", Some("SC.INS/va2.02")),
        ]);
        let catalogue = Catalogue::new(
            vec![dispositif("DPI", source), dispositif("DUI-MS", target)],
            &[],
        )
        .unwrap();
        let referencing = Referencing {
            nru: Nru::parse("REF-DPI-2-0001").unwrap(),
            vendor: Siren::parse("732829320").unwrap(),
            dispositif: key("DPI"),
            profiles: Vec::new(),
            solution: "S".to_owned(),
            main_component: "c".to_owned(),
            version: crate::Version::parse("1.0").unwrap(),
            status: ReferencingStatus::Valid,
            rem_version: None,
            granted_on: None,
        };
        let dui = key("DUI-MS");
        assert_eq!(
            crate::plan::equivalence_reach(&catalogue, &dui, &referencing),
            Some(2)
        );
        // The new version drops one socle id and adds a requirement sharing none.
        let new = rem(vec![
            req("INS/va2.01", "Texte", Some("SC.INS/va2.09")),
            req("INS/va2.02", "Texte", Some("SC.INS/va2.02")),
            req("INS/va2.03", "Texte", None),
        ]);
        let next = catalogue
            .with_rem_in_force(&dui, RemVersionLabel::parse("2").unwrap(), new)
            .unwrap();
        assert_eq!(
            crate::plan::equivalence_reach(&next, &dui, &referencing),
            Some(1)
        );
        let d = next.dispositif(&dui).unwrap();
        assert_eq!(d.rem_version.as_str(), "2");
        assert_eq!(d.older_rems.len(), 1);
        assert_eq!(d.older_rems[0].version, RemVersionLabel::initial());
        // Its own referencings do not reach into it; the label in force cannot be reused.
        let mut own = referencing.clone();
        own.dispositif = dui.clone();
        assert_eq!(crate::plan::equivalence_reach(&next, &dui, &own), None);
        assert!(
            next.with_rem_in_force(
                &dui,
                RemVersionLabel::initial(),
                rem(vec![req("INS/va2.01", "Texte", None)])
            )
            .is_err()
        );
    }
}
