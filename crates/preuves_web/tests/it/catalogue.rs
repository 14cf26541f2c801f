//! The public catalogue pages (dispositifs, search, requirement) and the REM import by an
//! administrator, through the real router on the demo catalogue.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use preuves_db::Role;
use preuves_domain::{DispositifCode, DispositifKey, Wave};
use preuves_web::WebConfig;
use sha2::{Digest, Sha256};

use crate::support::{Client, TestApp, TestResponse};

const NBSP: char = '\u{a0}';

fn dui() -> DispositifKey {
    DispositifKey {
        code: DispositifCode::parse("DUI-MS").unwrap(),
        wave: Wave::Two,
    }
}

async fn dui_versions(app: &TestApp) -> usize {
    app.db.list_rem_versions(&dui()).await.unwrap().len()
}

const BOUNDARY: &str = "----preuves-test-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body: `(name, file name, content)` in order.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file_name {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post_multipart(client: &mut Client, body: Vec<u8>) -> TestResponse {
    client
        .send(
            Request::post("/admin/import")
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await
}

/// Uploads a file the way the form does: `csrf`, `dispositif`, `fichier`.
pub(crate) async fn upload(
    client: &mut Client,
    dispositif: &str,
    file: &str,
    bytes: &[u8],
) -> TestResponse {
    client.get("/admin/import").await;
    let csrf = client.csrf().await;
    let body = multipart(&[
        ("csrf", None, csrf.as_bytes()),
        ("dispositif", None, dispositif.as_bytes()),
        ("fichier", Some(file), bytes),
    ]);
    post_multipart(client, body).await
}

/// The value of the hidden input `name` of a page.
pub(crate) fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {body}"))
        + marker.len();
    body[start..][..body[start..].find('"').unwrap()].to_owned()
}

/// Confirms the analysis page `preview` the way its button does.
pub(crate) async fn confirm(client: &mut Client, preview: &TestResponse) -> TestResponse {
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("Importer cette version"));
    let staging = hidden(&preview.body, "staging");
    let sha256 = hidden(&preview.body, "sha256");
    client
        .post(
            "/admin/import/confirmer",
            &[("staging", &staging), ("sha256", &sha256)],
        )
        .await
}

/// Uploads a file, then confirms its analysis: the import as the administrator does it.
async fn import(client: &mut Client, dispositif: &str, file: &str, bytes: &[u8]) -> TestResponse {
    let preview = upload(client, dispositif, file, bytes).await;
    confirm(client, &preview).await
}

const HEADER: &str = "Périmètre,ID,Chapitre,Fonction,Exigence,Commentaire,Profil,N° scénario,\
Scénario de conformité,N° preuve,Preuve,Profil historique,Criticité,Ordre,Exigence socle,ID vague 1";

/// A small valid REM: two requirements, the second with a scenario but no proof (a warning).
pub(crate) fn small_rem() -> String {
    format!(
        "{HEADER}\r\n\
         Vague 1,INS/va1.01,Identité nationale de santé,Appel INSi,Le système DOIT appeler le téléservice INSi.,,Général,INS/va1.01.01,Appeler INSi,INS/va1.01.01.01,Vidéo,Général,Majeure,1,SC.INS/va1.01,INS.01\r\n\
         Vague 2,USA.01,Usagers,Accueil,Le système DOIT enregistrer l'accueil d'un usager.,,Général,USA.01.01,Accueillir un usager,,,,Majeure,2,,\r\n"
    )
}

#[tokio::test]
async fn the_catalogue_is_public_and_lists_vague_2_first() {
    let app = TestApp::new().await;
    let r = app.client().get("/catalogue").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = &r.body;
    for text in [
        "Catalogue des dispositifs",
        "Dossier usager informatisé médico-social",
        "Dossier patient informatisé",
        "href=\"/catalogue/DUI-MS/2\"",
        "href=\"/catalogue/MS2-PDE/1\"",
        "31/03/2027",
        "15/12/2026",
        "aria-current=\"page\"",
    ] {
        assert!(b.contains(text), "{text} missing");
    }
    assert!(b.contains(&format!("version{NBSP}1 — 113{NBSP}exigences")));
    // DPI's REM in force is labelled "2" by the demo catalogue: the label, not the import rank.
    assert!(b.contains(&format!("version{NBSP}2 — 69{NBSP}exigences")));
    let wave2 = b.find("id=\"vague-2\"").unwrap();
    let wave1 = b.find("id=\"vague-1\"").unwrap();
    assert!(wave2 < wave1, "vague 2 comes first");
    // The predecessors of DUI-MS, linked to their vague-1 pages.
    let dui_row = &b[b.find("href=\"/catalogue/DUI-MS/2\"").unwrap()..];
    let dui_row = &dui_row[..dui_row.find("</tr>").unwrap()];
    for p in ["MS1", "MS2-PDE", "MS2-PDS"] {
        assert!(
            dui_row.contains(&format!("href=\"/catalogue/{p}/1\"")),
            "{p}"
        );
    }
}

