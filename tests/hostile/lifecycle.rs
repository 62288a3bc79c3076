//! Token lifecycle against the mock: refresh, rotation, single-flight, logout revocation and
//! discovery (docs/requirements.md C04, C23, C25, C26, C38, C39, C55–C57, C62–C65).

use std::time::{Duration, Instant};

use photo_connect::{
    Application,
    config::{Config, Discovery, ProviderSource},
};
use reqwest::{StatusCode, header};
use url::Url;

use crate::{
    mock::{
        Mock, Reply, SECRET, TestApp, connected, invalid_token, photos_ok, post_logout,
        refreshed_token, spawn_app,
    },
    support::*,
};

/// A token response with this lifetime.
fn token_lasting(seconds: i64) -> Reply {
    Reply::Json(
        200,
        format!(
            r#"{{"access_token":"at-SHORT","token_type":"Bearer","expires_in":{seconds},"refresh_token":"rt-GOOD-1"}}"#
        ),
    )
}

async fn photos(app: &TestApp) -> (StatusCode, String) {
    let (status, _, body) = fetch(&app.client, app.at("/photos")).await;
    (status, body)
}

fn refresh_tokens_sent(mock: &Mock) -> Vec<String> {
    mock.token_requests("refresh_token")
        .iter()
        .map(|r| {
            url::form_urlencoded::parse(r.body.as_bytes())
                .find(|(k, _)| k == "refresh_token")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn c55_a_401_refreshes_once_retries_and_uses_the_rotated_refresh_token_next_time() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    mock.refresh_replies(vec![refreshed_token(2), refreshed_token(3)]);
    mock.photos_replies(vec![invalid_token(), photos_ok(&mock)]);
    let (status, page) = photos(&app).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("refreshed 1 time"));
    mock.photos_replies(vec![invalid_token(), photos_ok(&mock)]);
    let (status, page) = photos(&app).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("refreshed 2 times"));
    assert_eq!(
        refresh_tokens_sent(&mock),
        vec!["rt-GOOD-1", "rt-GOOD-2"],
        "the rotated token replaces the old one (RFC 6749 §6)"
    );
    let bearers: Vec<_> = mock
        .hits("/photos")
        .iter()
        .map(|s| {
            s.headers[header::AUTHORIZATION]
                .to_str()
                .expect("ascii")
                .to_owned()
        })
        .collect();
    assert_eq!(
        bearers,
        vec![
            "Bearer at-GOOD-1",
            "Bearer at-GOOD-2",
            "Bearer at-GOOD-2",
            "Bearer at-GOOD-3"
        ]
    );
}

/// The visitor goes away (a reload, a closed tab) while the provider is answering the refresh:
/// the provider has rotated the refresh token by then (RFC 9700 §4.14.2), so the new one must
/// still be saved. Here the refresh answer is held for 700 ms; the visitor's request is cut
/// off as soon as the refresh reached the provider. (The app's HTTP timeout here is 1 s.)
#[tokio::test]
async fn a_refresh_whose_visitor_went_away_still_saves_the_rotated_tokens() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    let held = Reply::Slow(Duration::from_millis(700), Box::new(refreshed_token(2)));
    mock.refresh_replies(vec![held, refreshed_token(3)]);
    mock.photos_replies(vec![invalid_token(), photos_ok(&mock)]);

    let visitor = tokio::spawn({
        let (client, url) = (app.client.clone(), app.at("/photos"));
        async move { client.get(url).send().await }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while mock.token_requests("refresh_token").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the refresh never reached the provider"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The tab closes: the connection goes, and with it the request's future.
    visitor.abort();
    assert!(visitor.await.is_err_and(|e| e.is_cancelled()));
    // Longer than the provider holds its answer.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let (status, page) = photos(&app).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(app.is_connected().await, "the visitor stays connected");
    assert_eq!(
        refresh_tokens_sent(&mock),
        vec!["rt-GOOD-1"],
        "the old refresh token is never presented again"
    );
    let last = mock.hits("/photos").pop().expect("a photos call");
    assert_eq!(
        last.headers[header::AUTHORIZATION],
        "Bearer at-GOOD-2",
        "the next page uses the tokens the abandoned refresh saved"
    );
}

#[tokio::test]
async fn c56_an_api_that_always_says_401_gets_one_refresh_one_retry_then_a_reconnect_page() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    mock.photos_reply(invalid_token());
    let (status, page) = photos(&app).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("Your connection has expired"));
    assert_eq!(mock.token_requests("refresh_token").len(), 1);
    assert_eq!(mock.hits("/photos").len(), 2);
    assert!(!app.is_connected().await, "the dead tokens are forgotten");
}

