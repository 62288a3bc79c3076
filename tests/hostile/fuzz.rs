//! C71: arbitrary requests against the whole router (in-process, no provider needed) never panic
//! and never answer 500: every malformed input gets a 4xx page.

use std::sync::OnceLock;

use axum::{body::Body, http::Request};
use oauth2::{AuthUrl, ClientSecret, TokenUrl};
use photo_connect::startup::App;
use photo_connect::{
    Application,
    config::{Config, ProviderConfig, ProviderSource},
};
use proptest::prelude::*;
use tower::ServiceExt;

/// One router for all cases; the provider URLs point at a closed loopback port (never reached:
/// no generated request carries a valid state).
fn router() -> &'static (tokio::runtime::Runtime, App) {
    static ROUTER: OnceLock<(tokio::runtime::Runtime, App)> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let router = runtime.block_on(async {
            let mut config = Config::for_tests();
            config.client_secret = Some(ClientSecret::new("s".into()));
            config.provider = ProviderSource::Explicit(ProviderConfig {
                name: Some("Fuzz".into()),
                auth_url: AuthUrl::new("http://127.0.0.1:9/authorize".into()).expect("url"),
                token_url: TokenUrl::new("http://127.0.0.1:9/token".into()).expect("url"),
                photos_api_url: url::Url::parse("http://127.0.0.1:9/photos").expect("url"),
                revocation_url: None,
                par_url: None,
                require_par: false,
                dpop_es256: false,
                issuer: Some("http://127.0.0.1:9".into()),
                require_iss: true,
                openid: None,
            });
            Application::bind(config)
                .await
                .expect("bind")
                .build_app()
                .expect("router")
        });
        (runtime, router)
    })
}

fn status_of(method: &str, uri: &str, cookie: &str, body: Vec<u8>) -> Option<u16> {
    let (runtime, router) = router();
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .ok()?; // not a valid HTTP request at all: nothing to send
    let response = runtime
        .block_on(router.clone().oneshot(request))
        .expect("infallible");
    Some(response.status().as_u16())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn c71_arbitrary_requests_get_4xx_pages_never_a_500(
        method in prop::sample::select(vec!["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"]),
        path in prop::sample::select(vec!["/", "/cb", "/photos", "/logout", "/healthz", "/static/app.css", "/nope"]),
        query in "[a-z_\\[\\]=&%0-9A-F+.~-]{0,80}",
        cookie in prop::sample::select(vec!["", "session=AAAAAAAAAAAAAAAAAAAAAA", "session=%%%", "session="]),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let uri = if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") };
        if let Some(status) = status_of(method, &uri, cookie, body) {
            prop_assert!(
                matches!(status, 200 | 303 | 400 | 403 | 404 | 405),
                "{method} {uri} with {cookie:?} answered {status}"
            );
        }
    }
}