#[tokio::test]
async fn a_dispositif_page_shows_versions_profiles_chapters_and_searches() {
    let app = TestApp::new().await;
    let mut c = app.client();
    let r = c.get("/catalogue/DUI-MS/2").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = &r.body;
    for text in [
        "Dossier usager informatisé médico-social",
        "Versions du REM",
        "courante",
        "Profils et chapitres",
        "Rechercher une exigence",
        "<label for=\"q\">",
        "href=\"/catalogue/MS1/1\"",
        "31/03/2027",
        "la plateforme (chargement du catalogue)",
        // Profiles and chapters with their counts, linked to the filtered search.
        "href=\"/catalogue/DUI-MS/2?profil=PA#resultats\"",
        "href=\"/catalogue/DUI-MS/2?chapitre=INS#resultats\"",
        "PA, PH, DOM, PDE, PDS",
    ] {
        assert!(b.contains(text), "{text} missing");
    }
    // First page of 50 among 113, with a link to the next page and none to the previous.
    assert!(b.contains(&format!(
        "113{NBSP}exigences trouvées — 1 à 50 affichées (page{NBSP}1 sur 3)"
    )));
    assert_eq!(b.matches("/catalogue/DUI-MS/2/exigence?id=").count(), 50);
    assert!(b.contains("href=\"/catalogue/DUI-MS/2?page=2#resultats\""));
    assert!(!b.contains("rel=\"prev\""));
    // Administration links are for administrators only.
    assert!(!b.contains("/admin/import"));

    let r = c.get("/catalogue/DUI-MS/2?page=3").await;
    assert!(r.body.contains(&format!(
        "113{NBSP}exigences trouvées — 101 à 113 affichées (page{NBSP}3 sur 3)"
    )));
    assert!(
        r.body
            .contains("href=\"/catalogue/DUI-MS/2?page=2#resultats\"")
    );
    assert!(!r.body.contains("rel=\"next\""));
    assert_eq!(
        r.body.matches("/catalogue/DUI-MS/2/exigence?id=").count(),
        13
    );

    // A page past the end says so.
    let r = c.get("/catalogue/DUI-MS/2?page=9").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("aucune sur la page"));
    assert!(r.body.contains("Revenir à la première page"));
}

