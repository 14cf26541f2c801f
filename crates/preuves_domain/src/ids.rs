//! Identifier newtypes. Each is parsed once at the edge (file, form, JSON) and trusted after:
//! a `RequirementId` is never empty, a `Siren` is always nine digits, a `ChapterCode` is always
//! upper case. Messages are French because they reach catalogue administrators and vendors.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an identifier could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The value was empty (or only spaces).
    #[error("{what} est vide")]
    Empty {
        /// What was being parsed, in French ("l'identifiant d'exigence", ...).
        what: &'static str,
    },
    /// The value had a character or shape that is not allowed.
    #[error("{what} « {value} » est invalide : {why}")]
    Invalid {
        /// What was being parsed, in French.
        what: &'static str,
        /// The value as given.
        value: String,
        /// Why, in French.
        why: &'static str,
    },
}

/// Trims `raw` and refuses an empty result.
fn non_empty(raw: &str, what: &'static str) -> Result<String, IdError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        Err(IdError::Empty { what })
    } else {
        Ok(trimmed.to_owned())
    }
}

/// Implements `Display`, `AsRef<str>`, serde and `FromStr` for a string newtype with a `parse`.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A requirement id as written in a REM (`INS/va1.12`, `DMP/UX.15`, `SC.INS/va1.01` for socle ids).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequirementId(String);

impl RequirementId {
    /// Parses a requirement id: trimmed, non-empty, without inner whitespace.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let what = "l'identifiant d'exigence";
        let id = non_empty(raw, what)?;
        if id.chars().any(char::is_whitespace) {
            return Err(IdError::Invalid {
                what,
                value: id,
                why: "il contient un espace",
            });
        }
        Ok(Self(id))
    }

    /// The chapter code: the id's prefix before the first `/` or `.`, in upper case.
    pub fn chapter_code(&self) -> ChapterCode {
        let end = self.0.find(['/', '.']).unwrap_or(self.0.len());
        ChapterCode(self.0[..end].to_ascii_uppercase())
    }
}
string_newtype!(RequirementId);

/// A shared master requirement id (`SC.` id, column `Exigence socle`): two requirements of two
/// REMs carrying the same socle id are the same requirement ("exigences communes").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocleId(String);

impl SocleId {
    /// Parses a socle id: trimmed, non-empty, without inner whitespace.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let what = "l'identifiant d'exigence socle";
        let id = non_empty(raw, what)?;
        if id.chars().any(char::is_whitespace) {
            return Err(IdError::Invalid {
                what,
                value: id,
                why: "il contient un espace",
            });
        }
        Ok(Self(id))
    }
}
string_newtype!(SocleId);

/// A chapter code (INS, DMP, MSS, PSC, SSI, ...). Stored in upper case, so that the two
/// spellings found in real REMs (`APCV` and `ApCV`) name one chapter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChapterCode(String);

impl ChapterCode {
    /// Parses a chapter code: trimmed, non-empty, no whitespace, `/` or `.`; upper-cased.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let what = "le code de chapitre";
        let code = non_empty(raw, what)?;
        if code
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == '.')
        {
            return Err(IdError::Invalid {
                what,
                value: code,
                why: "il ne doit contenir ni espace, ni « / », ni « . »",
            });
        }
        Ok(Self(code.to_uppercase()))
    }
}
string_newtype!(ChapterCode);

/// A dispositif code (`DPI`, `DUI-MS`, `MS2-PDE`, ...). Together with a wave it names a dispositif.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DispositifCode(String);

impl DispositifCode {
    /// Parses a dispositif code: trimmed, non-empty, letters, digits, `-` and `_` only.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let what = "le code de dispositif";
        let code = non_empty(raw, what)?;
        if !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(IdError::Invalid {
                what,
                value: code,
                why: "seuls les lettres, chiffres, « - » et « _ » sont admis",
            });
        }
        Ok(Self(code))
    }
}
string_newtype!(DispositifCode);

/// A profile name: `Général`, which always applies, or an optional profile (`PA`, `IAM`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Profile(String);

impl Profile {
    /// The name of the profile that every candidature holds.
    pub const GENERAL: &'static str = "Général";

    /// Parses a profile name: trimmed and non-empty.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        Ok(Self(non_empty(raw, "le profil")?))
    }

    /// The `Général` profile.
    pub fn general() -> Self {
        Self(Self::GENERAL.to_owned())
    }

    /// Whether this is the `Général` profile.
    pub fn is_general(&self) -> bool {
        self.0 == Self::GENERAL
    }
}
string_newtype!(Profile);

/// The label of a REM version (`1`, `2`, `2026-03`): free text entered when the version is
/// imported, unique per dispositif. The label, never an internal id, is what people see; versions
/// are ordered by import, not by label (see `docs/rules.md`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemVersionLabel(String);

impl RemVersionLabel {
    /// The label of a version nobody named: `1`.
    pub const INITIAL: &'static str = "1";

    /// The longest label accepted, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Parses a label: trimmed, non-empty, at most [`Self::MAX_CHARS`] characters, no control
    /// character (it is shown on pages and printed on attestations).
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let what = "la version du REM";
        let label = non_empty(raw, what)?;
        if label.chars().count() > Self::MAX_CHARS || label.chars().any(char::is_control) {
            return Err(IdError::Invalid {
                what,
                value: label,
                why: "64 caractères au plus, sans caractère de contrôle",
            });
        }
        Ok(Self(label))
    }

    /// The label `1`, which a version in force gets when none is given.
    pub fn initial() -> Self {
        Self(Self::INITIAL.to_owned())
    }
}

