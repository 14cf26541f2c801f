//! A small hand-built catalogue shaped like the webinar's (DPI and DUI-MS in vague 2, the
//! medico-social dispositifs in vague 1), and builders for referencings and candidatures.

use preuves_domain::{
    AdditionalComponent, Candidature, Catalogue, ChapterCode, Dispositif, DispositifCode,
    DispositifKey, EquivalencePair, IsoDate, Nru, OlderRem, Perimeter, Profile, ProofSpec,
    Referencing, ReferencingStatus, Rem, RemVersionLabel, Requirement, RequirementId, Scenario,
    Siren, SocleId, Version, Wave,
};

pub(crate) const VENDOR: &str = "732829320";
pub(crate) const OTHER_VENDOR: &str = "552100554";

pub(crate) fn key(code: &str, wave: u8) -> DispositifKey {
    DispositifKey {
        code: DispositifCode::parse(code).unwrap(),
        wave: Wave::from_number(wave.into()).unwrap(),
    }
}

/// A requirement with one scenario of `proofs` proofs.
pub(crate) fn req(
    id: &str,
    perimeter: Perimeter,
    profile: &str,
    socle: Option<&str>,
    proofs: usize,
) -> Requirement {
    let id = RequirementId::parse(id).unwrap();
    Requirement {
        chapter_code: id.chapter_code(),
        chapter: format!("Chapitre {}", id.chapter_code()),
        function: String::new(),
        text: format!("Le système DOIT satisfaire {id}."),
        comment: String::new(),
        profile: Profile::parse(profile).unwrap(),
        historical_profile: String::new(),
        criticality: String::new(),
        socle_id: socle.map(|s| SocleId::parse(s).unwrap()),
        wave1_id: None,
        scenarios: vec![Scenario {
            id: Some(format!("{id}.01")),
            text: "Scénario".to_owned(),
            proofs: (1..=proofs)
                .map(|i| ProofSpec {
                    id: Some(format!("{id}.01.{i:02}")),
                    text: "Vidéo".to_owned(),
                })
                .collect(),
        }],
        id,
        perimeter,
    }
}

fn wave1(code: &str, profiles: &[&str]) -> Dispositif {
    Dispositif {
        key: key(code, 1),
        name: format!("{code} vague 1"),
        corridor: "MS".to_owned(),
        predecessors: vec![],
        date2: None,
        wave1_profiles: profiles
            .iter()
            .map(|p| Profile::parse(p).unwrap())
            .collect(),
        rem: None,
        rem_version: RemVersionLabel::initial(),
        older_rems: vec![],
        opens_on: None,
    }
}

fn wave2(code: &str, predecessors: &[&str], requirements: Vec<Requirement>) -> Dispositif {
    Dispositif {
        key: key(code, 2),
        name: format!("{code} vague 2"),
        corridor: "MS".to_owned(),
        predecessors: predecessors
            .iter()
            .map(|p| DispositifCode::parse(p).unwrap())
            .collect(),
        date2: Some(IsoDate::parse("2027-03-31").unwrap()),
        wave1_profiles: vec![],
        rem: Some(Rem::new(requirements).unwrap()),
        rem_version: RemVersionLabel::initial(),
        older_rems: vec![],
        opens_on: None,
    }
}

/// The mini catalogue. DUI-MS requirements and what they share with DPI:
/// INS/va1.01 (SC.INS1, common), INS.01 (SC.INS2, common), DMP.01 (SC.DMP1, common),
/// SSI.01 (SC.IAM1, common with DPI's IAM profile only), USA/va1.01 (none), USA.01 (own socle),
/// PA/va1.01, PA.01, PDE/va1.01, PDE.01, PDS/va1.01.
///
/// REM versions: DPI's in force is `2`, and it keeps `1` (INS/va1.01, INS.01, SSI/IAM.01: no
/// DMP.01, no HOP.01); DUI-MS's in force is `2026` (the list above), and it keeps `2025`
/// (INS/va1.01, INS.01, DMP.01, USA/va1.01, PA/va1.01, PDE/va1.01: no PDS profile). The DUI-MS
/// guichet opens on 2026-06-03.
pub(crate) fn catalogue() -> Catalogue {
    catalogue_with(&[])
}