#[tokio::test]
async fn the_search_filters_and_keeps_its_filters_across_pages() {
    let app = TestApp::new().await;
    let mut c = app.client();
    let count = |body: &str| body.matches("/catalogue/DUI-MS/2/exigence?id=").count();

    let r = c.get("/catalogue/DUI-MS/2?profil=PA").await;
    assert!(
        r.body.contains(&format!("9{NBSP}exigences trouvées")),
        "{}",
        r.body
    );
    assert_eq!(count(&r.body), 9);
    assert!(r.body.contains("<option value=\"PA\" selected>"));

    let r = c
        .get("/catalogue/DUI-MS/2?profil=PA&perimetre=Vague%201")
        .await;
    assert!(r.body.contains(&format!("4{NBSP}exigences trouvées")));
    assert!(r.body.contains("<option value=\"Vague 1\" selected>"));

    let r = c.get("/catalogue/DUI-MS/2?chapitre=INS").await;
    assert!(r.body.contains(&format!("11{NBSP}exigences trouvées")));
    assert!(r.body.contains("INS/va1.01"));
    assert!(!r.body.contains("?id=USA."));

    // Text search, without regard to case or accents, on the id too.
    let r = c.get("/catalogue/DUI-MS/2?q=ins%2FVA1.01").await;
    assert!(r.body.contains("?id=INS/va1.01\""), "{}", r.body);
    let r = c.get("/catalogue/DUI-MS/2?q=TELESERVICE").await;
    assert!(r.body.contains("?id=INS/va1.01\""));
    let r = c.get("/catalogue/DUI-MS/2?q=zzzz-introuvable").await;
    assert!(
        r.body
            .contains("Aucune exigence ne correspond à la recherche.")
    );
    assert!(r.body.contains("value=\"zzzz-introuvable\""));

    // 62 vague-2 requirements: two pages, and the links keep the filter.
    let r = c.get("/catalogue/DUI-MS/2?perimetre=Vague%202").await;
    assert!(r.body.contains(&format!(
        "62{NBSP}exigences trouvées — 1 à 50 affichées (page{NBSP}1 sur 2)"
    )));
    assert!(
        r.body
            .contains("href=\"/catalogue/DUI-MS/2?perimetre=Vague%202&#38;page=2#resultats\"")
    );
    let r = c
        .get("/catalogue/DUI-MS/2?perimetre=Vague%202&page=2")
        .await;
    assert!(r.body.contains(&format!(
        "62{NBSP}exigences trouvées — 51 à 62 affichées (page{NBSP}2 sur 2)"
    )));
    assert_eq!(count(&r.body), 12);
    assert!(
        r.body
            .contains("href=\"/catalogue/DUI-MS/2?perimetre=Vague%202#resultats\"")
    );

    // Nonsense filters are no error: they find nothing, or are ignored.
    let r = c
        .get("/catalogue/DUI-MS/2?profil=XX&page=abc&perimetre=Vague%203")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .contains("Aucune exigence ne correspond à la recherche.")
    );
}

#[tokio::test]
async fn a_vague_1_dispositif_points_to_the_rems_that_carry_it() {
    let app = TestApp::new().await;
    let r = app.client().get("/catalogue/MS2-PDE/1").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("protection de l"));
    assert!(r.body.contains("href=\"/catalogue/DUI-MS/2\""));
    assert!(!r.body.contains("Rechercher une exigence"));
}

#[tokio::test]
async fn a_requirement_shows_its_scenarios_proofs_and_shared_requirements() {
    let app = TestApp::new().await;
    let mut c = app.client();
    let r = c.get("/catalogue/DUI-MS/2/exigence?id=INS%2Fva1.01").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = &r.body;
    for text in [
        "<h1>Exigence INS/va1.01</h1>",
        "Identité nationale de santé",
        "Appel du téléservice INSi",
        "SC.INS/va1.01",
        "INS.01",
        "Vague 1",
        "Majeure",
        "Scénario INS/va1.01.01",
        "Scénario INS/va1.01.02",
        "INS/va1.01.01.01",
        "Vidéo montrant le déroulé des étapes du scénario.",
        "Exigences communes dans les autres dispositifs",
        "href=\"/catalogue/DPI/2/exigence?id=INS/va1.01\"",
        "même exigence socle SC.INS/va1.01",
        "(version courante)",
    ] {
        assert!(b.contains(text), "{text} missing");
    }
    // And back: DPI's requirement is shared with DUI-MS.
    let r = c.get("/catalogue/DPI/2/exigence?id=INS/va1.01").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .contains("href=\"/catalogue/DUI-MS/2/exigence?id=INS/va1.01\"")
    );

    // A requirement of a named version.
    let v1 = app.db.list_rem_versions(&dui()).await.unwrap()[0].id;
    let r = c
        .get(&format!(
            "/catalogue/DUI-MS/2/exigence?id=INS%2Fva1.01&version={v1}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("(version courante)"));
}

#[tokio::test]
async fn unknown_dispositifs_and_requirements_are_404() {
    let app = TestApp::new().await;
    let mut c = app.client();
    let dpi = DispositifKey {
        code: DispositifCode::parse("DPI").unwrap(),
        wave: Wave::Two,
    };
    let dpi_v1 = app.db.list_rem_versions(&dpi).await.unwrap()[0].id;
    for path in [
        "/catalogue/XYZ/2".to_owned(),
        "/catalogue/DPI/3".to_owned(),
        "/catalogue/DPI/deux".to_owned(),
        "/catalogue/D%20PI/2".to_owned(),
        "/catalogue/DUI-MS/2/exigence?id=NOPE.01".to_owned(),
        "/catalogue/DUI-MS/2/exigence".to_owned(),
        "/catalogue/DUI-MS/2/exigence?id=".to_owned(),
        "/catalogue/XYZ/2/exigence?id=INS%2Fva1.01".to_owned(),
        "/catalogue/DUI-MS/2/exigence?id=INS%2Fva1.01&version=99999".to_owned(),
        "/catalogue/DUI-MS/2/exigence?id=INS%2Fva1.01&version=abc".to_owned(),
        // A version of another dispositif.
        format!("/catalogue/DUI-MS/2/exigence?id=INS%2Fva1.01&version={dpi_v1}"),
        // Vague 1 has no REM.
        "/catalogue/MS1/1/exigence?id=INS%2Fva1.01".to_owned(),
    ] {
        let r = c.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.body.contains("Page introuvable"), "{path}");
    }
}

