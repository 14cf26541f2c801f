//! Technical versions of a solution and their order (rule R4).
//!
//! A version is split into segments on `.`, `-` and `_`. Segments compare one by one: two numeric
//! segments as numbers (of any length, leading zeros ignored), two text segments as text without
//! regard to case, and a text segment is lower than a numeric one. When one version runs out of
//! segments first, the missing segment is lower: `3.2` < `3.2.1` < `3.10`.
//!
//! Consequence worth knowing, and documented for vendors: a pre-release suffix is *one more
//! segment*, so `4.0` < `4.0-rc1` < `4.0.1` (rule R4 has no notion of pre-release;
//! a vendor that names a release candidate `4.0-rc1` must not have `4.0` referenced yet). Two
//! versions that differ only by leading zeros or case (`4.02` and `4.2`) are equal.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::IdError;

/// A technical version, kept as written and compared segment by segment.
#[derive(Debug, Clone)]
pub struct Version(String);

impl Version {
    /// Parses a version: trimmed, non-empty, no whitespace, no empty segment (`4..2`).
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let what = "la version";
        let v = raw.trim();
        if v.is_empty() {
            return Err(IdError::Empty { what });
        }
        if v.chars().any(char::is_whitespace) {
            return Err(IdError::Invalid {
                what,
                value: v.to_owned(),
                why: "elle contient un espace",
            });
        }
        if segments(v).any(str::is_empty) {
            return Err(IdError::Invalid {
                what,
                value: v.to_owned(),
                why: "elle contient un segment vide (séparateurs « . », « - » et « _ »)",
            });
        }
        Ok(Self(v.to_owned()))
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn segments(v: &str) -> impl Iterator<Item = &str> {
    v.split(['.', '-', '_'])
}

fn is_numeric(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// Compares two digit strings as numbers, whatever their length.
fn cmp_numeric(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn cmp_segment(a: &str, b: &str) -> Ordering {
    match (is_numeric(a), is_numeric(b)) {
        (true, true) => cmp_numeric(a, b),
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a
            .bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase())),
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let mut a = segments(&self.0);
        let mut b = segments(&other.0);
        loop {
            match (a.next(), b.next()) {
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(x), Some(y)) => match cmp_segment(x, y) {
                    Ordering::Equal => {}
                    other => return other,
                },
            }
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Version {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::parse(s)
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn ordering_table() {
        // (lower, higher)
        let cases = [
            ("3.2", "3.2.1"),
            ("3.2.1", "3.10"),
            ("3.2", "3.10"),
            ("3.9", "3.10"),
            ("1.0", "2"),
            ("4.0", "4.0-rc1"),
            ("4.0-rc1", "4.0-rc2"),
            ("4.0-rc1", "4.0.1"),
            ("4.0-alpha", "4.0-beta"),
            ("4.0.a", "4.0.0"),
            ("2024_03", "2024_10"),
            ("9", "10"),
            ("99999999999999999999999", "100000000000000000000000"),
        ];
        for (lo, hi) in cases {
            assert!(v(lo) < v(hi), "{lo} < {hi}");
            assert!(v(hi) > v(lo), "{hi} > {lo}");
        }
    }

    #[test]
    fn equal_versions() {
        assert_eq!(v("4.2"), v("4.2"));
        assert_eq!(v("4.02"), v("4.2"));
        assert_eq!(v("4.2-RC1"), v("4.2-rc1"));
        assert_eq!(v("4.2-1"), v("4.2.1"));
        assert_ne!(v("4.2"), v("4.2.0"));
    }

    #[test]
    fn malformed_versions_are_rejected() {
        for bad in ["", "  ", "4..2", "4.2.", "-4", "4 2"] {
            assert!(Version::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(v(" 4.2 ").as_str(), "4.2");
    }

    fn version_strategy() -> impl Strategy<Value = Version> {
        proptest::collection::vec("[0-9]{1,3}|[a-z]{1,3}", 1..5)
            .prop_flat_map(|segs| {
                let n = segs.len();
                (
                    Just(segs),
                    proptest::collection::vec(prop_oneof![Just('.'), Just('-'), Just('_')], n),
                )
            })
            .prop_map(|(segs, seps)| {
                let mut s = String::new();
                for (i, seg) in segs.iter().enumerate() {
                    if i > 0 {
                        s.push(seps[i]);
                    }
                    s.push_str(seg);
                }
                Version::parse(&s).unwrap()
            })
    }

    proptest! {
        #[test]
        fn order_is_total_and_transitive(a in version_strategy(), b in version_strategy(), c in version_strategy()) {
            prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
            if a <= b && b <= c {
                prop_assert!(a <= c);
            }
        }

        #[test]
        fn appending_a_segment_makes_a_higher_version(a in version_strategy(), seg in "[0-9]{1,3}|[a-z]{1,3}") {
            let longer = Version::parse(&format!("{a}.{seg}")).unwrap();
            prop_assert!(longer > a);
        }
    }
}
