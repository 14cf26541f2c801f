//! The instructor's rules, tested once here: each input's validation (every field at fault, at
//! the 4,000-character limit and past it), and the use cases over a real database (drafts are
//! missing, taking and taking over, handing over only to an active instructor, a refused input
//! changing nothing, a file of another candidature missing). The pages and the API test only
//! their translation (`tests/it/instruction.rs`, `tests/it/api.rs`).

use preuves_db::{
    Actor, AdministrativeStep, CandidatureStatus, Db, NewProof, NewUser, Organisation, Role,
    SolutionFields, StoredCandidature, StoredProof, User, Verdict,
};
use preuves_domain::{DispositifCode, DispositifKey, Siren, Version, Wave};

use super::*;
use crate::app::MAX_TEXT;
use crate::{AppState, WebConfig};

fn codes(errors: &[ErrorItem]) -> Vec<(&str, &str)> {
    errors
        .iter()
        .map(|e| (e.code, e.field.as_deref().unwrap_or("")))
        .collect()
}

fn text(n: usize) -> String {
    "é".repeat(n)
}

// ---- the inputs -----------------------------------------------------------------------------

#[test]
fn a_verdict_needs_a_known_code_and_a_comment_unless_compliant() {
    let ok = |verdict: &str, comment: &str| {
        VerdictInput {
            verdict: verdict.to_owned(),
            comment: comment.to_owned(),
        }
        .validate()
    };
    assert_eq!(
        ok(" compliant ", "  ").unwrap(),
        inputs::ValidVerdict {
            verdict: Verdict::Compliant,
            comment: None
        }
    );
    assert_eq!(
        ok("not_compliant", "  Illisible. ")
            .unwrap()
            .comment
            .as_deref(),
        Some("Illisible.")
    );
    for v in ["not_compliant", "complement_requested"] {
        let errors = ok(v, " ").unwrap_err();
        assert_eq!(codes(&errors), [("invalid_field", "comment")], "{v}");
        assert!(errors[0].message.contains("obligatoire"));
    }
    let errors = ok("conforme", "").unwrap_err();
    assert_eq!(codes(&errors), [("invalid_field", "verdict")]);
    assert_eq!(
        errors[0].message,
        "Choisissez un verdict\u{a0}: conforme (compliant), non conforme (not_compliant) ou complément demandé (complement_requested)."
    );
    // Every field at fault at once.
    let errors = ok("", &text(MAX_TEXT + 1)).unwrap_err();
    assert_eq!(
        codes(&errors),
        [("invalid_field", "verdict"), ("invalid_field", "comment")]
    );
    assert!(
        errors[1].message.contains("4\u{202f}000\u{a0}caractères"),
        "{}",
        errors[1].message
    );
    // The limit counts characters, not bytes.
    assert!(ok("not_compliant", &text(MAX_TEXT)).is_ok());
}

#[test]
fn a_complement_request_needs_a_message_and_known_requirements() {
    let item = |r: &str, c: &str| ComplementItemInput {
        requirement: r.to_owned(),
        comment: c.to_owned(),
    };
    let valid = ComplementInput {
        message: "  Merci de compléter. ".to_owned(),
        items: vec![item(" INS.01 ", " Capture lisible. "), item("INS.02", "")],
    }
    .validate()
    .unwrap();
    assert_eq!(valid.message, "Merci de compléter.");
    assert_eq!(
        valid
            .items
            .iter()
            .map(|(r, c)| (r.to_string(), c.as_str()))
            .collect::<Vec<_>>(),
        [
            ("INS.01".to_owned(), "Capture lisible."),
            ("INS.02".to_owned(), "")
        ]
    );
    let errors = ComplementInput {
        message: " ".to_owned(),
        items: vec![],
    }
    .validate()
    .unwrap_err();
    assert_eq!(
        codes(&errors),
        [("invalid_field", "message"), ("invalid_field", "items")]
    );
    let errors = ComplementInput {
        message: text(MAX_TEXT + 1),
        items: vec![
            item("pas une exigence !", ""),
            item("INS.01", &text(MAX_TEXT + 1)),
        ],
    }
    .validate()
    .unwrap_err();
    assert_eq!(
        codes(&errors),
        [
            ("invalid_field", "message"),
            ("invalid_field", "items"),
            ("invalid_field", "items")
        ]
    );
    assert!(errors[1].message.contains("pas une exigence !"));
    assert!(errors[2].message.contains("INS.01"));
    assert!(
        ComplementInput {
            message: text(MAX_TEXT),
            items: vec![item("INS.01", &text(MAX_TEXT))],
        }
        .validate()
        .is_ok()
    );
}

