//! The NRUs this platform issues when it grants a referencing, and the verification code printed
//! on the attestation.
//!
//! # Format
//!
//! `SEGUR-<dispositif>-<vague>-<année>-<numéro>-<clé>`, for example `SEGUR-DUIMS-2-2026-000123-2`:
//!
//! | part | what |
//! |---|---|
//! | `SEGUR` | fixed prefix: every platform NRU starts with `SEGUR-` ([`looks_issued`]) |
//! | dispositif | the dispositif code in capitals, without its `-` and `_` (`DUI-MS` → `DUIMS`): 1 to 42 letters or digits |
//! | vague | `1` or `2` |
//! | année | the year of the grant, four digits |
//! | numéro | the sequence number within dispositif, wave and year, six digits from `000001` |
//! | clé | one check character, a digit or a capital letter |
//!
//! The dispositif code loses its separators so that every `-` of the NRU is a field separator:
//! the shape then catches any misplaced or missing `-` (each field but the dispositif has a fixed
//! length), and the check character guards the letters and digits.
//!
//! # Check character
//!
//! The characters before the key, separators left out (`SEGUR`, dispositif, vague, année,
//! numéro), are read as values 0–35 (`0`–`9`, then `A`–`Z`) and each value `c` as the pair
//! `(c mod 4, c div 4)` of the group G = GF(4) × Z/9 (36 elements, one per character). Position
//! `i`, counted from the key (position 0) leftwards, is weighted by σⁱ, where σ(u, v) = (α·u, 2·v)
//! with α a generator of GF(4)'s multiplicative group. The key is the element that makes the
//! weighted sum zero.
//!
//! σ is an automorphism of G, so a single substitution (anywhere, the key included) changes the
//! sum by σⁱ(d) ≠ 0. σ is also an *orthomorphism*: x ↦ x − σ(x) is a bijection ((1 + α)·u is a
//! bijection of GF(4); −v one of Z/9), so swapping two different adjacent characters changes the
//! sum by σⁱ(d − σ(d)) ≠ 0. Hence **every single-character substitution and every transposition
//! of two adjacent characters is detected** (the tests check it exhaustively on random NRUs).
//! ISO 7064 MOD 37,36, its alphanumeric hybrid cousin, was not chosen: it misses 72 of the 45,360
//! (state, pair) cases of adjacent transposition.
//!
//! NRUs recorded from elsewhere (`REF-DPI-2-0001`) stay valid [`Nru`]s: only a text starting with
//! `SEGUR-` claims to be one of ours, and only such a text is checked ([`looks_issued`]).
//!
//! # Verification code
//!
//! A [`VerificationCode`] is ten characters from a 32-character alphabet without `0`, `O`, `1`
//! and `I` (50 bits), printed on the attestation: with the NRU, it lets anyone check a paper
//! attestation on the public register. It is drawn by the caller from a random source
//! ([`VerificationCode::from_random_bytes`]); this crate does no I/O.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::catalogue::Wave;
use crate::ids::{DispositifCode, Nru};

/// The prefix of every NRU issued by the platform.
pub const PREFIX: &str = "SEGUR";

/// The longest dispositif part, so that an issued NRU fits an [`Nru`] (64 characters).
pub const MAX_DISPOSITIF_LEN: usize = 42;

/// The largest sequence number (six digits).
pub const MAX_SEQUENCE: u32 = 999_999;

/// The 36 characters of NRUs, by value.
const ALPHANUMERIC: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Why an issued NRU cannot be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuedNruError {
    /// The text does not have the platform's shape.
    #[error(
        "le NRU « {0} » n'a pas la forme SEGUR-<dispositif>-<vague>-<année>-<numéro>-<clé> \
         (par exemple SEGUR-DPI-2-2026-000123-S)"
    )]
    Shape(String),
    /// The shape is right but the check character is not: the NRU was mistyped.
    #[error("la clé de contrôle du NRU « {0} » est fausse : vérifiez sa saisie")]
    CheckCharacter(String),
    /// The dispositif code has no letter or digit, or too many.
    #[error(
        "le code de dispositif « {0} » ne peut pas figurer dans un NRU (1 à 42 lettres ou chiffres)"
    )]
    Dispositif(String),
    /// The year has not four digits.
    #[error("l'année {0} ne peut pas figurer dans un NRU (quatre chiffres)")]
    Year(u16),
    /// The sequence number is zero or has more than six digits.
    #[error("le numéro {0} ne peut pas figurer dans un NRU (1 à 999999)")]
    Sequence(u32),
}

