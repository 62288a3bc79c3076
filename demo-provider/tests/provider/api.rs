//! The photos API, a bearer-protected resource server (A51–A56).

use std::time::Duration;

use demo_provider::DemoSettings;
use reqwest::{StatusCode, header};

use crate::helpers::*;

fn challenge(reply: &Reply) -> &str {
    reply.header(header::WWW_AUTHENTICATE).unwrap_or("")
}

#[tokio::test]
async fn a51_no_token_gets_a_bearer_challenge_without_error_code() {
    let provider = spawn().await;
    let reply = Reply::from(
        provider
            .http
            .get(provider.url("/api/photos"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&reply), r#"Bearer realm="demo-photos""#);
    assert!(!challenge(&reply).contains("error"));
}

#[tokio::test]
async fn a52_garbage_expired_revoked_and_refresh_tokens_are_invalid_token() {
    let provider = spawn_with(DemoSettings {
        access_token_ttl: Duration::from_secs(1),
        ..settings()
    })
    .await;
    let (expiring, refresh) = provider.tokens().await;
    let (revoked, _) = provider.tokens().await;
    let reply = provider
        .revoke_as(CLIENT_ID, CLIENT_SECRET, &[("token", &revoked)])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_secs(2)).await;
    // A refresh token is not an access token ("other audience").
    for token in [
        "garbage",
        expiring.as_str(),
        revoked.as_str(),
        refresh.as_str(),
    ] {
        let reply = provider.photos(token).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(
            challenge(&reply),
            r#"Bearer realm="demo-photos", error="invalid_token""#
        );
    }
}

#[tokio::test]
async fn a53_a_token_without_the_photos_scope_is_insufficient_scope() {
    let provider = spawn().await;
    let (access, _) = provider.tokens_with_scope("profile").await;
    let reply = provider.photos(&access).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        challenge(&reply),
        r#"Bearer realm="demo-photos", error="insufficient_scope", scope="photos""#
    );
}

#[tokio::test]
async fn a54_a_token_in_the_query_is_ignored() {
    let provider = spawn().await;
    let (access, _) = provider.tokens().await;
    let reply = Reply::from(
        provider
            .http
            .get(format!(
                "{}?access_token={access}",
                provider.url("/api/photos")
            ))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&reply), r#"Bearer realm="demo-photos""#);
}

#[tokio::test]
async fn a55_two_ways_of_sending_the_token_is_invalid_request() {
    let provider = spawn().await;
    let (access, _) = provider.tokens().await;
    let header_and_body = provider
        .http
        .get(provider.url("/api/photos"))
        .bearer_auth(&access)
        .form(&[("access_token", access.as_str())]);
    // Pinned: the header plus a query token is two methods as well.
    let header_and_query = provider
        .http
        .get(format!(
            "{}?access_token={access}",
            provider.url("/api/photos")
        ))
        .bearer_auth(&access);
    for request in [header_and_body, header_and_query] {
        let reply = Reply::from(request.send().await.expect("get")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            challenge(&reply),
            r#"Bearer realm="demo-photos", error="invalid_request""#
        );
    }
    assert_eq!(provider.photos(&access).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a52_an_access_token_is_refused_from_the_second_it_expires() {
    // A zero lifetime: the token's expiry is the second it was issued in, and from then on
    // it is expired (only a token whose expiry is still ahead is valid).
    let provider = spawn_with(DemoSettings {
        access_token_ttl: Duration::ZERO,
        ..settings()
    })
    .await;
    let (access, _) = provider.tokens().await;
    let reply = provider.photos(&access).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert_eq!(
        challenge(&reply),
        r#"Bearer realm="demo-photos", error="invalid_token""#
    );
}

#[tokio::test]
async fn a55_only_a_form_body_that_carries_an_access_token_is_a_second_way() {
    let provider = spawn().await;
    let (access, _) = provider.tokens().await;
    // A form body without access_token, and a body that is not a form however it reads.
    let other_form = provider
        .http
        .get(provider.url("/api/photos"))
        .bearer_auth(&access)
        .form(&[("view", "grid")]);
    let not_a_form = provider
        .http
        .get(provider.url("/api/photos"))
        .bearer_auth(&access)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(format!("access_token={access}"));
    for request in [other_form, not_a_form] {
        let reply = Reply::from(request.send().await.expect("get")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
}

#[tokio::test]
async fn a55_a_query_token_behind_kilobytes_of_other_parameters_is_still_a_second_way() {
    let provider = spawn().await;
    let (access, _) = provider.tokens().await;
    // Up to 64 KiB of query is read for an access_token; here it comes after 4 KiB of padding.
    let url = format!(
        "{}?pad={}&access_token={access}",
        provider.url("/api/photos"),
        "a".repeat(4096)
    );
    let request = provider.http.get(url).bearer_auth(&access);
    let reply = Reply::from(request.send().await.expect("get")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(
        challenge(&reply),
        r#"Bearer realm="demo-photos", error="invalid_request""#
    );
}

#[tokio::test]
async fn a56_the_bearer_scheme_is_case_insensitive() {
    let provider = spawn().await;
    let (access, _) = provider.tokens().await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let reply = provider.photos_with(scheme, &access).await;
        assert_eq!(reply.status, StatusCode::OK, "{scheme}");
        assert_eq!(reply.json["photos"].as_array().map(Vec::len), Some(3));
    }
    // Another scheme is a malformed request, not a token.
    let reply = provider.photos_with("Basic", &access).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}
