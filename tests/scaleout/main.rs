//! Several instances, restarts and faults, against a real `redis-server` (docs/requirements.md
//! C61, C64, C80–C87): the Connect link served by one instance and the callback by another, a
//! restart between them, Redis stopped mid-flow, two instances refreshing one session at once,
//! a logout on one seen by the other, and the memory store's honest "start again" after a
//! restart. Each test starts its own Redis on a free loopback port. Redis frozen, slow, killed
//! mid-request and instances killed or stopped mid-request are in `faults` and `crashes`.

#[path = "../support/redis.rs"]
mod redis;

#[path = "../support/app_process.rs"]
mod app_process;

#[path = "../support/mod.rs"]
mod support;

mod child;
mod crashes;
mod faults;

use std::{sync::Arc, time::Duration};

use oauth2::ClientSecret;
use photo_connect::{
    Application,
    config::{
        Config, Discovery, DpopMode, ProviderSource, RedisStoreConfig, RedisUrl, SessionKey,
        SessionStoreConfig,
    },
    demo::provider::{self, DemoProvider, DemoSettings, RegisteredClient, Secret},
};
use reqwest::{StatusCode, cookie::Jar};
use tokio::{net::TcpListener, task::JoinHandle};
use url::Url;

use crate::{redis::RedisServer, support::*};

const SECRET: &str = "scale-out-client-secret-81c4";

/// One demo provider and the public `APP_URL` every instance shares (as behind a load balancer).
struct Cluster {
    provider: DemoProvider,
    app_url: Url,
    store: SessionStoreConfig,
    /// The listener that `APP_URL` names, for the first instance.
    first: Option<TcpListener>,
    /// `FLOW_INSPECTOR` for the instances started from now on. // INSPECTOR
    flow_inspector: Option<bool>, // INSPECTOR
    /// `OAUTH_DPOP` for the instances started from now on.
    dpop: DpopMode,
    /// `openid` in `OAUTH_SCOPES` for the instances started from now on.
    openid: bool,
}

/// One running instance and its own address.
struct Instance {
    url: Url,
    task: JoinHandle<()>,
}

/// Where an instance answers: one in this process ([`Instance`]) or a child process
/// ([`child::AppProcess`]).
trait Serves {
    fn base(&self) -> &Url;

    fn at(&self, path: &str) -> Url {
        self.base().join(path).expect("url")
    }

    /// The same callback (or any URL), sent to this instance instead.
    fn rewrite(&self, url: &Url) -> Url {
        let mut url = url.clone();
        url.set_port(self.base().port()).expect("port");
        url
    }
}

impl Serves for Instance {
    fn base(&self) -> &Url {
        &self.url
    }
}

impl Instance {
    fn stop(self) {
        self.task.abort();
    }
}

/// The Redis store at `url`, every instance with the same app key.
fn sealed_redis(url: &str) -> SessionStoreConfig {
    SessionStoreConfig::Redis(RedisStoreConfig {
        url: RedisUrl::parse(url).expect("redis url"),
        prefix: "photo-connect:".into(),
        key: SessionKey::from_bytes([7; 32]),
        previous_keys: Vec::new(),
    })
}

impl Cluster {
    async fn start(store: SessionStoreConfig, settings: DemoSettings) -> Self {
        init_log_capture();
        let first = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = first.local_addr().expect("addr").port();
        let app_url = Url::parse(&format!("http://localhost:{port}/")).expect("url");
        let mut settings = settings;
        settings.clients.push(RegisteredClient {
            client_id: "photo-connect".into(),
            client_secret: Secret::new(SECRET),
            redirect_uris: vec![app_url.join("cb").expect("url").to_string()],
            name: "photo-connect".into(),
            require_par: false,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
            jwks: None,
        });
        let provider = provider::spawn(settings).await.expect("demo provider");
        Self {
            provider,
            app_url,
            store,
            first: Some(first),
            flow_inspector: None, // INSPECTOR
            dpop: DpopMode::Off,
            openid: false,
        }
    }

    async fn redis(redis: &RedisServer, settings: DemoSettings) -> Self {
        Self::start(sealed_redis(&redis.url()), settings).await
    }

