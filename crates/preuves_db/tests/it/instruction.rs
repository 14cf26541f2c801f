//! Instruction, decisions, the issued NRU, the public register and the audit trail: the queue,
//! the holder's lock, verdicts, complement requests, refusal and the two-phase grant, the granted
//! referencing reused by a later candidature, register search, suspension and citing
//! candidatures, history, and tampering with the trail.

use std::sync::atomic::{AtomicUsize, Ordering};

use preuves_db::{
    Actor, AuditBreakKind, CandidatureStatus, Db, DbError, GapKind, HonourStatement,
    LateNrusOutcome, ManifestBasis, NewProof, NewUser, Organisation, PlanSnapshot, ProofId,
    QueueFilters, Refused, RegisterQuery, RequiredText, Role, SolutionFields, StoredCandidature,
    StoredProof, User, Verdict, WorkflowConflict, instruction_gaps,
};
use preuves_domain::{
    AdditionalComponent, ChapterCode, DispositifCode, IsoDate, IssuedNru, Nru, ParisTime,
    ReferencingStatus, RefusalCode, Siren, VerificationCode, Version, Wave, looks_issued,
};

use crate::fixtures::{key, new_referencing, seed_catalogue, vendor};
use crate::helpers::{for_each_backend, is_sqlite};

/// Blob numbers, unique across the whole test binary.
static BLOBS: AtomicUsize = AtomicUsize::new(0);

struct World {
    org: Organisation,
    other: Organisation,
    alice: User,
    bob: User,
    vera: User,
}

async fn user(db: &Db, email: &str, name: &str, role: Role, org: Option<&Organisation>) -> User {
    db.create_user(
        &NewUser {
            email,
            display_name: name,
            role,
            organisation: org.map(|o| o.id),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2VsLXRlc3Q$aGFzaA",
        },
        &Actor::System,
    )
    .await
    .unwrap()
}

/// The fixtures' catalogue, two vendors, two instructors and a vendor user.
async fn world(db: &Db) -> World {
    seed_catalogue(db).await;
    let org = vendor(db).await;
    let other = db
        .create_organisation(
            "Autre Éditeur",
            &Siren::parse("552100554").unwrap(),
            &Actor::System,
        )
        .await
        .unwrap();
    let alice = user(
        db,
        "alice@ans.example",
        "Alice Martin",
        Role::Instructor,
        None,
    )
    .await;
    let bob = user(db, "bob@ans.example", "Bob Durand", Role::Instructor, None).await;
    let vera = user(
        db,
        "vera@a.example",
        "Vera Éditrice",
        Role::Vendor,
        Some(&org),
    )
    .await;
    World {
        org,
        other,
        alice,
        bob,
        vera,
    }
}

fn by(u: &User) -> Actor {
    Actor::User(u.id)
}

fn assert_conflict<T: std::fmt::Debug>(
    result: preuves_db::Result<T>,
    conflict: impl Into<preuves_db::Conflict>,
) {
    let conflict = conflict.into();
    let err = result.unwrap_err();
    assert!(
        err.is_conflict(conflict),
        "expected {}, got {err:?}",
        conflict.code()
    );
}

/// Asserts that `result` broke the API's contract ([`DbError::Contract`]).
fn assert_contract<T: std::fmt::Debug>(result: preuves_db::Result<T>) {
    let err = result.unwrap_err();
    assert!(matches!(err, DbError::Contract(_)), "{err:?}");
}

/// Asserts that `result` is the refusal `pattern` (a [`preuves_db::Refused`] pattern).
macro_rules! assert_refused {
    ($result:expr, $pattern:pat) => {{
        let err = $result.unwrap_err();
        assert!(matches!(err, DbError::Refused($pattern)), "{err:?}");
    }};
}

/// What a candidature of the tests declares.
#[derive(Clone, Default)]
struct Spec {
    nrus: Vec<String>,
    profiles: Vec<&'static str>,
    components: Vec<AdditionalComponent>,
    names: Vec<&'static str>,
}

/// A draft of `org` on `target` (vague 2), with a new solution `A` (main component `A-core`,
/// version 4.3).
async fn draft(db: &Db, org: &Organisation, target: &str, spec: &Spec) -> StoredCandidature {
    let solution = db
        .create_solution(
            org.id,
            &SolutionFields {
                name: "A".to_owned(),
                main_component: "A-core".to_owned(),
                versions: vec!["4.3".to_owned()],
                commercial_names: vec![],
            },
            &Actor::System,
        )
        .await
        .unwrap();
    let step = preuves_db::AdministrativeStep {
        solution: solution.id,
        optional_profiles: spec
            .profiles
            .iter()
            .map(|p| preuves_domain::Profile::parse(p).unwrap())
            .collect(),
        version: Version::parse("4.3").unwrap(),
        nrus: spec.nrus.iter().map(|n| Nru::parse(n).unwrap()).collect(),
        additional_components: spec.components.clone(),
        commercial_names: spec.names.iter().map(|n| (*n).to_owned()).collect(),
        honour_statement: (!spec.names.is_empty()).then(|| HonourStatement {
            blob_key: format!("honour/{}", BLOBS.fetch_add(1, Ordering::Relaxed)),
            file_name: "attestation sur l'honneur.pdf".to_owned(),
            sha256: None,
            size: None,
        }),
    };
    db.create_candidature(org.id, &key(target, 2), &step, &Actor::System)
        .await
        .unwrap()
}

/// Deposits one file for an expected proof.
async fn deposit(
    db: &Db,
    c: &StoredCandidature,
    requirement: &str,
    scenario: i64,
    proof: i64,
) -> StoredProof {
    let n = BLOBS.fetch_add(1, Ordering::Relaxed);
    db.record_proof(
        c.organisation,
        c.id,
        &NewProof {
            requirement: preuves_domain::RequirementId::parse(requirement).unwrap(),
            scenario_index: scenario,
            proof_index: proof,
            blob_key: format!("proofs/instruction/{n:06}"),
            file_name: format!("preuve {n}.pdf"),
            content_type: "application/pdf".to_owned(),
            size: 2_000,
            sha256: format!("{n:064x}"),
        },
        &Actor::System,
    )
    .await
    .unwrap()
}

/// Deposits a file for every expected proof of `plan`.
async fn deposit_all(db: &Db, c: &StoredCandidature, plan: &PlanSnapshot) {
    for e in plan.entries.iter().filter(|e| e.is_to_deposit()) {
        for x in &e.expected {
            deposit(db, c, &e.requirement, x.scenario_index, x.proof_index).await;
        }
    }
}

/// A submitted candidature, its dossier complete when `complete`.
async fn filed(
    db: &Db,
    org: &Organisation,
    target: &str,
    spec: &Spec,
    complete: bool,
) -> StoredCandidature {
    let c = draft(db, org, target, spec).await;
    if complete {
        let plan = db.candidature_plan(&c).await.unwrap().unwrap();
        deposit_all(db, &c, &plan).await;
    }
    db.submit_candidature(org.id, c.id, c.revision, true, &Actor::System)
        .await
        .unwrap()
}

/// Takes `c` into instruction as `u`.
async fn take(db: &Db, c: &StoredCandidature, u: &User) -> StoredCandidature {
    db.set_candidature_status(
        c.id,
        CandidatureStatus::InInstruction,
        Some("prise en charge"),
        &by(u),
    )
    .await
    .unwrap()
}