/// An NRU in the platform's format, with a right check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IssuedNru {
    text: String,
    dispositif_len: usize,
    wave: Wave,
    year: u16,
    sequence: u32,
}

impl IssuedNru {
    /// The NRU of the `sequence`-th referencing granted on `dispositif` in `wave` during `year`.
    pub fn new(
        dispositif: &DispositifCode,
        wave: Wave,
        year: u16,
        sequence: u32,
    ) -> Result<Self, IssuedNruError> {
        let part = Self::dispositif_part(dispositif)?;
        if !(1000..=9999).contains(&year) {
            return Err(IssuedNruError::Year(year));
        }
        if !(1..=MAX_SEQUENCE).contains(&sequence) {
            return Err(IssuedNruError::Sequence(sequence));
        }
        let payload = format!("{PREFIX}{part}{}{year:04}{sequence:06}", wave.number());
        let key = check_character(&payload);
        Ok(Self {
            text: format!(
                "{PREFIX}-{part}-{}-{year:04}-{sequence:06}-{key}",
                wave.number()
            ),
            dispositif_len: part.len(),
            wave,
            year,
            sequence,
        })
    }

    /// The dispositif part of the NRUs of `dispositif`: its code in capitals without `-` and
    /// `_` (`DUI-MS` → `DUIMS`). Sequence numbers are counted per dispositif part, wave and
    /// year, so two codes with the same part never get the same NRU.
    pub fn dispositif_part(dispositif: &DispositifCode) -> Result<String, IssuedNruError> {
        let part: String = dispositif
            .as_str()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if part.is_empty() || part.len() > MAX_DISPOSITIF_LEN {
            return Err(IssuedNruError::Dispositif(dispositif.to_string()));
        }
        Ok(part)
    }

    /// Reads an NRU in the platform's format (trimmed, any case), checking its shape and its
    /// check character: [`IssuedNruError::CheckCharacter`] means a mistyped NRU,
    /// [`IssuedNruError::Shape`] a text that is not one of ours or is badly damaged.
    pub fn parse(raw: &str) -> Result<Self, IssuedNruError> {
        let text = raw.trim().to_ascii_uppercase();
        let shape = || IssuedNruError::Shape(text.clone());
        let parts: Vec<&str> = text.split('-').collect();
        let &[prefix, part, wave, year, sequence, key] = parts.as_slice() else {
            return Err(shape());
        };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let alphanumeric = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
        if prefix != PREFIX
            || part.is_empty()
            || part.len() > MAX_DISPOSITIF_LEN
            || !alphanumeric(part)
            || !digits(wave, 1)
            || !digits(year, 4)
            || !digits(sequence, 6)
            || key.len() != 1
            || !alphanumeric(key)
        {
            return Err(shape());
        }
        let wave_number = wave.parse::<i64>().map_err(|_| shape())?;
        let wave_value = Wave::from_number(wave_number).ok_or_else(shape)?;
        let year_value = year.parse::<u16>().map_err(|_| shape())?;
        let sequence_value = sequence.parse::<u32>().map_err(|_| shape())?;
        if year_value < 1000 || sequence_value == 0 {
            return Err(shape());
        }
        let payload = format!("{prefix}{part}{wave}{year}{sequence}");
        if !key.starts_with(check_character(&payload)) {
            return Err(IssuedNruError::CheckCharacter(text));
        }
        Ok(Self {
            dispositif_len: part.len(),
            wave: wave_value,
            year: year_value,
            sequence: sequence_value,
            text,
        })
    }

    /// The NRU as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The NRU, as the register and the engine know it.
    pub fn to_nru(&self) -> Nru {
        // An issued NRU is letters, digits and `-`, at most 64 characters: always a valid Nru.
        Nru::parse(&self.text).unwrap_or_else(|_| unreachable!("issued NRUs are valid NRUs"))
    }

