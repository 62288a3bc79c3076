//! Callbacks that must be refused: friendly page, right status, no token request at the
//! provider, nothing stored (docs/requirements.md C07–C11, C14–C20, C22, C66, C67, C69, C70).

use std::time::Duration;

use photo_connect::{config::Config, demo::provider::DemoSettings};
use reqwest::{StatusCode, header};
use url::Url;

use crate::helpers::*;

/// The callback URL with its query replaced.
fn with_query(callback: &Url, query: &str) -> Url {
    let mut url = callback.clone();
    url.set_query(Some(query));
    url
}

/// Asserts a refusal: status, an error page whose one button goes home, no token request, not
/// connected.
async fn assert_refused(app: &TestApp, url: Url, status: StatusCode, text: &str) {
    let (got, headers, body) = fetch(&app.client, url.clone()).await;
    assert_eq!(got, status, "{url}: {body}");
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/html"),
        "{url}"
    );
    assert!(body.contains(text), "{url}: expected {text:?} in {body}");
    assert!(
        body.contains(r#"id="error-action" class="button" href="/""#),
        "{url}"
    );
    assert_eq!(app.token_requests(), 0, "{url}: no token request");
    assert!(!app.is_connected().await, "{url}: nothing stored");
}

#[tokio::test]
async fn c07_missing_state_is_refused_and_the_real_login_survives() {
    let app = spawn_app().await;
    let callback = app.callback_for("alice").await;
    let code = param(&callback, "code").expect("code");
    assert_refused(
        &app,
        with_query(&callback, &format!("code={code}")),
        StatusCode::BAD_REQUEST,
        "not valid",
    )
    .await;
    // The legitimate pending login is untouched: the real callback still works.
    let (status, _, _) = fetch(&app.client, callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn c08_wrong_state_is_refused_and_the_real_login_survives() {
    let app = spawn_app().await;
    let callback = app.callback_for("alice").await;
    let code = param(&callback, "code").expect("code");
    let iss = param(&callback, "iss").expect("iss");
    let forged = with_query(
        &callback,
        &format!("code={code}&state=forged-state-value&iss={iss}"),
    );
    assert_refused(
        &app,
        forged,
        StatusCode::BAD_REQUEST,
        "was not started here",
    )
    .await;
    let (status, _, _) = fetch(&app.client, callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn c09_a_replayed_callback_is_refused_and_the_login_stays() {
    let app = spawn_app().await;
    let callback = app.callback_for("alice").await;
    let (status, _, _) = fetch(&app.client, callback.clone()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, body) = fetch(&app.client, callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("was not started here"));
    assert_eq!(app.token_requests(), 1, "no second token request");
    assert!(
        app.is_connected().await,
        "the existing tokens are untouched"
    );
}

#[tokio::test]
async fn c11_a_callback_without_a_session_cookie_is_refused() {
    let app = spawn_app().await;
    let callback = app.callback_for("alice").await;
    let stranger = browser(std::sync::Arc::new(reqwest::cookie::Jar::default()));
    let (status, headers, body) = fetch(&stranger, callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("was not started here"));
    assert!(
        headers.get(header::SET_COOKIE).is_none(),
        "no session is created for a stray callback"
    );
    assert_eq!(app.token_requests(), 0);
}

#[tokio::test]
async fn c13_a_callback_from_another_browsers_login_is_refused() {
    // The attacker runs the flow in their browser and makes the victim's browser load their
    // callback URL (login CSRF).
    let attacker = spawn_app().await;
    let attackers_callback = attacker.callback_for("bob").await;
    let victim_jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let victim = browser(victim_jar);
    let (status, _, _) = fetch(&victim, attacker.at("/")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the victim has a session with its own pending login"
    );
    let (status, _, body) = fetch(&victim, attackers_callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("was not started here"));
    assert_eq!(attacker.token_requests(), 0);
    let (status, _, _) = fetch(&victim, attacker.at("/photos")).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the victim is not logged in as the attacker"
    );
}

#[tokio::test]
async fn c14_an_expired_pending_login_is_refused() {
    let mut config = Config::for_tests();
    config.pending_login_ttl = Duration::from_secs(1);
    let app = spawn_app_with(config, DemoSettings::for_tests()).await;
    let callback = app.callback_for("alice").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_refused(
        &app,
        callback,
        StatusCode::BAD_REQUEST,
        "Your sign-in expired",
    )
    .await;
    let records = app.sessions.records().await;
    assert!(
        records
            .iter()
            .all(|r| !r.data.contains_key("oauth.pending")),
        "the expired pending login is removed from the store"
    );
}

#[tokio::test]
async fn c15_c16_c17_malformed_callbacks_are_refused_before_any_work() {
    let app = spawn_app().await;
    let callback = app.callback_for("alice").await;
    let code = param(&callback, "code").expect("code");
    let state = param(&callback, "state").expect("state");
    // Every query carries the right iss, so only the malformation itself can refuse it.
    let iss: String =
        url::form_urlencoded::byte_serialize(app.provider.issuer.as_bytes()).collect();
    for query in [
        format!("code={code}&state={state}&state={state}&iss={iss}"),
        format!("code={code}&code={code}&state={state}&iss={iss}"),
        format!("code={code}&state={state}&iss={iss}&iss={iss}"),
        format!("code=&state={state}&iss={iss}"),
        format!("code={code}&state=&iss={iss}"),
        format!("code={code}&state={state}&iss={iss}&access_token=x"),
        format!("code={code}&state={state}&iss={iss}&id_token=x"),
        format!("code={code}&state={state}&iss={iss}&token=x"),
        format!("code={code}&state=%FF{state}&iss={iss}"),
        format!("code={code}&state={state}%0D%0ASet-Cookie:%20x=y&iss={iss}"),
        format!("code[]={code}&state={state}&iss={iss}"),
        format!("code={code}&state={}&iss={iss}", "s".repeat(600)),
    ] {
        let url = with_query(&callback, &query);
        let (status, headers, body) = fetch(&app.client, url).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            body.contains("That sign-in link is not valid"),
            "{query}: {body}"
        );
        assert!(
            !body.contains("Set-Cookie: x") && headers.get("x").is_none(),
            "{query}"
        );
    }
    // The control: the same query, well-formed, is accepted.
    let (status, _, _) = fetch(
        &app.client,
        with_query(&callback, &format!("code={code}&state={state}&iss={iss}")),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the well-formed callback completes after all that"
    );
    assert_eq!(app.token_requests(), 1);
}

#[tokio::test]
async fn c69_head_on_the_callback_and_photos_is_refused_without_side_effects() {
    let app = spawn_app().await;
    let callback = app.callback_for("alice").await;
    let response = app
        .client
        .head(callback.clone())
        .send()
        .await
        .expect("head");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(app.token_requests(), 0, "HEAD redeemed nothing");
    assert_eq!(
        app.client
            .put(app.at("/"))
            .send()
            .await
            .expect("put")
            .status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        fetch(&app.client, callback).await.0,
        StatusCode::SEE_OTHER,
        "the state survived"
    );
    let response = app
        .client
        .head(app.at("/photos"))
        .send()
        .await
        .expect("head");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(app.provider.state.api_requests(), 0);
}

#[tokio::test]
async fn c73_callback_error_pages_have_no_external_links_or_resources() {
    let app = spawn_app().await;
    for query in ["code=x", "error=access_denied", "code=x&state=y"] {
        let (_, headers, body) = app.get(&format!("/cb?{query}")).await;
        assert!(
            !body.contains("href=\"http") && !body.contains("src=\"http"),
            "{query}: {body}"
        );
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    }
}

#[tokio::test]
async fn c17_an_error_wins_over_a_code_in_the_same_callback() {
    let app = spawn_app().await;
    let callback = app.callback_for("alice").await;
    let query = format!("{}&error=access_denied", callback.query().expect("query"));
    assert_refused(
        &app,
        with_query(&callback, &query),
        StatusCode::FORBIDDEN,
        "Access was not granted",
    )
    .await;
}

#[tokio::test]
async fn c18_denying_consent_shows_a_friendly_page_and_consumes_the_state() {
    let app = spawn_app().await;
    let authorize = app.start_login().await;
    let transaction = app.open_consent(&authorize).await;
    let callback = app.answer_consent(&transaction, "alice", "deny").await;
    assert_eq!(param(&callback, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&callback, "state"), param(&authorize, "state"));
    assert_eq!(
        param(&callback, "iss").as_deref(),
        Some(app.provider.issuer.as_str())
    );
    assert!(param(&callback, "code").is_none());
    assert_refused(
        &app,
        callback.clone(),
        StatusCode::FORBIDDEN,
        "Access was not granted",
    )
    .await;
    // Consumed: the same response again is now an unknown state.
    let (status, _, _) = fetch(&app.client, callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn denying_reads_as_a_choice_not_an_error() {
    let app = spawn_app().await;
    let authorize = app.start_login().await;
    let transaction = app.open_consent(&authorize).await;
    let callback = app.answer_consent(&transaction, "alice", "deny").await;
    let (status, _, page) = fetch(&app.client, callback).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("tone-choice"), "{page}");
    assert!(!page.contains("Error 403"), "no error code for a choice");
    assert!(page.contains(r#"href="/">Connect your account</a>"#));
}

#[tokio::test]
async fn an_unknown_state_says_so_before_any_iss_check() {
    // The demo provider requires `iss`; this callback has none, and names no pending login.
    // The cause is the unknown state, and the page must say that, not "unexpected provider".
    let app = spawn_app().await;
    let _ = app.start_login().await;
    let (status, _, page) = app.get("/cb?code=x&state=y").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("This sign-in was not started here"), "{page}");
    assert!(!page.contains("unexpected provider"), "{page}");
    // A known state with a wrong `iss` is still refused as a mix-up, and the login survives.
    let authorize = app.start_login().await;
    let state = param(&authorize, "state").expect("state");
    let (status, _, page) = app
        .get(&format!(
            "/cb?code=x&state={state}&iss=https%3A%2F%2Fevil.example"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("unexpected provider"), "{page}");
    let callback = {
        let transaction = app.open_consent(&authorize).await;
        app.answer_consent(&transaction, "alice", "approve").await
    };
    assert_eq!(fetch(&app.client, callback).await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn c19_hostile_error_parameters_are_never_echoed() {
    let app = spawn_app().await;
    let authorize = app.start_login().await;
    let state = param(&authorize, "state").expect("state");
    let query = format!(
        "error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&error_description=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&error_uri=javascript:alert(1)&state={state}&iss={}",
        app.provider.issuer
    );
    let (status, headers, body) = fetch(&app.client, app.at(&format!("/cb?{query}"))).await;
    assert_eq!(
        status,
        StatusCode::BAD_GATEWAY,
        "an unknown error code from the provider"
    );
    for hostile in ["<script", "onerror", "javascript:", "alert(1)"] {
        assert!(!body.contains(hostile), "{hostile} in {body}");
    }
    assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii")
            .contains("default-src 'none'")
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

#[tokio::test]
async fn c20_an_error_with_a_wrong_state_does_not_cancel_the_real_login() {
    let app = spawn_app().await;
    let callback = app.callback_for("alice").await;
    for query in ["error=access_denied&state=not-ours", "error=access_denied"] {
        let (status, _, body) = fetch(&app.client, app.at(&format!("/cb?{query}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            !body.contains("Access was not granted"),
            "a generic page, not the provider's claim"
        );
    }
    let (status, _, _) = fetch(&app.client, callback).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the pending login was not consumed"
    );
}

#[tokio::test]
async fn c22_an_iss_from_another_issuer_is_refused_before_the_token_request() {
    let app = spawn_app().await;
    let callback = app.callback_for("alice").await;
    let code = param(&callback, "code").expect("code");
    let state = param(&callback, "state").expect("state");
    for iss in ["https%3A%2F%2Fother.example", "", "x"] {
        let query = if iss.is_empty() {
            format!("code={code}&state={state}")
        } else {
            format!("code={code}&state={state}&iss={iss}")
        };
        let url = with_query(&callback, &query);
        let (status, _, body) = fetch(&app.client, url).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "iss={iss:?}");
        assert!(body.contains("unexpected provider"), "iss={iss:?}: {body}");
    }
    assert_eq!(app.token_requests(), 0);
    let trailing_slash = with_query(
        &callback,
        &format!("code={code}&state={state}&iss={}/", app.provider.issuer),
    );
    assert_eq!(
        fetch(&app.client, trailing_slash).await.0,
        StatusCode::BAD_REQUEST
    );
    // Pinned: the pending login is kept, so the genuine response still completes.
    assert_eq!(fetch(&app.client, callback).await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn c66_oversized_queries_are_refused_without_work() {
    let app = spawn_app().await;
    let (status, _, _) = app
        .get(&format!("/cb?code=x&state={}", "s".repeat(16 * 1024)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(app.token_requests(), 0);
}

#[tokio::test]
async fn c69_post_to_the_callback_is_not_allowed() {
    let app = spawn_app().await;
    let callback = app.callback_for("alice").await;
    let response = app
        .client
        .post(callback.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        fetch(&app.client, callback).await.0,
        StatusCode::SEE_OTHER,
        "no state consumed"
    );
}

#[tokio::test]
async fn a_code_rejected_by_the_provider_shows_a_sign_in_failed_page() {
    // C27-like: a valid state with a code the provider refuses (here: unknown code).
    let app = spawn_app().await;
    let callback = app.callback_for("alice").await;
    let state = param(&callback, "state").expect("state");
    let iss = param(&callback, "iss").expect("iss");
    let mut forged = callback.clone();
    forged
        .query_pairs_mut()
        .clear()
        .append_pair("code", "not-a-real-code")
        .append_pair("state", &state)
        .append_pair("iss", &iss);
    let (status, _, body) = fetch(&app.client, forged).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body.contains("The provider refused the sign-in"), "{body}");
    assert_eq!(app.token_requests(), 1);
    assert!(!app.is_connected().await);
    // The state was consumed by that attempt: the genuine code can no longer be used with it.
    assert_eq!(
        fetch(&app.client, callback).await.0,
        StatusCode::BAD_REQUEST
    );
}