#[tokio::test]
async fn the_import_is_for_administrators_only() {
    let app = TestApp::new().await;
    let mut anonymous = app.client();
    let r = anonymous.get("/admin/import").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/connexion"), "{}", r.location());
    anonymous.get("/connexion").await;
    let csrf = anonymous.csrf().await;
    let body = multipart(&[
        ("csrf", None, csrf.as_bytes()),
        ("dispositif", None, b"DUI-MS"),
        ("fichier", Some("REM.csv"), small_rem().as_bytes()),
    ]);
    let r = post_multipart(&mut anonymous, body).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/connexion"));
    let r = anonymous.get("/admin/import/1").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    let org = app.organisation("Éditeur A", "732829320").await;
    for mut client in [
        app.signed_in("instructeur@example.fr", Role::Instructor, None)
            .await,
        app.signed_in("editeur@example.fr", Role::Vendor, Some(org))
            .await,
    ] {
        let r = client.get("/admin/import").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("Accès refusé"));
        let r = upload(&mut client, "DUI-MS", "REM.csv", small_rem().as_bytes()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = client.get("/admin/import/1").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(dui_versions(&app).await, 1);
}

#[tokio::test]
async fn an_import_makes_a_new_version_with_its_report() {
    let app = TestApp::new().await;
    let mut admin = app.signed_in("admin@example.fr", Role::Admin, None).await;
    let r = admin.get("/admin/import?dispositif=DUI-MS").await;
    assert_eq!(r.status, StatusCode::OK);
    for text in [
        "enctype=\"multipart/form-data\"",
        "<option value=\"DUI-MS\" selected>",
        "<option value=\"DPI\">",
        "accept=\".csv,.xlsx",
        "Scénario de conformité",
        "Exigence socle",
        "ID vague 1",
        "32\u{a0}Mo",
    ] {
        assert!(r.body.contains(text), "{text} missing");
    }
    // Vague-1 dispositifs have no REM: they are not offered.
    assert!(!r.body.contains("<option value=\"MS1\""));

    let file = small_rem();
    let r = import(&mut admin, "DUI-MS", "REM-DUI-MS-v2.csv", file.as_bytes()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let versions = app.db.list_rem_versions(&dui()).await.unwrap();
    assert_eq!(versions.len(), 2);
    let v2 = &versions[1];
    assert_eq!(v2.version, 2);
    assert_eq!(v2.requirement_count, 2);
    assert_eq!(v2.row_count, 2);
    assert_eq!(v2.source_name, "REM-DUI-MS-v2.csv");
    assert_eq!(r.location(), format!("/admin/import/{}", v2.id));

    let r = admin.get(r.location()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let sha = hex::encode(Sha256::digest(file.as_bytes()));
    for text in [
        format!("Version 2 du REM DUI-MS vague{NBSP}2 importée{NBSP}: 2{NBSP}exigences."),
        format!("Import du REM DUI-MS vague{NBSP}2, version&nbsp;2"),
        "REM-DUI-MS-v2.csv".to_owned(),
        sha,
        ">admin</dd>".to_owned(),
        "courante".to_owned(),
        // The warning kept with the version: a scenario without proof, on line 3.
        "Avertissements (1)".to_owned(),
        "USA.01".to_owned(),
        "<code>no_proof</code>".to_owned(),
        "<td class=\"num\">3</td>".to_owned(),
    ] {
        assert!(r.body.contains(&text), "{text} missing in {}", r.body);
    }

    // The catalogue now serves version 2; version 1 is kept as it was.
    let r = admin.get("/catalogue/DUI-MS/2").await;
    assert!(r.body.contains(&format!("2{NBSP}exigences trouvées")));
    assert!(
        r.body
            .contains(&format!("href=\"/admin/import/{}\"", v2.id))
    );
    let v1 = &versions[0];
    assert_eq!(v1.requirement_count, 113);
    let r = admin
        .get(&format!(
            "/catalogue/DUI-MS/2/exigence?id=PA.01&version={}",
            v1.id
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("plus la version courante"));
    let r = admin.get("/catalogue/DUI-MS/2/exigence?id=PA.01").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The seeded version has no stored report, and says so.
    let r = admin.get(&format!("/admin/import/{}", v1.id)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("pas été importée par le navigateur"));
    assert!(r.body.contains("plus la version courante"));
    let r = admin.get("/admin/import/99999").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The same file again is a third version: an import never rewrites an older one.
    let r = import(&mut admin, "DUI-MS", "REM-DUI-MS-v2.csv", file.as_bytes()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(dui_versions(&app).await, 3);

    // The demo file itself imports cleanly, with its 113 requirements.
    let demo = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../demo/catalogue/REM-DUI-MS-Va2-demo.csv"),
    )
    .unwrap();
    let r = import(&mut admin, "DUI-MS", "REM-DUI-MS-Va2-demo.csv", &demo).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = admin.get(r.location()).await;
    assert!(r.body.contains(&format!("113{NBSP}exigences")));
    // Its three requirements without scenario are reported, with their lines.
    assert!(r.body.contains("Avertissements (3)"));
    assert!(
        r.body
            .contains("<td class=\"num\">367</td><td>N° scénario</td><td>USA.05</td>")
    );
}

#[tokio::test]
async fn a_file_with_errors_is_reported_line_by_line_and_nothing_is_imported() {
    let app = TestApp::new().await;
    let mut admin = app.signed_in("admin@example.fr", Role::Admin, None).await;
    let bad = format!(
        "{HEADER}\r\n\
         Vague 3,INS/va1.01,Identité nationale de santé,Appel INSi,Le système DOIT appeler INSi.,,Général,INS/va1.01.01,Appeler INSi,INS/va1.01.01.01,Vidéo,Général,Majeure,1,,\r\n\
         Vague 2,,Usagers,Accueil,Le système DOIT accueillir.,,Général,USA.01.01,Accueillir,USA.01.01.01,Vidéo,,Majeure,2,,\r\n"
    );
    let r = upload(&mut admin, "DUI-MS", "REM-faux.csv", bad.as_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let b = &r.body;
    for text in [
        "rien n'a été importé.",
        "Rapport d'import de «&nbsp;REM-faux.csv&nbsp;»",
        "<code>unknown_perimeter</code>",
        "<code>empty_id</code>",
        "<td class=\"num\">2</td>",
        "<td class=\"num\">3</td>",
        "<td>Périmètre</td>",
        "<td>INS/va1.01</td>",
        // The choice is kept, the file field is marked and described.
        "<option value=\"DUI-MS\" selected>",
        "aria-invalid=\"true\"",
        "aria-describedby=\"fichier-aide fichier-erreur\"",
        "id=\"fichier-erreur\"",
        "role=\"alert\"",
    ] {
        assert!(b.contains(text), "{text} missing in {b}");
    }
    assert!(b.contains(&format!("2{NBSP}erreurs")));
    assert_eq!(dui_versions(&app).await, 1);

    // A file that is not a REM at all.
    let r = upload(&mut admin, "DUI-MS", "notes.txt", b"bonjour").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("<code>unsupported_format</code>"));
    let r = upload(&mut admin, "DUI-MS", "REM.xlsx", b"not a workbook").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("<code>unreadable_file</code>"),
        "{}",
        r.body
    );

    // Nothing chosen: both fields say so.
    let r = upload(&mut admin, "", "", b"").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"dispositif-erreur\""));
    assert!(r.body.contains("id=\"fichier-erreur\""));
    assert!(r.body.contains("aria-describedby=\"dispositif-erreur\""));
    // A vague-1 or unknown dispositif is no choice either.
    for code in ["MS1", "XYZ"] {
        let r = upload(&mut admin, code, "REM.csv", small_rem().as_bytes()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{code}");
        assert!(r.body.contains("id=\"dispositif-erreur\""));
    }
    assert_eq!(dui_versions(&app).await, 1);
}

#[tokio::test]
async fn an_import_without_its_csrf_token_is_refused() {
    let app = TestApp::new().await;
    let mut admin = app.signed_in("admin@example.fr", Role::Admin, None).await;
    admin.get("/admin/import").await;
    let file = small_rem();
    // No token.
    let r = post_multipart(
        &mut admin,
        multipart(&[
            ("dispositif", None, b"DUI-MS"),
            ("fichier", Some("REM.csv"), file.as_bytes()),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("Formulaire expiré"));
    // A wrong token.
    let r = post_multipart(
        &mut admin,
        multipart(&[
            ("csrf", None, b"0000"),
            ("dispositif", None, b"DUI-MS"),
            ("fichier", Some("REM.csv"), file.as_bytes()),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The token after the file: the file is not read before the token is checked.
    let csrf = admin.csrf().await;
    let r = post_multipart(
        &mut admin,
        multipart(&[
            ("dispositif", None, b"DUI-MS"),
            ("fichier", Some("REM.csv"), file.as_bytes()),
            ("csrf", None, csrf.as_bytes()),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Not multipart at all.
    let r = admin
        .post("/admin/import", &[("dispositif", "DUI-MS")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(dui_versions(&app).await, 1);
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused() {
    let app = TestApp::with_config(WebConfig {
        secure_cookies: false,
        max_rem_upload: 2048,
        ..WebConfig::default()
    })
    .await;
    let mut admin = app.signed_in("admin@example.fr", Role::Admin, None).await;
    let big = format!("{}{}", small_rem(), "x".repeat(4096));
    let r = upload(&mut admin, "DUI-MS", "REM.csv", big.as_bytes()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(
        r.body
            .contains("dépasse la taille maximale autorisée (2\u{a0}Ko)")
    );
    assert!(r.body.contains("<option value=\"DUI-MS\" selected>"));
    assert!(r.body.contains("id=\"fichier-erreur\""));

    // Announced too large: refused before reading.
    admin.get("/admin/import").await;
    let csrf = admin.csrf().await;
    let body = multipart(&[
        ("csrf", None, csrf.as_bytes()),
        ("dispositif", None, b"DUI-MS"),
        ("fichier", Some("REM.csv"), "y".repeat(64 * 1024).as_bytes()),
    ]);
    let r = admin
        .send(
            Request::post("/admin/import")
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .header(header::CONTENT_LENGTH, body.len())
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("dépasse la taille maximale"));

    // Under the limit, the same form imports.
    let r = import(&mut admin, "DUI-MS", "REM.csv", small_rem().as_bytes()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(dui_versions(&app).await, 2);
}

#[tokio::test]
async fn the_import_page_takes_the_version_label_and_refuses_one_already_used() {
    let app = TestApp::new().await;
    let mut admin = app.signed_in("admin@example.fr", Role::Admin, None).await;
    let r = admin.get("/admin/import").await;
    assert!(r.body.contains("name=\"libelle\""), "{}", r.body);
    let file = small_rem();
    let preview = upload_labelled(&mut admin, "2.1", &file).await;
    let r = confirm(&mut admin, &preview).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let versions = app.db.list_rem_versions(&dui()).await.unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].label.to_string(), "2.1");

    // The same label again: refused beside its field, the typed value kept, nothing imported.
    let r = upload_labelled(&mut admin, "2.1", &file).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let beside = r
        .body
        .find("id=\"libelle-erreur\"")
        .expect("beside the label");
    assert!(r.body[beside..].contains("2.1"), "{}", r.body);
    assert!(
        r.body
            .contains("name=\"libelle\" type=\"text\" maxlength=\"64\" value=\"2.1\"")
    );
    assert_eq!(app.db.list_rem_versions(&dui()).await.unwrap().len(), 2);
}

/// Uploads `file` for DUI-MS with the version label typed in the form.
async fn upload_labelled(client: &mut Client, label: &str, file: &str) -> TestResponse {
    client.get("/admin/import").await;
    let csrf = client.csrf().await;
    let body = multipart(&[
        ("csrf", None, csrf.as_bytes()),
        ("dispositif", None, b"DUI-MS"),
        ("libelle", None, label.as_bytes()),
        ("fichier", Some("REM-DUI-MS-2.1.csv"), file.as_bytes()),
    ]);
    post_multipart(client, body).await
}
