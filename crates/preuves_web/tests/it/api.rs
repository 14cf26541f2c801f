//! The JSON API through the real router, family by family: the catalogue, solutions,
//! referencings and the public register, candidatures, instruction, the error shape, the
//! cookie-authenticated path (CSRF header) and rate limiting. Shared helpers for the other
//! `api_*` test files: bearer clients, tokens, and a check of every JSON answer against the
//! schema the OpenAPI document gives for it.

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use preuves_db::{
    Actor, NewApiToken, NewReferencing, OrganisationId, Role, Timestamp, TokenHash, TokenScope,
    User,
};
use preuves_domain::{
    DispositifCode, DispositifKey, IsoDate, Nru, ReferencingStatus, Version, Wave,
};
use serde_json::{Value, json};

use crate::support::{Client, TestApp, TestResponse};

// ---- helpers ------------------------------------------------------------------------------

/// A random-looking token for tests (64 hexadecimal digits), different for each `seed`.
pub(crate) fn raw_token(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("jeton de test {seed}").as_bytes()))
}

/// Stores a token of `user` with `scope`, valid for a day, and returns it.
pub(crate) async fn token_for(app: &TestApp, user: &User, scope: TokenScope) -> String {
    let raw = raw_token(&format!("{}-{}-{:?}", user.email, user.id.0, scope));
    let now = Timestamp::now();
    app.db
        .create_api_token(
            &NewApiToken {
                user: user.id,
                name: "tests",
                token_hash: &TokenHash::of(&raw),
                scope,
                now,
                expires_at: now.plus(std::time::Duration::from_secs(24 * 3600)),
            },
            &Actor::User(user.id),
        )
        .await
        .expect("token");
    raw
}

/// An API client: a bearer token (or none), no cookie.
#[derive(Clone)]
pub(crate) struct Api {
    client: Client,
    token: Option<String>,
}

/// An answer of the API, with its JSON body when it has one.
#[derive(Debug)]
pub(crate) struct ApiResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) text: String,
    pub(crate) json: Value,
}

impl ApiResponse {
    /// The codes of an error answer.
    pub(crate) fn codes(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["code"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts an error answer of the API's one shape with this status and first code.
    pub(crate) fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_error_shape(&self.json, &self.text);
        assert_eq!(self.codes()[0], code, "{}", self.text);
    }
}

/// `{"errors":[{"code","message","field"?}]}` and nothing else.
pub(crate) fn assert_error_shape(json: &Value, text: &str) {
    let obj = json
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {text}"));
    assert_eq!(obj.len(), 1, "{text}");
    let errors = json["errors"].as_array().expect("errors");
    assert!(!errors.is_empty(), "{text}");
    for e in errors {
        let e = e.as_object().expect("error object");
        assert!(e["code"].as_str().is_some_and(|c| !c.is_empty()), "{text}");
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{text}"
        );
        for k in e.keys() {
            assert!(["code", "message", "field"].contains(&k.as_str()), "{text}");
        }
    }
}

impl Api {
    pub(crate) fn new(app: &TestApp, token: Option<&str>) -> Self {
        Self {
            client: app.client(),
            token: token.map(str::to_owned),
        }
    }

    /// Sends a request with the bearer token, if any.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Body,
    ) -> ApiResponse {
        let mut req = Request::builder().method(method.clone()).uri(path);
        if let Some(t) = &self.token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        let r = self
            .client
            .clone()
            .send(req.body(body).expect("request"))
            .await;
        let response = of(r);
        if response.status.is_client_error() || response.status.is_server_error() {
            assert_error_shape(&response.json, &response.text);
        } else if is_json(&response) {
            check_against_openapi(&method, path, &response);
        }
        response
    }

    pub(crate) async fn get(&self, path: &str) -> ApiResponse {
        self.send(Method::GET, path, None, Body::empty()).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> ApiResponse {
        self.send(
            Method::POST,
            path,
            Some("application/json"),
            Body::from(body.to_string()),
        )
        .await
    }

    pub(crate) async fn put(&self, path: &str, body: &Value) -> ApiResponse {
        self.send(
            Method::PUT,
            path,
            Some("application/json"),
            Body::from(body.to_string()),
        )
        .await
    }

    /// Sends raw bytes (a file).
    pub(crate) async fn bytes(&self, method: Method, path: &str, bytes: &[u8]) -> ApiResponse {
        self.send(
            method,
            path,
            Some("application/octet-stream"),
            Body::from(bytes.to_vec()),
        )
        .await
    }
}

