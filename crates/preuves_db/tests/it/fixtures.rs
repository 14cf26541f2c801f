//! A small catalogue shaped like the webinar's, and helpers to build domain values.

use preuves_db::{Actor, Db, NewReferencing, Organisation, OrganisationId};
use preuves_domain::{
    Catalogue, Dispositif, DispositifCode, DispositifKey, EquivalencePair, IsoDate, Nru, Perimeter,
    Profile, ProofSpec, ReferencingStatus, Rem, Requirement, RequirementId, Scenario, Siren,
    SocleId, Version, Wave,
};

pub(crate) const VENDOR: &str = "732829320";

pub(crate) fn key(code: &str, wave: u8) -> DispositifKey {
    DispositifKey {
        code: DispositifCode::parse(code).unwrap(),
        wave: Wave::from_number(wave.into()).unwrap(),
    }
}

pub(crate) fn rid(id: &str) -> RequirementId {
    RequirementId::parse(id).unwrap()
}

/// A requirement with one scenario of `proofs` proofs.
pub(crate) fn req(
    id: &str,
    perimeter: Perimeter,
    profile: &str,
    socle: Option<&str>,
    proofs: usize,
) -> Requirement {
    let id = rid(id);
    Requirement {
        chapter_code: id.chapter_code(),
        chapter: format!("Chapitre {} (identité)", id.chapter_code()),
        function: "Fonction".to_owned(),
        text: format!("Le système DOIT satisfaire l'exigence {id} « Élève »."),
        comment: "Commentaire".to_owned(),
        profile: Profile::parse(profile).unwrap(),
        historical_profile: String::new(),
        criticality: "Haute".to_owned(),
        socle_id: socle.map(|s| SocleId::parse(s).unwrap()),
        wave1_id: (perimeter == Perimeter::Wave1).then(|| format!("V1-{id}")),
        scenarios: vec![Scenario {
            id: Some(format!("{id}.01")),
            text: "Scénario de conformité".to_owned(),
            proofs: (1..=proofs)
                .map(|i| ProofSpec {
                    id: (i % 2 == 1).then(|| format!("{id}.01.{i:02}")),
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
        rem_version: preuves_domain::RemVersionLabel::initial(),
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
        rem_version: preuves_domain::RemVersionLabel::initial(),
        older_rems: vec![],
        opens_on: None,
    }
}

pub(crate) fn dpi_requirements() -> Vec<Requirement> {
    use Perimeter::{Wave1 as V1, Wave2 as V2};
    vec![
        req("INS/va1.01", V1, "Général", Some("SC.INS1"), 2),
        req("INS.01", V2, "Général", Some("SC.INS2"), 1),
        req("DMP.01", V2, "Général", Some("SC.DMP1"), 1),
        req("HOP.01", V2, "Général", None, 1),
    ]
}

pub(crate) fn dui_requirements() -> Vec<Requirement> {
    use Perimeter::{Wave1 as V1, Wave2 as V2};
    vec![
        req("INS/va1.01", V1, "Général", Some("SC.INS1"), 2),
        req("INS.01", V2, "Général", Some("SC.INS2"), 1),
        req("DMP.01", V2, "Général", Some("SC.DMP1"), 3),
        req("USA.01", V2, "Général", None, 1),
        req("PA/va1.01", V1, "PA", Some("SC.PA1"), 1),
        req("PA.01", V2, "PA", None, 1),
    ]
}

/// The equivalence table: DUI-MS USA.01 is common with DPI HOP.01.
pub(crate) fn equivalences() -> Vec<EquivalencePair> {
    vec![EquivalencePair {
        a: (DispositifCode::parse("DUI-MS").unwrap(), rid("USA.01")),
        b: (DispositifCode::parse("DPI").unwrap(), rid("HOP.01")),
    }]
}

pub(crate) fn dispositifs() -> Vec<Dispositif> {
    vec![
        wave1("DPI", &[]),
        wave1("MS1", &["PA", "PH", "DOM"]),
        wave2("DPI", &["DPI"], dpi_requirements()),
        wave2("DUI-MS", &["MS1"], dui_requirements()),
    ]
}

pub(crate) fn catalogue() -> Catalogue {
    Catalogue::new(dispositifs(), &equivalences()).unwrap()
}

/// Stores the catalogue and its equivalence table.
pub(crate) async fn seed_catalogue(db: &Db) {
    db.import_catalogue(&catalogue(), &equivalences(), "fixtures", &Actor::System)
        .await
        .unwrap();
}

pub(crate) async fn vendor(db: &Db) -> Organisation {
    db.create_organisation("Éditeur A", &Siren::parse(VENDOR).unwrap(), &Actor::System)
        .await
        .unwrap()
}

pub(crate) fn new_referencing(
    nru: &str,
    org: OrganisationId,
    code: &str,
    wave: u8,
) -> NewReferencing {
    NewReferencing {
        nru: Nru::parse(nru).unwrap(),
        organisation: org,
        dispositif: key(code, wave),
        profiles: vec![],
        solution: "A".to_owned(),
        main_component: "A-core".to_owned(),
        version: Version::parse("4.2").unwrap(),
        commercial_names: vec!["A".to_owned(), "A Santé".to_owned()],
        granted_on: IsoDate::parse("2025-06-30").unwrap(),
        status: ReferencingStatus::Valid,
        status_reason: None,
    }
}

/// The Paris calendar day `days` days from now.
pub(crate) fn paris_day_after(days: i64) -> IsoDate {
    let now = preuves_db::Timestamp::now().as_millis();
    preuves_domain::ParisTime::from_unix_millis(now + days * 86_400_000).date
}
