//! The token endpoint's authorization_code grant (A25–A36, A40–A42).

use std::{collections::HashSet, time::Duration};

use reqwest::{StatusCode, header};

use crate::helpers::*;

fn assert_oauth_error(reply: &Reply, status: StatusCode, error: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.error(), error, "{}", reply.body);
    assert!(
        reply
            .header(header::CONTENT_TYPE)
            .is_some_and(|t| t.starts_with("application/json"))
    );
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
}

#[tokio::test]
async fn a25_a_successful_exchange_is_uncacheable_json_with_a_bearer_token() {
    let provider = spawn().await;
    let (code, request) = provider.code().await;
    let reply = provider.redeem(&code, &request.pkce.verifier).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply
            .header(header::CONTENT_TYPE)
            .is_some_and(|t| t.starts_with("application/json"))
    );
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(reply.header(header::PRAGMA), Some("no-cache"));
    let body = &reply.json;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "photos");
    assert!(body["access_token"].as_str().is_some_and(|t| t.len() >= 43));
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 43)
    );
    let seen = provider.state.token_requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].auth_method, "client_secret_basic");
    assert_eq!(seen[0].pkce_verified, Some(true));
}

/// Redeems once, then replays after `pause`: refused, and the first tokens are revoked.
async fn replay_revokes_first_tokens(pause: Duration) {
    let provider = spawn().await;
    let (code, request) = provider.code().await;
    let first = provider.redeem(&code, &request.pkce.verifier).await;
    assert_eq!(first.status, StatusCode::OK);
    let access = first.json["access_token"].as_str().expect("at").to_owned();
    let refresh = first.json["refresh_token"].as_str().expect("rt").to_owned();
    assert_eq!(provider.photos(&access).await.status, StatusCode::OK);

    tokio::time::sleep(pause).await;
    let replay = provider.redeem(&code, &request.pkce.verifier).await;
    assert_oauth_error(&replay, StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(replay.description().contains("already used"));
    assert!(!provider.state.access_token_valid(&access));
    assert_eq!(
        provider.photos(&access).await.status,
        StatusCode::UNAUTHORIZED
    );
    let reply = provider.refresh(&refresh).await;
    assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a26_code_replay_revokes_tokens_from_the_first_redemption() {
    replay_revokes_first_tokens(Duration::ZERO).await;
}

#[tokio::test]
async fn a26_code_replay_after_one_second_also_revokes() {
    replay_revokes_first_tokens(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a27_a_replay_with_a_bad_verifier_or_secret_revokes_nothing() {
    let provider = spawn().await;
    let (code, request) = provider.code().await;
    let first = provider.redeem(&code, &request.pkce.verifier).await;
    let access = first.json["access_token"].as_str().expect("at").to_owned();

    let wrong_verifier = provider.redeem(&code, &Pkce::new().verifier).await;
    assert_oauth_error(&wrong_verifier, StatusCode::BAD_REQUEST, "invalid_grant");
    let wrong_secret = provider
        .token_as(
            CLIENT_ID,
            "not-the-secret",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", &request.pkce.verifier),
            ],
        )
        .await;
    assert_oauth_error(&wrong_secret, StatusCode::UNAUTHORIZED, "invalid_client");
    let other_client = provider
        .token_as(
            OTHER_ID,
            OTHER_SECRET,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", &request.pkce.verifier),
            ],
        )
        .await;
    assert_oauth_error(&other_client, StatusCode::BAD_REQUEST, "invalid_grant");

    assert!(provider.state.access_token_valid(&access), "still valid");
    assert_eq!(provider.photos(&access).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a28_twenty_parallel_redemptions_of_one_code_give_exactly_one_token() {
    let provider = std::sync::Arc::new(spawn().await);
    let (code, request) = provider.code().await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let provider = provider.clone();
            let code = code.clone();
            let verifier = request.pkce.verifier.clone();
            tokio::spawn(async move {
                let reply = provider.redeem(&code, &verifier).await;
                (reply.status, reply.error().to_owned())
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let (status, error) = task.await.expect("task");
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::BAD_REQUEST => assert_eq!(error, "invalid_grant"),
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 1, "exactly one redemption wins");
}

#[tokio::test]
async fn a29_an_expired_code_is_invalid_grant() {
    let provider = spawn_with(demo_provider::DemoSettings {
        code_ttl: Duration::from_secs(1),
        ..settings()
    })
    .await;
    let (code, request) = provider.code().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let reply = provider.redeem(&code, &request.pkce.verifier).await;
    assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(reply.description().contains("expired"));
}

#[tokio::test]
async fn a30_a_code_is_bound_to_its_client() {
    let provider = spawn().await;
    let (code, request) = provider.code().await;
    for redirect_uri in [REDIRECT_URI, OTHER_REDIRECT] {
        let reply = provider
            .token_as(
                OTHER_ID,
                OTHER_SECRET,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", redirect_uri),
                    ("code_verifier", &request.pkce.verifier),
                ],
            )
            .await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
    }
    // The rightful client can still redeem it.
    let reply = provider.redeem(&code, &request.pkce.verifier).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn a31_redirect_uri_must_repeat_the_authorization_requests_exactly() {
    let provider = spawn().await;
    let (code, request) = provider.code().await;
    let verifier = request.pkce.verifier.as_str();
    for redirect_uri in [
        Some("https://client.example/cb/"),
        Some("https://evil.example/cb"),
        None,
    ] {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", verifier),
        ];
        if let Some(uri) = redirect_uri {
            form.push(("redirect_uri", uri));
        }
        let reply = provider.token(&form).await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
        assert!(reply.description().contains("redirect_uri"));
    }
    // An authorization request without redirect_uri (one registered): it may be omitted.
    let request = AuthRequest::new().without("redirect_uri");
    let code = provider.code_for(&request).await;
    let reply = provider
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code_verifier", &request.pkce.verifier),
        ])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn a32_a_wrong_verifier_is_invalid_grant() {
    let provider = spawn().await;
    let (code, _) = provider.code().await;
    let reply = provider.redeem(&code, &Pkce::new().verifier).await;
    assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(
        provider.state.token_requests()[0].pkce_verified,
        Some(false)
    );
}

#[tokio::test]
async fn a33_a_missing_verifier_is_invalid_grant() {
    let provider = spawn().await;
    let (code, _) = provider.code().await;
    let reply = provider
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ])
        .await;
    assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(reply.description().contains("code_verifier"));
}

#[tokio::test]
async fn a34_malformed_verifiers_are_invalid_grant_and_a_huge_one_is_413() {
    let provider = spawn().await;
    let (code, request) = provider.code().await;
    let good = &request.pkce.verifier;
    for bad in [
        good[..42].to_owned(),
        "a".repeat(129),
        format!("{good}+"),
        format!("{good}="),
        format!("{good} x"),
        format!("{good}é"),
    ] {
        let reply = provider.redeem(&code, &bad).await;
        // Pinned: invalid_grant, like a wrong verifier (conformance suite and Spring).
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
        assert!(
            reply.json["error_description"]
                .as_str()
                .unwrap_or("")
                .contains("43-128"),
            "{}",
            reply.body
        );
    }
    let reply = provider.redeem(&code, &"a".repeat(1 << 20)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error(), "invalid_request");
    // None of that used the code up.
    assert_eq!(provider.redeem(&code, good).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a35_pkce_downgrade_is_refused() {
    // By default the downgrade cannot even start: no challenge, no code.
    let provider = spawn().await;
    let reply = provider
        .authorize(
            &AuthRequest::new()
                .without("code_challenge")
                .without("code_challenge_method"),
        )
        .await;
    assert_eq!(reply.params()["error"], "invalid_request");

    // With the test-only switch a code can be issued without a challenge; sending a verifier
    // for it is the downgrade, refused with invalid_request (OAuth 2.1 §3.2.4).
    let provider = spawn_with(demo_provider::DemoSettings {
        pkce_required: false,
        ..settings()
    })
    .await;
    let request = AuthRequest::new()
        .without("code_challenge")
        .without("code_challenge_method");
    let code = provider.code_for(&request).await;
    let reply = provider.redeem(&code, &request.pkce.verifier).await;
    assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(reply.description().contains("downgrade"));
    // Without a verifier, that code is redeemable (the switch works as described).
    let reply = provider
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn a36_grant_type_errors() {
    let provider = spawn().await;
    let cases: [(&[(&str, &str)], &str); 7] = [
        (&[("code", "x")], "invalid_request"),
        (
            &[
                ("grant_type", "password"),
                ("username", "a"),
                ("password", "b"),
            ],
            "unsupported_grant_type",
        ),
        (&[("grant_type", "implicit")], "unsupported_grant_type"),
        (
            &[("grant_type", "urn:example:unknown")],
            "unsupported_grant_type",
        ),
        // Pinned: this server supports no client_credentials grant at all.
        (
            &[("grant_type", "client_credentials")],
            "unsupported_grant_type",
        ),
        (
            &[("grant_type", "code"), ("code", "x")],
            "unsupported_grant_type",
        ),
        (
            &[
                ("grant_type", "authorization_code"),
                ("grant_type", "refresh_token"),
            ],
            "invalid_request",
        ),
    ];
    for (form, error) in cases {
        let reply = provider.token(form).await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, error);
    }
}

#[tokio::test]
async fn a40_transport_abuse_is_refused() {
    let provider = spawn().await;
    let token_url = provider.url("/oauth/token");

    let get = provider.http.get(&token_url).send().await.expect("get");
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);

    let json = Reply::from(
        provider
            .http
            .post(&token_url)
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .json(&serde_json::json!({"grant_type": "authorization_code", "code": "x"}))
            .send()
            .await
            .expect("json"),
    )
    .await;
    assert_oauth_error(&json, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(
        json.description()
            .contains("application/x-www-form-urlencoded")
    );

    let (code, request) = provider.code().await;
    let duplicate = provider
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &request.pkce.verifier),
        ])
        .await;
    assert_oauth_error(&duplicate, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(duplicate.description().contains("code is repeated"));

    let huge = Reply::from(
        provider
            .http
            .post(&token_url)
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!(
                "grant_type=authorization_code&pad={}",
                "a".repeat(2 << 20)
            ))
            .send()
            .await
            .expect("2 MB"),
    )
    .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);

    // Credentials in the query string are not credentials.
    let query = Reply::from(
        provider
            .http
            .post(format!(
                "{token_url}?client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
            ))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", request.pkce.verifier.as_str()),
            ])
            .send()
            .await
            .expect("query credentials"),
    )
    .await;
    assert_oauth_error(&query, StatusCode::UNAUTHORIZED, "invalid_client");
    // None of it consumed the code.
    assert_eq!(
        provider.redeem(&code, &request.pkce.verifier).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a41_every_token_error_is_clean_json_that_cites_its_rule() {
    let provider = spawn().await;
    let (code, request) = provider.code().await;
    let forms: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("grant_type", "password")],
        vec![("grant_type", "authorization_code")],
        vec![("grant_type", "authorization_code"), ("code", "unknown")],
        vec![
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "x"),
        ],
        vec![
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ],
        vec![
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", "<script>alert(1)</script>"),
        ],
        vec![("grant_type", "refresh_token")],
        vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", "<b>x</b>"),
        ],
        vec![("<script>", "1"), ("<script>", "2")],
        vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("scope", "admin"),
        ],
    ];
    let mut replies = Vec::new();
    for form in &forms {
        replies.push(provider.token(form).await);
    }
    replies.push(
        provider
            .token_as(CLIENT_ID, "wrong", &[("grant_type", "x")])
            .await,
    );
    replies.push(
        provider
            .token_as("<i>unknown</i>", "x", &[("grant_type", "x")])
            .await,
    );
    replies.push(
        Reply::from(
            provider
                .http
                .post(provider.url("/oauth/token"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body("grant_type=%FF%FE")
                .send()
                .await
                .expect("bad encoding"),
        )
        .await,
    );
    let allowed = [
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    ];
    for reply in replies {
        assert!(
            reply.status.is_client_error(),
            "{} {}",
            reply.status,
            reply.body
        );
        assert!(allowed.contains(&reply.error()), "{}", reply.body);
        assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
        let description = reply.json["error_description"].as_str().expect("described");
        assert!(
            is_error_charset(description),
            "RFC 6749 §5.2 charset: {description}"
        );
        assert!(description.contains("RFC"), "cites its rule: {description}");
        for echoed in ["<", "script", "unknown</i>"] {
            assert!(!description.contains(echoed), "echoes input: {description}");
        }
    }
    let _ = request;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a42_codes_and_tokens_are_unique_256_bit_values() {
    const CHAINS: usize = 20;
    const CODES_PER_CHAIN: usize = 5;
    const REFRESHES_PER_CHAIN: usize = 250;
    let provider = std::sync::Arc::new(spawn().await);
    let tasks: Vec<_> = (0..CHAINS)
        .map(|_| {
            let provider = provider.clone();
            tokio::spawn(async move {
                let mut values = Vec::new();
                let mut refresh = String::new();
                for _ in 0..CODES_PER_CHAIN {
                    let (code, request) = provider.code().await;
                    let reply = provider.redeem(&code, &request.pkce.verifier).await;
                    values.push(code);
                    values.push(reply.json["access_token"].as_str().expect("at").to_owned());
                    refresh = reply.json["refresh_token"].as_str().expect("rt").to_owned();
                    values.push(refresh.clone());
                }
                for _ in 0..REFRESHES_PER_CHAIN {
                    let reply = provider.refresh(&refresh).await;
                    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                    values.push(reply.json["access_token"].as_str().expect("at").to_owned());
                    refresh = reply.json["refresh_token"].as_str().expect("rt").to_owned();
                    values.push(refresh.clone());
                }
                values
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    assert!(all.len() >= 10_000, "{} values", all.len());
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no duplicates");
    for value in &all {
        // 32 random bytes, base64url without padding: 256 bits (RFC 6749 §10.10 asks ≥ 128).
        assert_eq!(value.len(), 43, "{value}");
        assert!(
            value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
    // A coarse randomness check: at each of the first 42 positions all 64 symbols occur, and
    // none more than twice as often as expected (about 160 each).
    let expected = all.len() / 64;
    for position in 0..42 {
        let mut counts = [0usize; 256];
        for value in &all {
            counts[usize::from(value.as_bytes()[position])] += 1;
        }
        let used: Vec<_> = counts.iter().filter(|c| **c > 0).collect();
        assert_eq!(used.len(), 64, "position {position}");
        assert!(
            used.iter().all(|c| **c < expected * 2),
            "position {position}"
        );
    }
}

#[tokio::test]
async fn a_token_request_body_of_exactly_64_kib_is_parsed() {
    let provider = spawn().await;
    // A valid request padded with an unknown parameter: it passes client authentication and
    // reaches the grant (an unknown refresh token), so the whole body was parsed.
    let start = "grant_type=refresh_token&refresh_token=unknown-refresh-token&pad=";
    let body = format!("{start}{}", "a".repeat(64 * 1024 - start.len()));
    assert_eq!(body.len(), 64 * 1024);
    let reply = Reply::from(
        provider
            .http
            .post(provider.url("/oauth/token"))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("64 KiB"),
    )
    .await;
    assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");
}