fn is_json(r: &ApiResponse) -> bool {
    r.headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn of(r: TestResponse) -> ApiResponse {
    let json = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    ApiResponse {
        status: r.status,
        headers: r.headers,
        text: r.body,
        json,
    }
}

// ---- the answers match their documented schemas ---------------------------------------------

/// The OpenAPI document, as served.
pub(crate) async fn openapi_json(app: &TestApp) -> Value {
    let r = app.client().get("/api/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    serde_json::from_str(&r.body).expect("openapi json")
}

static DOCUMENT: OnceLock<Value> = OnceLock::new();

/// The document, read once per test process (it does not depend on the data).
fn document() -> &'static Value {
    DOCUMENT.get_or_init(|| {
        std::thread::spawn(|| {
            tokio::runtime::Runtime::new()
                .expect("runtime")
                .block_on(async {
                    let app = TestApp::new().await;
                    openapi_json(&app).await
                })
        })
        .join()
        .expect("document")
    })
}

/// Whether a concrete path matches a documented template (`{x}` is one segment; the last
/// `{id}` of a requirement may span the rest).
pub(crate) fn template_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    if template.contains("/requirements/{id}") && p.len() >= t.len() {
        return t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b);
    }
    t.len() == p.len() && t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b)
}

/// Checks a JSON answer against the schema the document gives for its operation and status.
fn check_against_openapi(method: &Method, path: &str, r: &ApiResponse) {
    let doc = document();
    let path = path.split('?').next().unwrap_or(path);
    let paths = doc["paths"].as_object().expect("paths");
    let Some((_, item)) = paths.iter().find(|(t, _)| template_matches(t, path)) else {
        panic!(
            "{method} {path} answered {} but is not documented",
            r.status
        );
    };
    let op = &item[method.as_str().to_lowercase()];
    assert!(op.is_object(), "{method} {path} is not documented");
    let response = &op["responses"][r.status.as_str()];
    assert!(
        response.is_object(),
        "{method} {path}: status {} is not documented",
        r.status
    );
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path}: no JSON schema for {}",
        r.status
    );
    let mut errors = Vec::new();
    validate(doc, schema, &r.json, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "{method} {path} ({}) does not match its schema:\n{}\n{}",
        r.status,
        errors.join("\n"),
        r.text
    );
}

/// A small JSON Schema check, enough for what utoipa emits: `$ref`, `type` (one or a list),
/// `properties`, `required`, `items`, `oneOf`/`anyOf`/`allOf`, `enum`, and no undocumented
/// property.
pub(crate) fn validate(
    doc: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    errors: &mut Vec<String>,
) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        if target.is_null() {
            errors.push(format!("{at}: unresolved {r}"));
            return;
        }
        validate(doc, target, value, at, errors);
        return;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let ok = options.iter().any(|o| {
                let mut e = Vec::new();
                validate(doc, o, value, at, &mut e);
                e.is_empty()
            });
            if !ok {
                errors.push(format!("{at}: matches no option of {key}: {value}"));
            }
            return;
        }
    }
    if let Some(all) = schema["allOf"].as_array() {
        // Flattened structs: the properties of every part, checked together.
        let mut merged = serde_json::Map::new();
        let mut required = Vec::new();
        for part in all {
            let part = resolve(doc, part);
            if let Some(p) = part["properties"].as_object() {
                merged.extend(p.clone());
            }
            if let Some(r) = part["required"].as_array() {
                required.extend(r.clone());
            }
        }
        let combined = json!({"type": "object", "properties": merged, "required": required});
        validate(doc, &combined, value, at, errors);
        return;
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() {
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
        if !ok {
            errors.push(format!("{at}: {actual} where {types:?} is documented"));
            return;
        }
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let (Some(obj), Some(props)) = (value.as_object(), schema["properties"].as_object()) {
        for req in schema["required"].as_array().into_iter().flatten() {
            let k = req.as_str().unwrap_or_default();
            if !obj.contains_key(k) {
                errors.push(format!("{at}: required property `{k}` is missing"));
            }
        }
        for (k, v) in obj {
            match props.get(k) {
                Some(s) => validate(doc, s, v, &format!("{at}.{k}"), errors),
                None => errors.push(format!("{at}: property `{k}` is not documented")),
            }
        }
    }
    if let (Some(items), Some(schema_items)) = (value.as_array(), schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            validate(doc, schema_items, v, &format!("{at}[{i}]"), errors);
        }
    }
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    }
}

// ---- a small world ------------------------------------------------------------------------

pub(crate) const A_SIREN: &str = "732829320";
pub(crate) const B_SIREN: &str = "552100554";

/// Two vendor organisations with a referencing each, a vendor of each, an instructor, an
/// administrator, and read-write tokens for all (plus a read-only one for vendor A).
pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) a: OrganisationId,
    pub(crate) b: OrganisationId,
    pub(crate) vendor_a: Api,
    pub(crate) vendor_a_read: Api,
    pub(crate) vendor_b: Api,
    pub(crate) instructor: Api,
    pub(crate) admin: Api,
    pub(crate) anonymous: Api,
}

