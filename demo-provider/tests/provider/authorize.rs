//! The authorization endpoint (A03–A16, A23): what is shown as an error page, what is sent back
//! to the client as a redirect, and that `state` and `iss` come back exactly.

use reqwest::{StatusCode, header};

use crate::helpers::*;

/// An error page: 400 HTML, no `Location`, nothing of `needle` rendered.
fn assert_error_page(reply: &Reply, needle: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(
        reply.header(header::LOCATION).is_none(),
        "an untrusted request must not be redirected"
    );
    assert!(
        reply
            .header(header::CONTENT_TYPE)
            .is_some_and(|t| t.starts_with("text/html"))
    );
    if !needle.is_empty() {
        assert!(!reply.body.contains(needle), "{needle} is rendered");
    }
}

/// A 303 back to `redirect_uri` carrying `error`, the request's state and `iss`, and no code.
fn assert_redirected_error(provider: &Provider, reply: &Reply, redirect_uri: &str, error: &str) {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.location();
    assert!(
        location.as_str().starts_with(redirect_uri),
        "{location} is not at {redirect_uri}"
    );
    assert!(location.fragment().is_none());
    let params = reply.params();
    assert_eq!(params.get("error").map(String::as_str), Some(error));
    assert_eq!(params.get("iss"), Some(&provider.issuer));
    assert!(!params.contains_key("code") && !params.contains_key("access_token"));
    let description = params.get("error_description").expect("a description");
    assert!(is_error_charset(description), "{description}");
    assert!(description.contains("RFC"), "teaching: {description}");
}

#[tokio::test]
async fn a03_unknown_client_gets_an_error_page_and_no_redirect() {
    let provider = spawn().await;
    // A redirect URI registered for another client, or any other: never redirected to.
    for redirect_uri in [REDIRECT_URI, "https://attacker.example/cb"] {
        let reply = provider
            .authorize(
                &AuthRequest::new()
                    .set("client_id", "nope<script>")
                    .set("redirect_uri", redirect_uri),
            )
            .await;
        assert_error_page(&reply, redirect_uri);
        assert!(!reply.body.contains("<script>"));
        assert!(
            reply.body.contains("client_id is not registered"),
            "{}",
            reply.body
        );
    }
    assert!(provider.state.tables().transactions.is_empty());
}

#[tokio::test]
async fn a04_missing_client_id_gets_an_error_page() {
    let provider = spawn().await;
    let reply = provider
        .authorize(&AuthRequest::new().without("client_id"))
        .await;
    assert_error_page(&reply, "client.example");
    // An empty value counts as missing (OAuth 2.1 §3.1).
    let reply = provider
        .authorize(&AuthRequest::new().set("client_id", ""))
        .await;
    assert_error_page(&reply, "client.example");
}

#[tokio::test]
async fn a05_every_near_miss_of_the_redirect_uri_gets_an_error_page() {
    let provider = spawn().await;
    let variants = [
        "https://evil.example/cb",
        "https://client.example/cb/",
        "https://CLIENT.example/cb",
        "https://client.example/CB",
        "https://client.example:443/cb",
        "https://client.example/cb?x=1",
        "https://client.example/cb#frag",
        "https://client.example/cb/../evil",
        "https://client.example/cb%2F",
        "https://client.example/%63b",
        "https://client.example%2Fcb",
        "https://client.example@evil.example/cb",
        "https://client.example.evil.example/cb",
        "https:\\\\client.example\\cb",
        "http://client.example/cb",
        "https://client.example/cb ",
        "//client.example/cb",
    ];
    for variant in variants {
        let reply = provider
            .authorize(&AuthRequest::new().set("redirect_uri", variant))
            .await;
        assert_error_page(&reply, variant);
    }
    // A registered URI with a query: another query value is another URI.
    let reply = provider
        .authorize(&AuthRequest::for_client(
            OTHER_ID,
            "https://other.example/cb?tenant=2",
        ))
        .await;
    assert_error_page(&reply, "tenant=2");
    // The exact string works, query and all.
    let code = provider
        .code_for(&AuthRequest::for_client(OTHER_ID, OTHER_REDIRECT))
        .await;
    assert!(!code.is_empty());
}