/// Judges every current file of `c` compliant, as `u`.
async fn judge_all(db: &Db, c: &StoredCandidature, u: &User) {
    let proofs = db.list_proofs(c.id).await.unwrap();
    for p in preuves_db::current_proofs(&proofs) {
        db.record_verdict(p.id, Verdict::Compliant, None, &by(u))
            .await
            .unwrap();
    }
}

fn sha(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// A verification code of mixed characters, different for each `n`.
fn code(n: u8) -> VerificationCode {
    VerificationCode::from_random_bytes(std::array::from_fn(|i| {
        n.wrapping_mul(7).wrapping_add(13 * i as u8)
    }))
}

async fn audit_count(db: &Db) -> usize {
    db.audit_entries(0, 1_000_000).await.unwrap().len()
}

fn ids(entries: &[preuves_db::QueueEntry]) -> Vec<i64> {
    entries.iter().map(|e| e.candidature.0).collect()
}

#[tokio::test]
async fn the_queue_puts_complete_dossiers_first_then_by_submission_and_filters() {
    for_each_backend(|db| async move {
        let w = world(&db).await;
        let spec = Spec::default();
        let c1 = filed(&db, &w.org, "DUI-MS", &spec, false).await;
        let c2 = filed(&db, &w.org, "DUI-MS", &spec, true).await;
        let c3 = filed(&db, &w.other, "DPI", &spec, true).await;
        draft(&db, &w.org, "DUI-MS", &spec).await;
        // Two files for the same expected proof: only the newer one counts.
        deposit(&db, &c1, "INS.01", 0, 0).await;
        deposit(&db, &c1, "INS.01", 0, 0).await;

        let all = QueueFilters::default();
        let queue = db.list_instruction_queue(&all).await.unwrap();
        assert_eq!(ids(&queue), [c2.id.0, c3.id.0, c1.id.0], "complete first");
        let e2 = &queue[0];
        assert_eq!(e2.vendor_name, "Éditeur A");
        assert_eq!(e2.target, key("DUI-MS", 2));
        assert_eq!(e2.dispositif_name, "DUI-MS vague 2");
        assert_eq!(e2.date2, Some(IsoDate::parse("2027-03-31").unwrap()));
        assert_eq!(e2.status, CandidatureStatus::Submitted);
        assert_eq!(e2.submitted_at, c2.submitted_at);
        assert!(e2.complete_at.is_some());
        assert_eq!((e2.current_proofs, e2.proofs_awaiting_verdict), (7, 7));
        assert_eq!(
            (queue[1].current_proofs, queue[1].vendor_name.as_str()),
            (5, "Autre Éditeur")
        );
        assert_eq!(
            (queue[2].current_proofs, queue[2].proofs_awaiting_verdict),
            (1, 1)
        );
        assert!(queue[2].complete_at.is_none());

        // Taking c3 assigns it; a verdict lowers its count.
        take(&db, &c3, &w.alice).await;
        let p = db.list_proofs(c3.id).await.unwrap()[0].clone();
        db.record_verdict(p.id, Verdict::Compliant, None, &by(&w.alice))
            .await
            .unwrap();
        let queue = db.list_instruction_queue(&all).await.unwrap();
        let e3 = queue.iter().find(|e| e.candidature == c3.id).unwrap();
        assert_eq!(e3.status, CandidatureStatus::InInstruction);
        assert_eq!(e3.assigned_to, Some(w.alice.id));
        assert_eq!(e3.assigned_name.as_deref(), Some("Alice Martin"));
        assert_eq!((e3.current_proofs, e3.proofs_awaiting_verdict), (5, 4));

        let filtered = |f: QueueFilters| {
            let db = db.clone();
            async move { ids(&db.list_instruction_queue(&f).await.unwrap()) }
        };
        assert_eq!(
            filtered(QueueFilters {
                dispositif: Some(key("DPI", 2)),
                ..QueueFilters::default()
            })
            .await,
            [c3.id.0]
        );
        assert_eq!(
            filtered(QueueFilters {
                organisation: Some(w.org.id),
                ..QueueFilters::default()
            })
            .await,
            [c2.id.0, c1.id.0]
        );
        assert_eq!(
            filtered(QueueFilters {
                status: Some(CandidatureStatus::InInstruction),
                ..QueueFilters::default()
            })
            .await,
            [c3.id.0]
        );
        assert_eq!(
            filtered(QueueFilters {
                assigned_to: Some(w.alice.id),
                ..QueueFilters::default()
            })
            .await,
            [c3.id.0]
        );
        assert!(
            filtered(QueueFilters {
                assigned_to: Some(w.bob.id),
                ..QueueFilters::default()
            })
            .await
            .is_empty()
        );
        // "Date 2 passed": the fixtures' date 2 is 2027-03-31.
        let passed_on = |day: &str| QueueFilters {
            date2_before: Some(IsoDate::parse(day).unwrap()),
            ..QueueFilters::default()
        };
        assert_eq!(filtered(passed_on("2027-04-01")).await.len(), 3);
        assert!(filtered(passed_on("2027-03-31")).await.is_empty());
        assert_eq!(
            filtered(QueueFilters {
                dispositif: Some(key("DUI-MS", 2)),
                status: Some(CandidatureStatus::Submitted),
                organisation: Some(w.org.id),
                date2_before: Some(IsoDate::parse("2028-01-01").unwrap()),
                assigned_to: None,
            })
            .await,
            [c2.id.0, c1.id.0]
        );
        assert_refused!(
            db.list_instruction_queue(&QueueFilters {
                status: Some(CandidatureStatus::Draft),
                ..QueueFilters::default()
            })
            .await,
            Refused::QueueStatusNotUnderReview
        );

        // Completed later, c1 is still ordered by its (earlier) submission.
        let plan = c1.plan.clone().unwrap();
        for e in plan.entries.iter().filter(|e| e.is_to_deposit()) {
            for x in &e.expected {
                if e.requirement != "INS.01" {
                    deposit(&db, &c1, &e.requirement, x.scenario_index, x.proof_index).await;
                }
            }
        }
        let queue = db.list_instruction_queue(&all).await.unwrap();
        assert!(queue[0].complete_at.is_some());
        assert_eq!(ids(&queue), [c1.id.0, c2.id.0, c3.id.0]);
    })
    .await;
}

#[tokio::test]
async fn the_holder_alone_may_act_until_the_candidature_is_reassigned() {
    for_each_backend(|db| async move {
        let w = world(&db).await;
        let c = filed(&db, &w.org, "DUI-MS", &Spec::default(), true).await;
        let proof = db.list_proofs(c.id).await.unwrap()[0].clone();

        // Assigned while submitted: only Bob can take it into instruction.
        let assigned = db
            .assign_candidature(c.id, w.bob.id, &Actor::System)
            .await
            .unwrap();
        assert_eq!(assigned.assigned_to, Some(w.bob.id));
        assert_eq!(assigned.revision, c.revision, "assignment is no edit");
        assert_conflict(
            db.set_candidature_status(c.id, CandidatureStatus::InInstruction, None, &by(&w.alice))
                .await,
            WorkflowConflict::AssignedElsewhere,
        );
        let taken = take(&db, &c, &w.bob).await;
        assert_eq!(taken.assigned_to, Some(w.bob.id));

        // Alice is locked out of every instruction act.
        let before = audit_count(&db).await;
        assert_conflict(
            db.record_verdict(proof.id, Verdict::Compliant, None, &by(&w.alice))
                .await,
            WorkflowConflict::AssignedElsewhere,
        );
        assert_conflict(
            db.request_complements(c.id, &[], "Compléments", &by(&w.alice))
                .await,
            WorkflowConflict::AssignedElsewhere,
        );
        assert_conflict(
            db.refuse_candidature(c.id, "non", &by(&w.alice)).await,
            WorkflowConflict::AssignedElsewhere,
        );
        assert_conflict(
            db.prepare_grant(c.id, &by(&w.alice)).await,
            WorkflowConflict::AssignedElsewhere,
        );
        assert_eq!(audit_count(&db).await, before, "refusals leave no trace");
        db.record_verdict(proof.id, Verdict::Compliant, None, &by(&w.bob))
            .await
            .unwrap();

        // Reassigned to Alice: now Bob is locked out.
        db.assign_candidature(c.id, w.alice.id, &by(&w.bob))
            .await
            .unwrap();
        assert_conflict(
            db.record_verdict(proof.id, Verdict::Compliant, None, &by(&w.bob))
                .await,
            WorkflowConflict::AssignedElsewhere,
        );
        db.record_verdict(proof.id, Verdict::Compliant, None, &by(&w.alice))
            .await
            .unwrap();
        // Instruction acts name a person.
        assert_contract(
            db.record_verdict(proof.id, Verdict::Compliant, None, &Actor::System)
                .await,
        );

        // Only active instructor accounts, only candidatures under review.
        assert_refused!(
            db.assign_candidature(c.id, w.vera.id, &Actor::System).await,
            Refused::NotAnActiveInstructor(_)
        );
        assert_refused!(
            db.assign_candidature(c.id, preuves_db::UserId(9_999), &Actor::System)
                .await,
            Refused::NotAnActiveInstructor(_)
        );
        db.set_user_disabled(w.bob.id, true, &Actor::System)
            .await
            .unwrap();
        assert_refused!(
            db.assign_candidature(c.id, w.bob.id, &Actor::System).await,
            Refused::NotAnActiveInstructor(_)
        );
        let d = draft(&db, &w.org, "DUI-MS", &Spec::default()).await;
        assert_conflict(
            db.assign_candidature(d.id, w.alice.id, &Actor::System)
                .await,
            WorkflowConflict::NotUnderReview,
        );
        let err = db
            .assign_candidature(preuves_db::CandidatureId(9_999), w.alice.id, &Actor::System)
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::NotFound), "{err:?}");

        // An unheld candidature taken in by the platform is held by the first instructor to act.
        let free = filed(&db, &w.org, "DUI-MS", &Spec::default(), true).await;
        db.set_candidature_status(
            free.id,
            CandidatureStatus::InInstruction,
            None,
            &Actor::System,
        )
        .await
        .unwrap();
        assert_eq!(
            db.find_candidature(free.id)
                .await
                .unwrap()
                .unwrap()
                .assigned_to,
            None
        );
        let p = db.list_proofs(free.id).await.unwrap()[0].clone();
        db.record_verdict(p.id, Verdict::Compliant, None, &by(&w.alice))
            .await
            .unwrap();
        let held = db.find_candidature(free.id).await.unwrap().unwrap();
        assert_eq!(held.assigned_to, Some(w.alice.id));

        let assignments: Vec<_> = db
            .audit_entries_for("candidature", &c.id.to_string())
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "candidature.assign")
            .collect();
        assert_eq!(assignments.len(), 2);
        let last: serde_json::Value = serde_json::from_str(&assignments[1].details).unwrap();
        assert_eq!(last["from"], w.bob.id.0);
        assert_eq!(last["to"], w.alice.id.0);
        assert_eq!(assignments[1].actor, format!("user:{}", w.bob.id.0));
    })
    .await;
}

