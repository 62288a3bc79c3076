//! Pages and headers every visitor sees (docs/requirements.md C74–C76).

use reqwest::{StatusCode, header};

use crate::helpers::*;

#[tokio::test]
async fn c74_every_html_response_has_the_security_headers() {
    let app = spawn_app().await;
    app.login_as("alice").await;
    for path in ["/", "/photos", "/cb?code=x", "/nope"] {
        let (_, headers, _) = app.get(path).await;
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        for directive in [
            "default-src 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(
            csp.contains(&format!("img-src 'self' {}", app.provider.issuer)),
            "{path}: images only from the photos API: {csp}"
        );
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        // `no-referrer` on the callback (its URL has the code); `same-origin` elsewhere, which
        // never sends a Referer to another origin and keeps `Origin` on our own form POSTs.
        let expected = if path.starts_with("/cb") {
            "no-referrer"
        } else {
            "same-origin"
        };
        assert_eq!(headers[header::REFERRER_POLICY], expected, "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store", "{path}");
        assert!(
            headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
            "{path}: no CORS (C76)"
        );
    }
}

#[tokio::test]
async fn unknown_paths_get_the_404_page() {
    let app = spawn_app().await;
    let (status, headers, body) = app.get("/does-not-exist").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(body.contains("Page not found") && body.contains(">Go to the home page</a>"));
}

#[tokio::test]
async fn static_assets_and_health_are_served() {
    let app = spawn_app().await;
    let (status, headers, css) = app.get("/static/app.css").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(
        headers[header::CACHE_CONTROL]
            .to_str()
            .expect("ascii")
            .contains("max-age")
    );
    assert!(css.contains(".grid"));
    let (status, headers, _) = app.get("/static/favicon.svg").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/svg+xml");
    let (status, headers, icon) = app.get("/favicon.ico").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "browsers ask for it whatever the page says"
    );
    assert_eq!(headers[header::CONTENT_TYPE], "image/svg+xml");
    assert!(icon.contains("<svg"));
    let (status, _, body) = app.get("/healthz").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
}

#[tokio::test]
async fn c05_the_redirect_uri_comes_from_configuration_not_the_host_header() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.at("/"))
        .header(header::HOST, "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .send()
        .await
        .expect("home");
    let authorize = connect_url(&response.text().await.expect("body"));
    assert_eq!(
        param(&authorize, "redirect_uri"),
        Some(app.at("/cb").to_string())
    );
}

#[tokio::test]
async fn the_provider_is_named_by_its_name_never_by_an_address() {
    let app = spawn_app().await;
    let (_, _, home) = app.get("/").await;
    assert!(
        home.contains("Connect your <strong>Demo Photos</strong> account"),
        "{home}"
    );
    assert!(!home.contains("127.0.0.1</strong>"));
}

#[tokio::test]
async fn a_browser_at_another_address_than_app_url_gets_a_banner_and_one_log_line() {
    let app = spawn_app().await;
    let (_, _, home) = app.get("/").await;
    assert!(!home.contains("setup-warning"), "at APP_URL: no banner");
    // The same server, reached as 127.0.0.1 instead of APP_URL's localhost.
    let port = app.url.port().expect("port");
    let other = format!("http://127.0.0.1:{port}/");
    for _ in 0..2 {
        let (status, _, home) = fetch(&app.client, url::Url::parse(&other).expect("url")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(home.contains(r#"id="setup-warning""#), "{home}");
        assert!(home.contains(&format!("<code>127.0.0.1:{port}</code>")));
        assert!(home.contains(&format!("<code>{}cb</code>", app.url)));
    }
    let logs = captured_logs();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| {
            l.contains("another address than APP_URL") && l.contains(&format!("127.0.0.1:{port}"))
        })
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "logged once, naming APP_URL and what was seen: {warnings:?}"
    );
    assert!(warnings[0].contains(app.url.as_str()));
}