    fn config(&self) -> Config {
        let mut config = Config::for_tests();
        config.app_url = Some(self.app_url.clone());
        config.client_secret = Some(ClientSecret::new(SECRET.into()));
        config.token_refresh_skew = Duration::ZERO;
        config.session_store = self.store.clone();
        config.flow_inspector = self.flow_inspector; // INSPECTOR
        config.dpop = self.dpop;
        if self.openid {
            config.scopes = vec!["openid".into(), "photos".into()];
        }
        config.provider = ProviderSource::Discover(Discovery {
            issuer: self.provider.issuer.clone(),
            photos_api_url: Url::parse(&format!("{}/api/photos", self.provider.issuer))
                .expect("url"),
            name: Some(provider::DISPLAY_NAME.into()),
            token_url: None,
            revocation_url: None,
            par_url: None,
            allow_unadvertised_pkce: false,
        });
        config
    }

    /// Starts an instance: the first on `APP_URL`'s port, the others on ports of their own.
    async fn instance(&mut self) -> Instance {
        let listener = match self.first.take() {
            Some(listener) => listener,
            None => TcpListener::bind("127.0.0.1:0").await.expect("bind"),
        };
        let port = listener.local_addr().expect("addr").port();
        let running = Application::with_listener(self.config(), listener)
            .await
            .expect("the instance starts")
            .spawn()
            .expect("serves");
        Instance {
            url: Url::parse(&format!("http://localhost:{port}/")).expect("url"),
            task: running.task,
        }
    }

    fn refreshes(&self) -> usize {
        self.provider
            .state
            .token_requests()
            .iter()
            .filter(|r| r.grant_type.as_deref() == Some("refresh_token"))
            .count()
    }

    fn token_requests(&self) -> usize {
        self.provider.state.token_requests().len()
    }
}

#[tokio::test]
async fn a_redis_dump_holds_no_cookie_token_code_verifier_or_key_in_clear() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut cluster = Cluster::redis(&redis, DemoSettings::for_tests()).await;
    cluster.dpop = DpopMode::On;
    // With OpenID Connect: the ID token, who signed in and the pending login's nonce too.
    cluster.openid = true;
    cluster.flow_inspector = Some(cfg!(feature = "inspector")); // INSPECTOR
    let a = cluster.instance().await;
    let jar = Arc::new(Jar::default());
    let client = browser(jar.clone());
    sign_in_on(&client, &a, "bob").await;
    assert_eq!(photos(&client, &a).await.0, StatusCode::OK);
    // A second visitor half-way: a pending login (state, PKCE verifier) in Redis too.
    let _ = callback_via(&browser_jar(), &a, "alice").await;
    let cookies =
        reqwest::cookie::CookieStore::cookies(jar.as_ref(), &a.at("/")).expect("a cookie");
    let cookie = cookies.to_str().expect("ascii");
    let id = cookie.split_once('=').expect("name=value").1;

    let keys: Vec<String> = redis.cli(&["--scan"]).lines().map(str::to_owned).collect();
    assert!(keys.len() >= 2, "both sessions are in Redis: {keys:?}");
    for key in &keys {
        // The back-channel logout index (C100): a set of sealed session ids per HMAC'd sid/sub.
        let is_index = key.starts_with("photo-connect:logout:");
        assert!(
            key.starts_with("photo-connect:session:") || is_index,
            "{key}"
        );
        assert!(!key.contains(id), "a key names the cookie: {key}");
        let command = if is_index { "SMEMBERS" } else { "GET" };
        let value = std::process::Command::new("redis-cli")
            .args(["-p", &redis.port.to_string(), command, key])
            .output()
            .expect("redis-cli")
            .stdout;
        let least = if is_index { 40 } else { 100 };
        assert!(value.len() > least, "{key}: {} bytes", value.len());
        // Tokens, codes, states, verifiers and cookie ids are all base64url: sealed, no run of
        // that alphabet survives (random bytes make one of 16 once in 2^32 tries).
        let longest = value
            .split(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'))
            .map(<[u8]>::len)
            .max()
            .unwrap_or(0);
        assert!(
            longest < 16,
            "{key}: a {longest}-character token-like run in clear"
        );
        let text = String::from_utf8_lossy(&value).to_ascii_lowercase();
        for word in [
            "token", "bearer", "dpop", "verifier", "state", "bob", "\"d\"", "nonce", "subject",
            "identity", "sid",
        ] {
            assert!(!text.contains(word), "{key}: {word:?} in clear");
        }
    }
}

