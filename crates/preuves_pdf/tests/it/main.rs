//! Integration tests of the attestation PDF: the text is extracted back from the PDF with
//! `pdf-extract` and every name, id and NRU is looked for in it.

use std::sync::LazyLock;

use preuves_pdf::{Attestation, ManifestEntry, Origin, PdfError, render_attestation};

/// Strings full of typst markup characters: they must come out verbatim.
const TRICKY_VENDOR: &str =
    r#"Société « Œuvre » #1 $x$ *gras* _it_ [lien] \ <b> "dit" 'cité' @ref // -- ... ~ `c` = - +"#;
const TRICKY_NAME_1: &str = r#"Dossier #Médico [Pro] \n $5$"#;
const TRICKY_NAME_2: &str = "Çà et là — *Étoile* <label> 'î'";
const TRICKY_NAME_3: &str = r#"#set text(red) #panic("x") ]["#;

fn sample() -> Attestation {
    Attestation {
        nru: "NRU-2026-DUI-000123".into(),
        verification_code: "7KQ4-MZ2P-XW9D".into(),
        verification_url: "https://preuves.example.fr/verifier/NRU-2026-DUI-000123".into(),
        decided_on: "2026-11-26".into(),
        vendor_name: TRICKY_VENDOR.into(),
        vendor_siren: "123456789".into(),
        solution: "Dossier usager « Hélios » $v$".into(),
        main_component: "helios-core #main".into(),
        version: "4.2.1-rc_3".into(),
        commercial_names: vec![
            TRICKY_NAME_1.into(),
            TRICKY_NAME_2.into(),
            TRICKY_NAME_3.into(),
        ],
        dispositif_code: "DUI-MS-VA2".into(),
        dispositif_label: "DUI médico-social".into(),
        wave: 2,
        profiles: vec!["Général".into(), "PDE".into()],
        rem_version: "2026.1".into(),
        manifest: vec![
            ManifestEntry {
                requirement: "DUI.GEN.01".into(),
                chapter: "GEN".into(),
                origin: Origin::Proven,
            },
            ManifestEntry {
                requirement: "DUI.INS.04".into(),
                chapter: "INS".into(),
                origin: Origin::AdditionalComponent {
                    component: "Module #INS [v2]".into(),
                },
            },
            ManifestEntry {
                requirement: "DUI.PDE.07".into(),
                chapter: "PDE".into(),
                origin: Origin::Inherited {
                    nru: "NRU-2023-MS2PDE-000042".into(),
                },
            },
            ManifestEntry {
                requirement: "DUI.DMP.02".into(),
                chapter: "DMP".into(),
                origin: Origin::Equivalent {
                    nru: "NRU-2025-DPI-000777".into(),
                    source_requirement: "DPI.DMP.12".into(),
                    source_dispositif: "DPI-VA2".into(),
                },
            },
        ],
    }
}

/// A manifest of `n` requirements cycling through the four origins.
fn long_manifest(n: usize) -> Vec<ManifestEntry> {
    (1..=n)
        .map(|i| {
            let requirement = format!("REQ.{i:04}");
            let origin = match i % 4 {
                0 => Origin::Proven,
                1 => Origin::Inherited {
                    nru: format!("NRU-V1-{i:04}"),
                },
                2 => Origin::Equivalent {
                    nru: format!("NRU-V2-{i:04}"),
                    source_requirement: format!("SRC.{i:04}"),
                    source_dispositif: "DPI-VA2".into(),
                },
                _ => Origin::AdditionalComponent {
                    component: format!("Composant {i:04}"),
                },
            };
            ManifestEntry {
                requirement,
                chapter: format!("CH{}", i % 7),
                origin,
            }
        })
        .collect()
}

/// The sample rendered once for every test that only reads it.
static SAMPLE_PDF: LazyLock<Vec<u8>> =
    LazyLock::new(|| render_attestation(&sample()).expect("the sample renders"));

/// The text of a PDF, with every run of white space (no-break spaces included) made one space.
fn text_of(pdf: &[u8]) -> String {
    let text = pdf_extract::extract_text_from_mem(pdf).expect("the text is extractable");
    normalise(&text)
}

