//! French formatting shared by the pages: numbers with narrow no-break spaces, plurals, text
//! excerpts, and instants in Paris time (the platform's users are in France; see
//! `preuves_domain::ParisTime`).

use preuves_db::Timestamp;
use preuves_domain::{DispositifKey, Siren};

/// `DUI-MS vague 2`, with a no-break space before the number.
pub(crate) fn key_label(key: &DispositifKey) -> String {
    format!("{} vague\u{a0}{}", key.code, key.wave.number())
}

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

/// A size as French users read it: `512 octets`, `12 Ko`, `3,5 Mo`, `1,2 Go`.
pub(crate) fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    const GIB: u64 = 1024 * MIB;
    let tenths = |unit: u64, name: &str| {
        let t = bytes.saturating_mul(10) / unit;
        if t.is_multiple_of(10) {
            format!("{}\u{a0}{name}", fr_number(t / 10))
        } else {
            format!("{},{}\u{a0}{name}", fr_number(t / 10), t % 10)
        }
    };
    if bytes >= GIB {
        tenths(GIB, "Go")
    } else if bytes >= MIB {
        tenths(MIB, "Mo")
    } else if bytes >= KIB {
        format!("{}\u{a0}Ko", bytes / KIB)
    } else {
        plural(bytes, "octet", "octets")
    }
}

/// An instant as French users read it, in Paris time: `26/11/2026 à 14:03`.
pub(crate) fn french_datetime(at: Timestamp) -> String {
    preuves_domain::ParisTime::from_unix_millis(at.as_millis()).to_french()
}

/// A SIREN in French reading form: `732 829 320`.
pub(crate) fn siren_display(siren: &Siren) -> String {
    let s = siren.as_str();
    format!("{}\u{a0}{}\u{a0}{}", &s[..3], &s[3..6], &s[6..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_shown_in_paris_time() {
        // The conversion itself is tested in `preuves_domain::date`.
        assert_eq!(
            french_datetime(Timestamp::from_millis(1_795_698_180_000)),
            "26/11/2026 à 14:03"
        );
    }

    #[test]
    fn numbers_and_excerpts_read_in_french() {
        assert_eq!(fr_number(7), "7");
        assert_eq!(fr_number(1660), "1\u{202f}660");
        assert_eq!(fr_number(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(human_size(512), "512\u{a0}octets");
        assert_eq!(human_size(500 * 1024 * 1024), "500\u{a0}Mo");
        assert_eq!(human_size(3 * 1024 * 1024 + 512 * 1024), "3,5\u{a0}Mo");
        assert_eq!(human_size(1024 * 1024 * 1024), "1\u{a0}Go");
        assert_eq!(plural(1, "exigence", "exigences"), "1\u{a0}exigence");
        assert_eq!(plural(0, "exigence", "exigences"), "0\u{a0}exigence");
        assert_eq!(excerpt("Le  système\nDOIT", 50), "Le système DOIT");
        assert_eq!(
            excerpt("Le système DOIT permettre", 12),
            "Le système\u{a0}…"
        );
    }
}
