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
    assert!(body.contains("Page not found") && body.contains("Start again"));
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
