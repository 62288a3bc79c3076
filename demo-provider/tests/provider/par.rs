//! Pushed authorization requests (RFC 9126): the push needs client authentication and valid
//! parameters; its `request_uri` is short-lived, single use, bound to the client that pushed
//! it, and stands alone in the front channel; a client (or the whole server) may require it.

use std::time::Duration;

use demo_provider::DemoSettings;
use reqwest::{StatusCode, header};

use crate::helpers::*;

impl Provider {
    /// `POST /oauth/par` with `request`'s parameters, as `id:secret` over HTTP Basic.
    async fn push_as(&self, id: &str, secret: &str, params: &[(String, String)]) -> Reply {
        let request = self
            .http
            .post(self.url("/oauth/par"))
            .basic_auth(id, Some(secret))
            .form(params);
        Reply::from(request.send().await.expect("push")).await
    }

    async fn push(&self, request: &AuthRequest) -> String {
        let reply = self
            .push_as(CLIENT_ID, CLIENT_SECRET, &request.params)
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.json["request_uri"]
            .as_str()
            .expect("request_uri")
            .to_owned()
    }

    /// The authorization endpoint with only `client_id` and `request_uri`.
    async fn authorize_pushed(&self, client_id: &str, request_uri: &str) -> Reply {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client_id)
            .append_pair("request_uri", request_uri)
            .finish();
        self.authorize_raw(&query, None).await
    }
}

fn assert_refused(reply: &Reply, error: &str, status: StatusCode) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.error(), error, "{}", reply.body);
    assert!(
        is_error_charset(reply.description()),
        "{}",
        reply.description()
    );
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
}

#[tokio::test]
async fn a_pushed_request_signs_in_with_only_client_id_and_request_uri() {
    let provider = spawn().await;
    let request = AuthRequest::new();
    let reply = provider
        .push_as(CLIENT_ID, CLIENT_SECRET, &request.params)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(reply.json["expires_in"], 60);
    let request_uri = reply.json["request_uri"].as_str().expect("request_uri");
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));

    let page = provider.authorize_pushed(CLIENT_ID, request_uri).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let transaction = hidden_value(&page.body, "transaction").expect("a consent page");
    let cookie = set_cookie(&page.headers, "demo_as_browser").expect("browser cookie");
    let consent = Consent {
        transaction,
        cookie,
    };
    let answer = provider.answer(&consent, "alice", "approve").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let back = answer.params();
    assert_eq!(back["state"], "st-123", "the pushed state comes back");
    assert!(answer.location().as_str().starts_with(REDIRECT_URI));
    // The code is bound to the pushed challenge and redirect URI.
    let tokens = provider.redeem(&back["code"], &request.pkce.verifier).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
}

#[tokio::test]
async fn a_request_uri_works_once_and_only_alone_and_only_for_its_client() {
    let provider = spawn().await;
    let request_uri = provider.push(&AuthRequest::new()).await;

    // Another client's id: refused, and the request is not used up by it.
    let page = provider.authorize_pushed(OTHER_ID, &request_uri).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("pushed by another client"),
        "{}",
        page.body
    );

    // Extra parameters in the front channel are refused (RFC 9126 §4).
    let query = format!(
        "client_id={CLIENT_ID}&request_uri={}&scope=profile",
        urlencode(&request_uri)
    );
    let page = provider.authorize_raw(&query, None).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("only client_id and request_uri"),
        "{}",
        page.body
    );

    let page = provider.authorize_pushed(CLIENT_ID, &request_uri).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let again = provider.authorize_pushed(CLIENT_ID, &request_uri).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("already used"), "{}", again.body);

    let made_up = provider
        .authorize_pushed(CLIENT_ID, "urn:example:not-ours")
        .await;
    assert_eq!(made_up.status, StatusCode::BAD_REQUEST);
    assert!(made_up.body.contains("not issued by this server"));
}

#[tokio::test]
async fn an_expired_request_uri_is_refused() {
    let mut settings = settings();
    settings.par_ttl = Duration::from_secs(1);
    let provider = spawn_with(settings).await;
    let request_uri = provider.push(&AuthRequest::new()).await;
    // Time is counted in whole seconds: one second later the request_uri has expired.
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let page = provider.authorize_pushed(CLIENT_ID, &request_uri).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("expired"), "{}", page.body);
}