#[tokio::test]
async fn c62_a_refresh_without_a_new_refresh_token_keeps_the_old_one() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    mock.refresh_replies(vec![Reply::Json(
        200,
        r#"{"access_token":"at-NEW","token_type":"Bearer","expires_in":3600}"#.into(),
    )]);
    for _ in 0..2 {
        mock.photos_replies(vec![invalid_token(), photos_ok(&mock)]);
        assert_eq!(photos(&app).await.0, StatusCode::OK);
    }
    assert_eq!(refresh_tokens_sent(&mock), vec!["rt-GOOD-1", "rt-GOOD-1"]);
}

#[tokio::test]
async fn c63_fatal_refresh_errors_clear_the_tokens_and_transient_ones_keep_them() {
    let mock = Mock::start().await;
    for (reply, status, connected_after) in [
        (
            Reply::Json(400, r#"{"error":"invalid_grant"}"#.into()),
            StatusCode::UNAUTHORIZED,
            false,
        ),
        (
            Reply::Json(401, r#"{"error":"invalid_client"}"#.into()),
            StatusCode::UNAUTHORIZED,
            false,
        ),
        (
            Reply::Raw {
                status: 500,
                content_type: "text/html",
                body: "down".into(),
                headers: vec![],
            },
            StatusCode::SERVICE_UNAVAILABLE,
            true,
        ),
        (Reply::Silent, StatusCode::GATEWAY_TIMEOUT, true),
    ] {
        let app = connected(&mock).await;
        mock.refresh_replies(vec![reply.clone()]);
        mock.photos_replies(vec![invalid_token()]);
        let (got, page) = photos(&app).await;
        assert_eq!(got, status, "{reply:?}");
        let button = if connected_after {
            r#"href="/photos">Try again</a>"#
        } else {
            r#"href="/">Connect again</a>"#
        };
        assert!(page.contains(button), "{reply:?}: {button}");
        assert_eq!(app.is_connected().await, connected_after, "{reply:?}");
    }
}

#[tokio::test]
async fn c65_a_token_about_to_expire_is_refreshed_before_the_api_call() {
    let mock = Mock::start().await;
    mock.token_replies(token_lasting(20)); // inside the default 30 s skew
    let app = connected(&mock).await;
    mock.photos_reply(photos_ok(&mock));
    assert_eq!(photos(&app).await.0, StatusCode::OK);
    let seen = mock.seen();
    let refresh_at = seen
        .iter()
        .position(|s| s.body.contains("grant_type=refresh_token"))
        .expect("a refresh");
    let photos_at = seen
        .iter()
        .position(|s| s.path == "/photos")
        .expect("a photos call");
    assert!(refresh_at < photos_at, "refresh first");
    assert_eq!(
        mock.hits("/photos")[0].headers[header::AUTHORIZATION],
        "Bearer at-GOOD-2",
        "never the stale token"
    );
}

#[tokio::test]
async fn c64_five_parallel_requests_on_an_expired_token_refresh_exactly_once() {
    let mock = Mock::start().await;
    mock.token_replies(token_lasting(1));
    let app = connected(&mock).await;
    mock.photos_reply(photos_ok(&mock));
    // The first refresh is held for half a second, so the other four requests have certainly
    // loaded the expired tokens and are waiting for the lock when it ends; a second refresh
    // would get tokens numbered 3.
    mock.refresh_replies(vec![
        Reply::Slow(Duration::from_millis(500), Box::new(refreshed_token(2))),
        refreshed_token(3),
    ]);
    let pages = futures_util::future::join_all((0..5).map(|_| photos(&app))).await;
    for (status, page) in pages {
        assert_eq!(status, StatusCode::OK, "{page}");
    }
    assert_eq!(
        mock.token_requests("refresh_token").len(),
        1,
        "single-flight"
    );
    assert!(
        mock.hits("/photos")
            .iter()
            .all(|s| s.headers[header::AUTHORIZATION] == "Bearer at-GOOD-2")
    );
}

#[tokio::test]
async fn c38_logout_revokes_both_tokens_with_client_authentication() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    logout(&app).await;
    let revocations = mock.hits("/revoke");
    assert_eq!(revocations.len(), 2);
    let mut bodies: Vec<_> = revocations.iter().map(|r| r.body.clone()).collect();
    bodies.sort();
    assert_eq!(
        bodies,
        vec![
            "token=at-GOOD-1&token_type_hint=access_token",
            "token=rt-GOOD-1&token_type_hint=refresh_token"
        ]
    );
    assert!(revocations.iter().all(|r| {
        r.headers[header::AUTHORIZATION]
            .to_str()
            .expect("ascii")
            .starts_with("Basic ")
    }));
    assert!(!app.is_connected().await);
}

#[tokio::test]
async fn c38_with_client_secret_post_each_revocation_names_the_client_once_in_the_body() {
    let mock = Mock::start().await;
    let app = spawn_app(&mock, |config| {
        config.token_auth = photo_connect::config::TokenAuth::ClientSecretPost;
    })
    .await;
    assert_eq!(app.callback("c").await.0, StatusCode::SEE_OTHER);
    logout(&app).await;
    let revocations = mock.hits("/revoke");
    assert_eq!(revocations.len(), 2);
    for revocation in revocations {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(revocation.body.as_bytes())
            .into_owned()
            .collect();
        let names: Vec<&str> = form.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            ["token", "token_type_hint", "client_id", "client_secret"],
            "RFC 6749 §2.3.1: the credentials in the body, each once"
        );
        assert_eq!(form[2].1, "photo-connect");
        assert_eq!(form[3].1, SECRET);
        assert!(!revocation.headers.contains_key(header::AUTHORIZATION));
    }
}