    /// The dispositif part (`DUIMS`).
    pub fn dispositif(&self) -> &str {
        let start = PREFIX.len() + 1;
        &self.text[start..start + self.dispositif_len]
    }

    /// The wave.
    pub fn wave(&self) -> Wave {
        self.wave
    }

    /// The year of the grant.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The sequence number within dispositif, wave and year.
    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The check character.
    pub fn check_character(&self) -> char {
        self.text.chars().last().unwrap_or('0')
    }
}

impl fmt::Display for IssuedNru {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for IssuedNru {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for IssuedNru {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Whether `raw` claims to be an NRU issued by this platform (it starts with `SEGUR-`, in any
/// case), whether or not it is well formed. With [`IssuedNru::parse`], a caller tells a mistyped
/// platform NRU (claims it, does not parse) from an NRU recorded from elsewhere (does not claim
/// it, like `REF-DPI-2-0001`), which is checked against the register only.
pub fn looks_issued(raw: &str) -> bool {
    // Compared as bytes: any text may come here, and slicing it as a `str` could cut a
    // multi-byte character.
    let raw = raw.trim().as_bytes();
    raw.get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX.as_bytes()))
        && raw.get(PREFIX.len()) == Some(&b'-')
}

/// Multiplication by α in GF(4), elements written 0, 1, α = 2, α² = α + 1 = 3 (addition is XOR).
const TIMES_ALPHA: [u8; 4] = [0, 2, 3, 1];

/// σ^position applied to the character of value `c` (0–35), as an element `(u, v)` of
/// GF(4) × Z/9.
fn weighted(c: usize, position: usize) -> (u8, u32) {
    // c < 36, so c % 4 < 4 and c / 4 < 9: both fit.
    let (mut u, v) = ((c % 4) as u8, (c / 4) as u32);
    for _ in 0..position % 3 {
        u = TIMES_ALPHA[usize::from(u)];
    }
    // 2 has order 6 modulo 9.
    (u, [1, 2, 4, 8, 7, 5][position % 6] * v % 9)
}

/// The check character of `payload` (capital letters and digits only, as built by
/// [`IssuedNru`]): see the module header.
fn check_character(payload: &str) -> char {
    // Position 1 is the payload's last character (the key is position 0).
    let (mut u_sum, mut v_sum) = (0_u8, 0_u32);
    for (i, b) in payload.bytes().rev().enumerate() {
        let c = ALPHANUMERIC.iter().position(|&a| a == b).unwrap_or(0);
        let (u, v) = weighted(c, i + 1);
        u_sum ^= u;
        v_sum = (v_sum + v) % 9;
    }
    // The key x0 (weight σ⁰ = identity) makes the sum zero: u0 = −u_sum = u_sum in GF(4).
    let v0 = (9 - v_sum) % 9;
    let value = (v0 * 4) as usize + usize::from(u_sum);
    char::from(ALPHANUMERIC[value])
}

/// The alphabet of verification codes: capitals and digits without `0`, `O`, `1` and `I`.
const CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// The length of a verification code.
pub const VERIFICATION_CODE_LEN: usize = 10;

/// Why a verification code cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "le code de vérification « {0} » est invalide : 10 caractères parmi les chiffres 2 à 9 et \
     les lettres sauf I et O"
)]
pub struct VerificationCodeError(pub String);

/// The code printed on an attestation, checked on the public register with its NRU.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerificationCode(String);

impl VerificationCode {
    /// A code drawn from `bytes`, which must come from a cryptographic random source (each byte
    /// gives one character: 256 is a multiple of 32, so every character is equally likely).
    pub fn from_random_bytes(bytes: [u8; VERIFICATION_CODE_LEN]) -> Self {
        Self(
            bytes
                .iter()
                .map(|b| char::from(CODE_ALPHABET[usize::from(b % 32)]))
                .collect(),
        )
    }