#[tokio::test]
async fn a_push_needs_client_authentication_and_valid_parameters() {
    let provider = spawn().await;
    let params = AuthRequest::new().params;

    let reply = provider.push_as(CLIENT_ID, "wrong-secret", &params).await;
    assert_refused(&reply, "invalid_client", StatusCode::UNAUTHORIZED);
    let unauthenticated = provider
        .http
        .post(provider.url("/oauth/par"))
        .form(&params)
        .send()
        .await
        .expect("push");
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    let cases = [
        (
            AuthRequest::new().add("request_uri", "urn:x"),
            "invalid_request",
            "must not be pushed",
        ),
        (
            AuthRequest::new().set("redirect_uri", "https://evil.example/cb"),
            "invalid_request",
            "redirect_uri",
        ),
        (
            AuthRequest::new().set("code_challenge_method", "plain"),
            "invalid_request",
            "S256",
        ),
        (
            AuthRequest::new().without("code_challenge"),
            "invalid_request",
            "code_challenge",
        ),
        (
            AuthRequest::new().set("response_type", "token"),
            "unsupported_response_type",
            "response_type",
        ),
        (
            AuthRequest::new().set("scope", "admin"),
            "invalid_scope",
            "scope",
        ),
    ];
    for (request, error, mentions) in cases {
        let reply = provider
            .push_as(CLIENT_ID, CLIENT_SECRET, &request.params)
            .await;
        assert_refused(&reply, error, StatusCode::BAD_REQUEST);
        assert!(reply.description().contains(mentions), "{}", reply.body);
    }
    assert!(provider.state.tables().pushed.is_empty(), "nothing kept");
}

#[tokio::test]
async fn a_client_that_requires_par_cannot_use_the_front_channel() {
    let mut settings = settings();
    settings.clients[0].require_par = true;
    let provider = spawn_with(settings).await;
    let page = provider.authorize(&AuthRequest::new()).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("must push its authorization request"),
        "{}",
        page.body
    );
    assert!(page.header(header::LOCATION).is_none(), "not redirected");
    let other = AuthRequest::for_client(OTHER_ID, OTHER_REDIRECT);
    assert_eq!(provider.authorize(&other).await.status, StatusCode::OK);
    let request_uri = provider.push(&AuthRequest::new()).await;
    let page = provider.authorize_pushed(CLIENT_ID, &request_uri).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
}

#[tokio::test]
async fn a_server_that_requires_par_says_so_in_its_metadata() {
    let mut settings = settings();
    settings.require_par = true;
    let provider = spawn_with(settings).await;
    let metadata = provider
        .http
        .get(provider.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("metadata")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    assert_eq!(metadata["require_pushed_authorization_requests"], true);
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        provider.url("/oauth/par")
    );
    let other = AuthRequest::for_client(OTHER_ID, OTHER_REDIRECT);
    assert_eq!(
        provider.authorize(&other).await.status,
        StatusCode::BAD_REQUEST
    );
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn pushed_requests_waiting_are_capped() {
    let provider = spawn_with(DemoSettings {
        max_pending: 1,
        ..settings()
    })
    .await;
    provider.push(&AuthRequest::new()).await;
    let reply = provider
        .push_as(CLIENT_ID, CLIENT_SECRET, &AuthRequest::new().params)
        .await;
    assert_refused(
        &reply,
        "temporarily_unavailable",
        StatusCode::SERVICE_UNAVAILABLE,
    );
    assert_eq!(provider.state.tables().pushed.len(), 1);
}

#[tokio::test]
async fn at_the_cap_an_expired_pushed_request_makes_room_for_a_new_one() {
    // A zero lifetime: each pushed request has expired as soon as it is stored.
    let provider = spawn_with(DemoSettings {
        max_pending: 1,
        par_ttl: Duration::ZERO,
        ..settings()
    })
    .await;
    // Let the purger's first (immediate) tick pass, so that the endpoint, not the purger, is
    // what must clear the expired request.
    tokio::time::sleep(Duration::from_millis(50)).await;
    provider.push(&AuthRequest::new()).await;
    provider.push(&AuthRequest::new()).await;
    assert_eq!(provider.state.tables().pushed.len(), 1);
}