#[tokio::test]
async fn c39_a_failing_or_hanging_revocation_endpoint_does_not_block_logout() {
    for reply in [
        Reply::Raw {
            status: 503,
            content_type: "text/plain",
            body: String::new(),
            headers: vec![],
        },
        Reply::Silent,
    ] {
        let mock = Mock::start().await;
        let app = connected(&mock).await;
        mock.revoke_replies(reply.clone());
        let started = Instant::now();
        logout(&app).await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{reply:?}: bounded by the HTTP timeout, in parallel"
        );
        assert!(!app.is_connected().await, "{reply:?}");
    }
}

async fn logout(app: &TestApp) {
    assert_eq!(post_logout(app).await.status(), StatusCode::SEE_OTHER);
}

fn metadata(mock: &Mock, issuer: &str, extra: &str) -> Reply {
    Reply::Json(
        200,
        format!(
            r#"{{"issuer":"{issuer}","authorization_endpoint":"{m}/authorize","token_endpoint":"{m}/token","revocation_endpoint":"{m}/revoke"{extra}}}"#,
            m = mock.url
        ),
    )
}

fn discovering(mock: &Mock) -> Config {
    let mut config = Config::for_tests();
    config.client_secret = Some(oauth2::ClientSecret::new("s".into()));
    config.http_timeout = Duration::from_secs(1);
    config.provider = ProviderSource::Discover(Discovery {
        issuer: mock.url.clone(),
        photos_api_url: Url::parse(&format!("{}/photos", mock.url)).expect("url"),
        name: None,
        token_url: None,
        revocation_url: None,
        par_url: None,
        allow_unadvertised_pkce: false,
    });
    config
}

#[tokio::test]
async fn c26_c04_bad_metadata_stops_the_app_at_startup() {
    let mock = Mock::start().await;
    let s256 = r#","code_challenge_methods_supported":["S256"]"#;
    for (reply, expected) in [
        (
            metadata(&mock, &format!("{}/", mock.url), s256),
            "RFC 8414 §3.3",
        ),
        (
            metadata(&mock, "https://evil.example", s256),
            "RFC 8414 §3.3",
        ),
        (metadata(&mock, &mock.url, ""), "S256"),
        (
            metadata(
                &mock,
                &mock.url,
                r#","code_challenge_methods_supported":["plain"]"#,
            ),
            "S256",
        ),
        (Reply::Json(404, "{}".into()), "could not discover"),
    ] {
        mock.metadata_replies(reply);
        let err = Application::bind(discovering(&mock))
            .await
            .err()
            .expect("refuses to start");
        assert!(format!("{err:#}").contains(expected), "{err:#}");
    }
}

#[tokio::test]
async fn c23_c25_discovered_iss_support_decides_whether_iss_is_required() {
    let mock = Mock::start().await;
    init_log_capture();
    for (advertised, iss, accepted) in [
        (true, None, false),          // C23: advertised but missing
        (true, Some("wrong"), false), // C22
        (true, Some("self"), true),
        (false, None, true),           // not advertised, not sent
        (false, Some("wrong"), false), // C25: sent anyway, must still match
        (false, Some("self"), true),
    ] {
        let extra = format!(
            r#","code_challenge_methods_supported":["S256"],"authorization_response_iss_parameter_supported":{advertised}"#
        );
        mock.metadata_replies(metadata(&mock, &mock.url, &extra));
        let running = Application::bind(discovering(&mock))
            .await
            .expect("starts")
            .spawn()
            .expect("serves");
        let app = TestApp {
            url: running.url,
            client: browser(std::sync::Arc::new(reqwest::cookie::Jar::default())),
        };
        let state = app.start_login().await;
        let iss = match iss {
            Some("self") => format!(
                "&iss={}",
                url::form_urlencoded::byte_serialize(mock.url.as_bytes()).collect::<String>()
            ),
            Some(other) => format!("&iss={other}"),
            None => String::new(),
        };
        let before = mock.hits("/token").len();
        let (status, _, _) = fetch(
            &app.client,
            app.at(&format!("/cb?code=c&state={state}{iss}")),
        )
        .await;
        assert_eq!(
            status == StatusCode::SEE_OTHER,
            accepted,
            "advertised={advertised} iss={iss:?}: {status}"
        );
        assert_eq!(
            mock.hits("/token").len() > before,
            accepted,
            "no token request when refused"
        );
    }
}

