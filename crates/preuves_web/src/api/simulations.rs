//! `POST /api/v1/simulations`: the what-if simulation of `docs/rules.md` over HTTP.
//!
//! The body is the scenario file `preuves simulate` reads, parsed by the same
//! [`ScenarioFile::from_json`] (unknown keys refused, every id validated, errors with line,
//! column and key path), evaluated by the same [`ScenarioFile::evaluate`] on the platform's
//! current catalogue, and answered with the same bytes the command prints
//! ([`Answer::to_json_pretty`] and a line feed), or compact JSON with `?compact=true`. The
//! catalogue comes from [`crate::journey::CatalogueCache`]: never a catalogue load per request,
//! and the revision checks of concurrent requests are coalesced ([`CatalogueGate`]). The
//! catalogue is public, so no authentication is needed; the API's rate limits apply.
//!
//! The request and answer schemas below document the wire format only: the answer is
//! serialised by `preuves_domain` itself, and a test checks these schemas against real answers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use preuves_domain::Catalogue;
use preuves_domain::scenario::{Answer, ScenarioFile};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{ApiQuery, ErrorBody, json_text};
use crate::AppState;
use crate::api::Throttled;
use crate::error::{AppError, ErrorItem};

/// The current catalogue for simulations, with concurrent revision checks coalesced.
///
/// Every simulation must run on the catalogue current when it arrived, which costs one query
/// (the catalogue's revision number, [`crate::journey::CatalogueCache::get`]). Under load that
/// query, not the engine, dominates: so requests arriving while a check is in flight wait for the
/// *next* check and share its answer. A request never gets a catalogue read before it arrived
/// (an import committed before it is always seen), and a burst of N requests costs about two
/// queries instead of N.
#[derive(Default)]
pub(crate) struct CatalogueGate {
    state: std::sync::Mutex<GateState>,
    done: tokio::sync::Notify,
}

#[derive(Default)]
struct GateState {
    /// The generation of the last check started.
    started: u64,
    /// Whether a check is running.
    running: bool,
    /// The generation of the last check finished, and its answer.
    finished: u64,
    answer: Option<Result<Arc<Catalogue>, String>>,
}

impl std::fmt::Debug for CatalogueGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogueGate").finish_non_exhaustive()
    }
}

impl CatalogueGate {
    /// The current catalogue, read after this call began.
    pub(crate) async fn current(&self, state: &AppState) -> Result<Arc<Catalogue>, AppError> {
        // The first check that starts after now: the next generation.
        let ticket = self.lock().started + 1;
        loop {
            let notified = self.done.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            let run = {
                let mut g = self.lock();
                if g.finished >= ticket
                    && let Some(answer) = &g.answer
                {
                    return answer.clone().map_err(AppError::internal);
                }
                if g.running {
                    false
                } else {
                    g.running = true;
                    g.started += 1;
                    true
                }
            };
            if !run {
                notified.await;
                continue;
            }
            // If this request is dropped mid-check (its client left), the guard hands the turn
            // over instead of leaving the others waiting for a check that never ends.
            let mut guard = RunGuard {
                gate: self,
                armed: true,
            };
            let answer = state
                .catalogues
                .get(&state.db, None)
                .await
                .map_err(|e| e.to_string());
            guard.armed = false;
            {
                let mut g = self.lock();
                g.running = false;
                g.finished = g.started;
                g.answer = Some(answer);
            }
            self.done.notify_waiters();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        // Plain assignments under the lock: a panic cannot leave it half-written.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Ends an abandoned check: the next waiter runs its own.
struct RunGuard<'a> {
    gate: &'a CatalogueGate,
    armed: bool,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.gate.lock().running = false;
            self.gate.done.notify_waiters();
        }
    }
}

/// How to answer.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SimulationParams {
    /// Compact JSON instead of the command line's pretty-printed output.
    compact: Option<bool>,
}

