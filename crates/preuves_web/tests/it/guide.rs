//! The user guide served at `/aide`: every page in the site's layout with its title, every link
//! between its pages resolving, the footer link, raw HTML never passed through, unknown pages
//! answering the site's 404, and every screenshot the markdown shows being served.

use std::collections::BTreeSet;

use axum::http::{StatusCode, header};
use preuves_db::Role;

use crate::support::{Client, TestApp};

/// The guide's pages: address, title (its first heading) and markdown source.
const PAGES: [(&str, &str, &str); 4] = [
    (
        "/aide",
        "Guide d'utilisation de preuves",
        include_str!("../../../../docs/guide/README.md"),
    ),
    (
        "/aide/editeur",
        "Guide de l'éditeur",
        include_str!("../../../../docs/guide/editeur.md"),
    ),
    (
        "/aide/instructeur",
        "Guide de l'instructeur",
        include_str!("../../../../docs/guide/instructeur.md"),
    ),
    (
        "/aide/administrateur",
        "Guide de l'administrateur",
        include_str!("../../../../docs/guide/administrateur.md"),
    ),
];

/// The screenshots the guide may show (produced in `docs/screenshots/` by the end-to-end run).
const SCREENSHOTS: [&str; 14] = [
    "connexion",
    "candidatures",
    "etape-administrative",
    "plan",
    "depot-preuves",
    "candidature-deposee",
    "instruction-file",
    "instruction-dossier",
    "referencement-attribue",
    "verification",
    "registre",
    "admin-catalogue",
    "admin-import",
    "admin-organisations",
];

/// The few entities the pages use, decoded, so texts can be compared with the markdown's.
fn decoded(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The guide's own part of a page (the rendered markdown).
fn article(body: &str) -> &str {
    let start = body
        .find("<article class=\"guide\">")
        .expect("guide article");
    let end = body[start..].find("</article>").expect("end of article") + start;
    &body[start..end]
}

/// Every value of `attribute="..."` in `html`.
fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let marker = format!(" {attribute}=\"");
    html.match_indices(&marker)
        .filter_map(|(i, _)| {
            let rest = &html[i + marker.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

async fn vendor(app: &TestApp) -> Client {
    let org = app.organisation("Alpha Santé", "732829320").await;
    app.signed_in("editeur@example.fr", Role::Vendor, Some(org))
        .await
}

#[tokio::test]
async fn every_guide_page_answers_with_its_title_signed_in_or_not() {
    let app = TestApp::new().await;
    let mut anonymous = app.client();
    let mut vendor = vendor(&app).await;
    for (path, title, _) in PAGES {
        for (who, client) in [("anonyme", &mut anonymous), ("éditeur", &mut vendor)] {
            let r = client.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "GET {path} as {who}");
            let body = decoded(&r.body);
            assert!(
                body.contains(&format!("<title>{title} — preuves</title>")),
                "GET {path}: title {title:?} missing"
            );
            assert!(
                body.contains(&format!(">{title}</h1>")),
                "GET {path}: heading {title:?} missing"
            );
            assert!(
                r.body.contains("<main id=\"contenu\""),
                "GET {path} is in the site's layout"
            );
        }
    }
}

#[tokio::test]
async fn every_link_of_the_guide_to_aide_resolves() {
    let app = TestApp::new().await;
    let mut client = app.client();
    let mut targets = BTreeSet::new();
    for (path, _, _) in PAGES {
        let r = client.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "GET {path}");
        for href in attribute_values(article(&r.body), "href") {
            let href = decoded(href);
            assert!(
                !href.ends_with(".md") && !href.contains(".md#"),
                "{path}: a link to a markdown file was not rewritten: {href}"
            );
            if href.starts_with("/aide") {
                targets.insert(href);
            }
        }
    }
    // The index links to the three role pages, and each page back to the index.
    for expected in [
        "/aide",
        "/aide/editeur",
        "/aide/instructeur",
        "/aide/administrateur",
    ] {
        assert!(targets.contains(expected), "no link to {expected}");
    }
    for target in targets {
        let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
        let r = client.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "GET {target}");
        if !fragment.is_empty() {
            assert!(
                decoded(&r.body).contains(&format!("id=\"{fragment}\"")),
                "{target}: no such anchor"
            );
        }
    }
}

#[tokio::test]
async fn the_footer_links_to_the_guide() {
    let app = TestApp::new().await;
    let mut anonymous = app.client();
    let mut vendor = vendor(&app).await;
    for (who, path) in [
        ("anonyme", "/"),
        ("anonyme", "/registre"),
        ("éditeur", "/candidatures"),
    ] {
        let client = if who == "anonyme" {
            &mut anonymous
        } else {
            &mut vendor
        };
        let r = client.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "GET {path} as {who}");
        let start = r.body.find("<footer").expect("a footer");
        let footer = &r.body[start..];
        let footer = &footer[..footer.find("</footer>").expect("end of footer")];
        assert!(
            decoded(footer).contains("<a href=\"/aide\">Guide d'utilisation</a>"),
            "GET {path} as {who}: no guide link in the footer"
        );
    }
}

