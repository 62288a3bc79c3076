//! Registration rules (A24 / AR-05), settings from the environment or a file, and memory that
//! stays bounded (purge, caps).

use std::{collections::HashMap, time::Duration};

use demo_provider::DemoSettings;
use reqwest::StatusCode;

use crate::helpers::*;

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

fn with_client(uris: &[&str], allow_http: bool) -> DemoSettings {
    DemoSettings {
        clients: vec![registered("app", "secret", uris)],
        allow_http,
        ..DemoSettings::for_tests()
    }
}

#[tokio::test]
async fn a24_http_redirect_uris_outside_loopback_are_refused_at_registration() {
    let err = demo_provider::spawn(with_client(&["http://app.example/cb"], false))
        .await
        .err()
        .expect("refused");
    let message = format!("{err:#}");
    assert!(message.contains("http://app.example/cb"), "{message}");
    assert!(message.contains("DEMO_PROVIDER_ALLOW_HTTP"), "{message}");
    // Loopback http is fine without the flag; https always is.
    for uri in [
        "http://localhost:8080/cb",
        "http://127.0.0.1:9/cb",
        "http://[::1]:9/cb",
        "https://app.example/cb",
    ] {
        let provider = demo_provider::spawn(with_client(&[uri], false)).await;
        assert!(provider.is_ok(), "{uri}: {:?}", provider.err());
    }
    // The explicit development switch allows it.
    let provider = demo_provider::spawn(with_client(&["http://app.example/cb"], true)).await;
    assert!(provider.is_ok());
    let from_env =
        DemoSettings::from_lookup(lookup(&[("DEMO_PROVIDER_ALLOW_HTTP", "1")])).expect("valid");
    assert!(from_env.allow_http);
    assert!(!DemoSettings::for_tests().allow_http, "off by default");
}

#[tokio::test]
async fn registration_refuses_malformed_clients() {
    let refused = [
        with_client(&["https://app.example/cb#fragment"], false),
        with_client(&["/relative/cb"], false),
        with_client(&["javascript:alert(1)"], false),
        with_client(&["https://user:pw@app.example/cb"], false),
        with_client(&[], false),
        DemoSettings {
            clients: vec![
                registered("twice", "a", &[REDIRECT_URI]),
                registered("twice", "b", &[REDIRECT_URI]),
            ],
            ..DemoSettings::for_tests()
        },
        DemoSettings {
            clients: vec![registered("empty-secret", "", &[REDIRECT_URI])],
            ..DemoSettings::for_tests()
        },
        // Plain http to the network needs the development switch too.
        DemoSettings {
            addr: "0.0.0.0:0".parse().expect("addr"),
            ..DemoSettings::for_tests()
        },
    ];
    for settings in refused {
        let clients: Vec<_> = settings
            .clients
            .iter()
            .map(|c| c.redirect_uris.clone())
            .collect();
        assert!(demo_provider::spawn(settings).await.is_err(), "{clients:?}");
    }
}

#[test]
fn clients_come_from_the_environment() {
    let settings = DemoSettings::from_lookup(lookup(&[
        ("DEMO_PROVIDER_ADDR", "127.0.0.1:4555"),
        ("DEMO_CLIENT_ID", "my-app"),
        ("DEMO_CLIENT_SECRET", "my-secret"),
        (
            "DEMO_REDIRECT_URIS",
            "http://localhost:8080/cb  https://my-app.example/cb",
        ),
        ("DEMO_ACCESS_TOKEN_TTL_SECS", "60"),
    ]))
    .expect("valid");
    assert_eq!(settings.addr.to_string(), "127.0.0.1:4555");
    assert_eq!(settings.access_token_ttl, Duration::from_secs(60));
    let client = &settings.clients[0];
    assert_eq!(client.client_id, "my-app");
    assert_eq!(client.client_secret.expose(), "my-secret");
    assert_eq!(
        client.redirect_uris,
        vec!["http://localhost:8080/cb", "https://my-app.example/cb"]
    );
    assert!(
        !format!("{settings:?}").contains("my-secret"),
        "redacted in Debug"
    );

    for incomplete in [
        &[("DEMO_CLIENT_ID", "x")][..],
        &[("DEMO_CLIENT_ID", "x"), ("DEMO_CLIENT_SECRET", "y")][..],
        &[("DEMO_CLIENT_SECRET", "y")][..],
        &[("DEMO_CODE_TTL_SECS", "0")][..],
        &[("DEMO_MAX_PENDING", "0")][..],
        &[("DEMO_MAX_PENDING", "many")][..],
        &[("DEMO_PROVIDER_ADDR", "localhost")][..],
    ] {
        assert!(
            DemoSettings::from_lookup(lookup(incomplete)).is_err(),
            "{incomplete:?}"
        );
    }
    let defaults = DemoSettings::from_lookup(lookup(&[])).expect("defaults");
    assert_eq!(defaults.addr.to_string(), "127.0.0.1:3001");
    assert_eq!(defaults.max_pending, 10_000);
    let raised = DemoSettings::from_lookup(lookup(&[("DEMO_MAX_PENDING", "200000")])).expect("ok");
    assert_eq!(
        raised.max_pending, 200_000,
        "a load test can raise the bound"
    );
    assert!(defaults.clients.is_empty());
}

