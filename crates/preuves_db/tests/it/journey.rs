//! The vendor's journey: solutions, candidatures (administrative step, submission, R5, status)
//! and deposited proofs, with scoping, optimistic concurrency and audit atomicity.

use preuves_db::{
    Actor, AdministrativeStep, CandidatureStatus, Conflict, Db, DbError, LateNrusOutcome, NewProof,
    Organisation, PlanSnapshot, Refused, RequiredText, Solution, SolutionFields, StoredCandidature,
    UniqueConstraint, WorkflowConflict, missing_proofs,
};
use preuves_domain::{
    AdditionalComponent, ChapterCode, Nru, Perimeter, RefusalCode, Rem, RequirementId, Siren,
    Version, compute_plan,
};

use crate::fixtures::{
    VENDOR, dui_requirements, key, new_referencing, paris_day_after, req, seed_catalogue, vendor,
};
use crate::helpers::for_each_backend;

async fn other_vendor(db: &Db) -> Organisation {
    db.create_organisation("Autre", &Siren::parse("552100554").unwrap(), &Actor::System)
        .await
        .unwrap()
}

fn fields(name: &str) -> SolutionFields {
    SolutionFields {
        name: name.to_owned(),
        main_component: "A-core".to_owned(),
        versions: vec!["4.2".to_owned(), " 4.3 ".to_owned(), "4.3".to_owned()],
        commercial_names: vec!["A Santé".to_owned()],
    }
}

fn step(solution: &Solution, nrus: &[&str]) -> AdministrativeStep {
    AdministrativeStep {
        solution: solution.id,
        optional_profiles: vec![],
        version: Version::parse("4.3").unwrap(),
        nrus: nrus.iter().map(|n| Nru::parse(n).unwrap()).collect(),
        additional_components: vec![],
        commercial_names: vec![],
        honour_statement: None,
    }
}

async fn audit_count(db: &Db) -> usize {
    db.audit_entries(0, 100_000).await.unwrap().len()
}

/// A DUI-MS draft of the fixtures' vendor, with its solution.
async fn draft(db: &Db, org: &Organisation, nrus: &[&str]) -> StoredCandidature {
    let solution = db
        .create_solution(org.id, &fields("A"), &Actor::System)
        .await
        .unwrap();
    db.create_candidature(
        org.id,
        &key("DUI-MS", 2),
        &step(&solution, nrus),
        &Actor::System,
    )
    .await
    .unwrap()
}

fn blob(n: usize) -> (String, String) {
    (format!("proofs/2026/11/{n:04}"), format!("{n:064x}"))
}

fn new_proof(requirement: &str, scenario: i64, proof: i64, n: usize) -> NewProof {
    let (key, sha) = blob(n);
    NewProof {
        requirement: RequirementId::parse(requirement).unwrap(),
        scenario_index: scenario,
        proof_index: proof,
        blob_key: key,
        file_name: format!("preuve {n}.mp4"),
        content_type: "video/mp4".to_owned(),
        size: 1_000 + n as u64,
        sha256: sha,
    }
}

/// Deposits one file for every expected proof of `plan`, numbering blobs from `from`.
async fn deposit_all(db: &Db, c: &StoredCandidature, plan: &PlanSnapshot, from: usize) -> usize {
    let mut n = from;
    for e in plan.entries.iter().filter(|e| e.is_to_deposit()) {
        for x in &e.expected {
            db.record_proof(
                c.organisation,
                c.id,
                &new_proof(&e.requirement, x.scenario_index, x.proof_index, n),
                &Actor::System,
            )
            .await
            .unwrap();
            n += 1;
        }
    }
    n - from
}

async fn live_plan(db: &Db, c: &StoredCandidature) -> PlanSnapshot {
    db.candidature_plan(c).await.unwrap().unwrap()
}

