//! Calendar dates (`YYYY-MM-DD`) for milestones such as a dispositif's date 2.
//!
//! The domain needs only to parse, print and compare whole days, and to read an instant in Paris
//! time (the programme's deadlines are French days), so it keeps its own small type instead of a
//! date library; summer time follows the EU rule (last Sunday of March to last Sunday of October,
//! 01:00 UTC).

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

/// An instant read in Paris time: the day and the minutes since midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParisTime {
    /// The calendar day in Paris.
    pub date: IsoDate,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
}

impl ParisTime {
    /// Reads an instant given in milliseconds since the Unix epoch (years 1970–9999).
    pub fn from_unix_millis(ms: i64) -> Self {
        const HOUR: i64 = 3_600_000;
        const DAY: i64 = 24 * HOUR;
        let ms = ms.clamp(0, 253_402_300_799_000);
        let (year, _, _) = civil_from_days(ms.div_euclid(DAY));
        let summer_start = last_sunday(year, 3) * DAY + HOUR;
        let summer_end = last_sunday(year, 10) * DAY + HOUR;
        let offset = if (summer_start..summer_end).contains(&ms) {
            2 * HOUR
        } else {
            HOUR
        };
        let local = ms + offset;
        let (year, month, day) = civil_from_days(local.div_euclid(DAY));
        let minutes = local.rem_euclid(DAY) / 60_000;
        // Every value is in range by construction (the clamp keeps the year at four digits).
        let narrow = |v: i64| u8::try_from(v).unwrap_or(0);
        Self {
            date: IsoDate {
                year: u16::try_from(year).unwrap_or(9999),
                month: narrow(month),
                day: narrow(day),
            },
            hour: narrow(minutes / 60),
            minute: narrow(minutes % 60),
        }
    }

    /// `26/11/2026 à 14:03`.
    pub fn to_french(&self) -> String {
        format!(
            "{} à {:02}:{:02}",
            self.date.to_french(),
            self.hour,
            self.minute
        )
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian calendar).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a count of days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The last Sunday of a 31-day month, as days since the epoch (1970-01-01 was a Thursday).
fn last_sunday(year: i64, month: i64) -> i64 {
    let last = days_from_civil(year, month, 31);
    last - (last + 4).rem_euclid(7)
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
    fn instants_read_in_paris_time() {
        let read = |ms| ParisTime::from_unix_millis(ms).to_french();
        // 2026-11-26T13:03:00Z: winter time, UTC+1.
        assert_eq!(read(1_795_698_180_000), "26/11/2026 à 14:03");
        // 2026-07-14T08:00:00Z: summer time, UTC+2.
        assert_eq!(read(1_784_016_000_000), "14/07/2026 à 10:00");
        // 2026-03-29T00:59:59Z is still winter time; 01:00:00Z is summer time.
        assert_eq!(read(1_774_745_999_000), "29/03/2026 à 01:59");
        assert_eq!(read(1_774_746_000_000), "29/03/2026 à 03:00");
        assert_eq!(read(0), "01/01/1970 à 01:00");
        // 23:30 UTC on 31 December is already the next day (and year) in Paris.
        assert_eq!(read(1_798_759_800_000), "01/01/2027 à 00:30");
        assert_eq!(
            ParisTime::from_unix_millis(1_798_759_800_000).date,
            IsoDate::parse("2027-01-01").unwrap()
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
