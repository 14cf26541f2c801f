//! The data handed to the template: the attestation as JSON, plus the parsed date and the counts
//! of the manifest's summary line.

use serde::Serialize;

use crate::{Attestation, Origin, PdfError};

/// A calendar date parsed from `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct IsoDate {
    pub(crate) year: u16,
    pub(crate) month: u8,
    pub(crate) day: u8,
}

impl IsoDate {
    /// Parses a strict ISO date `YYYY-MM-DD` (four-digit year, real calendar day).
    pub(crate) fn parse(s: &str) -> Result<Self, PdfError> {
        let invalid = || PdfError::InvalidDate(s.to_owned());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(invalid());
        }
        let number = |r: std::ops::Range<usize>| -> Result<u16, PdfError> {
            let part = &s[r];
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().map_err(|_| invalid())
            } else {
                Err(invalid())
            }
        };
        let year = number(0..4)?;
        let month = u8::try_from(number(5..7)?).map_err(|_| invalid())?;
        let day = u8::try_from(number(8..10)?).map_err(|_| invalid())?;
        // Whether the day exists in that month (leap years included) is jiff's calendar.
        let exists = match (i16::try_from(year), i8::try_from(month), i8::try_from(day)) {
            (Ok(y), Ok(m), Ok(d)) => jiff::civil::Date::new(y, m, d).is_ok(),
            _ => false,
        };
        if year == 0 || !exists {
            return Err(invalid());
        }
        Ok(Self { year, month, day })
    }
}

/// How many manifest entries have each origin (for the summary line).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Counts {
    pub(crate) total: usize,
    /// Proven here, R7 entries included.
    pub(crate) proven: usize,
    /// Proven here because of an additional component (R7), a subset of `proven`.
    pub(crate) additional_component: usize,
    pub(crate) inherited: usize,
    pub(crate) equivalent: usize,
}

impl Counts {
    pub(crate) fn of(a: &Attestation) -> Self {
        let mut c = Self {
            total: a.manifest.len(),
            ..Self::default()
        };
        for entry in &a.manifest {
            match entry.origin {
                Origin::Proven => c.proven += 1,
                Origin::AdditionalComponent { .. } => {
                    c.proven += 1;
                    c.additional_component += 1;
                }
                Origin::Inherited { .. } => c.inherited += 1,
                Origin::Equivalent { .. } => c.equivalent += 1,
            }
        }
        c
    }
}

/// The JSON document the template reads.
#[derive(Serialize)]
struct View<'a> {
    attestation: &'a Attestation,
    date: IsoDate,
    counts: Counts,
}

/// Serialises the attestation for the template, control characters replaced by spaces.
pub(crate) fn to_json(a: &Attestation, date: IsoDate) -> Result<Vec<u8>, PdfError> {
    let counts = Counts::of(a);
    // A copy costs microseconds, typesetting tens of milliseconds.
    let mut attestation = a.clone();
    strings_mut(&mut attestation, &mut |s: &mut String| {
        if s.chars().any(char::is_control) {
            *s = s
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
        }
    });
    Ok(serde_json::to_vec(&View {
        attestation: &attestation,
        date,
        counts,
    })?)
}

/// Every string of the attestation, for a visit.
fn strings_mut(a: &mut Attestation, f: &mut impl FnMut(&mut String)) {
    for s in [
        &mut a.nru,
        &mut a.verification_code,
        &mut a.verification_url,
        &mut a.decided_on,
        &mut a.vendor_name,
        &mut a.vendor_siren,
        &mut a.solution,
        &mut a.main_component,
        &mut a.version,
        &mut a.dispositif_code,
        &mut a.dispositif_label,
        &mut a.rem_version,
    ] {
        f(s);
    }
    a.commercial_names.iter_mut().for_each(&mut *f);
    a.profiles.iter_mut().for_each(&mut *f);
    for entry in &mut a.manifest {
        f(&mut entry.requirement);
        f(&mut entry.chapter);
        match &mut entry.origin {
            Origin::Proven => {}
            Origin::AdditionalComponent { component } => f(component),
            Origin::Inherited { nru } => f(nru),
            Origin::Equivalent {
                nru,
                source_requirement,
                source_dispositif,
            } => {
                f(nru);
                f(source_requirement);
                f(source_dispositif);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManifestEntry;

    #[test]
    fn parses_iso_dates_strictly() {
        assert_eq!(
            IsoDate::parse("2026-11-26").unwrap(),
            IsoDate {
                year: 2026,
                month: 11,
                day: 26
            }
        );
        assert!(IsoDate::parse("2024-02-29").is_ok());
        for bad in [
            "",
            "2026-11-2",
            "2026/11/26",
            "2026-13-01",
            "2026-00-10",
            "2026-11-00",
            "2026-11-31",
            "2025-02-29",
            "1900-02-29",
            "+026-11-26",
            "2026-1a-26",
            "0000-01-01",
            "2026-11-26T00",
        ] {
            assert!(
                matches!(IsoDate::parse(bad), Err(PdfError::InvalidDate(_))),
                "{bad:?} accepted"
            );
        }
    }

    fn entry(origin: Origin) -> ManifestEntry {
        ManifestEntry {
            requirement: "INS.01".into(),
            chapter: "INS".into(),
            origin,
        }
    }

    fn attestation(manifest: Vec<ManifestEntry>) -> Attestation {
        Attestation {
            nru: "N".into(),
            verification_code: "C".into(),
            verification_url: "U".into(),
            decided_on: "2026-11-26".into(),
            vendor_name: "V".into(),
            vendor_siren: "123456789".into(),
            solution: "S".into(),
            main_component: "M".into(),
            version: "1".into(),
            commercial_names: vec!["A".into()],
            dispositif_code: "D".into(),
            dispositif_label: "L".into(),
            wave: 2,
            profiles: vec!["Général".into()],
            rem_version: "1.0".into(),
            manifest,
        }
    }

    #[test]
    fn counts_each_origin() {
        let a = attestation(vec![
            entry(Origin::Proven),
            entry(Origin::AdditionalComponent {
                component: "C".into(),
            }),
            entry(Origin::Inherited { nru: "H".into() }),
            entry(Origin::Inherited { nru: "H".into() }),
            entry(Origin::Equivalent {
                nru: "E".into(),
                source_requirement: "R".into(),
                source_dispositif: "D".into(),
            }),
        ]);
        assert_eq!(
            Counts::of(&a),
            Counts {
                total: 5,
                proven: 2,
                additional_component: 1,
                inherited: 2,
                equivalent: 1
            }
        );
    }

    #[test]
    fn control_characters_become_spaces() {
        let mut a = attestation(vec![entry(Origin::Inherited {
            nru: "H\u{0}1".into(),
        })]);
        a.vendor_name = "A\nB\tC".into();
        let json = to_json(&a, IsoDate::parse("2026-11-26").unwrap()).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["attestation"]["vendor_name"], "A B C");
        assert_eq!(value["attestation"]["manifest"][0]["origin"]["nru"], "H 1");
        assert_eq!(
            value["attestation"]["manifest"][0]["origin"]["kind"],
            "inherited"
        );
        assert_eq!(value["counts"]["inherited"], 1);
        assert_eq!(value["date"]["month"], 11);
    }
}
