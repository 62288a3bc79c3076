//! Session abuse, floods and odd requests (docs/requirements.md C12, C21, C34, C35, C36, C76).

use std::{sync::Arc, time::Duration};

use futures_util::StreamExt;
use photo_connect::{config::Config, demo::provider::DemoSettings};
use reqwest::{StatusCode, cookie::Jar, header};

use crate::helpers::*;

#[tokio::test]
async fn c12_forged_or_garbage_session_ids_get_nothing_and_are_never_adopted() {
    let app = spawn_app().await;
    let callback = app.callback_for("alice").await;
    for forged in ["AAAAAAAAAAAAAAAAAAAAAA", "not-a-session-id", "%00"] {
        let jar = Arc::new(Jar::default());
        jar.add_cookie_str(&format!("session={forged}"), &app.url);
        let (status, headers, body) = fetch(&browser(jar), callback.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{forged}");
        assert!(body.contains("was not started here"), "{forged}");
        let set = headers
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().expect("ascii").to_owned());
        assert!(
            set.is_none_or(|c| !c.contains(forged)),
            "{forged}: the attacker's id is never issued"
        );
    }
    assert_eq!(app.token_requests(), 0);
    assert!(
        !captured_logs().contains("not-a-session-id")
            && !captured_logs().contains("AAAAAAAAAAAAAAAAAAAAAA"),
        "the forged value is not logged"
    );
}

#[tokio::test]
async fn c21_unknown_errors_and_huge_descriptions_get_a_generic_page() {
    let app = spawn_app().await;
    let authorize = app.start_login().await;
    let state = param(&authorize, "state").expect("state");
    let iss = &app.provider.issuer;
    let (status, _, body) = app
        .get(&format!(
            "/cb?error=made_up&error_description=ANSI%1b&state={state}&iss={iss}"
        ))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "control characters are refused outright"
    );
    assert!(!body.contains("made_up"));
    let (status, _, body) = app
        .get(&format!(
            "/cb?error=made_up&error_description=nope&state={state}&iss={iss}"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(
        body.contains("could not complete the sign-in")
            && !body.contains("made_up")
            && !body.contains("nope")
    );
    let huge = format!(
        "/cb?error=server_error&error_description={}&state={state}",
        "x".repeat(60 * 1024)
    );
    assert_eq!(
        app.get(&huge).await.0,
        StatusCode::BAD_REQUEST,
        "over the 8 KiB query cap"
    );
    assert!(
        !captured_logs().contains(&"x".repeat(300)),
        "nothing that long reaches a log line"
    );
}

#[tokio::test]
async fn c34_parallel_callbacks_from_two_tabs_never_corrupt_the_session() {
    let app = spawn_app().await;
    let tab_a = app.start_login().await;
    let tab_b = app.start_login().await;
    let tx_a = app.open_consent(&tab_a).await;
    let tx_b = app.open_consent(&tab_b).await;
    let cb_a = app.answer_consent(&tx_a, "alice", "approve").await;
    let cb_b = app.answer_consent(&tx_b, "bob", "approve").await;
    let (a, b) = tokio::join!(
        fetch(&app.client, cb_a.clone()),
        fetch(&app.client, cb_b.clone())
    );
    // Pinned: requests of one session run one at a time. The first callback completes and
    // rotates the session id (the old record is deleted: fixation defence); the second, sent
    // with the old cookie, gets the friendly "start again" page without touching its state, so
    // delivering it again later (with the new cookie) can still complete it. Never a 500, and
    // each callback URL leads to at most one token request.
    for (status, body) in [(a.0, &a.2), (b.0, &b.2)] {
        assert!(
            status == StatusCode::SEE_OTHER
                || (status == StatusCode::BAD_REQUEST && body.contains("Start again")),
            "{status}"
        );
    }
    assert!(
        a.0 == StatusCode::SEE_OTHER || b.0 == StatusCode::SEE_OTHER,
        "at least one tab completes"
    );
    let again_a = fetch(&app.client, cb_a).await.0;
    let again_b = fetch(&app.client, cb_b).await.0;
    let completions = |first: StatusCode, again: StatusCode| {
        [first, again]
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count()
    };
    assert!(
        completions(a.0, again_a) <= 1 && completions(b.0, again_b) <= 1,
        "no callback completes twice"
    );
    assert_eq!(
        app.token_requests(),
        completions(a.0, again_a) + completions(b.0, again_b),
        "a token request only for a completion"
    );
}

#[tokio::test]
async fn c36_an_idle_session_expires_and_its_token_is_never_used_again() {
    let mut config = Config::for_tests();
    config.session_idle = Duration::from_secs(1);
    let app = spawn_app_with(config, DemoSettings::for_tests()).await;
    app.login_as("alice").await;
    let api_calls = app.provider.state.api_requests();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, headers, _) = app.get("/photos").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location(&headers).as_str(),
        "http://relative.invalid/?notice=connect-first"
    );
    assert_eq!(
        app.provider.state.api_requests(),
        api_calls,
        "no stale token sent"
    );
}