/// A referencing of the scenario (`docs/rules.md`).
#[derive(ToSchema)]
#[schema(as = ScenarioReferencing)]
#[expect(
    dead_code,
    reason = "documents the wire format of preuves_domain::scenario"
)]
struct ReferencingDoc {
    /// Its NRU.
    nru: String,
    /// The vendor's SIREN (9 digits).
    vendor: String,
    /// The dispositif code.
    dispositif: String,
    /// The wave, 1 or 2.
    wave: u8,
    /// The profiles it holds.
    profiles: Option<Vec<String>>,
    /// The solution's name.
    solution: String,
    /// The main component.
    main_component: String,
    /// The version referenced.
    version: String,
    /// `valid` (default), `suspended` or `withdrawn`.
    status: Option<String>,
}

/// An additional component (R7).
#[derive(ToSchema)]
#[schema(as = ScenarioComponent)]
#[expect(
    dead_code,
    reason = "documents the wire format of preuves_domain::scenario"
)]
struct ComponentDoc {
    /// Its name.
    name: String,
    /// The chapters it is attached to.
    chapters: Vec<String>,
}

/// The candidature of the scenario.
#[derive(ToSchema)]
#[schema(as = ScenarioCandidature)]
#[expect(
    dead_code,
    reason = "documents the wire format of preuves_domain::scenario"
)]
struct CandidatureDoc {
    /// The vendor's SIREN.
    vendor: String,
    /// The target dispositif code.
    dispositif: String,
    /// The target's wave (2 by default; 1 is refused with `target_not_vague2`).
    wave: Option<u8>,
    /// Optional profiles chosen.
    optional_profiles: Option<Vec<String>>,
    /// The solution's name.
    solution: String,
    /// The main component.
    main_component: String,
    /// The candidate version.
    version: String,
    /// NRUs entered at the administrative step.
    nrus: Option<Vec<String>>,
    /// Additional components.
    additional_components: Option<Vec<ComponentDoc>>,
    /// Commercial names.
    commercial_names: Option<Vec<String>>,
    /// Whether the sworn statement is given.
    honour_statement: Option<bool>,
    /// NRUs entered after submission (R5).
    late_nrus: Option<Vec<String>>,
    /// The day the dossier became complete (ISO 8601), for R5.
    complete_on: Option<String>,
}

/// The scenario file of `docs/rules.md` (unknown keys are refused).
#[derive(ToSchema)]
#[schema(as = Scenario)]
#[expect(
    dead_code,
    reason = "documents the wire format of preuves_domain::scenario"
)]
struct ScenarioDoc {
    /// The register the candidature's NRUs are looked up in.
    referencings: Option<Vec<ReferencingDoc>>,
    /// The candidature.
    candidature: CandidatureDoc,
}

/// A refusal of the answer.
#[derive(ToSchema)]
#[schema(as = AnswerError)]
#[expect(
    dead_code,
    reason = "documents the wire format of preuves_domain::scenario"
)]
struct AnswerErrorDoc {
    /// The stable code of `docs/rules.md`.
    code: String,
    /// The French message, naming the rule and the NRU.
    message: String,
    /// The NRU concerned.
    #[schema(required = false)]
    nru: Option<String>,
    /// The rule (`R1`...`R8`).
    #[schema(required = false)]
    rule: Option<String>,
}

/// The counts of the plan.
#[derive(ToSchema)]
#[schema(as = AnswerSummary)]
#[expect(
    dead_code,
    reason = "documents the wire format of preuves_domain::scenario"
)]
struct SummaryDoc {
    /// Requirements in scope.
    in_scope: u64,
    /// Requirements to deposit.
    to_deposit: u64,
    /// Requirements masked by héritage.
    masked_heritage: u64,
    /// Requirements masked by équivalence.
    masked_equivalence: u64,
}

/// Why a requirement has its status.
#[derive(ToSchema)]
#[schema(as = AnswerReason)]
#[expect(
    dead_code,
    reason = "documents the wire format of preuves_domain::scenario"
)]
struct ReasonDoc {
    /// `R2`, `R3` or `R7`.
    rule: String,
    /// The NRU cited (R2, R3).
    #[schema(required = false)]
    nru: Option<String>,
    /// The common requirement of the équivalence dispositif (R2).
    #[schema(required = false)]
    source_requirement: Option<String>,
    /// The additional component (R7).
    #[schema(required = false)]
    component: Option<String>,
}

