//! The OpenAPI document as a contract: a client generated from it never sends a request that
//! the document allows and the server refuses, and the server refuses what the document
//! forbids. This test is such a client: it reads `/api/openapi.json` and, for every operation's
//! query parameters and for the JSON bodies it knows a valid example of, sends the values at the
//! documented bounds (minimums, maximums, lengths, item counts, each enumerated value), which
//! must not be refused for that parameter, and the values just outside, which must be refused
//! (path parameters too: an id below 1 or a wave other than 1 or 2 names nothing).

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::api::{Api, ApiResponse, World, draft, openapi_json, solution, world};
use crate::instruction_doors::taken;

/// One value to send for a parameter or a body field, and whether the document allows it.
#[derive(Debug, Clone)]
struct Probe {
    value: Value,
    allowed: bool,
}

/// The schema a `$ref` names, or the schema itself.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// The one non-null type of a schema (`["integer", "null"]` is an integer).
fn type_of(schema: &Value) -> Option<&str> {
    match &schema["type"] {
        Value::String(t) => Some(t.as_str()),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

/// The values at and just beyond the bounds a schema states. `example` is a valid value of the
/// field, used to build arrays of valid items.
fn probes(doc: &Value, schema: &Value, example: Option<&Value>) -> Vec<Probe> {
    let schema = resolve(doc, schema);
    let mut out = Vec::new();
    let mut push = |value: Value, allowed: bool| out.push(Probe { value, allowed });
    if let Some(values) = schema["enum"].as_array() {
        for v in values.iter().filter(|v| !v.is_null()) {
            push(v.clone(), true);
        }
        if type_of(schema) == Some("string") {
            push(json!("pas-une-valeur-connue"), false);
        }
        return out;
    }
    match type_of(schema) {
        Some("integer") => {
            if let Some(min) = schema["minimum"].as_i64() {
                push(json!(min), true);
                push(json!(min - 1), false);
            }
            if let Some(max) = schema["maximum"].as_i64() {
                push(json!(max), true);
                push(json!(max + 1), false);
            }
        }
        Some("boolean") => {
            push(json!(true), true);
            push(json!(false), true);
        }
        Some("string") => {
            // Lengths are probed on free text only: a value of a given length that also meets a
            // pattern or a format (a SIREN, an e-mail) is not built here.
            let pattern = schema["pattern"].as_str();
            let free = schema["format"].is_null() && pattern.is_none_or(|p| p == "\\S");
            if free {
                let min = schema["minLength"].as_u64();
                let max = schema["maxLength"].as_u64();
                let text = |n: u64| json!("é".repeat(usize::try_from(n).unwrap()));
                if let Some(min) = min {
                    push(text(min.max(1)), true);
                    if min > 0 {
                        push(text(min - 1), false);
                    }
                }
                if let Some(max) = max {
                    push(text(max), true);
                    push(text(max + 1), false);
                }
                if pattern == Some("\\S") {
                    push(json!("   "), false);
                }
            }
        }
        Some("array") => {
            let item = example.and_then(|e| e.as_array()).and_then(|a| a.first());
            if let (Some(max), Some(Value::String(item))) = (schema["maxItems"].as_u64(), item) {
                let items =
                    |n: u64| Value::Array((0..n).map(|i| json!(format!("{item}-{i}"))).collect());
                push(items(max), true);
                push(items(max + 1), false);
            }
        }
        _ => {}
    }
    out
}

/// Whether an answer refuses `field` for a constraint: 400 or 422 with a code of malformed input
/// naming it (or naming no field at all for a query that could not be read). A refusal of the
/// data (`not_an_instructor`, `email_taken`...) is the use case's answer, not the contract's.
fn refuses(r: &ApiResponse, field: &str) -> bool {
    if r.status != StatusCode::BAD_REQUEST && r.status != StatusCode::UNPROCESSABLE_ENTITY {
        return false;
    }
    r.json["errors"].as_array().into_iter().flatten().any(|e| {
        let code = e["code"].as_str().unwrap_or_default();
        if !["invalid_field", "invalid_parameter", "invalid_body"].contains(&code) {
            return false;
        }
        let named = e["field"].as_str();
        named == Some(field)
            || named.is_some_and(|n| n.starts_with(&format!("{field}[")))
            || (named.is_none() && e["code"] == "invalid_parameter")
    })
}

/// Checks one probe's answer.
fn judge(what: &str, field: &str, probe: &Probe, r: &ApiResponse) {
    if probe.allowed {
        assert!(
            !refuses(r, field),
            "{what}: {field} = {} is allowed by the document but refused: {} {}",
            short(&probe.value),
            r.status,
            r.text
        );
        assert!(
            !r.status.is_server_error(),
            "{what}: {field} = {}: {} {}",
            short(&probe.value),
            r.status,
            r.text
        );
    } else {
        assert!(
            r.status.is_client_error(),
            "{what}: {field} = {} is outside the document but accepted: {} {}",
            short(&probe.value),
            r.status,
            r.text
        );
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 40 {
        format!("{}… ({} chars)", &s[..s.floor_char_boundary(40)], s.len())
    } else {
        s
    }
}

/// A query value as it is written in a URL.
fn query_text(v: &Value) -> String {
    let raw = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

/// Who calls an operation: its family's account.
fn caller<'a>(w: &'a World, path: &str) -> &'a Api {
    if path.starts_with("/api/v1/admin/") {
        &w.admin
    } else if path.starts_with("/api/v1/instruction/") {
        &w.instructor
    } else {
        &w.vendor_a
    }
}

/// A concrete path for a template, naming objects that exist.
fn concrete(template: &str, solution: i64) -> String {
    let mut out = template
        .replace("{code}", "DUI-MS")
        .replace("{wave}", "2")
        .replace("/requirements/{id}", "/requirements/INS/va1.01")
        .replace("{nru}", "REF-ALPHA-2-0001")
        .replace("/solutions/{id}", &format!("/solutions/{solution}"));
    while let Some(i) = out.find('{') {
        let j = out[i..].find('}').unwrap() + i;
        out.replace_range(i..=j, "1");
    }
    out
}

#[tokio::test]
async fn every_query_parameter_is_accepted_within_its_documented_bounds_and_refused_beyond() {
    let w = world().await;
    let doc = openapi_json(&w.app).await;
    let id = solution(&w.vendor_a, "Contrat").await;
    let mut probed = 0;
    let mut succeeded = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let params = op["parameters"].as_array().into_iter().flatten();
            // A path parameter out of its bounds names nothing: refused (404 or 400). Writes
            // are sent only out of bounds (within, they would act: disable account 1...).
            for p in params.clone().filter(|p| p["in"] == "path") {
                let name = p["name"].as_str().unwrap();
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let probes = probes(&doc, &p["schema"], None).into_iter();
                for probe in probes.filter(|p| m == Method::GET || !p.allowed) {
                    let filled =
                        template.replace(&format!("{{{name}}}"), &query_text(&probe.value));
                    let path = concrete(&filled, id);
                    let (ct, body) = if m == Method::GET {
                        (None, Body::empty())
                    } else {
                        (Some("application/json"), Body::from("{}"))
                    };
                    let r = caller(&w, template).send(m.clone(), &path, ct, body).await;
                    judge(&format!("{method} {template}"), name, &probe, &r);
                    probed += 1;
                }
            }
            for p in params.filter(|p| p["in"] == "query") {
                let name = p["name"].as_str().unwrap();
                let what = format!("{method} {template}");
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                for probe in probes(&doc, &p["schema"], None) {
                    let path = format!(
                        "{}?{name}={}",
                        concrete(template, id),
                        query_text(&probe.value)
                    );
                    let (ct, body) = if m == Method::GET {
                        (None, Body::empty())
                    } else {
                        (Some("application/json"), Body::from("{}"))
                    };
                    let r = caller(&w, template).send(m.clone(), &path, ct, body).await;
                    judge(&what, name, &probe, &r);
                    probed += 1;
                    succeeded += usize::from(r.status.is_success());
                }
            }
        }
    }
    assert!(probed > 40, "only {probed} probes");
    // The callers and paths are real: most probes within the bounds are answered outright.
    assert!(
        succeeded > 30,
        "only {succeeded} of {probed} probes succeeded"
    );

    // The cases a schema-driven client found refused or accepted against the document.
    let api = &w.vendor_a;
    for path in [
        "/api/v1/dispositifs?page=0",
        "/api/v1/dispositifs?size=0",
        "/api/v1/dispositifs?page=0&size=0",
        "/api/v1/solutions?page=2147483648",
        "/api/v1/solutions?page=1000001",
        "/api/v1/referencings?size=201",
        "/api/v1/candidatures?page=0",
        "/api/v1/candidatures?size=201",
    ] {
        let r = api.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text);
    }
    let page = &doc["paths"]["/api/v1/solutions"]["get"]["parameters"][0]["schema"];
    assert_eq!(page["maximum"], 1_000_000, "{page}");
    assert_eq!(page["minimum"], 1, "{page}");
}