#[tokio::test]
async fn solutions_are_scoped_to_their_organisation_and_versioned() {
    for_each_backend(|db| async move {
        let org = vendor(&db).await;
        let other = other_vendor(&db).await;
        let a = db
            .create_solution(org.id, &fields("A"), &Actor::System)
            .await
            .unwrap();
        assert_eq!(a.revision, 1);
        assert_eq!(a.versions, ["4.2", "4.3"], "trimmed and deduplicated");
        db.create_solution(other.id, &fields("B"), &Actor::System)
            .await
            .unwrap();
        let empty = db
            .create_solution(org.id, &fields("  "), &Actor::System)
            .await
            .unwrap_err();
        assert!(
            matches!(
                empty,
                DbError::Refused(Refused::Blank(RequiredText::SolutionName))
            ),
            "{empty:?}"
        );

        let mine = db.list_solutions(org.id).await.unwrap();
        assert_eq!(mine, std::slice::from_ref(&a));
        assert_eq!(db.find_solution_for(org.id, a.id).await.unwrap(), a);
        let leak = db.find_solution_for(other.id, a.id).await.unwrap_err();
        assert!(matches!(leak, DbError::NotFound), "{leak:?}");

        let mut changed = fields("A");
        changed.commercial_names.push("A Social".to_owned());
        let a2 = db
            .update_solution(org.id, a.id, 1, &changed, &Actor::System)
            .await
            .unwrap();
        assert_eq!(a2.revision, 2);
        assert_eq!(a2.commercial_names, ["A Santé", "A Social"]);

        // The second save based on revision 1 is refused and changes nothing, not even the log.
        let before = audit_count(&db).await;
        let stale = db
            .update_solution(org.id, a.id, 1, &fields("A bis"), &Actor::System)
            .await
            .unwrap_err();
        assert!(stale.is_conflict(Conflict::StaleRevision), "{stale:?}");
        assert_eq!(db.find_solution_for(org.id, a.id).await.unwrap(), a2);
        assert_eq!(audit_count(&db).await, before);

        let cross = db
            .update_solution(other.id, a.id, 2, &fields("volé"), &Actor::System)
            .await
            .unwrap_err();
        assert!(matches!(cross, DbError::NotFound), "{cross:?}");
        let history = db
            .audit_entries_for("solution", &a.id.to_string())
            .await
            .unwrap();
        assert_eq!(
            history
                .iter()
                .map(|e| e.action.as_str())
                .collect::<Vec<_>>(),
            ["solution.create", "solution.update"]
        );
    })
    .await;
}

#[tokio::test]
async fn candidatures_are_scoped_listed_and_keep_their_rem_version() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        let org = vendor(&db).await;
        let other = other_vendor(&db).await;
        let c = draft(&db, &org, &[]).await;
        assert_eq!(c.status, CandidatureStatus::Draft);
        assert_eq!(c.revision, 1);
        assert_eq!(c.solution_name, "A");
        assert_eq!(c.main_component, "A-core");
        assert!(c.plan.is_none() && c.submitted_at.is_none());
        let pinned = c.rem_version;

        let leak = db.find_candidature_for(other.id, c.id).await.unwrap_err();
        assert!(matches!(leak, DbError::NotFound), "{leak:?}");
        assert_eq!(db.find_candidature_for(org.id, c.id).await.unwrap(), c);
        assert_eq!(db.find_candidature(c.id).await.unwrap(), Some(c.clone()));
        assert!(
            db.list_candidatures(Some(other.id), None)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            db.list_candidatures(Some(org.id), None).await.unwrap(),
            std::slice::from_ref(&c)
        );
        assert_eq!(
            db.list_candidatures(None, Some(CandidatureStatus::Draft))
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            db.list_candidatures(None, Some(CandidatureStatus::Submitted))
                .await
                .unwrap()
                .is_empty()
        );

        // Another organisation's solution cannot be used; a vague-1 target is refused.
        let theirs = db
            .create_solution(other.id, &fields("B"), &Actor::System)
            .await
            .unwrap();
        let mut s = step(&theirs, &[]);
        let err = db
            .create_candidature(org.id, &key("DUI-MS", 2), &s, &Actor::System)
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::NotFound), "{err:?}");
        s.solution = c.step.solution;
        let err = db
            .create_candidature(org.id, &key("MS1", 1), &s, &Actor::System)
            .await
            .unwrap_err();
        assert!(
            matches!(err, DbError::Refused(Refused::TargetNotVague2(_))),
            "{err:?}"
        );

        // A new REM version of DUI-MS (one requirement fewer) leaves the candidature pinned.
        let before = live_plan(&db, &c).await;
        let mut shorter = dui_requirements();
        shorter.pop();
        shorter.push(req("USA.02", Perimeter::Wave2, "Général", None, 1));
        let v2 = db
            .import_rem_version(
                &key("DUI-MS", 2),
                &Rem::new(shorter).unwrap(),
                "rem-v2.csv",
                &"b".repeat(64),
                9,
                &Actor::System,
            )
            .await
            .unwrap();
        assert_ne!(v2.id, pinned);
        let again = db.find_candidature_for(org.id, c.id).await.unwrap();
        assert_eq!(again.rem_version, pinned);
        let after = live_plan(&db, &again).await;
        assert_eq!(before, after, "the plan still comes from the pinned REM");
        assert!(after.entry("USA.02").is_none());
        // A candidature opened now is pinned to the new version.
        let newer = db
            .create_candidature(org.id, &key("DUI-MS", 2), &s, &Actor::System)
            .await
            .unwrap();
        assert_eq!(newer.rem_version, v2.id);
        assert!(live_plan(&db, &newer).await.entry("USA.02").is_some());
    })
    .await;
}