impl Default for RemVersionLabel {
    fn default() -> Self {
        Self::initial()
    }
}
string_newtype!(RemVersionLabel);

/// The number of a granted referencing (*numéro de référencement unique*).
///
/// Stored trimmed and upper-cased, so that a vendor typing `ref-dpi-2-0001` finds `REF-DPI-2-0001`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nru(String);

impl Nru {
    /// Parses an NRU: letters, digits and `-` only, at most 64 characters.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let what = "le NRU";
        let nru = non_empty(raw, what)?.to_ascii_uppercase();
        if nru.len() > 64 || !nru.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(IdError::Invalid {
                what,
                value: nru,
                why: "seuls les lettres, chiffres et « - » sont admis (64 caractères au plus)",
            });
        }
        Ok(Self(nru))
    }
}
string_newtype!(Nru);

/// A French company number (SIREN): exactly nine digits.
///
/// The Luhn check digit is not enforced here, because the platform also handles SIRENs typed in
/// scenario files and examples; [`Siren::has_valid_check_digit`] is what account creation uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siren(String);

impl Siren {
    /// Parses a SIREN: nine digits, spaces between groups allowed (`732 829 320`).
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let what = "le SIREN";
        let digits: String = non_empty(raw, what)?
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if digits.len() != 9 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(IdError::Invalid {
                what,
                value: raw.trim().to_owned(),
                why: "un SIREN compte exactement 9 chiffres",
            });
        }
        Ok(Self(digits))
    }

    /// Parses a SIREN and also requires its Luhn check digit to be right.
    pub fn parse_checked(raw: &str) -> Result<Self, IdError> {
        let siren = Self::parse(raw)?;
        if siren.has_valid_check_digit() {
            Ok(siren)
        } else {
            Err(IdError::Invalid {
                what: "le SIREN",
                value: siren.0,
                why: "sa clé de contrôle (algorithme de Luhn) est fausse",
            })
        }
    }

    /// Whether the ninth digit is the right Luhn check digit for the first eight.
    pub fn has_valid_check_digit(&self) -> bool {
        let sum: u32 = self
            .0
            .bytes()
            .rev()
            .enumerate()
            .map(|(i, b)| {
                let d = u32::from(b - b'0');
                if i % 2 == 1 {
                    let double = d * 2;
                    if double > 9 { double - 9 } else { double }
                } else {
                    d
                }
            })
            .sum();
        sum.is_multiple_of(10)
    }
}
string_newtype!(Siren);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chapter_code_is_the_prefix_before_slash_or_dot() {
        let code = |id: &str| RequirementId::parse(id).unwrap().chapter_code().to_string();
        assert_eq!(code("INS/va1.12"), "INS");
        assert_eq!(code("DMP/UX.15"), "DMP");
        assert_eq!(code("PSC.03"), "PSC");
        assert_eq!(code("ApCV/va1.02"), "APCV");
        assert_eq!(code("VI-SO.01"), "VI-SO");
    }

    #[test]
    fn empty_or_spaced_requirement_ids_are_rejected() {
        assert!(matches!(
            RequirementId::parse("  "),
            Err(IdError::Empty { .. })
        ));
        assert!(RequirementId::parse("INS va1").is_err());
        assert_eq!(RequirementId::parse(" INS.01 ").unwrap().as_str(), "INS.01");
    }

    #[test]
    fn siren_needs_nine_digits_and_luhn_is_separate() {
        assert!(Siren::parse("12345678").is_err());
        assert!(Siren::parse("12345678a").is_err());
        assert_eq!(Siren::parse("732 829 320").unwrap().as_str(), "732829320");
        assert!(Siren::parse("732829320").unwrap().has_valid_check_digit());
        assert!(!Siren::parse("123456789").unwrap().has_valid_check_digit());
        assert!(Siren::parse_checked("123456789").is_err());
        assert!(Siren::parse_checked("732829320").is_ok());
    }

    #[test]
    fn nru_is_normalised_to_upper_case() {
        assert_eq!(
            Nru::parse(" ref-dpi-2-0001 ").unwrap().as_str(),
            "REF-DPI-2-0001"
        );
        assert!(Nru::parse("REF DPI").is_err());
        assert!(Nru::parse("").is_err());
    }

    #[test]
    fn rem_version_labels_are_trimmed_free_text() {
        assert_eq!(RemVersionLabel::parse(" 2 ").unwrap().as_str(), "2");
        assert_eq!(
            RemVersionLabel::parse("v2 (mars 2026)").unwrap().as_str(),
            "v2 (mars 2026)"
        );
        assert_eq!(RemVersionLabel::default().as_str(), "1");
        assert!(RemVersionLabel::parse("  ").is_err());
        assert!(RemVersionLabel::parse("a\nb").is_err());
        assert!(RemVersionLabel::parse(&"9".repeat(65)).is_err());
    }

    #[test]
    fn general_profile_is_recognised() {
        assert!(Profile::parse("Général").unwrap().is_general());
        assert!(!Profile::parse("PA").unwrap().is_general());
    }
}
