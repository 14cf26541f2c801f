//! Calendar dates (`YYYY-MM-DD`) for milestones such as a dispositif's date 2.
//!
//! The domain needs only to parse, print and compare whole days, so it keeps its own small type
//! instead of a date library.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::IdError;

/// A calendar day, ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoDate {
    year: u16,
    month: u8,
    day: u8,
}

impl IsoDate {
    /// Parses an ISO 8601 calendar date, `YYYY-MM-DD`, checking that the day exists.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let what = "la date";
        let s = raw.trim();
        let invalid = |why| IdError::Invalid {
            what,
            value: s.to_owned(),
            why,
        };
        let b = s.as_bytes();
        if b.len() != 10
            || b[4] != b'-'
            || b[7] != b'-'
            || !b
                .iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        {
            return Err(invalid("le format attendu est AAAA-MM-JJ"));
        }
        let num = |r: std::ops::Range<usize>| s[r].parse::<u16>().unwrap_or(0);
        let (year, month, day) = (num(0..4), num(5..7), num(8..10));
        if !(1..=12).contains(&month) {
            return Err(invalid("le mois doit être compris entre 01 et 12"));
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if day == 0 || day > days {
            return Err(invalid("ce jour n'existe pas dans ce mois"));
        }
        Ok(Self {
            year,
            month: month as u8,
            day: day as u8,
        })
    }

    /// Builds a date from its parts, if that day exists.
    pub fn from_ymd(year: u16, month: u8, day: u8) -> Option<Self> {
        Self::parse(&format!("{year:04}-{month:02}-{day:02}")).ok()
    }

    /// The date in French reading order, `15/12/2026`.
    pub fn to_french(&self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }
}

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl std::str::FromStr for IsoDate {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Self::parse(s)
    }
}

impl Serialize for IsoDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IsoDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders_dates() {
        let a = IsoDate::parse("2026-12-15").unwrap();
        let b = IsoDate::parse("2027-01-02").unwrap();
        assert!(a < b);
        assert_eq!(a.to_string(), "2026-12-15");
        assert_eq!(a.to_french(), "15/12/2026");
        assert_eq!(
            IsoDate::from_ymd(2024, 2, 29),
            IsoDate::parse("2024-02-29").ok()
        );
    }

    #[test]
    fn rejects_impossible_dates() {
        for bad in [
            "2026-13-01",
            "2026-02-29",
            "2026-04-31",
            "2026-00-10",
            "26-12-15",
            "2026/12/15",
            "",
        ] {
            assert!(IsoDate::parse(bad).is_err(), "{bad}");
        }
    }
}