#[tokio::test]
async fn a06_redirect_uri_is_required_when_several_are_registered() {
    let provider = spawn().await;
    let several = AuthRequest::for_client(OTHER_ID, OTHER_REDIRECT).without("redirect_uri");
    assert_error_page(&provider.authorize(&several).await, "");
    // With one registered URI, omitting it is fine (RFC 6749 §3.1.2.3).
    let one = AuthRequest::new().without("redirect_uri");
    assert_eq!(provider.authorize(&one).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a07_response_type_token_is_refused_by_redirect_without_tokens() {
    let provider = spawn().await;
    for response_type in ["token", "code token", "id_token", "CODE"] {
        let reply = provider
            .authorize(&AuthRequest::new().set("response_type", response_type))
            .await;
        assert_redirected_error(&provider, &reply, REDIRECT_URI, "unsupported_response_type");
        assert_eq!(reply.params()["state"], "st-123");
    }
}

#[tokio::test]
async fn a08_missing_response_type_is_invalid_request() {
    let provider = spawn().await;
    let reply = provider
        .authorize(&AuthRequest::new().without("response_type"))
        .await;
    assert_redirected_error(&provider, &reply, REDIRECT_URI, "invalid_request");
}

#[tokio::test]
async fn a09_missing_code_challenge_is_invalid_request_and_mints_nothing() {
    let provider = spawn().await;
    let reply = provider
        .authorize(&AuthRequest::new().without("code_challenge"))
        .await;
    assert_redirected_error(&provider, &reply, REDIRECT_URI, "invalid_request");
    assert!(reply.params()["error_description"].contains("code_challenge"));
    let tables = provider.state.tables();
    assert!(tables.transactions.is_empty() && tables.codes.is_empty());
}

#[tokio::test]
async fn a10_plain_pkce_is_refused() {
    let provider = spawn().await;
    for method in ["plain", "s256", "S512"] {
        let request = AuthRequest::new();
        let verifier = request.pkce.verifier.clone();
        let reply = provider
            .authorize(
                &request
                    .set("code_challenge", &verifier)
                    .set("code_challenge_method", method),
            )
            .await;
        assert_redirected_error(&provider, &reply, REDIRECT_URI, "invalid_request");
    }
}

#[tokio::test]
async fn a11_a_challenge_without_method_means_plain_and_is_refused() {
    let provider = spawn().await;
    let reply = provider
        .authorize(&AuthRequest::new().without("code_challenge_method"))
        .await;
    assert_redirected_error(&provider, &reply, REDIRECT_URI, "invalid_request");
    assert!(reply.params()["error_description"].contains("plain"));
}

#[tokio::test]
async fn a12_malformed_challenges_are_refused() {
    let provider = spawn().await;
    let good = Pkce::new().challenge;
    for bad in [
        "a".repeat(42),
        "a".repeat(44),
        "a".repeat(129),
        format!("{}=", &good[..42]),
        format!("{}+", &good[..42]),
        format!("{}/", &good[..42]),
        format!("{} ", &good[..42]),
        format!("{}é", &good[..41]),
    ] {
        let reply = provider
            .authorize(&AuthRequest::new().set("code_challenge", &bad))
            .await;
        assert_redirected_error(&provider, &reply, REDIRECT_URI, "invalid_request");
    }
}

#[tokio::test]
async fn a13_repeated_parameters_are_refused() {
    let provider = spawn().await;
    // Ambiguous target: no redirect at all.
    for name in ["client_id", "redirect_uri"] {
        let request = AuthRequest::new();
        let value = request
            .params
            .iter()
            .find(|(k, _)| k == name)
            .expect("set")
            .1
            .clone();
        let reply = provider.authorize(&request.add(name, &value)).await;
        assert_error_page(&reply, "");
    }
    // Otherwise invalid_request back at the client, naming the parameter.
    for (name, value) in [
        ("state", "st-123"),
        ("code_challenge", &Pkce::new().challenge),
        ("scope", "photos"),
        ("response_type", "code"),
        ("code_challenge_method", "S256"),
    ] {
        let reply = provider
            .authorize(&AuthRequest::new().add(name, value))
            .await;
        assert_redirected_error(&provider, &reply, REDIRECT_URI, "invalid_request");
        let params = reply.params();
        assert!(params["error_description"].contains(name), "{name}");
        if name == "state" {
            assert!(
                !params.contains_key("state"),
                "an ambiguous state is not echoed"
            );
        }
    }
    assert!(provider.state.tables().transactions.is_empty());
}

#[tokio::test]
async fn a14_unknown_scope_is_invalid_scope() {
    let provider = spawn().await;
    for scope in ["admin", "photos admin", "PHOTOS"] {
        let reply = provider
            .authorize(&AuthRequest::new().set("scope", scope))
            .await;
        assert_redirected_error(&provider, &reply, REDIRECT_URI, "invalid_scope");
    }
}

#[tokio::test]
async fn a15_state_is_echoed_exactly_and_limited_to_1024_bytes() {
    let provider = spawn().await;
    let states = [
        "+/=%&#?".to_owned(),
        "état ☃ 日本 \"quoted\" <b>".to_owned(),
        "s".repeat(512),
        "x".repeat(1024),
    ];
    for state in &states {
        let request = AuthRequest::new().set("state", state);
        let consent = provider.open_consent(&request).await;
        let reply = provider.answer(&consent, "alice", "approve").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        let pairs = pairs(&reply.location());
        let echoed: Vec<_> = pairs.iter().filter(|(k, _)| k == "state").collect();
        assert_eq!(echoed.len(), 1);
        assert_eq!(&echoed[0].1, state, "byte-exact after one decoding");
    }
    // Pinned limit: more than 1024 bytes is invalid_request.
    let reply = provider
        .authorize(&AuthRequest::new().set("state", &"x".repeat(1025)))
        .await;
    assert_redirected_error(&provider, &reply, REDIRECT_URI, "invalid_request");
    assert!(reply.params()["error_description"].contains("1024"));
    // No state in the request, no state in the response.
    let request = AuthRequest::new().without("state");
    let consent = provider.open_consent(&request).await;
    let reply = provider.answer(&consent, "alice", "approve").await;
    assert!(!reply.params().contains_key("state"));
    let reply = provider
        .authorize(&AuthRequest::new().without("state").set("scope", "admin"))
        .await;
    assert!(!reply.params().contains_key("state"));
}

#[tokio::test]
async fn a16_iss_is_on_every_authorization_response() {
    let provider = spawn().await;
    let encoded_issuer: String =
        url::form_urlencoded::byte_serialize(provider.issuer.as_bytes()).collect();
    let mut replies = Vec::new();
    // Success and deny.
    for decision in ["approve", "deny"] {
        let consent = provider.open_consent(&AuthRequest::new()).await;
        replies.push(provider.answer(&consent, "alice", decision).await);
    }
    // Every kind of redirected error.
    for request in [
        AuthRequest::new().set("response_type", "token"),
        AuthRequest::new().without("response_type"),
        AuthRequest::new().without("code_challenge"),
        AuthRequest::new().set("code_challenge_method", "plain"),
        AuthRequest::new().set("scope", "admin"),
        AuthRequest::new().add("state", "again"),
        AuthRequest::new().set("state", &"x".repeat(1025)),
    ] {
        replies.push(provider.authorize(&request).await);
    }
    for reply in replies {
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let location = reply.location();
        let iss: Vec<_> = pairs(&location)
            .into_iter()
            .filter(|(k, _)| k == "iss")
            .collect();
        assert_eq!(iss, vec![("iss".to_owned(), provider.issuer.clone())]);
        assert!(
            location
                .query()
                .is_some_and(|q| q.contains(&format!("iss={encoded_issuer}"))),
            "form-encoded: {location}"
        );
    }
}

#[tokio::test]
async fn a17_deny_returns_access_denied_with_state_and_iss_and_no_code() {
    let provider = spawn().await;
    let consent = provider.open_consent(&AuthRequest::new()).await;
    let reply = provider.answer(&consent, "alice", "deny").await;
    assert_redirected_error(&provider, &reply, REDIRECT_URI, "access_denied");
    assert_eq!(reply.params()["state"], "st-123");
    assert!(provider.state.tables().codes.is_empty());
}

#[tokio::test]
async fn a23_unknown_parameters_are_ignored() {
    let provider = spawn().await;
    let request = AuthRequest::new()
        .add("foo", "bar")
        .add("resource", "https://api.example")
        .add("prompt", "consent")
        .add("nonce", "n-1");
    let code = provider.code_for(&request).await;
    let reply = provider.redeem(&code, &request.pkce.verifier).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}