/// The mini catalogue with an equivalence table.
pub(crate) fn catalogue_with(pairs: &[EquivalencePair]) -> Catalogue {
    use Perimeter::{Wave1 as V1, Wave2 as V2};
    let dpi = vec![
        req("INS/va1.01", V1, "Général", Some("SC.INS1"), 2),
        req("INS.01", V2, "Général", Some("SC.INS2"), 1),
        req("DMP.01", V2, "Général", Some("SC.DMP1"), 1),
        req("SSI/IAM.01", V2, "IAM", Some("SC.IAM1"), 1),
        req("HOP.01", V2, "Général", None, 1),
    ];
    let dpi_v1 = vec![
        req("INS/va1.01", V1, "Général", Some("SC.INS1"), 2),
        req("INS.01", V2, "Général", Some("SC.INS2"), 1),
        req("SSI/IAM.01", V2, "IAM", Some("SC.IAM1"), 1),
    ];
    let dui_2025 = vec![
        req("INS/va1.01", V1, "Général", Some("SC.INS1"), 2),
        req("INS.01", V2, "Général", Some("SC.INS2"), 1),
        req("DMP.01", V2, "Général", Some("SC.DMP1"), 3),
        req("USA/va1.01", V1, "Général", None, 1),
        req("PA/va1.01", V1, "PA", Some("SC.PA1"), 1),
        req("PDE/va1.01", V1, "PDE", Some("SC.PDE1"), 2),
    ];
    let dui = vec![
        req("INS/va1.01", V1, "Général", Some("SC.INS1"), 2),
        req("INS.01", V2, "Général", Some("SC.INS2"), 1),
        req("DMP.01", V2, "Général", Some("SC.DMP1"), 3),
        req("SSI.01", V2, "Général", Some("SC.IAM1"), 1),
        req("USA/va1.01", V1, "Général", None, 1),
        req("USA.01", V2, "Général", Some("SC.USA1"), 1),
        req("PA/va1.01", V1, "PA", Some("SC.PA1"), 1),
        req("PA.01", V2, "PA", Some("SC.PA2"), 1),
        req("PDE/va1.01", V1, "PDE", Some("SC.PDE1"), 2),
        req("PDE.01", V2, "PDE", Some("SC.PDE2"), 1),
        req("PDS/va1.01", V1, "PDS", None, 1),
    ];
    Catalogue::new(
        vec![
            wave1("DPI", &[]),
            wave1("MS1", &["PA", "PH", "DOM"]),
            wave1("MS2-PDE", &["PDE"]),
            wave1("MS2-PDS", &["PDS"]),
            versioned(wave2("DPI", &["DPI"], dpi), "2", vec![("1", dpi_v1)]),
            Dispositif {
                opens_on: Some(IsoDate::parse("2026-06-03").unwrap()),
                ..versioned(
                    wave2("DUI-MS", &["MS1", "MS2-PDE", "MS2-PDS"], dui),
                    "2026",
                    vec![("2025", dui_2025)],
                )
            },
        ],
        pairs,
    )
    .unwrap()
}

/// `d` with its version in force labelled `label` and older versions (oldest first).
fn versioned(d: Dispositif, label: &str, older: Vec<(&str, Vec<Requirement>)>) -> Dispositif {
    Dispositif {
        rem_version: RemVersionLabel::parse(label).unwrap(),
        older_rems: older
            .into_iter()
            .map(|(l, reqs)| OlderRem {
                version: RemVersionLabel::parse(l).unwrap(),
                rem: Rem::new(reqs).unwrap(),
            })
            .collect(),
        ..d
    }
}

pub(crate) fn label(s: &str) -> RemVersionLabel {
    RemVersionLabel::parse(s).unwrap()
}

pub(crate) fn date(s: &str) -> IsoDate {
    IsoDate::parse(s).unwrap()
}

pub(crate) fn nru(s: &str) -> Nru {
    Nru::parse(s).unwrap()
}

