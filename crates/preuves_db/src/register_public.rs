//! The public side of the register: the searchable list of referencings, the check of an
//! attestation (`/verifier/{NRU}`), and which candidatures cite an NRU (so that pages can warn
//! them when it is suspended or withdrawn: their frozen plan is never changed silently).
//!
//! Search runs on `referencings.search_text`, folded in Rust like the catalogue's search so
//! that both backends compare the same bytes; filters and order use the indexes of the
//! instruction migration. A page is at most [`MAX_REGISTER_PAGE`] rows.

use preuves_domain::{
    DispositifCode, DispositifKey, IsoDate, Nru, ReferencingStatus, Siren, VerificationCode,
    Version, Wave,
};
use serde::Serialize;

use crate::catalogue::Page;
use crate::referencings::{self, ReferencingRow, StoredReferencing};
use crate::stored_candidatures::{self, CandidatureRow, StoredCandidature};
use crate::text::contains_pattern;
use crate::time::Timestamp;
use crate::{Db, DbError, Result};

/// The largest page of [`Db::public_register`].
pub const MAX_REGISTER_PAGE: u32 = 200;

/// A search of the public register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterQuery {
    /// Words or fragment, matched anywhere in the NRU, the vendor's name, the solution or a
    /// commercial name, without regard to case or accents.
    pub text: Option<String>,
    /// Only this dispositif code (both waves unless `wave` is given).
    pub dispositif: Option<DispositifCode>,
    /// Only this wave.
    pub wave: Option<Wave>,
    /// Only this status.
    pub status: Option<ReferencingStatus>,
    /// The page, from 1 (0 is read as 1).
    pub page: u32,
    /// Rows per page, 1 to [`MAX_REGISTER_PAGE`] (clamped).
    pub size: u32,
}

impl Default for RegisterQuery {
    fn default() -> Self {
        Self {
            text: None,
            dispositif: None,
            wave: None,
            status: None,
            page: 1,
            size: 50,
        }
    }
}

/// What `/verifier/{NRU}` tells the public about a referencing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The NRU.
    pub nru: Nru,
    /// Valid, suspended or withdrawn.
    pub status: ReferencingStatus,
    /// Why it is suspended or withdrawn.
    pub status_reason: Option<String>,
    /// When its status last changed.
    pub status_changed_at: Option<Timestamp>,
    /// The dispositif.
    pub dispositif: DispositifKey,
    /// The vendor's name.
    pub vendor: String,
    /// The vendor's SIREN.
    pub siren: Siren,
    /// The solution.
    pub solution: String,
    /// The version referenced.
    pub version: Version,
    /// Every name on the attestation.
    pub commercial_names: Vec<String>,
    /// The day it was granted.
    pub granted_on: IsoDate,
    /// Whether this platform granted it (and printed a verification code on its attestation).
    pub issued_here: bool,
    /// Whether the code typed matches the attestation's: `None` when no code was typed or the
    /// referencing has none (recorded from elsewhere).
    pub code_matches: Option<bool>,
}

/// A candidature citing an NRU, at its administrative step or as a late NRU (R5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CitingCandidature {
    /// The candidature.
    pub candidature: StoredCandidature,
    /// Its vendor's name.
    pub vendor_name: String,
    /// Whether the NRU was entered after submission (R5).
    pub late: bool,
}