#[test]
fn a_refusal_needs_a_reason_of_at_most_4000_characters() {
    let refuse = |reason: String| RefusalInput { reason }.validate();
    assert_eq!(
        refuse(" Dossier vide. ".to_owned()).unwrap(),
        "Dossier vide."
    );
    assert_eq!(refuse(text(MAX_TEXT)).unwrap().chars().count(), MAX_TEXT);
    for bad in ["  \n".to_owned(), text(MAX_TEXT + 1)] {
        assert_eq!(
            codes(&refuse(bad).unwrap_err()),
            [("invalid_field", "reason")]
        );
    }
}

#[test]
fn an_assignment_names_an_account() {
    assert_eq!(
        AssignInput {
            instructor: Some(7)
        }
        .validate()
        .unwrap(),
        preuves_db::UserId(7)
    );
    assert_eq!(
        codes(&AssignInput { instructor: None }.validate().unwrap_err()),
        [("invalid_field", "instructor")]
    );
}

#[test]
fn the_queue_filters_are_read_once_and_bad_ones_left_out() {
    let (choice, errors) = QueueInput {
        dispositif: Some(" DUI-MS ".to_owned()),
        wave: None,
        status: Some("in_instruction".to_owned()),
        organisation: Some(3),
        date2_passed: true,
        mine: true,
    }
    .read();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        choice,
        QueueChoice {
            dispositif: Some(DispositifKey {
                code: DispositifCode::parse("DUI-MS").unwrap(),
                wave: Wave::Two
            }),
            status: Some(CandidatureStatus::InInstruction),
            organisation: Some(preuves_db::OrganisationId(3)),
            date2_passed: true,
            mine: true,
        }
    );
    // Blank filters are no filters.
    let (choice, errors) = QueueInput {
        dispositif: Some(" ".to_owned()),
        status: Some(String::new()),
        ..QueueInput::default()
    }
    .read();
    assert_eq!((choice, errors), (QueueChoice::default(), vec![]));
    // A wave other than 1 or 2, a status outside the queue: refused, and left out.
    let (choice, errors) = QueueInput {
        dispositif: Some("DPI".to_owned()),
        wave: Some(3),
        status: Some("draft".to_owned()),
        ..QueueInput::default()
    }
    .read();
    assert_eq!(choice, QueueChoice::default());
    assert_eq!(
        codes(&errors),
        [
            ("invalid_parameter", "dispositif"),
            ("invalid_parameter", "status")
        ]
    );
}

// ---- the use cases --------------------------------------------------------------------------

struct World {
    state: AppState,
    _dir: tempfile::TempDir,
    org: Organisation,
    alice: InstructorCap,
    bob: User,
    vendor: User,
}

async fn user(db: &Db, email: &str, role: Role, org: Option<&Organisation>) -> User {
    db.create_user(
        &NewUser {
            email,
            display_name: email.split('@').next().unwrap_or(email),
            role,
            organisation: org.map(|o| o.id),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2VsLXRlc3Q$aGFzaA",
        },
        &Actor::System,
    )
    .await
    .unwrap()
}

/// The demo catalogue, a vendor organisation and its user, two instructors.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&Db::sqlite_url(&dir.path().join("app.sqlite3")))
        .await
        .unwrap();
    let catalogue = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../demo/catalogue/catalogue.toml");
    let loaded = preuves_import::catalogue::load_catalogue(&catalogue).unwrap();
    db.import_catalogue(&loaded.catalogue, &[], "demo", &Actor::System)
        .await
        .unwrap();
    let org = db
        .create_organisation(
            "Alpha Logiciels",
            &Siren::parse_checked("732829320").unwrap(),
            &Actor::System,
        )
        .await
        .unwrap();
    let vendor = user(&db, "vendeur@alpha.example", Role::Vendor, Some(&org)).await;
    let alice = InstructorCap(user(&db, "alice@ans.example", Role::Instructor, None).await);
    let bob = user(&db, "bob@ans.example", Role::Instructor, None).await;
    World {
        state: AppState::new(db, WebConfig::default()),
        _dir: dir,
        org,
        alice,
        bob,
        vendor,
    }
}

impl World {
    fn db(&self) -> &Db {
        &self.state.db
    }

    async fn audit(&self) -> usize {
        self.db().audit_entries(0, 1_000_000).await.unwrap().len()
    }

