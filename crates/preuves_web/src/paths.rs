//! Path parameters shared by the pages and the API: an identifier that does not parse is a
//! missing object (404), never a 400 that would tell it apart.

use preuves_db::{CandidatureId, ProofId, SolutionId};
use preuves_domain::{DispositifCode, DispositifKey, Wave};

use crate::error::AppError;

/// A candidature id from a path.
pub(crate) fn candidature_id(raw: &str) -> Result<CandidatureId, AppError> {
    raw.parse()
        .map(CandidatureId)
        .map_err(|_| AppError::NotFound)
}

/// A proof id from a path.
pub(crate) fn proof_id(raw: &str) -> Result<ProofId, AppError> {
    raw.parse().map(ProofId).map_err(|_| AppError::NotFound)
}

/// A solution id from a path.
pub(crate) fn solution_id(raw: &str) -> Result<SolutionId, AppError> {
    raw.parse().map(SolutionId).map_err(|_| AppError::NotFound)
}

/// The dispositif named by a URL's code and wave; anything else is a missing page.
pub(crate) fn parse_key(code: &str, wave: &str) -> Result<DispositifKey, AppError> {
    let code = DispositifCode::parse(code).map_err(|_| AppError::NotFound)?;
    let wave = match wave {
        "1" => Wave::One,
        "2" => Wave::Two,
        _ => return Err(AppError::NotFound),
    };
    Ok(DispositifKey { code, wave })
}
