//! The full loop through the pages on the demo data: the webinar's case 3 filed complete,
//! instructed with one complement request, granted; the NRU then cited by a new candidature;
//! the attestation's text; the public register (page, CSV, JSON) and the verification page;
//! suspension; and the refusals of instruction (another instructor's candidature, incomplete
//! instruction, second decision, forged NRU).

use axum::http::StatusCode;
use preuves_db::{CandidatureStatus, Role};
use preuves_domain::IssuedNru;

use crate::journey::{post_pairs, scenario, shown_plan, step_fields, vendor_for};
use crate::support::TestApp;

/// The current files of a candidature awaiting a verdict, as the instruction page links them.
fn file_ids(html: &str) -> Vec<String> {
    html.match_indices("id=\"fichier-")
        .map(|(i, _)| {
            let rest = &html[i + "id=\"fichier-".len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

#[tokio::test]
async fn case_3_filed_instructed_with_a_complement_request_granted_then_cited() {
    let file = scenario("cas-3.json");
    let mut v = vendor_for(&file, TestApp::new().await).await;
    let opened = post_pairs(
        &mut v.client,
        "/candidatures/nouvelle",
        &step_fields(&file, &v.solution, "enregistrer"),
    )
    .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER);
    let id = v
        .app
        .db
        .list_candidatures(Some(v.organisation), None)
        .await
        .unwrap()[0]
        .id;
    let revision = v
        .app
        .db
        .find_candidature(id)
        .await
        .unwrap()
        .unwrap()
        .revision
        .to_string();
    let r = v
        .client
        .upload(
            &format!("/candidatures/{id}/attestation-honneur"),
            &[("revision", &revision)],
            "attestation.pdf",
            b"%PDF-1.4 sworn",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Every expected proof, uploaded through the deposit form.
    let c = v.app.db.find_candidature(id).await.unwrap().unwrap();
    let plan = v.app.db.candidature_plan(&c).await.unwrap().unwrap();
    for e in plan.entries.iter().filter(|e| e.is_to_deposit()) {
        for x in &e.expected {
            let (si, pi) = (x.scenario_index.to_string(), x.proof_index.to_string());
            let r = v
                .client
                .upload(
                    &format!("/candidatures/{id}/preuves"),
                    &[
                        ("exigence", &e.requirement),
                        ("scenario", &si),
                        ("preuve", &pi),
                    ],
                    "preuve.pdf",
                    format!("%PDF-1.4 {} {si} {pi}", e.requirement).as_bytes(),
                )
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        }
    }
    let revision = v
        .app
        .db
        .find_candidature(id)
        .await
        .unwrap()
        .unwrap()
        .revision
        .to_string();
    let r = v
        .client
        .post(
            &format!("/candidatures/{id}/deposer"),
            &[("revision", &revision)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        v.app
            .db
            .find_candidature(id)
            .await
            .unwrap()
            .unwrap()
            .complete_at
            .is_some()
    );

    // Instruction.
    let mut instructor = v
        .app
        .signed_in("instructrice@ans.example.fr", Role::Instructor, None)
        .await;
    let mut other = v
        .app
        .signed_in("autre@ans.example.fr", Role::Instructor, None)
        .await;
    let queue = instructor.get("/instruction").await;
    assert!(
        queue.body.contains(&format!("/instruction/{id}\"")),
        "{}",
        queue.body
    );
    assert!(queue.body.contains("complet le"));
    let r = instructor
        .post(&format!("/instruction/{id}/prendre"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = instructor.get(&format!("/instruction/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    // Masked requirements are shown with their lineage.
    let rows = shown_plan(&page.body);
    assert!(
        rows.values()
            .any(|r| r.0 == "masked_heritage" && r.2.as_deref() == Some("REF-MS2-PDE-1-0001"))
    );
    let files = file_ids(&page.body);
    assert!(!files.is_empty());

    // Another instructor cannot judge a candidature held by the first.
    let audit = v.app.db.audit_entries(0, 100_000).await.unwrap().len();
    let r = other
        .post(
            &format!("/instruction/{id}/preuves/{}/verdict", files[0]),
            &[("verdict", "compliant")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("Un autre instructeur"), "{}", r.body);
    // No decision while proofs await their verdict.
    let r = instructor
        .post(&format!("/instruction/{id}/referencer"), &[])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("instruction n&#39;est pas terminée"),
        "{}",
        r.body
    );
    assert_eq!(
        v.app.db.audit_entries(0, 100_000).await.unwrap().len(),
        audit
    );

    // Handing over: the first instructor gives it to the other, who gives it back.
    let id_of = |email: &'static str| {
        let db = v.app.db.clone();
        async move {
            db.find_user_by_email(email)
                .await
                .unwrap()
                .unwrap()
                .id
                .0
                .to_string()
        }
    };
    let (first_id, other_id) = (
        id_of("instructrice@ans.example.fr").await,
        id_of("autre@ans.example.fr").await,
    );
    let r = instructor
        .post(
            &format!("/instruction/{id}/attribuer"),
            &[("instructeur", other_id.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = instructor
        .post(
            &format!("/instruction/{id}/preuves/{}/verdict", files[0]),
            &[("verdict", "compliant")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no longer hers");
    let r = other
        .post(
            &format!("/instruction/{id}/attribuer"),
            &[("instructeur", first_id.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Verdicts: all compliant but the first, which needs a complement.
    let r = instructor
        .post(
            &format!("/instruction/{id}/preuves/{}/verdict", files[0]),
            &[("verdict", "complement_requested")],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a comment is required"
    );
    let r = instructor
        .post(
            &format!("/instruction/{id}/preuves/{}/verdict", files[0]),
            &[
                ("verdict", "complement_requested"),
                ("commentaire", "La capture ne montre pas l'identité INS."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    for f in &files[1..] {
        let r = instructor
            .post(
                &format!("/instruction/{id}/preuves/{f}/verdict"),
                &[("verdict", "compliant")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let first = v
        .app
        .db
        .find_proof(preuves_db::ProofId(files[0].parse().unwrap()))
        .await
        .unwrap()
        .unwrap();
    let requirement = first.requirement.to_string();
    let comment_key = format!("commentaire:{requirement}");
    let r = instructor
        .post(
            &format!("/instruction/{id}/complements"),
            &[
                ("exigence", requirement.as_str()),
                (comment_key.as_str(), "Capture avec l'identité INS visible."),
                ("message", "Merci de compléter la preuve indiquée."),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        v.app.db.find_candidature(id).await.unwrap().unwrap().status,
        CandidatureStatus::ComplementRequested
    );

    // The vendor sees the request, deposits a new file and answers.
    let page = v.client.get(&format!("/candidatures/{id}")).await;
    assert!(
        page.body.contains("Merci de compléter la preuve indiquée."),
        "{}",
        page.body
    );
    let (si, pi) = (
        first.scenario_index.to_string(),
        first.proof_index.to_string(),
    );
    let r = v
        .client
        .upload(
            &format!("/candidatures/{id}/preuves"),
            &[
                ("exigence", &requirement),
                ("scenario", &si),
                ("preuve", &pi),
            ],
            "preuve-completee.pdf",
            b"%PDF-1.4 complement",
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = v
        .client
        .post(
            &format!("/candidatures/{id}/complements"),
            &[("message", "Nouvelle capture déposée.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        v.app.db.find_candidature(id).await.unwrap().unwrap().status,
        CandidatureStatus::InInstruction
    );
    // The judged file is kept; the new one is the one to judge.
    let page = instructor.get(&format!("/instruction/{id}")).await;
    assert!(page.body.contains("Nouvelle capture déposée."));
    let newest = v
        .app
        .db
        .list_proofs(id)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.file_name == "preuve-completee.pdf")
        .unwrap();
    assert!(
        v.app.db.find_proof(first.id).await.unwrap().is_some(),
        "never overwritten"
    );
    let r = instructor
        .post(
            &format!("/instruction/{id}/preuves/{}/verdict", newest.id),
            &[("verdict", "compliant")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // The grant: NRU with its check character, attestation, register.
    let r = instructor
        .post(&format!("/instruction/{id}/referencer"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let nru = r
        .location()
        .trim_start_matches("/referencements/")
        .to_owned();
    let issued = IssuedNru::parse(&nru).expect("a platform NRU");
    assert_eq!(issued.dispositif(), "DUIMS");
    let second = instructor
        .post(&format!("/instruction/{id}/referencer"), &[])
        .await;
    assert_eq!(
        second.status,
        StatusCode::CONFLICT,
        "second decision: {}",
        second.body
    );
    let refuse = instructor
        .post(
            &format!("/instruction/{id}/refuser"),
            &[("motif", "trop tard")],
        )
        .await;
    assert_eq!(refuse.status, StatusCode::CONFLICT);

    let pdf = v
        .client
        .send(
            axum::http::Request::get(format!("/referencements/{nru}/attestation"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    let grant = v
        .app
        .db
        .find_grant(&preuves_domain::Nru::parse(&nru).unwrap())
        .await
        .unwrap()
        .unwrap();
    let bytes = v
        .app
        .blobs
        .get_bytes(&preuves_storage::BlobKey::parse(grant.attestation_blob_key.clone()).unwrap())
        .await
        .unwrap();
    let text = pdf_extract::extract_text_from_mem(&bytes).unwrap();
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        nru.as_str(),
        "A Santé",
        "A Social",
        "Éditeur A",
        "4.3",
        grant.verification_code.as_str(),
        "REF-MS2-PDE-1-0001",
        "REF-DPI-2-0001",
    ] {
        assert!(
            flat.contains(needle),
            "{needle} missing from the attestation"
        );
    }
    for entry in &grant.manifest.entries {
        assert!(
            flat.contains(&entry.requirement),
            "{} missing from the manifest",
            entry.requirement
        );
    }

    // Public register and verification, without signing in.
    let mut public = v.app.client();
    let page = public.get(&format!("/registre?q={}", &nru[..12])).await;
    assert!(page.body.contains(&nru));
    let csv = public.get("/registre.csv").await;
    assert!(csv.body.starts_with('\u{feff}'));
    assert!(
        csv.body
            .lines()
            .next()
            .unwrap()
            .contains("NRU;Éditeur;SIREN")
    );
    assert!(
        csv.body
            .contains(&format!("{nru};Éditeur A;732829320;DUI-MS;2;")),
        "{}",
        csv.body
    );
    let json: serde_json::Value =
        serde_json::from_str(&public.get("/registre.json").await.body).unwrap();
    assert!(
        json["referencements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["nru"] == nru.as_str())
    );
    let ok = public
        .get(&format!(
            "/verifier/{nru}?code={}",
            grant.verification_code.as_str()
        ))
        .await;
    assert!(
        ok.body.contains("valide") && ok.body.contains("correspond à celui"),
        "{}",
        ok.body
    );
    let wrong = public
        .get(&format!("/verifier/{nru}?code=ZZZZZZZZZZ"))
        .await;
    assert!(wrong.body.contains("ne correspond pas"));
    let mut forged = nru.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let r = public.get(&format!("/verifier/{forged}")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("mal saisi"), "{}", r.body);

    // The new referencing is a source: a DPI candidature citing it masks by équivalence.
    let mut dpi = step_fields(&file, &v.solution, "apercu");
    for (k, val) in &mut dpi {
        match k.as_str() {
            "dispositif" => *val = "DPI-2".into(),
            "nrus" => *val = nru.clone(),
            "noms" => *val = "A".into(),
            _ => {}
        }
    }
    dpi.retain(|(k, _)| k != "profil" && !k.starts_with("composant"));
    let preview = post_pairs(&mut v.client, "/candidatures/nouvelle", &dpi).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let masked: Vec<_> = shown_plan(&preview.body)
        .into_values()
        .filter(|r| r.0 == "masked_equivalence")
        .collect();
    assert!(!masked.is_empty());
    assert!(masked.iter().all(|r| r.2.as_deref() == Some(nru.as_str())));
    for (k, val) in &mut dpi {
        if k == "action" {
            *val = "enregistrer".into();
        }
    }
    let r = post_pairs(&mut v.client, "/candidatures/nouvelle", &dpi).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let citing = r.location().to_owned();

    // Suspension: the citing candidature is warned, its plan unchanged; verification says so.
    let mut admin = v
        .app
        .signed_in("admin@ans.example.fr", Role::Admin, None)
        .await;
    let r = admin
        .post(
            &format!("/admin/referencements/{nru}/statut"),
            &[("statut", "suspended")],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required"
    );
    let r = admin
        .post(
            &format!("/admin/referencements/{nru}/statut"),
            &[
                ("statut", "suspended"),
                ("motif", "Anomalie de sécurité en cours d'analyse"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let detail = admin.get(&format!("/referencements/{nru}")).await;
    assert!(
        detail
            .body
            .contains("Candidatures en cours qui citent ce NRU")
    );
    let verified = public.get(&format!("/verifier/{nru}")).await;
    assert!(verified.body.contains("suspendu") && verified.body.contains("Anomalie de sécurité"));
    // A draft citing it now gets R8's refusal (its plan is live, nothing is filed yet).
    let draft = v.client.get(&citing).await;
    assert!(draft.body.contains("nru_not_valid"), "{}", draft.body);
    assert!(v.app.db.verify_audit_chain().await.unwrap().is_ok());
}
