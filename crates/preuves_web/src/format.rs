//! French formatting shared by the pages: numbers with narrow no-break spaces, plurals, text
//! excerpts, and instants in Paris time (the platform's users are in France; summer time is
//! computed from the EU rule, so no time-zone database is needed).

use preuves_db::Timestamp;

/// A count with French digit grouping (`1 660`, narrow no-break space).
pub(crate) fn fr_number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// `n exigence` / `n exigences`.
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{}\u{a0}{}", fr_number(n), if n > 1 { many } else { one })
}

/// The first characters of a text, on one line.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let cut = cut
        .rsplit_once(' ')
        .map_or(cut.as_str(), |(head, _)| head)
        .trim_end_matches([',', ';', ':', '.']);
    format!("{cut}\u{a0}…")
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

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

/// The last Sunday of a 31-day month, as days since the epoch.
fn last_sunday(year: i64, month: i64) -> i64 {
    let last = days_from_civil(year, month, 31);
    // 1970-01-01 was a Thursday: day 0 has weekday 4 (Sunday = 0).
    last - (last + 4).rem_euclid(7)
}

/// An instant as French users read it, in Paris time: `26/11/2026 à 14:03`.
pub(crate) fn french_datetime(at: Timestamp) -> String {
    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    let ms = at.as_millis();
    let (year, _, _) = civil_from_days(ms.div_euclid(DAY));
    // Summer time: from the last Sunday of March to the last Sunday of October, 01:00 UTC.
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
    format!(
        "{day:02}/{month:02}/{year:04} à {:02}:{:02}",
        minutes / 60,
        minutes % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_read_in_paris_time() {
        // 2026-11-26T13:03:00Z: winter time, UTC+1.
        assert_eq!(
            french_datetime(Timestamp::from_millis(1_795_698_180_000)),
            "26/11/2026 à 14:03"
        );
        // 2026-07-14T08:00:00Z: summer time, UTC+2.
        assert_eq!(
            french_datetime(Timestamp::from_millis(1_784_016_000_000)),
            "14/07/2026 à 10:00"
        );
        // 2026-03-29T00:59:59Z is still winter time; 01:00:00Z is summer time.
        assert_eq!(
            french_datetime(Timestamp::from_millis(1_774_745_999_000)),
            "29/03/2026 à 01:59"
        );
        assert_eq!(
            french_datetime(Timestamp::from_millis(1_774_746_000_000)),
            "29/03/2026 à 03:00"
        );
        assert_eq!(
            french_datetime(Timestamp::from_millis(0)),
            "01/01/1970 à 01:00"
        );
    }

    #[test]
    fn numbers_and_excerpts_read_in_french() {
        assert_eq!(fr_number(7), "7");
        assert_eq!(fr_number(1660), "1\u{202f}660");
        assert_eq!(fr_number(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(plural(1, "exigence", "exigences"), "1\u{a0}exigence");
        assert_eq!(plural(0, "exigence", "exigences"), "0\u{a0}exigence");
        assert_eq!(excerpt("Le  système\nDOIT", 50), "Le système DOIT");
        assert_eq!(
            excerpt("Le système DOIT permettre", 12),
            "Le système\u{a0}…"
        );
    }
}