/// A person's browser: one cookie jar for every instance (cookies ignore the port).
fn browser_jar() -> reqwest::Client {
    browser(Arc::new(Jar::default()))
}

/// Home page on `at`, then consent at the provider: returns the callback URL (not yet sent).
async fn callback_via(client: &reqwest::Client, at: &impl Serves, user: &str) -> Url {
    let (status, _, home) = fetch(client, at.at("/")).await;
    assert_eq!(status, StatusCode::OK, "{home}");
    let authorize = connect_url(&home);
    let (status, _, consent) = fetch(client, authorize.clone()).await;
    assert_eq!(status, StatusCode::OK, "{consent}");
    let transaction =
        attribute_after(&consent, r#"name="transaction" value=""#).expect("transaction");
    let issuer = format!("{}://{}", authorize.scheme(), authorize.authority());
    let response = client
        .post(format!("{issuer}/oauth/authorize"))
        .form(&[
            ("transaction", transaction.as_str()),
            ("user", user),
            ("decision", "approve"),
        ])
        .send()
        .await
        .expect("consent");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    location(response.headers())
}

/// Signs `user` in on `at`, the callback too: the browser's cookie now names a connected session.
async fn sign_in_on(client: &reqwest::Client, at: &impl Serves, user: &str) {
    let callback = callback_via(client, at, user).await;
    assert_eq!(
        fetch(client, at.rewrite(&callback)).await.0,
        StatusCode::SEE_OTHER
    );
}

async fn photos(client: &reqwest::Client, at: &impl Serves) -> (StatusCode, String) {
    let (status, _, body) = fetch(client, at.at("/photos")).await;
    (status, body)
}

#[tokio::test]
async fn c86_connect_on_a_callback_on_b_then_photos_on_either() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut cluster = Cluster::redis(&redis, DemoSettings::for_tests()).await;
    let (a, b) = (cluster.instance().await, cluster.instance().await);
    let client = browser_jar();
    let callback = callback_via(&client, &a, "bob").await;
    let (status, headers, _) = fetch(&client, b.rewrite(&callback)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "B finishes what A started");
    assert_eq!(location(&headers).path(), "/photos");
    for at in [&a, &b] {
        let (status, page) = photos(&client, at).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Your photos (4)"), "{page}");
    }
}

#[tokio::test]
async fn a_dpop_bound_session_works_on_every_instance_and_after_a_restart() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut settings = DemoSettings::for_tests();
    settings.dpop_nonce = true;
    let mut cluster = Cluster::redis(&redis, settings).await;
    cluster.dpop = DpopMode::On;
    let (a, b) = (cluster.instance().await, cluster.instance().await);
    let client = browser_jar();
    let callback = callback_via(&client, &a, "bob").await;
    let (status, _, _) = fetch(&client, a.rewrite(&callback)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The key lives with the tokens in Redis: B signs proofs A's key would, and so does an
    // instance started after both are gone (the nonce it has not seen yet costs one retry).
    let bound = cluster
        .provider
        .state
        .tables()
        .access
        .values()
        .all(|a| a.jkt.is_some());
    assert!(bound, "the token is DPoP-bound");
    for at in [&a, &b] {
        let (status, page) = photos(&client, at).await;
        assert_eq!(status, StatusCode::OK, "{page}");
    }
    a.stop();
    b.stop();
    let restarted = cluster.instance().await;
    let (status, page) = photos(&client, &restarted).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(r#"id="dpop-note""#));
}

#[tokio::test]
async fn switching_dpop_off_asks_to_connect_again_and_never_sends_the_bound_token_as_bearer() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut cluster = Cluster::redis(&redis, DemoSettings::for_tests()).await;
    cluster.dpop = DpopMode::On;
    let a = cluster.instance().await;
    let client = browser_jar();
    let callback = callback_via(&client, &a, "alice").await;
    let (status, _, _) = fetch(&client, a.rewrite(&callback)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    a.stop();
    cluster.dpop = DpopMode::Off;
    let b = cluster.instance().await;
    let calls = cluster.provider.state.api_requests();
    let (status, page) = photos(&client, &b).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");
    assert_eq!(
        cluster.provider.state.api_requests(),
        calls,
        "the bound token never went out as a bearer token"
    );
    let (status, _, _) = fetch(&client, b.at("/photos")).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the tokens were forgotten: connect again"
    );
}

