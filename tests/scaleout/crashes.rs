//! Instances that die or stop mid-request (docs/requirements.md C87, issue 23): the binary run
//! as a child process ([`AppProcess`]), killed (`SIGKILL`) while it holds a session's lock, and
//! stopped (`SIGTERM`) while a token exchange is in flight, the exchange finishing within the
//! grace period or cut off by it. Another instance then serves the same browser.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use photo_connect::demo::provider::DemoSettings;
use reqwest::{StatusCode, cookie::Jar};
use tokio::io::AsyncWriteExt;

use crate::{
    Cluster, SECRET, Serves, browser_jar, callback_via,
    child::{AppProcess, free_port},
    photos,
    redis::RedisServer,
    sign_in_on,
    support::*,
};

/// The port of `APP_URL` (the cluster's first listener, let go), for the first child.
fn app_url_port(cluster: &mut Cluster) -> u16 {
    let listener = cluster.first.take().expect("the first listener");
    listener.local_addr().expect("addr").port()
}

/// Waits until the demo provider has seen `count` token requests: the exchange is under way.
async fn token_requests_reach(cluster: &Cluster, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while cluster.token_requests() < count {
        assert!(Instant::now() < deadline, "the token request never came");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Issue 23: "after an instance is killed mid-request, its sessions are usable again within a
/// few seconds". A holds the session's lock (in Redis) while it waits for the body of a logout
/// that never arrives, and dies; B serves the same browser once the 5 s lease has run out, and
/// the browser is still connected (the logout never happened, nothing was half written).
#[tokio::test]
async fn an_instance_killed_holding_a_sessions_lock_frees_it_within_the_lease() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut cluster = Cluster::redis(&redis, DemoSettings::for_tests()).await;
    let port = app_url_port(&mut cluster);
    let mut a = AppProcess::start(&cluster, &redis, port, &[]).await;
    let b = AppProcess::start(&cluster, &redis, free_port(), &[]).await;
    let jar = Arc::new(Jar::default());
    let client = browser(jar.clone());
    sign_in_on(&client, &a, "alice").await;
    let (status, page) = photos(&client, &b).await;
    assert_eq!(status, StatusCode::OK, "B reads what A saved: {page}");
    let cookie = reqwest::cookie::CookieStore::cookies(&*jar, a.base()).expect("cookie");
    let cookie = cookie.to_str().expect("ascii");

    // A logout whose body never comes: A takes the session's lock, then waits for the body.
    let keys = dbsize(&redis);
    let mut stalled = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to A");
    let head = format!(
        "POST /logout HTTP/1.1\r\nHost: localhost:{port}\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 64\r\n\r\ncsrf"
    );
    stalled.write_all(head.as_bytes()).await.expect("send");
    let deadline = Instant::now() + Duration::from_secs(5);
    while dbsize(&redis) <= keys {
        assert!(Instant::now() < deadline, "A never took the lock");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.signal("-KILL");
    let killed = Instant::now();
    assert!(
        a.exited_within(Duration::from_secs(5)).await.is_some(),
        "A died"
    );

    let (status, _, home) = fetch(&client, b.at("/")).await;
    let usable = killed.elapsed();
    eprintln!("after SIGKILL of the lock's holder: the session answered again in {usable:?}");
    assert_eq!(status, StatusCode::OK, "{home}");
    assert!(
        home.contains("You are connected"),
        "still connected: {home}"
    );
    assert!(
        usable < Duration::from_secs(6),
        "usable within the 5 s lease, not the lock wait: {usable:?}"
    );
    let (status, page) = photos(&client, &b).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Your photos ("), "{page}");
    drop(stalled);
}

/// Two binaries on one Redis; `user`'s callback sent to A, whose token request the provider
/// holds for `delay`; then SIGTERM to A (its grace `grace` seconds).
struct SigtermMidExchange {
    cluster: Cluster,
    a: AppProcess,
    b: AppProcess,
    client: reqwest::Client,
    callback: url::Url,
    /// Token requests the provider had seen before this callback's.
    before: usize,
    exchange: tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>,
    stopping: Instant,
}

impl SigtermMidExchange {
    async fn start(redis: &RedisServer, delay: Duration, grace: &str, user: &str) -> Self {
        let settings = DemoSettings {
            code_delay: delay,
            ..DemoSettings::for_tests()
        };
        let mut cluster = Cluster::redis(redis, settings).await;
        let port = app_url_port(&mut cluster);
        let a = AppProcess::start(&cluster, redis, port, &[("SHUTDOWN_GRACE_SECS", grace)]).await;
        let b = AppProcess::start(&cluster, redis, free_port(), &[]).await;
        let client = browser_jar();
        let callback = callback_via(&client, &a, user).await;
        let before = cluster.token_requests();
        let exchange = tokio::spawn(client.get(a.rewrite(&callback)).send());
        token_requests_reach(&cluster, before + 1).await;
        a.signal("-TERM");
        Self {
            cluster,
            a,
            b,
            client,
            callback,
            before,
            exchange,
            stopping: Instant::now(),
        }
    }
}

/// C87: SIGTERM while the token request is at the provider (it answers after 1.5 s; the grace
/// is 5 s). The exchange completes and the visitor lands on the photos, the process exits 0
/// saying every request finished, the session is whole on the other instance, and the same
/// callback replayed there is refused without a second token request.
#[tokio::test]
async fn c87_sigterm_during_a_token_exchange_lets_it_finish_within_the_grace() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let SigtermMidExchange {
        cluster,
        mut a,
        b,
        client,
        callback,
        before,
        exchange,
        stopping,
    } = SigtermMidExchange::start(&redis, Duration::from_millis(1500), "5", "bob").await;
    let response = exchange
        .await
        .expect("task")
        .expect("answered before the exit");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(response.headers()).path(), "/photos");
    let status = a
        .exited_within(Duration::from_secs(7))
        .await
        .expect("A exits");
    let stopped = stopping.elapsed();
    eprintln!("SIGTERM mid-exchange: answered and exited in {stopped:?}");
    assert!(status.success(), "{status:?}: {}", a.logs());
    assert!(stopped < Duration::from_secs(5), "within the grace");
    let logs = a.logs();
    assert!(logs.contains("stopped: every request finished"), "{logs}");
    let code = param(&callback, "code").expect("code");
    assert!(!logs.contains(SECRET) && !logs.contains(&code), "{logs}");

    let (status, page) = photos(&client, &b).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the session was saved whole: {page}"
    );
    let (status, _, page) = fetch(&client, b.rewrite(&callback)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("This sign-in was not started here"), "{page}");
    assert_eq!(cluster.token_requests(), before + 1, "one code redemption");
}

