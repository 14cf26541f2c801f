//! Calendar dates (`YYYY-MM-DD`) for milestones such as a dispositif's date 2, and instants read
//! in Paris time (the programme's deadlines are French days).
//!
//! The calendar and the time zone come from `jiff`: [`IsoDate`] wraps a `jiff::civil::Date`, and
//! Paris time follows the `Europe/Paris` rules of the time-zone database bundled into the binary,
//! so the same instant reads the same on every machine, whatever its own time-zone files.

use std::fmt;
use std::sync::LazyLock;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::IdError;

/// `Europe/Paris`, read once from the bundled database.
static PARIS: LazyLock<TimeZone> = LazyLock::new(|| {
    // The database is compiled into the binary (`tzdb-bundle-always`), so the zone is always
    // there; `paris_is_bundled` below checks it.
    TimeZone::get("Europe/Paris").expect("the bundled time-zone database has Europe/Paris")
});

/// A calendar day, ordered chronologically (years 0000 to 9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoDate(Date);

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
        // Only the strict extended form: jiff's own parser also takes other ISO 8601 shapes
        // (basic form, a time after the day), which a form field must not silently accept.
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
        // Four and two ASCII digits always fit.
        let num = |r: std::ops::Range<usize>| s[r].parse::<i16>().unwrap_or(0);
        let (year, month, day) = (num(0..4), num(5..7), num(8..10));
        if !(1..=12).contains(&month) {
            return Err(invalid("le mois doit être compris entre 01 et 12"));
        }
        let narrow = |v: i16| i8::try_from(v).unwrap_or(0);
        Date::new(year, narrow(month), narrow(day))
            .map(Self)
            .map_err(|_| invalid("ce jour n'existe pas dans ce mois"))
    }

    /// Builds a date from its parts, if that day exists.
    pub fn from_ymd(year: u16, month: u8, day: u8) -> Option<Self> {
        let date = Date::new(
            i16::try_from(year).ok()?,
            i8::try_from(month).ok()?,
            i8::try_from(day).ok()?,
        )
        .ok()?;
        Some(Self(date))
    }

    /// The date in French reading order, `15/12/2026`.
    pub fn to_french(&self) -> String {
        self.0.strftime("%d/%m/%Y").to_string()
    }

    /// The day `days` later (earlier if negative), kept within years 0000 to 9999.
    pub fn plus_days(self, days: i32) -> Self {
        let moved = Span::new()
            .try_days(days)
            .and_then(|span| self.0.checked_add(span));
        let date = moved.unwrap_or(if days < 0 { MIN_DATE } else { Date::MAX });
        Self(date.max(MIN_DATE))
    }

    /// The instant this day begins in Paris (its midnight, CET or CEST), in milliseconds since
    /// the Unix epoch; the last instant jiff can represent for 9999-12-31.
    pub fn paris_start_millis(self) -> i64 {
        // Midnight always exists in Paris (the clocks change at 02:00 and 03:00).
        PARIS
            .to_timestamp(self.0.to_datetime(Time::midnight()))
            .unwrap_or(Timestamp::MAX)
            .as_millisecond()
    }
}

/// The first day an [`IsoDate`] can hold (its text has four digits of year).
const MIN_DATE: Date = jiff::civil::date(0, 1, 1);

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
    /// Reads an instant given in milliseconds since the Unix epoch (from 1970 to the end of
    /// year 9999: earlier instants read as the epoch, later ones as the last instant jiff holds).
    pub fn from_unix_millis(ms: i64) -> Self {
        let at = Timestamp::from_millisecond(ms.max(0)).unwrap_or(Timestamp::MAX);
        let local = PARIS.to_datetime(at);
        // An hour and a minute are never negative.
        let narrow = |v: i8| u8::try_from(v).unwrap_or(0);
        Self {
            date: IsoDate(local.date()),
            hour: narrow(local.hour()),
            minute: narrow(local.minute()),
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

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // jiff prints `YYYY-MM-DD` for years 0000 to 9999, the only ones an `IsoDate` holds.
        fmt::Display::fmt(&self.0, f)
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
    fn summer_time_ends_on_the_last_sunday_of_october() {
        let read = |ms| ParisTime::from_unix_millis(ms).to_french();
        // 2026-10-25T00:59:59Z is still summer time (UTC+2); 01:00:00Z is winter time (UTC+1),
        // so 02:00 to 02:59 is read twice that night.
        assert_eq!(read(1_792_889_999_000), "25/10/2026 à 02:59");
        assert_eq!(read(1_792_890_000_000), "25/10/2026 à 02:00");
    }

    #[test]
    fn paris_is_bundled() {
        // Not the machine's time zone: the database compiled into the binary.
        assert!(TimeZone::get("Europe/Paris").is_ok());
        assert_eq!(PARIS.iana_name(), Some("Europe/Paris"));
    }

    #[test]
    fn days_add_across_months_and_years() {
        let d = IsoDate::parse("2026-12-31").unwrap();
        assert_eq!(d.plus_days(1).to_string(), "2027-01-01");
        assert_eq!(d.plus_days(90).to_string(), "2027-03-31");
        assert_eq!(
            IsoDate::parse("2028-02-28")
                .unwrap()
                .plus_days(1)
                .to_string(),
            "2028-02-29"
        );
        assert_eq!(d.plus_days(-365).to_string(), "2025-12-31");
        // Kept within the four-digit years.
        assert_eq!(d.plus_days(i32::MAX).to_string(), "9999-12-31");
        assert_eq!(d.plus_days(i32::MIN).to_string(), "0000-01-01");
    }

    #[test]
    fn a_day_starts_at_midnight_in_paris() {
        // 2027-01-15T00:00 in Paris (CET) is 2027-01-14T23:00Z.
        let winter = IsoDate::parse("2027-01-15").unwrap();
        assert_eq!(winter.paris_start_millis(), 1_799_967_600_000);
        // 2027-07-15T00:00 in Paris (CEST) is 2027-07-14T22:00Z.
        let summer = IsoDate::parse("2027-07-15").unwrap();
        assert_eq!(summer.paris_start_millis(), 1_815_602_400_000);
        let start = ParisTime::from_unix_millis(summer.paris_start_millis());
        assert_eq!((start.date, start.hour, start.minute), (summer, 0, 0));
        let before = ParisTime::from_unix_millis(summer.paris_start_millis() - 1);
        assert_eq!(before.date, summer.plus_days(-1));
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
            "20261215",
            "2026-12-15T10:00",
            "",
        ] {
            assert!(IsoDate::parse(bad).is_err(), "{bad}");
        }
    }
}
