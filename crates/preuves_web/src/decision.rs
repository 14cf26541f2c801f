//! Granting a referencing: the decision and its attestation are consistent or the decision is
//! not taken.
//!
//! [`grant`] follows the two phases of `preuves_db`: `prepare_grant` computes what the
//! attestation shows (the NRU to issue, the names, the manifest), the PDF is rendered (off the
//! async runtime) and stored, then `grant_candidature` records the decision in one transaction,
//! refusing if anything changed in between. Any failure after the blob was stored deletes it;
//! a failure before leaves nothing. A stale draft (another grant took the NRU number meanwhile)
//! is retried with a fresh one.

use std::time::SystemTime;

use preuves_db::{Actor, CandidatureId, Conflict, GrantDraft, GrantRecord, ManifestBasis, User};
use preuves_domain::VerificationCode;
use preuves_pdf::{Attestation, ManifestEntry, Origin};
use preuves_storage::BlobKey;

use crate::AppState;
use crate::error::AppError;
use crate::layout::encode_query;

/// How many times a grant is prepared again when its draft went stale meanwhile.
const ATTEMPTS: usize = 3;

/// What the attestation of `draft` shows, with its verification code and link.
pub(crate) fn attestation_of(
    draft: &GrantDraft,
    code: &VerificationCode,
    public_url: &str,
) -> Attestation {
    let nru = draft.nru.as_str().to_owned();
    Attestation {
        verification_url: format!(
            "{}/verifier/{}?code={}",
            public_url.trim_end_matches('/'),
            encode_query(&nru),
            code.as_str()
        ),
        nru,
        verification_code: code.as_str().to_owned(),
        decided_on: draft.granted_on.to_string(),
        vendor_name: draft.vendor_name.clone(),
        vendor_siren: draft.siren.to_string(),
        solution: draft.solution.clone(),
        main_component: draft.main_component.clone(),
        version: draft.version.to_string(),
        commercial_names: draft.commercial_names.clone(),
        dispositif_code: draft.dispositif.code.to_string(),
        dispositif_label: draft.dispositif_name.clone(),
        wave: draft.dispositif.wave.number(),
        profiles: draft.profiles().iter().map(ToString::to_string).collect(),
        rem_version: draft.rem_label(),
        manifest: draft
            .manifest
            .entries
            .iter()
            .map(|e| ManifestEntry {
                requirement: e.requirement.clone(),
                chapter: e.chapter.clone(),
                origin: match &e.basis {
                    ManifestBasis::Proven => Origin::Proven,
                    ManifestBasis::ProvenForComponent { component } => {
                        Origin::AdditionalComponent {
                            component: component.clone(),
                        }
                    }
                    ManifestBasis::Inherited { nru } => Origin::Inherited { nru: nru.clone() },
                    ManifestBasis::Equivalent {
                        nru,
                        source_requirement,
                        source_dispositif,
                    } => Origin::Equivalent {
                        nru: nru.clone(),
                        source_requirement: source_requirement.clone(),
                        source_dispositif: source_dispositif.clone(),
                    },
                },
            })
            .collect(),
    }
}

fn new_code() -> Result<VerificationCode, AppError> {
    let mut raw = [0u8; 10];
    getrandom::fill(&mut raw).map_err(|e| AppError::internal(format!("getrandom: {e}")))?;
    Ok(VerificationCode::from_random_bytes(raw))
}

/// Grants candidature `id`: issues its NRU, records the referencing and stores its attestation.
pub(crate) async fn grant(
    state: &AppState,
    instructor: &User,
    id: CandidatureId,
) -> Result<GrantRecord, AppError> {
    let actor = Actor::User(instructor.id);
    let prefix = BlobKey::parse("attestations").map_err(AppError::internal)?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let draft = state.db.prepare_grant(id, &actor).await?;
        let code = new_code()?;
        let attestation = attestation_of(&draft, &code, &state.config.public_url);
        let pdf =
            tokio::task::spawn_blocking(move || preuves_pdf::render_attestation(&attestation))
                .await
                .map_err(AppError::internal)?
                .map_err(|e| AppError::internal(format!("attestation: {e}")))?;
        let key = BlobKey::new_random_dated(&prefix, SystemTime::now());
        let blob = state
            .blobs
            .put_bytes(&key, pdf)
            .await
            .map_err(AppError::internal)?;
        let recorded = state
            .db
            .grant_candidature(id, &draft, key.as_str(), &blob.sha256, &code, &actor)
            .await;
        match recorded {
            Ok(record) => return Ok(record),
            Err(e) => {
                // No decision: the attestation must not stay behind.
                if let Err(d) = state.blobs.delete(&key).await {
                    tracing::warn!(error = %d, "could not delete an unused attestation");
                }
                let stale = e.is_conflict(Conflict::GrantDraftStale);
                if stale && attempt < ATTEMPTS {
                    continue;
                }
                return Err(e.into());
            }
        }
    }
}