#[tokio::test]
async fn the_administrative_step_uses_optimistic_concurrency_and_freezes_on_submission() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        let org = vendor(&db).await;
        let other = other_vendor(&db).await;
        db.insert_referencing(
            &new_referencing("REF-DPI-2-0001", org.id, "DPI", 2),
            &Actor::System,
        )
        .await
        .unwrap();
        let c = draft(&db, &org, &[]).await;

        let mut edited = c.step.clone();
        edited.nrus = vec![Nru::parse("REF-DPI-2-0001").unwrap()];
        edited.commercial_names = vec!["A Santé".to_owned()];
        // A component name is stored without its bidirectional controls, like every free-text name.
        edited.additional_components = vec![AdditionalComponent {
            name: "Module\u{202e} INS\u{2069}".to_owned(),
            chapters: vec![ChapterCode::parse("INS").unwrap()],
        }];
        let c2 = db
            .update_candidature_step(org.id, c.id, 1, &edited, &Actor::System)
            .await
            .unwrap();
        assert_eq!(c2.revision, 2);
        edited.additional_components[0].name = "Module INS".to_owned();
        assert_eq!(c2.step, edited);

        // The engine computes the plan from the stored step.
        let domain = c2.to_domain(&Siren::parse(VENDOR).unwrap());
        assert_eq!(domain.nrus, edited.nrus);
        assert!(domain.has_extra_names() && !domain.honour_statement);
        let catalogue = db.load_catalogue_pinned(&[c2.rem_version]).await.unwrap();
        let register = db.referencings_by_nru(&domain.nrus).await.unwrap();
        let plan = compute_plan(&catalogue, &register, &domain).unwrap();
        assert_eq!(
            PlanSnapshot::from_plan(&plan),
            db.candidature_plan(&c2).await.unwrap().unwrap()
        );

        // A second edit based on revision 1 is refused; nothing changed, no audit entry.
        let before = audit_count(&db).await;
        let stale = db
            .update_candidature_step(org.id, c.id, 1, &c.step, &Actor::System)
            .await
            .unwrap_err();
        assert!(stale.is_conflict(Conflict::StaleRevision), "{stale:?}");
        let err = db
            .update_candidature_step(other.id, c.id, 2, &c.step, &Actor::System)
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::NotFound), "{err:?}");
        assert_eq!(db.find_candidature_for(org.id, c.id).await.unwrap(), c2);
        assert_eq!(audit_count(&db).await, before);

        // Extra commercial names without the sworn statement block submission (R6).
        let err = db
            .submit_candidature(org.id, c.id, 2, true, &Actor::System)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, DbError::Refused(Refused::SubmissionBlocked(r))
                if r.len() == 1 && r[0].code.as_str() == "missing_honour_statement"),
            "{err:?}"
        );
        edited.honour_statement = Some(preuves_db::HonourStatement {
            blob_key: "honour/0001".to_owned(),
            file_name: "attestation.pdf".to_owned(),
            sha256: Some("ab".repeat(32)),
            size: Some(1234),
        });
        let c3 = db
            .update_candidature_step(org.id, c.id, 2, &edited, &Actor::System)
            .await
            .unwrap();
        // The sworn statement's SHA-256 and size are recorded, and listed for backups.
        let honour = c3.step.honour_statement.clone().expect("recorded");
        assert_eq!(honour.sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(honour.size, Some(1234));
        let listed = db.referenced_blobs().await.unwrap();
        let statement = listed
            .iter()
            .find(|r| r.key == "honour/0001")
            .expect("listed");
        assert_eq!(statement.sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(statement.size, Some(1234));
        assert!(
            c3.to_domain(&Siren::parse(VENDOR).unwrap())
                .honour_statement
        );

        // Incomplete without confirmation: refused, nothing changed, no audit entry.
        let before = audit_count(&db).await;
        let err = db
            .submit_candidature(org.id, c.id, 3, false, &Actor::System)
            .await
            .unwrap_err();
        assert!(
            err.is_conflict(WorkflowConflict::IncompleteDossier),
            "{err:?}"
        );
        assert_eq!(db.find_candidature_for(org.id, c.id).await.unwrap(), c3);
        assert_eq!(audit_count(&db).await, before);

        let submitted = db
            .submit_candidature(org.id, c.id, 3, true, &Actor::System)
            .await
            .unwrap();
        assert_eq!(submitted.status, CandidatureStatus::Submitted);
        assert!(submitted.submitted_at.is_some());
        assert!(submitted.complete_at.is_none(), "submitted incomplete");
        let frozen = submitted.plan.clone().unwrap();
        assert_eq!(frozen.summary.masked_equivalence, 2);
        assert_eq!(frozen.summary.to_deposit, 2);
        let ins = frozen.entry("INS.01").unwrap().reason.clone().unwrap();
        assert_eq!(
            (ins.rule.as_str(), ins.component.as_deref()),
            ("R7", Some("Module INS"))
        );
        let usa = frozen.entry("USA.01").unwrap();
        let reason = usa.reason.as_ref().unwrap();
        assert_eq!(reason.rule, "R2");
        assert_eq!(reason.nru.as_deref(), Some("REF-DPI-2-0001"));
        assert_eq!(reason.source_requirement.as_deref(), Some("HOP.01"));

        // A replayed form after submission is refused and changes nothing.
        let err = db
            .update_candidature_step(org.id, c.id, 4, &c.step, &Actor::System)
            .await
            .unwrap_err();
        assert!(err.is_conflict(WorkflowConflict::NotDraft), "{err:?}");
        let err = db
            .submit_candidature(org.id, c.id, 4, true, &Actor::System)
            .await
            .unwrap_err();
        assert!(
            err.is_conflict(WorkflowConflict::AlreadySubmitted),
            "{err:?}"
        );
        assert_eq!(
            db.find_candidature_for(org.id, c.id).await.unwrap(),
            submitted
        );
    })
    .await;
}