/// Two drafts of vendor A's: one whose step is saved, one submitted, each with its revision.
struct Drafts {
    step: (i64, i64),
    submitted: (i64, i64),
}

impl Drafts {
    async fn of(w: &World, solution: i64) -> Self {
        let one = |c: Value| (c["id"].as_i64().unwrap(), c["revision"].as_i64().unwrap());
        Self {
            step: one(draft(&w.vendor_a, solution).await),
            submitted: one(draft(&w.vendor_a, solution).await),
        }
    }
}

/// A valid example body for each operation whose body is probed (`organisation`: a vendor
/// organisation's id).
fn examples(
    solution: i64,
    revision: i64,
    organisation: i64,
    candidature: i64,
    drafts: &Drafts,
) -> Vec<(Method, String, &'static str, Value)> {
    let (step, step_revision) = drafts.step;
    let (submitted, submitted_revision) = drafts.submitted;
    vec![
        (
            Method::POST,
            "/api/v1/candidatures".to_owned(),
            "/api/v1/candidatures",
            json!({"dispositif": "DUI-MS", "wave": 2, "solution": solution, "version": "5.0", "commercial_names": ["Contrat"], "additional_components": [{"name": "Module INS", "chapters": ["INS"]}]}),
        ),
        (
            Method::PUT,
            format!("/api/v1/candidatures/{step}/administrative-step"),
            "/api/v1/candidatures/{id}/administrative-step",
            json!({"revision": step_revision, "solution": solution, "version": "5.0", "commercial_names": ["Contrat"]}),
        ),
        (
            Method::POST,
            format!("/api/v1/candidatures/{submitted}/submission"),
            "/api/v1/candidatures/{id}/submission",
            json!({"revision": submitted_revision, "confirm_incomplete": true}),
        ),
        (
            Method::POST,
            format!("/api/v1/instruction/candidatures/{candidature}/refusal"),
            "/api/v1/instruction/candidatures/{id}/refusal",
            json!({"reason": "Dossier hors du périmètre du dispositif."}),
        ),
        (
            Method::POST,
            "/api/v1/solutions".to_owned(),
            "/api/v1/solutions",
            json!({"name": "Contrat", "main_component": "contrat-core", "versions": ["5.0"], "commercial_names": ["Contrat"]}),
        ),
        (
            Method::PUT,
            format!("/api/v1/solutions/{solution}"),
            "/api/v1/solutions/{id}",
            json!({"revision": revision, "name": "Contrat", "main_component": "contrat-core", "versions": ["5.0"], "commercial_names": ["Contrat"]}),
        ),
        (
            Method::POST,
            "/api/v1/admin/organisations".to_owned(),
            "/api/v1/admin/organisations",
            json!({"name": "Gamma Santé", "siren": "443061841"}),
        ),
        (
            Method::POST,
            "/api/v1/admin/users".to_owned(),
            "/api/v1/admin/users",
            json!({"email": "nouveau@example.fr", "display_name": "Nouveau", "role": "vendor", "organisation": organisation, "password": "mot-de-passe-solide"}),
        ),
        (
            Method::POST,
            "/api/v1/admin/referencings".to_owned(),
            "/api/v1/admin/referencings",
            json!({"nru": "REF-GAMMA-1-0001", "organisation": organisation, "dispositif": {"code": "DPI", "wave": 1}, "solution": "Gamma", "main_component": "gamma-core", "version": "2.1", "commercial_names": ["Gamma"], "granted_on": "2025-06-01", "status": "suspended", "status_reason": "Audit en cours"}),
        ),
    ]
}

