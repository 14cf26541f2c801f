//! `POST /api/v1/simulations` answers exactly what `preuves simulate` prints for the same
//! scenario and catalogue: the command prints `ScenarioFile::evaluate` rendered by
//! `Answer::to_json_pretty` and a line feed (`crates/preuves/src/simulate.rs`), on the catalogue
//! it loaded; the platform's catalogue here is the demo catalogue, as stored.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use preuves_domain::scenario::ScenarioFile;

use crate::api::Api;
use crate::support::TestApp;

const SCENARIOS: [&str; 4] = ["cas-nominal.json", "cas-1.json", "cas-2.json", "cas-3.json"];

fn scenario_text(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../demo/scenarios")
        .join(name);
    std::fs::read_to_string(path).expect("scenario file")
}

async fn simulate(api: &Api, query: &str, body: &str) -> crate::api::ApiResponse {
    api.send(
        Method::POST,
        &format!("/api/v1/simulations{query}"),
        Some("application/json"),
        Body::from(body.to_owned()),
    )
    .await
}

#[tokio::test]
async fn the_four_webinar_scenarios_answer_byte_for_byte_what_the_command_prints() {
    let app = TestApp::new().await;
    let api = Api::new(&app, None);
    let catalogue = app.db.load_catalogue().await.unwrap();
    // The command's catalogue, loaded from the files: the same as the stored one.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../demo/catalogue/catalogue.toml");
    let from_files = preuves_import::catalogue::load_catalogue(&path)
        .unwrap()
        .catalogue;
    for name in SCENARIOS {
        let text = scenario_text(name);
        let file = ScenarioFile::from_json(&text).unwrap();
        let printed = format!("{}\n", file.evaluate(&from_files).to_json_pretty());
        assert_eq!(
            printed,
            format!("{}\n", file.evaluate(&catalogue).to_json_pretty())
        );
        let r = simulate(&api, "", &text).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.text);
        assert_eq!(r.text, printed, "{name}");
        assert!(
            r.json["summary"]["in_scope"].as_u64().unwrap() > 0,
            "{name}"
        );
        let compact = simulate(&api, "?compact=true", &text).await;
        assert!(!compact.text.trim_end().contains('\n'), "{name}: compact");
        assert_eq!(compact.json, r.json, "{name}: compact is the same answer");
    }
}

#[tokio::test]
async fn refusals_are_answers_and_unreadable_scenarios_say_where() {
    let app = TestApp::new().await;
    let api = Api::new(&app, None);
    // An unknown NRU: the engine refuses, the answer says so (200, as the command exits 0).
    let text = scenario_text("cas-1.json").replace(
        "\"nrus\": [\"REF-DPI-2-0001\"]",
        "\"nrus\": [\"REF-INCONNU-2-0001\"]",
    );
    let file = ScenarioFile::from_json(&text).unwrap();
    let r = simulate(&api, "", &text).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["errors"][0]["code"], "unknown_nru", "{}", r.text);
    assert_eq!(r.json["requirements"], serde_json::json!([]));
    let catalogue = app.db.load_catalogue().await.unwrap();
    assert_eq!(
        r.text,
        format!("{}\n", file.evaluate(&catalogue).to_json_pretty())
    );

    // Malformed JSON: 400 with the line and column, as the command reports them.
    let r = simulate(
        &api,
        "",
        "{\n  \"candidature\": {\n    \"vendor\": \"732829320\",,\n",
    )
    .await;
    r.assert_error(StatusCode::BAD_REQUEST, "malformed_json");
    let message = r.json["errors"][0]["message"].as_str().unwrap();
    let expected =
        ScenarioFile::from_json("{\n  \"candidature\": {\n    \"vendor\": \"732829320\",,\n")
            .unwrap_err();
    assert_eq!(message, expected.to_string());
    assert!(message.starts_with("3:"), "{message}");
    // A misspelt key: 422 naming the key path.
    let text = scenario_text("cas-1.json").replace("\"optional_profiles\"", "\"optional_profile\"");
    let r = simulate(&api, "", &text).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_scenario");
    assert_eq!(r.json["errors"][0]["field"], "candidature.optional_profile");
    assert!(
        r.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("optional_profile"),
        "{}",
        r.text
    );
    // An invalid SIREN: the value's path.
    let text =
        scenario_text("cas-1.json").replacen("\"vendor\": \"732829320\"", "\"vendor\": \"123\"", 1);
    let r = simulate(&api, "", &text).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_scenario");
    assert_eq!(r.json["errors"][0]["field"], "referencings[0].vendor");
    // Not JSON at all.
    api.send(
        Method::POST,
        "/api/v1/simulations",
        Some("text/plain"),
        Body::from("x"),
    )
    .await
    .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let big = format!(
        "{{\"referencings\": [], \"candidature\": {{\"solution\": \"{}\"}}}}",
        "x".repeat(3 * 1024 * 1024)
    );
    simulate(&api, "", &big)
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn concurrent_simulations_agree_and_an_import_is_seen_at_once() {
    use preuves_db::Actor;
    use preuves_domain::{DispositifCode, DispositifKey, Wave};
    let app = TestApp::new().await;
    let api = Api::new(&app, None);
    let text = scenario_text("cas-1.json");
    // Concurrent requests share their catalogue checks; every one gets the same answer.
    let answers = futures_util::future::join_all((0..40).map(|_| simulate(&api, "", &text))).await;
    for r in &answers {
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.text, answers[0].text);
    }
    // A new REM version of the target: the very next simulation runs on it.
    let key = |code: &str| DispositifKey {
        code: DispositifCode::parse(code).unwrap(),
        wave: Wave::Two,
    };
    let catalogue = app.db.load_catalogue().await.unwrap();
    let other = catalogue
        .dispositif(&key("DPI"))
        .unwrap()
        .rem
        .clone()
        .unwrap();
    app.db
        .import_rem_version(
            &key("DUI-MS"),
            &other,
            "autre.csv",
            &"ab".repeat(32),
            1,
            &Actor::System,
        )
        .await
        .unwrap();
    let after = simulate(&api, "", &text).await;
    let now = app.db.load_catalogue().await.unwrap();
    let expected = format!(
        "{}\n",
        ScenarioFile::from_json(&text)
            .unwrap()
            .evaluate(&now)
            .to_json_pretty()
    );
    assert_eq!(after.text, expected);
    assert_ne!(after.text, answers[0].text, "the import changed the plan");
}