impl Db {
    /// One page of the public register, newest grants first (then by NRU), with the number of
    /// matching referencings in all.
    pub async fn public_register(&self, query: &RegisterQuery) -> Result<Page<StoredReferencing>> {
        let text = query
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(contains_pattern)
            .unwrap_or_default();
        let conditions = "($1 = '' OR f.search_text LIKE $1 ESCAPE '\\') \
             AND ($2 = '' OR d.code = $2) AND ($3 < 0 OR d.wave = $3) \
             AND ($4 = '' OR f.status = $4)";
        let dispositif = query.dispositif.as_ref().map_or("", DispositifCode::as_str);
        let wave = query.wave.map_or(-1, |w| i64::from(w.number()));
        let status = query.status.map_or("", ReferencingStatus::code);
        let (total,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM referencings f JOIN dispositifs d ON d.id = f.dispositif_id \
             WHERE {conditions}"
        ))
        .bind(&text)
        .bind(dispositif)
        .bind(wave)
        .bind(status)
        .fetch_one(&self.pool)
        .await?;
        let size = query.size.clamp(1, MAX_REGISTER_PAGE);
        let offset = query.page.max(1).saturating_sub(1).saturating_mul(size);
        let rows: Vec<ReferencingRow> = sqlx::query_as(&format!(
            "{} WHERE {conditions} ORDER BY f.granted_on DESC, f.nru LIMIT $5 OFFSET $6",
            referencings::SELECT
        ))
        .bind(&text)
        .bind(dispositif)
        .bind(wave)
        .bind(status)
        .bind(i64::from(size))
        .bind(i64::from(offset))
        .fetch_all(&self.pool)
        .await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(StoredReferencing::try_from)
                .collect::<Result<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
            limit: size,
            offset,
        })
    }

    /// What the public may know of the referencing `nru`, and whether `code` (as typed on the
    /// attestation check form) is its verification code; `None` for an NRU not in the register.
    /// A caller telling "mistyped" from "unknown" checks the text first with
    /// [`preuves_domain::looks_issued`] and [`preuves_domain::IssuedNru::parse`].
    pub async fn verify_referencing(
        &self,
        nru: &Nru,
        code: Option<&str>,
    ) -> Result<Option<Verification>> {
        let Some(r) = self.find_referencing(nru).await? else {
            return Ok(None);
        };
        let stored: Option<(String,)> = sqlx::query_as(
            "SELECT verification_code FROM referencing_grants WHERE referencing_id = $1",
        )
        .bind(r.id.0)
        .fetch_optional(&self.pool)
        .await?;
        let typed = code.map(str::trim).filter(|c| !c.is_empty());
        let code_matches = match (&stored, typed) {
            (Some((stored,)), Some(typed)) => {
                Some(VerificationCode::parse(typed).is_ok_and(|t| t.as_str() == stored))
            }
            _ => None,
        };
        Ok(Some(Verification {
            nru: r.nru,
            status: r.status,
            status_reason: r.status_reason,
            status_changed_at: r.status_changed_at,
            dispositif: r.dispositif,
            vendor: r.organisation_name,
            siren: r.siren,
            solution: r.solution,
            version: r.version,
            commercial_names: r.commercial_names,
            granted_on: r.granted_on,
            issued_here: stored.is_some(),
            code_matches,
        }))
    }

    /// The drafts and candidatures under review whose NRUs (administrative step or late, R5)
    /// include `nru`, oldest first: the ones to warn when it is suspended or withdrawn.
    pub async fn candidatures_citing(&self, nru: &Nru) -> Result<Vec<CitingCandidature>> {
        // NRUs are stored as JSON lists of strings, and an NRU has no LIKE wildcard (letters,
        // digits and `-`): the quoted pattern finds the exact element, checked again below.
        let pattern = format!("%\"{}\"%", nru.as_str());
        let rows: Vec<CandidatureRow> = sqlx::query_as(&format!(
            "{} WHERE c.status IN ('draft', 'submitted', 'in_instruction', \
             'complement_requested') AND (c.nrus LIKE $1 OR c.late_nrus LIKE $1) ORDER BY c.id",
            stored_candidatures::SELECT
        ))
        .bind(&pattern)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<CitingCandidature> = Vec::new();
        for row in rows {
            let c = StoredCandidature::try_from(row)?;
            let late = !c.step.nrus.contains(nru);
            if late && !c.late_nrus.contains(nru) {
                continue;
            }
            let vendor_name = match out
                .iter()
                .find(|o| o.candidature.organisation == c.organisation)
            {
                Some(o) => o.vendor_name.clone(),
                None => {
                    self.find_organisation(c.organisation)
                        .await?
                        .ok_or(DbError::NotFound)?
                        .name
                }
            };
            out.push(CitingCandidature {
                candidature: c,
                vendor_name,
                late,
            });
        }
        Ok(out)
    }
}
