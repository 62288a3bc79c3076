//! Per-source bounds over real HTTP: the provider tells sources apart by their peer address
//! (here 127.0.0.2 against the usual 127.0.0.1, both loopback), so one source can neither
//! fill the pending consent screens nor lock the real client out with bad secrets.

use reqwest::{StatusCode, header};

use crate::helpers::*;

/// A provider whose test client connects from 127.0.0.2, and the usual client (127.0.0.1).
async fn spawn_with_attacker() -> (Provider, reqwest::Client) {
    let mut provider = spawn().await;
    let attacker = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("http client");
    let usual = std::mem::replace(&mut provider.http, attacker);
    (provider, usual)
}

#[tokio::test]
async fn one_address_cannot_fill_the_pending_consent_screens() {
    let (mut provider, usual) = spawn_with_attacker().await;
    let mut refused = None;
    for opened in 0..=100 {
        let reply = provider.authorize(&AuthRequest::new()).await;
        if reply.status != StatusCode::OK {
            refused = Some((opened, reply));
            break;
        }
    }
    let (opened, reply) = refused.expect("the flood is stopped");
    assert_eq!(opened, 100, "each address gets 100 pending consent screens");
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header(header::RETRY_AFTER), Some("60"));
    assert!(reply.body.contains("Too many sign-ins"), "{}", reply.body);

    // The real user's browser, from another address, still gets a consent screen.
    provider.http = usual;
    let consent = provider.open_consent(&AuthRequest::new()).await;
    let reply = provider.answer(&consent, "alice", "approve").await;
    assert!(reply.params().contains_key("code"), "{:?}", reply.params());
}

#[tokio::test]
async fn bad_secrets_from_one_address_lock_out_that_address_only() {
    let (mut provider, usual) = spawn_with_attacker().await;
    let probe = [
        ("grant_type", "refresh_token"),
        ("refresh_token", "unknown-refresh-token"),
    ];
    for i in 0..10 {
        let reply = provider
            .token_as(CLIENT_ID, &format!("guess-{i}"), &probe)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    // The guessing address is locked out, even with the right secret.
    let reply = provider.token(&probe).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);

    // The real client, from its own address, authenticates (and only then learns that this
    // refresh token is unknown).
    provider.http = usual;
    let reply = provider.token(&probe).await;
    assert_eq!(reply.error(), "invalid_grant", "{}", reply.body);
}