#[tokio::test]
async fn c36_an_active_visitor_is_not_logged_out_the_idle_limit_slides_on_use() {
    let mut config = Config::for_tests();
    config.session_idle = Duration::from_secs(4);
    let app = spawn_app_with(config, DemoSettings::for_tests()).await;
    app.login_as("alice").await;
    let (status, _, _) = app.get("/photos").await;
    assert_eq!(status, StatusCode::OK, "just signed in: nothing to renew");

    // Half the idle limit later, the photos page makes a detour to renew it.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let (status, headers, _) = app.get("/photos").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers).path(), "/photos/renew");
    let (status, headers, _) = app.get("/photos/renew").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers).path(), "/photos");
    let cookie = headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        cookie.contains("Max-Age=4"),
        "the browser's cookie is renewed too: {cookie:?}"
    );

    // Past the limit counted from the sign-in, but not from the renewal: still connected (by
    // way of another renewal, now due again), never sent to connect.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let mut path = "/photos".to_owned();
    for _ in 0..3 {
        let (status, headers, page) = app.get(&path).await;
        if status == StatusCode::OK {
            assert!(page.contains("Your photos ("), "{page}");
            return;
        }
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        path = location(&headers).path().to_owned();
        assert!(path.starts_with("/photos"), "logged out: sent to {path}");
    }
    panic!("no photos after the renewal detour");
}

#[tokio::test]
async fn c76_no_cors_and_no_preflight_success() {
    let app = spawn_app().await;
    for path in ["/cb", "/photos", "/"] {
        let response = app
            .client
            .request(reqwest::Method::OPTIONS, app.at(path))
            .header(header::ORIGIN, "https://evil.example")
            .header("Access-Control-Request-Method", "GET")
            .send()
            .await
            .expect("options");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert!(
            response
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none(),
            "{path}"
        );
    }
}

#[tokio::test]
async fn c35_a_cross_site_subresource_cannot_make_the_browser_store_a_session() {
    let app = spawn_app().await;
    for mode in ["no-cors", "cors", "same-origin"] {
        let response = app
            .client
            .get(app.at("/"))
            .header("Sec-Fetch-Mode", mode)
            .send()
            .await
            .expect("home");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{mode}");
        assert!(
            response.headers().get(header::SET_COOKIE).is_none(),
            "{mode}: no session stored"
        );
    }
    // A navigation into a frame on another site is not a top-level visit either.
    let framed = app
        .client
        .get(app.at("/"))
        .header("Sec-Fetch-Mode", "navigate")
        .header("Sec-Fetch-Dest", "iframe")
        .send()
        .await
        .expect("home");
    assert_eq!(framed.status(), StatusCode::BAD_REQUEST, "iframe");
    assert!(framed.headers().get(header::SET_COOKIE).is_none());
    assert!(app.sessions.is_empty().await);
    let response = app
        .client
        .get(app.at("/"))
        .header("Sec-Fetch-Mode", "navigate")
        .send()
        .await
        .expect("home");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains("Connect Your Account")
    );
}

/// Peak resident memory of this test process, in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn c35_a_flood_to_the_cap_cannot_cancel_a_sign_in_in_flight() {
    const CAP: usize = 300;
    const VIEWS: usize = 2_000;
    let mut config = Config::for_tests();
    config.max_sessions = CAP;
    let app = spawn_app_with(config, DemoSettings::for_tests()).await;
    // A real person is between the Connect link and the callback.
    let callback = app.callback_for("bob").await;

    // A flood of cookie-less home-page views without Sec-Fetch headers (a script, not a page).
    let flood = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let (mut served, mut busy) = (0, 0);
    let mut views = futures_util::stream::iter(0..VIEWS)
        .map(|_| {
            let flood = flood.clone();
            let url = app.at("/");
            async move { flood.get(url).send().await.expect("view") }
        })
        .buffer_unordered(16);
    while let Some(response) = views.next().await {
        match response.status() {
            StatusCode::OK => served += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                let page = response.text().await.expect("body");
                assert!(page.contains("We are busy right now") && page.contains(">Try again</a>"));
            }
            other => panic!("unexpected {other}"),
        }
    }
    let held = app.sessions.len().await;
    eprintln!(
        "flood: {VIEWS} views, {served} served, {busy} busy, {held} sessions held (cap {CAP}), \
         peak RSS {} KiB",
        peak_rss_kib()
    );
    assert_eq!(served + busy, VIEWS);
    assert!(held <= CAP, "the store stays at its cap: {held}");
    assert!(busy >= VIEWS - CAP, "the flood was turned away: {busy}");

    // The real sign-in completes: its pending login was never evicted.
    let (status, headers, _) = fetch(&app.client, callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the real sign-in completes");
    assert_eq!(location(&headers).path(), "/photos");
    assert!(app.is_connected().await);
    eprintln!("flood: the real sign-in completed");
}

#[tokio::test]
async fn c35_starting_sign_ins_is_limited_per_client() {
    let mut config = Config::for_tests();
    config.signin_rate_per_minute = 5;
    config.trust_forwarded_for = true;
    let app = spawn_app_with(config, DemoSettings::for_tests()).await;
    let script = reqwest::Client::new();
    let view = |forwarded: &'static str| {
        let request = script.get(app.at("/"));
        async move {
            let response = request
                .header("x-forwarded-for", forwarded)
                .send()
                .await
                .expect("view");
            let status = response.status();
            (status, response.text().await.expect("body"))
        }
    };
    for _ in 0..5 {
        assert_eq!(view("198.51.100.1").await.0, StatusCode::OK);
    }
    let (status, page) = view("198.51.100.1").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("Slow down a little"), "{page}");
    assert_eq!(
        view("198.51.100.2").await.0,
        StatusCode::OK,
        "another client behind the same proxy is not limited"
    );
}

#[tokio::test]
async fn head_on_the_home_page_creates_no_session_and_no_pending_login() {
    let app = spawn_app().await;
    let response = app.client.head(app.at("/")).send().await.expect("head");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    assert!(app.sessions.is_empty().await, "nothing stored");
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
}