#[tokio::test]
async fn of_two_concurrent_submissions_exactly_one_wins() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        let org = vendor(&db).await;
        for round in 0..3 {
            let c = draft(&db, &org, &[]).await;
            let plan = live_plan(&db, &c).await;
            deposit_all(&db, &c, &plan, round * 100).await;
            let tasks: Vec<_> = (0..2)
                .map(|_| {
                    let db = db.clone();
                    tokio::spawn(async move {
                        db.submit_candidature(org.id, c.id, 1, false, &Actor::System)
                            .await
                    })
                })
                .collect();
            let mut wins = 0;
            for t in tasks {
                match t.await.unwrap() {
                    Ok(s) => {
                        wins += 1;
                        assert_eq!(s.status, CandidatureStatus::Submitted);
                        assert_eq!(s.complete_at, s.submitted_at, "complete when submitted");
                    }
                    Err(e) => {
                        assert!(e.is_conflict(WorkflowConflict::AlreadySubmitted), "{e:?}");
                    }
                }
            }
            assert_eq!(wins, 1);
            let history = db
                .audit_entries_for("candidature", &c.id.to_string())
                .await
                .unwrap();
            assert_eq!(
                history
                    .iter()
                    .filter(|e| e.action == "candidature.submit")
                    .count(),
                1
            );
        }
        assert!(db.verify_audit_chain().await.unwrap().is_ok());
    })
    .await;
}

