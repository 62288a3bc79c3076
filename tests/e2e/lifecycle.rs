//! Token lifecycle against the demo provider: proactive refresh with rotation, single-flight, and
//! logout that revokes at the provider (issue 5; docs/requirements.md C38, C61, C64).

use std::time::Duration;

use photo_connect::{config::Config, demo::provider::DemoSettings};
use reqwest::{StatusCode, header};

use crate::helpers::*;

/// Access tokens that live 2 s, refreshed only once expired (no skew).
async fn short_lived_app() -> TestApp {
    let mut config = Config::for_tests();
    config.token_refresh_skew = Duration::ZERO;
    let mut settings = DemoSettings::for_tests();
    settings.access_token_ttl = Duration::from_secs(2);
    spawn_app_with(config, settings).await
}

fn refreshes(app: &TestApp) -> usize {
    app.provider
        .state
        .token_requests()
        .iter()
        .filter(|r| r.grant_type.as_deref() == Some("refresh_token"))
        .count()
}

#[tokio::test]
async fn c64_five_parallel_photo_pages_on_an_expired_token_make_exactly_one_refresh() {
    let app = short_lived_app().await;
    let page = app.login_as("alice").await;
    assert!(
        page.contains("access token expires in 2 seconds")
            || page.contains("access token expires in 1 seconds"),
        "{page}"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;

    let pages = futures_util::future::join_all((0..5).map(|_| app.get("/photos"))).await;
    for (status, _, body) in &pages {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert!(body.contains("Your photos (3)"));
    }
    assert_eq!(
        refreshes(&app),
        1,
        "single-flight: one refresh at the provider"
    );
    assert!(
        pages
            .iter()
            .any(|(_, _, body)| body.contains("refreshed 1 time"))
    );
    // The rotated refresh token was stored: reuse of the old one would have revoked the grant.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _, body) = app.get("/photos").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("refreshed 2 times"));
    assert!(
        app.provider
            .state
            .token_requests()
            .iter()
            .all(|r| r.status == 200),
        "no invalid_grant cascade"
    );
}

#[tokio::test]
async fn c38_logout_revokes_the_grant_at_the_provider() {
    let app = spawn_app().await;
    let photos = app.login_as("alice").await;
    let access_token = app
        .provider
        .state
        .tables()
        .access
        .keys()
        .next()
        .cloned()
        .expect("an access token");
    assert!(app.provider.state.access_token_valid(&access_token));
    let response = app.logout_from(&photos).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        !app.provider.state.access_token_valid(&access_token),
        "the provider no longer accepts the token"
    );
    let api = app
        .client
        .get(format!("{}/api/photos", app.provider.issuer))
        .header(header::AUTHORIZATION, format!("Bearer {access_token}"))
        .send()
        .await
        .expect("api");
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    assert!(
        app.provider.state.tables().refresh.is_empty(),
        "the refresh token is gone too"
    );
}
