//! The vendor's business rules, tested once at the service level (the page and API suites test
//! only their translation): own candidatures only, the step's validation and R10, optimistic
//! concurrency, the frozen step, what blocks a submission, R5's input, the answer's limit, the
//! deposit rules and the cited-referencing warnings.

use axum::http::StatusCode;
use preuves_db::{
    Actor, CandidatureStatus, Db, NewReferencing, NewUser, Role, StoredCandidature,
    WorkflowConflict,
};
use preuves_domain::{
    DispositifCode, DispositifKey, IsoDate, Nru, ReferencingStatus, Siren, Version, Wave,
};

use super::filed::{self, LateNrusInput, SubmitInput};
use super::step;
use crate::app::solutions::{self as solution_uses, SolutionInput};
use crate::app::step::{StepInput, TargetInput};
use crate::app::{deposits, fields};
use crate::error::AppError;
use crate::security::VendorCap;
use crate::{AppState, WebConfig};

/// A platform over a fresh database with the demo catalogue, and two vendors of two
/// organisations.
struct World {
    state: AppState,
    alpha: VendorCap,
    beta: VendorCap,
    _dir: tempfile::TempDir,
}

async fn vendor(db: &Db, name: &str, siren: &str) -> VendorCap {
    let organisation = db
        .create_organisation(name, &Siren::parse_checked(siren).unwrap(), &Actor::System)
        .await
        .unwrap()
        .id;
    let user = db
        .create_user(
            &NewUser {
                email: &format!("{siren}@example.fr"),
                display_name: name,
                role: Role::Vendor,
                organisation: Some(organisation),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            },
            &Actor::System,
        )
        .await
        .unwrap();
    VendorCap { user, organisation }
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&Db::sqlite_url(&dir.path().join("app.sqlite3")))
        .await
        .unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../demo/catalogue/catalogue.toml");
    let loaded = preuves_import::catalogue::load_catalogue(&path).unwrap();
    db.import_catalogue(&loaded.catalogue, &[], "demo", &Actor::System)
        .await
        .unwrap();
    let alpha = vendor(&db, "Alpha Logiciels", "732829320").await;
    let beta = vendor(&db, "Bêta Santé", "552100554").await;
    World {
        state: AppState::new(db, WebConfig::default()),
        alpha,
        beta,
        _dir: dir,
    }
}

fn dui_ms() -> TargetInput {
    TargetInput {
        dispositif: "DUI-MS".to_owned(),
        wave: 2,
    }
}

/// A step of `solution` with these NRUs and commercial names.
fn step_of(solution: i64, nrus: &[&str], names: &[&str]) -> StepInput {
    StepInput {
        solution: Some(solution),
        version: "5.0".to_owned(),
        nrus: nrus.iter().map(|n| (*n).to_owned()).collect(),
        commercial_names: names.iter().map(|n| (*n).to_owned()).collect(),
        ..StepInput::default()
    }
}

async fn solution(w: &World, vendor: &VendorCap) -> i64 {
    solution_uses::create(
        &w.state,
        vendor,
        &SolutionInput {
            name: "Alpha DUI".to_owned(),
            main_component: "Alpha DUI-core".to_owned(),
            versions: vec!["5.0".to_owned()],
            commercial_names: vec!["Alpha DUI".to_owned()],
        },
    )
    .await
    .unwrap()
    .id
    .0
}

/// A draft of `vendor` opened through the use cases.
async fn draft(w: &World, vendor: &VendorCap, input: &StepInput) -> step::Saved {
    let evaluation = step::evaluate(&w.state, vendor, None, &dui_ms(), input)
        .await
        .unwrap();
    step::create(&w.state, vendor, &evaluation).await.unwrap()
}

fn codes(e: &AppError) -> Vec<(&'static str, Option<String>)> {
    match e {
        AppError::Rejected { status, errors } => {
            assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY);
            errors.iter().map(|e| (e.code, e.field.clone())).collect()
        }
        other => panic!("not a refusal of fields: {other:?}"),
    }
}

fn conflict_code(e: &AppError) -> &'static str {
    match e {
        AppError::Conflict { code, .. } => code,
        other => panic!("not a conflict: {other:?}"),
    }
}

#[tokio::test]
async fn another_organisation_s_candidature_and_solution_are_not_found() {
    let w = world().await;
    let s = solution(&w, &w.alpha).await;
    let saved = draft(&w, &w.alpha, &step_of(s, &[], &[])).await;
    let id = saved.candidature.id.to_string();
    assert!(super::own(&w.state, &w.alpha, &id).await.is_ok());
    assert!(matches!(
        super::own(&w.state, &w.beta, &id).await,
        Err(AppError::NotFound)
    ));
    // Not found before anything is judged, even with fields at fault.
    let update = solution_uses::update(
        &w.state,
        &w.beta,
        preuves_db::SolutionId(s),
        1,
        &SolutionInput::default(),
    )
    .await;
    assert!(matches!(update, Err(AppError::NotFound)), "{update:?}");
}

