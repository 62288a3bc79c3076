//! Logging out everywhere with OpenID Connect (docs/requirements.md C99, C100): the logout goes
//! on to the provider's end-session endpoint and comes back with its state (RP-Initiated Logout
//! 1.0), and the provider's logout tokens end sessions here (Back-Channel Logout 1.0).

use photo_connect::{config::Config, demo::provider::DemoSettings};
use reqwest::StatusCode;

use crate::helpers::*;

fn openid_config() -> Config {
    let mut config = Config::for_tests();
    config.scopes = vec!["openid".into(), "photos".into()];
    config
}

/// Signs in as `user` and posts the logout form; returns the logout's redirect.
async fn sign_in_and_log_out(app: &TestApp, user: &str) -> reqwest::Url {
    let page = app.login_as(user).await;
    let response = app.logout_from(&page).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    location(response.headers())
}

#[tokio::test]
async fn c99_logout_goes_on_to_the_end_session_endpoint_and_comes_back_signed_out() {
    let app = spawn_app_with(openid_config(), DemoSettings::for_tests()).await;
    let end_session = sign_in_and_log_out(&app, "alice").await;
    assert_eq!(
        end_session.as_str().split('?').next(),
        Some(format!("{}/oauth/logout", app.provider.issuer).as_str())
    );
    let hint = param(&end_session, "id_token_hint").expect("id_token_hint");
    assert_eq!(hint.split('.').count(), 3, "the ID token itself");
    assert_eq!(
        param(&end_session, "client_id").as_deref(),
        Some("photo-connect")
    );
    assert_eq!(
        param(&end_session, "post_logout_redirect_uri").as_deref(),
        Some(app.url.as_str()),
        "the home page, APP_URL with its slash"
    );
    let state = param(&end_session, "state").expect("state");
    assert_eq!(state.len(), 43, "256 random bits");
    assert!(!app.is_connected().await, "logged out here before leaving");

    let (status, headers, _) = fetch(&app.client, end_session).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the provider sends the browser back"
    );
    let back = location(&headers);
    assert_eq!(back.as_str().split('?').next(), Some(app.url.as_str()));
    assert_eq!(param(&back, "state"), Some(state));

    let (status, _, home) = fetch(&app.client, back.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("You are logged out"), "{home}");
    // The state is single-use: the same URL again shows the plain home page.
    let (_, _, again) = fetch(&app.client, back).await;
    assert!(!again.contains("You are logged out"), "{again}");
}

#[tokio::test]
async fn c99_a_wrong_or_missing_state_shows_the_plain_home_page() {
    let app = spawn_app_with(openid_config(), DemoSettings::for_tests()).await;
    let end_session = sign_in_and_log_out(&app, "alice").await;
    let (_, headers, _) = fetch(&app.client, end_session).await;
    let mut back = location(&headers);
    back.set_query(Some("state=not-the-one"));
    let (status, _, home) = fetch(&app.client, back.clone()).await;
    assert_eq!(status, StatusCode::OK, "never an error");
    assert!(!home.contains("You are logged out"), "{home}");
    assert!(!home.contains("not-the-one"), "never echoed");
    back.set_query(None);
    let (status, _, home) = fetch(&app.client, back).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!home.contains("You are logged out"), "{home}");
}

#[tokio::test]
async fn c99_without_openid_logout_stays_local() {
    let app = spawn_app().await;
    let back = sign_in_and_log_out(&app, "alice").await;
    assert_eq!(back.path(), "/");
    assert_eq!(param(&back, "notice").as_deref(), Some("signed-out"));
}

/// Gives `app` a fresh browser; returns the one it had.
fn new_browser(app: &mut TestApp) -> reqwest::Client {
    let old = app.client.clone();
    app.jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    app.client = crate::support::browser(app.jar.clone());
    old
}

async fn connected(app: &TestApp, browser: &reqwest::Client) -> bool {
    fetch(browser, app.at("/photos")).await.0 == StatusCode::OK
}

/// POSTs `token` as the provider does (no cookie, no Origin): status, Cache-Control, body.
async fn deliver(app: &TestApp, token: &str) -> (StatusCode, String, String) {
    let response = reqwest::Client::new()
        .post(app.at("/backchannel-logout"))
        .form(&[("logout_token", token)])
        .send()
        .await
        .expect("back-channel logout");
    let status = response.status();
    let cache = response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, cache, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn c100_a_logout_token_by_sid_ends_that_session_only_and_once() {
    let mut app = spawn_app_with(openid_config(), DemoSettings::for_tests()).await;
    app.login_as("alice").await;
    let sid = app
        .provider
        .state
        .sid_of("photo-connect", "alice")
        .expect("sid");
    let first = new_browser(&mut app);
    app.login_as("alice").await;
    let second = app.client.clone();

    let token = app
        .provider
        .state
        .logout_token("photo-connect", None, Some(&sid));
    let started = std::time::Instant::now();
    let (status, cache, _) = deliver(&app, &token).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "§2.8: promptly"
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cache, "no-store");
    assert!(
        !connected(&app, &first).await,
        "the session of that sid ended"
    );
    assert!(connected(&app, &second).await, "the other one stays");

    let (status, cache, body) = deliver(&app, &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a replayed jti");
    assert_eq!(cache, "no-store");
    assert_eq!(body, r#"{"error":"invalid_request"}"#);
    let again = app
        .provider
        .state
        .logout_token("photo-connect", None, Some(&sid));
    assert_eq!(
        deliver(&app, &again).await.0,
        StatusCode::OK,
        "already ended: 200"
    );
    assert!(connected(&app, &second).await);
}

#[tokio::test]
async fn c100_a_logout_token_by_sub_ends_every_session_of_that_user() {
    let mut app = spawn_app_with(openid_config(), DemoSettings::for_tests()).await;
    app.login_as("alice").await;
    let first = new_browser(&mut app);
    app.login_as("alice").await;
    let second = new_browser(&mut app);
    app.login_as("bob").await;
    let bob = app.client.clone();

    let token = app
        .provider
        .state
        .logout_token("photo-connect", Some("alice"), None);
    assert_eq!(deliver(&app, &token).await.0, StatusCode::OK);
    assert!(!connected(&app, &first).await);
    assert!(!connected(&app, &second).await);
    assert!(connected(&app, &bob).await, "another user's session stays");
}

#[tokio::test]
async fn c100_signing_out_of_all_apps_at_the_provider_ends_the_session_here() {
    let app = spawn_app_with(openid_config(), DemoSettings::for_tests()).await;
    app.login_as("alice").await;
    let issuer = app.provider.issuer.clone();
    let (_, _, page) = fetch(
        &app.client,
        format!("{issuer}/account").parse().expect("url"),
    )
    .await;
    assert!(page.contains("photo-connect"), "{page}");
    let token = attribute_after(&page, r#"name="token" value=""#).expect("form token");
    let response = app
        .client
        .post(format!("{issuer}/account/logout"))
        .header("origin", issuer.as_str())
        .form(&[("token", token.as_str()), ("user", "alice")])
        .send()
        .await
        .expect("sign out of all apps");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let mut ended = false;
    for _ in 0..100 {
        if !app.is_connected().await {
            ended = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(ended, "the provider's logout token ended the session here");
    assert_eq!(app.provider.state.logout_deliveries(), (1, 0));
}