fn normalise(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '\u{00A0}' || c == '\u{202F}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[track_caller]
fn assert_contains(text: &str, needle: &str) {
    let needle = normalise(needle);
    assert!(
        text.contains(&needle),
        "{needle:?} not found in the extracted text:\n{text}"
    );
}

#[test]
fn is_a_pdf() {
    assert!(SAMPLE_PDF.starts_with(b"%PDF-"));
    assert!(SAMPLE_PDF.ends_with(b"%%EOF") || SAMPLE_PDF.ends_with(b"%%EOF\n"));
}

#[test]
fn shows_every_name_verbatim() {
    let text = text_of(&SAMPLE_PDF);
    let a = sample();
    for needle in [
        "Attestation de référencement",
        "Annexe — manifeste de réutilisation",
        &a.nru,
        &a.verification_code,
        &a.verification_url,
        &a.vendor_name,
        "123 456 789",
        &a.solution,
        &a.main_component,
        &a.version,
        &a.dispositif_code,
        &a.dispositif_label,
        "vague 2",
        "Général, PDE",
        &a.rem_version,
        "26 novembre 2026",
    ] {
        assert_contains(&text, needle);
    }
    for name in &a.commercial_names {
        assert_contains(&text, &format!("« {name} »"));
    }
}

#[test]
fn shows_the_reuse_manifest() {
    let text = text_of(&SAMPLE_PDF);
    for needle in [
        "DUI.GEN.01",
        "prouvée dans ce référencement",
        "DUI.INS.04",
        "composant additionnel « Module #INS [v2] »",
        "DUI.PDE.07",
        "héritage de la vague 1 : prouvée dans le référencement NRU NRU-2023-MS2PDE-000042",
        "DUI.DMP.02",
        "équivalence : exigence commune avec l’exigence DPI.DMP.12 du dispositif DPI-VA2, prouvée dans le référencement NRU NRU-2025-DPI-000777",
        // The summary line.
        "Sur 4 exigences du périmètre : 2 prouvées dans ce référencement (dont 1 au titre d’un \
         composant additionnel) ; 1 héritée d’un référencement de vague 1 ; 1 équivalente par un \
         référencement de vague 2.",
    ] {
        assert_contains(&text, needle);
    }
}

#[test]
fn the_first_of_the_month_is_1er() {
    let a = Attestation {
        decided_on: "2027-03-01".into(),
        ..sample()
    };
    let text = text_of(&render_attestation(&a).unwrap());
    assert_contains(&text, "1er mars 2027");
}

#[test]
fn sets_the_title_metadata() {
    let document = pdf_extract::Document::load_mem(&SAMPLE_PDF).unwrap();
    let info = document.trailer.get(b"Info").unwrap();
    let (_, info) = document.dereference(info).unwrap();
    let title = info.as_dict().unwrap().get(b"Title").unwrap();
    assert_eq!(
        pdf_extract::decode_text_string(title).unwrap(),
        "Attestation de référencement NRU-2026-DUI-000123"
    );
}

#[test]
fn renders_a_300_requirement_manifest_across_pages() {
    let a = Attestation {
        manifest: long_manifest(300),
        ..sample()
    };
    let pdf = render_attestation(&a).unwrap();
    let pages = pdf_extract::extract_text_from_mem_by_pages(&pdf).unwrap();
    assert!(
        pages.len() > 3,
        "300 rows take several pages, got {}",
        pages.len()
    );
    let text = normalise(&pages.concat());
    for entry in &a.manifest {
        assert_contains(&text, &entry.requirement);
        match &entry.origin {
            Origin::Proven => {}
            Origin::AdditionalComponent { component } => assert_contains(&text, component),
            Origin::Inherited { nru } => assert_contains(
                &text,
                &format!("héritage de la vague 1 : prouvée dans le référencement NRU {nru}"),
            ),
            Origin::Equivalent {
                nru,
                source_requirement,
                source_dispositif,
            } => assert_contains(
                &text,
                &format!(
                    "équivalence : exigence commune avec l’exigence {source_requirement} du \
                     dispositif {source_dispositif}, prouvée dans le référencement NRU {nru}"
                ),
            ),
        }
    }
    assert_contains(&text, "Sur 300 exigences du périmètre : 150 prouvées");
    // The table's header is repeated on every page of the annex.
    let annex_pages = pages.iter().skip(1).filter(|p| p.contains("REQ.")).count();
    assert!(annex_pages > 2);
    for page in pages.iter().skip(1).filter(|p| p.contains("REQ.")) {
        assert_contains(&normalise(page), "Exigence Chapitre Origine de la preuve");
    }
}

/// The targets of the PDF's link annotations.
fn link_targets(pdf: &[u8]) -> Vec<String> {
    let document = pdf_extract::Document::load_mem(pdf).unwrap();
    let mut targets = Vec::new();
    for page in document.get_pages().into_values() {
        for annotation in document.get_page_annotations(page).unwrap() {
            if let Ok(action) = annotation.get(b"A") {
                let (_, action) = document.dereference(action).unwrap();
                if let Ok(uri) = action.as_dict().unwrap().get(b"URI") {
                    targets.push(String::from_utf8(uri.as_str().unwrap().to_vec()).unwrap());
                }
            }
        }
    }
    targets
}

#[test]
fn links_the_verification_page() {
    assert_eq!(link_targets(&SAMPLE_PDF), vec![sample().verification_url]);
}

#[test]
fn is_deterministic() {
    let again = render_attestation(&sample()).unwrap();
    assert!(
        again == *SAMPLE_PDF,
        "two renders of the same attestation differ"
    );
}

#[test]
fn an_empty_manifest_and_no_names_render() {
    let a = Attestation {
        manifest: vec![],
        commercial_names: vec![],
        ..sample()
    };
    let text = text_of(&render_attestation(&a).unwrap());
    assert_contains(
        &text,
        "Sur 0 exigence du périmètre : 0 prouvée dans ce référencement ;",
    );
}

#[test]
fn refuses_an_invalid_date() {
    let a = Attestation {
        decided_on: "26/11/2026".into(),
        ..sample()
    };
    assert!(matches!(render_attestation(&a), Err(PdfError::InvalidDate(d)) if d == "26/11/2026"));
}

#[test]
fn odd_values_do_not_break_the_document() {
    let a = Attestation {
        vendor_siren: "12345678X".into(),
        verification_url: "javascript:alert(1)".into(),
        vendor_name: "Ligne 1\nLigne 2\u{0}".into(),
        wave: 1,
        ..sample()
    };
    let pdf = render_attestation(&a).unwrap();
    let text = text_of(&pdf);
    assert_contains(&text, "12345678X");
    assert_contains(&text, "javascript:alert(1)");
    // Shown, but only a web address is made a link.
    assert_eq!(link_targets(&pdf), Vec::<String>::new());
    assert_contains(&text, "Ligne 1 Ligne 2");
    assert_contains(&text, "vague 1");
}