/// A requirement in scope.
#[derive(ToSchema)]
#[schema(as = AnswerRequirement)]
#[expect(
    dead_code,
    reason = "documents the wire format of preuves_domain::scenario"
)]
struct RequirementDoc {
    /// The requirement id.
    id: String,
    /// `Vague 1` or `Vague 2`.
    perimeter: String,
    /// Its profile.
    profile: String,
    /// Its chapter code.
    chapter: String,
    /// `to_deposit`, `masked_heritage` or `masked_equivalence`.
    status: String,
    /// The reason, `null` for a plain "to deposit".
    reason: Option<ReasonDoc>,
}

/// The answer of `preuves simulate` (`docs/rules.md`): with errors, `summary` is `null` and
/// `requirements` empty.
#[derive(ToSchema)]
#[schema(as = Answer)]
#[expect(
    dead_code,
    reason = "documents the wire format of preuves_domain::scenario"
)]
struct AnswerDoc {
    /// Refusals preventing the plan.
    errors: Vec<AnswerErrorDoc>,
    /// Refusals that block submission only (`missing_honour_statement`).
    warnings: Vec<AnswerErrorDoc>,
    /// The counts, or `null` with errors.
    summary: Option<SummaryDoc>,
    /// The requirements in scope, in REM order.
    requirements: Vec<RequirementDoc>,
}

/// `POST /api/v1/simulations`.
#[utoipa::path(
    post,
    path = "/api/v1/simulations",
    operation_id = "simulations_simulate",
    tag = "simulation",
    summary = "Simule le plan de preuves d'une candidature sur le catalogue de la plateforme",
    description = "Prend le fichier de scénario de `preuves simulate` (docs/rules.md) et répond \
        exactement ce que la commande imprime pour la même entrée et le même catalogue. Les refus \
        du moteur sont dans la réponse (200), pas des erreurs HTTP.",
    params(SimulationParams),
    request_body(content = ScenarioDoc, content_type = "application/json"),
    responses(
        (status = 200, description = "La réponse de la simulation", body = AnswerDoc),
        (status = 400, description = "JSON mal formé (`malformed_json`, avec ligne et colonne)", body = ErrorBody),
        (status = 413, description = "Corps trop volumineux", body = ErrorBody),
        (status = 415, description = "Le corps n'est pas du JSON", body = ErrorBody),
        (status = 422, description = "Scénario invalide (`invalid_scenario`, avec ligne, colonne et clé)", body = ErrorBody),
        Throttled,
    )
)]
pub(crate) async fn simulate(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SimulationParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(AppError::Refused {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message: "Le scénario doit être envoyé en JSON (Content-Type: application/json)."
                .to_owned(),
        });
    }
    let text = std::str::from_utf8(&body).map_err(|_| AppError::Rejected {
        status: StatusCode::BAD_REQUEST,
        errors: vec![ErrorItem {
            code: "malformed_json",
            message: "Le scénario n'est pas du texte UTF-8.".to_owned(),
            field: None,
        }],
    })?;
    let file = ScenarioFile::from_json(text).map_err(|e| {
        // The command line's message (line:column: path : what), the file name aside.
        let syntax =
            e.message.starts_with("JSON mal formé") || e.message.starts_with("le fichier s'arrête");
        AppError::Rejected {
            status: if syntax {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            },
            errors: vec![ErrorItem {
                code: if syntax {
                    "malformed_json"
                } else {
                    "invalid_scenario"
                },
                message: e.to_string(),
                // A syntax error has no key to blame (its path ends with `?`).
                field: (!syntax && !e.path.is_empty()).then(|| e.path.clone()),
            }],
        }
    })?;
    let catalogue = state.simulation_catalogue.current(&state).await?;
    let answer: Answer = file.evaluate(&catalogue);
    let mut out = if params.compact.unwrap_or(false) {
        serde_json::to_string(&answer).map_err(AppError::internal)?
    } else {
        answer.to_json_pretty()
    };
    out.push('\n');
    Ok(json_text(StatusCode::OK, out))
}
