//! The OpenAPI document: snapshotted (every change to the API shows in review), read by an
//! OpenAPI 3.1 parser (`oas3`), complete (every documented operation routed, every operation
//! with its error answers in the API's one shape), and consistent
//! (every `$ref` resolves). That the answers match their documented schemas is checked on every
//! JSON answer of the other API tests (`api::check_against_openapi`).

use serde_json::Value;

use axum::body::Body;
use axum::http::{Method, StatusCode};

use crate::api::{Api, openapi_json, template_matches};
use crate::support::TestApp;

/// Every `(method, path)` the document states, with its path parameters filled in.
fn operations(doc: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            out.push((method.clone(), path.clone(), concrete.clone()));
        }
    }
    out
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(r) = x.as_str() {
                        out.push(r);
                    }
                } else {
                    refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_is_complete_consistent_and_snapshotted() {
    let app = TestApp::new().await;
    let doc = openapi_json(&app).await;
    let text = serde_json::to_string_pretty(&doc).unwrap();
    insta::assert_snapshot!("openapi", text);

    // An OpenAPI 3.1 document, as a 3.1 parser reads it.
    assert_eq!(doc["openapi"], "3.1.0");
    let parsed = oas3::from_json(text.clone()).expect("a valid OpenAPI 3.1 document");
    assert_eq!(parsed.info.title, "preuves API");
    assert!(parsed.components.is_some());

    // Routes and operations come from one declaration each (`utoipa_axum::routes!`); the
    // router serves every documented operation: its path is routed (another method answers
    // 405) and so is its method (never 405).
    let paths = doc["paths"].as_object().unwrap();
    let declared = operations(&doc);
    assert!(declared.len() > 45, "{declared:?}");
    assert!(
        declared
            .iter()
            .any(|(_, p, _)| p.starts_with("/api/v1/admin/")),
        "the administrator's routes are documented"
    );
    let api = Api::new(&app, None);
    for (method, path, concrete) in &declared {
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = api.send(m, concrete, None, Body::empty()).await;
        assert_ne!(
            r.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is documented but not routed"
        );
        let other = api.send(Method::PATCH, concrete, None, Body::empty()).await;
        assert_eq!(
            other.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{path} is documented but its path is not routed"
        );
    }
    // The requirement id spans the rest of the path (`INS/va1.01`).
    let r = api
        .get("/api/v1/dispositifs/DUI-MS/2/requirements/INS/va1.01")
        .await;
    assert_ne!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    // Operation ids are unique (code generators name functions after them).
    let mut ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().expect("an operationId"))
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate operationId");
    // Each operation: a summary, a tag, a success, the rate limit, and errors in one shape.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let what = format!("{method} {path}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{what}: summary"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{what}: tag"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{what}: success"
            );
            assert!(responses.contains_key("429"), "{what}: 429");
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        r["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{what} {status}"
                    );
                }
            }
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if secured {
                assert!(
                    responses.contains_key("401"),
                    "{what}: a secured operation documents 401"
                );
            }
            // Template parameters are declared.
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_matches(['{', '}']);
                assert!(
                    op["parameters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|p| p["name"] == name && p["in"] == "path"),
                    "{what}: path parameter {name}"
                );
            }
        }
    }
    assert!(template_matches(
        "/api/v1/dispositifs/{code}/{wave}/requirements/{id}",
        "/api/v1/dispositifs/DUI-MS/2/requirements/INS/va1.01"
    ));

    // Every reference resolves; every schema is used or is the error shape.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in &all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected ref {r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "unresolved {r}"
        );
    }
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        assert!(
            all.iter().any(|r| r.ends_with(&format!("/{name}"))),
            "schema {name} is never used"
        );
    }
    // The two ways to authenticate.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["jeton"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
}