/// A valid referencing of solution A (main component `A-core`) held by [`VENDOR`].
pub(crate) fn referencing(
    n: &str,
    code: &str,
    wave: u8,
    profiles: &[&str],
    version: &str,
) -> Referencing {
    Referencing {
        nru: nru(n),
        vendor: Siren::parse(VENDOR).unwrap(),
        dispositif: key(code, wave),
        profiles: profiles
            .iter()
            .map(|p| Profile::parse(p).unwrap())
            .collect(),
        solution: "A".to_owned(),
        main_component: "A-core".to_owned(),
        version: Version::parse(version).unwrap(),
        status: ReferencingStatus::Valid,
        rem_version: None,
        granted_on: None,
    }
}

/// The register of the webinar's case 3, plus a few more to exercise the refusals.
pub(crate) fn register() -> Vec<Referencing> {
    let mut other = referencing("REF-DPI-2-0099", "DPI", 2, &["Général"], "1.0");
    other.vendor = Siren::parse(OTHER_VENDOR).unwrap();
    let mut suspended = referencing("REF-DPI-2-0002", "DPI", 2, &["Général"], "1.0");
    suspended.status = ReferencingStatus::Suspended;
    let mut other_component = referencing("REF-DPI-2-0003", "DPI", 2, &["Général"], "1.0");
    other_component.main_component = "B-core".to_owned();
    let mut other_heritage = referencing("REF-MS1-1-0002", "MS1", 1, &["PA"], "3.0");
    other_heritage.main_component = "B-core".to_owned();
    let mut older = referencing("REF-DPI-2-0010", "DPI", 2, &["Général", "IAM"], "4.0");
    older.rem_version = Some(label("1"));
    let mut in_force = referencing("REF-DPI-2-0011", "DPI", 2, &["Général", "IAM"], "4.0");
    in_force.rem_version = Some(label("2"));
    let mut unknown_version = referencing("REF-DPI-2-0012", "DPI", 2, &["Général"], "4.0");
    unknown_version.rem_version = Some(label("0.9"));
    vec![
        referencing("REF-DPI-2-0001", "DPI", 2, &["Général"], "4.2"),
        referencing("REF-DPI-2-0004", "DPI", 2, &["Général", "IAM"], "4.0"),
        referencing("REF-DUI-MS-2-0001", "DUI-MS", 2, &["Général"], "4.0"),
        referencing("REF-MS2-PDE-1-0001", "MS2-PDE", 1, &["PDE"], "3.8"),
        referencing("REF-MS2-PDE-1-0002", "MS2-PDE", 1, &["PDE"], "3.9"),
        referencing("REF-MS1-1-0001", "MS1", 1, &["PA"], "3.0"),
        referencing("REF-MS2-PDS-1-0001", "MS2-PDS", 1, &["PDS"], "3.0"),
        referencing("REF-DPI-1-0001", "DPI", 1, &[], "2.0"),
        referencing("REF-XYZ-2-0001", "XYZ", 2, &[], "1.0"),
        other,
        suspended,
        other_component,
        other_heritage,
        older,
        in_force,
        unknown_version,
    ]
}

/// A DUI-MS candidature of solution A version 4.3 with no NRU and no profile.
pub(crate) fn candidature() -> Candidature {
    Candidature {
        vendor: Siren::parse(VENDOR).unwrap(),
        target: key("DUI-MS", 2),
        optional_profiles: vec![],
        solution: "A".to_owned(),
        main_component: "A-core".to_owned(),
        version: Version::parse("4.3").unwrap(),
        nrus: vec![],
        additional_components: vec![],
        commercial_names: vec!["A".to_owned()],
        honour_statement: false,
        late: None,
        rem_version: None,
        opened_on: None,
    }
}

pub(crate) fn profiles(list: &[&str]) -> Vec<Profile> {
    list.iter().map(|p| Profile::parse(p).unwrap()).collect()
}

pub(crate) fn component(name: &str, chapters: &[&str]) -> AdditionalComponent {
    AdditionalComponent {
        name: name.to_owned(),
        chapters: chapters
            .iter()
            .map(|c| ChapterCode::parse(c).unwrap())
            .collect(),
    }
}