#[test]
fn clients_come_from_a_file() {
    let path = std::env::temp_dir().join(format!("demo-clients-{}.txt", std::process::id()));
    std::fs::write(
        &path,
        "# client_id client_secret redirect_uri...\n\
         \n\
         app-one  s3cret-one  http://localhost:8080/cb\n\
         app-two\ts3cret#two\thttps://two.example/cb https://two.example/cb2\n",
    )
    .expect("write");
    let settings = DemoSettings::from_lookup(lookup(&[(
        "DEMO_CLIENTS_FILE",
        path.to_str().expect("utf-8 path"),
    )]))
    .expect("valid");
    let _ = std::fs::remove_file(&path);
    let clients: Vec<_> = settings
        .clients
        .iter()
        .map(|c| {
            (
                c.client_id.as_str(),
                c.client_secret.expose(),
                c.redirect_uris.len(),
            )
        })
        .collect();
    assert_eq!(
        clients,
        vec![("app-one", "s3cret-one", 1), ("app-two", "s3cret#two", 2)]
    );

    let err = demo_provider::parse_clients_file("ok s http://localhost/cb\nlonely-id\n")
        .expect_err("a line without secret");
    assert!(err.to_string().contains("line 2"), "{err}");
    let err = demo_provider::parse_clients_file("id secret-value\n").expect_err("no URI");
    assert!(
        !err.to_string().contains("secret-value"),
        "never echoes the secret"
    );
}

#[tokio::test]
async fn purge_drops_expired_transactions_codes_and_tokens() {
    let provider = spawn().await;
    provider.authorize(&AuthRequest::new()).await; // an unanswered consent screen
    provider.code().await; // an unredeemed code
    let (access, _) = provider.tokens().await; // a redeemed code, a grant, two tokens
    let sizes = |p: &Provider| {
        let t = p.state.tables();
        (
            t.transactions.len(),
            t.codes.len(),
            t.grants.len(),
            t.access.len(),
            t.refresh.len(),
        )
    };
    assert_eq!(sizes(&provider), (1, 2, 1, 1, 1));

    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    let now = i64::try_from(since_epoch.as_secs()).expect("Unix seconds");
    provider.state.purge(now);
    assert_eq!(
        sizes(&provider),
        (1, 2, 1, 1, 1),
        "nothing alive is dropped"
    );
    assert!(provider.state.access_token_valid(&access));

    // Past every lifetime (refresh tokens live 30 days).
    provider.state.purge(now + 31 * 24 * 3600);
    assert_eq!(sizes(&provider), (0, 0, 0, 0, 0));
}

#[tokio::test]
async fn pending_consent_screens_and_codes_are_capped() {
    let provider = spawn_with(DemoSettings {
        max_pending: 3,
        ..settings()
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(provider.open_consent(&AuthRequest::new()).await);
    }
    let reply = provider.authorize(&AuthRequest::new()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.params()["error"], "temporarily_unavailable");
    assert_eq!(provider.state.tables().transactions.len(), 3);

    // Answering frees a consent slot and fills a code slot; three codes fill them all.
    for consent in &open {
        let reply = provider.answer(consent, "alice", "approve").await;
        assert!(reply.params().contains_key("code"));
    }
    let consent = provider.open_consent(&AuthRequest::new()).await;
    let reply = provider.answer(&consent, "alice", "approve").await;
    assert_eq!(reply.params()["error"], "temporarily_unavailable");
    assert_eq!(provider.state.tables().codes.len(), 3);
}

#[tokio::test]
async fn at_the_cap_an_expired_consent_screen_makes_room_for_a_new_one() {
    // A zero lifetime: each consent screen has expired as soon as it is shown.
    let provider = spawn_with(DemoSettings {
        max_pending: 1,
        transaction_ttl: Duration::ZERO,
        ..settings()
    })
    .await;
    // Let the purger's first (immediate) tick pass, so that the endpoint, not the purger, is
    // what must clear the expired screen.
    tokio::time::sleep(Duration::from_millis(50)).await;
    provider.open_consent(&AuthRequest::new()).await;
    // The table is full, but of an expired screen: it is purged, not counted against the cap.
    provider.open_consent(&AuthRequest::new()).await;
    assert_eq!(provider.state.tables().transactions.len(), 1);
}

#[tokio::test]
async fn at_the_cap_an_expired_code_makes_room_for_a_new_one() {
    // A zero lifetime (and so a zero replay grace): each code has expired as soon as it is
    // issued.
    let provider = spawn_with(DemoSettings {
        max_pending: 1,
        code_ttl: Duration::ZERO,
        ..settings()
    })
    .await;
    // Let the purger's first (immediate) tick pass, so that the endpoint, not the purger, is
    // what must clear the expired code.
    tokio::time::sleep(Duration::from_millis(50)).await;
    provider.code().await;
    // The table is full, but of an expired code: it is purged, not counted against the cap.
    provider.code().await;
    assert_eq!(provider.state.tables().codes.len(), 1);
}