#[tokio::test]
async fn every_body_field_is_accepted_within_its_documented_bounds_and_refused_beyond() {
    let w = world().await;
    let doc = openapi_json(&w.app).await;
    let id = solution(&w.vendor_a, "Contrat").await;
    let filed = taken(&w).await;
    let revision = w
        .vendor_a
        .get(&format!("/api/v1/solutions/{id}"))
        .await
        .json["revision"]
        .as_i64()
        .unwrap();
    let mut probed = 0;
    let mut accepted = Vec::new();
    let drafts = Drafts::of(&w, id).await;
    for (method, path, template, example) in examples(id, revision, w.a.0, filed, &drafts) {
        let op = &doc["paths"][template][method.as_str().to_lowercase()];
        let schema = resolve(
            &doc,
            &op["requestBody"]["content"]["application/json"]["schema"],
        );
        let properties = schema["properties"].as_object().expect(template);
        let what = format!("{method} {template}");
        for (field, field_schema) in properties {
            for probe in probes(&doc, field_schema, example.get(field)) {
                let mut body: Map<String, Value> = example.as_object().unwrap().clone();
                body.insert(field.clone(), probe.value.clone());
                let r = caller(&w, template)
                    .send(
                        method.clone(),
                        &path,
                        Some("application/json"),
                        Body::from(Value::Object(body).to_string()),
                    )
                    .await;
                judge(&what, field, &probe, &r);
                probed += 1;
                if r.status.is_success() {
                    accepted.push(format!("{what} {field}"));
                }
            }
        }
    }
    assert!(probed > 40, "only {probed} probes");
    // The examples are valid: each operation accepted some of its probes outright.
    for (method, _, template, _) in examples(id, revision, w.a.0, filed, &drafts) {
        let what = format!("{method} {template}");
        assert!(
            accepted.iter().any(|a| a.starts_with(&format!("{what} "))),
            "{what} accepted none of its probes"
        );
    }

    // The cases a schema-driven client found refused against the document: an empty name, a
    // negative revision.
    let r = w
        .vendor_a
        .post(
            "/api/v1/solutions",
            &json!({"name": "", "main_component": "c"}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let body = &doc["components"]["schemas"]["SolutionBody"]["properties"]["name"];
    assert_eq!(body["minLength"], 1, "{body}");
    let update = &doc["components"]["schemas"]["SolutionUpdate"]["properties"]["revision"];
    assert_eq!(update["minimum"], 0, "{update}");
    let submit = &doc["components"]["schemas"]["SubmitBody"]["properties"]["revision"];
    assert_eq!(submit["minimum"], 0, "{submit}");
    let (c, _) = drafts.submitted;
    let r = w
        .vendor_a
        .post(
            &format!("/api/v1/candidatures/{c}/submission"),
            &json!({"revision": -1, "confirm_incomplete": true}),
        )
        .await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.text);
}