#[tokio::test]
async fn raw_html_is_never_passed_through() {
    let app = TestApp::new().await;
    let mut client = app.client();
    // The vendor's page writes `Authorization: Bearer <jeton>`: it must stay text.
    let r = client.get("/aide/editeur").await;
    assert!(
        r.body.contains("Bearer &lt;jeton&gt;"),
        "the placeholder is escaped"
    );
    assert!(!r.body.contains("<jeton>"));
    let allowed = [
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "ul",
        "ol",
        "li",
        "a",
        "img",
        "code",
        "pre",
        "strong",
        "em",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "blockquote",
        "hr",
        "br",
        "article",
    ];
    for (path, _, _) in PAGES {
        let r = client.get(path).await;
        let html = article(&r.body);
        for (i, _) in html.match_indices('<') {
            let name: String = html[i + 1..]
                .trim_start_matches('/')
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            assert!(
                allowed.contains(&name.as_str()),
                "{path}: unexpected tag <{name}> in the rendered guide"
            );
        }
        for href in attribute_values(html, "href") {
            let lower = href.to_ascii_lowercase();
            assert!(
                !lower.starts_with("javascript:") && !lower.starts_with("data:"),
                "{path}: unsafe link {href}"
            );
        }
    }
}

#[tokio::test]
async fn unknown_guide_pages_and_captures_answer_the_site_s_404() {
    let app = TestApp::new().await;
    let mut client = app.client();
    let reference = client.get("/nulle-part").await;
    assert_eq!(reference.status, StatusCode::NOT_FOUND);
    for path in [
        "/aide/inconnue",
        "/aide/README.md",
        "/aide/editeur.md",
        "/aide/captures/inexistante.png",
        "/aide/captures/plan",
        "/aide/captures/../README.md",
    ] {
        let r = client.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "GET {path}");
        assert!(
            r.body.contains("class=\"error-page\""),
            "GET {path}: the site's error page"
        );
    }
}

#[tokio::test]
async fn every_screenshot_the_guide_shows_is_served() {
    let mut referenced = BTreeSet::new();
    for (path, _, markdown) in PAGES {
        for (i, _) in markdown.match_indices("](../screenshots/") {
            let rest = &markdown[i + "](../screenshots/".len()..];
            let file = &rest[..rest.find(')').expect("end of link")];
            let name = file
                .strip_suffix(".png")
                .unwrap_or_else(|| panic!("{path}: {file} is not a PNG"));
            assert!(
                SCREENSHOTS.contains(&name),
                "{path}: {name}.png is not one of the screenshots produced"
            );
            referenced.insert(name);
        }
    }
    for name in SCREENSHOTS {
        assert!(
            referenced.contains(name),
            "the guide never shows {name}.png"
        );
    }
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    if !folder.is_dir() {
        // Not produced yet (the end-to-end run makes them): the images answer 404 meanwhile.
        return;
    }
    let app = TestApp::new().await;
    let mut client = app.client();
    for name in referenced {
        assert!(
            folder.join(format!("{name}.png")).is_file(),
            "docs/screenshots/{name}.png is missing"
        );
        let r = client.get(&format!("/aide/captures/{name}.png")).await;
        assert_eq!(r.status, StatusCode::OK, "GET /aide/captures/{name}.png");
        assert_eq!(
            r.headers.get(header::CONTENT_TYPE).unwrap(),
            "image/png",
            "{name}.png"
        );
        assert_eq!(
            r.headers.get(header::CACHE_CONTROL).unwrap(),
            "public, max-age=3600",
            "{name}.png"
        );
    }
    // The pages show them with their size.
    let r = client.get("/aide/editeur").await;
    assert!(r.body.contains("src=\"/aide/captures/plan.png\""));
}
