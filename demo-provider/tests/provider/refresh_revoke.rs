//! Refresh tokens (A43–A46) and revocation (A47–A50).

use std::time::Duration;

use demo_provider::DemoSettings;
use reqwest::{StatusCode, header};

use crate::helpers::*;

fn at_rt(reply: &Reply) -> (String, String) {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    (
        reply.json["access_token"].as_str().expect("at").to_owned(),
        reply.json["refresh_token"].as_str().expect("rt").to_owned(),
    )
}

fn assert_invalid_grant(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.error(), "invalid_grant", "{}", reply.body);
}

#[tokio::test]
async fn a43_reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let provider = spawn().await;
    let (at1, rt1) = provider.tokens().await;
    let (at2, rt2) = at_rt(&provider.refresh(&rt1).await);
    assert_ne!(rt1, rt2, "rotated");
    assert_eq!(provider.photos(&at2).await.status, StatusCode::OK);

    let reuse = provider.refresh(&rt1).await;
    assert_invalid_grant(&reuse);
    assert!(reuse.description().contains("already used"));
    // The attacker's (or victim's) newer tokens die with the family.
    assert_invalid_grant(&provider.refresh(&rt2).await);
    for access in [&at1, &at2] {
        assert_eq!(
            provider.photos(access).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn a44_a_refresh_token_is_bound_to_its_client() {
    let provider = spawn().await;
    let (_, rt) = provider.tokens().await;
    assert_invalid_grant(&provider.refresh_as(OTHER_ID, OTHER_SECRET, &rt).await);
    // Not revoked or rotated by the attempt.
    at_rt(&provider.refresh(&rt).await);
}

#[tokio::test]
async fn a45_a_refresh_cannot_widen_the_scope() {
    let provider = spawn().await;
    let (_, rt) = provider.tokens_with_scope("photos").await;
    let wider = provider
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("scope", "photos profile"),
        ])
        .await;
    assert_eq!(wider.status, StatusCode::BAD_REQUEST);
    assert_eq!(wider.error(), "invalid_scope");
    // Narrowing is fine; the new refresh token keeps the whole grant.
    let (_, rt) = provider.tokens_with_scope("photos profile").await;
    let narrower = provider
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("scope", "profile"),
        ])
        .await;
    let (at, rt) = at_rt(&narrower);
    assert_eq!(narrower.json["scope"], "profile");
    assert_eq!(provider.photos(&at).await.status, StatusCode::FORBIDDEN);
    let again = provider.refresh(&rt).await;
    assert_eq!(again.json["scope"], "photos profile");
}

#[tokio::test]
async fn a46_an_expired_refresh_token_is_invalid_grant() {
    let provider = spawn_with(DemoSettings {
        refresh_token_ttl: Duration::from_secs(1),
        ..settings()
    })
    .await;
    let (_, rt) = provider.tokens().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_invalid_grant(&provider.refresh(&rt).await);
}

#[tokio::test]
async fn a47_revoking_a_refresh_token_revokes_its_grant() {
    let provider = spawn().await;
    let (at, rt) = provider.tokens().await;
    let reply = provider
        .revoke_as(
            CLIENT_ID,
            CLIENT_SECRET,
            &[("token", &rt), ("token_type_hint", "refresh_token")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    assert_invalid_grant(&provider.refresh(&rt).await);
    assert_eq!(provider.photos(&at).await.status, StatusCode::UNAUTHORIZED);

    // Revoking an access token ends that token only (RFC 7009 §2.1 leaves the rest open).
    let (at, rt) = provider.tokens().await;
    let reply = provider
        .revoke_as(CLIENT_ID, CLIENT_SECRET, &[("token", &at)])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(provider.photos(&at).await.status, StatusCode::UNAUTHORIZED);
    at_rt(&provider.refresh(&rt).await);
}

#[tokio::test]
async fn a48_unknown_tokens_and_bogus_hints_answer_200() {
    let provider = spawn().await;
    let reply = provider
        .revoke_as(CLIENT_ID, CLIENT_SECRET, &[("token", "never-issued")])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    // A wrong or unknown hint is ignored: the token is still found and revoked.
    let (at, rt) = provider.tokens().await;
    for hint in ["bogus", "access_token"] {
        let reply = provider
            .revoke_as(
                CLIENT_ID,
                CLIENT_SECRET,
                &[("token", &rt), ("token_type_hint", hint)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    assert_invalid_grant(&provider.refresh(&rt).await);
    assert_eq!(provider.photos(&at).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a49_another_clients_token_is_refused_and_not_revoked() {
    let provider = spawn().await;
    let (at, rt) = provider.tokens().await;
    for token in [&rt, &at] {
        let reply = provider
            .revoke_as(OTHER_ID, OTHER_SECRET, &[("token", token)])
            .await;
        // Pinned: 400 invalid_request (RFC 7009 §2.1 says refuse; no dedicated code exists).
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.error(), "invalid_request");
    }
    assert_eq!(provider.photos(&at).await.status, StatusCode::OK);
    at_rt(&provider.refresh(&rt).await);
}

#[tokio::test]
async fn a50_revocation_needs_client_authentication_and_post() {
    let provider = spawn().await;
    let (at, _) = provider.tokens().await;
    let anonymous = Reply::from(
        provider
            .http
            .post(provider.url("/oauth/revoke"))
            .form(&[("token", at.as_str())])
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.error(), "invalid_client");
    let wrong = provider
        .revoke_as(CLIENT_ID, "wrong", &[("token", &at)])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .header(header::WWW_AUTHENTICATE)
            .is_some_and(|c| c.starts_with("Basic"))
    );
    let get = provider
        .http
        .get(provider.url("/oauth/revoke"))
        .send()
        .await
        .expect("get");
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        provider.photos(&at).await.status,
        StatusCode::OK,
        "nothing revoked"
    );
}

#[tokio::test]
async fn the_refresh_delay_holds_back_refreshes_and_nothing_else() {
    let delay = Duration::from_millis(700);
    let provider = spawn_with(DemoSettings {
        refresh_delay: delay,
        ..settings()
    })
    .await;
    let (code, request) = provider.code().await;
    let started = std::time::Instant::now();
    let reply = provider.redeem(&code, &request.pkce.verifier).await;
    assert!(started.elapsed() < delay, "a code exchange is not delayed");
    let (_, refresh) = at_rt(&reply);
    let started = std::time::Instant::now();
    // The refresh token is rotated first; only the answer is held back.
    let rotated = async {
        while !provider
            .state
            .tables()
            .refresh
            .get(&refresh)
            .is_some_and(|r| r.rotated)
        {
            assert!(started.elapsed() < delay * 5, "never rotated");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        started.elapsed()
    };
    let (reply, rotated_after) = tokio::join!(provider.refresh(&refresh), rotated);
    assert!(started.elapsed() >= delay, "a refresh waits the delay");
    assert!(rotated_after < delay, "rotated before the answer is held");
    at_rt(&reply);
}