    /// Reads a code as typed: trimmed, any case, spaces and `-` between groups ignored.
    pub fn parse(raw: &str) -> Result<Self, VerificationCodeError> {
        let code: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if code.len() != VERIFICATION_CODE_LEN || !code.bytes().all(|b| CODE_ALPHABET.contains(&b))
        {
            return Err(VerificationCodeError(raw.trim().to_owned()));
        }
        Ok(Self(code))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn code(s: &str) -> DispositifCode {
        DispositifCode::parse(s).unwrap()
    }

    #[test]
    fn an_issued_nru_has_the_documented_shape_and_reads_back() {
        let nru = IssuedNru::new(&code("DUI-MS"), Wave::Two, 2026, 123).unwrap();
        let text = nru.as_str();
        // The module header's example.
        assert_eq!(text, "SEGUR-DUIMS-2-2026-000123-2");
        assert_eq!(nru.dispositif(), "DUIMS");
        assert_eq!(
            (nru.wave(), nru.year(), nru.sequence()),
            (Wave::Two, 2026, 123)
        );
        assert_eq!(IssuedNru::parse(text).unwrap(), nru);
        assert_eq!(
            IssuedNru::parse(&format!("  {}  ", text.to_lowercase())).unwrap(),
            nru
        );
        assert_eq!(nru.to_nru().as_str(), text);
        assert!(looks_issued(text));
        assert_eq!(
            IssuedNru::new(&code("drimbox"), Wave::Two, 2026, 1)
                .unwrap()
                .dispositif(),
            "DRIMBOX"
        );
    }

    #[test]
    fn the_check_character_is_a_known_value() {
        // Worked out apart from this code (a short script following the module header), so a
        // change of the scheme, which would invalidate every NRU already issued, is noticed.
        let nru = IssuedNru::new(&code("DPI"), Wave::Two, 2026, 1).unwrap();
        assert_eq!(nru.as_str(), "SEGUR-DPI-2-2026-000001-V");
        // The example of the shape error message.
        assert!(IssuedNru::parse("SEGUR-DPI-2-2026-000123-S").is_ok());
    }

    /// Any text may be asked about, multi-byte characters at any position included (the
    /// public verification page once panicked on `ABCDé`).
    #[test]
    fn any_text_is_answered_without_panicking() {
        for text in [
            "ABCDé",
            "ABCDéé",
            "SEGUé-",
            "SEGURé",
            "é",
            "ééééé-",
            "\u{202e}SEGUR-",
            "SEGUR-é",
            "segur-DPI",
        ] {
            let claims = looks_issued(text);
            assert_eq!(
                claims,
                text.starts_with("SEGUR-") || text.starts_with("segur-"),
                "{text}"
            );
            assert!(IssuedNru::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn a_mistyped_nru_is_caught_and_told_apart_from_a_foreign_one() {
        let nru = IssuedNru::new(&code("DPI"), Wave::Two, 2026, 42).unwrap();
        let key = nru.check_character();
        let other = if key == 'A' { 'B' } else { 'A' };
        let wrong = format!("{}{other}", &nru.as_str()[..nru.as_str().len() - 1]);
        assert!(looks_issued(&wrong));
        assert!(matches!(
            IssuedNru::parse(&wrong),
            Err(IssuedNruError::CheckCharacter(_))
        ));
        for foreign in ["REF-DPI-2-0001", "SEGURITE-1", "SEGUR", ""] {
            assert!(!looks_issued(foreign), "{foreign}");
            assert!(
                matches!(IssuedNru::parse(foreign), Err(IssuedNruError::Shape(_))),
                "{foreign}"
            );
        }
        assert!(matches!(
            IssuedNru::parse("SEGUR-DPI-3-2026-000001-A"),
            Err(IssuedNruError::Shape(_))
        ));
        assert!(matches!(
            IssuedNru::parse("SEGUR-DPI-2-2026-000000-A"),
            Err(IssuedNruError::Shape(_))
        ));
    }

    #[test]
    fn out_of_range_parts_are_refused() {
        let dpi = code("DPI");
        assert_eq!(
            IssuedNru::new(&dpi, Wave::Two, 2026, 0),
            Err(IssuedNruError::Sequence(0))
        );
        assert_eq!(
            IssuedNru::new(&dpi, Wave::Two, 2026, 1_000_000),
            Err(IssuedNruError::Sequence(1_000_000))
        );
        assert_eq!(
            IssuedNru::new(&dpi, Wave::Two, 999, 1),
            Err(IssuedNruError::Year(999))
        );
        assert!(matches!(
            IssuedNru::new(&code("--"), Wave::Two, 2026, 1),
            Err(IssuedNruError::Dispositif(_))
        ));
        assert!(matches!(
            IssuedNru::new(&code(&"A".repeat(43)), Wave::Two, 2026, 1),
            Err(IssuedNruError::Dispositif(_))
        ));
        let longest = IssuedNru::new(&code(&"A".repeat(42)), Wave::Two, 9999, 999_999).unwrap();
        assert_eq!(longest.as_str().len(), 64);
        assert_eq!(longest.to_nru().as_str(), longest.as_str());
    }

    #[test]
    fn the_weights_make_every_substitution_and_adjacent_swap_change_the_sum() {
        // The two properties behind the module header's proof, on every pair of characters and
        // every position of the weights' cycle (3 in GF(4), 6 in Z/9).
        let add = |a: (u8, u32), b: (u8, u32)| (a.0 ^ b.0, (a.1 + b.1) % 9);
        for i in 0..6 {
            for x in 0..36 {
                for y in (0..36).filter(|&y| y != x) {
                    assert_ne!(
                        weighted(x, i),
                        weighted(y, i),
                        "substitution {x}/{y} at {i}"
                    );
                    let kept = add(weighted(x, i), weighted(y, i + 1));
                    let swapped = add(weighted(y, i), weighted(x, i + 1));
                    assert_ne!(kept, swapped, "swap of {x} and {y} at {i}");
                }
            }
        }
    }

    #[test]
    fn verification_codes_use_the_unambiguous_alphabet() {
        let c = VerificationCode::from_random_bytes([0, 1, 31, 32, 255, 7, 8, 100, 200, 33]);
        assert_eq!(c.as_str().len(), VERIFICATION_CODE_LEN);
        assert!(!c.as_str().contains(['0', '1', 'O', 'I']));
        assert_eq!(c.as_str(), "23Z2Z9A6A3");
        assert_eq!(VerificationCode::parse(" 23z2z-9a6a3 ").unwrap(), c);
        for bad in ["23Z2Z9A6A", "23Z2Z9A6AB2", "23Z2Z9A6A0", "23Z2Z9A6AI"] {
            assert!(VerificationCode::parse(bad).is_err(), "{bad}");
        }
    }

    /// Every text one substitution or one adjacent transposition away from `nru`.
    fn neighbours(nru: &str) -> Vec<String> {
        let chars: Vec<char> = nru.chars().collect();
        let mut out = Vec::new();
        for i in 0..chars.len() {
            for &b in ALPHANUMERIC.iter().chain(b"-") {
                let c = char::from(b);
                if c != chars[i] {
                    let mut v = chars.clone();
                    v[i] = c;
                    out.push(v.into_iter().collect());
                }
            }
            if i + 1 < chars.len() && chars[i] != chars[i + 1] {
                let mut v = chars.clone();
                v.swap(i, i + 1);
                out.push(v.into_iter().collect());
            }
        }
        out
    }

    proptest! {
        /// Arbitrary text, multi-byte characters included, never panics.
        #[test]
        fn arbitrary_text_never_panics(text in "(SEGU|ABCD|segur-)?\\PC{0,6}") {
            let _ = looks_issued(&text);
            let _ = IssuedNru::parse(&text);
        }

        #[test]
        fn every_substitution_and_adjacent_transposition_is_detected(
            dispositif in "[A-Za-z0-9][A-Za-z0-9_-]{0,15}",
            wave in 1_i64..=2,
            year in 1000_u16..=9999,
            sequence in 1_u32..=MAX_SEQUENCE,
        ) {
            let nru = IssuedNru::new(
                &code(&dispositif),
                Wave::from_number(wave).unwrap(),
                year,
                sequence,
            )
            .unwrap();
            prop_assert_eq!(IssuedNru::parse(nru.as_str()).unwrap(), nru.clone());
            for typo in neighbours(nru.as_str()) {
                prop_assert!(IssuedNru::parse(&typo).is_err(), "{} read as valid", typo);
                // A typo that keeps the prefix is still recognised as a mistyped platform NRU.
                if typo.starts_with("SEGUR-") {
                    prop_assert!(looks_issued(&typo));
                }
            }
        }
    }
}