#[tokio::test]
async fn proofs_are_recorded_listed_scoped_and_never_overwritten() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        let org = vendor(&db).await;
        let other = other_vendor(&db).await;
        let c = draft(&db, &org, &[]).await;
        let plan = live_plan(&db, &c).await;
        assert_eq!(plan.summary.proofs_to_deposit, 7);
        assert_eq!(
            missing_proofs::<preuves_db::StoredProof>(&plan, &[]).len(),
            7
        );

        let p1 = db
            .record_proof(
                org.id,
                c.id,
                &new_proof("INS/va1.01", 0, 0, 1),
                &Actor::System,
            )
            .await
            .unwrap();
        assert_eq!(p1.scenario_ref.as_deref(), Some("INS/va1.01.01"));
        assert_eq!(p1.proof_ref.as_deref(), Some("INS/va1.01.01.01"));
        assert_eq!(p1.uploaded_by, "system");
        assert!(p1.is_needed() && p1.verdict.is_none());
        // A second file for the same expected proof is a new row.
        let p2 = db
            .record_proof(
                org.id,
                c.id,
                &new_proof("INS/va1.01", 0, 0, 2),
                &Actor::System,
            )
            .await
            .unwrap();
        assert_ne!(p1.id, p2.id);
        let listed = db.list_proofs_for(org.id, c.id).await.unwrap();
        assert_eq!(listed, [p1.clone(), p2.clone()]);
        assert_eq!(db.list_proofs(c.id).await.unwrap(), listed);
        assert_eq!(missing_proofs(&plan, &listed).len(), 6);
        assert_eq!(db.find_proof_for(org.id, p1.id).await.unwrap(), p1);

        // Scoping: another organisation sees nothing and cannot deposit.
        for err in [
            db.find_proof_for(other.id, p1.id).await.unwrap_err(),
            db.list_proofs_for(other.id, c.id).await.unwrap_err(),
            db.record_proof(
                other.id,
                c.id,
                &new_proof("INS.01", 0, 0, 3),
                &Actor::System,
            )
            .await
            .unwrap_err(),
        ] {
            assert!(matches!(err, DbError::NotFound), "{err:?}");
        }

        // Bad input: unknown requirement or position, bad digest, a blob key recorded twice;
        // each leaves no row and no audit entry.
        let before = audit_count(&db).await;
        for bad in [
            new_proof("XYZ.01", 0, 0, 4),
            new_proof("INS.01", 0, 1, 4),
            new_proof("INS.01", 1, 0, 4),
            NewProof {
                sha256: "XYZ".to_owned(),
                ..new_proof("INS.01", 0, 0, 4)
            },
        ] {
            let err = db
                .record_proof(org.id, c.id, &bad, &Actor::System)
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    DbError::Refused(Refused::UnknownRequirement(_) | Refused::UnknownProof { .. })
                        | DbError::Contract(_)
                ),
                "{err:?}"
            );
        }
        let dup = db
            .record_proof(org.id, c.id, &new_proof("INS.01", 0, 0, 1), &Actor::System)
            .await
            .unwrap_err();
        assert!(dup.is_conflict(UniqueConstraint::ProofBlobKey), "{dup:?}");
        assert_eq!(audit_count(&db).await, before);
        assert_eq!(db.list_proofs(c.id).await.unwrap().len(), 2);

        // Submitted incomplete, then completed by a later deposit: complete_at is recorded.
        deposit_all(&db, &c, &plan, 10).await;
        let mut listed = db.list_proofs(c.id).await.unwrap();
        assert!(missing_proofs(&plan, &listed).is_empty());
        let last = listed.pop().unwrap();
        // Fake an incomplete dossier at submission: the last proof is marked no longer needed.
        db.mark_proofs_no_longer_needed(
            c.id,
            std::slice::from_ref(&last.requirement),
            &Actor::System,
        )
        .await
        .unwrap();
        let s = db
            .submit_candidature(org.id, c.id, 1, true, &Actor::System)
            .await
            .unwrap();
        assert!(s.complete_at.is_none());
        db.record_proof(
            org.id,
            c.id,
            &new_proof(last.requirement.as_str(), 0, 0, 90),
            &Actor::System,
        )
        .await
        .unwrap();
        let complete = db.find_candidature_for(org.id, c.id).await.unwrap();
        assert!(complete.complete_at.is_some(), "{complete:?}");

        // Once in instruction, deposits are closed.
        db.set_candidature_status(c.id, CandidatureStatus::InInstruction, None, &Actor::System)
            .await
            .unwrap();
        let err = db
            .record_proof(org.id, c.id, &new_proof("INS.01", 0, 0, 91), &Actor::System)
            .await
            .unwrap_err();
        assert!(err.is_conflict(WorkflowConflict::DepositClosed), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn late_nrus_recompute_the_plan_and_keep_proofs_no_longer_needed() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        let org = vendor(&db).await;
        let dpi = "REF-DPI-2-0001";

        // A draft cannot take late NRUs.
        let incomplete = draft(&db, &org, &[]).await;
        let err = db
            .record_late_nrus(
                org.id,
                incomplete.id,
                1,
                &[Nru::parse(dpi).unwrap()],
                &Actor::System,
            )
            .await
            .unwrap_err();
        assert!(err.is_conflict(WorkflowConflict::NotSubmitted), "{err:?}");
        let incomplete = db
            .submit_candidature(org.id, incomplete.id, 1, true, &Actor::System)
            .await
            .unwrap();

        // The complete one: every proof deposited before submission.
        let c = draft(&db, &org, &[]).await;
        let plan = live_plan(&db, &c).await;
        let deposited = deposit_all(&db, &c, &plan, 0).await;
        assert_eq!(deposited, 7);
        let c = db
            .submit_candidature(org.id, c.id, 1, false, &Actor::System)
            .await
            .unwrap();
        assert!(c.complete_at.is_some());

        // R5 "obtained since": a referencing granted on the submission day (Paris) was already
        // held at submission and is refused, whatever the dossier; nothing changes.
        let today = paris_day_after(0);
        let mut held = new_referencing("REF-DPI-2-0002", org.id, "DPI", 2);
        held.granted_on = today;
        db.insert_referencing(&held, &Actor::System).await.unwrap();
        let before = audit_count(&db).await;
        match db
            .record_late_nrus(
                org.id,
                c.id,
                c.revision,
                &[Nru::parse("REF-DPI-2-0002").unwrap()],
                &Actor::System,
            )
            .await
            .unwrap()
        {
            LateNrusOutcome::Refused(refusals) => {
                assert_eq!(refusals.len(), 1, "{refusals:?}");
                assert_eq!(refusals[0].code, RefusalCode::LateNruNotAllowed);
                assert!(
                    refusals[0]
                        .message
                        .contains("avant ou le jour même du dépôt"),
                    "{refusals:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(audit_count(&db).await, before);
        assert_eq!(
            db.find_candidature_for(org.id, c.id)
                .await
                .unwrap()
                .late_nrus,
            []
        );

        // The DPI vague-2 referencing is obtained after submission (the next day).
        let mut since = new_referencing(dpi, org.id, "DPI", 2);
        since.granted_on = paris_day_after(1);
        db.insert_referencing(&since, &Actor::System).await.unwrap();

        // R5: the incomplete dossier cannot use it; nothing changes.
        let before = audit_count(&db).await;
        match db
            .record_late_nrus(
                org.id,
                incomplete.id,
                incomplete.revision,
                &[Nru::parse(dpi).unwrap()],
                &Actor::System,
            )
            .await
            .unwrap()
        {
            LateNrusOutcome::Refused(refusals) => {
                assert!(
                    refusals
                        .iter()
                        .any(|r| r.code == RefusalCode::LateNruNotAllowed),
                    "{refusals:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            db.find_candidature_for(org.id, incomplete.id)
                .await
                .unwrap(),
            incomplete
        );
        assert_eq!(audit_count(&db).await, before);

        // A stale revision is refused.
        let err = db
            .record_late_nrus(
                org.id,
                c.id,
                c.revision - 1,
                &[Nru::parse(dpi).unwrap()],
                &Actor::System,
            )
            .await
            .unwrap_err();
        assert!(err.is_conflict(Conflict::StaleRevision), "{err:?}");

        let outcome = db
            .record_late_nrus(
                org.id,
                c.id,
                c.revision,
                &[Nru::parse(dpi).unwrap()],
                &Actor::System,
            )
            .await
            .unwrap();
        let LateNrusOutcome::Recorded {
            candidature,
            newly_masked,
            proofs_no_longer_needed,
        } = outcome
        else {
            panic!("{outcome:?}");
        };
        assert_eq!(newly_masked, ["INS/va1.01", "INS.01", "DMP.01", "USA.01"]);
        assert_eq!(proofs_no_longer_needed, 7);
        assert_eq!(candidature.late_nrus, [Nru::parse(dpi).unwrap()]);
        assert_eq!(candidature.revision, c.revision + 1);
        assert_eq!(
            candidature.step, c.step,
            "the administrative step is unchanged"
        );
        let plan = candidature.plan.clone().unwrap();
        assert_eq!(plan.summary.masked_equivalence, 4);
        assert_eq!(plan.summary.to_deposit, 0);
        let proofs = db.list_proofs(c.id).await.unwrap();
        assert_eq!(proofs.len(), 7, "kept, not deleted");
        assert!(proofs.iter().all(|p| !p.is_needed()));
        let domain = candidature.to_domain(&Siren::parse(VENDOR).unwrap());
        assert!(domain.late.is_some_and(|l| l.complete_on.is_some()));
        let history = db
            .audit_entries_for("candidature", &c.id.to_string())
            .await
            .unwrap();
        assert_eq!(history.last().unwrap().action, "candidature.late_nrus");
    })
    .await;
}

#[tokio::test]
async fn status_changes_follow_the_lifecycle_and_name_who_and_why() {
    for_each_backend(|db| async move {
        seed_catalogue(&db).await;
        let org = vendor(&db).await;
        let c = draft(&db, &org, &[]).await;
        let err = db
            .set_candidature_status(c.id, CandidatureStatus::InInstruction, None, &Actor::System)
            .await
            .unwrap_err();
        assert!(
            err.is_conflict(WorkflowConflict::InvalidTransition),
            "{err:?}"
        );
        db.submit_candidature(org.id, c.id, 1, true, &Actor::System)
            .await
            .unwrap();
        let steps = [
            (CandidatureStatus::InInstruction, "prise en charge"),
            (CandidatureStatus::ComplementRequested, "vidéo illisible"),
            (CandidatureStatus::InInstruction, "complément reçu"),
            (CandidatureStatus::Refused, "preuves non conformes"),
        ];
        for (to, why) in steps {
            let s = db
                .set_candidature_status(c.id, to, Some(why), &Actor::System)
                .await
                .unwrap();
            assert_eq!(s.status, to);
            assert_eq!(s.status_reason.as_deref(), Some(why));
        }
        let err = db
            .set_candidature_status(c.id, CandidatureStatus::InInstruction, None, &Actor::System)
            .await
            .unwrap_err();
        assert!(
            err.is_conflict(WorkflowConflict::InvalidTransition),
            "{err:?}"
        );
        let history = db
            .audit_entries_for("candidature", &c.id.to_string())
            .await
            .unwrap();
        let status: Vec<_> = history
            .iter()
            .filter(|e| e.action == "candidature.status")
            .collect();
        assert_eq!(status.len(), 4);
        assert!(
            status[1].details.contains("vidéo illisible"),
            "{}",
            status[1].details
        );
        assert!(status[1].details.contains("complement_requested"));
        assert_eq!(status[1].actor, "system");
        assert_eq!(
            CandidatureStatus::ComplementRequested.label(),
            "complément demandé"
        );
    })
    .await;
}