#[tokio::test]
async fn a_step_is_refused_for_its_fields_but_stored_despite_the_engine_s_refusals() {
    let w = world().await;
    let s = solution(&w, &w.alpha).await;
    // Fields at fault: nothing is opened, every field is named.
    let target = TargetInput {
        dispositif: "MS1".to_owned(),
        wave: 1,
    };
    let mut input = step_of(s + 1000, &["pas un NRU !"], &[]);
    input.version = String::new();
    let evaluation = step::evaluate(&w.state, &w.alpha, None, &target, &input)
        .await
        .unwrap();
    assert!(evaluation.live.is_none(), "no target, no plan");
    let e = step::create(&w.state, &w.alpha, &evaluation)
        .await
        .err()
        .unwrap();
    assert_eq!(
        codes(&e),
        [
            ("target_not_vague2", Some("wave".to_owned())),
            ("invalid_field", Some("solution".to_owned())),
            ("invalid_field", Some("version".to_owned())),
            ("invalid_field", Some("nrus".to_owned())),
        ]
    );
    // An NRU unknown to the register: the engine refuses the plan, the step is stored as
    // entered and the refusal counted.
    let saved = draft(&w, &w.alpha, &step_of(s, &["REF-NOPE-2-0009"], &[])).await;
    assert_eq!(saved.refusals, 1);
    assert_eq!(saved.candidature.status, CandidatureStatus::Draft);
    let live = super::plan(&w.state, &saved.candidature).await.unwrap();
    assert!(live.outcome.is_err());
    // Such a draft takes no proof.
    let e = deposits::deposit_plan(&w.state, &saved.candidature)
        .await
        .err()
        .unwrap();
    assert_eq!(conflict_code(&e), "conflict");
}

#[tokio::test]
async fn a_draft_is_saved_on_its_revision_and_frozen_once_filed() {
    let w = world().await;
    let s = solution(&w, &w.alpha).await;
    let c = draft(&w, &w.alpha, &step_of(s, &[], &[])).await.candidature;
    let id = c.id.to_string();
    let save = |revision: i64, version: &str| {
        let mut input = step_of(s, &[], &[]);
        input.version = version.to_owned();
        let (w, c) = (&w, &c);
        async move {
            let checked = step::check(&w.state, &w.alpha, Some(c), &TargetInput::default(), &input)
                .await
                .unwrap();
            step::save(&w.state, &w.alpha, c, revision, &checked).await
        }
    };
    let saved = save(c.revision, "5.1").await.unwrap();
    assert_eq!(saved.step.version.to_string(), "5.1");
    let stale = save(c.revision, "5.2").await.err().unwrap();
    assert!(filed::is_stale(&stale), "{stale:?}");
    // Filed: the step is frozen, a second submission is refused.
    let submit = SubmitInput {
        revision: saved.revision,
        confirm_incomplete: false,
    };
    let e = filed::submit(&w.state, &w.alpha, &saved, submit)
        .await
        .err()
        .unwrap();
    assert!(filed::is_incomplete_dossier(&e), "{e:?}");
    let submitted = filed::submit(
        &w.state,
        &w.alpha,
        &saved,
        SubmitInput {
            confirm_incomplete: true,
            ..submit
        },
    )
    .await
    .unwrap();
    assert_eq!(submitted.status, CandidatureStatus::Submitted);
    let e = super::own_draft(&w.state, &w.alpha, &id)
        .await
        .err()
        .unwrap();
    assert_eq!(conflict_code(&e), WorkflowConflict::NotDraft.code());
    let e = filed::submit(&w.state, &w.alpha, &submitted, submit)
        .await
        .err()
        .unwrap();
    assert_eq!(conflict_code(&e), WorkflowConflict::AlreadySubmitted.code());
    // Filed: deposits stay open, the sworn statement does not (it belongs to the step).
    assert!(deposits::check_open(&submitted).is_ok());
    assert!(deposits::check_honour_open(&submitted).is_err());
}