#[tokio::test]
async fn c77_refresh_and_logout_leave_no_token_in_the_logs() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    mock.refresh_replies(vec![Reply::Json(
        200,
        r#"{"access_token":"at-LOGCHECK-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-LOGCHECK-2"}"#.into(),
    )]);
    mock.photos_replies(vec![invalid_token(), photos_ok(&mock)]);
    assert_eq!(photos(&app).await.0, StatusCode::OK);
    mock.revoke_replies(Reply::Json(
        503,
        r#"{"error":"temporarily_unavailable"}"#.into(),
    ));
    logout(&app).await;
    assert_eq!(mock.hits("/revoke").len(), 2);
    let logs = captured_logs();
    assert!(
        logs.contains("access token refreshed") && logs.contains("revocation failed; logged out"),
        "the paths ran and logged"
    );
    for secret in [
        "at-GOOD-1",
        "rt-GOOD-1",
        "at-LOGCHECK-2",
        "rt-LOGCHECK-2",
        "hostile-test-secret",
    ] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs");
    }
}

#[tokio::test]
async fn logout_against_a_hanging_provider_is_bounded_by_its_own_timeout_and_says_so() {
    let mock = Mock::start().await;
    let app = spawn_app(&mock, |config| {
        // Far longer than the revocation bound, so only REVOCATION_TIMEOUT_SECS can end it.
        config.http_timeout = Duration::from_secs(20);
        config.revocation_timeout = Duration::from_secs(1);
    })
    .await;
    assert_eq!(app.callback("c").await.0, StatusCode::SEE_OTHER);
    mock.revoke_replies(Reply::Silent);
    let started = Instant::now();
    let response = post_logout(&app).await;
    let waited = started.elapsed();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(10),
        "waited {waited:?}: the revocation bound, not the 20 s HTTP timeout"
    );
    assert_eq!(
        mock.hits("/revoke").len(),
        2,
        "both revocations were sent, in parallel"
    );
    let location = response.headers()[header::LOCATION]
        .to_str()
        .expect("ascii");
    assert_eq!(location, "/?notice=signed-out-unrevoked&minutes=60");
    let (_, _, home) = fetch(&app.client, app.at(location)).await;
    assert!(
        home.contains("The provider did not answer")
            && home.contains("ends on its own in about 60 minutes"),
        "an honest notice: {home}"
    );
    assert!(!app.is_connected().await);
}

#[tokio::test]
async fn logout_that_reached_the_provider_says_the_access_was_ended() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    let response = post_logout(&app).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[header::LOCATION]
        .to_str()
        .expect("ascii");
    assert_eq!(
        location, "/?notice=signed-out",
        "both revocations answered 200"
    );
    let (_, _, home) = fetch(&app.client, app.at(location)).await;
    assert!(home.contains(r#"class="notice notice-success""#), "{home}");
    assert!(home.contains("The provider was told to end this app"));
}

/// Built without the flow inspector, the app says so at startup rather than ignoring // INSPECTOR
/// `FLOW_INSPECTOR=on`; unset or off, it starts. // INSPECTOR
#[cfg(not(feature = "inspector"))] // INSPECTOR
#[tokio::test] // INSPECTOR
async fn flow_inspector_on_without_the_inspector_feature_stops_the_app_at_startup() {
    // INSPECTOR
    let mock = Mock::start().await; // INSPECTOR
    let mut config = Config::for_tests(); // INSPECTOR
    config.provider = ProviderSource::Explicit(crate::mock::provider_of(&mock)); // INSPECTOR
    config.flow_inspector = Some(true); // INSPECTOR
    let err = Application::bind(config.clone()) // INSPECTOR
        .await // INSPECTOR
        .err() // INSPECTOR
        .expect("refuses to start"); // INSPECTOR
    assert!(
        // INSPECTOR
        format!("{err:#}").contains("`inspector` cargo feature"), // INSPECTOR
        "{err:#}"                                                 // INSPECTOR
    ); // INSPECTOR
    config.flow_inspector = Some(false); // INSPECTOR
    assert!(Application::bind(config).await.is_ok(), "off is fine"); // INSPECTOR
} // INSPECTOR