#[tokio::test]
async fn c85_a_restart_mid_flow_completes_and_a_connected_user_stays_connected() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut cluster = Cluster::redis(&redis, DemoSettings::for_tests()).await;
    let a = cluster.instance().await;
    let client = browser_jar();
    let callback = callback_via(&client, &a, "alice").await;
    a.stop();
    let restarted = cluster.instance().await;
    let (status, _, _) = fetch(&client, restarted.rewrite(&callback)).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the pending login survived the restart"
    );
    restarted.stop();
    let again = cluster.instance().await;
    assert_eq!(
        photos(&client, &again).await.0,
        StatusCode::OK,
        "still connected"
    );
}

#[tokio::test]
async fn c80_c81_redis_down_gives_the_503_page_and_the_app_recovers_without_a_restart() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let mut cluster = Cluster::redis(&redis, DemoSettings::for_tests()).await;
    let a = cluster.instance().await;
    let connected = browser_jar();
    let done = callback_via(&connected, &a, "bob").await;
    assert_eq!(
        fetch(&connected, a.rewrite(&done)).await.0,
        StatusCode::SEE_OTHER
    );
    let client = browser_jar();
    let callback = callback_via(&client, &a, "alice").await;
    redis.stop();

    // A connected visitor's photos page and logout: the 503 page, not an empty 500.
    let (status, page) = photos(&connected, &a).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    let logout = connected
        .post(a.at("/logout"))
        .form(&[("csrf_token", "x")])
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::SERVICE_UNAVAILABLE);

    // At the callback: a friendly 503, and no token request with a state that was not consumed.
    let before = cluster.token_requests();
    let (status, _, page) = fetch(&client, a.rewrite(&callback)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert!(page.contains(">Try again</a>"), "{page}");
    assert_eq!(cluster.token_requests(), before, "no token request");
    // At the Connect link: the 503 page, never a link with a state that was not saved.
    let fresh = browser_jar();
    let (status, _, page) = fetch(&fresh, a.at("/")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!page.contains(r#"id="connect""#), "{page}");
    let (status, _, _) = fetch(&fresh, a.at("/readyz")).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "not ready while Redis is down"
    );
    assert_eq!(
        fetch(&fresh, a.at("/healthz")).await.0,
        StatusCode::OK,
        "but alive"
    );

    redis.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while fetch(&fresh, a.at("/readyz")).await.0 != StatusCode::OK {
        assert!(
            std::time::Instant::now() < deadline,
            "the app reconnects by itself"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let callback = callback_via(&client, &a, "alice").await;
    let (status, _, _) = fetch(&client, a.rewrite(&callback)).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the same browser signs in again"
    );
}

#[tokio::test]
async fn c64_two_instances_refreshing_one_session_at_once_make_one_refresh() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let settings = DemoSettings {
        access_token_ttl: Duration::from_secs(3),
        // Every refresh answer waits, so the requests below certainly overlap: without a lock
        // shared by the instances, the second would present the rotated-away refresh token.
        refresh_delay: Duration::from_millis(400),
        ..DemoSettings::for_tests()
    };
    let mut cluster = Cluster::redis(&redis, settings).await;
    let (a, b) = (cluster.instance().await, cluster.instance().await);
    let client = browser_jar();
    sign_in_on(&client, &a, "bob").await;
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    let pages =
        futures_util::future::join_all([&a, &b, &a, &b].into_iter().map(|at| photos(&client, at)))
            .await;
    for (status, page) in &pages {
        assert_eq!(*status, StatusCode::OK, "{page}");
    }
    assert_eq!(
        cluster.refreshes(),
        1,
        "exactly one refresh at the provider"
    );
}

/// The visitor goes away on A (a reload, a closed tab) while the provider answers the refresh,
/// after it rotated the refresh token (RFC 9700 §4.14.2): A still saves the new tokens in
/// Redis, so B, with the same cookie, uses them instead of presenting the rotated-away refresh
/// token, which the provider's reuse detection would punish by revoking the grant. The answer
/// is held for 700 ms (the app's HTTP timeout is 2 s); the visitor is cut off as soon as the
/// refresh reached the provider.
#[tokio::test]
async fn a_refresh_cut_off_on_one_instance_is_saved_for_the_other() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let held = Duration::from_millis(700);
    let settings = DemoSettings {
        // Long enough that the refreshed token (its expiry counted in whole seconds from when
        // the refresh was sent) is still fresh when B is asked, a second and a half later.
        access_token_ttl: Duration::from_secs(3),
        refresh_delay: held,
        ..DemoSettings::for_tests()
    };
    let mut cluster = Cluster::redis(&redis, settings).await;
    let (a, b) = (cluster.instance().await, cluster.instance().await);
    let client = browser_jar();
    sign_in_on(&client, &a, "bob").await;
    tokio::time::sleep(Duration::from_millis(3_100)).await;

    let visitor = tokio::spawn({
        let (client, url) = (client.clone(), a.at("/photos"));
        async move { client.get(url).send().await }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while cluster.refreshes() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the refresh never reached the provider"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The tab closes: the connection to A goes, and with it A's request future.
    visitor.abort();
    assert!(visitor.await.is_err_and(|e| e.is_cancelled()));
    // Longer than the provider holds its answer.
    tokio::time::sleep(held + Duration::from_millis(300)).await;

    let (status, page) = photos(&client, &b).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Your photos (4)"), "{page}");
    assert_eq!(
        cluster.refreshes(),
        1,
        "one refresh: B used the tokens A saved, never the rotated-away refresh token"
    );
    let (_, _, home) = fetch(&client, b.at("/")).await;
    assert!(home.contains("You are connected"), "{home}");
    let tables = cluster.provider.state.tables();
    assert!(
        tables.grants.values().all(|g| !g.revoked),
        "no reuse detected, nothing revoked"
    );
}

#[tokio::test]
async fn c38_a_logout_on_a_signs_the_old_cookie_out_on_b() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut cluster = Cluster::redis(&redis, DemoSettings::for_tests()).await;
    let (a, b) = (cluster.instance().await, cluster.instance().await);
    let jar = Arc::new(Jar::default());
    let client = browser(jar.clone());
    sign_in_on(&client, &a, "alice").await;
    let (_, _, home) = fetch(&client, a.at("/")).await;
    let token = attribute_after(&home, r#"name="csrf_token" value=""#).expect("logout form");
    let old_cookie = reqwest::cookie::CookieStore::cookies(&*jar, &a.url).expect("cookie");
    let response = client
        .post(a.at("/logout"))
        .form(&[("csrf_token", token)])
        .send()
        .await
        .expect("logout");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // The old cookie, replayed on the other instance: signed out, nothing resurrected.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = replay
        .get(b.at("/photos"))
        .header(reqwest::header::COOKIE, old_cookie)
        .send()
        .await
        .expect("replay");
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "sent home to connect"
    );
    assert!(
        redis.session_keys().is_empty(),
        "nothing left in Redis: {:?}",
        redis.session_keys()
    );
}

#[tokio::test]
async fn c100_a_back_channel_logout_received_by_a_ends_the_sessions_on_b() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut cluster = Cluster::redis(&redis, DemoSettings::for_tests()).await;
    cluster.openid = true;
    let (a, b) = (cluster.instance().await, cluster.instance().await);
    let deliver = |at: &Instance, token: String| {
        let url = at.at("/backchannel-logout");
        async move {
            reqwest::Client::new()
                .post(url)
                .form(&[("logout_token", token)])
                .send()
                .await
                .expect("back-channel logout")
                .status()
        }
    };
    // By sid: Bob's session, signed in on B, ended by a token that A received.
    let bob = browser_jar();
    sign_in_on(&bob, &b, "bob").await;
    let alice_on_b = browser_jar();
    sign_in_on(&alice_on_b, &b, "alice").await;
    let state = &cluster.provider.state;
    let sid = state.sid_of("photo-connect", "bob").expect("bob's sid");
    let token = state.logout_token("photo-connect", None, Some(&sid));
    assert_eq!(deliver(&a, token.clone()).await, StatusCode::OK);
    assert_eq!(
        photos(&bob, &b).await.0,
        StatusCode::SEE_OTHER,
        "ended on B"
    );
    assert_eq!(photos(&bob, &a).await.0, StatusCode::SEE_OTHER, "and on A");
    assert_eq!(
        photos(&alice_on_b, &b).await.0,
        StatusCode::OK,
        "Alice's stays"
    );
    // The jti cache is shared: the same token at B is a replay.
    assert_eq!(deliver(&b, token).await, StatusCode::BAD_REQUEST);

    // By sub: every session of Alice, on either instance, ended by a token that A received.
    let alice_on_a = browser_jar();
    sign_in_on(&alice_on_a, &a, "alice").await;
    let token = state.logout_token("photo-connect", Some("alice"), None);
    assert_eq!(deliver(&a, token).await, StatusCode::OK);
    assert_eq!(photos(&alice_on_b, &b).await.0, StatusCode::SEE_OTHER);
    assert_eq!(photos(&alice_on_a, &a).await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn c84_the_memory_store_after_a_restart_says_start_again() {
    let mut cluster = Cluster::start(SessionStoreConfig::Memory, DemoSettings::for_tests()).await;
    let a = cluster.instance().await;
    let client = browser_jar();
    let callback = callback_via(&client, &a, "alice").await;
    a.stop();
    let restarted = cluster.instance().await;
    let (status, _, page) = fetch(&client, restarted.rewrite(&callback)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("This sign-in was not started here"), "{page}");
}

#[tokio::test]
async fn redis_memory_per_session_and_round_trips_per_flow_are_small() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut cluster = Cluster::redis(&redis, DemoSettings::for_tests()).await;
    let a = cluster.instance().await;
    let client = browser_jar();
    let start = redis.commands_processed();
    let callback = callback_via(&client, &a, "bob").await;
    let pending_key = redis
        .session_keys()
        .pop()
        .expect("the pending login's session");
    let pending = redis.cli(&["MEMORY", "USAGE", &pending_key]);
    assert_eq!(
        fetch(&client, a.rewrite(&callback)).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(photos(&client, &a).await.0, StatusCode::OK);
    // Every `INFO` and `MEMORY` call above counts too; take them out.
    let commands = redis.commands_processed() - start - 3;
    let connected_key = redis.session_keys().pop().expect("the connected session");
    let connected = redis.cli(&["MEMORY", "USAGE", &connected_key]);
    let ttl = redis.cli(&["TTL", &connected_key]);
    eprintln!(
        "redis: pending login {} bytes, connected session {} bytes, {commands} commands for \
         home + callback + photos, TTL {}",
        pending.trim(),
        connected.trim(),
        ttl.trim()
    );
    let bytes = |s: &str| {
        s.trim()
            .parse::<u64>()
            .expect("MEMORY USAGE answers a number")
    };
    assert!(bytes(&pending) < 2_048 && bytes(&connected) < 4_096);
    // Ten: a changed session is written once per request (`save_once` in the lock middleware;
    // the session layer's identical second save would make it eleven or more).
    assert!(commands <= 10, "{commands} Redis commands for one sign-in");
    let ttl: i64 = ttl.trim().parse().expect("a TTL");
    assert!(ttl > 0 && ttl <= 30 * 60, "every record expires: {ttl}");
}

#[tokio::test]
async fn an_unreachable_redis_at_startup_fails_fast_naming_session_store() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let url = format!("redis://app:hunter2-pw@127.0.0.1:{}", closed.port());
    let mut cluster = Cluster::start(sealed_redis(&url), DemoSettings::for_tests()).await;
    let listener = cluster.first.take().expect("listener");
    let started = std::time::Instant::now();
    let err = match Application::with_listener(cluster.config(), listener).await {
        Ok(_) => panic!("started without Redis"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains("SESSION_STORE"), "{err}");
    assert!(
        !err.contains("hunter2-pw"),
        "the password is never shown: {err}"
    );
    assert!(started.elapsed() < Duration::from_secs(10), "fails fast");
}
