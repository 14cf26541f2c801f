//! Blob keys: the names under which blobs are stored.
//!
//! A [`BlobKey`] is parsed once and is then valid by construction. The alphabet is deliberately
//! small (`a-z`, `0-9`, `/`, `_`, `-`, `.`) so that a key means the same thing on every backend:
//! no percent-encoding by object_store, no case folding on some file systems, no `#` (which
//! `LocalFileSystem` reserves for its staging files) and no `..` (no way out of the store's root).
//! New keys are random (128 bits), so two uploads never share a key and a stored blob is never
//! overwritten.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::StorageError;

/// Longest accepted key, in bytes (S3's own limit is 1,024).
pub const MAX_KEY_LEN: usize = 512;

/// The name of a blob in the store, such as `proofs/2026/11/3f2a…`.
///
/// Rules: 1 to [`MAX_KEY_LEN`] bytes of `[a-z0-9/_.-]`, no leading or trailing `/`, no empty
/// segment (`//`), no `..` anywhere and no `.` segment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// Parses a key, refusing anything outside the rules above.
    pub fn parse(key: impl Into<String>) -> Result<Self, StorageError> {
        let key = key.into();
        match check(&key) {
            Ok(()) => Ok(Self(key)),
            Err(reason) => Err(StorageError::InvalidKey(format!("{key:?}: {reason}"))),
        }
    }

    /// A new random key directly under `prefix`: `{prefix}/{32 hex digits}`.
    pub fn new_random(prefix: &BlobKey) -> BlobKey {
        BlobKey(format!("{}/{}", prefix.0, random_name()))
    }

    /// A new random key under `prefix`, partitioned by the UTC year and month of `at`:
    /// `{prefix}/{yyyy}/{mm}/{32 hex digits}`, e.g. `proofs/2026/11/3f2a…`.
    pub fn new_random_dated(prefix: &BlobKey, at: SystemTime) -> BlobKey {
        let (year, month) = year_month(at);
        BlobKey(format!(
            "{}/{year:04}/{month:02}/{}",
            prefix.0,
            random_name()
        ))
    }

    /// The key as text (what is recorded in the database).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the key into its text.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for BlobKey {
    type Err = StorageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for BlobKey {
    type Error = StorageError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for BlobKey {
    type Error = StorageError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl AsRef<str> for BlobKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn check(key: &str) -> Result<(), &'static str> {
    if key.is_empty() {
        return Err("empty key");
    }
    if key.len() > MAX_KEY_LEN {
        return Err("key too long");
    }
    if let Some(c) = key.chars().find(|c| !allowed(*c)) {
        return Err(if c.is_ascii_uppercase() {
            "upper-case letters are not allowed"
        } else {
            "only a-z, 0-9, '/', '_', '-' and '.' are allowed"
        });
    }
    if key.starts_with('/') {
        return Err("leading '/'");
    }
    if key.ends_with('/') {
        return Err("trailing '/'");
    }
    if key.contains("//") {
        return Err("empty segment");
    }
    if key.contains("..") {
        return Err("'..' is not allowed");
    }
    if key.split('/').any(|segment| segment == ".") {
        return Err("'.' segment");
    }
    Ok(())
}

fn allowed(c: char) -> bool {
    matches!(c, 'a'..='z' | '0'..='9' | '/' | '_' | '-' | '.')
}

/// 128 random bits from the operating system, as 32 lower-case hex digits.
fn random_name() -> String {
    let mut bytes = [0u8; 16];
    // The OS generator only fails on exotic platforms or a broken kernel; there is no sensible
    // fallback for a name that must be unguessable, so fail loudly (as `rand::rng()` does).
    getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
    hex::encode(bytes)
}

/// The UTC (year, month) of `at`; times before 1970 count as 1970-01.
fn year_month(at: SystemTime) -> (i16, i8) {
    let day = utc_date(at);
    (day.year(), day.month())
}

/// The UTC calendar day of `at`, from 1970-01-01 (earlier times) to the last day jiff holds.
fn utc_date(at: SystemTime) -> jiff::civil::Date {
    let at = jiff::Timestamp::try_from(at.max(UNIX_EPOCH)).unwrap_or(jiff::Timestamp::MAX);
    jiff::tz::TimeZone::UTC.to_datetime(at).date()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn valid_keys_are_accepted() {
        for key in [
            "a",
            "proofs/2026/11/0123abcd",
            "attestations/x_y-z.pdf",
            "a.b/c",
        ] {
            assert_eq!(BlobKey::parse(key).unwrap().as_str(), key);
        }
    }

    #[test]
    fn invalid_keys_are_refused() {
        let too_long = "a".repeat(MAX_KEY_LEN + 1);
        for key in [
            "",
            "/abs",
            "trailing/",
            "a//b",
            "..",
            "a/../b",
            "a..b",
            "./a",
            "a/./b",
            "Upper",
            "space here",
            "hash#1",
            "back\\slash",
            "é",
            "a/b?c",
            too_long.as_str(),
        ] {
            assert!(
                matches!(BlobKey::parse(key), Err(StorageError::InvalidKey(_))),
                "{key:?} should be refused"
            );
        }
    }

    #[test]
    fn random_keys_are_unique_and_valid() {
        let prefix = BlobKey::parse("proofs").unwrap();
        let a = BlobKey::new_random(&prefix);
        let b = BlobKey::new_random(&prefix);
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("proofs/"));
        assert_eq!(a.as_str().len(), "proofs/".len() + 32);
        BlobKey::parse(a.as_str()).unwrap();
    }

    #[test]
    fn dated_keys_use_the_utc_year_and_month() {
        let prefix = BlobKey::parse("proofs").unwrap();
        // 2026-11-30T23:59:59Z
        let at = UNIX_EPOCH + Duration::from_secs(1_796_083_199);
        let key = BlobKey::new_random_dated(&prefix, at);
        assert!(key.as_str().starts_with("proofs/2026/11/"), "{key}");
        BlobKey::parse(key.as_str()).unwrap();
    }

    #[test]
    fn civil_dates_are_correct() {
        let day = |days: u64| utc_date(UNIX_EPOCH + Duration::from_secs(days * 86_400));
        assert_eq!(day(0), jiff::civil::date(1970, 1, 1));
        assert_eq!(day(59), jiff::civil::date(1970, 3, 1));
        // 2000-02-29 (leap day of a century leap year)
        assert_eq!(day(11_016), jiff::civil::date(2000, 2, 29));
        // 2026-11-01
        assert_eq!(day(20_758), jiff::civil::date(2026, 11, 1));
        // Before 1970: the epoch's month.
        assert_eq!(
            year_month(UNIX_EPOCH - Duration::from_secs(86_400)),
            (1970, 1)
        );
    }
}
