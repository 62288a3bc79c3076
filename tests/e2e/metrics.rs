//! `/metrics` (issue 25, part 3): off by default; with `METRICS=on`, a whole flow shows in the
//! documented series; with `METRICS_ADDR`, only a listener of its own serves them; and nothing a
//! visitor sends ever becomes a label.
//!
//! The recorder is one per process and every app of this test binary records into it once one
//! test has turned it on, so these tests compare counts before and after, never absolute ones.

use std::time::Duration;

use photo_connect::{
    config::{Config, ListenAddr, MetricsConfig},
    demo::{self, provider::DemoSettings},
    metrics::{self, SERIES},
};
use reqwest::StatusCode;
use url::Url;

use crate::helpers::*;

/// An app with metrics on its own address; every photos page refreshes (skew above the
/// tokens' lifetime), so one flow has an exchange, a refresh and a revocation.
async fn metrics_app(metrics: MetricsConfig) -> TestApp {
    let mut config = Config::for_tests();
    config.metrics = metrics;
    config.token_refresh_skew = Duration::from_secs(24 * 3600);
    spawn_app_with(config, DemoSettings::for_tests()).await
}

/// The scrape at `url`: status, content type, body.
async fn scrape(url: Url) -> (StatusCode, String, String) {
    let response = reqwest::get(url).await.expect("scrape");
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, response.text().await.expect("body"))
}

/// The value of the sample line that starts with `series` (name and labels, exactly), or 0.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_are_off_unless_configured() {
    let app = spawn_app().await;
    let (status, _, _) = app.get("/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_whole_flow_shows_in_the_documented_series() {
    let app = metrics_app(MetricsConfig::OnAppAddress).await;
    let (status, kind, before) = scrape(app.at("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");

    let page = app.login_as("alice").await;
    // Signed in: the store holds this session (after the logout it may hold none).
    let (_, _, signed_in) = scrape(app.at("/metrics")).await;
    assert!(
        value(&signed_in, metrics::SESSIONS_ACTIVE) >= 1.0,
        "{signed_in}"
    );
    let response = app.logout_from(&page).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let (_, _, after) = scrape(app.at("/metrics")).await;
    let grew = |series: &str| value(&after, series) - value(&before, series);
    for series in [
        metrics::SIGN_INS_STARTED.to_owned(),
        metrics::SIGN_INS_COMPLETED.to_owned(),
        format!("{}{{outcome=\"ok\"}}", metrics::TOKEN_EXCHANGES),
        format!("{}{{outcome=\"ok\"}}", metrics::TOKEN_REFRESHES),
        format!(
            "{}_count{{endpoint=\"token\",outcome=\"ok\"}}",
            metrics::PROVIDER_CALL_SECONDS
        ),
        format!(
            "{}_count{{endpoint=\"refresh\",outcome=\"ok\"}}",
            metrics::PROVIDER_CALL_SECONDS
        ),
        format!(
            "{}_count{{endpoint=\"photos\",outcome=\"ok\"}}",
            metrics::PROVIDER_CALL_SECONDS
        ),
        format!(
            "{}_count{{endpoint=\"revoke\",outcome=\"ok\"}}",
            metrics::PROVIDER_CALL_SECONDS
        ),
        format!(
            "{}{{token=\"access_token\",outcome=\"ok\"}}",
            metrics::REVOCATIONS
        ),
        format!(
            "{}{{token=\"refresh_token\",outcome=\"ok\"}}",
            metrics::REVOCATIONS
        ),
    ] {
        assert!(grew(&series) >= 1.0, "{series} did not grow:\n{after}");
    }
    // Latency sums are seconds, and a local provider answers well within one.
    let sum = value(
        &after,
        &format!(
            "{}_sum{{endpoint=\"token\",outcome=\"ok\"}}",
            metrics::PROVIDER_CALL_SECONDS
        ),
    );
    assert!(sum > 0.0, "{after}");
    // Every series in the scrape is a documented one.
    for line in after.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap_or_default();
        assert!(SERIES.iter().any(|s| s.name == name), "undocumented {name}");
    }
}

#[tokio::test]
async fn no_label_carries_what_a_visitor_sent() {
    let app = metrics_app(MetricsConfig::OnAppAddress).await;
    let (_, _, before) = scrape(app.at("/metrics")).await;
    for path in [
        "/HOSTILEpath%0a?x=HOSTILEquery",
        "/cb?state=HOSTILEstate&code=HOSTILEcode&iss=HOSTILEiss",
        "/cb?state=HOSTILEstate&error=HOSTILEerror",
        "/cb?HOSTILE=HOSTILE",
        "/connect?x=HOSTILE",
        "/metrics?HOSTILE=1",
    ] {
        let response = app
            .client
            .get(app.at(path))
            .header("user-agent", "HOSTILEagent")
            .header("x-forwarded-for", "HOSTILE")
            .send()
            .await
            .expect("request");
        assert!(response.status().as_u16() < 600, "{path}");
    }
    let (_, _, after) = scrape(app.at("/metrics")).await;
    assert!(!after.contains("HOSTILE"), "{after}");
    let unknown = format!("{}{{reason=\"unknown_state\"}}", metrics::SIGN_INS_FAILED);
    assert!(
        value(&after, &unknown) - value(&before, &unknown) >= 2.0,
        "each forged callback counts, under its bounded reason:\n{after}"
    );
}

#[tokio::test]
async fn metrics_addr_serves_them_on_their_own_listener_only() {
    let own = ListenAddr {
        addr: ([127, 0, 0, 1], 0).into(),
        variable: "METRICS_ADDR",
    };
    let app = metrics_app(MetricsConfig::OwnListener(own)).await;
    let url = app.metrics_url.clone().expect("a metrics listener");
    assert_ne!(url.port(), app.url.port());
    let (status, _, _) = app.get("/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not on the app's address");
    app.login_as("alice").await;
    let (status, _, text) = scrape(url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(value(&text, metrics::SIGN_INS_COMPLETED) >= 1.0, "{text}");
}

#[tokio::test]
async fn a_taken_metrics_addr_stops_startup_naming_the_variable() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let mut config = Config::for_tests();
    config.metrics = MetricsConfig::OwnListener(ListenAddr {
        addr: taken.local_addr().expect("addr"),
        variable: "METRICS_ADDR",
    });
    let err = match demo::bind(config, DemoSettings::for_tests()).await {
        Ok(_) => panic!("started on a taken METRICS_ADDR"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains("METRICS_ADDR"), "{err}");
}