pub(crate) async fn referencing(
    app: &TestApp,
    nru: &str,
    organisation: OrganisationId,
    code: &str,
    wave: Wave,
) {
    app.db
        .insert_referencing(
            &NewReferencing {
                nru: Nru::parse(nru).unwrap(),
                organisation,
                dispositif: DispositifKey {
                    code: DispositifCode::parse(code).unwrap(),
                    wave,
                },
                profiles: vec![],
                solution: format!("Solution {nru}"),
                main_component: "core".to_owned(),
                version: Version::parse("1.0").unwrap(),
                commercial_names: vec![format!("Nom {nru}")],
                granted_on: IsoDate::parse("2026-01-15").unwrap(),
                status: ReferencingStatus::Valid,
                status_reason: None,
            },
            &Actor::System,
        )
        .await
        .unwrap();
}

pub(crate) async fn world_with(app: TestApp) -> World {
    let a = app.organisation("Alpha Logiciels", A_SIREN).await;
    let b = app.organisation("Bêta Santé", B_SIREN).await;
    referencing(&app, "REF-ALPHA-2-0001", a, "DPI", Wave::Two).await;
    referencing(&app, "REF-BETA-2-0002", b, "DPI", Wave::Two).await;
    let va = app.user("alpha@example.fr", Role::Vendor, Some(a)).await;
    let vb = app.user("beta@example.fr", Role::Vendor, Some(b)).await;
    let ins = app
        .user("instructeur@example.fr", Role::Instructor, None)
        .await;
    let adm = app.user("admin@example.fr", Role::Admin, None).await;
    let t = |u: User, s: TokenScope| {
        let app = &app;
        async move { token_for(app, &u, s).await }
    };
    let ta = t(va.clone(), TokenScope::ReadWrite).await;
    let tar = t(va, TokenScope::Read).await;
    let tb = t(vb, TokenScope::ReadWrite).await;
    let ti = t(ins, TokenScope::ReadWrite).await;
    let tad = t(adm, TokenScope::ReadWrite).await;
    World {
        vendor_a: Api::new(&app, Some(&ta)),
        vendor_a_read: Api::new(&app, Some(&tar)),
        vendor_b: Api::new(&app, Some(&tb)),
        instructor: Api::new(&app, Some(&ti)),
        admin: Api::new(&app, Some(&tad)),
        anonymous: Api::new(&app, None),
        app,
        a,
        b,
    }
}

pub(crate) async fn world() -> World {
    world_with(TestApp::new().await).await
}