#[tokio::test]
async fn verdicts_follow_the_rules_and_every_change_is_audited() {
    for_each_backend(|db| async move {
        let w = world(&db).await;
        assert_eq!(Verdict::NotCompliant.label(), "non conforme");
        assert_eq!(Verdict::ComplementRequested.label(), "complément demandé");
        for v in Verdict::ALL {
            assert_eq!(Verdict::from_code(v.code()), Some(v));
        }
        db.insert_referencing(
            &new_referencing("REF-DPI-2-0001", w.org.id, "DPI", 2),
            &Actor::System,
        )
        .await
        .unwrap();
        // A file deposited on the draft for USA.01, before the NRU that masks it is entered.
        let spec = Spec {
            profiles: vec!["PA"],
            ..Spec::default()
        };
        let c = draft(&db, &w.org, "DUI-MS", &spec).await;
        let early = deposit(&db, &c, "USA.01", 0, 0).await;
        let mut step = c.step.clone();
        step.nrus = vec![Nru::parse("REF-DPI-2-0001").unwrap()];
        let c = db
            .update_candidature_step(w.org.id, c.id, c.revision, &step, &Actor::System)
            .await
            .unwrap();
        let old = deposit(&db, &c, "PA/va1.01", 0, 0).await;
        let new = deposit(&db, &c, "PA/va1.01", 0, 0).await;
        let pa = deposit(&db, &c, "PA.01", 0, 0).await;
        let c = db
            .submit_candidature(w.org.id, c.id, c.revision, false, &Actor::System)
            .await
            .unwrap();
        assert_eq!(c.plan.as_ref().unwrap().summary.masked_equivalence, 4);
        let early = db.find_proof(early.id).await.unwrap().unwrap();
        assert!(
            !early.is_needed(),
            "masked at submission: kept, needs no verdict"
        );

        assert_conflict(
            db.record_verdict(new.id, Verdict::Compliant, None, &by(&w.alice))
                .await,
            WorkflowConflict::NotInInstruction,
        );
        take(&db, &c, &w.alice).await;
        assert_conflict(
            db.record_verdict(early.id, Verdict::Compliant, None, &by(&w.alice))
                .await,
            WorkflowConflict::ProofNoLongerNeeded,
        );
        assert_conflict(
            db.record_verdict(old.id, Verdict::Compliant, None, &by(&w.alice))
                .await,
            WorkflowConflict::ProofSuperseded,
        );
        for comment in [None, Some("   ")] {
            for v in [Verdict::NotCompliant, Verdict::ComplementRequested] {
                assert_refused!(
                    db.record_verdict(new.id, v, comment, &by(&w.alice)).await,
                    Refused::VerdictNeedsComment(_)
                );
            }
        }
        let err = db
            .record_verdict(ProofId(99_999), Verdict::Compliant, None, &by(&w.alice))
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::NotFound), "{err:?}");

        let judged = db
            .record_verdict(
                new.id,
                Verdict::NotCompliant,
                Some(" la vidéo ne montre pas l'INS "),
                &by(&w.alice),
            )
            .await
            .unwrap();
        assert_eq!(judged.verdict.as_deref(), Some("not_compliant"));
        assert_eq!(Verdict::of(&judged), Some(Verdict::NotCompliant));
        assert_eq!(
            judged.verdict_comment.as_deref(),
            Some("la vidéo ne montre pas l'INS")
        );
        assert_eq!(judged.judged_by, Some(format!("user:{}", w.alice.id.0)));
        assert!(judged.judged_at.is_some());
        // The file itself is untouched.
        let unjudged = |p: &StoredProof| StoredProof {
            verdict: None,
            verdict_comment: None,
            judged_by: None,
            judged_at: None,
            ..p.clone()
        };
        assert_eq!(unjudged(&judged), new);
        // A verdict can be changed while in instruction.
        let changed = db
            .record_verdict(new.id, Verdict::Compliant, None, &by(&w.alice))
            .await
            .unwrap();
        assert_eq!(changed.verdict.as_deref(), Some("compliant"));
        assert_eq!(changed.verdict_comment, None);

        // R5: a proof marked no longer needed during instruction needs no verdict.
        db.mark_proofs_no_longer_needed(c.id, std::slice::from_ref(&pa.requirement), &by(&w.alice))
            .await
            .unwrap();
        assert_conflict(
            db.record_verdict(pa.id, Verdict::Compliant, None, &by(&w.alice))
                .await,
            WorkflowConflict::ProofNoLongerNeeded,
        );

        let verdicts: Vec<serde_json::Value> = db
            .audit_history("candidature", &c.id.to_string())
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "proof.verdict")
            .map(|e| {
                assert_eq!(e.actor_name.as_deref(), Some("Alice Martin"));
                e.details
            })
            .collect();
        assert_eq!(verdicts.len(), 2);
        assert_eq!(verdicts[0]["verdict"], "not_compliant");
        assert_eq!(verdicts[0]["before"]["verdict"], serde_json::Value::Null);
        assert_eq!(verdicts[1]["verdict"], "compliant");
        assert_eq!(verdicts[1]["before"]["verdict"], "not_compliant");
        assert_eq!(
            verdicts[1]["before"]["comment"],
            "la vidéo ne montre pas l'INS"
        );
        assert_eq!(verdicts[1]["proof"], new.id.0);

        // Once decided, no more verdicts.
        assert_refused!(
            db.refuse_candidature(c.id, "  ", &by(&w.alice)).await,
            Refused::Blank(RequiredText::RefusalReason)
        );
        let refused = db
            .refuse_candidature(c.id, "preuves PA insuffisantes", &by(&w.alice))
            .await
            .unwrap();
        assert_eq!(refused.status, CandidatureStatus::Refused);
        assert_eq!(
            refused.status_reason.as_deref(),
            Some("preuves PA insuffisantes")
        );
        assert_conflict(
            db.record_verdict(new.id, Verdict::Compliant, None, &by(&w.alice))
                .await,
            WorkflowConflict::AlreadyDecided,
        );
        assert_conflict(
            db.refuse_candidature(c.id, "encore", &by(&w.alice)).await,
            WorkflowConflict::AlreadyDecided,
        );
    })
    .await;
}

