//! Pushed authorization requests (RFC 9126) against the demo provider: the Connect link goes
//! through `/connect`, which pushes the parameters and sends the browser on with only
//! `client_id` and `request_uri`; a provider that requires PAR gets it without configuration;
//! the provider's refusals get the friendly pages.

use photo_connect::{
    config::{Config, ParMode},
    demo::provider::DemoSettings,
};
use reqwest::{StatusCode, header};

use crate::helpers::*;

async fn par_app(par: ParMode, settings: DemoSettings) -> TestApp {
    let mut config = Config::for_tests();
    config.par = par;
    spawn_app_with(config, settings).await
}

/// Consent as alice, then the callback: the visitor is connected.
async fn approve_and_return(app: &TestApp, authorize: &url::Url) {
    let transaction = app.open_consent(authorize).await;
    let callback = app.answer_consent(&transaction, "alice", "approve").await;
    let (status, _, _) = fetch(&app.client, callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(app.is_connected().await);
}

/// Home → `/connect` → the provider's authorize URL; returns that URL.
async fn connect(app: &TestApp) -> url::Url {
    let (status, _, home) = app.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains(r#"href="/connect""#), "{home}");
    assert!(
        home.contains("pushed authorization requests"),
        "the home page says so"
    );
    let (status, headers, body) = app.get("/connect").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    location(&headers)
}

#[tokio::test]
async fn with_par_the_browser_carries_only_client_id_and_request_uri() {
    let app = par_app(ParMode::On, DemoSettings::for_tests()).await;
    let anonymous_home_sessions = {
        let (_, _, _) = app.get("/").await;
        app.sessions.len().await
    };
    assert_eq!(
        anonymous_home_sessions, 0,
        "a home-page view stores nothing with PAR"
    );

    let authorize = connect(&app).await;
    let names: Vec<String> = authorize
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(names, ["client_id", "request_uri"], "{authorize}");
    assert!(
        param(&authorize, "request_uri")
            .is_some_and(|u| u.starts_with("urn:ietf:params:oauth:request_uri:"))
    );
    assert!(
        app.provider.state.tables().pushed.len() == 1,
        "pushed at the provider"
    );

    let transaction = app.open_consent(&authorize).await;
    assert!(app.provider.state.tables().pushed.is_empty(), "single use");
    let callback = app.answer_consent(&transaction, "bob", "approve").await;
    assert!(
        param(&callback, "state").is_some(),
        "the pushed state comes back"
    );
    let (status, headers, _) = fetch(&app.client, callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers).path(), "/photos");
    let (status, _, photos) = app.get("/photos").await;
    assert_eq!(status, StatusCode::OK);
    assert!(photos.contains("Your photos (4)"));

    // The inspector shows the push as its own step, masked like the rest. // INSPECTOR
    #[cfg(feature = "inspector")] // INSPECTOR
    {
        // INSPECTOR
        let (_, _, flow) = app.get("/flow").await; // INSPECTOR
        assert!(
            // INSPECTOR
            flow.contains("The push: the request sent over the back channel (PAR)"), // INSPECTOR
            "{flow}"                                                                 // INSPECTOR
        ); // INSPECTOR
        assert!(flow.contains("/oauth/par") && flow.contains("HTTP 201")); // INSPECTOR
        assert!(flow.contains("GET /connect")); // INSPECTOR
        assert!(!flow.contains(CLIENT_SECRET)); // INSPECTOR
        let request_uri = param(&authorize, "request_uri").expect("request_uri"); // INSPECTOR
        let shown = format!(
            // INSPECTOR
            r#"<dt><code>request_uri</code></dt><dd><code class="value">{request_uri}</code>"# // INSPECTOR
        ); // INSPECTOR
        assert!(
            // INSPECTOR
            flow.contains(&shown),                                // INSPECTOR
            "the push step names the request_uri it got: {flow}"  // INSPECTOR
        ); // INSPECTOR
    } // INSPECTOR
}

#[tokio::test]
async fn par_works_with_client_secret_post_and_sends_client_id_once() {
    let mut config = Config::for_tests();
    config.par = ParMode::On;
    config.token_auth = photo_connect::config::TokenAuth::ClientSecretPost;
    let app = spawn_app_with(config, DemoSettings::for_tests()).await;
    let authorize = connect(&app).await;
    approve_and_return(&app, &authorize).await;
}

#[tokio::test]
async fn a_provider_that_requires_par_gets_it_without_configuration() {
    let mut settings = DemoSettings::for_tests();
    settings.require_par = true;
    let app = par_app(ParMode::IfRequired, settings).await;
    let authorize = connect(&app).await;
    assert!(param(&authorize, "request_uri").is_some());
    approve_and_return(&app, &authorize).await;
}

#[tokio::test]
async fn par_off_against_a_provider_that_requires_it_stops_at_startup() {
    let mut settings = DemoSettings::for_tests();
    settings.require_par = true;
    let mut config = Config::for_tests();
    config.par = ParMode::Off;
    config.client_secret = Some(oauth2::ClientSecret::new(CLIENT_SECRET.into()));
    let err = match photo_connect::demo::bind(config, settings).await {
        Ok((app, _provider)) => match app.spawn() {
            Ok(_) => panic!("started although the provider requires PAR"),
            Err(err) => err,
        },
        Err(err) => err,
    };
    let text = format!("{err:#}");
    assert!(
        text.contains("OAUTH_PAR=off") && text.contains("RFC 9126"),
        "{text}"
    );
}

#[tokio::test]
async fn by_default_the_connect_link_is_the_authorize_url_as_in_the_classic_flow() {
    let app = spawn_app().await;
    let authorize = app.start_login().await;
    assert!(param(&authorize, "code_challenge").is_some());
    assert!(param(&authorize, "request_uri").is_none());
}

#[tokio::test]
async fn a_refused_push_gets_the_set_up_page_and_no_redirect() {
    let mut config = Config::for_tests();
    config.par = ParMode::On;
    config.scopes = vec!["admin".into()];
    let app = spawn_app_with(config, DemoSettings::for_tests()).await;
    let (status, headers, body) = app.get("/connect").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(headers.get(header::LOCATION).is_none());
    assert!(
        body.contains("The provider refused this app&#39;s sign-in request")
            || body.contains("The provider refused this app's sign-in request"),
        "{body}"
    );
    assert!(captured_logs().contains("pushed authorization request endpoint"));
}

#[tokio::test]
async fn connect_needs_a_top_level_navigation_and_head_pushes_nothing() {
    let app = par_app(ParMode::On, DemoSettings::for_tests()).await;
    let response = app
        .client
        .get(app.at("/connect"))
        .header("sec-fetch-mode", "no-cors")
        .header("sec-fetch-dest", "image")
        .send()
        .await
        .expect("connect");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let head = app
        .client
        .head(app.at("/connect"))
        .send()
        .await
        .expect("head");
    assert_eq!(head.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        app.provider.state.tables().pushed.is_empty(),
        "nothing pushed"
    );
}
