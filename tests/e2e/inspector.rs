//! The flow inspector (`/flow`, issue 13): each step shows the values the provider really
//! received, the PKCE check holds for them, no secret is on the page, another browser sees
//! nothing, and refreshes and the logout's revocations join the record; the record exports as
//! JSON and Markdown with the same masking.

use std::{sync::Arc, time::Duration};

use base64::Engine;
use photo_connect::{config::Config, demo::provider::DemoSettings};
use reqwest::{StatusCode, cookie::Jar};

use crate::helpers::*;

/// The page's text with HTML escapes (`&#60;`, `&#x2f;`, `&quot;`, …) undone, so values compare
/// as sent.
fn text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|&e| e <= 8) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "quot" => Some('"'),
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            _ => entity
                .strip_prefix("#x")
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The section of the page for step `n` (from its `id` to the next step's).
fn step(page: &str, n: usize) -> &str {
    let start = page
        .find(&format!(r#"data-step="{n}""#))
        .unwrap_or_else(|| panic!("step {n} in {page}"));
    let rest = &page[start..];
    let end = rest
        .find(&format!(r#"data-step="{}""#, n + 1))
        .unwrap_or(rest.len());
    &rest[..end]
}

fn masked(secret: &str) -> String {
    format!("{}… ({} characters)", &secret[..6], secret.len())
}

async fn flow_page(app: &TestApp) -> String {
    let (status, headers, body) = app.get("/flow").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        headers
            .get("cache-control")
            .map(|v| v.to_str().unwrap_or("")),
        Some("no-store"),
        "a page with token prefixes is never cached"
    );
    text(&body)
}

#[tokio::test]
async fn the_flow_page_shows_what_the_provider_received_and_no_secret() {
    let app = spawn_app().await;
    let authorize = app.start_login().await;
    let state = param(&authorize, "state").expect("state");
    let transaction = app.open_consent(&authorize).await;
    let callback = app.answer_consent(&transaction, "alice", "approve").await;
    let code = param(&callback, "code").expect("code");
    // What the provider itself recorded for this code.
    let record = app.provider.state.tables().codes[&code].clone();
    let (status, _, _) = fetch(&app.client, callback).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = app.get("/photos").await;
    assert_eq!(status, StatusCode::OK);
    let access_token = app.provider.state.tables().access.keys().next().cloned();
    let refresh_token = app.provider.state.tables().refresh.keys().next().cloned();
    let page = flow_page(&app).await;

    // 1. The authorization request, parameter by parameter, as the provider got it.
    let authorize_step = step(&page, 1);
    let challenge = record.code_challenge.clone().expect("a challenge");
    for value in [
        record.client_id.as_str(),
        record.redirect_uri.as_str(),
        challenge.as_str(),
        state.as_str(),
        "S256",
        "photos",
    ] {
        assert!(
            authorize_step.contains(value),
            "{value} in {authorize_step}"
        );
    }
    // The PKCE check holds for the values shown: the hex SHA-256 shown is the challenge the
    // provider holds, and the provider found the verifier's S256 equal to it.
    let hex = authorize_step
        .split("<code class=\"value\">")
        .map(|s| s.split('<').next().unwrap_or(""))
        .find(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .expect("the SHA-256 in hex");
    let digest: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest),
        challenge
    );
    let seen = app.provider.state.token_requests();
    assert_eq!(seen[0].grant_type.as_deref(), Some("authorization_code"));
    assert_eq!(seen[0].pkce_verified, Some(true));
    assert!(
        !authorize_step.contains("class=\"failed\""),
        "every check passed"
    );

    // 2. The callback: the code masked, state and iss in full, each check passed.
    let callback_step = step(&page, 2);
    assert!(callback_step.contains(&masked(&code)), "{callback_step}");
    assert!(callback_step.contains(&state));
    assert!(callback_step.contains(&app.provider.issuer), "iss");
    assert!(callback_step.contains("single use"));

    // 3. The token request as sent and its response, masked, timed, with a curl to copy.
    let token_step = step(&page, 3);
    for expected in [
        "POST ",
        "/oauth/token",
        "grant_type",
        "authorization_code",
        "Basic (hidden",
        "HTTP 200",
        "\"token_type\": \"Bearer\"",
        "\"expires_in\"",
        " ms</span>",
    ] {
        assert!(token_step.contains(expected), "{expected} in {token_step}");
    }
    assert!(token_step.contains(&masked(&code)));
    assert!(page.contains("--data-urlencode 'code=<code>'"), "curl");

    // 4. The photos API call: Bearer masked.
    let photos_step = step(&page, 4);
    let access_token = access_token.expect("an access token");
    assert!(photos_step.contains(&format!("Bearer {}", masked(&access_token))));
    assert!(photos_step.contains("/api/photos") && photos_step.contains("HTTP 200"));
    assert!(
        photos_step.contains("bytes of photos, not kept"),
        "the photos themselves are not kept"
    );
    assert!(
        !photos_step.contains("/images/"),
        "no image URL in the record"
    );

    // No secret, full code, verifier or token anywhere.
    let mut secrets = vec![CLIENT_SECRET.to_owned(), code.clone(), access_token];
    secrets.extend(refresh_token);
    for secret in &secrets {
        assert!(!page.contains(secret.as_str()), "a secret on the page");
    }

    // Another browser sees nothing of it.
    let other = browser(Arc::new(Jar::default()));
    let (status, _, body) = fetch(&other, app.at("/flow")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Nothing recorded in this browser yet"),
        "{body}"
    );
    assert!(!text(&body).contains(&state) && !text(&body).contains(&challenge));

    // The home page and the photos page link to it.
    let (_, _, home) = app.get("/").await;
    assert!(home.contains(r#"id="flow-link" href="/flow""#));
    let (_, _, photos) = app.get("/photos").await;
    assert!(photos.contains(r#"id="flow-link" href="/flow""#));
    assert!(photos.contains("What just happened"));
}

#[tokio::test]
async fn a_refresh_and_the_logout_revocations_join_the_record() {
    let mut config = Config::for_tests();
    config.token_refresh_skew = Duration::ZERO;
    let mut settings = DemoSettings::for_tests();
    settings.access_token_ttl = Duration::from_secs(2);
    let app = spawn_app_with(config, settings).await;
    let photos = app.login_as("alice").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _, _) = app.get("/photos").await;
    assert_eq!(status, StatusCode::OK);
    let refresh_token = app.provider.state.tables().refresh.keys().next().cloned();

    let page = flow_page(&app).await;
    let refresh = step(&page, 5);
    assert!(
        refresh.contains("Refresh: the access token was about to expire"),
        "{refresh}"
    );
    assert!(refresh.contains("refresh_token") && refresh.contains("HTTP 200"));
    assert!(step(&page, 6).contains("A photos API call"));

    let old_cookie = app.session_cookie();
    let response = app.logout_from(&photos).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(!app.is_connected().await, "logged out");
    assert_ne!(app.session_cookie(), old_cookie, "a new session id");
    // The connected session's id is worthless: its record is gone from the store.
    let old_id: tower_sessions::session::Id =
        old_cookie.expect("a cookie").parse().expect("a session id");
    assert!(
        !app.sessions.contains(&old_id).await,
        "the old record is deleted"
    );
    let kept = app.sessions.records().await;
    assert!(
        kept.iter()
            .all(|r| !r.data.contains_key("auth.tokens") && !r.data.contains_key("csrf")),
        "no tokens or logout token survive the logout"
    );

    let page = flow_page(&app).await;
    assert!(page.contains("Logout: the refresh token revoked"), "{page}");
    assert!(page.contains("Logout: the access token revoked"));
    assert!(page.contains("/oauth/revoke") && page.contains("token_type_hint"));
    let refresh_token = refresh_token.expect("a refresh token");
    assert!(page.contains(&masked(&refresh_token)));
    assert!(!page.contains(refresh_token.as_str()));
    assert!(!page.contains(r#"id="back" class="button secondary" href="/photos""#));

    // The next sign-in replaces the record.
    app.login_as("bob").await;
    let page = flow_page(&app).await;
    assert!(!page.contains("Logout: the refresh token revoked"));
    assert!(page.contains(r#"data-step="4""#) && !page.contains(r#"data-step="5""#));
}

#[tokio::test]
async fn a_declined_sign_in_is_recorded_with_its_error() {
    let app = spawn_app().await;
    let authorize = app.start_login().await;
    let transaction = app.open_consent(&authorize).await;
    let callback = app.answer_consent(&transaction, "alice", "deny").await;
    let (status, _, _) = fetch(&app.client, callback).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let page = flow_page(&app).await;
    assert!(step(&page, 2).contains("access_denied"), "{page}");
    assert!(
        !page.contains(r#"data-step="3""#),
        "no token request was made"
    );
}

#[tokio::test]
async fn with_the_inspector_off_nothing_is_recorded_and_flow_is_not_found() {
    let mut config = Config::for_tests();
    config.flow_inspector = Some(false);
    let app = spawn_app_with(config, DemoSettings::for_tests()).await;
    let photos = app.login_as("alice").await;
    assert!(!photos.contains("flow-link"));
    for path in ["/flow", "/flow.json", "/flow.md"] {
        let (status, _, body) = app.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body.contains("The flow inspector is off"), "{path}: {body}");
    }
    let records = app.sessions.records().await;
    assert!(
        records
            .iter()
            .all(|r| !r.data.contains_key("inspector.flow")),
        "nothing recorded"
    );
}

#[tokio::test]
async fn the_record_stays_bounded_however_many_photos_views() {
    let app = spawn_app().await;
    app.login_as("alice").await;
    let size = || async {
        let records = app.sessions.records().await;
        let flow = records
            .iter()
            .find_map(|r| r.data.get("inspector.flow"))
            .expect("a record");
        serde_json::to_string(flow).expect("json").len()
    };
    let after_one = size().await;
    for _ in 0..30 {
        let (status, _, _) = app.get("/photos").await;
        assert_eq!(status, StatusCode::OK);
    }
    let after_many = size().await;
    println!("flow record: {after_one} bytes after one photos view, {after_many} after 31");
    assert!(after_many < 32 * 1024, "{after_many} bytes");
    let page = flow_page(&app).await;
    assert!(
        page.contains("19 earlier steps are no longer kept"),
        "{page}"
    );
    assert!(page.contains(r#"data-step="15""#) && !page.contains(r#"data-step="16""#));
}

#[tokio::test]
async fn after_logout_the_record_is_shown_only_for_a_few_minutes() {
    let mut config = Config::for_tests();
    config.pending_login_ttl = Duration::from_secs(1);
    let app = spawn_app_with(config, DemoSettings::for_tests()).await;
    let photos = app.login_as("alice").await;
    let response = app.logout_from(&photos).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        flow_page(&app)
            .await
            .contains("Logout: the access token revoked")
    );
    // Whole seconds: two seconds later the one-second window has certainly passed.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let page = flow_page(&app).await;
    assert!(
        page.contains("Nothing recorded in this browser yet"),
        "{page}"
    );
}

#[tokio::test]
async fn the_record_downloads_as_json_and_markdown_masked_with_an_anchor_per_step() {
    let app = spawn_app().await;
    let (status, _, body) = app.get("/flow.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing recorded yet");
    assert!(body.contains("<html"), "the friendly page: {body}");

    app.login_as("alice").await;
    let access_token = app.provider.state.tables().access.keys().next().cloned();
    let refresh_token = app.provider.state.tables().refresh.keys().next().cloned();
    let access_token = access_token.expect("an access token");

    let (status, headers, json) = app.get("/flow.json").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(
        header("content-disposition").as_deref(),
        Some(r#"attachment; filename="sign-in.json""#)
    );
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    let record: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let steps = record["steps"].as_array().expect("steps");
    let anchors: Vec<&str> = steps.iter().filter_map(|s| s["anchor"].as_str()).collect();
    assert_eq!(anchors, ["authorize", "callback", "token", "photos"]);
    let photos_headers = steps[3]["exchange"]["request_headers"].to_string();
    assert!(
        photos_headers.contains(&format!("Bearer {}", masked(&access_token))),
        "{photos_headers}"
    );

    let (status, headers, markdown) = app.get("/flow.md").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/markdown; charset=utf-8")
    );
    assert!(
        markdown.contains("<a id=\"token\"></a>\n\n## 3. The token request"),
        "{markdown}"
    );
    assert!(markdown.contains("(#photos) |"), "{markdown}");

    // The page links to both, and each step's number links to its anchor.
    let page = flow_page(&app).await;
    assert!(page.contains(r#"href="/flow.json""#) && page.contains(r#"href="/flow.md""#));
    assert!(page.contains(r#"id="token" data-step="3""#) && page.contains(r##"href="#token""##));

    let mut secrets = vec![CLIENT_SECRET.to_owned(), access_token];
    secrets.extend(refresh_token);
    for secret in &secrets {
        assert!(!json.contains(secret.as_str()) && !markdown.contains(secret.as_str()));
    }
    // Another browser downloads nothing of it.
    let other = browser(Arc::new(Jar::default()));
    let (status, _, _) = fetch(&other, app.at("/flow.json")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn with_private_key_jwt_the_record_names_the_assertion_but_never_shows_it() {
    let key = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let pem = key.to_sec1_pem(p256::pkcs8::LineEnding::LF).expect("PEM");
    let mut config = Config::for_tests();
    config.token_auth = photo_connect::config::TokenAuth::PrivateKeyJwt;
    config.client_key = photo_connect::config::ClientKey::from_pem(&pem);
    config.flow_inspector = Some(true);
    let app = spawn_app_as_configured(config, DemoSettings::for_tests()).await;
    app.login_as("alice").await;
    // Every assertion starts with these 24 characters: `{"alg":"ES256","ki` in base64url.
    let start = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","ki"#);
    let page = flow_page(&app).await;
    let (_, _, json) = app.get("/flow.json").await;
    let (_, _, markdown) = app.get("/flow.md").await;
    for shown in [&page, &json, &markdown] {
        assert!(shown.contains("client_assertion"), "the field is named");
        assert!(!shown.contains(&start), "an assertion is shown: {shown}");
        // Hidden, not masked: not even the prefix a token would keep (a JWT's `eyJhbG`).
        assert!(
            !shown.contains("eyJhbG"),
            "an assertion's prefix is shown: {shown}"
        );
    }
}