#[tokio::test]
async fn complement_requests_go_round_and_are_kept_with_the_history() {
    for_each_backend(|db| async move {
        let w = world(&db).await;
        let c = filed(&db, &w.org, "DUI-MS", &Spec::default(), true).await;
        let rid = |s: &str| preuves_domain::RequirementId::parse(s).unwrap();
        assert_conflict(
            db.request_complements(c.id, &[], "Compléments", &by(&w.alice))
                .await,
            WorkflowConflict::NotInInstruction,
        );
        take(&db, &c, &w.alice).await;
        assert_refused!(
            db.request_complements(c.id, &[], "  ", &by(&w.alice)).await,
            Refused::Blank(RequiredText::ComplementMessage)
        );
        // PA.01 is not in this candidature's scope (no PA profile).
        assert_refused!(
            db.request_complements(c.id, &[(rid("PA.01"), "x".to_owned())], "M", &by(&w.alice))
                .await,
            Refused::NotToDeposit(_)
        );
        let items = [
            (rid("INS.01"), " la vidéo est floue ".to_owned()),
            (rid("DMP.01"), String::new()),
        ];
        let first = db
            .request_complements(c.id, &items, "Merci de compléter le dossier", &by(&w.alice))
            .await
            .unwrap();
        assert!(first.is_open());
        assert_eq!(first.items[0].requirement, rid("INS.01"));
        assert_eq!(first.items[0].comment, "la vidéo est floue");
        assert_eq!(first.requested_by_name.as_deref(), Some("Alice Martin"));
        let waiting = db.find_candidature(c.id).await.unwrap().unwrap();
        assert_eq!(waiting.status, CandidatureStatus::ComplementRequested);
        assert_eq!(
            waiting.status_reason.as_deref(),
            Some("Merci de compléter le dossier")
        );
        assert_conflict(
            db.request_complements(c.id, &items, "encore", &by(&w.alice))
                .await,
            WorkflowConflict::NotInInstruction,
        );
        let p = db.list_proofs(c.id).await.unwrap()[0].clone();
        assert_conflict(
            db.record_verdict(p.id, Verdict::Compliant, None, &by(&w.alice))
                .await,
            WorkflowConflict::NotInInstruction,
        );

        // The vendor deposits a new file, then answers.
        deposit(&db, &waiting, "INS.01", 0, 0).await;
        let err = db
            .answer_complements(w.other.id, c.id, "voilà", &by(&w.vera))
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::NotFound), "{err:?}");
        assert_refused!(
            db.answer_complements(w.org.id, c.id, " ", &by(&w.vera))
                .await,
            Refused::Blank(RequiredText::ComplementAnswer)
        );
        let answered = db
            .answer_complements(w.org.id, c.id, "Nouvelle vidéo déposée", &by(&w.vera))
            .await
            .unwrap();
        assert!(!answered.is_open());
        assert_eq!(answered.id, first.id);
        assert_eq!(answered.answer.as_deref(), Some("Nouvelle vidéo déposée"));
        assert_eq!(answered.answered_by, Some(format!("user:{}", w.vera.id.0)));
        assert_eq!(answered.answered_by_name.as_deref(), Some("Vera Éditrice"));
        let back = db.find_candidature(c.id).await.unwrap().unwrap();
        assert_eq!(back.status, CandidatureStatus::InInstruction);
        assert_eq!(back.assigned_to, Some(w.alice.id), "still Alice's");
        assert_conflict(
            db.answer_complements(w.org.id, c.id, "encore", &by(&w.vera))
                .await,
            WorkflowConflict::NoOpenComplementRequest,
        );

        // A second round.
        db.request_complements(c.id, &items[..1], "Toujours floue", &by(&w.alice))
            .await
            .unwrap();
        db.answer_complements(w.org.id, c.id, "Version HD", &Actor::System)
            .await
            .unwrap();
        let history = db.list_complement_requests(c.id).await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0], answered);
        assert_eq!(history[1].message, "Toujours floue");
        assert_eq!(history[1].answer.as_deref(), Some("Version HD"));
        assert_eq!(history[1].answered_by.as_deref(), Some("system"));
        assert_eq!(history[1].answered_by_name, None);
        assert_eq!(
            db.list_complement_requests_for(w.org.id, c.id)
                .await
                .unwrap(),
            history
        );
        let err = db
            .list_complement_requests_for(w.other.id, c.id)
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::NotFound), "{err:?}");

        // The candidature's history, with who and what.
        let entries = db
            .audit_history("candidature", &c.id.to_string())
            .await
            .unwrap();
        let steps: Vec<(&str, Option<&str>)> = entries
            .iter()
            .filter(|e| e.action != "proof.deposit")
            .map(|e| (e.action.as_str(), e.actor_name.as_deref()))
            .collect();
        assert_eq!(
            steps,
            [
                ("candidature.create", None),
                ("candidature.submit", None),
                ("candidature.status", Some("Alice Martin")),
                ("candidature.complements_requested", Some("Alice Martin")),
                ("candidature.complements_answered", Some("Vera Éditrice")),
                ("candidature.complements_requested", Some("Alice Martin")),
                ("candidature.complements_answered", None),
            ]
        );
        assert_eq!(
            entries
                .iter()
                .filter(|e| e.action == "proof.deposit")
                .count(),
            8
        );
        assert!(
            entries
                .windows(2)
                .all(|p| p[0].id < p[1].id && p[0].at <= p[1].at)
        );
        let taken = entries
            .iter()
            .find(|e| e.action == "candidature.status")
            .unwrap();
        assert_eq!(taken.actor, format!("user:{}", w.alice.id.0));
        assert_eq!(taken.details["assigned_to"], w.alice.id.0);
        assert_eq!(taken.details["to"], "in_instruction");
        let asked = entries
            .iter()
            .find(|e| e.action == "candidature.complements_requested")
            .unwrap();
        assert_eq!(asked.details["items"][0]["requirement"], "INS.01");
        assert_eq!(asked.details["request"], first.id.0);
        assert!(
            db.audit_history("candidature", "0")
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn a_grant_needs_every_proof_judged_compliant_issues_one_nru_and_decides_once() {
    for_each_backend(|db| async move {
        let w = world(&db).await;
        let spec = Spec {
            names: vec!["A", "A Santé", "A Social"],
            ..Spec::default()
        };
        let a = filed(&db, &w.org, "DUI-MS", &spec, true).await;
        take(&db, &a, &w.alice).await;
        assert_conflict(
            db.prepare_grant(a.id, &by(&w.alice)).await,
            WorkflowConflict::InstructionIncomplete,
        );
        judge_all(&db, &a, &w.alice).await;
        let proofs = db.list_proofs(a.id).await.unwrap();
        let bad = proofs[3].clone();
        db.record_verdict(
            bad.id,
            Verdict::NotCompliant,
            Some("illisible"),
            &by(&w.alice),
        )
        .await
        .unwrap();
        assert_conflict(
            db.prepare_grant(a.id, &by(&w.alice)).await,
            WorkflowConflict::InstructionIncomplete,
        );
        let gaps = instruction_gaps(
            a.plan.as_ref().unwrap(),
            &db.list_proofs(a.id).await.unwrap(),
        );
        assert_eq!(gaps.len(), 1);
        assert_eq!(
            (gaps[0].proof, gaps[0].kind),
            (Some(bad.id), GapKind::NotCompliant)
        );
        db.record_verdict(bad.id, Verdict::Compliant, None, &by(&w.alice))
            .await
            .unwrap();
        let draft_a = db.prepare_grant(a.id, &by(&w.alice)).await.unwrap();

        // The draft: what the attestation shows.
        let today = ParisTime::from_unix_millis(preuves_db::Timestamp::now().as_millis()).date;
        let year = today.to_string()[..4].parse::<u16>().unwrap();
        assert_eq!(draft_a.granted_on, today);
        let expected = IssuedNru::new(
            &DispositifCode::parse("DUI-MS").unwrap(),
            Wave::Two,
            year,
            1,
        )
        .unwrap();
        assert_eq!(draft_a.nru, expected);
        assert!(
            draft_a
                .nru
                .as_str()
                .starts_with(&format!("SEGUR-DUIMS-2-{year}-000001-"))
        );
        assert!(looks_issued(draft_a.nru.as_str()));
        assert_eq!(IssuedNru::parse(draft_a.nru.as_str()).unwrap(), draft_a.nru);
        assert_eq!(draft_a.vendor_name, "Éditeur A");
        assert_eq!(draft_a.siren.as_str(), "732829320");
        assert_eq!(draft_a.solution, "A");
        assert_eq!(draft_a.version.as_str(), "4.3");
        assert_eq!(draft_a.commercial_names, ["A", "A Santé", "A Social"]);
        assert_eq!(draft_a.dispositif_name, "DUI-MS vague 2");
        assert_eq!(draft_a.profiles(), [preuves_domain::Profile::general()]);
        assert_eq!(draft_a.rem_label(), "REM DUI-MS vague 2, version 1");
        assert_eq!(draft_a.rem_version, a.rem_version);
        assert_eq!(draft_a.manifest.entries.len(), 4);
        assert!(
            draft_a
                .manifest
                .entries
                .iter()
                .all(|e| e.basis == ManifestBasis::Proven)
        );
        assert_eq!(draft_a.manifest.counts().proven, 4);

        // A second candidature prepared now would get the same number.
        let b = filed(&db, &w.org, "DUI-MS", &Spec::default(), true).await;
        take(&db, &b, &w.alice).await;
        judge_all(&db, &b, &w.alice).await;
        let draft_b = db.prepare_grant(b.id, &by(&w.alice)).await.unwrap();
        assert_eq!(draft_b.nru, draft_a.nru);
        assert_conflict(
            db.set_candidature_status(b.id, CandidatureStatus::Referenced, None, &by(&w.alice))
                .await,
            WorkflowConflict::InvalidTransition,
        );

        let before = audit_count(&db).await;
        assert_contract(
            db.grant_candidature(
                a.id,
                &draft_a,
                "attestations/a.pdf",
                "XYZ",
                &code(1),
                &by(&w.alice),
            )
            .await,
        );
        assert_contract(
            db.grant_candidature(
                a.id,
                &draft_b,
                "attestations/a.pdf",
                &sha(1),
                &code(1),
                &by(&w.alice),
            )
            .await,
        );
        assert_conflict(
            db.grant_candidature(
                a.id,
                &draft_a,
                "attestations/a.pdf",
                &sha(1),
                &code(1),
                &by(&w.bob),
            )
            .await,
            WorkflowConflict::AssignedElsewhere,
        );
        assert_eq!(audit_count(&db).await, before);

        let grant = db
            .grant_candidature(
                a.id,
                &draft_a,
                "attestations/a.pdf",
                &sha(1),
                &code(1),
                &by(&w.alice),
            )
            .await
            .unwrap();
        let nru_a = draft_a.nru.to_nru();
        assert_eq!(grant.nru, nru_a);
        assert_eq!(grant.candidature, a.id);
        assert_eq!(grant.organisation, w.org.id);
        assert_eq!(grant.manifest, draft_a.manifest);
        assert_eq!(grant.attestation_blob_key, "attestations/a.pdf");
        assert_eq!(grant.attestation_sha256, sha(1));
        assert_eq!(grant.verification_code, code(1));
        assert_eq!(grant.granted_by, format!("user:{}", w.alice.id.0));
        let decided = db.find_candidature(a.id).await.unwrap().unwrap();
        assert_eq!(decided.status, CandidatureStatus::Referenced);
        assert!(decided.status_reason.unwrap().contains(nru_a.as_str()));
        let registered = db.find_referencing(&nru_a).await.unwrap().unwrap();
        assert_eq!(registered.status, ReferencingStatus::Valid);
        assert_eq!(registered.granted_on, today);
        assert_eq!(registered.organisation, w.org.id);
        assert_eq!(registered.dispositif, key("DUI-MS", 2));
        assert_eq!(registered.commercial_names, ["A", "A Santé", "A Social"]);
        assert_eq!(registered.main_component, "A-core");
        assert_eq!(db.find_grant(&nru_a).await.unwrap(), Some(grant.clone()));
        assert_eq!(
            db.find_grant_of_candidature(a.id).await.unwrap(),
            Some(grant.clone())
        );
        assert_eq!(db.find_grant_of_candidature(b.id).await.unwrap(), None);

        // A second decision is refused, whichever it is.
        assert_conflict(
            db.grant_candidature(
                a.id,
                &draft_a,
                "attestations/a2.pdf",
                &sha(2),
                &code(2),
                &by(&w.alice),
            )
            .await,
            WorkflowConflict::AlreadyDecided,
        );
        assert_conflict(
            db.refuse_candidature(a.id, "finalement non", &by(&w.alice))
                .await,
            WorkflowConflict::AlreadyDecided,
        );
        assert_conflict(
            db.prepare_grant(a.id, &by(&w.alice)).await,
            WorkflowConflict::AlreadyDecided,
        );

        // B's draft named the NRU A took: stale, nothing recorded.
        let before = audit_count(&db).await;
        assert_conflict(
            db.grant_candidature(
                b.id,
                &draft_b,
                "attestations/b.pdf",
                &sha(3),
                &code(3),
                &by(&w.alice),
            )
            .await,
            preuves_db::Conflict::GrantDraftStale,
        );
        assert_eq!(audit_count(&db).await, before);
        assert_eq!(
            db.find_candidature(b.id).await.unwrap().unwrap().status,
            CandidatureStatus::InInstruction
        );
        assert_eq!(db.list_referencings(None).await.unwrap().len(), 1);
        // Number 2 stands in the register already (recorded from elsewhere): it is skipped.
        let second = IssuedNru::new(
            &DispositifCode::parse("DUI-MS").unwrap(),
            Wave::Two,
            year,
            2,
        )
        .unwrap();
        let mut elsewhere = new_referencing(second.as_str(), w.other.id, "DUI-MS", 2);
        elsewhere.granted_on = IsoDate::parse("2025-01-01").unwrap();
        db.insert_referencing(&elsewhere, &Actor::System)
            .await
            .unwrap();
        let draft_b = db.prepare_grant(b.id, &by(&w.alice)).await.unwrap();
        assert_eq!(draft_b.nru.sequence(), 3);
        // A verdict changed after the draft: refused at grant time.
        let p = db.list_proofs(b.id).await.unwrap()[0].clone();
        db.record_verdict(
            p.id,
            Verdict::ComplementRequested,
            Some("flou"),
            &by(&w.alice),
        )
        .await
        .unwrap();
        assert_conflict(
            db.grant_candidature(
                b.id,
                &draft_b,
                "attestations/b.pdf",
                &sha(3),
                &code(3),
                &by(&w.alice),
            )
            .await,
            WorkflowConflict::InstructionIncomplete,
        );
        db.record_verdict(p.id, Verdict::Compliant, None, &by(&w.alice))
            .await
            .unwrap();
        let grant_b = db
            .grant_candidature(
                b.id,
                &draft_b,
                "attestations/b.pdf",
                &sha(3),
                &code(3),
                &by(&w.alice),
            )
            .await
            .unwrap();
        assert_eq!(grant_b.nru, draft_b.nru.to_nru());
        assert_eq!(draft_b.commercial_names, ["A"]);

        // The public check of the attestation.
        let checked = db
            .verify_referencing(&nru_a, Some(code(1).as_str()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(checked.code_matches, Some(true));
        assert!(checked.issued_here);
        assert_eq!(checked.status, ReferencingStatus::Valid);
        assert_eq!(checked.vendor, "Éditeur A");
        assert_eq!(checked.solution, "A");
        assert_eq!(checked.granted_on, today);
        let typed = format!(
            " {}-{} ",
            &code(1).as_str()[..5].to_lowercase(),
            &code(1).as_str()[5..]
        );
        let verify = |nru: Nru, code: Option<String>| {
            let db = db.clone();
            async move {
                db.verify_referencing(&nru, code.as_deref())
                    .await
                    .unwrap()
                    .map(|v| (v.issued_here, v.code_matches))
            }
        };
        assert_eq!(
            verify(nru_a.clone(), Some(typed)).await,
            Some((true, Some(true)))
        );
        assert_eq!(
            verify(nru_a.clone(), Some(code(3).to_string())).await,
            Some((true, Some(false)))
        );
        assert_eq!(
            verify(nru_a.clone(), Some("n'importe quoi".to_owned())).await,
            Some((true, Some(false)))
        );
        assert_eq!(verify(nru_a.clone(), None).await, Some((true, None)));
        assert_eq!(
            verify(second.to_nru(), Some(code(1).to_string())).await,
            Some((false, None))
        );
        assert_eq!(
            verify(Nru::parse("SEGUR-XYZ-2-2026-000001-A").unwrap(), None).await,
            None
        );

        // The trail: both decisions, without the verification code, chain intact.
        let history = db
            .audit_history("candidature", &a.id.to_string())
            .await
            .unwrap();
        let grant_entry = history.last().unwrap();
        assert_eq!(grant_entry.action, "candidature.grant");
        assert_eq!(grant_entry.details["nru"], nru_a.as_str());
        assert_eq!(grant_entry.details["attestation"]["sha256"], sha(1));
        assert_eq!(grant_entry.actor_name.as_deref(), Some("Alice Martin"));
        let created = db
            .audit_history("referencing", nru_a.as_str())
            .await
            .unwrap();
        assert_eq!(created.len(), 1);
        assert_eq!(created[0].action, "referencing.create");
        assert_eq!(created[0].details["candidature"], a.id.0);
        for e in db.audit_entries(0, 1_000_000).await.unwrap() {
            assert!(!e.details.contains(code(1).as_str()), "{}", e.details);
        }
        assert!(db.verify_audit_chain().await.unwrap().is_ok());
    })
    .await;
}

#[tokio::test]
async fn a_granted_referencing_is_an_equivalence_source_for_a_later_candidature() {
    for_each_backend(|db| async move {
        let w = world(&db).await;
        let dpi = filed(&db, &w.org, "DPI", &Spec::default(), true).await;
        take(&db, &dpi, &w.alice).await;
        judge_all(&db, &dpi, &w.alice).await;
        let draft_dpi = db.prepare_grant(dpi.id, &by(&w.alice)).await.unwrap();
        assert_eq!(draft_dpi.nru.dispositif(), "DPI");
        db.grant_candidature(
            dpi.id,
            &draft_dpi,
            "attestations/dpi.pdf",
            &sha(9),
            &code(9),
            &by(&w.alice),
        )
        .await
        .unwrap();
        let issued = draft_dpi.nru.to_nru();

        // The same DUI-MS candidature with and without the issued NRU.
        let ins = AdditionalComponent {
            name: "Module INS".to_owned(),
            chapters: vec![ChapterCode::parse("INS").unwrap()],
        };
        let without = draft(
            &db,
            &w.org,
            "DUI-MS",
            &Spec {
                components: vec![ins.clone()],
                ..Spec::default()
            },
        )
        .await;
        let plan_without = db.candidature_plan(&without).await.unwrap().unwrap();
        assert_eq!(plan_without.summary.masked_equivalence, 0);
        assert_eq!(plan_without.summary.to_deposit, 4);
        let spec = Spec {
            nrus: vec![issued.to_string()],
            components: vec![ins],
            ..Spec::default()
        };
        let c = draft(&db, &w.org, "DUI-MS", &spec).await;
        let plan = db.candidature_plan(&c).await.unwrap().unwrap();
        assert_eq!(plan.summary.masked_equivalence, 2);
        assert_eq!(plan.summary.to_deposit, 2);
        let usa = plan.entry("USA.01").unwrap();
        assert_eq!(usa.status, "masked_equivalence");
        let reason = usa.reason.as_ref().unwrap();
        assert_eq!(reason.nru.as_deref(), Some(issued.as_str()));
        assert_eq!(reason.source_requirement.as_deref(), Some("HOP.01"));

        // Filed, instructed and granted: its manifest says how each requirement is satisfied.
        let plan_c = db.candidature_plan(&c).await.unwrap().unwrap();
        deposit_all(&db, &c, &plan_c).await;
        let c = db
            .submit_candidature(w.org.id, c.id, c.revision, false, &Actor::System)
            .await
            .unwrap();
        take(&db, &c, &w.bob).await;
        judge_all(&db, &c, &w.bob).await;
        let draft_c = db.prepare_grant(c.id, &by(&w.bob)).await.unwrap();
        let bases: Vec<(&str, &ManifestBasis)> = draft_c
            .manifest
            .entries
            .iter()
            .map(|e| (e.requirement.as_str(), &e.basis))
            .collect();
        let component = ManifestBasis::ProvenForComponent {
            component: "Module INS".to_owned(),
        };
        let equivalent = |source: &str| ManifestBasis::Equivalent {
            nru: issued.to_string(),
            source_requirement: source.to_owned(),
            source_dispositif: "DPI vague 2".to_owned(),
        };
        assert_eq!(
            bases,
            [
                ("INS/va1.01", &component),
                ("INS.01", &component),
                ("DMP.01", &equivalent("DMP.01")),
                ("USA.01", &equivalent("HOP.01")),
            ]
        );
        let chapters: Vec<&str> = draft_c
            .manifest
            .entries
            .iter()
            .map(|e| e.chapter.as_str())
            .collect();
        assert_eq!(chapters, ["INS", "INS", "DMP", "USA"]);
        let counts = draft_c.manifest.counts();
        assert_eq!(
            (counts.proven, counts.inherited, counts.equivalent),
            (2, 0, 2)
        );
        assert!(equivalent("HOP.01").label().contains(issued.as_str()));
        let grant = db
            .grant_candidature(
                c.id,
                &draft_c,
                "attestations/c.pdf",
                &sha(8),
                &code(8),
                &by(&w.bob),
            )
            .await
            .unwrap();
        assert_eq!(grant.manifest, draft_c.manifest);
        assert_eq!(
            db.find_grant(&grant.nru).await.unwrap().unwrap().manifest,
            draft_c.manifest
        );
    })
    .await;
}

#[tokio::test]
async fn the_public_register_searches_filters_and_pages() {
    for_each_backend(|db| async move {
        let w = world(&db).await;
        let mut expected = Vec::new();
        for i in 0..24_u32 {
            let (nru, code, wave) = if i % 3 == 0 {
                (format!("REF-MS1-1-{i:04}"), "MS1", 1)
            } else {
                (format!("REF-DPI-2-{i:04}"), "DPI", 2)
            };
            let mut r = new_referencing(&nru, w.org.id, code, wave);
            r.solution = format!("Sol {i}");
            r.commercial_names = vec![format!("Logiciel {i}")];
            r.granted_on = IsoDate::parse(&format!("2025-01-{:02}", 1 + i % 12)).unwrap();
            if i % 8 == 5 {
                r.status = ReferencingStatus::Suspended;
            }
            db.insert_referencing(&r, &Actor::System).await.unwrap();
            expected.push(r);
        }
        for i in 0..3_u32 {
            let mut r = new_referencing(&format!("REF-DPI-2-9{i:03}"), w.other.id, "DPI", 2);
            r.commercial_names = vec!["Dossier Santé Plus".to_owned()];
            r.granted_on = IsoDate::parse("2024-06-01").unwrap();
            db.insert_referencing(&r, &Actor::System).await.unwrap();
            expected.push(r);
        }
        // Newest grants first, then by NRU.
        expected.sort_by(|a, b| b.granted_on.cmp(&a.granted_on).then(a.nru.cmp(&b.nru)));
        let nrus = |page: &preuves_db::Page<preuves_db::StoredReferencing>| {
            page.items
                .iter()
                .map(|r| r.nru.to_string())
                .collect::<Vec<_>>()
        };
        let search = |q: RegisterQuery| {
            let db = db.clone();
            async move { db.public_register(&q).await.unwrap() }
        };

        let all = search(RegisterQuery::default()).await;
        assert_eq!(all.total, 27);
        assert_eq!(
            nrus(&all),
            expected
                .iter()
                .map(|r| r.nru.to_string())
                .collect::<Vec<_>>()
        );
        let mut paged = Vec::new();
        for page in 1..=3 {
            let p = search(RegisterQuery {
                page,
                size: 10,
                ..RegisterQuery::default()
            })
            .await;
            assert_eq!((p.total, p.limit, p.offset), (27, 10, (page - 1) * 10));
            assert_eq!(p.items.len(), if page == 3 { 7 } else { 10 });
            paged.extend(nrus(&p));
        }
        assert_eq!(paged, nrus(&all));
        let big = search(RegisterQuery {
            size: 5_000,
            ..RegisterQuery::default()
        })
        .await;
        assert_eq!((big.limit, big.items.len()), (200, 27));
        let zero = search(RegisterQuery {
            page: 0,
            size: 0,
            ..RegisterQuery::default()
        })
        .await;
        assert_eq!((zero.limit, zero.offset, zero.items.len()), (1, 0, 1));
        assert!(
            search(RegisterQuery {
                page: 9,
                ..RegisterQuery::default()
            })
            .await
            .items
            .is_empty()
        );

        let text = |t: &str| RegisterQuery {
            text: Some(t.to_owned()),
            ..RegisterQuery::default()
        };
        // Commercial name, without case or accents; vendor name; NRU fragment; solution.
        assert_eq!(search(text("SANTE plus")).await.total, 3);
        assert_eq!(search(text("dossier santé")).await.total, 3);
        assert_eq!(search(text("autre editeur")).await.total, 3);
        assert_eq!(search(text("éditeur a")).await.total, 24);
        assert_eq!(search(text("ref-ms1")).await.total, 8);
        assert_eq!(nrus(&search(text("Sol 13")).await), ["REF-DPI-2-0013"]);
        // "Logiciel 1" is in Logiciel 1, 10..19: eleven.
        assert_eq!(search(text("logiciel 1")).await.total, 11);
        assert_eq!(search(text("100%")).await.total, 0, "wildcards are literal");
        assert_eq!(search(text("  ")).await.total, 27);

        let dpi = search(RegisterQuery {
            dispositif: Some(DispositifCode::parse("DPI").unwrap()),
            ..RegisterQuery::default()
        })
        .await;
        assert_eq!(dpi.total, 19);
        assert!(dpi.items.iter().all(|r| r.dispositif == key("DPI", 2)));
        let wave1 = search(RegisterQuery {
            wave: Some(Wave::One),
            ..RegisterQuery::default()
        })
        .await;
        assert_eq!(wave1.total, 8);
        let suspended = search(RegisterQuery {
            status: Some(ReferencingStatus::Suspended),
            ..RegisterQuery::default()
        })
        .await;
        assert_eq!(nrus(&suspended).len(), 3);
        assert!(
            suspended
                .items
                .iter()
                .all(|r| r.status == ReferencingStatus::Suspended)
        );
        let combined = search(RegisterQuery {
            text: Some("logiciel".to_owned()),
            dispositif: Some(DispositifCode::parse("DPI").unwrap()),
            wave: Some(Wave::Two),
            status: Some(ReferencingStatus::Valid),
            page: 1,
            size: 200,
        })
        .await;
        let want = expected
            .iter()
            .filter(|r| {
                r.dispositif == key("DPI", 2)
                    && r.status == ReferencingStatus::Valid
                    && r.commercial_names[0].starts_with("Logiciel")
            })
            .count();
        assert_eq!(combined.total, want as u64);
        assert_eq!(combined.items.len(), want);
    })
    .await;
}

#[tokio::test]
async fn suspension_is_audited_and_the_candidatures_citing_the_nru_are_found() {
    for_each_backend(|db| async move {
        let w = world(&db).await;
        let cited = "REF-DPI-2-0001";
        // Granted after the submissions below, so that it may be entered late (R5).
        let mut referencing = new_referencing(cited, w.org.id, "DPI", 2);
        referencing.granted_on = crate::fixtures::paris_day_after(1);
        db.insert_referencing(&referencing, &Actor::System)
            .await
            .unwrap();
        let with = Spec {
            nrus: vec![cited.to_owned()],
            ..Spec::default()
        };
        let d1 = draft(&db, &w.org, "DUI-MS", &with).await;
        let s2 = filed(&db, &w.org, "DUI-MS", &with, true).await;
        let refused = filed(&db, &w.org, "DUI-MS", &with, true).await;
        take(&db, &refused, &w.alice).await;
        db.refuse_candidature(refused.id, "hors délai", &by(&w.alice))
            .await
            .unwrap();
        // A longer NRU with the same beginning is another NRU.
        draft(
            &db,
            &w.org,
            "DUI-MS",
            &Spec {
                nrus: vec!["REF-DPI-2-00011".to_owned()],
                ..Spec::default()
            },
        )
        .await;
        let theirs = draft(&db, &w.other, "DUI-MS", &with).await;
        // Entered late (R5) on a complete dossier.
        let late = filed(&db, &w.org, "DUI-MS", &Spec::default(), true).await;
        let outcome = db
            .record_late_nrus(
                w.org.id,
                late.id,
                late.revision,
                &[Nru::parse(cited).unwrap()],
                &Actor::System,
            )
            .await
            .unwrap();
        assert!(
            matches!(outcome, LateNrusOutcome::Recorded { .. }),
            "{outcome:?}"
        );

        let nru = Nru::parse(cited).unwrap();
        let citing = db.candidatures_citing(&nru).await.unwrap();
        let found: Vec<(i64, &str, bool)> = citing
            .iter()
            .map(|c| (c.candidature.id.0, c.vendor_name.as_str(), c.late))
            .collect();
        assert_eq!(
            found,
            [
                (d1.id.0, "Éditeur A", false),
                (s2.id.0, "Éditeur A", false),
                (theirs.id.0, "Autre Éditeur", false),
                (late.id.0, "Éditeur A", true),
            ]
        );
        assert!(
            db.candidatures_citing(&Nru::parse("REF-DPI-2-0002").unwrap())
                .await
                .unwrap()
                .is_empty()
        );

        // Suspension: audited with who and why; frozen plans are left alone, live ones refuse.
        let frozen = db.find_candidature(s2.id).await.unwrap().unwrap().plan;
        db.set_referencing_status(
            &nru,
            ReferencingStatus::Suspended,
            Some("audit de sécurité en cours"),
            &by(&w.alice),
        )
        .await
        .unwrap();
        let history = db.audit_history("referencing", cited).await.unwrap();
        let last = history.last().unwrap();
        assert_eq!(last.action, "referencing.status");
        assert_eq!(last.actor, format!("user:{}", w.alice.id.0));
        assert_eq!(last.actor_name.as_deref(), Some("Alice Martin"));
        assert_eq!(last.details["from"], "valid");
        assert_eq!(last.details["to"], "suspended");
        assert_eq!(last.details["reason"], "audit de sécurité en cours");
        assert_eq!(
            db.find_candidature(s2.id).await.unwrap().unwrap().plan,
            frozen
        );
        let refusals = db.candidature_plan(&d1).await.unwrap().unwrap_err();
        assert!(
            refusals.iter().any(|r| r.code == RefusalCode::NruNotValid),
            "{refusals:?}"
        );
        assert_eq!(db.candidatures_citing(&nru).await.unwrap().len(), 4);
        let verified = db.verify_referencing(&nru, None).await.unwrap().unwrap();
        assert_eq!(verified.status, ReferencingStatus::Suspended);
        assert_eq!(
            verified.status_reason.as_deref(),
            Some("audit de sécurité en cours")
        );
    })
    .await;
}

async fn tamper(db: &Db, sql: &str) {
    if is_sqlite(db) {
        for trigger in ["audit_log_no_update", "audit_log_no_delete"] {
            sqlx::query(&format!("DROP TRIGGER IF EXISTS {trigger}"))
                .execute(db.pool())
                .await
                .unwrap();
        }
        sqlx::query(sql).execute(db.pool()).await.unwrap();
    } else {
        // A superuser session switches the append-only triggers off around the change.
        let mut tx = db.pool().begin().await.unwrap();
        sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER USER")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(sql).execute(&mut *tx).await.unwrap();
        sqlx::query("ALTER TABLE audit_log ENABLE TRIGGER USER")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn altered_audit_entries_are_detected_naming_the_first_one() {
    for_each_backend(|db| async move {
        let w = world(&db).await;
        let c = filed(&db, &w.org, "DUI-MS", &Spec::default(), true).await;
        take(&db, &c, &w.alice).await;
        judge_all(&db, &c, &w.alice).await;
        let total = db.verify_audit_chain().await.unwrap().unwrap().entries;
        let entries = db.audit_entries(0, 1_000_000).await.unwrap();
        assert_eq!(entries.len() as u64, total);
        let verdicts: Vec<i64> = entries
            .iter()
            .filter(|e| e.action == "proof.verdict")
            .map(|e| e.id)
            .collect();
        let (first, later) = (verdicts[1], verdicts[5]);

        // Still append-only for the application's own connections.
        let refused = sqlx::query("UPDATE audit_log SET actor = 'system' WHERE id = 1")
            .execute(db.pool())
            .await;
        assert!(refused.is_err());

        // A later entry is altered first, then an earlier one: the earlier one is named.
        tamper(
            &db,
            &format!("UPDATE audit_log SET details = '{{\"verdict\":\"not_compliant\"}}' WHERE id = {later}"),
        )
        .await;
        let broken = db.verify_audit_chain().await.unwrap().unwrap_err();
        assert_eq!((broken.entry_id, broken.kind), (later, AuditBreakKind::HashMismatch));
        tamper(
            &db,
            &format!("UPDATE audit_log SET actor = 'user:{}' WHERE id = {first}", w.bob.id.0),
        )
        .await;
        let broken = db.verify_audit_chain().await.unwrap().unwrap_err();
        assert_eq!((broken.entry_id, broken.kind), (first, AuditBreakKind::HashMismatch));

        // An entry altered and re-hashed by someone who knows the scheme: its successor no
        // longer chains to it, so the break is named at the successor (`PrevHashMismatch`
        // means the entry before it was rewritten), still before the later alteration.
        let mut rewritten = entries[2].clone();
        rewritten.details = "{}".to_owned();
        let rehash = rewritten.expected_hash();
        tamper(
            &db,
            &format!(
                "UPDATE audit_log SET details = '{{}}', hash = '{rehash}' WHERE id = {}",
                rewritten.id
            ),
        )
        .await;
        let broken = db.verify_audit_chain().await.unwrap().unwrap_err();
        assert_eq!(
            (broken.entry_id, broken.kind),
            (rewritten.id + 1, AuditBreakKind::PrevHashMismatch)
        );
        assert!(broken.entry_id < first);
    })
    .await;
}