#[tokio::test]
async fn several_commercial_names_need_the_sworn_statement_to_submit() {
    let w = world().await;
    let s = solution(&w, &w.alpha).await;
    let c = draft(
        &w,
        &w.alpha,
        &step_of(s, &[], &["Alpha", "Alpha Plus", "Alpha"]),
    )
    .await
    .candidature;
    assert_eq!(
        c.step.commercial_names,
        ["Alpha", "Alpha Plus"],
        "deduplicated"
    );
    let e = filed::submit(
        &w.state,
        &w.alpha,
        &c,
        SubmitInput {
            revision: c.revision,
            confirm_incomplete: true,
        },
    )
    .await
    .err()
    .unwrap();
    assert_eq!(
        codes(&e),
        [(
            "missing_honour_statement",
            Some("honour_statement".to_owned())
        )]
    );
    let stored: StoredCandidature = super::own(&w.state, &w.alpha, &c.id.to_string())
        .await
        .unwrap();
    assert_eq!(stored.status, CandidatureStatus::Draft, "nothing filed");
}

#[tokio::test]
async fn late_nrus_need_a_filed_candidature_and_well_formed_nrus() {
    let w = world().await;
    let s = solution(&w, &w.alpha).await;
    let c = draft(&w, &w.alpha, &step_of(s, &[], &[])).await.candidature;
    let id = c.id.to_string();
    let e = super::own_for_late_nrus(&w.state, &w.alpha, &id)
        .await
        .err()
        .unwrap();
    assert_eq!(conflict_code(&e), WorkflowConflict::NotSubmitted.code());
    let input = |nrus: &[&str]| LateNrusInput {
        revision: c.revision,
        nrus: nrus.iter().map(|n| (*n).to_owned()).collect(),
    };
    let e = filed::late_nrus(&w.state, &w.alpha, &c, &input(&[" "]))
        .await
        .err()
        .unwrap();
    assert_eq!(codes(&e), [("invalid_field", Some("nrus".to_owned()))]);
    let e = filed::late_nrus(&w.state, &w.alpha, &c, &input(&["REF-1", "pas bon !"]))
        .await
        .err()
        .unwrap();
    assert!(
        e.message().contains("«\u{a0}pas bon !\u{a0}»"),
        "{}",
        e.message()
    );
    // At most as many NRUs as the document states (`maxItems`).
    let many: Vec<String> = (0..=crate::app::fields::MAX_ITEMS)
        .map(|i| format!("REF-DPI-2-{i:04}"))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let e = filed::late_nrus(&w.state, &w.alpha, &c, &input(&many))
        .await
        .err()
        .unwrap();
    assert_eq!(codes(&e), [("invalid_field", Some("nrus".to_owned()))]);
}

#[tokio::test]
async fn an_answer_is_judged_before_the_candidature_s_state() {
    let w = world().await;
    let s = solution(&w, &w.alpha).await;
    let c = draft(&w, &w.alpha, &step_of(s, &[], &[])).await.candidature;
    let e = filed::answer_complements(&w.state, &w.alpha, &c, &"x".repeat(filed::MAX_ANSWER + 1))
        .await
        .err()
        .unwrap();
    assert_eq!(codes(&e), [("invalid_field", Some("message".to_owned()))]);
    let e = filed::answer_complements(&w.state, &w.alpha, &c, "Fait.")
        .await
        .err()
        .unwrap();
    assert!(
        fields::is_conflict(&e, WorkflowConflict::NoOpenComplementRequest.code()),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_cited_referencing_suspended_since_is_a_warning() {
    let w = world().await;
    let nru = Nru::parse("REF-ALPHA-2-0001").unwrap();
    w.state
        .db
        .insert_referencing(
            &NewReferencing {
                nru: nru.clone(),
                organisation: w.alpha.organisation,
                dispositif: DispositifKey {
                    code: DispositifCode::parse("DPI").unwrap(),
                    wave: Wave::Two,
                },
                profiles: vec![],
                solution: "Alpha DPI".to_owned(),
                main_component: "core".to_owned(),
                version: Version::parse("1.0").unwrap(),
                commercial_names: vec!["Alpha DPI".to_owned()],
                granted_on: IsoDate::parse("2026-01-15").unwrap(),
                status: ReferencingStatus::Valid,
                status_reason: None,
            },
            &Actor::System,
        )
        .await
        .unwrap();
    let s = solution(&w, &w.alpha).await;
    let c = draft(&w, &w.alpha, &step_of(s, &["REF-ALPHA-2-0001"], &[]))
        .await
        .candidature;
    assert!(super::warnings(&w.state, &c).await.unwrap().is_empty());
    w.state
        .db
        .set_referencing_status(&nru, ReferencingStatus::Withdrawn, None, &Actor::System)
        .await
        .unwrap();
    let warnings = super::warnings(&w.state, &c).await.unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("REF-ALPHA-2-0001"), "{}", warnings[0]);
    assert!(
        warnings[0].contains("Le plan n'a pas été modifié"),
        "{}",
        warnings[0]
    );
}