/// A solution of the caller, by the API.
pub(crate) async fn solution(api: &Api, name: &str) -> i64 {
    let r = api
        .post(
            "/api/v1/solutions",
            &json!({"name": name, "main_component": format!("{name}-core"), "versions": ["5.0"], "commercial_names": [name]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json["id"].as_i64().unwrap()
}

/// A DUI-MS draft of the caller on `solution`, by the API.
pub(crate) async fn draft(api: &Api, solution: i64) -> Value {
    let r = api
        .post(
            "/api/v1/candidatures",
            &json!({"dispositif": "DUI-MS", "wave": 2, "solution": solution, "version": "5.0"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json
}

// ---- the families -------------------------------------------------------------------------

#[tokio::test]
async fn the_catalogue_is_public_paginated_and_filterable() {
    let w = world().await;
    let api = &w.anonymous;
    let all = api.get("/api/v1/dispositifs").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    let total = all.json["total"].as_u64().unwrap();
    assert_eq!(total, 6, "the demo catalogue: {}", all.text);
    assert_eq!(all.json["items"][0]["wave"], 2, "vague 2 first");
    let wave1 = api.get("/api/v1/dispositifs?wave=1").await;
    assert!(
        wave1.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["wave"] == 1)
    );
    let page2 = api.get("/api/v1/dispositifs?size=2&page=2").await;
    assert_eq!(page2.json["items"].as_array().unwrap().len(), 2);
    assert_eq!(page2.json["items"][0], all.json["items"][2]);
    assert_eq!(
        (page2.json["page"].as_u64(), page2.json["size"].as_u64()),
        (Some(2), Some(2))
    );
    api.get("/api/v1/dispositifs?size=201")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
    api.get("/api/v1/dispositifs?wave=3")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
    api.get("/api/v1/dispositifs?page=zéro")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");

    let dui = api.get("/api/v1/dispositifs/DUI-MS/2").await;
    assert_eq!(dui.status, StatusCode::OK);
    assert_eq!(
        dui.json["predecessors"],
        json!(["MS1", "MS2-PDE", "MS2-PDS"])
    );
    assert!(
        dui.json["optional_profiles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "PDE")
    );
    assert!(
        dui.json["current_rem"]["imported_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    api.get("/api/v1/dispositifs/DUI-MS/3")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let versions = api.get("/api/v1/dispositifs/DUI-MS/2/rem-versions").await;
    assert_eq!(versions.json["total"], 1);
    assert_eq!(versions.json["items"][0]["label"], "1");
    // DPI's version in force is labelled "2" in the demo catalogue, though imported first here.
    let dpi = api.get("/api/v1/dispositifs/DPI/2/rem-versions").await;
    assert_eq!(
        (
            &dpi.json["items"][0]["label"],
            &dpi.json["items"][0]["version"]
        ),
        (&json!("2"), &json!(1)),
        "{}",
        dpi.text
    );

    let ins = api
        .get("/api/v1/dispositifs/DUI-MS/2/requirements?chapter=INS&size=3")
        .await;
    assert_eq!(ins.status, StatusCode::OK, "{}", ins.text);
    assert!(ins.json["total"].as_u64().unwrap() > 3);
    assert_eq!(ins.json["items"].as_array().unwrap().len(), 3);
    assert!(
        ins.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["chapter_code"] == "INS")
    );
    let wave1 = api
        .get("/api/v1/dispositifs/DUI-MS/2/requirements?perimeter=Vague%201&size=200")
        .await;
    assert!(
        wave1.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["perimeter"] == "Vague 1")
    );
    api.get("/api/v1/dispositifs/DUI-MS/2/requirements?perimeter=Vague%203")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_field");

    let id = ins.json["items"][0]["id"].as_str().unwrap().to_owned();
    let raw = api
        .get(&format!("/api/v1/dispositifs/DUI-MS/2/requirements/{id}"))
        .await;
    assert_eq!(raw.status, StatusCode::OK, "{}", raw.text);
    let encoded = api
        .get(&format!(
            "/api/v1/dispositifs/DUI-MS/2/requirements/{}",
            id.replace('/', "%2F")
        ))
        .await;
    assert_eq!(
        raw.json, encoded.json,
        "the id may be sent as is or encoded"
    );
    assert_eq!(raw.json["id"], id.as_str());
    assert!(!raw.json["scenarios"].as_array().unwrap().is_empty());
    // A requirement with a socle id shares it with the other dispositif.
    let socle = api
        .get("/api/v1/dispositifs/DUI-MS/2/requirements?size=200")
        .await;
    let shared = socle.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| !r["socle_id"].is_null())
        .expect("a socle requirement in the demo REM");
    let detail = api
        .get(&format!(
            "/api/v1/dispositifs/DUI-MS/2/requirements/{}",
            shared["id"].as_str().unwrap()
        ))
        .await;
    let with = detail.json["shared_with"].as_array().unwrap();
    assert!(!with.is_empty(), "{}", detail.text);
    assert!(
        with.iter()
            .all(|s| s["dispositif"]["code"] == "DPI" && s["why"] == "socle")
    );
    api.get("/api/v1/dispositifs/DUI-MS/2/requirements/NOPE/va1.99")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn solutions_are_the_vendor_s_own_and_updates_name_their_revision() {
    let w = world().await;
    let id = solution(&w.vendor_a, "Alpha DUI").await;
    let list = w.vendor_a.get("/api/v1/solutions").await;
    assert_eq!(list.json["total"], 1);
    let one = w.vendor_a.get(&format!("/api/v1/solutions/{id}")).await;
    assert_eq!(one.json["main_component"], "Alpha DUI-core");
    let revision = one.json["revision"].as_i64().unwrap();
    let update = |revision: i64, version: &str| json!({"revision": revision, "name": "Alpha DUI", "main_component": "Alpha DUI-core", "versions": ["5.0", version]});
    let r = w
        .vendor_a
        .put(&format!("/api/v1/solutions/{id}"), &update(revision, "5.1"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["versions"], json!(["5.0", "5.1"]));
    // A second edit based on the same revision is refused: nothing is overwritten.
    w.vendor_a
        .put(&format!("/api/v1/solutions/{id}"), &update(revision, "5.2"))
        .await
        .assert_error(StatusCode::CONFLICT, "stale_revision");
    let r = w
        .vendor_a
        .post(
            "/api/v1/solutions",
            &json!({"name": " ", "main_component": "x", "versions": ["v 1"]}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let fields: Vec<&str> = r.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "versions"]);
    w.vendor_a
        .post(
            "/api/v1/solutions",
            &json!({"name": "x", "main_component": "x", "extra": 1}),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    // Another organisation's solution is missing, for reading and writing.
    w.vendor_b
        .get(&format!("/api/v1/solutions/{id}"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    w.vendor_b
        .put(
            &format!("/api/v1/solutions/{id}"),
            &update(revision + 1, "6.0"),
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(w.vendor_b.get("/api/v1/solutions").await.json["total"], 0);
    // Staff have no solutions; a read-only token writes nothing; anonymous callers authenticate.
    w.instructor
        .get("/api/v1/solutions")
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    w.vendor_a_read
        .post(
            "/api/v1/solutions",
            &json!({"name": "x", "main_component": "x"}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "insufficient_scope");
    let r = w.anonymous.get("/api/v1/solutions").await;
    r.assert_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(
        r.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
}

#[tokio::test]
async fn referencings_are_the_vendor_s_own_and_the_register_is_public() {
    let w = world().await;
    let own = w.vendor_a.get("/api/v1/referencings").await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.json["total"], 1);
    assert_eq!(own.json["items"][0]["nru"], "REF-ALPHA-2-0001");
    assert!(
        !own.text.contains("REF-BETA"),
        "another organisation's NRU leaks"
    );
    let staff = w
        .instructor
        .get("/api/v1/referencings?dispositif=DPI&wave=2&status=valid")
        .await;
    assert_eq!(staff.json["total"], 2);
    w.vendor_a
        .get("/api/v1/referencings/REF-BETA-2-0002")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let theirs = w.vendor_a.get("/api/v1/referencings/REF-BETA-2-0002").await;
    let missing = w.vendor_a.get("/api/v1/referencings/REF-NOPE-2-0009").await;
    assert_eq!(
        theirs.text, missing.text,
        "another organisation's referencing looks missing"
    );
    assert_eq!(
        w.admin
            .get("/api/v1/referencings/REF-BETA-2-0002")
            .await
            .status,
        StatusCode::OK
    );
    // Recorded from elsewhere: no attestation here.
    w.vendor_a
        .get("/api/v1/referencings/REF-ALPHA-2-0001/attestation")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    let register = w.anonymous.get("/api/v1/register?size=1").await;
    assert_eq!(register.status, StatusCode::OK, "{}", register.text);
    assert_eq!(
        (
            register.json["total"].as_u64(),
            register.json["items"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
    assert!(
        register.json["items"][0].get("main_component").is_none(),
        "the public sees what the attestation says"
    );
    let found = w
        .anonymous
        .get("/api/v1/register?q=beta%20sant%C3%A9")
        .await;
    assert_eq!(found.json["total"], 1);
    assert_eq!(found.json["items"][0]["nru"], "REF-BETA-2-0002");
    w.anonymous
        .get("/api/v1/register?status=lost")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");

    let v = w
        .anonymous
        .get("/api/v1/verification/REF-BETA-2-0002")
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    assert_eq!(
        (v.json["status"].as_str(), v.json["issued_here"].as_bool()),
        (Some("valid"), Some(false))
    );
    assert!(v.json["code_matches"].is_null());
    w.anonymous
        .get("/api/v1/verification/REF-NOPE-2-0009")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    w.anonymous
        .get("/api/v1/verification/SEGUR-DUIMS-2-2026-000123-0")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "nru_mistyped");
}

#[tokio::test]
async fn candidatures_keep_the_step_as_entered_and_refuse_stale_edits() {
    let w = world().await;
    let s = solution(&w.vendor_a, "Alpha DUI").await;
    let c = draft(&w.vendor_a, s).await;
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["status"], "draft");
    // The REM's own version label, beside the internal id (which differs here).
    assert_eq!(c["rem_version_label"], "1");
    assert_ne!(c["rem_version"], 1);
    assert!(c["created_at"].as_str().unwrap().ends_with('Z'));
    let list = w.vendor_a.get("/api/v1/candidatures?status=draft").await;
    assert_eq!(list.json["total"], 1);
    assert_eq!(
        w.vendor_a
            .get("/api/v1/candidatures?status=submitted")
            .await
            .json["total"],
        0
    );

    // An NRU of another vendor is stored as entered; the plan carries the engine's refusal.
    let step = |revision: i64, version: &str, nrus: Value| json!({"revision": revision, "solution": s, "version": version, "nrus": nrus, "optional_profiles": ["PA"]});
    let path = format!("/api/v1/candidatures/{id}/administrative-step");
    let r = w
        .vendor_a
        .put(
            &path,
            &step(
                c["revision"].as_i64().unwrap(),
                "5.1",
                json!(["REF-BETA-2-0002"]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let revision = r.json["revision"].as_i64().unwrap();
    let plan = w
        .vendor_a
        .get(&format!("/api/v1/candidatures/{id}/plan"))
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.text);
    assert_eq!(plan.json["computed"], false);
    assert_eq!(plan.json["errors"][0]["code"], "nru_other_vendor");
    assert_eq!(plan.json["errors"][0]["field"], "nrus");
    assert!(
        plan.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("REF-BETA-2-0002")
    );
    // A submission is refused with the same code.
    let r = w
        .vendor_a
        .post(
            &format!("/api/v1/candidatures/{id}/submission"),
            &json!({"revision": revision}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "nru_other_vendor");
    // Two edits based on the same revision: the second is refused, the first stays.
    let r = w
        .vendor_a
        .put(&path, &step(revision, "5.2", json!([])))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    w.vendor_a
        .put(&path, &step(revision, "5.3", json!([])))
        .await
        .assert_error(StatusCode::CONFLICT, "stale_revision");
    assert_eq!(
        w.vendor_a
            .get(&format!("/api/v1/candidatures/{id}"))
            .await
            .json["version"],
        "5.2"
    );
    // Syntax errors name their field.
    let r = w
        .vendor_a
        .put(&path, &step(revision + 1, "", json!(["pas un NRU !"])))
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let fields: Vec<&str> = r.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["version", "nrus"]);
    // A target that is not a vague-2 dispositif with a REM uses the engine's codes.
    let r = w
        .vendor_a
        .post(
            "/api/v1/candidatures",
            &json!({"dispositif": "MS1", "wave": 1, "solution": s, "version": "5.0"}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "target_not_vague2");
    let r = w
        .vendor_a
        .post(
            "/api/v1/candidatures",
            &json!({"dispositif": "XYZ", "solution": s, "version": "5.0"}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unknown_dispositif");
    assert_eq!(r.json["errors"][0]["field"], "dispositif");
    // Another organisation: 404 on everything; staff: 403.
    for p in [
        format!("/api/v1/candidatures/{id}"),
        format!("/api/v1/candidatures/{id}/plan"),
        format!("/api/v1/candidatures/{id}/proofs"),
        format!("/api/v1/candidatures/{id}/complement-requests"),
    ] {
        w.vendor_b
            .get(&p)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        w.instructor
            .get(&p)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    w.vendor_b
        .put(&path, &step(revision + 1, "6.0", json!([])))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    // A draft is no instructor's business.
    w.instructor
        .get(&format!("/api/v1/instruction/candidatures/{id}"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn instruction_is_for_instructors_and_its_queue_filters() {
    let w = world().await;
    let s = solution(&w.vendor_a, "Alpha DUI").await;
    let c = draft(&w.vendor_a, s).await;
    let id = c["id"].as_i64().unwrap();
    let r = w
        .vendor_a
        .post(
            &format!("/api/v1/candidatures/{id}/submission"),
            &json!({"revision": c["revision"], "confirm_incomplete": false}),
        )
        .await;
    r.assert_error(StatusCode::CONFLICT, "dossier_incomplete");
    let r = w
        .vendor_a
        .post(
            &format!("/api/v1/candidatures/{id}/submission"),
            &json!({"revision": c["revision"], "confirm_incomplete": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["status"], "submitted");
    assert!(r.json["complete_at"].is_null());

    let q = w.instructor.get("/api/v1/instruction/queue").await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text);
    assert_eq!(q.json["total"], 1);
    assert_eq!(q.json["items"][0]["candidature"], id);
    let none = w
        .instructor
        .get("/api/v1/instruction/queue?status=in_instruction")
        .await;
    assert_eq!(none.json["total"], 0);
    let dpi = w
        .instructor
        .get("/api/v1/instruction/queue?dispositif=DPI&wave=2")
        .await;
    assert_eq!(dpi.json["total"], 0);
    let b = w
        .instructor
        .get(&format!("/api/v1/instruction/queue?organisation={}", w.b.0))
        .await;
    assert_eq!(b.json["total"], 0);
    w.instructor
        .get("/api/v1/instruction/queue?status=draft")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_parameter");
    for api in [&w.vendor_a, &w.admin] {
        api.get("/api/v1/instruction/queue")
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        api.post(
            &format!("/api/v1/instruction/candidatures/{id}/take"),
            &json!({}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    // Refusal needs instruction, then a reason.
    let refusal = format!("/api/v1/instruction/candidatures/{id}/refusal");
    w.instructor
        .post(&refusal, &json!({"reason": "Dossier vide."}))
        .await
        .assert_error(StatusCode::CONFLICT, "candidature_not_in_instruction");
    let taken = w
        .instructor
        .post(
            &format!("/api/v1/instruction/candidatures/{id}/take"),
            &json!({}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::OK, "{}", taken.text);
    assert_eq!(taken.json["status"], "in_instruction");
    w.instructor
        .post(&refusal, &json!({"reason": "  "}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let refused = w
        .instructor
        .post(&refusal, &json!({"reason": "Dossier vide."}))
        .await;
    assert_eq!(refused.status, StatusCode::OK, "{}", refused.text);
    assert_eq!(refused.json["status"], "refused");
    w.instructor
        .post(&refusal, &json!({"reason": "Encore."}))
        .await
        .assert_error(StatusCode::CONFLICT, "candidature_already_decided");
    let seen = w.vendor_a.get(&format!("/api/v1/candidatures/{id}")).await;
    assert_eq!(
        (
            seen.json["status"].as_str(),
            seen.json["status_reason"].as_str()
        ),
        (Some("refused"), Some("Dossier vide."))
    );
    let history = w
        .instructor
        .get(&format!("/api/v1/instruction/candidatures/{id}/history"))
        .await;
    let actions: Vec<&str> = history
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "candidature.create",
            "candidature.submit",
            "candidature.status",
            "candidature.refuse"
        ]
    );
}

#[tokio::test]
async fn every_error_under_the_api_has_one_json_shape() {
    let w = world().await;
    let api = &w.vendor_a;
    // The router's own answers.
    let r = api
        .send(Method::DELETE, "/api/v1/dispositifs", None, Body::empty())
        .await;
    r.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    w.anonymous
        .get("/api/v1/nope")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    // Bodies.
    let r = api
        .send(
            Method::POST,
            "/api/v1/solutions",
            Some("application/json"),
            Body::from("{\"name\": "),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "malformed_json");
    assert!(
        r.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ligne 1")
    );
    let r = api
        .send(
            Method::POST,
            "/api/v1/solutions",
            Some("text/plain"),
            Body::from("{}"),
        )
        .await;
    r.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let r = api
        .send(
            Method::POST,
            "/api/v1/solutions",
            Some("application/json"),
            Body::from("{\"name\": 3}"),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert_eq!(r.json["errors"][0]["field"], "name");
    // Authentication.
    let bad = Api::new(&w.app, Some(&raw_token("inconnu")));
    let r = bad.get("/api/v1/me").await;
    r.assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(
        r.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let malformed = Api::new(&w.app, Some("pas-un-jeton"));
    malformed
        .get("/api/v1/dispositifs")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_token");
    // A wrong token is not a way around authentication on public routes either... but a public
    // route needs none.
    assert_eq!(
        w.anonymous.get("/api/v1/dispositifs").await.status,
        StatusCode::OK
    );
    let me = api.get("/api/v1/me").await;
    assert_eq!(
        (
            me.json["role"].as_str(),
            me.json["scope"].as_str(),
            me.json["authenticated_by"].as_str()
        ),
        (Some("vendor"), Some("read_write"), Some("token"))
    );
}

#[tokio::test]
async fn a_signed_in_browser_writes_with_its_csrf_header_only() {
    let w = world().await;
    let mut browser = w
        .app
        .signed_in("navigateur@example.fr", Role::Vendor, Some(w.a))
        .await;
    let csrf = browser.csrf().await;
    let body = json!({"name": "Depuis le navigateur", "main_component": "nav-core"}).to_string();
    let post = |csrf: Option<&str>, origin: Option<&str>| {
        let mut req =
            Request::post("/api/v1/solutions").header(header::CONTENT_TYPE, "application/json");
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        if let Some(o) = origin {
            req = req
                .header(header::ORIGIN, o)
                .header(header::HOST, "preuves.example.fr");
        }
        req.body(Body::from(body.clone())).unwrap()
    };
    let r = of(browser.send(post(None, None)).await);
    r.assert_error(StatusCode::FORBIDDEN, "csrf_failed");
    let r = of(browser
        .send(post(Some("0".repeat(64).as_str()), None))
        .await);
    r.assert_error(StatusCode::FORBIDDEN, "csrf_failed");
    let r = of(browser
        .send(post(Some(&csrf), Some("https://ailleurs.example.com")))
        .await);
    r.assert_error(StatusCode::FORBIDDEN, "csrf_failed");
    let r = of(browser.send(post(Some(&csrf), None)).await);
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Reads need no header; the session says who is calling.
    let me = of(browser.get("/api/v1/me").await);
    assert_eq!(me.json["authenticated_by"], "session");
    // The API leaves the pages' cookies alone: no new CSRF cookie for an anonymous call.
    let anonymous = w.app.client().get("/api/v1/dispositifs").await;
    assert!(anonymous.headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn requests_are_rate_limited_per_token_and_per_client_address() {
    let app = TestApp::with_config(preuves_web::WebConfig {
        secure_cookies: false,
        api_requests_per_minute: 3,
        ..preuves_web::WebConfig::default()
    })
    .await;
    let w = world_with(app).await;
    for _ in 0..3 {
        assert_eq!(
            w.anonymous.get("/api/v1/dispositifs").await.status,
            StatusCode::OK
        );
    }
    let r = w.anonymous.get("/api/v1/dispositifs").await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    let wait: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    // Each token has its own bucket.
    for _ in 0..3 {
        assert_eq!(w.vendor_a.get("/api/v1/me").await.status, StatusCode::OK);
    }
    w.vendor_a
        .get("/api/v1/me")
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    assert_eq!(w.vendor_b.get("/api/v1/me").await.status, StatusCode::OK);
    // The pages are not limited.
    assert_eq!(
        w.app.client().get("/catalogue").await.status,
        StatusCode::OK
    );
}

/// A valid DPI vague-2 referencing of vendor A's solution `Late` (main component `Late-core`),
/// granted `days` days after today (Paris).
async fn late_referencing(w: &World, nru: &str, days: i64) {
    let now = Timestamp::now().as_millis();
    w.app
        .db
        .insert_referencing(
            &NewReferencing {
                nru: Nru::parse(nru).unwrap(),
                organisation: w.a,
                dispositif: DispositifKey {
                    code: DispositifCode::parse("DPI").unwrap(),
                    wave: Wave::Two,
                },
                profiles: vec![],
                solution: "Late".to_owned(),
                main_component: "Late-core".to_owned(),
                version: Version::parse("1.0").unwrap(),
                commercial_names: vec!["Late".to_owned()],
                granted_on: preuves_domain::ParisTime::from_unix_millis(now + days * 86_400_000)
                    .date,
                status: ReferencingStatus::Valid,
                status_reason: None,
            },
            &Actor::System,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn r5_a_late_nru_granted_on_or_before_the_submission_day_is_refused() {
    let w = world().await;
    late_referencing(&w, "REF-LATE-2-0001", 0).await;
    late_referencing(&w, "REF-LATE-2-0002", 1).await;
    let s = solution(&w.vendor_a, "Late").await;
    let c = draft(&w.vendor_a, s).await;
    let base = format!("/api/v1/candidatures/{}", c["id"]);
    let r = w
        .vendor_a
        .post(
            &format!("{base}/submission"),
            &json!({"revision": c["revision"], "confirm_incomplete": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let revision = r.json["revision"].as_i64().unwrap();

    // Granted on the submission day: held at submission, not obtained since.
    let held = w
        .vendor_a
        .post(
            &format!("{base}/late-nrus"),
            &json!({"revision": revision, "nrus": ["REF-LATE-2-0001"]}),
        )
        .await;
    held.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "late_nru_not_allowed");
    assert_eq!(held.codes(), ["late_nru_not_allowed"], "{}", held.text);
    assert!(
        held.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("avant ou le jour même du dépôt"),
        "{}",
        held.text
    );
    // Granted the next day: obtained since, so R5 judges the dossier (incomplete here).
    let since = w
        .vendor_a
        .post(
            &format!("{base}/late-nrus"),
            &json!({"revision": revision, "nrus": ["REF-LATE-2-0002"]}),
        )
        .await;
    since.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "late_nru_not_allowed");
    let message = since.json["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("aucun dossier complet"), "{}", since.text);
    assert_eq!(
        w.vendor_a.get(&base).await.json["late_nrus"],
        json!([]),
        "nothing recorded"
    );
}

#[tokio::test]
async fn r10_the_api_opens_a_candidature_only_once_the_guichet_opens() {
    let w = world().await;
    let dui = w.anonymous.get("/api/v1/dispositifs/DUI-MS/2").await;
    assert_eq!(dui.json["opens_on"], "2026-06-03", "{}", dui.text);
    let dpi = w.anonymous.get("/api/v1/dispositifs/DPI/2").await;
    assert!(dpi.json["opens_on"].is_null(), "{}", dpi.text);

    let now = Timestamp::now().as_millis();
    let tomorrow = preuves_domain::ParisTime::from_unix_millis(now + 86_400_000).date;
    crate::journey::move_guichet(&w.app, "DUI-MS", tomorrow).await;
    let s = solution(&w.vendor_a, "Alpha DUI").await;
    let r = w
        .vendor_a
        .post(
            "/api/v1/candidatures",
            &json!({"dispositif": "DUI-MS", "wave": 2, "solution": s, "version": "5.0"}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "guichet_not_open");
    assert_eq!(r.json["errors"][0]["field"], "dispositif", "{}", r.text);
    assert_eq!(
        w.vendor_a.get("/api/v1/candidatures").await.json["total"],
        0
    );
    assert_eq!(
        w.anonymous.get("/api/v1/dispositifs/DUI-MS/2").await.json["opens_on"],
        json!(tomorrow.to_string())
    );
}