    /// A DUI-MS draft of the vendor.
    async fn draft(&self) -> StoredCandidature {
        let solution = self
            .db()
            .create_solution(
                self.org.id,
                &SolutionFields {
                    name: "Alpha DUI".to_owned(),
                    main_component: "alpha-core".to_owned(),
                    versions: vec!["5.0".to_owned()],
                    commercial_names: vec![],
                },
                &Actor::User(self.vendor.id),
            )
            .await
            .unwrap();
        let target = DispositifKey {
            code: DispositifCode::parse("DUI-MS").unwrap(),
            wave: Wave::Two,
        };
        let step = AdministrativeStep {
            solution: solution.id,
            optional_profiles: vec![],
            version: Version::parse("5.0").unwrap(),
            nrus: vec![],
            additional_components: vec![],
            commercial_names: vec![],
            honour_statement: None,
        };
        self.db()
            .create_candidature(self.org.id, &target, &step, &Actor::User(self.vendor.id))
            .await
            .unwrap()
    }

    /// A submitted candidature with one file deposited, its dossier incomplete.
    async fn filed(&self) -> (StoredCandidature, StoredProof) {
        let c = self.draft().await;
        let c = self
            .db()
            .submit_candidature(self.org.id, c.id, c.revision, true, &Actor::System)
            .await
            .unwrap();
        let entry = c
            .plan
            .as_ref()
            .unwrap()
            .entries
            .iter()
            .find(|e| e.is_to_deposit())
            .unwrap();
        let expected = &entry.expected[0];
        let proof = self
            .db()
            .record_proof(
                self.org.id,
                c.id,
                &NewProof {
                    requirement: preuves_domain::RequirementId::parse(&entry.requirement).unwrap(),
                    scenario_index: expected.scenario_index,
                    proof_index: expected.proof_index,
                    blob_key: format!("proofs/app/{}", c.id),
                    file_name: "capture.pdf".to_owned(),
                    content_type: "application/pdf".to_owned(),
                    size: 2_000,
                    sha256: format!("{:064x}", c.id.0),
                },
                &Actor::User(self.vendor.id),
            )
            .await
            .unwrap();
        (c, proof)
    }
}

fn rejected_codes(e: AppError) -> Vec<(&'static str, String)> {
    match e {
        AppError::Rejected { status, errors } => {
            assert_eq!(status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
            errors
                .into_iter()
                .map(|e| (e.code, e.field.unwrap_or_default()))
                .collect()
        }
        other => panic!("not a refusal of the input: {other:?}"),
    }
}

#[tokio::test]
async fn a_draft_is_no_instructor_s_business() {
    let w = world().await;
    let draft = w.draft().await;
    let cap = &w.alice;
    let before = w.audit().await;
    assert!(matches!(
        candidature(&w.state, cap, draft.id).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        take(&w.state, cap, draft.id).await,
        Err(AppError::NotFound)
    ));
    let to_bob = AssignInput {
        instructor: Some(w.bob.id.0),
    };
    assert!(matches!(
        assign(&w.state, cap, draft.id, &to_bob).await,
        Err(AppError::NotFound)
    ));
    let reason = RefusalInput {
        reason: "Non.".to_owned(),
    };
    assert!(matches!(
        refuse(&w.state, cap, draft.id, &reason).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        history(&w.state, cap, draft.id).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        candidature(&w.state, cap, preuves_db::CandidatureId(draft.id.0 + 1000)).await,
        Err(AppError::NotFound)
    ));
    assert_eq!(w.audit().await, before, "nothing changed");
}

#[tokio::test]
async fn taking_starts_instruction_then_takes_over() {
    let w = world().await;
    let (c, _) = w.filed().await;
    let queued = queue(&w.state, &w.alice, &QueueChoice::default())
        .await
        .unwrap();
    assert_eq!(queued.len(), 1);
    let mine = QueueChoice {
        mine: true,
        ..QueueChoice::default()
    };
    assert!(queue(&w.state, &w.alice, &mine).await.unwrap().is_empty());

    let taken = take(&w.state, &w.alice, c.id).await.unwrap();
    assert!(taken.started);
    assert_eq!(taken.candidature.status, CandidatureStatus::InInstruction);
    assert_eq!(taken.candidature.assigned_to, Some(w.alice.0.id));
    assert_eq!(queue(&w.state, &w.alice, &mine).await.unwrap().len(), 1);

    let bob = InstructorCap(w.bob.clone());
    let over = take(&w.state, &bob, c.id).await.unwrap();
    assert!(!over.started, "already in instruction: taken over");
    assert_eq!(over.candidature.assigned_to, Some(w.bob.id));
    assert!(queue(&w.state, &w.alice, &mine).await.unwrap().is_empty());
    let actions: Vec<String> = history(&w.state, &bob, c.id)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.action)
        .collect();
    assert_eq!(
        actions,
        [
            "candidature.create",
            "candidature.submit",
            "proof.deposit",
            "candidature.status",
            "candidature.assign"
        ]
    );
}

