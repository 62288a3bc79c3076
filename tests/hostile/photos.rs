//! A misbehaving photos API (docs/requirements.md C54, C57–C60).

use reqwest::StatusCode;

use crate::{
    mock::{Mock, Reply, connected, insufficient_scope},
    support::*,
};

#[tokio::test]
async fn c54_the_token_goes_only_in_the_authorization_header() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    mock.photos_reply(Reply::Json(
        200,
        format!(
            r#"{{"photos":[{{"id":"1","title":"Lake","url":"{}/img/1.png"}}]}}"#,
            mock.url
        ),
    ));
    let (status, _, page) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Your photos (1)") && page.contains("Lake"));
    let requests = mock.hits("/photos");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].headers["authorization"], "Bearer at-GOOD-1");
    assert!(
        requests[0].query.is_none() && requests[0].body.is_empty(),
        "never in the URL or body"
    );
    assert!(
        !page.contains("at-GOOD-1") && !page.contains("rt-GOOD-1"),
        "tokens never reach HTML"
    );
}

#[tokio::test]
async fn c57_insufficient_scope_shows_missing_permission_and_keeps_the_connection() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    mock.photos_reply(insufficient_scope());
    let (status, _, page) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("Missing permission"));
    assert!(app.is_connected().await);
    assert!(
        mock.token_requests("refresh_token").is_empty(),
        "a new token would have the same scope"
    );
}

#[tokio::test]
async fn c58_a_401_with_any_www_authenticate_asks_to_reconnect_and_forgets_the_token() {
    let mock = Mock::start().await;
    for header in [
        "",
        ",",
        "Scheme, realm=\"foo\"",
        "Bearer error=\"invalid_token",
        &"x".repeat(10_000),
        r#"Bearer error="invalid_token""#,
    ] {
        let app = connected(&mock).await;
        mock.photos_reply(Reply::Raw {
            status: 401,
            content_type: "text/plain",
            body: String::new(),
            headers: vec![("www-authenticate", header.to_owned())],
        });
        let (status, _, page) = fetch(&app.client, app.at("/photos")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header:.20}");
        assert!(page.contains("Your connection has expired"));
        assert!(!app.is_connected().await, "the dead token is forgotten");
    }
}

#[tokio::test]
async fn c59_a_redirect_from_the_photos_api_is_not_followed() {
    let mock = Mock::start().await;
    let attacker = Mock::start().await;
    let app = connected(&mock).await;
    mock.photos_reply(Reply::Redirect(302, format!("{}/steal", attacker.url)));
    let (status, _, _) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(
        attacker.seen().is_empty(),
        "the bearer token never reached another origin"
    );
}

#[tokio::test]
async fn c60_hostile_titles_are_escaped_and_bad_urls_dropped() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    let body = serde_json::json!({"photos": [
        {"id": "1", "title": "<img src=x onerror=alert(1)>", "url": format!("{}/img/1.png", mock.url)},
        {"id": "2", "title": "js", "url": "javascript:alert(2)"},
        {"id": "3", "title": "data", "url": "data:image/svg+xml,<svg onload=alert(3)>"},
        {"id": "4", "title": "elsewhere", "url": "https://tracker.example/pixel.gif"},
        {"id": "5", "title": "\"><script>alert(5)</script>", "url": format!("{}/img/5.png\"onerror=\"alert(5)", mock.url)},
    ]});
    mock.photos_reply(Reply::Json(200, body.to_string()));
    let (status, _, page) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::OK);
    for hostile in [
        "<img src=x",
        "javascript:",
        "data:image",
        "tracker.example",
        "<script>",
        "\"onerror",
    ] {
        assert!(!page.contains(hostile), "{hostile} in page");
    }
    assert!(
        page.contains("&#60;img src=x onerror=alert(1)&#62;") || page.contains("&lt;img"),
        "the title is shown, escaped"
    );
}

#[tokio::test]
async fn c60_many_photos_are_capped_and_a_huge_body_is_refused() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    let items: Vec<_> = (0..2000).map(|i| serde_json::json!({"id": i.to_string(), "title": "p", "url": format!("{}/{i}.png", mock.url)})).collect();
    mock.photos_reply(Reply::Json(
        200,
        serde_json::json!({ "photos": items }).to_string(),
    ));
    let (status, _, page) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("Your photos ({})", photo_connect::MAX_PHOTOS)));

    mock.photos_reply(Reply::Huge(3 * 1024 * 1024));
    let (status, _, page) = fetch(&app.client, app.at("/photos")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(page.contains("photos service is not working"));
}

#[tokio::test]
async fn photos_api_failures_map_to_clear_pages() {
    let mock = Mock::start().await;
    let app = connected(&mock).await;
    let cases = [
        (
            Reply::Raw {
                status: 500,
                content_type: "text/html",
                body: "<h1>oops</h1>".into(),
                headers: vec![],
            },
            StatusCode::BAD_GATEWAY,
        ),
        (
            Reply::Json(200, "{not json".into()),
            StatusCode::BAD_GATEWAY,
        ),
        (Reply::Endless, StatusCode::BAD_GATEWAY),
        (Reply::Silent, StatusCode::GATEWAY_TIMEOUT),
    ];
    for (reply, expected) in cases {
        mock.photos_reply(reply.clone());
        let (status, _, page) = fetch(&app.client, app.at("/photos")).await;
        assert_eq!(status, expected, "{reply:?}");
        assert!(
            page.contains(r#"href="/photos">Try again</a>"#),
            "a passing fault offers to try again: {reply:?}"
        );
        assert!(
            app.is_connected().await,
            "a provider outage keeps the tokens: {reply:?}"
        );
    }
}