/// C87, the other way out: the grace (1 s) ends before the provider answers (2 s). The visitor
/// is cut off, the process still exits 0 and says so, and nothing half done remains: the state
/// was spent before the token request (so the replay is refused and redeems nothing), no tokens
/// were saved (the home page offers to connect), and the lock the dead request held lets go
/// within its lease.
#[tokio::test]
async fn c87_sigterm_cutting_a_token_exchange_off_leaves_no_session_and_no_usable_state() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let SigtermMidExchange {
        cluster,
        mut a,
        b,
        client,
        callback,
        before,
        exchange,
        stopping,
    } = SigtermMidExchange::start(&redis, Duration::from_millis(2000), "1", "carol").await;
    let status = a
        .exited_within(Duration::from_secs(5))
        .await
        .expect("A exits");
    let stopped = stopping.elapsed();
    eprintln!("SIGTERM mid-exchange, 1 s grace: exited in {stopped:?}");
    assert!(status.success(), "{status:?}: {}", a.logs());
    assert!(
        stopped < Duration::from_millis(1_900),
        "at the end of the grace"
    );
    assert!(
        a.logs().contains("cut off"),
        "it says it cut requests off: {}",
        a.logs()
    );
    let cut = exchange.await.expect("task");
    assert!(cut.is_err(), "the visitor's connection was closed: {cut:?}");

    let started = Instant::now();
    let (status, _, home) = fetch(&client, b.at("/")).await;
    let usable = started.elapsed();
    eprintln!("the cut-off request's session answered again on B in {usable:?}");
    assert_eq!(status, StatusCode::OK, "{home}");
    assert!(home.contains("Not connected"), "no half sign-in: {home}");
    assert!(usable < Duration::from_secs(6), "{usable:?}");
    let (status, _, page) = fetch(&client, b.rewrite(&callback)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("This sign-in was not started here"), "{page}");
    assert_eq!(cluster.token_requests(), before + 1, "never redeemed twice");
}

fn dbsize(redis: &RedisServer) -> u64 {
    redis.cli(&["DBSIZE"]).trim().parse().expect("DBSIZE")
}