#[tokio::test]
async fn a_candidature_is_handed_only_to_an_active_instructor() {
    let w = world().await;
    let (c, _) = w.filed().await;
    take(&w.state, &w.alice, c.id).await.unwrap();
    let carol = user(w.db(), "carol@ans.example", Role::Instructor, None).await;
    w.db()
        .set_user_disabled(carol.id, true, &Actor::System)
        .await
        .unwrap();
    let admin = user(w.db(), "admin@ans.example", Role::Admin, None).await;
    let before = w.audit().await;
    let to = |id: Option<i64>| AssignInput { instructor: id };
    for (input, code) in [
        (to(None), "invalid_field"),
        (to(Some(999_999)), "unknown_instructor"),
        (to(Some(w.vendor.id.0)), "not_an_instructor"),
        (to(Some(admin.id.0)), "not_an_instructor"),
        (to(Some(carol.id.0)), "not_an_instructor"),
    ] {
        let e = assign(&w.state, &w.alice, c.id, &input).await.unwrap_err();
        assert_eq!(
            rejected_codes(e),
            [(code, "instructor".to_owned())],
            "{input:?}"
        );
    }
    assert_eq!(
        w.audit().await,
        before,
        "no refused assignment changed anything"
    );
    assert_eq!(
        instructors(&w.state)
            .await
            .unwrap()
            .iter()
            .map(|u| u.id)
            .collect::<Vec<_>>(),
        [w.alice.0.id, w.bob.id],
        "the disabled instructor is not offered"
    );

    let assigned = assign(&w.state, &w.alice, c.id, &to(Some(w.bob.id.0)))
        .await
        .unwrap();
    assert_eq!(assigned.instructor.id, w.bob.id);
    assert_eq!(assigned.candidature.assigned_to, Some(w.bob.id));
    assert_eq!(w.audit().await, before + 1, "one audited act");
}

#[tokio::test]
async fn a_refused_input_changes_nothing_and_files_belong_to_their_candidature() {
    let w = world().await;
    let (c, file) = w.filed().await;
    let (other, other_file) = w.filed().await;
    take(&w.state, &w.alice, c.id).await.unwrap();
    let before = w.audit().await;
    let no_comment = VerdictInput {
        verdict: "not_compliant".to_owned(),
        comment: String::new(),
    };
    let e = verdict(&w.state, &w.alice, c.id, file.id, &no_comment)
        .await
        .unwrap_err();
    assert_eq!(rejected_codes(e), [("invalid_field", "comment".to_owned())]);
    let e = request_complements(&w.state, &w.alice, c.id, &ComplementInput::default())
        .await
        .unwrap_err();
    assert_eq!(
        rejected_codes(e),
        [
            ("invalid_field", "message".to_owned()),
            ("invalid_field", "items".to_owned())
        ]
    );
    let e = refuse(&w.state, &w.alice, c.id, &RefusalInput::default())
        .await
        .unwrap_err();
    assert_eq!(rejected_codes(e), [("invalid_field", "reason".to_owned())]);
    assert_eq!(w.audit().await, before);

    // Another candidature's file is missing here, whatever the verdict.
    let compliant = VerdictInput {
        verdict: "compliant".to_owned(),
        comment: String::new(),
    };
    assert!(matches!(
        verdict(&w.state, &w.alice, c.id, other_file.id, &compliant).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        proof(&w.state, &w.alice, c.id, other_file.id).await,
        Err(AppError::NotFound)
    ));
    let (seen, found) = proof(&w.state, &w.alice, other.id, other_file.id)
        .await
        .unwrap();
    assert_eq!((seen.id, found.id), (other.id, other_file.id));

    let judged = verdict(&w.state, &w.alice, c.id, file.id, &compliant)
        .await
        .unwrap();
    assert_eq!(Verdict::of(&judged), Some(Verdict::Compliant));
    let refused = refuse(
        &w.state,
        &w.alice,
        c.id,
        &RefusalInput {
            reason: " Dossier vide. ".to_owned(),
        },
    )
    .await
    .unwrap();
    assert_eq!(refused.status, CandidatureStatus::Refused);
    assert_eq!(refused.status_reason.as_deref(), Some("Dossier vide."));
}
