//! Client authentication at the token endpoint (A37–A39).

use base64::Engine;
use demo_provider::DemoSettings;
use reqwest::{StatusCode, header};

use crate::helpers::*;

/// A request that passes client authentication answers `invalid_grant` (the refresh token is
/// unknown); one that fails answers `invalid_client`.
const PROBE: &[(&str, &str)] = &[
    ("grant_type", "refresh_token"),
    ("refresh_token", "unknown-refresh-token"),
];

async fn post_with_authorization(
    provider: &Provider,
    authorization: &str,
    form: &[(&str, &str)],
) -> Reply {
    Reply::from(
        provider
            .http
            .post(provider.url("/oauth/token"))
            .header(header::AUTHORIZATION, authorization)
            .form(form)
            .send()
            .await
            .expect("token request"),
    )
    .await
}

fn basic(raw: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

fn assert_invalid_client(reply: &Reply, basic_challenge: bool) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert_eq!(reply.error(), "invalid_client");
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    let challenge = reply.header(header::WWW_AUTHENTICATE);
    if basic_challenge {
        assert!(
            challenge.is_some_and(|c| c.starts_with("Basic realm=")),
            "{challenge:?}"
        );
    }
}

#[tokio::test]
async fn a37_client_authentication_failures_have_the_right_status() {
    let provider = spawn().await;
    // (a) no credentials at all.
    let none = Reply::from(
        provider
            .http
            .post(provider.url("/oauth/token"))
            .form(PROBE)
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_invalid_client(&none, false);
    // A client_id alone is no authentication either.
    let id_only = Reply::from(
        provider
            .http
            .post(provider.url("/oauth/token"))
            .form(&[PROBE, &[("client_id", CLIENT_ID)]].concat())
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_invalid_client(&id_only, false);
    // (b) Basic with a wrong secret, (c) Basic with an unknown id: 401 + WWW-Authenticate.
    assert_invalid_client(&provider.token_as(CLIENT_ID, "wrong", PROBE).await, true);
    assert_invalid_client(&provider.token_as("nobody", "x", PROBE).await, true);
    // (d) A wrong secret in the body: 401, no Basic challenge (none was tried).
    let post = Reply::from(
        provider
            .http
            .post(provider.url("/oauth/token"))
            .form(
                &[
                    PROBE,
                    &[("client_id", CLIENT_ID), ("client_secret", "wrong")],
                ]
                .concat(),
            )
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_invalid_client(&post, false);
    assert!(post.header(header::WWW_AUTHENTICATE).is_none());
    // (e) Two methods at once: invalid_request, even with both correct.
    let both = Reply::from(
        provider
            .http
            .post(provider.url("/oauth/token"))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(
                &[
                    PROBE,
                    &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
                ]
                .concat(),
            )
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    assert_eq!(both.error(), "invalid_request");
    // The probe itself passes with either single method.
    assert_eq!(provider.token(PROBE).await.error(), "invalid_grant");
    let post_ok = Reply::from(
        provider
            .http
            .post(provider.url("/oauth/token"))
            .form(
                &[
                    PROBE,
                    &[("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
                ]
                .concat(),
            )
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(post_ok.error(), "invalid_grant");
}

#[tokio::test]
async fn a38_basic_credentials_are_form_urldecoded_both_ways() {
    let id = "client %&+-_.!~*'()";
    let secret = "s:e=c%r+e t";
    let provider = spawn_with(DemoSettings {
        clients: vec![registered(id, secret, &[REDIRECT_URI])],
        ..DemoSettings::for_tests()
    })
    .await;
    // Every byte but letters and digits escaped (oauth4webapi's vector), and the minimum.
    let aggressive = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else if b == b' ' {
                    "+".into()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    assert_eq!(
        aggressive(id),
        "client+%25%26%2B%2D%5F%2E%21%7E%2A%27%28%29"
    );
    let minimal =
        |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    for encode in [&aggressive as &dyn Fn(&str) -> String, &minimal] {
        let raw = format!("{}:{}", encode(id), encode(secret));
        for scheme in ["Basic", "basic", "bAsIc"] {
            let header = format!(
                "{scheme} {}",
                base64::engine::general_purpose::STANDARD.encode(&raw)
            );
            let reply = post_with_authorization(&provider, &header, PROBE).await;
            assert_eq!(
                reply.error(),
                "invalid_grant",
                "{raw} {scheme}: {}",
                reply.body
            );
        }
    }
}

#[tokio::test]
async fn a38_malformed_basic_credentials_are_invalid_client_never_500() {
    let provider = spawn().await;
    let malformed = [
        "Basic".to_owned(),
        "Basic ".to_owned(),
        "Basic !!!not-base64!!!".to_owned(),
        basic("no-colon-at-all"),
        basic(&format!("{CLIENT_ID}:")),
        basic(&format!(":{CLIENT_SECRET}")),
        // An unencoded ':' in the id splits it at the first ':' (RFC 6749 App. B).
        basic(&format!("{CLIENT_ID}:extra:{CLIENT_SECRET}")),
        basic("id%zz:secret"),
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, b':', b'x'])
        ),
    ];
    for header in malformed {
        let reply = post_with_authorization(&provider, &header, PROBE).await;
        assert_invalid_client(&reply, true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a39_brute_force_is_limited_to_ten_failures_a_minute_even_in_parallel() {
    let provider = std::sync::Arc::new(spawn().await);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let provider = provider.clone();
            tokio::spawn(async move {
                provider
                    .token_as(CLIENT_ID, &format!("guess-{i}"), PROBE)
                    .await
                    .status
            })
        })
        .collect();
    let (mut unauthorized, mut limited) = (0, 0);
    for task in tasks {
        match task.await.expect("task") {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((unauthorized, limited), (10, 40));
    // Now even the right secret is turned away until the window ends.
    let reply = provider.token(PROBE).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header(header::RETRY_AFTER), Some("60"));
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    // Another client is not affected.
    let reply = provider.refresh_as(OTHER_ID, OTHER_SECRET, "unknown").await;
    assert_eq!(reply.error(), "invalid_grant");
}
